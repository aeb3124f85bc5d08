//! Settings, read once at start from the environment, split by concern so a
//! function reads only what it uses: a bad `SENDER_EMAIL` cannot stop
//! `vonage-answer` from starting.
//!
//! [`CoreConfig`] (every function):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TABLE_NAME` | DynamoDB table for numbers, sessions and calls | `callmask` |
//! | `PUBLIC_BASE_URL` | the API's public URL, used for webhook URLs in answers | from the request's host |
//! | `DEFAULT_SESSION_TTL_SECONDS` | session lifetime when the request gives none | `3600` |
//! | `CONNECT_TIMEOUT_SECONDS` | ring time before giving up on the callee (1..120) | `30` |
//! | `ALLOW_UNSIGNED_WEBHOOKS` | serve webhooks without a signature secret (`make run` and tests only) | `false`: 503 without a secret |
//! | `SECRET_CACHE_SECONDS` | how long a secret read from Secrets Manager is reused | `300` |
//!
//! [`VonageConfig`] (Vonage webhooks):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `VONAGE_SIGNATURE_SECRET_ID` | Secrets Manager id of the signature secret (JSON `signature_secret`, or the plain value) | unset |
//! | `VONAGE_SIGNATURE_SECRET` | the secret itself (local runs and tests only) | unset |
//! | `VONAGE_APPLICATION_ID` | when set, a token for another application is refused | unset |
//! | `VONAGE_API_BASE_URL` | Vonage REST host (tests point it at a fake) | `https://api.nexmo.com` |
//! | `GREETING_TEXT` | spoken before connecting a session call; empty for none | a short greeting |
//!
//! [`TwilioConfig`] (Twilio webhooks, voicemail downloads):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TWILIO_AUTH_TOKEN_SECRET_ID` | Secrets Manager id of the auth token (JSON `auth_token`, or the plain value) | unset |
//! | `TWILIO_AUTH_TOKEN` | the token itself (local runs and tests only) | unset |
//! | `TWILIO_ACCOUNT_SID` | the account recordings are fetched under; needs the token too | unset |
//! | `TWILIO_API_BASE_URL` | Twilio REST host; recording URLs elsewhere are refused | `https://api.twilio.com` |
//!
//! [`MessagingConfig`] (numbers bought through the providers, participant
//! validation, SMS notices and masked text messages):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `VONAGE_API_KEY` | Vonage account API key (numbers, SMS, Number Insight) | unset |
//! | `VONAGE_API_SECRET_ID` | Secrets Manager id of the API secret (JSON `api_secret`, or the plain value) | unset |
//! | `VONAGE_API_SECRET` | the API secret itself (local runs and tests only) | unset |
//! | `VONAGE_REST_BASE_URL` | Vonage numbers and SMS host | `https://rest.nexmo.com` |
//! | `NUMBER_VALIDATION` | `offline` or `number-insight` (Vonage Number Insight Basic, offline when it fails) | `offline` |
//! | `SESSION_NOTICE_TEXT` | SMS a participant gets with `"notify": true`; `{counterpart}` is the other side's label | `Call or text this number to reach {counterpart}.` |
//! | `OUT_OF_SESSION_SMS_TEXT` | reply to a text that reaches no session or line; empty: no reply | empty |
//! | `VONAGE_SMS_SIGNATURE_METHOD` | how Vonage signs inbound SMS: `md5hash`, `md5`, `sha1`, `sha256`, `sha512` | `sha256` |
//! | `STORE_MESSAGE_BODIES` | keep relayed message text (else only length and status) | `false` |
//! | `POOL_AUTO_PROVISION_MAX` | numbers callmask may buy per provider when a country runs out; 0: never | `0` |
//!
//! [`VoicemailConfig`] (the voicemail worker; `lines` reads the bucket):
//!
//! | variable | meaning | default |
//! |---|---|---|
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
pub const DEFAULT_RECORDINGS_BUCKET: &str = "callmask-recordings";

#[derive(Debug, thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// Where a secret comes from: its Secrets Manager id (AWS), the value
/// itself (local runs and tests), or nowhere.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSetting {
    None,
    Value(String),
    SecretId(String),
}

impl SecretSetting {
    pub fn is_set(&self) -> bool {
        !matches!(self, SecretSetting::None)
    }

    fn read(env: &Env<'_>, value: &str, id: &str) -> Self {
        // The id wins: in AWS the plaintext never sits in the environment.
        match (env.get(id), env.get(value)) {
            (Some(id), _) => SecretSetting::SecretId(id),
            (None, Some(v)) => SecretSetting::Value(v),
            (None, None) => SecretSetting::None,
        }
    }
}

