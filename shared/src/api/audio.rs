//! `/audio/recordings`: calls recorded by the audio socket (record mode).
//!
//! - `GET /audio/recordings?limit=N&before=CURSOR` → newest first:
//!   `{"recordings": [...], "next": CURSOR | null}` (limit 1..100, 50).
//! - `GET /audio/recordings/{call_uuid}` → the call's (latest) recording:
//!   200 `{"call_uuid", "recorded_at", "duration_seconds",
//!   "recording_link", ...}` with a presigned link, 404 until it exists.

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::{json, path_param, query_map, raw_query, ApiError, HttpResponse};
use crate::api::RecordingsState;
use crate::audio::valid_call_id;
use crate::clock::rfc3339;
use crate::domain::AudioRecording;
use crate::store::valid_cursor;

/// Links in answers work this long.
const LINK_SECONDS: u64 = 3600;
const DEFAULT_LIMIT: i32 = 50;
const MAX_LIMIT: i32 = 100;

pub async fn handle(state: &RecordingsState, req: Request) -> HttpResponse {
    if req.method() != Method::GET {
        return ApiError::method_not_allowed("GET").into_response();
    }
    let result = match path_param(&req, "call_uuid", "recordings") {
        None => list(state, &req).await,
        Some(call_uuid) => show(state, &call_uuid).await,
    };
    result.unwrap_or_else(ApiError::into_response)
}

async fn list(state: &RecordingsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let query = query_map(raw_query(req));
    let limit = match query.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<i32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_limit",
                    format!("limit: a whole number from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let before = query.get("before").map(String::as_str);
    if before.is_some_and(|c| !valid_cursor(c)) {
        return Err(ApiError::bad_request(
            "invalid_cursor",
            "before: pass the `next` of the previous page",
        ));
    }
    let page = state.core.store.audio_recordings(limit, before).await?;
    let mut out = Vec::with_capacity(page.recordings.len());
    for rec in &page.recordings {
        out.push(view(state, rec).await);
    }
    Ok(json(200, &json!({"recordings": out, "next": page.next})))
}

async fn show(state: &RecordingsState, call_uuid: &str) -> Result<HttpResponse, ApiError> {
    if !valid_call_id(call_uuid) {
        return Err(ApiError::bad_request(
            "invalid_call_uuid",
            "call_uuid: 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    match state.core.store.audio_recording(call_uuid).await? {
        Some(rec) => Ok(json(200, &view(state, &rec).await)),
        None => Err(ApiError::not_found(format!(
            "no recording for call {call_uuid}"
        ))),
    }
}

async fn view(state: &RecordingsState, rec: &AudioRecording) -> Value {
    let link = state
        .recordings
        .presign(&rec.s3_key, LINK_SECONDS)
        .await
        .ok();
    json!({
        "call_uuid": rec.call_uuid,
        "conversation_uuid": rec.conversation_uuid,
        "recorded_at": rfc3339(rec.recorded_at_ms.div_euclid(1000)),
        "duration_seconds": rec.duration_ms as f64 / 1000.0,
        "sample_rate": rec.sample_rate,
        "truncated": rec.truncated,
        "recording_link": link,
    })
}
