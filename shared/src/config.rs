//! Settings, read once at start from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TABLE_NAME` | DynamoDB table for numbers, sessions and calls | `callmask` |
//! | `PUBLIC_BASE_URL` | the API's public URL, used for webhook URLs in answers | from the request's host |
//! | `VONAGE_SIGNATURE_SECRET` | verify Vonage signed webhooks (401 otherwise) | unset: not verified, loud warning |
//! | `VONAGE_API_BASE_URL` | Vonage REST host (tests point it at a fake) | `https://api.nexmo.com` |
//! | `DEFAULT_SESSION_TTL_SECONDS` | session lifetime when the request gives none | `3600` |
//! | `GREETING_TEXT` | spoken before connecting a session call; empty for none | a short greeting |
//! | `CONNECT_TIMEOUT_SECONDS` | ring time before giving up on the callee (1..120) | `30` |
//! | `TWILIO_AUTH_TOKEN` | verify `X-Twilio-Signature` (401 otherwise); download recordings | unset: not verified, loud warning |
//! | `TWILIO_ACCOUNT_SID` | the account recordings are fetched and deleted under | unset |
//! | `TWILIO_API_BASE_URL` | Twilio REST host; recording URLs elsewhere are refused | `https://api.twilio.com` |
//! | `RECORDINGS_BUCKET` | private S3 bucket for voicemail recordings | `callmask-recordings` |
//! | `SENDER_EMAIL` | SES identity voicemail emails come from | `voicemail@example.com` |
//! | `DELETE_PROVIDER_RECORDINGS` | delete Twilio's copy once ours is in S3 | `false` |
//! | `VOICEMAIL_MAX_ATTEMPTS` | copy/email attempts before a voicemail is marked failed | `5` |
//! | `TRANSCRIPTION_WAIT_SECONDS` | how long an email waits for a transcription | `120` |
//! | `RECORDING_LINK_TTL_SECONDS` | expiry of presigned recording links in emails (max 7 days) | `86400` |

use std::env;

use crate::domain::Provider;

pub const DEFAULT_GREETING: &str = "Please hold while we connect your call.";
/// Longest session a request may ask for: 30 days.
pub const MAX_SESSION_TTL_SECONDS: u64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

#[derive(Clone)]
pub struct Config {
    pub table_name: String,
    pub public_base_url: Option<String>,
    pub vonage_signature_secret: Option<String>,
    pub vonage_api_base_url: String,
    pub default_session_ttl_seconds: u64,
    pub greeting_text: String,
    pub connect_timeout_seconds: u32,
    pub default_provider: Provider,
    pub twilio_auth_token: Option<String>,
    pub twilio_account_sid: Option<String>,
    pub twilio_api_base_url: String,
    pub recordings_bucket: String,
    pub sender_email: String,
    pub delete_provider_recordings: bool,
    pub voicemail_max_attempts: u32,
    pub transcription_wait_seconds: u64,
    pub recording_link_ttl_seconds: u64,
}

