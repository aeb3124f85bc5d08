//! The smallest lambda_http function, built like ours: the cold-start baseline.
use lambda_http::{service_fn, Body, Request, Response};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, std::convert::Infallible>(Response::new(Body::Text("hello".into())))
    }))
    .await
}
