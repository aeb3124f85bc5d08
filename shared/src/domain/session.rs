//! Sessions, their participants and the two legs that route them.
//!
//! A session ends at the earlier of two times: its fixed end (`date_expiry`,
//! or creation + a fixed `ttl_seconds`; [`NO_END`] when it has none) and,
//! when it has a sliding `ttl`, that long after its last interaction (or
//! its creation). Each leg carries both, so the one storage request that
//! routes a call decides from the leg alone; a routed call or text moves
//! the leg's sliding end in the same request.

use serde::{Deserialize, Serialize};

use crate::domain::{Provider, ServiceSid};
use crate::phone::PhoneNumber;

/// A fixed end that means "none" (9999-12-31T23:59:59Z): a session with
/// only a sliding TTL ends when it goes idle.
pub const NO_END: i64 = 253_402_300_799;

/// Longest unique name of a session.
pub const MAX_UNIQUE_NAME_CHARS: usize = 191;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Open,
    Closed,
}

/// What a session carries (Twilio Proxy's `mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    #[default]
    VoiceAndMessage,
    VoiceOnly,
    MessageOnly,
}

impl Mode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::VoiceAndMessage => "voice-and-message",
            Mode::VoiceOnly => "voice-only",
            Mode::MessageOnly => "message-only",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Mode::VoiceAndMessage, Mode::VoiceOnly, Mode::MessageOnly]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    pub fn calls(&self) -> bool {
        *self != Mode::MessageOnly
    }

    pub fn texts(&self) -> bool {
        *self != Mode::VoiceOnly
    }

    pub fn carries(&self, medium: Medium) -> bool {
        match medium {
            Medium::Call => self.calls(),
            Medium::Text => self.texts(),
        }
    }

    /// The mode that refuses `medium`.
    pub fn barring(medium: Medium) -> Self {
        match medium {
            Medium::Call => Mode::MessageOnly,
            Medium::Text => Mode::VoiceOnly,
        }
    }
}

/// What is being routed through a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Call,
    Text,
}

impl Serialize for Mode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A unique name as a session may hold it: 1 to 191 characters, no
/// control characters, not blank.
pub fn valid_unique_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= MAX_UNIQUE_NAME_CHARS
        && !name.chars().any(char::is_control)
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
    /// The fixed end; [`NO_END`] when the session only slides.
    pub expires_at: i64,
    /// Sliding TTL: the session ends this long after its last interaction.
    pub ttl: Option<i64>,
    /// The last routed call or text, as far as storage has seen it.
    pub last_interaction_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub notifications: Vec<Notification>,
    /// The service it was created in (the default service for sessions
    /// stored before services existed).
    pub service: ServiceSid,
    /// Unique within the service; the session can be fetched by it.
    pub unique_name: Option<String>,
    pub mode: Mode,
    /// Seconds its (participant, number) pairs stay out of allocation
    /// after it ends (its service's `cool_off_seconds` at creation).
    pub cool_off: i64,
}

impl Session {
    /// A new open session: each participant with the proxy number it dials,
    /// ending a fixed `ttl_seconds` after `now` (see [`Session::sliding`]).
    pub fn open(
        id: String,
        provider: Provider,
        [(a, proxy_a), (b, proxy_b)]: [(PhoneNumber, PhoneNumber); 2],
        now: i64,
        ttl_seconds: i64,
    ) -> Self {
        let participant = |number, proxy_number| Participant {
            number,
            proxy_number,
            label: None,
        };
        Self {
            id,
            provider,
            status: SessionStatus::Open,
            participants: [participant(a, proxy_a), participant(b, proxy_b)],
            created_at: now,
            expires_at: now.saturating_add(ttl_seconds),
            ttl: None,
            last_interaction_at: None,
            closed_at: None,
            notifications: Vec::new(),
            service: ServiceSid::default_service(),
            unique_name: None,
            mode: Mode::default(),
            cool_off: 0,
        }
    }

    /// Ids are ours (uuid, simple form); anything else cannot name a
    /// session, so it is not looked up.
    pub fn valid_id(id: &str) -> bool {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }

    /// When the sliding TTL runs out, if it has one.
    pub fn idle_until(&self) -> Option<i64> {
        let since = self.last_interaction_at.unwrap_or(self.created_at);
        self.ttl.map(|ttl| since.saturating_add(ttl))
    }

    /// When the session ends if nothing routes through it meanwhile.
    pub fn ends_at(&self) -> i64 {
        self.idle_until()
            .map_or(self.expires_at, |idle| idle.min(self.expires_at))
    }

    pub fn is_active(&self, now: i64) -> bool {
        self.status == SessionStatus::Open && now < self.ends_at()
    }

    /// `open`, `in-progress` (something was routed), or `closed` with its
    /// reason (`closed` by a request, `expired`).
    pub fn status_at(&self, now: i64) -> (&'static str, Option<&'static str>) {
        match self.status {
            SessionStatus::Closed => ("closed", Some("closed")),
            SessionStatus::Open if now >= self.ends_at() => ("closed", Some("expired")),
            SessionStatus::Open if self.last_interaction_at.is_some() => ("in-progress", None),
            SessionStatus::Open => ("open", None),
        }
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
            idle_until: self.idle_until(),
            mode: self.mode,
        };
        [leg(a, b, 0), leg(b, a, 1)]
    }
}

