//! The voicemail pipeline, provider-agnostic: a recorded voicemail (written
//! by the provider's callback before anything else) is copied to the private
//! recordings bucket, optionally deleted at the provider, and emailed to the
//! line's owner with a presigned link and the transcription.
//!
//! Every step can fail (provider download, S3, SES): the voicemail then
//! stays pending with a backoff and is tried again by the worker (DynamoDB
//! stream and a schedule in AWS, a loop in the local stack). After
//! `VOICEMAIL_MAX_ATTEMPTS` failures it is marked failed and a metric fires
//! the alarm. A lease on each voicemail keeps two workers from emailing
//! twice; a delivered voicemail is never processed again.

use std::future::Future;

use crate::clock::Clock;
use crate::config::VoicemailConfig;
use crate::domain::email::{self, Email};
use crate::domain::{Due, TextEmail, Voicemail};
use crate::usecases::text_emails;
use crate::usecases::{Port, PortError};

/// How long one worker holds a voicemail.
pub(crate) const LEASE_SECONDS: i64 = 120;
/// First retry after this long, doubling up to `MAX_BACKOFF_SECONDS`.
const FIRST_BACKOFF_SECONDS: i64 = 30;
const MAX_BACKOFF_SECONDS: i64 = 1800;
/// Voicemails one sweep handles.
const SWEEP_BATCH: i32 = 25;

/// What became of an attempt at a voicemail, to record on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark<'a> {
    /// Our copy is safe in the bucket under `key`.
    Copied { key: &'a str, content_type: &'a str },
    /// The emailed link's token (its hash) works until `expires_at`.
    Link {
        token_hash: &'a str,
        expires_at: i64,
    },
    /// Emailed: SES's message id.
    Delivered { message_id: &'a str, at: i64 },
    /// Let go until `until`; `attempts` counts failures. `emailed`: the
    /// email went out but was not recorded as delivered, so the next
    /// attempt only records it (never a second email).
    Later {
        until: i64,
        attempts: u32,
        error: Option<&'a str>,
        emailed: Option<&'a str>,
    },
    /// Waits for its transcription until `until`; not recorded if the
    /// transcription arrived meanwhile.
    AwaitTranscription { until: i64 },
    /// The retry budget is spent.
    Failed { attempts: u32, error: &'a str },
}

/// What became of an attempt at a text's email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMark {
    Emailed { at: i64 },
    Later { until: i64, attempts: u32 },
    Failed { attempts: u32 },
}

