//! `POST /twilio/transcription`: the `transcribeCallback`. Attaches the
//! text to the voicemail once (a duplicate changes nothing).

use lambda_http::Request;

use crate::api::http::{empty, ApiError, HttpResponse};
use crate::api::twilio::{read_verified, TwilioState};
use crate::twilio::webhook::valid_sid;

/// Twilio's transcriptions are short; anything longer is cut.
const MAX_TRANSCRIPTION_CHARS: usize = 10_000;

pub async fn handle(state: &TwilioState, req: Request) -> HttpResponse {
    let form = match read_verified(state, &req).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let Some(recording_sid) = form.get("RecordingSid").filter(|s| valid_sid(s)) else {
        return ApiError::bad_request("invalid_callback", "RecordingSid is required")
            .into_response();
    };
    let status = match form.get("TranscriptionStatus") {
        Some(s @ ("completed" | "failed")) => s,
        _ => {
            return ApiError::bad_request(
                "invalid_callback",
                "TranscriptionStatus must be completed or failed",
            )
            .into_response()
        }
    };
    let text: Option<String> = form
        .get("TranscriptionText")
        .filter(|_| status == "completed")
        .map(|t| t.chars().take(MAX_TRANSCRIPTION_CHARS).collect());
    match state
        .core
        .store
        .attach_transcription(
            recording_sid,
            text.as_deref(),
            status,
            state.core.clock.now(),
        )
        .await
    {
        Ok(changed) => {
            tracing::info!(
                recording = recording_sid,
                status,
                duplicate = !changed,
                "transcription received"
            );
            empty(200)
        }
        Err(e) => {
            tracing::error!(recording = recording_sid, error = %crate::telemetry::chain(&e), "could not attach a transcription");
            ApiError::unavailable().into_response()
        }
    }
}