/// Changes to an open session's lifetime or mode; `None` leaves a field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// A sliding TTL from now on (replacing any fixed end).
    pub ttl: Option<i64>,
    /// A fixed end (overrides a TTL given with it, and drops the sliding one).
    pub date_expiry: Option<i64>,
    pub mode: Option<Mode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the session is closed")]
    Closed,
    #[error("date_expiry must be in the future")]
    PastDate,
}

impl Session {
    /// This session with `changes`, as of `now`.
    pub fn change(&self, changes: &SessionChanges, now: i64) -> Result<Session, ChangeError> {
        if !self.is_active(now) {
            return Err(ChangeError::Closed);
        }
        let mut s = self.clone();
        match (changes.date_expiry, changes.ttl) {
            (Some(at), _) if at <= now => return Err(ChangeError::PastDate),
            (Some(at), _) => (s.expires_at, s.ttl) = (at, None),
            (None, Some(ttl)) => (s.expires_at, s.ttl) = (NO_END, Some(ttl)),
            (None, None) => {}
        }
        if let Some(mode) = changes.mode {
            s.mode = mode;
        }
        Ok(s)
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
    /// The session's fixed end (a closed session's legs end when it closed).
    pub expires_at: i64,
    /// The sliding end as this leg last saw it: a call routed by the other
    /// leg may have moved the session's further.
    pub idle_until: Option<i64>,
    pub mode: Mode,
    /// Which participant of the session `caller` is (0 or 1); unknown on
    /// legs written before it was kept.
    pub caller_index: Option<u8>,
}

impl Leg {
    /// Expired legs linger (for cool-off, then until DynamoDB TTL removes
    /// them), so the end is checked on every read.
    pub fn is_active(&self, now: i64) -> bool {
        now < self.expires_at && self.idle_until.is_none_or(|idle| now < idle)
    }

    /// Ended by its fixed end: no call on the other leg can revive it.
    pub fn is_over(&self, now: i64) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(ttl: Option<i64>, fixed: i64) -> Session {
        let n = |s: &str| PhoneNumber::parse(s).unwrap();
        let mut s = Session::open(
            "s".into(),
            Provider::Twilio,
            [
                (n("+447700900100"), n("+447700900001")),
                (n("+447700900200"), n("+447700900002")),
            ],
            1000,
            fixed,
        );
        s.ttl = ttl;
        s
    }

    #[test]
    fn a_sliding_session_ends_ttl_after_its_last_interaction_but_never_past_its_fixed_end() {
        let mut s = session(Some(60), 600);
        assert_eq!(s.ends_at(), 1060);
        assert_eq!(s.status_at(1000), ("open", None));
        s.last_interaction_at = Some(1050);
        assert_eq!(s.ends_at(), 1110);
        assert_eq!(s.status_at(1100), ("in-progress", None));
        assert_eq!(s.status_at(1110), ("closed", Some("expired")));
        s.last_interaction_at = Some(1590);
        assert_eq!(s.ends_at(), 1600, "the fixed end wins");
        assert!(s
            .legs()
            .iter()
            .all(|l| l.is_active(1599) && !l.is_active(1600)));
    }

    #[test]
    fn a_fixed_session_ignores_interactions() {
        let mut s = session(None, 600);
        s.last_interaction_at = Some(1590);
        assert_eq!(s.ends_at(), 1600);
        assert_eq!(s.legs()[0].idle_until, None);
    }

    #[test]
    fn changes_replace_the_lifetime_and_never_touch_an_ended_session() {
        let s = session(None, 600);
        let slide = SessionChanges {
            ttl: Some(30),
            ..Default::default()
        };
        let slid = s.change(&slide, 1100).unwrap();
        assert_eq!(
            (slid.ttl, slid.expires_at, slid.ends_at()),
            (Some(30), NO_END, 1030)
        );
        let fixed = SessionChanges {
            ttl: Some(30),
            date_expiry: Some(5000),
            mode: Some(Mode::VoiceOnly),
        };
        let fixed = slid.change(&fixed, 1010).unwrap();
        assert_eq!(
            (fixed.ttl, fixed.ends_at(), fixed.mode),
            (None, 5000, Mode::VoiceOnly)
        );
        let past = SessionChanges {
            date_expiry: Some(1000),
            ..Default::default()
        };
        assert_eq!(s.change(&past, 1100), Err(ChangeError::PastDate));
        assert_eq!(s.change(&slide, 1600), Err(ChangeError::Closed));
    }

    #[test]
    fn modes_parse_and_say_what_they_carry() {
        for m in [Mode::VoiceAndMessage, Mode::VoiceOnly, Mode::MessageOnly] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert!(!Mode::MessageOnly.calls() && Mode::MessageOnly.texts());
        assert!(Mode::VoiceOnly.calls() && !Mode::VoiceOnly.texts());
        assert_eq!(Mode::parse("voice"), None);
    }

    #[test]
    fn unique_names_are_printable_and_bounded() {
        assert!(valid_unique_name("order 42/ride"));
        assert!(!valid_unique_name("  "));
        assert!(!valid_unique_name("a\nb"));
        assert!(!valid_unique_name(&"x".repeat(192)));
    }
}
