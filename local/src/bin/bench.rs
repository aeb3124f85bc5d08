//! `make bench`: the figures in docs/benchmarks.md.
//!
//! Runs against the emulator `scripts/stack.py exec` starts (AWS_ENDPOINT_URL).
//! Expects release builds of every function and `floor-lambda` beside it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callmask::aws::{self, RequestCounter};
use callmask::config::{
    CoreConfig, MessagingConfig, SecretSetting, TwilioConfig, VoicemailConfig, VonageConfig,
};
use callmask::domain::allocation::choose;
use callmask::domain::routing::plan_for;
use callmask::domain::{PoolNumber, Provider, Session};
use callmask::phone::PhoneNumber;
use callmask::store::schema;
use callmask::vonage::ncco::{render, RenderOptions};
use callmask_local::{Function, Stack, StackConfig};
use http_body_util::Full;
use hyper::body::Bytes;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `bench cold [BINARY...]`: only the cold-start table (or some rows).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("cold") {
        return cold_start(&args[1..]).await;
    }
    // `bench audio`: only the audio socket's figures.
    if args.first().map(String::as_str) == Some("audio") {
        return audio_socket().await;
    }
    println!("# callmask benchmarks\n");
    requests_and_latency().await?;
    twilio_line().await?;
    messaging().await?;
    rideshare();
    phone_metadata();
    audio_socket().await?;
    cold_start(&[]).await?;
    Ok(())
}

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).expect("number")
}

/// Puts a linked number into a pool.
async fn pool_number(
    store: &callmask::store::Store,
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn requests_and_latency() -> anyhow::Result<()> {
    let counter = RequestCounter::default();
    let table = format!("bench-{}", uuid_like());
    let config = StackConfig {
        core: CoreConfig {
            table_name: table.clone(),
            allow_unsigned_webhooks: true,
            ..CoreConfig::default()
        },
        ..StackConfig::default()
    };
    let state = Stack::build(config, Some(counter.clone()), None).await?;
    schema::create_table(state.core.store.client(), &table).await?;
    let now = state.core.clock.now();
    for p in ["+447700900001", "+447700900002"] {
        pool_number(&state.core.store, p, Provider::Vonage, "GB", now).await?;
    }
    let session = Session::open(
        "bench".into(),
        Provider::Vonage,
        [
            (n("+447700900100"), n("+447700900001")),
            (n("+447700900200"), n("+447700900002")),
        ],
        now,
        3600,
    );
    state
        .core
        .store
        .create_session(&session, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let calls = 2000;
    let mut times = Vec::with_capacity(calls);
    let before = counter.get();
    for i in 0..calls {
        let req = http::Request::builder()
            .method("GET")
            .uri(format!("http://127.0.0.1:3000/vonage/answer?to=447700900001&from=447700900100&uuid=u{i}&conversation_uuid=c"))
            .header("host", "127.0.0.1:3000")
            .body(lambda_http::Body::Empty)?;
        let t = Instant::now();
        let resp = Function::VonageAnswer.handle(&state, req).await;
        times.push(t.elapsed());
        assert!(String::from_utf8_lossy(resp.body().as_ref()).contains("connect"));
    }
    let per_call = (counter.get() - before) as f64 / calls as f64;
    times.sort();
    println!("## Routing (vonage-answer handler, in process, warm)\n");
    println!("- DynamoDB requests per routed call: {per_call:.2} (over {calls} calls)");
    println!(
        "- handler latency incl. one emulator round trip: p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );

    // The same decision and rendering without the storage round trip.
    let leg = session.legs()[0].clone();
    let opts = RenderOptions {
        greeting: "Please hold.",
        connect_timeout_seconds: 30,
        event_url: "https://x/vonage/event?session_id=bench".into(),
    };
    let mut cpu = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let t = Instant::now();
        let plan = plan_for(Some(leg.clone()), now);
        let body = serde_json::to_string(&render(&plan, &opts))?;
        std::hint::black_box(body);
        cpu.push(t.elapsed());
    }
    cpu.sort();
    println!(
        "- decide + render NCCO without I/O: p50 {:.1} µs, p99 {:.1} µs\n",
        us(percentile(&cpu, 0.5)),
        us(percentile(&cpu, 0.99))
    );
    Ok(())
}

/// A stand-in for Twilio's REST API: serves any recording.
async fn fake_twilio() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    |_req: hyper::Request<hyper::body::Incoming>| async {
                        let mut resp =
                            hyper::Response::new(Full::new(Bytes::from(vec![0u8; 16_000 * 10])));
                        resp.headers_mut()
                            .insert("content-type", "audio/x-wav".parse().expect("hv"));
                        Ok::<_, std::convert::Infallible>(resp)
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}"))
}

/// A form webhook signed as Twilio signs it.
async fn post_form(
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
    let req = http::Request::builder()
        .method("POST")
        .uri(url)
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(lambda_http::Body::Text(form.to_string()))?;
    let resp = function.handle(state, req).await;
    Ok(String::from_utf8_lossy(resp.body().as_ref()).into_owned())
}

/// Masked lines on Twilio: storage requests per inbound call, and the time
/// from the recording callback to the email being accepted by SES.
async fn twilio_line() -> anyhow::Result<()> {
    let counter = RequestCounter::default();
    let table = format!("bench-tw-{}", uuid_like());
    let config = StackConfig {
        core: CoreConfig {
            table_name: table.clone(),
            ..CoreConfig::default()
        },
        twilio: TwilioConfig {
            account_sid: Some("AC00000000000000000000000000000001".into()),
            auth_token: SecretSetting::Value("bench-token".into()),
            api_base_url: fake_twilio().await?,
        },
        voicemail: VoicemailConfig {
            recordings_bucket: format!("bench-{}", uuid_like()),
            sender_email: "bench@example.com".into(),
            transcription_wait_seconds: 0,
            ..VoicemailConfig::default()
        },
        ..StackConfig::default()
    };
    let state = Stack::build(config, Some(counter.clone()), None).await?;
    schema::create_table(state.core.store.client(), &table).await?;
    state
        .voicemail
        .bucket
        .client
        .create_bucket()
        .bucket(&state.voicemail.config.recordings_bucket)
        .send()
        .await?;
    state
        .voicemail
        .mailer
        .client
        .verify_email_identity()
        .email_address("bench@example.com")
        .send()
        .await?;
    let line = n("+15551230009");
    pool_number(&state.core.store, line.e164(), Provider::Twilio, "US", 0).await?;
    let settings = serde_json::json!({"owner": {"phone": "+15551230001", "email": "owner@example.com"},
        "plan": {"active": true, "calls_per_period": 1_000_000, "period": "month"}});
    let parsed =
        callmask::api::lines::parse_line(&settings).map_err(|e| anyhow::anyhow!(e.message))?;
    state
        .core
        .store
        .put_line(&line, &parsed, state.core.clock.now())
        .await?;

    // moto copies the table on every transaction, so its latency grows with
    // the table; the request count is what this measures.
    let calls = 200;
    let before = counter.get();
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let form = format!("CallSid=CA{i:032}&From=%2B15551230002&To=%2B15551230009");
        let t = Instant::now();
        let twiml = post_form(&state, Function::TwilioVoice, "/twilio/voice", &form).await?;
        times.push(t.elapsed());
        anyhow::ensure!(twiml.contains("<Dial"), "not forwarded: {twiml}");
    }
    let per_call = (counter.get() - before) as f64 / calls as f64;
    times.sort();
    println!("## Masked lines on Twilio (in process, emulator)\n");
    println!("- storage requests per inbound call (read + quota update with the call context): {per_call:.2} (over {calls} calls)");
    println!(
        "- /twilio/voice latency incl. emulator: p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );

    // Callback → record → (stream-triggered) copy to S3 → SES accepted.
    let voicemails = 50;
    let mut to_email = Vec::with_capacity(voicemails);
    for i in 0..voicemails {
        let call = format!("CA{i:032}");
        let rec = format!("RE{i:032}");
        let url = format!(
            "{}/2010-04-01/Accounts/AC00000000000000000000000000000001/Recordings/{rec}",
            state.twilio.config.api_base_url
        );
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("CallSid", call.as_str()),
                ("RecordingSid", rec.as_str()),
                ("RecordingUrl", url.as_str()),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "10"),
            ])
            .finish();
        let t = Instant::now();
        post_form(
            &state,
            Function::TwilioRecording,
            "/twilio/recording",
            &form,
        )
        .await?;
        let outcome = state.voicemail.pipeline().process(&rec).await?;
        to_email.push(t.elapsed());
        anyhow::ensure!(
            outcome == callmask::usecases::voicemail::Outcome::Delivered,
            "{outcome:?}"
        );
    }
    to_email.sort();
    println!(
        "- recording callback → recording in S3 → email accepted by SES (10 s of 8 kHz audio): p50 {:.1} ms, p99 {:.1} ms (over {voicemails})\n",
        ms(percentile(&to_email, 0.5)),
        ms(percentile(&to_email, 0.99))
    );
    Ok(())
}

