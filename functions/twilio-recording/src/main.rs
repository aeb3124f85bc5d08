//! `POST /twilio/recording` → [`callmask::api::twilio::recording`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::TwilioState::from_env("twilio-recording", callmask::aws::BACKGROUND),
        callmask::api::twilio::recording::handle,
    )
}
