//! Which proxy number a participant gets.
//!
//! Rule (Twilio Proxy's): a (participant, proxy number) pair is in at most
//! one active session. Each participant gets its own proxy number per session
//! (the number it dials), so the number for "B as seen by A" only has to avoid
//! the numbers A already dials. Taking the lowest free number of a sorted pool
//! then never uses more than Δ numbers per country, Δ being the most
//! concurrent sessions of any one participant: when a participant with at most
//! Δ−1 other sessions asks, one of the first Δ numbers is free.

use std::collections::HashSet;

use crate::domain::service::NumberSelection;
use crate::domain::PoolNumber;
use crate::phone::PhoneNumber;

/// Picks the number `participant` will dial: the lowest free number in the
/// participant's country, else the lowest free number anywhere in the pool.
///
/// `pool` must be sorted by number (the store returns it so); `busy` holds the
/// numbers the participant already dials in active sessions, plus any number
/// that just lost a race.
pub fn choose<'a>(
    pool: &'a [PoolNumber],
    busy: &HashSet<PhoneNumber>,
    country: &str,
) -> Option<&'a PoolNumber> {
    // Today's rule, as a policy: no number to stick to, and any country
    // when the participant's has none free.
    let policy = Policy {
        selection: NumberSelection::PreferSticky,
        last: None,
        allow_foreign: true,
    };
    choose_for(pool, busy, country, policy)
}

/// A service's rules for choosing (Twilio Proxy's
/// `number_selection_behavior`, and where the number may be).
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub selection: NumberSelection,
    /// The number this participant last had in the service, if any.
    pub last: Option<&'a PhoneNumber>,
    /// A number of another country when none of the participant's is free;
    /// strict otherwise (a foreign proxy number makes every call of theirs
    /// an international one).
    pub allow_foreign: bool,
}

/// Picks the number `participant` will dial under a service's policy.
///
/// `busy` holds the numbers the participant must not get: those it dials
/// in open sessions and those of its pairs still cooling off. Among the
/// free numbers of its country (of the whole pool only when `allow_foreign`
/// and none of its country is free), `prefer-sticky` takes `last` when it
/// is free, `avoid-sticky` the lowest other one; else the lowest free.
///
/// The pool bound still holds: every number chosen is either the lowest
/// free one or one chosen before (sticky), and `avoid-sticky` falls back to
/// `last` rather than reach past it, so a pool of Δ numbers per country
/// serves any workload whose participants have at most Δ open sessions
/// each (without cool-off, which holds pairs out of use for a while).
pub fn choose_for<'a>(
    pool: &'a [PoolNumber],
    busy: &HashSet<PhoneNumber>,
    country: &str,
    policy: Policy<'_>,
) -> Option<&'a PoolNumber> {
    let free = |p: &&'a PoolNumber| !busy.contains(&p.number);
    let mut candidates: Vec<&'a PoolNumber> = pool
        .iter()
        .filter(|p| p.country == country)
        .filter(free)
        .collect();
    if candidates.is_empty() && policy.allow_foreign {
        candidates = pool.iter().filter(free).collect();
    }
    let is_last = |p: &&&'a PoolNumber| Some(&p.number) == policy.last;
    let picked = match policy.selection {
        NumberSelection::PreferSticky => candidates.iter().find(is_last),
        NumberSelection::AvoidSticky => candidates.iter().find(|p| !is_last(p)),
    };
    picked.or(candidates.first()).copied()
}

