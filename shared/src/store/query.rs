//! The store's reads of more than one item: every page of a partition
//! (optionally under a sort-key prefix, consistently) or of one key of an
//! index; one page of an index key, newest first; and a BatchGetItem with
//! its rounds for unprocessed keys.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError};

/// What to read.
pub(crate) enum Scope<'a> {
    /// The items of partition `pk` whose sort key starts with `prefix`, read
    /// consistently (they were just written).
    Partition { pk: String, prefix: &'a str },
    /// Every item of partition `pk`, read consistently.
    Whole { pk: String },
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
            wanted =
                wanted.keys([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))].into());
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
        self.query_first(scope, usize::MAX).await
    }

    /// Every item of partition `pk` whose sort key starts with `prefix`,
    /// read consistently.
    pub(crate) async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(Scope::Partition { pk, prefix }).await
    }

    /// Every item of `index` (named with its partition key's attribute)
    /// under key `pk`.
    pub(crate) async fn query_index(
        &self,
        [index, pk_attr]: [&'static str; 2],
        pk: String,
    ) -> Result<Vec<Item>, StoreError> {
        self.query_all(Scope::Index { index, pk_attr, pk }).await
    }

    /// The first `max` items `scope` holds, across pages: no more are read.
    pub(crate) async fn query_first(
        &self,
        scope: Scope<'_>,
        max: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let q: QueryFluentBuilder = self.client.query().table_name(&self.table);
        let q = match scope {
            Scope::Partition { pk, prefix } => q
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true),
            Scope::Whole { pk } => q
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true),
            Scope::Index { index, pk_attr, pk } => q
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(pk)),
        };
        let mut pages = q.into_paginator().items().send();
        let mut items = Vec::new();
        while items.len() < max {
            let Some(item) = pages.next().await else {
                break;
            };
            items.push(item.map_err(|e| StoreError::sdk("Query", e))?);
        }
        Ok(items)
    }

    /// One page of index key `pk`, newest first (descending `sk_attr`),
    /// strictly below `below` when given: to finish (a filter) and send.
    pub(crate) fn page_back(
        &self,
        [index, pk_attr, sk_attr]: [&'static str; 3],
        pk: String,
        below: Option<String>,
        limit: i32,
    ) -> QueryFluentBuilder {
        let q = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
            .limit(limit);
        match below {
            Some(sort) => q
                .key_condition_expression("#pk = :pk AND #sk < :below")
                .expression_attribute_names("#sk", sk_attr)
                .expression_attribute_values(":below", s(sort)),
            None => q.key_condition_expression("#pk = :pk"),
        }
    }
}
