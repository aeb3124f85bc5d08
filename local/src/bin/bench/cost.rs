//! Dollars per 1,000 routed calls, texts and voicemails: what each one
//! asks of AWS, measured here (webhook invocations and their durations,
//! DynamoDB requests per operation, objects put in S3, emails SES
//! accepted), priced at the list prices in [`PRICES`].
//!
//! The durations are the handlers' warm times in process against the
//! emulator on loopback; in AWS each storage round trip adds a few
//! milliseconds, so the Lambda line is a floor. The providers' own charges
//! (minutes, texts, numbers) are not AWS's and are left out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use callmask::config::{MessagingConfig, SecretSetting};
use callmask::domain::Provider;
use callmask_local::{Function, Stack, StackConfig};

use crate::common::create_session;
use crate::common::unsigned_core;
use crate::common::{call, get_request, pool_number, post_form, stack};
use crate::fakes::{self, TWILIO_ACCOUNT};
use crate::messaging::inbound_text;
use crate::twilio_line::{add_line, voicemail_config, LINE};

/// AWS list prices, us-east-1, as published on the date below. One table:
/// change it here when they change.
struct Prices {
    date: &'static str,
    /// Lambda on arm64: per request, per GB-second (first tier).
    lambda_request: f64,
    lambda_gb_second: f64,
    /// API Gateway HTTP API, per request (first 300 million a month).
    http_api_request: f64,
    /// DynamoDB on-demand (standard table class), per request unit.
    dynamodb_write_unit: f64,
    dynamodb_read_unit: f64,
    /// S3 Standard: per PUT, per GB-month stored.
    s3_put: f64,
    s3_gb_month: f64,
    /// SES outbound email, per message.
    ses_email: f64,
}

const PRICES: Prices = Prices {
    date: "2026-12-07 (us-east-1 list prices; DynamoDB on-demand after its November 2024 cut)",
    lambda_request: 0.20 / 1e6,
    lambda_gb_second: 0.000_013_333_4,
    http_api_request: 1.00 / 1e6,
    dynamodb_write_unit: 0.625 / 1e6,
    dynamodb_read_unit: 0.125 / 1e6,
    s3_put: 0.005 / 1e3,
    s3_gb_month: 0.023,
    ses_email: 0.10 / 1e3,
};

/// The functions' memory in template.yaml (Globals 128 MB; the voicemail
/// worker 256 MB).
const WEBHOOK_MB: f64 = 128.0;
const WORKER_MB: f64 = 256.0;

/// How many of each the averages are taken over.
const RUNS: usize = 50;

/// What one routed call, text or voicemail asks of AWS (totals over
/// `RUNS`).
#[derive(Default)]
struct Usage {
    /// (memory MB, billed duration) of each invocation.
    invocations: Vec<(f64, Duration)>,
    /// Invocations reached through the HTTP API (webhooks).
    http_requests: u64,
    dynamodb: BTreeMap<String, u64>,
    s3_puts: u64,
    s3_bytes: u64,
    emails: u64,
}

impl Usage {
    fn invoked(&mut self, mb: f64, took: Duration, through_http: bool) {
        // Lambda bills each invocation rounded up to the millisecond.
        let billed = Duration::from_millis(took.as_micros().div_ceil(1000) as u64);
        self.invocations.push((mb, billed));
        if through_http {
            self.http_requests += 1;
        }
    }

