//! The Twilio client against a local fake that checks each request as
//! Twilio documents it (path under the account, Basic auth, parameters).

use super::*;
use crate::rest::tests::{assert_refused_without_url, form, query, refused_url};
use std::collections::HashMap;
use wiremock::matchers::{basic_auth, method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub(crate) const SID: &str = "AC00000000000000000000000000000001";
pub(crate) const TOKEN: &str = "token-1";

pub(crate) fn account(rest: &str) -> String {
    format!("/2010-04-01/Accounts/{SID}/{rest}")
}

/// The client of the account, on `base`, with `token`.
pub(crate) fn client_on(base: &str, token: Secret) -> TwilioRest {
    let config = TwilioConfig {
        api_base_url: base.into(),
        account_sid: Some(SID.into()),
        ..TwilioConfig::default()
    };
    TwilioRest::new(crate::rest::http_client(), &config, token).expect("a base URL")
}

pub(crate) fn client(server: &MockServer) -> TwilioRest {
    client_on(&format!("{}/", server.uri()), Secret::value(TOKEN))
}

/// A `verb` request to the account's `rest`, with the account's Basic auth.
pub(crate) fn twilio(verb: &str, rest: &str) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(account(rest)))
        .and(basic_auth(SID, TOKEN))
}

fn numbers(list: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "available_phone_numbers": list.iter().map(|n| serde_json::json!({
            "friendly_name": n, "phone_number": n, "iso_country": "US",
            "capabilities": {"voice": true, "SMS": true, "MMS": false}})).collect::<Vec<_>>()
    })
}

fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

#[tokio::test]
async fn available_asks_for_local_numbers_with_the_features() {
    let server = MockServer::start().await;
    twilio("GET", "AvailablePhoneNumbers/US/Local.json")
        .respond_with(json(200, numbers(&["+15551230001", "+15551230002"])))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .available("us", &["voice", "sms"], 2)
        .await
        .unwrap();
    assert_eq!(found, ["+15551230001", "+15551230002"]);
    let r = &server.received_requests().await.unwrap_or_default()[0];
    let q = query(r);
    assert_eq!(q["PageSize"], "2");
    assert_eq!(q["VoiceEnabled"], "true");
    assert_eq!(q["SmsEnabled"], "true");
    server.verify().await;
}

#[tokio::test]
async fn no_local_numbers_falls_back_to_mobile() {
    for local in [
        json(200, numbers(&[])),
        json(
            404,
            serde_json::json!({"code": 20404,
            "message": "The requested resource was not found", "status": 404}),
        ),
    ] {
        let server = MockServer::start().await;
        twilio("GET", "AvailablePhoneNumbers/GB/Local.json")
            .respond_with(local)
            .expect(1)
            .mount(&server)
            .await;
        twilio("GET", "AvailablePhoneNumbers/GB/Mobile.json")
            .respond_with(json(200, numbers(&["+447700900001"])))
            .expect(1)
            .mount(&server)
            .await;
        let found = client(&server).available("GB", &["sms"], 1).await.unwrap();
        assert_eq!(found, ["+447700900001"]);
        let requests = server.received_requests().await.unwrap_or_default();
        assert!(requests.iter().all(|r| {
            let q = query(r);
            q.get("SmsEnabled").map(String::as_str) == Some("true")
                && !q.contains_key("VoiceEnabled")
        }));
        server.verify().await;
    }
}

#[tokio::test]
async fn nothing_anywhere_is_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, numbers(&[])))
        .expect(2)
        .mount(&server)
        .await;
    assert!(client(&server)
        .available("US", &["voice"], 1)
        .await
        .unwrap()
        .is_empty());
    server.verify().await;
}

