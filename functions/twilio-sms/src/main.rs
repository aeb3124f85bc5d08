//! `POST /twilio/sms` → [`callmask::api::twilio::sms`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::sms::SmsState::from_env("twilio-sms", callmask::aws::CALL_PATH),
        callmask::api::twilio::sms::handle,
    )
}
