//! What the providers' REST clients (`vonage::rest`, `twilio::rest`) share:
//! one way to build the HTTP client (TLS roots, time limits), one error
//! type, and how an answer is read and turned into that error. Each adapter
//! only knows its own wire format (where the error code and reason are in a
//! failure's body).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

/// A provider that has not accepted the connection by then will not.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One request, connection to last byte. The functions stop at 10 s: a
/// request that gives up at 6 s leaves the function time to act on the
/// failure (give a text's claim back, answer 503 so the provider retries)
/// rather than be cut mid-send. A template test keeps the margin.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(6);

/// One download of a whole file (a recording of up to an hour), connection
/// to last byte: the only request allowed longer than `REQUEST_TIMEOUT`.
/// The voicemail worker runs for 60 s.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer read. A page of 100 owned Twilio numbers is ~200 KB; an
/// answer far larger is not one of the answers we parse.
pub const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// Pages of a list read at most (50,000 numbers at 100 a page): far past
/// any pool; a provider that keeps answering pages past that is looping.
pub const MAX_PAGES: u32 = 500;

/// Longest provider reason kept in an error (it reaches logs and clients).
const MAX_REASON_CHARS: usize = 200;

/// Why a provider request failed. A failure to reach the provider keeps its
/// cause (`source()`: the HTTP client's error, or the secret's), with no URL
/// in it: a Vonage GET carries the API secret in its query string.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("the provider refused our credentials: {0}")]
    AuthRefused(String),
    #[error("the provider has no numbers matching the search")]
    NoneAvailable,
    #[error("the provider is rate limiting us; retry after {retry_after_seconds:?} s")]
    RateLimited { retry_after_seconds: Option<u64> },
    #[error("the provider refused the request ({code}): {reason}")]
    Refused {
        status: u16,
        code: String,
        reason: String,
    },
    #[error(transparent)]
    Unavailable(Unavailable),
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}

/// The provider could not be reached, or answered what we cannot use.
#[derive(Debug, thiserror::Error)]
#[error("the provider is unavailable: {what}")]
pub struct Unavailable {
    what: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Unavailable {
    /// What went wrong, as the error's text says it.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl RestError {
    /// The error as a client of our API may read it: no credentials and no
    /// full phone number (provider reasons are redacted when read, and no
    /// text here holds a URL).
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// Unavailable, for a reason of our own (no cause to keep).
    pub fn unavailable(what: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable {
            what: what.into(),
            source: None,
        })
    }

    /// Unavailable because of `source`, kept as the error's source. Its text
    /// must hold no URL nor credentials: it is part of `what` too.
    pub fn unavailable_because(
        what: impl Into<String>,
        source: impl StdError + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable(Unavailable {
            what: what.into(),
            source: Some(Box::new(source)),
        })
    }

    /// A list that keeps giving pages after `MAX_PAGES`.
    pub fn endless_list() -> Self {
        Self::unavailable(format!(
            "the account's numbers did not end after {MAX_PAGES} pages"
        ))
    }
}

/// A credential kept in a secret: the value, `NotConfigured(setting)` when
/// there is none, and a failure to read it names the secret (`what`) and
/// keeps the cause, never a value.
pub fn credential<E: StdError + Send + Sync + 'static>(
    read: Result<Option<Arc<str>>, E>,
    what: &str,
    setting: &'static str,
) -> Result<Arc<str>, RestError> {
    match read {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(RestError::NotConfigured(setting)),
        Err(e) => Err(RestError::unavailable_because(format!("{what}: {e}"), e)),
    }
}

/// The client every provider request goes through (clone it: it is a pool).
/// Redirects are not followed: these APIs do not redirect, and following
/// one would send the credentials in the body or header to another place.
pub fn http_client() -> reqwest::Client {
    client_with(reqwest::redirect::Policy::none()).unwrap_or_else(|e| {
        // Only a broken TLS setup gets here. The default client still
        // works, and `send` puts the time limit on each request.
        tracing::error!(error = %crate::telemetry::chain(&e), "the HTTP client could not be configured; using the default");
        reqwest::Client::new()
    })
}

