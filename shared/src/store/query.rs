//! The one way a query reads every page: a partition (optionally under a
//! sort-key prefix, consistently) or one key of an index.

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

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

impl Store {
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
