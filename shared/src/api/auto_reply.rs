//! Whether a text outside any session gets `OUT_OF_SESSION_SMS_TEXT` back:
//! at most one per sender and proxy number per interval, and so many per
//! proxy number per hour (see [`crate::store::Store::claim_reply`]).
//! Shared by both providers' inbound SMS webhooks.

use crate::config::MessagingConfig;
use crate::phone::PhoneNumber;
use crate::store::{ReplyClaim, Store};

/// Claims a reply from `proxy` to `sender`; `false` when a limit holds it
/// back or the table cannot say (no reply is the cheap failure).
pub async fn may_reply(
    store: &Store,
    messaging: &MessagingConfig,
    proxy: &PhoneNumber,
    sender: &PhoneNumber,
    now: i64,
) -> bool {
    let claim = store
        .claim_reply(
            proxy,
            sender,
            now,
            messaging.out_of_session_reply_interval_seconds,
            messaging.out_of_session_replies_per_hour,
        )
        .await;
    match claim {
        Ok(ReplyClaim::Granted) => true,
        Ok(limited) => {
            let limit = match limited {
                ReplyClaim::SenderLimited => "this sender had its reply",
                _ => "this number's hourly replies are spent",
            };
            tracing::info!(to = %proxy.masked(), from = %sender.masked(), limit, "no reply to a text outside any session");
            false
        }
        Err(e) => {
            tracing::warn!(to = %proxy.masked(), error = %crate::telemetry::chain(&e), "could not claim a reply to a text outside any session: none sent");
            false
        }
    }
}
