//! `GET|POST /vonage/inbound-sms`: a Vonage number's inbound SMS webhook
//! (SMS API: query string, form or JSON; `msisdn`, `to`, `text`,
//! `messageId`, `type`, `concat-*`). A participant texting their proxy
//! number reaches the other participant through the SMS API, from the
//! number that stands for the sender: one storage read (the leg, as for a
//! call) and one conditional write (the message, so a delivery Vonage
//! repeats is relayed once).
//!
//! Long messages arrive in parts (`concat-ref`, `concat-total`,
//! `concat-part`), each with its own `messageId`: each part is relayed as it
//! comes, so none waits for a part that may never arrive and none is
//! dropped; the phone shows them as consecutive texts.
//!
//! Signed with `sig` (`VONAGE_SMS_SIGNATURE_METHOD`) whenever a signature
//! secret is configured: a missing or wrong one is 401, and so is a
//! signature `timestamp` further from now than
//! `VONAGE_SMS_SIGNATURE_MAX_AGE_SECONDS` (a replay).

use std::sync::Arc;

use http::Method;
use lambda_http::Request;

use crate::api::auto_reply::may_reply;
use crate::api::http::{bounded_body, empty, header, raw_query, ApiError, HttpResponse};
use crate::config::{ConfigError, MessagingConfig, VonageConfig};
use crate::core::{signing_secret, Core, Denied};
use crate::domain::text::{plan_text, InboundText, TextPlan};
use crate::domain::Medium;
use crate::domain::MessageRecord;
use crate::domain::Provider;
use crate::phone::PhoneNumber;
use crate::providers::VonageSms;
use crate::secrets::Secret;
use crate::store::LegRead;
use crate::usecases::relay::{relay, Relayed, Route};
use crate::vonage::sms_signature;

/// Longest text relayed: a concatenated part is at most 160 GSM characters,
/// a whole message at most a few parts; anything far longer is not Vonage.
pub const MAX_TEXT_CHARS: usize = 1600;

/// What `vonage-inbound-sms` holds.
#[derive(Debug, Clone)]
pub struct InboundSmsState {
    pub core: Core,
    pub secret: Secret,
    /// Vonage's SMS API (no Twilio client is linked in this function).
    pub sms: VonageSms,
    pub messaging: MessagingConfig,
}

impl InboundSmsState {
    pub async fn from_env(
        function: &str,
        timeouts: crate::aws::Timeouts,
    ) -> Result<Self, ConfigError> {
        let vonage = VonageConfig::from_env()?;
        let messaging = MessagingConfig::from_env()?;
        let (core, sdk) = Core::load(timeouts).await?;
        let secret = core.secret(&vonage.signature_secret, "signature_secret", &sdk, timeouts);
        core.announce_signing(function, &secret, "VONAGE_SIGNATURE_SECRET_ID");
        let sms = VonageSms::build(&core, &messaging, &vonage, &sdk, timeouts);
        Ok(Self {
            core,
            secret,
            sms,
            messaging,
        })
    }
}

/// The webhook's parameters as sent, whatever the encoding.
pub fn read_params(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let form = |b: &[u8]| {
        url::form_urlencoded::parse(b)
            .into_owned()
            .collect::<Vec<(String, String)>>()
    };
    match *req.method() {
        Method::GET => Ok(form(raw_query(req).as_bytes())),
        Method::POST => {
            let body = bounded_body(req)?;
            let json = header(req, "content-type")
                .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
            if !json {
                return Ok(form(body));
            }
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|_| ApiError::bad_request("invalid_json", "the body is not JSON"))?;
            let obj = value.as_object().ok_or_else(|| {
                ApiError::bad_request("invalid_json", "the body must be a JSON object")
            })?;
            Ok(obj
                .iter()
                .filter_map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((k.clone(), v))
                })
                .collect())
        }
        _ => Err(ApiError::method_not_allowed("GET, POST")),
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The signature and its freshness, with the fetched secret.
fn verified(
    state: &InboundSmsState,
    params: &[(String, String)],
    fetched: Result<Option<Arc<str>>, crate::secrets::SecretError>,
) -> Result<(), Denied> {
    let Some(secret) = signing_secret(&state.core, fetched)? else {
        return Ok(());
    };
    if !sms_signature::verify(params, &secret, state.messaging.sms_signature_method) {
        tracing::warn!("rejected an unsigned or badly signed Vonage inbound SMS");
        return Err(Denied::Unauthorized);
    }
    // A good signature is good forever: its timestamp bounds when the
    // request may be presented, so a captured one cannot be replayed
    // (each replay of a text outside any session was a reply we paid for).
    let max_age = state.messaging.sms_signature_max_age_seconds;
    if !sms_signature::fresh(params, state.core.clock.now(), max_age) {
        tracing::warn!("rejected a Vonage inbound SMS signed too long ago or in the future");
        return Err(Denied::Unauthorized);
    }
    Ok(())
}

