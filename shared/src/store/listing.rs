//! Listing sessions (`GET /sessions`): newest first, by status and by
//! participant, a page at a time.
//!
//! # Why this shape
//!
//! One sparse, overloaded index, `sessions` (`gsi6pk` / `gsi6sk`), written
//! with the session in its create transaction and never by a request path
//! that reads it:
//!
//! - each session's META item sits in the partition `SESSIONS`, sorted by
//!   `<created_at, 12 digits>#<id>`: every session, newest first, is one
//!   Query read backwards, never a Scan;
//! - two small participant entries (`SES#<id>` / `PART#0`, `PART#1`) sit in
//!   `SESPART#<e164>` with the same sort key: a participant's sessions,
//!   open or closed, are one Query of their own partition, and their META
//!   items one consistent BatchGetItem. (The `participant` index of legs
//!   cannot serve this: closing a session deletes its legs.)
//!
//! One index, not one per filter: CloudFormation adds at most one index to
//! a table per stack update, so a deployed stack upgrades in one step.
//! Items written before the index existed have none of its attributes:
//! they stay readable by id and simply do not list.
//!
//! The status is a filter, not a key: a session expires by the clock
//! without any write, so no key could follow it. Open sessions are the
//! newest ones (each was created less than its TTL ago), so newest first
//! meets them first. Every request reads a bounded number of entries
//! ([`MAX_ROUNDS`] queries of growing size) and may answer a short page
//! with a `next`; the client follows `next` until it is null. A
//! participant's partition holds only their own sessions, so filtering it
//! is cheap.
//!
//! `SESSIONS` is one index partition: it takes about 1000 writes a second,
//! and a session costs one to three (creation, notices, closing), so a few
//! hundred session creations a second, sustained. Beyond that, shard the
//! key (`SESSIONS#<n>`) and merge the shards' pages by position: the page
//! cursor ([`SessionPosition`]) is a position in the sort order, not a
//! DynamoDB key, so it already allows that, and a client cannot turn it
//! into a read of any other item.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use crate::domain::Session;
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::sessions::session_from;
use crate::store::{Store, StoreError};

/// Queries one request may make before it answers a short page.
const MAX_ROUNDS: usize = 4;
/// The most entries one Query reads (DynamoDB stops at 1 MB anyway).
const MAX_CHUNK: i32 = 1000;
/// BatchGetItem takes at most 100 keys.
const MAX_BATCH_GET: i32 = 100;

/// Which sessions a list shows, as `GET /sessions/{id}` shows them: an
/// expired session is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Closed,
}

impl StatusFilter {
    pub fn matches(self, session: &Session, now: i64) -> bool {
        session.is_active(now) == (self == StatusFilter::Open)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    pub status: Option<StatusFilter>,
    /// A real number taking part (either participant).
    pub participant: Option<PhoneNumber>,
}

/// A place in the list's order (newest first): a page continues with the
/// sessions created before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPosition {
    pub created_at: i64,
    pub id: String,
}

impl SessionPosition {
    pub fn of(session: &Session) -> Self {
        Self {
            created_at: session.created_at,
            id: session.id.clone(),
        }
    }

    fn sort_key(&self) -> String {
        keys::sessions_sort(self.created_at, &self.id)
    }
}

/// A page of sessions, newest first, and where the next one starts (`None`
/// on the last page).
#[derive(Debug)]
pub struct SessionsPage {
    pub sessions: Vec<Session>,
    pub next: Option<SessionPosition>,
}

/// An index entry whose sort key or session key is not one we write.
fn malformed() -> StoreError {
    StoreError::malformed("a `sessions` index entry has a malformed key")
}

/// What one Query of the index gave: the sessions that pass the filter, in
/// order, and the sort key of the last entry it read when there are more.
struct Chunk {
    sessions: Vec<Session>,
    last_read: Option<String>,
}

