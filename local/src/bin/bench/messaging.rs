//! Private sessions with the providers' REST APIs (issue 7): storage
//! requests per relayed text on both providers, and provisioning 50
//! numbers, against a local stand-in for Vonage's REST API that counts
//! what it is asked.

use std::collections::HashMap;
use std::time::Instant;

use callmask::aws::RequestCounter;
use callmask::config::{MessagingConfig, SecretSetting, VonageConfig};
use callmask::domain::Provider;
use callmask_local::{Function, Stack, StackConfig};

use crate::common::create_session;
use crate::common::unsigned_core;
use crate::common::{call, get_request, ms, percentile, pool_number, post_form, stack};
use crate::fakes::{self, Asked};

const TEXTS: usize = 200;

/// Each provider's session: (participant A, the proxy number A texts).
type Proxies = HashMap<&'static str, (&'static str, String)>;

pub async fn run() -> anyhow::Result<()> {
    let (vonage_url, asked) = fakes::vonage().await?;
    let config = StackConfig {
        core: unsigned_core("bench-msg"),
        vonage: VonageConfig {
            application_id: Some("aaaaaaaa-bbbb-cccc-dddd-000000000001".into()),
            ..VonageConfig::default()
        },
        twilio: fakes::twilio_config().await?,
        messaging: MessagingConfig {
            vonage_api_key: Some("bench-key".into()),
            vonage_api_secret: SecretSetting::Value("bench-secret".into()),
            vonage_rest_base_url: vonage_url.clone(),
            ..MessagingConfig::default()
        },
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    println!("## Private sessions: numbers and texts (in process, emulator, a local Vonage REST stand-in)\n");
    provision(&state, &counter, &asked).await?;
    let proxies = sessions(&state).await?;
    twilio_texts(&state, &counter, &proxies).await?;
    vonage_texts(&state, &counter, &asked, &proxies).await
}

/// 50 numbers: one search, then a buy and a link each.
async fn provision(state: &Stack, counter: &RequestCounter, asked: &Asked) -> anyhow::Result<()> {
    let before_store = counter.get();
    let t = Instant::now();
    let (status, body) = call(
        state,
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
    println!(
        "- provision 50 Vonage numbers: {:.0} ms; provider requests: {} search, {} buy, {} link (update); storage requests: {}",
        ms(took),
        fakes::times(asked, "/number/search"),
        fakes::times(asked, "/number/buy"),
        fakes::times(asked, "/number/update"),
        counter.get() - before_store
    );
    Ok(())
}

/// A Vonage session and a Twilio one.
async fn sessions(state: &Stack) -> anyhow::Result<Proxies> {
    let now = state.core.clock.now();
    for p in ["+15551230601", "+15551230602"] {
        pool_number(&state.core.store, p, Provider::Twilio, "US", now).await?;
    }
    let mut proxies = HashMap::new();
    for (provider, a, b) in [
        ("vonage", "+447700900100", "+447700900200"),
        ("twilio", "+15551230100", "+15551230200"),
    ] {
        let s = create_session(state, provider, a, b).await?;
        let proxy = s["participants"][0]["proxy_number"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        proxies.insert(provider, (a, proxy));
    }
    Ok(proxies)
}

/// `/twilio/sms`: texts relayed as TwiML.
async fn twilio_texts(
    state: &Stack,
    counter: &RequestCounter,
    proxies: &Proxies,
) -> anyhow::Result<()> {
    let (a, proxy) = &proxies["twilio"];
    let before = counter.get();
    let mut times = Vec::with_capacity(TEXTS);
    for i in 0..TEXTS {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("MessageSid", format!("SM{i:032}").as_str()),
                ("From", a),
                ("To", proxy.as_str()),
                ("Body", "I'm outside"),
            ])
            .finish();
        let t = Instant::now();
        let twiml = post_form(state, Function::TwilioSms, "/twilio/sms", &form).await?;
        times.push(t.elapsed());
        anyhow::ensure!(twiml.contains("<Message"), "not relayed: {twiml}");
    }
    times.sort();
    println!(
        "- /twilio/sms, a text relayed as TwiML: {:.2} storage requests per text (the leg read + the once-only message record), p50 {:.2} ms (over {TEXTS})",
        (counter.get() - before) as f64 / TEXTS as f64,
        ms(percentile(&times, 0.5))
    );
    Ok(())
}

/// `/vonage/inbound-sms`: texts relayed through the SMS API stand-in.
async fn vonage_texts(
    state: &Stack,
    counter: &RequestCounter,
    asked: &Asked,
    proxies: &Proxies,
) -> anyhow::Result<()> {
    let (a, proxy) = &proxies["vonage"];
    let (before, sent_before) = (counter.get(), fakes::times(asked, "/sms/json"));
    let mut times = Vec::with_capacity(TEXTS);
    for i in 0..TEXTS {
        let req = inbound_text(a.trim_start_matches('+'), proxy.trim_start_matches('+'), i)?;
        let t = Instant::now();
        let resp = Function::VonageInboundSms.handle(state, req).await;
        times.push(t.elapsed());
        anyhow::ensure!(resp.status() == 200, "inbound sms: {}", resp.status());
    }
    times.sort();
    println!(
        "- /vonage/inbound-sms, a text relayed through the SMS API: {:.2} storage requests per text, {:.2} SMS API requests per text, p50 {:.2} ms incl. the stand-in (over {TEXTS})\n",
        (counter.get() - before) as f64 / TEXTS as f64,
        (fakes::times(asked, "/sms/json") - sent_before) as f64 / TEXTS as f64,
        ms(percentile(&times, 0.5))
    );
    Ok(())
}

/// A Vonage inbound text, `n`-th of its sender (numbers without `+`).
pub fn inbound_text(sender: &str, proxy: &str, n: usize) -> anyhow::Result<lambda_http::Request> {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("msisdn", sender),
            ("to", proxy),
            ("messageId", format!("{:016X}", 0x1000_0000 + n).as_str()),
            ("text", "I'm outside"),
            ("type", "text"),
            ("message-timestamp", "2026-12-02 08:00:00"),
        ])
        .finish();
    get_request(&format!("/vonage/inbound-sms?{query}"))
}
