//! The domain: numbers, sessions, legs and what to do with a call. Knows
//! nothing of DynamoDB, HTTP or a provider's wire format.

pub mod allocation;
pub mod call;
pub mod email;
pub mod line;
pub mod message;
pub mod recording;
pub mod routing;
pub mod service;
pub mod session;
pub mod text;
pub mod voicemail;

pub use call::{CallContext, CallSummary, TokenId};
pub use message::MessageRecord;
pub use recording::AudioRecording;
pub use service::{Membership, Service, ServiceSid};
pub use session::{
    ChangeError, Leg, Medium, Mode, Notification, NotificationStatus, Participant, Session,
    SessionChanges, SessionStatus, NO_END,
};
pub use voicemail::{Due, TextEmail, Voicemail, VoicemailStatus};

use serde::{Deserialize, Serialize};

use crate::phone::PhoneNumber;

/// The telephony provider that owns a number. Both numbers of a session
/// belong to one provider: the provider that receives the caller's call also
/// places the call to the callee, with one of its own numbers as caller ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Vonage,
    Twilio,
}

impl Provider {
    pub fn as_str(&self) -> &'static str {
        match self {
            Provider::Vonage => "vonage",
            Provider::Twilio => "twilio",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vonage" => Some(Provider::Vonage),
            "twilio" => Some(Provider::Twilio),
            _ => None,
        }
    }
}

/// A proxy number in the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolNumber {
    pub number: PhoneNumber,
    pub provider: Provider,
    pub country: String,
    pub created_at: i64,
    /// What the provider needs to release the number (Twilio's
    /// `PhoneNumberSid`); Vonage releases by number and country.
    pub provider_sid: Option<String>,
    /// False when the number was bought but could not be pointed at this
    /// deployment: it stays in the pool, out of allocation, so it is never
    /// lost and an operator can see it.
    pub linked: bool,
}

/// What a provider told us about a call (Vonage's event webhook, Twilio's
/// status callback), kept as sent plus the fields we index by.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// The provider's call id (Vonage uuid, Twilio CallSid).
    pub uuid: String,
    pub conversation_uuid: Option<String>,
    pub status: String,
    pub direction: Option<String>,
    pub timestamp: Option<String>,
    pub duration: Option<String>,
    pub raw: serde_json::Map<String, serde_json::Value>,
}
