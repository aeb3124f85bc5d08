//! Twilio voice webhooks (form-encoded): `/twilio/voice`,
//! `/twilio/dial-status`, `/twilio/recording`, `/twilio/transcription`,
//! `/twilio/status`, and the state their functions build: the table and
//! the auth token, no REST client.

pub mod dial_status;
pub mod recording;
pub mod sms;
pub mod status;
pub mod transcription;
pub mod voice;

use aws_config::SdkConfig;
use http::Method;
use lambda_http::{Body, Request, Response};

use crate::api::http::{bounded_body, header, public_base_url, raw_query, ApiError, HttpResponse};
use crate::aws;
use crate::config::{ConfigError, TwilioConfig};
use crate::core::{signing_secret, Core, Denied};
use crate::domain::routing::RefuseReason;
use crate::domain::Medium;
use crate::phone::PhoneNumber;
use crate::secrets::{Secret, SecretError};
use crate::store::{Inbound, StoreError};
use crate::twilio::signature;
use crate::twilio::twiml;
use crate::twilio::webhook::Form;

/// What a Twilio webhook function holds.
#[derive(Clone, Debug)]
pub struct TwilioState {
    pub core: Core,
    pub config: TwilioConfig,
    pub auth_token: Secret,
}

impl TwilioState {
    /// `function` names the binary in the start-up log; `timeouts` suit its
    /// path ([`aws::CALL_PATH`] while a caller waits, [`aws::BACKGROUND`]
    /// for callbacks).
    pub async fn from_env(function: &str, timeouts: aws::Timeouts) -> Result<Self, ConfigError> {
        let config = TwilioConfig::from_env()?;
        let (core, sdk) = Core::load(timeouts).await?;
        let state = Self::build(core, config, &sdk, timeouts);
        state
            .core
            .announce_signing(function, &state.auth_token, "TWILIO_AUTH_TOKEN_SECRET_ID");
        Ok(state)
    }

    /// `timeouts` for the Secrets Manager client.
    pub fn build(
        core: Core,
        config: TwilioConfig,
        sdk: &SdkConfig,
        timeouts: aws::Timeouts,
    ) -> Self {
        let auth_token = core.twilio_auth_token(&config, sdk, timeouts);
        Self {
            core,
            config,
            auth_token,
        }
    }
}

/// A webhook's parameters, read but not yet verified.
pub struct Unverified {
    /// What the signature covers: the POST body's parameters.
    signed: Vec<(String, String)>,
    /// Those plus the query's (GET webhooks, and ours on action URLs).
    merged: Form,
}

/// The routing request of a call or text to `to` from `from`, with the
/// verified form: the leg read and moved beside the number's META read,
/// one round trip. Warm (the token at hand): verified first. Cold: the
/// token fetched meanwhile, and what the request moved put back if it
/// fails its check.
pub async fn route_verified(
    state: &TwilioState,
    req: &Request,
    unverified: Unverified,
    numbers: (Option<&PhoneNumber>, Option<&PhoneNumber>),
    medium: Medium,
    now: i64,
) -> Result<(Form, Option<Result<Inbound, StoreError>>), Denied> {
    let store = &state.core.store;
    let (to, from) = numbers;
    if let Some(at_hand) = state.auth_token.at_hand() {
        let form = unverified.verify(state, req, Ok(at_hand))?;
        let inbound = match to {
            Some(to) => Some(store.route_inbound(to, from, medium, now, true).await),
            None => None,
        };
        return Ok((form, inbound));
    }
    // Cold: the token fetched while the routing request runs; what that
    // request changed is put back if the request fails its check.
    let routed = async {
        match to {
            Some(to) => Some(store.route_inbound(to, from, medium, now, false).await),
            None => None,
        }
    };
    let (fetched, mut inbound) = tokio::join!(state.auth_token.get(), routed);
    let undo = match &mut inbound {
        Some(Ok(found)) => found.undo.take(),
        _ => None,
    };
    let form = match unverified.verify(state, req, fetched) {
        Ok(form) => form,
        Err(denied) => {
            if let Some(undo) = undo {
                if let Err(e) = store.undo(undo).await {
                    tracing::warn!(error = %crate::telemetry::chain(&e), "could not undo an unverified routing request");
                }
            }
            return Err(denied);
        }
    };
    Ok((form, inbound))
}

