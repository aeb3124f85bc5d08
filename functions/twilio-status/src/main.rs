//! `POST /twilio/status` → [`callmask::api::twilio::status`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-status", callmask::aws::BACKGROUND);
    callmask::api::lambda::run(state, callmask::api::twilio::status::handle)
}
