//! `POST /twilio/sms` → [`callmask::api::twilio::sms`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::twilio::sms::SmsState::from_env("twilio-sms", callmask::aws::CALL_PATH)
            .await?;
    callmask::lambda::serve(state, callmask::api::twilio::sms::handle).await
}
