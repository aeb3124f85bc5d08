//! Private sessions end to end on the emulator, with both providers' REST
//! APIs as local fakes that check each request as the providers document
//! it: numbers bought, linked and added; sessions with SMS notices; texts
//! relayed both ways on both providers (and a repeated delivery relayed
//! once); a number released; an account's numbers imported across pages.
//! And what goes wrong: participants checked by Number Insight (and offline
//! when it cannot say), a refused notice, provisioning that finds nothing,
//! is refused or cannot link, the pool grown for a session within
//! `POOL_AUTO_PROVISION_MAX`, and a release the provider refuses.

mod support;

use support::needs_emulator;

use std::collections::HashMap;

use callmask::config::{NumberValidation, SecretSetting};
use callmask_local::StackConfig;
use serde_json::{json, Value};
use support::{enc, pluck, Reply, TestEnv, TEST_HOST};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The credentials and address the stack's settings for the fakes give.
const KEY: &str = support::faults::FAKE_VONAGE_KEY;
const SECRET: &str = support::faults::FAKE_VONAGE_SECRET;
const APP: &str = support::faults::FAKE_VONAGE_APP;
const ACCOUNT: &str = support::faults::FAKE_TWILIO_ACCOUNT;
const TOKEN: &str = support::faults::FAKE_TWILIO_TOKEN;
const PUBLIC: &str = support::faults::FAKE_PUBLIC_BASE_URL;

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

/// The Numbers API's refusal, as Vonage gives it.
fn vonage_420() -> ResponseTemplate {
    ResponseTemplate::new(420)
        .set_body_json(json!({"error-code": "420", "error-code-label": "method failed"}))
}

/// The SMS API's answer to a text to `to`: one part, sent.
fn vonage_sent(to: &str) -> Value {
    json!({"to": to, "message-id": format!("0B{}", uuid::Uuid::new_v4().simple()),
        "status": "0", "remaining-balance": "9.50", "message-price": "0.04", "network": "23410"})
}

/// The SMS API (HTTP 200 whatever befell the text): each part as `part`
/// makes it for the number the text is to.
fn vonage_sms(part: fn(&str) -> Value) -> Mock {
    Mock::given(method("POST"))
        .and(path("/sms/json"))
        .and(vonage_auth)
        .respond_with(move |r: &Request| {
            let to = params(r).get("to").cloned().unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(json!({"message-count": "1", "messages": [part(&to)]}))
        })
}

async fn vonage_fake() -> MockServer {
    let server = MockServer::start().await;
    vonage_search(&server, &GB, None).await;
    for action in ["buy", "update"] {
        vonage_numbers_call(&server, action, &GB, ok_vonage(), 3).await;
    }
    vonage_numbers_call(&server, "cancel", &GB[2..], ok_vonage(), 1).await;
    vonage_sms(vonage_sent).mount(&server).await;
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

/// Twilio's answer to buying `number`.
fn twilio_bought(number: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"sid": sid_for(number), "phone_number": number,
        "account_sid": ACCOUNT, "iso_country": "US"}))
}

/// Twilio's refusal of a release.
fn twilio_403() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"code": 20403,
        "message": "Permission denied", "more_info": "https://www.twilio.com/docs/errors/20403", "status": 403}))
}

/// A Twilio search of local US numbers offering `offered`, expected `times`.
async fn twilio_search(server: &MockServer, offered: &[&str], times: u64) {
    let search = account_path("AvailablePhoneNumbers/US/Local.json");
    let numbers: Vec<Value> = offered
        .iter()
        .map(|n| {
            json!({"friendly_name": n, "phone_number": n, "iso_country": "US",
            "capabilities": {"voice": true, "SMS": true, "MMS": true}})
        })
        .collect();
    let reply = ResponseTemplate::new(200)
        .set_body_json(json!({"available_phone_numbers": numbers, "uri": search}));
    let mock = Mock::given(method("GET"))
        .and(path(search.as_str()))
        .and(twilio_auth);
    mount_expected(server, mock, reply, times).await;
}

/// Twilio's release of `number` (by its sid), answered `reply`, expected
/// `times`.
async fn twilio_release(server: &MockServer, number: &str, reply: ResponseTemplate, times: u64) {
    let release = account_path(&format!("IncomingPhoneNumbers/{}.json", sid_for(number)));
    let mock = Mock::given(method("DELETE"))
        .and(path(release))
        .and(twilio_auth);
    mount_expected(server, mock, reply, times).await;
}