impl std::fmt::Debug for SecretSetting {
    // Never print the value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSetting::None => f.write_str("None"),
            SecretSetting::Value(_) => f.write_str("Value(<set>)"),
            SecretSetting::SecretId(id) => write!(f, "SecretId({id})"),
        }
    }
}

/// What every function needs.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub table_name: String,
    pub public_base_url: Option<String>,
    pub default_session_ttl_seconds: u64,
    pub connect_timeout_seconds: u32,
    pub default_provider: Provider,
    pub allow_unsigned_webhooks: bool,
    pub secret_cache_seconds: u64,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            table_name: "callmask".into(),
            public_base_url: None,
            default_session_ttl_seconds: 3600,
            connect_timeout_seconds: 30,
            default_provider: Provider::Vonage,
            allow_unsigned_webhooks: false,
            secret_cache_seconds: 300,
        }
    }
}

impl CoreConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        Ok(Self {
            table_name: env.get("TABLE_NAME").unwrap_or(d.table_name),
            public_base_url: env.url("PUBLIC_BASE_URL")?,
            default_session_ttl_seconds: env.range(
                "DEFAULT_SESSION_TTL_SECONDS",
                d.default_session_ttl_seconds,
                1,
                MAX_SESSION_TTL_SECONDS,
            )?,
            connect_timeout_seconds: env.range(
                "CONNECT_TIMEOUT_SECONDS",
                d.connect_timeout_seconds.into(),
                1,
                120,
            )? as u32,
            default_provider: d.default_provider,
            allow_unsigned_webhooks: env.flag("ALLOW_UNSIGNED_WEBHOOKS", false)?,
            secret_cache_seconds: env.range(
                "SECRET_CACHE_SECONDS",
                d.secret_cache_seconds,
                0,
                86_400,
            )?,
        })
    }
}

/// Vonage webhooks.
#[derive(Debug, Clone)]
pub struct VonageConfig {
    pub signature_secret: SecretSetting,
    pub application_id: Option<String>,
    pub api_base_url: String,
    pub greeting_text: String,
}

impl Default for VonageConfig {
    fn default() -> Self {
        Self {
            signature_secret: SecretSetting::None,
            application_id: None,
            api_base_url: "https://api.nexmo.com".into(),
            greeting_text: DEFAULT_GREETING.into(),
        }
    }
}

impl VonageConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        Ok(Self {
            signature_secret: SecretSetting::read(
                &env,
                "VONAGE_SIGNATURE_SECRET",
                "VONAGE_SIGNATURE_SECRET_ID",
            ),
            application_id: env.get("VONAGE_APPLICATION_ID"),
            api_base_url: env.url("VONAGE_API_BASE_URL")?.unwrap_or(d.api_base_url),
            // An explicitly empty greeting means "no greeting".
            greeting_text: get("GREETING_TEXT").unwrap_or(d.greeting_text),
        })
    }
}

/// Twilio webhooks and REST.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub auth_token: SecretSetting,
    pub account_sid: Option<String>,
    pub api_base_url: String,
}

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            auth_token: SecretSetting::None,
            account_sid: None,
            api_base_url: "https://api.twilio.com".into(),
        }
    }
}

impl TwilioConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        let auth_token =
            SecretSetting::read(&env, "TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_SECRET_ID");
        let account_sid = env.get("TWILIO_ACCOUNT_SID");
        // One without the other signs webhooks with an account we cannot
        // fetch recordings from (or the reverse): refuse to start.
        if account_sid.is_some() != auth_token.is_set() {
            return Err(ConfigError {
                name: "TWILIO_ACCOUNT_SID",
                reason: "TWILIO_ACCOUNT_SID and the auth token (TWILIO_AUTH_TOKEN_SECRET_ID or TWILIO_AUTH_TOKEN) are set together".into(),
            });
        }
        Ok(Self {
            auth_token,
            account_sid,
            api_base_url: env.url("TWILIO_API_BASE_URL")?.unwrap_or(d.api_base_url),
        })
    }
}

/// How participants' numbers are validated at session creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberValidation {
    Offline,
    NumberInsight,
}

pub const DEFAULT_NOTICE_TEXT: &str = "Call or text this number to reach {counterpart}.";

