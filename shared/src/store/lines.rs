//! Masked lines (a `line` attribute on the number's META item), their
//! quota counters, and the context of each forwarded call.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::domain::line::{Line, VoicemailSettings};
use crate::domain::CallContext;
use crate::domain::PoolNumber;
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::numbers::pool_number;
use crate::store::quota::Taken;
use crate::store::{kept, written, Store, StoreError};

/// Call contexts are kept a week: long enough for late callbacks.
const CALL_CONTEXT_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, PartialEq, Eq)]
pub enum PutLine {
    Created,
    Updated,
    NotFound,
    InUse,
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
        let Some(out) = kept("UpdateItem", res)? else {
            return Ok(PutLine::NotFound);
        };
        let old = out.attributes.and_then(|a| opt_s(&a, "line"));
        // A session allocated between the check and the write: undo.
        if self.active_sessions_on(number, now).await? > 0 {
            let undo = self.update(keys::number(number), keys::META);
            let undo = match &old {
                Some(prev) => undo
                    .update_expression("SET line = :line")
                    .expression_attribute_values(":line", s(prev)),
                None => undo.update_expression("REMOVE line"),
            };
            Store::updated(undo).await?;
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

pub(crate) fn line_of(item: &Item) -> Result<Option<Line>, StoreError> {
    match item.get("line") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json)
            .map(Some)
            .map_err(|e| StoreError::malformed(format!("line: {e}"))),
        _ => Ok(None),
    }
}
