//! Opening a session against in-memory fakes: numbers checked (offline or
//! by Number Insight), the pool grown once when a country ran out, notices
//! sent from each proxy number, and a failed notice or record never
//! failing the session.

use super::*;
use crate::usecases::fakes::{MemoryProvider, MemoryTable};

const PROXY: &str = "+447700900001";
const RIDER: &str = "+447700900100";
const DRIVER: &str = "+447700900200";

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

/// A table whose pool holds `numbers`, and a provider.
struct World {
    table: MemoryTable,
    providers: MemoryProvider,
    /// `POOL_AUTO_PROVISION_MAX`.
    max: u64,
    number_insight: bool,
    /// The first participant's `country`.
    country: Option<&'static str>,
}

impl World {
    fn new(numbers: &[&str]) -> Self {
        let table = MemoryTable::default();
        for number in numbers {
            table.stock(number);
        }
        World {
            table,
            providers: MemoryProvider::default(),
            max: 0,
            number_insight: false,
            country: None,
        }
    }

    /// Opens a session between `a` ("your rider") and `b` ("your driver").
    async fn open(&self, a: &str, b: &str, notify: bool) -> Result<Session, OpenError> {
        let requested = |number: &str, label: &str, country: Option<&str>| Requested {
            number: number.into(),
            label: Some(label.into()),
            country: country.map(str::to_string),
        };
        let req = OpenSession {
            participants: [
                requested(a, "your rider", self.country),
                requested(b, "your driver", None),
            ],
            provider: Provider::Vonage,
            notify,
            terms: crate::usecases::sessions::Terms::fixed(
                3600,
                crate::domain::ServiceSid::default_service(),
            ),
        };
        let policy = Policy {
            number_insight: self.number_insight,
            notice_text: "Call this number to reach {counterpart}.",
            auto_provision_max: self.max,
            webhooks: "https://callmask.example.com",
        };
        let opening = Opening {
            store: &self.table,
            providers: &self.providers,
        };
        opening.open(req, &policy, "s1".into(), 1_000).await
    }

    fn insight(&self, digits: &str, answer: Insight) {
        self.providers
            .insight
            .lock()
            .unwrap()
            .insert(digits.into(), answer);
    }
}

#[tokio::test]
async fn opens_and_texts_each_participant_from_their_proxy_number() {
    let w = World::new(&[PROXY]);
    let s = w.open(RIDER, DRIVER, true).await.unwrap();
    assert_eq!(s.participants[0].proxy_number, n(PROXY));
    assert!(s
        .notifications
        .iter()
        .all(|x| x.status == NotificationStatus::Sent));
    let texts = w.providers.texts.lock().unwrap().clone();
    let to = |who: &str, text: &str| (PROXY.to_string(), who.to_string(), text.to_string());
    assert!(texts.contains(&to(RIDER, "Call this number to reach your driver.")));
    assert!(texts.contains(&to(DRIVER, "Call this number to reach your rider.")));
    assert_eq!(
        w.table.sessions.lock().unwrap()[0].notifications.len(),
        2,
        "kept"
    );
}

#[tokio::test]
async fn a_failed_notice_or_record_of_it_never_fails_the_session() {
    let w = World::new(&[PROXY]);
    w.providers.faults.fail("refused");
    w.table.faults.fail("notices");
    let s = w.open(RIDER, DRIVER, true).await.unwrap();
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
        w.providers.texts.lock().unwrap().len(),
        1,
        "the other notice went"
    );
    assert_eq!(w.table.sessions.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_empty_country_grows_the_pool_once_within_the_allowance() {
    let mut w = World::new(&[]);
    let err = w.open(RIDER, DRIVER, false).await.unwrap_err();
    assert!(matches!(
        err,
        OpenError::Create(CreateError::PoolExhausted { .. })
    ));
    let offer = (PROXY.to_string(), "GB".to_string());
    w.providers.offers.lock().unwrap().push(offer);
    w.max = 1;
    let s = w.open(RIDER, DRIVER, false).await.unwrap();
    assert_eq!(s.participants[1].proxy_number, n(PROXY));
    assert_eq!(*w.providers.bought.lock().unwrap(), vec![PROXY.to_string()]);
}

#[tokio::test]
async fn storage_down_is_unavailable_not_a_bad_request() {
    let w = World::new(&[PROXY]);
    w.table.faults.fail("create");
    let err = w.open(RIDER, DRIVER, true).await.unwrap_err();
    assert!(matches!(
        err,
        OpenError::Create(CreateError::Unavailable(_))
    ));
    assert!(
        w.providers.texts.lock().unwrap().is_empty(),
        "no notice for no session"
    );
}

#[tokio::test]
async fn numbers_are_checked_offline() {
    let w = World::new(&[PROXY]);
    let err = w.open("12", DRIVER, false).await.unwrap_err();
    assert!(matches!(
        err,
        OpenError::InvalidNumber { participant: 0, .. }
    ));
    let err = w.open(RIDER, " +44 7700 900100 ", false).await.unwrap_err();
    assert!(matches!(err, OpenError::Identical));
}

#[tokio::test]
async fn number_insight_answers_first_and_unsure_falls_back_to_offline() {
    let mut w = World::new(&[PROXY]);
    w.number_insight = true;
    w.insight("447700900999", Insight::Invalid);
    w.insight("447700900100", Insight::Valid(n(RIDER)));
    let err = w.open(RIDER, "+447700900999", false).await.unwrap_err();
    assert!(matches!(
        err,
        OpenError::InvalidNumber { participant: 1, .. }
    ));
    // "0044…" read as international by Number Insight; DRIVER unknown to
    // it, so read offline.
    let s = w.open("00447700900100", DRIVER, false).await.unwrap();
    assert_eq!(s.participants[0].number, n(RIDER));
    assert_eq!(s.participants[1].number, n(DRIVER));
}

#[tokio::test]
async fn bare_digits_need_their_country() {
    for number_insight in [false, true] {
        let mut w = World::new(&[PROXY]);
        w.number_insight = number_insight;
        // Number Insight would have read it as +55 123 0999 (Brazil): never asked.
        w.insight("5551230999", Insight::Valid(n("+5551230999")));
        w.insight("447700900100", Insight::Valid(n(RIDER)));
        let err = w.open("5551230999", DRIVER, false).await.unwrap_err();
        assert!(
            matches!(&err, OpenError::InvalidNumber { participant: 0, reason } if reason.contains("+ or 00")),
            "{err}"
        );
        // With its country the national form is the number meant.
        w.country = Some("GB");
        let s = w.open("07700 900100", DRIVER, false).await.unwrap();
        assert_eq!(s.participants[0].number, n(RIDER));
    }
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
    assert_eq!(insight_digits("+1234567890123456"), None);
    // National digits: not for Number Insight.
    assert_eq!(insight_digits("5551230999"), None);
}
