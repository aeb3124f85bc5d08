//! Private sessions end to end on the emulator, with both providers' REST
//! APIs as local fakes that check each request as the providers document
//! it: numbers bought, linked and added; sessions with SMS notices; texts
//! relayed both ways on both providers (and a repeated delivery relayed
//! once); a number released; an account's numbers imported across pages.

mod support;

use std::collections::HashMap;

use callmask::config::SecretSetting;
use serde_json::{json, Value};
use support::{Reply, TestEnv};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "vonage-key-1";
const SECRET: &str = "vonage-secret-1";
const APP: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-token-1";
const PUBLIC: &str = "http://127.0.0.1:3000";

const GB: [&str; 3] = ["447700900601", "447700900602", "447700900603"];
const US: [&str; 3] = ["+15551230601", "+15551230602", "+15551230603"];

/// The parameters of a request: query string and form body together.
fn params(req: &Request) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
    let json = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if json {
        if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&req.body) {
            for (k, v) in o {
                out.insert(k, v.as_str().map(str::to_string).unwrap_or(v.to_string()));
            }
        }
    } else {
        out.extend(url::form_urlencoded::parse(&req.body).into_owned());
    }
    out
}

/// Vonage's REST authentication: `api_key` and `api_secret` parameters.
fn vonage_auth(req: &Request) -> bool {
    let p = params(req);
    p.get("api_key").map(String::as_str) == Some(KEY)
        && p.get("api_secret").map(String::as_str) == Some(SECRET)
}

/// Twilio's: HTTP Basic with the account SID and auth token.
fn twilio_auth(req: &Request) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"))
    );
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

fn ok_vonage() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"error-code": "200", "error-code-label": "success"}))
}

async fn vonage_fake() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/number/search"))
        .and(|r: &Request| {
            let p = params(r);
            let features = p.get("features").cloned().unwrap_or_default();
            vonage_auth(r)
                && p.get("country").map(String::as_str) == Some("GB")
                && features.split(',').any(|f| f == "VOICE")
                && features.split(',').any(|f| f == "SMS")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "count": 3,
            "numbers": GB.iter().map(|m| json!({"country": "GB", "msisdn": m, "type": "mobile-lvn",
                "cost": "1.25", "features": ["VOICE", "SMS"]})).collect::<Vec<_>>()
        })))
        .expect(1)
        .mount(&server)
        .await;
    for (p, extra) in [("/number/buy", None), ("/number/update", Some(APP))] {
        Mock::given(method("POST"))
            .and(path(p))
            .and(move |r: &Request| {
                let q = params(r);
                vonage_auth(r)
                    && q.get("country").map(String::as_str) == Some("GB")
                    && q.get("msisdn").is_some_and(|m| GB.contains(&m.as_str()))
                    && extra.is_none_or(|app| q.get("app_id").map(String::as_str) == Some(app))
            })
            .respond_with(ok_vonage())
            .expect(3)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/number/cancel"))
        .and(|r: &Request| {
            let q = params(r);
            vonage_auth(r)
                && q.get("country").map(String::as_str) == Some("GB")
                && q.get("msisdn").map(String::as_str) == Some(GB[2])
        })
        .respond_with(ok_vonage())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sms/json"))
        .and(vonage_auth)
        .respond_with(|r: &Request| {
            let to = params(r).get("to").cloned().unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({
                "message-count": "1",
                "messages": [{"to": to, "message-id": format!("0B{}", uuid::Uuid::new_v4().simple()),
                    "status": "0", "remaining-balance": "9.50", "message-price": "0.04", "network": "23410"}]
            }))
        })
        .mount(&server)
        .await;
    // The account's numbers, two pages of up to 2 (three in all).
    Mock::given(method("GET"))
        .and(path("/account/numbers"))
        .and(vonage_auth)
        .respond_with(|r: &Request| {
            let p = params(r);
            let size: usize = p.get("size").and_then(|s| s.parse().ok()).unwrap_or(10).min(2);
            let index: usize = p.get("index").and_then(|s| s.parse().ok()).unwrap_or(1);
            let owned = ["447700900601", "447700900602", "447700900699"];
            let page: Vec<Value> = owned
                .iter()
                .skip((index.max(1) - 1) * size)
                .take(size)
                .map(|m| json!({"country": "GB", "msisdn": m, "type": "mobile-lvn", "features": ["VOICE", "SMS"], "app_id": APP}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"count": owned.len(), "numbers": page}))
        })
        .mount(&server)
        .await;
    server
}

