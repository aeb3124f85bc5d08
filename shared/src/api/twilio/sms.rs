//! `POST /twilio/sms`: a number's SmsUrl. One storage read (the same
//! BatchGetItem as a call) finds the session leg or the masked line:
//!
//! - a session participant texting their proxy number: the text goes to the
//!   other participant from *their* proxy number, as a TwiML `<Message>`
//!   (no REST call), once per MessageSid (one conditional write);
//! - a masked line: forwarded to the owner's phone from the line, prefixed
//!   with the sender's number, counted against the plan's quota like a call,
//!   and emailed when the line's `sms.email` is on (queued in the same
//!   write, sent by the voicemail worker);
//! - anything else: `OUT_OF_SESSION_SMS_TEXT` back to the sender, or nothing.

use lambda_http::Request;

use crate::api::auto_reply::may_reply;
use crate::api::http::{ApiError, HttpResponse};
use crate::api::twilio::{read_form, route_verified, twiml, TwilioState};
use crate::config::{ConfigError, MessagingConfig};
use crate::core::Denied;
use crate::domain::text::{plan_text, InboundText, LineText, TextPlan};
use crate::domain::MessageRecord;
use crate::domain::{Medium, Provider};
use crate::phone::PhoneNumber;
use crate::store::LineMessage;
use crate::twilio::twiml::Response;
use crate::twilio::webhook::valid_sid;
use crate::usecases::relay::{self, Relayed};

/// Twilio delivers at most 1600 characters in one inbound message; anything
/// longer did not come from Twilio.
pub const MAX_TEXT_CHARS: usize = 1600;

/// What `twilio-sms` holds: the Twilio webhook state and the messaging
/// settings. No SES client: a line text to email is queued in the same
/// write that counts it, and the voicemail worker sends it.
#[derive(Clone, Debug)]
pub struct SmsState {
    pub twilio: TwilioState,
    pub messaging: MessagingConfig,
}

impl SmsState {
    pub async fn from_env(
        function: &str,
        timeouts: crate::aws::Timeouts,
    ) -> Result<Self, ConfigError> {
        let messaging = MessagingConfig::from_env()?;
        let twilio = TwilioState::from_env(function, timeouts).await?;
        Ok(Self::build(twilio, messaging))
    }

    pub fn build(twilio: TwilioState, messaging: MessagingConfig) -> Self {
        Self { twilio, messaging }
    }
}

/// An empty answer: Twilio sends nothing.
fn nothing() -> HttpResponse {
    twiml(Response::new())
}

pub async fn handle(state: &SmsState, req: Request) -> HttpResponse {
    let t = &state.twilio;
    let unverified = match read_form(&req) {
        Ok(f) => f,
        // 405 and 413 as they are; nothing is relayed.
        Err(e) => return e.into_response(),
    };
    let to = unverified
        .peek("To")
        .and_then(|v| PhoneNumber::from_e164(v).ok());
    let from = unverified
        .peek("From")
        .and_then(|v| PhoneNumber::from_e164(v).ok());
    let now = t.core.clock.now();
    // Without both numbers nothing is read.
    let numbers = match (&to, &from) {
        (Some(to), Some(from)) => (Some(to), Some(from)),
        _ => (None, None),
    };
    let (form, resolved) =
        match route_verified(t, &req, unverified, numbers, Medium::Text, now).await {
            Ok(r) => r,
            // Twilio retries a 503 later: nothing is lost while the token is unreadable.
            Err(Denied::SecretUnavailable) => return ApiError::unavailable().into_response(),
            Err(d) => return d.into_response(),
        };
    let Some(sid) = form.get("MessageSid").filter(|s| valid_sid(s)) else {
        return ApiError::bad_request("invalid_message", "MessageSid is required").into_response();
    };
    let (Some(to), Some(from)) = (to, from) else {
        tracing::info!(message = sid, "text without routable numbers");
        return ApiError::bad_request("invalid_message", "To and From must be phone numbers")
            .into_response();
    };
    // The raw value: a body may be all spaces.
    let body = form
        .pairs
        .iter()
        .find(|(k, _)| k == "Body")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let length = body.chars().count();
    if length > MAX_TEXT_CHARS {
        tracing::warn!(
            message = sid,
            length,
            "text longer than Twilio delivers: not relayed"
        );
        return ApiError::new(
            413,
            "text_too_long",
            "the text is longer than 1600 characters",
        )
        .into_response();
    }
    let inbound = match resolved {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            tracing::error!(message = sid, error = %crate::telemetry::chain(&e), "storage read failed for a text");
            // 503: Twilio retries, the text is not lost.
            return ApiError::unavailable().into_response();
        }
        None => return nothing(),
    };
    let text = InboundText {
        message_id: sid,
        to: &to,
        from: &from,
        body,
        now,
    };
    let plan = plan_text(
        &text,
        inbound.leg.as_ref(),
        inbound.line.as_ref(),
        &state.messaging.out_of_session_sms_text,
    );
    match plan {
        TextPlan::Relay {
            session_id,
            to,
            from,
            direction,
        } => {
            let record = MessageRecord {
                message_id: sid.to_string(),
                provider: Provider::Twilio,
                direction,
                at: now,
                status: "relayed".into(),
                length,
                body: state
                    .messaging
                    .store_message_bodies
                    .then(|| body.to_string()),
            };
            match relay::claim(&t.core.store, &session_id, &record).await {
                Relayed::Answer => twiml(Response::new().message(
                    body,
                    vec![
                        ("to", to.e164().to_string()),
                        ("from", from.e164().to_string()),
                    ],
                )),
                Relayed::Unavailable => ApiError::unavailable().into_response(),
                _ => nothing(),
            }
        }
        TextPlan::ToLine(to_line) => line_text(state, sid, &to_line, now).await,
        TextPlan::LineInactive => {
            tracing::info!(message = sid, line = %to.masked(), "text to an inactive line");
            nothing()
        }
        TextPlan::OutOfSession { reply } => {
            tracing::info!(message = sid, to = %to.masked(), from = %from.masked(), "text outside any session or line");
            match reply {
                Some(reply)
                    if may_reply(&t.core.store, &state.messaging, &to, &from, now).await =>
                {
                    twiml(Response::new().message(&reply, vec![]))
                }
                _ => nothing(),
            }
        }
    }
}

async fn line_text(state: &SmsState, sid: &str, text: &LineText, now: i64) -> HttpResponse {
    let LineText {
        owner,
        line,
        forwarded,
        calls_per_period,
        period,
        email,
    } = text;
    let admitted = state
        .twilio
        .core
        .store
        .admit_line_message(line, sid, *calls_per_period, period, now, email.as_ref())
        .await;
    match admitted {
        Ok(LineMessage::Admitted) => {}
        Ok(LineMessage::Duplicate) => {
            tracing::info!(message = sid, "a text delivered twice: forwarded once");
            return nothing();
        }
        Ok(LineMessage::QuotaExhausted) => {
            tracing::info!(message = sid, line = %line.masked(), period = %period, "quota exhausted: text not forwarded");
            return nothing();
        }
        Err(e) => {
            tracing::error!(message = sid, error = %crate::telemetry::chain(&e), "could not admit a text to a line");
            return ApiError::unavailable().into_response();
        }
    }
    tracing::info!(message = sid, line = %line.masked(), "forwarding a text to the line owner");
    twiml(Response::new().message(
        forwarded,
        vec![
            ("to", owner.e164().to_string()),
            ("from", line.e164().to_string()),
        ],
    ))
}
