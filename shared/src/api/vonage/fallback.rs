//! `GET|POST /vonage/fallback`: the application's `fallback_answer_url`.
//!
//! Vonage calls it when the answer URL failed (the request adds `reason` and
//! `original_request`). It routes like the answer URL, and when storage is
//! unreachable it still answers a valid, apologetic NCCO.

use lambda_http::Request;

use crate::api::http::HttpResponse;
use crate::api::vonage::VonageState;
use crate::api::vonage::{answer_call, OnStoreError};

pub async fn handle(state: &VonageState, req: Request) -> HttpResponse {
    answer_call(state, req, OnStoreError::Apologise).await
}
