//! The voicemail pipeline, provider-agnostic: a recorded voicemail (written
//! by the provider's callback before anything else) is copied to the private
//! recordings bucket, optionally deleted at the provider, and emailed to the
//! line's owner with a presigned link and the transcription.
//!
//! Every step can fail (provider download, S3, SES): the voicemail then
//! stays pending with a backoff and is tried again by the worker (DynamoDB
//! stream and a schedule in AWS, a loop in the local stack). After
//! `VOICEMAIL_MAX_ATTEMPTS` failures it is marked failed and a metric fires
//! the alarm. A lease on each voicemail keeps two workers from emailing
//! twice; a delivered voicemail is never processed again.

pub mod email;
pub mod texts;
pub mod worker;

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use aws_config::SdkConfig;

use crate::aws;
use crate::config::{ConfigError, TwilioConfig, VoicemailConfig};
use crate::core::Core;
use crate::store::{Due, StoreError, Voicemail};
use crate::twilio::client::TwilioClient;

/// What the voicemail worker holds: the table, the bucket, SES and the
/// Twilio REST client.
#[derive(Clone, Debug)]
pub struct VoicemailState {
    pub core: Core,
    pub config: VoicemailConfig,
    pub s3: aws_sdk_s3::Client,
    pub ses: aws_sdk_ses::Client,
    pub twilio: TwilioClient,
}

impl VoicemailState {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let twilio = TwilioConfig::from_env()?;
        let config = VoicemailConfig::from_env()?;
        let (core, sdk) = Core::load(aws::BACKGROUND).await?;
        Self::build(core, twilio, config, &sdk, [aws::BACKGROUND, aws::BULK])
    }

    pub fn build(
        core: Core,
        twilio: TwilioConfig,
        config: VoicemailConfig,
        sdk: &SdkConfig,
        // Requests, then bulk transfers (S3 puts of whole recordings).
        [timeouts, bulk]: [aws::Timeouts; 2],
    ) -> Result<Self, ConfigError> {
        let token = crate::api::twilio::auth_token(&core, &twilio, sdk, timeouts);
        let twilio = TwilioClient::new(twilio, token).map_err(|e| ConfigError {
            name: "TWILIO_API_BASE_URL",
            reason: e.to_string(),
        })?;
        Ok(Self {
            s3: aws::s3(sdk, bulk),
            ses: aws::ses(sdk, timeouts),
            core,
            config,
            twilio,
        })
    }
}

