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
use crate::store::quota::Taken;
use crate::store::{Store, StoreError, NEW_ITEM};
use crate::usecases::relay::{MessageLog, SendClaim, SEND_LEASE_SECONDS};

/// The status of a message whose send is in progress.
const SENDING: &str = "sending";
/// When a send in progress may be taken over by a redelivery.
const LEASE: &str = "lease_until";
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
        Store::put_new(self.message_put(session_id, record)).await
    }

    /// The Put of a message's item, condition left to the caller.
    fn message_put(
        &self,
        session_id: &str,
        record: &MessageRecord,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        let sk = keys::session_message(record.provider, &record.message_id);
        let mut put = self
            .put(keys::session(session_id), sk)
            .item("direction", s(&record.direction))
            .item("at", n(record.at))
            .item("status", s(&record.status))
            .item("length", n(record.length as i64))
            .item(keys::TTL, n(record.at + CALL_RETENTION_SECONDS));
        if let Some(body) = &record.body {
            put = put.item("body", s(body));
        }
        put
    }

    /// Claims a message to send through the provider's API: written as
    /// `sending` with a lease, on the condition that it is new or its last
    /// attempt's lease ran out (that attempt died mid-send).
    pub async fn begin_send(
        &self,
        session_id: &str,
        record: &MessageRecord,
    ) -> Result<SendClaim, StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        let sending = MessageRecord {
            status: SENDING.into(),
            ..record.clone()
        };
        let res = self
            .message_put(session_id, &sending)
            .item(LEASE, n(record.at + SEND_LEASE_SECONDS))
            .condition_expression(format!("{NEW_ITEM} OR (#st = :sending AND #lease < :now)"))
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#lease", LEASE)
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":now", n(record.at))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(_) => Ok(SendClaim::Started),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    let status = c.item().and_then(|i| i.get("status"));
                    Ok(
                        match status.and_then(|v| v.as_s().ok()).map(String::as_str) {
                            Some(SENDING) => SendClaim::Sending,
                            _ => SendClaim::Done,
                        },
                    )
                }
                _ => Err(StoreError::sdk("PutItem", e)),
            },
        }
    }

    /// An update of a claimed message's item, which must be there.
    async fn change_message(
        &self,
        session_id: &str,
        provider: Provider,
        message_id: &str,
        update: &str,
        values: [(&'static str, aws_sdk_dynamodb::types::AttributeValue); 1],
    ) -> Result<(), StoreError> {
        let pk = keys::session(session_id);
        let sk = keys::session_message(provider, message_id);
        let only_if = Some("attribute_exists(pk)");
        Store::updated(self.change_item(pk, sk, update, only_if, values)).await
    }

    /// A session's messages, oldest first.
    pub async fn session_messages(
        &self,
        session_id: &str,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let pk = keys::session(session_id);
        let items = self.query_prefix(pk, keys::SESSION_MESSAGE_PREFIX).await?;
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

    async fn begin_send(&self, session: &str, record: &MessageRecord) -> Port<SendClaim> {
        Ok(Store::begin_send(self, session, record).await?)
    }

    /// Records that a message being sent went out.
    async fn message_sent(&self, session: &str, p: Provider, id: &str) -> Port<()> {
        let update = "SET #st = :sent REMOVE #lease";
        let values = [(":sent", s("sent"))];
        Ok(self.change_message(session, p, id, update, values).await?)
    }

    /// Gives a claim back when the relay failed, so the provider's retry
    /// can relay the message.
    async fn forget_message(&self, session: &str, p: Provider, id: &str) -> Port<()> {
        let sk = keys::session_message(p, id);
        Ok(self.delete(keys::session(session), sk).await?)
    }

    /// Marks a claimed message as refused by the provider.
    async fn message_failed(&self, session: &str, p: Provider, id: &str) -> Port<()> {
        let values = [(":failed", s("failed"))];
        Ok(self
            .change_message(session, p, id, "SET #st = :failed", values)
            .await?)
    }
}
