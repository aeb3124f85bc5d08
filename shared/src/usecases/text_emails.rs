//! Texts to a masked line, emailed to its owner by the worker (the
//! `twilio-sms` webhook only queues them: it builds no SES client). Same
//! guarantees as a voicemail: a lease against double sends, backoff on
//! failure, and after `VOICEMAIL_MAX_ATTEMPTS` the text is marked failed and
//! the failed metric fires. The text itself reached the owner's phone when
//! the webhook answered; the email is the copy.

use crate::clock::Clock;
use crate::config::VoicemailConfig;
use crate::domain::email;
use crate::usecases::voicemail::{
    backoff, Mailer, Outcome, TextMark, VoicemailStore, LEASE_SECONDS,
};
use crate::usecases::Port;

/// Emails one queued text if it is pending and free.
pub async fn process(
    store: &impl VoicemailStore,
    mailer: &impl Mailer,
    config: &VoicemailConfig,
    clock: &Clock,
    message_sid: &str,
) -> Port<Outcome> {
    let now = clock.now();
    let Some(text) = store
        .claim_text_email(message_sid, now, LEASE_SECONDS)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    let sent = mailer
        .send(&config.sender_email, &text.owner_email, email::text(&text))
        .await;
    match sent {
        Ok(_) => {
            store
                .mark_text_email(message_sid, TextMark::Emailed { at: now })
                .await?;
            tracing::info!(message = message_sid, line = %text.line.masked(), "text emailed to the line owner");
            Ok(Outcome::Delivered)
        }
        Err(reason) => {
            let attempts = text.attempts + 1;
            if attempts >= config.voicemail_max_attempts {
                store
                    .mark_text_email(message_sid, TextMark::Failed { attempts })
                    .await?;
                tracing::error!(message = message_sid, attempts, error = %reason, "text email failed: retry budget spent");
                crate::metrics::voicemail_failed();
                Ok(Outcome::Failed)
            } else {
                let wait = backoff(attempts);
                let until = now + wait;
                store
                    .mark_text_email(message_sid, TextMark::Later { until, attempts })
                    .await?;
                tracing::warn!(message = message_sid, attempts, error = %reason, retry_in = wait, "text email failed; will retry");
                Ok(Outcome::Retrying)
            }
        }
    }
}
