//! Sessions, routing and numbers against the DynamoDB emulator through the
//! real AWS SDK, routed exactly as the local stack routes.

mod support;

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use callmask::config::SecretSetting;
use callmask::phone::PhoneNumber;
use callmask::store::keys;
use callmask_local::signing::{vonage_bearer, vonage_bearer_of};
use serde_json::{json, Value};
use sha2::Digest;
use support::webhooks::*;
use support::*;

#[tokio::test]
async fn session_routes_both_ways_then_closes() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    t.add_number(P2).await;
    let s = t.open_session(ALICE, BOB, 3600).await;
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

    let path = format!("/sessions/{}", s["id"].as_str().unwrap());
    // Calls were routed: in progress (Twilio Proxy's status), with when.
    let shown = t.get_json(&path).await;
    assert_eq!(shown["status"], "in-progress");
    assert!(shown["last_interaction_at"].is_string());
    assert_eq!(t.delete(&path).await.status, 204);
    let ncco = t.answer(digits(&pa), digits(ALICE)).await;
    assert!(connect_of(&ncco).is_none(), "closed session still routes");
    let shown = t.get_json(&path).await;
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["closed_reason"], "closed");
    // Closing again is harmless; an unknown id is not found.
    assert_eq!(t.delete(&path).await.status, 204);
    let unknown = "/sessions/ffffffffffffffffffffffffffffffff";
    assert_eq!(t.delete(unknown).await.status, 404);
    assert_eq!(t.get(unknown).await.status, 404);
}

#[tokio::test]
async fn routing_takes_exactly_one_dynamodb_request() {
    needs_emulator!();
    let (t, s) = env_with_session(3600).await;
    let pa = proxy_of(&s, 0);
    for (to, from, routed) in [
        (digits(&pa), digits(ALICE), true),
        (digits(&pa), "447700900999", false),
    ] {
        let (ncco, requests) = t.counted(t.answer(to, from)).await;
        assert_eq!(connect_of(&ncco).is_some(), routed);
        assert_eq!(requests, 1, "requests per routed call");
    }
}

#[tokio::test]
async fn expired_sessions_stop_routing_and_free_their_numbers() {
    needs_emulator!();
    let (t, s) = env_with_session(60).await;
    let pa = proxy_of(&s, 0);
    assert!(connect_of(&t.answer(digits(&pa), digits(ALICE)).await).is_some());
    t.state.core.clock.advance(61);
    assert!(
        connect_of(&t.answer(digits(&pa), digits(ALICE)).await).is_none(),
        "expired session routes"
    );
    let shown = t
        .get_json(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await;
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["closed_reason"], "expired");
    // The only number serves Alice again, now with Carol.
    t.open_session(ALICE, CAROL, 60).await;
    let ncco = t.answer(digits(&pa), digits(ALICE)).await;
    assert_eq!(
        connect_of(&ncco).unwrap()["endpoint"][0]["number"],
        digits(CAROL)
    );
}

#[tokio::test]
async fn pool_exhaustion_answers_409_naming_the_country() {
    needs_emulator!();
    let (t, _) = env_with_session(3600).await;
    // One number serves any number of sessions with different participants...
    t.open_session(CAROL, DAVE, 3600).await;
    // ...but Alice cannot dial one number for two counterparts.
    let r = t.create_session(ALICE, ERIN, 3600).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let e = r.json();
    assert_eq!(e["error"]["code"], "pool_exhausted");
    assert_eq!(e["error"]["country"], "GB");
    assert!(e["error"]["message"].as_str().unwrap().contains("GB"));
    // A provider with no numbers at all.
    t.post_expect(
        "/sessions",
        &json!({"participants": ["+447700900600", "+447700900700"], "provider": "twilio"}),
        409,
    )
    .await;
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
        let number = |i: usize| s["participants"][i]["number"].as_str().unwrap();
        let ncco = t.answer(digits(&proxy_of(s, 0)), digits(number(0))).await;
        assert_eq!(
            connect_of(&ncco).unwrap()["endpoint"][0]["number"],
            digits(number(1))
        );
    }
}

