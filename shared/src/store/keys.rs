//! Single-table keys. One place, so every item's shape is easy to find.
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | proxy number | `NUM#<e164>` | `META` | pool: `POOL#<provider>` / `<country>#<e164>` |
//! | session leg | `NUM#<proxy>` | `LEG#<caller>` | participant: `PART#<caller>` / `NUM#<proxy>` |
//! | session | `SES#<id>` | `META` | sessions (sparse): `SESSIONS` / `<created_at>#<id>` |
//! | session participant entry | `SES#<id>` | `PART#<0\|1>` | sessions: `SESPART#<e164>` / `<created_at>#<id>` |
//! | session call | `SES#<id>` | `CALL#<call uuid>` | |
//! | call event | `CALL#<call uuid>` | `EVT#<timestamp>#<status>` | |
//! | line call context | `CALL#<CallSid>` | `META` | |
//! | line quota counter | `NUM#<line>` | `QUOTA#<period>` | |
//! | relayed text message | `SES#<id>` | `MSG#<provider>#<message id>` | |
//! | text to a masked line | `MSG#<MessageSid>` | `META` | |
//! | automatic purchases of a provider | `AUTO#<provider>` | `META` | |
//! | provisioning order (Idempotency-Key) | `ORDER#<key>` | `META` | |
//! | used webhook token (events) | `TOKEN#<jti>` | `META` | |
//! | call audio recording | `AUDIO#<call uuid>` | `REC#<started_at_ms>#<connection>` | recordings: `AUDIOREC` / `<recorded_at_ms>#<call uuid>#<connection>` |
//! | used webhook token (audio answer) | `TOKEN#<jti>` | `META` | |
//! | automatic reply to a sender outside any session | `AUTOREPLY#<proxy>` | `TO#<sender>` | |
//! | automatic replies from a number in one hour | `AUTOREPLY#<proxy>` | `HOUR#<unix hour>` | |
//! | service | `SVC#<sid>` | `META` | sessions (sparse): `SERVICES` / `<created_at>#<sid>` |
//! | service unique-name guard | `SVCNAME#<unique_name>` | `META` | |
//! | voicemail | `VM#<RecordingSid>` | `META` | line_voicemails: `VMLINE#<line>` / `<recorded_at>#<sid>`; pending_voicemails (sparse): `PENDING` / `<next_attempt_at>#<sid>` |
//!
//! A masked line is the `line` attribute (JSON settings) on its number's META item.
//! A number's service is its META item's `service` attribute (absent: the
//! default service), with `reserved` (true, or absent); a session's is its
//! META item's `service` (absent on sessions stored before services).

use crate::domain::{Provider, ServiceSid};
use crate::phone::PhoneNumber;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const META: &str = "META";
pub const TTL: &str = "ttl";

pub const PARTICIPANT_INDEX: &str = "participant";
pub const PARTICIPANT_PK: &str = "gsi1pk";
pub const PARTICIPANT_SK: &str = "gsi1sk";
pub const POOL_INDEX: &str = "pool";
pub const POOL_PK: &str = "gsi2pk";
pub const POOL_SK: &str = "gsi2sk";

pub fn number(n: &PhoneNumber) -> String {
    format!("NUM#{}", n.e164())
}

pub fn leg(caller: &PhoneNumber) -> String {
    format!("LEG#{}", caller.e164())
}

pub const LEG_PREFIX: &str = "LEG#";

pub fn order(idempotency_key: &str) -> String {
    format!("ORDER#{idempotency_key}")
}

/// The guard of a session's unique name within its service.
pub fn session_name(service: &crate::domain::ServiceSid, name: &str) -> String {
    format!("SESSNAME#{}#{name}", service.as_str())
}

pub fn session(id: &str) -> String {
    format!("SES#{id}")
}

pub fn session_call(uuid: &str) -> String {
    format!("CALL#{uuid}")
}

pub const SESSION_CALL_PREFIX: &str = "CALL#";

/// The call uuid of a session's call entry.
pub fn session_call_uuid(sk: &str) -> &str {
    sk.strip_prefix(SESSION_CALL_PREFIX).unwrap_or(sk)
}

pub fn call(uuid: &str) -> String {
    format!("CALL#{uuid}")
}

pub fn call_event(timestamp: &str, status: &str) -> String {
    format!("EVT#{timestamp}#{status}")
}

/// A line's quota counter for one period (`2026-11`).
pub fn quota(period_key: &str) -> String {
    format!("QUOTA#{period_key}")
}

pub fn session_message(provider: Provider, message_id: &str) -> String {
    format!("MSG#{}#{message_id}", provider.as_str())
}

pub const SESSION_MESSAGE_PREFIX: &str = "MSG#";

pub fn parse_session_message(sk: &str) -> Option<(Provider, &str)> {
    let (provider, id) = sk.strip_prefix(SESSION_MESSAGE_PREFIX)?.split_once('#')?;
    Some((Provider::parse(provider)?, id))
}

pub fn line_message(message_sid: &str) -> String {
    format!("MSG#{message_sid}")
}

/// The MessageSid of a text to a line's item key, `None` for other items.
pub fn line_message_sid(pk: &str) -> Option<&str> {
    pk.strip_prefix("MSG#")
}

