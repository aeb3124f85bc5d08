//! The relay against in-memory fakes, a failure injected at each step: a
//! text is sent at most once per message id, and one that was not sent is
//! handed back to the provider to deliver again.

use super::*;
use crate::usecases::fakes::{MemoryLog, MemorySms};

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

fn record(id: &str) -> MessageRecord {
    MessageRecord {
        message_id: id.into(),
        provider: Provider::Vonage,
        direction: "0>1".into(),
        at: 0,
        status: "sent".into(),
        length: 5,
        body: None,
    }
}

async fn deliver(log: &MemoryLog, sms: &MemorySms, id: &str) -> Relayed {
    let (to, from) = (n("+447700900200"), n("+447700900001"));
    let route = Route {
        session_id: "s1",
        to: &to,
        from: &from,
        text: "hello",
    };
    relay(log, sms, route, &record(id)).await
}

#[tokio::test]
async fn sends_once_per_message_id() {
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Sent);
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert_eq!(
        *sms.sent.lock().unwrap(),
        vec![(
            "+447700900001".into(),
            "+447700900200".into(),
            "hello".into()
        )]
    );
}

#[tokio::test]
async fn a_storage_failure_sends_nothing_and_the_redelivery_sends_once() {
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    log.faults.fail("claim");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Unavailable);
    assert!(sms.sent.lock().unwrap().is_empty());
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Sent);
    assert_eq!(sms.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_transient_send_failure_gives_the_claim_back_for_the_redelivery() {
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    sms.faults.fail("transient");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Retry);
    assert_eq!(log.status("s1", "m1"), None, "claim given back");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Sent);
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert_eq!(sms.sent.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refusal_is_kept_as_failed_and_not_sent_again() {
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    sms.faults.fail("refused");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Refused);
    assert_eq!(log.status("s1", "m1").as_deref(), Some("failed"));
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert!(sms.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_claim_that_cannot_be_given_back_still_asks_for_a_retry() {
    // Send and storage both fail: the provider is told to retry (503); the
    // claim stays, so the redelivery sends nothing twice. (A claim that
    // outlives a failed send is issue 18's "claimed as sent" finding.)
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    sms.faults.fail("transient");
    log.faults.fail("forget");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Retry);
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert!(sms.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_refusal_that_cannot_be_recorded_is_still_not_retried() {
    let (log, sms) = (MemoryLog::default(), MemorySms::default());
    sms.faults.fail("refused");
    log.faults.fail("failed");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Refused);
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert!(sms.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn in_the_answer_the_claim_is_the_whole_relay() {
    let log = MemoryLog::default();
    assert_eq!(claim(&log, "s1", &record("SM1")).await, Relayed::Answer);
    assert_eq!(claim(&log, "s1", &record("SM1")).await, Relayed::Duplicate);
    log.faults.fail("claim");
    assert_eq!(
        claim(&log, "s1", &record("SM2")).await,
        Relayed::Unavailable
    );
    assert_eq!(claim(&log, "s1", &record("SM2")).await, Relayed::Answer);
}
