//! Sessions as Twilio Proxy runs them, on the emulator and both providers:
//! a sliding TTL that each routed call or text extends (and the API reads
//! so at once), a fixed `date_expiry`, modes, unique names, the status
//! (`open` → `in-progress` → `closed`), and the cool-off that keeps a
//! released (participant, number) pair from a new counterpart.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use support::{
    call_form, connect_of, needs_emulator, proxy_of, s_attr, TestEnv, ALICE, BOB, CAROL, P1, P2,
};

/// A session of Alice and Bob from `body`'s settings, which must be created.
async fn open(t: &TestEnv, body: Value) -> Value {
    let mut body = body;
    body["participants"] = json!([ALICE, BOB]);
    t.post_expect("/sessions", &body, 201).await.json()
}

fn digits(n: &str) -> String {
    n.trim_start_matches('+').to_string()
}

async fn shown(t: &TestEnv, s: &Value) -> Value {
    t.get_json(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await
}

/// Whether a Vonage call from `from` to `to` is connected.
async fn vonage_routes(t: &TestEnv, to: &str, from: &str) -> bool {
    connect_of(&t.answer(&digits(to), &digits(from)).await).is_some()
}

/// A Twilio webhook (unsigned, as `make run` allows) with `form`.
async fn twilio(t: &TestEnv, path: &str, form: &[(&str, &str)]) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let r = t.post_form(path, &body, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// Whether a Twilio call from `from` to `to` is dialled through.
async fn twilio_routes(t: &TestEnv, to: &str, from: &str) -> bool {
    let sid = format!("CA{}", uuid::Uuid::new_v4().simple());
    twilio(t, "/twilio/voice", &call_form(&sid, from, to, &[]))
        .await
        .contains("<Dial")
}

/// Whether a Twilio text from `from` to `to` is relayed.
async fn twilio_text_relayed(t: &TestEnv, to: &str, from: &str) -> bool {
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let form = [
        ("MessageSid", sid.as_str()),
        ("From", from),
        ("To", to),
        ("Body", "hi"),
    ];
    twilio(t, "/twilio/sms", &form).await.contains("<Message")
}

async fn env_with(provider: &str) -> TestEnv {
    let t = support::env().await;
    t.add_number_of(provider, P1).await;
    t
}

/// A new service with `settings` and `numbers` in it: its sid.
async fn service(t: &TestEnv, settings: Value, numbers: &[&str]) -> String {
    let created = t.post_expect("/services", &settings, 201).await.json();
    let sid = created["sid"].as_str().expect("sid").to_string();
    for number in numbers {
        let join = json!({"number": number});
        t.post_expect(&format!("/services/{sid}/numbers"), &join, 200)
            .await;
    }
    sid
}

fn advance(t: &TestEnv, seconds: i64) {
    t.state.core.clock.advance(seconds);
}

#[tokio::test]
async fn a_sliding_session_lives_while_calls_come_and_ends_when_they_stop() {
    needs_emulator!();
    for provider in ["vonage", "twilio"] {
        let t = env_with(provider).await;
        let routes = |to: String, from: &'static str| {
            let t = &t;
            async move {
                match provider {
                    "vonage" => vonage_routes(t, &to, from).await,
                    _ => twilio_routes(t, &to, from).await,
                }
            }
        };
        let s = open(&t, json!({"ttl": 60, "provider": provider})).await;
        let (pa, pb) = (proxy_of(&s, 0), proxy_of(&s, 1));
        assert_eq!(
            (s["status"].as_str(), s["ttl"].as_i64()),
            (Some("open"), Some(60))
        );
        assert!(s.get("date_expiry").is_none(), "{s}");
        let first_end = s["expires_at"].clone();
        // Every 40 s a call, from either side: well past the first end.
        for (step, (to, from)) in [(pa.clone(), ALICE), (pb.clone(), BOB), (pa.clone(), ALICE)]
            .into_iter()
            .enumerate()
        {
            advance(&t, 40);
            assert!(routes(to, from).await, "{provider}: call {step} refused");
            let now = shown(&t, &s).await;
            assert_eq!(now["status"], "in-progress", "{provider}: {now}");
            assert_ne!(now["expires_at"], first_end, "{provider}: not extended");
        }
        // The other side, never idle for the session, still gets through.
        advance(&t, 40);
        assert!(routes(pb.clone(), BOB).await, "{provider}: the other side");
        // Then silence past the TTL: refused from both sides, read as expired.
        advance(&t, 61);
        assert!(!routes(pa, ALICE).await, "{provider}: idle session routes");
        assert!(!routes(pb, BOB).await, "{provider}: idle session routes");
        let now = shown(&t, &s).await;
        assert_eq!(
            (now["status"].as_str(), now["closed_reason"].as_str()),
            (Some("closed"), Some("expired"))
        );
    }
}

#[tokio::test]
async fn a_call_one_side_kept_alive_revives_the_other_sides_stale_leg() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let s = open(&t, json!({"ttl": 60})).await;
    let pb = proxy_of(&s, 1);
    // As if Alice had called 50 s in and the write that tells Bob's leg
    // had been lost: her leg says the session goes on, his still says it
    // ends 60 s after creation.
    advance(&t, 50);
    let now = t.state.core.clock.now();
    let store = &t.state.core.store;
    let set = |leg: String, idle: i64| {
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key(
                "pk",
                s_attr(&format!("NUM#{}", proxy_of(&s, usize::from(leg != ALICE)))),
            )
            .key("sk", s_attr(&format!("LEG#{leg}")))
            .update_expression("SET idle_until = :idle")
            .expression_attribute_values(":idle", AttributeValue::N(idle.to_string()))
            .send()
    };
    set(ALICE.to_string(), now + 60).await.expect("Alice's leg");
    set(BOB.to_string(), now + 10).await.expect("Bob's leg");
    advance(&t, 30);
    // Bob's pair looks free from his own leg, but Alice's side keeps the
    // session live: no new session may take it (the only number).
    let hijack = json!({"participants": [BOB, CAROL]});
    let r = t.post_expect("/sessions", &hijack, 409).await.json();
    assert_eq!(r["error"]["code"], "pool_exhausted", "{r}");
    // Bob's leg looks idle; Alice's says the session goes on: routed.
    let (routed, requests) = t.counted(vonage_routes(&t, &pb, BOB)).await;
    assert!(routed, "a live session refused on its stale side");
    assert_eq!(
        requests, 3,
        "the stale side reads the other leg, then moves its own"
    );
    // And it is moved now: the next call is one request again.
    let (routed, requests) = t.counted(vonage_routes(&t, &pb, BOB)).await;
    assert!(routed);
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_fixed_date_expiry_is_not_extended_and_overrides_a_ttl() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let end = t.state.core.clock.now() + 100;
    let date = callmask::clock::rfc3339(end);
    let s = open(&t, json!({"ttl": 60, "date_expiry": date})).await;
    assert_eq!(s["date_expiry"], date);
    assert_eq!(s["expires_at"], date);
    let pa = proxy_of(&s, 0);
    advance(&t, 50);
    assert!(vonage_routes(&t, &pa, ALICE).await);
    assert_eq!(
        shown(&t, &s).await["expires_at"],
        date,
        "a call moved a fixed end"
    );
    advance(&t, 50);
    assert!(
        !vonage_routes(&t, &pa, ALICE).await,
        "routed past date_expiry"
    );
    // A date in the past, or not a date, is refused with the field named.
    for bad in [json!(callmask::clock::rfc3339(end - 1000)), json!("soon")] {
        let body = json!({"participants": [ALICE, CAROL], "date_expiry": bad});
        let r = t.post_expect("/sessions", &body, 400).await.json();
        assert_eq!(r["error"]["field"], "date_expiry", "{r}");
    }
}