/// Numbers bought through the providers, participant validation, SMS
/// notices and masked text messages.
#[derive(Debug, Clone)]
pub struct MessagingConfig {
    pub vonage_api_key: Option<String>,
    pub vonage_api_secret: SecretSetting,
    pub vonage_rest_base_url: String,
    pub number_validation: NumberValidation,
    pub session_notice_text: String,
    pub out_of_session_sms_text: String,
    pub sms_signature_method: crate::vonage::sms_signature::SmsSignatureMethod,
    pub store_message_bodies: bool,
    pub pool_auto_provision_max: u64,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            vonage_api_key: None,
            vonage_api_secret: SecretSetting::None,
            vonage_rest_base_url: "https://rest.nexmo.com".into(),
            number_validation: NumberValidation::Offline,
            session_notice_text: DEFAULT_NOTICE_TEXT.into(),
            out_of_session_sms_text: String::new(),
            sms_signature_method: crate::vonage::sms_signature::SmsSignatureMethod::Sha256,
            store_message_bodies: false,
            pool_auto_provision_max: 0,
        }
    }
}

impl MessagingConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        let number_validation = match env.get("NUMBER_VALIDATION").as_deref() {
            None | Some("offline") => NumberValidation::Offline,
            Some("number-insight") => NumberValidation::NumberInsight,
            Some(_) => {
                return Err(ConfigError {
                    name: "NUMBER_VALIDATION",
                    reason: "expected offline or number-insight".into(),
                })
            }
        };
        let sms_signature_method = match env.get("VONAGE_SMS_SIGNATURE_METHOD") {
            None => d.sms_signature_method,
            Some(m) => {
                crate::vonage::sms_signature::SmsSignatureMethod::parse(&m).ok_or(ConfigError {
                    name: "VONAGE_SMS_SIGNATURE_METHOD",
                    reason: "expected md5hash, md5, sha1, sha256 or sha512".into(),
                })?
            }
        };
        Ok(Self {
            vonage_api_key: env.get("VONAGE_API_KEY"),
            vonage_api_secret: SecretSetting::read(
                &env,
                "VONAGE_API_SECRET",
                "VONAGE_API_SECRET_ID",
            ),
            vonage_rest_base_url: env
                .url("VONAGE_REST_BASE_URL")?
                .unwrap_or(d.vonage_rest_base_url),
            number_validation,
            session_notice_text: env
                .get("SESSION_NOTICE_TEXT")
                .unwrap_or(d.session_notice_text),
            out_of_session_sms_text: env.get("OUT_OF_SESSION_SMS_TEXT").unwrap_or_default(),
            sms_signature_method,
            store_message_bodies: env.flag("STORE_MESSAGE_BODIES", false)?,
            pool_auto_provision_max: env.range("POOL_AUTO_PROVISION_MAX", 0, 0, 1000)?,
        })
    }
}

/// The voicemail pipeline.
#[derive(Debug, Clone)]
pub struct VoicemailConfig {
    pub recordings_bucket: String,
    pub sender_email: String,
    pub delete_provider_recordings: bool,
    pub voicemail_max_attempts: u32,
    pub transcription_wait_seconds: u64,
    pub recording_link_ttl_seconds: u64,
}

impl Default for VoicemailConfig {
    fn default() -> Self {
        Self {
            recordings_bucket: DEFAULT_RECORDINGS_BUCKET.into(),
            sender_email: "voicemail@example.com".into(),
            delete_provider_recordings: false,
            voicemail_max_attempts: 5,
            transcription_wait_seconds: 120,
            recording_link_ttl_seconds: 86_400,
        }
    }
}

impl VoicemailConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        let sender_email = env.get("SENDER_EMAIL").unwrap_or(d.sender_email);
        if !crate::email::is_plausible(&sender_email) {
            return Err(ConfigError {
                name: "SENDER_EMAIL",
                reason: "expected an email address".into(),
            });
        }
        Ok(Self {
            recordings_bucket: recordings_bucket(&get),
            sender_email,
            delete_provider_recordings: env.flag("DELETE_PROVIDER_RECORDINGS", false)?,
            voicemail_max_attempts: env.range(
                "VOICEMAIL_MAX_ATTEMPTS",
                d.voicemail_max_attempts.into(),
                1,
                50,
            )? as u32,
            transcription_wait_seconds: env.range(
                "TRANSCRIPTION_WAIT_SECONDS",
                d.transcription_wait_seconds,
                0,
                3600,
            )?,
            recording_link_ttl_seconds: env.range(
                "RECORDING_LINK_TTL_SECONDS",
                d.recording_link_ttl_seconds,
                60,
                604_800,
            )?,
        })
    }
}

/// `RECORDINGS_BUCKET` alone, for `lines` (presigned links in its lists).
pub fn recordings_bucket(get: impl Fn(&str) -> Option<String>) -> String {
    Env(&get)
        .get("RECORDINGS_BUCKET")
        .unwrap_or_else(|| DEFAULT_RECORDINGS_BUCKET.into())
}

