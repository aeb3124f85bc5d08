//! One row of the cold-start table from a case's figures, against the
//! floor rows run beside it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use callmask_local::runtime_api::{Warm, WarmCall};

use super::cases::Case;
use crate::common::{ms, percentile};

/// A case's figures: cold starts (sorted) and warm calls.
pub struct Figures {
    c50: Duration,
    c90: Duration,
    w50: Duration,
    own: Duration,
    cpu: Duration,
    rss_mb: f64,
    size_mb: f64,
    linked: String,
}

impl Figures {
    pub fn new(cold: &[Duration], warm: &Warm, binary: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            c50: percentile(cold, 0.5),
            c90: percentile(cold, 0.9),
            w50: warm_p50(warm, |c| c.wall),
            own: warm_p50(warm, |c| c.own),
            cpu: warm_p50(warm, |c| c.cpu),
            rss_mb: warm.peak_rss_kib as f64 / 1000.0,
            size_mb: std::fs::metadata(binary)?.len() as f64 / 1e6,
            linked: linked_clients(binary)?,
        })
    }
}

/// The median of one measure of the warm calls, as [`percentile`] takes
/// every other figure.
fn warm_p50(warm: &Warm, measure: impl Fn(&WarmCall) -> Duration) -> Duration {
    let mut v: Vec<Duration> = warm.calls.iter().map(measure).collect();
    v.sort();
    percentile(&v, 0.5)
}

/// Which of the clients a webhook must not carry are in a release binary:
/// operation names only the S3 and SES clients hold, and the HTTP client
/// the Twilio REST calls use (its name survives in the stripped binary).
fn linked_clients(binary: &Path) -> anyhow::Result<String> {
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

/// Row 1 is the floor every cold ratio and warm time is against; a
/// function's own warm work is against the floor row making as many
/// storage requests (row 1, or the GetItem-then-UpdateItem row), so a
/// second request's round trip is not taken for the function's work.
#[derive(Default)]
pub struct Floors {
    /// Row 1's cold p50 and warm p50.
    first: Option<(Duration, Duration)>,
    /// Own warm time and processor time per number of storage requests.
    own: HashMap<u32, (Duration, Duration)>,
}

impl Floors {
    /// The table row of `case` (which may be a floor row itself).
    pub fn row(&mut self, case: &Case, f: &Figures) -> String {
        let is_floor = case.binary == "floor-lambda";
        // The first floor row making this many requests is the reference.
        let reference = is_floor && case.env.is_empty() && !self.own.contains_key(&case.requests);
        if reference {
            self.own.insert(case.requests, (f.own, f.cpu));
        }
        let (fc, fw) = *self.first.get_or_insert((f.c50, f.w50));
        let ratio = f.c50.as_secs_f64() / fc.as_secs_f64();
        let (fo, fcpu) = self
            .own
            .get(&case.requests)
            .or_else(|| self.own.get(&1))
            .copied()
            .unwrap_or((f.own, f.cpu));
        let own_over = ms(f.own) - ms(fo);
        let cpu_over = ms(f.cpu) - ms(fcpu);
        let first = reference && case.requests == 1;
        let dash = || "—".to_string();
        let verdict = if is_floor {
            dash()
        } else {
            verdict(case.binary, ratio, own_over, cpu_over, f)
        };
        let over = if first {
            dash()
        } else {
            format!("{:+.2} ms", ms(f.w50) - ms(fw))
        };
        let over_own = if reference {
            dash()
        } else if f.own.is_zero() {
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
        format!(
            "| {} | {} | {} | {:.1} ms | {:.1} ms | {ratio:.2} | {:.2} ms | {over} | {:.2} ms | {over_own} | {:.2} ms | {over_cpu} | {:.1} MB | {:.2} MB | {} | {verdict} |",
            case.binary,
            case.what,
            case.requests,
            ms(f.c50),
            ms(f.c90),
            ms(f.w50),
            ms(f.own),
            ms(f.cpu),
            f.rss_mb,
            f.size_mb,
            f.linked,
        )
    }
}

/// Issue 6's targets: a webhook 1.3× cold, its own warm work within 0.5 ms
/// of the floor's (the wall time less the emulator's, and the processor
/// time), 16 MB, 8 MB; `sessions` create 3× cold.
fn verdict(binary: &str, ratio: f64, own_over: f64, cpu_over: f64, f: &Figures) -> String {
    let cold_max = if binary == "sessions" { 3.0 } else { 1.3 };
    let webhook = binary != "sessions";
    let missed: Vec<&str> = [
        (ratio > cold_max, "cold"),
        (webhook && (own_over > 0.5 || cpu_over > 0.5), "warm"),
        (webhook && f.rss_mb > 16.0, "RSS"),
        (webhook && f.size_mb > 8.0, "size"),
    ]
    .into_iter()
    .filter_map(|(miss, what)| miss.then_some(what))
    .collect();
    if missed.is_empty() {
        "met".to_string()
    } else {
        format!("**missed: {}**", missed.join(", "))
    }
}
