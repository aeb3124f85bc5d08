//! The HTTP API, one module per URL: `/vonage/answer` is
//! [`vonage::answer`], `/sessions` is [`sessions`]. Each function binary
//! builds its module's state and serves its `handle`; the local router
//! (`callmask-local`) serves them all at the template's paths.

pub mod audio;
pub mod auto_reply;
pub mod body;
pub mod calls;
pub mod http;
pub mod lambda;
pub mod lines;
pub mod numbers;
pub mod services;
pub mod session_list;
pub mod sessions;
pub mod twilio;
pub mod voicemail_link;
pub mod voicemail_worker;
pub mod vonage;

use crate::aws;
use crate::config::{recordings_bucket, ConfigError};
use crate::core::Core;

/// What the functions that list recordings hold (`lines`: voicemails;
/// `audio-recordings`: call audio): the table, and S3 to presign links.
#[derive(Clone, Debug)]
pub struct RecordingsState {
    pub core: Core,
    pub recordings: aws::Bucket,
}

impl RecordingsState {
    pub async fn from_env() -> Result<Self, ConfigError> {
        let (core, sdk) = Core::load(aws::BACKGROUND).await?;
        Ok(Self {
            core,
            recordings: aws::Bucket {
                client: aws::s3(&sdk, aws::BACKGROUND),
                name: recordings_bucket(|name| std::env::var(name).ok()),
            },
        })
    }
}
