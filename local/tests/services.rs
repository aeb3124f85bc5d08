//! Services on the emulator: created, read by sid or unique name, listed,
//! updated and deleted only when unused; numbers joining a service (and
//! reserved ones never allocated); sessions drawn from their service's
//! numbers; and everything stored before services still working in the
//! default service.

mod support;

use serde_json::{json, Value};
use support::{enc, needs_emulator, pluck, proxy_of, Reply, TestEnv, ALICE, BOB, CAROL, P1, P2};

const DEFAULT_SID: &str = "KS00000000000000000000000000000000";

/// `POST /services` with `body`, which must be created: the service.
async fn create(t: &TestEnv, body: Value) -> Value {
    let r = t.post_expect("/services", &body, 201).await;
    r.json()
}

/// `number` joins `service` (reserved or not), which must succeed.
async fn join(t: &TestEnv, service: &str, number: &str, reserved: bool) {
    let body = json!({"number": number, "is_reserved": reserved});
    t.post_expect(&format!("/services/{service}/numbers"), &body, 200)
        .await;
}

/// `POST /sessions` of `a` and `b` in `service` (a sid or unique name),
/// which must answer `status`.
async fn open_in(t: &TestEnv, (a, b): (&str, &str), service: &str, status: u16) -> Reply {
    let body = json!({"participants": [a, b], "service": service});
    t.post_expect("/sessions", &body, status).await
}

/// An environment with `P1` in the pool and a service named "rides": the
/// environment and the service's sid.
async fn env_with_rides() -> (TestEnv, String) {
    let t = support::env().await;
    t.add_number(P1).await;
    let id = sid(&create(&t, json!({"unique_name": "rides"})).await);
    (t, id)
}

fn sid(service: &Value) -> String {
    service["sid"].as_str().expect("sid").to_string()
}

