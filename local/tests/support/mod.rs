//! Test helpers: a fresh table on the emulator per test, and requests that
//! go through the same routing as the local stack. One place for each step
//! the tests share: a stack with settings changed, a session opened, a
//! webhook posted (JSON, form, signed), a JSON answer read.
#![allow(dead_code)]

pub mod emulator;
pub mod faults;
pub mod numbers;
pub mod voicemail;
pub mod webhooks;
pub(crate) use emulator::{endpoint, needs_emulator};
pub use numbers::*;

use std::io::Write;
use std::sync::{Mutex, Once, OnceLock};

use callmask::aws::RequestCounter;
use callmask::config::SecretSetting;
use callmask::store::schema;
use callmask_local::{Stack, StackConfig};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub struct TestEnv {
    pub state: Stack,
    pub counter: RequestCounter,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: http::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Settings for a test: unsigned webhooks are allowed (as `make run` does)
/// unless the test configures a secret or turns the flag off.
pub fn test_config() -> StackConfig {
    let mut config = StackConfig::default();
    config.core.allow_unsigned_webhooks = true;
    config
}

pub async fn env_with(mut config: StackConfig) -> TestEnv {
    capture_logs();
    for secret in [
        &config.vonage.signature_secret,
        &config.twilio.auth_token,
        &config.messaging.vonage_api_secret,
    ] {
        if let SecretSetting::Value(v) = secret {
            note_secret(v);
        }
    }
    let endpoint = endpoint();
    let counter = RequestCounter::default();
    let table = unique("t");
    config.core.table_name = table.clone();
    config.voicemail.recordings_bucket = unique("b");
    let state = Stack::build(config, Some(counter.clone()), Some(&endpoint))
        .await
        .expect("state");
    schema::create_table(state.core.store.client(), &table)
        .await
        .expect("create table on the emulator");
    TestEnv { state, counter }
}

pub async fn env() -> TestEnv {
    env_with(test_config()).await
}

/// A stack with [`test_config`] changed by `change`.
pub async fn env_changed(change: impl FnOnce(&mut StackConfig)) -> TestEnv {
    let mut config = test_config();
    change(&mut config);
    env_with(config).await
}

/// A stack with `P1` in its pool and Alice and Bob in a session open for
/// `ttl` seconds: the stack and the session as created.
pub async fn env_with_session(ttl: u64) -> (TestEnv, Value) {
    let t = env().await;
    t.add_number(P1).await;
    let s = t.open_session(ALICE, BOB, ttl).await;
    (t, s)
}

/// A name no other test uses: `prefix-` and a fresh uuid.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

impl TestEnv {
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("{TEST_HOST}{path}"))
            .header("host", "127.0.0.1:3000");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).expect("request").into_parts();
        let resp = match callmask_local::route(method, parts.uri.path()) {
            Err(e) => e.into_response(),
            Ok((function, params)) => {
                let req = callmask_local::to_lambda_request(
                    parts,
                    body.unwrap_or("").as_bytes().to_vec(),
                    params,
                );
                function.handle(&self.state, req).await
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = String::from_utf8_lossy(resp.body().as_ref()).into_owned();
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &str) -> Reply {
        self.request(
            "POST",
            path,
            Some(body),
            &[("content-type", "application/json")],
        )
        .await
    }

    /// A GET signed with `authorization` (a Vonage bearer).
    pub async fn get_signed(&self, path: &str, authorization: &str) -> Reply {
        let headers = [("authorization", authorization)];
        self.request("GET", path, None, &headers).await
    }

    /// What `step` gives, and how many storage requests it made.
    pub async fn counted<T>(&self, step: impl std::future::Future<Output = T>) -> (T, u64) {
        let before = self.counter.get();
        let out = step.await;
        (out, self.counter.get() - before)
    }

    /// `GET path`, which must answer 200: its JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post(path, &body.to_string()).await
    }

    /// `POST path` with JSON `body`, which must answer `status`: the reply,
    /// for what the test checks beyond the status.
    pub async fn post_expect(&self, path: &str, body: &Value, status: u16) -> Reply {
        let r = self.post_json(path, body).await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        r
    }

    /// A form POST (`form` already encoded), with `x-twilio-signature` when
    /// a signature is given.
    pub async fn post_form(&self, path: &str, form: &str, signature: Option<&str>) -> Reply {
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        headers.extend(signature.map(|s| ("x-twilio-signature", s)));
        self.request("POST", path, Some(form), &headers).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None, &[]).await
    }

    /// A POST of JSON `body` signed with `authorization` (a Vonage bearer).
    pub async fn post_signed(&self, path: &str, body: &str, authorization: &str) -> Reply {
        let headers = [
            ("authorization", authorization),
            ("content-type", "application/json"),
        ];
        self.request("POST", path, Some(body), &headers).await
    }

    /// A form POST signed with `token` as Twilio signs it: over the URL the
    /// stack checks (`PUBLIC_BASE_URL`, else the test host).
    pub async fn twilio_post(&self, token: &str, path: &str, params: &[(&str, &str)]) -> Reply {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let base = self.state.core.config.public_base_url.as_deref();
        let url = format!("{}{path}", base.unwrap_or(TEST_HOST));
        let sig = twilio_signature_at(token, &url, &body);
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", sig.as_str()),
        ];
        self.request("POST", path, Some(&body), &headers).await
    }

    /// Adds a Vonage number to the pool.
    pub async fn add_number(&self, number: &str) {
        self.add_number_of("vonage", number).await;
    }

    pub async fn add_number_of(&self, provider: &str, number: &str) {
        let body = serde_json::json!({"number": number, "provider": provider});
        let r = self.post("/numbers", &body.to_string()).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    /// `PUT /lines/{number}` with `settings`.
    pub async fn put_line(&self, number: &str, settings: &Value) -> Reply {
        let path = format!("/lines/{}", enc(number));
        self.request("PUT", &path, Some(&settings.to_string()), &[])
            .await
    }

    /// The pool as `GET /numbers` lists it.
    pub async fn numbers(&self) -> Vec<Value> {
        let listed = self.get_json("/numbers").await;
        let numbers = listed["numbers"].as_array();
        numbers
            .cloned()
            .unwrap_or_else(|| panic!("no numbers: {listed}"))
    }

    /// `number` as `GET /numbers` lists it.
    pub async fn listed_number(&self, number: &str) -> Option<Value> {
        let pool = self.numbers().await;
        pool.into_iter().find(|n| n["number"] == number)
    }

    pub async fn create_session(&self, a: &str, b: &str, ttl: u64) -> Reply {
        self.post(
            "/sessions",
            &format!(r#"{{"participants":["{a}","{b}"],"ttl_seconds":{ttl}}}"#),
        )
        .await
    }

    /// A session of `a` and `b` for `ttl` seconds, which must be created:
    /// the session as created.
    pub async fn open_session(&self, a: &str, b: &str, ttl: u64) -> Value {
        let r = self.create_session(a, b, ttl).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    }

    /// A Vonage call leg's events posted to `path` out of order, as Vonage
    /// may send them: ringing, completed after 55 s, then a late answered.
    /// Each event is `leg` with its status and time added.
    pub async fn post_leg_events(&self, path: &str, leg: &Value) {
        for (status, ts) in [
            ("ringing", "2026-01-01T10:00:01.000Z"),
            ("completed", "2026-01-01T10:01:00.000Z"),
            ("answered", "2026-01-01T10:00:05.000Z"),
        ] {
            let mut event = leg.clone();
            event["status"] = status.into();
            event["timestamp"] = ts.into();
            let r = self.post_json(path, &event).await;
            assert_eq!(r.status, 200, "{status}: {}", r.body);
        }
    }

    /// Answer webhook as Vonage calls it by default (GET, digits without +).
    pub async fn answer(&self, to: &str, from: &str) -> Value {
        let r = self
            .get(&format!(
                "/vonage/answer?to={to}&from={from}&uuid=u-{}&conversation_uuid=CON-1",
                uuid::Uuid::new_v4()
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }
}

/// The connect action of an NCCO, if any.
pub fn connect_of(ncco: &Value) -> Option<&Value> {
    ncco.as_array()?.iter().find(|a| a["action"] == "connect")
}

/// The event URL of an NCCO's connect action, as a path on the test host.
pub fn event_path(ncco: &Value) -> String {
    let url = connect_of(ncco).expect("connect")["eventUrl"][0]
        .as_str()
        .expect("eventUrl");
    url.strip_prefix(TEST_HOST)
        .unwrap_or_else(|| panic!("not on the test host: {url}"))
        .to_string()
}

/// The string `key` of each entry of the array `list` (none if not one).
pub fn pluck<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry[key].as_str())
        .collect()
}

/// A 405 that names the methods `path` allows.
pub fn assert_405(r: &Reply, allow: &str) {
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.headers["allow"], allow);
}

