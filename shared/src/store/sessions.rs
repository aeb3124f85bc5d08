//! Sessions and their legs.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use crate::domain::{Leg, Participant, Provider, Session, SessionStatus};
use crate::domain::{Membership, PoolNumber, ServiceSid};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::listing;
use crate::store::numbers::active_condition;
use crate::store::service_numbers::allocatable_condition;
use crate::store::{build, Store, StoreError, StoreErrorKind, Transacted, NEW_ITEM};
use crate::usecases::opening::NoticeStore;
use crate::usecases::sessions::{CommitError, SessionStore};
use crate::usecases::Port;

/// Closed sessions are kept this long for lookups, then TTL removes them.
pub const SESSION_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

#[derive(Debug, PartialEq, Eq)]
pub enum CloseSession {
    Closed,
    AlreadyClosed,
    NotFound,
}

/// A transaction part the SDK's builder refused.
impl Store {
    /// Numbers `participant` dials in unexpired sessions. Read from an index,
    /// so possibly a moment stale: the create transaction's conditions settle
    /// any race.
    pub async fn numbers_dialled_by(
        &self,
        participant: &PhoneNumber,
        now: i64,
    ) -> Result<HashSet<PhoneNumber>, StoreError> {
        let index = [keys::PARTICIPANT_INDEX, keys::PARTICIPANT_PK];
        let items = self
            .query_index(index, keys::participant(participant))
            .await?;
        let mut busy = HashSet::new();
        for item in items {
            if get_n(&item, "expires_at")? > now {
                busy.insert(get_phone(&item, "proxy")?);
            }
        }
        Ok(busy)
    }

