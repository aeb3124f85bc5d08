//! The pool of proxy numbers: bought (search, then for each number: buy,
//! link, add), imported from the account, released (out of allocation, the
//! rental cancelled, removed), and grown by one number when a session finds
//! a country empty (`POOL_AUTO_PROVISION_MAX`). A number bought is never
//! lost: it is stored as soon as it is bought (a function cut short later
//! keeps what it paid for), a storage failure is retried, then reported
//! for import. Buying stops at a deadline, so the answer reaches the
//! client before its gateway gives up and a retry buys again.

use std::future::Future;

use crate::domain::{PoolNumber, Provider};
use crate::phone::PhoneNumber;
use crate::usecases::{Port, PortError};

/// What a release found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retire {
    /// Out of allocation now; the record as it was.
    Retired(PoolNumber),
    NotFound,
    /// It routes an active session: left as it was.
    InUse,
}

/// Where pool numbers are kept (the table).
pub trait PoolStore: Sync {
    /// Adds a number; `false` when it is in the pool already.
    fn put_number(&self, rec: &PoolNumber) -> impl Future<Output = Port<bool>> + Send;
    /// Takes a number out of allocation unless a session uses it.
    fn retire_number(
        &self,
        number: &PhoneNumber,
        now: i64,
    ) -> impl Future<Output = Port<Retire>> + Send;
    /// A retired number back in allocation.
    fn restore_number(&self, number: &PhoneNumber) -> impl Future<Output = Port<()>> + Send;
    fn remove_number(&self, number: &PhoneNumber) -> impl Future<Output = Port<()>> + Send;
    /// Counts one automatic purchase: `false` once `max` were made.
    fn take_auto_provision(
        &self,
        provider: Provider,
        max: u64,
    ) -> impl Future<Output = Port<bool>> + Send;
    /// A purchase that did not happen does not count.
    fn give_back_auto_provision(&self, provider: Provider)
        -> impl Future<Output = Port<()>> + Send;
}

/// Numbers to buy.
#[derive(Debug, Clone, Copy)]
pub struct Order<'a> {
    /// No purchase starts after this (the numbers not bought are reported).
    pub deadline: Option<std::time::Instant>,
    pub provider: Provider,
    /// ISO 3166 alpha-2.
    pub country: &'a str,
    pub features: &'a [&'a str],
    pub count: u32,
    /// This deployment's public base URL (Twilio numbers get its webhook
    /// URLs at purchase).
    pub webhooks: &'a str,
}

/// A number the provider sold us, before it joins the pool.
#[derive(Debug)]
pub struct Bought {
    pub number: PhoneNumber,
    pub country: String,
    pub provider_sid: Option<String>,
    /// Why linking failed, when it did (the number is still ours).
    pub link_error: Option<PortError>,
}

/// A number the provider offers for sale.
#[derive(Debug, Clone)]
pub struct Offer {
    pub number: PhoneNumber,
    /// ISO 3166 alpha-2.
    pub country: String,
}

/// What a search found.
#[derive(Debug, Default)]
pub struct Offers {
    pub offers: Vec<Offer>,
    /// (number, reason) for each offer that cannot be bought (malformed).
    pub failed: Vec<(String, String)>,
}

/// A number the account owns already.
#[derive(Debug, Clone)]
pub struct Owned {
    pub number: PhoneNumber,
    pub country: String,
    pub provider_sid: Option<String>,
    /// Why its calls and texts do not reach this deployment (linked to
    /// another application, other webhook URLs); `None` when they do.
    pub elsewhere: Option<String>,
}