/// A Twilio call webhook's form: the call, who called whom, and `more`.
pub fn call_form<'a>(
    sid: &'a str,
    from: &'a str,
    to: &'a str,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("CallSid", sid), ("From", from), ("To", to)];
    form.extend_from_slice(more);
    form
}

pub fn proxy_of(session: &Value, i: usize) -> String {
    session["participants"][i]["proxy_number"]
        .as_str()
        .expect("proxy_number")
        .to_string()
}

/// A string attribute.
pub fn s_attr(v: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(v.to_string())
}

/// The item (`pk`, `META`) as the table holds it, read past the store.
pub async fn stored_item(
    store: &callmask::store::Store,
    pk: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    let read = store.client().get_item().table_name(store.table());
    let found = read
        .key("pk", s_attr(pk))
        .key("sk", s_attr("META"))
        .send()
        .await
        .expect("get item");
    found.item.unwrap_or_else(|| panic!("no item {pk}"))
}

/// Where the test requests go (`Host`), as `make run` serves.
pub const TEST_HOST: &str = "http://127.0.0.1:3000";

fn twilio_signature_at(token: &str, url: &str, form: &str) -> String {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    callmask::twilio::signature::compute(token, url, &params)
}

/// Stores a secret in the emulator's Secrets Manager; returns its ARN.
pub async fn put_secret(name: &str, value: &str) -> String {
    note_secret(value);
    let sdk = callmask::aws::sdk_config(Some(&endpoint())).await;
    let sm = callmask::aws::secrets_manager(&sdk, callmask::aws::BACKGROUND);
    let out = sm
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret on the emulator");
    out.arn().expect("arn").to_string()
}

