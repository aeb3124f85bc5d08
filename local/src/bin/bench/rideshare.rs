//! Numbers for a ride-share day: the allocation rule simulated over 100k
//! sessions, against the lower bound and the naive two numbers per session.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use callmask::domain::allocation::choose;
use callmask::domain::{PoolNumber, Provider};
use callmask::phone::PhoneNumber;

use crate::common::{ms, n};

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
pub fn run() {
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
