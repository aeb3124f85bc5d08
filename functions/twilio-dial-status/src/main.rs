//! `POST /twilio/dial-status` → [`callmask::api::twilio::dial_status`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::twilio::TwilioState::from_env(
        "twilio-dial-status",
        callmask::aws::CALL_PATH,
    );
    callmask::api::lambda::run(state, callmask::api::twilio::dial_status::handle)
}
