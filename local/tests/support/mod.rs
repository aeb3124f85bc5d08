//! Test helpers: a fresh table on the emulator per test, and requests that
//! go through the same routing as the local stack.
#![allow(dead_code)]

pub mod emulator;
pub(crate) use emulator::{endpoint, needs_emulator};

use std::io::Write;
use std::sync::{Mutex, Once, OnceLock};

use callmask::aws::RequestCounter;
use callmask::config::SecretSetting;
use callmask::store::schema;
use callmask_local::{Stack, StackConfig};
use serde_json::Value;

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
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    config.core.table_name = table.clone();
    config.voicemail.recordings_bucket = format!("b-{}", uuid::Uuid::new_v4().simple());
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
        let path = format!("/lines/{}", number.replace('+', "%2B"));
        self.request("PUT", &path, Some(&settings.to_string()), &[])
            .await
    }

    /// `number` as `GET /numbers` lists it.
    pub async fn listed_number(&self, number: &str) -> Option<Value> {
        let listed = self.get("/numbers").await.json();
        listed["numbers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["number"] == number)
            .cloned()
    }

    pub async fn create_session(&self, a: &str, b: &str, ttl: u64) -> Reply {
        self.post(
            "/sessions",
            &format!(r#"{{"participants":["{a}","{b}"],"ttl_seconds":{ttl}}}"#),
        )
        .await
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

pub fn proxy_of(session: &Value, i: usize) -> String {
    session["participants"][i]["proxy_number"]
        .as_str()
        .expect("proxy_number")
        .to_string()
}

/// Where the test requests go (`Host`), as `make run` serves.
const TEST_HOST: &str = "http://127.0.0.1:3000";

/// `X-Twilio-Signature` of a form POST to `path` on the test host.
pub fn twilio_signature(token: &str, path: &str, form: &str) -> String {
    twilio_signature_at(token, &format!("{TEST_HOST}{path}"), form)
}

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
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,callmask=debug"))
            .json()
            .flatten_event(true)
            .with_writer(writer)
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
