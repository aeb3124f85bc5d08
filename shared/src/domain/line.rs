//! Masked lines: a pool number owned by a user, forwarded to their phone,
//! with voicemail when they miss the call, gated by a plan and a quota.

use serde::{Deserialize, Serialize};

use crate::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub owner: Owner,
    pub dial_timeout_seconds: u32,
    pub caller_id: CallerIdMode,
    pub voicemail: VoicemailSettings,
    pub language: String,
    pub plan: Plan,
    /// Texts to the line (lines written before texts were relayed have none).
    #[serde(default)]
    pub sms: SmsSettings,
}

/// What a text to the line does besides reaching the owner's phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsSettings {
    /// Also email it to the owner.
    pub email: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub phone: PhoneNumber,
    pub email: String,
}

/// What the owner's phone shows when a call is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallerIdMode {
    /// The caller's own number (Twilio allows the request's `From`).
    Caller,
    /// The masked line's number.
    Line,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoicemailSettings {
    pub enabled: bool,
    pub max_length_seconds: u32,
    pub transcribe: bool,
    pub greeting: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub active: bool,
    /// `None`: no limit.
    pub calls_per_period: Option<u32>,
    pub period: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    /// The quota bucket `now` falls in: `2026-11-22`, `2026-W47`, `2026-11` (UTC).
    pub fn key(&self, now: i64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(now)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        match self {
            Period::Day => format!("{:04}-{:02}-{:02}", t.year(), t.month() as u8, t.day()),
            Period::Week => {
                let (year, week, _) = t.to_iso_week_date();
                format!("{year:04}-W{week:02}")
            }
            Period::Month => format!("{:04}-{:02}", t.year(), t.month() as u8),
        }
    }
}

pub const DEFAULT_GREETING: &str =
    "The person you are calling is not available. Please leave a message after the beep, and press star when you are done.";
pub const GOODBYE: &str = "Thank you. Goodbye.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_keys() {
        // 2026-11-22T08:00:00Z is a Sunday in ISO week 47.
        let now = 1_795_334_400;
        assert_eq!(Period::Day.key(now), "2026-11-22");
        assert_eq!(Period::Week.key(now), "2026-W47");
        assert_eq!(Period::Month.key(now), "2026-11");
    }
}