#[cfg(test)]
#[path = "allocation_policy_tests.rs"]
mod policy_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Provider;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    /// `per_country` numbers for each (country, prefix), sorted as the
    /// store returns a pool (the policy tests use it too).
    pub(super) fn pool(country_prefixes: &[(&str, &str)], per_country: usize) -> Vec<PoolNumber> {
        let mut v: Vec<PoolNumber> = country_prefixes
            .iter()
            .flat_map(|(country, prefix)| {
                (0..per_country).map(move |i| PoolNumber {
                    number: PhoneNumber::parse(&format!("{prefix}{i:04}")).unwrap(),
                    provider: Provider::Vonage,
                    country: country.to_string(),
                    created_at: 0,
                    provider_sid: None,
                    linked: true,
                })
            })
            .collect();
        v.sort_by(|a, b| a.number.cmp(&b.number));
        v
    }

    #[test]
    fn prefers_the_participants_country_then_falls_back() {
        let p = pool(&[("GB", "+44770090"), ("US", "+1415555")], 2);
        let none = HashSet::new();
        assert_eq!(choose(&p, &none, "US").unwrap().country, "US");
        let busy: HashSet<_> = p
            .iter()
            .filter(|n| n.country == "US")
            .map(|n| n.number.clone())
            .collect();
        assert_eq!(choose(&p, &busy, "US").unwrap().country, "GB");
        let all: HashSet<_> = p.iter().map(|n| n.number.clone()).collect();
        assert!(choose(&p, &all, "US").is_none());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create(usize, usize),
        Close(usize),
    }

    fn ops(participants: usize) -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            3 => (0..participants, 0..participants).prop_map(|(a, b)| Op::Create(a, b)),
            2 => any::<prop::sample::Index>().prop_map(|i| Op::Close(i.index(usize::MAX))),
        ];
        prop::collection::vec(op, 1..300)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// For random workloads, the numbers ever used in a country never
        /// exceed Δ, the most concurrent sessions of any participant of that
        /// country, and no (participant, number) pair is in two active
        /// sessions.
        #[test]
        fn numbers_used_never_exceed_delta(workload in ops(12)) {
            let countries = [("GB", "+44770090"), ("US", "+1415555"), ("DE", "+49301234")];
            // Participants 0..4 are in GB, 4..8 in US, 8..12 in DE.
            let people: Vec<(PhoneNumber, &str)> = (0..12)
                .map(|i| {
                    let (c, _) = countries[i / 4];
                    let n = match c {
                        "GB" => format!("+44770090{:04}", 1000 + i),
                        "US" => format!("+1212555{:04}", 1000 + i),
                        _ => format!("+4930{:07}", 1000 + i),
                    };
                    (PhoneNumber::parse(&n).unwrap(), c)
                })
                .collect();
            // Enough numbers that the country preference always holds.
            let pool = pool(&countries, 300);
            let mut active: Vec<[(usize, PhoneNumber); 2]> = Vec::new();
            let mut used: BTreeMap<String, HashSet<PhoneNumber>> = BTreeMap::new();
            let mut delta: HashMap<String, usize> = HashMap::new();
            for op in workload {
                match op {
                    Op::Close(i) => {
                        if !active.is_empty() {
                            let i = i % active.len();
                            active.swap_remove(i);
                        }
                    }
                    Op::Create(a, b) if a != b => {
                        let mut legs = Vec::new();
                        for who in [a, b] {
                            let busy: HashSet<PhoneNumber> = active
                                .iter()
                                .flatten()
                                .filter(|(p, _)| *p == who)
                                .map(|(_, n)| n.clone())
                                .collect();
                            let (_, country) = &people[who];
                            let chosen = choose(&pool, &busy, country).expect("pool is large enough");
                            prop_assert_eq!(&chosen.country, country);
                            used.entry(chosen.country.clone()).or_default().insert(chosen.number.clone());
                            legs.push((who, chosen.number.clone()));
                        }
                        active.push([legs[0].clone(), legs[1].clone()]);
                        for who in [a, b] {
                            let concurrent = active.iter().filter(|s| s.iter().any(|(p, _)| *p == who)).count();
                            let d = delta.entry(people[who].1.to_string()).or_default();
                            *d = (*d).max(concurrent);
                        }
                    }
                    Op::Create(..) => {}
                }
                // The pair rule holds at every step.
                let mut pairs = HashSet::new();
                for (p, n) in active.iter().flatten() {
                    prop_assert!(pairs.insert((*p, n.clone())), "pair in two active sessions");
                }
            }
            for (country, numbers) in &used {
                let bound = delta.get(country).copied().unwrap_or(0);
                prop_assert!(numbers.len() <= bound, "{}: {} numbers > Δ = {}", country, numbers.len(), bound);
            }
        }
    }
}
