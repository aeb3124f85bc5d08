//! Twilio adapter: `X-Twilio-Signature`, TwiML, form webhooks and the REST
//! calls the voicemail pipeline makes. Twilio writes numbers as `+E.164`.

pub mod client;
pub mod rest;
pub mod signature;
pub mod twiml;
pub mod webhook;
