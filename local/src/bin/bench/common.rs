//! What every benchmark uses: numbers, pools and sessions, an in-process
//! stack, requests to its functions, and the figures' arithmetic.

use std::time::Duration;

use callmask::aws::RequestCounter;
use callmask::config::SecretSetting;
use callmask::domain::{PoolNumber, Provider, Session};
use callmask::phone::PhoneNumber;
use callmask::store::{schema, Store};
use callmask_local::{Function, Stack, StackConfig};

pub fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).expect("number")
}

/// Puts a linked number into a pool.
pub async fn pool_number(
    store: &Store,
    number: &str,
    provider: Provider,
    country: &str,
    created_at: i64,
) -> anyhow::Result<()> {
    store
        .put_number(&PoolNumber {
            number: n(number),
            provider,
            country: country.into(),
            created_at,
            provider_sid: None,
            linked: true,
        })
        .await?;
    Ok(())
}

/// Opens a session of two participants, each with the proxy number it
/// dials: `[(participant, proxy); 2]`.
pub async fn open_session(
    store: &Store,
    id: &str,
    provider: Provider,
    legs: [(&str, &str); 2],
    now: i64,
    ttl_seconds: i64,
) -> anyhow::Result<Session> {
    let session = Session::open(id.into(), provider, pairs(legs), now, ttl_seconds);
    create(store, session, now).await
}

fn pairs(legs: [(&str, &str); 2]) -> [(PhoneNumber, PhoneNumber); 2] {
    legs.map(|(participant, proxy)| (n(participant), n(proxy)))
}

/// The same, sliding: it ends `ttl` seconds after its last routed call,
/// and its pairs cool off for a minute after it ends (Twilio Proxy's
/// policies in force on the routing path).
pub async fn open_sliding_session(
    store: &Store,
    id: &str,
    provider: Provider,
    legs: [(&str, &str); 2],
    now: i64,
    ttl: i64,
) -> anyhow::Result<Session> {
    let mut session = Session::open(id.into(), provider, pairs(legs), now, 0);
    session.expires_at = callmask::domain::NO_END;
    session.ttl = Some(ttl);
    session.cool_off = 60;
    create(store, session, now).await
}

async fn create(store: &Store, session: Session, now: i64) -> anyhow::Result<Session> {
    store
        .create_session(&session, now, &[])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(session)
}

/// A table of its own (`prefix-…`); webhooks unsigned (the stack allows
/// it).
pub fn unsigned_core(prefix: &str) -> callmask::config::CoreConfig {
    callmask::config::CoreConfig {
        table_name: format!("{prefix}-{}", uuid_like()),
        allow_unsigned_webhooks: true,
        ..callmask::config::CoreConfig::default()
    }
}

/// Every function in this process over a table of its own (created here),
/// counting its DynamoDB requests.
pub async fn stack(config: StackConfig) -> anyhow::Result<(Stack, RequestCounter)> {
    let counter = RequestCounter::default();
    let table = config.core.table_name.clone();
    let state = Stack::build(config, Some(counter.clone()), None).await?;
    schema::create_table(state.core.store.client(), &table).await?;
    Ok((state, counter))
}

/// `POST /sessions` for two participants: the session as the API shows it.
pub async fn create_session(
    state: &Stack,
    provider: &str,
    a: &str,
    b: &str,
) -> anyhow::Result<serde_json::Value> {
    let body = serde_json::json!({"provider": provider, "participants": [a, b]}).to_string();
    let (status, answer) = call(state, Function::Sessions, "POST", "/sessions", &body).await?;
    anyhow::ensure!(status == 201, "session: {status} {answer}");
    Ok(serde_json::from_str(&answer)?)
}

/// A request as the local router hands it to a function.
fn request(method: &str, path: &str) -> http::request::Builder {
    http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:3000{path}"))
        .header("host", "127.0.0.1:3000")
}

/// A GET webhook (unsigned: the stack allows it), built before it is
/// timed.
pub fn get_request(path: &str) -> anyhow::Result<lambda_http::Request> {
    Ok(request("GET", path).body(lambda_http::Body::Empty)?)
}

/// One admin request, in process.
pub async fn call(
    state: &Stack,
    function: Function,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let req = request(method, path)
        .header("content-type", "application/json")
        .body(lambda_http::Body::Text(body.to_string()))?;
    let r = reply(function.handle(state, req).await);
    Ok((r.status, r.body))
}

/// A form webhook signed as Twilio signs it.
pub async fn post_form(
    state: &Stack,
    function: Function,
    path: &str,
    form: &str,
) -> anyhow::Result<String> {
    let url = format!("http://127.0.0.1:3000{path}");
    let params: Vec<(String, String)> = url::form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let token = match &state.twilio.config.auth_token {
        SecretSetting::Value(token) => token.as_str(),
        _ => "",
    };
    let signature = callmask::twilio::signature::compute(token, &url, &params);
    let req = request("POST", path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(lambda_http::Body::Text(form.to_string()))?;
    Ok(reply(function.handle(state, req).await).body)
}

pub struct HttpReply {
    pub status: u16,
    pub body: String,
}

fn reply(resp: callmask::api::http::HttpResponse) -> HttpReply {
    HttpReply {
        status: resp.status().as_u16(),
        body: String::from_utf8_lossy(resp.body().as_ref()).into_owned(),
    }
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `p50 1.23 ms, p99 4.56 ms` of sorted durations, to `decimals` places.
pub fn p50_p99_ms(sorted: &[Duration], decimals: usize) -> String {
    let (p50, p99) = (ms(percentile(sorted, 0.5)), ms(percentile(sorted, 0.99)));
    format!("p50 {p50:.decimals$} ms, p99 {p99:.decimals$} ms")
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// A name no earlier run used (tables, buckets, secrets).
pub fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// `BENCH_COLD_RUNS` / `BENCH_WARM_CALLS` (experiments, profiling a warm
/// process): other counts than the table's.
pub fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Where the release builds are: beside this binary.
pub fn release_dir() -> anyhow::Result<std::path::PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .map(std::path::PathBuf::from)
        .unwrap_or_default())
}