#[tokio::test]
async fn modes_carry_only_what_they_say_on_both_media() {
    needs_emulator!();
    let t = env_with("twilio").await;
    let texts = open(&t, json!({"mode": "message-only", "provider": "twilio"})).await;
    assert_eq!(texts["mode"], "message-only");
    let pa = proxy_of(&texts, 0);
    assert!(
        !twilio_routes(&t, &pa, ALICE).await,
        "a call through message-only"
    );
    assert!(twilio_text_relayed(&t, &pa, ALICE).await);
    // The refused call did not count as an interaction; the text did.
    assert!(shown(&t, &texts).await["last_interaction_at"].is_string());

    let t = env_with("twilio").await;
    let voice = open(&t, json!({"mode": "voice-only", "provider": "twilio"})).await;
    let pa = proxy_of(&voice, 0);
    assert!(
        !twilio_text_relayed(&t, &pa, ALICE).await,
        "a text through voice-only"
    );
    assert_eq!(
        shown(&t, &voice).await["status"],
        "open",
        "a refused text moved it"
    );
    assert!(twilio_routes(&t, &pa, ALICE).await);
    assert_eq!(shown(&t, &voice).await["status"], "in-progress");
}

#[tokio::test]
async fn unique_names_are_unique_per_service_and_fetch_their_session() {
    needs_emulator!();
    let t = env_with("vonage").await;
    t.add_number(P2).await;
    let s = open(&t, json!({"unique_name": "order 42/ride"})).await;
    assert_eq!(s["unique_name"], "order 42/ride");
    let body = json!({"participants": [ALICE, CAROL], "unique_name": "order 42/ride"});
    let r = t.post_expect("/sessions", &body, 409).await.json();
    assert_eq!(r["error"]["code"], "unique_name_taken", "{r}");
    let by_name = t.get_json("/sessions/order%2042%2Fride").await;
    assert_eq!(by_name["id"], s["id"]);
    assert_eq!(t.get("/sessions/order%2043").await.status, 404);
}

