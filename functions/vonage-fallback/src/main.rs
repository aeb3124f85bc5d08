//! `GET|POST /vonage/fallback` → [`callmask::api::vonage::fallback`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::vonage::VonageState::from_env("vonage-fallback", callmask::aws::CALL_PATH),
        callmask::api::vonage::fallback::handle,
    )
}
