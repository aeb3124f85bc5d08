//! `/sessions`, `/sessions/{id}`, `/sessions/{id}/calls` → [`callmask::api::sessions`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::sessions::SessionsState::from_env(callmask::aws::BACKGROUND).await?;
    callmask::lambda::serve(state, callmask::api::sessions::handle).await
}
