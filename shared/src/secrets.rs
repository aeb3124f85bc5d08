//! Webhook secrets, read at run time. In AWS a function gets the secret's
//! Secrets Manager id, never its value: it fetches the value on first use,
//! keeps it for `SECRET_CACHE_SECONDS` (so a rotated secret is picked up
//! without a redeploy) and fetches again after that. When that refresh
//! fails, the last value read keeps serving (up to `MAX_STALE` past its
//! period) and the refresh is tried again after `RETRY_STALE_AFTER`.
//! Local runs and tests may give the value itself.

use std::sync::Arc;
use std::time::Duration;

// Tokio's clock: the tests move it (in a function it is the system's).
use tokio::time::Instant;

use crate::config::SecretSetting;

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager could not be reached, refused, or the secret is not
    /// there. The text names the secret id and the error code, never a value.
    #[error("secret {id} could not be read: {reason}")]
    Unreadable {
        id: String,
        reason: String,
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    #[error("secret {id} holds no {key}")]
    Empty { id: String, key: &'static str },
}

/// One secret of one function, shared by every invocation (cheap to clone).
#[derive(Clone)]
pub struct Secret {
    source: Arc<Source>,
}

enum Source {
    Missing,
    Value(Arc<str>),
    Manager {
        client: aws_sdk_secretsmanager::Client,
        id: String,
        /// The JSON field holding the value, when the secret is JSON.
        key: &'static str,
        ttl: Duration,
        cached: tokio::sync::Mutex<Cached>,
    },
}

/// What a secret read from Secrets Manager last gave: the last good value
/// (and when it was read), and the last failed read, if it came after.
#[derive(Default)]
struct Cached {
    value: Option<(Arc<str>, Instant)>,
    failed: Option<(SecretError, Instant)>,
}

impl Cached {
    /// The last good value while it may still serve, fresh or not: up to
    /// `MAX_STALE` past its cache period.
    fn usable(&self, ttl: Duration) -> Option<Arc<str>> {
        let (value, at) = self.value.as_ref()?;
        (at.elapsed() < ttl.saturating_add(MAX_STALE)).then(|| value.clone())
    }
}

/// How long a failed read stands before the next request tries again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);

/// The same while the last good value serves: a failing read costs its
/// caller the SDK's attempts (up to the operation timeout), so during an
/// outage one request in this long pays for it, not every one.
const RETRY_STALE_AFTER: Duration = Duration::from_secs(5);

/// How long past its cache period the last good value keeps serving while
/// every refresh fails. A failed refresh (Secrets Manager throttled, down
/// or unreachable for a moment) must not take every webhook down with it:
/// the value read a few minutes ago is still the secret the provider signs
/// with unless it was rotated in that very window. An hour bounds how long a
/// value nobody can confirm is trusted: an outage that long (or a secret
/// deleted or no longer readable by the function) then fails closed, as a
/// cold start would.
const MAX_STALE: Duration = Duration::from_secs(3600);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.source {
            Source::Missing => f.write_str("Secret(missing)"),
            Source::Value(_) => f.write_str("Secret(<value>)"),
            Source::Manager { id, .. } => write!(f, "Secret({id})"),
        }
    }
}

impl Secret {
    pub fn missing() -> Self {
        Self {
            source: Arc::new(Source::Missing),
        }
    }

    pub fn value(v: &str) -> Self {
        Self {
            source: Arc::new(Source::Value(v.into())),
        }
    }

    /// The secret as configured. `client` builds the Secrets Manager client
    /// and is only called when the setting names a secret id, so a function
    /// given the value (or nothing) builds no such client.
    pub fn new(
        setting: &SecretSetting,
        key: &'static str,
        ttl: Duration,
        client: impl FnOnce() -> aws_sdk_secretsmanager::Client,
    ) -> Self {
        match setting {
            SecretSetting::None => Self::missing(),
            SecretSetting::Value(v) => Self::value(v),
            SecretSetting::SecretId(id) => {
                let secret = Self {
                    source: Arc::new(Source::Manager {
                        client: client(),
                        id: id.clone(),
                        key,
                        ttl,
                        cached: Default::default(),
                    }),
                };
                secret.prefetch();
                secret
            }
        }
    }