/// Replaces a secret's value, as a rotation does.
pub async fn rotate_secret(id: &str, value: &str) {
    note_secret(value);
    let sdk = callmask::aws::sdk_config(Some(&endpoint())).await;
    let sm = callmask::aws::secrets_manager(&sdk, callmask::aws::BACKGROUND);
    sm.put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .expect("rotate secret on the emulator");
}

/// Where this test binary writes what it logged (`LOG_CAPTURE_DIR`, set by
/// `make unit`): the log-privacy check (`scripts/log_privacy.py`) reads it.
fn capture_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("LOG_CAPTURE_DIR").map(std::path::PathBuf::from)
}

fn capture_file(kind: &str) -> Option<std::fs::File> {
    let dir = capture_dir()?;
    std::fs::create_dir_all(&dir).expect("log capture dir");
    let exe = std::env::current_exe().ok();
    let name = exe
        .as_ref()
        .and_then(|e| e.file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("test");
    let path = dir.join(format!("{name}-{}.{kind}", std::process::id()));
    Some(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("log capture file"),
    )
}

/// Every log line of the run, as the functions write them in Lambda (JSON,
/// one event per line), at debug for our crate and info for the rest.
pub fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(file) = capture_file("jsonl") else {
            return;
        };
        let file = std::sync::Arc::new(Mutex::new(file));
        let writer = move || CaptureWriter(file.clone());
        let filter = callmask::telemetry::filter(Some("info,callmask=debug"));
        let _ = tracing_subscriber::fmt()
            .with_max_level(callmask::telemetry::max_level(&filter))
            .json()
            .flatten_event(true)
            .with_writer(writer)
            .finish()
            .with(filter)
            .try_init();
    });
}

struct CaptureWriter(std::sync::Arc<Mutex<std::fs::File>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A secret the tests handed to the code: no log line may hold it.
pub fn note_secret(value: &str) {
    static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    if let Some(file) = FILE.get_or_init(|| capture_file("secrets").map(Mutex::new)) {
        let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{value}");
    }
}
