//! What is known of a call beyond its routing: the context later callbacks
//! need, a session's call list, and the webhook tokens a leg has seen.

use serde::Serialize;

use crate::domain::line::VoicemailSettings;
use crate::phone::PhoneNumber;

/// What later callbacks (which carry no From/To) need to know about a
/// forwarded call, keyed by its CallSid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub call_sid: String,
    pub line: PhoneNumber,
    /// As the provider sent it: may be `anonymous`.
    pub caller: String,
    pub owner_email: String,
    pub voicemail: VoicemailSettings,
    pub language: String,
    pub created_at: i64,
}

/// The latest state of one call of a session.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallSummary {
    pub uuid: String,
    pub conversation_uuid: Option<String>,
    pub status: String,
    pub direction: Option<String>,
    pub duration_seconds: Option<i64>,
    pub updated_at: String,
}

/// A webhook token, as a leg remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenId {
    pub iat: i64,
    pub jti: String,
}
