//! `/lines/{number}`, `/lines/{number}/voicemails` → [`callmask::api::lines`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::RecordingsState::from_env(),
        callmask::api::lines::handle,
    )
}
