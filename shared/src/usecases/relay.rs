//! Relaying a text through a session, the same on both providers: one
//! conditional write claims the provider's message id (a delivery the
//! provider repeats relays nothing), then the text goes out — in the
//! webhook's answer on Twilio (TwiML `<Message>`), through the SMS API on
//! Vonage.
//!
//! On Vonage the claim is a send in progress (`sending`) with a lease, and
//! only a send that went out makes it `sent`. A send that may work later
//! gives the claim back and asks the provider to deliver again; a refusal
//! is kept as failed; a function killed mid-send leaves `sending`, and the
//! provider's redelivery after the lease sends it. Nothing is lost; the one
//! way to a second send is a text that went out while storage then failed
//! to record it, and the provider delivering the webhook again though it
//! was answered 200 — chosen over losing a text.

use std::future::Future;

use crate::domain::{MessageRecord, Provider};
use crate::phone::PhoneNumber;
use crate::usecases::{Port, PortError};

/// A session's relayed messages (the table).
pub trait MessageLog: Sync {
    /// `false` when this message was claimed before.
    fn claim_message(
        &self,
        session_id: &str,
        record: &MessageRecord,
    ) -> impl Future<Output = Port<bool>> + Send;
    /// Claims a text to send through the provider's API: written as
    /// `sending` with a lease of [`SEND_LEASE_SECONDS`] from `record.at`,
    /// unless another attempt holds a live lease or the text is done.
    fn begin_send(
        &self,
        session_id: &str,
        record: &MessageRecord,
    ) -> impl Future<Output = Port<SendClaim>> + Send;
    /// Records that the text went out.
    fn message_sent(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
    ) -> impl Future<Output = Port<()>> + Send;
    /// Gives a claim back, so a redelivery relays the text.
    fn forget_message(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
    ) -> impl Future<Output = Port<()>> + Send;
    fn message_failed(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
    ) -> impl Future<Output = Port<()>> + Send;
}

/// How long a send in progress holds its text: longer than a function
/// runs (10 s), so a live attempt is never doubled; a redelivery after it
/// finds an attempt that died mid-send and sends the text.
pub const SEND_LEASE_SECONDS: i64 = 30;

/// What [`MessageLog::begin_send`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendClaim {
    /// This attempt sends the text (the first, or one after a dead one).
    Started,
    /// Another attempt is sending it now.
    Sending,
    /// Sent, refused or relayed before.
    Done,
}

/// Why a text was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Rate limited or unreachable: worth another try.
    #[error("{0}")]
    Transient(#[source] PortError),
    /// Refused: the same request will be refused again.
    #[error("{0}")]
    Refused(#[source] PortError),
}

/// Sends a text through a provider's REST API.
pub trait SmsSender: Sync {
    fn send_sms(
        &self,
        provider: Provider,
        from: &PhoneNumber,
        to: &PhoneNumber,
        text: &str,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// What became of a text, for the webhook to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// Claimed; the webhook's answer carries the text (Twilio).
    Answer,
    /// Sent through the provider's API.
    Sent,
    /// Relayed before: nothing more.
    Duplicate,
    /// Not sent yet (the claim given back, or another attempt sending
    /// it): answer so the provider delivers it again (503).
    Retry,
    /// The provider refused it; kept as failed (200: a retry changes
    /// nothing).
    Refused,
    /// Storage failed before anything was sent (503: retried, not lost).
    Unavailable,
}

/// The texts' route through a session.
pub struct Route<'a> {
    pub session_id: &'a str,
    pub to: &'a PhoneNumber,
    pub from: &'a PhoneNumber,
    pub text: &'a str,
}

/// Claims a text whose webhook answer carries it (Twilio's `<Message>`):
/// `Answer` the first time, `Duplicate` after.
pub async fn claim<L: MessageLog>(log: &L, session_id: &str, record: &MessageRecord) -> Relayed {
    let id = record.message_id.as_str();
    match log.claim_message(session_id, record).await {
        Ok(true) => {
            tracing::info!(message = id, session = %session_id, length = record.length, "relaying a text");
            Relayed::Answer
        }
        Ok(false) => {
            tracing::info!(message = id, "a text delivered twice: relayed once");
            Relayed::Duplicate
        }
        Err(e) => {
            tracing::error!(message = id, error = %crate::telemetry::chain(&e), "could not record a text");
            Relayed::Unavailable
        }
    }
}

/// Claims a text, then sends it through the provider's API (Vonage).
pub async fn relay<L: MessageLog, S: SmsSender>(
    log: &L,
    sender: &S,
    route: Route<'_>,
    record: &MessageRecord,
) -> Relayed {
    let id = record.message_id.as_str();
    match log.begin_send(route.session_id, record).await {
        Ok(SendClaim::Started) => {}
        Ok(SendClaim::Sending) => {
            tracing::info!(
                message = id,
                "a text another attempt is sending: asked again later"
            );
            return Relayed::Retry;
        }
        Ok(SendClaim::Done) => {
            tracing::info!(message = id, "a text delivered twice: relayed once");
            return Relayed::Duplicate;
        }
        Err(e) => {
            tracing::error!(message = id, error = %crate::telemetry::chain(&e), "could not record a text");
            return Relayed::Unavailable;
        }
    }
    match sender
        .send_sms(record.provider, route.from, route.to, route.text)
        .await
    {
        Ok(()) => {
            tracing::info!(message = id, session = %route.session_id, length = record.length, "text relayed");
            if let Err(e) = log
                .message_sent(route.session_id, record.provider, id)
                .await
            {
                // Still `sending`: answered 200, the provider does not
                // deliver it again.
                tracing::error!(message = id, error = %crate::telemetry::chain(&e), "a text went out but could not be recorded as sent");
            }
            Relayed::Sent
        }
        Err(SendError::Transient(e)) => {
            tracing::warn!(message = id, error = %crate::telemetry::chain(&e), "relay failed for now; the provider will retry");
            if let Err(se) = log
                .forget_message(route.session_id, record.provider, id)
                .await
            {
                tracing::error!(message = id, error = %crate::telemetry::chain(&se), "could not give back a text's claim");
            }
            Relayed::Retry
        }
        Err(SendError::Refused(e)) => {
            tracing::error!(message = id, session = %route.session_id, error = %crate::telemetry::chain(&e), "the provider refused to relay a text");
            if let Err(se) = log
                .message_failed(route.session_id, record.provider, id)
                .await
            {
                tracing::error!(message = id, error = %crate::telemetry::chain(&se), "could not mark a text failed");
            }
            Relayed::Refused
        }
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
