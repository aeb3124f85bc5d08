//! `POST /vonage/event`: call events. Each event is kept by call uuid; events
//! of a session's callee leg (their event URL carries `session_id`) also
//! update that session's call list (`GET /sessions/{id}/calls`).

use http::Method;
use lambda_http::Request;

use crate::api::vonage::authenticate;
use crate::api::AppState;
use crate::http::{bounded_body, empty, query_map, raw_query, ApiError, HttpResponse};
use crate::vonage::webhook::CallEvent;

pub async fn handle(state: &AppState, req: Request) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return ApiError::method_not_allowed("POST").into_response();
    }
    if let Err(denied) = authenticate(state, &req) {
        return denied.into_response();
    }
    let query = query_map(raw_query(&req));
    let body = match bounded_body(&req) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let parsed = if req.method() == Method::GET {
        serde_json::to_vec(&query)
            .map_err(|_| crate::vonage::webhook::PayloadError::NotJsonObject)
            .and_then(|b| CallEvent::from_json(&b))
    } else {
        CallEvent::from_json(body)
    };
    let event = match parsed {
        Ok(e) => e,
        Err(e) => return ApiError::bad_request("invalid_event", e.to_string()).into_response(),
    };
    let session_id = query
        .get("session_id")
        .map(String::as_str)
        .filter(|s| crate::domain::Session::valid_id(s));
    match state
        .store
        .record_call_event(&event, session_id, state.clock.now())
        .await
    {
        Ok(()) => {
            tracing::info!(call = %event.uuid, status = %event.status, session = session_id.unwrap_or("-"), "call event");
            empty(200)
        }
        // 5xx makes Vonage send the event again: nothing is lost.
        Err(e) => {
            tracing::error!(call = %event.uuid, error = %e, "could not keep a call event");
            ApiError::unavailable().into_response()
        }
    }
}
