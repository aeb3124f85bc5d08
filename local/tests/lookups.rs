//! The admin reads against the DynamoDB emulator, routed as the local stack
//! routes: `GET /sessions` (newest first, by status and by participant,
//! page after page with nothing missed or repeated, bad filters and a
//! tampered token refused) and `GET /calls/{id}` (a Vonage session call
//! from its events, a Twilio line call from its context).

mod support;

use std::collections::HashSet;

use base64::Engine;
use serde_json::{json, Value};
use support::*;

fn id_of(session: &Value) -> String {
    session["id"].as_str().expect("id").to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions: {list}"))
        .iter()
        .map(id_of)
        .collect()
}

/// Every page of `query` at `limit` a page, following `next` to the end:
/// the ids in order, and how many pages it took.
async fn all_pages(t: &TestEnv, query: &str, limit: usize) -> (Vec<String>, usize) {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for pages in 1..=200 {
        let mut path = format!("/sessions?limit={limit}");
        if !query.is_empty() {
            path.push('&');
            path.push_str(query);
        }
        if let Some(token) = &next {
            path.push_str(&format!("&next={token}"));
        }
        let page = t.get_json(&path).await;
        let got = ids(&page);
        assert!(got.len() <= limit, "{path}: {} > {limit}", got.len());
        out.extend(got);
        match page["next"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => return (out, pages),
        }
    }
    panic!("{query}: more than 200 pages");
}

/// Five sessions a second apart (the list's order is creation's): Alice
/// with Bob and with Carol, Dave with Erin, Bob with Dave, Carol with Erin.
/// Then Alice–Bob is closed and Dave–Erin expires (a 30 s session).
async fn five_sessions(t: &TestEnv) -> Vec<String> {
    t.add_number(P1).await;
    t.add_number(P2).await;
    let mut ids = Vec::new();
    for (a, b, ttl) in [
        (ALICE, BOB, 3600),
        (ALICE, CAROL, 3600),
        (DAVE, ERIN, 30),
        (BOB, DAVE, 3600),
        (CAROL, ERIN, 3600),
    ] {
        ids.push(id_of(&t.open_session(a, b, ttl).await));
        t.state.core.clock.advance(1);
    }
    assert_eq!(t.delete(&format!("/sessions/{}", ids[0])).await.status, 204);
    t.state.core.clock.advance(60);
    ids
}

#[tokio::test]
async fn sessions_list_newest_first_with_each_filter() {
    needs_emulator!();
    let t = env().await;
    let s = five_sessions(&t).await;
    let newest_first: Vec<String> = s.iter().rev().cloned().collect();

    let list = t.get_json("/sessions").await;
    assert_eq!(ids(&list), newest_first);
    assert_eq!(list["next"], Value::Null);
    // Each entry is the session as GET /sessions/{id} shows it.
    for shown in list["sessions"].as_array().expect("sessions") {
        let id = shown["id"].as_str().expect("id");
        assert_eq!(*shown, t.get_json(&format!("/sessions/{id}")).await);
    }

    // Each filter: the sessions it lets through (by their order of
    // creation), newest first.
    for (query, expected) in [
        // Open: not the closed one, not the expired one.
        ("status=open".to_string(), vec![4, 3, 1]),
        ("status=closed".to_string(), vec![2, 0]),
        // A participant, in either place, open or closed.
        (format!("participant={}", enc(ALICE)), vec![1, 0]),
        (format!("participant={}", enc(BOB)), vec![3, 0]),
        // The + unencoded (it reads as a space).
        (format!("participant=+{}", digits(ERIN)), vec![4, 2]),
        (format!("status=open&participant={}", enc(ERIN)), vec![4]),
        (format!("participant={}&status=closed", enc(BOB)), vec![0]),
        // A proxy number is nobody's participant number.
        (format!("participant={}", enc(P1)), vec![]),
    ] {
        let list = t.get_json(&format!("/sessions?{query}")).await;
        let want: Vec<String> = expected.iter().map(|&i| s[i].clone()).collect();
        assert_eq!(ids(&list), want, "{query}");
        if expected.is_empty() {
            assert_eq!(list["next"], Value::Null, "{query}");
        }
    }
    let open = t.get_json("/sessions?status=open").await;
    assert_eq!(pluck(&open["sessions"], "status"), ["open"; 3]);
    let closed = t.get_json("/sessions?status=closed").await;
    assert_eq!(
        pluck(&closed["sessions"], "closed_reason"),
        ["expired", "closed"]
    );

    // Every filter, a page of one and of two at a time: the same sessions
    // in the same order, none missed, none twice.
    for query in [
        String::new(),
        "status=open".to_string(),
        "status=closed".to_string(),
        format!("participant={}", enc(ALICE)),
        format!("participant={}&status=open", enc(DAVE)),
    ] {
        let whole = ids(&t.get_json(&format!("/sessions?{query}")).await);
        for limit in [1, 2] {
            let (paged, pages) = all_pages(&t, &query, limit).await;
            assert_eq!(paged, whole, "{query} at {limit} a page");
            assert_eq!(
                paged.iter().collect::<HashSet<_>>().len(),
                paged.len(),
                "{query}: a session twice"
            );
            assert!(pages >= whole.len().div_ceil(limit), "{query}");
        }
    }

    // A session created between two pages is before the cursor: the walk
    // still sees each of the others once.
    let first = t.get_json("/sessions?limit=2").await;
    t.state.core.clock.advance(1);
    t.open_session(ERIN, "+447700900600", 3600).await;
    let token = first["next"].as_str().expect("next");
    let rest = t
        .get_json(&format!("/sessions?limit=50&next={token}"))
        .await;
    let mut seen = ids(&first);
    seen.extend(ids(&rest));
    assert_eq!(seen, newest_first);
}

