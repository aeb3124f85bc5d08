//! Structured logs: JSON in Lambda (CloudWatch) and with `LOG_FORMAT=json`
//! (the audio socket's container), readable text elsewhere, coloured only
//! on a terminal (`NO_COLOR` turns colour off there too).
//! Log fields never hold a full phone number or a secret: use
//! `PhoneNumber::masked` and `phone::mask_raw`.

use std::io::IsTerminal;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        || std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json");
    // The subscriber writes to stdout: colour only when that is a terminal.
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    // The builder's own cap is the most `filter` lets through: below it a
    // `debug!` would never reach `filter`; above it (TRACE) every disabled
    // callsite of every crate (the AWS SDK's are many) would be asked again
    // on each call instead of being skipped once.
    let builder = tracing_subscriber::fmt()
        .with_max_level(max_level(&filter))
        .with_target(false)
        .with_ansi(colour);
    // try_init: a second call (tests, local router) is harmless.
    let _ = if in_lambda {
        builder
            .json()
            .flatten_event(true)
            .without_time()
            .finish()
            .with(filter)
            .try_init()
    } else {
        builder.finish().with(filter).try_init()
    };
}

/// The most verbose level `filter` enables anywhere.
pub fn max_level(filter: &Targets) -> LevelFilter {
    filter
        .iter()
        .map(|(_, level)| level)
        .chain(filter.default_level())
        .max()
        .unwrap_or(LevelFilter::OFF)
}

/// `RUST_LOG` as `Targets` (`info`, `warn,callmask=debug`): the directives
/// operators use, without `EnvFilter`'s span and field matching, whose regex
/// engine would add to every binary's size and cold start. Unset or
/// unreadable means `info`.
pub fn filter(rust_log: Option<&str>) -> Targets {
    rust_log
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse::<Targets>().ok())
        .filter(|t| t.iter().next().is_some() || t.default_level().is_some())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

/// An error and its causes, as one log field: each `source()` joined with
/// ": ", with any run of 6 or more digits (a phone number a provider or
/// DynamoDB quoted back) masked to its last 3. The one place a chain is
/// redacted: log `error = %telemetry::chain(&e)`.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let line = cause.to_string();
        // A wrapper that shows its cause already (`#[error("S3: {0}")]`).
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        next = cause.source();
    }
    redact_digits(&text)
}

fn redact_digits(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 6 {
            out.push_str(&crate::phone::mask_raw(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("the provider said +447700900123 is barred")]
    struct Inner;

    #[test]
    fn a_chain_names_each_cause_and_masks_numbers() {
        let text = super::chain(&Outer(Inner));
        assert_eq!(text, "outer: the provider said +…123 is barred");
    }

    #[test]
    fn rust_log_sets_levels_per_target() {
        use tracing::Level;
        let f = super::filter(Some("warn,callmask=debug"));
        assert!(f.would_enable("callmask::api", &Level::DEBUG));
        assert!(!f.would_enable("aws_sdk_dynamodb", &Level::INFO));
        assert!(f.would_enable("aws_sdk_dynamodb", &Level::WARN));
        assert_eq!(
            super::max_level(&f),
            tracing::level_filters::LevelFilter::DEBUG
        );
        for unset in [None, Some(""), Some("not a level=at all=")] {
            let f = super::filter(unset);
            assert!(f.would_enable("callmask", &Level::INFO), "{unset:?}");
            assert!(!f.would_enable("callmask", &Level::DEBUG), "{unset:?}");
            assert_eq!(
                super::max_level(&f),
                tracing::level_filters::LevelFilter::INFO
            );
        }
    }

    #[test]
    fn short_digit_runs_stay() {
        assert_eq!(super::redact_digits("HTTP 503 in 2026"), "HTTP 503 in 2026");
    }
}