    /// Starts reading the secret now, in the background: a function builds
    /// its secrets during Lambda's init phase, so the read overlaps the rest
    /// of start-up and the runtime's first poll (and is done before the
    /// first call when Lambda initialises ahead of it). The first `get`
    /// waits for this read instead of making its own; a failed read is
    /// left for `get` to retry and report.
    fn prefetch(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let secret = self.clone();
        runtime.spawn(async move {
            let _ = secret.get().await;
        });
    }

    pub fn is_configured(&self) -> bool {
        !matches!(*self.source, Source::Missing)
    }

    /// The value when it is at hand without a request: `Some(None)` when no
    /// secret is configured, `None` when it must be fetched first.
    pub fn at_hand(&self) -> Option<Option<Arc<str>>> {
        match &*self.source {
            Source::Missing => Some(None),
            Source::Value(v) => Some(Some(v.clone())),
            Source::Manager { ttl, cached, .. } => {
                let cached = cached.try_lock().ok()?;
                let (value, at) = cached.value.as_ref()?;
                (at.elapsed() < *ttl).then(|| Some(value.clone()))
            }
        }
    }

    /// The value; `Ok(None)` when no secret is configured.
    pub async fn get(&self) -> Result<Option<Arc<str>>, SecretError> {
        match &*self.source {
            Source::Missing => Ok(None),
            Source::Value(v) => Ok(Some(v.clone())),
            Source::Manager {
                client,
                id,
                key,
                ttl,
                cached,
            } => {
                // Held across the fetch: concurrent invocations of a cold
                // container wait for one read instead of each making one.
                let mut cached = cached.lock().await;
                if let Some((value, at)) = cached.value.as_ref() {
                    if at.elapsed() < *ttl {
                        return Ok(Some(value.clone()));
                    }
                }
                // A read that failed while this one waited for it (the
                // prefetch, or another invocation) is the answer: a second
                // read in a row would keep a caller waiting twice as long.
                // With a last good value at hand, it serves until the
                // refresh is due again.
                if let Some((error, at)) = cached.failed.as_ref() {
                    match cached.usable(*ttl) {
                        Some(value) if at.elapsed() < RETRY_STALE_AFTER => return Ok(Some(value)),
                        None if at.elapsed() < RETRY_AFTER_FAILURE => return Err(error.clone()),
                        _ => {}
                    }
                }
                match fetch(client, id, key).await {
                    Ok(value) => {
                        *cached = Cached {
                            value: Some((value.clone(), Instant::now())),
                            failed: None,
                        };
                        Ok(Some(value))
                    }
                    Err(e) => {
                        cached.failed = Some((e.clone(), Instant::now()));
                        match cached.usable(*ttl) {
                            Some(value) => {
                                tracing::warn!(error = %e, "a secret could not be refreshed: the last value read serves until a refresh succeeds");
                                Ok(Some(value))
                            }
                            None => Err(e),
                        }
                    }
                }
            }
        }
    }
}

async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
    key: &'static str,
) -> Result<Arc<str>, SecretError> {
    use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            id: id.to_string(),
            // The code and message name the failure; they never hold the value.
            reason: e
                .as_service_error()
                .and_then(|s| s.code())
                .map(str::to_string)
                .unwrap_or_else(|| "Secrets Manager unreachable".into()),
            source: Arc::new(e),
        })?;
    let raw = out.secret_string().unwrap_or_default();
    value_of(raw, key).ok_or_else(|| SecretError::Empty {
        id: id.to_string(),
        key,
    })
}

