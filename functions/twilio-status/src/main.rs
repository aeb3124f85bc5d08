//! `POST /twilio/status` (callmask::api::twilio::status).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::TwilioStatus).await
}