    /// Writes the session and both legs in one transaction. Each leg is
    /// written only if its (proxy, caller) pair is free or expired, and each
    /// proxy number must still be active in the pool, in the session's
    /// service and unreserved (so a number that moved, or a service deleted
    /// meanwhile, loses the race: a service is deleted only once it has no
    /// number).
    pub async fn create_session(&self, session: &Session, now: i64) -> Result<(), CommitError> {
        let ttl = session.expires_at + SESSION_RETENTION_SECONDS;
        let [a, b] = &session.participants;
        let mut items = Vec::with_capacity(5);
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::session(&session.id)))
            .item(keys::SK, s(keys::META))
            .item("provider", s(session.provider.as_str()))
            .item("service", s(session.service.as_str()))
            .item("status", s("open"))
            .item("p0", s(a.number.e164()))
            .item("p0_proxy", s(a.proxy_number.e164()))
            .item("p1", s(b.number.e164()))
            .item("p1_proxy", s(b.proxy_number.e164()))
            .item("created_at", n(session.created_at))
            .item("expires_at", n(session.expires_at))
            .item(keys::TTL, n(ttl))
            .item(keys::SESSIONS_PK, s(keys::SESSIONS))
            .item(
                keys::SESSIONS_SK,
                s(keys::sessions_sort(session.created_at, &session.id)),
            )
            .condition_expression(NEW_ITEM);
        for (i, p) in session.participants.iter().enumerate() {
            if let Some(label) = &p.label {
                put = put.item(format!("p{i}_label"), s(label));
            }
        }
        items.push(
            TransactWriteItem::builder()
                .put(build(put.build())?)
                .build(),
        );
        for leg in session.legs() {
            let put = Put::builder()
                .table_name(&self.table)
                .item(keys::PK, s(keys::number(&leg.proxy)))
                .item(keys::SK, s(keys::leg(&leg.caller)))
                .item("proxy", s(leg.proxy.e164()))
                .item("caller", s(leg.caller.e164()))
                .item("callee", s(leg.callee.e164()))
                .item("caller_id", s(leg.caller_id.e164()))
                .item("session_id", s(&leg.session_id))
                .item("provider", s(leg.provider.as_str()))
                .item("expires_at", n(leg.expires_at))
                .item("caller_index", n(leg.caller_index.unwrap_or(0).into()))
                .item(keys::TTL, n(leg.expires_at))
                .item(keys::PARTICIPANT_PK, s(keys::participant(&leg.caller)))
                .item(keys::PARTICIPANT_SK, s(keys::number(&leg.proxy)))
                .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
                .expression_attribute_values(":now", n(now));
            items.push(
                TransactWriteItem::builder()
                    .put(build(put.build())?)
                    .build(),
            );
        }
        let mut checked = vec![a.proxy_number.clone()];
        if b.proxy_number != a.proxy_number {
            checked.push(b.proxy_number.clone());
        }
        for number in &checked {
            let (cond, name, value) = active_condition();
            let (member, names, svc) = allocatable_condition(&session.service);
            let mut check = ConditionCheck::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::number(number)))
                .key(keys::SK, s(keys::META))
                .condition_expression(format!("{cond} AND {member}"))
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(name, value);
            for (placeholder, attr) in names {
                check = check.expression_attribute_names(placeholder, attr);
            }
            if let Some(svc) = svc {
                check = check.expression_attribute_values(":svc", svc);
            }
            items.push(
                TransactWriteItem::builder()
                    .condition_check(build(check.build())?)
                    .build(),
            );
        }
        // Last, so the cancellation reasons above keep their positions.
        items.extend(listing::participant_entries(&self.table, session, ttl)?);
        let cancel = match self.transact(items).await {
            Ok(Transacted::Written) => return Ok(()),
            Ok(Transacted::Cancelled(cancel)) => cancel,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_transaction_in_progress_exception()) =>
            {
                return Err(CommitError::Contention)
            }
            Err(err) => {
                return Err(CommitError::Unavailable(
                    StoreError::sdk("TransactWriteItems", err).into(),
                ))
            }
        };
        let mut taken = Vec::new();
        for (i, p) in session.participants.iter().enumerate() {
            if cancel.failed(1 + i) {
                taken.push((i, p.proxy_number.clone()));
            }
        }
        let gone: Vec<PhoneNumber> = checked
            .iter()
            .enumerate()
            .filter(|(i, _)| cancel.failed(3 + i))
            .map(|(_, n)| n.clone())
            .collect();
        if taken.is_empty() && gone.is_empty() {
            // Conflicts with a concurrent transaction, or a reason list we
            // could not read: retrying is safe either way.
            Err(CommitError::Contention)
        } else {
            Err(CommitError::Lost { taken, gone })
        }
    }

    /// Keeps the notices' outcome on the session (never the text or a number).
    pub async fn set_notifications(
        &self,
        id: &str,
        notifications: &[crate::domain::Notification],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(notifications).map_err(StoreError::encode)?;
        Store::updated(
            self.update(keys::session(id), keys::META.to_string())
                .update_expression("SET notifications = :n")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":n", s(json)),
        )
        .await
    }

    pub async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let item = self.get_item(keys::session(id), keys::META).await?;
        item.as_ref().map(|item| session_from(id, item)).transpose()
    }

    /// Closes a session and deletes its legs in one transaction, so its
    /// numbers stop routing at once. A leg another session reused after this
    /// one expired is left alone.
    pub async fn close_session(&self, id: &str, now: i64) -> Result<CloseSession, StoreError> {
        let Some(session) = self.get_session(id).await? else {
            return Ok(CloseSession::NotFound);
        };
        if session.status == SessionStatus::Closed {
            return Ok(CloseSession::AlreadyClosed);
        }
        let mut legs: Vec<Leg> = session.legs().into_iter().collect();
        for _ in 0..4 {
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::session(id)))
                .key(keys::SK, s(keys::META))
                .update_expression("SET #st = :closed, closed_at = :now")
                .condition_expression("#st = :open")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":closed", s("closed"))
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":now", n(now));
            let mut items = vec![TransactWriteItem::builder()
                .update(build(update.build())?)
                .build()];
            for leg in &legs {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key(keys::PK, s(keys::number(&leg.proxy)))
                    .key(keys::SK, s(keys::leg(&leg.caller)))
                    .condition_expression("session_id = :sid")
                    .expression_attribute_values(":sid", s(id));
                items.push(
                    TransactWriteItem::builder()
                        .delete(build(delete.build())?)
                        .build(),
                );
            }
            let sent = self.transact(items).await;
            let cancel = match sent.map_err(|e| StoreError::sdk("TransactWriteItems", e))? {
                Transacted::Written => return Ok(CloseSession::Closed),
                Transacted::Cancelled(cancel) => cancel,
            };
            if cancel.failed(0) {
                return Ok(CloseSession::AlreadyClosed);
            }
            // Drop legs that no longer belong to this session and go again.
            let mut index = 0;
            legs.retain(|_| {
                index += 1;
                !cancel.failed(index)
            });
        }
        Err(StoreError::gave_up(
            "closing a session",
            StoreErrorKind::Contended,
        ))
    }
}

