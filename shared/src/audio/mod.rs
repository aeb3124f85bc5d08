//! Call audio over WebSocket (Vonage's `websocket` endpoint): what the
//! answer (`/vonage/audio-answer`) and the audio socket (`audio-socket`)
//! agree on. Audio is 16-bit little-endian mono linear PCM (`audio/l16`),
//! sent in 20 ms frames: 320 bytes at 8 kHz, 640 at 16 kHz, 960 at 24 kHz.

pub mod wav;

/// What the audio socket does with a call's audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioMode {
    /// Every frame back, byte-identical, in order, as it arrives.
    #[default]
    Echo,
    /// The caller's audio to a WAV in S3 when the call ends; nothing back.
    Record,
}

impl AudioMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "echo" => Some(AudioMode::Echo),
            "record" => Some(AudioMode::Record),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AudioMode::Echo => "echo",
            AudioMode::Record => "record",
        }
    }
}

/// Sample rates Vonage streams linear PCM at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRate(u32);

impl SampleRate {
    pub const K8: SampleRate = SampleRate(8000);
    pub const K16: SampleRate = SampleRate(16000);
    pub const K24: SampleRate = SampleRate(24000);

    pub fn new(hz: u32) -> Option<Self> {
        matches!(hz, 8000 | 16000 | 24000).then_some(SampleRate(hz))
    }

    pub fn hz(self) -> u32 {
        self.0
    }

    /// Bytes in one 20 ms frame of 16-bit mono.
    pub fn frame_bytes(self) -> usize {
        (self.0 as usize / 50) * 2
    }

    /// Bytes per second of 16-bit mono.
    pub fn bytes_per_second(self) -> u64 {
        u64::from(self.0) * 2
    }

    /// `audio/l16;rate=16000`
    pub fn content_type(self) -> String {
        format!("audio/l16;rate={}", self.0)
    }

    /// The rate of an `audio/l16;rate=N` content type (spaces and case as
    /// a client may write them); anything else is `None`.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let mut parts = ct.split(';').map(str::trim);
        if !parts.next()?.eq_ignore_ascii_case("audio/l16") {
            return None;
        }
        let mut rate = None;
        for p in parts {
            let (k, v) = p.split_once('=')?;
            if k.trim().eq_ignore_ascii_case("rate") {
                rate = Some(v.trim().parse::<u32>().ok()?);
            }
        }
        Self::new(rate?)
    }
}

/// A call or conversation uuid fit for a header, an object key and a log
/// field: 1..=64 of `[A-Za-z0-9_-]` (Vonage's uuids and `CON-...` ids).
pub fn valid_call_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_frames() {
        assert_eq!(SampleRate::K16.frame_bytes(), 640);
        assert_eq!(SampleRate::K8.frame_bytes(), 320);
        assert_eq!(SampleRate::K24.frame_bytes(), 960);
        assert_eq!(SampleRate::new(44100), None);
        assert_eq!(
            SampleRate::from_content_type("audio/l16;rate=16000"),
            Some(SampleRate::K16)
        );
        assert_eq!(
            SampleRate::from_content_type("Audio/L16; rate=8000"),
            Some(SampleRate::K8)
        );
        for bad in [
            "audio/l16",
            "audio/l16;rate=",
            "audio/l16;rate=11025",
            "audio/pcmu;rate=8000",
            "",
            "audio/l16;rate=16000x",
        ] {
            assert_eq!(SampleRate::from_content_type(bad), None, "{bad}");
        }
    }

    #[test]
    fn modes_and_ids() {
        assert_eq!(AudioMode::parse("record"), Some(AudioMode::Record));
        assert_eq!(AudioMode::parse("Echo"), None);
        assert!(valid_call_id("63f61863-4a51-4f6b-86e1-46edebcf9356"));
        assert!(valid_call_id("CON-f972836a-550f-45fa-956c-12a2ab5b7d22"));
        for bad in ["", "a/b", "../x", "a b", &"x".repeat(65), "+447700900100\n"] {
            assert!(!valid_call_id(bad), "{bad:?}");
        }
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