/// Where voicemails and the texts to email are kept (the table).
pub trait VoicemailStore: Sync {
    /// Takes a pending voicemail for `lease` seconds: `None` when it is not
    /// pending or another worker holds it.
    fn claim_voicemail(
        &self,
        sid: &str,
        now: i64,
        lease: i64,
    ) -> impl Future<Output = Port<Option<Voicemail>>> + Send;
    /// Records what became of an attempt (and ends its lease); `false`
    /// when its condition did not hold (only `AwaitTranscription` has one).
    fn mark_voicemail(&self, sid: &str, mark: Mark<'_>) -> impl Future<Output = Port<bool>> + Send;
    /// Pending work due by `now`, oldest first.
    fn due_work(&self, now: i64, limit: i32) -> impl Future<Output = Port<Vec<Due>>> + Send;
    /// As [`VoicemailStore::claim_voicemail`], for a text to email.
    fn claim_text_email(
        &self,
        sid: &str,
        now: i64,
        lease: i64,
    ) -> impl Future<Output = Port<Option<TextEmail>>> + Send;
    fn mark_text_email(&self, sid: &str, mark: TextMark) -> impl Future<Output = Port<()>> + Send;
}

/// A recording as the provider serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The provider's copy of a voicemail.
pub trait RecordingSource: Sync {
    fn download(&self, url: &str) -> impl Future<Output = Port<Recording>> + Send;
    fn delete(&self, recording_sid: &str) -> impl Future<Output = Port<()>> + Send;
}

/// The private recordings bucket.
pub trait RecordingBucket: Sync {
    fn put(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> impl Future<Output = Port<()>> + Send;
    /// A link that works for `seconds`.
    fn presign(&self, key: &str, seconds: u64) -> impl Future<Output = Port<String>> + Send;
}

/// Sends an email from `from` to `to`; answers the provider's message id.
pub trait Mailer: Sync {
    fn send(&self, from: &str, to: &str, email: Email)
        -> impl Future<Output = Port<String>> + Send;
}

/// What the pipeline works with: its effects, its settings and the clock.
pub struct Pipeline<'a, S, R, B, M> {
    pub store: &'a S,
    pub recordings: &'a R,
    pub bucket: &'a B,
    pub mailer: &'a M,
    pub config: &'a VoicemailConfig,
    pub clock: &'a Clock,
    /// callmask's public base URL: the emailed link is callmask's
    /// (`/voicemails/{sid}/recording`), presigned on each click. `None`
    /// (a local stack without `PUBLIC_BASE_URL`): a link presigned now,
    /// which works only as long as this process's credentials.
    pub link_base: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Waiting for a transcription.
    Waiting,
    /// A step failed; tried again later.
    Retrying,
    /// The retry budget is spent.
    Failed,
    /// Not pending, or another worker holds it.
    Skipped,
}

/// Why a step failed: what is kept on the item and logged.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("provider download: {0}")]
    Download(#[source] PortError),
    #[error("S3: {0}")]
    S3(#[source] PortError),
    #[error("SES: {0}")]
    Ses(#[source] PortError),
    #[error("storage: {0}")]
    Store(#[source] PortError),
    /// SES took the email but storage did not record it.
    #[error("storage, after the email was sent: {source}")]
    Unrecorded {
        message_id: String,
        #[source]
        source: PortError,
    },
    #[error("unsupported provider {0}")]
    Provider(String),
}

enum Step {
    Delivered,
    WaitUntil(i64),
}

/// The wait after the `attempts`th failure (1 → 30 s, doubling to 30 min).
pub(crate) fn backoff(attempts: u32) -> i64 {
    (FIRST_BACKOFF_SECONDS << attempts.saturating_sub(1).min(10)).min(MAX_BACKOFF_SECONDS)
}

impl<S, R, B, M> Pipeline<'_, S, R, B, M>
where
    S: VoicemailStore,
    R: RecordingSource,
    B: RecordingBucket,
    M: Mailer,
{
    /// Handles one voicemail if it is pending and free.
    pub async fn process(&self, recording_sid: &str) -> Port<Outcome> {
        let now = self.clock.now();
        let Some(vm) = self
            .store
            .claim_voicemail(recording_sid, now, LEASE_SECONDS)
            .await?
        else {
            return Ok(Outcome::Skipped);
        };
        match self.deliver(&vm, now).await {
            Ok(Step::Delivered) => {
                tracing::info!(voicemail = %vm.recording_sid, line = %vm.line.masked(), "voicemail delivered");
                crate::metrics::voicemail_delivered();
                Ok(Outcome::Delivered)
            }
            Ok(Step::WaitUntil(until)) => {
                let wait = Mark::AwaitTranscription { until };
                if self.store.mark_voicemail(&vm.recording_sid, wait).await? {
                    return Ok(Outcome::Waiting);
                }
                // The transcription came in while we held the voicemail: it
                // is due now, and this worker sends it at once.
                let now_due = Mark::Later {
                    until: now,
                    attempts: vm.attempts,
                    error: None,
                    emailed: None,
                };
                self.store
                    .mark_voicemail(&vm.recording_sid, now_due)
                    .await?;
                Box::pin(self.process(recording_sid)).await
            }
            Err(e) => self.failed(&vm, e, now).await,
        }
    }

    async fn failed(&self, vm: &Voicemail, e: StepError, now: i64) -> Port<Outcome> {
        let attempts = vm.attempts + 1;
        let reason = e.to_string();
        let emailed = match &e {
            StepError::Unrecorded { message_id, .. } => Some(message_id.as_str()),
            _ => None,
        };
        if attempts >= self.config.voicemail_max_attempts {
            let failed = Mark::Failed {
                attempts,
                error: &reason,
            };
            self.store.mark_voicemail(&vm.recording_sid, failed).await?;
            tracing::error!(voicemail = %vm.recording_sid, attempts, error = %reason, "voicemail failed: retry budget spent");
            crate::metrics::voicemail_failed();
            Ok(Outcome::Failed)
        } else {
            let wait = backoff(attempts);
            let later = Mark::Later {
                until: now + wait,
                attempts,
                error: Some(&reason),
                emailed,
            };
            self.store.mark_voicemail(&vm.recording_sid, later).await?;
            tracing::warn!(voicemail = %vm.recording_sid, attempts, error = %reason, retry_in = wait, "voicemail step failed; will retry");
            Ok(Outcome::Retrying)
        }
    }

    /// Handles every pending voicemail (and queued text email) that is due;
    /// returns what happened.
    pub async fn sweep(&self) -> Port<Vec<Outcome>> {
        let due = self.store.due_work(self.clock.now(), SWEEP_BATCH).await?;
        let mut outcomes = Vec::with_capacity(due.len());
        for work in due {
            outcomes.push(match work {
                Due::Voicemail(sid) => self.process(&sid).await?,
                Due::TextEmail(sid) => self.email_text(&sid).await?,
            });
        }
        Ok(outcomes)
    }

    /// Emails one queued text to a line's owner (`usecases::text_emails`).
    pub async fn email_text(&self, message_sid: &str) -> Port<Outcome> {
        text_emails::process(
            self.store,
            self.mailer,
            self.config,
            self.clock,
            message_sid,
        )
        .await
    }

    async fn deliver(&self, vm: &Voicemail, now: i64) -> Result<Step, StepError> {
        let key = match &vm.s3_key {
            Some(key) => key.clone(),
            None => self.copy_recording(vm).await?,
        };
        let transcription_due = vm.recorded_at + self.config.transcription_wait_seconds as i64;
        if vm.transcribe && vm.transcription_status.is_none() && now < transcription_due {
            return Ok(Step::WaitUntil(transcription_due));
        }
        let ttl = self.config.recording_link_ttl_seconds;
        let message_id = match &vm.email_message_id {
            // Sent by an earlier attempt that could not record it.
            Some(id) => id.clone(),
            None => {
                let link = self.link(vm, &key, ttl, now).await?;
                self.mailer
                    .send(
                        &self.config.sender_email,
                        &vm.owner_email,
                        email::voicemail(vm, &link, ttl),
                    )
                    .await
                    .map_err(StepError::Ses)?
            }
        };
        let delivered = Mark::Delivered {
            message_id: &message_id,
            at: now,
        };
        self.store
            .mark_voicemail(&vm.recording_sid, delivered)
            .await
            .map_err(|source| StepError::Unrecorded { message_id, source })?;
        Ok(Step::Delivered)
    }

    /// The link to email, working for `ttl` seconds from `now`. With a
    /// public base URL: callmask's link, whose token (kept hashed on the
    /// voicemail before the email goes) is checked on each click, which
    /// presigns then. A presigned S3 URL made here would be signed with
    /// the worker role's temporary credentials and stop working when their
    /// session ends (at most 12 hours, often 1), whatever its own expiry
    /// says: the owner would find a dead link long before the promised
    /// time.
    async fn link(
        &self,
        vm: &Voicemail,
        key: &str,
        ttl: u64,
        now: i64,
    ) -> Result<String, StepError> {
        let Some(base) = self.link_base else {
            return self.bucket.presign(key, ttl).await.map_err(StepError::S3);
        };
        let token = crate::domain::voicemail::new_link_token();
        let hash = crate::domain::voicemail::link_token_hash(&token);
        let link = Mark::Link {
            token_hash: &hash,
            expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
        };
        self.store
            .mark_voicemail(&vm.recording_sid, link)
            .await
            .map_err(StepError::Store)?;
        Ok(crate::domain::voicemail::recording_link(
            base,
            &vm.recording_sid,
            &token,
        ))
    }

    /// Downloads the provider's recording and stores it; returns the object
    /// key.
    async fn copy_recording(&self, vm: &Voicemail) -> Result<String, StepError> {
        if vm.provider != "twilio" {
            return Err(StepError::Provider(vm.provider.clone()));
        }
        let recording = self
            .recordings
            .download(&vm.recording_url)
            .await
            .map_err(StepError::Download)?;
        let key = object_key(vm, &recording.content_type);
        let content_type = recording.content_type.clone();
        self.bucket
            .put(&key, &content_type, recording.bytes)
            .await
            .map_err(StepError::S3)?;
        let copied = Mark::Copied {
            key: &key,
            content_type: &content_type,
        };
        self.store
            .mark_voicemail(&vm.recording_sid, copied)
            .await
            .map_err(StepError::Store)?;
        if self.config.delete_provider_recordings {
            // Our copy is safe; a failed delete only leaves the provider's
            // copy behind.
            if let Err(e) = self.recordings.delete(&vm.recording_sid).await {
                tracing::warn!(voicemail = %vm.recording_sid, error = %crate::telemetry::chain(&e), "could not delete the provider's copy");
            }
        }
        Ok(key)
    }
}

/// No phone number in the key: the recording's own id and the date.
fn object_key(vm: &Voicemail, content_type: &str) -> String {
    let ext = if content_type.contains("mpeg") {
        "mp3"
    } else {
        "wav"
    };
    let date = crate::clock::rfc3339(vm.recorded_at);
    format!(
        "voicemails/{}/{}/{}.{ext}",
        &date[0..4],
        &date[5..7],
        vm.recording_sid
    )
}

#[cfg(test)]
#[path = "voicemail_tests.rs"]
mod tests;
