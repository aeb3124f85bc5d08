//! Sessions, routing and numbers against the DynamoDB emulator through the
//! real AWS SDK, routed exactly as the local stack routes.

mod support;

use std::collections::HashSet;

use callmask::config::SecretSetting;
use callmask_local::signing::vonage_bearer;
use serde_json::Value;
use support::*;

const P1: &str = "+447700900001";
const P2: &str = "+447700900002";
const ALICE: &str = "+447700900100";
const BOB: &str = "+447700900200";

fn digits(n: &str) -> &str {
    n.trim_start_matches('+')
}

#[tokio::test]
async fn session_routes_both_ways_then_closes() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    t.add_number(P2).await;
    let r = t.create_session(ALICE, BOB, 3600).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    assert_eq!(s["status"], "open");
    assert_eq!(s["participants"][0]["number"], ALICE);
    assert_eq!(s["participants"][1]["number"], BOB);
    let (pa, pb) = (proxy_of(&s, 0), proxy_of(&s, 1));

    // Alice dials her proxy number: Bob's phone rings, showing Bob's proxy
    // number (the one Bob dials to reach Alice).
    let ncco = t.answer(digits(&pa), digits(ALICE)).await;
    let c = connect_of(&ncco).expect("connect");
    assert_eq!(c["endpoint"][0]["number"], digits(BOB));
    assert_eq!(c["from"], digits(&pb));
    assert!(c["eventUrl"].is_array());
    // And back.
    let ncco = t.answer(digits(&pb), digits(BOB)).await;
    let c = connect_of(&ncco).expect("connect");
    assert_eq!(c["endpoint"][0]["number"], digits(ALICE));
    assert_eq!(c["from"], digits(&pa));
    // A stranger dialling the same number is refused politely.
    let ncco = t.answer(digits(&pa), "447700900999").await;
    assert!(connect_of(&ncco).is_none());
    assert_eq!(ncco[0]["action"], "talk");

    let id = s["id"].as_str().unwrap();
    assert_eq!(
        t.get(&format!("/sessions/{id}")).await.json()["status"],
        "open"
    );
    assert_eq!(t.delete(&format!("/sessions/{id}")).await.status, 204);
    let ncco = t.answer(digits(&pa), digits(ALICE)).await;
    assert!(connect_of(&ncco).is_none(), "closed session still routes");
    let shown = t.get(&format!("/sessions/{id}")).await.json();
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["closed_reason"], "closed");
    // Closing again is harmless; an unknown id is not found.
    assert_eq!(t.delete(&format!("/sessions/{id}")).await.status, 204);
    assert_eq!(
        t.delete("/sessions/ffffffffffffffffffffffffffffffff")
            .await
            .status,
        404
    );
    assert_eq!(
        t.get("/sessions/ffffffffffffffffffffffffffffffff")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn routing_takes_exactly_one_dynamodb_request() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    let s = t.create_session(ALICE, BOB, 3600).await.json();
    let pa = proxy_of(&s, 0);
    for (to, from, routed) in [
        (digits(&pa), digits(ALICE), true),
        (digits(&pa), "447700900999", false),
    ] {
        let before = t.counter.get();
        let ncco = t.answer(to, from).await;
        assert_eq!(connect_of(&ncco).is_some(), routed);
        assert_eq!(t.counter.get() - before, 1, "requests per routed call");
    }
}

#[tokio::test]
async fn expired_sessions_stop_routing_and_free_their_numbers() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    let s = t.create_session(ALICE, BOB, 60).await.json();
    let pa = proxy_of(&s, 0);
    assert!(connect_of(&t.answer(digits(&pa), digits(ALICE)).await).is_some());
    t.state.core.clock.advance(61);
    assert!(
        connect_of(&t.answer(digits(&pa), digits(ALICE)).await).is_none(),
        "expired session routes"
    );
    let shown = t
        .get(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["closed_reason"], "expired");
    // The only number serves Alice again, now with Carol.
    let r = t.create_session(ALICE, "+447700900300", 60).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let ncco = t.answer(digits(&pa), digits(ALICE)).await;
    assert_eq!(
        connect_of(&ncco).unwrap()["endpoint"][0]["number"],
        "447700900300"
    );
}

