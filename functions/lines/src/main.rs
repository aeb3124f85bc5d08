//! `/lines/{number}`, `/lines/{number}/voicemails`, and the emailed
//! `/voicemails/{recording_sid}/recording` links → [`callmask::api::lines`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::RecordingsState::from_env();
    callmask::api::lambda::run(state, callmask::api::lines::handle)
}
