//! The Twilio REST calls the voicemail pipeline makes, through a
//! configurable base URL (tests point it at a local fake). Only this
//! account's recordings on that host are fetched: a callback cannot make us
//! fetch anything else, and redirects may only lead to Twilio or S3.

use std::time::Duration;

use url::Url;

use crate::config::TwilioConfig;
use crate::secrets::Secret;
use crate::usecases::voicemail::{Recording, RecordingSource};
use crate::usecases::PortError;

impl From<TwilioError> for PortError {
    fn from(e: TwilioError) -> Self {
        PortError::new(e)
    }
}

/// The voicemail pipeline's source of recordings.
impl RecordingSource for TwilioClient {
    async fn download(&self, url: &str) -> Result<Recording, PortError> {
        Ok(TwilioClient::download(self, url).await?)
    }

    async fn delete(&self, recording_sid: &str) -> Result<(), PortError> {
        Ok(self.delete_recording(recording_sid).await?)
    }
}

/// Longest recording we copy: an hour of 8 kHz 16-bit WAV is ~58 MB.
const MAX_RECORDING_BYTES: usize = 100 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("recording URL is not a recording of this account on the Twilio API host")]
    ForeignHost,
    #[error("TWILIO_ACCOUNT_SID and the auth token are needed to fetch recordings")]
    NotConfigured,
    #[error("the auth token could not be read: {0}")]
    Secret(#[from] crate::secrets::SecretError),
    #[error("Twilio answered HTTP {0}")]
    Status(u16),
    #[error("Twilio could not be reached: {0}")]
    Network(String),
    #[error("recording is larger than {MAX_RECORDING_BYTES} bytes")]
    TooLarge,
}

