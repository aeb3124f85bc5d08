//! In-memory stand-ins for the use cases' ports, each able to fail on
//! demand: `fail("put")` makes the next call of that step fail once.
//! They keep what the real adapters keep, so a test can ask what was
//! stored, uploaded, mailed or sent.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::domain::email::Email;
use crate::domain::{Due, Provider, TextEmail, Voicemail, VoicemailStatus};
use crate::usecases::voicemail::{
    Mailer, Mark, Recording, RecordingBucket, RecordingSource, TextMark, VoicemailStore,
};
use crate::usecases::{Port, PortError};

/// The error every injected failure returns.
#[derive(Debug, thiserror::Error)]
#[error("injected failure at {0}")]
pub struct Injected(pub &'static str);

/// Steps to fail, by name, and how many more times.
#[derive(Default)]
pub struct Faults(Mutex<BTreeMap<&'static str, usize>>);

impl Faults {
    /// The next call of `step` fails.
    pub fn fail(&self, step: &'static str) {
        self.fail_times(step, 1);
    }

    /// The next `times` calls of `step` fail.
    pub fn fail_times(&self, step: &'static str, times: usize) {
        *self.0.lock().unwrap().entry(step).or_default() += times;
    }

    /// `Err` when `step` is set to fail (one failure is used up).
    pub fn check(&self, step: &'static str) -> Port<()> {
        let mut all = self.0.lock().unwrap();
        match all.get_mut(step) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Err(PortError::new(Injected(step)))
            }
            _ => Ok(()),
        }
    }
}

/// A voicemail, its lease's end and when it is due.
pub type VoicemailRow = (Voicemail, Option<i64>, i64);
/// A text to email, its email status, its lease's end and when it is due.
pub type TextRow = (TextEmail, String, Option<i64>, i64);

/// The table, for voicemails and text emails.
#[derive(Default)]
pub struct MemoryStore {
    pub faults: Faults,
    pub voicemails: Mutex<BTreeMap<String, VoicemailRow>>,
    pub texts: Mutex<BTreeMap<String, TextRow>>,
    /// Each voicemail's link: its token's hash and expiry.
    pub links: Mutex<BTreeMap<String, (String, i64)>>,
}

impl MemoryStore {
    pub fn voicemail(&self, sid: &str) -> Voicemail {
        self.voicemails.lock().unwrap()[sid].0.clone()
    }

    pub fn text_status(&self, sid: &str) -> String {
        self.texts.lock().unwrap()[sid].1.clone()
    }

    fn with_vm<T>(&self, sid: &str, f: impl FnOnce(&mut VoicemailRow) -> T) -> T {
        f(self.voicemails.lock().unwrap().get_mut(sid).unwrap())
    }
}

impl VoicemailStore for MemoryStore {
    async fn claim_voicemail(&self, sid: &str, now: i64, lease: i64) -> Port<Option<Voicemail>> {
        self.faults.check("claim")?;
        let mut all = self.voicemails.lock().unwrap();
        let Some((vm, until, _)) = all.get_mut(sid) else {
            return Ok(None);
        };
        if vm.status != VoicemailStatus::Pending || until.is_some_and(|u| u >= now) {
            return Ok(None);
        }
        *until = Some(now + lease);
        Ok(Some(vm.clone()))
    }

    /// Fails on demand by the mark's name: `copied`, `delivered`, `later`,
    /// `await`, `failed`.
    async fn mark_voicemail(&self, sid: &str, mark: Mark<'_>) -> Port<bool> {
        let step = match mark {
            Mark::Copied { .. } => "copied",
            Mark::Link { .. } => "link",
            Mark::Delivered { .. } => "delivered",
            Mark::Later { .. } => "later",
            Mark::AwaitTranscription { .. } => "await",
            Mark::Failed { .. } => "failed",
        };
        self.faults.check(step)?;
        let mut links = self.links.lock().unwrap();
        Ok(self.with_vm(sid, |(vm, lease, due)| {
            match mark {
                Mark::Copied { key, content_type } => {
                    vm.s3_key = Some(key.into());
                    vm.content_type = Some(content_type.into());
                    return true;
                }
                Mark::Link {
                    token_hash,
                    expires_at,
                } => {
                    links.insert(sid.to_string(), (token_hash.into(), expires_at));
                    return true;
                }
                Mark::Delivered { message_id, at } => {
                    vm.status = VoicemailStatus::Delivered;
                    vm.email_message_id = Some(message_id.into());
                    vm.emailed_at = Some(at);
                }
                Mark::Later {
                    until,
                    attempts,
                    error,
                    emailed,
                } => {
                    vm.attempts = attempts;
                    vm.last_error = error.map(Into::into).or(vm.last_error.take());
                    vm.email_message_id = emailed.map(Into::into).or(vm.email_message_id.take());
                    *due = until;
                }
                Mark::AwaitTranscription { until } => {
                    if vm.transcription_status.is_some() {
                        return false;
                    }
                    *due = until;
                }
                Mark::Failed { attempts, error } => {
                    vm.status = VoicemailStatus::Failed;
                    vm.attempts = attempts;
                    vm.last_error = Some(error.into());
                }
            }
            *lease = None;
            true
        }))
    }

