//! `POST /twilio/transcription` (callmask::api::twilio::transcription).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::TwilioTranscription).await
}
