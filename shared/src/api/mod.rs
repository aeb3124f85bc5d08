//! The HTTP API, one module per URL: `/vonage/answer` is
//! [`vonage::answer`], `/sessions` is [`sessions`]. Each function binary
//! builds its module's state and serves its `handle`; the local router
//! (`callmask-local`) serves them all at the template's paths.

pub mod audio;
pub mod lines;
pub mod numbers;
pub mod sessions;
pub mod twilio;
pub mod vonage;
