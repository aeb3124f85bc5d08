//! A session's legs as stored (`NUM#<proxy>` / `LEG#<caller>`), and the
//! one request that routes by a leg and moves the session's sliding end.
//!
//! A leg keeps the session's fixed end (`expires_at`), its mode, and, for a
//! sliding session, `ttl_s` and the sliding end this leg has seen
//! (`idle_until`). Routing a call or text is one conditional UpdateItem
//! that sets `last_at = now`, `idle_until = ttl_s + now` and pushes the
//! item's DynamoDB TTL out by `keep_s`, only while the leg is live: the
//! item it returns decides the call, and the session reads as extended at
//! once. A leg the other participant's calls kept alive (their leg moved,
//! this one did not) is found idle: only then is that other leg read, and
//! this one revived from it, so a session never ends early for the side
//! that did not call.

use std::ops::RangeInclusive;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put};
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::domain::{Leg, Medium, Mode, Provider, ServiceSid, TokenId, NO_END};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::tokens::{prune_tokens, token_key, TOKENS};
use crate::store::{written, Store, StoreError};

const LAST_AT: &str = "last_at";
const SINCE: &str = "since";
const IDLE_UNTIL: &str = "idle_until";
/// A sliding leg's TTL in seconds (absent on a fixed leg).
const TTL_S: &str = "ttl_s";
/// How far past a routed call the item's DynamoDB TTL is pushed.
const KEEP_S: &str = "keep_s";

/// An item outlives the end it last saw by this much. The other leg of a
/// sliding session is moved in the background after each call (and read
/// when this one looks idle), so this only bounds how long an item that
/// background write missed may still serve.
const KEEP_MARGIN_SECONDS: i64 = 30 * 24 * 3600;

/// What the routing request found.
#[derive(Debug)]
pub enum LegRead {
    /// The leg (live and moved, or ended: the caller decides from it), or
    /// none.
    Leg(Option<Leg>),
    /// The webhook's token was already used.
    Replayed,
}

/// The update that gives a live leg its session's new lifetime and mode
/// (an update of the session): its fixed end, its sliding TTL and end
/// (both legs the same), and how long its item is kept.
pub(crate) fn leg_change(
    table: &str,
    leg: &Leg,
    session: &crate::domain::Session,
) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    let end = session.ends_at();
    let keep = session.ttl.unwrap_or(0) + session.cool_off + KEEP_MARGIN_SECONDS;
    let mut set = format!("SET expires_at = :end, #mode = :mode, {KEEP_S} = :keep, #ttl = :gone");
    let mut update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(table)
        .key(keys::PK, s(keys::number(&leg.proxy)))
        .key(keys::SK, s(keys::leg(&leg.caller)))
        .condition_expression("session_id = :sid")
        .expression_attribute_names("#mode", "mode")
        .expression_attribute_names("#ttl", keys::TTL)
        .expression_attribute_values(":sid", s(&session.id))
        .expression_attribute_values(":end", n(session.expires_at))
        .expression_attribute_values(":mode", s(session.mode.as_str()))
        .expression_attribute_values(":keep", n(keep))
        .expression_attribute_values(
            ":gone",
            n(end.saturating_add(session.cool_off + KEEP_MARGIN_SECONDS)),
        );
    match (session.ttl, session.idle_until()) {
        (Some(ttl), Some(idle)) => {
            set.push_str(&format!(", {TTL_S} = :ttl_s, {IDLE_UNTIL} = :idle"));
            update = update
                .expression_attribute_values(":ttl_s", n(ttl))
                .expression_attribute_values(":idle", n(idle));
        }
        _ => set.push_str(&format!(" REMOVE {TTL_S}, {IDLE_UNTIL}")),
    }
    update.update_expression(set)
}