    async fn due_work(&self, now: i64, limit: i32) -> Port<Vec<Due>> {
        self.faults.check("due")?;
        let vms = self.voicemails.lock().unwrap();
        let texts = self.texts.lock().unwrap();
        let mut due: Vec<(i64, Due)> = vms
            .iter()
            .filter(|(_, (vm, _, at))| vm.status == VoicemailStatus::Pending && *at <= now)
            .map(|(sid, (_, _, at))| (*at, Due::Voicemail(sid.clone())))
            .chain(
                texts
                    .iter()
                    .filter(|(_, (_, st, _, at))| st == "pending" && *at <= now)
                    .map(|(sid, (_, _, _, at))| (*at, Due::TextEmail(sid.clone()))),
            )
            .collect();
        due.sort_by_key(|(at, _)| *at);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, d)| d)
            .collect())
    }

    async fn claim_text_email(&self, sid: &str, now: i64, lease: i64) -> Port<Option<TextEmail>> {
        self.faults.check("claim")?;
        let mut all = self.texts.lock().unwrap();
        let Some((text, status, until, _)) = all.get_mut(sid) else {
            return Ok(None);
        };
        if status != "pending" || until.is_some_and(|u| u >= now) {
            return Ok(None);
        }
        *until = Some(now + lease);
        Ok(Some(text.clone()))
    }

    /// Fails on demand as `emailed`, `later` or `failed`.
    async fn mark_text_email(&self, sid: &str, mark: TextMark) -> Port<()> {
        let mut all = self.texts.lock().unwrap();
        let (text, status, lease, due) = all.get_mut(sid).unwrap();
        match mark {
            TextMark::Emailed { .. } => {
                self.faults.check("emailed")?;
                *status = "sent".into();
            }
            TextMark::Later { until, attempts } => {
                self.faults.check("later")?;
                text.attempts = attempts;
                *due = until;
            }
            TextMark::Failed { attempts } => {
                self.faults.check("failed")?;
                text.attempts = attempts;
                *status = "failed".into();
            }
        }
        *lease = None;
        Ok(())
    }
}

/// The provider's recordings, by URL.
#[derive(Default)]
pub struct MemoryRecordings {
    pub faults: Faults,
    pub recordings: Mutex<BTreeMap<String, Recording>>,
    pub deleted: Mutex<Vec<String>>,
}

impl RecordingSource for MemoryRecordings {
    async fn download(&self, url: &str) -> Port<Recording> {
        self.faults.check("download")?;
        self.recordings
            .lock()
            .unwrap()
            .get(url)
            .cloned()
            .ok_or_else(|| PortError::new(Injected("no such recording")))
    }

    async fn delete(&self, sid: &str) -> Port<()> {
        self.faults.check("delete")?;
        self.deleted.lock().unwrap().push(sid.into());
        Ok(())
    }
}

/// The bucket: objects by key.
#[derive(Default)]
pub struct MemoryBucket {
    pub faults: Faults,
    pub objects: Mutex<BTreeMap<String, (String, Vec<u8>)>>,
}

impl RecordingBucket for MemoryBucket {
    async fn put(&self, key: &str, ct: &str, bytes: Vec<u8>) -> Port<()> {
        self.faults.check("put")?;
        self.objects
            .lock()
            .unwrap()
            .insert(key.into(), (ct.into(), bytes));
        Ok(())
    }

    async fn presign(&self, key: &str, seconds: u64) -> Port<String> {
        self.faults.check("presign")?;
        Ok(format!("https://bucket.example/{key}?expires={seconds}"))
    }
}

