//! Routing a session call: DynamoDB requests per routed call and the
//! handler's warm latency in process, then the decision and the NCCO
//! without the storage round trip.

use std::time::Instant;

use callmask::domain::routing::plan_for;
use callmask::domain::Provider;
use callmask::vonage::ncco::{render, RenderOptions};
use callmask_local::{Function, StackConfig};

use crate::common::unsigned_core;
use crate::common::{get_request, open_session, p50_p99_ms, percentile, pool_number, stack, us};

pub async fn run() -> anyhow::Result<()> {
    let config = StackConfig {
        core: unsigned_core("bench"),
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    let store = &state.core.store;
    let now = state.core.clock.now();
    for p in ["+447700900001", "+447700900002"] {
        pool_number(store, p, Provider::Vonage, "GB", now).await?;
    }
    let legs = [
        ("+447700900100", "+447700900001"),
        ("+447700900200", "+447700900002"),
    ];
    let session = open_session(store, "bench", Provider::Vonage, legs, now, 3600).await?;

    let calls = 2000;
    let mut times = Vec::with_capacity(calls);
    let before = counter.get();
    for i in 0..calls {
        let req = get_request(&format!(
            "/vonage/answer?to=447700900001&from=447700900100&uuid=u{i}&conversation_uuid=c"
        ))?;
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
        "- handler latency incl. one emulator round trip: {}",
        p50_p99_ms(&times, 2)
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
