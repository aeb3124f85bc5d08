//! Injected faults, nothing lost: the real handlers and use cases, routed
//! as the local stack routes them, against the emulator and the fakes
//! while their fault switches (`support::faults`) fail requests as AWS and
//! the providers fail them. The real AWS SDK meets each fault, so its own
//! retries (three attempts, backoff) play their part as in AWS. Each
//! scenario ends by reading what is left: the table, the bucket, the
//! emails SES accepted, the texts the fake sent, and how often each fault
//! fired.

mod support;

use callmask::usecases::voicemail::Outcome;
use callmask_local::StackConfig;
use serde_json::{json, Value};
use support::faults::*;
use support::voicemail::*;
use support::webhooks::*;
use support::*;
use wiremock::ResponseTemplate;

/// The AWS SDK's attempts at one request (standard retry mode): a fault
/// armed for fewer is absorbed by its retries, one armed for this many
/// fails the request.
const SDK_ATTEMPTS: u64 = 3;

/// Settings for the fake providers of `scripts/fake_providers.py`: both
/// providers' REST APIs and their credentials.
fn on_the_fake_providers(c: &mut StackConfig) {
    on_fake_providers(c, fake_providers_url(), fake_providers_url());
}

/// A route of Alice to Bob through the pool on a stack whose DynamoDB
/// throttles: a few throttled requests are retried by the SDK and the call
/// connects; throttled past the SDK's attempts the answer URL says 503,
/// and Vonage's retry of it connects; throttled throughout, the fallback
/// URL apologises. Nothing changes in the table meanwhile.
#[tokio::test]
async fn a_call_is_answered_under_dynamodb_throttling() {
    needs_emulator!();
    let (t, s) = env_with_session(3600).await;
    let (to, from) = (proxy_of(&s, 0), ALICE);
    let table = t.state.core.store.table().to_string();
    let dynamodb = Switch::emulator();
    let connects = |ncco: &Value| {
        let c = connect_of(ncco).unwrap_or_else(|| panic!("no connect: {ncco}"));
        assert_eq!(c["endpoint"][0]["number"], digits(BOB), "{ncco}");
    };

    let absorbed = dynamodb
        .throttle("dynamodb", "*", &table, SDK_ATTEMPTS - 1)
        .await;
    connects(&t.answer(digits(&to), digits(from)).await);
    assert_eq!(absorbed.fired().await, SDK_ATTEMPTS - 1);

    let q = answer_query(digits(&to), digits(from));
    let failed = dynamodb
        .throttle("dynamodb", "*", &table, SDK_ATTEMPTS)
        .await;
    let r = t.get(&format!("/vonage/answer{q}")).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(failed.fired().await, SDK_ATTEMPTS);
    // Vonage asks the answer URL again: the throttling has passed.
    connects(&t.answer(digits(&to), digits(from)).await);

    let throughout = dynamodb
        .throttle("dynamodb", "*", &table, 2 * SDK_ATTEMPTS)
        .await;
    let r = t.get(&format!("/vonage/answer{q}")).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let r = fallback_apology(&t, &format!("{q}&reason=timeout")).await;
    assert!(!r.body.contains(digits(BOB)), "{}", r.body);
    assert_eq!(throughout.fired().await, 2 * SDK_ATTEMPTS);

    // The session and its numbers are as they were (its calls routed:
    // in progress).
    let id = s["id"].as_str().expect("id");
    assert_eq!(
        t.get_json(&format!("/sessions/{id}")).await["status"],
        "in-progress"
    );
    connects(&t.answer(digits(&to), digits(from)).await);
}

/// One object in the recordings bucket, holding the recording.
async fn the_one_recording(tw: &Twilio) {
    let (s3, bucket) = (
        &tw.t.state.voicemail.bucket.client,
        &tw.t.state.voicemail.config.recordings_bucket,
    );
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.contents().len(), 1, "{listed:?}");
    let key = listed.contents()[0].key().expect("key");
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("get");
    let bytes = obj.body.collect().await.expect("body").into_bytes();
    assert_eq!(bytes.as_ref(), AUDIO);
}

