//! `POST /twilio/recording` → [`callmask::api::twilio::recording`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-recording", callmask::aws::BACKGROUND)
            .await?;
    callmask::lambda::serve(state, callmask::api::twilio::recording::handle).await
}
