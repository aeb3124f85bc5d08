//! The admin API's input: JSON bodies, the session list's query and its
//! `next` token, path segments.

use callmask::api::http::{decode_path_segment, json_body, path_param, sub_resource, ApiError};
use callmask::api::lines::LineBody;
use callmask::api::numbers::{
    AddNumber, AddNumberBody, Import, ImportBody, Provision, ProvisionBody,
};
use callmask::api::services::body::{Join, JoinBody, ServiceBody};
use callmask::api::session_list::{decode_next, encode_next, parse_list_query, MAX_LIMIT};
use callmask::api::sessions::{
    CreateSession, CreateSessionBody, UpdateSession, UpdateSessionBody, MAX_LABEL_CHARS,
};
use callmask::domain::line::Line;
use callmask::domain::service::{check_unique_name, ServiceChanges, ServiceSid};
use callmask::domain::session::valid_unique_name;
use callmask::domain::Service;
use callmask::domain::{Provider, Session};
use callmask::store::valid_cursor;
use serde::de::DeserializeOwned;

use crate::{request, text};

/// A body read and checked as its route does: an error is the caller's
/// (4xx), never ours.
fn checked<B, T>(body: &[u8]) -> Option<T>
where
    B: DeserializeOwned,
    T: TryFrom<B, Error = ApiError>,
{
    let req = request(
        "POST",
        "https://h.example/admin",
        &[("content-type", "application/json")],
        body,
    )?;
    match json_body::<B>(&req).and_then(T::try_from) {
        Ok(t) => Some(t),
        Err(e) => {
            assert!(
                matches!(e.status, 400 | 413),
                "{} for a caller's body",
                e.status
            );
            None
        }
    }
}

/// First byte: which body (`POST /sessions`, `POST /numbers`,
/// `POST /numbers/provision`, `POST /numbers/import`, `PUT /lines/{n}`,
/// `POST /services` or `/services/{sid}`, `POST /services/{sid}/numbers`,
/// `PATCH /sessions/{id}`); the rest is the body. What is accepted is
/// within its documented bounds.
pub fn json_bodies(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => {
            if let Some(s) = checked::<CreateSessionBody, CreateSession>(body) {
                assert!(s.unique_name.as_deref().is_none_or(valid_unique_name));
                for p in &s.participants {
                    if let Some(label) = &p.label {
                        let n = label.chars().count();
                        assert!(
                            (1..=MAX_LABEL_CHARS).contains(&n)
                                && !label.chars().any(char::is_control)
                        );
                    }
                }
            }
        }
        1 => {
            if let Some(n) = checked::<AddNumberBody, AddNumber>(body) {
                assert!(n.number.e164().starts_with('+'));
            }
        }
        2 => {
            if let Some(p) = checked::<ProvisionBody, Provision>(body) {
                assert!((1..=50).contains(&p.count) && !p.features.is_empty());
                assert!(p
                    .country
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
            }
        }
        3 => {
            let _ = checked::<ImportBody, Import>(body);
        }
        5 => {
            // Changes taken are applied as the API applies them: to a new
            // service (unique_name required) and to the default one; the
            // domain refuses with a field, never a panic, and a service
            // made has a name the domain itself accepts.
            if let Some(changes) = checked::<ServiceBody, ServiceChanges>(body) {
                let now = 1_795_334_400;
                if let Ok(s) = Service::create(ServiceSid::random(), changes.clone(), now) {
                    assert!(check_unique_name(&s.unique_name).is_ok());
                }
                let _ = Service::default_service(3600, "").change(changes, now);
            }
        }
        7 => {
            // An update taken applies to an open session (or is refused)
            // without a panic, whatever its numbers.
            if let Some(UpdateSession::Change(changes)) =
                checked::<UpdateSessionBody, UpdateSession>(body)
            {
                let n = |s: &str| callmask::phone::PhoneNumber::parse(s).expect("number");
                let pairs = [
                    (n("+447700900100"), n("+447700900001")),
                    (n("+447700900200"), n("+447700900002")),
                ];
                let session = Session::open("s".into(), Provider::Vonage, pairs, 1_795_334_400, 60);
                if let Ok(changed) = session.change(&changes, 1_795_334_410) {
                    assert!(changed.ends_at() > 1_795_334_410);
                    let _ = changed.legs();
                }
            }
        }
        6 => {
            if let Some(j) = checked::<JoinBody, Join>(body) {
                assert!(j.number.e164().starts_with('+'));
            }
        }
        _ => {
            if let Some(line) = checked::<LineBody, Line>(body) {
                // A line is stored as JSON: it reads back the same.
                let stored = serde_json::to_value(&line).expect("a line serialises");
                assert_eq!(
                    serde_json::from_value::<Line>(stored).expect("and reads back"),
                    line
                );
            }
        }
    }
}

/// `GET /sessions`'s query, and the text as a `next` token and as an audio
/// recordings cursor: errors are 400s; a token taken is one we could have
/// made, and makes itself again.
pub fn list_query(data: &[u8]) {
    let query = text(data);
    match parse_list_query(&query) {
        Ok(q) => assert!((1..=MAX_LIMIT).contains(&q.limit)),
        Err(e) => assert_eq!(e.status, 400),
    }
    if let Some(p) = decode_next(&query) {
        assert_eq!(decode_next(&encode_next(&p)), Some(p));
    }
    if valid_cursor(&query) {
        assert!(query.len() <= 200);
    }
}

/// A path segment as percent-encoded text comes back as written; any path
/// gives its parameter and sub-resource without a panic.
pub fn path_segments(data: &[u8]) {
    let segment = text(data);
    let encoded: String = segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    assert_eq!(decode_path_segment(&encoded), segment);
    if let Some(sid) = ServiceSid::parse(&segment) {
        assert_eq!(ServiceSid::parse(sid.as_str()), Some(sid));
    }
    let _ = decode_path_segment(&segment);
    for uri in [
        format!("https://h.example/numbers/{segment}"),
        format!("https://h.example/sessions/{segment}"),
        format!("https://h.example/services/{segment}/numbers"),
    ] {
        let Some(req) = request("GET", &uri, &[], b"") else {
            continue;
        };
        for after in ["numbers", "sessions", "services"] {
            let _ = path_param(&req, "id", after);
            let _ = sub_resource(&req, after);
        }
    }
}