/// `POST /numbers` with `body`, which must answer `status`: the reply.
async fn post_number(t: &TestEnv, body: Value, status: u16) -> Reply {
    t.post_expect("/numbers", &body, status).await
}

#[tokio::test]
async fn numbers_admin_counts_uses_and_guards_deletes() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    let dup = post_number(&t, json!({"number": P1, "provider": "vonage"}), 409).await;
    assert_eq!(dup.json()["error"]["code"], "number_exists");
    // Read calling code first, this was +55 123 0999: a Brazilian number.
    let bare = post_number(&t, json!({"number": "5551230999"}), 400).await;
    assert!(bare.body.contains("+ or 00"), "{}", bare.body);
    // With its country it is the number meant, on the default provider,
    // which the answer names.
    let us = post_number(&t, json!({"number": "555 123 0999", "country": "US"}), 201).await;
    assert_eq!(us.json()["number"], "+15551230999");
    assert_eq!(us.json()["provider"], "vonage");
    assert_eq!(t.delete("/numbers/%2B15551230999").await.status, 204);
    let bad = post_number(&t, json!({"number": "12", "provider": "vonage"}), 400).await;
    assert!(bad.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("number"));
    let created = post_number(
        &t,
        json!({"number": "00 1 415 555 0100", "provider": "twilio"}),
        201,
    )
    .await;
    assert_eq!(created.json()["number"], "+14155550100");
    assert_eq!(created.json()["country"], "US");

    let s = t.open_session(ALICE, BOB, 3600).await;
    let gb = t.listed_number(P1).await.expect("listed");
    assert_eq!(gb["active_sessions"], 1);
    assert_eq!(gb["provider"], "vonage");

    let path = format!("/numbers/{}", enc(P1));
    let r = t.delete(&path).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "number_in_use");
    // Still usable after the refused delete.
    assert!(connect_of(&t.answer(digits(P1), digits(ALICE)).await).is_some());
    t.delete(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await;
    assert_eq!(t.delete(&path).await.status, 204);
    assert_eq!(t.delete(&path).await.status, 404);
    // Bare digits are refused, not guessed at; `00` is an international
    // prefix as `+` is.
    let bare = t.delete("/numbers/14155550100").await;
    assert_eq!(bare.status, 400, "{}", bare.body);
    assert_eq!(bare.json()["error"]["code"], "invalid_number");
    assert_eq!(t.delete("/numbers/0014155550100").await.status, 204);
}

#[tokio::test]
async fn call_events_are_kept_and_listed_per_session() {
    needs_emulator!();
    let (t, s) = env_with_session(3600).await;
    let ncco = t.answer(digits(&proxy_of(&s, 0)), digits(ALICE)).await;
    let path = event_path(&ncco);
    assert!(path.starts_with("/vonage/event?session_id="), "{path}");
    let leg = json!({"uuid": "leg-1", "conversation_uuid": "CON-1", "direction": "outbound",
        "duration": "55"});
    t.post_leg_events(&path, &leg).await;
    let id = s["id"].as_str().unwrap();
    let calls = t.get_json(&format!("/sessions/{id}/calls")).await;
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
    let q = answer_query(digits(P1), digits(ALICE));
    let r = t.get(&format!("/vonage/answer{q}")).await;
    assert_eq!(r.status, 503);
    fallback_apology(&t, &format!("{q}&reason=timeout")).await;
}

#[tokio::test]
async fn signed_webhooks_are_enforced_when_a_secret_is_set() {
    needs_emulator!();
    let t = env_signed_by(SECRET).await;
    let body = r#"{"to":"447700900001","from":"447700900100","uuid":"u","conversation_uuid":"c"}"#;
    let auth = vonage_bearer(SECRET, body.as_bytes());
    let ok = t.post_signed("/vonage/answer", body, &auth).await;
    assert_eq!(ok.status, 200);
    let tampered = body.replace("100", "101");
    let r = t.post_signed("/vonage/answer", &tampered, &auth).await;
    assert_eq!(r.status, 401);
    for path in ["/vonage/answer", "/vonage/event"] {
        let unsigned = t.request("POST", path, Some(body), &[]).await;
        assert_eq!(unsigned.status, 401, "{path}");
    }
    // Admin routes are not signed webhooks.
    assert_eq!(t.get("/numbers").await.status, 200);
}

