//! Opening a session against in-memory fakes: numbers checked (offline or
//! by Number Insight), the pool grown once when a country ran out, notices
//! sent from each proxy number, and a failed notice or record never
//! failing the session.

use super::*;
use crate::domain::PoolNumber;
use crate::usecases::fakes::{MemoryProvider, MemoryTable};

const PROXY: &str = "+447700900001";
const RIDER: &str = "+447700900100";
const DRIVER: &str = "+447700900200";

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

fn table_with(numbers: &[&str]) -> MemoryTable {
    let table = MemoryTable::default();
    for number in numbers {
        let rec = PoolNumber {
            number: n(number),
            provider: Provider::Vonage,
            country: "GB".into(),
            created_at: 0,
            provider_sid: None,
            linked: true,
        };
        table
            .numbers
            .lock()
            .unwrap()
            .insert(number.to_string(), (rec, "active"));
    }
    table
}

fn request(a: &str, b: &str, notify: bool) -> OpenSession {
    OpenSession {
        participants: [
            Requested {
                number: a.into(),
                label: Some("your rider".into()),
            },
            Requested {
                number: b.into(),
                label: Some("your driver".into()),
            },
        ],
        provider: Provider::Vonage,
        ttl_seconds: 3600,
        notify,
    }
}

fn policy(max: u64, number_insight: bool) -> Policy<'static> {
    Policy {
        number_insight,
        notice_text: "Call this number to reach {counterpart}.",
        auto_provision_max: max,
        webhooks: "https://callmask.example.com",
    }
}

async fn open(
    table: &MemoryTable,
    providers: &MemoryProvider,
    req: OpenSession,
    policy: Policy<'_>,
) -> Result<Session, OpenError> {
    let opening = Opening {
        store: table,
        providers,
    };
    opening.open(req, &policy, "s1".into(), 1_000).await
}

#[tokio::test]
async fn opens_and_texts_each_participant_from_their_proxy_number() {
    let (table, providers) = (table_with(&[PROXY]), MemoryProvider::default());
    let s = open(
        &table,
        &providers,
        request(RIDER, DRIVER, true),
        policy(0, false),
    )
    .await
    .unwrap();
    assert_eq!(s.participants[0].proxy_number, n(PROXY));
    assert!(s
        .notifications
        .iter()
        .all(|x| x.status == NotificationStatus::Sent));
    let texts = providers.texts.lock().unwrap().clone();
    assert!(texts.contains(&(
        PROXY.into(),
        RIDER.into(),
        "Call this number to reach your driver.".into()
    )));
    assert!(texts.contains(&(
        PROXY.into(),
        DRIVER.into(),
        "Call this number to reach your rider.".into()
    )));
    assert_eq!(
        table.sessions.lock().unwrap()[0].notifications.len(),
        2,
        "kept"
    );
}

#[tokio::test]
async fn a_failed_notice_or_record_of_it_never_fails_the_session() {
    let (table, providers) = (table_with(&[PROXY]), MemoryProvider::default());
    providers.faults.fail("sms");
    table.faults.fail("notices");
    let s = open(
        &table,
        &providers,
        request(RIDER, DRIVER, true),
        policy(0, false),
    )
    .await
    .unwrap();
    let failed: Vec<_> = s
        .notifications
        .iter()
        .filter(|x| x.status == NotificationStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0]
        .reason
        .as_deref()
        .is_some_and(|r| r.contains("injected")));
    assert_eq!(
        providers.texts.lock().unwrap().len(),
        1,
        "the other notice went"
    );
    assert_eq!(table.sessions.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_empty_country_grows_the_pool_once_within_the_allowance() {
    let (table, providers) = (table_with(&[]), MemoryProvider::default());
    let err = open(
        &table,
        &providers,
        request(RIDER, DRIVER, false),
        policy(0, false),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        OpenError::Create(CreateError::PoolExhausted { .. })
    ));
    providers
        .offers
        .lock()
        .unwrap()
        .push((PROXY.into(), "GB".into()));
    let s = open(
        &table,
        &providers,
        request(RIDER, DRIVER, false),
        policy(1, false),
    )
    .await
    .unwrap();
    assert_eq!(s.participants[1].proxy_number, n(PROXY));
    assert_eq!(*providers.bought.lock().unwrap(), vec![PROXY.to_string()]);
}

#[tokio::test]
async fn storage_down_is_unavailable_not_a_bad_request() {
    let (table, providers) = (table_with(&[PROXY]), MemoryProvider::default());
    table.faults.fail("create");
    let err = open(
        &table,
        &providers,
        request(RIDER, DRIVER, true),
        policy(0, false),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        OpenError::Create(CreateError::Unavailable(_))
    ));
    assert!(
        providers.texts.lock().unwrap().is_empty(),
        "no notice for no session"
    );
}

#[tokio::test]
async fn numbers_are_checked_offline_or_by_number_insight() {
    let (table, providers) = (table_with(&[PROXY]), MemoryProvider::default());
    let err = open(
        &table,
        &providers,
        request("12", DRIVER, false),
        policy(0, false),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        OpenError::InvalidNumber { participant: 0, .. }
    ));
    let err = open(
        &table,
        &providers,
        request(RIDER, " +44 7700 900100 ", false),
        policy(0, false),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OpenError::Identical));
    // Number Insight: its answer wins; unsure falls back to offline.
    providers
        .insight
        .lock()
        .unwrap()
        .insert("447700900999".into(), Insight::Invalid);
    providers
        .insight
        .lock()
        .unwrap()
        .insert("447700900100".into(), Insight::Valid(n(RIDER)));
    let err = open(
        &table,
        &providers,
        request(RIDER, "+447700900999", false),
        policy(0, true),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        OpenError::InvalidNumber { participant: 1, .. }
    ));
    let s = open(
        &table,
        &providers,
        request("00447700900100", DRIVER, false),
        policy(0, true),
    )
    .await
    .unwrap();
    assert_eq!(s.participants[0].number, n(RIDER));
}

#[test]
fn number_insight_digits() {
    assert_eq!(
        insight_digits(" +44 7700 900100 ").as_deref(),
        Some("447700900100")
    );
    assert_eq!(insight_digits("0044 7700").as_deref(), Some("447700"));
    assert_eq!(insight_digits("+0044").as_deref(), Some("0044"));
    assert_eq!(insight_digits("abc"), None);
    assert_eq!(insight_digits("1234567890123456"), None);
}