/// A small deterministic generator: the simulation must give the same
/// figures on every run.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// 100k ride sessions over a day: 2,000 drivers taking up to 3 riders at a
/// time (pooled rides), 60,000 riders; each ride lasts 5 to 40 minutes.
fn rideshare() {
    const SESSIONS: usize = 100_000;
    const DRIVERS: usize = 2_000;
    const RIDERS: usize = 60_000;
    const MAX_PER_DRIVER: usize = 3;
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let pool: Vec<PoolNumber> = (0..1000)
        .map(|i| PoolNumber {
            number: n(&format!("+4477009{i:05}")),
            provider: Provider::Vonage,
            country: "GB".into(),
            created_at: 0,
            provider_sid: None,
            linked: true,
        })
        .collect();
    let driver = |i: usize| n(&format!("+4477001{i:05}"));
    let rider = |i: usize| n(&format!("+4477002{i:05}"));
    let mut busy: HashMap<PhoneNumber, HashSet<PhoneNumber>> = HashMap::new();
    // (end minute, driver, rider, driver's number, rider's number)
    let mut active: Vec<(u64, usize, usize, PhoneNumber, PhoneNumber)> = Vec::new();
    let mut driver_load = vec![0usize; DRIVERS];
    let mut rider_busy = vec![false; RIDERS];
    let mut used: HashSet<PhoneNumber> = HashSet::new();
    let (mut created, mut minute, mut peak, mut delta) = (0usize, 0u64, 0usize, 0usize);
    let started = Instant::now();
    while created < SESSIONS {
        minute += 1;
        // Rides that end now free their numbers.
        active.retain(|(end, d, r, dn, rn)| {
            if *end > minute {
                return true;
            }
            driver_load[*d] -= 1;
            rider_busy[*r] = false;
            busy.get_mut(&driver(*d)).map(|s| s.remove(dn));
            busy.get_mut(&rider(*r)).map(|s| s.remove(rn));
            false
        });
        for _ in 0..80 {
            if created == SESSIONS {
                break;
            }
            let (d, r) = (
                rng.below(DRIVERS as u64) as usize,
                rng.below(RIDERS as u64) as usize,
            );
            if driver_load[d] == MAX_PER_DRIVER || rider_busy[r] {
                continue;
            }
            let (dp, rp) = (driver(d), rider(r));
            let pick = |who: &PhoneNumber, busy: &HashMap<PhoneNumber, HashSet<PhoneNumber>>| {
                let empty = HashSet::new();
                choose(&pool, busy.get(who).unwrap_or(&empty), "GB")
                    .expect("pool")
                    .number
                    .clone()
            };
            let dn = pick(&dp, &busy);
            let rn = pick(&rp, &busy);
            busy.entry(dp).or_default().insert(dn.clone());
            busy.entry(rp).or_default().insert(rn.clone());
            used.insert(dn.clone());
            used.insert(rn.clone());
            driver_load[d] += 1;
            rider_busy[r] = true;
            delta = delta.max(driver_load[d]);
            active.push((minute + 5 + rng.below(36), d, r, dn, rn));
            created += 1;
        }
        peak = peak.max(active.len());
    }
    println!("## Numbers for a ride-share day (allocation simulation)\n");
    println!("- {SESSIONS} sessions, {DRIVERS} drivers with up to {MAX_PER_DRIVER} concurrent riders, {RIDERS} riders, {minute} simulated minutes");
    println!("- peak concurrent sessions: {peak}");
    println!("- numbers used by callmask: {}", used.len());
    println!("- lower bound (Δ = most concurrent sessions of one participant): {delta}");
    println!(
        "- two numbers per session (the naive scheme) at peak: {}",
        2 * peak
    );
    println!("- simulation time: {:.0} ms\n", ms(started.elapsed()));
}