#[tokio::test]
async fn a_service_is_created_read_listed_updated_and_deleted() {
    needs_emulator!();
    let t = support::env().await;
    let s = create(&t, json!({"unique_name": "rides", "default_ttl": 600})).await;
    let id = sid(&s);
    assert!(id.starts_with("KS") && id.len() == 34, "{id}");
    assert_eq!(s["number_selection_behavior"], "prefer-sticky");
    assert_eq!(s["geo_match_level"], "country");
    assert_eq!(
        (s["cool_off_seconds"].clone(), s["numbers"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(s["callback_url"], Value::Null);
    // By sid and by unique name.
    assert_eq!(
        t.get_json(&format!("/services/{id}")).await["unique_name"],
        "rides"
    );
    assert_eq!(t.get_json("/services/rides").await["sid"], id.as_str());
    assert_eq!(t.get("/services/nope").await.status, 404);
    assert_eq!(
        t.get("/services/KS0123456789abcdef0123456789abcdef")
            .await
            .status,
        404
    );
    // A name is unique.
    let r = t
        .post_expect("/services", &json!({"unique_name": "rides"}), 409)
        .await;
    assert!(r.body.contains("unique_name_taken"), "{}", r.body);
    t.post_expect("/services", &json!({"unique_name": "default"}), 400)
        .await;
    // Bad values are named.
    let r = t
        .post_expect(
            "/services",
            &json!({"unique_name": "x", "callback_url": "http://example.com"}),
            400,
        )
        .await;
    assert_eq!(r.json()["error"]["field"], "callback_url");
    // A partial update changes only what it names; a rename frees the old name.
    let other = create(&t, json!({"unique_name": "deliveries"})).await;
    let r = t
        .post_expect(
            &format!("/services/{id}"),
            &json!({"cool_off_seconds": 30, "callback_url": "https://example.com/cb"}),
            200,
        )
        .await;
    let updated = r.json();
    assert_eq!(updated["cool_off_seconds"], 30);
    assert_eq!(updated["default_ttl"], 600);
    assert_eq!(updated["callback_url"], "https://example.com/cb");
    t.post_expect(
        &format!("/services/{id}"),
        &json!({"unique_name": "deliveries"}),
        409,
    )
    .await;
    let r = t
        .post_expect(
            &format!("/services/{id}"),
            &json!({"unique_name": "rides-2", "default_ttl": null}),
            200,
        )
        .await;
    assert_eq!(r.json()["default_ttl"], Value::Null);
    assert_eq!(t.get("/services/rides").await.status, 404);
    assert_eq!(
        t.get_json("/services/rides-2").await["cool_off_seconds"],
        30
    );
    create(&t, json!({"unique_name": "rides"})).await;
    // Listed newest first (those created in one second by sid), the
    // default service last, a page at a time.
    let all = t.get_json("/services").await;
    let names = pluck(&all["services"], "unique_name");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["default", "deliveries", "rides", "rides-2"],
        "{all}"
    );
    assert_eq!(names.last(), Some(&"default"), "{all}");
    assert_eq!(all["next"], Value::Null);
    let mut seen = Vec::new();
    let mut path = "/services?limit=2".to_string();
    loop {
        let page = t.get_json(&path).await;
        seen.extend(
            pluck(&page["services"], "unique_name")
                .into_iter()
                .map(str::to_string),
        );
        match page["next"].as_str() {
            Some(next) => path = format!("/services?limit=2&next={next}"),
            None => break,
        }
    }
    assert_eq!(seen, names);
    assert_eq!(t.get("/services?limit=0").await.status, 400);
    // Deleted: gone, and its name free again.
    assert_eq!(
        t.delete(&format!("/services/{}", sid(&other))).await.status,
        204
    );
    assert_eq!(t.get("/services/deliveries").await.status, 404);
    assert_eq!(
        t.delete(&format!("/services/{}", sid(&other))).await.status,
        404
    );
    create(&t, json!({"unique_name": "deliveries"})).await;
}

#[tokio::test]
async fn the_default_service_always_exists_and_is_never_deleted() {
    needs_emulator!();
    let t = support::env().await;
    let d = t.get_json("/services/default").await;
    assert_eq!(d["sid"], DEFAULT_SID);
    assert_eq!(d["default_ttl"], 3600);
    assert_eq!(t.get_json(&format!("/services/{DEFAULT_SID}")).await, d);
    let r = t.delete(&format!("/services/{DEFAULT_SID}")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("default_service"), "{}", r.body);
    t.post_expect(
        &format!("/services/{DEFAULT_SID}"),
        &json!({"unique_name": "main"}),
        409,
    )
    .await;
    // Updated, it is stored, and still listed once.
    t.post_expect(
        "/services/default",
        &json!({"default_ttl": 120, "cool_off_seconds": 10}),
        200,
    )
    .await;
    assert_eq!(
        t.get_json("/services/default").await["cool_off_seconds"],
        10
    );
    t.post_expect("/services/default", &json!({"cool_off_seconds": 20}), 200)
        .await;
    let all = t.get_json("/services").await;
    assert_eq!(pluck(&all["services"], "sid"), [DEFAULT_SID], "{all}");
    // A session without a service now lasts the default service's TTL.
    t.add_number(P1).await;
    let r = t
        .post_expect("/sessions", &json!({"participants": [ALICE, BOB]}), 201)
        .await;
    let s = r.json();
    assert_eq!(s["service"], DEFAULT_SID);
    let path = format!("/sessions/{}", s["id"].as_str().unwrap());
    t.state.core.clock.advance(100);
    assert_eq!(t.get_json(&path).await["status"], "open");
    t.state.core.clock.advance(25);
    assert_eq!(t.get_json(&path).await["closed_reason"], "expired");
}

#[tokio::test]
async fn sessions_in_a_service_get_only_its_numbers() {
    needs_emulator!();
    let t = support::env().await;
    t.add_number(P1).await;
    t.add_number(P2).await;
    let rides = create(&t, json!({"unique_name": "rides", "default_ttl": 600})).await;
    let id = sid(&rides);
    join(&t, &id, P2, false).await;
    assert_eq!(t.get_json(&format!("/services/{id}")).await["numbers"], 1);
    let listed = t.get_json("/services/rides/numbers").await;
    assert_eq!(pluck(&listed["numbers"], "number"), [P2]);
    assert_eq!(
        pluck(
            &t.get_json("/services/default/numbers").await["numbers"],
            "number"
        ),
        [P1]
    );
    // In the service: its number, its TTL, the service shown.
    let r = open_in(&t, (ALICE, BOB), "rides", 201).await;
    let s = r.json();
    assert_eq!(
        (proxy_of(&s, 0), proxy_of(&s, 1)),
        (P2.to_string(), P2.to_string())
    );
    assert_eq!(s["service"], id.as_str());
    let shown = t
        .get_json(&format!("/sessions/{}", s["id"].as_str().unwrap()))
        .await;
    assert_eq!(shown["service"], id.as_str());
    // Its one number is taken for Alice: the service's pool is exhausted
    // though the default service has a free number.
    let r = open_in(&t, (ALICE, CAROL), &id, 409).await;
    assert!(r.body.contains("pool_exhausted"), "{}", r.body);
    // Without a service: as before, from the default service's numbers.
    let s = t.open_session(ALICE, CAROL, 60).await;
    assert_eq!(proxy_of(&s, 0), P1);
    assert_eq!(s["service"], DEFAULT_SID);
    // An unknown service is named.
    let r = open_in(&t, (ALICE, CAROL), "nope", 404).await;
    assert_eq!(r.json()["error"]["field"], "service");
}

#[tokio::test]
async fn a_reserved_number_is_never_allocated() {
    needs_emulator!();
    let t = support::env().await;
    t.add_number(P1).await;
    join(&t, "default", P1, true).await;
    let listed = t.get_json("/services/default/numbers").await;
    assert_eq!(listed["numbers"][0]["is_reserved"], true, "{listed}");
    let r = t.create_session(ALICE, BOB, 60).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("pool_exhausted"), "{}", r.body);
    join(&t, "default", P1, false).await;
    t.open_session(ALICE, BOB, 60).await;
}

#[tokio::test]
async fn a_service_in_use_is_deleted_once_its_sessions_and_numbers_are_gone() {
    needs_emulator!();
    let (t, id) = env_with_rides().await;
    let r = t
        .post_json(&format!("/services/{id}/numbers"), &json!({"number": P2}))
        .await;
    assert_eq!(r.status, 404, "not in the pool: {}", r.body);
    join(&t, &id, P1, false).await;
    let r = t.delete(&format!("/services/{id}")).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("service_in_use"), "{}", r.body);
    let r = open_in(&t, (ALICE, BOB), &id, 201).await;
    let session = r.json()["id"].as_str().unwrap().to_string();
    // The number routes an open session: it cannot leave, nor be deleted.
    let leave = format!("/services/{id}/numbers/{}", enc(P1));
    let r = t.delete(&leave).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("number_in_use"), "{}", r.body);
    assert_eq!(t.delete(&format!("/services/{id}")).await.status, 409);
    // Closed, the number leaves (back to the default service), then the
    // service goes.
    assert_eq!(t.delete(&format!("/sessions/{session}")).await.status, 204);
    assert_eq!(t.delete(&leave).await.status, 204);
    assert_eq!(t.delete(&leave).await.status, 404);
    assert_eq!(t.get_json(&format!("/services/{id}")).await["numbers"], 0);
    assert_eq!(t.delete(&format!("/services/{id}")).await.status, 204);
    assert_eq!(t.open_session(ALICE, BOB, 60).await["service"], DEFAULT_SID);
}

