//! `GET|POST /vonage/event` → [`callmask::api::vonage::event`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-event", callmask::aws::BACKGROUND)
            .await?;
    callmask::lambda::serve(state, callmask::api::vonage::event::handle).await
}
