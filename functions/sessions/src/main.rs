//! `/sessions`: private voice sessions (callmask::api::sessions).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::Sessions).await
}
