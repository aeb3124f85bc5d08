//! `choose_for`: sticky and avoid-sticky, strict country, and the pool
//! bound and pair rule under random workloads with cool-off.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::tests::pool;
use super::{choose_for, Policy};
use crate::domain::service::NumberSelection;
use crate::domain::PoolNumber;
use crate::phone::PhoneNumber;

fn policy(selection: NumberSelection, last: Option<&PhoneNumber>) -> Policy<'_> {
    Policy {
        selection,
        last,
        allow_foreign: false,
    }
}

#[test]
fn prefer_sticky_gives_the_last_number_back_when_it_is_free() {
    let p = pool(&[("GB", "+44770090")], 3);
    let last = p[2].number.clone();
    let none = HashSet::new();
    let sticky = policy(NumberSelection::PreferSticky, Some(&last));
    assert_eq!(
        choose_for(&p, &none, "GB", sticky).map(|n| &n.number),
        Some(&last)
    );
    // Busy: the lowest free one instead.
    let busy = HashSet::from([last.clone()]);
    assert_eq!(
        choose_for(&p, &busy, "GB", sticky).map(|n| &n.number),
        Some(&p[0].number)
    );
}

#[test]
fn avoid_sticky_takes_another_number_unless_it_is_the_only_free_one() {
    let p = pool(&[("GB", "+44770090")], 2);
    let last = p[0].number.clone();
    let avoid = policy(NumberSelection::AvoidSticky, Some(&last));
    let none = HashSet::new();
    assert_eq!(
        choose_for(&p, &none, "GB", avoid).map(|n| &n.number),
        Some(&p[1].number)
    );
    let busy = HashSet::from([p[1].number.clone()]);
    assert_eq!(
        choose_for(&p, &busy, "GB", avoid).map(|n| &n.number),
        Some(&last)
    );
}

#[test]
fn a_foreign_number_only_when_the_service_allows_it() {
    let p = pool(&[("FR", "+3361234"), ("US", "+1415555")], 1);
    let french_busy = HashSet::from([p.iter().find(|n| n.country == "FR").unwrap().number.clone()]);
    let strict = policy(NumberSelection::PreferSticky, None);
    assert!(choose_for(&p, &french_busy, "FR", strict).is_none());
    let lenient = Policy {
        allow_foreign: true,
        ..strict
    };
    assert_eq!(
        choose_for(&p, &french_busy, "FR", lenient).unwrap().country,
        "US"
    );
    // A free number of their own country always comes first.
    assert_eq!(
        choose_for(&p, &HashSet::new(), "FR", lenient)
            .unwrap()
            .country,
        "FR"
    );
}

#[derive(Debug, Clone)]
enum Op {
    Create(usize, usize),
    Close(usize),
    /// Time passes: one step of every closed session's cool-off.
    Tick,
}

fn ops(participants: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..participants, 0..participants).prop_map(|(a, b)| Op::Create(a, b)),
        2 => any::<prop::sample::Index>().prop_map(|i| Op::Close(i.index(usize::MAX))),
        1 => Just(Op::Tick),
    ];
    prop::collection::vec(op, 1..250)
}

/// Δ per country: the most sessions any participant of it has open at
/// once, were every creation to succeed.
fn delta(workload: &[Op], country_of: impl Fn(usize) -> usize) -> HashMap<usize, usize> {
    let mut open: Vec<[usize; 2]> = Vec::new();
    let mut delta = HashMap::new();
    for op in workload {
        match op {
            Op::Create(a, b) if a != b => {
                open.push([*a, *b]);
                for who in [*a, *b] {
                    let n = open.iter().filter(|s| s.contains(&who)).count();
                    let d = delta.entry(country_of(who)).or_insert(0);
                    *d = (*d).max(n);
                }
            }
            Op::Close(i) if !open.is_empty() => {
                let i = i % open.len();
                open.swap_remove(i);
            }
            _ => {}
        }
    }
    delta
}

/// A session as the simulation keeps it: each leg (participant, number).
type Legs = [(usize, PhoneNumber); 2];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Both behaviours, with or without cool-off: no (participant, number)
    /// pair is in two sessions that are open or cooling off, and every
    /// number is in the participant's country. Without cool-off, a pool of
    /// exactly Δ numbers per country serves every request.
    #[test]
    fn pairs_stay_unique_and_delta_numbers_suffice(
        workload in ops(9),
        avoid in any::<bool>(),
        cool_off in prop_oneof![Just(0usize), 1usize..4],
    ) {
        let countries = [("GB", "+44770090"), ("US", "+1415555"), ("DE", "+49301234")];
        let country_of = |who: usize| who / 3;
        let delta = delta(&workload, country_of);
        let mut pool: Vec<PoolNumber> = Vec::new();
        for (i, c) in countries.iter().enumerate() {
            pool.extend(self::pool(&[*c], delta.get(&i).copied().unwrap_or(0)));
        }
        pool.sort_by(|a, b| a.number.cmp(&b.number));
        let selection = if avoid { NumberSelection::AvoidSticky } else { NumberSelection::PreferSticky };
        let mut open: Vec<Legs> = Vec::new();
        // Closed sessions' legs, with the ticks each still cools.
        let mut cooling: Vec<(Legs, usize)> = Vec::new();
        let mut last: HashMap<usize, PhoneNumber> = HashMap::new();
        for op in workload {
            match op {
                Op::Create(a, b) if a != b => {
                    let mut legs = Vec::new();
                    for who in [a, b] {
                        let busy: HashSet<PhoneNumber> = open
                            .iter()
                            .chain(cooling.iter().map(|(l, _)| l))
                            .flatten()
                            .filter(|(p, _)| *p == who)
                            .map(|(_, n)| n.clone())
                            .collect();
                        let country = countries[country_of(who)].0;
                        let chosen = choose_for(&pool, &busy, country, policy(selection, last.get(&who)));
                        match chosen {
                            Some(n) => {
                                prop_assert_eq!(&n.country, country);
                                legs.push((who, n.number.clone()));
                            }
                            None => {
                                prop_assert!(cool_off > 0, "a pool of Δ numbers refused a request");
                                break;
                            }
                        }
                    }
                    if let [x, y] = legs.as_slice() {
                        for (who, n) in [x, y] {
                            last.insert(*who, n.clone());
                        }
                        open.push([x.clone(), y.clone()]);
                    }
                }
                Op::Close(i) if !open.is_empty() => {
                    let i = i % open.len();
                    let legs = open.swap_remove(i);
                    if cool_off > 0 {
                        cooling.push((legs, cool_off));
                    }
                }
                Op::Tick => {
                    cooling.retain_mut(|(_, left)| {
                        *left -= 1;
                        *left > 0
                    });
                }
                _ => {}
            }
            let mut pairs = HashSet::new();
            for (p, n) in open.iter().chain(cooling.iter().map(|(l, _)| l)).flatten() {
                prop_assert!(pairs.insert((*p, n.clone())), "a pair in two open or cooling sessions");
            }
        }
    }
}