/// SES: what was sent, to whom.
#[derive(Default)]
pub struct MemoryMailer {
    pub faults: Faults,
    /// (from, to, email)
    pub sent: Mutex<Vec<(String, String, Email)>>,
}

impl Mailer for MemoryMailer {
    async fn send(&self, from: &str, to: &str, email: Email) -> Port<String> {
        self.faults.check("send")?;
        let mut sent = self.sent.lock().unwrap();
        sent.push((from.into(), to.into(), email));
        Ok(format!("ses-{}", sent.len()))
    }
}

/// A session's message log: claims by (session, provider, id) and status.
#[derive(Default)]
pub struct MemoryLog {
    pub faults: Faults,
    pub messages: Mutex<BTreeMap<(String, String), String>>,
    /// When each send in progress may be taken over.
    pub leases: Mutex<BTreeMap<(String, String), i64>>,
}

impl MemoryLog {
    fn set(&self, session: &str, id: &str, status: Option<&str>) {
        let key = (session.to_string(), id.to_string());
        let mut all = self.messages.lock().unwrap();
        match status {
            Some(st) => all.insert(key, st.to_string()),
            None => all.remove(&key),
        };
    }

    pub fn status(&self, session: &str, id: &str) -> Option<String> {
        self.messages
            .lock()
            .unwrap()
            .get(&(session.to_string(), id.to_string()))
            .cloned()
    }
}

impl crate::usecases::relay::MessageLog for MemoryLog {
    async fn claim_message(
        &self,
        session: &str,
        record: &crate::domain::MessageRecord,
    ) -> Port<bool> {
        self.faults.check("claim")?;
        let mut all = self.messages.lock().unwrap();
        let key = (session.to_string(), record.message_id.clone());
        if all.contains_key(&key) {
            return Ok(false);
        }
        all.insert(key, record.status.clone());
        Ok(true)
    }

    async fn begin_send(
        &self,
        session: &str,
        record: &crate::domain::MessageRecord,
    ) -> Port<crate::usecases::relay::SendClaim> {
        use crate::usecases::relay::{SendClaim, SEND_LEASE_SECONDS};
        self.faults.check("claim")?;
        let key = (session.to_string(), record.message_id.clone());
        let mut all = self.messages.lock().unwrap();
        let mut leases = self.leases.lock().unwrap();
        match all.get(&key).map(String::as_str) {
            None => {}
            Some("sending") if leases.get(&key).is_some_and(|&l| l < record.at) => {}
            Some("sending") => return Ok(SendClaim::Sending),
            Some(_) => return Ok(SendClaim::Done),
        }
        all.insert(key.clone(), "sending".into());
        leases.insert(key, record.at + SEND_LEASE_SECONDS);
        Ok(SendClaim::Started)
    }

    async fn message_sent(&self, session: &str, _: Provider, id: &str) -> Port<()> {
        self.faults.check("sent")?;
        self.set(session, id, Some("sent"));
        Ok(())
    }

    async fn forget_message(&self, session: &str, _: Provider, id: &str) -> Port<()> {
        self.faults.check("forget")?;
        self.set(session, id, None);
        Ok(())
    }

    async fn message_failed(&self, session: &str, _: Provider, id: &str) -> Port<()> {
        self.faults.check("failed")?;
        self.set(session, id, Some("failed"));
        Ok(())
    }
}

/// The table for pool numbers and sessions: what opening a session and
/// growing the pool read and write.
#[derive(Default)]
pub struct MemoryTable {
    pub faults: Faults,
    pub numbers: Mutex<BTreeMap<String, (crate::domain::PoolNumber, &'static str)>>,
    pub sessions: Mutex<Vec<crate::domain::Session>>,
    /// Numbers outside the default service, or reserved.
    pub members: Mutex<BTreeMap<String, crate::domain::Membership>>,
    /// Automatic purchases counted, by provider.
    pub auto: Mutex<BTreeMap<&'static str, u64>>,
}

impl MemoryTable {
    /// Puts `number` in the pool, active: a linked Vonage number in GB, the
    /// shape every pool test starts from.
    pub fn stock(&self, number: &str) {
        let rec = crate::domain::PoolNumber {
            number: crate::phone::PhoneNumber::from_e164(number).unwrap(),
            provider: Provider::Vonage,
            country: "GB".into(),
            created_at: 0,
            provider_sid: None,
            linked: true,
        };
        let row = (rec, "active");
        self.numbers.lock().unwrap().insert(number.to_string(), row);
    }