/// The two participant entries of a new session, written in its create
/// transaction (`ttl`: the session's).
pub(crate) fn participant_entries(
    table: &str,
    session: &Session,
    ttl: i64,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let sort = keys::sessions_sort(session.created_at, &session.id);
    let mut items = Vec::with_capacity(2);
    for (i, p) in session.participants.iter().enumerate() {
        let put = Put::builder()
            .table_name(table)
            .item(keys::PK, s(keys::session(&session.id)))
            .item(keys::SK, s(keys::session_participant_entry(i)))
            .item("session_id", s(&session.id))
            .item(keys::SESSIONS_PK, s(keys::session_participant(&p.number)))
            .item(keys::SESSIONS_SK, s(&sort))
            .item(keys::TTL, n(ttl))
            .build()
            .map_err(|e| StoreError::request("TransactWriteItems", e))?;
        items.push(TransactWriteItem::builder().put(put).build());
    }
    Ok(items)
}

impl Store {
    /// Sessions newest first, `limit` at most, created before `after` when
    /// given. A page may be short while `next` is not `None` (see the
    /// module's notes); `next` is `None` only when nothing is left.
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        limit: usize,
        after: Option<&SessionPosition>,
        now: i64,
    ) -> Result<SessionsPage, StoreError> {
        let limit = limit.clamp(1, MAX_CHUNK as usize);
        let cap = match filter.participant {
            Some(_) => MAX_BATCH_GET,
            None => MAX_CHUNK,
        };
        let mut below = after.map(SessionPosition::sort_key);
        // One more than a page: a full page then says whether more follow.
        let mut size = (limit as i32 + 1).min(cap);
        let mut page: Vec<Session> = Vec::with_capacity(limit);
        for _ in 0..MAX_ROUNDS {
            let chunk = self
                .sessions_chunk(filter, below.as_deref(), size, now)
                .await?;
            for session in chunk.sessions {
                if page.len() == limit {
                    return Ok(full_page(page));
                }
                page.push(session);
            }
            let Some(last_read) = chunk.last_read else {
                return Ok(SessionsPage {
                    sessions: page,
                    next: None,
                });
            };
            if page.len() == limit {
                return Ok(full_page(page));
            }
            below = Some(last_read);
            size = size.saturating_mul(2).min(cap);
        }
        // This request has read its share: a short page, and the next one
        // starts after the last entry read.
        let next = match below {
            Some(sort) => {
                let (created_at, id) = keys::parse_sessions_sort(&sort).ok_or_else(malformed)?;
                Some(SessionPosition {
                    created_at,
                    id: id.to_string(),
                })
            }
            None => None,
        };
        Ok(SessionsPage {
            sessions: page,
            next,
        })
    }

    /// One Query of the index, below `below` (exclusive), newest first.
    async fn sessions_chunk(
        &self,
        filter: &SessionFilter,
        below: Option<&str>,
        size: i32,
        now: i64,
    ) -> Result<Chunk, StoreError> {
        let partition = match &filter.participant {
            Some(p) => keys::session_participant(p),
            None => keys::SESSIONS.to_string(),
        };
        let index = [keys::SESSIONS_INDEX, keys::SESSIONS_PK, keys::SESSIONS_SK];
        let mut q = self.page_back(index, partition, below.map(str::to_string), size);
        // The META entries carry the status: DynamoDB drops the others
        // before they are sent (they are still read).
        if let (None, Some(status)) = (&filter.participant, filter.status) {
            q = status_filter(q, status, now);
        }
        let out = q.send().await.map_err(|e| StoreError::sdk("Query", e))?;
        let last_read = out
            .last_evaluated_key()
            .map(|k| opt_s(k, keys::SESSIONS_SK).ok_or_else(malformed))
            .transpose()?;
        let sessions = match filter.participant {
            None => out
                .items()
                .iter()
                .map(|item| {
                    let id = keys::session_id(get_s(item, keys::PK)?).ok_or_else(malformed)?;
                    session_from(id, item)
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                let ids = out
                    .items()
                    .iter()
                    .map(|item| get_s(item, "session_id").map(str::to_string))
                    .collect::<Result<Vec<_>, _>>()?;
                self.sessions_by_id(&ids).await?
            }
        };
        let sessions = sessions
            .into_iter()
            .filter(|s| filter.status.is_none_or(|st| st.matches(s, now)))
            .collect();
        Ok(Chunk {
            sessions,
            last_read,
        })
    }

    /// The sessions `ids` name (at most 100), in that order; an id whose
    /// session is gone is left out. One consistent BatchGetItem; keys it
    /// leaves unprocessed (throttling) are tried again, then read one by one.
    async fn sessions_by_id(&self, ids: &[String]) -> Result<Vec<Session>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = ids
            .iter()
            .map(|id| (keys::session(id), keys::META.to_string()));
        let (items, unread) = self.batch_get(wanted).await?;
        let mut found: HashMap<String, Session> = HashMap::with_capacity(ids.len());
        for item in items {
            let id = keys::session_id(get_s(&item, keys::PK)?).ok_or_else(malformed)?;
            found.insert(id.to_string(), session_from(id, &item)?);
        }
        if !unread.is_empty() {
            // Still throttled: one consistent GetItem each, with the SDK's
            // own retries; an outage is an error, never a silent gap.
            for key in unread {
                let Some(id) = key
                    .get(keys::PK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| keys::session_id(pk))
                else {
                    continue;
                };
                if let Some(session) = self.get_session(id).await? {
                    found.insert(id.to_string(), session);
                }
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

fn full_page(sessions: Vec<Session>) -> SessionsPage {
    let next = sessions.last().map(SessionPosition::of);
    SessionsPage { sessions, next }
}

/// `GET /sessions/{id}`'s status, as a filter on META items.
fn status_filter(q: QueryFluentBuilder, status: StatusFilter, now: i64) -> QueryFluentBuilder {
    let expr = match status {
        StatusFilter::Open => "#st = :open AND expires_at > :now",
        StatusFilter::Closed => "#st <> :open OR expires_at <= :now",
    };
    q.filter_expression(expr)
        .expression_attribute_names("#st", "status")
        .expression_attribute_values(":open", s("open"))
        .expression_attribute_values(":now", n(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Provider;

    fn session(created_at: i64, ttl: i64) -> Session {
        let n = |s: &str| PhoneNumber::from_e164(s).expect("number");
        Session::open(
            "abc".into(),
            Provider::Vonage,
            [
                (n("+447700900100"), n("+447700900001")),
                (n("+447700900200"), n("+447700900002")),
            ],
            created_at,
            ttl,
        )
    }

    #[test]
    fn an_expired_session_lists_as_closed() {
        let s = session(1000, 60);
        assert!(StatusFilter::Open.matches(&s, 1059));
        assert!(!StatusFilter::Closed.matches(&s, 1059));
        assert!(!StatusFilter::Open.matches(&s, 1060));
        assert!(StatusFilter::Closed.matches(&s, 1060));
        let mut closed = s.clone();
        closed.status = crate::domain::SessionStatus::Closed;
        assert!(StatusFilter::Closed.matches(&closed, 1001));
    }

    #[test]
    fn positions_sort_as_the_index_does() {
        let a = SessionPosition {
            created_at: 999,
            id: "zz".into(),
        };
        let b = SessionPosition {
            created_at: 1000,
            id: "aa".into(),
        };
        assert!(a.sort_key() < b.sort_key());
        assert_eq!(keys::parse_sessions_sort(&b.sort_key()), Some((1000, "aa")));
    }

    #[test]
    fn participant_entries_name_each_participant() {
        let s = session(1000, 60);
        let items = participant_entries("t", &s, 5000).expect("entries");
        let pks: Vec<String> = items
            .iter()
            .filter_map(|i| i.put())
            .filter_map(|p| p.item().get(keys::SESSIONS_PK))
            .filter_map(|v| v.as_s().ok().cloned())
            .collect();
        assert_eq!(pks, ["SESPART#+447700900100", "SESPART#+447700900200"]);
    }
}
