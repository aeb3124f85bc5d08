//! `/numbers`, `/numbers/{number}` → [`callmask::api::numbers`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::numbers::NumbersState::from_env(callmask::aws::BACKGROUND),
        callmask::api::numbers::handle,
    )
}
