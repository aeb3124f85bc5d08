//! `POST /twilio/status` → [`callmask::api::twilio::status`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-status", callmask::aws::BACKGROUND)
            .await?;
    callmask::lambda::serve(state, callmask::api::twilio::status::handle).await
}