/// A voicemail whose every step fails in turn: Twilio's download twice
/// (503), then S3 (SlowDown past the SDK's attempts), then SES (Throttling
/// past them). Each failure is retried after its backoff, and within the
/// budget it is delivered: one object, one email, nothing more on later
/// sweeps.
#[tokio::test]
async fn a_voicemail_through_download_s3_and_ses_faults_is_delivered_exactly_once() {
    needs_emulator!();
    let tw = setup(active(), false, |c| c.voicemail.voicemail_max_attempts = 5).await;
    let (call, rec) = ("CA00F1", "RE00F1");
    download(rec)
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&tw.fake)
        .await;
    // Downloaded again after S3 failed, not after SES did (the copy stays).
    tw.serve_recording(rec, 2).await;
    let aws = Switch::emulator();
    let bucket = &tw.t.state.voicemail.config.recordings_bucket;
    let s3 = aws.throttle("s3", "PutObject", bucket, SDK_ATTEMPTS).await;
    let ses = aws
        .throttle("ses", "SendEmail", &tw.owner_email, SDK_ATTEMPTS)
        .await;
    through_voicemail(&tw, call, rec).await;
    // The backoffs after the 1st to 4th failures: 30 s, doubling.
    for wait in [0, 30, 60, 120] {
        tw.t.state.core.clock.advance(wait);
        assert_eq!(tw.sweep().await, vec![Outcome::Retrying], "after {wait} s");
        assert!(tw.emails().await.is_empty());
    }
    tw.delivered_after(240).await;
    assert_eq!(
        (s3.fired().await, ses.fired().await),
        (SDK_ATTEMPTS, SDK_ATTEMPTS)
    );
    the_one_recording(&tw).await;
    let vm = &tw.voicemails().await[0];
    assert_eq!(vm["status"], "delivered", "{vm}");
    tw.t.state.core.clock.advance(3600);
    assert!(tw.sweep().await.is_empty());
    assert_eq!(tw.emails().await.len(), 1);
}

/// SES throttling every try: past the budget the voicemail is marked
/// failed (`Outcome::Failed` is returned only where the `VoicemailFailed`
/// metric, which the alarm watches, is emitted), no email went out, and
/// the recording copied on the first try is kept in the bucket.
#[tokio::test]
async fn a_voicemail_past_its_budget_is_marked_failed_and_its_recording_kept() {
    needs_emulator!();
    let tw = setup(active(), false, |c| c.voicemail.voicemail_max_attempts = 2).await;
    let (call, rec) = ("CA00F2", "RE00F2");
    tw.serve_recording(rec, 1).await;
    let ses = Switch::emulator()
        .throttle("ses", "SendEmail", &tw.owner_email, 2 * SDK_ATTEMPTS)
        .await;
    through_voicemail(&tw, call, rec).await;
    assert_eq!(tw.sweep().await, vec![Outcome::Retrying]);
    tw.t.state.core.clock.advance(31);
    assert_eq!(tw.sweep().await, vec![Outcome::Failed]);
    tw.t.state.core.clock.advance(3600);
    assert!(tw.sweep().await.is_empty());
    assert_eq!(ses.fired().await, 2 * SDK_ATTEMPTS);
    assert!(tw.emails().await.is_empty());
    let vm = &tw.voicemails().await[0];
    assert_eq!(
        (&vm["status"], &vm["attempts"]),
        (&json!("failed"), &json!(2)),
        "{vm}"
    );
    the_one_recording(&tw).await;
}

/// A Vonage text from Dave to Erin through the fake SMS API: refused with
/// a 500, then throttled (each answered 503, so Vonage delivers it again),
/// then held until the function is killed mid-send. Vonage's delivery
/// while the dead attempt's lease runs is put off (503); the one after it
/// sends the text, once; a later one is a duplicate.
#[tokio::test]
async fn a_text_relayed_through_provider_faults_and_a_killed_function_goes_out_once() {
    needs_emulator!();
    let t = env_changed(on_the_fake_providers).await;
    t.add_number(P1).await;
    let s = t.open_session(DAVE, ERIN, 3600).await;
    let (dave_proxy, erin_proxy) = (proxy_of(&s, 0), proxy_of(&s, 1));
    let delivery = format!(
        "/vonage/inbound-sms?msisdn={}&to={}&messageId=0A0000000000F001&text=On%20my%20way&type=text&message-timestamp=2026-11-24+08%3A00%3A00",
        digits(DAVE),
        digits(&dave_proxy)
    );
    let sms = Switch::providers();
    let erin = digits(ERIN);
    for kind in ["5xx", "throttle"] {
        let fault = sms
            .arm("vonage", "POST /sms/json", erin, 1, kind, json!({}))
            .await;
        let r = t.get(&delivery).await;
        assert_eq!(r.status, 503, "{kind}: {}", r.body);
        assert_eq!(fault.fired().await, 1, "{kind}");
    }
    assert!(texts_sent_to(erin).await.is_empty());

    // The fake holds the text unanswered; once it has the request, the
    // function is killed (its future dropped), as Lambda ends one that
    // ran out of time.
    let held = sms.hold("vonage", "POST /sms/json", erin, 3000).await;
    tokio::select! {
        r = t.get(&delivery) => panic!("answered while the fake held it: {} {}", r.status, r.body),
        () = held.wait_fired(1) => {}
    }
    let r = t.get(&delivery).await;
    assert_eq!(r.status, 503, "within the dead attempt's lease: {}", r.body);
    assert!(texts_sent_to(erin).await.is_empty());

    t.state.core.clock.advance(31);
    assert_eq!(t.get(&delivery).await.status, 200);
    assert_eq!(t.get(&delivery).await.status, 200);
    let sent = texts_sent_to(erin).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["from"], digits(&erin_proxy));
    assert_eq!(sent[0]["text"], "On my way");
    let id = s["id"].as_str().expect("id");
    let listed = t.get_json(&format!("/sessions/{id}/messages")).await;
    let messages = listed["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 1, "{listed}");
    assert_eq!(messages[0]["status"], "sent", "{listed}");
}

