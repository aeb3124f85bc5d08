//! What is kept of one call (`GET /calls/{id}`): the items under
//! `CALL#<provider call id>`, read with one consistent Query: the events
//! the event webhooks wrote (`EVT#<timestamp>#<status>`, oldest first) and,
//! for a call forwarded on a Twilio masked line, its context (`META`).

use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::query::Scope;
use crate::store::{Store, StoreError};

/// A call has a handful of events; a read stops after this many items.
const MAX_CALL_ITEMS: usize = 500;

/// Everything kept under one call id.
#[derive(Debug, Clone, PartialEq)]
pub struct CallHistory {
    pub call_id: String,
    /// Set for a call forwarded on a masked line (Twilio).
    pub line_call: Option<LineCall>,
    /// Oldest first.
    pub events: Vec<CallEventRecord>,
}

/// A masked-line call's context, as `/twilio/voice` admitted it and
/// `/twilio/status` finished it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCall {
    pub line: PhoneNumber,
    /// As the provider sent it: may be `anonymous`.
    pub caller: String,
    pub owner_email: Option<String>,
    pub created_at: i64,
    pub final_status: Option<String>,
    pub ended_at: Option<i64>,
    pub duration_seconds: Option<i64>,
}

/// One event a provider sent about the call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEventRecord {
    /// The provider's timestamp, else when it arrived.
    pub timestamp: String,
    pub status: String,
    pub received_at: Option<i64>,
    pub session_id: Option<String>,
    /// The event as the provider sent it.
    pub payload: Option<serde_json::Value>,
}

impl Store {
    /// The call's context and events; `None` when nothing is kept under
    /// `call_id`.
    pub async fn call_history(&self, call_id: &str) -> Result<Option<CallHistory>, StoreError> {
        let scope = Scope::Whole {
            pk: keys::call(call_id),
        };
        let items = self.query_first(scope, MAX_CALL_ITEMS).await?;
        let mut history = CallHistory {
            call_id: call_id.to_string(),
            line_call: None,
            events: Vec::new(),
        };
        for item in &items {
            let sk = get_s(item, keys::SK)?;
            if sk == keys::META {
                history.line_call = Some(line_call(item)?);
            } else if let Some((timestamp, status)) = keys::parse_call_event(sk) {
                history.events.push(CallEventRecord {
                    timestamp: timestamp.to_string(),
                    status: opt_s(item, "status").unwrap_or_else(|| status.to_string()),
                    received_at: opt_n(item, "received_at"),
                    session_id: opt_s(item, "session_id"),
                    payload: opt_s(item, "payload").and_then(|p| serde_json::from_str(&p).ok()),
                });
            }
        }
        Ok((!items.is_empty()).then_some(history))
    }
}

fn line_call(item: &Item) -> Result<LineCall, StoreError> {
    Ok(LineCall {
        line: get_phone(item, "line")?,
        caller: get_s(item, "caller")?.to_string(),
        owner_email: opt_s(item, "owner_email"),
        created_at: get_n(item, "created_at")?,
        final_status: opt_s(item, "final_status"),
        ended_at: opt_n(item, "ended_at"),
        duration_seconds: opt_n(item, "duration_seconds"),
    })
}