/// Whether `raw` is a recording URL we may fetch: the configured API host
/// (same scheme, host and port, no credentials), under this account's
/// `Recordings/`, and https unless the API host is a local fake on loopback.
pub fn recording_url(config: &TwilioConfig, raw: &str) -> Result<Url, TwilioError> {
    let base = Url::parse(&config.api_base_url).map_err(|_| TwilioError::ForeignHost)?;
    let url = Url::parse(raw).map_err(|_| TwilioError::ForeignHost)?;
    let same_host = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    let secure = url.scheme() == "https" || is_loopback(&base);
    let in_account = match &config.account_sid {
        Some(sid) => {
            let prefix = format!("/2010-04-01/Accounts/{sid}/Recordings/");
            url.path()
                .strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '%']))
        }
        // Nothing is fetched without an account; only the host is checked.
        None => true,
    };
    if same_host && secure && in_account {
        Ok(url)
    } else {
        Err(TwilioError::ForeignHost)
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Twilio serves recordings from its API host and may redirect to its own
/// media hosts or to S3; nowhere else.
fn redirect_allowed(base: &Url, to: &Url) -> bool {
    let Some(host) = to.host_str() else {
        return false;
    };
    let local = is_loopback(base) && to.host_str() == base.host_str();
    (to.scheme() == "https"
        && (Some(host) == base.host_str()
            || host == "twilio.com"
            || host.ends_with(".twilio.com")
            || host.ends_with(".amazonaws.com")))
        || local
}

#[derive(Clone, Debug)]
pub struct TwilioClient {
    /// Built on first use: only the voicemail worker downloads.
    http: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    config: TwilioConfig,
    base: Url,
    auth_token: Secret,
}

impl TwilioClient {
    pub fn new(config: TwilioConfig, auth_token: Secret) -> Result<Self, TwilioError> {
        let base = Url::parse(&config.api_base_url).map_err(|_| TwilioError::ForeignHost)?;
        Ok(Self {
            http: Default::default(),
            config,
            base,
            auth_token,
        })
    }

    fn http(&self) -> Result<&reqwest::Client, TwilioError> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let base = self.base.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 3 || !redirect_allowed(&base, attempt.url()) {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .redirect(policy)
            .build()
            .map_err(|e| TwilioError::Network(e.to_string()))?;
        Ok(self.http.get_or_init(|| client))
    }

    async fn credentials(&self) -> Result<(&str, std::sync::Arc<str>), TwilioError> {
        match (&self.config.account_sid, self.auth_token.get().await?) {
            (Some(sid), Some(token)) => Ok((sid, token)),
            _ => Err(TwilioError::NotConfigured),
        }
    }

    /// Downloads a recording with HTTP Basic auth (AccountSid, AuthToken),
    /// stopping as soon as it is larger than we keep.
    pub async fn download(&self, raw_url: &str) -> Result<Recording, TwilioError> {
        let url = recording_url(&self.config, raw_url)?;
        let (sid, token) = self.credentials().await?;
        let mut resp = self
            .http()?
            .get(url)
            .basic_auth(sid, Some(&*token))
            .send()
            .await
            .map_err(|e| TwilioError::Network(e.without_url().to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(TwilioError::Status(status.as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|l| l as usize > MAX_RECORDING_BYTES)
        {
            return Err(TwilioError::TooLarge);
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("audio/x-wav")
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| TwilioError::Network(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_RECORDING_BYTES {
                return Err(TwilioError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Recording {
            bytes,
            content_type,
        })
    }

    /// Deletes Twilio's copy once ours is safe:
    /// `DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` → 204.
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), TwilioError> {
        let (sid, token) = self.credentials().await?;
        let url = self
            .base
            .join(&format!(
                "/2010-04-01/Accounts/{sid}/Recordings/{recording_sid}.json"
            ))
            .map_err(|_| TwilioError::ForeignHost)?;
        let resp = self
            .http()?
            .delete(url)
            .basic_auth(sid, Some(&*token))
            .send()
            .await
            .map_err(|e| TwilioError::Network(e.without_url().to_string()))?;
        match resp.status().as_u16() {
            // 404: already gone, which is what we wanted.
            200..=299 | 404 => Ok(()),
            other => Err(TwilioError::Status(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base: &str) -> TwilioConfig {
        TwilioConfig {
            api_base_url: base.into(),
            account_sid: Some("AC1".into()),
            ..TwilioConfig::default()
        }
    }

    #[test]
    fn only_this_accounts_recordings_on_the_api_host_are_fetched() {
        let c = config("https://api.twilio.com");
        assert!(recording_url(
            &c,
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
        )
        .is_ok());
        assert!(recording_url(
            &c,
            "https://api.twilio.com:443/2010-04-01/Accounts/AC1/Recordings/RE1"
        )
        .is_ok());
        for bad in [
            "https://evil.example.com/2010-04-01/Recordings/RE1",
            "http://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://api.twilio.com.evil.example/x",
            "https://user:pw@api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://api.twilio.com:8443/2010-04-01/Accounts/AC1/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC2/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls/CA1",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/../../AC2/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1/../../../x",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(recording_url(&c, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_only_for_a_local_fake() {
        let local = config("http://127.0.0.1:4010");
        assert!(recording_url(
            &local,
            "http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Recordings/RE1"
        )
        .is_ok());
        let remote = config("http://api.twilio.example");
        assert!(recording_url(
            &remote,
            "http://api.twilio.example/2010-04-01/Accounts/AC1/Recordings/RE1"
        )
        .is_err());
    }

    #[test]
    fn redirects_stay_with_twilio_and_s3() {
        let base = Url::parse("https://api.twilio.com").unwrap();
        let ok = |u: &str| redirect_allowed(&base, &Url::parse(u).unwrap());
        assert!(ok("https://media.twilio.com/x"));
        assert!(ok("https://bucket.s3.amazonaws.com/x"));
        assert!(!ok("http://media.twilio.com/x"));
        assert!(!ok("https://evil.example/x"));
        assert!(!ok("https://twilio.com.evil.example/x"));
    }
}
