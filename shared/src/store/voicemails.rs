//! Voicemails: written once per recording (idempotent on its id) before any
//! download or email, then moved along by the voicemail worker.

use aws_sdk_dynamodb::types::ReturnValue;

use crate::domain::{Due, TextEmail, Voicemail, VoicemailStatus};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{kept, written, Store, StoreError};
use crate::usecases::voicemail::{Mark, TextMark, VoicemailStore};
use crate::usecases::Port;

/// Voicemails are kept a year.
const RETENTION_SECONDS: i64 = 365 * 24 * 3600;

impl Store {
    /// Records a voicemail; `false` if this recording was recorded before
    /// (a duplicated callback), which then changes nothing.
    ///
    /// Nearly always the recording callback comes first: one conditional
    /// PutItem creates the item. Only when an item is there already (a
    /// transcription that came first, or a duplicate) does an UpdateItem
    /// merge into it. (On DynamoDB both cost the same; the emulator parses
    /// an update expression this long ~5× slower than a put.)
    pub async fn record_voicemail(&self, vm: &Voicemail, now: i64) -> Result<bool, StoreError> {
        let kick = s(uuid::Uuid::new_v4().to_string());
        let fields = [
            ("status", s("pending")),
            ("call_sid", s(&vm.call_sid)),
            ("provider", s(&vm.provider)),
            ("line", s(vm.line.e164())),
            ("caller", s(&vm.caller)),
            ("owner_email", s(&vm.owner_email)),
            ("recording_url", s(&vm.recording_url)),
            ("duration_seconds", n(vm.duration_seconds)),
            ("recorded_at", n(vm.recorded_at)),
            (
                "transcribe",
                aws_sdk_dynamodb::types::AttributeValue::Bool(vm.transcribe),
            ),
            ("attempts", n(0)),
            ("kick", kick.clone()),
            (keys::TTL, n(now + RETENTION_SECONDS)),
            ("gsi3pk", s(keys::line_voicemails(&vm.line))),
            ("gsi3sk", s(keys::at(vm.recorded_at, &vm.recording_sid))),
            ("gsi4pk", s(keys::PENDING)),
            ("gsi4sk", s(keys::at(now, &vm.recording_sid))),
        ];
        let mut put = self.put(keys::voicemail(&vm.recording_sid), keys::META);
        for (name, value) in fields {
            put = put.item(name, value);
        }
        if Store::put_new(put).await? {
            return Ok(true);
        }
        let res = self.update(keys::voicemail(&vm.recording_sid), keys::META)
            .update_expression(
                "SET #st = :pending, call_sid = :call, provider = :provider, line = :line, caller = :caller, \
                 owner_email = :email, recording_url = :url, duration_seconds = :dur, recorded_at = :at, \
                 transcribe = :tr, attempts = :zero, kick = :kick, #ttl = :ttl, \
                 gsi3pk = :lpk, gsi3sk = :lsk, gsi4pk = :ppk, gsi4sk = :psk",
            )
            .condition_expression("attribute_not_exists(#st)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":call", s(&vm.call_sid))
            .expression_attribute_values(":provider", s(&vm.provider))
            .expression_attribute_values(":line", s(vm.line.e164()))
            .expression_attribute_values(":caller", s(&vm.caller))
            .expression_attribute_values(":email", s(&vm.owner_email))
            .expression_attribute_values(":url", s(&vm.recording_url))
            .expression_attribute_values(":dur", n(vm.duration_seconds))
            .expression_attribute_values(":at", n(vm.recorded_at))
            .expression_attribute_values(":tr", aws_sdk_dynamodb::types::AttributeValue::Bool(vm.transcribe))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":kick", kick)
            .expression_attribute_values(":ttl", n(now + RETENTION_SECONDS))
            .expression_attribute_values(":lpk", s(keys::line_voicemails(&vm.line)))
            .expression_attribute_values(":lsk", s(keys::at(vm.recorded_at, &vm.recording_sid)))
            .expression_attribute_values(":ppk", s(keys::PENDING))
            .expression_attribute_values(":psk", s(keys::at(now, &vm.recording_sid)))
            .send()
            .await;
        written("UpdateItem", res)
    }

