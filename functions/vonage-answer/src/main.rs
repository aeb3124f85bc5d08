//! `GET|POST /vonage/answer` → [`callmask::api::vonage::answer`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::vonage::VonageState::from_env("vonage-answer", callmask::aws::CALL_PATH),
        callmask::api::vonage::answer::handle,
    )
}
