//! `/sessions`, `/sessions/{id}`, `/sessions/{id}/calls` → [`callmask::api::sessions`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::sessions::SessionsState::from_env(callmask::aws::BACKGROUND);
    callmask::api::lambda::run(state, callmask::api::sessions::handle)
}
