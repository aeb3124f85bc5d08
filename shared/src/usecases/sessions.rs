//! Creating sessions: choose each participant's proxy number and commit the
//! choice in one conditional transaction, retrying on a lost race.

use std::collections::HashSet;
use std::future::Future;

use crate::domain::allocation::{choose_for, Policy};
use crate::domain::service::NumberSelection;
use crate::domain::{Leg, Membership, Mode, PoolNumber, Provider, ServiceSid, Session};
use crate::phone::PhoneNumber;
use crate::usecases::{Port, PortError};

/// Where sessions are committed (the table).
pub trait SessionStore: Sync {
    /// The provider's pool numbers, each with its service and whether it
    /// is reserved (one read: allocation filters them).
    fn pool(
        &self,
        provider: Provider,
    ) -> impl Future<Output = Port<Vec<(PoolNumber, Membership)>>> + Send;
    /// The proxy numbers `participant` dials in sessions that have not
    /// ended by `free_before` (now, less the service's cool-off).
    fn numbers_dialled_by(
        &self,
        participant: &PhoneNumber,
        free_before: i64,
    ) -> impl Future<Output = Port<Dialled>> + Send;
    /// Writes the session and its legs in one conditional transaction;
    /// `idle`: the legs it may replace that ended only by going idle on
    /// their side (the transaction checks the other side is idle too).
    fn create_session(
        &self,
        session: &Session,
        now: i64,
        idle: &[Leg],
    ) -> impl Future<Output = Result<(), CommitError>> + Send;
}

/// What a participant dials, as allocation sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialled {
    /// Numbers in sessions still live or cooling off.
    pub busy: HashSet<PhoneNumber>,
    /// Legs of sliding sessions idle on this participant's side: free,
    /// unless the other participant's side kept the session going.
    pub idle: Vec<Leg>,
    /// The number each service last gave the participant, and when.
    pub last: Vec<(ServiceSid, i64, PhoneNumber)>,
}

impl Dialled {
    /// The number `service` last gave this participant (sticky numbers).
    pub fn last_in(&self, service: &ServiceSid) -> Option<&PhoneNumber> {
        self.last
            .iter()
            .filter(|(s, _, _)| s == service)
            .max_by_key(|(_, at, _)| *at)
            .map(|(_, _, n)| n)
    }
}

/// Why a session's transaction did not commit.
#[derive(Debug)]
pub enum CommitError {
    /// Another session took these (participant index, number) pairs first,
    /// or the numbers left the pool: choose again without them.
    Lost {
        taken: Vec<(usize, PhoneNumber)>,
        gone: Vec<PhoneNumber>,
    },
    /// A conflicting transaction was in flight: try again.
    Contention,
    /// The unique name is another session's.
    NameTaken,
    Unavailable(PortError),
}

/// Attempts before answering "busy": each lost race re-reads what the
/// participants dial, so this is only reached under extreme contention.
const MAX_ATTEMPTS: u32 = 40;

#[derive(Debug, Clone)]
pub struct NewSession {
    pub participants: [PhoneNumber; 2],
    pub labels: [Option<String>; 2],
    pub provider: Provider,
    pub terms: Terms,
}

/// What a session is opened under: its lifetime, mode and name, and its
/// service's policies.
#[derive(Debug, Clone)]
pub struct Terms {
    pub lifetime: Lifetime,
    /// Its numbers come from this service's, never a reserved one.
    pub service: ServiceSid,
    /// The service's cool-off, in seconds.
    pub cool_off: u64,
    pub unique_name: Option<String>,
    pub mode: Mode,
    /// The service's `number_selection_behavior`.
    pub selection: NumberSelection,
    /// The service lets a participant have a number of another country
    /// when none of theirs is free.
    pub allow_foreign: bool,
}

