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