/// A new leg's item: `ttl` is the session's sliding TTL, `cool_off` how
/// long the item must outlive the session's end.
pub(crate) fn leg_put(
    table: &str,
    leg: &Leg,
    service: &ServiceSid,
    (ttl, cool_off): (Option<i64>, i64),
    now: i64,
) -> aws_sdk_dynamodb::types::builders::PutBuilder {
    let end = leg
        .idle_until
        .map_or(leg.expires_at, |i| i.min(leg.expires_at));
    let keep = match ttl {
        Some(ttl) => ttl,
        None => leg.expires_at.saturating_sub(now).max(0),
    };
    let mut put = Put::builder()
        .table_name(table)
        .item(keys::PK, s(keys::number(&leg.proxy)))
        .item(keys::SK, s(keys::leg(&leg.caller)))
        .item("proxy", s(leg.proxy.e164()))
        .item("caller", s(leg.caller.e164()))
        .item("callee", s(leg.callee.e164()))
        .item("caller_id", s(leg.caller_id.e164()))
        .item("session_id", s(&leg.session_id))
        .item("provider", s(leg.provider.as_str()))
        .item("expires_at", n(leg.expires_at))
        .item("mode", s(leg.mode.as_str()))
        .item("caller_index", n(leg.caller_index.unwrap_or(0).into()))
        // For sticky numbers: which service gave this number, and when (in
        // milliseconds of the machine's clock: two sessions of one
        // participant in one second still have an order).
        .item("service", s(service.as_str()))
        .item(SINCE, n(given_at()))
        .item(KEEP_S, n(keep + cool_off + KEEP_MARGIN_SECONDS))
        .item(keys::TTL, n(end.saturating_add(cool_off)))
        .item(keys::PARTICIPANT_PK, s(keys::participant(&leg.caller)))
        .item(keys::PARTICIPANT_SK, s(keys::number(&leg.proxy)));
    if let (Some(ttl), Some(idle)) = (ttl, leg.idle_until) {
        put = put.item(TTL_S, n(ttl)).item(IDLE_UNTIL, n(idle));
    }
    put
}

/// A leg as stored; `idle_until` only where the session slides (a touch
/// writes one on fixed legs too, far past any end).
pub(crate) fn leg_from(item: &Item) -> Result<Leg, StoreError> {
    let provider = get_s(item, "provider")?;
    Ok(Leg {
        proxy: get_phone(item, "proxy")?,
        caller: get_phone(item, "caller")?,
        callee: get_phone(item, "callee")?,
        caller_id: get_phone(item, "caller_id")?,
        session_id: get_s(item, "session_id")?.to_string(),
        provider: Provider::parse(provider)
            .ok_or_else(|| StoreError::malformed(format!("provider {provider}")))?,
        expires_at: get_n(item, "expires_at")?,
        idle_until: opt_n(item, TTL_S).and_then(|_| opt_n(item, IDLE_UNTIL)),
        mode: opt_s(item, "mode")
            .and_then(|m| Mode::parse(&m))
            .unwrap_or_default(),
        caller_index: opt_n(item, "caller_index").and_then(|i| u8::try_from(i).ok()),
    })
}

/// Which service gave the leg's number, and when, in milliseconds (legs
/// from before services: the default service, at their session's end).
pub(crate) fn given(item: &Item) -> (ServiceSid, i64) {
    let service = opt_s(item, "service")
        .and_then(|sid| ServiceSid::parse(&sid))
        .unwrap_or_default();
    let at = opt_n(item, SINCE)
        .or_else(|| opt_n(item, "expires_at").map(|s| s.saturating_mul(1000)))
        .unwrap_or(0);
    (service, at)
}

fn given_at() -> i64 {
    std::time::UNIX_EPOCH
        .elapsed()
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The last routed call or text a leg saw.
pub(crate) fn last_at(item: &Item) -> Option<i64> {
    opt_n(item, LAST_AT)
}

/// What one touch found.
enum Touch {
    /// The leg as it is now, and as it was.
    Moved(Item, Item),
    Missing,
    Replayed,
    /// Past its fixed end (or closed): routes nothing, revives nothing.
    Over(Item),
    /// Past its own sliding end: the other leg may say otherwise.
    Idle(Item),
}

/// The webhook token a signed request records on the leg, and the `iat`s
/// still valid (to prune the others).
pub struct Once<'a> {
    pub token: &'a TokenId,
    pub valid_iats: RangeInclusive<i64>,
}