#[tokio::test]
async fn a_filtered_list_reads_a_bounded_share_per_request() {
    needs_emulator!();
    let t = env().await;
    t.add_number(P1).await;
    // One open session, then 40 newer ones that are closed: a request for
    // open sessions reads a bounded number of entries, so it may answer an
    // empty page with a `next`; following it finds the open one, once.
    let open = id_of(&t.open_session(ALICE, BOB, 3600).await);
    for i in 0..40 {
        t.state.core.clock.advance(1);
        let (a, b) = (format!("+4477009011{i:02}"), format!("+4477009012{i:02}"));
        let id = id_of(&t.open_session(&a, &b, 3600).await);
        assert_eq!(t.delete(&format!("/sessions/{id}")).await.status, 204);
    }
    let first = t.get_json("/sessions?status=open&limit=1").await;
    assert!(ids(&first).is_empty(), "{first}");
    assert!(
        first["next"].is_string(),
        "a short page says where to go on"
    );
    let (paged, pages) = all_pages(&t, "status=open", 1).await;
    assert_eq!(paged, [open]);
    assert!(pages >= 2);
    // Closed ones, three at a time, all 40 once.
    let (closed, _) = all_pages(&t, "status=closed", 3).await;
    assert_eq!(closed.len(), 40);
    assert_eq!(closed.iter().collect::<HashSet<_>>().len(), 40);
}

