//! `GET|POST /vonage/fallback` → [`callmask::api::vonage::fallback`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-fallback", callmask::aws::CALL_PATH)
            .await?;
    callmask::lambda::serve(state, callmask::api::vonage::fallback::handle).await
}
