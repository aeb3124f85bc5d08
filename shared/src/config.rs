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
//!
//! [`AudioAnswerConfig`] (`vonage-audio-answer`: the NCCO that streams a
//! call to the audio socket):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUDIO_SOCKET_URL` | `ws://` or `wss://` URL of the audio socket; set but empty: not configured (503) | `ws://127.0.0.1:3001/socket` |
//! | `AUDIO_SAMPLE_RATE` | `16000` or `8000` (`audio/l16;rate=N`) | `16000` |
//! | `AUDIO_MODE` | `echo` or `record`, sent to the socket in the `mode` header | `echo` |
//! | `AUDIO_GREETING_TEXT` | spoken before connecting; empty for none | `Please wait while we connect you to the echo server` |
//! | `AUDIO_SOCKET_TOKEN_SECRET_ID` | Secrets Manager id of the socket token (JSON `audio_socket_token`, or the plain value) | unset |
//! | `AUDIO_SOCKET_TOKEN` | the token itself (local runs and tests only) | unset: no `token` header |
//!
//! [`AudioSocketConfig`] (the `audio-socket` server; also `TABLE_NAME`,
//! `RECORDINGS_BUCKET` and the two token settings above):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `AUDIO_HOST` / `AUDIO_PORT` | where it listens | `127.0.0.1` / `3001` |
//! | `AUDIO_IDLE_TIMEOUT_SECONDS` | a call that sends nothing this long is closed (1001) | `10` |
//! | `AUDIO_CONNECTED_TIMEOUT_SECONDS` | time for the first message (`websocket:connected`) after the upgrade | `5` |
//! | `AUDIO_MAX_CALLS` | live calls one process serves; more get 503 at the upgrade | `1000` |
//! | `AUDIO_SEND_QUEUE_FRAMES` | frames queued towards a peer before it counts as not reading (closed 1008) | `50` (1 s) |
//! | `AUDIO_MAX_RECORDING_SECONDS` | a recording stops growing after this (the call goes on) | `14400` |
//! | `AUDIO_SPOOL_DIR` | where recordings are written while a call lasts | the system temp dir |
//! | `AUDIO_SHUTDOWN_GRACE_SECONDS` | on SIGTERM, how long calls get to close and recordings to upload | `25` |

use std::env;

use crate::audio::{AudioMode, SampleRate};
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

pub const DEFAULT_AUDIO_SOCKET_URL: &str = "ws://127.0.0.1:3001/socket";
pub const DEFAULT_AUDIO_GREETING: &str = "Please wait while we connect you to the echo server";

/// `vonage-audio-answer`: where and how a call's audio is streamed.
#[derive(Debug, Clone)]
pub struct AudioAnswerConfig {
    /// `None`: `AUDIO_SOCKET_URL` was set empty (the template's default
    /// when no socket is deployed): the answer says 503.
    pub socket_url: Option<String>,
    pub sample_rate: SampleRate,
    pub mode: AudioMode,
    pub greeting_text: String,
    pub socket_token: SecretSetting,
}

impl Default for AudioAnswerConfig {
    fn default() -> Self {
        Self {
            socket_url: Some(DEFAULT_AUDIO_SOCKET_URL.into()),
            sample_rate: SampleRate::K16,
            mode: AudioMode::Echo,
            greeting_text: DEFAULT_AUDIO_GREETING.into(),
            socket_token: SecretSetting::None,
        }
    }
}

impl AudioAnswerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        let socket_url = match get("AUDIO_SOCKET_URL") {
            None => d.socket_url,
            Some(v) if v.trim().is_empty() => None,
            Some(_) => env.ws_url("AUDIO_SOCKET_URL")?,
        };
        let sample_rate = match env.get("AUDIO_SAMPLE_RATE").as_deref() {
            None => d.sample_rate,
            Some("16000") => SampleRate::K16,
            Some("8000") => SampleRate::K8,
            Some(_) => {
                return Err(ConfigError {
                    name: "AUDIO_SAMPLE_RATE",
                    reason: "expected 16000 or 8000".into(),
                })
            }
        };
        Ok(Self {
            socket_url,
            sample_rate,
            mode: env.mode("AUDIO_MODE")?.unwrap_or(d.mode),
            greeting_text: get("AUDIO_GREETING_TEXT").unwrap_or(d.greeting_text),
            socket_token: audio_socket_token(&env),
        })
    }
}

fn audio_socket_token(env: &Env<'_>) -> SecretSetting {
    SecretSetting::read(env, "AUDIO_SOCKET_TOKEN", "AUDIO_SOCKET_TOKEN_SECRET_ID")
}

/// The `audio-socket` server.
#[derive(Debug, Clone)]
pub struct AudioSocketConfig {
    pub host: String,
    pub port: u16,
    pub socket_token: SecretSetting,
    pub recordings_bucket: String,
    pub idle_timeout_seconds: u64,
    pub connected_timeout_seconds: u64,
    pub max_calls: usize,
    pub send_queue_frames: usize,
    pub max_recording_seconds: u64,
    pub spool_dir: std::path::PathBuf,
    pub shutdown_grace_seconds: u64,
}

impl Default for AudioSocketConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 3001,
            socket_token: SecretSetting::None,
            recordings_bucket: DEFAULT_RECORDINGS_BUCKET.into(),
            idle_timeout_seconds: 10,
            connected_timeout_seconds: 5,
            max_calls: 1000,
            send_queue_frames: 50,
            max_recording_seconds: 14_400,
            spool_dir: env::temp_dir(),
            shutdown_grace_seconds: 25,
        }
    }
}

