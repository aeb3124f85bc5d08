//! Masked lines with voicemail on Twilio, end to end against the emulator
//! (DynamoDB, S3, SES through the real AWS SDK) and a fake Twilio REST API
//! that checks each request as Twilio documents it.

mod support;

use base64::Engine;
use callmask::api::voicemail_worker::VoicemailState;
use callmask::config::SecretSetting;
use callmask::usecases::voicemail::Outcome;
use callmask::usecases::PortError;
use callmask_local::StackConfig;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LINE: &str = "+15551230009";
const OWNER: &str = "+15551230001";
const CALLER: &str = "+15551230002";
const ACCOUNT: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-auth-token-for-tests";
const AUDIO: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt fake voicemail audio";

struct Twilio {
    t: TestEnv,
    fake: MockServer,
    owner_email: String,
}

fn recording_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}")
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    )
}

/// A line with an active plan and no quota, without transcription.
async fn active_line() -> Twilio {
    setup(json!({"active": true}), false, |_| {}).await
}

/// An active plan of `calls` per `period`.
fn quota(calls: u64, period: &str) -> Value {
    json!({"active": true, "calls_per_period": calls, "period": period})
}

async fn setup(plan: Value, transcribe: bool, tweak: impl FnOnce(&mut StackConfig)) -> Twilio {
    let fake = MockServer::start().await;
    let sender = format!("voicemail-{}@example.com", uuid::Uuid::new_v4().simple());
    let mut config = test_config();
    config.twilio.account_sid = Some(ACCOUNT.into());
    config.twilio.auth_token = SecretSetting::Value(TOKEN.into());
    config.twilio.api_base_url = fake.uri();
    config.voicemail.sender_email = sender;
    tweak(&mut config);
    let t = env_with(config).await;
    t.state
        .voicemail
        .bucket
        .client
        .create_bucket()
        .bucket(&t.state.voicemail.config.recordings_bucket)
        .send()
        .await
        .expect("bucket");
    t.state
        .voicemail
        .mailer
        .client
        .verify_email_identity()
        .email_address(&t.state.voicemail.config.sender_email)
        .send()
        .await
        .expect("sender");
    t.add_number_of("twilio", LINE).await;
    let owner_email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
    let body = json!({"owner": {"phone": OWNER, "email": owner_email}, "dial_timeout_seconds": 15, "caller_id": "caller",
        "voicemail": {"enabled": true, "max_length_seconds": 60, "transcribe": transcribe, "greeting": "Leave a message."},
        "language": "en-US", "plan": plan});
    let r = t.put_line(LINE, &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    Twilio {
        t,
        fake,
        owner_email,
    }
}

impl Twilio {
    /// One pass of the voicemail worker's sweep.
    async fn sweep(&self) -> Vec<Outcome> {
        sweep(&self.t.state.voicemail).await.expect("sweep")
    }

    /// A form POST signed as Twilio signs it.
    async fn twilio(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        self.t.twilio_post(TOKEN, path, params).await
    }

    async fn call(&self, sid: &str) -> Reply {
        self.twilio(
            "/twilio/voice",
            &[
                ("CallSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", CALLER),
                ("To", LINE),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
            ],
        )
        .await
    }

    async fn dial_status(&self, sid: &str, status: &str) -> Reply {
        self.twilio(
            "/twilio/dial-status",
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", LINE),
                ("DialCallStatus", status),
                ("DialCallDuration", "0"),
            ],
        )
        .await
    }

    async fn recording(&self, call: &str, rec: &str) -> Reply {
        let url = format!("{}{}", self.fake.uri(), recording_path(rec));
        self.twilio(
            "/twilio/recording",
            &[
                ("AccountSid", ACCOUNT),
                ("CallSid", call),
                ("RecordingSid", rec),
                ("RecordingUrl", &url),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "7"),
                ("RecordingChannels", "1"),
                ("RecordingSource", "RecordVerb"),
            ],
        )
        .await
    }

    async fn serve_recording(&self, rec: &str, times: u64) {
        Mock::given(method("GET"))
            .and(path(recording_path(rec)))
            .and(header("authorization", basic_auth().as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_bytes(AUDIO)
                    .insert_header("content-type", "audio/x-wav"),
            )
            .expect(times)
            .mount(&self.fake)
            .await;
    }

    /// Emails moto's SES accepted for this line's owner.
    async fn emails(&self) -> Vec<Value> {
        // The emulator takes the dump again when a write beside it changed
        // a backend mid-walk (`scripts/stack.py`).
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", endpoint()))
            .await
            .expect("moto")
            .json()
            .await
            .expect("json");
        let mut out = Vec::new();
        if let Some(msgs) = data.pointer("/ses/Message") {
            collect_messages(msgs, &self.owner_email, &mut out);
        }
        out
    }

    async fn voicemails(&self) -> Vec<Value> {
        let r = self
            .t
            .get(&format!("/lines/{}/voicemails", LINE.replace('+', "%2B")))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["voicemails"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// moto's sent messages (an internal format); find those sent to `to`.
fn collect_messages(v: &Value, to: &str, out: &mut Vec<Value>) {
    let Some(list) = v.as_array() else { return };
    out.extend(
        list.iter()
            .filter(|m| m["destinations"].to_string().contains(to))
            .cloned(),
    );
}

async fn through_voicemail(tw: &Twilio, call: &str, rec: &str) {
    let r = tw.call(call).await;
    assert!(
        r.body.contains("<Dial") && r.body.contains("/twilio/dial-status"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains(&format!("<Number>{OWNER}</Number>")),
        "{}",
        r.body
    );
    let r = tw.dial_status(call, "no-answer").await;
    assert!(
        r.body.contains("<Record") && r.body.contains("recordingStatusCallback="),
        "{}",
        r.body
    );
    assert_eq!(tw.recording(call, rec).await.status, 200);
}

/// One sweep of the worker, as the schedule runs it.
async fn sweep(state: &VoicemailState) -> Result<Vec<Outcome>, PortError> {
    state.pipeline().sweep().await
}

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
    let tw = setup(json!({"active": true}), true, |_| {}).await;
    tw.serve_recording("RE0003", 1).await;
    through_voicemail(&tw, "CA0003", "RE0003").await;
    // Copied at once, but the email waits for the text.
    assert_eq!(tw.sweep().await, vec![Outcome::Waiting]);
    assert!(tw.emails().await.is_empty());
    let send = |text: &'static str| {
        let tw = &tw;
        async move {
            tw.twilio(
                "/twilio/transcription",
                &[
                    ("CallSid", "CA0003"),
                    ("RecordingSid", "RE0003"),
                    ("TranscriptionSid", "TR0003"),
                    ("TranscriptionStatus", "completed"),
                    ("TranscriptionText", text),
                    ("From", CALLER),
                    ("To", LINE),
                ],
            )
            .await
        }
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
    let tw = setup(json!({"active": true}), true, |c| {
        c.voicemail.transcription_wait_seconds = 60
    })
    .await;
    tw.serve_recording("RE0004", 1).await;
    through_voicemail(&tw, "CA0004", "RE0004").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Waiting]);
    assert!(tw.sweep().await.is_empty());
    tw.t.state.core.clock.advance(61);
    assert_eq!(tw.sweep().await, vec![Outcome::Delivered]);
    assert_eq!(tw.emails().await.len(), 1);
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
    let line =
        tw.t.get(&format!("/lines/{}", LINE.replace('+', "%2B")))
            .await
            .json();
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
    let failing = Mock::given(method("GET"))
        .and(path(recording_path("RE0008")))
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
    tw.t.state.core.clock.advance(31);
    assert_eq!(tw.sweep().await, vec![Outcome::Delivered]);
    assert_eq!(tw.emails().await.len(), 1);
    assert_eq!(tw.voicemails().await[0]["status"], "delivered");
}

#[tokio::test]
async fn s3_failure_is_retried_to_exactly_one_email() {
    needs_emulator!();
    let tw = active_line().await;
    tw.serve_recording("RE0009", 2).await;
    let bucket = tw.t.state.voicemail.config.recordings_bucket.clone();
    tw.t.state
        .voicemail
        .bucket
        .client
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    through_voicemail(&tw, "CA0009", "RE0009").await;
    assert_eq!(tw.sweep().await, vec![Outcome::Retrying]);
    assert!(tw.emails().await.is_empty());
    tw.t.state
        .voicemail
        .bucket
        .client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    tw.t.state.core.clock.advance(31);
    assert_eq!(tw.sweep().await, vec![Outcome::Delivered]);
    assert_eq!(tw.emails().await.len(), 1);
}

#[tokio::test]
async fn ses_failure_is_retried_to_exactly_one_email() {
    needs_emulator!();
    let unverified = format!("unverified-{}@example.com", uuid::Uuid::new_v4().simple());
    let tw = active_line().await;
    let mut state = tw.t.state.voicemail.clone();
    state.config.sender_email = unverified.clone();
    tw.serve_recording("RE0010", 1).await;
    through_voicemail(&tw, "CA0010", "RE0010").await;
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Retrying]);
    assert!(tw.emails().await.is_empty());
    // The recording was copied once; the retry only sends the email.
    state
        .mailer
        .client
        .verify_email_identity()
        .email_address(&unverified)
        .send()
        .await
        .unwrap();
    state.core.clock.advance(31);
    assert_eq!(sweep(&state).await.unwrap(), vec![Outcome::Delivered]);
    assert_eq!(tw.emails().await.len(), 1);
}

