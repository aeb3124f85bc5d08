//! Masked lines with voicemail on Twilio, end to end against the emulator
//! (DynamoDB, S3, SES through the real AWS SDK) and a fake Twilio REST API
//! that checks each request as Twilio documents it.

mod support;

use callmask::usecases::voicemail::Outcome;
use serde_json::{json, Value};
use support::voicemail::*;
use support::*;
use wiremock::ResponseTemplate;

#[tokio::test]
async fn unanswered_call_ends_in_exactly_one_voicemail_object_and_email() {
    needs_emulator!();
    let tw = setup(quota(100, "month"), false, |_| {}).await;
    tw.serve_recording("RE0001", 1).await;
    through_voicemail(&tw, "CA0001", "RE0001").await;
    // Twilio retries callbacks: a duplicate changes nothing.
    assert_eq!(tw.recording("CA0001", "RE0001").await.status, 200);
    assert_eq!(tw.sweep().await, vec![Outcome::Delivered]);
    assert!(tw.sweep().await.is_empty());
    assert_eq!(tw.recording("CA0001", "RE0001").await.status, 200);
    assert!(tw.sweep().await.is_empty());

    let list = tw.voicemails().await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["status"], "delivered");
    assert_eq!(list[0]["caller"], CALLER);
    assert_eq!(list[0]["duration_seconds"], 7);
    let link = list[0]["recording_link"].as_str().expect("link");
    assert!(link.contains("X-Amz-Expires"), "{link}");

    let s3 = &tw.t.state.voicemail.bucket.client;
    let objects = s3
        .list_objects_v2()
        .bucket(&tw.t.state.voicemail.config.recordings_bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(objects.contents().len(), 1);
    let key = objects.contents()[0].key().unwrap().to_string();
    assert!(
        !key.contains("555123"),
        "object key holds a phone number: {key}"
    );
    let obj = s3
        .get_object()
        .bucket(&tw.t.state.voicemail.config.recordings_bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        obj.body.collect().await.unwrap().into_bytes().as_ref(),
        AUDIO
    );

    let emails = tw.emails().await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = emails[0]["body"].to_string();
    assert!(
        body.contains(CALLER) && body.contains(LINE) && body.contains("0:07"),
        "{body}"
    );
    assert_eq!(
        emails[0]["source"],
        tw.t.state.voicemail.config.sender_email
    );
}

#[tokio::test]
async fn answered_call_never_reaches_record() {
    needs_emulator!();
    let tw = active_line().await;
    tw.call("CA0002").await;
    for status in ["completed", "answered"] {
        let r = tw.dial_status("CA0002", status).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body.contains("<Hangup/>") && !r.body.contains("<Record"),
            "{}",
            r.body
        );
    }
    for status in ["busy", "failed", "canceled"] {
        assert!(tw
            .dial_status("CA0002", status)
            .await
            .body
            .contains("<Record"));
    }
}

#[tokio::test]
async fn transcription_is_waited_for_attached_once_and_emailed() {
    needs_emulator!();
    let tw = setup(active(), true, |_| {}).await;
    tw.serve_recording("RE0003", 1).await;
    through_voicemail(&tw, "CA0003", "RE0003").await;
    // Copied at once, but the email waits for the text.
    assert_eq!(tw.sweep().await, vec![Outcome::Waiting]);
    assert!(tw.emails().await.is_empty());
    let send = |text: &'static str| {
        let more = [
            ("RecordingSid", "RE0003"),
            ("TranscriptionSid", "TR0003"),
            ("TranscriptionStatus", "completed"),
            ("TranscriptionText", text),
        ];
        let form = call_form("CA0003", CALLER, LINE, &more);
        let tw = &tw;
        async move { tw.twilio("/twilio/transcription", &form).await }
    };
    // A worker holding the voicemail when the text arrives must not push
    // it back to the end of the wait.
    let store = &tw.t.state.core.store;
    let now = tw.t.state.core.clock.now();
    assert!(store
        .claim_voicemail("RE0003", now, 120)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        send("Please call me back about the order.").await.status,
        200
    );
    assert!(!store
        .voicemail_await_transcription("RE0003", now + 120)
        .await
        .unwrap());
    store
        .voicemail_later("RE0003", now, 0, None, None)
        .await
        .unwrap();
    assert_eq!(send("A different duplicate text").await.status, 200);
    assert_eq!(tw.sweep().await, vec![Outcome::Delivered]);
    let emails = tw.emails().await;
    assert_eq!(emails.len(), 1);
    let body = emails[0]["body"].to_string();
    assert!(
        body.contains("Please call me back about the order.") && !body.contains("duplicate"),
        "{body}"
    );
    assert_eq!(
        tw.voicemails().await[0]["transcription"],
        "Please call me back about the order."
    );
}

