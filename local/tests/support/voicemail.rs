//! A masked line with voicemail on Twilio, against the emulator and a fake
//! Twilio REST API (wiremock): the stack, the calls and callbacks Twilio
//! makes, the voicemail worker's sweep, and what the emulator holds
//! (emails SES accepted, voicemails listed).

use base64::Engine;
use callmask::api::voicemail_worker::VoicemailState;
use callmask::config::SecretSetting;
use callmask::usecases::voicemail::Outcome;
use callmask::usecases::PortError;
use callmask_local::StackConfig;
use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

use super::*;

pub const ACCOUNT: &str = "AC00000000000000000000000000000001";
pub const TOKEN: &str = "twilio-auth-token-for-tests";
pub const AUDIO: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt fake voicemail audio";

pub struct Twilio {
    pub t: TestEnv,
    pub fake: MockServer,
    pub owner_email: String,
}

pub fn recording_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}")
}

pub fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    )
}

/// A line with an active plan and no quota, without transcription.
pub async fn active_line() -> Twilio {
    setup(active(), false, |_| {}).await
}

/// An active plan without a quota.
pub fn active() -> Value {
    json!({"active": true})
}

/// An active plan of `calls` per `period`.
pub fn quota(calls: u64, period: &str) -> Value {
    json!({"active": true, "calls_per_period": calls, "period": period})
}

pub async fn setup(plan: Value, transcribe: bool, tweak: impl FnOnce(&mut StackConfig)) -> Twilio {
    let fake = MockServer::start().await;
    let t = env_changed(|c| {
        c.twilio.account_sid = Some(ACCOUNT.into());
        c.twilio.auth_token = SecretSetting::Value(TOKEN.into());
        c.twilio.api_base_url = fake.uri();
        c.voicemail.sender_email = email("voicemail");
        tweak(c);
    })
    .await;
    let state = &t.state.voicemail;
    set_bucket(state, true).await;
    verify_sender(state, &state.config.sender_email).await;
    t.add_number_of("twilio", LINE).await;
    let owner_email = email("owner");
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

/// An address of example.com no other test uses.
pub fn email(who: &str) -> String {
    format!("{}@example.com", unique(who))
}

/// Creates the recordings bucket, or deletes it (`exists` false).
pub async fn set_bucket(state: &VoicemailState, exists: bool) {
    let (s3, bucket) = (&state.bucket.client, &state.config.recordings_bucket);
    if exists {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
    } else {
        s3.delete_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("bucket");
    }
}

/// Lets SES send from `address` (moto sends only from verified ones).
pub async fn verify_sender(state: &VoicemailState, address: &str) {
    let ses = &state.mailer.client;
    let verify = ses.verify_email_identity().email_address(address);
    verify.send().await.expect("sender");
}

/// Twilio's download of recording `rec`, to be answered.
pub fn download(rec: &str) -> MockBuilder {
    Mock::given(method("GET")).and(path(recording_path(rec)))
}

impl Twilio {
    /// One pass of the voicemail worker's sweep.
    pub async fn sweep(&self) -> Vec<Outcome> {
        sweep(&self.t.state.voicemail).await.expect("sweep")
    }

    /// A form POST signed as Twilio signs it.
    pub async fn twilio(&self, path: &str, params: &[(&str, &str)]) -> Reply {
        self.t.twilio_post(TOKEN, path, params).await
    }

    pub async fn call(&self, sid: &str) -> Reply {
        let more = [
            ("AccountSid", ACCOUNT),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
        ];
        let form = call_form(sid, CALLER, LINE, &more);
        self.twilio("/twilio/voice", &form).await
    }

    pub async fn dial_status(&self, sid: &str, status: &str) -> Reply {
        let more = [("DialCallStatus", status), ("DialCallDuration", "0")];
        let form = call_form(sid, CALLER, LINE, &more);
        self.twilio("/twilio/dial-status", &form).await
    }

    /// Twilio's callback for recording `rec` of `call`, stored at the fake.
    pub async fn recording(&self, call: &str, rec: &str) -> Reply {
        let url = format!("{}{}", self.fake.uri(), recording_path(rec));
        self.recording_at(call, rec, &url).await
    }

    pub async fn recording_at(&self, call: &str, rec: &str, url: &str) -> Reply {
        self.twilio(
            "/twilio/recording",
            &[
                ("AccountSid", ACCOUNT),
                ("CallSid", call),
                ("RecordingSid", rec),
                ("RecordingUrl", url),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "7"),
                ("RecordingChannels", "1"),
                ("RecordingSource", "RecordVerb"),
            ],
        )
        .await
    }

    pub async fn serve_recording(&self, rec: &str, times: u64) {
        download(rec)
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
    pub async fn emails(&self) -> Vec<Value> {
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

    pub async fn voicemails(&self) -> Vec<Value> {
        let path = format!("/lines/{}/voicemails", enc(LINE));
        let list = self.t.get_json(&path).await;
        list["voicemails"].as_array().cloned().unwrap_or_default()
    }

    /// `seconds` later (a backoff, a wait), the next sweep delivers: one
    /// email in all.
    pub async fn delivered_after(&self, seconds: i64) {
        self.t.state.core.clock.advance(seconds);
        assert_eq!(self.sweep().await, vec![Outcome::Delivered]);
        assert_eq!(self.emails().await.len(), 1);
    }
}

/// moto's sent messages (an internal format); find those sent to `to`.
pub fn collect_messages(v: &Value, to: &str, out: &mut Vec<Value>) {
    let Some(list) = v.as_array() else { return };
    out.extend(
        list.iter()
            .filter(|m| m["destinations"].to_string().contains(to))
            .cloned(),
    );
}

pub async fn through_voicemail(tw: &Twilio, call: &str, rec: &str) {
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
pub async fn sweep(state: &VoicemailState) -> Result<Vec<Outcome>, PortError> {
    state.pipeline().sweep().await
}