async fn twilio_fake() -> MockServer {
    let server = MockServer::start().await;
    twilio_search(&server, &US, 1).await;
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
            twilio_bought(&params(r).get("PhoneNumber").cloned().unwrap_or_default())
        })
        .expect(3)
        .mount(&server)
        .await;
    twilio_release(&server, US[2], ResponseTemplate::new(204), 1).await;
    // A number whose release the provider refuses.
    twilio_release(&server, "+15551230699", twilio_403(), 1).await;
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
            // The last one's calls go to another service: not imported.
            let owned = [
                "+15551230601",
                "+15551230698",
                "+15551230699",
                "+15551230697",
            ];
            let chunk: Vec<Value> = owned
                .iter()
                .skip(page * 2)
                .take(2)
                .map(|n| {
                    let base = if n.ends_with("697") {
                        "https://other.example"
                    } else {
                        TEST_HOST
                    };
                    json!({"sid": sid_for(n), "phone_number": n, "iso_country": "US",
                        "voice_url": format!("{base}/twilio/voice"),
                        "sms_url": format!("{base}/twilio/sms")})
                })
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

/// The two providers' REST APIs as local fakes.
struct Fakes {
    vonage: MockServer,
    twilio: MockServer,
}

impl Fakes {
    /// Two that expect nothing yet.
    async fn idle() -> Self {
        Self {
            vonage: MockServer::start().await,
            twilio: MockServer::start().await,
        }
    }

    /// Two where Vonage offers numbers as [`vonage_offers`] says.
    async fn offering(offers: &[(&'static str, bool, bool)]) -> Self {
        let fakes = Self::idle().await;
        vonage_offers(&fakes.vonage, offers).await;
        fakes
    }

    /// Both with all the end-to-end test asks of them.
    async fn full() -> Self {
        Self {
            vonage: vonage_fake().await,
            twilio: twilio_fake().await,
        }
    }

    async fn stack(&self) -> TestEnv {
        stack_with(&self.vonage, &self.twilio, |_| {}).await
    }

    /// Each fake got what it expects, as many times.
    async fn verify(&self) {
        self.vonage.verify().await;
        self.twilio.verify().await;
    }

    /// [`Fakes::verify`], and nothing joined the pool.
    async fn verify_nothing_added(&self, t: &TestEnv) {
        let pool = t.numbers().await;
        assert!(pool.is_empty(), "{pool:?}");
        self.verify().await;
    }
}

/// The stack against the fakes, with some settings changed.
async fn stack_with(
    vonage: &MockServer,
    twilio: &MockServer,
    change: impl FnOnce(&mut StackConfig),
) -> TestEnv {
    support::env_changed(|config| {
        support::faults::on_fake_providers(config, vonage.uri(), twilio.uri());
        change(config);
    })
    .await
}

/// The parameters of each request the fake received for `method` `path`.
async fn received(server: &MockServer, verb: &str, path: &str) -> Vec<HashMap<String, String>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path && r.method.as_str() == verb)
        .map(params)
        .collect()
}

