//! `/numbers`: the proxy number pool (callmask::api::numbers).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::Numbers).await
}
