//! `GET|POST /vonage/audio-answer` → [`callmask::api::vonage::audio_answer`].

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    callmask::telemetry::init();
    let state = callmask::api::vonage::audio_answer::AudioAnswerState::from_env().await?;
    callmask::lambda::serve(state, callmask::api::vonage::audio_answer::handle).await
}
