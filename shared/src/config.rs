//! Settings, read once at start from the environment, split by concern so a
//! function reads only what it uses: a bad `SENDER_EMAIL` cannot stop
//! `vonage-answer` from starting.
//!
//! Each group is declared once with [`settings!`](crate::settings) (its
//! variables, defaults and checks); `docs/settings.md` is the reference
//! for every variable, and a test keeps the two equal. A bad value stops
//! the start with an error naming the variable to change.
//!
//! - [`CoreConfig`]: every function
//! - [`VonageConfig`]: Vonage webhooks
//! - [`TwilioConfig`]: Twilio webhooks, voicemail downloads
//! - [`MessagingConfig`]: numbers bought through the providers, participant
//!   validation, SMS notices and masked text messages
//! - [`VoicemailConfig`]: the voicemail worker (`lines` reads the bucket)
//! - [`AudioAnswerConfig`]: `vonage-audio-answer`, the NCCO that streams a
//!   call to the audio socket (whose own settings the `audio-socket` crate
//!   declares)
//!
//! This module imports only the value types its settings hold (`domain`,
//! `audio`), so every other module may read its settings.

pub mod reference;
pub mod setting;

use crate::audio::{AudioMode, SampleRate};
use crate::domain::Provider;
use setting::{email, flag, http_url, one_of, range, secret, text, verbatim, ws_url, Env};

pub const DEFAULT_GREETING: &str = "Please hold while we connect your call.";
/// Longest session a request may ask for: 30 days.
pub const MAX_SESSION_TTL_SECONDS: u64 = crate::domain::service::MAX_TTL_SECONDS;
pub const DEFAULT_RECORDINGS_BUCKET: &str = "callmask-recordings";
pub const DEFAULT_NOTICE_TEXT: &str = "Call or text this number to reach {counterpart}.";
pub const DEFAULT_AUDIO_SOCKET_URL: &str = "ws://127.0.0.1:3001/socket";
pub const DEFAULT_AUDIO_GREETING: &str = "Please wait while we connect you to the echo server";

/// A setting that stops the start, named so the message says what to change.
#[derive(thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl std::fmt::Debug for ConfigError {
    // A function's `main` prints its error with `Debug`: the message, not
    // the struct.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
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

/// How participants' numbers are validated at session creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberValidation {
    Offline,
    NumberInsight,
}

impl NumberValidation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "offline" => Some(Self::Offline),
            "number-insight" => Some(Self::NumberInsight),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::NumberInsight => "number-insight",
        }
    }
}

/// How the Vonage account signs inbound SMS (`vonage::sms_signature`
/// computes the signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsSignatureMethod {
    Md5Hash,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl SmsSignatureMethod {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "md5hash" => Some(Self::Md5Hash),
            "md5" => Some(Self::Md5),
            "sha1" => Some(Self::Sha1),
            "sha256" => Some(Self::Sha256),
            "sha512" => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5Hash => "md5hash",
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }
}

/// An email address that could be one: a plausibility check, not RFC 5322.
/// SES has the final word on deliverability.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && s.chars().all(|c| c.is_ascii_graphic())
        && !s.contains(['<', '>', '"', ',', ';', '(', ')', '[', ']', '\\'])
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// `vonage` or `twilio`, any case.
fn provider(s: &str) -> Option<Provider> {
    Provider::parse(&s.to_ascii_lowercase())
}

crate::settings! {
    /// What every function needs.
    #[derive(Debug, Clone)]
    pub struct CoreConfig {
        pub table_name: String = "callmask".into(), text("TABLE_NAME");
        pub public_base_url: Option<String> = None, http_url("PUBLIC_BASE_URL");
        pub default_session_ttl_seconds: u64 = 3600,
            range("DEFAULT_SESSION_TTL_SECONDS", 1, MAX_SESSION_TTL_SECONDS);
        pub connect_timeout_seconds: u32 = 30, range("CONNECT_TIMEOUT_SECONDS", 1, 120);
        /// The provider of a session or number whose request names none;
        /// each answer says which it used.
        pub default_provider: Provider = Provider::Vonage,
            one_of("DEFAULT_PROVIDER", provider, "expected vonage or twilio");
        pub allow_unsigned_webhooks: bool = false, flag("ALLOW_UNSIGNED_WEBHOOKS");
        pub secret_cache_seconds: u64 = 300, range("SECRET_CACHE_SECONDS", 0, 86_400);
    }
}

