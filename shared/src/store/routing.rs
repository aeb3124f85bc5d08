//! The routing reads: what an inbound call or text to a proxy number finds,
//! in one round trip. `find_leg` (the leg of (proxy, caller), read only),
//! [`Store::route_leg`] (`legs`: the leg read and moved, a signed
//! webhook's token recorded), and `resolve_inbound` (Twilio: the leg and
//! the number's line, side by side).

use crate::domain::line::Line;
use crate::domain::{Leg, Medium, PoolNumber};
use crate::phone::PhoneNumber;
use crate::store::attr::*;
use crate::store::keys;
use crate::store::legs::{leg_from, LegRead};
use crate::store::lines::line_of;
use crate::store::numbers::pool_number;
use crate::store::{Store, StoreError, StoreErrorKind};

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

    /// The routing request of a verified inbound call or text: the leg
    /// for (to, from) read and moved ([`Store::route_leg`]) beside a read
    /// of the number's META item; two requests, one round trip.
    pub async fn route_inbound(
        &self,
        to: &PhoneNumber,
        from: Option<&PhoneNumber>,
        medium: Medium,
        now: i64,
    ) -> Result<Inbound, StoreError> {
        let leg = async {
            match from {
                Some(from) => self.route_leg(to, from, None, medium, now).await,
                None => Ok(LegRead::Leg(None)),
            }
        };
        let (leg, meta) = tokio::join!(leg, self.get_item(keys::number(to), keys::META));
        let meta = meta?;
        Ok(Inbound {
            leg: match leg? {
                LegRead::Leg(leg) => leg,
                LegRead::Replayed => None,
            },
            number: meta.as_ref().map(pool_number).transpose()?,
            line: match &meta {
                Some(item) => line_of(item)?,
                None => None,
            },
        })
    }

    /// The same read, not moving anything: for a request not verified yet
    /// (a cold function reads beside fetching its token), in one
    /// BatchGetItem. A live leg it finds is moved once the request checks
    /// out ([`Store::extend_leg`]).
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
