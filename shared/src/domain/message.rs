//! Text messages relayed through a session.

use serde::Serialize;

use crate::domain::Provider;

/// A relayed message as `GET /sessions/{id}/messages` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRecord {
    pub message_id: String,
    pub provider: Provider,
    /// `"0>1"`: from participant 0 to participant 1 (`"?"` when unknown).
    pub direction: String,
    pub at: i64,
    pub status: String,
    /// Characters of text.
    pub length: usize,
    /// Present only with `STORE_MESSAGE_BODIES=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// `"0>1"`: from participant 0 to participant 1.
pub fn direction(caller_index: Option<u8>) -> String {
    match caller_index {
        Some(0) => "0>1".into(),
        Some(1) => "1>0".into(),
        _ => "?".into(),
    }
}
