//! In-memory stand-ins for the use cases' ports, each able to fail on
//! demand: `fail("put")` makes the next call of that step fail once.
//! They keep what the real adapters keep, so a test can ask what was
//! stored, uploaded, mailed or sent.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use crate::domain::email::Email;
use crate::domain::{Due, TextEmail, Voicemail, VoicemailStatus};
use crate::usecases::voicemail::{
    Mailer, Recording, RecordingBucket, RecordingSource, VoicemailStore,
};
use crate::usecases::PortError;

/// The error every injected failure returns.
#[derive(Debug, thiserror::Error)]
#[error("injected failure at {0}")]
pub struct Injected(pub &'static str);

/// Steps to fail once, by name.
#[derive(Default)]
pub struct Faults(Mutex<HashSet<&'static str>>);

impl Faults {
    pub fn fail(&self, step: &'static str) {
        self.0.lock().unwrap().insert(step);
    }

    /// `Err` when `step` was set to fail (then it is cleared).
    pub fn check(&self, step: &'static str) -> Result<(), PortError> {
        if self.0.lock().unwrap().remove(step) {
            Err(PortError::new(Injected(step)))
        } else {
            Ok(())
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
    async fn claim_voicemail(
        &self,
        sid: &str,
        now: i64,
        lease: i64,
    ) -> Result<Option<Voicemail>, PortError> {
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

    async fn voicemail_copied(&self, sid: &str, key: &str, ct: &str) -> Result<(), PortError> {
        self.faults.check("copied")?;
        self.with_vm(sid, |(vm, _, _)| {
            vm.s3_key = Some(key.into());
            vm.content_type = Some(ct.into());
        });
        Ok(())
    }

    async fn voicemail_delivered(&self, sid: &str, id: &str, now: i64) -> Result<(), PortError> {
        self.faults.check("delivered")?;
        self.with_vm(sid, |(vm, until, _)| {
            vm.status = VoicemailStatus::Delivered;
            vm.email_message_id = Some(id.into());
            vm.emailed_at = Some(now);
            *until = None;
        });
        Ok(())
    }

    async fn voicemail_later(
        &self,
        sid: &str,
        next_at: i64,
        attempts: u32,
        error: Option<&str>,
        emailed: Option<&str>,
    ) -> Result<(), PortError> {
        self.faults.check("later")?;
        self.with_vm(sid, |(vm, until, due)| {
            vm.attempts = attempts;
            if let Some(e) = error {
                vm.last_error = Some(e.into());
            }
            if let Some(m) = emailed {
                vm.email_message_id = Some(m.into());
            }
            *until = None;
            *due = next_at;
        });
        Ok(())
    }

    async fn voicemail_await_transcription(&self, sid: &str, at: i64) -> Result<bool, PortError> {
        self.faults.check("await")?;
        Ok(self.with_vm(sid, |(vm, until, due)| {
            if vm.transcription_status.is_some() {
                return false;
            }
            *until = None;
            *due = at;
            true
        }))
    }

    async fn voicemail_failed(
        &self,
        sid: &str,
        attempts: u32,
        error: &str,
    ) -> Result<(), PortError> {
        self.faults.check("failed")?;
        self.with_vm(sid, |(vm, until, _)| {
            vm.status = VoicemailStatus::Failed;
            vm.attempts = attempts;
            vm.last_error = Some(error.into());
            *until = None;
        });
        Ok(())
    }

    async fn due_work(&self, now: i64, limit: i32) -> Result<Vec<Due>, PortError> {
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

    async fn claim_text_email(
        &self,
        sid: &str,
        now: i64,
        lease: i64,
    ) -> Result<Option<TextEmail>, PortError> {
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

    async fn text_emailed(&self, sid: &str, _now: i64) -> Result<(), PortError> {
        self.faults.check("emailed")?;
        let mut all = self.texts.lock().unwrap();
        let entry = all.get_mut(sid).unwrap();
        entry.1 = "sent".into();
        entry.2 = None;
        Ok(())
    }

    async fn text_email_later(&self, sid: &str, at: i64, attempts: u32) -> Result<(), PortError> {
        self.faults.check("later")?;
        let mut all = self.texts.lock().unwrap();
        let entry = all.get_mut(sid).unwrap();
        entry.0.attempts = attempts;
        entry.2 = None;
        entry.3 = at;
        Ok(())
    }

    async fn text_email_failed(&self, sid: &str, attempts: u32) -> Result<(), PortError> {
        self.faults.check("failed")?;
        let mut all = self.texts.lock().unwrap();
        let entry = all.get_mut(sid).unwrap();
        entry.0.attempts = attempts;
        entry.1 = "failed".into();
        entry.2 = None;
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
    async fn download(&self, url: &str) -> Result<Recording, PortError> {
        self.faults.check("download")?;
        self.recordings
            .lock()
            .unwrap()
            .get(url)
            .cloned()
            .ok_or_else(|| PortError::new(Injected("no such recording")))
    }

    async fn delete(&self, sid: &str) -> Result<(), PortError> {
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
    async fn put(&self, key: &str, ct: &str, bytes: Vec<u8>) -> Result<(), PortError> {
        self.faults.check("put")?;
        self.objects
            .lock()
            .unwrap()
            .insert(key.into(), (ct.into(), bytes));
        Ok(())
    }

    async fn presign(&self, key: &str, seconds: u64) -> Result<String, PortError> {
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
    async fn send(&self, from: &str, to: &str, email: Email) -> Result<String, PortError> {
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
}

impl MemoryLog {
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
    ) -> Result<bool, PortError> {
        self.faults.check("claim")?;
        let mut all = self.messages.lock().unwrap();
        let key = (session.to_string(), record.message_id.clone());
        if all.contains_key(&key) {
            return Ok(false);
        }
        all.insert(key, record.status.clone());
        Ok(true)
    }

    async fn forget_message(
        &self,
        session: &str,
        _: crate::domain::Provider,
        id: &str,
    ) -> Result<(), PortError> {
        self.faults.check("forget")?;
        self.messages
            .lock()
            .unwrap()
            .remove(&(session.to_string(), id.to_string()));
        Ok(())
    }

    async fn message_failed(
        &self,
        session: &str,
        _: crate::domain::Provider,
        id: &str,
    ) -> Result<(), PortError> {
        self.faults.check("failed")?;
        self.messages
            .lock()
            .unwrap()
            .insert((session.to_string(), id.to_string()), "failed".into());
        Ok(())
    }
}

/// The SMS API: what was sent. `fail("transient")` or `fail("refused")`
/// makes the next send fail that way.
#[derive(Default)]
pub struct MemorySms {
    pub faults: Faults,
    pub sent: Mutex<Vec<(String, String, String)>>,
}

impl crate::usecases::relay::SmsSender for MemorySms {
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
        self.sent
            .lock()
            .unwrap()
            .push((from.e164().into(), to.e164().into(), text.into()));
        Ok(())
    }
}
