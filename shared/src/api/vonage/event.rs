//! `POST /vonage/event`: call events. Each event is kept by call uuid; events
//! of a session's callee leg (their event URL carries `session_id` and its
//! `tag`) also update that session's call list (`GET /sessions/{id}/calls`).

use http::Method;
use lambda_http::Request;

use crate::api::http::{bounded_body, empty, header, query_map, raw_query, ApiError, HttpResponse};
use crate::api::vonage::{verified_secret, VonageState};
use crate::core::Denied;
use crate::domain::Session;
use crate::store::{Claim, EventKept};
use crate::vonage::signature::{session_tag_matches, token_id, MAX_TOKEN_AGE_SECONDS};
use crate::vonage::webhook::{call_event, PayloadError};

pub async fn handle(state: &VonageState, req: Request) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return ApiError::method_not_allowed("POST").into_response();
    }
    let secret = match verified_secret(state, &req).await {
        Ok(secret) => secret,
        Err(denied) => return denied.into_response(),
    };
    // A signed event is taken once: its token is claimed with the event
    // itself, and a replayed token is refused.
    let token = match secret {
        Some(_) => match token_id(header(&req, "authorization"), state.core.clock.now()) {
            Some(token) => Some(token),
            None => return Denied::Unauthorized.into_response(),
        },
        None => None,
    };
    let query = query_map(raw_query(&req));
    let body = match bounded_body(&req) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let parsed = if req.method() == Method::GET {
        serde_json::to_vec(&query)
            .map_err(|_| PayloadError::NotJsonObject)
            .and_then(|b| call_event(&b))
    } else {
        call_event(body)
    };
    let event = match parsed {
        Ok(e) => e,
        Err(e) => return ApiError::bad_request("invalid_event", e.to_string()).into_response(),
    };
    // The session comes from the URL we wrote into the connect action. When
    // webhooks are signed its tag must match, or a replayed event could be
    // attached to someone else's session.
    let session_id = query
        .get("session_id")
        .map(String::as_str)
        .filter(|s| Session::valid_id(s))
        .filter(|s| match secret.as_deref() {
            Some(secret) => query
                .get("tag")
                .is_some_and(|tag| session_tag_matches(secret, s, tag)),
            None => true,
        });
    // Kept a little longer than any token is accepted.
    let claim = token.as_ref().map(|token| Claim {
        token,
        forget_at: token.iat + 2 * MAX_TOKEN_AGE_SECONDS,
    });
    match state
        .core
        .store
        .record_call_event(&event, session_id, claim, state.core.clock.now())
        .await
    {
        Ok(EventKept::Replayed) => {
            tracing::warn!("refused a replayed Vonage event token");
            Denied::Unauthorized.into_response()
        }
        Ok(EventKept::Kept) => {
            tracing::info!(call = %event.uuid, status = %event.status, session = session_id.unwrap_or("-"), "call event");
            empty(200)
        }
        // 5xx makes Vonage send the event again: nothing is lost.
        Err(e) => {
            tracing::error!(call = %event.uuid, error = %crate::telemetry::chain(&e), "could not keep a call event");
            ApiError::unavailable().into_response()
        }
    }
}