#[tokio::test]
async fn pool_exhaustion_answers_409_naming_the_country() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    assert_eq!(t.create_session(ALICE, BOB, 3600).await.status, 201);
    // One number serves any number of sessions with different participants...
    assert_eq!(
        t.create_session("+447700900300", "+447700900400", 3600)
            .await
            .status,
        201
    );
    // ...but Alice cannot dial one number for two counterparts.
    let r = t.create_session(ALICE, "+447700900500", 3600).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let e = r.json();
    assert_eq!(e["error"]["code"], "pool_exhausted");
    assert_eq!(e["error"]["country"], "GB");
    assert!(e["error"]["message"].as_str().unwrap().contains("GB"));
    // A provider with no numbers at all.
    let r = t
        .post(
            "/sessions",
            r#"{"participants":["+447700900600","+447700900700"],"provider":"twilio"}"#,
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn concurrent_creations_never_share_a_pair() {
    needs_emulator!();
    let t = env().await;
    let pool: Vec<String> = (1..=8).map(|i| format!("+4477009000{i:02}")).collect();
    for n in &pool {
        t.add_number(n).await;
    }
    let people: Vec<String> = (0..6).map(|i| format!("+4477009001{i:02}")).collect();
    let t = std::sync::Arc::new(t);
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..200usize {
        let t = t.clone();
        let (a, b) = (people[k % 6].clone(), people[(k / 6 + k + 1) % 6].clone());
        tasks.spawn(async move {
            if a == b {
                return None;
            }
            let r = t.create_session(&a, &b, 3600).await;
            assert!(
                matches!(r.status, 201 | 409 | 503),
                "{} {}",
                r.status,
                r.body
            );
            (r.status == 201).then(|| r.json())
        });
    }
    let mut sessions: Vec<Value> = Vec::new();
    while let Some(res) = tasks.join_next().await {
        if let Some(s) = res.expect("task") {
            sessions.push(s);
        }
    }
    // Each person can be in at most 8 sessions (one per pool number).
    assert!(
        sessions.len() >= 8,
        "only {} sessions created",
        sessions.len()
    );
    let mut pairs = HashSet::new();
    for s in &sessions {
        for p in s["participants"].as_array().unwrap() {
            let pair = (
                p["number"].as_str().unwrap().to_string(),
                p["proxy_number"].as_str().unwrap().to_string(),
            );
            assert!(
                pairs.insert(pair.clone()),
                "pair {pair:?} in two active sessions"
            );
        }
    }
    // Every created session routes as it says.
    for s in sessions.iter().take(20) {
        let ncco = t
            .answer(
                digits(&proxy_of(s, 0)),
                digits(s["participants"][0]["number"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            connect_of(&ncco).unwrap()["endpoint"][0]["number"],
            digits(s["participants"][1]["number"].as_str().unwrap())
        );
    }
}

#[tokio::test]
async fn numbers_admin_counts_uses_and_guards_deletes() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    let dup = t
        .post(
            "/numbers",
            &format!(r#"{{"number":"{P1}","provider":"vonage"}}"#),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.json()["error"]["code"], "number_exists");
    let bad = t
        .post("/numbers", r#"{"number":"12","provider":"vonage"}"#)
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("number"));
    let created = t
        .post(
            "/numbers",
            r#"{"number":"00 1 415 555 0100","provider":"twilio"}"#,
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["number"], "+14155550100");
    assert_eq!(created.json()["country"], "US");

    let s = t.create_session(ALICE, BOB, 3600).await.json();
    let gb = t.listed_number(P1).await.expect("listed");
    assert_eq!(gb["active_sessions"], 1);
    assert_eq!(gb["provider"], "vonage");

    let enc = P1.replace('+', "%2B");
    let r = t.delete(&format!("/numbers/{enc}")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "number_in_use");
    // Still usable after the refused delete.
    assert!(connect_of(&t.answer(digits(P1), digits(ALICE)).await).is_some());
    t.delete(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await;
    assert_eq!(t.delete(&format!("/numbers/{enc}")).await.status, 204);
    assert_eq!(t.delete(&format!("/numbers/{enc}")).await.status, 404);
    // Bare digits name the number too.
    assert_eq!(t.delete("/numbers/14155550100").await.status, 204);
}

#[tokio::test]
async fn call_events_are_kept_and_listed_per_session() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    let s = t.create_session(ALICE, BOB, 3600).await.json();
    let id = s["id"].as_str().unwrap();
    let ncco = t.answer(digits(&proxy_of(&s, 0)), digits(ALICE)).await;
    let event_url = connect_of(&ncco).unwrap()["eventUrl"][0]
        .as_str()
        .unwrap()
        .to_string();
    let path = event_url.trim_start_matches("http://127.0.0.1:3000");
    assert!(path.starts_with("/vonage/event?session_id="), "{event_url}");
    for (status, ts) in [
        ("ringing", "2026-01-01T10:00:01.000Z"),
        ("completed", "2026-01-01T10:01:00.000Z"),
        ("answered", "2026-01-01T10:00:05.000Z"),
    ] {
        let body = format!(
            r#"{{"uuid":"leg-1","conversation_uuid":"CON-1","status":"{status}","direction":"outbound","timestamp":"{ts}","duration":"55"}}"#
        );
        assert_eq!(t.post(path, &body).await.status, 200);
    }
    let calls = t.get(&format!("/sessions/{id}/calls")).await.json();
    let list = calls["calls"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    // The late "answered" does not overwrite the final state.
    assert_eq!(list[0]["status"], "completed");
    assert_eq!(list[0]["duration_seconds"], 55);
    assert_eq!(
        t.post("/vonage/event", r#"{"status":"x"}"#).await.status,
        400
    );
    assert_eq!(t.post("/vonage/event", "{not json").await.status, 400);
}

#[tokio::test]
async fn storage_outage_gets_503_on_answer_and_an_apology_on_fallback() {
    needs_emulator!();
    let mut t = env().await;
    t.add_number(P1).await;
    // Point the store at a port nobody listens on.
    let sdk = callmask::aws::sdk_config(Some("http://127.0.0.1:9")).await;
    let client = callmask::aws::dynamodb(&sdk, callmask::aws::CALL_PATH, None);
    t.state
        .set_store(callmask::store::Store::new(client, "nope"));
    let q = "?to=447700900001&from=447700900100&uuid=u1&conversation_uuid=c1";
    let r = t.get(&format!("/vonage/answer{q}")).await;
    assert_eq!(r.status, 503);
    let r = t.get(&format!("/vonage/fallback{q}&reason=timeout")).await;
    assert_eq!(r.status, 200);
    let ncco = r.json();
    assert_eq!(ncco[0]["action"], "talk");
    assert!(ncco[0]["text"].as_str().unwrap().contains("Sorry"));
}

#[tokio::test]
async fn signed_webhooks_are_enforced_when_a_secret_is_set() {
    needs_emulator!();
    let t = env_signed_by(SECRET).await;
    let body = r#"{"to":"447700900001","from":"447700900100","uuid":"u","conversation_uuid":"c"}"#;
    let auth = vonage_bearer(SECRET, body.as_bytes());
    let ok = t
        .request(
            "POST",
            "/vonage/answer",
            Some(body),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(ok.status, 200);
    let tampered = body.replace("100", "101");
    let r = t
        .request(
            "POST",
            "/vonage/answer",
            Some(&tampered),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        t.request("POST", "/vonage/answer", Some(body), &[])
            .await
            .status,
        401
    );
    assert_eq!(
        t.request("POST", "/vonage/event", Some(body), &[])
            .await
            .status,
        401
    );
    // Admin routes are not signed webhooks.
    assert_eq!(t.get("/numbers").await.status, 200);
}

/// A stack whose Vonage webhooks are signed with `secret` (given as is),
/// with P1 in its pool.
async fn env_signed_by(secret: &str) -> TestEnv {
    let mut config = test_config();
    config.vonage.signature_secret = SecretSetting::Value(secret.into());
    let t = env_with(config).await;
    t.add_number(P1).await;
    t
}

const SECRET: &str = "a-signature-secret-for-tests-0123456789";
const VONAGE_SECRET: &str = "vonage-signature-secret-from-secrets-manager";
const TWILIO_TOKEN: &str = "twilio-auth-token-from-secrets-manager";
const TWILIO_ACCOUNT: &str = "AC00000000000000000000000000000042";
const LINE: &str = "+15551230009";
const OWNER: &str = "+15551230001";

/// A stack whose webhooks read both secrets from the emulator's Secrets
/// Manager by id, as the template configures them; no unsigned pass.
async fn env_with_secret_ids(vonage_id: &str, twilio_id: &str, cache_seconds: u64) -> TestEnv {
    let mut config = test_config();
    config.core.allow_unsigned_webhooks = false;
    config.core.secret_cache_seconds = cache_seconds;
    config.vonage.signature_secret = SecretSetting::SecretId(vonage_id.into());
    config.twilio.auth_token = SecretSetting::SecretId(twilio_id.into());
    config.twilio.account_sid = Some(TWILIO_ACCOUNT.into());
    env_with(config).await
}

async fn with_session_and_line(t: &TestEnv) -> (String, Value) {
    t.add_number(P1).await;
    let s = t.create_session(ALICE, BOB, 3600).await;
    assert_eq!(s.status, 201, "{}", s.body);
    let s = s.json();
    t.add_number_of("twilio", LINE).await;
    let line = serde_json::json!({"owner": {"phone": OWNER, "email": "owner@example.com"}});
    let r = t.put_line("+15551230009", &line).await;
    assert_eq!(r.status, 201, "{}", r.body);
    (proxy_of(&s, 0), s)
}

async fn signed_answer(t: &TestEnv, secret: &str, to: &str, from: &str) -> Reply {
    let body = format!(r#"{{"to":"{to}","from":"{from}","uuid":"u1","conversation_uuid":"c1"}}"#);
    let auth = vonage_bearer(secret, body.as_bytes());
    t.post_signed("/vonage/answer", &body, &auth).await
}

async fn signed_voice(t: &TestEnv, token: &str, call_sid: &str) -> Reply {
    let params = [
        ("CallSid", call_sid),
        ("From", "+15551230002"),
        ("To", "+15551230009"),
    ];
    t.twilio_post(token, "/twilio/voice", &params).await
}

#[tokio::test]
async fn webhooks_read_both_secrets_from_secrets_manager() {
    needs_emulator!();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let vonage = put_secret(
        &format!("vonage-{id}"),
        &serde_json::json!({ "signature_secret": VONAGE_SECRET }).to_string(),
    )
    .await;
    // A plain-text secret works too.
    let twilio = put_secret(&format!("twilio-{id}"), TWILIO_TOKEN).await;
    let t = env_with_secret_ids(&vonage, &twilio, 300).await;
    let (pa, _) = with_session_and_line(&t).await;

    let r = signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        connect_of(&r.json()).expect("connect")["endpoint"][0]["number"],
        digits(BOB)
    );
    let r = signed_answer(&t, "not-the-secret", digits(&pa), digits(ALICE)).await;
    assert_eq!(r.status, 401);
    assert!(!r.body.contains(digits(BOB)));

    let r = signed_voice(&t, TWILIO_TOKEN, "CA00000000000000000000000000000001").await;
    assert!(r.body.contains("<Dial"), "{}", r.body);
    assert!(r.body.contains(OWNER), "{}", r.body);
    let r = signed_voice(&t, "not-the-token", "CA00000000000000000000000000000002").await;
    assert_eq!(r.status, 401);
    assert!(!r.body.contains(OWNER));
}

#[tokio::test]
async fn a_rotated_secret_is_picked_up_without_a_restart() {
    needs_emulator!();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let vonage = put_secret(&format!("vonage-{id}"), VONAGE_SECRET).await;
    let twilio = put_secret(&format!("twilio-{id}"), TWILIO_TOKEN).await;
    // A zero TTL: every request reads the secret again.
    let t = env_with_secret_ids(&vonage, &twilio, 0).await;
    let (pa, _) = with_session_and_line(&t).await;
    assert_eq!(
        signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE))
            .await
            .status,
        200
    );
    rotate_secret(&vonage, "the-rotated-signature-secret").await;
    assert_eq!(
        signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE))
            .await
            .status,
        401
    );
    let r = signed_answer(
        &t,
        "the-rotated-signature-secret",
        digits(&pa),
        digits(ALICE),
    )
    .await;
    assert!(connect_of(&r.json()).is_some(), "{}", r.body);
}

#[tokio::test]
async fn an_unreadable_secret_fails_closed_like_a_storage_outage() {
    needs_emulator!();
    // Ids of secrets that do not exist: Secrets Manager refuses them.
    let t = env_with_secret_ids("callmask/missing-vonage", "callmask/missing-twilio", 300).await;
    let (pa, _) = with_session_and_line(&t).await;
    let r = signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let q = format!(
        "?to={}&from={}&uuid=u1&conversation_uuid=c1&reason=timeout",
        digits(&pa),
        digits(ALICE)
    );
    let r = t.get(&format!("/vonage/fallback{q}")).await;
    assert_eq!(r.status, 200);
    let ncco = r.json();
    assert_eq!(ncco[0]["action"], "talk");
    assert!(
        ncco[0]["text"].as_str().unwrap().contains("Sorry"),
        "{ncco}"
    );
    assert!(!r.body.contains(digits(BOB)));
    let r = t
        .post("/vonage/event", r#"{"uuid":"u1","status":"answered"}"#)
        .await;
    assert_eq!(r.status, 503);
    // Twilio: the caller hears an apology; callbacks get 503 and are retried.
    let r = signed_voice(&t, TWILIO_TOKEN, "CA00000000000000000000000000000003").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<Say") && !r.body.contains("<Dial"),
        "{}",
        r.body
    );
    assert!(!r.body.contains(OWNER));
    let form = "CallSid=CA00000000000000000000000000000003&CallStatus=completed";
    let sig = twilio_signature(TWILIO_TOKEN, "/twilio/status", form);
    let r = t
        .request(
            "POST",
            "/twilio/status",
            Some(form),
            &[("x-twilio-signature", &sig)],
        )
        .await;
    assert_eq!(r.status, 503);
}

#[tokio::test]
async fn without_a_secret_webhooks_answer_503_and_never_route() {
    needs_emulator!();
    let mut config = test_config();
    config.core.allow_unsigned_webhooks = false;
    let t = env_with(config).await;
    let (pa, _) = with_session_and_line(&t).await;
    let q = format!(
        "?to={}&from={}&uuid=u1&conversation_uuid=c1",
        digits(&pa),
        digits(ALICE)
    );
    for path in ["/vonage/answer", "/vonage/fallback"] {
        let r = t.get(&format!("{path}{q}")).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(!r.body.contains(digits(BOB)), "{path}: {}", r.body);
    }
    assert_eq!(
        t.post("/vonage/event", r#"{"uuid":"u1","status":"answered"}"#)
            .await
            .status,
        503
    );
    let form = "CallSid=CA00000000000000000000000000000004&From=%2B15551230002&To=%2B15551230009";
    for path in [
        "/twilio/voice",
        "/twilio/dial-status",
        "/twilio/status",
        "/twilio/recording",
        "/twilio/transcription",
    ] {
        let r = t
            .request(
                "POST",
                path,
                Some(form),
                &[("content-type", "application/x-www-form-urlencoded")],
            )
            .await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(!r.body.contains(OWNER), "{path}: {}", r.body);
    }
    // Admin routes do not depend on webhook secrets.
    assert_eq!(t.get("/numbers").await.status, 200);
}

#[tokio::test]
async fn a_replayed_event_cannot_be_attached_to_another_session() {
    needs_emulator!();
    let secret = SECRET;
    let t = env_signed_by(secret).await;
    let s = t.create_session(ALICE, BOB, 3600).await.json();
    let other = t
        .create_session("+447700900300", "+447700900400", 3600)
        .await
        .json();
    let pa = proxy_of(&s, 0);
    // The connect action's event URL carries the session and its tag.
    let r = signed_answer(&t, secret, digits(&pa), digits(ALICE)).await;
    let event_url = connect_of(&r.json()).expect("connect")["eventUrl"][0]
        .as_str()
        .expect("event url")
        .to_string();
    let query = event_url.split_once('?').expect("query").1.to_string();
    assert!(query.contains("&tag="), "{query}");
    let body = r#"{"uuid":"leg-1","status":"answered","timestamp":"2026-11-24T10:00:00.000Z"}"#;
    let post_event = |q: String| {
        let auth = vonage_bearer(secret, body.as_bytes());
        let t = &t;
        async move {
            t.request(
                "POST",
                &format!("/vonage/event?{q}"),
                Some(body),
                &[("authorization", &auth)],
            )
            .await
        }
    };
    // The token, the event and the session's call list: one request.
    let before = t.counter.get();
    assert_eq!(post_event(query.clone()).await.status, 200);
    assert_eq!(
        t.counter.get() - before,
        1,
        "storage requests per session event"
    );
    let id = s["id"].as_str().unwrap();
    let calls = t.get(&format!("/sessions/{id}/calls")).await.json();
    assert_eq!(calls["calls"].as_array().unwrap().len(), 1, "{calls}");
    // The same event aimed at the other session, with the first one's tag.
    let other_id = other["id"].as_str().unwrap();
    let forged = query.replace(id, other_id);
    assert_eq!(post_event(forged).await.status, 200);
    assert_eq!(
        post_event(format!("session_id={other_id}")).await.status,
        200
    );
    let calls = t.get(&format!("/sessions/{other_id}/calls")).await.json();
    assert!(calls["calls"].as_array().unwrap().is_empty(), "{calls}");
}

#[tokio::test]
async fn a_replayed_token_is_refused_and_a_signed_call_is_still_one_request() {
    needs_emulator!();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let vonage = put_secret(&format!("vonage-{id}"), VONAGE_SECRET).await;
    let twilio = put_secret(&format!("twilio-{id}"), TWILIO_TOKEN).await;
    let t = env_with_secret_ids(&vonage, &twilio, 300).await;
    let (pa, _) = with_session_and_line(&t).await;
    let body = format!(
        r#"{{"to":"{}","from":"{}","uuid":"u1","conversation_uuid":"c1"}}"#,
        digits(&pa),
        digits(ALICE)
    );
    let post = |auth: String| {
        let (t, body) = (&t, body.clone());
        async move { t.post_signed("/vonage/answer", &body, &auth).await }
    };
    // The first call of a cold function (the secret not yet read), then a
    // warm one: each routes with one storage request, and each token once.
    for _ in 0..2 {
        let auth = vonage_bearer(VONAGE_SECRET, body.as_bytes());
        let before = t.counter.get();
        let r = post(auth.clone()).await;
        assert!(connect_of(&r.json()).is_some(), "{}", r.body);
        assert_eq!(
            t.counter.get() - before,
            1,
            "storage requests per signed call"
        );
        let again = post(auth).await;
        assert_eq!(again.status, 401, "{}", again.body);
        assert!(!again.body.contains(digits(BOB)));
    }
    // Events: the same token twice is one event.
    let event = r#"{"uuid":"u1","status":"answered"}"#;
    let auth = vonage_bearer(VONAGE_SECRET, event.as_bytes());
    let headers = [("authorization", auth.as_str())];
    let send = || t.request("POST", "/vonage/event", Some(event), &headers);
    let before = t.counter.get();
    assert_eq!(send().await.status, 200);
    assert_eq!(
        t.counter.get() - before,
        1,
        "storage requests per signed event"
    );
    assert_eq!(send().await.status, 401);
}

/// `/vonage/audio-answer` as its function runs it: signed like every Vonage
/// webhook, a token taken once, the socket token read from Secrets Manager
/// by id and put in the websocket headers.
#[tokio::test]
async fn the_audio_answer_is_signed_and_carries_the_socket_token_from_secrets_manager() {
    needs_emulator!();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let token_arn = put_secret(
        &format!("audio-{id}"),
        &serde_json::json!({ "audio_socket_token": "socket-token-1" }).to_string(),
    )
    .await;
    let mut config = test_config();
    config.core.allow_unsigned_webhooks = false;
    config.vonage.signature_secret = SecretSetting::Value(VONAGE_SECRET.into());
    config.audio.socket_token = SecretSetting::SecretId(token_arn);
    config.audio.socket_url = Some("wss://audio.example.com/socket".into());
    let t = env_with(config).await;
    let query = "to=447700900001&from=447700900100&uuid=u-audio-1&conversation_uuid=CON-a1";
    // A GET is signed over its query as compact JSON, in the query's order.
    let payload = br#"{"to":"447700900001","from":"447700900100","uuid":"u-audio-1","conversation_uuid":"CON-a1"}"#;
    let auth = vonage_bearer(VONAGE_SECRET, payload);
    let path = format!("/vonage/audio-answer?{query}");
    let before = t.counter.get();
    let r = t
        .request("GET", &path, None, &[("authorization", &auth)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // One storage request: the token's claim.
    assert_eq!(t.counter.get() - before, 1);
    let ncco = r.json();
    let endpoint = &ncco[1]["endpoint"][0];
    assert_eq!(endpoint["uri"], "wss://audio.example.com/socket");
    assert_eq!(
        endpoint["headers"],
        serde_json::json!({"call_uuid": "u-audio-1", "conversation_uuid": "CON-a1",
            "mode": "echo", "token": "socket-token-1"})
    );
    // The same token again: 401, and no socket token.
    let again = t
        .request("GET", &path, None, &[("authorization", &auth)])
        .await;
    assert_eq!(again.status, 401);
    assert!(!again.body.contains("socket-token-1"));
    // Unsigned, or signed with another secret: 401.
    assert_eq!(t.get(&path).await.status, 401);
    let wrong = vonage_bearer("not-the-signature-secret-0123456789", payload);
    let r = t
        .request("GET", &path, None, &[("authorization", &wrong)])
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn the_audio_answer_fails_closed() {
    needs_emulator!();
    let query = "/vonage/audio-answer?to=447700900001&from=447700900100&uuid=u-audio-2";
    // No signature secret, unsigned webhooks not allowed: 503.
    let mut config = test_config();
    config.core.allow_unsigned_webhooks = false;
    let t = env_with(config).await;
    let r = t.get(query).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("not_configured"));
    // No socket configured (AUDIO_SOCKET_URL set empty): 503.
    let mut config = test_config();
    config.audio.socket_url = None;
    let t = env_with(config).await;
    let r = t.get(query).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("AUDIO_SOCKET_URL"));
    // A socket token that cannot be read: 503 (Vonage retries), never an
    // answer without it.
    let mut config = test_config();
    config.audio.socket_token =
        SecretSetting::SecretId(format!("audio-missing-{}", uuid::Uuid::new_v4().simple()));
    let t = env_with(config).await;
    let r = t.get(query).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(!r.body.contains("websocket"));
}