#[tokio::test]
async fn sessions_end_to_end_on_both_providers() {
    needs_emulator!();
    let f = Fakes::full().await;
    let t = f.stack().await;

    // Provision three numbers on each provider.
    for (provider, country) in [("vonage", "GB"), ("twilio", "US")] {
        let body = json!({"provider": provider, "country": country, "count": 3,
            "features": ["voice", "sms"]});
        let r = t.post_json("/numbers/provision", &body).await;
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
    let listed = t.numbers().await;
    assert_eq!(listed.len(), 6, "{listed:?}");

    // A session with notices on each provider.
    let mut sessions = Vec::new();
    for (provider, a, b, server, sms_path) in [
        (
            "vonage",
            "+447700900100",
            "+447700900200",
            &f.vonage,
            "/sms/json".to_string(),
        ),
        (
            "twilio",
            "+15551230100",
            "+15551230200",
            &f.twilio,
            account_path("Messages.json"),
        ),
    ] {
        let r = notified_session(&t, provider, a, b).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let s = r.json();
        assert_eq!(
            s["notifications"],
            json!([{"participant": 0, "status": "sent"}, {"participant": 1, "status": "sent"}]),
            "{s}"
        );
        let sent = received(server, "POST", &sms_path).await;
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
    let relayed: Vec<_> = received(&f.vonage, "POST", "/sms/json")
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
    assert_eq!(
        pluck(&listed["messages"], "direction"),
        ["0>1", "1>0"],
        "{listed}"
    );
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
    let text = |i: usize, sid: &'static str| {
        let (from, to) = (tp(i, "number"), tp(i, "proxy_number"));
        let t = &t;
        async move {
            let form = [
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", from.as_str()),
                ("To", to.as_str()),
                ("Body", "Running 5 min late & sorry"),
                ("NumMedia", "0"),
            ];
            t.twilio_post(TOKEN, "/twilio/sms", &form).await
        }
    };
    let messages = account_path("Messages.json");
    let before = received(&f.twilio, "POST", &messages).await.len();
    for (i, sid) in [
        (0usize, "SM0000000000000000000000000000000a"),
        (1, "SM0000000000000000000000000000000b"),
    ] {
        let r = text(i, sid).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let other = 1 - i;
        let expected = format!(
            "<Message to=\"{}\" from=\"{}\">Running 5 min late &amp; sorry</Message>",
            tp(other, "number"),
            tp(other, "proxy_number")
        );
        assert!(r.body.contains(&expected), "{}", r.body);
    }
    let again = text(0, "SM0000000000000000000000000000000a").await;
    assert_eq!(again.status, 200);
    assert!(
        !again.body.contains("<Message"),
        "relayed twice: {}",
        again.body
    );
    assert_eq!(received(&f.twilio, "POST", &messages).await.len(), before);

    // Release the number no session uses, on each provider.
    for n in [format!("+{}", GB[2]), US[2].to_string()] {
        let path = format!("/numbers/{}", enc(&n));
        let r = t.delete(&format!("{path}?release=true")).await;
        assert_eq!(r.status, 204, "{n}: {}", r.body);
        assert_eq!(t.get(&path).await.status, 404);
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
    assert_eq!(v["skipped"][0]["number"], "+15551230697", "{v}");
    assert_eq!(
        t.get("/numbers/%2B15551230697").await.status,
        404,
        "a number pointing elsewhere stays out of the pool"
    );
    // The imported Twilio number remembers its sid: release works.
    let r = t.delete("/numbers/%2B15551230699?release=true").await;
    assert_eq!(r.status, 502, "the provider refuses this one: {}", r.body);
    assert!(r.body.contains("provider_error"), "{}", r.body);
    assert_eq!(
        t.get("/numbers/%2B15551230699").await.status,
        200,
        "a refused release keeps the number"
    );

    f.verify().await;
}

async fn new_session(t: &TestEnv, provider: &str, a: &str, b: &str) -> Reply {
    let body = json!({"provider": provider, "participants": [a, b]});
    t.post_json("/sessions", &body).await
}

/// A session on `provider` whose participants, a driver and a rider, are
/// each told by text which number reaches the other.
async fn notified_session(t: &TestEnv, provider: &str, a: &str, b: &str) -> Reply {
    let body = json!({"provider": provider, "notify": true, "participants": [
        {"number": a, "label": "your driver"}, {"number": b, "label": "your rider"}]});
    t.post_json("/sessions", &body).await
}

/// `POST /numbers/provision` of `count` numbers in `country`.
async fn provision(t: &TestEnv, provider: &str, country: &str, count: u32) -> Reply {
    let body = json!({"provider": provider, "country": country, "count": count});
    t.post_json("/numbers/provision", &body).await
}

fn error_code(r: &Reply) -> Value {
    r.json()["error"]["code"].clone()
}

/// A base URL nothing listens on (a port just released).
fn unreachable_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}")
}

/// Mounts `mock` on `server`, answering `reply`, for `verify` to check it
/// was called `times`.
async fn mount_expected(
    server: &MockServer,
    mock: MockBuilder,
    reply: ResponseTemplate,
    times: u64,
) {
    mock.respond_with(reply).expect(times).mount(server).await;
}

/// Fails `verify` if `server` gets any request for `p`.
async fn expect_none(server: &MockServer, p: impl Into<String>) {
    mount_expected(server, Mock::given(path(p)), ResponseTemplate::new(500), 0).await;
}

/// A Vonage number search in GB for voice and SMS offering `offered`
/// (`{"count": 0}` when nothing), of `size` when given, expected once.
async fn vonage_search(server: &MockServer, offered: &[&str], size: Option<usize>) {
    let body = if offered.is_empty() {
        json!({"count": 0})
    } else {
        json!({"count": offered.len(), "numbers": offered.iter().map(|m| json!({"country": "GB",
            "msisdn": m, "type": "mobile-lvn", "cost": "1.25", "features": ["VOICE", "SMS"]})).collect::<Vec<_>>()})
    };
    let mock = Mock::given(method("GET"))
        .and(path("/number/search"))
        .and(move |r: &Request| {
            let p = params(r);
            let features = p.get("features").cloned().unwrap_or_default();
            vonage_auth(r)
                && p.get("country").map(String::as_str) == Some("GB")
                && features.split(',').any(|f| f == "VOICE")
                && features.split(',').any(|f| f == "SMS")
                && size.is_none_or(|s| p.get("size") == Some(&s.to_string()))
        });
    let reply = ResponseTemplate::new(200).set_body_json(body);
    mount_expected(server, mock, reply, 1).await;
}