#[tokio::test]
async fn a_released_pair_cools_off_and_never_reaches_a_new_counterpart() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let settings = json!({"unique_name": "cool", "cool_off_seconds": 300});
    let sid = service(&t, settings, &[P1]).await;
    let s = open(&t, json!({"service": sid, "ttl_seconds": 3600})).await;
    let pb = proxy_of(&s, 1);
    let path = format!("/sessions/{}", s["id"].as_str().unwrap());
    assert_eq!(t.delete(&path).await.status, 204);
    // The only number: Alice's pair with it is cooling, so no session for
    // her now, and Bob's late call is refused (out of session), never
    // given to anyone.
    let again = json!({"participants": [ALICE, CAROL], "service": sid});
    let r = t.post_expect("/sessions", &again, 409).await.json();
    assert_eq!(r["error"]["code"], "pool_exhausted", "{r}");
    assert!(!vonage_routes(&t, &pb, BOB).await);
    // (Margins of tens of seconds: the clock is the machine's, moved on.)
    advance(&t, 250);
    t.post_expect("/sessions", &again, 409).await;
    advance(&t, 51);
    let new = t.post_expect("/sessions", &again, 201).await.json();
    assert_eq!(proxy_of(&new, 0), P1);
    // Bob is no one's counterpart on that number: still refused.
    assert!(!vonage_routes(&t, &pb, BOB).await);
}

#[tokio::test]
async fn an_idle_sliding_session_cools_off_too() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let settings = json!({"unique_name": "cool", "cool_off_seconds": 300});
    let sid = service(&t, settings, &[P1]).await;
    let s = open(&t, json!({"service": sid, "ttl": 60})).await;
    advance(&t, 61);
    let again = json!({"participants": [ALICE, CAROL], "service": sid, "ttl": 60});
    t.post_expect("/sessions", &again, 409).await;
    assert!(!vonage_routes(&t, &proxy_of(&s, 1), BOB).await);
    advance(&t, 300);
    t.post_expect("/sessions", &again, 201).await;
}

/// A service of `P1` and `P2` with `settings`: its sid.
async fn service_of_two(t: &TestEnv, settings: Value) -> String {
    t.add_number(P2).await;
    service(t, settings, &[P1, P2]).await
}

