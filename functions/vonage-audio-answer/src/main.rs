//! `GET|POST /vonage/audio-answer` → [`callmask::api::vonage::audio_answer`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::vonage::audio_answer::AudioAnswerState::from_env();
    callmask::api::lambda::run(state, callmask::api::vonage::audio_answer::handle)
}
