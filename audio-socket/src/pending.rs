//! Connections that are not calls yet: from the TCP accept until the first
//! message's token has been checked (the request headers, the upgrade, the
//! `websocket:connected` message). Each holds a place among at most
//! `AUDIO_MAX_PENDING`; a call slot (`AUDIO_MAX_CALLS`) is only taken once
//! the token is good, so a peer without the token can never hold one.
//!
//! When every place is taken, a new connection takes the place of the
//! oldest pending one, which is closed. Why the oldest rather than refusing
//! the newest: a real peer (Vonage) is pending for a few milliseconds (it
//! sends its headers and then its first message at once), a peer that means
//! to hold places is pending until its deadline. Refusing the newest would
//! let a flooder keep every place with `AUDIO_MAX_PENDING` sockets opened
//! once per deadline (a few hundred a second) and refuse every real call;
//! closing the oldest means it must open `AUDIO_MAX_PENDING` sockets within
//! the few milliseconds a real peer is pending to push it out, and its own
//! sockets are the oldest, so they are the ones closed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// The pending places of one server.
pub struct PendingPlaces {
    max: usize,
    /// Each place's id (in the order they were taken, so the first key is
    /// the oldest) and the sender whose drop tells its owner to leave.
    places: Mutex<Places>,
    evicted: AtomicU64,
}

#[derive(Default)]
struct Places {
    next_id: u64,
    taken: BTreeMap<u64, oneshot::Sender<()>>,
}

impl PendingPlaces {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            places: Mutex::new(Places::default()),
            evicted: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Places> {
        // Nothing panics while the lock is held; a poisoned map is whole.
        self.places.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a new connection; when all are taken, the oldest one's
    /// owner is told to close (see the module doc).
    pub fn enter(self: &Arc<Self>) -> PendingPlace {
        let (tx, rx) = oneshot::channel();
        let mut places = self.lock();
        let id = places.next_id;
        places.next_id += 1;
        if places.taken.len() >= self.max {
            // Dropping its sender wakes the oldest place's owner.
            if places.taken.pop_first().is_some() {
                let n = self.evicted.fetch_add(1, Ordering::Relaxed) + 1;
                // A flood would log a line per connection: only at powers of two.
                if n.is_power_of_two() {
                    tracing::warn!(
                        evicted = n,
                        max_pending = self.max,
                        "every pending place is taken (AUDIO_MAX_PENDING): the oldest pending connections are closed"
                    );
                }
            }
        }
        places.taken.insert(id, tx);
        PendingPlace {
            places: self.clone(),
            id,
            evicted: rx,
        }
    }

    /// Connections pending now.
    pub fn len(&self) -> usize {
        self.lock().taken.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Pending connections closed so far to make room for newer ones.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }
}

/// One connection's pending place; given back when dropped.
pub struct PendingPlace {
    places: Arc<PendingPlaces>,
    id: u64,
    evicted: oneshot::Receiver<()>,
}

impl PendingPlace {
    /// Completes when a newer connection has taken this place.
    pub async fn evicted(&mut self) {
        // Only eviction drops the sender (nothing is ever sent on it).
        let _ = (&mut self.evicted).await;
    }
}

impl Drop for PendingPlace {
    fn drop(&mut self) {
        self.places.lock().taken.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn is_evicted(place: &mut PendingPlace) -> bool {
        tokio::time::timeout(Duration::from_millis(50), place.evicted())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_full_set_closes_its_oldest_place() {
        let places = PendingPlaces::new(2);
        let mut a = places.enter();
        let mut b = places.enter();
        assert_eq!(places.len(), 2);
        assert!(!is_evicted(&mut a).await);
        let mut c = places.enter();
        assert_eq!(places.len(), 2);
        assert!(is_evicted(&mut a).await, "the oldest makes room");
        assert!(!is_evicted(&mut b).await);
        assert!(!is_evicted(&mut c).await);
        assert_eq!(places.evicted(), 1);
        // An evicted place's drop frees nothing of another's.
        drop(a);
        assert_eq!(places.len(), 2);
        // A place given back is free for the next without evicting.
        drop(b);
        let mut d = places.enter();
        assert!(!is_evicted(&mut c).await);
        assert!(!is_evicted(&mut d).await);
        assert_eq!(places.evicted(), 1);
        drop((c, d));
        assert!(places.is_empty());
    }
}
