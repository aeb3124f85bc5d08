//! `POST /twilio/voice` → [`callmask::api::twilio::voice`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::twilio::TwilioState::from_env("twilio-voice", callmask::aws::CALL_PATH);
    callmask::api::lambda::run(state, callmask::api::twilio::voice::handle)
}