fn account_path(rest: &str) -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT}/{rest}")
}

fn sid_for(number: &str) -> String {
    format!("PN{:0>32}", number.trim_start_matches('+'))
}

async fn twilio_fake() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(account_path("AvailablePhoneNumbers/US/Local.json")))
        .and(twilio_auth)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "available_phone_numbers": US.iter().map(|n| json!({"friendly_name": n, "phone_number": n,
                "iso_country": "US", "capabilities": {"voice": true, "SMS": true, "MMS": true}})).collect::<Vec<_>>(),
            "uri": account_path("AvailablePhoneNumbers/US/Local.json")
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(account_path("IncomingPhoneNumbers.json")))
        .and(|r: &Request| {
            let p = params(r);
            twilio_auth(r)
                && p.get("PhoneNumber")
                    .is_some_and(|n| US.contains(&n.as_str()))
                && p.get("VoiceUrl").map(String::as_str) == Some(&format!("{PUBLIC}/twilio/voice"))
                && p.get("VoiceMethod").map(String::as_str) == Some("POST")
                && p.get("StatusCallback").map(String::as_str)
                    == Some(&format!("{PUBLIC}/twilio/status"))
                && p.get("SmsUrl").map(String::as_str) == Some(&format!("{PUBLIC}/twilio/sms"))
                && p.get("SmsMethod").map(String::as_str) == Some("POST")
        })
        .respond_with(|r: &Request| {
            let n = params(r).get("PhoneNumber").cloned().unwrap_or_default();
            ResponseTemplate::new(201).set_body_json(json!({"sid": sid_for(&n), "phone_number": n,
                "account_sid": ACCOUNT, "iso_country": "US"}))
        })
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(account_path(&format!(
            "IncomingPhoneNumbers/{}.json",
            sid_for(US[2])
        ))))
        .and(twilio_auth)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    // A number whose release the provider refuses.
    Mock::given(method("DELETE"))
        .and(path(account_path(&format!("IncomingPhoneNumbers/{}.json", sid_for("+15551230699")))))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"code": 20403,
            "message": "Permission denied", "more_info": "https://www.twilio.com/docs/errors/20403", "status": 403})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(account_path("Messages.json")))
        .and(twilio_auth)
        .respond_with(|r: &Request| {
            let p = params(r);
            ResponseTemplate::new(201).set_body_json(json!({"sid": format!("SM{}", uuid::Uuid::new_v4().simple()),
                "status": "queued", "to": p.get("To"), "from": p.get("From"), "body": p.get("Body")}))
        })
        .mount(&server)
        .await;
    // Owned numbers, two pages joined by next_page_uri.
    Mock::given(method("GET"))
        .and(path(account_path("IncomingPhoneNumbers.json")))
        .and(twilio_auth)
        .respond_with(|r: &Request| {
            let page: usize = params(r)
                .get("Page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            let owned = ["+15551230601", "+15551230698", "+15551230699"];
            let chunk: Vec<Value> = owned
                .iter()
                .skip(page * 2)
                .take(2)
                .map(|n| json!({"sid": sid_for(n), "phone_number": n, "iso_country": "US"}))
                .collect();
            let next = (page == 0).then(|| {
                account_path("IncomingPhoneNumbers.json?PageSize=2&Page=1&PageToken=PAabc")
            });
            ResponseTemplate::new(200).set_body_json(json!({"incoming_phone_numbers": chunk,
                "next_page_uri": next, "page": page, "page_size": 2}))
        })
        .mount(&server)
        .await;
    server
}

