//! `POST /twilio/status` → [`callmask::api::twilio::status`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::TwilioState::from_env("twilio-status", callmask::aws::BACKGROUND),
        callmask::api::twilio::status::handle,
    )
}
