//! Sessions and their legs.

use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem, Update};

use crate::domain::SessionStatus;
use crate::domain::{ChangeError, Leg, Mode, Participant, Provider, Session, SessionChanges};
use crate::domain::{Membership, PoolNumber, ServiceSid};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::legs::{given, last_at, leg_change, leg_from, leg_put};
use crate::store::listing;
use crate::store::numbers::active_condition;
use crate::store::service_numbers::allocatable_condition;
use crate::store::{build, Store, StoreError, StoreErrorKind, Transacted, NEW_ITEM};
use crate::usecases::opening::NoticeStore;
use crate::usecases::sessions::{CommitError, Dialled, SessionStore};
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
    /// Numbers `participant` dials in sessions not ended by `free_before`
    /// (now less the cool-off), and the legs ended only by going idle on
    /// this side. Read from an index, so possibly a moment stale: the
    /// create transaction's conditions settle any race.
    pub async fn numbers_dialled_by(
        &self,
        participant: &PhoneNumber,
        free_before: i64,
    ) -> Result<Dialled, StoreError> {
        let index = [keys::PARTICIPANT_INDEX, keys::PARTICIPANT_PK];
        let items = self
            .query_index(index, keys::participant(participant))
            .await?;
        let mut dialled = Dialled::default();
        for item in items {
            let leg = leg_from(&item)?;
            let (service, since) = given(&item);
            dialled.last.push((service, since, leg.proxy.clone()));
            if leg.is_active(free_before) {
                dialled.busy.insert(leg.proxy);
            } else if !leg.is_over(free_before) {
                dialled.idle.push(leg);
            }
        }
        Ok(dialled)
    }

    /// Writes the session and both legs in one transaction. Each leg is
    /// written only if its (proxy, caller) pair is free or expired, and each
    /// proxy number must still be active in the pool, in the session's
    /// service and unreserved (so a number that moved, or a service deleted
    /// meanwhile, loses the race: a service is deleted only once it has no
    /// number).
    pub async fn create_session(
        &self,
        session: &Session,
        now: i64,
        idle: &[Leg],
    ) -> Result<(), CommitError> {
        let ttl = session.ends_at().saturating_add(session.cool_off) + SESSION_RETENTION_SECONDS;
        let [a, b] = &session.participants;
        let mut items = Vec::with_capacity(8);
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::session(&session.id)))
            .item(keys::SK, s(keys::META))
            .item("provider", s(session.provider.as_str()))
            .item("service", s(session.service.as_str()))
            .item("status", s("open"))
            .item("mode", s(session.mode.as_str()))
            .item("p0", s(a.number.e164()))
            .item("p0_proxy", s(a.proxy_number.e164()))
            .item("p1", s(b.number.e164()))
            .item("p1_proxy", s(b.proxy_number.e164()))
            .item("created_at", n(session.created_at))
            .item("expires_at", n(session.expires_at))
            .item("cool_s", n(session.cool_off))
            .item(keys::TTL, n(ttl))
            .item(keys::SESSIONS_PK, s(keys::SESSIONS))
            .item(
                keys::SESSIONS_SK,
                s(keys::sessions_sort(session.created_at, &session.id)),
            )
            .condition_expression(NEW_ITEM);
        if let Some(t) = session.ttl {
            put = put.item("ttl_s", n(t));
        }
        if let Some(name) = &session.unique_name {
            put = put.item("unique_name", s(name));
        }
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
        // A pair is free once its last session ended, fixed or idle, and
        // cooled off.
        let free_before = now.saturating_sub(session.cool_off);
        for leg in session.legs() {
            let policy = (session.ttl, session.cool_off);
            let put = leg_put(&self.table, &leg, &session.service, policy, now)
                .condition_expression(
                    "attribute_not_exists(pk) OR expires_at <= :free OR idle_until <= :free",
                )
                .expression_attribute_values(":free", n(free_before));
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
        let named = items.len();
        if let Some(name) = &session.unique_name {
            let guard = Put::builder()
                .table_name(&self.table)
                .item(keys::PK, s(keys::session_name(&session.service, name)))
                .item(keys::SK, s(keys::META))
                .item("session_id", s(&session.id))
                .item(keys::TTL, n(ttl))
                .condition_expression(NEW_ITEM);
            items.push(
                TransactWriteItem::builder()
                    .put(build(guard.build())?)
                    .build(),
            );
        }
        // A replaced leg that went idle on its side: its session may still
        // live through the other participant's leg, which must be idle too.
        let new_legs = session.legs();
        let replaced: Vec<&Leg> = idle
            .iter()
            .filter(|old| {
                new_legs
                    .iter()
                    .any(|l| l.proxy == old.proxy && l.caller == old.caller)
            })
            .collect();
        for old in &replaced {
            let check = ConditionCheck::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::number(&old.caller_id)))
                .key(keys::SK, s(keys::leg(&old.callee)))
                .condition_expression(
                    "attribute_not_exists(pk) OR session_id <> :old OR expires_at <= :free OR idle_until <= :free",
                )
                .expression_attribute_values(":old", s(&old.session_id))
                .expression_attribute_values(":free", n(free_before));
            items.push(
                TransactWriteItem::builder()
                    .condition_check(build(check.build())?)
                    .build(),
            );
        }
        let reverse = named + usize::from(session.unique_name.is_some())..items.len();
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
        if session.unique_name.is_some() && cancel.failed(named) {
            return Err(CommitError::NameTaken);
        }
        let mut taken = Vec::new();
        for (i, p) in session.participants.iter().enumerate() {
            // Its leg, or the other side of the idle session it replaces.
            let other_side = reverse.clone().zip(&replaced).any(|(at, old)| {
                cancel.failed(at) && old.caller == p.number && old.proxy == p.proxy_number
            });
            if cancel.failed(1 + i) || other_side {
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

    /// A session as stored, with its last interaction (and so its sliding
    /// end) read from its legs, which the routing request moves.
    pub async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let item = self.get_item(keys::session(id), keys::META).await?;
        let Some(mut session) = item
            .as_ref()
            .map(|item| session_from(id, item))
            .transpose()?
        else {
            return Ok(None);
        };
        let wanted: Vec<(String, String)> = session
            .legs()
            .iter()
            .map(|l| (keys::number(&l.proxy), keys::leg(&l.caller)))
            .collect();
        let (legs, _) = self.batch_get(wanted).await?;
        session.last_interaction_at = legs
            .iter()
            .filter(|leg| opt_s(leg, "session_id").as_deref() == Some(id))
            .filter_map(last_at)
            .max();
        Ok(Some(session))
    }

    /// The session a unique name names in a service.
    pub async fn session_named(
        &self,
        service: &ServiceSid,
        name: &str,
    ) -> Result<Option<Session>, StoreError> {
        let guard = self
            .get_item(keys::session_name(service, name), keys::META)
            .await?;
        match guard.as_ref().and_then(|g| opt_s(g, "session_id")) {
            Some(id) => self.get_session(&id).await,
            None => Ok(None),
        }
    }

    /// Gives an open session `changes` ([`Session::change`]): the session
    /// and both legs in one transaction, so the routing request sees the
    /// new lifetime and mode at once.
    pub async fn update_session(
        &self,
        id: &str,
        changes: &SessionChanges,
        now: i64,
    ) -> Result<Option<Result<Session, ChangeError>>, StoreError> {
        for _ in 0..4 {
            let Some(session) = self.get_session(id).await? else {
                return Ok(None);
            };
            let new = match session.change(changes, now) {
                Ok(new) => new,
                Err(e) => return Ok(Some(Err(e))),
            };
            let mut set = String::from("SET expires_at = :end, #mode = :mode");
            let mut meta = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::session(id)))
                .key(keys::SK, s(keys::META))
                .condition_expression("#st = :open AND expires_at = :was")
                .expression_attribute_names("#st", "status")
                .expression_attribute_names("#mode", "mode")
                .expression_attribute_values(":open", s("open"))
                .expression_attribute_values(":was", n(session.expires_at))
                .expression_attribute_values(":end", n(new.expires_at))
                .expression_attribute_values(":mode", s(new.mode.as_str()));
            match new.ttl {
                Some(ttl) => {
                    set.push_str(", ttl_s = :ttl");
                    meta = meta.expression_attribute_values(":ttl", n(ttl));
                }
                None => set.push_str(" REMOVE ttl_s"),
            }
            let mut items = vec![TransactWriteItem::builder()
                .update(build(meta.update_expression(set).build())?)
                .build()];
            for leg in new.legs() {
                let change = leg_change(&self.table, &leg, &new);
                items.push(
                    TransactWriteItem::builder()
                        .update(build(change.build())?)
                        .build(),
                );
            }
            let sent = self.transact(items).await;
            match sent.map_err(|e| StoreError::sdk("TransactWriteItems", e))? {
                Transacted::Written => return Ok(Some(Ok(new))),
                // Closed, changed or a leg taken meanwhile: read it again.
                Transacted::Cancelled(_) => continue,
            }
        }
        Err(StoreError::gave_up(
            "updating a session",
            StoreErrorKind::Contended,
        ))
    }

    /// Closes a session and ends its legs in one transaction, so its
    /// numbers stop routing at once; the legs stay through the service's
    /// cool-off, so creation sees the pairs as cooling. A leg another
    /// session reused after this one expired is left alone.
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
                let end = Update::builder()
                    .table_name(&self.table)
                    .key(keys::PK, s(keys::number(&leg.proxy)))
                    .key(keys::SK, s(keys::leg(&leg.caller)))
                    .update_expression("SET expires_at = :now, #ttl = :gone")
                    .condition_expression("session_id = :sid AND expires_at > :now")
                    .expression_attribute_names("#ttl", keys::TTL)
                    .expression_attribute_values(":sid", s(id))
                    .expression_attribute_values(":now", n(now))
                    .expression_attribute_values(":gone", n(now.saturating_add(session.cool_off)));
                items.push(
                    TransactWriteItem::builder()
                        .update(build(end.build())?)
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
        ttl: opt_n(item, "ttl_s"),
        last_interaction_at: None,
        unique_name: opt_s(item, "unique_name"),
        mode: opt_s(item, "mode")
            .and_then(|m| Mode::parse(&m))
            .unwrap_or_default(),
        cool_off: opt_n(item, "cool_s").unwrap_or(0),
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
        free_before: i64,
    ) -> Port<Dialled> {
        Ok(Store::numbers_dialled_by(self, participant, free_before).await?)
    }

    async fn create_session(
        &self,
        session: &Session,
        now: i64,
        idle: &[Leg],
    ) -> Result<(), CommitError> {
        Store::create_session(self, session, now, idle).await
    }
}
