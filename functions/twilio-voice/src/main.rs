//! `POST /twilio/voice` (callmask::api::twilio::voice).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::TwilioVoice).await
}
