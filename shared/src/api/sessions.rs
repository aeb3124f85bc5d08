//! `/sessions`: private voice sessions.
//!
//! - `POST /sessions` `{"participants": [a, b], "ttl_seconds", "provider"}` → 201.
//! - `GET /sessions/{id}` → 200 / 404; `GET /sessions/{id}/calls` → its calls.
//! - `DELETE /sessions/{id}` → 204 (closing twice is harmless), 404.

use http::Method;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::config::MAX_SESSION_TTL_SECONDS;
use crate::core::Core;
use crate::domain::{Provider, Session, SessionStatus};
use crate::http::{empty, json, json_body, path_param, sub_resource, ApiError, HttpResponse};
use crate::phone::PhoneNumber;
use crate::sessions::{self, CreateError, NewSession};
use crate::store::CloseSession;

pub async fn handle(state: &Core, req: Request) -> HttpResponse {
    let id = path_param(&req, "id", "sessions");
    let sub = sub_resource(&req, "sessions");
    let result = match (req.method().clone(), id, sub.as_deref()) {
        (Method::POST, None, _) => create(state, &req).await,
        (Method::GET, Some(id), None) => show(state, &id).await,
        (Method::DELETE, Some(id), None) => close(state, &id).await,
        (Method::GET, Some(id), Some("calls")) => calls(state, &id).await,
        (_, Some(_), Some("calls")) => Err(ApiError::method_not_allowed("GET")),
        (_, Some(_), Some(_)) => Err(ApiError::not_found("no such resource")),
        (_, None, _) => Err(ApiError::method_not_allowed("POST")),
        (_, Some(_), None) => Err(ApiError::method_not_allowed("GET, DELETE")),
    };
    result.unwrap_or_else(ApiError::into_response)
}

#[derive(Deserialize)]
struct CreateSession {
    participants: Option<Value>,
    ttl_seconds: Option<Value>,
    provider: Option<Value>,
}

fn parse_request(body: CreateSession, state: &Core) -> Result<NewSession, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "invalid_participants",
            "participants must be a list of two phone numbers",
        )
    };
    let list = match body.participants {
        Some(Value::Array(list)) if list.len() == 2 => list,
        None => {
            return Err(ApiError::bad_request(
                "missing_participants",
                "participants is required",
            ))
        }
        _ => return Err(invalid()),
    };
    let mut numbers = Vec::with_capacity(2);
    for (i, p) in list.iter().enumerate() {
        // A plain string, or {"number": "..."}.
        let raw = match p {
            Value::String(s) => s.as_str(),
            Value::Object(o) => o
                .get("number")
                .and_then(Value::as_str)
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        let n = PhoneNumber::parse(raw).map_err(|e| {
            ApiError::bad_request("invalid_number", format!("participant {}: {e}", i + 1))
        })?;
        numbers.push(n);
    }
    let (a, b) = (numbers.remove(0), numbers.remove(0));
    if a == b {
        return Err(ApiError::bad_request(
            "identical_participants",
            "the two participants must be different numbers",
        ));
    }
    let ttl_seconds = match body.ttl_seconds {
        None | Some(Value::Null) => state.config.default_session_ttl_seconds,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if (1..=MAX_SESSION_TTL_SECONDS).contains(&t) => t,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_ttl",
                    format!(
                        "ttl_seconds must be a whole number from 1 to {MAX_SESSION_TTL_SECONDS}"
                    ),
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_ttl",
                "ttl_seconds must be a number",
            ))
        }
    };
    let provider = match body.provider {
        None | Some(Value::Null) => state.config.default_provider,
        Some(Value::String(p)) => Provider::parse(&p.to_ascii_lowercase()).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_provider",
                "provider must be \"vonage\" or \"twilio\"",
            )
        })?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_provider",
                "provider must be a string",
            ))
        }
    };
    Ok(NewSession {
        participants: [a, b],
        provider,
        ttl_seconds,
    })
}

async fn create(state: &Core, req: &Request) -> Result<HttpResponse, ApiError> {
    let new = parse_request(json_body(req)?, state)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = state.clock.now();
    match sessions::create(&state.store, new, id, now).await {
        Ok(session) => {
            tracing::info!(session = %session.id, provider = session.provider.as_str(), "session created");
            Ok(json(201, &view(&session, now)))
        }
        Err(CreateError::PoolExhausted { provider, country }) => {
            tracing::warn!(provider, country = %country, "pool exhausted");
            let mut resp = ApiError::new(
                409,
                "pool_exhausted",
                format!("no free {provider} number for a participant in {country}; add numbers to the pool"),
            )
            .into_response();
            // Name the country in a field too, for programs.
            if let lambda_http::Body::Text(text) = resp.body_mut() {
                if let Ok(mut v) = serde_json::from_str::<Value>(text) {
                    v["error"]["country"] = json!(country);
                    *text = v.to_string();
                }
            }
            Ok(resp)
        }
        Err(CreateError::Busy) => Err(ApiError::new(
            503,
            "busy",
            "too many concurrent changes; try again",
        )),
        Err(CreateError::Store(e)) => Err(e.into()),
    }
}

async fn show(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    let session = find(state, id).await?;
    Ok(json(200, &view(&session, state.clock.now())))
}

async fn close(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    if !Session::valid_id(id) {
        return Err(ApiError::not_found("no such session"));
    }
    match state.store.close_session(id, state.clock.now()).await? {
        CloseSession::Closed => {
            tracing::info!(session = %id, "session closed");
            Ok(empty(204))
        }
        CloseSession::AlreadyClosed => Ok(empty(204)),
        CloseSession::NotFound => Err(ApiError::not_found("no such session")),
    }
}

async fn calls(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    find(state, id).await?;
    let calls = state.store.session_calls(id).await?;
    Ok(json(200, &json!({ "calls": calls })))
}

async fn find(state: &Core, id: &str) -> Result<Session, ApiError> {
    if !Session::valid_id(id) {
        return Err(ApiError::not_found("no such session"));
    }
    state
        .store
        .get_session(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such session"))
}

/// The session as the API shows it. An expired session reads as closed,
/// with the reason.
pub fn view(s: &Session, now: i64) -> Value {
    let (status, reason) = match s.status {
        SessionStatus::Closed => ("closed", Some("closed")),
        SessionStatus::Open if now >= s.expires_at => ("closed", Some("expired")),
        SessionStatus::Open => ("open", None),
    };
    let mut v = json!({
        "id": s.id,
        "status": status,
        "provider": s.provider.as_str(),
        "created_at": rfc3339(s.created_at),
        "expires_at": rfc3339(s.expires_at),
        "participants": s.participants,
    });
    if let Some(reason) = reason {
        v["closed_reason"] = json!(reason);
    }
    if let Some(at) = s.closed_at {
        v["closed_at"] = json!(rfc3339(at));
    }
    v
}