crate::settings! {
    /// Vonage webhooks.
    #[derive(Debug, Clone)]
    pub struct VonageConfig {
        pub signature_secret: SecretSetting = SecretSetting::None,
            secret("VONAGE_SIGNATURE_SECRET", "VONAGE_SIGNATURE_SECRET_ID");
        pub application_id: Option<String> = None, text("VONAGE_APPLICATION_ID");
        pub api_base_url: String = "https://api.nexmo.com".into(),
            http_url("VONAGE_API_BASE_URL");
        /// An explicitly empty greeting means "no greeting".
        pub greeting_text: String = DEFAULT_GREETING.into(), verbatim("GREETING_TEXT");
    }
}

crate::settings! {
    /// Twilio webhooks and REST.
    #[derive(Debug, Clone)]
    pub struct TwilioConfig {
        pub auth_token: SecretSetting = SecretSetting::None,
            secret("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN_SECRET_ID");
        pub account_sid: Option<String> = None, text("TWILIO_ACCOUNT_SID");
        pub api_base_url: String = "https://api.twilio.com".into(),
            http_url("TWILIO_API_BASE_URL");
    }
    check account_and_token_together;
}

/// One without the other signs webhooks with an account we cannot fetch
/// recordings from (or the reverse): refuse to start.
fn account_and_token_together(c: &TwilioConfig) -> Result<(), ConfigError> {
    if c.account_sid.is_some() != c.auth_token.is_set() {
        return Err(ConfigError {
            name: "TWILIO_ACCOUNT_SID",
            reason: "TWILIO_ACCOUNT_SID and the auth token (TWILIO_AUTH_TOKEN_SECRET_ID or TWILIO_AUTH_TOKEN) are set together".into(),
        });
    }
    Ok(())
}

crate::settings! {
    /// Numbers bought through the providers, participant validation, SMS
    /// notices and masked text messages.
    #[derive(Debug, Clone)]
    pub struct MessagingConfig {
        pub vonage_api_key: Option<String> = None, text("VONAGE_API_KEY");
        pub vonage_api_secret: SecretSetting = SecretSetting::None,
            secret("VONAGE_API_SECRET", "VONAGE_API_SECRET_ID");
        pub vonage_rest_base_url: String = "https://rest.nexmo.com".into(),
            http_url("VONAGE_REST_BASE_URL");
        pub number_validation: NumberValidation = NumberValidation::Offline,
            one_of(
                "NUMBER_VALIDATION",
                NumberValidation::parse,
                "expected offline or number-insight",
            );
        pub session_notice_text: String = DEFAULT_NOTICE_TEXT.into(), text("SESSION_NOTICE_TEXT");
        pub out_of_session_sms_text: String = String::new(), text("OUT_OF_SESSION_SMS_TEXT");
        /// At most one reply per sender and proxy number this often: each
        /// reply is a text we pay for (SMS pumping).
        pub out_of_session_reply_interval_seconds: u64 = 3600,
            range("OUT_OF_SESSION_REPLY_INTERVAL_SECONDS", 60, 2_592_000);
        /// At most this many replies from one proxy number per clock hour.
        pub out_of_session_replies_per_hour: u32 = 20,
            range("OUT_OF_SESSION_REPLIES_PER_HOUR", 0, 10_000);
        pub sms_signature_method: SmsSignatureMethod = SmsSignatureMethod::Sha256,
            one_of(
                "VONAGE_SMS_SIGNATURE_METHOD",
                SmsSignatureMethod::parse,
                "expected md5hash, md5, sha1, sha256 or sha512",
            );
        /// A signed inbound SMS whose `timestamp` is further from now than
        /// this is refused: a captured request cannot be replayed later.
        pub sms_signature_max_age_seconds: u64 = 300,
            range("VONAGE_SMS_SIGNATURE_MAX_AGE_SECONDS", 30, 3600);
        pub store_message_bodies: bool = false, flag("STORE_MESSAGE_BODIES");
        pub pool_auto_provision_max: u64 = 0, range("POOL_AUTO_PROVISION_MAX", 0, 1000);
    }
}

