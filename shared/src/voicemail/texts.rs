//! Texts to a masked line, emailed to its owner by the worker (the
//! `twilio-sms` webhook only queues them: it builds no SES client). Same
//! guarantees as a voicemail: a lease against double sends, backoff on
//! failure, and after `VOICEMAIL_MAX_ATTEMPTS` the text is marked failed and
//! the failed metric fires. The text itself reached the owner's phone when
//! the webhook answered; the email is the copy.

use crate::store::{StoreError, TextEmail};
use crate::voicemail::email::Email;
use crate::voicemail::{
    sdk_reason, Outcome, VoicemailState, FIRST_BACKOFF_SECONDS, LEASE_SECONDS, MAX_BACKOFF_SECONDS,
};

/// Emails one queued text if it is pending and free.
pub async fn process(state: &VoicemailState, message_sid: &str) -> Result<Outcome, StoreError> {
    let store = &state.core.store;
    let now = state.core.clock.now();
    let Some(text) = store
        .claim_text_email(message_sid, now, LEASE_SECONDS)
        .await?
    else {
        return Ok(Outcome::Skipped);
    };
    match send(state, &text).await {
        Ok(()) => {
            store.text_emailed(message_sid, now).await?;
            tracing::info!(message = message_sid, line = %text.line.masked(), "text emailed to the line owner");
            Ok(Outcome::Delivered)
        }
        Err(reason) => {
            let attempts = text.attempts + 1;
            if attempts >= state.config.voicemail_max_attempts {
                store.text_email_failed(message_sid, attempts).await?;
                tracing::error!(message = message_sid, attempts, error = %reason, "text email failed: retry budget spent");
                crate::metrics::voicemail_failed();
                Ok(Outcome::Failed)
            } else {
                let backoff =
                    (FIRST_BACKOFF_SECONDS << (attempts - 1).min(10)).min(MAX_BACKOFF_SECONDS);
                store
                    .text_email_later(message_sid, now + backoff, attempts)
                    .await?;
                tracing::warn!(message = message_sid, attempts, error = %reason, retry_in = backoff, "text email failed; will retry");
                Ok(Outcome::Retrying)
            }
        }
    }
}

/// What the owner reads.
pub fn compose(text: &TextEmail) -> Email {
    let (line, from) = (text.line.e164(), text.from.e164());
    Email {
        subject: format!("Text to {line} from {from}"),
        text: format!("{}\n\nFrom {from} to your line {line}.\n", text.body),
        html: format!(
            "<p>{}</p><p>From {from} to your line {line}.</p>",
            quick_xml::escape::escape(&text.body)
        ),
    }
}

/// The SES error's code only: its message can hold addresses.
async fn send(state: &VoicemailState, text: &TextEmail) -> Result<(), String> {
    state
        .ses
        .send_email()
        .source(&state.config.sender_email)
        .destination(
            aws_sdk_ses::types::Destination::builder()
                .to_addresses(&text.owner_email)
                .build(),
        )
        .message(compose(text).into_ses()?)
        .send()
        .await
        .map_err(|e| sdk_reason(&e))?;
    Ok(())
}
