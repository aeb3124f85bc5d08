//! `POST /twilio/transcription` → [`callmask::api::twilio::transcription`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::twilio::TwilioState::from_env(
        "twilio-transcription",
        callmask::aws::BACKGROUND,
    )
    .await?;
    callmask::lambda::serve(state, callmask::api::twilio::transcription::handle).await
}
