//! `Idempotency-Key` on `POST /numbers/provision`: the first request with a
//! key buys; a retry with the same key and body gets the first answer again
//! (header `Idempotent-Replayed: true`), never a second purchase.

use lambda_http::Request;
use sha2::{Digest, Sha256};

use crate::api::http::{body_bytes, header, ApiError, HttpResponse};
use crate::store::{OrderClaim, Store};

/// The longest key taken (Stripe's and the IETF draft's clients send UUIDs).
const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, when it sent one.
pub fn idempotency_key(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(key) = header(req, "idempotency-key") else {
        return Ok(None);
    };
    let key = key.trim();
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        ));
    }
    Ok(Some(key))
}

/// Claims `key` for this request: `Ok(None)` to go on and buy, or the
/// answer to give instead.
pub async fn begin(
    store: &Store,
    key: &str,
    req: &Request,
    now: i64,
) -> Result<Option<HttpResponse>, ApiError> {
    let hash = hex::encode(Sha256::digest(body_bytes(req)));
    match store.begin_order(key, &hash, now).await {
        Ok(OrderClaim::New) => Ok(None),
        Ok(OrderClaim::Done(status, body)) => Ok(Some(replayed(status, body))),
        Ok(OrderClaim::Running) => Err(ApiError::new(
            409,
            "order_in_progress",
            "a request with this Idempotency-Key is under way or was cut short; the numbers it bought are in GET /numbers",
        )),
        Ok(OrderClaim::OtherRequest) => Err(ApiError::new(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was sent with another request body",
        )),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "could not claim an Idempotency-Key");
            Err(ApiError::unavailable())
        }
    }
}

/// Keeps the answer for the retries (best effort: without it a retry is
/// told the order is under way, and buys nothing).
pub async fn finish(store: &Store, key: &str, status: u16, body: &str) {
    if let Err(e) = store.finish_order(key, status, body).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "could not keep a provisioning answer for its Idempotency-Key");
    }
}

/// Gives the key back: the order bought nothing.
pub async fn abandon(store: &Store, key: &str) {
    if let Err(e) = store.forget_order(key).await {
        tracing::error!(error = %crate::telemetry::chain(&e), "could not give back an Idempotency-Key");
    }
}

fn replayed(status: u16, body: String) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("idempotent-replayed", "true")
        .body(lambda_http::Body::Text(body))
        .unwrap_or_default()
}
