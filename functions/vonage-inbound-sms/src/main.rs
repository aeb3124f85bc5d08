//! `GET|POST /vonage/inbound-sms` → [`callmask::api::vonage::inbound_sms`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::vonage::inbound_sms::InboundSmsState::from_env(
        "vonage-inbound-sms",
        callmask::aws::BACKGROUND,
    )
    .await?;
    callmask::lambda::serve(state, callmask::api::vonage::inbound_sms::handle).await
}