#[tokio::test]
async fn email_goes_without_transcription_after_the_bounded_wait() {
    needs_emulator!();
    let tw = setup(active(), true, |c| {
        c.voicemail.transcription_wait_seconds = 60
    })
    .await;
    tw.serve_recording("RE0004", 1).await;
    through_voicemail(&tw, "CA0004", "RE0004").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Waiting]);
    assert!(tw.sweep().await.is_empty());
    tw.delivered_after(61).await;
}

#[tokio::test]
async fn quota_is_never_overdrawn_by_concurrent_calls() {
    needs_emulator!();
    let tw = std::sync::Arc::new(setup(quota(60, "month"), false, |_| {}).await);
    // Use 50 of 60 first, one by one.
    for i in 0..50 {
        assert!(tw.call(&format!("CAW{i:04}")).await.body.contains("<Dial"));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let tw = tw.clone();
        tasks.spawn(async move { tw.call(&format!("CAX{i:04}")).await });
    }
    let (mut admitted, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let r = r.unwrap();
        assert_eq!(r.status, 200);
        if r.body.contains("<Dial") {
            admitted += 1;
        } else {
            assert!(
                r.body.contains("<Say") && r.body.contains("<Hangup/>"),
                "{}",
                r.body
            );
            refused += 1;
        }
    }
    assert_eq!((admitted, refused), (10, 40));
    let line = tw.t.get_json(&format!("/lines/{}", enc(LINE))).await;
    assert_eq!(line["usage"]["calls"], 60);
    assert_eq!(line["usage"]["remaining"], 0);
    // A retried webhook for an admitted call is not charged twice.
    assert!(tw.call("CAW0000").await.body.contains("<Dial"));
}

#[tokio::test]
async fn inactive_plan_and_exhausted_quota_refuse_politely() {
    needs_emulator!();
    let tw = setup(quota(1, "day"), false, |_| {}).await;
    assert!(tw.call("CA0005").await.body.contains("<Dial"));
    let r = tw.call("CA0006").await;
    assert!(
        r.body.contains("<Say") && r.body.contains("<Hangup/>") && !r.body.contains("<Dial"),
        "{}",
        r.body
    );
    let body =
        json!({"owner": {"phone": OWNER, "email": tw.owner_email}, "plan": {"active": false}});
    let r = tw.t.put_line(LINE, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tw.call("CA0007").await;
    assert!(
        r.body.contains("not taking calls") && !r.body.contains("<Dial"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn provider_download_failure_is_retried_to_exactly_one_email() {
    needs_emulator!();
    let tw = active_line().await;
    let failing = download("RE0008")
        .respond_with(ResponseTemplate::new(500))
        .mount_as_scoped(&tw.fake)
        .await;
    through_voicemail(&tw, "CA0008", "RE0008").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Retrying]);
    assert_eq!(tw.voicemails().await[0]["status"], "pending");
    // Not due again until the backoff passes.
    assert!(tw.sweep().await.is_empty());
    drop(failing);
    tw.serve_recording("RE0008", 1).await;
    tw.delivered_after(31).await;
    assert_eq!(tw.voicemails().await[0]["status"], "delivered");
}

#[tokio::test]
async fn s3_failure_is_retried_to_exactly_one_email() {
    needs_emulator!();
    let tw = active_line().await;
    tw.serve_recording("RE0009", 2).await;
    set_bucket(&tw.t.state.voicemail, false).await;
    through_voicemail(&tw, "CA0009", "RE0009").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Retrying]);
    assert!(tw.emails().await.is_empty());
    set_bucket(&tw.t.state.voicemail, true).await;
    tw.delivered_after(31).await;
}

#[tokio::test]
async fn ses_failure_is_retried_to_exactly_one_email() {
    needs_emulator!();
    let unverified = email("unverified");
    let tw = active_line().await;
    let mut state = tw.t.state.voicemail.clone();
    state.config.sender_email = unverified.clone();
    tw.serve_recording("RE0010", 1).await;
    through_voicemail(&tw, "CA0010", "RE0010").await;
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Retrying]);
    assert!(tw.emails().await.is_empty());
    // The recording was copied once; the retry only sends the email.
    verify_sender(&state, &unverified).await;
    state.core.clock.advance(31);
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Delivered]);
    assert_eq!(tw.emails().await.len(), 1);
}

