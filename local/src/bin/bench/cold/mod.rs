//! Cold starts as Lambda runs them: every function, and `sessions` create,
//! beside a one-GetItem floor built the same way, in one run.
//!
//! [`setup`] seeds what the events route to, [`cases`] holds the rows,
//! [`events`] signs them, [`report`] turns figures into the table.

mod cases;
mod events;
mod report;
mod setup;

use std::path::Path;
use std::time::Duration;

use callmask_local::runtime_api::{self, Invocation};

use crate::common::{count, release_dir};
use cases::Case;

const COLD_RUNS: usize = 30;
const WARM_CALLS: usize = 200;

/// `only`: the binaries whose rows to run (the floors always run).
pub async fn run(only: &[String]) -> anyhow::Result<()> {
    let (cold_runs, warm_calls) = (
        count("BENCH_COLD_RUNS", COLD_RUNS),
        count("BENCH_WARM_CALLS", WARM_CALLS),
    );
    let dir = release_dir()?;
    let world = setup::world().await?;
    let env = setup::base_env(&world);
    let cases = cases::all(&world);

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
    let mut cold = cold_starts(&dir, &env, &cases, cold_runs).await?;
    let emulator = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    let mut floors = report::Floors::default();
    for (case, cold) in cases.iter().zip(cold.iter_mut()) {
        cold.sort();
        let binary = dir.join(case.binary);
        let warm = runtime_api::warm(
            &binary,
            &env_of(&env, case),
            warm_calls + 1,
            |i| (case.event)(cold_runs + i),
            |inv| check(case, inv),
            || runtime_api::emulator_time(&emulator),
        )
        .await?;
        let figures = report::Figures::new(cold, &warm, &binary)?;
        println!("{}", floors.row(case, &figures));
    }
    println!();
    Ok(())
}

/// Rounds over every case, so the floor and the functions see the same
/// machine and emulator (a drift cannot favour one row). The n-th call of
/// every case uses the same CallSid/RecordingSid, so the n-th dial status
/// finds the n-th admitted call; tokens are new on every event.
async fn cold_starts(
    dir: &Path,
    env: &[(String, String)],
    cases: &[&Case],
    runs: usize,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let mut cold: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); cases.len()];
    for run in 0..runs {
        for (case, times) in cases.iter().zip(cold.iter_mut()) {
            let binary = dir.join(case.binary);
            let (t, inv) =
                runtime_api::cold_start(&binary, &env_of(env, case), (case.event)(run)).await?;
            check(case, &inv)?;
            times.push(t);
        }
    }
    Ok(cold)
}

/// What a routed answer of `case` must be.
fn check(case: &Case, inv: &Invocation) -> anyhow::Result<()> {
    let (status, body) = inv.http()?;
    anyhow::ensure!(
        status == case.expect.0 && body.contains(case.expect.1),
        "{}: expected {} with {:?}, got {status}: {body}",
        case.binary,
        case.expect.0,
        case.expect.1
    );
    Ok(())
}

/// The settings of `case`'s process: its own table and settings over the
/// common ones.
fn env_of(env: &[(String, String)], case: &Case) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    if let Some(table) = &case.table {
        env.retain(|(k, _)| k != "TABLE_NAME");
        env.push(("TABLE_NAME".into(), table.clone()));
    }
    for (k, v) in case.env {
        env.push((k.to_string(), v.to_string()));
    }
    env
}