/// How long a session lasts.
impl Terms {
    /// A fixed lifetime in `service`, today's policies (tests, tools).
    pub fn fixed(ttl: u64, service: ServiceSid) -> Self {
        Self {
            lifetime: Lifetime::Fixed(ttl),
            service,
            cool_off: 0,
            unique_name: None,
            mode: Mode::default(),
            selection: NumberSelection::default(),
            allow_foreign: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Ends this many seconds after creation.
    Fixed(u64),
    /// Ends this many seconds after its last interaction, and at `until`
    /// if given.
    Sliding { ttl: u64, until: Option<i64> },
    /// Ends at this time.
    Until(i64),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("no free {provider} number for a participant in {country}")]
    PoolExhausted {
        provider: &'static str,
        country: String,
    },
    #[error("too many concurrent changes for these participants; try again")]
    Busy,
    #[error("a session of this service already has this unique name")]
    NameTaken,
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

pub async fn create(
    store: &impl SessionStore,
    new: NewSession,
    id: String,
    now: i64,
) -> Result<Session, CreateError> {
    let [a, b] = &new.participants;
    let free_before = now.saturating_sub(new.terms.cool_off as i64);
    // Three independent reads: one round trip, not three.
    let (pool, dialled_a, dialled_b) = tokio::join!(
        store.pool(new.provider),
        store.numbers_dialled_by(a, free_before),
        store.numbers_dialled_by(b, free_before)
    );
    // The service's unreserved numbers only; the store's transaction
    // checks each chosen number is still so.
    let mut pool: Vec<PoolNumber> = pool?
        .into_iter()
        .filter(|(_, m)| m.allocatable_in(&new.terms.service))
        .map(|(n, _)| n)
        .collect();
    let (dialled_a, dialled_b) = (dialled_a?, dialled_b?);
    let last = [
        dialled_a.last_in(&new.terms.service).cloned(),
        dialled_b.last_in(&new.terms.service).cloned(),
    ];
    let mut idle = [dialled_a.idle, dialled_b.idle];
    let mut busy = [dialled_a.busy, dialled_b.busy];
    let countries = [a.country(), b.country()];
    for attempt in 0..MAX_ATTEMPTS {
        let pick = |i: usize, pool: &[PoolNumber], busy: &HashSet<PhoneNumber>| {
            let policy = Policy {
                selection: new.terms.selection,
                last: last[i].as_ref(),
                allow_foreign: new.terms.allow_foreign,
            };
            choose_for(pool, busy, &countries[i], policy)
                .map(|p| p.number.clone())
                .ok_or_else(|| CreateError::PoolExhausted {
                    provider: new.provider.as_str(),
                    country: countries[i].clone(),
                })
        };
        let mut session = Session::open(
            id.clone(),
            new.provider,
            [
                (a.clone(), pick(0, &pool, &busy[0])?),
                (b.clone(), pick(1, &pool, &busy[1])?),
            ],
            now,
            0,
        );
        match new.terms.lifetime {
            Lifetime::Fixed(ttl) => session.expires_at = now.saturating_add(ttl as i64),
            Lifetime::Sliding { ttl, until } => {
                session.ttl = Some(ttl as i64);
                session.expires_at = until.unwrap_or(crate::domain::NO_END);
            }
            Lifetime::Until(at) => session.expires_at = at,
        }
        session.service = new.terms.service.clone();
        session.cool_off = new.terms.cool_off as i64;
        session.unique_name = new.terms.unique_name.clone();
        session.mode = new.terms.mode;
        for (p, label) in session.participants.iter_mut().zip(&new.labels) {
            p.label = label.clone();
        }
        let replaced: Vec<Leg> = idle.iter().flatten().cloned().collect();
        match store.create_session(&session, now, &replaced).await {
            Ok(()) => {
                report_headroom(&pool, &busy, &countries);
                return Ok(session);
            }
            Err(CommitError::Unavailable(e)) => return Err(e.into()),
            Err(CommitError::NameTaken) => return Err(CreateError::NameTaken),
            Err(CommitError::Lost { taken, gone }) => {
                tracing::debug!(
                    attempt,
                    taken = taken.len(),
                    gone = gone.len(),
                    "allocation lost a race"
                );
                pool.retain(|p| !gone.contains(&p.number));
                for (i, number) in taken {
                    // What committed meanwhile, plus the number we just lost
                    // (the index may not show it yet).
                    let dialled = store
                        .numbers_dialled_by(&new.participants[i], free_before)
                        .await?;
                    (busy[i], idle[i]) = (dialled.busy, dialled.idle);
                    busy[i].insert(number);
                }
            }
            Err(CommitError::Contention) => {
                tracing::debug!(attempt, "allocation hit a concurrent transaction");
                // Spread the retries of colliding creations apart.
                let jitter = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
                tokio::time::sleep(std::time::Duration::from_millis(
                    5 + jitter * (1 + attempt as u64 / 4),
                ))
                .await;
            }
        }
    }
    Err(CreateError::Busy)
}

/// The `PoolNumbersFree` metric: for each participant's country, how many
/// pool numbers that participant could still be given (the fewer when both
/// are in one country); zero is the next `pool_exhausted`.
fn report_headroom(pool: &[PoolNumber], busy: &[HashSet<PhoneNumber>; 2], countries: &[String; 2]) {
    // Each participant was just given one of its free numbers.
    let free = |i: usize| {
        pool.iter()
            .filter(|p| !busy[i].contains(&p.number))
            .count()
            .saturating_sub(1)
    };
    let (a, b) = (free(0), free(1));
    if countries[0] == countries[1] {
        crate::metrics::pool_numbers_free(&countries[0], a.min(b));
    } else {
        crate::metrics::pool_numbers_free(&countries[0], a);
        crate::metrics::pool_numbers_free(&countries[1], b);
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