/// A Vonage search for as many numbers as offered here, then for each a
/// buy and, once bought, a link: `(msisdn, bought, linked)`.
async fn vonage_offers(server: &MockServer, offers: &[(&'static str, bool, bool)]) {
    let offered: Vec<&str> = offers.iter().map(|o| o.0).collect();
    vonage_search(server, &offered, Some(offers.len())).await;
    for &(msisdn, bought, linked) in offers {
        let buy = if bought { ok_vonage() } else { vonage_420() };
        vonage_numbers_call(server, "buy", &[msisdn], buy, 1).await;
        let link = if linked { ok_vonage() } else { vonage_420() };
        vonage_numbers_call(server, "update", &[msisdn], link, u64::from(bought)).await;
    }
}

/// `POST /number/{action}` (buy, update, cancel) for one of `msisdns` in
/// GB, answered with `reply`, expected `times`. `update` must name our app.
async fn vonage_numbers_call(
    server: &MockServer,
    action: &str,
    msisdns: &[&'static str],
    reply: ResponseTemplate,
    times: u64,
) {
    let linking = action == "update";
    let msisdns = msisdns.to_vec();
    let mock = Mock::given(method("POST"))
        .and(path(format!("/number/{action}")))
        .and(move |r: &Request| {
            let q = params(r);
            vonage_auth(r)
                && q.get("country").map(String::as_str) == Some("GB")
                && q.get("msisdn")
                    .is_some_and(|m| msisdns.contains(&m.as_str()))
                && (!linking || q.get("app_id").map(String::as_str) == Some(APP))
        });
    mount_expected(server, mock, reply, times).await;
}

/// Number Insight Basic as Vonage answers it, for the numbers these tests use.
async fn insight_fake() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ni/basic/json"))
        .and(vonage_auth)
        .respond_with(|r: &Request| {
            let n = params(r).get("number").cloned().unwrap_or_default();
            let body = match n.as_str() {
                // Not a valid number.
                "447700900999" => json!({"status": 3, "status_message": "Invalid request", "request_id": "r-3"}),
                // Throttled: Vonage could not say.
                "447700900777" => json!({"status": 1, "status_message": "Throttled", "request_id": "r-1"}),
                // A national number: Vonage gives its international form.
                "07700900123" => json!({"status": 0, "status_message": "Success", "request_id": "r-0",
                    "international_format_number": "447700900123", "national_format_number": "07700 900123",
                    "country_code": "GB", "country_code_iso3": "GBR", "country_name": "United Kingdom",
                    "country_prefix": "44"}),
                other => json!({"status": 0, "status_message": "Success", "request_id": "r-0",
                    "international_format_number": other, "country_code": "GB", "country_code_iso3": "GBR",
                    "country_name": "United Kingdom", "country_prefix": "44"}),
            };
            ResponseTemplate::new(200).set_body_json(body)
        })
        .mount(&server)
        .await;
    server
}

/// Settings that check participants' numbers with Number Insight.
fn by_number_insight(c: &mut StackConfig) {
    c.messaging.number_validation = NumberValidation::NumberInsight;
}

#[tokio::test]
async fn number_insight_decides_participants_numbers() {
    needs_emulator!();
    let (vonage, twilio) = (insight_fake().await, MockServer::start().await);
    let t = stack_with(&vonage, &twilio, by_number_insight).await;
    // A US number sorts first: only a participant placed in GB gets the GB one.
    t.add_number("+15551230601").await;
    t.add_number("+447700900601").await;

    // Bare digits without a country are refused before Number Insight is
    // asked: read calling code first, 5551230999 was Brazil's +55.
    let r = new_session(&t, "vonage", "5551230999", "+447700900124").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(error_code(&r), "invalid_number", "{}", r.body);
    assert!(r.body.contains("+ or 00"), "{}", r.body);

    // Status 0: the number as Number Insight writes it; a national form
    // with its country is asked about in international form.
    let body = json!({"provider": "vonage", "country": "GB",
        "participants": ["07700 900123", "+447700900124"]});
    let r = t.post_json("/sessions", &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    assert_eq!(s["participants"][0]["number"], "+447700900123", "{s}");
    assert_eq!(s["participants"][0]["proxy_number"], "+447700900601", "{s}");
    assert_eq!(s["participants"][1]["number"], "+447700900124", "{s}");
    let mut asked: Vec<String> = received(&vonage, "GET", "/ni/basic/json")
        .await
        .into_iter()
        .filter_map(|p| p.get("number").cloned())
        .collect();
    asked.sort();
    // The refused session asked about its other participant too.
    asked.dedup();
    assert_eq!(asked, ["447700900123", "447700900124"]);

    // Status 3: refused, though offline validation would accept it.
    let r = new_session(&t, "vonage", "+447700900125", "+447700900999").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(error_code(&r), "invalid_number", "{}", r.body);
    assert!(r.body.contains("participant 2"), "{}", r.body);

    // Another status: Number Insight could not say, offline validation does.
    let r = new_session(&t, "vonage", "+447700900777", "+447700900126").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["participants"][0]["number"], "+447700900777");
    assert!(received(&vonage, "GET", "/ni/basic/json")
        .await
        .iter()
        .any(|p| p.get("number").map(String::as_str) == Some("447700900777")));
}

#[tokio::test]
async fn number_insight_down_falls_back_to_offline_validation() {
    needs_emulator!();
    let failing = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ni/basic/json"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "type": "https://developer.nexmo.com/api-errors#internal-error",
            "title": "Internal Error", "detail": "Something went wrong"})))
        // Two sessions of two participants, while it answers; a national
        // form without its country is never asked about.
        .expect(3)
        .mount(&failing)
        .await;
    let twilio = MockServer::start().await;
    for (what, base) in [
        ("answering 500", failing.uri()),
        ("unreachable", unreachable_url()),
    ] {
        let t = stack_with(&failing, &twilio, |c| {
            by_number_insight(c);
            c.vonage.api_base_url = base;
        })
        .await;
        t.add_number("+447700900601").await;
        let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
        assert_eq!(r.status, 201, "{what}: {}", r.body);
        let s = r.json();
        assert_eq!(s["participants"][0]["number"], "+447700900100", "{s}");
        // Offline validation, not acceptance: a national form is refused.
        let r = new_session(&t, "vonage", "07700 900300", "+447700900400").await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(error_code(&r), "invalid_number", "{what}: {}", r.body);
    }
    failing.verify().await;
}

