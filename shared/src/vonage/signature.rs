//! Vonage signed webhooks: `Authorization: Bearer <JWT>`, HS256 with the
//! account's signature secret, whose `payload_hash` claim is the hex SHA-256
//! of the raw body (POST) or, for GET, of the query parameters as a compact
//! JSON object in their original order.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::TokenId;

/// Tokens older than this are refused, which bounds replay.
pub const MAX_TOKEN_AGE_SECONDS: i64 = 300;
/// Clock skew we tolerate for tokens issued "in the future".
const LEEWAY_SECONDS: i64 = 60;
/// The longest `jti` accepted. Vonage's are UUIDs (36 characters); a token
/// id is stored on the leg it routed, so its size must be bounded.
pub const MAX_JTI_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no bearer token")]
    Missing,
    #[error("token signature or format is invalid")]
    BadToken,
    #[error("token has no payload_hash")]
    NoPayloadHash,
    #[error("payload_hash does not match the request")]
    PayloadMismatch,
    #[error("token is too old or from the future")]
    Stale,
    #[error("token has no iat")]
    NoIssuedAt,
    #[error("token is for another application")]
    WrongApplication,
    #[error("token has no jti")]
    NoTokenId,
}

#[derive(Debug, Deserialize)]
pub struct Claims {
    pub iat: Option<i64>,
    pub jti: Option<String>,
    pub payload_hash: Option<String>,
    pub api_key: Option<String>,
    pub application_id: Option<String>,
}

/// What the token's `payload_hash` covers.
pub enum Payload<'a> {
    /// POST: the raw body.
    Body(&'a [u8]),
    /// GET: the raw query string (without `?`).
    Query(&'a str),
}

/// Checks a signed webhook's token. `application_id`, when given, pins the
/// token to that Vonage application.
pub fn verify(
    secret: &str,
    authorization: Option<&str>,
    payload: Payload<'_>,
    now: i64,
    application_id: Option<&str>,
) -> Result<Claims, SignatureError> {
    let token = authorization
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(SignatureError::Missing)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.leeway = LEEWAY_SECONDS as u64;
    let claims = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|_| SignatureError::BadToken)?
    .claims;
    // Without iat a captured token would be good forever.
    let iat = claims.iat.ok_or(SignatureError::NoIssuedAt)?;
    // The jti is what a replay is recognised by.
    match claims.jti.as_deref() {
        None | Some("") => return Err(SignatureError::NoTokenId),
        Some(jti) if jti.len() > MAX_JTI_LEN => return Err(SignatureError::BadToken),
        Some(_) => {}
    }
    if !fresh(iat, now) {
        return Err(SignatureError::Stale);
    }
    if let Some(expected) = application_id {
        if claims.application_id.as_deref() != Some(expected) {
            return Err(SignatureError::WrongApplication);
        }
    }
    let expected = claims
        .payload_hash
        .as_deref()
        .ok_or(SignatureError::NoPayloadHash)?;
    let matches = match payload {
        Payload::Body(body) => hex_sha256(body).eq_ignore_ascii_case(expected),
        Payload::Query(query) => query_json_forms(query)
            .iter()
            .any(|json| hex_sha256(json.as_bytes()).eq_ignore_ascii_case(expected)),
    };
    if matches {
        Ok(claims)
    } else {
        Err(SignatureError::PayloadMismatch)
    }
}

/// Whether a token issued at `iat` is neither too old nor from the future
/// at `now`. `iat` is the sender's: the arithmetic is checked, so an `iat`
/// near `i64::MIN` is stale rather than an overflow (a panic in debug
/// builds, a wrap that passed the check in release ones).
fn fresh(iat: i64, now: i64) -> bool {
    let not_future = now.checked_add(LEEWAY_SECONDS).is_some_and(|l| iat <= l);
    let age = now.checked_sub(iat);
    not_future && age.is_some_and(|age| age <= MAX_TOKEN_AGE_SECONDS)
}

/// The bearer token's iat and jti, read WITHOUT checking its signature:
/// only to record the token beside the routing read; [`verify`] decides.
/// A token [`verify`] would refuse whatever its signature (stale, from the
/// future, an oversized jti) gives none, so nothing a forger picks is kept.
pub fn token_id(authorization: Option<&str>, now: i64) -> Option<TokenId> {
    let token = authorization?.trim().split_once(' ')?.1.trim();
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let iat = claims.iat.filter(|&iat| fresh(iat, now))?;
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)?;
    Some(TokenId { iat, jti })
}

