//! Load: 1,000 `POST /sessions`, 100 in flight, on a pool of exactly Δ
//! numbers per provider; then 10,000 routed answers, 200 in flight, on the
//! sessions they opened. Each answer is checked (the right counterpart,
//! from the right proxy number) and every session against the table: no
//! (participant, proxy number) pair given twice, no session lost.
//!
//! In process against the emulator, which serialises DynamoDB requests:
//! the throughput is the emulator's, far below DynamoDB's; the correctness
//! under concurrency is what these rows are for.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use callmask::domain::Provider;
use callmask_local::{Function, Stack, StackConfig};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::common::unsigned_core;
use crate::common::{call, count, get_request, p50_p99_ms, pool_number, post_form, stack};
use crate::fakes;

/// Δ: the most sessions one participant (a driver) is in at once.
const DELTA: usize = 10;
/// Drivers served to Δ; the first `OVER` of them are asked for one more
/// (`BENCH_LOAD_DRIVERS` / `BENCH_LOAD_ANSWERS`: smaller runs, to try it).
const DRIVERS: usize = 95;
const OVER: usize = 50;
const SESSIONS_IN_FLIGHT: usize = 100;
const ANSWERS: usize = 10_000;
const ANSWERS_IN_FLIGHT: usize = 200;

fn drivers() -> usize {
    count("BENCH_LOAD_DRIVERS", DRIVERS)
}

fn over() -> usize {
    OVER.min(drivers())
}

fn answers_wanted() -> usize {
    count("BENCH_LOAD_ANSWERS", ANSWERS)
}

/// One session request: (provider, driver, rider).
struct Ask {
    provider: Provider,
    driver: String,
    rider: String,
}

/// A session as created: each leg is (participant, the proxy number it
/// dials). A call on one leg reaches the other leg's participant, shown
/// the other leg's proxy number, so a call back goes through.
struct Opened {
    id: String,
    provider: Provider,
    legs: [(String, String); 2],
}

pub async fn run() -> anyhow::Result<()> {
    let config = StackConfig {
        core: unsigned_core("bench-load"),
        twilio: fakes::twilio_config().await?,
        ..StackConfig::default()
    };
    let (state, counter) = stack(config).await?;
    let state = Arc::new(state);
    let now = state.core.clock.now();
    for i in 0..DELTA {
        let vonage = format!("+4477009000{i:02}");
        pool_number(&state.core.store, &vonage, Provider::Vonage, "GB", now).await?;
        let twilio = format!("+1555123{i:04}");
        pool_number(&state.core.store, &twilio, Provider::Twilio, "US", now).await?;
    }
    println!("## Load (in process, emulator)\n");
    let opened = sessions(&state).await?;
    answers(&state, &counter, &opened).await
}

/// Drivers alternate providers: even ones on Vonage (GB), odd on Twilio (US).
fn asks() -> Vec<Ask> {
    let mut out = Vec::new();
    let mut rider = 0;
    for d in 0..drivers() {
        let wanted = if d < over() { DELTA + 1 } else { DELTA };
        for _ in 0..wanted {
            rider += 1;
            let (provider, driver, rider) = if d % 2 == 0 {
                (
                    Provider::Vonage,
                    format!("+44770010{d:04}"),
                    format!("+44770020{rider:04}"),
                )
            } else {
                (
                    Provider::Twilio,
                    format!("+1555200{d:04}"),
                    format!("+1555300{rider:04}"),
                )
            };
            out.push(Ask {
                provider,
                driver,
                rider,
            });
        }
    }
    // Interleave the drivers, as a day's requests come.
    let n = out.len();
    let mut shuffled = Vec::with_capacity(n);
    let mut taken = vec![false; n];
    let mut i = 0;
    while shuffled.len() < n {
        i = (i + 389) % n;
        while taken[i] {
            i = (i + 1) % n;
        }
        taken[i] = true;
        shuffled.push(i);
    }
    let mut slots: Vec<Option<Ask>> = out.into_iter().map(Some).collect();
    shuffled
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect()
}

