//! `/numbers`, `/numbers/{number}` → [`callmask::api::numbers`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::numbers::NumbersState::from_env(callmask::aws::BACKGROUND);
    callmask::api::lambda::run(state, callmask::api::numbers::handle)
}
