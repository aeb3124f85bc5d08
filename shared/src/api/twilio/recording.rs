//! `POST /twilio/recording`: the `recordingStatusCallback`. It carries only
//! AccountSid, CallSid, RecordingSid, RecordingUrl, RecordingStatus and
//! RecordingDuration (no From/To): the line comes from the call's context.
//! One conditional write, idempotent on RecordingSid, then 200; the worker
//! copies and emails.

use lambda_http::Request;

use crate::api::http::{empty, ApiError, HttpResponse};
use crate::api::twilio::{read_form, TwilioState};
use crate::domain::Voicemail;
use crate::twilio::recordings::recording_url;
use crate::twilio::webhook::valid_sid;

pub async fn handle(state: &TwilioState, req: Request) -> HttpResponse {
    let unverified = match read_form(&req) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    // The call's context is read beside the token fetch (as `/twilio/voice`
    // reads its route); nothing is written or answered from it until the
    // signature is checked.
    let peeked = unverified
        .peek("CallSid")
        .filter(|s| valid_sid(s))
        .map(str::to_string);
    let context = async {
        match &peeked {
            Some(sid) => Some(state.core.store.call_context(sid).await),
            None => None,
        }
    };
    let (fetched, context) = tokio::join!(state.auth_token.get(), context);
    let form = match unverified.verify(state, &req, fetched) {
        Ok(f) => f,
        Err(denied) => return denied.into_response(),
    };
    let (Some(call_sid), Some(recording_sid), Some(url)) = (
        form.get("CallSid").filter(|s| valid_sid(s)),
        form.get("RecordingSid").filter(|s| valid_sid(s)),
        form.get("RecordingUrl"),
    ) else {
        return ApiError::bad_request(
            "invalid_callback",
            "CallSid, RecordingSid and RecordingUrl are required",
        )
        .into_response();
    };
    let status = form.get("RecordingStatus").unwrap_or("completed");
    if status != "completed" {
        tracing::warn!(
            call = call_sid,
            recording = recording_sid,
            status,
            "recording did not complete"
        );
        return empty(200);
    }
    if recording_url(&state.config, url).is_err() {
        tracing::warn!(
            call = call_sid,
            recording = recording_sid,
            "refused a recording URL on a foreign host"
        );
        return ApiError::bad_request(
            "foreign_recording_url",
            "RecordingUrl must be a recording of this account on the Twilio API host",
        )
        .into_response();
    }
    // The signed CallSid is the one peeked at.
    let ctx = match context {
        Some(Ok(Some(ctx))) => ctx,
        Some(Ok(None)) | None => {
            return ApiError::not_found("no line call with this CallSid").into_response()
        }
        Some(Err(e)) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "could not read the call context");
            // 5xx: Twilio retries the callback, so nothing is lost.
            return ApiError::unavailable().into_response();
        }
    };
    let now = state.core.clock.now();
    let duration = form
        .get("RecordingDuration")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let vm = Voicemail::recorded("twilio", recording_sid, call_sid, &ctx, url, duration, now);
    match state.core.store.record_voicemail(&vm, now).await {
        Ok(created) => {
            tracing::info!(call = call_sid, recording = recording_sid, line = %ctx.line.masked(), duplicate = !created, "voicemail recorded");
            empty(200)
        }
        Err(e) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "could not record a voicemail");
            ApiError::unavailable().into_response()
        }
    }
}
