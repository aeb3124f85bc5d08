//! callmask: phone number masking on AWS Lambda.
//!
//! - [`phone`] — validated E.164 numbers
//! - [`domain`] — sessions, legs, allocation and routing decisions (no I/O)
//! - [`store`] — DynamoDB
//! - [`sessions`] — creating sessions (allocation with retries)
//! - [`vonage`] — NCCO, signed webhooks, payloads
//! - [`api`] — one module per URL (`/vonage/answer` is `api::vonage::answer`)
//! - [`lambda`] — what each function's `main` calls

pub mod api;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod lambda;
pub mod phone;
pub mod sessions;
pub mod store;
pub mod telemetry;
pub mod vonage;
