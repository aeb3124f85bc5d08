//! `POST /twilio/dial-status`: the `<Dial>` action. Answered → hang up
//! (never voicemail after a real conversation). No answer, busy, failed or
//! canceled → the greeting and `<Record>`; voicemail off → a polite message.
//! Also the `<Record>` action (`?voicemail=done`): goodbye and hang up.

use lambda_http::Request;

use crate::api::http::HttpResponse;
use crate::api::twilio::{
    base, call_flow_denied, call_flow_error, read_form, refuse, twiml, TwilioState,
};
use crate::domain::line::GOODBYE;
use crate::domain::routing::RefuseReason;
use crate::twilio::twiml::Response;
use crate::twilio::webhook::valid_sid;

const UNAVAILABLE: &str =
    "The person you are calling is not available. Please try again later. Goodbye.";

pub async fn handle(state: &TwilioState, req: Request) -> HttpResponse {
    let unverified = match read_form(&req) {
        Ok(f) => f,
        Err(e) => return call_flow_error(e),
    };
    // The call's context is read beside the token fetch, and used only once
    // the signature checks out.
    let needs_context = unverified.peek("voicemail") != Some("done")
        && matches!(
            unverified.peek("DialCallStatus"),
            Some("no-answer" | "busy" | "failed" | "canceled")
        );
    let sid = unverified
        .peek("CallSid")
        .filter(|s| valid_sid(s))
        .map(str::to_string);
    let read = async {
        match (&sid, needs_context) {
            (Some(sid), true) => Some(state.core.store.call_context(sid).await),
            _ => None,
        }
    };
    let (fetched, context) = tokio::join!(state.auth_token.get(), read);
    let form = match unverified.verify(state, &req, fetched) {
        Ok(f) => f,
        Err(denied) => return call_flow_denied(denied),
    };
    if form.get("voicemail") == Some("done") {
        return twiml(Response::new().say(GOODBYE, None).hangup());
    }
    let status = form.get("DialCallStatus").unwrap_or("");
    if matches!(status, "completed" | "answered") {
        return twiml(Response::new().hangup());
    }
    if !matches!(status, "no-answer" | "busy" | "failed" | "canceled") {
        return refuse(RefuseReason::BadRequest, None);
    }
    let Some(call_sid) = form.get("CallSid").filter(|s| valid_sid(s)) else {
        return refuse(RefuseReason::BadRequest, None);
    };
    let ctx = match context {
        Some(Ok(Some(ctx))) => ctx,
        Some(Ok(None)) | None => return refuse(RefuseReason::NoRoute, None),
        Some(Err(e)) => {
            tracing::error!(call = call_sid, error = %crate::telemetry::chain(&e), "could not read the call context");
            return refuse(RefuseReason::TemporarilyUnavailable, None);
        }
    };
    let lang = Some(ctx.language.as_str());
    if !ctx.voicemail.enabled {
        return twiml(Response::new().say(UNAVAILABLE, lang).hangup());
    }
    let base = base(state, &req);
    let mut record = vec![
        (
            "action",
            format!("{base}/twilio/dial-status?voicemail=done"),
        ),
        ("maxLength", ctx.voicemail.max_length_seconds.to_string()),
        ("finishOnKey", "*".to_string()),
        ("playBeep", "true".to_string()),
        ("trim", "trim-silence".to_string()),
        (
            "recordingStatusCallback",
            format!("{base}/twilio/recording"),
        ),
        ("recordingStatusCallbackEvent", "completed".to_string()),
    ];
    if ctx.voicemail.transcribe {
        record.push(("transcribe", "true".to_string()));
        record.push(("transcribeCallback", format!("{base}/twilio/transcription")));
    }
    tracing::info!(call = call_sid, dial_status = status, "taking a voicemail");
    twiml(
        Response::new()
            .say(&ctx.voicemail.greeting, lang)
            .record(record)
            // Only reached when nothing was recorded.
            .say(GOODBYE, lang)
            .hangup(),
    )
}
