//! `make bench`: the figures in docs/benchmarks.md.
//!
//! Runs against the emulator `scripts/stack.py exec` starts (AWS_ENDPOINT_URL).
//! Expects release builds of `vonage-answer` and `hello-lambda` beside it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callmask::aws::{self, RequestCounter};
use callmask::config::{CoreConfig, SecretSetting, TwilioConfig, VoicemailConfig};
use callmask::domain::allocation::choose;
use callmask::domain::routing::plan_for;
use callmask::domain::{PoolNumber, Provider, Session};
use callmask::phone::PhoneNumber;
use callmask::store::schema;
use callmask::vonage::ncco::{render, RenderOptions};
use callmask_local::{Function, Stack, StackConfig};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("# callmask benchmarks\n");
    requests_and_latency().await?;
    twilio_line().await?;
    rideshare();
    cold_start().await?;
    Ok(())
}

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::from_e164(s).expect("number")
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
        state
            .core
            .store
            .put_number(&PoolNumber {
                number: n(p),
                provider: Provider::Vonage,
                country: "GB".into(),
                created_at: now,
            })
            .await?;
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
        .s3
        .create_bucket()
        .bucket(&state.voicemail.config.recordings_bucket)
        .send()
        .await?;
    state
        .voicemail
        .ses
        .verify_email_identity()
        .email_address("bench@example.com")
        .send()
        .await?;
    let line = n("+15551230009");
    state
        .core
        .store
        .put_number(&PoolNumber {
            number: line.clone(),
            provider: Provider::Twilio,
            country: "US".into(),
            created_at: 0,
        })
        .await?;
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
        let outcome = callmask::voicemail::process(&state.voicemail, &rec).await?;
        to_email.push(t.elapsed());
        anyhow::ensure!(
            outcome == callmask::voicemail::Outcome::Delivered,
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

#[derive(Default)]
struct Harness {
    event: String,
    responded: Option<Instant>,
}

/// Runs `binary` under a minimal Lambda Runtime API, timing process start to
/// the first response, and reading its peak RSS.
async fn cold_start_once(
    binary: &PathBuf,
    event: &str,
    env: &[(&str, String)],
) -> anyhow::Result<(Duration, u64)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Mutex::new(Harness {
        event: event.to_string(),
        responded: None,
    }));
    let served = shared.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let shared = served.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let shared = shared.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let _ = req.into_body().collect().await;
                            let mut resp = hyper::Response::new(Full::new(Bytes::new()));
                            if path.ends_with("/invocation/next") {
                                let ev = shared.lock().map(|h| h.event.clone()).unwrap_or_default();
                                if shared
                                    .lock()
                                    .map(|h| h.responded.is_some())
                                    .unwrap_or(false)
                                {
                                    // One invocation only: hold the runtime here.
                                    tokio::time::sleep(Duration::from_secs(30)).await;
                                }
                                let h = resp.headers_mut();
                                h.insert(
                                    "lambda-runtime-aws-request-id",
                                    "req-1".parse().expect("hv"),
                                );
                                h.insert(
                                    "lambda-runtime-deadline-ms",
                                    "99999999999999".parse().expect("hv"),
                                );
                                h.insert(
                                    "lambda-runtime-invoked-function-arn",
                                    "arn:aws:lambda:us-east-1:123456789012:function:bench"
                                        .parse()
                                        .expect("hv"),
                                );
                                h.insert(
                                    "lambda-runtime-trace-id",
                                    "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"
                                        .parse()
                                        .expect("hv"),
                                );
                                *resp.body_mut() = Full::new(Bytes::from(ev));
                            } else {
                                if let Ok(mut h) = shared.lock() {
                                    h.responded.get_or_insert_with(Instant::now);
                                }
                                *resp.status_mut() = hyper::StatusCode::ACCEPTED;
                            }
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
    let mut cmd = std::process::Command::new(binary);
    cmd.env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let deadline = start + Duration::from_secs(20);
    let elapsed = loop {
        if let Some(t) = shared.lock().ok().and_then(|h| h.responded) {
            break t - start;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no response from {}",
            binary.display()
        );
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    Ok((elapsed, rss))
}

async fn cold_start() -> anyhow::Result<()> {
    let dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let events_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/vonage-answer/");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let table = format!("bench-cold-{}", uuid_like());
    let client = aws::dynamodb(&aws::sdk_config(None).await, aws::BACKGROUND, None);
    schema::create_table(&client, &table).await?;
    let env = vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("TABLE_NAME", table),
        (
            "AWS_REGION",
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
    ];
    println!("## Cold start (process start → first response, local Lambda Runtime API harness, 30 runs, native release build)\n");
    println!("| binary | p50 | p90 | max RSS | stripped size |");
    println!("|---|---|---|---|---|");
    let cases = [
        (
            "vonage-answer",
            "missing-params.json",
            "no storage read: start-up only",
        ),
        (
            "vonage-answer",
            "get-routed.json",
            "incl. AWS config + one GetItem on the emulator",
        ),
        ("hello-lambda", "get-routed.json", "baseline"),
    ];
    for (name, event_file, what) in cases {
        let event = std::fs::read_to_string(format!("{events_dir}{event_file}"))?;
        let binary = dir.join(name);
        anyhow::ensure!(
            binary.exists(),
            "build {name} in release first (make bench does)"
        );
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..30 {
            let (t, r) = cold_start_once(&binary, &event, &env).await?;
            times.push(t);
            rss = rss.max(r);
        }
        times.sort();
        let size = std::fs::metadata(&binary)?.len();
        println!(
            "| {name} ({what}) | {:.1} ms | {:.1} ms | {:.1} MiB | {:.1} MiB |",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.9)),
            rss as f64 / 1024.0,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    println!("\nRow 2 minus row 1 is the first DynamoDB request on a new connection; strace shows that time spent waiting for the emulator's reply, not in the function.");
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