    /// Attaches a transcription once; `false` for a duplicate. It may arrive
    /// before the recording callback: the item is created either way.
    pub async fn attach_transcription(
        &self,
        recording_sid: &str,
        text: Option<&str>,
        status: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .update(keys::voicemail(recording_sid), keys::META)
            .condition_expression("attribute_not_exists(transcription_status)")
            .expression_attribute_values(":ts", s(status))
            .expression_attribute_values(":kick", s(uuid::Uuid::new_v4().to_string()))
            .expression_attribute_values(":now", n(now))
            // A voicemail waiting for this text is due at once (the sort key
            // only counts while the item is in the sparse pending index).
            .expression_attribute_values(":due", s(keys::at(now, recording_sid)))
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":ttl", n(now + RETENTION_SECONDS));
        req = match text {
            Some(t) => req
                .update_expression("SET transcription_status = :ts, transcription = :t, transcribed_at = :now, kick = :kick, #ttl = if_not_exists(#ttl, :ttl), gsi4sk = :due")
                .expression_attribute_values(":t", s(t)),
            None => req.update_expression("SET transcription_status = :ts, transcribed_at = :now, kick = :kick, #ttl = if_not_exists(#ttl, :ttl), gsi4sk = :due"),
        };
        written("UpdateItem", req.send().await)
    }

    pub async fn get_voicemail(
        &self,
        recording_sid: &str,
    ) -> Result<Option<Voicemail>, StoreError> {
        let item = self
            .get_item(keys::voicemail(recording_sid), keys::META)
            .await?;
        match item {
            Some(item) if item.contains_key("status") => Ok(Some(voicemail_from(&item)?)),
            _ => Ok(None),
        }
    }

    /// Takes a pending voicemail for `lease` seconds so that no other worker
    /// (stream and sweeper may both fire) handles it at the same time.
    pub async fn claim_voicemail(
        &self,
        recording_sid: &str,
        now: i64,
        lease: i64,
    ) -> Result<Option<Voicemail>, StoreError> {
        self.take_lease(keys::voicemail(recording_sid), "status", now, lease)
            .await?
            .as_ref()
            .map(voicemail_from)
            .transpose()
    }

    /// The worker's lease on a pending item (a voicemail, a text's email):
    /// taken when `status_attr` is `pending` and no other lease runs; the
    /// item as it is now, or `None` when another worker holds it or it is
    /// no longer pending. Taking it removes the stream's `kick`.
    pub(crate) async fn take_lease(
        &self,
        pk: String,
        status_attr: &str,
        now: i64,
        lease: i64,
    ) -> Result<Option<Item>, StoreError> {
        let res = self
            .update(pk, keys::META)
            .update_expression("SET lease_until = :until REMOVE kick")
            .condition_expression(
                "#st = :pending AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            )
            .expression_attribute_names("#st", status_attr)
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":until", n(now + lease))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        Ok(kept("UpdateItem", res)?.and_then(|out| out.attributes))
    }

    /// Our copy is safe in S3.
    pub async fn voicemail_copied(&self, sid: &str, key: &str, ct: &str) -> Result<(), StoreError> {
        let update = "SET s3_key = :k, content_type = :ct";
        let values = [(":k", s(key)), (":ct", s(ct))];
        Store::updated(self.change(keys::voicemail(sid), update, None, values)).await
    }
    /// The emailed link's token (hashed) and when it stops working; a
    /// new one replaces any earlier attempt's (whose email never went).
    pub async fn voicemail_link_made(
        &self,
        sid: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let update = "SET link_hash = :h, link_expires_at = :e";
        let values = [(":h", s(token_hash)), (":e", n(expires_at))];
        Store::updated(self.change(keys::voicemail(sid), update, None, values)).await
    }

    /// What a click on a voicemail's emailed link needs: the object, the
    /// link token's hash and its expiry. `None` without a stored copy or
    /// a link.
    pub async fn voicemail_link(&self, sid: &str) -> Result<Option<VoicemailLink>, StoreError> {
        let Some(item) = self.get_item(keys::voicemail(sid), keys::META).await? else {
            return Ok(None);
        };
        let (Some(s3_key), Some(token_hash), Some(expires_at)) = (
            opt_s(&item, "s3_key"),
            opt_s(&item, "link_hash"),
            opt_n(&item, "link_expires_at"),
        ) else {
            return Ok(None);
        };
        Ok(Some(VoicemailLink {
            s3_key,
            token_hash,
            expires_at,
        }))
    }

    pub async fn voicemail_delivered(
        &self,
        sid: &str,
        id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let update = "SET #st = :done, email_message_id = :m, emailed_at = :now REMOVE lease_until, gsi4pk, gsi4sk, last_error";
        let values = [(":done", s("delivered")), (":m", s(id)), (":now", n(now))];
        Store::updated(self.change(keys::voicemail(sid), update, None, values)).await
    }
    /// Lets the voicemail go until `next_at` (waiting for a transcription,
    /// or backing off after a failure). `attempts` counts failures.
    pub async fn voicemail_later(
        &self,
        recording_sid: &str,
        next_at: i64,
        attempts: u32,
        error: Option<&str>,
        emailed: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut req = self
            .update(keys::voicemail(recording_sid), keys::META)
            .expression_attribute_values(":a", n(attempts as i64))
            .expression_attribute_values(":psk", s(keys::at(next_at, recording_sid)));
        let mut set = String::from("SET attempts = :a, gsi4sk = :psk");
        if let Some(e) = error {
            set.push_str(", last_error = :e");
            req = req.expression_attribute_values(":e", s(e));
        }
        if let Some(m) = emailed {
            set.push_str(", email_message_id = :m");
            req = req.expression_attribute_values(":m", s(m));
        }
        Store::updated(req.update_expression(format!("{set} REMOVE lease_until"))).await
    }

    /// Releases a voicemail to wait for its transcription until `until`;
    /// `false` (and nothing changed) if the transcription arrived meanwhile.
    pub async fn voicemail_await_transcription(
        &self,
        sid: &str,
        until: i64,
    ) -> Result<bool, StoreError> {
        let update = "SET gsi4sk = :psk REMOVE lease_until";
        let values = [(":psk", s(keys::at(until, sid)))];
        let only_if = Some("attribute_not_exists(transcription_status)");
        let res = self
            .change(keys::voicemail(sid), update, only_if, values)
            .send()
            .await;
        written("UpdateItem", res)
    }
    pub async fn voicemail_failed(
        &self,
        sid: &str,
        tries: u32,
        error: &str,
    ) -> Result<(), StoreError> {
        let update =
            "SET #st = :failed, attempts = :a, last_error = :e REMOVE lease_until, gsi4pk, gsi4sk";
        let values = [
            (":failed", s("failed")),
            (":a", n(tries.into())),
            (":e", s(error)),
        ];
        Store::updated(self.change(keys::voicemail(sid), update, None, values)).await
    }
    /// Pending voicemails due by `now`, oldest first.
    pub async fn due_work(&self, now: i64, limit: i32) -> Result<Vec<Due>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::PENDING_INDEX)
            .key_condition_expression("#pk = :p AND #sk <= :due")
            .expression_attribute_names("#pk", keys::PENDING_PK)
            .expression_attribute_names("#sk", keys::PENDING_SK)
            .expression_attribute_values(":p", s(keys::PENDING))
            // Every key at or before `now` sorts below this one.
            .expression_attribute_values(":due", s(keys::due_by(now)))
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        let mut due = Vec::new();
        for item in out.items() {
            let pk = get_s(item, keys::PK)?;
            if let Some(sid) = keys::voicemail_sid(pk) {
                due.push(Due::Voicemail(sid.to_string()));
            } else if let Some(sid) = keys::line_message_sid(pk) {
                due.push(Due::TextEmail(sid.to_string()));
            }
        }
        Ok(due)
    }

    /// A line's voicemails, newest first.
    pub async fn line_voicemails(
        &self,
        line: &PhoneNumber,
        limit: i32,
    ) -> Result<Vec<Voicemail>, StoreError> {
        let index = [
            keys::LINE_VOICEMAILS_INDEX,
            keys::LINE_VOICEMAILS_PK,
            keys::LINE_VOICEMAILS_SK,
        ];
        let q = self.page_back(index, keys::line_voicemails(line), None, limit);
        let out = q.send().await.map_err(|e| StoreError::sdk("Query", e))?;
        out.items().iter().map(voicemail_from).collect()
    }
}