#[tokio::test]
async fn a_number_removed_from_the_pool_leaves_its_service() {
    needs_emulator!();
    let (t, id) = env_with_rides().await;
    join(&t, &id, P1, false).await;
    assert_eq!(t.delete(&format!("/numbers/{}", enc(P1))).await.status, 204);
    assert_eq!(t.get_json(&format!("/services/{id}")).await["numbers"], 0);
    assert_eq!(t.delete(&format!("/services/{id}")).await.status, 204);
}

#[tokio::test]
async fn a_session_stored_before_services_still_routes_in_the_default_service() {
    needs_emulator!();
    let (t, s) = support::env_with_session(3600).await;
    let id = s["id"].as_str().unwrap();
    // As stored before services: no `service` attribute.
    let store = &t.state.core.store;
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("pk", support::s_attr(&format!("SES#{id}")))
        .key("sk", support::s_attr("META"))
        .update_expression("REMOVE #svc")
        .expression_attribute_names("#svc", "service")
        .send()
        .await
        .expect("remove the attribute");
    assert!(!support::stored_item(store, &format!("SES#{id}"))
        .await
        .contains_key("service"));
    let shown = t.get_json(&format!("/sessions/{id}")).await;
    assert_eq!(shown["service"], DEFAULT_SID);
    let ncco = t
        .answer(support::digits(&proxy_of(&s, 0)), support::digits(ALICE))
        .await;
    assert!(support::connect_of(&ncco).is_some(), "{ncco}");
    assert_eq!(t.delete(&format!("/sessions/{id}")).await.status, 204);
}

