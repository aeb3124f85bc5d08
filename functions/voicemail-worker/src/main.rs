//! The voicemail worker: DynamoDB stream records and scheduled sweeps
//! (callmask::voicemail::worker). Copies recordings to S3 and emails owners.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    callmask::lambda::run_voicemail_worker().await
}
