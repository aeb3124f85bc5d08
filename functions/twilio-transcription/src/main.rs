//! `POST /twilio/transcription` → [`callmask::api::twilio::transcription`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::TwilioState::from_env(
            "twilio-transcription",
            callmask::aws::BACKGROUND,
        ),
        callmask::api::twilio::transcription::handle,
    )
}