#[tokio::test]
async fn past_the_retry_budget_a_voicemail_is_marked_failed() {
    needs_emulator!();
    let tw = setup(active(), false, |c| c.voicemail.voicemail_max_attempts = 2).await;
    download("RE0011")
        .respond_with(ResponseTemplate::new(503))
        .mount(&tw.fake)
        .await;
    through_voicemail(&tw, "CA0011", "RE0011").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Retrying]);
    tw.t.state.core.clock.advance(31);
    assert_eq!(tw.sweep().await, vec![Outcome::Failed]);
    tw.t.state.core.clock.advance(3600);
    assert!(tw.sweep().await.is_empty());
    let vm = &tw.voicemails().await[0];
    assert_eq!(vm["status"], "failed");
    assert_eq!(vm["attempts"], 2);
    assert!(tw.emails().await.is_empty());
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    needs_emulator!();
    let tw = active_line().await;
    // No CallSid: polite TwiML.
    let r = tw
        .twilio("/twilio/voice", &[("From", CALLER), ("To", LINE)])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Say") && r.body.contains("<Hangup/>") && !r.body.contains("<Dial"));
    // An unknown number.
    let unknown = call_form("CA0012", CALLER, "+15551239999", &[]);
    let r = tw.twilio("/twilio/voice", &unknown).await;
    assert!(r.body.contains("<Hangup/>") && !r.body.contains("<Dial"));
    // A recording URL on a foreign host.
    tw.call("CA0013").await;
    let r = tw
        .recording_at("CA0013", "RE0013", "https://evil.example.com/steal")
        .await;
    assert_eq!(r.status, 400);
    // A recording for a call we never saw.
    let r = tw.recording("CA9999", "RE9999").await;
    assert_eq!(r.status, 404);
    // Malformed and huge bodies.
    let malformed = tw.t.post_form("/twilio/recording", "%%%&&&==", Some("x"));
    assert_eq!(malformed.await.status, 401);
    let huge = "a=".to_string() + &"b".repeat(200_000);
    let r = tw.t.post_form("/twilio/voice", &huge, Some("x")).await;
    assert!(r.status < 500);
    assert!(tw.voicemails().await.is_empty());
    assert!(tw.sweep().await.is_empty());
}

#[tokio::test]
async fn twilio_signatures_are_enforced() {
    needs_emulator!();
    let tw = active_line().await;
    let form = call_form("CA0014", CALLER, LINE, &[]);
    let r = tw.twilio("/twilio/voice", &form).await;
    assert!(r.body.contains("<Dial"), "{}", r.body);
    let body = "CallSid=CA0015&From=%2B15551230002&To=%2B15551230009";
    for sig in [None, Some("bm90IGEgc2lnbmF0dXJl")] {
        for p in [
            "/twilio/voice",
            "/twilio/dial-status",
            "/twilio/recording",
            "/twilio/transcription",
            "/twilio/status",
        ] {
            let r = tw.t.post_form(p, body, sig).await;
            assert_eq!(r.status, 401, "{p} signed {sig:?}");
        }
    }
}

