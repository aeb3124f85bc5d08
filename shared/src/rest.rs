//! What the providers' REST clients (`vonage::rest`, `twilio::rest`) share:
//! one HTTP client with time limits, one error type, and how an answer is
//! read and turned into that error. Each adapter only knows its own wire
//! format (where the error code and reason are in a failure's body).

use std::time::Duration;

use serde::de::DeserializeOwned;

/// A provider that has not accepted the connection by then will not.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// One request, connection to last byte. The functions stop at 10 s too:
/// past this the caller has no time left to report the failure anyway.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest answer read. A page of 100 owned Twilio numbers is ~200 KB; an
/// answer far larger is not one of the answers we parse.
pub const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// Longest provider reason kept in an error (it reaches logs and clients).
const MAX_REASON_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    #[error("the provider is unavailable: {0}")]
    Unavailable(String),
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
}

impl RestError {
    /// The error as a client of our API may read it: no credentials and no
    /// full phone number (provider reasons are redacted when read).
    pub fn reason(&self) -> String {
        self.to_string()
    }
}

/// The client every provider request goes through (clone it: it is a pool).
/// Redirects are not followed: these APIs do not redirect, and following
/// one would send the credentials in the body or header to another place.
pub fn http_client() -> reqwest::Client {
    let mut builder = reqwest::Client::builder();
    if let Some(tls) = tls_config() {
        builder = builder.tls_backend_preconfigured(tls);
    }
    builder
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| {
            // Only a broken TLS setup gets here. The default client still
            // works, and `send` puts the time limit on each request.
            tracing::error!(error = %crate::telemetry::chain(&e), "the HTTP client could not be configured; using the default");
            reqwest::Client::new()
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
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
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

    /// The body as `T`. The parser's message is left out: it can quote the
    /// body, which holds phone numbers.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, RestError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            RestError::Unavailable(format!(
                "HTTP {} answer is not the expected JSON ({:?} error at line {} column {})",
                self.status,
                e.classify(),
                e.line(),
                e.column()
            ))
        })
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
            500..=599 => RestError::Unavailable(format!("HTTP {}: {reason}", self.status)),
            // 1xx/3xx (redirects are not followed) or a success passed here
            // by mistake: nothing we can use.
            other => RestError::Unavailable(format!("unexpected HTTP {other}")),
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
pub async fn read(mut resp: reqwest::Response) -> Result<Answer, RestError> {
    let status = resp.status().as_u16();
    let retry_after_seconds = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    let too_large =
        || RestError::Unavailable(format!("answer larger than {MAX_ANSWER_BYTES} bytes"));
    if resp
        .content_length()
        .is_some_and(|l| l > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        retry_after_seconds,
        body,
    })
}

/// `Retry-After` as delay-seconds. The HTTP-date form is not used by these
/// providers and is taken as "no hint".
fn retry_after(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

/// A request that got no answer. The URL is dropped from the text: Vonage
/// GET requests carry the API secret in the query string.
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
    RestError::Unavailable(format!("{what}: {}", e.without_url()))
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
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn answer(status: u16, retry_after_seconds: Option<u64>) -> Answer {
        Answer {
            status,
            retry_after_seconds,
            body: Vec::new(),
        }
    }

    #[test]
    fn provider_tls_trusts_the_compiled_in_roots_only() {
        let config = tls_config().expect("TLS config");
        // Certificates are verified (no "dangerous" verifier), HTTP/1.1 only.
        assert!(config.alpn_protocols.is_empty());
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
        // The client builds with it.
        let _ = http_client();
    }

    #[test]
    fn statuses_map_to_errors() {
        assert!(matches!(
            answer(401, None).error(None, None),
            RestError::AuthRefused(_)
        ));
        assert!(matches!(
            answer(403, None).error(Some("20403".into()), Some("Permission denied".into())),
            RestError::AuthRefused(r) if r.contains("Permission denied")
        ));
        assert_eq!(
            answer(429, Some(7)).error(None, None),
            RestError::RateLimited {
                retry_after_seconds: Some(7)
            }
        );
        assert!(matches!(
            answer(503, None).error(None, None),
            RestError::Unavailable(_)
        ));
        assert_eq!(
            answer(420, None).error(Some("420".into()), Some("method failed".into())),
            RestError::Refused {
                status: 420,
                code: "420".into(),
                reason: "method failed".into()
            }
        );
        assert_eq!(
            answer(404, None).error(None, None),
            RestError::Refused {
                status: 404,
                code: "404".into(),
                reason: "HTTP 404".into()
            }
        );
        assert!(matches!(
            answer(302, None).error(None, None),
            RestError::Unavailable(_)
        ));
    }

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(retry_after(" 30 "), Some(30));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after("-1"), None);
    }

    #[test]
    fn reasons_lose_phone_numbers() {
        let r = redact("The 'To' number +15551230601 is not a valid phone number.");
        assert!(!r.contains("15551230601"), "{r}");
        assert!(r.contains("…601"), "{r}");
        // Short codes and error numbers stay readable.
        assert_eq!(redact("error 21452 at 12:30"), "error 21452 at 12:30");
        assert!(redact(&"x".repeat(500)).chars().count() <= MAX_REASON_CHARS + 1);
    }

    #[test]
    fn malformed_json_does_not_quote_the_body() {
        let a = Answer {
            status: 200,
            retry_after_seconds: None,
            body: br#"{"count": "447700900123"}"#.to_vec(),
        };
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Count {
            count: u64,
        }
        let e = a.json::<Count>().unwrap_err();
        assert!(matches!(&e, RestError::Unavailable(_)));
        assert!(!e.to_string().contains("447700900123"), "{e}");
    }

    #[tokio::test]
    async fn answers_are_read_and_bounded() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/big"))
            .respond_with(
                ResponseTemplate::new(200).set_body_bytes(vec![b'x'; MAX_ANSWER_BYTES + 1]),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/busy"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "12"))
            .mount(&server)
            .await;
        let http = http_client();
        let big = send(http.get(format!("{}/big", server.uri()))).await;
        assert!(matches!(big, Err(RestError::Unavailable(r)) if r.contains("larger")));
        let busy = send(http.get(format!("{}/busy", server.uri())))
            .await
            .unwrap();
        assert_eq!(busy.status, 429);
        assert_eq!(busy.retry_after_seconds, Some(12));
    }

    #[tokio::test]
    async fn no_answer_is_unavailable_without_the_url() {
        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = send(http_client().get(format!("http://127.0.0.1:{port}/x?api_secret=s3cr3t")))
            .await
            .unwrap_err();
        assert!(matches!(&e, RestError::Unavailable(_)), "{e:?}");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
    }
}
