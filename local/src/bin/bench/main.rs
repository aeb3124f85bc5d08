//! `make bench`: the figures in docs/benchmarks.md.
//!
//! Runs against the emulator `scripts/stack.py exec` starts (AWS_ENDPOINT_URL).
//! Expects release builds of every function and `floor-lambda` beside it.
//!
//! One module per benchmark, in the order the report prints them:
//! [`routing`] (warm latency and round trips of a routed call),
//! [`twilio_line`] (masked lines and the voicemail pipeline), [`messaging`]
//! (numbers and texts), [`load`] (sessions and answers under concurrency),
//! [`cost`] (dollars per 1,000 calls, texts, voicemails), [`rideshare`] (numbers a workload rents),
//! [`phone_metadata`], [`audio`] (the audio socket) and [`cold`] (cold
//! starts as Lambda runs them); [`common`] and [`fakes`] serve them all.

mod audio;
mod cold;
mod common;
mod cost;
mod fakes;
mod load;
mod messaging;
mod phone_metadata;
mod rideshare;
mod routing;
mod twilio_line;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `bench cold [BINARY...]`: only the cold-start table (or some rows).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("cold") {
        return cold::run(&args[1..]).await;
    }
    // `bench audio`: only the audio socket's figures; `bench audio load`
    // only its load rows (idle sockets held while real calls get in).
    if args.first().map(String::as_str) == Some("audio") {
        if args.get(1).map(String::as_str) == Some("load") {
            return audio::idle_load().await;
        }
        return audio::run().await;
    }
    // `bench load` / `bench cost`: only those tables.
    if args.first().map(String::as_str) == Some("load") {
        return load::run().await;
    }
    if args.first().map(String::as_str) == Some("cost") {
        return cost::run().await;
    }
    // `bench routing`: only the routed calls under a service's policies.
    if args.first().map(String::as_str) == Some("routing") {
        return routing::run().await;
    }
    println!("# callmask benchmarks\n");
    routing::run().await?;
    twilio_line::run().await?;
    messaging::run().await?;
    load::run().await?;
    cost::run().await?;
    rideshare::run();
    phone_metadata::run();
    audio::run().await?;
    cold::run(&[]).await?;
    Ok(())
}