/// A number leaving a service while a session is opened on it in that
/// service: either the session commits (and the number cannot leave) or
/// the number leaves (and the session finds no number) — never a session
/// on a number outside its service.
#[tokio::test]
async fn a_session_and_a_move_of_its_number_never_both_win() {
    needs_emulator!();
    let (t, id) = env_with_rides().await;
    let leave = format!("/services/{id}/numbers/{}", enc(P1));
    for round in 0..6 {
        join(&t, &id, P1, false).await;
        let body = json!({"participants": [ALICE, BOB], "service": id});
        let (opened, left) = tokio::join!(t.post_json("/sessions", &body), t.delete(&leave));
        match (opened.status, left.status) {
            (201, 409) => {
                let session = opened.json()["id"].as_str().unwrap().to_string();
                assert_eq!(proxy_of(&opened.json(), 0), P1);
                assert_eq!(t.delete(&format!("/sessions/{session}")).await.status, 204);
                assert_eq!(t.delete(&leave).await.status, 204);
            }
            (409, 204) => assert!(opened.body.contains("pool_exhausted"), "{}", opened.body),
            other => panic!("round {round}: {other:?}: {} / {}", opened.body, left.body),
        }
        assert_eq!(t.get_json(&format!("/services/{id}")).await["numbers"], 0);
    }
}

/// A number joining a service while the service is deleted: either the
/// delete wins (the join finds no service, the number stays in the
/// default service) or the join does (the delete finds it in use).
#[tokio::test]
async fn a_delete_and_a_join_never_both_win() {
    needs_emulator!();
    let t = support::env().await;
    t.add_number(P1).await;
    for round in 0..6 {
        let id = sid(&create(&t, json!({"unique_name": format!("r{round}")})).await);
        let body = json!({"number": P1});
        let (numbers, service) = (format!("/services/{id}/numbers"), format!("/services/{id}"));
        let (joined, deleted) = tokio::join!(t.post_json(&numbers, &body), t.delete(&service));
        let in_default = pluck(
            &t.get_json("/services/default/numbers").await["numbers"],
            "number",
        )
        .contains(&P1);
        match (joined.status, deleted.status) {
            (200, 409) => {
                assert!(!in_default);
                let leave = format!("/services/{id}/numbers/{}", enc(P1));
                assert_eq!(t.delete(&leave).await.status, 204);
                assert_eq!(t.delete(&format!("/services/{id}")).await.status, 204);
            }
            (404, 204) => assert!(in_default),
            other => panic!(
                "round {round}: {other:?}: {} / {}",
                joined.body, deleted.body
            ),
        }
    }
}
