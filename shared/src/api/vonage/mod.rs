//! Vonage voice webhooks: `/vonage/answer`, `/vonage/event`,
//! `/vonage/fallback`, and the state their functions build: the table and
//! the signature secret, nothing else.

pub mod answer;
pub mod audio_answer;
pub mod event;
pub mod fallback;
pub mod inbound_sms;

use std::sync::Arc;

use aws_config::SdkConfig;
use http::Method;
use lambda_http::Request;

use crate::api::http::{
    body_bytes, bounded_body, header, json, public_base_url, raw_query, ApiError, HttpResponse,
};
use crate::aws;
use crate::config::{ConfigError, VonageConfig};
use crate::core::{signing_secret, Core, Denied};
use crate::domain::routing::{plan_for, CallPlan, RefuseReason};
use crate::domain::TokenId;
use crate::domain::{Medium, Provider};
use crate::metrics;
use crate::phone::{mask_raw, PhoneNumber};
use crate::secrets::Secret;
use crate::store::{LegRead, Once};
use crate::vonage::ncco::{self, RenderOptions};
use crate::vonage::signature::{self, session_tag, Payload};
use crate::vonage::webhook::AnswerRequest;

/// What a Vonage webhook function holds.
#[derive(Clone, Debug)]
pub struct VonageState {
    pub core: Core,
    pub config: VonageConfig,
    pub secret: Secret,
}

impl VonageState {
    /// `function` names the binary in the start-up log; `timeouts` suit its
    /// path ([`aws::CALL_PATH`] while a caller waits, [`aws::BACKGROUND`]
    /// for events).
    pub async fn from_env(function: &str, timeouts: aws::Timeouts) -> Result<Self, ConfigError> {
        let config = VonageConfig::from_env()?;
        let (core, sdk) = Core::load(timeouts).await?;
        let state = Self::build(core, config, &sdk, timeouts);
        state
            .core
            .announce_signing(function, &state.secret, "VONAGE_SIGNATURE_SECRET_ID");
        Ok(state)
    }

    /// `timeouts` for the Secrets Manager client.
    pub fn build(
        core: Core,
        config: VonageConfig,
        sdk: &SdkConfig,
        timeouts: aws::Timeouts,
    ) -> Self {
        let secret = core.secret(&config.signature_secret, "signature_secret", sdk, timeouts);
        Self {
            core,
            config,
            secret,
        }
    }
}

/// Checks the signed-webhook JWT against `secret` (already fetched, see
/// [`signing_secret`]). A failure is a bare 401: no detail for whoever sent it.
pub fn authenticate(
    state: &VonageState,
    req: &Request,
    secret: Option<&str>,
) -> Result<(), Denied> {
    let Some(secret) = secret else {
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
        state.core.clock.now(),
        state.config.application_id.as_deref(),
    ) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!(reason = %e, path = req.uri().path(), "rejected an unsigned or badly signed Vonage webhook");
            Err(Denied::Unauthorized)
        }
    }
}

/// What to do when storage (or the secret) cannot be read while answering.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnStoreError {
    /// The answer URL: 503, so Vonage retries and then asks the fallback URL.
    Retry,
    /// The fallback URL: the last chance, so apologise to the caller.
    Apologise,
}