/// Which of the clients a webhook must not carry are in a release binary:
/// operation names only the S3 and SES clients hold, and the HTTP client
/// the Twilio REST calls use (its name survives in the stripped binary).
fn linked_clients(binary: &std::path::Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(binary)?;
    let has = |marker: &str| bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
    let found: Vec<&str> = [
        ("PutObject", "S3"),
        ("SendEmail", "SES"),
        ("reqwest", "REST"),
    ]
    .into_iter()
    .filter(|(marker, _)| has(marker))
    .map(|(_, name)| name)
    .collect();
    Ok(if found.is_empty() {
        "none".into()
    } else {
        found.join(", ")
    })
}

/// What validating a number costs on first use, per option: the compact
/// table `PhoneNumber::parse` uses (built from the crate's metadata; only
/// the patterns of the number's calling code are compiled), against the
/// `phonenumber` crate's whole database (what it loaded before).
fn phone_metadata() {
    let time = |f: &dyn Fn() -> bool| {
        let t = Instant::now();
        let ok = f();
        (t.elapsed(), ok)
    };
    let (gb, ok_gb) =
        time(&|| PhoneNumber::parse("+44 7700 900123").is_ok_and(|n| n.country() == "GB"));
    let (nanp, ok_us) =
        time(&|| PhoneNumber::parse("+1 416 555 0100").is_ok_and(|n| n.country() == "CA"));
    let (again, _) = time(&|| PhoneNumber::parse("+44 7700 900124").is_ok());
    let (whole, _) = time(&|| phonenumber::metadata::DATABASE.by_code(&44).is_some());
    println!("## Phone number validation, first use (admin routes only)\n");
    println!(
        "- +44 (4 regions) first parse + region: {:.2} ms{}",
        ms(gb),
        if ok_gb { "" } else { " (WRONG RESULT)" }
    );
    println!(
        "- +1 (25 NANP regions) first parse + region: {:.2} ms{}",
        ms(nanp),
        if ok_us { "" } else { " (WRONG RESULT)" }
    );
    println!("- a second +44 number: {:.3} ms", ms(again));
    println!(
        "- the phonenumber crate's whole database (the previous way): {:.1} ms\n",
        ms(whole)
    );
}

/// An API Gateway HTTP API (payload 2.0) event, as Lambda hands it over.
fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &str,
) -> String {
    let mut h = serde_json::Map::new();
    h.insert("host".into(), "bench.example.com".into());
    h.insert("x-forwarded-proto".into(), "https".into());
    for (k, v) in headers {
        h.insert((*k).into(), v.clone().into());
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "bench"},
            "requestId": "bench", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "24/Nov/2026:08:00:00 +0000", "timeEpoch": 1795939200000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

const PUBLIC: &str = "https://bench.example.com";
const VONAGE_SECRET: &str = "bench-vonage-signature-secret";
const TWILIO_TOKEN: &str = "bench-twilio-auth-token";
const TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000001";

fn vonage_bearer(payload: &[u8]) -> String {
    use sha2::Digest;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = serde_json::json!({"iat": now, "jti": uuid::Uuid::new_v4().to_string(),
        "iss": "Vonage", "payload_hash": hex::encode(sha2::Sha256::digest(payload))});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(VONAGE_SECRET.as_bytes()),
    )
    .unwrap_or_default();
    format!("Bearer {token}")
}

