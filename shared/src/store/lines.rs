//! Masked lines (a `line` attribute on the number's META item), their
//! quota counters, and the context of each forwarded call.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};

use crate::domain::line::{Line, VoicemailSettings};
use crate::domain::CallContext;
use crate::domain::{Leg, PoolNumber};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::numbers::pool_number;
use crate::store::sessions::leg_from;
use crate::store::{written, Store, StoreError, StoreErrorKind};

/// Call contexts are kept a week: long enough for late callbacks.
const CALL_CONTEXT_SECONDS: i64 = 7 * 24 * 3600;
/// Quota counters outlive their period by a little.
const QUOTA_RETENTION_SECONDS: i64 = 40 * 24 * 3600;
/// BatchGetItem rounds before unprocessed keys count as an outage.
const UNPROCESSED_TRIES: u32 = 4;

#[derive(Debug, PartialEq, Eq)]
pub enum PutLine {
    Created,
    Updated,
    NotFound,
    InUse,
}

/// What one read returns for an inbound call to `to` from `from`.
#[derive(Debug, Default)]
pub struct Inbound {
    pub leg: Option<Leg>,
    pub number: Option<PoolNumber>,
    pub line: Option<Line>,
}

/// What [`Store::take_quota`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Counted now.
    Counted,
    Exhausted,
    /// The item was already there: this use was counted before.
    AlreadyKept,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    QuotaExhausted,
}

