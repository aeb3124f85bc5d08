//! The `voicemail-worker` function's events: DynamoDB stream records
//! (filtered in the template to voicemails and line texts to email that a
//! webhook just wrote) and
//! scheduled sweeps. Stream failures are reported per record so Lambda
//! retries only those, then sends them to the on-failure queue.

use aws_config::SdkConfig;
use serde_json::{json, Value};

use crate::aws::{self, Bucket, Ses};
use crate::config::{ConfigError, TwilioConfig, VoicemailConfig};
use crate::core::Core;
use crate::store::keys;
use crate::twilio::rest::TwilioRest;
use crate::usecases::voicemail::Pipeline;

/// What the voicemail worker holds: the table, the bucket, SES and the
/// Twilio REST client.
#[derive(Clone, Debug)]
pub struct VoicemailState {
    pub core: Core,
    pub config: VoicemailConfig,
    pub bucket: Bucket,
    pub mailer: Ses,
    pub twilio: TwilioRest,
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
        let token = core.twilio_auth_token(&twilio, sdk, timeouts);
        let twilio = TwilioRest::new(crate::rest::http_client(), &twilio, token).map_err(|e| {
            ConfigError {
                name: "TWILIO_API_BASE_URL",
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            bucket: Bucket {
                client: aws::s3(sdk, bulk),
                name: config.recordings_bucket.clone(),
            },
            mailer: Ses {
                client: aws::ses(sdk, timeouts),
            },
            core,
            config,
            twilio,
        })
    }

    /// The voicemail pipeline on this state's table, bucket, SES and Twilio.
    pub fn pipeline(&self) -> Pipeline<'_, crate::store::Store, TwilioRest, Bucket, Ses> {
        Pipeline {
            store: &self.core.store,
            recordings: &self.twilio,
            bucket: &self.bucket,
            mailer: &self.mailer,
            config: &self.config,
            clock: &self.core.clock,
            link_base: self.core.config.public_base_url.as_deref(),
        }
    }
}

pub async fn handle(state: &VoicemailState, event: Value) -> Value {
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        // A scheduled event (or anything else): sweep what is due.
        return match state.pipeline().sweep().await {
            Ok(outcomes) => json!({"swept": outcomes.len()}),
            Err(e) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "voicemail sweep failed");
                json!({"swept": 0, "error": e.to_string()})
            }
        };
    };
    let mut failures = Vec::new();
    for record in records {
        let id = record
            .pointer("/dynamodb/SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let pk = record
            .pointer("/dynamodb/Keys/pk/S")
            .and_then(Value::as_str)
            .unwrap_or("");
        let done = if let Some(sid) = keys::voicemail_sid(pk) {
            state.pipeline().process(sid).await.map_err(|e| {
                tracing::error!(voicemail = sid, error = %crate::telemetry::chain(&e), "voicemail processing failed");
            })
        } else if let Some(sid) = keys::line_message_sid(pk) {
            state.pipeline().email_text(sid).await.map_err(|e| {
                tracing::error!(message = sid, error = %crate::telemetry::chain(&e), "text email processing failed");
            })
        } else {
            continue;
        };
        if done.is_err() {
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    json!({"batchItemFailures": failures})
}
