//! Vonage voice webhooks: `/vonage/answer`, `/vonage/event`, `/vonage/fallback`.

pub mod answer;
pub mod event;
pub mod fallback;

use http::Method;
use lambda_http::Request;

use crate::api::AppState;
use crate::domain::routing::{plan_for, CallPlan, RefuseReason};
use crate::http::{
    body_bytes, header, json, public_base_url, raw_query, ApiError, HttpResponse, MAX_BODY_BYTES,
};
use crate::phone::{mask_raw, PhoneNumber};
use crate::vonage::ncco::{self, RenderOptions};
use crate::vonage::signature::{self, Payload};
use crate::vonage::webhook::AnswerRequest;

/// Verifies the signed-webhook JWT when a signature secret is configured.
/// A failure is a bare 401: no detail for whoever sent it.
pub fn authenticate(state: &AppState, req: &Request) -> Result<(), ApiError> {
    let Some(secret) = state.config.vonage_signature_secret.as_deref() else {
        return Ok(());
    };
    let payload = if req.method() == Method::GET {
        Payload::Query(raw_query(req))
    } else {
        Payload::Body(body_bytes(req))
    };
    match signature::verify(
        secret,
        header(req, "authorization"),
        payload,
        state.clock.now(),
    ) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(reason = %e, path = req.uri().path(), "rejected an unsigned or badly signed Vonage webhook");
            Err(ApiError::new(401, "unauthorized", "invalid signature"))
        }
    }
}

/// What to do when storage cannot be read while answering a call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnStoreError {
    /// The answer URL: 503, so Vonage retries and then asks the fallback URL.
    Retry,
    /// The fallback URL: the last chance, so apologise to the caller.
    Apologise,
}

/// Answer or fallback-answer: parse, verify, one storage read, decide, render.
pub async fn answer_call(
    state: &AppState,
    req: Request,
    on_store_error: OnStoreError,
) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return ApiError::method_not_allowed("GET, POST").into_response();
    }
    if let Err(denied) = authenticate(state, &req) {
        return denied.into_response();
    }
    let render = |plan: &CallPlan| {
        let event_url = match plan {
            CallPlan::Connect { session_id, .. } => format!(
                "{}/vonage/event?session_id={session_id}",
                public_base_url(state.config.public_base_url.as_deref(), &req)
            ),
            _ => String::new(),
        };
        let opts = RenderOptions {
            greeting: &state.config.greeting_text,
            connect_timeout_seconds: state.config.connect_timeout_seconds,
            event_url,
        };
        json(200, &ncco::render(plan, &opts))
    };
    let params = match read_params(&req) {
        Some(p) => p,
        None => return render(&CallPlan::Refuse(RefuseReason::BadRequest)),
    };
    let call = params.uuid.as_deref().unwrap_or("-").to_string();
    let (Some(to), Some(from)) = (
        params
            .to
            .as_deref()
            .and_then(|t| PhoneNumber::parse(t).ok()),
        params
            .from
            .as_deref()
            .and_then(|f| PhoneNumber::parse(f).ok()),
    ) else {
        tracing::info!(
            call = %call,
            to = %params.to.as_deref().map(mask_raw).unwrap_or_default(),
            from = %params.from.as_deref().map(mask_raw).unwrap_or_default(),
            client_user = params.from_user.is_some(),
            "call without a routable caller or number"
        );
        return render(&CallPlan::Refuse(RefuseReason::BadRequest));
    };
    let now = state.clock.now();
    let plan = match state.store.find_leg(&to, &from).await {
        Ok(leg) => plan_for(leg, now),
        Err(e) => {
            tracing::error!(call = %call, error = %e, "storage read failed while answering a call");
            return match on_store_error {
                OnStoreError::Retry => ApiError::unavailable().into_response(),
                OnStoreError::Apologise => {
                    render(&CallPlan::Refuse(RefuseReason::TemporarilyUnavailable))
                }
            };
        }
    };
    match &plan {
        CallPlan::Connect { session_id, .. } => {
            tracing::info!(call = %call, session = %session_id, to = %to.masked(), from = %from.masked(), "connecting session call")
        }
        other => {
            tracing::info!(call = %call, to = %to.masked(), from = %from.masked(), plan = ?other, "refusing call")
        }
    }
    render(&plan)
}

/// GET: the query. POST: a JSON body (or, if empty, the query).
fn read_params(req: &Request) -> Option<AnswerRequest> {
    let body = body_bytes(req);
    if req.method() == Method::GET || body.iter().all(u8::is_ascii_whitespace) {
        return Some(AnswerRequest::from_query(raw_query(req)));
    }
    if body.len() > MAX_BODY_BYTES {
        return None;
    }
    AnswerRequest::from_json(body).ok()
}
