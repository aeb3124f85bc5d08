//! Record mode: the caller's audio goes to a spool file while the call lasts
//! (a 44-byte WAV header first, filled in at the end), so a call of any
//! length costs the process a fixed write buffer, not its audio. When the
//! call ends the file is put in S3 as it is (a valid WAV), the recording's
//! item is written against the call uuid, and the spool file is removed.
//! An upload that fails every try leaves the spool file in place (logged
//! with its path) rather than losing the audio.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use callmask::audio::wav;
use callmask::audio::SampleRate;
use callmask::domain::AudioRecording;
use callmask::store::{Store, StoreError};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("spool file {path}: {source}")]
    Spool {
        path: String,
        source: std::io::Error,
    },
    #[error("S3 put failed: {0}")]
    S3(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where recordings go: the bucket, the table and the spool directory.
#[derive(Clone, Debug)]
pub struct Recorder {
    pub s3: aws_sdk_s3::Client,
    pub store: Store,
    pub bucket: String,
    pub spool_dir: PathBuf,
    pub max_recording_seconds: u64,
}

/// Who a recording belongs to.
#[derive(Clone, Debug)]
pub struct CallInfo {
    pub call_uuid: String,
    pub conversation_uuid: Option<String>,
    pub connection: String,
    pub rate: SampleRate,
}

/// One call being recorded.
pub struct Recording {
    info: CallInfo,
    path: PathBuf,
    file: BufWriter<tokio::fs::File>,
    started_at_ms: i64,
    data_bytes: u64,
    max_bytes: u64,
    truncated: bool,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Recorder {
    /// Opens the call's spool file.
    pub async fn start(&self, info: CallInfo) -> Result<Recording, RecordError> {
        let path = self
            .spool_dir
            .join(format!("callmask-audio-{}.wav", info.connection));
        let spool = |source| RecordError::Spool {
            path: path.display().to_string(),
            source,
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(spool)?;
        let mut file = BufWriter::with_capacity(32 * 1024, file);
        file.write_all(&[0u8; wav::HEADER_BYTES])
            .await
            .map_err(spool)?;
        let max_bytes = self.max_recording_seconds * info.rate.bytes_per_second();
        Ok(Recording {
            info,
            path,
            file,
            started_at_ms: now_ms(),
            data_bytes: 0,
            max_bytes,
            truncated: false,
        })
    }

    /// Puts the spool file in S3, with retries.
    async fn upload(&self, path: &std::path::Path, key: &str, len: u64) -> Result<(), RecordError> {
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=3 {
            let body = ByteStream::from_path(path)
                .await
                .map_err(|e| RecordError::S3(format!("reading the spool file: {e}")))?;
            let res = self
                .s3
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type("audio/wav")
                .content_length(len as i64)
                .server_side_encryption(ServerSideEncryption::Aes256)
                .body(body)
                .send()
                .await;
            match res {
                Ok(_) => return Ok(()),
                Err(e) => {
                    use aws_sdk_s3::error::ProvideErrorMetadata;
                    last = e.code().unwrap_or("unreachable").to_string();
                    tracing::warn!(attempt, error = %last, "recording upload failed");
                }
            }
            tokio::time::sleep(delay).await;
            delay *= 4;
        }
        Err(RecordError::S3(last))
    }
}

/// How many of `len` new bytes a recording holding `data_bytes` keeps when
/// it may hold `max_bytes`: the rest of a call past the limit is dropped.
pub fn to_keep(data_bytes: u64, max_bytes: u64, len: usize) -> usize {
    let room = max_bytes.saturating_sub(data_bytes);
    // Below `len`, so it fits a usize.
    (len as u64).min(room) as usize
}

/// The data length the WAV file keeps of `data_bytes` written (whole 16-bit
/// samples only), and the header that describes it. `data_bytes` is below
/// 4 GiB: AUDIO_MAX_RECORDING_SECONDS (at most 10 h, 1.7 GB at 24 kHz) caps it.
pub fn wav_layout(rate: SampleRate, data_bytes: u64) -> (u64, [u8; wav::HEADER_BYTES]) {
    let data = data_bytes & !1;
    let header = wav::header(rate, u32::try_from(data).unwrap_or(u32::MAX));
    (data, header)
}

impl Recording {
    /// Appends the caller's audio; past `AUDIO_MAX_RECORDING_SECONDS` the
    /// recording stops growing (the call goes on).
    pub async fn write(&mut self, pcm: &[u8]) -> Result<(), RecordError> {
        let take = to_keep(self.data_bytes, self.max_bytes, pcm.len());
        if take < pcm.len() && !self.truncated {
            self.truncated = true;
            tracing::warn!("recording reached AUDIO_MAX_RECORDING_SECONDS; the rest of the call is not recorded");
        }
        if take == 0 {
            return Ok(());
        }
        self.file
            .write_all(&pcm[..take])
            .await
            .map_err(|source| RecordError::Spool {
                path: self.path.display().to_string(),
                source,
            })?;
        self.data_bytes += take as u64;
        Ok(())
    }

    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Writes the header, stores the WAV and its item, removes the spool file.
    pub async fn finish(mut self, recorder: &Recorder) -> Result<AudioRecording, RecordError> {
        let spool = |path: &PathBuf, source| RecordError::Spool {
            path: path.display().to_string(),
            source,
        };
        let (data, header) = wav_layout(self.info.rate, self.data_bytes);
        let path = self.path.clone();
        self.file.flush().await.map_err(|e| spool(&path, e))?;
        let mut file = self.file.into_inner();
        file.set_len(wav::HEADER_BYTES as u64 + data)
            .await
            .map_err(|e| spool(&path, e))?;
        file.seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(|e| spool(&path, e))?;
        file.write_all(&header).await.map_err(|e| spool(&path, e))?;
        file.sync_all().await.map_err(|e| spool(&path, e))?;
        drop(file);
        let ended_ms = now_ms();
        let date = callmask::clock::rfc3339(ended_ms / 1000);
        let key = format!(
            "audio/{}/{}/{}/{}-{}.wav",
            date.get(0..4).unwrap_or("0000"),
            date.get(5..7).unwrap_or("00"),
            date.get(8..10).unwrap_or("00"),
            self.info.call_uuid,
            self.info.connection
        );
        recorder
            .upload(&path, &key, wav::HEADER_BYTES as u64 + data)
            .await?;
        let rec = AudioRecording {
            call_uuid: self.info.call_uuid.clone(),
            conversation_uuid: self.info.conversation_uuid.clone(),
            connection: self.info.connection.clone(),
            started_at_ms: self.started_at_ms,
            recorded_at_ms: ended_ms,
            duration_ms: wav::duration_ms(self.info.rate, data) as i64,
            sample_rate: self.info.rate.hz(),
            data_bytes: data as i64,
            s3_key: key,
            truncated: self.truncated,
        };
        recorder.store.put_audio_recording(&rec).await?;
        if let Err(e) = tokio::fs::remove_file(&path).await {
            tracing::warn!(error = %e, "could not remove the spool file");
        }
        Ok(rec)
    }

    /// Where the audio is while the call lasts (logged when it cannot be
    /// stored, so it can be recovered by hand).
    pub fn spool_path(&self) -> &std::path::Path {
        &self.path
    }
}
