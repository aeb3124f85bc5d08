//! Vonage: signed-webhook JWTs, the SMS API's `sig`, webhook parameters
//! (query, form, JSON) and call event bodies.

use callmask::api::http::query_map;
use callmask::api::vonage::inbound_sms;
use callmask::config::SmsSignatureMethod;
use callmask::domain::TokenId;
use callmask::vonage::signature::{
    hex_sha256, query_json_forms, token_id, verify, Payload, MAX_JTI_LEN, MAX_TOKEN_AGE_SECONDS,
};
use callmask::vonage::sms_signature;
use callmask::vonage::webhook::{call_event, AnswerRequest};
use serde_json::{json, Map, Value};

use crate::{fields, request, text};

/// The clock skew `verify` allows for a token from the future.
const LEEWAY: i128 = 60;

/// Whether a token issued at `iat` is good at `now`, in arithmetic that
/// cannot overflow.
fn in_window(iat: i64, now: i64) -> bool {
    let (iat, now) = (i128::from(iat), i128::from(now));
    iat <= now + LEEWAY && now - iat <= i128::from(MAX_TOKEN_AGE_SECONDS)
}

fn good_jti(jti: &str) -> bool {
    !jti.is_empty() && jti.len() <= MAX_JTI_LEN
}

fn i64_at(data: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    if let Some(s) = data.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    i64::from_le_bytes(b)
}

/// First byte even: any `Authorization` header, body and query, judged
/// without a panic, and a token taken is one in its window. Odd: a token
/// we sign (iat and now from the next 16 bytes, then secret, jti, body,
/// application): it verifies exactly when its iat is in the window at now
/// and its jti and application are right.
pub fn jwt(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let [secret, auth, body, query, app] = fields(rest, 5)[..] else {
            return;
        };
        let (secret, auth, query, app) = (text(secret), text(auth), text(query), text(app));
        let now = 1_800_000_000;
        let app = (!app.is_empty()).then_some(app.as_str());
        for payload in [Payload::Body(body), Payload::Query(&query)] {
            if let Ok(claims) = verify(&secret, Some(&auth), payload, now, app) {
                let iat = claims.iat.expect("a verified token has an iat");
                assert!(in_window(iat, now));
                assert!(good_jti(claims.jti.as_deref().unwrap_or("")));
            }
        }
        if let Some(id) = token_id(Some(&auth), now) {
            assert!(in_window(id.iat, now) && good_jti(&id.jti));
        }
        return;
    }
    let (iat, now) = (i64_at(rest, 0), i64_at(rest, 8));
    let [secret, jti, body, app] = fields(rest.get(16..).unwrap_or(&[]), 4)[..] else {
        return;
    };
    let (secret, jti, app) = (text(secret), text(jti), text(app));
    let mut claims = json!({"iat": iat, "payload_hash": hex_sha256(body)});
    if !jti.is_empty() {
        claims["jti"] = json!(jti);
    }
    if !app.is_empty() {
        claims["application_id"] = json!(app);
    }
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let Ok(token) = jsonwebtoken::encode(&header, &claims, &key) else {
        return;
    };
    let bearer = format!("Bearer {token}");
    let good = in_window(iat, now) && good_jti(&jti);
    let verified = verify(&secret, Some(&bearer), Payload::Body(body), now, None);
    assert_eq!(verified.is_ok(), good, "iat {iat} at {now}: {verified:?}");
    if !app.is_empty() {
        let pinned = verify(&secret, Some(&bearer), Payload::Body(body), now, Some(&app));
        assert_eq!(pinned.is_ok(), good);
        let other = format!("{app}-other");
        assert!(verify(
            &secret,
            Some(&bearer),
            Payload::Body(body),
            now,
            Some(&other)
        )
        .is_err());
    }
    let id = token_id(Some(&bearer), now);
    assert_eq!(
        id,
        good.then(|| TokenId {
            iat,
            jti: jti.clone()
        })
    );
}

const METHODS: [SmsSignatureMethod; 5] = [
    SmsSignatureMethod::Md5Hash,
    SmsSignatureMethod::Md5,
    SmsSignatureMethod::Sha1,
    SmsSignatureMethod::Sha256,
    SmsSignatureMethod::Sha512,
];

/// Secret, then the parameters as a form: with the `sig` we compute they
/// verify (in either hex case), under every method; as sent they are
/// judged without a panic.
pub fn sms_signature(data: &[u8]) {
    let [secret, form] = fields(data, 2)[..] else {
        return;
    };
    let secret = text(secret);
    let sent: Vec<(String, String)> = url::form_urlencoded::parse(form).into_owned().collect();
    let unsigned: Vec<(String, String)> =
        sent.iter().filter(|(k, _)| k != "sig").cloned().collect();
    for method in METHODS {
        let _ = sms_signature::verify(&sent, &secret, method);
        assert!(!sms_signature::verify(&unsigned, &secret, method));
        let sig = sms_signature::sign(&unsigned, &secret, method);
        for sig in [sig.clone(), sig.to_uppercase()] {
            let mut signed = unsigned.clone();
            signed.push(("sig".into(), sig));
            assert!(
                sms_signature::verify(&signed, &secret, method),
                "{method:?}"
            );
        }
    }
}

/// First byte: GET query, POST form or POST JSON; the rest is the
/// parameters. The inbound SMS webhook reads exactly what was sent; an
/// answer request reads the same from a query as from its JSON object;
/// every JSON form a GET's `payload_hash` may cover is that object.
pub fn params(data: &[u8]) {
    let Some((&mode, payload)) = data.split_first() else {
        return;
    };
    let req = match mode % 3 {
        0 => request(
            "GET",
            &format!("https://h.example/vonage/inbound-sms?{}", text(payload)),
            &[],
            b"",
        ),
        1 => request("POST", "https://h.example/vonage/inbound-sms", &[], payload),
        _ => request(
            "POST",
            "https://h.example/vonage/inbound-sms",
            &[("content-type", "application/json")],
            payload,
        ),
    };
    if let Some(req) = req {
        match inbound_sms::read_params(&req) {
            Ok(params) if mode % 3 == 1 => {
                let sent: Vec<(String, String)> =
                    url::form_urlencoded::parse(payload).into_owned().collect();
                assert_eq!(params, sent);
            }
            Ok(_) => {}
            Err(e) => assert!((400..500).contains(&e.status), "{e:?}"),
        }
    }
    let query = text(payload);
    let mut object = Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        object.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    let object = Value::Object(object);
    let body = serde_json::to_vec(&object).expect("a map of strings");
    assert_eq!(
        AnswerRequest::from_query(&query),
        AnswerRequest::from_json(&body).expect("an object")
    );
    for form in query_json_forms(&query) {
        let parsed: Value = serde_json::from_str(&form).expect("the hashed form is JSON");
        assert_eq!(parsed, object);
    }
    let _ = AnswerRequest::from_json(payload);
}

/// A provider's event body: a Vonage call event (JSON, or a GET's query),
/// also as an answer request; taken only with a uuid and a status, both
/// trimmed and non-empty.
pub fn events(data: &[u8]) {
    let check = |body: &[u8]| {
        if let Ok(event) = call_event(body) {
            for field in [&event.uuid, &event.status] {
                assert!(!field.is_empty() && field.trim() == field);
            }
            let sent: Value = serde_json::from_slice(body).expect("an event is JSON");
            assert_eq!(sent, Value::Object(event.raw));
        }
    };
    check(data);
    let _ = AnswerRequest::from_json(data);
    let query = query_map(&text(data));
    check(&serde_json::to_vec(&query).expect("a map of strings"));
}