/// Secrets Manager failing after the cache period (here zero: every
/// webhook refreshes): the value read before keeps verifying webhooks, and
/// calls connect. A function that never read the secret still fails
/// closed (503), as before.
#[tokio::test]
async fn a_secrets_manager_outage_after_the_cache_period_keeps_the_cached_secret_serving() {
    needs_emulator!();
    let (t, vonage_id, pa) = env_from_secrets_manager(VONAGE_SECRET, 0).await;
    let (to, from) = (digits(&pa), digits(ALICE));
    let connects = |r: &Reply| {
        assert_eq!(r.status, 200, "{}", r.body);
        let ncco = r.json();
        let c = connect_of(&ncco).unwrap_or_else(|| panic!("no connect: {}", r.body));
        assert_eq!(c["endpoint"][0]["number"], digits(BOB));
    };
    connects(&signed_answer(&t, VONAGE_SECRET, to, from).await);

    // The tests' stacks (and `put_secret`) name the emulator's endpoint
    // outright, which wins over AWS_ENDPOINT_URL_SECRETS_MANAGER: their
    // Secrets Manager is the emulator's.
    let sm = Switch::emulator();
    let outage = sm
        .arm(
            "secretsmanager",
            "GetSecretValue",
            &vonage_id,
            1000,
            "5xx",
            json!({"status": 503}),
        )
        .await;
    connects(&signed_answer(&t, VONAGE_SECRET, to, from).await);
    let tried = outage.fired().await;
    assert!(tried >= SDK_ATTEMPTS, "the refresh was tried: {tried}");
    // A forged signature is still refused with the cached secret, and the
    // failed refresh is not tried again at once (each try costs a caller
    // the SDK's attempts).
    let r = signed_answer(&t, "not-the-secret", to, from).await;
    assert_eq!(r.status, 401, "{}", r.body);
    connects(&signed_answer(&t, VONAGE_SECRET, to, from).await);
    assert_eq!(outage.fired().await, tried);

    // A cold function during the outage has nothing to serve.
    let cold = env_with_secret_ids(&vonage_id, &unique("callmask/unread"), 0).await;
    let pa = with_session_and_line(&cold).await;
    let r = signed_answer(&cold, VONAGE_SECRET, digits(&pa), digits(ALICE)).await;
    assert_eq!(r.status, 503, "{}", r.body);
}

/// `POST /numbers/provision` of `body` with `Idempotency-Key: key`.
async fn provision(t: &TestEnv, key: &str, body: &Value) -> Reply {
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", key),
    ];
    let body = body.to_string();
    t.request("POST", "/numbers/provision", Some(&body), &headers)
        .await
}

