//! Numbers in services: which service a pool number is in (`service` on
//! its META item; absent: the default service) and whether it is
//! reserved, the condition allocation checks, and moving a number between
//! services (`store/services.rs` says why delete-when-unused is then
//! race-free).

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};

use crate::domain::{Membership, ServiceSid};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::build;
use crate::store::keys;
use crate::store::numbers::{membership, STATUS_ACTIVE, STATUS_RETIRING};
use crate::store::services::{contended, COUNT};
use crate::store::{Store, StoreError};
use crate::usecases::pool::Retire;

#[derive(Debug, PartialEq, Eq)]
pub enum JoinService {
    Joined,
    NotInPool,
    /// It routes a session: it cannot change service now.
    InUse,
    /// A masked line serves its owner, never sessions.
    Line,
    /// It is not in the service it was to leave.
    NotInService,
    /// The service it was to join is gone.
    NoService,
    /// Another change to the number won: try again.
    Contended,
}

/// The condition, on a number's META item, that allocation in `service`
/// may take it: in that service and not reserved. Its names are `#svc`
/// and `#rsv`, its value `:svc`.
pub(crate) fn allocatable_condition(
    service: &ServiceSid,
) -> (
    String,
    [(&'static str, &'static str); 2],
    Option<AttributeValue>,
) {
    let (cond, value) = in_service(service);
    (
        format!("{cond} AND attribute_not_exists(#rsv)"),
        [("#svc", "service"), ("#rsv", "reserved")],
        value,
    )
}

/// `#svc` names `service`; `:svc` is the value when one is needed.
fn in_service(service: &ServiceSid) -> (&'static str, Option<AttributeValue>) {
    if service.is_default() {
        ("attribute_not_exists(#svc)", None)
    } else {
        ("#svc = :svc", Some(s(service.as_str())))
    }
}

/// An update of the service's number count by `by`, in a transaction.
fn count_change(table: &str, sid: &ServiceSid, by: i64) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::service(sid)))
        .key(keys::SK, s(keys::META))
        .update_expression("ADD #cnt :by")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#cnt", COUNT)
        .expression_attribute_values(":by", n(by));
    Ok(TransactWriteItem::builder()
        .update(build(update.build())?)
        .build())
}

impl Store {
    /// Moves `number` into `to`'s service with its `reserved` flag (only
    /// from service `only_from`, when given: the move is conditioned on
    /// it). A
    /// change of service waits until it routes no session: it is taken out
    /// of allocation (`retiring`), its legs counted, then moved and put
    /// back in one transaction that also changes both services' counts.
    pub async fn join_service(
        &self,
        number: &PhoneNumber,
        to: &Membership,
        only_from: Option<&ServiceSid>,
        now: i64,
    ) -> Result<JoinService, StoreError> {
        let Some(item) = self.get_item(keys::number(number), keys::META).await? else {
            return Ok(JoinService::NotInPool);
        };
        if item.contains_key("line") {
            return Ok(JoinService::Line);
        }
        // Being deleted or released (`retiring`): moving it would put it
        // back in allocation.
        if opt_s(&item, "status").as_deref() != Some(STATUS_ACTIVE) {
            return Ok(JoinService::Contended);
        }
        let from = membership(&item);
        if only_from.is_some_and(|sid| *sid != from.service) {
            return Ok(JoinService::NotInService);
        }
        if from.service == to.service {
            if from.reserved == to.reserved {
                return Ok(JoinService::Joined);
            }
            let update = self.member_update(number, &from, to, false)?;
            let items = vec![TransactWriteItem::builder().update(update).build()];
            return Ok(match self.transact_conditions(items).await? {
                None => JoinService::Joined,
                Some(_) => JoinService::Contended,
            });
        }
        match self.retire_number(number, now).await? {
            Retire::NotFound => return Ok(JoinService::NotInPool),
            Retire::InUse => return Ok(JoinService::InUse),
            Retire::Retired(_) => {}
        }
        let mut items = vec![TransactWriteItem::builder()
            .update(self.member_update(number, &from, to, true)?)
            .build()];
        let mut to_index = None;
        if !from.service.is_default() {
            items.push(count_change(&self.table, &from.service, -1)?);
        }
        if !to.service.is_default() {
            to_index = Some(items.len());
            items.push(count_change(&self.table, &to.service, 1)?);
        }
        let failed = match self.transact_conditions(items).await {
            Ok(None) => return Ok(JoinService::Joined),
            Ok(Some(failed)) => failed,
            Err(e) => {
                let _ = self.restore_number(number).await;
                return Err(e);
            }
        };
        self.restore_number(number).await?;
        Ok(match to_index {
            Some(i) if failed.get(i) == Some(&true) => JoinService::NoService,
            _ => JoinService::Contended,
        })
    }

    /// The update of a number's membership from `from` to `to`; `moving`:
    /// it is `retiring` and goes back to `active` with it.
    fn member_update(
        &self,
        number: &PhoneNumber,
        from: &Membership,
        to: &Membership,
        moving: bool,
    ) -> Result<Update, StoreError> {
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        let (from_cond, from_value) = in_service(&from.service);
        let mut cond = format!("attribute_exists(pk) AND {from_cond}");
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::number(number)))
            .key(keys::SK, s(keys::META))
            .expression_attribute_names("#svc", "service")
            .expression_attribute_names("#rsv", "reserved");
        if let Some(v) = from_value {
            update = update.expression_attribute_values(":svc", v);
        }
        if moving {
            set.push("#st = :active");
            cond.push_str(" AND #st = :retiring");
            update = update
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":active", s(STATUS_ACTIVE))
                .expression_attribute_values(":retiring", s(STATUS_RETIRING));
            if to.service.is_default() {
                remove.push("#svc");
            } else {
                set.push("#svc = :to");
                update = update.expression_attribute_values(":to", s(to.service.as_str()));
            }
        }
        if to.reserved {
            set.push("#rsv = :true");
            update = update.expression_attribute_values(":true", AttributeValue::Bool(true));
        } else {
            remove.push("#rsv");
        }
        let mut expr = String::new();
        if !set.is_empty() {
            expr = format!("SET {}", set.join(", "));
        }
        if !remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        build(
            update
                .update_expression(expr.trim())
                .condition_expression(cond)
                .build(),
        )
    }

    /// Removes a number of `service` from the pool, counting it out of
    /// the service in the same transaction.
    pub(crate) async fn leave_service(
        &self,
        number: &PhoneNumber,
        service: &ServiceSid,
    ) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::number(number)))
            .key(keys::SK, s(keys::META))
            .condition_expression("#svc = :svc")
            .expression_attribute_names("#svc", "service")
            .expression_attribute_values(":svc", s(service.as_str()));
        let items = vec![
            TransactWriteItem::builder()
                .delete(build(delete.build())?)
                .build(),
            count_change(&self.table, service, -1)?,
        ];
        match self.transact_conditions(items).await? {
            None => Ok(()),
            Some(_) => Err(contended("removing a number from its service")),
        }
    }
}
