//! What each function binary's `main` hands its state and handler to: the
//! state is built once per cold start and lives as long as the process.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{service_fn, Request};

use crate::api::http::HttpResponse;
use crate::config::ConfigError;

/// A function's whole life: logs set up, its state built from the
/// environment (`load`), then every invocation handed to `handler`. What
/// `#[tokio::main]` would do, so each `main.rs` is one call.
pub fn run<S, L, H, F>(load: L, handler: H) -> Result<(), lambda_http::Error>
where
    S: Sync + 'static,
    L: Future<Output = Result<S, ConfigError>>,
    H: Fn(&'static S, Request) -> F + Copy + Send + 'static,
    F: Future<Output = HttpResponse> + Send + 'static,
{
    runtime()?.block_on(async {
        crate::telemetry::init();
        serve(load.await?, handler).await
    })
}

/// [`run`] for a function driven by plain events (DynamoDB streams,
/// schedules).
pub fn run_events<S, L, H, F>(load: L, handler: H) -> Result<(), lambda_runtime::Error>
where
    S: Sync + 'static,
    L: Future<Output = Result<S, ConfigError>>,
    H: Fn(&'static S, serde_json::Value) -> F + Copy + Send + 'static,
    F: Future<Output = serde_json::Value> + Send + 'static,
{
    runtime()?.block_on(async {
        crate::telemetry::init();
        serve_events(load.await?, handler).await
    })
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Serves an HTTP API function: every invocation goes to `handler`.
async fn serve<S, H, F>(state: S, handler: H) -> Result<(), lambda_http::Error>
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

/// Serves a function driven by plain events.
async fn serve_events<S, H, F>(state: S, handler: H) -> Result<(), lambda_runtime::Error>
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
