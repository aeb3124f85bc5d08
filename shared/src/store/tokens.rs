//! Webhook tokens already used, for webhooks outside the routing read
//! (which keeps them on the leg, see `find_leg_once`).

use crate::store::attr::{n, s};
use crate::store::{keys, written, Store, StoreError, TokenId};

impl Store {
    /// Records a token as used: `Ok(false)` when it was used before (a
    /// replay). The item lives until no such token is accepted any more.
    pub async fn claim_token(&self, token: &TokenId, forget_at: i64) -> Result<bool, StoreError> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(keys::token(&token.jti)))
            .item(keys::SK, s(keys::META))
            .item("iat", n(token.iat))
            .item(keys::TTL, n(forget_at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        written("PutItem", res)
    }
}
