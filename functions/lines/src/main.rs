//! `/lines/{number}`, `/lines/{number}/voicemails` → [`callmask::api::lines`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::RecordingsState::from_env().await?;
    callmask::lambda::serve(state, callmask::api::lines::handle).await
}