impl std::fmt::Debug for Config {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("public_base_url", &self.public_base_url)
            .field(
                "vonage_signature_secret",
                &self.vonage_signature_secret.as_ref().map(|_| "<set>"),
            )
            .field("vonage_api_base_url", &self.vonage_api_base_url)
            .field(
                "default_session_ttl_seconds",
                &self.default_session_ttl_seconds,
            )
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .field(
                "twilio_auth_token",
                &self.twilio_auth_token.as_ref().map(|_| "<set>"),
            )
            .field("twilio_api_base_url", &self.twilio_api_base_url)
            .field("recordings_bucket", &self.recordings_bucket)
            .field(
                "delete_provider_recordings",
                &self.delete_provider_recordings,
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            table_name: "callmask".into(),
            public_base_url: None,
            vonage_signature_secret: None,
            vonage_api_base_url: "https://api.nexmo.com".into(),
            default_session_ttl_seconds: 3600,
            greeting_text: DEFAULT_GREETING.into(),
            connect_timeout_seconds: 30,
            default_provider: Provider::Vonage,
            twilio_auth_token: None,
            twilio_account_sid: None,
            twilio_api_base_url: "https://api.twilio.com".into(),
            recordings_bucket: "callmask-recordings".into(),
            sender_email: "voicemail@example.com".into(),
            delete_provider_recordings: false,
            voicemail_max_attempts: 5,
            transcription_wait_seconds: 120,
            recording_link_ttl_seconds: 86_400,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Builds the settings from any lookup, so tests need not touch the
    /// process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let non_empty = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let ttl = match non_empty("DEFAULT_SESSION_TTL_SECONDS") {
            None => d.default_session_ttl_seconds,
            Some(v) => parse_range(
                "DEFAULT_SESSION_TTL_SECONDS",
                &v,
                1,
                MAX_SESSION_TTL_SECONDS,
            )?,
        };
        let timeout = match non_empty("CONNECT_TIMEOUT_SECONDS") {
            None => d.connect_timeout_seconds,
            Some(v) => parse_range("CONNECT_TIMEOUT_SECONDS", &v, 1, 120)? as u32,
        };
        let public_base_url = match non_empty("PUBLIC_BASE_URL") {
            None => None,
            Some(v) => Some(check_url("PUBLIC_BASE_URL", &v)?),
        };
        let vonage_api_base_url = match non_empty("VONAGE_API_BASE_URL") {
            None => d.vonage_api_base_url,
            Some(v) => check_url("VONAGE_API_BASE_URL", &v)?,
        };
        let twilio_api_base_url = match non_empty("TWILIO_API_BASE_URL") {
            None => d.twilio_api_base_url,
            Some(v) => check_url("TWILIO_API_BASE_URL", &v)?,
        };
        let delete_provider_recordings = match non_empty("DELETE_PROVIDER_RECORDINGS").as_deref() {
            None | Some("false") | Some("0") | Some("no") => false,
            Some("true") | Some("1") | Some("yes") => true,
            Some(_) => {
                return Err(ConfigError {
                    name: "DELETE_PROVIDER_RECORDINGS",
                    reason: "expected true or false".into(),
                })
            }
        };
        let voicemail_max_attempts = match non_empty("VOICEMAIL_MAX_ATTEMPTS") {
            None => d.voicemail_max_attempts,
            Some(v) => parse_range("VOICEMAIL_MAX_ATTEMPTS", &v, 1, 50)? as u32,
        };
        let transcription_wait_seconds = match non_empty("TRANSCRIPTION_WAIT_SECONDS") {
            None => d.transcription_wait_seconds,
            Some(v) => parse_range("TRANSCRIPTION_WAIT_SECONDS", &v, 0, 3600)?,
        };
        let recording_link_ttl_seconds = match non_empty("RECORDING_LINK_TTL_SECONDS") {
            None => d.recording_link_ttl_seconds,
            Some(v) => parse_range("RECORDING_LINK_TTL_SECONDS", &v, 60, 604_800)?,
        };
        let sender_email = non_empty("SENDER_EMAIL").unwrap_or(d.sender_email);
        if !crate::email::is_plausible(&sender_email) {
            return Err(ConfigError {
                name: "SENDER_EMAIL",
                reason: "expected an email address".into(),
            });
        }
        Ok(Self {
            twilio_auth_token: non_empty("TWILIO_AUTH_TOKEN"),
            twilio_account_sid: non_empty("TWILIO_ACCOUNT_SID"),
            twilio_api_base_url,
            recordings_bucket: non_empty("RECORDINGS_BUCKET").unwrap_or(d.recordings_bucket),
            sender_email,
            delete_provider_recordings,
            voicemail_max_attempts,
            transcription_wait_seconds,
            recording_link_ttl_seconds,
            table_name: non_empty("TABLE_NAME").unwrap_or(d.table_name),
            public_base_url,
            vonage_signature_secret: non_empty("VONAGE_SIGNATURE_SECRET"),
            vonage_api_base_url,
            default_session_ttl_seconds: ttl,
            // An explicitly empty greeting means "no greeting".
            greeting_text: get("GREETING_TEXT").unwrap_or(d.greeting_text),
            connect_timeout_seconds: timeout,
            default_provider: d.default_provider,
        })
    }
}

fn parse_range(name: &'static str, v: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            name,
            reason: format!("expected a whole number from {min} to {max}"),
        }),
    }
}

fn check_url(name: &'static str, v: &str) -> Result<String, ConfigError> {
    match url::Url::parse(v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err(ConfigError {
            name,
            reason: "expected an http(s) URL".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = from(&[]).unwrap();
        assert_eq!(c.default_session_ttl_seconds, 3600);
        assert_eq!(c.greeting_text, DEFAULT_GREETING);
        let c = from(&[
            ("GREETING_TEXT", ""),
            ("CONNECT_TIMEOUT_SECONDS", "45"),
            ("PUBLIC_BASE_URL", "https://x.example/"),
        ])
        .unwrap();
        assert_eq!(c.greeting_text, "");
        assert_eq!(c.connect_timeout_seconds, 45);
        assert_eq!(c.public_base_url.as_deref(), Some("https://x.example"));
    }

    #[test]
    fn rejects_bad_values_by_name() {
        assert_eq!(
            from(&[("CONNECT_TIMEOUT_SECONDS", "500")])
                .unwrap_err()
                .name,
            "CONNECT_TIMEOUT_SECONDS"
        );
        assert_eq!(
            from(&[("DEFAULT_SESSION_TTL_SECONDS", "-1")])
                .unwrap_err()
                .name,
            "DEFAULT_SESSION_TTL_SECONDS"
        );
        assert_eq!(
            from(&[("PUBLIC_BASE_URL", "ftp:/x")]).unwrap_err().name,
            "PUBLIC_BASE_URL"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let c = from(&[("VONAGE_SIGNATURE_SECRET", "s3cr3t-value")]).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
