//! Services (`SVC#<sid>` / `META`) and the numbers that join them.
//!
//! # Why this shape
//!
//! - A unique name is reserved by its own item (`SVCNAME#<name>`), written
//!   in the same transaction as the service (and moved in the one that
//!   renames it): two services can never share a name.
//! - Services list from the `sessions` index under their own partition
//!   (`SERVICES`), sorted like sessions: no index of their own (a stack
//!   update adds at most one).
//! - **Delete only when unused, without a race.** The service item counts
//!   its numbers (`number_count`), changed in the transaction that moves a
//!   number in or out (or removes it from the pool); the delete is
//!   conditioned on zero. No session needs counting: a session's create
//!   transaction checks each of its numbers is in its service, and a
//!   number leaves a service only once it routes no session (it is first
//!   set `retiring`, which no create can pass, then its legs are counted).
//!   So no numbers means no open sessions, and a session can never commit
//!   in a deleted service (it had no number to commit on).
//! - The default service is never stored until it is updated (it is
//!   created with `created_at` 0, so it lists last) and counts nothing: it
//!   cannot be deleted, and a number without a `service` attribute is in it.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use crate::domain::service::{CallbackUrl, GeoMatch, NumberSelection};
use crate::domain::{Service, ServiceSid};
use crate::store::attr::*;
use crate::store::keys;
use crate::store::listing::SessionPosition;
use crate::store::{build, Store, StoreError, StoreErrorKind};

pub(crate) const COUNT: &str = "number_count";
const VERSION: &str = "version";

/// A service as stored: `version` 0 is the built-in default service, not
/// stored yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredService {
    pub service: Service,
    pub version: i64,
    /// The numbers in it (not kept for the default service).
    pub numbers: i64,
}