pub async fn handle(state: &InboundSmsState, req: Request) -> HttpResponse {
    let params = match read_params(&req) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    // The routing read starts beside the secret fetch; nothing is decided
    // from it until the signature is checked. Vonage writes numbers as
    // E.164 digits without `+`.
    let number = |name: &str| {
        param(&params, name)
            .map(str::trim)
            .and_then(|v| PhoneNumber::from_e164(&format!("+{}", v.trim_start_matches('+'))).ok())
    };
    let (to, from) = (number("to"), number("msisdn"));
    // The routing request (which also extends a sliding session) runs
    // beside the secret fetch; what it changed is put back if the request
    // fails its check.
    let now = state.core.clock.now();
    let routed = async {
        match (&to, &from) {
            (Some(to), Some(from)) => Some(
                state
                    .core
                    .store
                    .route_leg(to, from, None, (Medium::Text, now), false)
                    .await,
            ),
            _ => None,
        }
    };
    let (fetched, routed) = tokio::join!(state.secret.get(), routed);
    let (leg, undo) = match routed {
        Some(Ok((LegRead::Leg(leg), undo))) => (Some(Ok(leg)), undo),
        Some(Ok((LegRead::Replayed, undo))) => (Some(Ok(None)), undo),
        Some(Err(e)) => (Some(Err(e)), None),
        None => (None, None),
    };
    if let Err(denied) = verified(state, &params, fetched) {
        if let Some(undo) = undo {
            if let Err(e) = state.core.store.undo(undo).await {
                tracing::warn!(error = %crate::telemetry::chain(&e), "could not undo an unverified routing request");
            }
        }
        return denied.into_response();
    }
    let Some(message_id) = param(&params, "messageId").map(str::trim).filter(|id| {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) else {
        return ApiError::bad_request("invalid_message", "messageId is required").into_response();
    };
    let (Some(to), Some(from)) = (to, from) else {
        return ApiError::bad_request("invalid_message", "msisdn and to must be phone numbers")
            .into_response();
    };
    // Binary messages (ringtones, WAP) are not texts to relay.
    let kind = param(&params, "type").unwrap_or("text");
    if !matches!(kind, "text" | "unicode") {
        tracing::info!(message = message_id, kind, "not a text: not relayed");
        return empty(200);
    }
    let text = param(&params, "text").unwrap_or("");
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        tracing::warn!(message = message_id, length, "text too long: not relayed");
        return ApiError::new(
            413,
            "text_too_long",
            "the text is longer than 1600 characters",
        )
        .into_response();
    }
    let leg = match leg {
        Some(Ok(leg)) => leg,
        Some(Err(e)) => {
            tracing::error!(message = message_id, error = %crate::telemetry::chain(&e), "storage read failed for a text");
            // 5xx: Vonage delivers it again, nothing is lost.
            return ApiError::unavailable().into_response();
        }
        None => None,
    };
    let inbound = InboundText {
        message_id,
        to: &to,
        from: &from,
        body: text,
        now,
    };
    // Vonage numbers are not lines (yet): the leg or nothing.
    let plan = plan_text(
        &inbound,
        leg.as_ref(),
        None,
        &state.messaging.out_of_session_sms_text,
    );
    let TextPlan::Relay {
        session_id,
        to: callee,
        from: caller_id,
        direction,
    } = plan
    else {
        tracing::info!(message = message_id, to = %to.masked(), from = %from.masked(), "text outside any session");
        if let TextPlan::OutOfSession { reply: Some(reply) } = plan {
            if !may_reply(&state.core.store, &state.messaging, &to, &from, now).await {
                return empty(200);
            }
            if let Err(e) = state.sms.send(&to, &from, &reply).await {
                tracing::warn!(message = message_id, error = %crate::telemetry::chain(&e), "could not answer a text outside any session");
            }
        }
        return empty(200);
    };
    let record = MessageRecord {
        message_id: message_id.to_string(),
        provider: Provider::Vonage,
        direction,
        at: now,
        // The relay writes `sending`, then `sent` once it went out.
        status: "sending".into(),
        length,
        body: state
            .messaging
            .store_message_bodies
            .then(|| text.to_string()),
    };
    let route = Route {
        session_id: &session_id,
        to: &callee,
        from: &caller_id,
        text,
    };
    match relay(&state.core.store, &state.sms, route, &record).await {
        Relayed::Sent | Relayed::Duplicate | Relayed::Refused | Relayed::Answer => empty(200),
        Relayed::Unavailable => ApiError::unavailable().into_response(),
        Relayed::Retry => ApiError::new(
            503,
            "provider_unavailable",
            "the text could not be relayed yet",
        )
        .into_response(),
    }
}
