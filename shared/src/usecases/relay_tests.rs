//! The relay against in-memory fakes, a failure injected at each step: a
//! text is sent at most once per message id, and one that was not sent is
//! handed back to the provider to deliver again.

use super::*;
use crate::usecases::fakes::{MemoryLog, MemoryProvider};

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).unwrap()
}

fn record(id: &str, at: i64) -> MessageRecord {
    MessageRecord {
        message_id: id.into(),
        provider: Provider::Vonage,
        direction: "0>1".into(),
        at,
        status: "sent".into(),
        length: 5,
        body: None,
    }
}

async fn deliver(log: &MemoryLog, sms: &MemoryProvider, id: &str) -> Relayed {
    deliver_at(log, sms, id, 0).await
}

/// A delivery of message `id` at `at` (seconds).
async fn deliver_at(log: &MemoryLog, sms: &impl SmsSender, id: &str, at: i64) -> Relayed {
    let (to, from) = (n("+447700900200"), n("+447700900001"));
    let route = Route {
        session_id: "s1",
        to: &to,
        from: &from,
        text: "hello",
    };
    relay(log, sms, route, &record(id, at)).await
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
/// redelivery once the first attempt's lease is over, and how many texts
/// went out in all.
#[tokio::test]
async fn a_failure_at_any_step_sends_once_and_hands_back_what_was_not_sent() {
    use Relayed::*;
    let later = SEND_LEASE_SECONDS + 1;
    let cases = [
        // Storage down before anything was sent: retried, then sent once.
        (None, Some("claim"), Unavailable, None, Sent, 1),
        // Worth another try: the claim is given back for the redelivery.
        (Some("transient"), None, Retry, None, Sent, 1),
        // Refused: kept as failed, never sent again.
        (Some("refused"), None, Refused, Some("failed"), Duplicate, 0),
        // Send and storage both fail: the claim stays `sending`, and the
        // redelivery after its lease sends the text (it was not sent).
        // Before, the claim was written `sent` before the send and this
        // text was lost.
        (
            Some("transient"),
            Some("forget"),
            Retry,
            Some("sending"),
            Sent,
            1,
        ),
        // A refusal that cannot be recorded: answered 200 (no redelivery);
        // one after the lease tries once more.
        (
            Some("refused"),
            Some("failed"),
            Refused,
            Some("sending"),
            Sent,
            1,
        ),
    ];
    for (send_fault, log_fault, first, kept, again, sent) in cases {
        let (log, sms) = (MemoryLog::default(), MemoryProvider::default());
        send_fault.into_iter().for_each(|f| sms.faults.fail(f));
        log_fault.into_iter().for_each(|f| log.faults.fail(f));
        let case = format!("{send_fault:?} {log_fault:?}");
        assert_eq!(deliver(&log, &sms, "m1").await, first, "{case}");
        assert_eq!(log.status("s1", "m1").as_deref(), kept, "{case}");
        assert_eq!(deliver_at(&log, &sms, "m1", later).await, again, "{case}");
        assert_eq!(sms.texts.lock().unwrap().len(), sent, "{case}");
        // And once more: whatever happened, never a second text.
        deliver_at(&log, &sms, "m1", 2 * later).await;
        assert_eq!(sms.texts.lock().unwrap().len(), sent, "{case}, again");
    }
}

/// A sender whose request never answers: the function is killed (here,
/// its future dropped) while the text is on its way.
struct Hangs;

impl SmsSender for Hangs {
    async fn send_sms(
        &self,
        _: Provider,
        _: &PhoneNumber,
        _: &PhoneNumber,
        _: &str,
    ) -> Result<(), SendError> {
        std::future::pending().await
    }
}

/// The finding of issue 18: the claim was written as sent before the send,
/// so a function killed mid-send left a text recorded as relayed that never
/// went out, and the provider's redelivery was answered "relayed once".
#[tokio::test]
async fn a_text_whose_function_died_mid_send_is_sent_on_redelivery() {
    let (log, sms) = (MemoryLog::default(), MemoryProvider::default());
    let killed = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        deliver_at(&log, &Hangs, "m1", 0),
    )
    .await;
    assert!(killed.is_err(), "the send never answers");
    assert_eq!(log.status("s1", "m1").as_deref(), Some("sending"));
    // A redelivery while the first attempt may still be sending waits.
    assert_eq!(deliver_at(&log, &sms, "m1", 5).await, Relayed::Retry);
    assert!(sms.texts.lock().unwrap().is_empty());
    // After the lease the attempt is dead: the text goes out, once.
    let later = SEND_LEASE_SECONDS + 1;
    assert_eq!(deliver_at(&log, &sms, "m1", later).await, Relayed::Sent);
    assert_eq!(log.status("s1", "m1").as_deref(), Some("sent"));
    assert_eq!(
        deliver_at(&log, &sms, "m1", 2 * later).await,
        Relayed::Duplicate
    );
    assert_eq!(sms.texts.lock().unwrap().len(), 1);
}

/// A text that went out while storage could not record it: answered 200
/// (the provider does not deliver it again), kept as `sending`.
#[tokio::test]
async fn a_sent_text_that_cannot_be_recorded_is_still_answered_sent() {
    let (log, sms) = (MemoryLog::default(), MemoryProvider::default());
    log.faults.fail("sent");
    assert_eq!(deliver(&log, &sms, "m1").await, Relayed::Sent);
    assert_eq!(log.status("s1", "m1").as_deref(), Some("sending"));
    assert_eq!(deliver_at(&log, &sms, "m1", 1).await, Relayed::Retry);
    assert_eq!(sms.texts.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn in_the_answer_the_claim_is_the_whole_relay() {
    let log = MemoryLog::default();
    assert_eq!(claim(&log, "s1", &record("SM1", 0)).await, Relayed::Answer);
    assert_eq!(
        claim(&log, "s1", &record("SM1", 0)).await,
        Relayed::Duplicate
    );
    log.faults.fail("claim");
    assert_eq!(
        claim(&log, "s1", &record("SM2", 0)).await,
        Relayed::Unavailable
    );
    assert_eq!(claim(&log, "s1", &record("SM2", 0)).await, Relayed::Answer);
}
