//! CloudWatch embedded metrics (EMF): one JSON line on stdout per event,
//! which Lambda's log capture turns into a metric in namespace `callmask`
//! with no API call and no client (the dashboard and alarms in
//! `template.yaml` read them). Dimensions are low-cardinality by design: a
//! provider or a country, never a number.

use std::io::Write;

use crate::domain::Provider;

/// Why a call was not routed is in the logs; the metric only counts.
pub fn call_routed(provider: Provider) {
    emit("CallsRouted", 1, Some(("Provider", provider.as_str())));
}

pub fn call_refused(provider: Provider) {
    emit("CallsRefused", 1, Some(("Provider", provider.as_str())));
}

pub fn session_created() {
    emit("SessionsCreated", 1, None);
}

/// Numbers of `country`'s pool still free for the participants of the
/// session just created (the fewer of the two): how close the next
/// session between them is to `pool_exhausted`.
pub fn pool_numbers_free(country: &str, free: usize) {
    emit("PoolNumbersFree", free as u64, Some(("Country", country)));
}

pub fn voicemail_delivered() {
    emit("VoicemailsDelivered", 1, None);
}

/// A voicemail, or a line text's email, past its retry budget: the
/// `VoicemailFailedAlarm` watches it.
pub fn voicemail_failed() {
    emit("VoicemailFailed", 1, None);
}

/// The EMF line for one metric.
pub fn line(name: &str, value: u64, dimension: Option<(&str, &str)>, timestamp_ms: u128) -> String {
    let (dims, dim_value) = match dimension {
        Some((key, value)) => (
            format!("[[{}]]", serde_json::Value::from(key)),
            format!(
                ",{}:{}",
                serde_json::Value::from(key),
                serde_json::Value::from(value)
            ),
        ),
        None => ("[[]]".to_string(), String::new()),
    };
    format!(
        r#"{{"_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":"callmask","Dimensions":{dims},"Metrics":[{{"Name":"{name}","Unit":"Count"}}]}}]}},"{name}":{value}{dim_value}}}"#
    )
}

/// In Lambda (where the log capture reads them), or with
/// `EMIT_METRICS=true`; the local stack's console stays readable.
fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
            || std::env::var("EMIT_METRICS").is_ok_and(|v| v == "true" || v == "1")
    })
}

fn emit(name: &str, value: u64, dimension: Option<(&str, &str)>) {
    if !enabled() {
        return;
    }
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    // A metric lost to a closed stdout must not fail the call.
    let _ = writeln!(out, "{}", line(name, value, dimension, ts));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_emf_documents() {
        let v: serde_json::Value =
            serde_json::from_str(&line("CallsRouted", 1, Some(("Provider", "vonage")), 5)).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 5);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "callmask");
        assert_eq!(m["Dimensions"], serde_json::json!([["Provider"]]));
        assert_eq!(m["Metrics"][0]["Name"], "CallsRouted");
        assert_eq!(v["CallsRouted"], 1);
        assert_eq!(v["Provider"], "vonage");
        let v: serde_json::Value =
            serde_json::from_str(&line("SessionsCreated", 1, None, 5)).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([[]])
        );
        assert!(v.get("Provider").is_none());
    }
}
