//! `POST /twilio/voice` → [`callmask::api::twilio::voice`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::TwilioState::from_env("twilio-voice", callmask::aws::CALL_PATH),
        callmask::api::twilio::voice::handle,
    )
}
