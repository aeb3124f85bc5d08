//! `GET|POST /vonage/inbound-sms` → [`callmask::api::vonage::inbound_sms`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::vonage::inbound_sms::InboundSmsState::from_env(
        "vonage-inbound-sms",
        callmask::aws::BACKGROUND,
    );
    callmask::api::lambda::run(state, callmask::api::vonage::inbound_sms::handle)
}