/// What a routing request of a request not yet verified changed on a
/// leg (its token, when it last routed, its sliding end, its item's TTL),
/// to put back if the request then fails its check.
#[derive(Debug, Clone)]
pub struct Undo {
    proxy: PhoneNumber,
    caller: PhoneNumber,
    token: Option<String>,
    at: i64,
    was: [(&'static str, Option<i64>); 3],
}

impl Undo {
    fn of(
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
        once: Option<&Once<'_>>,
        old: &Item,
        at: i64,
    ) -> Self {
        Self {
            proxy: proxy.clone(),
            caller: caller.clone(),
            token: once.map(|o| token_key(o.token)),
            at,
            was: [LAST_AT, IDLE_UNTIL, keys::TTL].map(|name| (name, opt_n(old, name))),
        }
    }
}

impl Store {
    /// The routing request of a call or text from `caller` to `proxy`: a
    /// live leg is returned moved (its session extended from `now`); with
    /// `once`, the webhook token is recorded in the same request, and a
    /// replayed one routes nothing. A request not `verified` yet (a cold
    /// function fetches its secret meanwhile, so the fetch costs no round
    /// trip) gets back what it changed as an [`Undo`], for [`Store::undo`]
    /// if it fails its check; a verified one tells the other leg of a
    /// sliding session its new end.
    pub async fn route_leg(
        &self,
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
        once: Option<&Once<'_>>,
        (medium, now): (Medium, i64),
        verified: bool,
    ) -> Result<(LegRead, Option<Undo>), StoreError> {
        let (read, moved) = self.route(proxy, caller, once, medium, now).await?;
        match (&read, moved) {
            (LegRead::Leg(Some(leg)), Some(old)) if verified => {
                self.move_other_leg(leg, last_at(&old), now);
                Ok((read, None))
            }
            (_, Some(old)) if !verified => {
                let undo = Undo::of(proxy, caller, once, &old, now);
                Ok((read, Some(undo)))
            }
            _ => Ok((read, None)),
        }
    }

    /// Puts back what an unverified routing request changed, unless
    /// another request routed by the leg since.
    pub async fn undo(&self, undo: Undo) -> Result<(), StoreError> {
        let (mut set, mut remove) = (Vec::new(), Vec::new());
        let mut update = self
            .update(keys::number(&undo.proxy), keys::leg(&undo.caller))
            .condition_expression(format!("{LAST_AT} = :at"))
            .expression_attribute_values(":at", n(undo.at));
        for (i, (name, was)) in undo.was.iter().enumerate() {
            let placeholder = format!("#a{i}");
            update = update.expression_attribute_names(&placeholder, *name);
            match was {
                Some(v) => {
                    set.push(format!("{placeholder} = :v{i}"));
                    update = update.expression_attribute_values(format!(":v{i}"), n(*v));
                }
                None => remove.push(placeholder),
            }
        }
        let mut expression = String::new();
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        if let Some(id) = &undo.token {
            expression.push_str(" DELETE #tokens :id");
            update = update
                .expression_attribute_names("#tokens", TOKENS)
                .expression_attribute_values(":id", AttributeValue::Ss(vec![id.clone()]));
        }
        // A leg routed since (or gone) keeps what it has.
        let res = update.update_expression(expression.trim()).send().await;
        written("UpdateItem", res).map(drop)
    }

    /// The routing request, and the leg as it was when it moved it.
    async fn route(
        &self,
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
        once: Option<&Once<'_>>,
        medium: Medium,
        now: i64,
    ) -> Result<(LegRead, Option<Item>), StoreError> {
        let (item, old) = match self.touch(proxy, caller, once, medium, None, now).await? {
            Touch::Moved(item, old) => (item, old),
            Touch::Missing => return Ok((LegRead::Leg(None), None)),
            Touch::Replayed => return Ok((LegRead::Replayed, None)),
            Touch::Over(item) => return Ok((LegRead::Leg(Some(leg_from(&item)?)), None)),
            Touch::Idle(item) => return self.revive(leg_from(&item)?, once, medium, now).await,
        };
        if let Some(once) = once {
            prune_tokens(self, proxy, caller, &item, &once.valid_iats);
        }
        Ok((LegRead::Leg(Some(leg_from(&item)?)), Some(old)))
    }

    /// This leg is idle, but the other participant's calls may have kept
    /// the session going: read their leg (a second request, only here) and,
    /// if it is live, move this one too.
    async fn revive(
        &self,
        leg: Leg,
        once: Option<&Once<'_>>,
        medium: Medium,
        now: i64,
    ) -> Result<(LegRead, Option<Item>), StoreError> {
        let other = self
            .get_item(keys::number(&leg.caller_id), keys::leg(&leg.callee))
            .await?
            .as_ref()
            .map(leg_from)
            .transpose()?;
        let live = other.is_some_and(|o| o.session_id == leg.session_id && o.is_active(now));
        if !live {
            return Ok((LegRead::Leg(Some(leg)), None));
        }
        let touched = self
            .touch(
                &leg.proxy,
                &leg.caller,
                once,
                medium,
                Some(&leg.session_id),
                now,
            )
            .await?;
        Ok(match touched {
            // The other leg is live already: nothing to tell it.
            Touch::Moved(item, _) => (LegRead::Leg(Some(leg_from(&item)?)), None),
            Touch::Replayed => (LegRead::Replayed, None),
            Touch::Missing => (LegRead::Leg(None), None),
            Touch::Over(item) | Touch::Idle(item) => (LegRead::Leg(Some(leg_from(&item)?)), None),
        })
    }

    /// After a routed call, the other participant's leg learns the new
    /// sliding end too, off the call's path: when this leg had not routed
    /// for half a TTL, so a busy leg adds no request per call (best
    /// effort: where the other leg lags, [`Store::revive`] reads this one
    /// when that one looks idle).
    fn move_other_leg(&self, leg: &Leg, before: Option<i64>, now: i64) {
        let Some(ttl) = leg.idle_until.map(|idle| idle - now) else {
            return;
        };
        if before.is_some_and(|at| now - at < ttl / 2) {
            return;
        }
        let update = self
            .update(keys::number(&leg.caller_id), keys::leg(&leg.callee))
            .update_expression(format!(
                "SET {IDLE_UNTIL} = {TTL_S} + :now, #ttl = {KEEP_S} + :now"
            ))
            .condition_expression(
                "session_id = :sid AND expires_at > :now AND attribute_exists(ttl_s)",
            )
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":sid", s(&leg.session_id));
        tokio::spawn(async move {
            if let Err(e) = update.send().await {
                tracing::debug!(error = ?e, "could not move the other leg's sliding end");
            }
        });
    }

    /// The conditional UpdateItem. `revive`: the session whose other leg
    /// is live (the idle check gives way to "still this session's leg").
    async fn touch(
        &self,
        proxy: &PhoneNumber,
        caller: &PhoneNumber,
        once: Option<&Once<'_>>,
        medium: Medium,
        revive: Option<&str>,
        now: i64,
    ) -> Result<Touch, StoreError> {
        let mut set = format!(
            "SET {LAST_AT} = :now, {IDLE_UNTIL} = if_not_exists({TTL_S}, :fixed) + :now, #ttl = if_not_exists({KEEP_S}, :keep) + :now"
        );
        // A session that does not carry this medium is not moved by it.
        let mut condition =
            String::from("attribute_exists(pk) AND expires_at > :now AND (attribute_not_exists(#mode) OR #mode <> :barred)");
        let barred = Mode::barring(medium);
        let mut update = self
            .update(keys::number(proxy), keys::leg(caller))
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#mode", "mode")
            .expression_attribute_values(":barred", s(barred.as_str()))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":fixed", n(NO_END))
            .expression_attribute_values(
                ":keep",
                n(crate::domain::service::MAX_TTL_SECONDS as i64 + KEEP_MARGIN_SECONDS),
            );
        match revive {
            Some(session) => {
                condition.push_str(" AND session_id = :sid");
                update = update.expression_attribute_values(":sid", s(session));
            }
            None => condition.push_str(&format!(
                " AND (attribute_not_exists({IDLE_UNTIL}) OR {IDLE_UNTIL} > :now)"
            )),
        }
        let token = once.map(|o| token_key(o.token));
        if let Some(id) = &token {
            set.push_str(" ADD #tokens :id");
            condition.push_str(" AND NOT contains(#tokens, :idv)");
            update = update
                .expression_attribute_names("#tokens", TOKENS)
                .expression_attribute_values(":id", AttributeValue::Ss(vec![id.clone()]))
                .expression_attribute_values(":idv", s(id));
        }
        let res = update
            .update_expression(set)
            .condition_expression(condition)
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match res {
            // The item as the update left it, from the one before (ALL_OLD
            // also says when it last routed).
            Ok(out) => {
                return Ok(match out.attributes {
                    Some(old) => {
                        let mut item = old.clone();
                        item.insert(LAST_AT.into(), n(now));
                        let ttl = opt_n(&item, TTL_S).unwrap_or(NO_END);
                        item.insert(IDLE_UNTIL.into(), n(ttl.saturating_add(now)));
                        Touch::Moved(item, old)
                    }
                    None => Touch::Missing,
                })
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => c.item().cloned(),
                _ => return Err(StoreError::sdk("UpdateItem", e)),
            },
        };
        let Some(old) = old else {
            return Ok(Touch::Missing);
        };
        let seen = |id: &String| match old.get(TOKENS) {
            Some(AttributeValue::Ss(ids)) => ids.contains(id),
            _ => false,
        };
        Ok(if token.as_ref().is_some_and(seen) {
            Touch::Replayed
        } else if opt_n(&old, "expires_at").is_none_or(|end| end <= now)
            || opt_s(&old, "mode").as_deref() == Some(barred.as_str())
        {
            Touch::Over(old)
        } else {
            Touch::Idle(old)
        })
    }
}
