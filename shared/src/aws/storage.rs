//! S3 and SES as the voicemail pipeline and the recording lists use them:
//! the private recordings bucket and the mailer.

use std::time::Duration;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::domain::email::Email;
use crate::usecases::voicemail::{Mailer, RecordingBucket};
use crate::usecases::{Port, PortError};

/// An S3 or SES request that failed. Its text is the service's error code
/// only (an SES message can quote the addresses, and the text is kept on
/// the voicemail's item); the SDK's error stays as the source.
#[derive(Debug, thiserror::Error)]
#[error("{code}")]
pub struct AwsError {
    pub op: &'static str,
    pub code: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl AwsError {
    fn sdk<E, R>(op: &'static str, e: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = match &e {
            SdkError::ServiceError(s) => s.err().code().unwrap_or("service error").to_string(),
            SdkError::TimeoutError(_) => "timed out".into(),
            SdkError::DispatchFailure(_) => "unreachable".into(),
            SdkError::ResponseError(_) => "unreadable response".into(),
            _ => "request failed".into(),
        };
        Self {
            op,
            code,
            source: Some(Box::new(e)),
        }
    }

    fn local(
        op: &'static str,
        code: &str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            op,
            code: code.into(),
            source: Some(Box::new(e)),
        }
    }
}

impl From<AwsError> for PortError {
    fn from(e: AwsError) -> Self {
        PortError::new(e)
    }
}

/// The private recordings bucket.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub client: aws_sdk_s3::Client,
    pub name: String,
}

impl Bucket {
    /// A GET link to `key` that works for `seconds`.
    pub async fn presign(&self, key: &str, seconds: u64) -> Result<String, AwsError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(seconds))
            .map_err(|e| AwsError::local("presign", "could not presign", e))?;
        let req = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| AwsError::sdk("presign", e))?;
        Ok(req.uri().to_string())
    }
}

impl RecordingBucket for Bucket {
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Port<()> {
        self.client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| AwsError::sdk("PutObject", e))?;
        Ok(())
    }

    async fn presign(&self, key: &str, seconds: u64) -> Port<String> {
        Ok(Bucket::presign(self, key, seconds).await?)
    }
}

/// SES.
#[derive(Clone, Debug)]
pub struct Ses {
    pub client: aws_sdk_ses::Client,
}

impl Mailer for Ses {
    async fn send(&self, from: &str, to: &str, email: Email) -> Port<String> {
        use aws_sdk_ses::types::{Body, Content, Destination, Message};
        let content = |data: String| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| AwsError::local("SendEmail", "invalid email", e))
        };
        let message = Message::builder()
            .subject(content(email.subject)?)
            .body(
                Body::builder()
                    .text(content(email.text)?)
                    .html(content(email.html)?)
                    .build(),
            )
            .build();
        let sent = self
            .client
            .send_email()
            .source(from)
            .destination(Destination::builder().to_addresses(to).build())
            .message(message)
            .send()
            .await
            .map_err(|e| AwsError::sdk("SendEmail", e))?;
        Ok(sent.message_id().to_string())
    }
}
