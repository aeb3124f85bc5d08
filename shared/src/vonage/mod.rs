//! Vonage adapter: NCCO rendering, signed-webhook verification and webhook
//! payload parsing. Vonage writes numbers as E.164 digits without `+`.

pub mod gsm;
pub mod ncco;
pub mod rest;
pub mod signature;
pub mod sms_signature;
pub mod webhook;