/// A client with the providers' TLS and time limits and its own redirect
/// policy (a download that may be redirected to the provider's media host).
pub fn client_with(redirect: reqwest::redirect::Policy) -> Result<reqwest::Client, RestError> {
    let mut builder = reqwest::Client::builder();
    if let Some(tls) = tls_config() {
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(redirect)
        .build()
        .map_err(|e| {
            let e = e.without_url();
            RestError::unavailable_because(format!("the HTTP client could not be built: {e}"), e)
        })
}

/// TLS to the providers: Mozilla's root program as `webpki-roots` compiles
/// it in, so building the client parses nothing (reqwest's default verifier
/// reads and parses every file of the system store first: milliseconds of a
/// cold start, more at Lambda's small CPU shares). `TLS_NATIVE_ROOTS=true`
/// trusts the system store instead, as for the AWS clients. `None` leaves
/// reqwest's default.
fn tls_config() -> Option<rustls::ClientConfig> {
    if std::env::var("TLS_NATIVE_ROOTS").is_ok_and(|v| v == "true") {
        return None;
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => Some(b.with_root_certificates(roots).with_no_client_auth()),
        Err(e) => {
            tracing::error!(error = %crate::telemetry::chain(&e), "TLS for the providers could not be configured; using reqwest's default");
            None
        }
    }
}

/// A provider's answer, read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after_seconds: Option<u64>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer when it is a success, else the error `error_of` reads
    /// from it (each provider writes its failures its own way).
    pub fn success(self, error_of: impl FnOnce(&Answer) -> RestError) -> Result<Self, RestError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(error_of(&self))
        }
    }

    /// The body as `T`. The parser's error is left out, as text and as
    /// source: it can quote the body, which holds phone numbers.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, RestError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            RestError::unavailable(format!(
                "HTTP {} answer is not the expected JSON ({:?} error at line {} column {})",
                self.status,
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    /// What a failure's body says, as far as it is `T`; nothing (`T`'s
    /// default) when it is not.
    pub fn failure_body<T: DeserializeOwned + Default>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    /// The error for an answer that is not a success. `code` and `reason`
    /// are what the provider's error body says, when it says anything.
    pub fn error(&self, code: Option<String>, reason: Option<String>) -> RestError {
        let reason = reason
            .as_deref()
            .map(redact)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| format!("HTTP {}", self.status));
        match self.status {
            401 | 403 => RestError::AuthRefused(format!("HTTP {}: {reason}", self.status)),
            429 => RestError::RateLimited {
                retry_after_seconds: self.retry_after_seconds,
            },
            400..=499 => RestError::Refused {
                status: self.status,
                code: code
                    .map(|c| redact(&c))
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| self.status.to_string()),
                reason,
            },
            500..=599 => RestError::unavailable(format!("HTTP {}: {reason}", self.status)),
            // 1xx/3xx (redirects are not followed, or no further) or a
            // success passed here by mistake: nothing we can use.
            other => RestError::unavailable(format!("unexpected HTTP {other}")),
        }
    }
}

/// Sends one request and reads its answer. The time limit is set here as
/// well as on the client, so a client built elsewhere (tests) has one too.
pub async fn send(req: reqwest::RequestBuilder) -> Result<Answer, RestError> {
    let resp = req
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(transport_error)?;
    read(resp).await
}

/// Reads an answer, stopping as soon as it is larger than any we parse.
pub async fn read(resp: reqwest::Response) -> Result<Answer, RestError> {
    let status = resp.status().as_u16();
    let retry_after_seconds = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    let body = read_body(resp, MAX_ANSWER_BYTES).await?;
    Ok(Answer {
        status,
        retry_after_seconds,
        body,
    })
}

/// An answer's body, stopping as soon as it is larger than `limit` bytes.
pub async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, RestError> {
    let too_large = || RestError::unavailable(format!("answer larger than {limit} bytes"));
    if resp.content_length().is_some_and(|l| l > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` as delay-seconds. The HTTP-date form is not used by these
/// providers and is taken as "no hint".
fn retry_after(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

/// A request that got no (whole) answer; the client's error is its source.
/// The URL is dropped from both: Vonage GET requests carry the API secret
/// in the query string, and a redirect's URL may be a presigned link.
pub fn transport_error(e: reqwest::Error) -> RestError {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let e = e.without_url();
    RestError::unavailable_because(format!("{what}: {e}"), e)
}

/// A provider's reason, fit for logs and clients: trimmed, shortened, and
/// with any phone-number-like run of digits masked (Twilio quotes the
/// number it refuses).
pub fn redact(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 7 {
            out.push_str(&crate::phone::mask_raw(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.trim().chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > MAX_REASON_CHARS {
        out = out.chars().take(MAX_REASON_CHARS).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
#[path = "rest_tests.rs"]
pub(crate) mod tests;
