//! `POST /twilio/recording` → [`callmask::api::twilio::recording`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-recording", callmask::aws::BACKGROUND);
    callmask::api::lambda::run(state, callmask::api::twilio::recording::handle)
}