/// Reads the parameters (POST body, or nothing for GET) and checks the
/// size. Errors are ready responses: 405 or 413.
pub fn read_form(req: &Request) -> Result<Unverified, ApiError> {
    let form = match *req.method() {
        Method::POST => Form::parse(bounded_body(req)?),
        Method::GET => Form::default(),
        _ => return Err(ApiError::method_not_allowed("POST")),
    };
    Ok(Unverified {
        signed: form.pairs.clone(),
        merged: merge_query(form, req),
    })
}

impl Unverified {
    /// A parameter before the signature is checked: only to start a read
    /// that runs beside the secret fetch, never to decide anything.
    pub fn peek(&self, name: &str) -> Option<&str> {
        self.merged.get(name)
    }

    /// Checks `X-Twilio-Signature` over the exact public URL with the
    /// fetched token (`Ok(None)` from [`signing_secret`] lets it through
    /// unsigned, only when allowed).
    pub fn verify(
        self,
        state: &TwilioState,
        req: &Request,
        fetched: Result<Option<std::sync::Arc<str>>, SecretError>,
    ) -> Result<Form, Denied> {
        let Some(token) = signing_secret(&state.core, fetched)? else {
            return Ok(self.merged);
        };
        let query = raw_query(req);
        let url = format!(
            "{}{}{}{}",
            base(state, req),
            req.uri().path(),
            if query.is_empty() { "" } else { "?" },
            query
        );
        // GET webhooks are signed over the URL alone.
        if signature::verify(
            &token,
            &url,
            &self.signed,
            header(req, "x-twilio-signature"),
        ) {
            Ok(self.merged)
        } else {
            tracing::warn!(
                path = req.uri().path(),
                "rejected an unsigned or badly signed Twilio webhook"
            );
            Err(Denied::Unauthorized)
        }
    }
}

/// A callback that writes before it reads: the token first, then the form.
/// Errors are ready responses (405, 413, 401, 503).
pub async fn read_verified(state: &TwilioState, req: &Request) -> Result<Form, HttpResponse> {
    let form = read_form(req).map_err(ApiError::into_response)?;
    form.verify(state, req, state.auth_token.get().await)
        .map_err(Denied::into_response)
}

/// Query parameters count as parameters too (GET webhooks, and ours on
/// action URLs), after the signature check.
fn merge_query(form: Form, req: &Request) -> Form {
    let query = raw_query(req);
    if query.is_empty() {
        return form;
    }
    let mut body = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &form.pairs {
        body.append_pair(k, v);
    }
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if form.get(&k).is_none() {
            body.append_pair(&k, &v);
        }
    }
    Form::parse(body.finish().as_bytes())
}

pub fn twiml(resp: twiml::Response) -> HttpResponse {
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "text/xml")
        .body(Body::Text(resp.render()))
        .unwrap_or_default()
}

/// A polite message, then hang up.
pub fn refuse(reason: RefuseReason, language: Option<&str>) -> HttpResponse {
    twiml(
        twiml::Response::new()
            .say(reason.message(), language)
            .hangup(),
    )
}

/// For a call-flow webhook, a failed check still answers valid TwiML unless
/// it is an authentication failure (401), a wrong method (405) or a missing
/// secret (503); an unreadable secret apologises as a storage outage does.
pub fn call_flow_error(e: ApiError) -> HttpResponse {
    match e.status {
        401 | 405 => e.into_response(),
        _ => refuse(RefuseReason::BadRequest, None),
    }
}

/// As [`call_flow_error`], for a failed signature check.
pub fn call_flow_denied(d: Denied) -> HttpResponse {
    match d {
        Denied::SecretUnavailable => refuse(RefuseReason::TemporarilyUnavailable, None),
        other => other.into_response(),
    }
}

pub fn base(state: &TwilioState, req: &Request) -> String {
    public_base_url(state.core.config.public_base_url.as_deref(), req)
}
