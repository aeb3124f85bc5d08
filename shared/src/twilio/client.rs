//! The Twilio REST calls the voicemail pipeline makes, through a
//! configurable base URL (tests point it at a local fake). Only recording
//! URLs on that host are fetched: a callback cannot make us fetch anything
//! else.

use std::time::Duration;

use url::Url;

/// Longest recording we copy: an hour of 8 kHz 16-bit WAV is ~58 MB.
const MAX_RECORDING_BYTES: usize = 100 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("recording URL is not on the Twilio API host")]
    ForeignHost,
    #[error("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed to fetch recordings")]
    NotConfigured,
    #[error("Twilio answered HTTP {0}")]
    Status(u16),
    #[error("Twilio could not be reached: {0}")]
    Network(String),
    #[error("recording is larger than {MAX_RECORDING_BYTES} bytes")]
    TooLarge,
}

#[derive(Clone, Debug)]
pub struct TwilioClient {
    /// Built on first use: only the voicemail worker downloads, and building
    /// a TLS client costs every other function's cold start.
    http: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
    base: Url,
    account_sid: Option<String>,
    auth_token: Option<String>,
}

pub struct Recording {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl TwilioClient {
    pub fn new(
        base_url: &str,
        account_sid: Option<String>,
        auth_token: Option<String>,
    ) -> Result<Self, TwilioError> {
        let base = Url::parse(base_url).map_err(|_| TwilioError::ForeignHost)?;
        Ok(Self {
            http: Default::default(),
            base,
            account_sid,
            auth_token,
        })
    }

    /// The recording URL, if it is on the configured API host (same scheme,
    /// host and port).
    pub fn recording_url(&self, raw: &str) -> Result<Url, TwilioError> {
        let url = Url::parse(raw).map_err(|_| TwilioError::ForeignHost)?;
        let same = url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none();
        if same {
            Ok(url)
        } else {
            Err(TwilioError::ForeignHost)
        }
    }

    fn http(&self) -> Result<&reqwest::Client, TwilioError> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| TwilioError::Network(e.to_string()))?;
        Ok(self.http.get_or_init(|| client))
    }

    fn credentials(&self) -> Result<(&str, &str), TwilioError> {
        match (&self.account_sid, &self.auth_token) {
            (Some(sid), Some(token)) => Ok((sid, token)),
            _ => Err(TwilioError::NotConfigured),
        }
    }

    /// Downloads a recording with HTTP Basic auth (AccountSid, AuthToken).
    pub async fn download(&self, raw_url: &str) -> Result<Recording, TwilioError> {
        let url = self.recording_url(raw_url)?;
        let (sid, token) = self.credentials()?;
        let resp = self
            .http()?
            .get(url)
            .basic_auth(sid, Some(token))
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
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| TwilioError::Network(e.without_url().to_string()))?;
        if bytes.len() > MAX_RECORDING_BYTES {
            return Err(TwilioError::TooLarge);
        }
        Ok(Recording {
            bytes: bytes.to_vec(),
            content_type,
        })
    }

    /// Deletes Twilio's copy once ours is safe:
    /// `DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` → 204.
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), TwilioError> {
        let (sid, token) = self.credentials()?;
        let url = self
            .base
            .join(&format!(
                "/2010-04-01/Accounts/{sid}/Recordings/{recording_sid}.json"
            ))
            .map_err(|_| TwilioError::ForeignHost)?;
        let resp = self
            .http()?
            .delete(url)
            .basic_auth(sid, Some(token))
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

    #[test]
    fn only_the_api_host_is_fetched() {
        let c = TwilioClient::new(
            "https://api.twilio.com",
            Some("AC1".into()),
            Some("t".into()),
        )
        .unwrap();
        assert!(c
            .recording_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")
            .is_ok());
        assert!(c
            .recording_url("https://api.twilio.com:443/2010-04-01/Accounts/AC1/Recordings/RE1")
            .is_ok());
        for bad in [
            "https://evil.example.com/2010-04-01/Recordings/RE1",
            "http://api.twilio.com/x",
            "https://api.twilio.com.evil.example/x",
            "https://user:pw@api.twilio.com/x",
            "https://api.twilio.com:8443/x",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(c.recording_url(bad).is_err(), "{bad}");
        }
    }
}
