//! The voicemail worker: DynamoDB stream records and scheduled sweeps
//! → [`callmask::api::voicemail_worker`]. Copies recordings to S3 and emails owners.

fn main() -> Result<(), lambda_runtime::Error> {
    let state = callmask::api::voicemail_worker::VoicemailState::from_env();
    callmask::api::lambda::run_events(state, callmask::api::voicemail_worker::handle)
}
