//! `GET /sessions` (the `sessions` function): sessions newest first, a page
//! at a time: `{"sessions": [<as GET /sessions/{id}>...], "next": <token>
//! | null}`.
//!
//! - `?status=open|closed`: as the view shows it (an expired session is
//!   closed);
//! - `?participant=<E.164>` (`+` written `%2B`): sessions that real number
//!   takes part in;
//! - `?limit=1..100` (50);
//! - `?next=<token>`: the `next` of the previous page.
//!
//! A page may hold fewer than `limit` sessions while `next` is not null
//! (each request reads a bounded share of the index: `store/listing.rs`);
//! the list ends when `next` is null. Anything else in the query is a 400.
//! The token is a position in the list (base64url of a small JSON object),
//! checked on the way back in: it never names a table item.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::http::{json, raw_query, ApiError, HttpResponse};
use crate::api::sessions::view;
use crate::core::Core;
use crate::domain::Session;
use crate::phone::PhoneNumber;
use crate::store::{SessionFilter, SessionPosition, StatusFilter};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;
/// Tokens we hand out are well under this.
const MAX_TOKEN_CHARS: usize = 200;
/// The largest `created_at` a sort key holds (12 digits).
const MAX_CREATED_AT: i64 = 999_999_999_999;

/// A checked `GET /sessions` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: SessionFilter,
    pub limit: usize,
    pub next: Option<SessionPosition>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            filter: SessionFilter::default(),
            limit: DEFAULT_LIMIT,
            next: None,
        }
    }
}

/// Parses the raw query string (`status=open&limit=10`). Pure, never
/// panics: every input is a query or a 400 naming what is wrong.
pub fn parse_list_query(query: &str) -> Result<ListQuery, ApiError> {
    let mut out = ListQuery::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if seen.iter().any(|s| *s == name) {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("{} is given more than once", shown(&name)),
            ));
        }
        seen.push(name.to_string());
        match name.as_ref() {
            "status" => {
                out.filter.status = Some(match value.as_ref() {
                    "open" => StatusFilter::Open,
                    "closed" => StatusFilter::Closed,
                    _ => {
                        return Err(ApiError::bad_request(
                            "invalid_status",
                            "status: open or closed",
                        ))
                    }
                })
            }
            "participant" => {
                // A `+` left unencoded decodes as a space: it was the `+`.
                let value = match value.strip_prefix(' ') {
                    Some(rest) => format!("+{rest}"),
                    None => value.into_owned(),
                };
                let number = PhoneNumber::parse(&value).map_err(|e| {
                    ApiError::bad_request(
                        "invalid_participant",
                        format!("participant: {e} (an E.164 number, its + written %2B)"),
                    )
                })?;
                out.filter.participant = Some(number);
            }
            "limit" => out.limit = parse_limit(&value)?,
            "next" => out.next = Some(parse_next(&value)?),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!(
                        "unknown parameter {}: use status, participant, limit, next",
                        shown(&name)
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// A `limit` parameter: 1 to [`MAX_LIMIT`], else a 400 (every paged list
/// takes the same limit, so one message serves them all).
pub fn parse_limit(value: &str) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_limit",
                format!("limit: a whole number from 1 to {MAX_LIMIT}"),
            )
        })
}

/// A `next` parameter: a token [`encode_next`] made, else a 400.
pub fn parse_next(value: &str) -> Result<SessionPosition, ApiError> {
    decode_next(value).ok_or_else(|| {
        ApiError::bad_request("invalid_next", "next: pass the `next` of the previous page")
    })
}

/// A parameter's name as an error message repeats it: short and printable.
fn shown(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).take(32).collect();
    format!("`{clean}`")
}

/// What a token holds (`v`: its format).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Token {
    v: u8,
    at: i64,
    id: String,
}

/// The `next` token of a page ending at `p`.
pub fn encode_next(p: &SessionPosition) -> String {
    let token = Token {
        v: 1,
        at: p.created_at,
        id: p.id.clone(),
    };
    let text = serde_json::to_string(&token).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(text)
}

/// The position a token names, if it is one [`encode_next`] could have
/// made: version 1, a time a sort key can hold, an id ours could be.
pub fn decode_next(token: &str) -> Option<SessionPosition> {
    if token.is_empty() || token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let t: Token = serde_json::from_slice(&bytes).ok()?;
    (t.v == 1 && (0..=MAX_CREATED_AT).contains(&t.at) && Session::valid_id(&t.id)).then_some(
        SessionPosition {
            created_at: t.at,
            id: t.id,
        },
    )
}