async fn sessions(state: &Arc<Stack>) -> anyhow::Result<Vec<Opened>> {
    let asks = asks();
    let total = asks.len();
    let gate = Arc::new(Semaphore::new(SESSIONS_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for ask in asks {
        let (state, gate) = (state.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let body = serde_json::json!({
                "participants": [ask.driver, ask.rider],
                "provider": ask.provider.as_str(),
            })
            .to_string();
            let t = Instant::now();
            let (status, answer) =
                call(&state, Function::Sessions, "POST", "/sessions", &body).await?;
            anyhow::Ok((ask, status, answer, t.elapsed()))
        });
    }
    let (mut opened, mut refused, mut other, mut times) = (Vec::new(), 0, Vec::new(), Vec::new());
    while let Some(done) = tasks.join_next().await {
        let (ask, status, answer, took) = done??;
        times.push(took);
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        match status {
            201 => opened.push(opened_from(&ask, &v)?),
            409 if v["error"]["code"] == "pool_exhausted" || v["code"] == "pool_exhausted" => {
                refused += 1
            }
            _ => other.push(format!("{status} {answer}")),
        }
    }
    let wall = started.elapsed();
    times.sort();
    let (drivers, over) = (drivers(), over());
    let expected = drivers * DELTA;
    let (pairs_twice, lost) = check_sessions(state, &opened).await?;
    println!(
        "- {total} POST /sessions, {SESSIONS_IN_FLIGHT} in flight, on a pool of exactly Δ = {DELTA} numbers per provider \
         ({drivers} drivers at Δ sessions, {over} of them asked one more): \
         {} created (expected {expected}), {refused} refused 409 pool_exhausted (expected {over}), {} other answers; \
         {pairs_twice} (participant, proxy) pairs given twice, {lost} sessions lost; \
         {:.0} sessions/s, {}",
        opened.len(),
        other.len(),
        total as f64 / wall.as_secs_f64(),
        p50_p99_ms(&times, 1)
    );
    if let Some(first) = other.first() {
        println!("  - first other answer: {first}");
    }
    anyhow::ensure!(
        opened.len() == expected && refused == over && other.is_empty(),
        "sessions under load: {} created, {refused} refused, {} other",
        opened.len(),
        other.len()
    );
    anyhow::ensure!(
        pairs_twice == 0 && lost == 0,
        "double allocations or lost sessions"
    );
    Ok(opened)
}

fn opened_from(ask: &Ask, v: &serde_json::Value) -> anyhow::Result<Opened> {
    let id = v["id"].as_str().unwrap_or_default().to_string();
    let proxy_of = |who: &str| {
        v["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["number"] == who)
            .and_then(|p| p["proxy_number"].as_str())
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("no proxy number for a participant in {v}"))
    };
    Ok(Opened {
        id,
        provider: ask.provider,
        legs: [
            (ask.driver.clone(), proxy_of(&ask.driver)?),
            (ask.rider.clone(), proxy_of(&ask.rider)?),
        ],
    })
}

/// Reads every session back: (pairs given twice, sessions lost).
async fn check_sessions(state: &Stack, opened: &[Opened]) -> anyhow::Result<(usize, usize)> {
    let mut pairs: HashSet<(String, String)> = HashSet::new();
    let (mut twice, mut lost) = (0, 0);
    for s in opened {
        for (participant, proxy) in &s.legs {
            if !pairs.insert((participant.clone(), proxy.clone())) {
                twice += 1;
            }
        }
        match state.core.store.get_session(&s.id).await? {
            Some(stored) if stored.participants.len() == 2 => {}
            _ => lost += 1,
        }
    }
    Ok((twice, lost))
}

/// `ANSWERS` calls, each from a participant to its proxy number, spread
/// over every session: each answer must connect to the counterpart.
async fn answers(
    state: &Arc<Stack>,
    counter: &callmask::aws::RequestCounter,
    opened: &[Opened],
) -> anyhow::Result<()> {
    let answers = answers_wanted();
    let gate = Arc::new(Semaphore::new(ANSWERS_IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let (before, operations_before) = (counter.get(), counter.operations());
    let ops_before = counter.by_operation();
    let started = Instant::now();
    for i in 0..answers {
        let s = &opened[i % opened.len()];
        let leg = (i / opened.len()) % 2;
        let ((from, proxy), (counterpart, shown)) = (s.legs[leg].clone(), s.legs[1 - leg].clone());
        let (state, gate, provider) = (state.clone(), gate.clone(), s.provider);
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let t = Instant::now();
            let body = match provider {
                Provider::Vonage => {
                    let req = get_request(&format!(
                        "/vonage/answer?to={}&from={}&uuid=load{i}&conversation_uuid=CON-load{i}",
                        &proxy[1..],
                        &from[1..]
                    ))?;
                    let resp = Function::VonageAnswer.handle(&state, req).await;
                    String::from_utf8_lossy(resp.body().as_ref()).into_owned()
                }
                Provider::Twilio => {
                    let form = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs([
                            ("CallSid", format!("CA{i:032}").as_str()),
                            ("From", from.as_str()),
                            ("To", proxy.as_str()),
                        ])
                        .finish();
                    post_form(&state, Function::TwilioVoice, "/twilio/voice", &form).await?
                }
            };
            let took = t.elapsed();
            let right = connects_to(provider, &body, &counterpart, &shown);
            if !right && std::env::var_os("BENCH_LOAD_SHOW_WRONG").is_some() {
                eprintln!("wrong answer to {from} calling {proxy}: {body}");
            }
            anyhow::Ok((right, took))
        });
    }
    let (mut wrong, mut times) = (0usize, Vec::with_capacity(answers));
    while let Some(done) = tasks.join_next().await {
        let (right, took) = done??;
        if !right {
            wrong += 1;
        }
        times.push(took);
    }
    let wall = started.elapsed();
    times.sort();
    // Reads asked for, and the SDK's retries of attempts the loaded
    // emulator answered too late (the answer path's short attempt timeout).
    let reads = counter.operations() - operations_before;
    let retries = (counter.get() - before).saturating_sub(reads);
    let ops = difference(&counter.by_operation(), &ops_before);
    println!(
        "- {answers} routed answers (half Vonage NCCO, half Twilio TwiML), {ANSWERS_IN_FLIGHT} in flight: \
         {wrong} wrong answers; DynamoDB reads {reads} ({:.2} per answer) and {retries} retried attempts \
         (requests sent: {ops:?}); {:.0} answers/s, {}\n",
        reads as f64 / answers as f64,
        answers as f64 / wall.as_secs_f64(),
        p50_p99_ms(&times, 1)
    );
    anyhow::ensure!(wrong == 0, "{wrong} wrong answers under load");
    anyhow::ensure!(
        reads == answers as u64,
        "{reads} storage requests for {answers} answers"
    );
    Ok(())
}

/// Whether an answer connects the caller to `counterpart`, showing
/// `shown` as the caller.
fn connects_to(provider: Provider, body: &str, counterpart: &str, shown: &str) -> bool {
    match provider {
        Provider::Vonage => {
            let Ok(ncco) = serde_json::from_str::<serde_json::Value>(body) else {
                return false;
            };
            ncco.as_array().into_iter().flatten().any(|action| {
                action["action"] == "connect"
                    && action["from"] == shown[1..]
                    && action["endpoint"][0]["number"] == counterpart[1..]
            })
        }
        Provider::Twilio => {
            body.contains(&format!("<Number>{counterpart}</Number>"))
                && body.contains(&format!("callerId=\"{shown}\""))
        }
    }
}

fn difference(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}