pub(crate) fn leg_from(item: &Item) -> Result<Leg, StoreError> {
    let provider = get_s(item, "provider")?;
    Ok(Leg {
        proxy: get_phone(item, "proxy")?,
        caller: get_phone(item, "caller")?,
        callee: get_phone(item, "callee")?,
        caller_id: get_phone(item, "caller_id")?,
        session_id: get_s(item, "session_id")?.to_string(),
        provider: Provider::parse(provider)
            .ok_or_else(|| StoreError::malformed(format!("provider {provider}")))?,
        expires_at: get_n(item, "expires_at")?,
        caller_index: opt_n(item, "caller_index").and_then(|i| u8::try_from(i).ok()),
    })
}

pub(crate) fn session_from(id: &str, item: &Item) -> Result<Session, StoreError> {
    let provider = get_s(item, "provider")?;
    let status = match get_s(item, "status")? {
        "open" => SessionStatus::Open,
        _ => SessionStatus::Closed,
    };
    Ok(Session {
        id: id.to_string(),
        provider: Provider::parse(provider)
            .ok_or_else(|| StoreError::malformed(format!("provider {provider}")))?,
        status,
        participants: [
            Participant {
                number: get_phone(item, "p0")?,
                proxy_number: get_phone(item, "p0_proxy")?,
                label: opt_s(item, "p0_label"),
            },
            Participant {
                number: get_phone(item, "p1")?,
                proxy_number: get_phone(item, "p1_proxy")?,
                label: opt_s(item, "p1_label"),
            },
        ],
        created_at: get_n(item, "created_at")?,
        expires_at: get_n(item, "expires_at")?,
        closed_at: opt_n(item, "closed_at"),
        notifications: opt_s(item, "notifications")
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        // Sessions stored before services belong to the default one.
        service: opt_s(item, "service")
            .and_then(|sid| ServiceSid::parse(&sid))
            .unwrap_or_default(),
    })
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> Self {
        CommitError::Unavailable(e.into())
    }
}

/// Session opening's notices.
impl NoticeStore for Store {
    async fn set_notifications(
        &self,
        session_id: &str,
        notifications: &[crate::domain::Notification],
    ) -> Port<()> {
        Ok(Store::set_notifications(self, session_id, notifications).await?)
    }
}

/// Session creation's table.
impl SessionStore for Store {
    async fn pool(&self, provider: Provider) -> Port<Vec<(PoolNumber, Membership)>> {
        Ok(Store::pool(self, provider).await?)
    }

    async fn numbers_dialled_by(
        &self,
        participant: &PhoneNumber,
        now: i64,
    ) -> Port<HashSet<PhoneNumber>> {
        Ok(Store::numbers_dialled_by(self, participant, now).await?)
    }

    async fn create_session(&self, session: &Session, now: i64) -> Result<(), CommitError> {
        Store::create_session(self, session, now).await
    }
}
