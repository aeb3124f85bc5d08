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

/// Webhooks without a signature secret accept anyone's requests: say so loudly.
pub fn warn_if_unsigned(state: &AppState, function: Function) {
    let is_vonage = matches!(
        function,
        Function::VonageAnswer | Function::VonageEvent | Function::VonageFallback
    );
    if is_vonage && state.config.vonage_signature_secret.is_none() {
        tracing::warn!(
            function = function.name(),
            "VONAGE_SIGNATURE_SECRET is not set: Vonage webhook signatures are NOT verified and anyone can call this endpoint"
        );
    }
}