/// Answer or fallback-answer: parse, then the secret and the one storage
/// read side by side (a cold container fetches the secret while the table
/// answers), verify, decide, render.
pub async fn answer_call(
    state: &VonageState,
    req: Request,
    on_store_error: OnStoreError,
) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return ApiError::method_not_allowed("GET, POST").into_response();
    }
    let render = |plan: &CallPlan, secret: Option<&str>| {
        let event_url = match plan {
            CallPlan::Connect { session_id, .. } => {
                let base = public_base_url(state.core.config.public_base_url.as_deref(), &req);
                match secret {
                    Some(secret) => format!(
                        "{base}/vonage/event?session_id={session_id}&tag={}",
                        session_tag(secret, session_id)
                    ),
                    None => format!("{base}/vonage/event?session_id={session_id}"),
                }
            }
            _ => String::new(),
        };
        let opts = RenderOptions {
            greeting: &state.config.greeting_text,
            connect_timeout_seconds: state.core.config.connect_timeout_seconds,
            event_url,
        };
        json(200, &ncco::render(plan, &opts))
    };
    let storage_down = |secret: Option<&str>| match on_store_error {
        OnStoreError::Retry => ApiError::unavailable().into_response(),
        OnStoreError::Apologise => render(
            &CallPlan::Refuse(RefuseReason::TemporarilyUnavailable),
            secret,
        ),
    };
    let params = read_params(&req);
    let numbers = params.as_ref().and_then(|p| {
        Some((
            PhoneNumber::from_e164(p.to.as_deref()?).ok()?,
            PhoneNumber::from_e164(p.from.as_deref()?).ok()?,
        ))
    });
    let now = state.core.clock.now();
    // The routing request: the leg read and moved (a sliding session is
    // extended from now) in one UpdateItem, which also records a signed
    // webhook's token so a replay routes nothing.
    let numbers = &numbers;
    let route = |token: Option<TokenId>| async move {
        let (to, from) = numbers.as_ref()?;
        let once = token.as_ref().map(|token| Once {
            token,
            valid_iats: signature::valid_iats(now),
        });
        Some(
            state
                .core
                .store
                .route_leg(to, from, once.as_ref(), (Medium::Call, now), true)
                .await
                .map(|(read, _)| read),
        )
    };
    let token = signature::token_id(header(&req, "authorization"), now);
    let (secret, found) = match state.secret.at_hand() {
        // Warm (or a secret given as a value): verify first, so only a
        // verified request moves anything.
        Some(at_hand) => {
            let secret = match signing_secret(&state.core, Ok(at_hand)) {
                Ok(secret) => secret,
                Err(denied) => return denied.into_response(),
            };
            if let Err(denied) = authenticate(state, &req, secret.as_deref()) {
                return denied.into_response();
            }
            let found = route(token.filter(|_| secret.is_some())).await;
            (secret, found)
        }
        // Cold: the secret fetched while the routing request runs, so the
        // fetch adds no round trip; what that request changed is put back
        // if the request then fails its check.
        None => {
            let unverified = async {
                let (to, from) = numbers.as_ref()?;
                let once = token.as_ref().map(|token| Once {
                    token,
                    valid_iats: signature::valid_iats(now),
                });
                let store = &state.core.store;
                Some(
                    store
                        .route_leg(to, from, once.as_ref(), (Medium::Call, now), false)
                        .await,
                )
            };
            let (fetched, routed) = tokio::join!(state.secret.get(), unverified);
            let checked = signing_secret(&state.core, fetched).and_then(|secret| {
                authenticate(state, &req, secret.as_deref())?;
                Ok(secret)
            });
            match checked {
                Ok(secret) => (secret, routed.map(|r| r.map(|(read, _)| read))),
                Err(denied) => {
                    if let Some(Ok((_, Some(undo)))) = routed {
                        if let Err(e) = state.core.store.undo(undo).await {
                            tracing::warn!(error = %crate::telemetry::chain(&e), "could not undo an unverified routing request");
                        }
                    }
                    return match denied {
                        Denied::SecretUnavailable => storage_down(None),
                        denied => denied.into_response(),
                    };
                }
            }
        }
    };
    let secret = secret.as_deref();
    let (Some(params), Some((to, from)), Some(found)) = (params, numbers.as_ref(), found) else {
        return refuse_unroutable(&req, render);
    };
    let call = params.uuid.as_deref().unwrap_or("-");
    let plan = match found {
        Ok(LegRead::Leg(leg)) => plan_for(leg, now),
        Ok(LegRead::Replayed) => {
            tracing::warn!(call, "refused a replayed Vonage webhook token");
            return Denied::Unauthorized.into_response();
        }
        Err(e) => {
            tracing::error!(call, error = %crate::telemetry::chain(&e), "storage read failed while answering a call");
            return storage_down(secret);
        }
    };
    match &plan {
        CallPlan::Connect { session_id, .. } => {
            tracing::info!(call, session = %session_id, to = %to.masked(), from = %from.masked(), "connecting session call");
            metrics::call_routed(Provider::Vonage);
        }
        other => {
            tracing::info!(call, to = %to.masked(), from = %from.masked(), plan = ?other, "refusing call");
            metrics::call_refused(Provider::Vonage);
        }
    }
    render(&plan, secret)
}

/// A verified request we cannot route (no number, a Client SDK user, a bad
/// body): logged without the numbers, and a polite refusal.
fn refuse_unroutable(
    req: &Request,
    render: impl Fn(&CallPlan, Option<&str>) -> HttpResponse,
) -> HttpResponse {
    let params = read_params(req).unwrap_or_default();
    tracing::info!(
        call = params.uuid.as_deref().unwrap_or("-"),
        to = %params.to.as_deref().map(mask_raw).unwrap_or_default(),
        from = %params.from.as_deref().map(mask_raw).unwrap_or_default(),
        client_user = params.from_user.is_some(),
        "call without a routable caller or number"
    );
    metrics::call_refused(Provider::Vonage);
    render(&CallPlan::Refuse(RefuseReason::BadRequest), None)
}

/// GET: the query. POST: the JSON body only; the query of a POST is not
/// covered by the signature, so nothing is taken from it.
pub(crate) fn read_params(req: &Request) -> Option<AnswerRequest> {
    if req.method() == Method::GET {
        return Some(AnswerRequest::from_query(raw_query(req)));
    }
    AnswerRequest::from_json(bounded_body(req).ok()?).ok()
}

/// The signing secret of a Vonage webhook that is not on the call path
/// (events): fetched first, since the handler writes.
pub async fn verified_secret(
    state: &VonageState,
    req: &Request,
) -> Result<Option<Arc<str>>, Denied> {
    let secret = signing_secret(&state.core, state.secret.get().await)?;
    authenticate(state, req, secret.as_deref())?;
    Ok(secret)
}
