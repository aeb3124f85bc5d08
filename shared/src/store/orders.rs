//! Provisioning orders kept by their `Idempotency-Key`: a client that
//! retries a `POST /numbers/provision` (its connection dropped, the gateway
//! timed out) gets the first answer again instead of buying again.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use crate::store::attr::*;
use crate::store::keys;
use crate::store::{Store, StoreError, NEW_ITEM};

/// How long a key is remembered.
const ORDER_RETENTION_SECONDS: i64 = 24 * 3600;

/// What [`Store::begin_order`] found under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderClaim {
    /// A new order: this request serves it.
    New,
    /// Under way, or cut short before it answered.
    Running,
    /// Answered: (HTTP status, body) to give again.
    Done(u16, String),
    /// The key was used for another request body.
    OtherRequest,
}

impl Store {
    /// Claims an order key for the request whose body hashes to
    /// `request_hash`.
    pub async fn begin_order(
        &self,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<OrderClaim, StoreError> {
        let res = self
            .put(keys::order(key), keys::META)
            .item("request", s(request_hash))
            .item("at", n(now))
            .item(keys::TTL, n(now + ORDER_RETENTION_SECONDS))
            .condition_expression(NEW_ITEM)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let e = match res {
            Ok(_) => return Ok(OrderClaim::New),
            Err(e) => e,
        };
        let Some(PutItemError::ConditionalCheckFailedException(c)) = e.as_service_error() else {
            return Err(StoreError::sdk("PutItem", e));
        };
        let Some(item) = c.item() else {
            return Ok(OrderClaim::Running);
        };
        if opt_s(item, "request").as_deref() != Some(request_hash) {
            return Ok(OrderClaim::OtherRequest);
        }
        Ok(match (opt_n(item, "status"), opt_s(item, "answer")) {
            (Some(status), Some(body)) => {
                OrderClaim::Done(u16::try_from(status).unwrap_or(200), body)
            }
            _ => OrderClaim::Running,
        })
    }

    /// Keeps an order's answer for the retries.
    pub async fn finish_order(&self, key: &str, status: u16, body: &str) -> Result<(), StoreError> {
        let values = [(":st", n(i64::from(status))), (":b", s(body))];
        let only_if = Some("attribute_exists(pk)");
        let update = "SET #st = :st, answer = :b";
        Store::updated(self.change(keys::order(key), update, only_if, values)).await
    }

    /// Gives a key back when its order bought nothing (the search failed),
    /// so a retry tries again.
    pub async fn forget_order(&self, key: &str) -> Result<(), StoreError> {
        self.delete(keys::order(key), keys::META).await
    }
}