/// The iats [`verify`] still accepts at `now`: ids of tokens outside need
/// not be remembered.
pub fn valid_iats(now: i64) -> std::ops::RangeInclusive<i64> {
    now.saturating_sub(MAX_TOKEN_AGE_SECONDS + LEEWAY_SECONDS)..=now.saturating_add(LEEWAY_SECONDS)
}

/// The tag we append to a `session_id` in an `eventUrl`: the event body is
/// signed but the URL's query is not, so without it a replayed event could be
/// attached to another session.
pub fn session_tag(secret: &str, session_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(b"callmask-event-session:");
    mac.update(session_id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Whether `tag` is [`session_tag`] of `session_id`, compared in constant time.
pub fn session_tag_matches(secret: &str, session_id: &str, tag: &str) -> bool {
    let expected = session_tag(secret, session_id);
    expected.len() == tag.len()
        && expected
            .bytes()
            .zip(tag.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The query as the compact JSON object Vonage hashes, in original order.
/// Two spellings are accepted for non-ASCII text: raw UTF-8 and `\u` escapes
/// (what Python's and JavaScript's serialisers produce respectively differ).
pub fn query_json_forms(query: &str) -> Vec<String> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let raw = compact_object(&pairs, false);
    let escaped = compact_object(&pairs, true);
    if raw == escaped {
        vec![raw]
    } else {
        vec![raw, escaped]
    }
}

fn compact_object(pairs: &[(String, String)], ascii: bool) -> String {
    let enc = |s: &str| {
        let json = serde_json::Value::String(s.to_string()).to_string();
        if !ascii {
            return json;
        }
        let mut out = String::with_capacity(json.len());
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        out
    };
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", enc(k), enc(v)))
        .collect();
    format!("{{{}}}", body.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "test-signature-secret-0123456789abcdef";

    fn token(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn bearer(t: &str) -> String {
        format!("Bearer {t}")
    }

    #[test]
    fn body_hash_must_match() {
        let body = br#"{"to":"447700900001","from":"447700900100"}"#;
        let t = token(
            SECRET,
            json!({"iat": 1000, "jti": "x", "iss": "Vonage", "payload_hash": hex_sha256(body)}),
        );
        assert!(verify(SECRET, Some(&bearer(&t)), Payload::Body(body), 1000, None).is_ok());
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(b"{}"), 1000, None).unwrap_err(),
            SignatureError::PayloadMismatch
        );
        assert_eq!(
            verify("other", Some(&bearer(&t)), Payload::Body(body), 1000, None).unwrap_err(),
            SignatureError::BadToken
        );
        assert_eq!(
            verify(SECRET, None, Payload::Body(body), 1000, None).unwrap_err(),
            SignatureError::Missing
        );
        assert_eq!(
            verify(
                SECRET,
                Some(&bearer(&t)),
                Payload::Body(body),
                1000 + MAX_TOKEN_AGE_SECONDS + 1,
                None
            )
            .unwrap_err(),
            SignatureError::Stale
        );
    }

    #[test]
    fn get_hash_covers_the_query_as_ordered_compact_json() {
        let query = "to=447700900001&from=447700900100&uuid=abc&conversation_uuid=CON-1";
        let json = r#"{"to":"447700900001","from":"447700900100","uuid":"abc","conversation_uuid":"CON-1"}"#;
        let t = token(
            SECRET,
            json!({"iat": 5, "jti": "j", "payload_hash": hex_sha256(json.as_bytes())}),
        );
        assert!(verify(SECRET, Some(&bearer(&t)), Payload::Query(query), 5, None).is_ok());
        let reordered = "from=447700900100&to=447700900001&uuid=abc&conversation_uuid=CON-1";
        assert!(verify(
            SECRET,
            Some(&bearer(&t)),
            Payload::Query(reordered),
            5,
            None
        )
        .is_err());
    }

    #[test]
    fn token_without_payload_hash_is_refused() {
        let t = token(SECRET, json!({"iat": 5, "jti": "j"}));
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(b""), 5, None).unwrap_err(),
            SignatureError::NoPayloadHash
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let claims = json!({"iat": 5, "payload_hash": hex_sha256(b"")});
        let t = encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(b""), 5, None).unwrap_err(),
            SignatureError::BadToken
        );
    }

    #[test]
    fn iat_is_required_and_the_application_pinned() {
        let body = b"{}";
        let t = token(SECRET, json!({"payload_hash": hex_sha256(body)}));
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(body), 5, None).unwrap_err(),
            SignatureError::NoIssuedAt
        );
        let t = token(
            SECRET,
            json!({"iat": 5, "jti": "j", "application_id": "app-1", "payload_hash": hex_sha256(body)}),
        );
        assert!(verify(
            SECRET,
            Some(&bearer(&t)),
            Payload::Body(body),
            5,
            Some("app-1")
        )
        .is_ok());
        assert_eq!(
            verify(
                SECRET,
                Some(&bearer(&t)),
                Payload::Body(body),
                5,
                Some("app-2")
            )
            .unwrap_err(),
            SignatureError::WrongApplication
        );
        let t = token(
            SECRET,
            json!({"iat": 5, "jti": "j", "payload_hash": hex_sha256(body)}),
        );
        assert_eq!(
            verify(
                SECRET,
                Some(&bearer(&t)),
                Payload::Body(body),
                5,
                Some("app-1")
            )
            .unwrap_err(),
            SignatureError::WrongApplication
        );
        let t = token(SECRET, json!({"iat": 5, "payload_hash": hex_sha256(body)}));
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(body), 5, None).unwrap_err(),
            SignatureError::NoTokenId
        );
    }

    #[test]
    fn session_tags_bind_the_id_to_the_secret() {
        let tag = session_tag(SECRET, "abc");
        assert_eq!(tag.len(), 32);
        assert!(session_tag_matches(SECRET, "abc", &tag));
        assert!(!session_tag_matches(SECRET, "abd", &tag));
        assert!(!session_tag_matches("other", "abc", &tag));
        assert!(!session_tag_matches(SECRET, "abc", ""));
    }

    #[test]
    fn token_ids_are_read_without_checking_the_signature() {
        let t = token(
            "another-secret",
            json!({"iat": 1000, "jti": "abc", "payload_hash": "x"}),
        );
        assert_eq!(
            token_id(Some(&bearer(&t)), 1000),
            Some(TokenId {
                iat: 1000,
                jti: "abc".into()
            })
        );
        assert_eq!(token_id(Some("Bearer nonsense"), 1000), None);
        assert_eq!(token_id(None, 1000), None);
        assert_eq!(
            valid_iats(1000),
            1000 - MAX_TOKEN_AGE_SECONDS - LEEWAY_SECONDS..=1000 + LEEWAY_SECONDS
        );
    }

    /// What a forger picks is never taken as a token id to remember: a
    /// token `verify` refuses whatever its signature gives none.
    #[test]
    fn token_ids_verify_would_refuse_give_none() {
        let id = |claims: serde_json::Value| token_id(Some(&bearer(&token("x", claims))), 1000);
        assert_eq!(id(json!({"iat": 1000 + 1_000_000, "jti": "a"})), None);
        assert_eq!(id(json!({"iat": 1000 - 1_000_000, "jti": "a"})), None);
        assert_eq!(id(json!({"iat": i64::MIN, "jti": "a"})), None);
        assert_eq!(
            id(json!({"iat": 1000, "jti": "a".repeat(MAX_JTI_LEN + 1)})),
            None
        );
        assert!(id(json!({"iat": 1000, "jti": "a".repeat(MAX_JTI_LEN)})).is_some());
    }

    /// Found by fuzzing from outside the project: `now - iat` overflowed
    /// for an `iat` near `i64::MIN` (a panic in debug builds; in release
    /// ones it wrapped and the token was good at any age).
    #[test]
    fn an_iat_at_the_ends_of_i64_is_stale_not_an_overflow() {
        let body = b"{}";
        for (iat, now) in [
            (i64::MIN, 1000),
            (i64::MIN + 1, 0),
            (i64::MAX, 1000),
            (i64::MIN, i64::MAX),
            (1000, i64::MIN),
            (1000, i64::MAX),
        ] {
            let t = token(
                SECRET,
                json!({"iat": iat, "jti": "j", "payload_hash": hex_sha256(body)}),
            );
            assert_eq!(
                verify(SECRET, Some(&bearer(&t)), Payload::Body(body), now, None).unwrap_err(),
                SignatureError::Stale,
                "iat {iat} at {now}"
            );
        }
    }

    #[test]
    fn an_oversized_jti_is_refused() {
        let body = b"{}";
        let t = token(
            SECRET,
            json!({"iat": 5, "jti": "j".repeat(MAX_JTI_LEN + 1), "payload_hash": hex_sha256(body)}),
        );
        assert_eq!(
            verify(SECRET, Some(&bearer(&t)), Payload::Body(body), 5, None).unwrap_err(),
            SignatureError::BadToken
        );
    }
}
