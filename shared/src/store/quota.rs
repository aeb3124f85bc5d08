//! Plan quotas of masked lines: one counter item per line and period
//! (`NUM#<line>` / `QUOTA#<period>`), taken in the same transaction as the
//! item the use writes (a call context, a text), so concurrent uses cannot
//! overdraw it and a retried webhook takes nothing more.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};

use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError, StoreErrorKind, Transacted, NEW_ITEM};

/// Quota counters outlive their period by a little.
const QUOTA_RETENTION_SECONDS: i64 = 40 * 24 * 3600;

/// What [`Store::take_quota`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Counted now.
    Counted,
    Exhausted,
    /// The item was already there: this use was counted before.
    AlreadyKept,
}

impl Store {
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
            let put = self.client.put_item().table_name(&self.table);
            let counted = Store::put_new(put.set_item(Some(item))).await?;
            return Ok(if counted {
                Taken::Counted
            } else {
                Taken::AlreadyKept
            });
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(NEW_ITEM)
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
            let items = vec![
                TransactWriteItem::builder().update(take.clone()).build(),
                TransactWriteItem::builder().put(put.clone()).build(),
            ];
            let sent = self.transact(items).await;
            let cancel = match sent.map_err(|e| StoreError::sdk("TransactWriteItems", e))? {
                Transacted::Written => return Ok(Taken::Counted),
                Transacted::Cancelled(cancel) => cancel,
            };
            if cancel.failed(1) {
                return Ok(Taken::AlreadyKept);
            }
            if cancel.failed(0) {
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
}
