//! The `audio-socket` server's settings (see docs/settings.md). It also
//! reads `TABLE_NAME` and `SECRET_CACHE_SECONDS` (`CoreConfig`), and
//! `RECORDINGS_BUCKET` and the token as the answer function does.

use std::path::PathBuf;

use callmask::config::setting::{dir, ip_address, range, text};
use callmask::config::{SecretSetting, AUDIO_SOCKET_TOKEN, DEFAULT_RECORDINGS_BUCKET};

/// Where the socket listens unless `AUDIO_PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 3001;

callmask::settings! {
    /// The `audio-socket` server.
    #[derive(Debug, Clone)]
    pub struct AudioSocketConfig {
        pub host: String = "127.0.0.1".into(), ip_address("AUDIO_HOST");
        pub port: u16 = DEFAULT_PORT, range("AUDIO_PORT", 1, 65_535);
        pub socket_token: SecretSetting = SecretSetting::None, AUDIO_SOCKET_TOKEN;
        pub recordings_bucket: String = DEFAULT_RECORDINGS_BUCKET.into(),
            text("RECORDINGS_BUCKET");
        pub idle_timeout_seconds: u64 = 10, range("AUDIO_IDLE_TIMEOUT_SECONDS", 1, 3600);
        pub connected_timeout_seconds: u64 = 5,
            range("AUDIO_CONNECTED_TIMEOUT_SECONDS", 1, 60);
        pub max_calls: usize = 1000, range("AUDIO_MAX_CALLS", 1, 100_000);
        /// Connections not yet calls (headers, upgrade, first message);
        /// each costs a socket and ~10-20 KiB.
        pub max_pending: usize = 4096, range("AUDIO_MAX_PENDING", 1, 100_000);
        pub send_queue_frames: usize = 50, range("AUDIO_SEND_QUEUE_FRAMES", 1, 1000);
        /// Under 4 GiB of WAV even at 24 kHz.
        pub max_recording_seconds: u64 = 14_400,
            range("AUDIO_MAX_RECORDING_SECONDS", 1, 36_000);
        pub spool_dir: PathBuf = std::env::temp_dir(), dir("AUDIO_SPOOL_DIR");
        pub shutdown_grace_seconds: u64 = 25, range("AUDIO_SHUTDOWN_GRACE_SECONDS", 1, 600);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callmask::config::setting::pairs;

    #[test]
    fn settings_are_checked_at_start() {
        let s = |p: &[(&str, &str)]| AudioSocketConfig::from_lookup(pairs(p));
        assert_eq!(s(&[]).unwrap().port, 3001);
        assert_eq!(
            s(&[("AUDIO_SOCKET_TOKEN_SECRET_ID", "callmask/audio")])
                .unwrap()
                .socket_token,
            SecretSetting::SecretId("callmask/audio".into())
        );
        for (name, value) in [
            ("AUDIO_PORT", "0"),
            ("AUDIO_PORT", "70000"),
            ("AUDIO_HOST", "audio.example.com"),
            ("AUDIO_IDLE_TIMEOUT_SECONDS", "0"),
            ("AUDIO_MAX_CALLS", "many"),
            ("AUDIO_MAX_PENDING", "0"),
            ("AUDIO_MAX_RECORDING_SECONDS", "100000"),
        ] {
            assert_eq!(s(&[(name, value)]).unwrap_err().name, name, "{value}");
        }
    }

    /// docs/settings.md's audio socket table against this declaration,
    /// both ways (the shared variables are in the tables of the groups
    /// that share them).
    #[test]
    fn the_settings_reference_matches() {
        let doc = include_str!("../../docs/settings.md");
        let problems = callmask::config::reference::drift(
            doc,
            "AudioSocketConfig",
            &AudioSocketConfig::declared(),
        );
        assert!(
            problems.is_empty(),
            "docs/settings.md drifts:\n{}",
            problems.join("\n")
        );
    }
}