/// A stack whose Vonage webhooks are signed with `secret` (given as is),
/// with P1 in its pool.
async fn env_signed_by(secret: &str) -> TestEnv {
    let t = env_changed(|c| c.vonage.signature_secret = SecretSetting::Value(secret.into())).await;
    t.add_number(P1).await;
    t
}

const SECRET: &str = "a-signature-secret-for-tests-0123456789";
#[tokio::test]
async fn webhooks_read_both_secrets_from_secrets_manager() {
    needs_emulator!();
    // The Vonage secret as JSON; a plain-text secret (Twilio's) works too.
    let vonage = json!({ "signature_secret": VONAGE_SECRET }).to_string();
    let (t, _, pa) = env_from_secrets_manager(&vonage, 300).await;

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
    // A zero TTL: every request reads the secret again.
    let (t, vonage, pa) = env_from_secrets_manager(VONAGE_SECRET, 0).await;
    let (to, from) = (digits(&pa), digits(ALICE));
    assert_eq!(signed_answer(&t, VONAGE_SECRET, to, from).await.status, 200);
    rotate_secret(&vonage, "the-rotated-signature-secret").await;
    assert_eq!(signed_answer(&t, VONAGE_SECRET, to, from).await.status, 401);
    let r = signed_answer(&t, "the-rotated-signature-secret", to, from).await;
    assert!(connect_of(&r.json()).is_some(), "{}", r.body);
}

#[tokio::test]
async fn an_unreadable_secret_fails_closed_like_a_storage_outage() {
    needs_emulator!();
    // Ids of secrets that do not exist: Secrets Manager refuses them.
    let t = env_with_secret_ids("callmask/missing-vonage", "callmask/missing-twilio", 300).await;
    let pa = with_session_and_line(&t).await;
    let r = signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE)).await;
    assert_eq!(r.status, 503, "{}", r.body);
    let q = answer_query(digits(&pa), digits(ALICE));
    let r = fallback_apology(&t, &format!("{q}&reason=timeout")).await;
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
    let form = [
        ("CallSid", "CA00000000000000000000000000000003"),
        ("CallStatus", "completed"),
    ];
    let r = t.twilio_post(TWILIO_TOKEN, "/twilio/status", &form).await;
    assert_eq!(r.status, 503);
}

#[tokio::test]
async fn without_a_secret_webhooks_answer_503_and_never_route() {
    needs_emulator!();
    let t = env_changed(signed_only).await;
    let pa = with_session_and_line(&t).await;
    let q = answer_query(digits(&pa), digits(ALICE));
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
        let r = t.post_form(path, form, None).await;
        assert_eq!(r.status, 503, "{path}: {}", r.body);
        assert!(!r.body.contains(OWNER), "{path}: {}", r.body);
    }
    // Admin routes do not depend on webhook secrets.
    assert_eq!(t.get("/numbers").await.status, 200);
}

#[tokio::test]
async fn a_replayed_event_cannot_be_attached_to_another_session() {
    needs_emulator!();
    let t = env_signed_by(SECRET).await;
    let s = t.open_session(ALICE, BOB, 3600).await;
    let other = t.open_session(CAROL, DAVE, 3600).await;
    let pa = proxy_of(&s, 0);
    // The connect action's event URL carries the session and its tag.
    let r = signed_answer(&t, SECRET, digits(&pa), digits(ALICE)).await;
    let event_url = event_path(&r.json());
    let query = event_url.split_once('?').expect("query").1.to_string();
    assert!(query.contains("&tag="), "{query}");
    let body = r#"{"uuid":"leg-1","status":"answered","timestamp":"2026-11-24T10:00:00.000Z"}"#;
    // Each post with a token of its own (a token is taken once).
    let post_event = |q: String| {
        let (t, auth) = (&t, vonage_bearer(SECRET, body.as_bytes()));
        async move {
            t.post_signed(&format!("/vonage/event?{q}"), body, &auth)
                .await
        }
    };
    // The token, the event and the session's call list: one request.
    let (r, requests) = t.counted(post_event(query.clone())).await;
    assert_eq!(r.status, 200);
    assert_eq!(requests, 1, "storage requests per session event");
    let id = s["id"].as_str().unwrap();
    let calls = t.get_json(&format!("/sessions/{id}/calls")).await;
    assert_eq!(calls["calls"].as_array().unwrap().len(), 1, "{calls}");
    // The same event aimed at the other session, with the first one's tag.
    let other_id = other["id"].as_str().unwrap();
    let forged = query.replace(id, other_id);
    assert_eq!(post_event(forged).await.status, 200);
    assert_eq!(
        post_event(format!("session_id={other_id}")).await.status,
        200
    );
    let calls = t.get_json(&format!("/sessions/{other_id}/calls")).await;
    assert!(calls["calls"].as_array().unwrap().is_empty(), "{calls}");
}

