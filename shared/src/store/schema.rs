//! The table definition, as `template.yaml` declares it. Used by the local
//! stack and the tests; a conformance test compares the two.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

use crate::store::keys::*;
use crate::store::StoreError;

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| StoreError::request("building a request", e))
}

fn attr(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::request("building a request", e))
}

fn index(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(pk, KeyType::Hash)?)
        .key_schema(key(sk, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| StoreError::request("building a request", e))
}

/// Creates the table (on-demand, two indexes, TTL on `ttl`). An existing
/// table is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut req = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .global_secondary_indexes(index(PARTICIPANT_INDEX, PARTICIPANT_PK, PARTICIPANT_SK)?)
        .global_secondary_indexes(index(POOL_INDEX, POOL_PK, POOL_SK)?)
        .global_secondary_indexes(index(
            LINE_VOICEMAILS_INDEX,
            LINE_VOICEMAILS_PK,
            LINE_VOICEMAILS_SK,
        )?)
        .global_secondary_indexes(index(PENDING_INDEX, PENDING_PK, PENDING_SK)?)
        .global_secondary_indexes(index(RECORDINGS_INDEX, RECORDINGS_PK, RECORDINGS_SK)?)
        .global_secondary_indexes(index(SESSIONS_INDEX, SESSIONS_PK, SESSIONS_SK)?)
        // The voicemail worker follows new and updated voicemails.
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(|e| StoreError::request("building a request", e))?,
        );
    for name in [
        PK,
        SK,
        PARTICIPANT_PK,
        PARTICIPANT_SK,
        POOL_PK,
        POOL_SK,
        LINE_VOICEMAILS_PK,
        LINE_VOICEMAILS_SK,
        PENDING_PK,
        PENDING_SK,
        RECORDINGS_PK,
        RECORDINGS_SK,
        SESSIONS_PK,
        SESSIONS_SK,
    ] {
        req = req.attribute_definitions(attr(name)?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(())
        }
        Err(e) => return Err(StoreError::sdk("CreateTable", e)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(|e| StoreError::request("building a request", e))?,
        )
        .send()
        .await
        .map_err(|e| StoreError::sdk("UpdateTimeToLive", e))?;
    Ok(())
}
