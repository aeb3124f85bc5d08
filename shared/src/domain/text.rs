//! What to do with an inbound text, decided once from the routing read and
//! rendered by each provider's webhook: a TwiML `<Message>` on Twilio, an
//! SMS API request on Vonage. The texts' `CallPlan`.

use crate::domain::line::Line;
use crate::domain::message::direction;
use crate::domain::{Leg, TextEmail};
use crate::phone::PhoneNumber;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextPlan {
    /// A participant texting their proxy number: the text goes to the other
    /// participant, from the number that stands for the sender, once per
    /// provider message id.
    Relay {
        session_id: String,
        to: PhoneNumber,
        from: PhoneNumber,
        /// `"0>1"`, as the session's message list shows it.
        direction: String,
    },
    /// A masked line: see [`LineText`].
    ToLine(LineText),
    /// A line whose plan is not active: nothing is forwarded.
    LineInactive,
    /// Outside any session or line: the configured reply to the sender, if
    /// any.
    OutOfSession { reply: Option<String> },
}

/// A text to a masked line: forwarded to the owner from the line, prefixed
/// with the sender's number, counted against the plan's quota, and emailed
/// when the line asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineText {
    pub owner: PhoneNumber,
    pub line: PhoneNumber,
    pub forwarded: String,
    pub calls_per_period: Option<u32>,
    pub period: String,
    pub email: Option<TextEmail>,
}

/// The inbound text, as the webhook read it.
pub struct InboundText<'a> {
    pub message_id: &'a str,
    pub to: &'a PhoneNumber,
    pub from: &'a PhoneNumber,
    pub body: &'a str,
    pub now: i64,
}

/// Decides from what the routing read found: an active leg of (to, from),
/// else the line of `to`, else out of session (`out_of_session_text`, empty
/// for no reply).
pub fn plan_text(
    text: &InboundText<'_>,
    leg: Option<&Leg>,
    line: Option<&Line>,
    out_of_session_text: &str,
) -> TextPlan {
    if let Some(leg) = leg.filter(|l| l.is_active(text.now) && l.mode.texts()) {
        return TextPlan::Relay {
            session_id: leg.session_id.clone(),
            to: leg.callee.clone(),
            from: leg.caller_id.clone(),
            direction: direction(leg.caller_index),
        };
    }
    if let Some(line) = line {
        if !line.plan.active {
            return TextPlan::LineInactive;
        }
        return TextPlan::ToLine(LineText {
            owner: line.owner.phone.clone(),
            line: text.to.clone(),
            // The owner sees who wrote (the customer's number is theirs to
            // see, as in voicemail emails); the customer never sees the
            // owner's.
            forwarded: format!("From {}: {}", text.from.e164(), text.body),
            calls_per_period: line.plan.calls_per_period,
            period: line.plan.period.key(text.now),
            email: line.sms.email.then(|| TextEmail {
                message_sid: text.message_id.to_string(),
                line: text.to.clone(),
                from: text.from.clone(),
                owner_email: line.owner.email.clone(),
                body: text.body.to_string(),
                at: text.now,
                attempts: 0,
            }),
        });
    }
    let reply = out_of_session_text.trim();
    TextPlan::OutOfSession {
        reply: (!reply.is_empty()).then(|| reply.to_string()),
    }
}
