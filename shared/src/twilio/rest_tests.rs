//! The Twilio client against a local fake that checks each request as
//! Twilio documents it (path under the account, Basic auth, parameters).

use super::*;
use crate::rest::tests::{
    assert_refused_without_url, form, json, mount, on, only_request, query, refused_url,
};
use std::collections::HashMap;
use wiremock::matchers::basic_auth;
use wiremock::{MockBuilder, MockServer, Request, ResponseTemplate};

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
    on(verb, &account(rest)).and(basic_auth(SID, TOKEN))
}

fn numbers(list: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "available_phone_numbers": list.iter().map(|n| serde_json::json!({
            "friendly_name": n, "phone_number": n, "iso_country": "US",
            "capabilities": {"voice": true, "SMS": true, "MMS": false}})).collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn available_asks_for_local_numbers_with_the_features() {
    let server = MockServer::start().await;
    let offer = json(200, numbers(&["+15551230001", "+15551230002"]));
    let local = twilio("GET", "AvailablePhoneNumbers/US/Local.json");
    mount(&server, local, offer, 1).await;
    let found = client(&server)
        .available("us", &["voice", "sms"], 2)
        .await
        .unwrap();
    assert_eq!(found, ["+15551230001", "+15551230002"]);
    let q = query(&only_request(&server).await);
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
        let mobile = json(200, numbers(&["+447700900001"]));
        mount(
            &server,
            twilio("GET", "AvailablePhoneNumbers/GB/Local.json"),
            local,
            1,
        )
        .await;
        mount(
            &server,
            twilio("GET", "AvailablePhoneNumbers/GB/Mobile.json"),
            mobile,
            1,
        )
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
    let none = json(200, numbers(&[]));
    mount(
        &server,
        twilio("GET", "AvailablePhoneNumbers/US/Local.json"),
        none.clone(),
        1,
    )
    .await;
    mount(
        &server,
        twilio("GET", "AvailablePhoneNumbers/US/Mobile.json"),
        none,
        1,
    )
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
    let sold =
        serde_json::json!({"sid": "PN1", "phone_number": "+15551230001", "account_sid": SID});
    mount(
        &server,
        twilio("POST", "IncomingPhoneNumbers.json"),
        json(201, sold),
        1,
    )
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
    let f = form(&only_request(&server).await);
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
    let number = twilio("DELETE", "IncomingPhoneNumbers/PN1.json");
    mount(&server, number, ResponseTemplate::new(204), 1).await;
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
    let pages = |r: &Request| {
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
    };
    mount(
        &server,
        twilio("GET", "IncomingPhoneNumbers.json"),
        pages,
        2,
    )
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
    let queued = json(201, serde_json::json!({"sid": "SM1", "status": "queued"}));
    mount(&server, twilio("POST", "Messages.json"), queued, 1).await;
    let sid = client(&server)
        .send_message("+15551230001", "+15551230002", "Hi & bye")
        .await
        .unwrap();
    assert_eq!(sid, "SM1");
    let f = form(&only_request(&server).await);
    assert_eq!(f["From"], "+15551230001");
    assert_eq!(f["To"], "+15551230002");
    assert_eq!(f["Body"], "Hi & bye");
    assert_eq!(f.len(), 3);
    server.verify().await;
}

#[tokio::test]
async fn twilio_errors_map_to_rest_errors() {
    let server = MockServer::start().await;
    let invalid = json(
        400,
        serde_json::json!({
        "code": 21211, "message": "The 'To' number +15551230002 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}),
    );
    mount(&server, twilio("POST", "Messages.json"), invalid, ..).await;
    let denied = json(
        401,
        serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}),
    );
    mount(
        &server,
        twilio("DELETE", "IncomingPhoneNumbers/PN1.json"),
        denied,
        ..,
    )
    .await;
    let busy = ResponseTemplate::new(429).insert_header("Retry-After", "3");
    mount(
        &server,
        twilio("GET", "IncomingPhoneNumbers.json"),
        busy,
        ..,
    )
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