crate::settings! {
    /// The voicemail pipeline.
    #[derive(Debug, Clone)]
    pub struct VoicemailConfig {
        pub recordings_bucket: String = DEFAULT_RECORDINGS_BUCKET.into(),
            text("RECORDINGS_BUCKET");
        pub sender_email: String = "voicemail@example.com".into(), email("SENDER_EMAIL");
        pub delete_provider_recordings: bool = false, flag("DELETE_PROVIDER_RECORDINGS");
        pub voicemail_max_attempts: u32 = 5, range("VOICEMAIL_MAX_ATTEMPTS", 1, 50);
        pub transcription_wait_seconds: u64 = 120, range("TRANSCRIPTION_WAIT_SECONDS", 0, 3600);
        pub recording_link_ttl_seconds: u64 = 86_400,
            range("RECORDING_LINK_TTL_SECONDS", 60, 604_800);
    }
}

/// `RECORDINGS_BUCKET` alone, for the functions that list recordings
/// (`api::RecordingsState`: presigned links in their lists).
pub fn recordings_bucket(get: impl Fn(&str) -> Option<String>) -> String {
    Env(&get)
        .get("RECORDINGS_BUCKET")
        .unwrap_or_else(|| DEFAULT_RECORDINGS_BUCKET.into())
}

fn sample_rate(s: &str) -> Option<SampleRate> {
    match s {
        "16000" => Some(SampleRate::K16),
        "8000" => Some(SampleRate::K8),
        _ => None,
    }
}

crate::settings! {
    /// `vonage-audio-answer`: where and how a call's audio is streamed.
    #[derive(Debug, Clone)]
    pub struct AudioAnswerConfig {
        /// `None`: `AUDIO_SOCKET_URL` was set empty (the template's default
        /// when no socket is deployed): the answer says 503.
        pub socket_url: Option<String> = Some(DEFAULT_AUDIO_SOCKET_URL.into()),
            ws_url("AUDIO_SOCKET_URL");
        pub sample_rate: SampleRate = SampleRate::K16,
            one_of("AUDIO_SAMPLE_RATE", sample_rate, "expected 16000 or 8000");
        pub mode: AudioMode = AudioMode::Echo,
            one_of("AUDIO_MODE", AudioMode::parse, "expected echo or record");
        pub greeting_text: String = DEFAULT_AUDIO_GREETING.into(),
            verbatim("AUDIO_GREETING_TEXT");
        pub socket_token: SecretSetting = SecretSetting::None, AUDIO_SOCKET_TOKEN;
    }
}

/// The audio socket's token: `vonage-audio-answer` sends it, the
/// `audio-socket` server checks it.
pub const AUDIO_SOCKET_TOKEN: setting::Secret =
    secret("AUDIO_SOCKET_TOKEN", "AUDIO_SOCKET_TOKEN_SECRET_ID");

