//! Call audio recordings (the audio socket's record mode).

/// One WebSocket connection's recording, once its WAV is in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioRecording {
    pub call_uuid: String,
    pub conversation_uuid: Option<String>,
    /// This connection's id: a call that reconnects keeps both recordings.
    pub connection: String,
    pub started_at_ms: i64,
    /// When the call's audio ended (the recording's time in lists).
    pub recorded_at_ms: i64,
    pub duration_ms: i64,
    pub sample_rate: u32,
    /// Bytes of PCM in the WAV (after its 44-byte header).
    pub data_bytes: i64,
    pub s3_key: String,
    /// The call outlasted `AUDIO_MAX_RECORDING_SECONDS`.
    pub truncated: bool,
}
