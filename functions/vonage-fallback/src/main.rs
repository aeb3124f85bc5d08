//! `GET|POST /vonage/fallback` → [`callmask::api::vonage::fallback`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-fallback", callmask::aws::CALL_PATH);
    callmask::api::lambda::run(state, callmask::api::vonage::fallback::handle)
}
