//! The fault switches of the local emulator (`/_emulator/faults`) and of the fake providers
//! (`/_fake/faults`, `scripts/fake_providers.py`): rules armed by a test,
//! and how many requests each failed. `scripts/fault_switch.py` documents
//! a rule's fields. Tests of one binary share the servers, so every rule
//! names what only its test touches (`contains`: a table, bucket, secret
//! id or phone number), and a test never disarms the others' rules.

use callmask::config::SecretSetting;
use callmask_local::StackConfig;
use serde_json::{json, Value};

use super::endpoint;

/// Where a rule is armed: the switch's URL.
#[derive(Clone)]
pub struct Switch(String);

impl Switch {
    /// The emulator of DynamoDB, S3 and SES.
    pub fn emulator() -> Self {
        Self(format!("{}/_emulator/faults", endpoint()))
    }

    /// The fake Vonage and Twilio REST APIs.
    pub fn providers() -> Self {
        Self(format!("{}/_fake/faults", fake_providers_url()))
    }

    /// Fails the next `count` requests of `service` `operation` holding
    /// `contains` with a fault of `kind`; `more` adds fields (`delay_ms`,
    /// `status`).
    pub async fn arm(
        &self,
        service: &str,
        operation: &str,
        contains: &str,
        count: u64,
        kind: &str,
        more: Value,
    ) -> Armed {
        assert!(!contains.is_empty(), "a rule names what its test touches");
        let mut rule = json!({"service": service, "operation": operation, "contains": contains,
            "count": count, "kind": kind});
        if let (Some(rule), Value::Object(more)) = (rule.as_object_mut(), more) {
            rule.extend(more);
        }
        let r = reqwest::Client::new()
            .post(&self.0)
            .json(&rule)
            .send()
            .await
            .expect("the fault switch");
        assert_eq!(
            r.status().as_u16(),
            201,
            "{}",
            r.text().await.unwrap_or_default()
        );
        Armed {
            switch: self.clone(),
            rule,
        }
    }

    /// Throttles the next `count` requests of `service` `operation` holding
    /// `contains` (the throttling error each service answers).
    pub async fn throttle(
        &self,
        service: &str,
        operation: &str,
        contains: &str,
        count: u64,
    ) -> Armed {
        let more = json!({});
        self.arm(service, operation, contains, count, "throttle", more)
            .await
    }

    /// Holds the next request of `service` `operation` holding `contains`
    /// unanswered for `delay_ms` (a `timeout` fault).
    pub async fn hold(
        &self,
        service: &str,
        operation: &str,
        contains: &str,
        delay_ms: u64,
    ) -> Armed {
        let more = json!({ "delay_ms": delay_ms });
        self.arm(service, operation, contains, 1, "timeout", more)
            .await
    }
}

/// A rule armed on a switch.
pub struct Armed {
    switch: Switch,
    rule: Value,
}

impl Armed {
    /// How many requests the rule has failed so far.
    pub async fn fired(&self) -> u64 {
        let rules: Value = reqwest::get(&self.switch.0)
            .await
            .expect("the fault switch")
            .json()
            .await
            .expect("JSON");
        let same = |r: &&Value| {
            ["service", "operation", "contains", "kind", "count"]
                .iter()
                .all(|k| r[k] == self.rule[k])
        };
        let list = rules.as_array().cloned().unwrap_or_default();
        list.iter()
            .filter(same)
            .map(|r| r["fired"].as_u64().unwrap_or(0))
            .sum()
    }

    /// Waits (polling) until the rule has failed `n` requests: a request
    /// held by a `timeout` fault has reached the server.
    pub async fn wait_fired(&self, n: u64) {
        for _ in 0..400 {
            if self.fired().await >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the fault {} never fired {n} times", self.rule);
    }
}

/// The fake providers `scripts/stack.py exec` started (`FAKE_PROVIDERS=1`).
pub fn fake_providers_url() -> String {
    std::env::var("FAKE_PROVIDERS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("FAKE_PROVIDERS_URL: run under FAKE_PROVIDERS=1 scripts/stack.py exec (make unit)")
}

/// The fake's credentials (`scripts/fake_common.py`, `DEFAULTS`); the
/// wiremock fakes of `messaging.rs` expect the same.
pub const FAKE_VONAGE_KEY: &str = "fake-key";
pub const FAKE_VONAGE_SECRET: &str = "fake-secret";
pub const FAKE_VONAGE_APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-fa4e00000001";
pub const FAKE_TWILIO_ACCOUNT: &str = "ACfa4e0000000000000000000000000000";
pub const FAKE_TWILIO_TOKEN: &str = "fake-token";
/// The address the stack gives the providers for its webhooks.
pub const FAKE_PUBLIC_BASE_URL: &str = "http://127.0.0.1:3000";

/// Settings for fakes of the providers' REST APIs at `vonage` and
/// `twilio`: their URLs and the fakes' credentials.
pub fn on_fake_providers(c: &mut StackConfig, vonage: String, twilio: String) {
    c.core.public_base_url = Some(FAKE_PUBLIC_BASE_URL.into());
    c.messaging.vonage_api_key = Some(FAKE_VONAGE_KEY.into());
    c.messaging.vonage_api_secret = SecretSetting::Value(FAKE_VONAGE_SECRET.into());
    c.messaging.vonage_rest_base_url = vonage.clone();
    c.vonage.api_base_url = vonage;
    c.vonage.application_id = Some(FAKE_VONAGE_APP.into());
    c.twilio.account_sid = Some(FAKE_TWILIO_ACCOUNT.into());
    c.twilio.auth_token = SecretSetting::Value(FAKE_TWILIO_TOKEN.into());
    c.twilio.api_base_url = twilio;
}

/// The texts the fake providers sent to `to` (digits, or +E.164 for
/// Twilio): `{"provider", "from", "to", "text"}` each.
pub async fn texts_sent_to(to: &str) -> Vec<Value> {
    let sent: Value = reqwest::get(format!("{}/_fake/sms", fake_providers_url()))
        .await
        .expect("the fake providers")
        .json()
        .await
        .expect("JSON");
    let list = sent.as_array().cloned().unwrap_or_default();
    list.into_iter().filter(|m| m["to"] == to).collect()
}

/// What the fake providers' accounts own (`GET /_fake/numbers`).
pub async fn owned_at_the_fake() -> Value {
    reqwest::get(format!("{}/_fake/numbers", fake_providers_url()))
        .await
        .expect("the fake providers")
        .json()
        .await
        .expect("JSON")
}