/// How long one worker holds a voicemail.
pub(crate) const LEASE_SECONDS: i64 = 120;
/// First retry after this long, doubling up to `MAX_BACKOFF_SECONDS`.
pub(crate) const FIRST_BACKOFF_SECONDS: i64 = 30;
pub(crate) const MAX_BACKOFF_SECONDS: i64 = 1800;
/// Voicemails one sweep handles.
const SWEEP_BATCH: i32 = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Waiting for a transcription.
    Waiting,
    /// A step failed; tried again later.
    Retrying,
    /// The retry budget is spent.
    Failed,
    /// Not pending, or another worker holds it.
    Skipped,
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("provider download: {0}")]
    Download(#[from] crate::twilio::client::TwilioError),
    #[error("S3: {0}")]
    S3(String),
    #[error("SES: {0}")]
    Ses(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unsupported provider {0}")]
    Provider(String),
}

enum Step {
    Delivered,
    WaitUntil(i64),
}

/// Handles one voicemail if it is pending and free.
pub async fn process(state: &VoicemailState, recording_sid: &str) -> Result<Outcome, StoreError> {
    let now = state.core.clock.now();
    let Some(vm) = state
        .core
        .store
        .claim_voicemail(recording_sid, now, LEASE_SECONDS)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    match deliver(state, &vm, now).await {
        Ok(Step::Delivered) => {
            tracing::info!(voicemail = %vm.recording_sid, line = %vm.line.masked(), "voicemail delivered");
            crate::metrics::voicemail_delivered();
            Ok(Outcome::Delivered)
        }
        Ok(Step::WaitUntil(at)) => {
            if state
                .core
                .store
                .voicemail_await_transcription(&vm.recording_sid, at)
                .await?
            {
                return Ok(Outcome::Waiting);
            }
            // The transcription came in while we held the voicemail: it is
            // due now, and this worker sends it at once.
            state
                .core
                .store
                .voicemail_later(&vm.recording_sid, now, vm.attempts, None)
                .await?;
            Box::pin(process(state, recording_sid)).await
        }
        Err(e) => {
            let attempts = vm.attempts + 1;
            let reason = e.to_string();
            if attempts >= state.config.voicemail_max_attempts {
                state
                    .core
                    .store
                    .voicemail_failed(&vm.recording_sid, attempts, &reason)
                    .await?;
                tracing::error!(voicemail = %vm.recording_sid, attempts, error = %reason, "voicemail failed: retry budget spent");
                crate::metrics::voicemail_failed();
                Ok(Outcome::Failed)
            } else {
                let backoff =
                    (FIRST_BACKOFF_SECONDS << (attempts - 1).min(10)).min(MAX_BACKOFF_SECONDS);
                state
                    .core
                    .store
                    .voicemail_later(&vm.recording_sid, now + backoff, attempts, Some(&reason))
                    .await?;
                tracing::warn!(voicemail = %vm.recording_sid, attempts, error = %reason, retry_in = backoff, "voicemail step failed; will retry");
                Ok(Outcome::Retrying)
            }
        }
    }
}

/// Handles every pending voicemail (and queued text email) that is due;
/// returns what happened.
pub async fn sweep(state: &VoicemailState) -> Result<Vec<Outcome>, StoreError> {
    let due = state
        .core
        .store
        .due_work(state.core.clock.now(), SWEEP_BATCH)
        .await?;
    let mut outcomes = Vec::with_capacity(due.len());
    for work in due {
        outcomes.push(match work {
            Due::Voicemail(sid) => process(state, &sid).await?,
            Due::TextEmail(sid) => texts::process(state, &sid).await?,
        });
    }
    Ok(outcomes)
}

async fn deliver(state: &VoicemailState, vm: &Voicemail, now: i64) -> Result<Step, StepError> {
    let key = match &vm.s3_key {
        Some(key) => key.clone(),
        None => copy_recording(state, vm).await?,
    };
    let transcription_due = vm.recorded_at + state.config.transcription_wait_seconds as i64;
    if vm.transcribe && vm.transcription_status.is_none() && now < transcription_due {
        return Ok(Step::WaitUntil(transcription_due));
    }
    let ttl = state.config.recording_link_ttl_seconds;
    let link = state
        .s3
        .get_object()
        .bucket(&state.config.recordings_bucket)
        .key(&key)
        .presigned(
            PresigningConfig::expires_in(Duration::from_secs(ttl))
                .map_err(|e| StepError::S3(e.to_string()))?,
        )
        .await
        .map_err(|_| StepError::S3("could not presign".into()))?;
    let message = email::compose(vm, link.uri(), ttl);
    let sent = state
        .ses
        .send_email()
        .source(&state.config.sender_email)
        .destination(
            aws_sdk_ses::types::Destination::builder()
                .to_addresses(&vm.owner_email)
                .build(),
        )
        .message(message.into_ses().map_err(StepError::Ses)?)
        .send()
        .await
        .map_err(|e| StepError::Ses(sdk_reason(&e)))?;
    state
        .core
        .store
        .voicemail_delivered(&vm.recording_sid, sent.message_id(), now)
        .await?;
    Ok(Step::Delivered)
}

/// Downloads the provider's recording and stores it; returns the object key.
async fn copy_recording(state: &VoicemailState, vm: &Voicemail) -> Result<String, StepError> {
    if vm.provider != "twilio" {
        return Err(StepError::Provider(vm.provider.clone()));
    }
    let recording = state.twilio.download(&vm.recording_url).await?;
    let ext = if recording.content_type.contains("mpeg") {
        "mp3"
    } else {
        "wav"
    };
    // No phone number in the key: the recording's own id and the date.
    let date = crate::clock::rfc3339(vm.recorded_at);
    let key = format!(
        "voicemails/{}/{}/{}.{ext}",
        &date[0..4],
        &date[5..7],
        vm.recording_sid
    );
    state
        .s3
        .put_object()
        .bucket(&state.config.recordings_bucket)
        .key(&key)
        .content_type(&recording.content_type)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(ByteStream::from(recording.bytes))
        .send()
        .await
        .map_err(|e| StepError::S3(sdk_reason(&e)))?;
    state
        .core
        .store
        .voicemail_copied(&vm.recording_sid, &key, &recording.content_type)
        .await?;
    if state.config.delete_provider_recordings {
        // Our copy is safe; a failed delete only leaves Twilio's copy behind.
        if let Err(e) = state.twilio.delete_recording(&vm.recording_sid).await {
            tracing::warn!(voicemail = %vm.recording_sid, error = %e, "could not delete the provider's copy");
        }
    }
    Ok(key)
}

/// The error's code only: an SES message can quote the addresses, and
/// this text goes to logs and to the voicemail's item.
pub(crate) fn sdk_reason<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or("service error").to_string(),
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => "unreachable".into(),
        SdkError::ResponseError(_) => "unreadable response".into(),
        _ => "request failed".into(),
    }
}

/// Presigned links for the voicemail list in the admin API.
pub async fn presign(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    seconds: u64,
) -> Option<String> {
    let config = PresigningConfig::expires_in(Duration::from_secs(seconds)).ok()?;
    let req = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .ok()?;
    Some(req.uri().to_string())
}
