//! `GET /voicemails/{recording_sid}/recording?token=...`: the link a
//! voicemail email carries. Public (the owner clicks it in a mail client):
//! the token is the credential, 244 random bits whose SHA-256 the
//! voicemail keeps with the link's expiry (`RECORDING_LINK_TTL_SECONDS`
//! from the email). Each click checks both and answers a redirect to an S3
//! URL presigned there and then for a few minutes.
//!
//! Why not email a presigned S3 URL: Lambda signs with its role's
//! temporary credentials, and a presigned URL stops working when their
//! session ends (at most 12 hours, often 1), whatever expiry it states.
//! Signing here, at the click, needs no long-lived access key anywhere,
//! and the link keeps working for as long as the email says.
//!
//! - 302 to the recording; 404 for an unknown voicemail or a wrong token
//!   (the same answer: nothing to probe); 410 once the link has expired.

use lambda_http::Request;

use crate::api::http::{path_param, query_map, raw_query, ApiError, HttpResponse};
use crate::api::RecordingsState;
use crate::domain::voicemail::link_token_hash;

/// The redirect's presigned URL works this long: the browser follows it
/// at once.
const CLICK_LINK_SECONDS: u64 = 300;

pub async fn handle(state: &RecordingsState, req: &Request) -> HttpResponse {
    link(state, req)
        .await
        .unwrap_or_else(ApiError::into_response)
}

fn unknown() -> ApiError {
    ApiError::not_found("no such recording link")
}

fn plausible(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

async fn link(state: &RecordingsState, req: &Request) -> Result<HttpResponse, ApiError> {
    if req.method() != http::Method::GET {
        return Err(ApiError::method_not_allowed("GET"));
    }
    let sid = path_param(req, "recording_sid", "voicemails").ok_or_else(unknown)?;
    let token = query_map(raw_query(req))
        .remove("token")
        .ok_or_else(unknown)?;
    if !plausible(&sid, 64) || !plausible(&token, 128) {
        return Err(unknown());
    }
    let stored = state
        .core
        .store
        .voicemail_link(&sid)
        .await?
        .ok_or_else(unknown)?;
    let given = link_token_hash(&token);
    // Compared in the same time wherever they differ.
    let same = given.len() == stored.token_hash.len()
        && given
            .bytes()
            .zip(stored.token_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        tracing::warn!(voicemail = %sid, "a recording link with a wrong token");
        return Err(unknown());
    }
    if state.core.clock.now() >= stored.expires_at {
        return Err(ApiError::new(
            410,
            "link_expired",
            "this link has expired; the line's voicemail list (GET /lines/{number}/voicemails) has the recording",
        ));
    }
    let url = state
        .recordings
        .presign(&stored.s3_key, CLICK_LINK_SECONDS)
        .await
        .map_err(|e| {
            tracing::error!(voicemail = %sid, error = %crate::telemetry::chain(&e), "could not presign a recording link");
            ApiError::unavailable()
        })?;
    tracing::info!(voicemail = %sid, "recording link followed");
    Ok(http::Response::builder()
        .status(302)
        .header(http::header::LOCATION, url)
        // The presigned URL is a credential of its own for five minutes.
        .header(http::header::CACHE_CONTROL, "no-store")
        .header("referrer-policy", "no-referrer")
        .body(lambda_http::Body::Empty)
        .unwrap_or_default())
}