#[tokio::test]
async fn past_the_retry_budget_a_voicemail_is_marked_failed() {
    needs_emulator!();
    let tw = setup(json!({"active": true}), false, |c| {
        c.voicemail.voicemail_max_attempts = 2
    })
    .await;
    Mock::given(method("GET"))
        .and(path(recording_path("RE0011")))
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
    let r = tw
        .twilio(
            "/twilio/voice",
            &[
                ("CallSid", "CA0012"),
                ("From", CALLER),
                ("To", "+15551239999"),
            ],
        )
        .await;
    assert!(r.body.contains("<Hangup/>") && !r.body.contains("<Dial"));
    // A recording URL on a foreign host.
    tw.call("CA0013").await;
    let r = tw
        .twilio(
            "/twilio/recording",
            &[
                ("CallSid", "CA0013"),
                ("RecordingSid", "RE0013"),
                ("RecordingUrl", "https://evil.example.com/steal"),
                ("RecordingStatus", "completed"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    // A recording for a call we never saw.
    let r = tw.recording("CA9999", "RE9999").await;
    assert_eq!(r.status, 404);
    // Malformed and huge bodies.
    let sig = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-twilio-signature", "x"),
    ];
    assert_eq!(
        tw.t.request("POST", "/twilio/recording", Some("%%%&&&=="), &sig)
            .await
            .status,
        401
    );
    let huge = "a=".to_string() + &"b".repeat(200_000);
    let r =
        tw.t.request("POST", "/twilio/voice", Some(&huge), &sig)
            .await;
    assert!(r.status < 500);
    assert!(tw.voicemails().await.is_empty());
    assert!(tw.sweep().await.is_empty());
}

#[tokio::test]
async fn twilio_signatures_are_enforced() {
    needs_emulator!();
    let tw = active_line().await;
    let params = [("CallSid", "CA0014"), ("From", CALLER), ("To", LINE)];
    assert!(tw
        .twilio("/twilio/voice", &params)
        .await
        .body
        .contains("<Dial"));
    let body = "CallSid=CA0015&From=%2B15551230002&To=%2B15551230009";
    for sig in [None, Some("bm90IGEgc2lnbmF0dXJl")] {
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(s) = sig {
            headers.push(("x-twilio-signature", s));
        }
        for p in [
            "/twilio/voice",
            "/twilio/dial-status",
            "/twilio/recording",
            "/twilio/transcription",
            "/twilio/status",
        ] {
            assert_eq!(
                tw.t.request("POST", p, Some(body), &headers).await.status,
                401,
                "{p}"
            );
        }
    }
}

#[tokio::test]
async fn sessions_work_on_twilio_numbers_too() {
    needs_emulator!();
    let tw = active_line().await;
    tw.t.post(
        "/numbers",
        r#"{"number":"+15551230100","provider":"twilio"}"#,
    )
    .await;
    let r =
        tw.t.post(
            "/sessions",
            r#"{"participants":["+15551230200","+15551230300"],"provider":"twilio"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    // The line is not handed out for sessions.
    assert_eq!(s["participants"][0]["proxy_number"], "+15551230100");
    let r = tw
        .twilio(
            "/twilio/voice",
            &[
                ("CallSid", "CA0016"),
                ("From", "+15551230200"),
                ("To", "+15551230100"),
            ],
        )
        .await;
    assert!(
        r.body.contains("callerId=\"+15551230100\"")
            && r.body.contains("<Number>+15551230300</Number>"),
        "{}",
        r.body
    );
    let r = tw
        .twilio(
            "/twilio/status",
            &[
                ("CallSid", "CA0016"),
                ("From", "+15551230200"),
                ("To", "+15551230100"),
                ("CallStatus", "completed"),
                ("CallDuration", "42"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let calls =
        tw.t.get(&format!("/sessions/{}/calls", s["id"].as_str().unwrap()))
            .await
            .json();
    assert_eq!(calls["calls"][0]["duration_seconds"], 42);
    // A line number cannot be turned into a line while it routes a session, and vice versa.
    let r =
        tw.t.put_line(
            "+15551230100",
            &json!({"owner": {"phone": OWNER, "email": tw.owner_email}}),
        )
        .await;
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
    let tw = setup(json!({"active": true}), false, |c| {
        c.voicemail.voicemail_max_attempts = 3
    })
    .await;
    tw.email_texts().await;
    let mut state = tw.t.state.voicemail.clone();
    state.config.sender_email = format!("unverified-{}@example.com", uuid::Uuid::new_v4().simple());
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
    let item = state
        .core
        .store
        .client()
        .get_item()
        .table_name(state.core.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(
                "MSG#SM00000000000000000000000000000003".into(),
            ),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("META".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["email_status"].as_s().unwrap(), "failed");
    assert!(
        !item.contains_key("body") && !item.contains_key("email_to"),
        "{item:?}"
    );
}
