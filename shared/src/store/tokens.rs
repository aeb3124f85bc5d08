//! Webhook tokens used once: a token's id is claimed with one conditional
//! Put (`TOKEN#<jti>`), alone or inside a transaction with what the webhook
//! writes; a routed leg also keeps the ids it has seen (`seen_tokens`),
//! pruned of those no webhook can present any more.

use std::ops::RangeInclusive;

use aws_sdk_dynamodb::types::{AttributeValue, Put};

use crate::domain::TokenId;
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::{written, Claim, Store, StoreError};

/// The attribute of a leg holding the ids of the webhook tokens it has seen.
pub(crate) const TOKENS: &str = "seen_tokens";
/// A leg prunes its token ids once it holds more than this many.
const PRUNE_TOKENS_AT: usize = 16;

impl Store {
    /// The claim of a token, to send alone or in a transaction.
    pub(crate) fn claim_put(&self, claim: Claim<'_>) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(keys::token(&claim.token.jti)))
            .item(keys::SK, s(keys::META))
            .item("iat", n(claim.token.iat))
            .item(keys::TTL, n(claim.forget_at))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::request("building a request", e))
    }

    /// Records a webhook token as used; `false` when it was used before.
    pub async fn claim_token(&self, claim: Claim<'_>) -> Result<bool, StoreError> {
        let put = self.claim_put(claim)?;
        let res = self
            .client
            .put_item()
            .table_name(put.table_name)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .send()
            .await;
        written("PutItem", res)
    }
}

/// How a token's id is kept in a leg's set: `iat:jti`, so pruning can
/// read the iat back.
pub(crate) fn token_key(token: &TokenId) -> String {
    format!("{}:{}", token.iat, token.jti)
}

/// Drops token ids no webhook can present any more, once a leg holds a
/// few: in the background, off the call's path (best effort; the next
/// call of the leg tries again).
pub(crate) fn prune_tokens(
    store: &Store,
    proxy: &PhoneNumber,
    caller: &PhoneNumber,
    item: &Item,
    valid_iats: &RangeInclusive<i64>,
) {
    let Some(AttributeValue::Ss(ids)) = item.get(TOKENS) else {
        return;
    };
    if ids.len() <= PRUNE_TOKENS_AT {
        return;
    }
    let stale: Vec<String> = ids
        .iter()
        .filter(|id| {
            id.split_once(':')
                .and_then(|(iat, _)| iat.parse::<i64>().ok())
                .is_none_or(|iat| !valid_iats.contains(&iat))
        })
        .cloned()
        .collect();
    if stale.is_empty() {
        return;
    }
    let update = store
        .update(keys::number(proxy), keys::leg(caller))
        .update_expression("DELETE #tokens :stale")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#tokens", TOKENS)
        .expression_attribute_values(":stale", AttributeValue::Ss(stale));
    tokio::spawn(async move {
        if let Err(e) = update.send().await {
            tracing::debug!(error = ?e, "could not prune a leg's token ids");
        }
    });
}
