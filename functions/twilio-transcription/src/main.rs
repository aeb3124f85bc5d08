//! `POST /twilio/transcription` → [`callmask::api::twilio::transcription`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::twilio::TwilioState::from_env(
        "twilio-transcription",
        callmask::aws::BACKGROUND,
    );
    callmask::api::lambda::run(state, callmask::api::twilio::transcription::handle)
}
