//! `GET|POST /vonage/audio-answer` → [`callmask::api::vonage::audio_answer`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::vonage::audio_answer::AudioAnswerState::from_env(),
        callmask::api::vonage::audio_answer::handle,
    )
}
