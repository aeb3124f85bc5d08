//! What each function binary's `main` hands its state and handler to: the
//! state is built once per cold start and lives as long as the process.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{service_fn, Request};

use crate::http::HttpResponse;

/// Serves an HTTP API function: every invocation goes to `handler`.
pub async fn serve<S, H, F>(state: S, handler: H) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    H: Fn(&'static S, Request) -> F + Copy + Send + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    // Leaked once: the state lives until the process ends anyway.
    let state: &'static S = Box::leak(Box::new(state));
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(handler(state, req).await)
    }))
    .await
}

/// Serves a function driven by plain events (DynamoDB streams, schedules).
pub async fn serve_events<S, H, F>(state: S, handler: H) -> Result<(), lambda_runtime::Error>
where
    S: Sync + 'static,
    H: Fn(&'static S, serde_json::Value) -> F + Copy + Send + 'static,
    F: Future<Output = serde_json::Value> + Send + 'static,
{
    let state: &'static S = Box::leak(Box::new(state));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            Ok::<_, Infallible>(handler(state, event.payload).await)
        },
    ))
    .await
}