    /// Dollars for the whole `RUNS`, by line.
    fn dollars(&self) -> [(&'static str, f64); 5] {
        let p = &PRICES;
        let gb_seconds: f64 = self
            .invocations
            .iter()
            .map(|(mb, d)| mb / 1024.0 * d.as_secs_f64())
            .sum();
        let lambda =
            self.invocations.len() as f64 * p.lambda_request + gb_seconds * p.lambda_gb_second;
        let (mut reads, mut writes) = (0.0, 0.0);
        for (op, count) in &self.dynamodb {
            let count = *count as f64;
            match op.as_str() {
                // Strongly consistent reads of items under 4 KB: one unit.
                "GetItem" | "Query" | "BatchGetItem" => reads += count,
                // Two items, each at twice the unit (a transaction).
                "TransactWriteItems" => writes += 4.0 * count,
                "TransactGetItems" => reads += 4.0 * count,
                _ => writes += count,
            }
        }
        let dynamodb = reads * p.dynamodb_read_unit + writes * p.dynamodb_write_unit;
        // A recording kept a month.
        let s3 = self.s3_puts as f64 * p.s3_put + self.s3_bytes as f64 / 1e9 * p.s3_gb_month;
        [
            ("Lambda (arm64)", lambda),
            ("HTTP API", self.http_requests as f64 * p.http_api_request),
            ("DynamoDB", dynamodb),
            ("S3 (one month kept)", s3),
            ("SES", self.emails as f64 * p.ses_email),
        ]
    }
}

pub async fn run() -> anyhow::Result<()> {
    let (state, counter) = cost_stack().await?;
    let session = session(&state).await?;
    let calls = measure(&counter, || routed_calls(&state, &session)).await?;
    let texts = measure(&counter, || relayed_texts(&state, &session)).await?;
    let voicemails = measure(&counter, || voicemails(&state)).await?;
    println!("## Cost: dollars per 1,000 (AWS only, measured requests at list prices)\n");
    println!("Prices: {}; Lambda at the functions' memory ({WEBHOOK_MB} MB, the voicemail worker {WORKER_MB} MB), billed per ms of the warm handler times measured here; Secrets Manager is a fixed $0.40 per secret a month (values cached per container), not per call.\n", PRICES.date);
    println!("| per 1,000 | invocations | DynamoDB requests | Lambda | HTTP API | DynamoDB | S3 | SES | total |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (what, usage) in [
        ("routed calls (Vonage: answer + 8 events)", &calls),
        ("texts relayed (Vonage inbound SMS)", &texts),
        (
            "voicemails (Twilio line: call, dial status, recording, pipeline)",
            &voicemails,
        ),
    ] {
        let scale = 1000.0 / RUNS as f64;
        let lines = usage.dollars();
        let total: f64 = lines.iter().map(|(_, d)| d).sum();
        let requests: u64 = usage.dynamodb.values().sum();
        print!(
            "| {what} | {:.0} | {:.0} |",
            usage.invocations.len() as f64 * scale,
            requests as f64 * scale
        );
        for (_, d) in lines {
            print!(" ${:.5} |", d * scale);
        }
        println!(" **${:.4}** |", total * scale);
    }
    println!();
    Ok(())
}

/// Runs a scenario and adds the DynamoDB requests it made, per operation.
async fn measure<F, Fut>(
    counter: &callmask::aws::RequestCounter,
    scenario: F,
) -> anyhow::Result<Usage>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Usage>>,
{
    let before = counter.by_operation();
    let mut usage = scenario().await?;
    for (op, count) in counter.by_operation() {
        let delta = count - before.get(&op).copied().unwrap_or(0);
        if delta > 0 {
            usage.dynamodb.insert(op, delta);
        }
    }
    Ok(usage)
}

/// A stack with the providers' stand-ins, a bucket, a verified sender, a
/// Twilio line and a Vonage session.
async fn cost_stack() -> anyhow::Result<(Stack, callmask::aws::RequestCounter)> {
    let (vonage_url, _) = fakes::vonage().await?;
    let config = StackConfig {
        core: unsigned_core("bench-cost"),
        twilio: fakes::twilio_config().await?,
        messaging: MessagingConfig {
            vonage_api_key: Some("bench-key".into()),
            vonage_api_secret: SecretSetting::Value("bench-secret".into()),
            vonage_rest_base_url: vonage_url,
            ..MessagingConfig::default()
        },
        voicemail: voicemail_config(),
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    add_line(&state).await?;
    let now = state.core.clock.now();
    let store = &state.core.store;
    for p in ["+447700900001", "+447700900002"] {
        pool_number(store, p, Provider::Vonage, "GB", now).await?;
    }
    Ok((state, counter))
}

/// The Vonage session every call and text goes through: (caller, the proxy
/// number it dials, session id).
type Session = (String, String, String);

async fn session(state: &Stack) -> anyhow::Result<Session> {
    let s = create_session(state, "vonage", "+447700900100", "+447700900200").await?;
    let proxy = s["participants"][0]["proxy_number"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('+')
        .to_string();
    let id = s["id"].as_str().unwrap_or_default().to_string();
    Ok(("447700900100".into(), proxy, id))
}

/// A connected call: the answer, then the four events of each leg Vonage
/// sends (the outbound leg's to the URL the answer named, the inbound
/// leg's to the application's event URL).
async fn routed_calls(state: &Stack, session: &Session) -> anyhow::Result<Usage> {
    let (caller, proxy, session_id) = session;
    let mut usage = Usage::default();
    for i in 0..RUNS {
        let conversation = format!("CON-cost-{i}");
        let req = get_request(&format!(
            "/vonage/answer?to={proxy}&from={caller}&uuid=in-{i}&conversation_uuid={conversation}"
        ))?;
        let t = Instant::now();
        let resp = Function::VonageAnswer.handle(state, req).await;
        usage.invoked(WEBHOOK_MB, t.elapsed(), true);
        anyhow::ensure!(
            String::from_utf8_lossy(resp.body().as_ref()).contains("connect"),
            "not routed"
        );
        for (leg, direction, path) in [
            (
                format!("out-{i}"),
                "outbound",
                format!("/vonage/event?session_id={session_id}"),
            ),
            (format!("in-{i}"), "inbound", "/vonage/event".to_string()),
        ] {
            for status in ["started", "ringing", "answered", "completed"] {
                let body = serde_json::json!({
                    "from": caller, "to": proxy, "uuid": leg,
                    "conversation_uuid": conversation, "status": status,
                    "direction": direction, "timestamp": "2026-12-07T08:00:00.000Z",
                });
                let t = Instant::now();
                let (code, answer) = call(
                    state,
                    Function::VonageEvent,
                    "POST",
                    &path,
                    &body.to_string(),
                )
                .await?;
                usage.invoked(WEBHOOK_MB, t.elapsed(), true);
                anyhow::ensure!(code == 200, "event {status}: {code} {answer}");
            }
        }
    }
    Ok(usage)
}

/// Texts from one participant relayed to the other through the SMS API.
async fn relayed_texts(state: &Stack, session: &Session) -> anyhow::Result<Usage> {
    let (sender, proxy, _) = session;
    let mut usage = Usage::default();
    for i in 0..RUNS {
        let req = inbound_text(sender, proxy, 50_000 + i)?;
        let t = Instant::now();
        let resp = Function::VonageInboundSms.handle(state, req).await;
        usage.invoked(WEBHOOK_MB, t.elapsed(), true);
        anyhow::ensure!(resp.status() == 200, "inbound sms: {}", resp.status());
    }
    Ok(usage)
}

/// Missed calls to the Twilio line: the call, its dial status (no answer:
/// record), the recording callback, then the pipeline (download, S3 copy,
/// SES email).
async fn voicemails(state: &Stack) -> anyhow::Result<Usage> {
    let mut usage = Usage::default();
    let (puts_before, emails_before) = (objects(state).await?.0, emails(state).await?);
    for i in 0..RUNS {
        let call_sid = format!("CA{:032}", 9000 + i);
        let rec = format!("RE{:032}", 9000 + i);
        let base = [
            ("CallSid", call_sid.as_str()),
            ("AccountSid", TWILIO_ACCOUNT),
            ("From", "+15551230002"),
            ("To", LINE),
        ];
        let form = |extra: &[(&str, &str)]| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(base.iter().chain(extra))
                .finish()
        };
        let t = Instant::now();
        let twiml = post_form(state, Function::TwilioVoice, "/twilio/voice", &form(&[])).await?;
        usage.invoked(WEBHOOK_MB, t.elapsed(), true);
        anyhow::ensure!(twiml.contains("<Dial"), "not forwarded: {twiml}");
        let t = Instant::now();
        let twiml = post_form(
            state,
            Function::TwilioDialStatus,
            "/twilio/dial-status",
            &form(&[
                ("DialCallStatus", "no-answer"),
                ("CallStatus", "in-progress"),
            ]),
        )
        .await?;
        usage.invoked(WEBHOOK_MB, t.elapsed(), true);
        anyhow::ensure!(twiml.contains("<Record"), "no voicemail prompt: {twiml}");
        let url = format!(
            "{}/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Recordings/{rec}",
            state.twilio.config.api_base_url
        );
        let t = Instant::now();
        post_form(
            state,
            Function::TwilioRecording,
            "/twilio/recording",
            &form(&[
                ("RecordingSid", rec.as_str()),
                ("RecordingUrl", url.as_str()),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "10"),
            ]),
        )
        .await?;
        usage.invoked(WEBHOOK_MB, t.elapsed(), true);
        // The worker, started by the table's stream (not through the API).
        let t = Instant::now();
        let outcome = state.voicemail.pipeline().process(&rec).await?;
        usage.invoked(WORKER_MB, t.elapsed(), false);
        anyhow::ensure!(
            outcome == callmask::usecases::voicemail::Outcome::Delivered,
            "{outcome:?}"
        );
    }
    let (puts, bytes) = objects(state).await?;
    usage.s3_puts = puts - puts_before;
    usage.s3_bytes = bytes;
    usage.emails = emails(state).await? - emails_before;
    anyhow::ensure!(
        usage.s3_puts == RUNS as u64 && usage.emails == RUNS as u64,
        "{} objects and {} emails for {RUNS} voicemails",
        usage.s3_puts,
        usage.emails
    );
    Ok(usage)
}

/// Objects in the recordings bucket and their bytes.
async fn objects(state: &Stack) -> anyhow::Result<(u64, u64)> {
    let v = &state.voicemail;
    let list = v
        .bucket
        .client
        .list_objects_v2()
        .bucket(&v.config.recordings_bucket)
        .send()
        .await?;
    let (mut count, mut bytes) = (0, 0);
    for o in list.contents() {
        count += 1;
        bytes += o.size().unwrap_or(0).max(0) as u64;
    }
    Ok((count, bytes))
}

/// Emails SES has accepted (the emulator counts them in its send quota).
async fn emails(state: &Stack) -> anyhow::Result<u64> {
    let quota = state
        .voicemail
        .mailer
        .client
        .get_send_quota()
        .send()
        .await?;
    Ok(quota.sent_last24_hours() as u64)
}
