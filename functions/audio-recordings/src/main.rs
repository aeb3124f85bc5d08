//! `GET /audio/recordings`, `GET /audio/recordings/{call_uuid}` →
//! [`callmask::api::audio`].

fn main() -> Result<(), lambda_http::Error> {
    callmask::api::lambda::run(
        callmask::api::RecordingsState::from_env(),
        callmask::api::audio::handle,
    )
}
