//! `/numbers`, `/numbers/{number}` → [`callmask::api::numbers`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::numbers::NumbersState::from_env(callmask::aws::BACKGROUND).await?;
    callmask::lambda::serve(state, callmask::api::numbers::handle).await
}
