//! `/sessions`, `/sessions/{id}`, `/sessions/{id}/calls` → [`callmask::api::sessions`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::sessions::SessionsState::from_env(callmask::aws::BACKGROUND),
        callmask::api::sessions::handle,
    )
}