    pub fn status(&self, number: &str) -> Option<&'static str> {
        self.numbers.lock().unwrap().get(number).map(|(_, st)| *st)
    }

    pub fn auto_used(&self, provider: crate::domain::Provider) -> u64 {
        self.auto
            .lock()
            .unwrap()
            .get(provider.as_str())
            .copied()
            .unwrap_or(0)
    }
}

impl crate::usecases::pool::PoolStore for MemoryTable {
    async fn put_number(&self, rec: &crate::domain::PoolNumber) -> Port<bool> {
        self.faults.check("put_number")?;
        let mut all = self.numbers.lock().unwrap();
        if all.contains_key(rec.number.e164()) {
            return Ok(false);
        }
        all.insert(rec.number.e164().into(), (rec.clone(), "active"));
        Ok(true)
    }

    async fn retire_number(
        &self,
        number: &crate::phone::PhoneNumber,
        now: i64,
    ) -> Port<crate::usecases::pool::Retire> {
        use crate::usecases::pool::Retire;
        self.faults.check("retire")?;
        let in_use = self.sessions.lock().unwrap().iter().any(|s| {
            s.expires_at > now && s.participants.iter().any(|p| &p.proxy_number == number)
        });
        let mut all = self.numbers.lock().unwrap();
        Ok(match all.get_mut(number.e164()) {
            None => Retire::NotFound,
            Some(_) if in_use => Retire::InUse,
            Some((rec, st)) => {
                *st = "retiring";
                Retire::Retired(rec.clone())
            }
        })
    }

    async fn restore_number(&self, number: &crate::phone::PhoneNumber) -> Port<()> {
        self.faults.check("restore")?;
        if let Some((_, st)) = self.numbers.lock().unwrap().get_mut(number.e164()) {
            *st = "active";
        }
        Ok(())
    }

    async fn remove_number(&self, number: &crate::phone::PhoneNumber) -> Port<()> {
        self.faults.check("remove")?;
        self.numbers.lock().unwrap().remove(number.e164());
        Ok(())
    }

    async fn take_auto_provision(&self, p: crate::domain::Provider, max: u64) -> Port<bool> {
        self.faults.check("take_auto")?;
        let mut auto = self.auto.lock().unwrap();
        let used = auto.entry(p.as_str()).or_default();
        if *used >= max {
            return Ok(false);
        }
        *used += 1;
        Ok(true)
    }

    async fn give_back_auto_provision(&self, p: crate::domain::Provider) -> Port<()> {
        self.faults.check("give_back")?;
        if let Some(used) = self.auto.lock().unwrap().get_mut(p.as_str()) {
            *used = used.saturating_sub(1);
        }
        Ok(())
    }
}

impl crate::usecases::sessions::SessionStore for MemoryTable {
    async fn pool(
        &self,
        p: crate::domain::Provider,
    ) -> Port<Vec<(crate::domain::PoolNumber, crate::domain::Membership)>> {
        self.faults.check("pool")?;
        let members = self.members.lock().unwrap();
        Ok(self
            .numbers
            .lock()
            .unwrap()
            .values()
            .filter(|(rec, st)| rec.provider == p && rec.linked && *st == "active")
            .map(|(rec, _)| {
                let m = members.get(rec.number.e164()).cloned().unwrap_or_default();
                (rec.clone(), m)
            })
            .collect())
    }

    async fn numbers_dialled_by(
        &self,
        participant: &crate::phone::PhoneNumber,
        free_before: i64,
    ) -> Port<crate::usecases::sessions::Dialled> {
        self.faults.check("dialled")?;
        let busy = self
            .sessions
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.ends_at() > free_before)
            .flat_map(|s| s.participants.iter())
            .filter(|p| &p.number == participant)
            .map(|p| p.proxy_number.clone())
            .collect();
        Ok(crate::usecases::sessions::Dialled {
            busy,
            ..Default::default()
        })
    }

    async fn create_session(
        &self,
        session: &crate::domain::Session,
        _now: i64,
        _idle: &[crate::domain::Leg],
    ) -> Result<(), crate::usecases::sessions::CommitError> {
        use crate::usecases::sessions::CommitError;
        self.faults
            .check("create")
            .map_err(CommitError::Unavailable)?;
        self.sessions.lock().unwrap().push(session.clone());
        Ok(())
    }
}

