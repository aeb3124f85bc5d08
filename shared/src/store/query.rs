//! The one way a query reads every page: a partition (optionally under a
//! sort-key prefix, consistently) or one key of an index.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::store::attr::*;
use crate::store::{Store, StoreError};

/// What to read.
pub(crate) enum Scope<'a> {
    /// The items of partition `pk` whose sort key starts with `prefix`, read
    /// consistently (they were just written).
    Partition { pk: String, prefix: &'a str },
    /// The items of an index with partition key `pk` (eventually
    /// consistent: indexes are).
    Index {
        index: &'static str,
        pk_attr: &'static str,
        pk: String,
    },
}

/// BatchGetItem rounds before keys left unprocessed are handed back.
const UNPROCESSED_TRIES: u32 = 4;

impl Store {
    /// A consistent BatchGetItem of the items (pk, sk), asked again with
    /// backoff and jitter for keys DynamoDB leaves unprocessed (it does only
    /// when it throttles). The items read, and the keys still unread after
    /// the last round: the caller decides what an unread key means (never
    /// "no such item").
    pub(crate) async fn batch_get(
        &self,
        keys: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Vec<Item>, Vec<Item>), StoreError> {
        let mut wanted = KeysAndAttributes::builder().consistent_read(true);
        for (pk, sk) in keys {
            wanted = wanted.keys([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))].into());
        }
        let mut request = Some(
            wanted
                .build()
                .map_err(|e| StoreError::request("BatchGetItem", e))?,
        );
        let mut items = Vec::new();
        for attempt in 0..UNPROCESSED_TRIES {
            let Some(req) = request.take() else { break };
            if attempt > 0 {
                let jitter = (uuid::Uuid::new_v4().as_u128() % 20) as u64;
                let wait = (10 << attempt) + jitter;
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            }
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, req)
                .send()
                .await
                .map_err(|e| StoreError::sdk("BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            request = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
        }
        Ok((items, request.map(|r| r.keys).unwrap_or_default()))
    }

    /// Every item `scope` holds, across pages.
    pub(crate) async fn query_all(&self, scope: Scope<'_>) -> Result<Vec<Item>, StoreError> {
        let q: QueryFluentBuilder = self.client.query().table_name(&self.table);
        let q = match scope {
            Scope::Partition { pk, prefix } => q
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true),
            Scope::Index { index, pk_attr, pk } => q
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(pk)),
        };
        let mut pages = q.into_paginator().items().send();
        let mut items = Vec::new();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(|e| StoreError::sdk("Query", e))?);
        }
        Ok(items)
    }
}
