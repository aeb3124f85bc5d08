//! `GET|POST /vonage/answer` → [`callmask::api::vonage::answer`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state =
        callmask::api::vonage::VonageState::from_env("vonage-answer", callmask::aws::CALL_PATH)
            .await?;
    callmask::lambda::serve(state, callmask::api::vonage::answer::handle).await
}
