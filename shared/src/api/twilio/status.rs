//! `POST /twilio/status`: the call's StatusCallback. Logs how the call ended
//! (status, duration) against its line (by CallSid) or its session (by the
//! To/From leg).

use lambda_http::Request;

use crate::api::http::{empty, ApiError, HttpResponse};
use crate::api::twilio::{read_verified, TwilioState};
use crate::domain::CallEvent;
use crate::phone::PhoneNumber;
use crate::twilio::webhook::valid_sid;

pub async fn handle(state: &TwilioState, req: Request) -> HttpResponse {
    let form = match read_verified(state, &req).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let (Some(call_sid), Some(status)) = (
        form.get("CallSid").filter(|s| valid_sid(s)),
        form.get("CallStatus"),
    ) else {
        return ApiError::bad_request("invalid_callback", "CallSid and CallStatus are required")
            .into_response();
    };
    let status: String = status.chars().take(32).collect();
    let duration = form.get("CallDuration").and_then(|d| d.parse::<i64>().ok());
    let now = state.core.clock.now();
    let result = async {
        if state.core.store.finish_line_call(call_sid, &status, duration, now).await? {
            tracing::info!(call = call_sid, status = %status, duration, "line call finished");
            return Ok(());
        }
        let to = form.get("To").and_then(|t| PhoneNumber::from_e164(t).ok());
        let from = form.get("From").and_then(|f| PhoneNumber::from_e164(f).ok());
        if let (Some(to), Some(from)) = (to, from) {
            if let Some(leg) = state.core.store.find_leg(&to, &from).await? {
                let mut raw = serde_json::Map::new();
                for (k, v) in &form.pairs {
                    raw.insert(k.clone(), serde_json::Value::String(v.clone()));
                }
                let event = CallEvent {
                    uuid: call_sid.to_string(),
                    conversation_uuid: None,
                    status: status.clone(),
                    direction: form.get("Direction").map(str::to_string),
                    timestamp: None,
                    duration: duration.map(|d| d.to_string()),
                    raw,
                };
                state
                    .core
                    .store
                    .record_call_event(&event, Some(&leg.session_id), None, now)
                    .await?;
                tracing::info!(call = call_sid, session = %leg.session_id, status = %status, "session call finished");
                return Ok(());
            }
        }
        tracing::info!(call = call_sid, status = %status, "status for a call we do not know");
        Ok::<(), crate::store::StoreError>(())
    }
    .await;
    match result {
        Ok(()) => empty(200),
        Err(e) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "could not record a call status");
            ApiError::unavailable().into_response()
        }
    }
}
