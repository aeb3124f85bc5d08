//! Twilio adapter: `X-Twilio-Signature`, TwiML, form webhooks and the REST
//! client (numbers, texts, and the recordings the voicemail pipeline
//! copies). Twilio writes numbers as `+E.164`.

pub mod recordings;
pub mod rest;
pub mod signature;
pub mod twiml;
pub mod webhook;