impl StoredService {
    /// The default service before any update stored it.
    pub fn builtin(service: Service) -> Self {
        Self {
            service,
            version: 0,
            numbers: 0,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum SaveService {
    Saved,
    /// Another write changed it since it was read: read it again.
    Stale,
    NameTaken,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DeleteService {
    Deleted,
    /// Numbers are still in it.
    InUse,
    NotFound,
}

/// A page of services, newest first, and where the next one starts.
#[derive(Debug)]
pub struct ServicesPage {
    pub services: Vec<StoredService>,
    pub next: Option<SessionPosition>,
}

/// The service's settings as attributes; `None`: not set (removed).
fn fields(svc: &Service) -> Vec<(&'static str, Option<AttributeValue>)> {
    let secs = |v: Option<u64>| v.map(|v| n(v as i64));
    let url = |u: &Option<CallbackUrl>| u.as_ref().map(|u| s(u.as_str()));
    vec![
        ("unique_name", Some(s(&svc.unique_name))),
        ("default_ttl", secs(svc.default_ttl)),
        (
            "number_selection_behavior",
            Some(s(svc.number_selection_behavior.as_str())),
        ),
        ("geo_match_level", Some(s(svc.geo_match_level.as_str()))),
        (
            "allow_foreign_numbers",
            Some(AttributeValue::Bool(svc.allow_foreign_numbers)),
        ),
        ("cool_off_seconds", secs(Some(svc.cool_off_seconds))),
        ("callback_url", url(&svc.callback_url)),
        ("intercept_callback_url", url(&svc.intercept_callback_url)),
        (
            "out_of_session_callback_url",
            url(&svc.out_of_session_callback_url),
        ),
        (
            "out_of_session_message",
            svc.out_of_session_message.as_ref().map(s),
        ),
        ("interaction_ttl", secs(svc.interaction_ttl)),
        ("updated_at", Some(n(svc.updated_at))),
    ]
}

fn service_from(item: &Item) -> Result<StoredService, StoreError> {
    let sid = get_s(item, "sid")?;
    let bad = |what: &str| StoreError::malformed(format!("service {what}"));
    let secs = |name: &str| opt_n(item, name).map(|v| v.max(0) as u64);
    let url = |name: &str| opt_s(item, name).and_then(|u| CallbackUrl::parse(&u).ok());
    let service = Service {
        sid: ServiceSid::parse(sid).ok_or_else(|| bad("sid"))?,
        unique_name: get_s(item, "unique_name")?.to_string(),
        default_ttl: secs("default_ttl"),
        number_selection_behavior: NumberSelection::parse(get_s(
            item,
            "number_selection_behavior",
        )?)
        .ok_or_else(|| bad("number_selection_behavior"))?,
        geo_match_level: GeoMatch::parse(get_s(item, "geo_match_level")?)
            .ok_or_else(|| bad("geo_match_level"))?,
        allow_foreign_numbers: matches!(
            item.get("allow_foreign_numbers"),
            Some(AttributeValue::Bool(true))
        ),
        cool_off_seconds: secs("cool_off_seconds").unwrap_or(0),
        callback_url: url("callback_url"),
        intercept_callback_url: url("intercept_callback_url"),
        out_of_session_callback_url: url("out_of_session_callback_url"),
        out_of_session_message: opt_s(item, "out_of_session_message"),
        interaction_ttl: secs("interaction_ttl"),
        created_at: get_n(item, "created_at")?,
        updated_at: get_n(item, "updated_at")?,
    };
    Ok(StoredService {
        service,
        version: get_n(item, VERSION)?,
        numbers: opt_n(item, COUNT).unwrap_or(0),
    })
}

/// A transaction part the SDK's builder refused.
pub(crate) fn contended(what: &'static str) -> StoreError {
    StoreError::gave_up(what, StoreErrorKind::Contended)
}

impl Store {
    /// Stores a new service with its unique name (or the default service,
    /// on its first update: it has no name item).
    pub async fn create_service(&self, svc: &Service) -> Result<SaveService, StoreError> {
        let sort = keys::sessions_sort(svc.created_at, svc.sid.as_str());
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::service(&svc.sid)))
            .item(keys::SK, s(keys::META))
            .item("sid", s(svc.sid.as_str()))
            .item("created_at", n(svc.created_at))
            .item(VERSION, n(1))
            .item(COUNT, n(0))
            .item(keys::SESSIONS_PK, s(keys::SERVICES))
            .item(keys::SESSIONS_SK, s(sort))
            .condition_expression("attribute_not_exists(pk)");
        for (name, value) in fields(svc) {
            if let Some(v) = value {
                put = put.item(name, v);
            }
        }
        let mut items = vec![TransactWriteItem::builder()
            .put(build(put.build())?)
            .build()];
        if !svc.sid.is_default() {
            items.push(self.name_guard(svc)?);
        }
        self.send_save(items, !svc.sid.is_default()).await
    }

    /// Sends a service's write, its name guard second when `guarded`: that
    /// condition failing means the name is taken; any other, that the
    /// service was written meanwhile.
    async fn send_save(
        &self,
        items: Vec<TransactWriteItem>,
        guarded: bool,
    ) -> Result<SaveService, StoreError> {
        Ok(match self.transact_conditions(items).await? {
            None => SaveService::Saved,
            Some(failed) if guarded && failed.get(1) == Some(&true) => SaveService::NameTaken,
            Some(_) => SaveService::Stale,
        })
    }

    /// The item that reserves `svc`'s unique name, written only if free.
    fn name_guard(&self, svc: &Service) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::service_name(&svc.unique_name)))
            .item(keys::SK, s(keys::META))
            .item("sid", s(svc.sid.as_str()))
            .condition_expression("attribute_not_exists(pk)");
        Ok(TransactWriteItem::builder()
            .put(build(put.build())?)
            .build())
    }

    /// The stored service `sid` (the default service only once updated).
    pub async fn get_service(&self, sid: &ServiceSid) -> Result<Option<StoredService>, StoreError> {
        let item = self.get_item(keys::service(sid), keys::META).await?;
        item.as_ref().map(service_from).transpose()
    }

    /// The sid of the service named `unique_name`.
    pub async fn service_named(&self, unique_name: &str) -> Result<Option<ServiceSid>, StoreError> {
        let item = self
            .get_item(keys::service_name(unique_name), keys::META)
            .await?;
        Ok(item
            .as_ref()
            .and_then(|i| opt_s(i, "sid"))
            .and_then(|sid| ServiceSid::parse(&sid)))
    }

    /// Writes `new` over `old` (as read), if nothing changed it meanwhile;
    /// a new unique name moves its name item in the same transaction.
    pub async fn save_service(
        &self,
        new: &Service,
        old: &StoredService,
    ) -> Result<SaveService, StoreError> {
        if old.version == 0 {
            return self.create_service(new).await;
        }
        let (mut set, mut remove) = (vec!["#ver = :next".to_string()], Vec::new());
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::service(&new.sid)))
            .key(keys::SK, s(keys::META))
            .condition_expression("#ver = :ver")
            .expression_attribute_names("#ver", VERSION)
            .expression_attribute_values(":ver", n(old.version))
            .expression_attribute_values(":next", n(old.version + 1));
        for (i, (name, value)) in fields(new).into_iter().enumerate() {
            update = update.expression_attribute_names(format!("#f{i}"), name);
            match value {
                Some(v) => {
                    set.push(format!("#f{i} = :f{i}"));
                    update = update.expression_attribute_values(format!(":f{i}"), v);
                }
                None => remove.push(format!("#f{i}")),
            }
        }
        let mut expr = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut items = vec![TransactWriteItem::builder()
            .update(build(update.update_expression(expr).build())?)
            .build()];
        let renamed = new.unique_name != old.service.unique_name;
        if renamed {
            items.push(self.name_guard(new)?);
            items.push(self.name_release(&old.service)?);
        }
        self.send_save(items, renamed).await
    }

    /// Deletes `svc`'s name item, if it is still `svc`'s.
    fn name_release(&self, svc: &Service) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::service_name(&svc.unique_name)))
            .key(keys::SK, s(keys::META))
            .condition_expression("#sid = :sid")
            .expression_attribute_names("#sid", "sid")
            .expression_attribute_values(":sid", s(svc.sid.as_str()));
        Ok(TransactWriteItem::builder()
            .delete(build(delete.build())?)
            .build())
    }

    /// Deletes a service with no numbers (so no open sessions: the
    /// module's notes), and frees its name.
    pub async fn delete_service(&self, sid: &ServiceSid) -> Result<DeleteService, StoreError> {
        for _ in 0..3 {
            let Some(stored) = self.get_service(sid).await? else {
                return Ok(DeleteService::NotFound);
            };
            if stored.numbers > 0 {
                return Ok(DeleteService::InUse);
            }
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(keys::PK, s(keys::service(sid)))
                .key(keys::SK, s(keys::META))
                // The version: the name freed is still its name.
                .condition_expression("#cnt = :zero AND #ver = :ver")
                .expression_attribute_names("#cnt", COUNT)
                .expression_attribute_names("#ver", VERSION)
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":ver", n(stored.version));
            let items = vec![
                TransactWriteItem::builder()
                    .delete(build(delete.build())?)
                    .build(),
                self.name_release(&stored.service)?,
            ];
            if self.transact_conditions(items).await?.is_none() {
                return Ok(DeleteService::Deleted);
            }
        }
        Err(contended("deleting a service"))
    }

    /// Services newest first, `limit` at most, after `after`; the default
    /// service (last in the order) as `default` until it is stored.
    pub async fn list_services(
        &self,
        limit: usize,
        after: Option<&SessionPosition>,
        default: &Service,
    ) -> Result<ServicesPage, StoreError> {
        let index = [keys::SESSIONS_INDEX, keys::SESSIONS_PK, keys::SESSIONS_SK];
        let below = after.map(|p| keys::sessions_sort(p.created_at, &p.id));
        let size = limit.saturating_add(1).min(1000) as i32;
        let out = self
            .page_back(index, keys::SERVICES.to_string(), below, size)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        let mut services = out
            .items()
            .iter()
            .map(service_from)
            .collect::<Result<Vec<_>, _>>()?;
        let position = |s: &StoredService| SessionPosition {
            created_at: s.service.created_at,
            id: s.service.sid.to_string(),
        };
        if services.len() > limit || out.last_evaluated_key().is_some() {
            services.truncate(limit);
            let next = services.last().map(position);
            return Ok(ServicesPage { services, next });
        }
        // The index is read to its end: the built-in default comes last,
        // unless it is stored (then it was just read) or already shown.
        let builtin = StoredService::builtin(default.clone());
        let shown = after.is_some_and(|p| *p == position(&builtin));
        if shown || services.iter().any(|s| s.service.sid.is_default()) {
            return Ok(ServicesPage {
                services,
                next: None,
            });
        }
        if services.len() < limit {
            services.push(builtin);
            return Ok(ServicesPage {
                services,
                next: None,
            });
        }
        let next = services.last().map(position);
        Ok(ServicesPage { services, next })
    }
}