#[tokio::test]
async fn sessions_work_on_twilio_numbers_too() {
    needs_emulator!();
    let tw = active_line().await;
    let (proxy, a, b) = ("+15551230100", "+15551230200", "+15551230300");
    tw.t.add_number_of("twilio", proxy).await;
    let session = json!({"participants": [a, b], "provider": "twilio"});
    let r = tw.t.post_json("/sessions", &session).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    // The line is not handed out for sessions.
    assert_eq!(s["participants"][0]["proxy_number"], proxy);
    let r = tw
        .twilio("/twilio/voice", &call_form("CA0016", a, proxy, &[]))
        .await;
    assert!(
        r.body.contains(&format!("callerId=\"{proxy}\""))
            && r.body.contains(&format!("<Number>{b}</Number>")),
        "{}",
        r.body
    );
    let more = [("CallStatus", "completed"), ("CallDuration", "42")];
    let r = tw
        .twilio("/twilio/status", &call_form("CA0016", a, proxy, &more))
        .await;
    assert_eq!(r.status, 200);
    let id = s["id"].as_str().unwrap();
    let calls = tw.t.get_json(&format!("/sessions/{id}/calls")).await;
    assert_eq!(calls["calls"][0]["duration_seconds"], 42);
    // A line number cannot be turned into a line while it routes a session, and vice versa.
    let line = json!({"owner": {"phone": OWNER, "email": tw.owner_email}});
    let r = tw.t.put_line(proxy, &line).await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn a_quota_of_zero_admits_no_call() {
    needs_emulator!();
    let tw = setup(quota(0, "day"), false, |_| {}).await;
    let r = tw.call("CA0099").await;
    assert!(
        r.body.contains("<Say") && r.body.contains("<Hangup/>") && !r.body.contains("<Dial"),
        "{}",
        r.body
    );
    assert!(!r.body.contains(OWNER), "{}", r.body);
}

impl Twilio {
    /// The line again, with its texts emailed too.
    async fn email_texts(&self) {
        let body = json!({"owner": {"phone": OWNER, "email": self.owner_email}, "dial_timeout_seconds": 15,
            "caller_id": "caller", "voicemail": {"enabled": true}, "plan": {"active": true},
            "sms": {"email": true}});
        let r = self.t.put_line(LINE, &body).await;
        assert!(r.status == 200 || r.status == 201, "{}", r.body);
    }

    async fn text(&self, sid: &str, body: &str) -> Reply {
        self.twilio(
            "/twilio/sms",
            &[
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", CALLER),
                ("To", LINE),
                ("Body", body),
                ("NumMedia", "0"),
            ],
        )
        .await
    }
}

/// The stream record Lambda hands the worker for a text's item.
fn stream_record(pk: &str) -> Value {
    json!({"Records": [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": "1",
        "Keys": {"pk": {"S": pk}, "sk": {"S": "META"}}}}]})
}

#[tokio::test]
async fn a_text_to_a_line_is_forwarded_and_emailed_once_by_the_worker() {
    needs_emulator!();
    let tw = active_line().await;
    tw.email_texts().await;
    let r = tw
        .text("SM00000000000000000000000000000001", "Back at 5 <b>")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(&format!(r#"to="{OWNER}""#)) && r.body.contains("Back at 5 &lt;b&gt;"),
        "{}",
        r.body
    );
    // The webhook only queued it.
    assert!(tw.emails().await.is_empty());
    // The stream delivers it; a repeated record (the sweep, a retry) sends nothing more.
    let worker = callmask::api::voicemail_worker::handle(
        &tw.t.state.voicemail,
        stream_record("MSG#SM00000000000000000000000000000001"),
    )
    .await;
    assert_eq!(worker, json!({"batchItemFailures": []}));
    assert!(tw.sweep().await.is_empty());
    let emails = tw.emails().await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    let body = emails[0]["body"].to_string();
    assert!(
        body.contains("Back at 5") && body.contains(CALLER) && body.contains(LINE),
        "{body}"
    );
    // Twilio delivering the same text again: forwarded and emailed once.
    let again = tw
        .text("SM00000000000000000000000000000001", "Back at 5 <b>")
        .await;
    assert!(!again.body.contains("<Message"), "{}", again.body);
    assert!(tw.sweep().await.is_empty());
    assert_eq!(tw.emails().await.len(), 1);
    // A line that does not want emails queues none.
    let tw2 = active_line().await;
    let r = tw2
        .text("SM00000000000000000000000000000002", "no email")
        .await;
    assert!(r.body.contains("<Message"), "{}", r.body);
    assert!(tw2.sweep().await.is_empty());
    assert!(tw2.emails().await.is_empty());
}

#[tokio::test]
async fn a_text_email_ses_refuses_is_retried_then_marked_failed() {
    needs_emulator!();
    let tw = setup(active(), false, |c| c.voicemail.voicemail_max_attempts = 3).await;
    tw.email_texts().await;
    let mut state = tw.t.state.voicemail.clone();
    state.config.sender_email = email("unverified");
    let r = tw.text("SM00000000000000000000000000000003", "hello").await;
    // The text still reaches the owner's phone.
    assert!(r.body.contains("<Message"), "{}", r.body);
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Retrying]);
    // Not due again until the backoff passes.
    assert!(sweep(&state).await.unwrap().is_empty());
    state.core.clock.advance(31);
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Retrying]);
    state.core.clock.advance(61);
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Failed]);
    state.core.clock.advance(3600);
    assert!(sweep(&state).await.unwrap().is_empty());
    assert!(tw.emails().await.is_empty());
    // What is kept of it: no body, no addresses.
    let item = stored_item(&state.core.store, "MSG#SM00000000000000000000000000000003").await;
    assert_eq!(item["email_status"].as_s().unwrap(), "failed");
    assert!(
        !item.contains_key("body") && !item.contains_key("email_to"),
        "{item:?}"
    );
}