#[cfg(test)]
mod tests {
    #[test]
    fn email_plausibility_checks_shape() {
        assert!(is_plausible_email("owner@example.com"));
        assert!(is_plausible_email("first.last+tag@sub.example.co.uk"));
        for bad in [
            "",
            "owner",
            "owner@",
            "@example.com",
            "a b@example.com",
            "a@example",
            "a@ex..com",
            "a@exa_mple.com",
            "a<b>@example.com",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    use super::*;
    use setting::pairs as lookup;

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
    fn the_default_provider_is_a_setting() {
        let c = CoreConfig::from_lookup(lookup(&[])).unwrap();
        assert_eq!(c.default_provider, Provider::Vonage);
        let c = CoreConfig::from_lookup(lookup(&[("DEFAULT_PROVIDER", "Twilio")])).unwrap();
        assert_eq!(c.default_provider, Provider::Twilio);
        let e = CoreConfig::from_lookup(lookup(&[("DEFAULT_PROVIDER", "plivo")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "setting DEFAULT_PROVIDER is invalid: expected vonage or twilio"
        );
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
        // A bad audio setting stops only the audio functions.
        let env = lookup(&[("AUDIO_SAMPLE_RATE", "44100")]);
        assert!(VonageConfig::from_lookup(&env).is_ok());
        assert!(CoreConfig::from_lookup(&env).is_ok());
    }

    /// docs/settings.md against every group declared here, both ways.
    #[test]
    fn the_settings_reference_matches_the_declarations() {
        let doc = include_str!("../../docs/settings.md");
        let groups = [
            ("CoreConfig", CoreConfig::declared()),
            ("VonageConfig", VonageConfig::declared()),
            ("TwilioConfig", TwilioConfig::declared()),
            ("MessagingConfig", MessagingConfig::declared()),
            ("VoicemailConfig", VoicemailConfig::declared()),
            ("AudioAnswerConfig", AudioAnswerConfig::declared()),
        ];
        let mut problems = Vec::new();
        for (group, declared) in &groups {
            problems.extend(reference::drift(doc, group, declared));
        }
        // The other tables are checked where their settings are declared.
        let elsewhere = ["AudioSocketConfig", "LocalConfig", READ_DIRECTLY];
        for table in reference::tables(doc) {
            let known = groups.iter().any(|(g, _)| *g == table.group)
                || elsewhere.contains(&table.group.as_str());
            if !known {
                problems.push(format!(
                    "a table for {}, which nothing declares",
                    table.group
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "docs/settings.md drifts:\n{}",
            problems.join("\n")
        );
    }

    /// The settings read where they are used, outside a group (logs, TLS
    /// roots, metrics): the reference's table and the crate's sources name
    /// the same variables.
    const READ_DIRECTLY: &str = "read directly";

    #[test]
    fn settings_read_directly_are_in_the_reference() {
        let doc = include_str!("../../docs/settings.md");
        let documented: std::collections::BTreeSet<String> = reference::tables(doc)
            .into_iter()
            .filter(|t| t.group == READ_DIRECTLY)
            .flat_map(|t| t.rows)
            .map(|r| r.variable)
            .collect();
        let mut read = std::collections::BTreeSet::new();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for file in rust_files(&src) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for call in ["env::var(\"", "env::var_os(\"", "try_from_env(\""] {
                for (at, _) in text.match_indices(call) {
                    let rest = &text[at + call.len()..];
                    if let Some(end) = rest.find('"') {
                        read.insert(rest[..end].to_string());
                    }
                }
            }
        }
        // Set by Lambda itself, not by whoever deploys.
        read.remove("AWS_LAMBDA_FUNCTION_NAME");
        let undocumented: Vec<_> = read.difference(&documented).collect();
        let unread: Vec<_> = documented.difference(&read).collect();
        assert!(
            undocumented.is_empty() && unread.is_empty(),
            "read but not in docs/settings.md: {undocumented:?}; documented but read nowhere: {unread:?}"
        );
    }

    /// Every `.rs` file under `dir`, but this module's own.
    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.file_stem().is_some_and(|s| s == "config") {
                continue;
            }
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn start_up_errors_name_the_setting() {
        let e = CoreConfig::from_lookup(lookup(&[("CONNECT_TIMEOUT_SECONDS", "500")])).unwrap_err();
        assert_eq!(
            format!("{e:?}"),
            "setting CONNECT_TIMEOUT_SECONDS is invalid: expected a whole number from 1 to 120"
        );
        for (name, value) in [
            ("NUMBER_VALIDATION", "sometimes"),
            ("VONAGE_SMS_SIGNATURE_METHOD", "crc32"),
            ("POOL_AUTO_PROVISION_MAX", "1001"),
            ("STORE_MESSAGE_BODIES", "maybe"),
            ("VONAGE_REST_BASE_URL", "rest.nexmo.com"),
        ] {
            let e = MessagingConfig::from_lookup(lookup(&[(name, value)])).unwrap_err();
            assert_eq!(e.name, name, "{value}");
        }
        let m = MessagingConfig::from_lookup(lookup(&[
            ("VONAGE_SMS_SIGNATURE_METHOD", "MD5HASH"),
            ("NUMBER_VALIDATION", "number-insight"),
        ]))
        .unwrap();
        assert_eq!(m.sms_signature_method, SmsSignatureMethod::Md5Hash);
        assert_eq!(m.number_validation, NumberValidation::NumberInsight);
    }
}
