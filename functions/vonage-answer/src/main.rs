//! `GET|POST /vonage/answer` → [`callmask::api::vonage::answer`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-answer", callmask::aws::CALL_PATH);
    callmask::api::lambda::run(state, callmask::api::vonage::answer::handle)
}