/// A provider's numbers API.
pub trait NumberProvider: Sync {
    /// Searches for up to `order.count` numbers. A search that finds
    /// nothing or that the provider refuses is an error.
    fn search(&self, order: Order<'_>) -> impl Future<Output = Port<Offers>> + Send;
    /// Buys one number offered and links it to this deployment (a link
    /// that fails is reported in `link_error`: the number is ours).
    fn buy(&self, order: Order<'_>, offer: &Offer) -> impl Future<Output = Port<Bought>> + Send;
    /// Every number the account owns; `webhooks` is this deployment's
    /// public base URL, to tell the numbers that point here.
    fn owned(
        &self,
        provider: Provider,
        webhooks: &str,
    ) -> impl Future<Output = Port<Vec<Owned>>> + Send;
    /// Cancels the rental of a pool number.
    fn release(&self, rec: &PoolNumber) -> impl Future<Output = Port<()>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("the provider: {0}")]
    Provider(#[source] PortError),
    #[error("storage: {0}")]
    Store(#[source] PortError),
    #[error("the number is not in the pool")]
    NotFound,
    #[error("the number routes active sessions")]
    InUse,
}

/// What provisioning added to the pool and what failed (number, reason).
#[derive(Debug, Default)]
pub struct ProvisionOutcome {
    pub added: Vec<PoolNumber>,
    pub failed: Vec<(String, String)>,
    /// Numbers paid for, whether or not they reached the pool.
    pub bought: usize,
}

/// What an import found: numbers added, numbers already pooled, and
/// numbers left out (number, why) because they point elsewhere.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub added: Vec<String>,
    pub present: Vec<String>,
    pub skipped: Vec<(String, String)>,
}

/// Tries a bought number's first write this many times.
const PUT_TRIES: usize = 3;

/// The pool on a table and a provider's API.
pub struct Pool<'a, S, P> {
    pub store: &'a S,
    pub providers: &'a P,
}

impl<S: PoolStore, P: NumberProvider> Pool<'_, S, P> {
    /// Search, buy, link, add to the pool. A number bought but not linked
    /// is added too (status `unlinked`, out of allocation): it is ours and
    /// paid for. A number the provider would not sell is reported in
    /// `failed` and not added.
    pub async fn provision(
        &self,
        order: Order<'_>,
        now: i64,
    ) -> Result<ProvisionOutcome, PoolError> {
        let searched = self
            .providers
            .search(order)
            .await
            .map_err(PoolError::Provider)?;
        let mut out = ProvisionOutcome {
            failed: searched.failed,
            ..Default::default()
        };
        for offer in searched.offers.into_iter().take(order.count as usize) {
            let number = offer.number.e164().to_string();
            if order
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
            {
                out.failed.push((
                    number,
                    "not bought: out of time for this request; ask again for the rest".into(),
                ));
                continue;
            }
            let b = match self.providers.buy(order, &offer).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(number = %offer.number.masked(), error = %crate::telemetry::chain(&e), "buying a number failed");
                    out.failed.push((number, e.to_string()));
                    continue;
                }
            };
            out.bought += 1;
            if let Some(e) = &b.link_error {
                tracing::warn!(number = %b.number.masked(), error = %crate::telemetry::chain(e), "bought a number but could not link it");
            }
            let rec = PoolNumber {
                number: b.number,
                provider: order.provider,
                country: b.country,
                created_at: now,
                provider_sid: b.provider_sid,
                linked: b.link_error.is_none(),
            };
            // Stored before the next purchase: a function cut short keeps
            // every number it paid for.
            match self.put_bought(&rec).await {
                Ok(()) => out.added.push(rec),
                Err(e) => {
                    tracing::error!(number = %rec.number.masked(), error = %crate::telemetry::chain(&e), "a bought number could not be added to the pool; import it with POST /numbers/import");
                    out.failed.push((
                        rec.number.e164().to_string(),
                        "bought, but not added to the pool (storage unavailable); POST /numbers/import adds it".into(),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Bought is bought: a storage failure must not lose the number, so
    /// the write is tried again before giving up loudly.
    async fn put_bought(&self, rec: &PoolNumber) -> Port<()> {
        let mut last = None;
        for _ in 0..PUT_TRIES {
            match self.store.put_number(rec).await {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| PortError::new(NoTries)))
    }

    /// The account's numbers that point at this deployment join the pool
    /// (onboarding an existing account). One linked to another application
    /// or other webhook URLs is left out and named: pooled, it would be
    /// handed to sessions whose calls never reach us.
    pub async fn import(
        &self,
        provider: Provider,
        webhooks: &str,
        now: i64,
    ) -> Result<Imported, PoolError> {
        let owned = self
            .providers
            .owned(provider, webhooks)
            .await
            .map_err(PoolError::Provider)?;
        let mut out = Imported::default();
        for n in owned {
            if let Some(why) = n.elsewhere {
                out.skipped.push((n.number.e164().to_string(), why));
                continue;
            }
            let rec = PoolNumber {
                number: n.number,
                provider,
                country: n.country,
                created_at: now,
                provider_sid: n.provider_sid,
                linked: true,
            };
            let added = self
                .store
                .put_number(&rec)
                .await
                .map_err(PoolError::Store)?;
            let list = if added {
                &mut out.added
            } else {
                &mut out.present
            };
            list.push(rec.number.e164().to_string());
        }
        Ok(out)
    }

    /// Removes a number from the pool once no session uses it; with
    /// `release`, the provider cancels the rental first, and a refusal puts
    /// the number back in allocation.
    pub async fn remove(
        &self,
        number: &PhoneNumber,
        release: bool,
        now: i64,
    ) -> Result<(), PoolError> {
        let rec = match self
            .store
            .retire_number(number, now)
            .await
            .map_err(PoolError::Store)?
        {
            Retire::Retired(rec) => rec,
            Retire::NotFound => return Err(PoolError::NotFound),
            Retire::InUse => return Err(PoolError::InUse),
        };
        if release {
            // Out of allocation while the provider answers; back in if it
            // refuses.
            if let Err(e) = self.providers.release(&rec).await {
                tracing::warn!(number = %number.masked(), error = %crate::telemetry::chain(&e), "the provider did not release a number");
                self.store
                    .restore_number(number)
                    .await
                    .map_err(PoolError::Store)?;
                return Err(PoolError::Provider(e));
            }
            tracing::info!(number = %number.masked(), provider = rec.provider.as_str(), "number released");
        }
        self.store
            .remove_number(number)
            .await
            .map_err(PoolError::Store)?;
        tracing::info!(number = %number.masked(), "number removed");
        Ok(())
    }

    /// `POOL_AUTO_PROVISION_MAX`: buys one more number for `order`'s
    /// country, within the provider's allowance. True when the pool grew by
    /// a usable (linked) number.
    pub async fn grow(&self, max: u64, order: Order<'_>, now: i64) -> bool {
        let provider = order.provider.as_str();
        if max == 0 {
            return false;
        }
        match self.store.take_auto_provision(order.provider, max).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    provider,
                    max,
                    "POOL_AUTO_PROVISION_MAX reached: not buying more numbers"
                );
                return false;
            }
            Err(e) => {
                tracing::warn!(error = %crate::telemetry::chain(&e), "could not count automatic purchases");
                return false;
            }
        }
        let order = Order { count: 1, ..order };
        let country = order.country;
        match self.provision(order, now).await {
            Ok(out) if out.added.iter().any(|n| n.linked) => {
                tracing::info!(
                    provider,
                    country,
                    "bought a number for a session (POOL_AUTO_PROVISION_MAX)"
                );
                true
            }
            // Paid for but not usable (not linked, or not stored): the
            // allowance stays spent. Giving it back let every session buy
            // another number past the cap.
            Ok(out) if out.bought > 0 => {
                tracing::warn!(
                    provider,
                    country,
                    "bought a number for a session that it cannot use (see GET /numbers)"
                );
                false
            }
            result => {
                if let Err(e) = self.store.give_back_auto_provision(order.provider).await {
                    tracing::warn!(error = %crate::telemetry::chain(&e), "could not give back an automatic purchase");
                }
                match result {
                    Err(e) => {
                        tracing::warn!(provider, country, error = %crate::telemetry::chain(&e), "could not buy a number for a session")
                    }
                    Ok(_) => {
                        tracing::warn!(provider, country, "could not buy a number for a session")
                    }
                }
                false
            }
        }
    }
}

/// Only when `PUT_TRIES` is zero.
#[derive(Debug, thiserror::Error)]
#[error("no attempt was made")]
struct NoTries;

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