impl Store {
    /// Makes `number` a masked line, or updates its settings. Refused while
    /// the number routes an active session; allocation skips line numbers.
    pub async fn put_line(
        &self,
        number: &PhoneNumber,
        line: &Line,
        now: i64,
    ) -> Result<PutLine, StoreError> {
        let json = serde_json::to_string(line).map_err(StoreError::encode)?;
        if self.active_sessions_on(number, now).await? > 0 {
            return Ok(PutLine::InUse);
        }
        let res = self
            .update(keys::number(number), keys::META)
            .update_expression("SET line = :line")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":line", s(&json))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let old = match res {
            Ok(out) => out.attributes.and_then(|a| opt_s(&a, "line")),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(PutLine::NotFound)
            }
            Err(e) => return Err(StoreError::sdk("UpdateItem", e)),
        };
        // A session allocated between the check and the write: undo.
        if self.active_sessions_on(number, now).await? > 0 {
            let undo = self.update(keys::number(number), keys::META);
            let undo = match &old {
                Some(prev) => undo
                    .update_expression("SET line = :line")
                    .expression_attribute_values(":line", s(prev)),
                None => undo.update_expression("REMOVE line"),
            };
            undo.send()
                .await
                .map_err(|e| StoreError::sdk("UpdateItem", e))?;
            return Ok(PutLine::InUse);
        }
        Ok(if old.is_some() {
            PutLine::Updated
        } else {
            PutLine::Created
        })
    }

    pub async fn get_line(
        &self,
        number: &PhoneNumber,
    ) -> Result<Option<(PoolNumber, Line)>, StoreError> {
        let item = self.get_item(keys::number(number), keys::META).await?;
        let Some(item) = item else {
            return Ok(None);
        };
        match line_of(&item)? {
            Some(line) => Ok(Some((pool_number(&item)?, line))),
            None => Ok(None),
        }
    }

    /// Turns a line back into a plain pool number; `false` if it was not a line.
    pub async fn delete_line(&self, number: &PhoneNumber) -> Result<bool, StoreError> {
        let res = self
            .update(keys::number(number), keys::META)
            .update_expression("REMOVE line")
            .condition_expression("attribute_exists(line)")
            .send()
            .await;
        written("UpdateItem", res)
    }

    /// Calls used in the current period.
    pub async fn quota_used(
        &self,
        number: &PhoneNumber,
        period_key: &str,
    ) -> Result<u32, StoreError> {
        let item = self
            .get_item(keys::number(number), keys::quota(period_key))
            .await?;
        Ok(item.and_then(|i| opt_n(&i, "used")).unwrap_or(0) as u32)
    }

    /// The routing read for an inbound call: the session leg for
    /// (to, from) and the number's META item, in one BatchGetItem.
    pub async fn resolve_inbound(
        &self,
        to: &PhoneNumber,
        from: Option<&PhoneNumber>,
    ) -> Result<Inbound, StoreError> {
        let mut keys_and = KeysAndAttributes::builder().consistent_read(true).keys(
            [
                (keys::PK.to_string(), s(keys::number(to))),
                (keys::SK.to_string(), s(keys::META)),
            ]
            .into(),
        );
        if let Some(from) = from {
            keys_and = keys_and.keys(
                [
                    (keys::PK.to_string(), s(keys::number(to))),
                    (keys::SK.to_string(), s(keys::leg(from))),
                ]
                .into(),
            );
        }
        let mut request = Some(
            keys_and
                .build()
                .map_err(|e| StoreError::request("building a request", e))?,
        );
        let mut items = Vec::new();
        // Unprocessed keys only come back under throttling: back off with
        // jitter, and if some are still unread say "unavailable", never "no
        // route" (a missing leg would refuse a call that should connect).
        for attempt in 0..UNPROCESSED_TRIES {
            let Some(req) = request.take() else { break };
            if attempt > 0 {
                let jitter = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
                tokio::time::sleep(std::time::Duration::from_millis((10 << attempt) + jitter))
                    .await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, req)
                .send()
                .await
                .map_err(|e| StoreError::sdk("BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            request = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
        }
        if request.is_some() {
            // DynamoDB leaves keys unprocessed when it throttles.
            return Err(StoreError::gave_up(
                "BatchGetItem",
                StoreErrorKind::Throttled,
            ));
        }
        let mut inbound = Inbound::default();
        for item in &items {
            if get_s(item, keys::SK)? == keys::META {
                inbound.line = line_of(item)?;
                inbound.number = Some(pool_number(item)?);
            } else {
                inbound.leg = Some(leg_from(item)?);
            }
        }
        Ok(inbound)
    }

    /// Admits a call on a line: takes one call from the period's quota with
    /// one conditional update (so concurrent calls cannot overdraw it) and
    /// keeps the call's context, in one transaction. A retried webhook for
    /// the same CallSid is admitted again without using more quota.
    pub async fn admit_line_call(
        &self,
        ctx: &CallContext,
        limit: Option<u32>,
        period_key: &str,
        now: i64,
    ) -> Result<Admission, StoreError> {
        let voicemail = serde_json::to_string(&ctx.voicemail).map_err(StoreError::encode)?;
        let mut item = Item::new();
        item.insert(keys::PK.into(), s(keys::call(&ctx.call_sid)));
        item.insert(keys::SK.into(), s(keys::META));
        item.insert("line".into(), s(ctx.line.e164()));
        item.insert("caller".into(), s(&ctx.caller));
        item.insert("owner_email".into(), s(&ctx.owner_email));
        item.insert("voicemail".into(), s(voicemail));
        item.insert("language".into(), s(&ctx.language));
        item.insert("created_at".into(), n(ctx.created_at));
        item.insert(keys::TTL.into(), n(now + CALL_CONTEXT_SECONDS));
        Ok(
            match self
                .take_quota(item, &ctx.line, limit, period_key, now)
                .await?
            {
                // A retried webhook for an admitted call is admitted again.
                Taken::Counted | Taken::AlreadyKept => Admission::Admitted,
                Taken::Exhausted => Admission::QuotaExhausted,
            },
        )
    }

    /// Takes one use from a line's quota for the period and writes `item`
    /// (which must be new: `attribute_not_exists(pk)`) in one transaction,
    /// so concurrent uses cannot overdraw the quota and a retried webhook
    /// (its item already kept) takes nothing more.
    pub(crate) async fn take_quota(
        &self,
        item: Item,
        line: &PhoneNumber,
        limit: Option<u32>,
        period_key: &str,
        now: i64,
    ) -> Result<Taken, StoreError> {
        // A plan of nothing admits nothing (the counter's first-use
        // condition would let one through).
        if limit == Some(0) {
            return Ok(Taken::Exhausted);
        }
        let Some(limit) = limit else {
            let res = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            return match res {
                Ok(_) => Ok(Taken::Counted),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(Taken::AlreadyKept)
                }
                Err(e) => Err(StoreError::sdk("PutItem", e)),
            };
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::request("building a request", e))?;
        let take = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::number(line)))
            .key(keys::SK, s(keys::quota(period_key)))
            .update_expression("ADD used :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(used) OR used < :limit")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit as i64))
            .expression_attribute_values(":ttl", n(now + QUOTA_RETENTION_SECONDS))
            .build()
            .map_err(|e| StoreError::request("building a request", e))?;
        for attempt in 0..6u64 {
            let res = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(take.clone()).build())
                .transact_items(TransactWriteItem::builder().put(put.clone()).build())
                .send()
                .await;
            let err = match res {
                Ok(_) => return Ok(Taken::Counted),
                Err(e) => e,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) =
                err.as_service_error()
            else {
                return Err(StoreError::sdk("TransactWriteItems", err));
            };
            let codes: Vec<&str> = cancel
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            if codes.get(1) == Some(&"ConditionalCheckFailed") {
                return Ok(Taken::AlreadyKept);
            }
            if codes.first() == Some(&"ConditionalCheckFailed") {
                return Ok(Taken::Exhausted);
            }
            // Another use's transaction held the counter: go again shortly.
            let jitter = (uuid::Uuid::new_v4().as_u128() % 15) as u64;
            tokio::time::sleep(std::time::Duration::from_millis(5 + jitter + attempt * 10)).await;
        }
        Err(StoreError::gave_up(
            "updating a quota counter",
            StoreErrorKind::Contended,
        ))
    }

    pub async fn call_context(&self, call_sid: &str) -> Result<Option<CallContext>, StoreError> {
        let item = self.get_item(keys::call(call_sid), keys::META).await?;
        let Some(item) = item else {
            return Ok(None);
        };
        let voicemail: VoicemailSettings = serde_json::from_str(get_s(&item, "voicemail")?)
            .map_err(|e| StoreError::malformed(format!("voicemail settings: {e}")))?;
        Ok(Some(CallContext {
            call_sid: call_sid.to_string(),
            line: get_phone(&item, "line")?,
            caller: get_s(&item, "caller")?.to_string(),
            owner_email: get_s(&item, "owner_email")?.to_string(),
            voicemail,
            language: get_s(&item, "language")?.to_string(),
            created_at: get_n(&item, "created_at")?,
        }))
    }

    /// Records how a forwarded call ended; `false` when the call is not one
    /// of our line calls.
    pub async fn finish_line_call(
        &self,
        call_sid: &str,
        status: &str,
        duration: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .update(keys::call(call_sid), keys::META)
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#st", "final_status")
            .expression_attribute_values(":st", s(status))
            .expression_attribute_values(":now", n(now));
        req = match duration {
            Some(d) => req
                .update_expression("SET #st = :st, ended_at = :now, duration_seconds = :d")
                .expression_attribute_values(":d", n(d)),
            None => req.update_expression("SET #st = :st, ended_at = :now"),
        };
        written("UpdateItem", req.send().await)
    }
}

fn line_of(item: &Item) -> Result<Option<Line>, StoreError> {
    match item.get("line") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StoreError::malformed(format!("line: {e}"))),
        _ => Ok(None),
    }
}
