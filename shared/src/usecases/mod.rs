//! Use cases: what callmask does when one request needs several effects
//! (the table, S3, SES, a provider's API). Each names the effects it needs
//! as small traits (ports) that the adapters implement, so its retries,
//! idempotency and partial failures are tested with in-memory fakes
//! (`usecases::fakes`) as well as against the emulator.
//!
//! Layers, one direction (checked by `crate::layers`): `domain` ← use
//! cases ← adapters (`store`, `aws`, `secrets`, `rest`, `vonage`,
//! `twilio`) ← wiring (`core`, `providers`) ← `api` ← functions.

pub mod opening;
pub mod pool;
pub mod relay;
pub mod sessions;
pub mod text_emails;
pub mod voicemail;

#[cfg(test)]
pub(crate) mod fakes;

/// What a port's call answers.
pub type Port<T> = Result<T, PortError>;

/// A dependency (the table, S3, SES, a provider's API) failed; its cause is
/// kept as the source, so the log line that reports it names it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PortError(Box<dyn std::error::Error + Send + Sync>);

impl PortError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(e))
    }

    /// The adapter's error, when it is of type `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }
}
