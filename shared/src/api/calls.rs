//! `GET /calls/{id}` (the `sessions` function): what happened to one call,
//! by the provider's call id (a Vonage call uuid, a Twilio CallSid).
//!
//! 200 `{"call_id", "provider", "session_id", "session", "line", "events"}`:
//! the session the call belongs to (as `GET /sessions/{id}` shows it) or
//! the masked line it was forwarded on (line, caller, owner, how it ended),
//! and the events the providers sent, oldest first, as they sent them. An
//! admin route: the answer holds full numbers, no log line does. 404
//! `not_found` when nothing is kept under the id, or the id cannot be one
//! (1 to 64 letters, digits, `-` or `_`).

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::{json, path_param, ApiError, HttpResponse};
use crate::api::sessions::view;
use crate::audio::valid_call_id;
use crate::clock::rfc3339;
use crate::core::Core;
use crate::domain::{Provider, Session};
use crate::store::{CallHistory, LineCall};

/// Whether `req` is for `/calls/...` rather than `/sessions/...` (both are
/// the `sessions` function's; a stage prefix may come first).
pub fn is_call_route(req: &Request) -> bool {
    req.uri()
        .path()
        .split('/')
        .find(|s| *s == "sessions" || *s == "calls")
        == Some("calls")
}

/// `GET /calls/{id}`; other methods 405.
pub async fn handle(core: &Core, req: &Request) -> Result<HttpResponse, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::method_not_allowed("GET"));
    }
    let id = path_param(req, "id", "calls").unwrap_or_default();
    show(core, &id).await
}

async fn show(core: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("no such call");
    if !valid_call_id(id) {
        return Err(not_found());
    }
    let history = core.store.call_history(id).await?.ok_or_else(not_found)?;
    // The session the events name (the latest says it last).
    let session_id = history
        .events
        .iter()
        .rev()
        .find_map(|e| e.session_id.clone())
        .filter(|s| Session::valid_id(s));
    let session = match &session_id {
        Some(sid) => core.store.get_session(sid).await?,
        None => None,
    };
    tracing::debug!(call = %id, events = history.events.len(), "call looked up");
    Ok(json(
        200,
        &render(&history, session_id, session.as_ref(), core.clock.now()),
    ))
}

/// The answer, from what the store kept.
pub fn render(
    history: &CallHistory,
    session_id: Option<String>,
    session: Option<&Session>,
    now: i64,
) -> Value {
    let provider = match (&history.line_call, session) {
        // Lines are forwarded on Twilio only.
        (Some(_), _) => Provider::Twilio,
        (None, Some(s)) => s.provider,
        // Events without a session come from the Vonage event webhook;
        // Twilio's status callback keeps only a session's.
        (None, None) if is_call_sid(&history.call_id) => Provider::Twilio,
        (None, None) => Provider::Vonage,
    };
    let events: Vec<Value> = history
        .events
        .iter()
        .map(|e| {
            json!({
                "at": e.timestamp,
                "status": e.status,
                "received_at": e.received_at.map(rfc3339),
                "session_id": e.session_id,
                "payload": e.payload,
            })
        })
        .collect();
    json!({
        "call_id": history.call_id,
        "provider": provider.as_str(),
        "session_id": session_id,
        "session": session.map(|s| view(s, now)),
        "line": history.line_call.as_ref().map(line_view),
        "events": events,
    })
}

fn line_view(c: &LineCall) -> Value {
    json!({
        "number": c.line.e164(),
        "caller": c.caller,
        "owner_email": c.owner_email,
        "started_at": rfc3339(c.created_at),
        "final_status": c.final_status,
        "ended_at": c.ended_at.map(rfc3339),
        "duration_seconds": c.duration_seconds,
    })
}

/// A Twilio CallSid: `CA` and 32 hex digits.
fn is_call_sid(id: &str) -> bool {
    id.len() == 34 && id.starts_with("CA") && id[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneNumber;
    use crate::store::CallEventRecord;

    fn request(path: &str) -> Request {
        http::Request::builder()
            .uri(format!("https://example.com{path}"))
            .body(lambda_http::Body::Empty)
            .expect("request")
    }

    #[test]
    fn call_routes_are_told_from_session_routes() {
        assert!(is_call_route(&request("/calls/abc")));
        assert!(is_call_route(&request("/prod/calls/abc")));
        assert!(!is_call_route(&request("/sessions/abc/calls")));
        assert!(!is_call_route(&request("/sessions")));
        assert!(!is_call_route(&request("/sessions/calls")));
    }

    #[test]
    fn a_line_call_renders_its_context_and_events_in_order() {
        let history = CallHistory {
            call_id: "CA00000000000000000000000000000001".into(),
            line_call: Some(LineCall {
                line: PhoneNumber::from_e164("+15551230009").expect("line"),
                caller: "+15551230002".into(),
                owner_email: Some("owner@example.com".into()),
                created_at: 1_795_334_400,
                final_status: Some("completed".into()),
                ended_at: Some(1_795_334_475),
                duration_seconds: Some(75),
            }),
            events: vec![CallEventRecord {
                timestamp: "2026-11-22T08:00:00Z".into(),
                status: "ringing".into(),
                received_at: Some(1_795_334_400),
                session_id: None,
                payload: Some(json!({"CallStatus": "ringing"})),
            }],
        };
        let v = render(&history, None, None, 0);
        assert_eq!(v["provider"], "twilio");
        assert_eq!(v["line"]["number"], "+15551230009");
        assert_eq!(v["line"]["duration_seconds"], 75);
        assert_eq!(v["line"]["ended_at"], "2026-11-22T08:01:15Z");
        assert_eq!(v["session"], Value::Null);
        assert_eq!(v["events"][0]["status"], "ringing");
        assert_eq!(v["events"][0]["payload"]["CallStatus"], "ringing");
    }

    #[test]
    fn the_provider_follows_what_is_known() {
        let bare = |id: &str| CallHistory {
            call_id: id.into(),
            line_call: None,
            events: Vec::new(),
        };
        let v = render(&bare("63f61863-4a51-4f6b-86e1-46edebcf9356"), None, None, 0);
        assert_eq!(v["provider"], "vonage");
        let v = render(&bare("CA0123456789abcdef0123456789abcdef"), None, None, 0);
        assert_eq!(v["provider"], "twilio");
        assert!(!is_call_sid("CAxyz"));
        assert!(!is_call_sid("CA0123456789abcdef0123456789abcdeg"));
    }
}
