//! The routing reads: what an inbound call or text to a proxy number finds,
//! in exactly one request. `find_leg` (Vonage: the leg of (proxy, caller)),
//! `find_leg_once` (the same read for a signed webhook, recording its token
//! so a replay routes nothing) and `resolve_inbound` (Twilio: the leg and
//! the number's line in one BatchGetItem).

use std::ops::RangeInclusive;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::line::Line;
use crate::domain::{Leg, PoolNumber, TokenId};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::lines::line_of;
use crate::store::numbers::pool_number;
use crate::store::sessions::leg_from;
use crate::store::tokens::{prune_tokens, token_key, TOKENS};
use crate::store::{Store, StoreError, StoreErrorKind};

/// What the once-only routing read found.
#[derive(Debug)]
pub enum LegRead {
    Leg(Option<Leg>),
    /// The webhook's token was already used.
    Replayed,
}

/// What one read returns for an inbound call to `to` from `from`.
#[derive(Debug, Default)]
pub struct Inbound {
    pub leg: Option<Leg>,
    pub number: Option<PoolNumber>,
    pub line: Option<Line>,
}

impl Store {
    /// The routing read: one consistent GetItem for (proxy, caller).
    pub async fn find_leg(
        &self,
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
    ) -> Result<Option<Leg>, StoreError> {
        let item = self
            .get_item(keys::number(proxy), keys::leg(caller))
            .await?;
        item.as_ref().map(leg_from).transpose()
    }

    /// The routing read of a signed call, still one request: an UpdateItem
    /// of the leg that records the webhook token's id and returns the leg,
    /// on the condition that the leg exists and has not seen the token. A
    /// replayed token finds its own id there and routes nothing.
    pub async fn find_leg_once(
        &self,
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
        token: &TokenId,
        valid_iats: RangeInclusive<i64>,
    ) -> Result<LegRead, StoreError> {
        let token_id = token_key(token);
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
        let res = self
            .update(keys::number(proxy), keys::leg(caller))
            .update_expression("ADD #tokens :id")
            .condition_expression("attribute_exists(pk) AND NOT contains(#tokens, :idv)")
            .expression_attribute_names("#tokens", TOKENS)
            .expression_attribute_values(":id", AttributeValue::Ss(vec![token_id.clone()]))
            .expression_attribute_values(":idv", s(token_id))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => {
                let Some(item) = out.attributes else {
                    return Ok(LegRead::Leg(None));
                };
                prune_tokens(self, proxy, caller, &item, &valid_iats);
                Ok(LegRead::Leg(Some(leg_from(&item)?)))
            }
            Err(e) => match e.as_service_error() {
                // The leg is there and has seen this token: a replay.
                Some(UpdateItemError::ConditionalCheckFailedException(c)) if c.item().is_some() => {
                    Ok(LegRead::Replayed)
                }
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(LegRead::Leg(None)),
                _ => Err(StoreError::sdk("UpdateItem", e)),
            },
        }
    }

    /// The routing read for an inbound call: the session leg for
    /// (to, from) and the number's META item, in one BatchGetItem.
    pub async fn resolve_inbound(
        &self,
        to: &PhoneNumber,
        from: Option<&PhoneNumber>,
    ) -> Result<Inbound, StoreError> {
        let mut wanted = vec![(keys::number(to), keys::META.to_string())];
        if let Some(from) = from {
            wanted.push((keys::number(to), keys::leg(from)));
        }
        let (items, unread) = self.batch_get(wanted).await?;
        if !unread.is_empty() {
            // Say "unavailable", never "no route": a missing leg would refuse
            // a call that should connect.
            return Err(StoreError::gave_up(
                "BatchGetItem",
                StoreErrorKind::Throttled,
            ));
        }
        let mut inbound = Inbound::default();
        for item in &items {
            if get_s(item, keys::SK)? == keys::META {
                inbound.line = line_of(item)?;
                inbound.number = Some(pool_number(item)?);
            } else {
                inbound.leg = Some(leg_from(item)?);
            }
        }
        Ok(inbound)
    }
}
