//! The voicemail worker: DynamoDB stream records and scheduled sweeps
//! → [`callmask::voicemail::worker`]. Copies recordings to S3 and emails owners.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    callmask::telemetry::init();
    let state = callmask::voicemail::VoicemailState::from_env().await?;
    callmask::lambda::serve_events(state, callmask::voicemail::worker::handle).await
}
