//! `GET /audio/recordings`, `GET /audio/recordings/{call_uuid}` →
//! [`callmask::api::audio`].

fn main() -> Result<(), lambda_http::Error> {
    let state = callmask::api::RecordingsState::from_env();
    callmask::api::lambda::run(state, callmask::api::audio::handle)
}
