//! The Vonage client against a local fake that checks each request as
//! Vonage documents it (credentials in the query of a GET, in the form of
//! a POST, never in a POST's URL).

use super::*;
use crate::rest::tests::{
    assert_refused_without_url, form, json, mount, nothing_received, on, only_request, query,
    refused_url,
};
use std::collections::HashMap;
use wiremock::{MockServer, Request, ResponseTemplate};

const KEY: &str = "key-1";
const SECRET: &str = "secret-1";

/// The client on `base` (both APIs), with `key` and `secret`.
fn client_on(base: &str, key: Option<&str>, secret: Secret) -> VonageRest {
    VonageRest::new(
        crate::rest::http_client(),
        base,
        &format!("{base}/"),
        key.map(str::to_string),
        secret,
    )
}

fn client(server: &MockServer) -> VonageRest {
    client_on(&server.uri(), Some(KEY), Secret::value(SECRET))
}

fn authed(p: &HashMap<String, String>) -> bool {
    p.get("api_key").map(String::as_str) == Some(KEY)
        && p.get("api_secret").map(String::as_str) == Some(SECRET)
}

fn ok() -> ResponseTemplate {
    json(
        200,
        serde_json::json!({"error-code": "200", "error-code-label": "success"}),
    )
}

/// The Numbers API's failure: HTTP `status` with its code and label.
fn numbers_error(status: u16, label: &str) -> ResponseTemplate {
    json(
        status,
        serde_json::json!({"error-code": status.to_string(), "error-code-label": label}),
    )
}

/// The SMS API's answer: HTTP 200 with each part's status.
fn sms(messages: serde_json::Value) -> ResponseTemplate {
    json(
        200,
        serde_json::json!({"message-count": "1", "messages": messages}),
    )
}

#[tokio::test]
async fn search_sends_the_parameters_and_reads_the_numbers() {
    let server = MockServer::start().await;
    let offer = json(
        200,
        serde_json::json!({"count": 1,
            "numbers": [{"country": "GB", "msisdn": "447700900001", "type": "mobile-lvn",
                "cost": "1.25", "features": ["VOICE", "SMS"]}, {"country": "GB"}]}),
    );
    mount(&server, on("GET", "/number/search"), offer, ..).await;
    let found = client(&server)
        .search("gb", &["voice", "sms"], 3, Some("7700"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].msisdn, "447700900001");
    assert_eq!(found[0].country, "GB");
    assert_eq!(found[0].kind.as_deref(), Some("mobile-lvn"));
    assert_eq!(found[0].features, ["VOICE", "SMS"]);
    let q = query(&only_request(&server).await);
    assert!(authed(&q), "{q:?}");
    assert_eq!(q["country"], "GB");
    assert_eq!(q["features"], "VOICE,SMS");
    assert_eq!(q["size"], "3");
    assert_eq!(q["pattern"], "7700");
}

#[tokio::test]
async fn search_finding_nothing_is_empty() {
    let server = MockServer::start().await;
    let none = json(200, serde_json::json!({"count": 0}));
    mount(&server, on("GET", "/number/search"), none, ..).await;
    let found = client(&server)
        .search("GB", &["sms"], 1, None)
        .await
        .unwrap();
    assert!(found.is_empty());
    let q = query(&only_request(&server).await);
    assert_eq!(q["features"], "SMS");
    assert!(!q.contains_key("pattern"));
}