/// The SMS API refusing a text to 447700900100 (a part's status: the
/// HTTP answer is 200 whatever befell it), sending the others.
fn refused_to_the_first(to: &str) -> Value {
    if to == "447700900100" {
        json!({"to": to, "status": "2", "error-text": format!("Missing from param for {to}")})
    } else {
        vonage_sent(to)
    }
}

#[tokio::test]
async fn a_refused_notice_is_reported_without_text_or_numbers() {
    needs_emulator!();
    let f = Fakes::idle().await;
    vonage_sms(refused_to_the_first)
        .expect(2)
        .mount(&f.vonage)
        .await;
    let t = f.stack().await;
    t.add_number("+447700900601").await;
    let r = notified_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(r.status, 201, "a failed notice never refuses: {}", r.body);
    let s = r.json();
    let notices = s["notifications"].clone();
    assert_eq!(notices[0]["participant"], 0, "{s}");
    assert_eq!(notices[0]["status"], "failed", "{s}");
    let reason = notices[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("Missing from param"), "{s}");
    assert_eq!(
        notices[1],
        json!({"participant": 1, "status": "sent"}),
        "{s}"
    );
    let shown = notices.to_string();
    for kept_out in [
        "447700900100",
        "447700900200",
        "447700900601",
        "Call or text",
        "your rider",
    ] {
        assert!(!shown.contains(kept_out), "{kept_out} in {shown}");
    }
    let id = s["id"].as_str().unwrap_or_default();
    let again = t.get(&format!("/sessions/{id}")).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["notifications"], notices);
    f.verify().await;
}

#[tokio::test]
async fn provisioning_finds_nothing() {
    needs_emulator!();
    let f = Fakes::idle().await;
    vonage_search(&f.vonage, &[], None).await;
    expect_none(&f.vonage, "/number/buy").await;
    twilio_search(&f.twilio, &[], 1).await;
    expect_none(&f.twilio, account_path("IncomingPhoneNumbers.json")).await;
    let t = f.stack().await;
    for (provider, country) in [("vonage", "GB"), ("twilio", "US")] {
        let r = provision(&t, provider, country, 2).await;
        assert_eq!(r.status, 409, "{provider}: {}", r.body);
        assert_eq!(error_code(&r), "none_available", "{provider}: {}", r.body);
    }
    f.verify_nothing_added(&t).await;
}

