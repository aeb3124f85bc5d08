//! `PUT|GET|DELETE /lines/{number}`, `GET /lines/{number}/voicemails` (callmask::api::lines).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::lambda::run(callmask::api::Function::Lines).await
}
