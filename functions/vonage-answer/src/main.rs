//! `GET|POST /vonage/answer` (callmask::api::vonage::answer).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::VonageAnswer).await
}
