//! `audio-socket`: the WebSocket server Vonage streams call audio to (the
//! `websocket` endpoint of `/vonage/audio-answer`'s NCCO). A long-lived
//! server in a container, not a Lambda: API Gateway WebSocket APIs refuse
//! binary frames (close 1003), and call audio is binary.
//!
//! - [`config`]: its settings (`AUDIO_*`, see docs/settings.md)
//! - [`server`]: `GET /socket` (upgrade), `GET /health`, draining shutdown
//! - [`limits`]: the open-file limit, raised to the hard one
//! - [`pending`]: connections that are not calls yet, bounded
//! - [`call`]: one call: the `websocket:connected` message, echo or
//!   record, limits and close codes
//! - [`reframe`]: whole 20 ms frames out of any sizes
//! - [`recorder`]: record mode's spool file, S3 and the recording's item
//! - [`client`]: a client that speaks as Vonage does (tests, `make bench`)
//! - [`probe`]: `audio-socket --health`, the container's health check

pub mod call;
pub mod client;
pub mod config;
pub mod limits;
pub mod pending;
pub mod probe;
pub mod recorder;
pub mod reframe;
pub mod server;