pub fn auto_provision(provider: Provider) -> String {
    format!("AUTO#{}", provider.as_str())
}

pub fn auto_reply(proxy: &PhoneNumber) -> String {
    format!("AUTOREPLY#{}", proxy.e164())
}

pub fn auto_reply_to(sender: &PhoneNumber) -> String {
    format!("TO#{}", sender.e164())
}

pub fn auto_reply_hour(unix_hour: i64) -> String {
    format!("HOUR#{unix_hour}")
}

pub fn token(jti: &str) -> String {
    format!("TOKEN#{jti}")
}

pub fn voicemail(recording_sid: &str) -> String {
    format!("VM#{recording_sid}")
}

/// The RecordingSid of a voicemail's item key, `None` for other items.
pub fn voicemail_sid(pk: &str) -> Option<&str> {
    pk.strip_prefix("VM#")
}

pub const LINE_VOICEMAILS_INDEX: &str = "line_voicemails";
pub const LINE_VOICEMAILS_PK: &str = "gsi3pk";
pub const LINE_VOICEMAILS_SK: &str = "gsi3sk";
pub const PENDING_INDEX: &str = "pending_voicemails";
pub const PENDING_PK: &str = "gsi4pk";
pub const PENDING_SK: &str = "gsi4sk";
pub const PENDING: &str = "PENDING";

pub fn line_voicemails(line: &PhoneNumber) -> String {
    format!("VMLINE#{}", line.e164())
}

/// Zero-padded so the index sorts by time (a time before 1970 sorts as
/// 1970).
pub fn at(unix: i64, id: &str) -> String {
    format!("{:012}#{id}", unix.max(0))
}

/// Sorts after every [`at`] key of `unix` or earlier.
pub fn due_by(unix: i64) -> String {
    format!("{:012}#~", unix.max(0))
}

pub fn participant(p: &PhoneNumber) -> String {
    format!("PART#{}", p.e164())
}

pub fn pool(provider: Provider) -> String {
    format!("POOL#{}", provider.as_str())
}

pub fn pool_sort(country: &str, n: &PhoneNumber) -> String {
    format!("{country}#{}", n.e164())
}

/// A call's audio recordings (the audio socket writes one per connection).
pub fn audio_call(call_uuid: &str) -> String {
    format!("AUDIO#{call_uuid}")
}

pub const AUDIO_RECORDING_PREFIX: &str = "REC#";

/// Zero-padded milliseconds, so a call's recordings sort by start.
pub fn audio_recording(started_at_ms: i64, connection: &str) -> String {
    format!("REC#{started_at_ms:013}#{connection}")
}

pub const RECORDINGS_INDEX: &str = "recordings";
pub const RECORDINGS_PK: &str = "gsi5pk";
pub const RECORDINGS_SK: &str = "gsi5sk";
pub const RECORDINGS: &str = "AUDIOREC";

pub fn recordings_sort(recorded_at_ms: i64, call_uuid: &str, connection: &str) -> String {
    format!("{recorded_at_ms:013}#{call_uuid}#{connection}")
}

/// Sparse and overloaded: session META items under [`SESSIONS`], and two
/// participant entries per session (`SES#<id>` / `PART#<i>`) under
/// [`session_participant`]; both sorted by [`sessions_sort`]
/// (`store/listing.rs` says why).
pub const SESSIONS_INDEX: &str = "sessions";
pub const SESSIONS_PK: &str = "gsi6pk";
pub const SESSIONS_SK: &str = "gsi6sk";
pub const SESSIONS: &str = "SESSIONS";

/// The partition of a participant's sessions in the `sessions` index.
pub fn session_participant(p: &PhoneNumber) -> String {
    format!("SESPART#{}", p.e164())
}

/// A session's participant entry (`i` = 0 or 1).
pub fn session_participant_entry(i: usize) -> String {
    format!("PART#{i}")
}

/// Zero-padded, so the index sorts by creation, then id.
pub fn sessions_sort(created_at: i64, id: &str) -> String {
    format!("{created_at:012}#{id}")
}

/// `(created_at, id)` of a [`sessions_sort`] value.
pub fn parse_sessions_sort(sk: &str) -> Option<(i64, &str)> {
    let (at, id) = sk.split_once('#')?;
    if at.len() != 12 || !at.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
        return None;
    }
    Some((at.parse().ok()?, id))
}

pub const CALL_EVENT_PREFIX: &str = "EVT#";

/// `(timestamp, status)` of a [`call_event`] sort key.
pub fn parse_call_event(sk: &str) -> Option<(&str, &str)> {
    sk.strip_prefix(CALL_EVENT_PREFIX)?.split_once('#')
}

/// The session id of a session item's key, `None` for other items.
pub fn session_id(pk: &str) -> Option<&str> {
    pk.strip_prefix("SES#")
}

pub fn service(sid: &ServiceSid) -> String {
    format!("SVC#{sid}")
}

/// The item that reserves a unique name for one service.
pub fn service_name(unique_name: &str) -> String {
    format!("SVCNAME#{unique_name}")
}

/// The partition of services in the `sessions` index (sorted by
/// [`sessions_sort`] of their creation and sid): no index of their own.
pub const SERVICES: &str = "SERVICES";
