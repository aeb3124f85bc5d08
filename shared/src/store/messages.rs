//! Text messages relayed through a session, and texts to masked lines.
//!
//! A relayed message is one item under its session, keyed by the provider's
//! message id: writing it is the claim that makes a second delivery of the
//! same message (a provider retry) relay nothing. One read (the leg) and
//! this one write per message.

use crate::domain::Provider;
use crate::domain::{MessageRecord, TextEmail};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::calls::CALL_RETENTION_SECONDS;
use crate::store::keys;
use crate::store::line_texts::pending_attributes;
use crate::store::query::Scope;
use crate::store::quota::Taken;
use crate::store::{written, Store, StoreError};
use crate::usecases::relay::MessageLog;
use crate::usecases::Port;

/// What a text to a masked line did to its quota.
#[derive(Debug, PartialEq, Eq)]
pub enum LineMessage {
    Admitted,
    QuotaExhausted,
    /// This MessageSid was taken before: do not forward it again.
    Duplicate,
}

impl Store {
    /// Claims a message for relay: `false` when it was claimed before.
    pub async fn claim_message(
        &self,
        session_id: &str,
        record: &MessageRecord,
    ) -> Result<bool, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::session(session_id)))
            .item(
                keys::SK,
                s(keys::session_message(record.provider, &record.message_id)),
            )
            .item("direction", s(&record.direction))
            .item("at", n(record.at))
            .item("status", s(&record.status))
            .item("length", n(record.length as i64))
            .item(keys::TTL, n(record.at + CALL_RETENTION_SECONDS))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(body) = &record.body {
            put = put.item("body", s(body));
        }
        written("PutItem", put.send().await)
    }

    /// Gives a claim back when the relay failed, so the provider's retry
    /// can relay the message.
    pub async fn forget_message(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::session(session_id)))
            .key(keys::SK, s(keys::session_message(provider, message_id)))
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", e))?;
        Ok(())
    }

    /// Marks a claimed message as refused by the provider.
    pub async fn message_failed(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.update(
            keys::session(session_id),
            keys::session_message(provider, message_id),
        )
        .update_expression("SET #st = :failed")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":failed", s("failed"))
        .send()
        .await
        .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    /// A session's messages, oldest first.
    pub async fn session_messages(
        &self,
        session_id: &str,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let items = self
            .query_all(Scope::Partition {
                pk: keys::session(session_id),
                prefix: keys::SESSION_MESSAGE_PREFIX,
            })
            .await?;
        let mut out = Vec::new();
        for item in items {
            let sk = get_s(&item, keys::SK)?;
            let Some((provider, id)) = keys::parse_session_message(sk) else {
                continue;
            };
            out.push(MessageRecord {
                message_id: id.to_string(),
                provider,
                direction: get_s(&item, "direction")?.to_string(),
                at: get_n(&item, "at")?,
                status: get_s(&item, "status")?.to_string(),
                length: get_n(&item, "length")?.max(0) as usize,
                body: opt_s(&item, "body"),
            });
        }
        out.sort_by(|a, b| (a.at, &a.message_id).cmp(&(b.at, &b.message_id)));
        Ok(out)
    }

    /// Counts a text to a masked line against its plan's quota, once per
    /// MessageSid, in one write; with `email`, the same write queues the
    /// owner's email for the worker.
    pub async fn admit_line_message(
        &self,
        line: &PhoneNumber,
        message_sid: &str,
        limit: Option<u32>,
        period_key: &str,
        now: i64,
        email: Option<&TextEmail>,
    ) -> Result<LineMessage, StoreError> {
        let mut item = Item::new();
        item.insert(keys::PK.into(), s(keys::line_message(message_sid)));
        item.insert(keys::SK.into(), s(keys::META));
        item.insert("line".into(), s(line.e164()));
        item.insert("at".into(), n(now));
        item.insert(keys::TTL.into(), n(now + CALL_RETENTION_SECONDS));
        if let Some(email) = email {
            pending_attributes(email, &mut item);
        }
        Ok(
            match self.take_quota(item, line, limit, period_key, now).await? {
                Taken::Counted => LineMessage::Admitted,
                Taken::Exhausted => LineMessage::QuotaExhausted,
                Taken::AlreadyKept => LineMessage::Duplicate,
            },
        )
    }
}

/// The relay's message log.
impl MessageLog for Store {
    async fn claim_message(&self, session: &str, record: &MessageRecord) -> Port<bool> {
        Ok(Store::claim_message(self, session, record).await?)
    }

    async fn forget_message(&self, session: &str, p: Provider, id: &str) -> Port<()> {
        Ok(Store::forget_message(self, session, p, id).await?)
    }

    async fn message_failed(&self, session: &str, p: Provider, id: &str) -> Port<()> {
        Ok(Store::message_failed(self, session, p, id).await?)
    }
}
