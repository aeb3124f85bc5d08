//! `GET|POST /vonage/event` → [`callmask::api::vonage::event`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::vonage::VonageState::from_env("vonage-event", callmask::aws::BACKGROUND),
        callmask::api::vonage::event::handle,
    )
}
