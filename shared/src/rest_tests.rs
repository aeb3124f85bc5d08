//! `rest`'s tests, and the helpers the providers' client tests share.

use super::*;
use std::collections::HashMap;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate, Times};

/// A `verb` request to `at`.
pub(crate) fn on(verb: &str, at: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(at))
}

/// Mounts on `server`: a request `mock` matches gets `response`, `times`
/// times in all (`..`: any; checked by `verify` and when the server drops).
pub(crate) async fn mount(
    server: &MockServer,
    mock: MockBuilder,
    response: impl Respond + 'static,
    times: impl Into<Times>,
) {
    mock.respond_with(response)
        .expect(times)
        .mount(server)
        .await;
}

/// A JSON answer.
pub(crate) fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// The server received nothing.
pub(crate) async fn nothing_received(server: &MockServer) {
    let all = server.received_requests().await.unwrap_or_default();
    assert!(all.is_empty(), "{all:?}");
}

/// A request's query parameters.
pub(crate) fn query(r: &Request) -> HashMap<String, String> {
    r.url.query_pairs().into_owned().collect()
}

/// A request's form parameters.
pub(crate) fn form(r: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&r.body).into_owned().collect()
}

/// The one request the server received (a test sends one).
pub(crate) async fn only_request(server: &MockServer) -> Request {
    let mut all = server.received_requests().await.unwrap_or_default();
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn answer(status: u16, retry_after_seconds: Option<u64>) -> Answer {
    Answer {
        status,
        retry_after_seconds,
        body: Vec::new(),
    }
}

/// The error and every cause under it, as a log line of the chain shows
/// them (texts and debug dumps).
pub(crate) fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(&format!(" | {cause} ({cause:?})"));
        next = cause.source();
    }
    out
}

/// A URL nothing listens on (a port just released).
pub(crate) fn refused_url(rest: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}{rest}")
}

#[test]
fn provider_tls_trusts_the_compiled_in_roots_only() {
    let config = tls_config().expect("TLS config");
    // Certificates are verified (no "dangerous" verifier), HTTP/1.1 only.
    assert!(config.alpn_protocols.is_empty());
    assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    // The clients build with it.
    let _ = http_client();
    assert!(client_with(reqwest::redirect::Policy::limited(3)).is_ok());
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
    assert!(matches!(
        answer(429, Some(7)).error(None, None),
        RestError::RateLimited {
            retry_after_seconds: Some(7)
        }
    ));
    assert!(matches!(
        answer(503, None).error(None, None),
        RestError::Unavailable(_)
    ));
    assert!(matches!(
        answer(420, None).error(Some("420".into()), Some("method failed".into())),
        RestError::Refused { status: 420, code, reason } if code == "420" && reason == "method failed"
    ));
    assert!(matches!(
        answer(404, None).error(None, None),
        RestError::Refused { status: 404, code, reason } if code == "404" && reason == "HTTP 404"
    ));
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
    // Neither in the text nor anywhere in the chain.
    assert!(!chain(&e).contains("447700900123"), "{e}");
}

#[test]
fn a_secret_that_cannot_be_read_is_the_cause() {
    #[derive(Debug, thiserror::Error)]
    #[error("secret tok could not be read: AccessDenied")]
    struct Denied;
    let e = credential::<Denied>(Err(Denied), "the auth token", "AUTH_TOKEN").unwrap_err();
    assert!(matches!(&e, RestError::Unavailable(u) if u.what().starts_with("the auth token: ")));
    assert!(e.source().is_some_and(|s| s.is::<Denied>()), "{e:?}");
    assert!(matches!(
        credential::<Denied>(Ok(None), "the auth token", "AUTH_TOKEN"),
        Err(RestError::NotConfigured("AUTH_TOKEN"))
    ));
    assert_eq!(
        credential::<Denied>(Ok(Some("v".into())), "", "")
            .ok()
            .as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn answers_are_read_and_bounded() {
    let server = MockServer::start().await;
    let big = ResponseTemplate::new(200).set_body_bytes(vec![b'x'; MAX_ANSWER_BYTES + 1]);
    mount(&server, on("GET", "/big"), big, ..).await;
    let busy = ResponseTemplate::new(429).insert_header("Retry-After", "12");
    mount(&server, on("GET", "/busy"), busy, ..).await;
    let http = http_client();
    let big = send(http.get(format!("{}/big", server.uri()))).await;
    assert!(matches!(big, Err(RestError::Unavailable(r)) if r.what().contains("larger")));
    let busy = send(http.get(format!("{}/busy", server.uri())))
        .await
        .unwrap();
    assert_eq!(busy.status, 429);
    assert_eq!(busy.retry_after_seconds, Some(12));
}

#[tokio::test]
async fn no_answer_is_unavailable_without_the_url() {
    let e = send(http_client().get(refused_url("/x?api_secret=s3cr3t")))
        .await
        .unwrap_err();
    assert!(matches!(&e, RestError::Unavailable(_)), "{e:?}");
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
}

/// `e` is a connection refused: its source is the HTTP client's error
/// with no URL, and neither its text nor its chain holds a URL or any of
/// `secrets`, as clients and logs see them.
pub(crate) fn assert_refused_without_url(e: &RestError, secrets: &[&str]) {
    let source = e.source().expect("a source");
    let http = source
        .downcast_ref::<reqwest::Error>()
        .expect("the source is the HTTP client's error");
    assert!(http.is_connect(), "{http:?}");
    assert!(http.url().is_none(), "the URL is dropped: {http:?}");
    assert_eq!(
        e.to_string(),
        "the provider is unavailable: could not connect: error sending request"
    );
    assert_eq!(e.reason(), e.to_string());
    // The chain reaches the operating system's refusal.
    let all = chain(e);
    assert!(all.to_lowercase().contains("refused"), "{all}");
    // The peer's address may be in a debug dump; a URL may not.
    for leak in secrets.iter().chain(&["http://"]) {
        assert!(!all.contains(leak), "{leak} in {all}");
    }
}

#[tokio::test]
async fn a_refused_connection_keeps_the_clients_error_as_its_source() {
    let e = send(http_client().get(refused_url("/x?api_secret=s3cr3t")))
        .await
        .unwrap_err();
    assert_refused_without_url(&e, &["s3cr3t", "api_secret", "/x"]);
}
