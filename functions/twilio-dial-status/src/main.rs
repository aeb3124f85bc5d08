//! `POST /twilio/dial-status` (callmask::api::twilio::dial_status).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::TwilioDialStatus).await
}
