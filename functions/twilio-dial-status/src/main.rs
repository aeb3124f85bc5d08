//! `POST /twilio/dial-status` → [`callmask::api::twilio::dial_status`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::twilio::TwilioState::from_env(
            "twilio-dial-status",
            callmask::aws::CALL_PATH,
        ),
        callmask::api::twilio::dial_status::handle,
    )
}
