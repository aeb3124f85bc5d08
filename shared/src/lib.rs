//! callmask: phone number masking on AWS Lambda.
//!
//! - [`phone`] — validated E.164 numbers
//! - [`domain`] — sessions, legs, allocation and routing decisions (no I/O)
//! - [`store`] — DynamoDB
//! - [`sessions`] — creating sessions (allocation with retries)
//! - [`vonage`] — NCCO, signed webhooks, payloads
//! - [`twilio`] — TwiML, `X-Twilio-Signature`, form webhooks, REST
//! - [`voicemail`] — copy recordings to S3 and email the owner, with retries
//! - [`audio`] — call audio over WebSocket: modes, sample rates, WAV headers
//! - [`api`] — one module per URL (`/vonage/answer` is `api::vonage::answer`)
//!   with the state its function builds
//! - [`core`], [`config`], [`secrets`], [`aws`] — what states are made of
//! - [`lambda`] — the `serve` helpers each function's `main` calls

pub mod api;
pub mod audio;
pub mod aws;
pub mod clock;
pub mod config;
pub mod core;
pub mod domain;
pub mod layers;
pub mod metrics;
pub mod phone;
pub mod providers;
pub mod rest;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod twilio;
pub mod usecases;
pub mod vonage;
