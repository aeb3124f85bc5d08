//! `GET /audio/recordings`, `GET /audio/recordings/{call_uuid}` →
//! [`callmask::api::audio`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::RecordingsState::from_env().await?;
    callmask::lambda::serve(state, callmask::api::audio::handle).await
}