#[tokio::test]
async fn a_replayed_token_is_refused_and_a_signed_call_is_still_one_request() {
    needs_emulator!();
    let (t, _, pa) = env_from_secrets_manager(VONAGE_SECRET, 300).await;
    let body = answer_body(digits(&pa), digits(ALICE));
    // The first call of a cold function (the secret not yet read), then a
    // warm one: each routes with one storage request, and each token once.
    for _ in 0..2 {
        let auth = vonage_bearer(VONAGE_SECRET, body.as_bytes());
        let (r, requests) = t
            .counted(t.post_signed("/vonage/answer", &body, &auth))
            .await;
        assert!(connect_of(&r.json()).is_some(), "{}", r.body);
        assert_eq!(requests, 1, "storage requests per signed call");
        let again = t.post_signed("/vonage/answer", &body, &auth).await;
        assert_eq!(again.status, 401, "{}", again.body);
        assert!(!again.body.contains(digits(BOB)));
    }
    // Events: the same token twice is one event.
    let event = r#"{"uuid":"u1","status":"answered"}"#;
    let auth = vonage_bearer(VONAGE_SECRET, event.as_bytes());
    let send = || t.post_signed("/vonage/event", event, &auth);
    let (r, requests) = t.counted(send()).await;
    assert_eq!(r.status, 200);
    assert_eq!(requests, 1, "storage requests per signed event");
    assert_eq!(send().await.status, 401);
}

/// Forged tokens (signed with another secret) presented while the secret
/// is not cached, so the routing read runs beside the secret's fetch: none
/// is remembered on the leg, whatever `iat` and `jti` they carry. Before,
/// each was added to the leg's token ids before its check and only ids
/// older than the attacker's `iat` were pruned: ~40 such requests pushed
/// the leg past DynamoDB's 400 KB item limit and its calls failed.
#[tokio::test]
async fn forged_tokens_are_never_remembered_on_a_leg() {
    needs_emulator!();
    let (t, _, pa) = env_from_secrets_manager(VONAGE_SECRET, 0).await;
    let body = answer_body(digits(&pa), digits(ALICE));
    let hash = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for i in 0..50 {
        // Most far in the future with a huge id; a few as an honest
        // signer would make them (recorded by the read, then taken off).
        let claims = if i % 10 == 0 {
            json!({"iat": now, "jti": format!("forged-{i}"), "payload_hash": hash})
        } else {
            json!({
                "iat": now + 1_000_000_000,
                "jti": format!("{i}-{}", "x".repeat(10_000)),
                "payload_hash": hash,
            })
        };
        let forged = vonage_bearer_of("not-the-secret", &claims);
        let r = t.post_signed("/vonage/answer", &body, &forged).await;
        assert_eq!(r.status, 401, "{}", r.body);
    }
    let leg = t
        .state
        .core
        .store
        .client()
        .get_item()
        .table_name(&t.state.core.config.table_name)
        .key(
            "pk",
            AttributeValue::S(keys::number(&PhoneNumber::parse(&pa).expect("proxy"))),
        )
        .key(
            "sk",
            AttributeValue::S(keys::leg(&PhoneNumber::parse(ALICE).expect("alice"))),
        )
        .send()
        .await
        .expect("the leg")
        .item
        .expect("the leg is stored");
    let kept = match leg.get("seen_tokens") {
        Some(AttributeValue::Ss(ids)) => ids.len(),
        _ => 0,
    };
    assert_eq!(kept, 0, "token ids kept on the leg");
    // Nor did they move the session: the routing request of each was put
    // back once it failed its check.
    assert!(
        !leg.contains_key("last_at"),
        "a forged call moved the leg: {leg:?}"
    );
    assert!(!leg.contains_key("idle_until"), "{leg:?}");
    let r = signed_answer(&t, VONAGE_SECRET, digits(&pa), digits(ALICE)).await;
    assert!(connect_of(&r.json()).is_some(), "{}", r.body);
}