/// A signed Vonage GET webhook (the query hashed as compact JSON).
fn vonage_get(path: &str, params: &[(&str, String)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let json = callmask::vonage::signature::query_json_forms(&query)
        .into_iter()
        .next()
        .unwrap_or_default();
    http_event(
        "GET",
        path,
        &query,
        &[("authorization", vonage_bearer(json.as_bytes()))],
        "",
    )
}

fn vonage_post(path: &str, query: &str, body: &str) -> String {
    http_event(
        "POST",
        path,
        query,
        &[
            ("authorization", vonage_bearer(body.as_bytes())),
            ("content-type", "application/json".into()),
        ],
        body,
    )
}

/// A Twilio form webhook signed over the public URL.
fn twilio_post(path: &str, form: &[(&str, String)]) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let sig =
        callmask::twilio::signature::compute(TWILIO_TOKEN, &format!("{PUBLIC}{path}"), &params);
    http_event(
        "POST",
        path,
        "",
        &[
            ("x-twilio-signature", sig),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
        &body,
    )
}

/// One row of the cold-start table: the event for the n-th run and what a
/// routed answer must contain.
struct Case {
    binary: &'static str,
    what: &'static str,
    event: Box<dyn Fn(usize) -> String>,
    expect: (u16, &'static str),
    /// The DynamoDB requests one invocation makes (the floor makes one).
    requests: u32,
    /// A table of its own: the emulator copies a whole table on every
    /// transaction, so a transaction's time grows with the table (DynamoDB's
    /// does not).
    table: Option<String>,
    /// Settings of this row only.
    env: &'static [(&'static str, &'static str)],
}

const COLD_RUNS: usize = 30;
/// Distinct Vonage callers the runs take turns with.
const CALLERS: usize = 32;
const WARM_CALLS: usize = 200;

/// `BENCH_COLD_RUNS` / `BENCH_WARM_CALLS` (experiments, profiling a warm
/// process): other counts than the table's.
fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of one measure of the warm calls, as [`percentile`] takes
/// every other figure.
fn warm_p50(
    warm: &callmask_local::runtime_api::Warm,
    measure: impl Fn(&callmask_local::runtime_api::WarmCall) -> Duration,
) -> Duration {
    let mut v: Vec<Duration> = warm.calls.iter().map(measure).collect();
    v.sort();
    percentile(&v, 0.5)
}

/// Cold starts as Lambda runs them: every function, and `sessions` create,
/// beside a one-GetItem floor built the same way, in one run.
async fn cold_start(only: &[String]) -> anyhow::Result<()> {
    let (cold_runs, warm_calls) = (
        count("BENCH_COLD_RUNS", COLD_RUNS),
        count("BENCH_WARM_CALLS", WARM_CALLS),
    );
    let dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let sdk = aws::sdk_config(None).await;
    let table = format!("bench-cold-{}", uuid_like());
    let client = aws::dynamodb(&sdk, aws::EMULATOR, None);
    schema::create_table(&client, &table).await?;
    let store = callmask::store::Store::new(client, table.clone());
    let sm = aws::secrets_manager(&sdk, aws::EMULATOR);
    let mut secret_ids = Vec::new();
    for (name, value) in [
        (
            "vonage",
            serde_json::json!({ "signature_secret": VONAGE_SECRET }).to_string(),
        ),
        (
            "twilio",
            serde_json::json!({ "auth_token": TWILIO_TOKEN }).to_string(),
        ),
        (
            "vonage-api",
            serde_json::json!({ "api_secret": "bench-api-secret" }).to_string(),
        ),
        (
            "audio-socket",
            serde_json::json!({ "audio_socket_token": "bench-socket-token" }).to_string(),
        ),
    ] {
        let out = sm
            .create_secret()
            .name(format!("bench-{name}-{}", uuid_like()))
            .secret_string(value)
            .send()
            .await?;
        let arn = out.arn().unwrap_or_default().to_string();
        // The emulator's first read of a secret loads code of its own; a
        // function's first read should not pay for that.
        sm.get_secret_value().secret_id(&arn).send().await?;
        secret_ids.push(arn);
    }

    // What the events route to: a Vonage session, a Twilio line.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    for (p, provider, country) in [
        ("+447700900001", Provider::Vonage, "GB"),
        ("+447700900002", Provider::Vonage, "GB"),
        ("+15551230009", Provider::Twilio, "US"),
    ] {
        pool_number(&store, p, provider, country, now).await?;
    }
    // Calls come from CALLERS callers in turn (a leg sees a handful of
    // calls, not hundreds), all on the same proxy number. Kept small: the
    // emulator copies its tables on every transaction.
    for i in 0..CALLERS {
        let s = Session::open(
            format!("c{i:031}"),
            Provider::Vonage,
            [
                (n(&format!("+4477009{:05}", 10_000 + i)), n("+447700900001")),
                (n(&format!("+4477009{:05}", 20_000 + i)), n("+447700900002")),
            ],
            now,
            24 * 3600,
        );
        store
            .create_session(&s, now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let session = Session::open(
        "b0000000000000000000000000000001".into(),
        Provider::Vonage,
        [
            (n("+447700900100"), n("+447700900001")),
            (n("+447700900200"), n("+447700900002")),
        ],
        now,
        24 * 3600,
    );
    store
        .create_session(&session, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let event_table = format!("bench-events-{}", uuid_like());
    let events_client = aws::dynamodb(&sdk, aws::EMULATOR, None);
    schema::create_table(&events_client, &event_table).await?;
    let events_store = callmask::store::Store::new(events_client.clone(), event_table.clone());
    let sessions_table = format!("bench-sessions-{}", uuid_like());
    schema::create_table(&events_client, &sessions_table).await?;
    let sessions_store = callmask::store::Store::new(events_client, sessions_table.clone());
    for p in ["+447700900001", "+447700900002"] {
        pool_number(&sessions_store, p, Provider::Vonage, "GB", now).await?;
        pool_number(&events_store, p, Provider::Vonage, "GB", now).await?;
    }
    events_store
        .create_session(&session, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let line = callmask::api::lines::parse_line(&serde_json::json!({
        "owner": {"phone": "+15551230001", "email": "owner@example.com"},
        "voicemail": {"transcribe": true}}))
    .map_err(|e| anyhow::anyhow!(e.message))?;
    store.put_line(&n("+15551230009"), &line, now).await?;
    // A Twilio session for texts: +15551230100 texts +15551230701.
    for p in ["+15551230701", "+15551230702"] {
        pool_number(&store, p, Provider::Twilio, "US", now).await?;
    }
    let texting = Session::open(
        "d0000000000000000000000000000001".into(),
        Provider::Twilio,
        [
            (n("+15551230100"), n("+15551230701")),
            (n("+15551230200"), n("+15551230702")),
        ],
        now,
        24 * 3600,
    );
    store
        .create_session(&texting, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    // The SMS API a relayed Vonage text goes through.
    let (sms_api, _) = fake_vonage().await?;

    let mut env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", endpoint),
        (
            "AWS_REGION",
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("TABLE_NAME", table.clone()),
        ("PUBLIC_BASE_URL", PUBLIC.into()),
        ("VONAGE_SIGNATURE_SECRET_ID", secret_ids[0].clone()),
        ("TWILIO_AUTH_TOKEN_SECRET_ID", secret_ids[1].clone()),
        ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT.into()),
        ("VONAGE_API_KEY", "bench-key".into()),
        ("VONAGE_API_SECRET_ID", secret_ids[2].clone()),
        ("VONAGE_REST_BASE_URL", sms_api),
        ("AUDIO_SOCKET_TOKEN_SECRET_ID", secret_ids[3].clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // Secrets Manager is a service of its own (`stack.py` runs it in a
    // process of its own), as in AWS.
    if let Ok(sm) = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER") {
        env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), sm));
    }
    // Experiments: BENCH_ENV="K=V,..." adds or replaces settings, K= removes.
    for pair in std::env::var("BENCH_ENV").unwrap_or_default().split(',') {
        if let Some((k, v)) = pair.split_once('=') {
            env.retain(|(name, _)| name != k);
            if !v.is_empty() {
                env.push((k.to_string(), v.to_string()));
            }
        }
    }

    let call_sid = |i: usize| format!("CA{i:032}");
    let rec_sid = |i: usize| format!("RE{i:032}");
    let answer_params = |i: usize| {
        vec![
            ("to", "447700900001".to_string()),
            ("from", format!("4477009{:05}", 10_000 + i % CALLERS)),
            ("uuid", format!("u-{i}")),
            ("conversation_uuid", format!("CON-{i}")),
        ]
    };
    let tag = callmask::vonage::signature::session_tag(VONAGE_SECRET, &session.id);
    let event_query = format!("session_id={}&tag={tag}", session.id);
    let cases: Vec<Case> = vec![
        Case {
            binary: "floor-lambda",
            what: "one GetItem, nothing else",
            event: Box::new(|_| {
                http_event("GET", "/floor", "pk=NUM%23%2B447700900001&sk=META", &[], "")
            }),
            expect: (200, "found"),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "floor-lambda",
            what: "one conditional UpdateItem (a signed call's read)",
            event: Box::new(move |i| {
                let query = format!(
                    "pk=NUM%23%2B447700900001&sk=LEG%23%2B4477009{:05}&op=update",
                    10_000 + i % CALLERS
                );
                http_event("GET", "/floor", &query, &[], "")
            }),
            expect: (200, "found"),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "floor-lambda",
            what: "a GetItem, then a conditional UpdateItem (a line call's two requests)",
            event: Box::new(move |i| {
                let query = format!(
                    "pk=NUM%23%2B447700900001&sk=META&then=LEG%23%2B4477009{:05}&op=both",
                    10_000 + i % CALLERS
                );
                http_event("GET", "/floor", &query, &[], "")
            }),
            expect: (200, "found"),
            requests: 2,
            table: None,
            env: &[],
        },
        Case {
            binary: "floor-lambda",
            what: "one GetItem, trusting Amazon's roots as the functions do",
            event: Box::new(|_| {
                http_event("GET", "/floor", "pk=NUM%23%2B447700900001&sk=META", &[], "")
            }),
            expect: (200, "found"),
            requests: 1,
            table: None,
            env: &[("FLOOR_TRUST", "amazon")],
        },
        Case {
            binary: "vonage-answer",
            what: "signed GET, routed session call",
            event: Box::new(move |i| vonage_get("/vonage/answer", &answer_params(i))),
            expect: (200, "\"connect\""),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "vonage-fallback",
            what: "signed GET, routed session call",
            event: Box::new(move |i| {
                let mut p = answer_params(i);
                p.push(("reason", "timeout".into()));
                vonage_get("/vonage/fallback", &p)
            }),
            expect: (200, "\"connect\""),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "vonage-audio-answer",
            what: "signed GET, a call streamed to the audio socket with its token",
            event: Box::new(move |i| vonage_get("/vonage/audio-answer", &answer_params(i))),
            expect: (200, "bench-socket-token"),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "vonage-event",
            what: "signed POST, the session's callee leg",
            event: Box::new(move |i| {
                let body = format!(
                    r#"{{"uuid":"leg-{i}","status":"answered","direction":"outbound","timestamp":"2026-11-24T08:00:00.000Z"}}"#
                );
                vonage_post("/vonage/event", &event_query, &body)
            }),
            expect: (200, ""),
            requests: 1,
            table: Some(event_table.clone()),
            env: &[],
        },
        Case {
            binary: "twilio-voice",
            what: "signed, a line call admitted and forwarded",
            event: Box::new(move |i| {
                twilio_post(
                    "/twilio/voice",
                    &[
                        ("CallSid", call_sid(i)),
                        ("AccountSid", TWILIO_ACCOUNT.into()),
                        ("From", "+15551230002".into()),
                        ("To", "+15551230009".into()),
                    ],
                )
            }),
            expect: (200, "<Dial"),
            requests: 2,
            table: None,
            env: &[],
        },
        Case {
            binary: "twilio-dial-status",
            what: "signed, no answer → voicemail",
            event: Box::new(move |i| {
                twilio_post(
                    "/twilio/dial-status",
                    &[
                        ("CallSid", call_sid(i)),
                        ("DialCallStatus", "no-answer".into()),
                    ],
                )
            }),
            expect: (200, "<Record"),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "twilio-recording",
            what: "signed, a voicemail recorded",
            event: Box::new(move |i| {
                twilio_post("/twilio/recording", &[
                    ("CallSid", call_sid(i)),
                    ("RecordingSid", rec_sid(i)),
                    ("RecordingUrl", format!("https://api.twilio.com/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{}", rec_sid(i))),
                    ("RecordingStatus", "completed".into()),
                    ("RecordingDuration", "7".into()),
                ])
            }),
            expect: (200, ""),
            requests: 2,
            table: None,
            env: &[],
        },
        Case {
            binary: "twilio-transcription",
            what: "signed, text attached to the voicemail",
            event: Box::new(move |i| {
                twilio_post(
                    "/twilio/transcription",
                    &[
                        ("RecordingSid", rec_sid(i)),
                        ("TranscriptionStatus", "completed".into()),
                        ("TranscriptionText", "Hello, call me back.".into()),
                    ],
                )
            }),
            expect: (200, ""),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "twilio-status",
            what: "signed, a line call finished",
            event: Box::new(move |i| {
                twilio_post(
                    "/twilio/status",
                    &[
                        ("CallSid", call_sid(i)),
                        ("CallStatus", "completed".into()),
                        ("CallDuration", "31".into()),
                    ],
                )
            }),
            expect: (200, ""),
            requests: 1,
            table: None,
            env: &[],
        },
        Case {
            binary: "twilio-sms",
            what: "signed, a session text relayed as TwiML",
            event: Box::new(move |i| {
                twilio_post(
                    "/twilio/sms",
                    &[
                        ("MessageSid", format!("SM{i:032}")),
                        ("From", "+15551230100".into()),
                        ("To", "+15551230701".into()),
                        ("Body", "I'm outside".into()),
                    ],
                )
            }),
            expect: (200, "<Message"),
            requests: 2,
            table: None,
            env: &[],
        },
        Case {
            binary: "vonage-inbound-sms",
            what: "signed (sha256 sig), a session text relayed through the SMS API",
            event: Box::new(move |i| {
                let mut params: Vec<(String, String)> = [
                    ("msisdn", "447700900100".to_string()),
                    ("to", "447700900001".to_string()),
                    ("messageId", format!("{:016X}", 0x2000_0000 + i)),
                    ("text", "I'm outside".to_string()),
                    ("type", "text".to_string()),
                    ("timestamp", now.to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                let sig = callmask::vonage::sms_signature::sign(
                    &params,
                    VONAGE_SECRET,
                    callmask::vonage::sms_signature::SmsSignatureMethod::Sha256,
                );
                params.push(("sig".into(), sig));
                let query = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .finish();
                http_event("GET", "/vonage/inbound-sms", &query, &[], "")
            }),
            expect: (200, ""),
            requests: 2,
            table: None,
            env: &[],
        },
        Case {
            binary: "sessions",
            what: "POST /sessions, two new participants",
            event: Box::new(|i| {
                let body =
                    format!(r#"{{"participants": ["+44 7700 93{i:04}", "+44 7700 94{i:04}"]}}"#);
                http_event(
                    "POST",
                    "/sessions",
                    "",
                    &[("content-type", "application/json".into())],
                    &body,
                )
            }),
            expect: (201, "proxy_number"),
            requests: 4,
            table: Some(sessions_table.clone()),
            env: &[],
        },
    ];

    println!("## Cold start as Lambda runs it (local Runtime API, release build, emulator on loopback)\n");
    println!("Each function binary is exec'd under `local/src/runtime_api.rs` with a real request queued: {cold_runs} cold starts each (exec → the response that routed: connect, dial, record...), then one process serves {warm_calls} warm calls; peak RSS (VmHWM) after those. Floor: `floor-lambda`, one GetItem, same profile, same run.\n");
    println!("| function | request | DynamoDB requests | cold p50 | cold p90 | × floor | warm p50 | warm − floor | warm own p50 | own − floor's own | CPU p50 per warm call | CPU − floor's | peak RSS | stripped size | links S3 / SES / REST client | issue 6 targets |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let cases: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            only.is_empty() || c.binary == "floor-lambda" || only.iter().any(|b| b == c.binary)
        })
        .collect();
    for case in &cases {
        anyhow::ensure!(
            dir.join(case.binary).exists(),
            "build {} in release first (make bench does)",
            case.binary
        );
    }
    let check =
        |case: &Case, inv: &callmask_local::runtime_api::Invocation| -> anyhow::Result<()> {
            let (status, body) = inv.http()?;
            anyhow::ensure!(
                status == case.expect.0 && body.contains(case.expect.1),
                "{}: expected {} with {:?}, got {status}: {body}",
                case.binary,
                case.expect.0,
                case.expect.1
            );
            Ok(())
        };
    // Rounds over every case, so the floor and the functions see the same
    // machine and emulator (a drift cannot favour one row). The n-th call of
    // every case uses the same CallSid/RecordingSid, so the n-th dial
    // status finds the n-th admitted call; tokens are new on every event.
    let env_of = |case: &Case| -> Vec<(String, String)> {
        let mut env = env.clone();
        if let Some(table) = &case.table {
            env.retain(|(k, _)| k != "TABLE_NAME");
            env.push(("TABLE_NAME".into(), table.clone()));
        }
        for (k, v) in case.env {
            env.push((k.to_string(), v.to_string()));
        }
        env
    };
    let mut cold: Vec<Vec<Duration>> = vec![Vec::with_capacity(cold_runs); cases.len()];
    for run in 0..cold_runs {
        for (case, times) in cases.iter().zip(cold.iter_mut()) {
            let binary = dir.join(case.binary);
            let (t, inv) =
                callmask_local::runtime_api::cold_start(&binary, &env_of(case), (case.event)(run))
                    .await?;
            check(case, &inv)?;
            times.push(t);
        }
    }
    let emulator = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    // Row 1 is the floor every cold ratio and warm time is against; a
    // function's own warm work is against the floor row making as many
    // storage requests (row 1, or the GetItem-then-UpdateItem row), so a
    // second request's round trip is not taken for the function's work.
    let mut floor: Option<(Duration, Duration)> = None;
    let mut floor_own: HashMap<u32, (Duration, Duration)> = HashMap::new();
    for (case, cold) in cases.iter().zip(cold.iter_mut()) {
        cold.sort();
        let binary = dir.join(case.binary);
        let warm = callmask_local::runtime_api::warm(
            &binary,
            &env_of(case),
            warm_calls + 1,
            |i| (case.event)(cold_runs + i),
            |inv| check(case, inv),
            || callmask_local::runtime_api::emulator_time(&emulator),
        )
        .await?;
        let (c50, c90, w50, own, cpu) = (
            percentile(cold, 0.5),
            percentile(cold, 0.9),
            warm_p50(&warm, |c| c.wall),
            warm_p50(&warm, |c| c.own),
            warm_p50(&warm, |c| c.cpu),
        );
        let rss_mb = warm.peak_rss_kib as f64 / 1000.0;
        let size = std::fs::metadata(&binary)?.len();
        let size_mb = size as f64 / 1e6;
        let is_floor = case.binary == "floor-lambda";
        // The first floor row making this many requests is the reference.
        let reference = is_floor && case.env.is_empty() && !floor_own.contains_key(&case.requests);
        if reference {
            floor_own.insert(case.requests, (own, cpu));
        }
        let (fc, fw) = *floor.get_or_insert((c50, w50));
        let ratio = c50.as_secs_f64() / fc.as_secs_f64();
        let (fo, fcpu) = floor_own
            .get(&case.requests)
            .or_else(|| floor_own.get(&1))
            .copied()
            .unwrap_or((own, cpu));
        let own_over = ms(own) - ms(fo);
        let cpu_over = ms(cpu) - ms(fcpu);
        let first = reference && case.requests == 1;
        let dash = || "—".to_string();
        let verdict = if is_floor {
            dash()
        } else {
            // Issue 6's targets: a webhook 1.3× cold, its own warm work
            // within 0.5 ms of the floor's (the wall time less the
            // emulator's, and the processor time), 16 MB, 8 MB;
            // `sessions` create 3× cold.
            let cold_max = if case.binary == "sessions" { 3.0 } else { 1.3 };
            let webhook = case.binary != "sessions";
            let missed: Vec<&str> = [
                (ratio > cold_max, "cold"),
                (webhook && (own_over > 0.5 || cpu_over > 0.5), "warm"),
                (webhook && rss_mb > 16.0, "RSS"),
                (webhook && size_mb > 8.0, "size"),
            ]
            .into_iter()
            .filter_map(|(miss, what)| miss.then_some(what))
            .collect();
            if missed.is_empty() {
                "met".to_string()
            } else {
                format!("**missed: {}**", missed.join(", "))
            }
        };
        let over = if first {
            dash()
        } else {
            format!("{:+.2} ms", ms(w50) - ms(fw))
        };
        let over_own = if reference {
            dash()
        } else if own.is_zero() {
            // Its requests overlap: the emulator's total is more than the
            // wall time, so nothing is left.
            "n/a (concurrent requests)".to_string()
        } else {
            format!("{own_over:+.2} ms")
        };
        let over_cpu = if reference {
            dash()
        } else {
            format!("{cpu_over:+.2} ms")
        };
        let linked = linked_clients(&binary)?;
        println!(
            "| {} | {} | {} | {:.1} ms | {:.1} ms | {ratio:.2} | {:.2} ms | {over} | {:.2} ms | {over_own} | {:.2} ms | {over_cpu} | {rss_mb:.1} MB | {size_mb:.2} MB | {linked} | {verdict} |",
            case.binary,
            case.what,
            case.requests,
            ms(c50),
            ms(c90),
            ms(w50),
            ms(own),
            ms(cpu),
        );
    }
    println!();
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// Private sessions with the providers' REST APIs (issue 7): storage
/// requests per relayed text on both providers, and provisioning 50
/// numbers, against a local stand-in for Vonage's REST API that counts
/// what it is asked.
async fn messaging() -> anyhow::Result<()> {
    let (vonage_url, asked) = fake_vonage().await?;
    let counter = RequestCounter::default();
    let table = format!("bench-msg-{}", uuid_like());
    let config = StackConfig {
        core: CoreConfig {
            table_name: table.clone(),
            allow_unsigned_webhooks: true,
            ..CoreConfig::default()
        },
        vonage: VonageConfig {
            application_id: Some("aaaaaaaa-bbbb-cccc-dddd-000000000001".into()),
            ..VonageConfig::default()
        },
        twilio: TwilioConfig {
            account_sid: Some(TWILIO_ACCOUNT.into()),
            auth_token: SecretSetting::Value("bench-token".into()),
            api_base_url: fake_twilio().await?,
        },
        messaging: MessagingConfig {
            vonage_api_key: Some("bench-key".into()),
            vonage_api_secret: SecretSetting::Value("bench-secret".into()),
            vonage_rest_base_url: vonage_url.clone(),
            ..MessagingConfig::default()
        },
        ..StackConfig::default()
    };
    let state = Stack::build(config, Some(counter.clone()), None).await?;
    schema::create_table(state.core.store.client(), &table).await?;
    println!("## Private sessions: numbers and texts (in process, emulator, a local Vonage REST stand-in)\n");

    // 50 numbers: one search, then a buy and a link each.
    let before_store = counter.get();
    let t = Instant::now();
    let (status, body) = call(
        &state,
        Function::Numbers,
        "POST",
        "/numbers/provision",
        r#"{"provider": "vonage", "country": "GB", "count": 50, "features": ["voice", "sms"]}"#,
    )
    .await?;
    let took = t.elapsed();
    anyhow::ensure!(status == 201, "provision: {status} {body}");
    let added = serde_json::from_str::<serde_json::Value>(&body)?["numbers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    anyhow::ensure!(added == 50, "provisioned {added} of 50: {body}");
    let count = |path: &str| {
        asked
            .lock()
            .map(|m| m.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    };
    println!(
        "- provision 50 Vonage numbers: {:.0} ms; provider requests: {} search, {} buy, {} link (update); storage requests: {}",
        ms(took),
        count("/number/search"),
        count("/number/buy"),
        count("/number/update"),
        counter.get() - before_store
    );

    // A Vonage session and a Twilio one, then texts both ways.
    let now = state.core.clock.now();
    for p in ["+15551230601", "+15551230602"] {
        pool_number(&state.core.store, p, Provider::Twilio, "US", now).await?;
    }
    let mut proxies = HashMap::new();
    for (provider, a, b) in [
        ("vonage", "+447700900100", "+447700900200"),
        ("twilio", "+15551230100", "+15551230200"),
    ] {
        let (status, body) = call(
            &state,
            Function::Sessions,
            "POST",
            "/sessions",
            &format!(r#"{{"provider": "{provider}", "participants": ["{a}", "{b}"]}}"#),
        )
        .await?;
        anyhow::ensure!(status == 201, "session: {status} {body}");
        let s: serde_json::Value = serde_json::from_str(&body)?;
        let proxy = s["participants"][0]["proxy_number"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        proxies.insert(provider, (a, proxy));
    }

    let texts = 200;
    let (a, proxy) = &proxies["twilio"];
    let before = counter.get();
    let mut times = Vec::with_capacity(texts);
    for i in 0..texts {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("MessageSid", format!("SM{i:032}").as_str()),
                ("From", a),
                ("To", proxy.as_str()),
                ("Body", "I'm outside"),
            ])
            .finish();
        let t = Instant::now();
        let twiml = post_form(&state, Function::TwilioSms, "/twilio/sms", &form).await?;
        times.push(t.elapsed());
        anyhow::ensure!(twiml.contains("<Message"), "not relayed: {twiml}");
    }
    times.sort();
    println!(
        "- /twilio/sms, a text relayed as TwiML: {:.2} storage requests per text (the leg read + the once-only message record), p50 {:.2} ms (over {texts})",
        (counter.get() - before) as f64 / texts as f64,
        ms(percentile(&times, 0.5))
    );

    let (a, proxy) = &proxies["vonage"];
    let (before, sent_before) = (counter.get(), count("/sms/json"));
    let mut times = Vec::with_capacity(texts);
    for i in 0..texts {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("msisdn", a.trim_start_matches('+')),
                ("to", proxy.trim_start_matches('+')),
                ("messageId", format!("{:016X}", 0x1000_0000 + i).as_str()),
                ("text", "I'm outside"),
                ("type", "text"),
                ("message-timestamp", "2026-12-02 08:00:00"),
            ])
            .finish();
        let req = http::Request::builder()
            .method("GET")
            .uri(format!("http://127.0.0.1:3000/vonage/inbound-sms?{query}"))
            .header("host", "127.0.0.1:3000")
            .body(lambda_http::Body::Empty)?;
        let t = Instant::now();
        let resp = Function::VonageInboundSms.handle(&state, req).await;
        times.push(t.elapsed());
        anyhow::ensure!(resp.status() == 200, "inbound sms: {}", resp.status());
    }
    times.sort();
    println!(
        "- /vonage/inbound-sms, a text relayed through the SMS API: {:.2} storage requests per text, {:.2} SMS API requests per text, p50 {:.2} ms incl. the stand-in (over {texts})\n",
        (counter.get() - before) as f64 / texts as f64,
        (count("/sms/json") - sent_before) as f64 / texts as f64,
        ms(percentile(&times, 0.5))
    );
    Ok(())
}

/// One admin request, in process.
async fn call(
    state: &Stack,
    function: Function,
    method: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:3000{path}"))
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .body(lambda_http::Body::Text(body.to_string()))?;
    let resp = function.handle(state, req).await;
    Ok((
        resp.status().as_u16(),
        String::from_utf8_lossy(resp.body().as_ref()).into_owned(),
    ))
}

/// A stand-in for Vonage's REST API (numbers and SMS) answering as Vonage
/// does, counting the requests per path.
async fn fake_vonage() -> anyhow::Result<(String, Arc<Mutex<HashMap<String, usize>>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let asked: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = asked.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            if let Ok(mut m) = seen.lock() {
                                *m.entry(path.clone()).or_default() += 1;
                            }
                            let body = match path.as_str() {
                                "/number/search" => serde_json::json!({
                                    "count": 50,
                                    "numbers": (0..50).map(|i| serde_json::json!({
                                        "country": "GB", "msisdn": format!("4477009007{i:02}"),
                                        "type": "mobile-lvn", "cost": "1.25", "features": ["VOICE", "SMS"]
                                    })).collect::<Vec<_>>()
                                }),
                                "/sms/json" => serde_json::json!({
                                    "message-count": "1",
                                    "messages": [{"to": "447700900200", "message-id": "0A0000000123ABCD1",
                                        "status": "0", "remaining-balance": "3.14", "message-price": "0.03",
                                        "network": "12345"}]
                                }),
                                _ => {
                                    serde_json::json!({"error-code": "200", "error-code-label": "success"})
                                }
                            };
                            let mut resp =
                                hyper::Response::new(Full::new(Bytes::from(body.to_string())));
                            resp.headers_mut()
                                .insert("content-type", "application/json".parse().expect("hv"));
                            Ok::<_, std::convert::Infallible>(resp)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((format!("http://{addr}"), asked))
}

/// The release `audio-socket` beside this binary, as its own process on a
/// free loopback port, echo mode.
struct AudioServer {
    child: std::process::Child,
    port: u16,
}

impl AudioServer {
    fn start() -> anyhow::Result<Self> {
        let dir = std::env::current_exe()?
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = std::process::Command::new(dir.join("audio-socket"))
            .env("AUDIO_PORT", port.to_string())
            .env("AUDIO_HOST", "127.0.0.1")
            .env("AUDIO_MAX_CALLS", "100000")
            .env("RUST_LOG", "error")
            .env_remove("AUDIO_SOCKET_TOKEN")
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting target/release/audio-socket: {e}"))?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !audio_socket::probe::healthy(port) {
            anyhow::ensure!(Instant::now() < deadline, "audio-socket did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/socket", self.port)
    }

    fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for AudioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` echo calls at real time (16 kHz, 20 ms frames), their starts spread
/// over one frame period as real calls' are: every frame's echo latency,
/// and how many calls lost or changed a frame.
async fn audio_calls(url: &str, n: u32, frames: u32) -> (Vec<Duration>, usize) {
    let mut tasks = Vec::with_capacity(n as usize);
    for c in 0..n {
        let url = url.to_string();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_micros(20_000 * u64::from(c) / u64::from(n))).await;
            audio_socket::client::echo_call(
                &url,
                c,
                16000,
                frames,
                Some(Duration::from_millis(20)),
                &[],
            )
            .await
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok(Ok(r)) => latencies.extend(r.latencies),
            _ => failed += 1,
        }
    }
    latencies.sort();
    (latencies, failed)
}

/// The audio socket (issue 8): echo latency, memory per live call, and how
/// many calls one process serves at real time before frames come back late.
async fn audio_socket() -> anyhow::Result<()> {
    println!("## Audio socket (release audio-socket, echo mode, loopback)\n");
    let server = AudioServer::start()?;
    let url = server.url();
    // Warm up: runtime threads, allocator arenas.
    let _ = audio_calls(&url, 20, 50).await;
    let (one, failed) = audio_calls(&url, 1, 500).await;
    anyhow::ensure!(
        failed == 0 && one.len() == 500,
        "the single call lost frames"
    );
    println!(
        "- echo latency per frame, one call (500 frames of 640 bytes at real time, frame sent → the same frame back): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        ms(percentile(&one, 0.5)),
        ms(percentile(&one, 0.99)),
        ms(one[one.len() - 1])
    );
    drop(server);

    // Memory: a fresh process, then 200 calls streaming at real time.
    let server = AudioServer::start()?;
    let url = server.url();
    let _ = audio_calls(&url, 20, 25).await;
    let idle = server.rss_kb();
    let live = 200u32;
    let streaming = {
        let url = url.clone();
        tokio::spawn(async move { audio_calls(&url, live, 250).await })
    };
    // Mid-call: every call connected and streaming (5 s calls, read at 3 s).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let busy = server.rss_kb();
    let (_, failed) = streaming.await?;
    anyhow::ensure!(failed == 0, "{failed} of {live} calls lost frames");
    println!(
        "- memory per live call ({live} calls streaming 16 kHz at real time): {:.1} KiB (RSS {:.1} MB → {:.1} MB)",
        busy.saturating_sub(idle) as f64 / f64::from(live),
        idle as f64 / 1024.0,
        busy as f64 / 1024.0
    );
    drop(server);

    // Concurrency: more calls until a frame comes back later than one
    // frame period (20 ms) at p99, or a frame is lost.
    println!("\n| concurrent calls (5 s each, 16 kHz, real time) | echo p50 | echo p99 | frames back > 20 ms | calls that lost a frame |");
    println!("|---|---|---|---|---|");
    let server = AudioServer::start()?;
    let url = server.url();
    let mut served = 0;
    'ramp: for n in [
        50u32, 100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1600, 2000,
    ] {
        // A step that misses is run once more (a burst of another process
        // on the shared cores is not the socket's limit); both are printed.
        let mut passed = false;
        for attempt in 0..2 {
            let (lat, failed) = audio_calls(&url, n, 250).await;
            if lat.is_empty() {
                println!("| {n} | - | - | - | {failed} |");
                break 'ramp;
            }
            let late = lat
                .iter()
                .filter(|d| **d > Duration::from_millis(20))
                .count();
            let p99 = percentile(&lat, 0.99);
            println!(
                "| {n}{} | {:.2} ms | {:.2} ms | {:.2}% | {failed} |",
                if attempt > 0 { " (again)" } else { "" },
                ms(percentile(&lat, 0.5)),
                ms(p99),
                100.0 * late as f64 / lat.len() as f64
            );
            audio_wait_idle(server.port).await;
            if failed == 0 && p99 <= Duration::from_millis(20) {
                passed = true;
                break;
            }
        }
        if !passed {
            break;
        }
        served = n;
    }
    println!(
        "\n- concurrent calls one process serves at real time before frames arrive late (p99 echo ≤ 20 ms, none lost): {served} (client and server share the 2 cores)\n"
    );
    Ok(())
}

/// Lets the calls' tasks end before the next step.
async fn audio_wait_idle(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match tokio::task::spawn_blocking(move || audio_live_calls(port)).await {
            Ok(Some(0)) => return,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn audio_live_calls(port: u16) -> Option<i64> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let body: serde_json::Value = serde_json::from_str(out.split("\r\n\r\n").nth(1)?).ok()?;
    body["live_calls"].as_i64()
}
