//! Call events, kept by call uuid, and a per-session list of calls.

use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem, Update};

use crate::domain::CallEvent;
use crate::domain::{CallSummary, TokenId};
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError, Transacted};

/// What one write of an event did.
enum Written {
    Yes,
    Replayed,
    /// The session's conditions failed; nothing was written.
    SessionRefused,
}

/// Call records are kept this long.
pub const CALL_RETENTION_SECONDS: i64 = 90 * 24 * 3600;

/// What became of a call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKept {
    Kept,
    /// Its webhook token was used before: nothing was written.
    Replayed,
}

/// A webhook token to claim with the event it carries, and when to forget it.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub token: &'a TokenId,
    pub forget_at: i64,
}

impl Store {
    /// Keeps one event (idempotent: the same event twice is one item) and,
    /// when it belongs to a session, updates that session's call list.
    /// Events may arrive out of order; the list keeps the newest. With a
    /// `claim`, the event's token is recorded as used in the same request,
    /// and a token used before writes nothing (`Replayed`).
    ///
    /// One request: the token, the event and the session's call entry are
    /// one transaction. Only when the session part's conditions fail (an
    /// unknown session, or an event older than the one kept) does a second
    /// request keep the event and the token without it.
    pub async fn record_call_event(
        &self,
        event: &CallEvent,
        session_id: Option<&str>,
        claim: Option<Claim<'_>>,
        now: i64,
    ) -> Result<EventKept, StoreError> {
        // When the provider stamped the event, else when it arrived.
        let timestamp = event
            .timestamp
            .clone()
            .unwrap_or_else(|| crate::clock::rfc3339(now));
        let event_put = self.event_put(event, &timestamp, session_id, now)?;
        let claim_put = claim.map(|c| self.claim_put(c)).transpose()?;
        if let Some(sid) = session_id {
            let session_items = self.session_call_items(event, &timestamp, sid, now)?;
            match self
                .write_event(claim_put.clone(), event_put.clone(), session_items)
                .await?
            {
                Written::Yes => return Ok(EventKept::Kept),
                Written::Replayed => return Ok(EventKept::Replayed),
                Written::SessionRefused => {}
            }
        }
        match self.write_event(claim_put, event_put, Vec::new()).await? {
            Written::Replayed => Ok(EventKept::Replayed),
            Written::Yes | Written::SessionRefused => Ok(EventKept::Kept),
        }
    }

    fn event_put(
        &self,
        event: &CallEvent,
        timestamp: &str,
        session_id: Option<&str>,
        now: i64,
    ) -> Result<Put, StoreError> {
        let raw = serde_json::to_string(&event.raw).unwrap_or_default();
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::call(&event.uuid)))
            .item(keys::SK, s(keys::call_event(timestamp, &event.status)))
            .item("status", s(&event.status))
            .item("payload", s(raw))
            .item("received_at", n(now))
            .item(keys::TTL, n(now + CALL_RETENTION_SECONDS));
        if let Some(sid) = session_id {
            put = put.item("session_id", s(sid));
        }
        put.build()
            .map_err(|e| StoreError::request("building a request", e))
    }

    /// The session exists, and its entry for this call is older than the
    /// event.
    fn session_call_items(
        &self,
        event: &CallEvent,
        timestamp: &str,
        sid: &str,
        now: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let exists = ConditionCheck::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::session(sid)))
            .key(keys::SK, s(keys::META))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::request("building a request", e))?;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::session(sid)))
            .key(keys::SK, s(keys::session_call(&event.uuid)))
            .condition_expression("attribute_not_exists(updated_at) OR updated_at <= :ts")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":st", s(&event.status))
            .expression_attribute_values(":ts", s(timestamp))
            .expression_attribute_values(":ttl", n(now + CALL_RETENTION_SECONDS));
        let mut set = vec!["#st = :st", "updated_at = :ts", "#ttl = :ttl"];
        update = update.expression_attribute_names("#ttl", keys::TTL);
        if let Some(c) = &event.conversation_uuid {
            set.push("conversation_uuid = :c");
            update = update.expression_attribute_values(":c", s(c));
        }
        if let Some(d) = &event.direction {
            set.push("direction = :d");
            update = update.expression_attribute_values(":d", s(d));
        }
        if let Some(secs) = event
            .duration
            .as_deref()
            .and_then(|d| d.parse::<i64>().ok())
        {
            set.push("duration_seconds = :dur");
            update = update.expression_attribute_values(":dur", n(secs));
        }
        let update = update
            .update_expression(format!("SET {}", set.join(", ")))
            .build()
            .map_err(|e| StoreError::request("building a request", e))?;
        Ok(vec![
            TransactWriteItem::builder().condition_check(exists).build(),
            TransactWriteItem::builder().update(update).build(),
        ])
    }

    /// One request: a plain put when there is nothing else to write, else a
    /// transaction of [claim], event, [session items].
    async fn write_event(
        &self,
        claim: Option<Put>,
        event: Put,
        session: Vec<TransactWriteItem>,
    ) -> Result<Written, StoreError> {
        if claim.is_none() && session.is_empty() {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(event.item))
                .send()
                .await
                .map_err(|e| StoreError::sdk("PutItem", e))?;
            return Ok(Written::Yes);
        }
        let claimed = claim.is_some();
        let mut items: Vec<TransactWriteItem> = claim
            .into_iter()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .collect();
        items.push(TransactWriteItem::builder().put(event).build());
        items.extend(session);
        let sent = self.transact(items).await;
        match sent.map_err(|e| StoreError::sdk("TransactWriteItems", e))? {
            Transacted::Written => Ok(Written::Yes),
            // Only failed conditions are benign. A conflict or throttling
            // answers 503, so the provider sends the event again.
            Transacted::Cancelled(c) if c.only_conditions() => Ok(if claimed && c.failed(0) {
                Written::Replayed
            } else {
                Written::SessionRefused
            }),
            Transacted::Cancelled(c) => Err(c.into_error()),
        }
    }

    pub async fn session_calls(&self, session_id: &str) -> Result<Vec<CallSummary>, StoreError> {
        let pk = keys::session(session_id);
        let items = self.query_prefix(pk, keys::SESSION_CALL_PREFIX).await?;
        let mut calls = Vec::new();
        for item in items {
            let sk = get_s(&item, keys::SK)?;
            calls.push(CallSummary {
                uuid: keys::session_call_uuid(sk).to_string(),
                conversation_uuid: opt_s(&item, "conversation_uuid"),
                status: get_s(&item, "status")?.to_string(),
                direction: opt_s(&item, "direction"),
                duration_seconds: opt_n(&item, "duration_seconds"),
                updated_at: get_s(&item, "updated_at")?.to_string(),
            });
        }
        calls.sort_by(|a, b| a.updated_at.cmp(&b.updated_at));
        Ok(calls)
    }
}
