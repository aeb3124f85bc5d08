//! Proxy numbers in the pool.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{Membership, PoolNumber, Provider};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{kept, written, Store, StoreError};
use crate::usecases::pool::{PoolStore, Retire};
use crate::usecases::Port;

pub const STATUS_ACTIVE: &str = "active";
/// Set while a delete checks for active sessions, so no allocation can take
/// the number in between (allocations require `active`).
pub(crate) const STATUS_RETIRING: &str = "retiring";
/// Present (true) on a number bought but not pointed at this deployment.
const UNLINKED: &str = "unlinked";

impl Store {
    /// Adds a number; `false` when it is already there.
    pub async fn put_number(&self, rec: &PoolNumber) -> Result<bool, StoreError> {
        let mut put = self
            .put(keys::number(&rec.number), keys::META)
            .item("number", s(rec.number.e164()))
            .item("provider", s(rec.provider.as_str()))
            .item("country", s(&rec.country))
            .item("status", s(STATUS_ACTIVE))
            .item("created_at", n(rec.created_at))
            .item(keys::POOL_PK, s(keys::pool(rec.provider)))
            .item(keys::POOL_SK, s(keys::pool_sort(&rec.country, &rec.number)));
        if let Some(sid) = &rec.provider_sid {
            put = put.item("provider_sid", s(sid));
        }
        if !rec.linked {
            put = put.item(UNLINKED, AttributeValue::Bool(true));
        }
        Store::put_new(put).await
    }

    pub async fn get_number(&self, number: &PhoneNumber) -> Result<Option<PoolNumber>, StoreError> {
        let item = self.get_item(keys::number(number), keys::META).await?;
        item.as_ref().map(pool_number).transpose()
    }

    /// The provider's numbers free for sessions (not lines), sorted by
    /// number, each with its service.
    pub async fn pool(
        &self,
        provider: Provider,
    ) -> Result<Vec<(PoolNumber, Membership)>, StoreError> {
        Ok(self
            .pool_entries(provider)
            .await?
            .into_iter()
            .filter(|e| !e.line && e.number.linked)
            .map(|e| (e.number, e.membership))
            .collect())
    }

    /// The provider's numbers, each with whether it is a masked line.
    pub async fn numbers_of(
        &self,
        provider: Provider,
    ) -> Result<Vec<(PoolNumber, bool)>, StoreError> {
        let entries = self.pool_entries(provider).await?;
        Ok(entries.into_iter().map(|e| (e.number, e.line)).collect())
    }

    /// The provider's active numbers, sorted by number: one Query of the
    /// `pool` index.
    pub async fn pool_entries(&self, provider: Provider) -> Result<Vec<PoolEntry>, StoreError> {
        let index = [keys::POOL_INDEX, keys::POOL_PK];
        let items = self.query_index(index, keys::pool(provider)).await?;
        let mut numbers = Vec::new();
        for item in items {
            if opt_s(&item, "status").as_deref() == Some(STATUS_ACTIVE) {
                numbers.push(PoolEntry {
                    number: pool_number(&item)?,
                    line: item.contains_key("line"),
                    membership: membership(&item),
                });
            }
        }
        numbers.sort_by(|a, b| a.number.number.cmp(&b.number.number));
        Ok(numbers)
    }

    /// Every number of every provider, sorted by number, with whether it is
    /// a masked line.
    pub async fn all_numbers(&self) -> Result<Vec<(PoolNumber, bool)>, StoreError> {
        let mut all = self.numbers_of(Provider::Vonage).await?;
        all.extend(self.numbers_of(Provider::Twilio).await?);
        all.sort_by(|a, b| a.0.number.cmp(&b.0.number));
        Ok(all)
    }

    /// Sessions that `number` routes now (its unexpired legs, by session).
    pub async fn active_sessions_on(
        &self,
        number: &PhoneNumber,
        now: i64,
    ) -> Result<usize, StoreError> {
        let items = self
            .query_prefix(keys::number(number), keys::LEG_PREFIX)
            .await?;
        let mut sessions = HashSet::new();
        for item in items {
            if get_n(&item, "expires_at")? > now {
                sessions.insert(get_s(&item, "session_id")?.to_string());
            }
        }
        Ok(sessions.len())
    }

    /// Takes a number out of allocation (`retiring`) once no active session
    /// uses it; it is back to `active` if one does. Between this and
    /// [`Store::remove_number`] (or [`Store::restore_number`]) a release can
    /// ask the provider to cancel the rental.
    pub async fn retire_number(
        &self,
        number: &PhoneNumber,
        now: i64,
    ) -> Result<Retire, StoreError> {
        use aws_sdk_dynamodb::types::ReturnValue;
        let res = self
            .set_number_status(number, STATUS_RETIRING)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        // Not there (the condition failed) or nothing returned: not found.
        let retiring = kept("UpdateItem", res)?.and_then(|out| out.attributes);
        let Some(rec) = retiring.as_ref().map(pool_number).transpose()? else {
            return Ok(Retire::NotFound);
        };
        // No allocation can commit on a retiring number, so this count is final.
        let in_use = match self.active_sessions_on(number, now).await {
            Ok(count) => count > 0,
            Err(e) => {
                let _ = self.restore_number(number).await;
                return Err(e);
            }
        };
        if in_use {
            self.restore_number(number).await?;
            return Ok(Retire::InUse);
        }
        Ok(Retire::Retired(rec))
    }

