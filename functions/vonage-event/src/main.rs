//! `POST /vonage/event` (callmask::api::vonage::event).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::VonageEvent).await
}