#[tokio::test]
async fn buy_link_and_cancel_post_forms() {
    let server = MockServer::start().await;
    for p in ["/number/buy", "/number/update", "/number/cancel"] {
        mount(&server, on("POST", p), ok(), 1).await;
    }
    let api = client(&server);
    api.buy("GB", "447700900001").await.unwrap();
    api.link("GB", "447700900001", "app-1").await.unwrap();
    api.cancel("GB", "447700900001").await.unwrap();
    let all = server.received_requests().await.unwrap_or_default();
    assert_eq!(all.len(), 3);
    for r in &all {
        let f = form(r);
        assert!(authed(&f), "{f:?}");
        assert!(r.url.query().is_none(), "the secret stays out of the URL");
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(f["country"], "GB");
        assert_eq!(f["msisdn"], "447700900001");
        assert_eq!(
            f.get("app_id").map(String::as_str),
            (r.url.path() == "/number/update").then_some("app-1")
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn a_refused_purchase_is_refused_with_vonages_code() {
    let server = MockServer::start().await;
    let refused = numbers_error(420, "method failed");
    mount(&server, on("POST", "/number/buy"), refused, ..).await;
    let e = client(&server).buy("GB", "447700900001").await.unwrap_err();
    assert!(
        matches!(&e, RestError::Refused { status: 420, code, reason }
            if code == "420" && reason == "method failed"),
        "{e:?}"
    );
}

#[tokio::test]
async fn bad_credentials_and_rate_limits() {
    let server = MockServer::start().await;
    let denied = numbers_error(401, "authentication failed");
    mount(&server, on("POST", "/number/cancel"), denied, ..).await;
    let busy = ResponseTemplate::new(429).insert_header("Retry-After", "5");
    mount(&server, on("GET", "/account/numbers"), busy, ..).await;
    let api = client(&server);
    assert!(matches!(
        api.cancel("GB", "447700900001").await,
        Err(RestError::AuthRefused(r)) if r.contains("authentication failed")
    ));
    assert!(matches!(
        api.owned().await,
        Err(RestError::RateLimited {
            retry_after_seconds: Some(5)
        })
    ));
}

#[tokio::test]
async fn owned_reads_every_page_until_the_count() {
    let server = MockServer::start().await;
    // Pages of 2 whatever the size asked: `count` says when it ends.
    let number = |msisdn: &str| {
        serde_json::json!({"country": "GB", "msisdn": msisdn, "type": "mobile-lvn",
            "features": ["VOICE", "SMS"], "app_id": "app-1"})
    };
    let pages = [
        vec![number("447700900001"), number("447700900002")],
        vec![number("447700900003")],
    ];
    let page = move |r: &Request| {
        let index = query(r).get("index").and_then(|i| i.parse::<usize>().ok());
        let numbers = index.and_then(|i| pages.get(i.checked_sub(1)?)).cloned();
        json(
            200,
            serde_json::json!({"count": 3, "numbers": numbers.unwrap_or_default()}),
        )
    };
    mount(&server, on("GET", "/account/numbers"), page, 2).await;
    let owned = client(&server).owned().await.unwrap();
    let msisdns: Vec<_> = owned.iter().map(|n| n.msisdn.as_str()).collect();
    assert_eq!(msisdns, ["447700900001", "447700900002", "447700900003"]);
    assert_eq!(owned[0].app_id.as_deref(), Some("app-1"));
    let requests = server.received_requests().await.unwrap_or_default();
    let indexes: Vec<_> = requests.iter().map(|r| query(r)["index"].clone()).collect();
    assert_eq!(indexes, ["1", "2"]);
    assert!(requests
        .iter()
        .all(|r| authed(&query(r)) && query(r)["size"] == "100"));
    server.verify().await;
}

#[tokio::test]
async fn send_sms_returns_the_message_ids() {
    let server = MockServer::start().await;
    let sent = sms(
        serde_json::json!([{"to": "447700900002", "message-id": "0A0000000123ABCD1",
        "status": "0", "remaining-balance": "3.14", "message-price": "0.03", "network": "23410"}]),
    );
    mount(&server, on("POST", "/sms/json"), sent, ..).await;
    let ids = client(&server)
        .send_sms("447700900001", "447700900002", "Hello & bye")
        .await
        .unwrap();
    assert_eq!(ids, ["0A0000000123ABCD1"]);
    let f = form(&only_request(&server).await);
    assert!(authed(&f), "{f:?}");
    assert_eq!(f["from"], "447700900001");
    assert_eq!(f["to"], "447700900002");
    assert_eq!(f["text"], "Hello & bye");
    // GSM-7 is the SMS API's default: no `type` needed.
    assert!(!f.contains_key("type"), "{f:?}");
}

#[tokio::test]
async fn a_text_outside_gsm_goes_as_unicode() {
    for text in ["See you 👋", "Привет", "你好", "It’s 5€"] {
        let server = MockServer::start().await;
        let sent = sms(serde_json::json!([{"to": "447700900002",
            "message-id": "0A0000000123ABCD1", "status": "0"}]));
        mount(&server, on("POST", "/sms/json"), sent, ..).await;
        client(&server)
            .send_sms("447700900001", "447700900002", text)
            .await
            .unwrap();
        let f = form(&only_request(&server).await);
        assert_eq!(f["text"], text);
        assert_eq!(f.get("type").map(String::as_str), Some("unicode"), "{text}");
    }
}

async fn sms_answering(status: &str, text: &str) -> Result<Vec<String>, RestError> {
    let server = MockServer::start().await;
    let refused = sms(serde_json::json!([{"status": status, "error-text": text}]));
    mount(&server, on("POST", "/sms/json"), refused, ..).await;
    client(&server)
        .send_sms("447700900001", "447700900002", "hi")
        .await
}

#[tokio::test]
async fn an_http_200_with_a_failed_status_is_an_error() {
    assert!(matches!(
        sms_answering("2", "Missing to param").await,
        Err(RestError::Refused { status: 200, code, reason })
            if code == "2" && reason == "Missing to param"
    ));
    assert!(matches!(
        sms_answering("1", "Throughput Rate Exceeded").await,
        Err(RestError::RateLimited {
            retry_after_seconds: None
        })
    ));
    assert!(matches!(
        sms_answering("9", "Partner quota exceeded").await,
        Err(RestError::Refused { code, .. }) if code == "9"
    ));
    assert!(matches!(
        sms_answering("5", "Internal Error").await,
        Err(RestError::Unavailable(_))
    ));
}

#[tokio::test]
async fn number_insight_basic_is_read_whatever_its_status() {
    let server = MockServer::start().await;
    let insight = |r: &Request| {
        let n = query(r).get("number").cloned().unwrap_or_default();
        let body = if n == "447700900000" {
            serde_json::json!({"status": 0, "status_message": "Success", "request_id": "r1",
                "international_format_number": n, "national_format_number": "07700 900000",
                "country_code": "GB", "country_code_iso3": "GBR", "country_name": "United Kingdom",
                "country_prefix": "44"})
        } else {
            serde_json::json!({"status": 3, "status_message": "Invalid request"})
        };
        json(200, body)
    };
    mount(&server, on("GET", "/ni/basic/json"), insight, ..).await;
    let api = client(&server);
    let ok = api.number_insight_basic("447700900000").await.unwrap();
    assert_eq!(ok.status, 0);
    assert_eq!(
        ok.international_format_number.as_deref(),
        Some("447700900000")
    );
    assert_eq!(ok.country_code.as_deref(), Some("GB"));
    assert_eq!(ok.status_message.as_deref(), Some("Success"));
    let bad = api.number_insight_basic("12").await.unwrap();
    assert_eq!(bad.status, 3);
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(requests.iter().all(|r| authed(&query(r))));
}

#[tokio::test]
async fn nothing_is_sent_without_credentials() {
    let server = MockServer::start().await;
    let no_secret = client_on(&server.uri(), Some(KEY), Secret::missing());
    assert!(matches!(
        no_secret.buy("GB", "447700900001").await,
        Err(RestError::NotConfigured("VONAGE_API_SECRET"))
    ));
    let no_key = client_on(&server.uri(), None, Secret::value(SECRET));
    assert!(matches!(
        no_key.owned().await,
        Err(RestError::NotConfigured("VONAGE_API_KEY"))
    ));
    nothing_received(&server).await;
}

#[tokio::test]
async fn an_unreachable_api_keeps_the_cause_and_not_the_secret_in_the_query() {
    // A GET: the secret is in the query string of the URL that failed.
    let api = client_on(&refused_url(""), Some(KEY), Secret::value("s3cr3t"));
    let e = api.owned().await.unwrap_err();
    assert_refused_without_url(&e, &["s3cr3t", "api_secret", KEY, "/account/numbers"]);
}
