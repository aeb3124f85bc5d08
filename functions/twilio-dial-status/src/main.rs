//! `POST /twilio/dial-status` → [`callmask::api::twilio::dial_status`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::twilio::TwilioState::from_env(
        "twilio-dial-status",
        callmask::aws::CALL_PATH,
    )
    .await?;
    callmask::lambda::serve(state, callmask::api::twilio::dial_status::handle).await
}
