//! The pool against in-memory fakes: nothing bought is lost, an
//! allowance is given back when no usable number came of it, a refused
//! release leaves the number in the pool.

use super::*;
use crate::usecases::fakes::{MemoryProvider, MemoryTable};

fn world(offers: &[(&str, &str)]) -> (MemoryTable, MemoryProvider) {
    let providers = MemoryProvider::default();
    *providers.offers.lock().unwrap() = offers
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
    (MemoryTable::default(), providers)
}

fn pool_of<'a>(
    table: &'a MemoryTable,
    providers: &'a MemoryProvider,
) -> Pool<'a, MemoryTable, MemoryProvider> {
    Pool {
        store: table,
        providers,
    }
}

fn order(count: u32) -> Order<'static> {
    Order {
        deadline: None,
        provider: Provider::Vonage,
        country: "GB",
        features: &["voice", "sms"],
        count,
        webhooks: "https://callmask.example.com",
    }
}

const A: &str = "+447700900101";
const B: &str = "+447700900102";

#[tokio::test]
async fn bought_numbers_join_the_pool_an_unlinked_one_out_of_allocation() {
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    providers.faults.fail("link");
    let pool = pool_of(&table, &providers);
    let out = pool.provision(order(2), 100).await.unwrap();
    assert_eq!(out.added.len(), 2);
    assert!(!out.added[0].linked && out.added[1].linked);
    assert_eq!(table.status(A), Some("active"));
    assert!(out.failed.is_empty());
}

#[tokio::test]
async fn a_storage_failure_after_a_purchase_is_retried_then_reported_never_lost() {
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    // A: fails every try. B: fails twice, stored on the third try.
    table.faults.fail_times("put_number", PUT_TRIES + 2);
    let pool = pool_of(&table, &providers);
    let out = pool.provision(order(2), 100).await.unwrap();
    assert_eq!(out.added.len(), 1);
    assert_eq!(table.status(B), Some("active"));
    assert_eq!(out.failed.len(), 1);
    assert_eq!(out.failed[0].0, A);
    assert!(
        out.failed[0].1.contains("POST /numbers/import"),
        "{:?}",
        out.failed
    );
    assert_eq!(
        providers.bought.lock().unwrap().len(),
        2,
        "bought once each"
    );
}

#[tokio::test]
async fn a_refused_search_buys_nothing() {
    let (table, providers) = world(&[(A, "GB")]);
    providers.faults.fail("provision");
    let pool = pool_of(&table, &providers);
    assert!(matches!(
        pool.provision(order(1), 1).await,
        Err(PoolError::Provider(_))
    ));
    assert!(providers.bought.lock().unwrap().is_empty());
    assert!(table.numbers.lock().unwrap().is_empty());
}

#[tokio::test]
async fn growth_gives_the_allowance_back_only_when_nothing_was_bought() {
    // Nothing to buy: the allowance comes back.
    let (table, providers) = world(&[]);
    let pool = pool_of(&table, &providers);
    assert!(!pool.grow(1, order(1), 1).await);
    assert_eq!(table.auto_used(Provider::Vonage), 0);
    // The purchase refused: nothing paid, the allowance comes back.
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    providers.faults.fail("buy");
    let pool = pool_of(&table, &providers);
    assert!(!pool.grow(1, order(1), 1).await);
    assert_eq!(table.auto_used(Provider::Vonage), 0);
    // A usable number: counted, and the next one is past the allowance.
    assert!(pool.grow(1, order(1), 1).await);
    assert_eq!(table.auto_used(Provider::Vonage), 1);
    assert!(!pool.grow(1, order(1), 1).await);
    assert_eq!(providers.bought.lock().unwrap().len(), 1);
}

/// Issue 18: a number bought but not linked gave its allowance back, so
/// every session bought another (three sessions, three numbers, max=1).
#[tokio::test]
async fn a_number_bought_but_unusable_still_spends_the_allowance() {
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    providers.faults.fail("link");
    let pool = pool_of(&table, &providers);
    assert!(!pool.grow(1, order(1), 1).await);
    assert_eq!(table.status(A), Some("active"), "paid for: kept");
    assert_eq!(table.auto_used(Provider::Vonage), 1);
    for _ in 0..3 {
        assert!(!pool.grow(1, order(1), 1).await);
    }
    assert_eq!(providers.bought.lock().unwrap().len(), 1, "max=1 buys one");
}

/// A provider whose purchases after the first never answer: the function
/// is cut short (its future dropped) in the middle of provisioning.
struct SecondPurchaseHangs(MemoryProvider);

impl NumberProvider for SecondPurchaseHangs {
    async fn search(&self, order: Order<'_>) -> Port<Offers> {
        self.0.search(order).await
    }

    async fn buy(&self, order: Order<'_>, offer: &Offer) -> Port<Bought> {
        if !self.0.bought.lock().unwrap().is_empty() {
            std::future::pending::<()>().await;
        }
        self.0.buy(order, offer).await
    }

    async fn owned(&self, p: Provider, webhooks: &str) -> Port<Vec<Owned>> {
        self.0.owned(p, webhooks).await
    }