/// `/vonage/audio-answer` as its function runs it: signed like every Vonage
/// webhook, a token taken once, the socket token read from Secrets Manager
/// by id and put in the websocket headers.
#[tokio::test]
async fn the_audio_answer_is_signed_and_carries_the_socket_token_from_secrets_manager() {
    needs_emulator!();
    let token_arn = put_secret(
        &unique("audio"),
        &json!({ "audio_socket_token": "socket-token-1" }).to_string(),
    )
    .await;
    let t = env_changed(|c| {
        signed_only(c);
        c.vonage.signature_secret = SecretSetting::Value(VONAGE_SECRET.into());
        c.audio.socket_token = SecretSetting::SecretId(token_arn);
        c.audio.socket_url = Some("wss://audio.example.com/socket".into());
    })
    .await;
    let query = "to=447700900001&from=447700900100&uuid=u-audio-1&conversation_uuid=CON-a1";
    // A GET is signed over its query as compact JSON, in the query's order.
    let payload = br#"{"to":"447700900001","from":"447700900100","uuid":"u-audio-1","conversation_uuid":"CON-a1"}"#;
    let auth = vonage_bearer(VONAGE_SECRET, payload);
    let path = format!("/vonage/audio-answer?{query}");
    let (r, requests) = t.counted(t.get_signed(&path, &auth)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // One storage request: the token's claim.
    assert_eq!(requests, 1);
    let ncco = r.json();
    let endpoint = &ncco[1]["endpoint"][0];
    assert_eq!(endpoint["uri"], "wss://audio.example.com/socket");
    assert_eq!(
        endpoint["headers"],
        json!({"call_uuid": "u-audio-1", "conversation_uuid": "CON-a1",
            "mode": "echo", "token": "socket-token-1"})
    );
    // The same token again: 401, and no socket token.
    let again = t.get_signed(&path, &auth).await;
    assert_eq!(again.status, 401);
    assert!(!again.body.contains("socket-token-1"));
    // Unsigned, or signed with another secret: 401.
    assert_eq!(t.get(&path).await.status, 401);
    let wrong = vonage_bearer("not-the-signature-secret-0123456789", payload);
    assert_eq!(t.get_signed(&path, &wrong).await.status, 401);
}

#[tokio::test]
async fn the_audio_answer_fails_closed() {
    needs_emulator!();
    let query = "/vonage/audio-answer?to=447700900001&from=447700900100&uuid=u-audio-2";
    // What is wrong, and a word the 503 says (or must not say).
    let cases: [(&str, Change, &str, bool); 3] = [
        (
            "no signature secret, unsigned webhooks not allowed",
            signed_only,
            "not_configured",
            true,
        ),
        (
            "no socket configured (AUDIO_SOCKET_URL set empty)",
            |c| c.audio.socket_url = None,
            "AUDIO_SOCKET_URL",
            true,
        ),
        // Vonage retries a 503: never an answer without the token.
        (
            "a socket token that cannot be read",
            |c| c.audio.socket_token = SecretSetting::SecretId(unique("audio-missing")),
            "websocket",
            false,
        ),
    ];
    for (what, change, word, said) in cases {
        let t = env_changed(change).await;
        let r = t.get(query).await;
        assert_eq!(r.status, 503, "{what}: {}", r.body);
        assert_eq!(r.body.contains(word), said, "{what}: {}", r.body);
    }
}
