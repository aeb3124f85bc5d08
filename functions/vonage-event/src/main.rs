//! `GET|POST /vonage/event` → [`callmask::api::vonage::event`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-event", callmask::aws::BACKGROUND);
    callmask::api::lambda::run(state, callmask::api::vonage::event::handle)
}