/// Alice's number in a new session with `other` in `service`, then
/// closed.
async fn alices_number(t: &TestEnv, service: &str, other: &str) -> String {
    let body = json!({"participants": [ALICE, other], "service": service});
    let s = t.post_expect("/sessions", &body, 201).await.json();
    assert_eq!(
        t.delete(&format!("/sessions/{}", s["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    proxy_of(&s, 0)
}

#[tokio::test]
async fn prefer_sticky_gives_the_last_number_and_avoid_sticky_another() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let sticky = service_of_two(&t, json!({"unique_name": "sticky"})).await;
    // Alice's first two sessions at once: P1, then P2 (P1 is hers already).
    let both = |other: &str| json!({"participants": [ALICE, other], "service": sticky});
    let first = t.post_expect("/sessions", &both(BOB), 201).await.json();
    let second = t.post_expect("/sessions", &both(CAROL), 201).await.json();
    assert_eq!(
        (proxy_of(&first, 0), proxy_of(&second, 0)),
        (P1.to_string(), P2.to_string())
    );
    for s in [&first, &second] {
        t.delete(&format!("/sessions/{}", s["id"].as_str().unwrap()))
            .await;
    }
    // Both free now; the lowest would be P1, but P2 was her last.
    for _ in 0..5 {
        assert_eq!(alices_number(&t, &sticky, BOB).await, P2);
    }

    let t = env_with("vonage").await;
    let avoid = service_of_two(
        &t,
        json!({"unique_name": "avoid", "number_selection_behavior": "avoid-sticky"}),
    )
    .await;
    let mut numbers = Vec::new();
    for _ in 0..6 {
        numbers.push(alices_number(&t, &avoid, BOB).await);
    }
    assert_eq!(
        numbers,
        [P1, P2, P1, P2, P1, P2],
        "never the last one twice"
    );
}

#[tokio::test]
async fn a_number_of_another_country_only_where_the_service_allows_it() {
    needs_emulator!();
    const US: &str = "+14155550100";
    let t = env_with("vonage").await;
    // The default service is strict: a US participant and only GB numbers.
    let body = json!({"participants": [ALICE, US]});
    let r = t.post_expect("/sessions", &body, 409).await.json();
    assert_eq!(
        (r["error"]["code"].as_str(), r["error"]["country"].as_str()),
        (Some("pool_exhausted"), Some("US"))
    );
    let open = json!({"unique_name": "abroad", "allow_foreign_numbers": true});
    let sid = service(&t, open, &[P1]).await;
    let body = json!({"participants": [ALICE, US], "service": sid});
    let s = t.post_expect("/sessions", &body, 201).await.json();
    assert_eq!(proxy_of(&s, 1), P1);
}

#[tokio::test]
async fn an_update_changes_the_lifetime_and_mode_the_calls_see_at_once() {
    needs_emulator!();
    let t = env_with("vonage").await;
    let s = open(&t, json!({"ttl_seconds": 80})).await;
    let path = format!("/sessions/{}", s["id"].as_str().unwrap());
    let pa = proxy_of(&s, 0);
    let patch = |body: Value| {
        let (t, path) = (&t, &path);
        async move {
            let body = body.to_string();
            let headers = [("content-type", "application/json")];
            t.request("PATCH", path, Some(&body), &headers).await
        }
    };
    // From a fixed end to a sliding TTL: a call at 40 s keeps it past 80.
    let r = patch(json!({"ttl": 60})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["ttl"].as_i64(), r.json().get("date_expiry")),
        (Some(60), None)
    );
    advance(&t, 40);
    assert!(vonage_routes(&t, &pa, ALICE).await);
    advance(&t, 45);
    assert!(
        vonage_routes(&t, &pa, ALICE).await,
        "a sliding session ended at its old fixed end"
    );
    // Message-only from now on: calls refused.
    assert_eq!(patch(json!({"mode": "message-only"})).await.status, 200);
    assert!(!vonage_routes(&t, &pa, ALICE).await);
    // Closed through the update, then nothing more can change.
    let r = patch(json!({"status": "closed"})).await;
    assert_eq!(
        (r.status, r.json()["status"].as_str()),
        (200, Some("closed"))
    );
    let r = patch(json!({"ttl": 600})).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (409, Some("session_closed"))
    );
    let r = patch(json!({"status": "open"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
}
