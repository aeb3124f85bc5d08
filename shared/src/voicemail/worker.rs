//! The `voicemail-worker` function's events: DynamoDB stream records
//! (filtered in the template to voicemails and line texts to email that a
//! webhook just wrote) and
//! scheduled sweeps. Stream failures are reported per record so Lambda
//! retries only those, then sends them to the on-failure queue.

use serde_json::{json, Value};

use crate::voicemail::{process, sweep, texts, VoicemailState};

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
        let pk = record
            .pointer("/dynamodb/Keys/pk/S")
            .and_then(Value::as_str)
            .unwrap_or("");
        let done = if let Some(sid) = pk.strip_prefix("VM#") {
            process(state, sid).await.map_err(|e| {
                tracing::error!(voicemail = sid, error = %e, "voicemail processing failed");
            })
        } else if let Some(sid) = pk.strip_prefix("MSG#") {
            texts::process(state, sid).await.map_err(|e| {
                tracing::error!(message = sid, error = %e, "text email processing failed");
            })
        } else {
            continue;
        };
        if done.is_err() {
            failures.push(json!({"itemIdentifier": id}));
        }
    }
    json!({"batchItemFailures": failures})
}
