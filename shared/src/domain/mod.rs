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
pub mod text;
pub mod voicemail;

pub use call::{CallContext, CallSummary, TokenId};
pub use message::MessageRecord;
pub use recording::AudioRecording;
pub use service::{Membership, Service, ServiceSid};
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Closed,
}

/// One participant of a session and the number it dials to reach the other
/// one; the same number is the caller ID it sees when the other one calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub number: PhoneNumber,
    pub proxy_number: PhoneNumber,
    /// How notices name this participant to the other one ("your driver").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The SMS notice a participant was sent at creation. Holds neither the
/// text nor a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub participant: usize,
    pub status: NotificationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    Sent,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub provider: Provider,
    pub status: SessionStatus,
    pub participants: [Participant; 2],
    pub created_at: i64,
    pub expires_at: i64,
    pub closed_at: Option<i64>,
    pub notifications: Vec<Notification>,
    /// The service it was created in (the default service for sessions
    /// stored before services existed).
    pub service: ServiceSid,
}

impl Session {
    /// A new open session: each participant with the proxy number it dials.
    pub fn open(
        id: String,
        provider: Provider,
        [(a, proxy_a), (b, proxy_b)]: [(PhoneNumber, PhoneNumber); 2],
        now: i64,
        ttl_seconds: i64,
    ) -> Self {
        Self {
            id,
            provider,
            status: SessionStatus::Open,
            participants: [
                Participant {
                    number: a,
                    proxy_number: proxy_a,
                    label: None,
                },
                Participant {
                    number: b,
                    proxy_number: proxy_b,
                    label: None,
                },
            ],
            created_at: now,
            expires_at: now + ttl_seconds,
            closed_at: None,
            notifications: Vec::new(),
            service: ServiceSid::default_service(),
        }
    }

    /// Ids are ours (uuid, simple form); anything else cannot name a
    /// session, so it is not looked up.
    pub fn valid_id(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }

    pub fn is_active(&self, now: i64) -> bool {
        self.status == SessionStatus::Open && now < self.expires_at
    }

    /// The two routing entries of this session: each participant dialling
    /// its proxy number reaches the other one, who sees their own proxy
    /// number as caller ID.
    pub fn legs(&self) -> [Leg; 2] {
        let [a, b] = &self.participants;
        let leg = |from: &Participant, to: &Participant, index: u8| Leg {
            caller_index: Some(index),
            proxy: from.proxy_number.clone(),
            caller: from.number.clone(),
            callee: to.number.clone(),
            caller_id: to.proxy_number.clone(),
            session_id: self.id.clone(),
            provider: self.provider,
            expires_at: self.expires_at,
        };
        [leg(a, b, 0), leg(b, a, 1)]
    }
}

/// A routing entry: a call from `caller` to `proxy` goes to `callee`, shown
/// as coming from `caller_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub proxy: PhoneNumber,
    pub caller: PhoneNumber,
    pub callee: PhoneNumber,
    pub caller_id: PhoneNumber,
    pub session_id: String,
    pub provider: Provider,
    pub expires_at: i64,
    /// Which participant of the session `caller` is (0 or 1); unknown on
    /// legs written before it was kept.
    pub caller_index: Option<u8>,
}

impl Leg {
    /// Closed sessions delete their legs; expired ones linger until DynamoDB
    /// TTL removes them, so expiry is checked on every read.
    pub fn is_active(&self, now: i64) -> bool {
        now < self.expires_at
    }
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
