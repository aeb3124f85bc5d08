//! Allocation in a service, against the in-memory table: a session gets
//! only its service's numbers, never a reserved one, and the default
//! service keeps the numbers stored without a service.

use super::*;
use crate::domain::Membership;
use crate::usecases::fakes::MemoryTable;

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

/// A table whose pool holds `numbers`, each with its membership.
fn table(numbers: &[(&str, Membership)]) -> MemoryTable {
    let table = MemoryTable::default();
    for (number, member) in numbers {
        table.stock(number);
        let key = number.to_string();
        table.members.lock().unwrap().insert(key, member.clone());
    }
    table
}

/// Creates session `id` in `service` between `a` and `b`.
async fn open(
    t: &MemoryTable,
    service: &ServiceSid,
    (a, b): (&str, &str),
    id: &str,
) -> Result<Session, CreateError> {
    let new = NewSession {
        participants: [n(a), n(b)],
        labels: [None, None],
        provider: Provider::Vonage,
        terms: Terms::fixed(60, service.clone()),
    };
    create(t, new, id.into(), 0).await
}

#[tokio::test]
async fn a_session_gets_only_its_services_unreserved_numbers() {
    let rides = ServiceSid::random();
    let member = |service: &ServiceSid, reserved| Membership {
        service: service.clone(),
        reserved,
    };
    let default = ServiceSid::default_service();
    // The lowest number is the default service's, the next one reserved.
    let t = table(&[
        ("+447700900001", member(&default, false)),
        ("+447700900002", member(&rides, true)),
        ("+447700900003", member(&rides, false)),
    ]);
    let s = open(&t, &rides, ("+447700900100", "+447700900200"), "s1")
        .await
        .unwrap();
    assert_eq!(s.service, rides);
    for p in &s.participants {
        assert_eq!(p.proxy_number, n("+447700900003"));
    }
    // The service has one number: a participant's second session finds none.
    let e = open(&t, &rides, ("+447700900100", "+447700900300"), "s2")
        .await
        .unwrap_err();
    assert!(matches!(e, CreateError::PoolExhausted { .. }), "{e:?}");
    // The default service has its own.
    let s = open(&t, &default, ("+447700900100", "+447700900300"), "s3")
        .await
        .unwrap();
    assert!(s.service.is_default());
    assert_eq!(s.participants[0].proxy_number, n("+447700900001"));
}

#[tokio::test]
async fn a_reserved_number_is_never_allocated() {
    let default = ServiceSid::default_service();
    let t = table(&[(
        "+447700900001",
        Membership {
            service: default.clone(),
            reserved: true,
        },
    )]);
    let e = open(&t, &default, ("+447700900100", "+447700900200"), "s")
        .await
        .unwrap_err();
    assert!(matches!(e, CreateError::PoolExhausted { .. }), "{e:?}");
}
