use super::*;
use proptest::prelude::*;

fn named(name: &str) -> ServiceChanges {
    ServiceChanges {
        unique_name: Some(name.into()),
        ..Default::default()
    }
}

fn created(changes: ServiceChanges) -> Result<Service, ServiceError> {
    Service::create(ServiceSid::random(), changes, 1000)
}

#[test]
fn sids_have_twilio_proxys_shape() {
    let sid = ServiceSid::random();
    assert_eq!(ServiceSid::parse(sid.as_str()), Some(sid.clone()));
    assert!(sid.as_str().starts_with("KS") && sid.as_str().len() == 34);
    assert!(ServiceSid::parse(ServiceSid::DEFAULT).is_some_and(|s| s.is_default()));
    for bad in [
        "",
        "KS",
        "ks00000000000000000000000000000000",
        "KS0000000000000000000000000000000A",
        "KS000000000000000000000000000000000",
        "XX00000000000000000000000000000000",
    ] {
        assert_eq!(ServiceSid::parse(bad), None, "{bad}");
    }
}

#[test]
fn a_new_service_has_every_default() {
    let s = created(named("rides")).unwrap();
    assert_eq!(s.unique_name, "rides");
    assert_eq!(s.default_ttl, None);
    assert_eq!(s.number_selection_behavior, NumberSelection::PreferSticky);
    assert_eq!(s.geo_match_level, GeoMatch::Country);
    assert!(!s.allow_foreign_numbers);
    assert_eq!(s.cool_off_seconds, 0);
    assert_eq!((s.created_at, s.updated_at), (1000, 1000));
    assert_eq!(
        created(ServiceChanges::default()).unwrap_err(),
        ServiceError::UniqueName("is required")
    );
}

#[test]
fn the_default_service_comes_from_the_settings() {
    let d = Service::default_service(3600, "");
    assert!(d.sid.is_default());
    assert_eq!(d.unique_name, "default");
    assert_eq!(d.default_ttl, Some(3600));
    assert_eq!(d.out_of_session_message, None);
    let d = Service::default_service(60, "Session over");
    assert_eq!(d.out_of_session_message.as_deref(), Some("Session over"));
    // It keeps its name; every other setting may change.
    assert_eq!(d.change(named("other"), 5), Err(ServiceError::DefaultName));
    let changed = d
        .change(
            ServiceChanges {
                unique_name: Some("default".into()),
                cool_off_seconds: Some(30),
                ..Default::default()
            },
            5,
        )
        .unwrap();
    assert_eq!((changed.cool_off_seconds, changed.updated_at), (30, 5));
}

/// Sets one field of a service's changes to a value it may not take.
type Spoil = fn(&mut ServiceChanges);

#[test]
fn each_bad_field_is_named() {
    let mut cases: Vec<(ServiceChanges, &str)> = vec![
        (named(""), "unique_name"),
        (named("a/b"), "unique_name"),
        (named("default"), "unique_name"),
        (named(ServiceSid::DEFAULT), "unique_name"),
        (named(&"x".repeat(192)), "unique_name"),
    ];
    // Every other field spoiled in a service otherwise fine.
    let spoiled: [(Spoil, &str); 7] = [
        (|c| c.default_ttl = Some(Some(0)), "default_ttl"),
        (
            |c| c.cool_off_seconds = Some(MAX_TTL_SECONDS + 1),
            "cool_off_seconds",
        ),
        (|c| c.interaction_ttl = Some(Some(0)), "interaction_ttl"),
        (
            |c| c.callback_url = Some(Some("http://example.com/cb".into())),
            "callback_url",
        ),
        (
            |c| c.intercept_callback_url = Some(Some("ftp://example.com".into())),
            "intercept_callback_url",
        ),
        (
            |c| c.out_of_session_callback_url = Some(Some("https://u:p@example.com".into())),
            "out_of_session_callback_url",
        ),
        (
            |c| c.out_of_session_message = Some(Some("  ".into())),
            "out_of_session_message",
        ),
    ];
    for (spoil, field) in spoiled {
        let mut changes = named("a");
        spoil(&mut changes);
        cases.push((changes, field));
    }
    for (changes, field) in cases {
        let e = created(changes.clone()).unwrap_err();
        assert_eq!(e.field(), field, "{changes:?}: {e}");
    }
}

#[test]
fn callback_urls_are_https_or_loopback_http() {
    for ok in [
        "https://example.com/cb?x=1",
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
        "http://localhost:3000/cb",
    ] {
        assert!(CallbackUrl::parse(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://example.com/cb",
        "http://127.0.0.2/cb",
        "http://localhost.example.com/",
        "https://example.com/#frag",
        "example.com",
        "",
    ] {
        assert!(CallbackUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn clearing_an_optional_setting() {
    let s = created(ServiceChanges {
        default_ttl: Some(Some(600)),
        callback_url: Some(Some("https://example.com/cb".into())),
        ..named("a")
    })
    .unwrap();
    let cleared = s
        .change(
            ServiceChanges {
                default_ttl: Some(None),
                callback_url: Some(None),
                ..Default::default()
            },
            2000,
        )
        .unwrap();
    assert_eq!((cleared.default_ttl, cleared.callback_url), (None, None));
    assert_eq!(cleared.unique_name, "a");
    assert_eq!(cleared.created_at, 1000);
}

#[test]
fn policies_parse_from_their_names() {
    assert_eq!(
        NumberSelection::parse("avoid-sticky"),
        Some(NumberSelection::AvoidSticky)
    );
    assert_eq!(NumberSelection::parse("sticky"), None);
    assert_eq!(GeoMatch::parse("area-code"), Some(GeoMatch::AreaCode));
    assert_eq!(GeoMatch::parse("Country"), None);
}

#[test]
fn allocation_takes_only_unreserved_numbers_of_the_service() {
    let s = ServiceSid::random();
    let member = Membership {
        service: s.clone(),
        reserved: false,
    };
    assert!(member.allocatable_in(&s));
    assert!(!member.allocatable_in(&ServiceSid::default_service()));
    let reserved = Membership {
        reserved: true,
        ..member
    };
    assert!(!reserved.allocatable_in(&s));
    assert!(Membership::default().allocatable_in(&ServiceSid::default_service()));
}

proptest! {
    /// Any unique name is accepted or refused with a reason, never both a
    /// sid and a name.
    #[test]
    fn any_unique_name_is_checked(name in "\\PC{0,200}|KS[0-9a-f]{32}") {
        match check_unique_name(&name) {
            Ok(()) => {
                prop_assert!(ServiceSid::parse(&name).is_none());
                prop_assert!(!name.contains('/'));
                prop_assert!((1..=MAX_UNIQUE_NAME_CHARS).contains(&name.chars().count()));
            }
            Err(e) => prop_assert_eq!(e.field(), "unique_name"),
        }
    }

    /// Any URL is accepted only as https, or http to a loopback host.
    #[test]
    fn any_url_is_checked(url in "(https?|ftp)://[a-z0-9.:\\[\\]@]{0,30}/[a-z#?=]{0,10}") {
        if let Ok(u) = CallbackUrl::parse(&url) {
            let parsed = url::Url::parse(u.as_str()).unwrap();
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            prop_assert!(parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback));
        }
    }
}
