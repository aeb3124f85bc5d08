//! The recordings the voicemail pipeline copies, through the Twilio REST
//! client: downloaded with Basic auth and deleted once our copy is safe.
//! Only this account's recordings on the configured API host are fetched:
//! a callback cannot make us fetch anything else, and redirects may only
//! lead to Twilio or S3.

use url::Url;

use crate::config::TwilioConfig;
use crate::rest::{self, RestError};
use crate::twilio::rest::{error_of, path_safe, TwilioRest};
use crate::usecases::voicemail::{Recording, RecordingSource};
use crate::usecases::{Port, PortError};

/// Longest recording we copy: an hour of 8 kHz 16-bit WAV is ~58 MB.
const MAX_RECORDING_BYTES: usize = 100 * 1024 * 1024;

/// Redirects followed at most on the way to a recording.
const MAX_REDIRECTS: usize = 3;

/// The voicemail pipeline's source of recordings.
impl RecordingSource for TwilioRest {
    async fn download(&self, url: &str) -> Port<Recording> {
        TwilioRest::download(self, url)
            .await
            .map_err(PortError::new)
    }

    async fn delete(&self, recording_sid: &str) -> Port<()> {
        self.delete_recording(recording_sid)
            .await
            .map_err(PortError::new)
    }
}

/// A URL we do not fetch: refused (400) here, before anything is sent.
fn foreign() -> RestError {
    RestError::Refused {
        status: 400,
        code: "foreign_recording_url".into(),
        reason: "the recording URL is not a recording of this account on the Twilio API host"
            .into(),
    }
}

/// Whether `raw` is a recording URL we may fetch: the configured API host
/// (same scheme, host and port, no credentials), under this account's
/// `Recordings/`, and https unless the API host is a local fake on loopback.
pub fn recording_url(config: &TwilioConfig, raw: &str) -> Result<Url, RestError> {
    let base = Url::parse(&config.api_base_url).map_err(|_| foreign())?;
    recording_url_on(&base, config.account_sid.as_deref(), raw)
}

fn recording_url_on(base: &Url, account_sid: Option<&str>, raw: &str) -> Result<Url, RestError> {
    let url = Url::parse(raw).map_err(|_| foreign())?;
    let same_host = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.username().is_empty()
        && url.password().is_none();
    let secure = url.scheme() == "https" || is_loopback(base);
    let in_account = match account_sid {
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
        Err(foreign())
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

impl TwilioRest {
    /// The download client: `rest`'s settings, and redirects followed only
    /// to Twilio or S3, three at most.
    fn media(&self) -> Result<&reqwest::Client, RestError> {
        if let Some(c) = self.media.get() {
            return Ok(c);
        }
        let base = self.base.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS || !redirect_allowed(&base, attempt.url())
            {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = rest::client_with(policy)?;
        Ok(self.media.get_or_init(|| client))
    }

    /// Downloads a recording with HTTP Basic auth (AccountSid, AuthToken),
    /// stopping as soon as it is larger than we keep.
    pub async fn download(&self, raw_url: &str) -> Result<Recording, RestError> {
        let url = recording_url_on(&self.base, self.account_sid.as_deref(), raw_url)?;
        let (sid, token) = self.credentials().await?;
        let resp = self
            .media()?
            .get(url)
            .basic_auth(sid, Some(&*token))
            .timeout(rest::DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(rest::transport_error)?;
        if !resp.status().is_success() {
            return Err(error_of(&rest::read(resp).await?));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("audio/x-wav")
            .to_string();
        let bytes = rest::read_body(resp, MAX_RECORDING_BYTES).await?;
        Ok(Recording {
            bytes,
            content_type,
        })
    }

    /// Deletes Twilio's copy once ours is safe:
    /// `DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` → 204.
    pub async fn delete_recording(&self, recording_sid: &str) -> Result<(), RestError> {
        path_safe("the recording's sid", recording_sid)?;
        let answer = self
            .call(
                reqwest::Method::DELETE,
                &format!("Recordings/{recording_sid}.json"),
                &[],
                None,
            )
            .await?;
        match answer.status {
            // 404: already gone, which is what we wanted.
            404 => Ok(()),
            _ => answer.success(error_of).map(drop),
        }
    }
}

#[cfg(test)]
#[path = "recordings_tests.rs"]
mod tests;
