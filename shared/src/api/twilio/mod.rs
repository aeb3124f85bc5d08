//! Twilio voice webhooks (form-encoded): `/twilio/voice`,
//! `/twilio/dial-status`, `/twilio/recording`, `/twilio/transcription`,
//! `/twilio/status`.

pub mod dial_status;
pub mod recording;
pub mod status;
pub mod transcription;
pub mod voice;

use http::Method;
use lambda_http::{Body, Request, Response};

use crate::api::AppState;
use crate::domain::routing::RefuseReason;
use crate::http::{bounded_body, header, public_base_url, raw_query, ApiError, HttpResponse};
use crate::twilio::signature;
use crate::twilio::twiml;
use crate::twilio::webhook::Form;

/// Reads the parameters (POST body, or query for GET), checks the size
/// and, when `TWILIO_AUTH_TOKEN` is set, the signature over the exact
/// public URL. Errors are ready responses: 405, 413, or a bare 401.
pub fn read_verified(state: &AppState, req: &Request) -> Result<Form, ApiError> {
    let form = match *req.method() {
        Method::POST => Form::parse(bounded_body(req)?),
        Method::GET => Form::default(),
        _ => return Err(ApiError::method_not_allowed("POST")),
    };
    let Some(token) = state.config.twilio_auth_token.as_deref() else {
        return Ok(merge_query(form, req));
    };
    let query = raw_query(req);
    let url = format!(
        "{}{}{}{}",
        public_base_url(state.config.public_base_url.as_deref(), req),
        req.uri().path(),
        if query.is_empty() { "" } else { "?" },
        query
    );
    // GET webhooks are signed over the URL alone.
    if signature::verify(token, &url, &form.pairs, header(req, "x-twilio-signature")) {
        Ok(merge_query(form, req))
    } else {
        tracing::warn!(
            path = req.uri().path(),
            "rejected an unsigned or badly signed Twilio webhook"
        );
        Err(ApiError::new(401, "unauthorized", "invalid signature"))
    }
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
/// it is an authentication failure (401) or a wrong method (405).
pub fn call_flow_error(e: ApiError) -> HttpResponse {
    match e.status {
        401 | 405 => e.into_response(),
        _ => refuse(RefuseReason::BadRequest, None),
    }
}

pub fn base(state: &AppState, req: &Request) -> String {
    public_base_url(state.config.public_base_url.as_deref(), req)
}