/// A secret is JSON holding `key` (as the template documents), or the plain
/// value.
fn value_of(raw: &str, key: &str) -> Option<Arc<str>> {
    let raw = raw.trim();
    let value = match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(map)) => map.get(key)?.as_str()?.trim().to_string(),
        _ => raw.to_string(),
    };
    (!value.is_empty()).then(|| value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_plain_value() {
        assert_eq!(
            value_of(r#"{"signature_secret": "abc"}"#, "signature_secret").as_deref(),
            Some("abc")
        );
        assert_eq!(value_of(r#"{"other": "abc"}"#, "signature_secret"), None);
        assert_eq!(
            value_of("plain-token", "auth_token").as_deref(),
            Some("plain-token")
        );
        assert_eq!(value_of("  ", "auth_token"), None);
    }

    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A secret read by id from a fake Secrets Manager at `server`, kept
    /// for `ttl`: one request per read (no SDK retries), no prefetch.
    fn secret_at(server: &MockServer, ttl: Duration) -> Secret {
        use aws_sdk_secretsmanager::config::{
            retry::RetryConfig, BehaviorVersion, Credentials, Region,
        };
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(server.uri())
            .retry_config(RetryConfig::disabled())
            .build();
        Secret {
            source: Arc::new(Source::Manager {
                client: aws_sdk_secretsmanager::Client::from_conf(config),
                id: "callmask/test".into(),
                key: "signature_secret",
                ttl,
                cached: Default::default(),
            }),
        }
    }

    /// Secrets Manager answering `value` to every read.
    async fn serves(server: &MockServer, value: &str) {
        server.reset().await;
        let body = serde_json::json!({"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:t", "Name": "t", "SecretString": value});
        let answer =
            ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/x-amz-json-1.1");
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(server)
            .await;
    }

    /// Secrets Manager failing every read (an outage).
    async fn fails(server: &MockServer) {
        server.reset().await;
        let body = r#"{"__type":"InternalServiceError","message":"down"}"#;
        let answer = ResponseTemplate::new(500).set_body_raw(body, "application/x-amz-json-1.1");
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(server)
            .await;
    }

    async fn requests(server: &MockServer) -> usize {
        server.received_requests().await.map_or(0, |r| r.len())
    }

    /// The finding of the hardening issue: a refresh that failed after the
    /// cache period threw the good value away, so every Secrets Manager
    /// blip was an outage of every webhook. Now the last good value keeps
    /// serving (for up to `MAX_STALE` past its period), a failed refresh is
    /// tried again after `RETRY_STALE_AFTER` (one never read after
    /// `RETRY_AFTER_FAILURE`), and a secret never read still fails closed.
    #[tokio::test]
    async fn a_failed_refresh_keeps_serving_the_last_good_value() {
        let server = MockServer::start().await;
        // A zero cache period: every read after the first is a refresh.
        let secret = secret_at(&server, Duration::ZERO);
        fails(&server).await;
        assert!(secret.get().await.is_err(), "never read: fails closed");
        tokio::time::pause();
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        tokio::time::resume();
        serves(&server, "v1").await;
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v1"));

        fails(&server).await;
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v1"));
        assert_eq!(requests(&server).await, 1);
        // Until the retry is due, the failure is not asked again.
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v1"));
        assert_eq!(requests(&server).await, 1);
        tokio::time::pause();
        tokio::time::advance(RETRY_AFTER_FAILURE).await;
        tokio::time::resume();
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v1"));
        assert_eq!(requests(&server).await, 1);
        tokio::time::pause();
        tokio::time::advance(RETRY_STALE_AFTER).await;
        tokio::time::resume();
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v1"));
        assert_eq!(requests(&server).await, 2);

        // Once the outage is over, a rotated value is read.
        tokio::time::pause();
        tokio::time::advance(RETRY_STALE_AFTER).await;
        tokio::time::resume();
        serves(&server, "v2").await;
        assert_eq!(secret.get().await.unwrap().as_deref(), Some("v2"));

        // An outage longer than MAX_STALE: the value is too old to trust.
        fails(&server).await;
        tokio::time::pause();
        tokio::time::advance(MAX_STALE + Duration::from_secs(1)).await;
        tokio::time::resume();
        assert!(secret.get().await.is_err());
    }

    #[tokio::test]
    async fn missing_and_value_sources() {
        assert!(matches!(Secret::missing().get().await, Ok(None)));
        assert!(!Secret::missing().is_configured());
        assert_eq!(
            Secret::value("x").get().await.unwrap().as_deref(),
            Some("x")
        );
        assert!(!format!("{:?}", Secret::value("s3cr3t")).contains("s3cr3t"));
    }
}
