//! The SMS API's signature on inbound messages (`sig`), as Vonage computes
//! it: the parameters but `sig`, sorted by name, each as `&name=value` with
//! `&` and `=` in values replaced by `_`; then MD5 of that string followed
//! by the secret (`md5hash`), or an HMAC of it keyed with the secret (`md5`,
//! `sha1`, `sha256`, `sha512`). The method is the account's setting
//! (`VONAGE_SMS_SIGNATURE_METHOD`). Source: Vonage's "Signing messages"
//! guide and the official SDKs (`vonage-http-client`'s `Auth.sign_params`,
//! `vonage` 3.x's `Client.signature`).

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

use sha1::Sha1;
use sha2::{Sha256, Sha512};

/// The method is a setting: `config` reads it.
pub use crate::config::SmsSignatureMethod;

/// The string that is hashed: every parameter but `sig`, sorted by name.
fn signed_string(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "sig").collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    for (k, v) in sorted {
        out.push('&');
        out.push_str(k);
        out.push('=');
        out.push_str(&v.replace(['&', '='], "_"));
    }
    out
}

fn digest(base: &str, secret: &str, method: SmsSignatureMethod) -> Vec<u8> {
    fn hmac<M: Mac + hmac::digest::KeyInit>(secret: &str, base: &str) -> Vec<u8> {
        // An HMAC takes a key of any length: this cannot fail.
        match <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()) {
            Ok(mut mac) => {
                mac.update(base.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match method {
        SmsSignatureMethod::Md5Hash => {
            let mut h = Md5::new();
            h.update(base.as_bytes());
            h.update(secret.as_bytes());
            h.finalize().to_vec()
        }
        SmsSignatureMethod::Md5 => hmac::<Hmac<Md5>>(secret, base),
        SmsSignatureMethod::Sha1 => hmac::<Hmac<Sha1>>(secret, base),
        SmsSignatureMethod::Sha256 => hmac::<Hmac<Sha256>>(secret, base),
        SmsSignatureMethod::Sha512 => hmac::<Hmac<Sha512>>(secret, base),
    }
}

/// `sig` for these parameters: lower-case hex, as Vonage sends it.
pub fn sign(params: &[(String, String)], secret: &str, method: SmsSignatureMethod) -> String {
    hex::encode(digest(&signed_string(params), secret, method))
}

/// The query string of `params` with their `sig` added, as Vonage sends a
/// signed inbound text: for the tests and benchmarks that play Vonage.
pub fn signed_query(
    mut params: Vec<(String, String)>,
    secret: &str,
    method: SmsSignatureMethod,
) -> String {
    let sig = sign(&params, secret, method);
    params.push(("sig".into(), sig));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish()
}

/// Whether `sig` is the signature of the other parameters. Hex case is
/// ignored; the comparison takes the same time wherever they differ.
pub fn verify(params: &[(String, String)], secret: &str, method: SmsSignatureMethod) -> bool {
    let Some(given) = params
        .iter()
        .find(|(k, _)| k == "sig")
        .and_then(|(_, v)| hex::decode(v.trim()).ok())
    else {
        return false;
    };
    let expected = digest(&signed_string(params), secret, method);
    !expected.is_empty()
        && given.len() == expected.len()
        && given
            .iter()
            .zip(&expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Whether the request's `timestamp` (Unix seconds, which Vonage adds to
/// every signed message and signs with it) is within `max_age_seconds` of
/// `now`, either way. Without one a signed request could be replayed
/// forever: refused.
pub fn fresh(params: &[(String, String)], now: i64, max_age_seconds: u64) -> bool {
    params
        .iter()
        .find(|(k, _)| k == "timestamp")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        .is_some_and(|t| now.abs_diff(t) <= max_age_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Computed with the official packages: vonage-http-client 1.5.2
    // `Auth(api_key="abcd1234", signature_secret="secret-1",
    // signature_method=m).sign_params(p)` and vonage 3.18.0
    // `Client(key="abcd1234", signature_secret="secret-1").signature(p)`,
    // p = {"msisdn": "447700900100", "to": "447700900001", "text":
    // "a&b=c", "timestamp": "1795939200"}.
    const VECTORS: &[(SmsSignatureMethod, &str)] = &[
        (SmsSignatureMethod::Md5Hash, "b9c6fab7d80df0d9b0b5f0aa04e2b155"),
        (SmsSignatureMethod::Md5, "a804e14cefcc92ae75b9963703e9678d"),
        (SmsSignatureMethod::Sha1, "76b3dae7aa073eb8e6aed51dfda6de948a41a6ce"),
        (SmsSignatureMethod::Sha256, "a073d5a215bb611050056d19f92592355d4522b6ce5609d0310a9a9c4e9c3d31"),
        (SmsSignatureMethod::Sha512, "678b994b6e87d7e527a04a873d5afc97ef32645e4feab7108039b85fec8f13aea0af2d02660f70a5b0078fd5ce335ee1eca544ff0900e2ae42295802a84e544d"),
    ];

    fn sample() -> Vec<(String, String)> {
        params(&[
            ("msisdn", "447700900100"),
            ("to", "447700900001"),
            ("text", "a&b=c"),
            ("timestamp", "1795939200"),
        ])
    }

    #[test]
    fn a_signature_is_fresh_for_five_minutes_either_way() {
        let at = |t: &str| params(&[("msisdn", "447700900100"), ("timestamp", t)]);
        let now = 1_795_939_200;
        assert!(fresh(&at("1795939200"), now, 300));
        assert!(fresh(&at("1795938900"), now, 300));
        assert!(fresh(&at("1795939500"), now, 300));
        assert!(!fresh(&at("1795938899"), now, 300));
        assert!(!fresh(&at("1795939501"), now, 300));
        assert!(!fresh(&at("yesterday"), now, 300));
        assert!(!fresh(&params(&[("msisdn", "447700900100")]), now, 300));
    }

    #[test]
    fn signatures_match_the_official_packages() {
        for (method, expected) in VECTORS {
            assert_eq!(
                sign(&sample(), "secret-1", *method),
                *expected,
                "{method:?}"
            );
        }
    }

    #[test]
    fn verify_takes_the_right_signature_and_refuses_others() {
        for (method, _) in VECTORS {
            let mut p = sample();
            p.push((
                "sig".into(),
                sign(&sample(), "secret-1", *method).to_uppercase(),
            ));
            assert!(verify(&p, "secret-1", *method), "{method:?}");
            assert!(
                !verify(&p, "secret-2", *method),
                "{method:?}: another secret"
            );
            let mut altered = p.clone();
            altered[2].1 = "a&b=d".into();
            assert!(
                !verify(&altered, "secret-1", *method),
                "{method:?}: altered"
            );
            let unsigned: Vec<_> = p.iter().filter(|(k, _)| k != "sig").cloned().collect();
            assert!(
                !verify(&unsigned, "secret-1", *method),
                "{method:?}: no sig"
            );
        }
        let mut p = sample();
        p.push(("sig".into(), "not hex".into()));
        assert!(!verify(&p, "secret-1", SmsSignatureMethod::Sha256));
    }
}