#[tokio::test]
async fn provisioning_refuses_bad_requests_before_buying() {
    needs_emulator!();
    let f = Fakes::idle().await;
    for p in ["/number/search", "/number/buy", "/number/update"] {
        expect_none(&f.vonage, p).await;
    }
    expect_none(&f.twilio, account_path("IncomingPhoneNumbers.json")).await;
    let t = f.stack().await;
    for (body, code) in [
        (
            json!({"provider": "vonage", "country": "GB", "count": 0}),
            "invalid_count",
        ),
        (
            json!({"provider": "vonage", "country": "GB", "count": 51}),
            "invalid_count",
        ),
        (
            json!({"provider": "twilio", "country": "US", "count": 51}),
            "invalid_count",
        ),
        (
            json!({"provider": "vonage", "country": "XX", "count": 1}),
            "invalid_country",
        ),
        (
            json!({"provider": "twilio", "country": "XX"}),
            "invalid_country",
        ),
        (
            json!({"provider": "vonage", "country": "GB", "features": ["voice", "fax"]}),
            "invalid_features",
        ),
    ] {
        let r = t.post_json("/numbers/provision", &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(error_code(&r), code, "{body}: {}", r.body);
    }
    f.verify_nothing_added(&t).await;
}

#[tokio::test]
async fn a_refused_purchase_is_reported_and_not_added() {
    needs_emulator!();
    // Vonage refuses to sell the second number it offered.
    let f = Fakes::offering(&[("447700900601", true, true), ("447700900602", false, true)]).await;
    // Twilio refuses one of the two it offered.
    twilio_search(&f.twilio, &US[..2], 1).await;
    Mock::given(method("POST"))
        .and(path(account_path("IncomingPhoneNumbers.json")))
        .and(twilio_auth)
        .respond_with(|r: &Request| {
            let n = params(r).get("PhoneNumber").cloned().unwrap_or_default();
            if n == US[1] {
                ResponseTemplate::new(400).set_body_json(json!({"code": 21422,
                    "message": format!("PhoneNumber {n} requested is not available"),
                    "more_info": "https://www.twilio.com/docs/errors/21422", "status": 400}))
            } else {
                twilio_bought(&n)
            }
        })
        .expect(2)
        .mount(&f.twilio)
        .await;
    let t = f.stack().await;
    for (provider, country, good, refused, why) in [
        (
            "vonage",
            "GB",
            "+447700900601",
            "+447700900602",
            "method failed",
        ),
        ("twilio", "US", US[0], US[1], "not available"),
    ] {
        let r = provision(&t, provider, country, 2).await;
        assert_eq!(r.status, 201, "{provider}: {}", r.body);
        let v = r.json();
        assert_eq!(pluck(&v["numbers"], "number"), [good], "{v}");
        assert_eq!(v["numbers"][0]["status"], "active", "{v}");
        let failed = v["failed"].as_array().cloned().unwrap_or_default();
        assert_eq!(failed.len(), 1, "{v}");
        assert_eq!(failed[0]["number"], refused, "{v}");
        let reason = failed[0]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{v}");
        assert!(
            !reason.contains(refused.trim_start_matches('+')),
            "the reason quotes the number: {reason}"
        );
        let path = format!("/numbers/{}", enc(refused));
        assert_eq!(t.get(&path).await.status, 404, "{refused} joined the pool");
    }
    let listed = t.numbers().await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    f.verify().await;
}

#[tokio::test]
async fn a_number_that_could_not_be_linked_stays_in_the_pool_out_of_allocation() {
    needs_emulator!();
    // The second number Vonage sold cannot be linked to the application.
    let f = Fakes::offering(&[("447700900601", true, true), ("447700900602", true, false)]).await;
    let t = f.stack().await;
    let r = provision(&t, "vonage", "GB", 2).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    let status = |number: &str| {
        v["numbers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["number"] == number)
            .map(|n| n["status"].clone())
    };
    assert_eq!(status("+447700900601"), Some(json!("active")), "{v}");
    assert_eq!(status("+447700900602"), Some(json!("unlinked")), "{v}");
    let kept = t.get("/numbers/%2B447700900602").await;
    assert_eq!(kept.status, 200, "a bought number was lost: {}", kept.body);
    assert_eq!(kept.json()["status"], "unlinked");

    // Allocation passes it over: the same pair twice needs a second number.
    let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["participants"][0]["proxy_number"], "+447700900601");
    let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(
        r.status, 409,
        "an unlinked number was allocated: {}",
        r.body
    );
    assert_eq!(error_code(&r), "pool_exhausted");
    f.verify().await;
}

#[tokio::test]
async fn an_exhausted_pool_buys_a_number_within_the_allowance() {
    needs_emulator!();
    // One number: searched, bought and linked once, for the first session.
    let f = Fakes::offering(&[("447700900601", true, true)]).await;
    let t = stack_with(&f.vonage, &f.twilio, |c| {
        c.messaging.pool_auto_provision_max = 1
    })
    .await;
    let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    assert_eq!(s["participants"][0]["proxy_number"], "+447700900601", "{s}");
    assert_eq!(s["participants"][1]["proxy_number"], "+447700900601", "{s}");
    let listed = t.numbers().await;
    assert_eq!(listed[0]["number"], "+447700900601", "{listed:?}");
    assert_eq!(listed[0]["status"], "active", "{listed:?}");

    // The pair dials that number already; the allowance is spent.
    let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(error_code(&r), "pool_exhausted");
    f.verify().await;

    // None allowed: nothing is bought.
    let idle = MockServer::start().await;
    expect_none(&idle, "/number/search").await;
    let t = stack_with(&idle, &f.twilio, |c| {
        c.messaging.pool_auto_provision_max = 0
    })
    .await;
    let r = new_session(&t, "vonage", "+447700900100", "+447700900200").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(error_code(&r), "pool_exhausted");
    assert_eq!(r.json()["error"]["country"], "GB", "{}", r.body);
    idle.verify().await;
}

#[tokio::test]
async fn a_refused_release_keeps_the_number_in_allocation() {
    needs_emulator!();
    let f = Fakes::idle().await;
    vonage_numbers_call(&f.vonage, "cancel", &["447700900699"], vonage_420(), 1).await;
    // A number added by hand: its sid is looked up, then the release refused.
    Mock::given(method("GET"))
        .and(path(account_path("IncomingPhoneNumbers.json")))
        .and(twilio_auth)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"incoming_phone_numbers": [
            {"sid": sid_for("+15551230699"), "phone_number": "+15551230699", "iso_country": "US"}],
            "next_page_uri": null, "page": 0, "page_size": 50})),
        )
        .mount(&f.twilio)
        .await;
    twilio_release(&f.twilio, "+15551230699", twilio_403(), 1).await;
    let t = f.stack().await;
    for (provider, number, [a, b], why) in [
        (
            "vonage",
            "+447700900699",
            ["+447700900100", "+447700900200"],
            "method failed",
        ),
        (
            "twilio",
            "+15551230699",
            ["+15551230100", "+15551230200"],
            "Permission denied",
        ),
    ] {
        t.add_number_of(provider, number).await;
        let r = t
            .delete(&format!("/numbers/{}?release=true", enc(number)))
            .await;
        assert_eq!(r.status, 502, "{provider}: {}", r.body);
        assert_eq!(error_code(&r), "provider_error", "{}", r.body);
        let message = r.json()["error"]["message"].clone();
        assert!(
            message.as_str().unwrap_or_default().contains(why),
            "{message}"
        );
        let entry = t.listed_number(number).await;
        assert_eq!(
            entry.as_ref().map(|n| n["status"].clone()),
            Some(json!("active")),
            "{entry:?}"
        );
        // Back in allocation, not left retiring.
        let r = new_session(&t, provider, a, b).await;
        assert_eq!(r.status, 201, "{provider}: {}", r.body);
        assert_eq!(r.json()["participants"][0]["proxy_number"], number);
    }
    f.verify().await;
}

