//! Structured logs: JSON in Lambda (CloudWatch) and with `LOG_FORMAT=json`
//! (the audio socket's container), readable text elsewhere, coloured only
//! on a terminal (`NO_COLOR` turns colour off there too).
//! Log fields never hold a full phone number or a secret: use
//! `PhoneNumber::masked` and `phone::mask_raw`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        || std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json");
    // The subscriber writes to stdout: colour only when that is a terminal.
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour);
    // try_init: a second call (tests, local router) is harmless.
    let _ = if in_lambda {
        builder.json().flatten_event(true).without_time().try_init()
    } else {
        builder.try_init()
    };
}