async fn stack(vonage: &MockServer, twilio: &MockServer) -> TestEnv {
    let mut config = support::test_config();
    config.core.public_base_url = Some(PUBLIC.into());
    config.messaging.vonage_api_key = Some(KEY.into());
    config.messaging.vonage_api_secret = SecretSetting::Value(SECRET.into());
    config.messaging.vonage_rest_base_url = vonage.uri();
    config.vonage.api_base_url = vonage.uri();
    config.vonage.application_id = Some(APP.into());
    config.twilio.account_sid = Some(ACCOUNT.into());
    config.twilio.auth_token = SecretSetting::Value(TOKEN.into());
    config.twilio.api_base_url = twilio.uri();
    support::env_with(config).await
}

/// A form POST signed as Twilio signs it.
async fn twilio_post(t: &TestEnv, path: &str, params: &[(&str, &str)]) -> Reply {
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = callmask::twilio::signature::compute(TOKEN, &format!("{PUBLIC}{path}"), &pairs);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    t.request(
        "POST",
        path,
        Some(&body),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", &sig),
        ],
    )
    .await
}

async fn texts(server: &MockServer, path: &str) -> Vec<HashMap<String, String>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path && r.method.as_str() == "POST")
        .map(params)
        .collect()
}

#[tokio::test]
async fn sessions_end_to_end_on_both_providers() {
    let (vonage, twilio) = (vonage_fake().await, twilio_fake().await);
    let t = stack(&vonage, &twilio).await;

    // Provision three numbers on each provider.
    for (provider, country) in [("vonage", "GB"), ("twilio", "US")] {
        let r = t
            .post(
                "/numbers/provision",
                &json!({"provider": provider, "country": country, "count": 3, "features": ["voice", "sms"]})
                    .to_string(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let v = r.json();
        assert_eq!(v["numbers"].as_array().map(Vec::len), Some(3), "{v}");
        assert_eq!(v["failed"], json!([]));
        assert!(v["numbers"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|n| n["status"] == "active" && n["provider"] == provider));
    }
    let listed = t.get("/numbers").await.json();
    assert_eq!(
        listed["numbers"].as_array().map(Vec::len),
        Some(6),
        "{listed}"
    );

    // A session with notices on each provider.
    let mut sessions = Vec::new();
    for (provider, a, b, sms_path) in [
        (
            "vonage",
            "+447700900100",
            "+447700900200",
            "/sms/json".to_string(),
        ),
        (
            "twilio",
            "+15551230100",
            "+15551230200",
            account_path("Messages.json"),
        ),
    ] {
        let r = t
            .post(
                "/sessions",
                &json!({"provider": provider, "notify": true, "participants": [
                    {"number": a, "label": "your driver"}, {"number": b, "label": "your rider"}]})
                .to_string(),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let s = r.json();
        assert_eq!(
            s["notifications"],
            json!([{"participant": 0, "status": "sent"}, {"participant": 1, "status": "sent"}]),
            "{s}"
        );
        let server = if provider == "vonage" {
            &vonage
        } else {
            &twilio
        };
        let sent = texts(server, &sms_path).await;
        assert_eq!(sent.len(), 2, "{sent:?}");
        for (i, (me, other_label)) in [(a, "your rider"), (b, "your driver")].iter().enumerate() {
            let proxy = s["participants"][i]["proxy_number"]
                .as_str()
                .unwrap_or_default();
            let found = sent.iter().any(|m| {
                let (from, to, text) = if provider == "vonage" {
                    (
                        format!("+{}", m["from"]),
                        format!("+{}", m["to"]),
                        m["text"].clone(),
                    )
                } else {
                    (m["From"].clone(), m["To"].clone(), m["Body"].clone())
                };
                from == proxy
                    && to == *me
                    && text == format!("Call or text this number to reach {other_label}.")
            });
            assert!(found, "no notice to participant {i} from {proxy}: {sent:?}");
        }
        sessions.push(s);
    }

    // Vonage: a text each way goes out through the SMS API from the number
    // standing for the sender; the same messageId again is relayed once.
    let vs = &sessions[0];
    let part = |i: usize, k: &str| {
        vs["participants"][i][k]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('+')
            .to_string()
    };
    for (i, id) in [
        (0usize, "0A00000000000001"),
        (1, "0A00000000000002"),
        (0, "0A00000000000001"),
    ] {
        let q = format!(
            "/vonage/inbound-sms?msisdn={}&to={}&messageId={id}&text=I%27m%20outside&type=text&message-timestamp=2026-11-24+08%3A00%3A00",
            part(i, "number"),
            part(i, "proxy_number")
        );
        let r = t.get(&q).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let relayed: Vec<_> = texts(&vonage, "/sms/json")
        .await
        .into_iter()
        .filter(|m| m["text"] == "I'm outside")
        .collect();
    assert_eq!(
        relayed.len(),
        2,
        "a repeated delivery was relayed again: {relayed:?}"
    );
    for (i, m) in relayed.iter().enumerate() {
        let other = 1 - i;
        assert_eq!(m["to"], part(other, "number"));
        assert_eq!(m["from"], part(other, "proxy_number"));
    }
    let id = vs["id"].as_str().unwrap_or_default();
    let listed = t.get(&format!("/sessions/{id}/messages")).await.json();
    let dirs: Vec<&str> = listed["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["direction"].as_str())
        .collect();
    assert_eq!(dirs, ["0>1", "1>0"], "{listed}");
    assert!(
        !listed.to_string().contains("outside"),
        "bodies are not kept by default: {listed}"
    );

    // Twilio: TwiML relays it, no REST call.
    let ts = &sessions[1];
    let tp = |i: usize, k: &str| {
        ts["participants"][i][k]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let before = texts(&twilio, &account_path("Messages.json")).await.len();
    for (i, sid) in [
        (0usize, "SM0000000000000000000000000000000a"),
        (1, "SM0000000000000000000000000000000b"),
    ] {
        let r = twilio_post(
            &t,
            "/twilio/sms",
            &[
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", &tp(i, "number")),
                ("To", &tp(i, "proxy_number")),
                ("Body", "Running 5 min late & sorry"),
                ("NumMedia", "0"),
            ],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let other = 1 - i;
        let expected = format!(
            "<Message to=\"{}\" from=\"{}\">Running 5 min late &amp; sorry</Message>",
            tp(other, "number"),
            tp(other, "proxy_number")
        );
        assert!(r.body.contains(&expected), "{}", r.body);
    }
    let again = twilio_post(
        &t,
        "/twilio/sms",
        &[
            ("MessageSid", "SM0000000000000000000000000000000a"),
            ("AccountSid", ACCOUNT),
            ("From", &tp(0, "number")),
            ("To", &tp(0, "proxy_number")),
            ("Body", "Running 5 min late & sorry"),
        ],
    )
    .await;
    assert_eq!(again.status, 200);
    assert!(
        !again.body.contains("<Message"),
        "relayed twice: {}",
        again.body
    );
    assert_eq!(
        texts(&twilio, &account_path("Messages.json")).await.len(),
        before
    );

    // Release the number no session uses, on each provider.
    for n in [format!("+{}", GB[2]), US[2].to_string()] {
        let r = t
            .delete(&format!("/numbers/{}?release=true", n.replace('+', "%2B")))
            .await;
        assert_eq!(r.status, 204, "{n}: {}", r.body);
        assert_eq!(
            t.get(&format!("/numbers/{}", n.replace('+', "%2B")))
                .await
                .status,
            404
        );
    }

    // Import: what the account owns joins the pool, across two pages.
    let r = t.post("/numbers/import", r#"{"provider":"vonage"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["added"], json!(["+447700900699"]), "{v}");
    assert_eq!(
        v["present"],
        json!(["+447700900601", "+447700900602"]),
        "{v}"
    );
    let r = t.post("/numbers/import", r#"{"provider":"twilio"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["added"], json!(["+15551230698", "+15551230699"]), "{v}");
    assert_eq!(v["present"], json!(["+15551230601"]), "{v}");
    // The imported Twilio number remembers its sid: release works.
    let r = t.delete("/numbers/%2B15551230699?release=true").await;
    assert_eq!(r.status, 502, "the provider refuses this one: {}", r.body);
    assert!(r.body.contains("provider_error"), "{}", r.body);
    assert_eq!(
        t.get("/numbers/%2B15551230699").await.status,
        200,
        "a refused release keeps the number"
    );

    vonage.verify().await;
    twilio.verify().await;
}
