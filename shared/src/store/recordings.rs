//! Call audio recordings (the audio socket's record mode): one item per
//! WebSocket connection, under the call's uuid, written once its WAV is in
//! S3; listed newest first through the sparse `recordings` index.

use crate::domain::AudioRecording;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError};

/// Recordings are kept a year, as voicemails are.
const RETENTION_SECONDS: i64 = 365 * 24 * 3600;

/// A page of the recordings list and where the next one starts.
#[derive(Debug)]
pub struct RecordingsPage {
    pub recordings: Vec<AudioRecording>,
    pub next: Option<String>,
}

/// Whether `cursor` is one [`Store::audio_recordings`] hands out.
pub fn valid_cursor(cursor: &str) -> bool {
    cursor.len() <= 200
        && cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'#' | b'-' | b'_'))
}

impl Store {
    /// Writes the recording's item once (a retried put that had landed is
    /// not an error).
    pub async fn put_audio_recording(&self, rec: &AudioRecording) -> Result<(), StoreError> {
        let sk = keys::audio_recording(rec.started_at_ms, &rec.connection);
        let mut put = self
            .put(keys::audio_call(&rec.call_uuid), sk)
            .item("call_uuid", s(&rec.call_uuid))
            .item("connection", s(&rec.connection))
            .item("started_at_ms", n(rec.started_at_ms))
            .item("recorded_at_ms", n(rec.recorded_at_ms))
            .item("duration_ms", n(rec.duration_ms))
            .item("sample_rate", n(i64::from(rec.sample_rate)))
            .item("data_bytes", n(rec.data_bytes))
            .item("s3_key", s(&rec.s3_key))
            .item(
                "truncated",
                aws_sdk_dynamodb::types::AttributeValue::Bool(rec.truncated),
            )
            .item(keys::RECORDINGS_PK, s(keys::RECORDINGS))
            .item(
                keys::RECORDINGS_SK,
                s(keys::recordings_sort(
                    rec.recorded_at_ms,
                    &rec.call_uuid,
                    &rec.connection,
                )),
            )
            .item(keys::TTL, n(rec.recorded_at_ms / 1000 + RETENTION_SECONDS));
        if let Some(c) = &rec.conversation_uuid {
            put = put.item("conversation_uuid", s(c));
        }
        Store::put_new(put).await.map(|_| ())
    }

    /// The call's latest recording.
    pub async fn audio_recording(
        &self,
        call_uuid: &str,
    ) -> Result<Option<AudioRecording>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :p AND begins_with(#sk, :r)")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_values(":p", s(keys::audio_call(call_uuid)))
            .expression_attribute_values(":r", s(keys::AUDIO_RECORDING_PREFIX))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        out.items().first().map(recording_from).transpose()
    }

    /// Every call's recordings, newest first; `before` is the `next` of the
    /// previous page.
    pub async fn audio_recordings(
        &self,
        limit: i32,
        before: Option<&str>,
    ) -> Result<RecordingsPage, StoreError> {
        let index = [
            keys::RECORDINGS_INDEX,
            keys::RECORDINGS_PK,
            keys::RECORDINGS_SK,
        ];
        let q = self.page_back(
            index,
            keys::RECORDINGS.into(),
            before.map(str::to_string),
            limit,
        );
        let out = q.send().await.map_err(|e| StoreError::sdk("Query", e))?;
        let items = out.items();
        let recordings = items
            .iter()
            .map(recording_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if items.len() as i32 >= limit {
            items.last().and_then(|i| opt_s(i, keys::RECORDINGS_SK))
        } else {
            None
        };
        Ok(RecordingsPage { recordings, next })
    }
}

fn recording_from(item: &Item) -> Result<AudioRecording, StoreError> {
    let sample_rate = u32::try_from(get_n(item, "sample_rate")?)
        .map_err(|_| StoreError::malformed("sample_rate"))?;
    Ok(AudioRecording {
        call_uuid: get_s(item, "call_uuid")?.to_string(),
        conversation_uuid: opt_s(item, "conversation_uuid"),
        connection: get_s(item, "connection")?.to_string(),
        started_at_ms: get_n(item, "started_at_ms")?,
        recorded_at_ms: get_n(item, "recorded_at_ms")?,
        duration_ms: get_n(item, "duration_ms")?,
        sample_rate,
        data_bytes: get_n(item, "data_bytes")?,
        s3_key: get_s(item, "s3_key")?.to_string(),
        truncated: matches!(
            item.get("truncated"),
            Some(aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        ),
    })
}
