//! The relay against in-memory fakes, a failure injected at each step: a
//! text is sent at most once per message id, and one that was not sent is
//! handed back to the provider to deliver again.

use super::*;
use crate::usecases::fakes::{MemoryLog, MemoryProvider};

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

async fn deliver(log: &MemoryLog, sms: &MemoryProvider, id: &str) -> Relayed {
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
    let (log, sms) = (MemoryLog::default(), MemoryProvider::default());
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Sent);
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Duplicate);
    assert_eq!(
        *sms.texts.lock().unwrap(),
        vec![(
            "+447700900001".into(),
            "+447700900200".into(),
            "hello".into()
        )]
    );
}

/// A failure injected at each step: (send fault, storage fault) → the
/// first answer, the status the claim keeps, the answer to the provider's
/// redelivery, and how many texts went out in all.
#[tokio::test]
async fn a_failure_at_any_step_sends_at_most_once_and_hands_back_what_was_not_sent() {
    use Relayed::*;
    let cases = [
        // Storage down before anything was sent: retried, then sent once.
        (None, Some("claim"), Unavailable, None, Sent, 1),
        // Worth another try: the claim is given back for the redelivery.
        (Some("transient"), None, Retry, None, Sent, 1),
        // Refused: kept as failed, never sent again.
        (Some("refused"), None, Refused, Some("failed"), Duplicate, 0),
        // Send and storage both fail: the provider is told to retry; the
        // claim stays, so nothing is sent twice. (A claim that outlives a
        // failed send is issue 18's "claimed as sent" finding.)
        (
            Some("transient"),
            Some("forget"),
            Retry,
            Some("sent"),
            Duplicate,
            0,
        ),
        // A refusal that cannot be recorded is still not retried.
        (
            Some("refused"),
            Some("failed"),
            Refused,
            Some("sent"),
            Duplicate,
            0,
        ),
    ];
    for (send_fault, log_fault, first, kept, again, sent) in cases {
        let (log, sms) = (MemoryLog::default(), MemoryProvider::default());
        send_fault.into_iter().for_each(|f| sms.faults.fail(f));
        log_fault.into_iter().for_each(|f| log.faults.fail(f));
        let case = format!("{send_fault:?} {log_fault:?}");
        assert_eq!(deliver(&log, &sms, "m1").await, first, "{case}");
        assert_eq!(log.status("s1", "m1").as_deref(), kept, "{case}");
        assert_eq!(deliver(&log, &sms, "m1").await, again, "{case}");
        assert_eq!(sms.texts.lock().unwrap().len(), sent, "{case}");
    }
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
