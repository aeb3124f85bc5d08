//! `POST /twilio/sms` → [`callmask::api::twilio::sms`].

fn main() -> Result<(), lambda_http::Error> {
    let state =
        callmask::api::twilio::sms::SmsState::from_env("twilio-sms", callmask::aws::CALL_PATH);
    callmask::api::lambda::run(state, callmask::api::twilio::sms::handle)
}
