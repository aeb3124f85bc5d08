//! Routing a session call with a service's policies in force, on both
//! providers: DynamoDB requests and round trips per routed call and the
//! handler's warm latency in process, then the decision and the NCCO
//! without the storage round trip.

use std::time::Instant;

use callmask::domain::routing::plan_for;
use callmask::domain::Provider;
use callmask::vonage::ncco::{render, RenderOptions};
use callmask_local::{Function, StackConfig};

use crate::common::unsigned_core;
use crate::common::{call, get_request, p50_p99_ms, percentile, pool_number, post_form, stack, us};

pub async fn run() -> anyhow::Result<()> {
    let config = StackConfig {
        core: unsigned_core("bench"),
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    let store = &state.core.store;
    let now = state.core.clock.now();
    // A service with Twilio Proxy's policies in force: sliding TTL,
    // avoid-sticky, cool-off, its own numbers of both providers.
    let service = serde_json::json!({"unique_name": "bench", "default_ttl": 3600,
        "number_selection_behavior": "avoid-sticky", "cool_off_seconds": 300});
    let (status, created) = call(
        &state,
        Function::Sessions,
        "POST",
        "/services",
        &service.to_string(),
    )
    .await?;
    anyhow::ensure!(status == 201, "service: {status} {created}");
    let sid = serde_json::from_str::<serde_json::Value>(&created)?["sid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (p, provider, country) in [
        ("+447700900001", Provider::Vonage, "GB"),
        ("+447700900002", Provider::Vonage, "GB"),
        ("+15551230701", Provider::Twilio, "US"),
        ("+15551230702", Provider::Twilio, "US"),
    ] {
        pool_number(store, p, provider, country, now).await?;
        let join = serde_json::json!({"number": p}).to_string();
        let path = format!("/services/{sid}/numbers");
        let (status, body) = call(&state, Function::Sessions, "POST", &path, &join).await?;
        anyhow::ensure!(status == 200, "join: {status} {body}");
    }
    let mut sessions = Vec::new();
    for (provider, a, b) in [
        ("vonage", "+447700900100", "+447700900200"),
        ("twilio", "+15551230100", "+15551230200"),
    ] {
        let body =
            serde_json::json!({"provider": provider, "participants": [a, b], "service": sid});
        let (status, s) = call(
            &state,
            Function::Sessions,
            "POST",
            "/sessions",
            &body.to_string(),
        )
        .await?;
        anyhow::ensure!(status == 201, "session: {status} {s}");
        let s: serde_json::Value = serde_json::from_str(&s)?;
        anyhow::ensure!(s["ttl"] == 3600, "not sliding: {s}");
        sessions.push(s);
    }
    let proxy = |s: &serde_json::Value, i: usize| {
        s["participants"][i]["proxy_number"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    println!("## Routing (in process, warm, a service's policies in force)\n");
    println!("A session of a service with a sliding TTL, avoid-sticky numbers and a cool-off, each call from either side in turn: what each routed call costs in storage (requests, and round trips: requests in flight together count once; the background write that tells the other leg of a sliding session its new end is counted too), and the handler's latency.\n");
    let calls = 2000;
    for (name, s) in ["vonage-answer", "twilio-voice"].into_iter().zip(&sessions) {
        let mut times = Vec::with_capacity(calls);
        let (before, trips) = (counter.operations(), counter.round_trips());
        for i in 0..calls {
            let side = i % 2;
            let (to, from) = (
                proxy(s, side),
                s["participants"][side]["number"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
            let t = Instant::now();
            let routed = if name == "vonage-answer" {
                let req = get_request(&format!(
                    "/vonage/answer?to={}&from={}&uuid=u{i}&conversation_uuid=c",
                    &to[1..],
                    &from[1..]
                ))?;
                let resp = Function::VonageAnswer.handle(&state, req).await;
                String::from_utf8_lossy(resp.body().as_ref()).contains("connect")
            } else {
                let form = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("CallSid", format!("CA{i:032}")),
                        ("From", from),
                        ("To", to),
                    ])
                    .finish();
                post_form(&state, Function::TwilioVoice, "/twilio/voice", &form)
                    .await?
                    .contains("<Dial")
            };
            times.push(t.elapsed());
            anyhow::ensure!(routed, "{name}: call {i} not routed");
        }
        let per_call = (counter.operations() - before) as f64 / calls as f64;
        let trips = (counter.round_trips() - trips) as f64 / calls as f64;
        times.sort();
        println!(
            "- {name}: {per_call:.2} DynamoDB requests and {trips:.2} round trips per routed call (over {calls} calls); handler latency incl. the round trip: {}",
            p50_p99_ms(&times, 2)
        );
    }
    let session = sessions[0].clone();
    let shown = store
        .get_session(session["id"].as_str().unwrap_or_default())
        .await?
        .ok_or_else(|| anyhow::anyhow!("session gone"))?;
    let later = state.core.clock.now();
    println!(
        "- the session reads `{}` and ends {} s from now (sliding)\n",
        shown.status_at(later).0,
        shown.ends_at() - later
    );

    // The same decision and rendering without the storage round trip.
    let leg = shown.legs()[0].clone();
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
