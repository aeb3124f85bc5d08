//! The routing reads: what an inbound call or text to a proxy number finds,
//! in one round trip. `find_leg` (the leg of (proxy, caller), read only),
//! [`Store::route_leg`] (`legs`: the leg read and moved, a signed
//! webhook's token recorded), and `route_inbound` (Twilio: the leg read
//! and moved beside the number's META read, for its line).

use crate::domain::line::Line;
use crate::domain::{Leg, Medium, PoolNumber};
use crate::phone::PhoneNumber;
use crate::store::keys;
use crate::store::legs::{leg_from, LegRead, Undo};
use crate::store::lines::line_of;
use crate::store::numbers::pool_number;
use crate::store::{Store, StoreError};

/// What one read returns for an inbound call to `to` from `from`.
#[derive(Debug, Default)]
pub struct Inbound {
    pub leg: Option<Leg>,
    pub number: Option<PoolNumber>,
    pub line: Option<Line>,
    /// What the routing request of an unverified request changed.
    pub undo: Option<Undo>,
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

    /// The routing request of an inbound call or text: the leg for
    /// (to, from) read and moved ([`Store::route_leg`]) beside a read of
    /// the number's META item; two requests, one round trip. Unverified:
    /// what the leg's request changed is in `Inbound::undo`.
    pub async fn route_inbound(
        &self,
        to: &PhoneNumber,
        from: Option<&PhoneNumber>,
        medium: Medium,
        now: i64,
        verified: bool,
    ) -> Result<Inbound, StoreError> {
        let leg = async {
            match from {
                None => Ok((LegRead::Leg(None), None)),
                Some(from) => {
                    self.route_leg(to, from, None, (medium, now), verified)
                        .await
                }
            }
        };
        let (leg, meta) = tokio::join!(leg, self.get_item(keys::number(to), keys::META));
        let ((leg, undo), meta) = (leg?, meta?);
        Ok(Inbound {
            leg: match leg {
                LegRead::Leg(leg) => leg,
                LegRead::Replayed => None,
            },
            number: meta.as_ref().map(pool_number).transpose()?,
            line: match &meta {
                Some(item) => line_of(item)?,
                None => None,
            },
            undo,
        })
    }
}
