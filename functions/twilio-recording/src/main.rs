//! `POST /twilio/recording` (callmask::api::twilio::recording).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::TwilioRecording).await
}