#[tokio::test]
async fn buy_sets_the_webhooks() {
    let server = MockServer::start().await;
    twilio("POST", "IncomingPhoneNumbers.json")
        .respond_with(json(
            201,
            serde_json::json!({"sid": "PN1", "phone_number": "+15551230001", "account_sid": SID}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let urls = NumberUrls {
        voice_url: "https://x.example/twilio/voice".into(),
        status_callback: "https://x.example/twilio/status".into(),
        sms_url: "https://x.example/twilio/sms".into(),
    };
    let bought = client(&server).buy("+15551230001", &urls).await.unwrap();
    assert_eq!(bought.sid, "PN1");
    assert_eq!(bought.phone_number, "+15551230001");
    assert_eq!(bought.iso_country, None);
    let f = form(&server.received_requests().await.unwrap_or_default()[0]);
    let expected: HashMap<String, String> = [
        ("PhoneNumber", "+15551230001"),
        ("VoiceUrl", "https://x.example/twilio/voice"),
        ("VoiceMethod", "POST"),
        ("StatusCallback", "https://x.example/twilio/status"),
        ("StatusCallbackMethod", "POST"),
        ("SmsUrl", "https://x.example/twilio/sms"),
        ("SmsMethod", "POST"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(f, expected);
    server.verify().await;
}

#[tokio::test]
async fn release_deletes_the_number() {
    let server = MockServer::start().await;
    twilio("DELETE", "IncomingPhoneNumbers/PN1.json")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = client(&server);
    api.release("PN1").await.unwrap();
    assert!(matches!(
        api.release("../PN1").await,
        Err(RestError::Refused { status: 400, .. })
    ));
    server.verify().await;
}

#[tokio::test]
async fn owned_follows_next_page_uri() {
    let server = MockServer::start().await;
    twilio("GET", "IncomingPhoneNumbers.json")
        .respond_with(|r: &Request| {
            let body = if query(r).get("PageToken").map(String::as_str) == Some("PAabc") {
                serde_json::json!({"incoming_phone_numbers": [
                    {"sid": "PN3", "phone_number": "+15551230003"}], "next_page_uri": null})
            } else {
                serde_json::json!({"incoming_phone_numbers": [
                    {"sid": "PN1", "phone_number": "+15551230001", "iso_country": "US"},
                    {"sid": "PN2", "phone_number": "+15551230002"}],
                    "next_page_uri": account("IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAabc")})
            };
            json(200, body)
        })
        .expect(2)
        .mount(&server)
        .await;
    let owned = client(&server).owned().await.unwrap();
    let sids: Vec<_> = owned.iter().map(|n| n.sid.as_str()).collect();
    assert_eq!(sids, ["PN1", "PN2", "PN3"]);
    assert_eq!(owned[0].iso_country.as_deref(), Some("US"));
    assert_eq!(owned[2].phone_number, "+15551230003");
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(query(&requests[0])["PageSize"], "100");
    assert_eq!(query(&requests[1])["Page"], "1");
    server.verify().await;
}

#[test]
fn the_next_page_stays_on_the_host_and_in_the_account() {
    let current = Url::parse(&format!(
        "https://api.twilio.com{}",
        account("IncomingPhoneNumbers.json?PageSize=100")
    ))
    .unwrap();
    assert!(next_page(&current, SID, &account("IncomingPhoneNumbers.json?Page=1")).is_ok());
    for bad in [
        "https://evil.example/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json",
        "//evil.example/x",
        "/2010-04-01/Accounts/AC2/IncomingPhoneNumbers.json",
        "/2010-04-01/Accounts/AC1/Recordings.json",
    ] {
        assert!(next_page(&current, SID, bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn send_message_posts_the_text() {
    let server = MockServer::start().await;
    twilio("POST", "Messages.json")
        .respond_with(json(
            201,
            serde_json::json!({"sid": "SM1", "status": "queued"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let sid = client(&server)
        .send_message("+15551230001", "+15551230002", "Hi & bye")
        .await
        .unwrap();
    assert_eq!(sid, "SM1");
    let f = form(&server.received_requests().await.unwrap_or_default()[0]);
    assert_eq!(f["From"], "+15551230001");
    assert_eq!(f["To"], "+15551230002");
    assert_eq!(f["Body"], "Hi & bye");
    assert_eq!(f.len(), 3);
    server.verify().await;
}

#[tokio::test]
async fn twilio_errors_map_to_rest_errors() {
    let server = MockServer::start().await;
    twilio("POST", "Messages.json")
        .respond_with(json(
            400,
            serde_json::json!({
            "code": 21211, "message": "The 'To' number +15551230002 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}),
        ))
        .mount(&server)
        .await;
    twilio("DELETE", "IncomingPhoneNumbers/PN1.json")
        .respond_with(json(
            401,
            serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}),
        ))
        .mount(&server)
        .await;
    twilio("GET", "IncomingPhoneNumbers.json")
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3"))
        .mount(&server)
        .await;
    let api = client(&server);
    match api.send_message("+15551230001", "+15551230002", "x").await {
        Err(RestError::Refused {
            status,
            code,
            reason,
        }) => {
            assert_eq!((status, code.as_str()), (400, "21211"));
            assert!(reason.contains("is not a valid phone number"), "{reason}");
            assert!(
                !reason.contains("15551230002"),
                "the number is masked: {reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        api.release("PN1").await,
        Err(RestError::AuthRefused(_))
    ));
    assert!(matches!(
        api.owned().await,
        Err(RestError::RateLimited {
            retry_after_seconds: Some(3)
        })
    ));
    let no_token = client_on(&server.uri(), Secret::missing());
    assert!(matches!(
        no_token.release("PN1").await,
        Err(RestError::NotConfigured("TWILIO_AUTH_TOKEN"))
    ));
}

#[tokio::test]
async fn an_unreachable_api_keeps_the_cause_and_no_credentials() {
    let api = client_on(&refused_url(""), Secret::value("s3cr3t-token"));
    let e = api.send_message("+15551230001", "+15551230002", "x").await;
    let e = e.expect_err("nothing listens");
    assert_refused_without_url(&e, &["s3cr3t-token", SID, "Messages.json"]);
}
