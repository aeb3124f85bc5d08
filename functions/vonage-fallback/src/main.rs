//! `GET|POST /vonage/fallback` (callmask::api::vonage::fallback).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::VonageFallback).await
}