/// A lookup with the parsing rules every setting shares.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    /// Set and not blank.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn range(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError {
                name,
                reason: format!("expected a whole number from {min} to {max}"),
            }),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).as_deref() {
            None => Ok(default),
            Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(_) => Err(ConfigError {
                name,
                reason: "expected true or false".into(),
            }),
        }
    }

    fn url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match url::Url::parse(&v) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(Some(v.trim_end_matches('/').to_string()))
            }
            _ => Err(ConfigError {
                name,
                reason: "expected an http(s) URL".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_and_overrides() {
        let c = CoreConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(c.default_session_ttl_seconds, 3600);
        assert!(!c.allow_unsigned_webhooks);
        let v = VonageConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(v.greeting_text, DEFAULT_GREETING);
        let c = CoreConfig::from_lookup(lookup(&[
            ("CONNECT_TIMEOUT_SECONDS", "45"),
            ("PUBLIC_BASE_URL", "https://x.example/"),
            ("ALLOW_UNSIGNED_WEBHOOKS", "true"),
        ]))
        .unwrap();
        assert_eq!(c.connect_timeout_seconds, 45);
        assert_eq!(c.public_base_url.as_deref(), Some("https://x.example"));
        assert!(c.allow_unsigned_webhooks);
        let v = VonageConfig::from_lookup(lookup(&[("GREETING_TEXT", "")])).unwrap();
        assert_eq!(v.greeting_text, "");
    }

    #[test]
    fn rejects_bad_values_by_name() {
        let core = |pairs: &[(&str, &str)]| CoreConfig::from_lookup(lookup(pairs)).unwrap_err();
        assert_eq!(
            core(&[("CONNECT_TIMEOUT_SECONDS", "500")]).name,
            "CONNECT_TIMEOUT_SECONDS"
        );
        assert_eq!(
            core(&[("DEFAULT_SESSION_TTL_SECONDS", "-1")]).name,
            "DEFAULT_SESSION_TTL_SECONDS"
        );
        assert_eq!(
            core(&[("PUBLIC_BASE_URL", "ftp:/x")]).name,
            "PUBLIC_BASE_URL"
        );
        assert_eq!(
            core(&[("ALLOW_UNSIGNED_WEBHOOKS", "maybe")]).name,
            "ALLOW_UNSIGNED_WEBHOOKS"
        );
    }

    #[test]
    fn a_bad_voicemail_setting_does_not_stop_the_other_concerns() {
        let env = lookup(&[("SENDER_EMAIL", "not an address")]);
        assert_eq!(
            VoicemailConfig::from_lookup(&env).unwrap_err().name,
            "SENDER_EMAIL"
        );
        assert!(CoreConfig::from_lookup(&env).is_ok());
        assert!(VonageConfig::from_lookup(&env).is_ok());
        assert!(TwilioConfig::from_lookup(&env).is_ok());
    }

    #[test]
    fn secrets_come_by_id_first_and_never_print() {
        let v = VonageConfig::from_lookup(lookup(&[
            ("VONAGE_SIGNATURE_SECRET", "s3cr3t-value"),
            ("VONAGE_SIGNATURE_SECRET_ID", "callmask/vonage"),
        ]))
        .unwrap();
        assert_eq!(
            v.signature_secret,
            SecretSetting::SecretId("callmask/vonage".into())
        );
        let v = VonageConfig::from_lookup(lookup(&[("VONAGE_SIGNATURE_SECRET", "s3cr3t-value")]))
            .unwrap();
        assert!(!format!("{v:?}").contains("s3cr3t"));
    }

    #[test]
    fn twilio_account_and_token_go_together() {
        let t = |pairs: &[(&str, &str)]| TwilioConfig::from_lookup(lookup(pairs));
        assert!(t(&[]).is_ok());
        assert!(t(&[("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "x")]).is_ok());
        assert!(t(&[
            ("TWILIO_ACCOUNT_SID", "AC1"),
            ("TWILIO_AUTH_TOKEN_SECRET_ID", "callmask/twilio")
        ])
        .is_ok());
        assert_eq!(
            t(&[("TWILIO_ACCOUNT_SID", "AC1")]).unwrap_err().name,
            "TWILIO_ACCOUNT_SID"
        );
        assert_eq!(
            t(&[("TWILIO_AUTH_TOKEN", "x")]).unwrap_err().name,
            "TWILIO_ACCOUNT_SID"
        );
    }
}