    async fn release(&self, rec: &PoolNumber) -> Port<()> {
        self.0.release(rec).await
    }
}

/// Issue 18: provisioning bought in a loop and stored after it, so a
/// function stopped midway had paid for numbers it never pooled.
#[tokio::test]
async fn each_number_bought_is_pooled_before_the_next_purchase() {
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    let providers = SecondPurchaseHangs(providers);
    let pool = Pool {
        store: &table,
        providers: &providers,
    };
    let cut = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        pool.provision(order(2), 1),
    )
    .await;
    assert!(cut.is_err(), "the second purchase never answers");
    assert_eq!(*providers.0.bought.lock().unwrap(), vec![A.to_string()]);
    assert_eq!(table.status(A), Some("active"), "paid for and pooled");
}

/// Past its deadline provisioning starts no purchase and says which
/// numbers it did not buy (the client asks again, nothing bought twice).
#[tokio::test]
async fn past_the_deadline_nothing_more_is_bought_and_the_rest_is_named() {
    let (table, providers) = world(&[(A, "GB"), (B, "GB")]);
    let pool = pool_of(&table, &providers);
    let late = Order {
        deadline: Some(std::time::Instant::now()),
        ..order(2)
    };
    let out = pool.provision(late, 1).await.unwrap();
    assert!(out.added.is_empty());
    assert_eq!(out.bought, 0);
    let named: Vec<&str> = out.failed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(named, [A, B]);
    assert!(out.failed[0].1.contains("out of time"), "{:?}", out.failed);
    assert!(providers.bought.lock().unwrap().is_empty());
}

#[tokio::test]
async fn growth_buys_nothing_when_it_cannot_count_or_may_not() {
    let (table, providers) = world(&[(A, "GB")]);
    let pool = pool_of(&table, &providers);
    assert!(!pool.grow(0, order(1), 1).await);
    table.faults.fail("take_auto");
    assert!(!pool.grow(5, order(1), 1).await);
    assert!(providers.bought.lock().unwrap().is_empty());
    // A purchase that failed, and an allowance that could not be given
    // back: nothing bought, the count stays (the safe side).
    providers.faults.fail("provision");
    table.faults.fail("give_back");
    assert!(!pool.grow(5, order(1), 1).await);
    assert_eq!(table.auto_used(Provider::Vonage), 1);
    assert!(providers.bought.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_release_puts_the_number_back_in_allocation() {
    let (table, providers) = world(&[(A, "GB")]);
    let pool = pool_of(&table, &providers);
    pool.provision(order(1), 1).await.unwrap();
    let a = PhoneNumber::from_e164(A).unwrap();
    providers.faults.fail("release");
    assert!(matches!(
        pool.remove(&a, true, 2).await,
        Err(PoolError::Provider(_))
    ));
    assert_eq!(table.status(A), Some("active"));
    pool.remove(&a, true, 2).await.unwrap();
    assert_eq!(table.status(A), None);
    assert_eq!(*providers.released.lock().unwrap(), vec![A.to_string()]);
    assert!(matches!(
        pool.remove(&a, false, 2).await,
        Err(PoolError::NotFound)
    ));
}

#[tokio::test]
async fn import_adds_the_new_and_names_the_present() {
    let (table, providers) = world(&[(A, "GB")]);
    let pool = pool_of(&table, &providers);
    pool.provision(order(1), 1).await.unwrap();
    *providers.owned.lock().unwrap() = [A, B].iter().map(|n| owned(n, None)).collect();
    let out = pool.import(Provider::Vonage, WEBHOOKS, 3).await.unwrap();
    assert_eq!(
        out,
        Imported {
            added: vec![B.into()],
            present: vec![A.into()],
            skipped: vec![],
        }
    );
    providers.faults.fail("owned");
    assert!(matches!(
        pool.import(Provider::Vonage, WEBHOOKS, 3).await,
        Err(PoolError::Provider(_))
    ));
}

/// Issue 18: import marked every owned number linked without checking
/// where it points, so a number of another application went to sessions
/// whose calls never reached callmask.
#[tokio::test]
async fn import_leaves_out_a_number_that_points_elsewhere() {
    let (table, providers) = world(&[]);
    let pool = pool_of(&table, &providers);
    *providers.owned.lock().unwrap() = vec![
        owned(A, None),
        owned(B, Some("linked to another Vonage application")),
    ];
    let out = pool.import(Provider::Vonage, WEBHOOKS, 3).await.unwrap();
    assert_eq!(out.added, vec![A.to_string()]);
    assert_eq!(
        out.skipped,
        vec![(
            B.to_string(),
            "linked to another Vonage application".to_string()
        )]
    );
    assert_eq!(table.status(B), None, "not in the pool");
}

const WEBHOOKS: &str = "https://callmask.example.com";

fn owned(n: &str, elsewhere: Option<&str>) -> Owned {
    Owned {
        number: PhoneNumber::from_e164(n).unwrap(),
        country: "GB".into(),
        provider_sid: None,
        elsewhere: elsewhere.map(str::to_string),
    }
}