/// `GET /sessions`.
pub async fn list(core: &Core, req: &Request) -> Result<HttpResponse, ApiError> {
    let q = parse_list_query(raw_query(req))?;
    let now = core.clock.now();
    let page = core
        .store
        .list_sessions(&q.filter, q.limit, q.next.as_ref(), now)
        .await?;
    let sessions: Vec<_> = page.sessions.iter().map(|s| view(s, now)).collect();
    let next = page.next.as_ref().map(encode_next);
    Ok(json(200, &json!({ "sessions": sessions, "next": next })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(q: &str) -> &'static str {
        parse_list_query(q).expect_err(q).code
    }

    #[test]
    fn no_query_is_every_session_fifty_at_a_time() {
        assert_eq!(parse_list_query("").unwrap(), ListQuery::default());
        assert_eq!(parse_list_query("").unwrap().limit, 50);
    }

    #[test]
    fn filters_are_read() {
        let q = parse_list_query("status=open&participant=%2B447700900100&limit=2").unwrap();
        assert_eq!(q.filter.status, Some(StatusFilter::Open));
        assert_eq!(
            q.filter.participant.as_ref().map(|p| p.e164()),
            Some("+447700900100")
        );
        assert_eq!(q.limit, 2);
        assert_eq!(
            parse_list_query("status=closed").unwrap().filter.status,
            Some(StatusFilter::Closed)
        );
        // A `+` left unencoded reads as a space: the digits still say it.
        let q = parse_list_query("participant=+447700900100").unwrap();
        assert_eq!(
            q.filter.participant.map(|p| p.e164().to_string()),
            Some("+447700900100".into())
        );
        // Bare digits are not guessed at (this was +55 123 0999, Brazil).
        let e = parse_list_query("participant=5551230999").unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_participant"));
    }

    #[test]
    fn bad_filters_are_400_with_a_reason() {
        for (query, want) in [
            ("status=expired", "invalid_status"),
            ("status=", "invalid_status"),
            ("status=OPEN", "invalid_status"),
            ("participant=hello", "invalid_participant"),
            ("participant=", "invalid_participant"),
            ("limit=0", "invalid_limit"),
            ("limit=101", "invalid_limit"),
            ("limit=-1", "invalid_limit"),
            ("limit=ten", "invalid_limit"),
            ("next=%00", "invalid_next"),
            ("next=", "invalid_next"),
            ("stauts=open", "invalid_query"),
            ("status=open&status=closed", "invalid_query"),
        ] {
            assert_eq!(code(query), want, "{query}");
        }
        let e = parse_list_query("limit=0").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("1 to 100"), "{}", e.message);
    }

    #[test]
    fn tokens_round_trip() {
        let p = SessionPosition {
            created_at: 1_795_334_400,
            id: "5e55104d5e55104d5e55104d5e55104d".into(),
        };
        let token = encode_next(&p);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode_next(&token), Some(p.clone()));
        let q = parse_list_query(&format!("next={token}&limit=1")).unwrap();
        assert_eq!(q.next, Some(p));
    }

    #[test]
    fn tampered_tokens_are_refused() {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        // A raw table key, other fields, another version, an id that is not
        // ours, a time no sort key holds.
        for bad in [
            enc(r#"{"pk":"NUM#+447700900001","sk":"META"}"#),
            enc(r#"{"v":1,"at":1,"id":"abc","pk":"x"}"#),
            enc(r#"{"v":2,"at":1,"id":"abc"}"#),
            enc(r#"{"v":1,"at":1,"id":"a#b"}"#),
            enc(r#"{"v":1,"at":1,"id":""}"#),
            enc(r#"{"v":1,"at":-1,"id":"abc"}"#),
            enc(r#"{"v":1,"at":1000000000000,"id":"abc"}"#),
            enc("not json"),
            "!!!!".to_string(),
            "a".repeat(201),
        ] {
            assert_eq!(decode_next(&bad), None, "{bad}");
        }
        // One character changed.
        let good = encode_next(&SessionPosition {
            created_at: 1000,
            id: "abc".into(),
        });
        let mut chars: Vec<char> = good.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        assert_ne!(decode_next(&tampered), decode_next(&good));
    }

    proptest! {
        #[test]
        fn any_query_parses_or_is_a_400(q in ".{0,200}") {
            if let Err(e) = parse_list_query(&q) {
                prop_assert_eq!(e.status, 400);
            }
        }

        #[test]
        fn any_token_decodes_to_a_valid_position_or_nothing(t in "[A-Za-z0-9_=-]{0,240}") {
            if let Some(p) = decode_next(&t) {
                prop_assert!(Session::valid_id(&p.id));
                prop_assert!((0..=MAX_CREATED_AT).contains(&p.created_at));
            }
        }

        #[test]
        fn every_position_round_trips(at in 0..=MAX_CREATED_AT, id in "[a-z0-9-]{1,64}") {
            let p = SessionPosition { created_at: at, id };
            prop_assert_eq!(decode_next(&encode_next(&p)), Some(p));
        }
    }
}