fn voicemail_from(item: &Item) -> Result<Voicemail, StoreError> {
    let status = match get_s(item, "status")? {
        "pending" => VoicemailStatus::Pending,
        "delivered" => VoicemailStatus::Delivered,
        _ => VoicemailStatus::Failed,
    };
    let pk = get_s(item, keys::PK)?;
    Ok(Voicemail {
        recording_sid: keys::voicemail_sid(pk).unwrap_or(pk).to_string(),
        call_sid: get_s(item, "call_sid")?.to_string(),
        provider: opt_s(item, "provider").unwrap_or_else(|| "twilio".into()),
        line: get_phone(item, "line")?,
        caller: get_s(item, "caller")?.to_string(),
        owner_email: get_s(item, "owner_email")?.to_string(),
        recording_url: get_s(item, "recording_url")?.to_string(),
        duration_seconds: opt_n(item, "duration_seconds").unwrap_or(0),
        recorded_at: get_n(item, "recorded_at")?,
        transcribe: matches!(
            item.get("transcribe"),
            Some(aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        ),
        transcription: opt_s(item, "transcription"),
        transcription_status: opt_s(item, "transcription_status"),
        status,
        s3_key: opt_s(item, "s3_key"),
        content_type: opt_s(item, "content_type"),
        attempts: opt_n(item, "attempts").unwrap_or(0) as u32,
        last_error: opt_s(item, "last_error"),
        emailed_at: opt_n(item, "emailed_at"),
        email_message_id: opt_s(item, "email_message_id"),
    })
}

/// The voicemail pipeline's table.
impl VoicemailStore for Store {
    async fn claim_voicemail(&self, sid: &str, now: i64, lease: i64) -> Port<Option<Voicemail>> {
        Ok(Store::claim_voicemail(self, sid, now, lease).await?)
    }

    async fn mark_voicemail(&self, sid: &str, mark: Mark<'_>) -> Port<bool> {
        match mark {
            Mark::Copied { key, content_type } => {
                self.voicemail_copied(sid, key, content_type).await?
            }
            Mark::Link {
                token_hash,
                expires_at,
            } => {
                self.voicemail_link_made(sid, token_hash, expires_at)
                    .await?
            }
            Mark::Delivered { message_id, at } => {
                self.voicemail_delivered(sid, message_id, at).await?
            }
            Mark::Later {
                until,
                attempts,
                error,
                emailed,
            } => {
                self.voicemail_later(sid, until, attempts, error, emailed)
                    .await?
            }
            Mark::AwaitTranscription { until } => {
                return Ok(self.voicemail_await_transcription(sid, until).await?)
            }
            Mark::Failed { attempts, error } => self.voicemail_failed(sid, attempts, error).await?,
        }
        Ok(true)
    }

    async fn due_work(&self, now: i64, limit: i32) -> Port<Vec<Due>> {
        Ok(Store::due_work(self, now, limit).await?)
    }

    async fn claim_text_email(&self, sid: &str, now: i64, lease: i64) -> Port<Option<TextEmail>> {
        Ok(Store::claim_text_email(self, sid, now, lease).await?)
    }

    async fn mark_text_email(&self, sid: &str, mark: TextMark) -> Port<()> {
        match mark {
            TextMark::Emailed { at } => self.text_emailed(sid, at).await?,
            TextMark::Later { until, attempts } => {
                self.text_email_later(sid, until, attempts).await?
            }
            TextMark::Failed { attempts } => self.text_email_failed(sid, attempts).await?,
        }
        Ok(())
    }
}

/// A voicemail's emailed link as the table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailLink {
    pub s3_key: String,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub expires_at: i64,
}
