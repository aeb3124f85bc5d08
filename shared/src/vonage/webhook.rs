//! Vonage voice webhook payloads: the answer request (GET query by default,
//! JSON body when `answer_method` is POST) and call events (JSON).

use serde_json::{Map, Value};

use crate::domain::CallEvent;

/// Fields of an answer (or fallback answer) request we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerRequest {
    pub to: Option<String>,
    pub from: Option<String>,
    /// Set instead of `from` for calls from the Client SDK.
    pub from_user: Option<String>,
    pub uuid: Option<String>,
    pub conversation_uuid: Option<String>,
    /// Fallback requests say why the answer URL failed.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("body is not a JSON object")]
    NotJsonObject,
    #[error("missing field {0}")]
    Missing(&'static str),
}

impl AnswerRequest {
    pub fn from_query(query: &str) -> Self {
        let mut map = Map::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            map.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        Self::from_map(&map)
    }

    pub fn from_json(body: &[u8]) -> Result<Self, PayloadError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self::from_map(&map)),
            _ => Err(PayloadError::NotJsonObject),
        }
    }

    fn from_map(map: &Map<String, Value>) -> Self {
        Self {
            to: text(map, "to"),
            from: text(map, "from"),
            from_user: text(map, "from_user"),
            uuid: text(map, "uuid"),
            conversation_uuid: text(map, "conversation_uuid"),
            reason: text(map, "reason"),
        }
    }
}

/// A call event as Vonage sends it (JSON), kept as sent plus the fields we
/// index by.
pub fn call_event(body: &[u8]) -> Result<CallEvent, PayloadError> {
    let map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => return Err(PayloadError::NotJsonObject),
    };
    Ok(CallEvent {
        uuid: text(&map, "uuid").ok_or(PayloadError::Missing("uuid"))?,
        conversation_uuid: text(&map, "conversation_uuid"),
        status: text(&map, "status").ok_or(PayloadError::Missing("status"))?,
        direction: text(&map, "direction"),
        timestamp: text(&map, "timestamp"),
        duration: text(&map, "duration"),
        raw: map,
    })
}

/// A string field, also accepting numbers (some payloads send them bare).
fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_from_query_and_json_agree() {
        let q = AnswerRequest::from_query(
            "to=447700900001&from=447700900100&uuid=u1&conversation_uuid=c1",
        );
        let j = AnswerRequest::from_json(
            br#"{"to":"447700900001","from":"447700900100","uuid":"u1","conversation_uuid":"c1"}"#,
        )
        .unwrap();
        assert_eq!(q, j);
        assert_eq!(q.to.as_deref(), Some("447700900001"));
        assert!(AnswerRequest::from_json(b"[1]").is_err());
        assert!(AnswerRequest::from_json(b"{nope").is_err());
    }

    #[test]
    fn event_needs_uuid_and_status() {
        assert_eq!(
            call_event(br#"{"status":"answered"}"#).unwrap_err(),
            PayloadError::Missing("uuid")
        );
        let e = call_event(br#"{"uuid":"u","status":"completed","duration":"12"}"#).unwrap();
        assert_eq!(e.duration.as_deref(), Some("12"));
    }
}
