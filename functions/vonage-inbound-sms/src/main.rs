//! `GET|POST /vonage/inbound-sms` → [`callmask::api::vonage::inbound_sms`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::vonage::inbound_sms::InboundSmsState::from_env(
            "vonage-inbound-sms",
            callmask::aws::BACKGROUND,
        ),
        callmask::api::vonage::inbound_sms::handle,
    )
}
