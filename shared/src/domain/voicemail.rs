//! Voicemails and texts to a masked line that its owner gets by email:
//! what the voicemail worker moves from pending to delivered or failed.

use serde::Serialize;

use crate::domain::CallContext;
use crate::phone::PhoneNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VoicemailStatus {
    /// Recorded; not yet copied and emailed.
    Pending,
    /// Copied to S3 and emailed.
    Delivered,
    /// Gave up after the retry budget.
    Failed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Voicemail {
    pub recording_sid: String,
    pub call_sid: String,
    pub provider: String,
    pub line: PhoneNumber,
    pub caller: String,
    pub owner_email: String,
    pub recording_url: String,
    pub duration_seconds: i64,
    pub recorded_at: i64,
    pub transcribe: bool,
    pub transcription: Option<String>,
    pub transcription_status: Option<String>,
    pub status: VoicemailStatus,
    pub s3_key: Option<String>,
    pub content_type: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub emailed_at: Option<i64>,
    /// SES's id of the email, once sent.
    pub email_message_id: Option<String>,
}

impl Voicemail {
    /// A voicemail as a provider's recording callback reports it: pending,
    /// nothing copied, emailed or transcribed yet.
    #[allow(clippy::too_many_arguments)]
    pub fn recorded(
        provider: &str,
        recording_sid: &str,
        call_sid: &str,
        ctx: &CallContext,
        recording_url: &str,
        duration_seconds: i64,
        recorded_at: i64,
    ) -> Self {
        Self {
            recording_sid: recording_sid.to_string(),
            call_sid: call_sid.to_string(),
            provider: provider.to_string(),
            line: ctx.line.clone(),
            caller: ctx.caller.clone(),
            owner_email: ctx.owner_email.clone(),
            recording_url: recording_url.to_string(),
            duration_seconds,
            recorded_at,
            transcribe: ctx.voicemail.transcribe,
            transcription: None,
            transcription_status: None,
            status: VoicemailStatus::Pending,
            s3_key: None,
            content_type: None,
            attempts: 0,
            last_error: None,
            emailed_at: None,
            email_message_id: None,
        }
    }
}

/// Work the voicemail worker finds due in the pending index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// A voicemail, by recording sid.
    Voicemail(String),
    /// A text to a line to email its owner, by message sid.
    TextEmail(String),
}

/// What the email about a text says, kept until it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEmail {
    pub message_sid: String,
    pub line: PhoneNumber,
    /// The customer who wrote (the owner may see it, as in voicemail emails).
    pub from: PhoneNumber,
    pub owner_email: String,
    pub body: String,
    pub at: i64,
    pub attempts: u32,
}

/// A voicemail's recording link as emailed: callmask's own URL, which
/// checks `token` and the link's expiry on each click and only then
/// presigns a short-lived S3 URL (`GET /voicemails/{sid}/recording`). A
/// link presigned at send time would be signed with the worker's role
/// session, and die with it (an hour or so), long before
/// `RECORDING_LINK_TTL_SECONDS`.
pub fn recording_link(base: &str, recording_sid: &str, token: &str) -> String {
    format!(
        "{}/voicemails/{recording_sid}/recording?token={token}",
        base.trim_end_matches('/')
    )
}

/// What the table keeps of a link's token: its SHA-256, so a read of the
/// table does not hand out working links.
pub fn link_token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new link token: 244 random bits, URL-safe.
pub fn new_link_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}