#[tokio::test]
async fn bad_filters_and_tampered_tokens_are_400() {
    needs_emulator!();
    let t = env().await;
    let _ = five_sessions(&t).await;
    for (query, code) in [
        ("status=expired", "invalid_status"),
        ("status=", "invalid_status"),
        ("participant=hello", "invalid_participant"),
        ("participant=%2B1", "invalid_participant"),
        // Bare digits are not guessed at: + or 00 says they are international.
        ("participant=447700900500", "invalid_participant"),
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=x", "invalid_limit"),
        ("next=%00", "invalid_next"),
        ("next=not-a-token", "invalid_next"),
        ("status=open&status=closed", "invalid_query"),
        ("sort=oldest", "invalid_query"),
    ] {
        let r = t.get(&format!("/sessions?{query}")).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        let e = r.json();
        assert_eq!(e["error"]["code"], code, "{query}");
        assert!(e["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // A real token, decoded and pointed at another item, or altered.
    let page = t.get_json("/sessions?limit=1").await;
    let token = page["next"].as_str().expect("next").to_string();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = String::from_utf8(b64.decode(&token).expect("base64url")).expect("utf-8");
    assert!(json.contains("\"id\""), "{json}");
    for forged in [
        b64.encode(r#"{"pk":"NUM#+447700900001","sk":"META"}"#),
        b64.encode(json.replace("\"v\":1", "\"v\":1,\"pk\":\"NUM#+447700900001\"")),
        b64.encode(json.replace("\"id\":\"", "\"id\":\"#")),
        format!("{token}x"),
        token[1..].to_string(),
    ] {
        let r = t.get(&format!("/sessions?limit=1&next={forged}")).await;
        assert_eq!(r.status, 400, "{forged}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "invalid_next");
    }
    // Other methods on /sessions: POST only besides GET.
    let r = t.request("PUT", "/sessions", Some("{}"), &[]).await;
    assert_405(&r, "GET, POST");
}

#[tokio::test]
async fn sessions_written_before_the_index_are_read_but_not_listed() {
    needs_emulator!();
    let t = env().await;
    let s = five_sessions(&t).await;
    // As an older version wrote it: no index attributes, no entries.
    let store = &t.state.core.store;
    let mut item = stored_item(store, &format!("SES#{}", s[1])).await;
    let old_id = "0123456789abcdef0123456789abcdef";
    item.insert("pk".into(), s_attr(&format!("SES#{old_id}")));
    item.remove("gsi6pk");
    item.remove("gsi6sk");
    store
        .client()
        .put_item()
        .table_name(store.table())
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
    let shown = t.get(&format!("/sessions/{old_id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.json()["status"], "open");
    let listed = ids(&t.get_json("/sessions").await);
    assert_eq!(listed.len(), 5);
    assert!(!listed.contains(&old_id.to_string()));
}

#[tokio::test]
async fn a_vonage_call_is_looked_up_by_its_uuid() {
    needs_emulator!();
    let (t, s) = env_with_session(3600).await;
    let ncco = t.answer(digits(&proxy_of(&s, 0)), digits(ALICE)).await;
    let leg = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
    // Out of order, as Vonage may send them.
    let events = json!({"uuid": leg, "conversation_uuid": "CON-1", "direction": "outbound",
        "duration": "55", "from": digits(P1), "to": digits(BOB)});
    t.post_leg_events(&event_path(&ncco), &events).await;
    let id = s["id"].as_str().expect("id");
    let call = t.get_json(&format!("/calls/{leg}")).await;
    assert_eq!(call["call_id"], leg);
    assert_eq!(call["provider"], "vonage");
    assert_eq!(call["session_id"], id);
    assert_eq!(call["session"]["id"], id);
    assert_eq!(call["session"]["participants"][1]["number"], BOB);
    assert_eq!(call["line"], Value::Null);
    let events = call["events"].as_array().expect("events");
    let statuses: Vec<&str> = events.iter().filter_map(|e| e["status"].as_str()).collect();
    assert_eq!(statuses, ["ringing", "answered", "completed"]);
    assert_eq!(events[2]["payload"]["duration"], "55");
    assert_eq!(events[2]["at"], "2026-01-01T10:01:00.000Z");
    assert!(events[0]["received_at"].is_string());

    // The caller's leg, from the application's event URL: no session.
    let inbound = "bbbbbbbb-cccc-4ddd-8eee-0123456789ab";
    let body = format!(
        r#"{{"uuid":"{inbound}","conversation_uuid":"CON-1","status":"started","direction":"inbound","timestamp":"2026-01-01T10:00:00.000Z"}}"#
    );
    assert_eq!(t.post("/vonage/event", &body).await.status, 200);
    let call = t.get_json(&format!("/calls/{inbound}")).await;
    assert_eq!(call["provider"], "vonage");
    assert_eq!(call["session"], Value::Null);
    assert_eq!(call["events"][0]["status"], "started");

    // Nothing known, or not an id at all: 404; other methods 405.
    for path in [
        "/calls/cccccccc-dddd-4eee-8fff-0123456789ab".to_string(),
        "/calls/a%20b".to_string(),
        "/calls/%00".to_string(),
        "/calls/a%23b".to_string(),
        format!("/calls/{}", "u".repeat(65)),
    ] {
        let r = t.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["code"], "not_found");
    }
    assert_405(&t.delete(&format!("/calls/{leg}")).await, "GET");
}

#[tokio::test]
async fn a_twilio_line_call_is_looked_up_by_its_callsid() {
    needs_emulator!();
    let t = env().await;
    t.add_number_of("twilio", LINE).await;
    let settings = json!({"owner": {"phone": OWNER, "email": "owner@example.com"},
        "voicemail": {"greeting": "Please leave a message."}, "plan": {"calls_per_period": 100}});
    let r = t.put_line(LINE, &settings).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sid = "CA0123456789abcdef0123456789abcdef";
    let form = |extra: &str| format!("CallSid={sid}&From=%2B15551230002&To=%2B15551230009{extra}");
    let r = t
        .post_form("/twilio/voice", &form("&CallStatus=ringing"), None)
        .await;
    assert!(r.body.contains("<Dial"), "{}", r.body);
    let call = t.get_json(&format!("/calls/{sid}")).await;
    assert_eq!(call["provider"], "twilio");
    assert_eq!(call["line"]["number"], LINE);
    assert_eq!(call["line"]["caller"], CALLER);
    assert_eq!(call["line"]["final_status"], Value::Null);
    assert_eq!(call["events"], json!([]));

    let status = form("&CallStatus=completed&CallDuration=75");
    let r = t.post_form("/twilio/status", &status, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let call = t.get_json(&format!("/calls/{sid}")).await;
    assert_eq!(call["line"]["final_status"], "completed");
    assert_eq!(call["line"]["duration_seconds"], 75);
    assert!(call["line"]["ended_at"].is_string());
    assert_eq!(call["session"], Value::Null);
    // Another CallSid is not known.
    let r = t.get("/calls/CA00000000000000000000000000000fff").await;
    assert_eq!(r.status, 404);
}
