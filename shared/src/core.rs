//! What every function's state holds: its settings, the table and the clock.
//! Each function builds the rest of its state itself (`api::vonage`,
//! `api::twilio`, `api::lines`, `voicemail`), so it builds only the
//! clients it uses.

use aws_config::SdkConfig;

use crate::aws::{self, RequestCounter, Timeouts};
use crate::clock::Clock;
use crate::config::CoreConfig;
use crate::secrets::{Secret, SecretError};
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct Core {
    pub config: CoreConfig,
    pub store: Store,
    pub clock: Clock,
}

impl Core {
    /// The state of a function that needs only the table (`sessions`,
    /// `numbers`).
    pub async fn from_env(timeouts: Timeouts) -> Result<Self, crate::config::ConfigError> {
        Ok(Self::load(timeouts).await?.0)
    }

    /// What every function's start-up does first: the core settings, the
    /// SDK configuration (kept for the function's other clients) and the
    /// table client.
    pub async fn load(timeouts: Timeouts) -> Result<(Self, SdkConfig), crate::config::ConfigError> {
        let config = CoreConfig::from_env()?;
        let sdk = aws::sdk_config(None).await;
        Ok((Self::build(config, &sdk, timeouts, None), sdk))
    }

    /// A webhook secret as configured, cached for `SECRET_CACHE_SECONDS`;
    /// the Secrets Manager client is built only for a secret id.
    pub fn secret(
        &self,
        setting: &crate::config::SecretSetting,
        key: &'static str,
        sdk: &SdkConfig,
        timeouts: Timeouts,
    ) -> Secret {
        let ttl = std::time::Duration::from_secs(self.config.secret_cache_seconds);
        Secret::new(setting, key, ttl, || aws::secrets_manager(sdk, timeouts))
    }

    /// The Twilio auth token as configured (Secrets Manager in AWS).
    pub fn twilio_auth_token(
        &self,
        config: &crate::config::TwilioConfig,
        sdk: &SdkConfig,
        timeouts: Timeouts,
    ) -> Secret {
        self.secret(&config.auth_token, "auth_token", sdk, timeouts)
    }

    /// `counter` counts DynamoDB requests (tests and benchmarks).
    pub fn build(
        config: CoreConfig,
        sdk: &SdkConfig,
        timeouts: Timeouts,
        counter: Option<RequestCounter>,
    ) -> Self {
        let client = aws::dynamodb(sdk, timeouts, counter);
        Self {
            store: Store::new(client, config.table_name.clone()),
            config,
            clock: Clock::system(),
        }
    }

    /// Says at start how this function's webhooks will be checked, loudly
    /// when they will not be.
    pub fn announce_signing(&self, function: &str, secret: &Secret, setting: &str) {
        if secret.is_configured() {
            tracing::info!(function, "webhook signatures are verified");
        } else if self.config.allow_unsigned_webhooks {
            tracing::warn!(
                function,
                "{setting} is not set and ALLOW_UNSIGNED_WEBHOOKS=true: signatures are NOT verified and anyone can call this endpoint (local runs and tests only)"
            );
        } else {
            tracing::error!(
                function,
                "{setting} is not set: every webhook answers 503 until a signature secret is configured"
            );
        }
    }
}

/// Why a webhook was not let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// A missing or wrong signature: a bare 401.
    Unauthorized,
    /// The secret is configured but could not be read: answer as when
    /// storage is down, so the provider retries.
    SecretUnavailable,
    /// No secret and unsigned webhooks not allowed: 503, never a pass.
    NotConfigured,
}

/// The secret to check a webhook with: `Ok(None)` lets it through unsigned
/// (only when allowed); a secret that cannot be read fails closed.
pub fn signing_secret(
    core: &Core,
    fetched: Result<Option<std::sync::Arc<str>>, SecretError>,
) -> Result<Option<std::sync::Arc<str>>, Denied> {
    match fetched {
        Ok(Some(secret)) => Ok(Some(secret)),
        Ok(None) if core.config.allow_unsigned_webhooks => Ok(None),
        Ok(None) => Err(Denied::NotConfigured),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "webhook secret unavailable");
            Err(Denied::SecretUnavailable)
        }
    }
}