impl crate::usecases::opening::NoticeStore for MemoryTable {
    async fn set_notifications(
        &self,
        id: &str,
        notifications: &[crate::domain::Notification],
    ) -> Port<()> {
        self.faults.check("notices")?;
        if let Some(s) = self
            .sessions
            .lock()
            .unwrap()
            .iter_mut()
            .find(|s| s.id == id)
        {
            s.notifications = notifications.to_vec();
        }
        Ok(())
    }
}

/// A provider's API: numbers on offer (E.164, country), what was bought,
/// released and texted. `fail("provision")`, `fail("link")`,
/// `fail("release")`, `fail("owned")`; a text fails as `transient` (worth
/// another try) or `refused`; `insight` answers Number Insight.
#[derive(Default)]
pub struct MemoryProvider {
    pub faults: Faults,
    pub offers: Mutex<Vec<(String, String)>>,
    pub bought: Mutex<Vec<String>>,
    pub released: Mutex<Vec<String>>,
    pub owned: Mutex<Vec<crate::usecases::pool::Owned>>,
    pub texts: Mutex<Vec<(String, String, String)>>,
    pub insight: Mutex<BTreeMap<String, crate::usecases::opening::Insight>>,
}

impl crate::usecases::pool::NumberProvider for MemoryProvider {
    async fn search(
        &self,
        order: crate::usecases::pool::Order<'_>,
    ) -> Port<crate::usecases::pool::Offers> {
        use crate::usecases::pool::{Offer, Offers};
        self.faults.check("provision")?;
        let offers = self.offers.lock().unwrap();
        let take: Vec<Offer> = offers
            .iter()
            .filter(|(_, c)| c == order.country)
            .take(order.count as usize)
            .map(|(n, c)| Offer {
                number: crate::phone::PhoneNumber::from_e164(n).unwrap(),
                country: c.clone(),
            })
            .collect();
        if take.is_empty() {
            return Err(PortError::new(Injected("none available")));
        }
        Ok(Offers {
            offers: take,
            failed: Vec::new(),
        })
    }

    async fn buy(
        &self,
        _: crate::usecases::pool::Order<'_>,
        offer: &crate::usecases::pool::Offer,
    ) -> Port<crate::usecases::pool::Bought> {
        self.faults.check("buy")?;
        let e164 = offer.number.e164().to_string();
        self.offers.lock().unwrap().retain(|(n, _)| *n != e164);
        self.bought.lock().unwrap().push(e164);
        Ok(crate::usecases::pool::Bought {
            number: offer.number.clone(),
            country: offer.country.clone(),
            provider_sid: None,
            link_error: self.faults.check("link").err(),
        })
    }

    async fn owned(
        &self,
        _: crate::domain::Provider,
        _: &str,
    ) -> Port<Vec<crate::usecases::pool::Owned>> {
        self.faults.check("owned")?;
        Ok(self.owned.lock().unwrap().clone())
    }

    async fn release(&self, rec: &crate::domain::PoolNumber) -> Port<()> {
        self.faults.check("release")?;
        self.released.lock().unwrap().push(rec.number.e164().into());
        Ok(())
    }
}

impl crate::usecases::relay::SmsSender for MemoryProvider {
    async fn send_sms(
        &self,
        _: crate::domain::Provider,
        from: &crate::phone::PhoneNumber,
        to: &crate::phone::PhoneNumber,
        text: &str,
    ) -> Result<(), crate::usecases::relay::SendError> {
        use crate::usecases::relay::SendError;
        self.faults
            .check("transient")
            .map_err(SendError::Transient)?;
        self.faults.check("refused").map_err(SendError::Refused)?;
        self.texts
            .lock()
            .unwrap()
            .push((from.e164().into(), to.e164().into(), text.into()));
        Ok(())
    }
}

impl crate::usecases::opening::NumberCheck for MemoryProvider {
    async fn insight(&self, digits: &str) -> crate::usecases::opening::Insight {
        use crate::usecases::opening::Insight;
        self.insight
            .lock()
            .unwrap()
            .get(digits)
            .cloned()
            .unwrap_or(Insight::Unknown)
    }
}
