//! `POST /twilio/voice` → [`callmask::api::twilio::voice`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-voice", callmask::aws::CALL_PATH)
            .await?;
    callmask::lambda::serve(state, callmask::api::twilio::voice::handle).await
}