impl AudioSocketConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&get);
        let d = Self::default();
        let host = env.get("AUDIO_HOST").unwrap_or(d.host);
        if host.parse::<std::net::IpAddr>().is_err() {
            return Err(ConfigError {
                name: "AUDIO_HOST",
                reason: "expected an IP address (0.0.0.0 in a container)".into(),
            });
        }
        Ok(Self {
            host,
            port: env.range("AUDIO_PORT", d.port.into(), 1, 65_535)? as u16,
            socket_token: audio_socket_token(&env),
            recordings_bucket: recordings_bucket(&get),
            idle_timeout_seconds: env.range(
                "AUDIO_IDLE_TIMEOUT_SECONDS",
                d.idle_timeout_seconds,
                1,
                3600,
            )?,
            connected_timeout_seconds: env.range(
                "AUDIO_CONNECTED_TIMEOUT_SECONDS",
                d.connected_timeout_seconds,
                1,
                60,
            )?,
            max_calls: env.range("AUDIO_MAX_CALLS", d.max_calls as u64, 1, 100_000)? as usize,
            send_queue_frames: env.range(
                "AUDIO_SEND_QUEUE_FRAMES",
                d.send_queue_frames as u64,
                1,
                1000,
            )? as usize,
            // Under 4 GiB of WAV even at 24 kHz.
            max_recording_seconds: env.range(
                "AUDIO_MAX_RECORDING_SECONDS",
                d.max_recording_seconds,
                1,
                36_000,
            )?,
            spool_dir: env
                .get("AUDIO_SPOOL_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or(d.spool_dir),
            shutdown_grace_seconds: env.range(
                "AUDIO_SHUTDOWN_GRACE_SECONDS",
                d.shutdown_grace_seconds,
                1,
                600,
            )?,
        })
    }
}

/// `RECORDINGS_BUCKET` alone, for the functions that list recordings
/// (`api::RecordingsState`: presigned links in their lists).
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

    fn ws_url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match url::Url::parse(&v) {
            Ok(u) if matches!(u.scheme(), "ws" | "wss") && u.host().is_some() => Ok(Some(v)),
            _ => Err(ConfigError {
                name,
                reason: "expected a ws:// or wss:// URL".into(),
            }),
        }
    }

    fn mode(&self, name: &'static str) -> Result<Option<AudioMode>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => AudioMode::parse(&v).map(Some).ok_or(ConfigError {
                name,
                reason: "expected echo or record".into(),
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
    #[test]
    fn audio_settings_are_checked_at_start() {
        let a = |pairs: &[(&str, &str)]| AudioAnswerConfig::from_lookup(lookup(pairs));
        let d = a(&[]).unwrap();
        assert_eq!(d.socket_url.as_deref(), Some(DEFAULT_AUDIO_SOCKET_URL));
        assert_eq!(d.sample_rate, SampleRate::K16);
        assert_eq!(d.mode, AudioMode::Echo);
        assert_eq!(d.greeting_text, DEFAULT_AUDIO_GREETING);
        let c = a(&[
            ("AUDIO_SOCKET_URL", "wss://audio.example.com/socket"),
            ("AUDIO_SAMPLE_RATE", "8000"),
            ("AUDIO_MODE", "record"),
            ("AUDIO_GREETING_TEXT", ""),
            ("AUDIO_SOCKET_TOKEN", "t0ken"),
        ])
        .unwrap();
        assert_eq!(c.sample_rate, SampleRate::K8);
        assert_eq!(c.mode, AudioMode::Record);
        assert_eq!(c.greeting_text, "");
        assert_eq!(c.socket_token, SecretSetting::Value("t0ken".into()));
        assert!(!format!("{c:?}").contains("t0ken"));
        assert_eq!(a(&[("AUDIO_SOCKET_URL", "")]).unwrap().socket_url, None);
        for (name, value) in [
            ("AUDIO_SAMPLE_RATE", "44100"),
            ("AUDIO_SAMPLE_RATE", "16k"),
            ("AUDIO_MODE", "transcribe"),
            ("AUDIO_SOCKET_URL", "https://audio.example.com/socket"),
            ("AUDIO_SOCKET_URL", "not a url"),
        ] {
            assert_eq!(a(&[(name, value)]).unwrap_err().name, name, "{value}");
        }
        let s = |pairs: &[(&str, &str)]| AudioSocketConfig::from_lookup(lookup(pairs));
        assert_eq!(s(&[]).unwrap().port, 3001);
        assert_eq!(
            s(&[("AUDIO_SOCKET_TOKEN_SECRET_ID", "callmask/audio")])
                .unwrap()
                .socket_token,
            SecretSetting::SecretId("callmask/audio".into())
        );
        for (name, value) in [
            ("AUDIO_PORT", "0"),
            ("AUDIO_PORT", "70000"),
            ("AUDIO_HOST", "audio.example.com"),
            ("AUDIO_IDLE_TIMEOUT_SECONDS", "0"),
            ("AUDIO_MAX_CALLS", "many"),
            ("AUDIO_MAX_RECORDING_SECONDS", "100000"),
        ] {
            assert_eq!(s(&[(name, value)]).unwrap_err().name, name, "{value}");
        }
        // A bad audio setting stops only the audio functions.
        let env = lookup(&[("AUDIO_SAMPLE_RATE", "44100")]);
        assert!(VonageConfig::from_lookup(&env).is_ok());
        assert!(CoreConfig::from_lookup(&env).is_ok());
    }
}