/// The pool as `GET /numbers` lists it: (number, status) each, sorted.
async fn pool(t: &TestEnv) -> Vec<(String, String)> {
    let mut out: Vec<_> = t
        .numbers()
        .await
        .iter()
        .map(|n| {
            (
                n["number"].as_str().unwrap_or_default().to_string(),
                n["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The numbers the fake's account owns for one provider, sorted: Vonage's
/// `msisdn` (digits), Twilio's `phone_number` (+E.164).
async fn owned(provider: &str, field: &str) -> Vec<String> {
    let owned = owned_at_the_fake().await;
    let mut out: Vec<String> = pluck(&owned[provider], field)
        .into_iter()
        .map(String::from)
        .collect();
    out.sort();
    out
}

async fn vonage_owned() -> Vec<String> {
    owned("vonage", "msisdn").await
}

async fn twilio_owned() -> Vec<String> {
    owned("twilio", "phone_number").await
}

/// Three GB numbers from Vonage while its API fails midway: the second
/// purchase is refused (500) and the third number cannot be linked (500).
/// What was bought is in the pool, the unlinked one out of allocation; the
/// refused one is named and not added; the client's retry with the same
/// Idempotency-Key gets the same answer and buys nothing.
#[tokio::test]
async fn provisioning_through_provider_faults_keeps_every_number_bought_once() {
    needs_emulator!();
    let t = env_changed(on_the_fake_providers).await;
    let owned_before = vonage_owned().await;
    let vonage = Switch::providers();
    let refused = vonage
        .arm(
            "vonage",
            "POST /number/buy",
            "447700900102",
            1,
            "5xx",
            json!({}),
        )
        .await;
    let unlinked = vonage
        .arm(
            "vonage",
            "POST /number/update",
            "447700900103",
            1,
            "5xx",
            json!({"status": 503}),
        )
        .await;
    let order = json!({"provider": "vonage", "country": "GB", "count": 3});
    let key = unique("order");
    let first = provision(&t, &key, &order).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!((refused.fired().await, unlinked.fired().await), (1, 1));
    let answer = first.json();
    assert_eq!(
        pluck(&answer["failed"], "number"),
        ["+447700900102"],
        "{answer}"
    );
    let expected = vec![
        ("+447700900101".to_string(), "active".to_string()),
        ("+447700900103".to_string(), "unlinked".to_string()),
    ];
    assert_eq!(pool(&t).await, expected);
    let bought = |mut owned: Vec<String>| {
        owned.extend(["447700900101".to_string(), "447700900103".to_string()]);
        owned.sort();
        owned
    };
    assert_eq!(vonage_owned().await, bought(owned_before.clone()));

    // The client did not hear the answer and sends the order again.
    let again = provision(&t, &key, &order).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json(), answer);
    assert_eq!(vonage_owned().await, bought(owned_before));
    assert_eq!(pool(&t).await, expected);
}

/// Three US numbers from Twilio, the function killed while the second
/// purchase is on its way (the fake holds it unanswered): the first number,
/// stored as soon as it was bought, is in the pool; the client's retry with
/// the same Idempotency-Key is told the order is under way and buys
/// nothing, so no number is bought twice.
#[tokio::test]
async fn provisioning_killed_mid_purchase_buys_nothing_twice_on_a_retry() {
    needs_emulator!();
    let t = env_changed(on_the_fake_providers).await;
    let owned_before = twilio_owned().await;
    let held = Switch::providers()
        .hold("twilio", "POST /2010-04-01/Accounts/*", "15551230202", 3000)
        .await;
    let order = json!({"provider": "twilio", "country": "US", "count": 3});
    let key = unique("order");
    tokio::select! {
        r = provision(&t, &key, &order) => panic!("answered while the fake held a purchase: {} {}", r.status, r.body),
        () = held.wait_fired(1) => {}
    }
    let expected = vec![("+15551230201".to_string(), "active".to_string())];
    assert_eq!(pool(&t).await, expected);
    let mut bought = owned_before.clone();
    bought.push("+15551230201".to_string());
    bought.sort();
    assert_eq!(twilio_owned().await, bought);

    let retry = provision(&t, &key, &order).await;
    assert_eq!(retry.status, 409, "{}", retry.body);
    assert!(retry.body.contains("GET /numbers"), "{}", retry.body);
    assert_eq!(twilio_owned().await, bought);
    assert_eq!(pool(&t).await, expected);
}

/// Three US numbers from Vonage while DynamoDB throttles every write of
/// the second one (three tries of the SDK's three attempts): the number is
/// bought but cannot be stored, so the answer names it with the way back
/// (`POST /numbers/import`), and that import pools it. The others are
/// pooled as they were bought; nothing is bought twice.
#[tokio::test]
async fn a_bought_number_storage_refused_is_named_and_imported() {
    needs_emulator!();
    let t = env_changed(on_the_fake_providers).await;
    let owned_before = vonage_owned().await;
    let throttled = Switch::emulator()
        .throttle("dynamodb", "PutItem", "15551230102", 3 * SDK_ATTEMPTS)
        .await;
    let order = json!({"provider": "vonage", "country": "US", "count": 3});
    let r = provision(&t, &unique("order"), &order).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(throttled.fired().await, 3 * SDK_ATTEMPTS);
    let answer = r.json();
    assert_eq!(
        pluck(&answer["failed"], "number"),
        ["+15551230102"],
        "{answer}"
    );
    let reason = answer["failed"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("POST /numbers/import"), "{answer}");
    let active = |n: &str| (n.to_string(), "active".to_string());
    assert_eq!(
        pool(&t).await,
        [active("+15551230101"), active("+15551230103")]
    );
    let mut bought = owned_before;
    bought.extend(["15551230101", "15551230102", "15551230103"].map(String::from));
    bought.sort();
    assert_eq!(vonage_owned().await, bought);

    let r = t
        .post_json("/numbers/import", &json!({"provider": "vonage"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(pool(&t).await.contains(&active("+15551230102")));
    assert_eq!(vonage_owned().await, bought);
}
