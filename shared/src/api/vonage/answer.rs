//! `GET|POST /vonage/answer`: the Vonage application's answer URL.
//!
//! An active session leg for (dialled number, caller) → a short greeting and
//! a `connect` to the other participant, shown the number that stands for the
//! caller. Anything else → a polite `talk` and the call ends (HTTP 200).
//! Storage down → 503, so Vonage retries and then uses the fallback URL.

use lambda_http::Request;

use crate::api::http::HttpResponse;
use crate::api::vonage::VonageState;
use crate::api::vonage::{answer_call, OnStoreError};

pub async fn handle(state: &VonageState, req: Request) -> HttpResponse {
    answer_call(state, req, OnStoreError::Retry).await
}
