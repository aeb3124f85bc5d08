//! Limits on the automatic replies to texts outside any session
//! (`OUT_OF_SESSION_SMS_TEXT`). Each reply is a text we pay for, sent to
//! whoever wrote: unlimited, a script texting a proxy number from many
//! (premium) numbers, or replaying one signed request, makes us send as
//! many ("SMS pumping"). Two conditional writes bound it:
//!
//! - one reply per sender and proxy number per interval
//!   (`AUTOREPLY#<proxy>` / `TO#<sender>`, its `until` in the future while
//!   the sender has had its reply);
//! - at most so many replies from a proxy number per hour
//!   (`AUTOREPLY#<proxy>` / `HOUR#<unix hour>`, a counter).
//!
//! Both items expire with the table's TTL once they no longer matter.

use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{written, Store, StoreError, NEW_ITEM};

/// Whether a reply may go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyClaim {
    /// Claimed: send it.
    Granted,
    /// This sender had its reply from this number within the interval.
    SenderLimited,
    /// This number sent its hourly share of replies.
    NumberLimited,
}

impl Store {
    /// Claims one automatic reply from `proxy` to `sender` at `now`: at
    /// most one per `interval_seconds` per sender, and `per_hour` per
    /// proxy number in each clock hour (0: never).
    pub async fn claim_reply(
        &self,
        proxy: &PhoneNumber,
        sender: &PhoneNumber,
        now: i64,
        interval_seconds: u64,
        per_hour: u32,
    ) -> Result<ReplyClaim, StoreError> {
        if per_hour == 0 {
            return Ok(ReplyClaim::NumberLimited);
        }
        let until = now.saturating_add(i64::try_from(interval_seconds).unwrap_or(i64::MAX));
        let sender_put = self
            .put(keys::auto_reply(proxy), keys::auto_reply_to(sender))
            .item("until", n(until))
            .item(keys::TTL, n(until))
            // A TTL deletes late: an expired `until` frees the slot too.
            .condition_expression(format!("{NEW_ITEM} OR #until <= :now"))
            .expression_attribute_names("#until", "until")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        if !written("PutItem", sender_put)? {
            return Ok(ReplyClaim::SenderLimited);
        }
        let hour = now.div_euclid(3600);
        let counted = self
            .update(keys::auto_reply(proxy), keys::auto_reply_hour(hour))
            .update_expression("ADD replies :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(replies) OR replies < :cap")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":cap", n(i64::from(per_hour)))
            // Kept a day past its hour, for a look at what happened.
            .expression_attribute_values(":ttl", n((hour + 25) * 3600))
            .send()
            .await;
        if !written("UpdateItem", counted)? {
            return Ok(ReplyClaim::NumberLimited);
        }
        Ok(ReplyClaim::Granted)
    }
}
