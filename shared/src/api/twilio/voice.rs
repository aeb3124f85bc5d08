//! `POST /twilio/voice`: a number's VoiceUrl. One storage round trip
//! resolves the call (and extends a sliding session): a private-session
//! leg → `<Dial callerId=…>` to the
//! other participant; a masked line → admit against plan and quota (one
//! conditional update that also keeps the call's context by CallSid), then
//! `<Dial action="/twilio/dial-status">` to the owner; else a polite
//! message.

use lambda_http::Request;

use crate::api::http::HttpResponse;
use crate::api::twilio::{
    base, call_flow_denied, call_flow_error, read_form, refuse, route_verified, twiml, TwilioState,
};
use crate::domain::line::CallerIdMode;
use crate::domain::routing::{plan_for, CallPlan, RefuseReason};
use crate::domain::CallContext;
use crate::domain::{Medium, Provider};
use crate::metrics;
use crate::phone::{mask_raw, PhoneNumber};
use crate::store::Admission;
use crate::twilio::twiml::Response;
use crate::twilio::webhook::valid_sid;

pub async fn handle(state: &TwilioState, req: Request) -> HttpResponse {
    let unverified = match read_form(&req) {
        Ok(f) => f,
        Err(e) => return call_flow_error(e),
    };
    let to = unverified
        .peek("To")
        .and_then(|t| PhoneNumber::from_e164(t).ok());
    let from = PhoneNumber::from_e164(unverified.peek("From").unwrap_or("anonymous")).ok();
    let now = state.core.clock.now();
    let numbers = (to.as_ref(), from.as_ref());
    let routed = route_verified(state, &req, unverified, numbers, Medium::Call, now);
    let (form, resolved) = match routed.await {
        Ok(r) => r,
        Err(denied) => return call_flow_denied(denied),
    };
    let Some(call_sid) = form.get("CallSid").filter(|s| valid_sid(s)) else {
        return refused(RefuseReason::BadRequest, None);
    };
    let (Some(to), Some(resolved)) = (to, resolved) else {
        tracing::info!(call = call_sid, "call without a routable number");
        return refused(RefuseReason::BadRequest, None);
    };
    // A withheld caller (`anonymous`) can still reach a masked line.
    let raw_from = form.get("From").unwrap_or("anonymous").to_string();
    let inbound = match resolved {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "storage read failed while answering a call");
            return refused(RefuseReason::TemporarilyUnavailable, None);
        }
    };
    if let CallPlan::Connect {
        to: callee,
        caller_id,
        session_id,
    } = plan_for(inbound.leg, now)
    {
        tracing::info!(call = call_sid, session = %session_id, to = %to.masked(), "connecting session call");
        metrics::call_routed(Provider::Twilio);
        let dial = vec![
            ("callerId", caller_id.e164().to_string()),
            (
                "timeout",
                state.core.config.connect_timeout_seconds.to_string(),
            ),
        ];
        return twiml(Response::new().dial(callee.e164(), dial));
    }
    let Some(line) = inbound.line else {
        tracing::info!(call = call_sid, to = %to.masked(), from = %mask_raw(&raw_from), "no session or line for this call");
        return refused(RefuseReason::NoRoute, None);
    };
    let lang = Some(line.language.as_str());
    if !line.plan.active {
        return refused(RefuseReason::PlanInactive, lang);
    }
    let ctx = CallContext {
        call_sid: call_sid.to_string(),
        line: to.clone(),
        caller: from
            .as_ref()
            .map(|f| f.e164().to_string())
            .unwrap_or_else(|| "anonymous".into()),
        owner_email: line.owner.email.clone(),
        voicemail: line.voicemail.clone(),
        language: line.language.clone(),
        created_at: now,
    };
    let period = line.plan.period.key(now);
    match state
        .core
        .store
        .admit_line_call(&ctx, line.plan.calls_per_period, &period, now)
        .await
    {
        Ok(Admission::Admitted) => {}
        Ok(Admission::QuotaExhausted) => {
            tracing::info!(call = call_sid, line = %to.masked(), period = %period, "quota exhausted");
            return refused(RefuseReason::QuotaExhausted, lang);
        }
        Err(e) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "could not admit a line call");
            return refused(RefuseReason::TemporarilyUnavailable, lang);
        }
    }
    let caller_id = match (line.caller_id, &from) {
        (CallerIdMode::Caller, Some(f)) => f.e164().to_string(),
        _ => to.e164().to_string(),
    };
    tracing::info!(call = call_sid, line = %to.masked(), "forwarding to line owner");
    metrics::call_routed(Provider::Twilio);
    let dial = vec![
        ("timeout", line.dial_timeout_seconds.to_string()),
        (
            "action",
            format!("{}/twilio/dial-status", base(state, &req)),
        ),
        ("callerId", caller_id),
    ];
    twiml(Response::new().dial(line.owner.phone.e164(), dial))
}

/// A call we do not route, counted.
fn refused(reason: RefuseReason, language: Option<&str>) -> HttpResponse {
    metrics::call_refused(Provider::Twilio);
    refuse(reason, language)
}
