//! What to do with an inbound call. Providers render these decisions as
//! NCCO or TwiML; no provider detail lives here.

use crate::domain::Leg;
use crate::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallPlan {
    /// Connect the caller to `to`, showing `caller_id`.
    Connect {
        to: PhoneNumber,
        caller_id: PhoneNumber,
        session_id: String,
    },
    /// Forward to a masked line's owner; voicemail if they do not answer.
    Forward {
        line: PhoneNumber,
        to: PhoneNumber,
        caller_id: PhoneNumber,
        timeout_seconds: u32,
    },
    /// Tell the caller politely why the call cannot go through, then hang up.
    Refuse(RefuseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefuseReason {
    /// No active session routes this caller at this number.
    NoRoute,
    /// The request did not name a caller or number we can route.
    BadRequest,
    /// Storage could not be reached: apologise, never leave the caller hanging.
    TemporarilyUnavailable,
    /// The line's subscription is not active.
    PlanInactive,
    /// The line has used its calls for this period.
    QuotaExhausted,
}

impl RefuseReason {
    pub fn message(&self) -> &'static str {
        match self {
            RefuseReason::NoRoute => {
                "Sorry, this number cannot connect your call right now. Please check the number or contact the service you are using. Goodbye."
            }
            RefuseReason::BadRequest => {
                "Sorry, we could not identify your call, so it cannot be connected. Goodbye."
            }
            RefuseReason::PlanInactive => {
                "Sorry, this number is not taking calls at the moment. Goodbye."
            }
            RefuseReason::QuotaExhausted => {
                "Sorry, this number cannot take more calls right now. Please try again later. Goodbye."
            }
            RefuseReason::TemporarilyUnavailable => {
                "Sorry, we cannot connect your call at the moment because of a technical problem. Please try again in a few minutes. Goodbye."
            }
        }
    }
}

/// Decides from the one leg that storage returned for (proxy, caller): a
/// session that has ended, or carries only texts, does not route calls.
pub fn plan_for(leg: Option<Leg>, now: i64) -> CallPlan {
    match leg {
        Some(leg) if leg.is_active(now) && leg.mode.calls() => CallPlan::Connect {
            to: leg.callee,
            caller_id: leg.caller_id,
            session_id: leg.session_id,
        },
        _ => CallPlan::Refuse(RefuseReason::NoRoute),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Provider;

    fn leg(expires_at: i64) -> Leg {
        let n = |s: &str| PhoneNumber::parse(s).unwrap();
        Leg {
            caller_index: Some(0),
            proxy: n("+447700900001"),
            caller: n("+447700900100"),
            callee: n("+447700900200"),
            caller_id: n("+447700900002"),
            session_id: "s1".into(),
            provider: Provider::Vonage,
            expires_at,
            idle_until: None,
            mode: crate::domain::Mode::default(),
        }
    }

    #[test]
    fn active_leg_connects_to_the_other_participant() {
        match plan_for(Some(leg(100)), 99) {
            CallPlan::Connect { to, caller_id, .. } => {
                assert_eq!(to.e164(), "+447700900200");
                assert_eq!(caller_id.e164(), "+447700900002");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn expired_or_missing_leg_is_refused() {
        assert_eq!(
            plan_for(Some(leg(100)), 100),
            CallPlan::Refuse(RefuseReason::NoRoute)
        );
        assert_eq!(plan_for(None, 0), CallPlan::Refuse(RefuseReason::NoRoute));
    }

    #[test]
    fn an_idle_or_message_only_leg_is_refused() {
        let mut idle = leg(100);
        idle.idle_until = Some(50);
        assert_eq!(
            plan_for(Some(idle), 50),
            CallPlan::Refuse(RefuseReason::NoRoute)
        );
        let mut texts = leg(100);
        texts.mode = crate::domain::Mode::MessageOnly;
        assert_eq!(
            plan_for(Some(texts), 0),
            CallPlan::Refuse(RefuseReason::NoRoute)
        );
    }
}
