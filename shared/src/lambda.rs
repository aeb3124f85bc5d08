//! What each function binary's `main` calls: logs, settings and clients are
//! set up once per cold start, then every invocation goes to the handler.

use std::convert::Infallible;

use lambda_http::{service_fn, Request};

use crate::api::{AppState, Function};

pub async fn run(function: Function) -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let state = AppState::from_env().await?;
    warn_if_unsigned(&state, function);
    // The state lives as long as the process: leak it to get 'static.
    let state: &'static AppState = Box::leak(Box::new(state));
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(function.handle(state, req).await)
    }))
    .await
}

/// The voicemail worker: DynamoDB stream records of voicemails (new, or a
/// transcription arrived) and scheduled sweeps of everything due.
pub async fn run_voicemail_worker() -> Result<(), lambda_runtime::Error> {
    crate::telemetry::init();
    let state = AppState::from_env().await?;
    let state: &'static AppState = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            crate::voicemail::worker::handle(state, event.payload).await
        },
    ))
    .await
}

/// Webhooks without a signature secret accept anyone's requests: say so loudly.
pub fn warn_if_unsigned(state: &AppState, function: Function) {
    let is_vonage = matches!(
        function,
        Function::VonageAnswer | Function::VonageEvent | Function::VonageFallback
    );
    let is_twilio = matches!(
        function,
        Function::TwilioVoice
            | Function::TwilioDialStatus
            | Function::TwilioRecording
            | Function::TwilioTranscription
            | Function::TwilioStatus
    );
    if is_twilio && state.config.twilio_auth_token.is_none() {
        tracing::warn!(
            function = function.name(),
            "TWILIO_AUTH_TOKEN is not set: X-Twilio-Signature is NOT verified and anyone can call this endpoint"
        );
    }
    if is_vonage && state.config.vonage_signature_secret.is_none() {
        tracing::warn!(
            function = function.name(),
            "VONAGE_SIGNATURE_SECRET is not set: Vonage webhook signatures are NOT verified and anyone can call this endpoint"
        );
    }
}