const SMS_SIGNATURE: &str = "vonage-sms-signature-secret-1";
const NOT_IN_USE: &str = "This number is not in use.";

/// A Vonage inbound text's query, signed as Vonage signs it (sha256), with
/// the signature's `timestamp` at `signed_at`.
fn signed_inbound(from: &str, to: &str, id: &str, signed_at: i64) -> String {
    use callmask::vonage::sms_signature::{signed_query, SmsSignatureMethod};
    let params: Vec<(String, String)> = [
        ("msisdn", from),
        ("to", to),
        ("messageId", id),
        ("text", "hello?"),
        ("type", "text"),
        ("timestamp", &signed_at.to_string()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let query = signed_query(params, SMS_SIGNATURE, SmsSignatureMethod::Sha256);
    format!("/vonage/inbound-sms?{query}")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The replies the SMS API was asked to send to `to` (digits).
async fn replies_to(vonage: &MockServer, to: &str) -> usize {
    received(vonage, "POST", "/sms/json")
        .await
        .iter()
        .filter(|m| m.get("to").map(String::as_str) == Some(to))
        .filter(|m| m.get("text").map(String::as_str) == Some(NOT_IN_USE))
        .count()
}

/// The stack against a Vonage fake that sends texts, replying
/// [`NOT_IN_USE`] to a text outside any session, with GB[0] in the pool;
/// the fakes are handed back to outlive it.
async fn replying_stack(
    change: impl FnOnce(&mut StackConfig),
) -> (MockServer, MockServer, TestEnv) {
    let vonage = MockServer::start().await;
    vonage_sms(vonage_sent).mount(&vonage).await;
    let twilio = MockServer::start().await;
    let t = stack_with(&vonage, &twilio, |c| {
        c.messaging.out_of_session_sms_text = NOT_IN_USE.into();
        change(c);
    })
    .await;
    t.add_number("+447700900601").await;
    (vonage, twilio, t)
}

#[tokio::test]
async fn a_signed_inbound_text_is_refused_once_its_timestamp_is_out_of_the_window() {
    needs_emulator!();
    let (vonage, _twilio, t) = replying_stack(|c| {
        c.core.allow_unsigned_webhooks = false;
        c.vonage.signature_secret = SecretSetting::Value(SMS_SIGNATURE.into());
    })
    .await;
    let now = unix_now();
    // Vonage documents five minutes; a signature outside them, either way,
    // is a replay (or a forgery's guess), whatever else it says.
    for (signed_at, status) in [(now - 400, 401), (now + 400, 401), (now - 60, 200)] {
        let q = signed_inbound("447700900901", GB[0], "0C01", signed_at);
        let r = t.get(&q).await;
        assert_eq!(
            r.status,
            status,
            "signed {}s from now: {}",
            signed_at - now,
            r.body
        );
    }
    // Only the one in the window was answered.
    assert_eq!(replies_to(&vonage, "447700900901").await, 1);
}

#[tokio::test]
async fn replies_outside_a_session_are_limited_per_sender_and_per_number() {
    needs_emulator!();
    let (vonage, _twilio, t) = replying_stack(|c| {
        c.messaging.out_of_session_replies_per_hour = 2;
    })
    .await;
    t.add_number_of("twilio", US[0]).await;
    let vonage_text = |from: &str, id: &str| {
        format!(
            "/vonage/inbound-sms?msisdn={from}&to={}&messageId={id}&text=hello%3F&type=text",
            GB[0]
        )
    };
    // One sender, three texts: one reply.
    for id in ["0D01", "0D02", "0D03"] {
        assert_eq!(t.get(&vonage_text("447700900901", id)).await.status, 200);
    }
    assert_eq!(replies_to(&vonage, "447700900901").await, 1);
    // Other senders: the number's hourly share (2) and no more.
    assert_eq!(
        t.get(&vonage_text("447700900902", "0D04")).await.status,
        200
    );
    assert_eq!(
        t.get(&vonage_text("447700900903", "0D05")).await.status,
        200
    );
    assert_eq!(replies_to(&vonage, "447700900902").await, 1);
    assert_eq!(replies_to(&vonage, "447700900903").await, 0);

    // Twilio: the reply is TwiML, once per sender.
    let twilio_text = |sid: &'static str| {
        let t = &t;
        async move {
            let form = [
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", "+15551230901"),
                ("To", US[0]),
                ("Body", "hello?"),
                ("NumMedia", "0"),
            ];
            t.twilio_post(TOKEN, "/twilio/sms", &form).await
        }
    };
    let first = twilio_text("SM00000000000000000000000000000001").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains(NOT_IN_USE), "{}", first.body);
    let again = twilio_text("SM00000000000000000000000000000002").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(!again.body.contains("<Message"), "{}", again.body);
}

/// A client's retry of `POST /numbers/provision` with the same
/// `Idempotency-Key` (its connection dropped, the gateway timed out) gets
/// the first answer again: the number is bought once. Issue 18: a retry
/// bought again.
#[tokio::test]
async fn a_retried_provisioning_with_its_key_buys_nothing_more() {
    needs_emulator!();
    // Searched, bought and linked exactly once (the fake checks).
    let f = Fakes::offering(&[("447700900601", true, true)]).await;
    let t = f.stack().await;
    let body = json!({"provider": "vonage", "country": "GB", "count": 1}).to_string();
    let send = |body: String, key: &'static str| {
        let t = &t;
        async move {
            t.request(
                "POST",
                "/numbers/provision",
                Some(&body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    let first = send(body.clone(), "order-7f3a").await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.json()["numbers"][0]["number"], "+447700900601");
    let again = send(body.clone(), "order-7f3a").await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.json(), first.json());
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    // The same key for another order, or a key that is not one: refused.
    let other = json!({"provider": "vonage", "country": "GB", "count": 2}).to_string();
    let r = send(other, "order-7f3a").await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(error_code(&r), "idempotency_key_reused");
    let r = send(body, "not a key").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(error_code(&r), "invalid_idempotency_key");
    f.verify().await;
}