    /// Counts one automatic purchase for `provider` (`POOL_AUTO_PROVISION_MAX`):
    /// false once `max` were made. One conditional update, so concurrent
    /// sessions cannot buy past the allowance.
    pub async fn take_auto_provision(
        &self,
        provider: Provider,
        max: u64,
    ) -> Result<bool, StoreError> {
        let only_if = Some("attribute_not_exists(used) OR used < :max");
        let values = [(":one", n(1)), (":max", n(max as i64))];
        let req = self.change(
            keys::auto_provision(provider),
            "ADD used :one",
            only_if,
            values,
        );
        written("UpdateItem", req.send().await)
    }
    /// A purchase that did not happen does not count.
    pub async fn give_back_auto_provision(&self, provider: Provider) -> Result<(), StoreError> {
        let values = [(":minus", n(-1)), (":zero", n(0))];
        let req = self.change(
            keys::auto_provision(provider),
            "ADD used :minus",
            Some("used > :zero"),
            values,
        );
        Store::updated(req).await
    }
    /// A retiring number back in allocation.
    pub async fn restore_number(&self, number: &PhoneNumber) -> Result<(), StoreError> {
        Store::updated(self.set_number_status(number, STATUS_ACTIVE)).await
    }
    pub async fn remove_number(&self, number: &PhoneNumber) -> Result<(), StoreError> {
        let Some(item) = self.get_item(keys::number(number), keys::META).await? else {
            return Ok(());
        };
        let service = membership(&item).service;
        if !service.is_default() {
            // Its service counts one number less in the same write.
            return self.leave_service(number, &service).await;
        }
        self.delete(keys::number(number), keys::META).await
    }

    fn set_number_status(
        &self,
        number: &PhoneNumber,
        status: &'static str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let values = [(":st", s(status))];
        let only_if = Some("attribute_exists(pk)");
        self.change(keys::number(number), "SET #st = :st", only_if, values)
    }
}

/// A pool number as the `pool` index holds it.
#[derive(Debug, Clone)]
pub struct PoolEntry {
    pub number: PoolNumber,
    /// A masked line (out of allocation).
    pub line: bool,
    pub membership: Membership,
}

/// A number's service (absent: the default one) and `reserved` flag.
pub(crate) fn membership(item: &Item) -> Membership {
    Membership {
        service: opt_s(item, "service")
            .and_then(|s| crate::domain::ServiceSid::parse(&s))
            .unwrap_or_default(),
        reserved: matches!(item.get("reserved"), Some(AttributeValue::Bool(true))),
    }
}

pub(crate) fn pool_number(item: &Item) -> Result<PoolNumber, StoreError> {
    let provider = get_s(item, "provider")?;
    Ok(PoolNumber {
        number: get_phone(item, "number")?,
        provider: Provider::parse(provider)
            .ok_or_else(|| StoreError::malformed(format!("unknown provider {provider}")))?,
        country: get_s(item, "country")?.to_string(),
        created_at: opt_n(item, "created_at").unwrap_or(0),
        provider_sid: opt_s(item, "provider_sid"),
        linked: !item.contains_key(UNLINKED),
    })
}

/// `status = active` and not a masked line, on a number's META item, for
/// allocation transactions.
pub(crate) fn active_condition() -> (&'static str, &'static str, AttributeValue) {
    (
        "#st = :active AND attribute_not_exists(line) AND attribute_not_exists(unlinked)",
        ":active",
        s(STATUS_ACTIVE),
    )
}

/// The pool's table.
impl PoolStore for Store {
    async fn put_number(&self, rec: &PoolNumber) -> Port<bool> {
        Ok(Store::put_number(self, rec).await?)
    }

    async fn retire_number(&self, number: &PhoneNumber, now: i64) -> Port<Retire> {
        Ok(Store::retire_number(self, number, now).await?)
    }

    async fn restore_number(&self, number: &PhoneNumber) -> Port<()> {
        Ok(Store::restore_number(self, number).await?)
    }

    async fn remove_number(&self, number: &PhoneNumber) -> Port<()> {
        Ok(Store::remove_number(self, number).await?)
    }

    async fn take_auto_provision(&self, provider: Provider, max: u64) -> Port<bool> {
        Ok(Store::take_auto_provision(self, provider, max).await?)
    }

    async fn give_back_auto_provision(&self, provider: Provider) -> Port<()> {
        Ok(Store::give_back_auto_provision(self, provider).await?)
    }
}
