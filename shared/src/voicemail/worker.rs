//! The `voicemail-worker` function's events: DynamoDB stream records
//! (filtered in the template to voicemails a webhook just wrote) and
//! scheduled sweeps. Stream failures are reported per record so Lambda
//! retries only those, then sends them to the on-failure queue.

use serde_json::{json, Value};

use crate::voicemail::{process, sweep, VoicemailState};

pub async fn handle(state: &VoicemailState, event: Value) -> Value {
    let Some(records) = event.get("Records").and_then(Value::as_array) else {
        // A scheduled event (or anything else): sweep what is due.
        return match sweep(state).await {
            Ok(outcomes) => json!({"swept": outcomes.len()}),
            Err(e) => {
                tracing::error!(error = %e, "voicemail sweep failed");
                json!({"swept": 0, "error": e.to_string()})
            }
        };
    };
    let mut failures = Vec::new();
    for record in records {
        let id = record
            .pointer("/dynamodb/SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(sid) = record
            .pointer("/dynamodb/Keys/pk/S")
            .and_then(Value::as_str)
            .and_then(|pk| pk.strip_prefix("VM#"))
        else {
            continue;
        };
        if let Err(e) = process(state, sid).await {
            tracing::error!(voicemail = sid, error = %e, "voicemail processing failed");
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    json!({"batchItemFailures": failures})
}
