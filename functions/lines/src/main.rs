//! `/lines/{number}`, `/lines/{number}/voicemails` → [`callmask::api::lines`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::RecordingsState::from_env();
    callmask::api::lambda::run(state, callmask::api::lines::handle)
}
