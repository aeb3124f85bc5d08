//! `X-Twilio-Signature`: Base64(HMAC-SHA1(auth token, URL + the sorted form
//! parameters as name+value)). The URL is the one Twilio called, rebuilt
//! from `PUBLIC_BASE_URL` + path + raw query; like the official helpers we
//! accept it with and without the scheme's default port.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio sends for `url` and form `params`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name, then value: repeated parameters are signed in value order.
    sorted.sort();
    let mut mac = match HmacSha1::new_from_slice(auth_token.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this cannot fail.
        Err(_) => return String::new(),
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `signature` against `url` as given, with the default port added,
/// and with it removed.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> bool {
    let Some(signature) = signature.map(str::trim).filter(|s| !s.is_empty()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        let expected = compute(auth_token, candidate, params);
        constant_time_eq(expected.as_bytes(), signature.as_bytes())
    })
}

fn url_variants(raw: &str) -> Vec<String> {
    let mut out = vec![raw.to_string()];
    if let Ok(u) = url::Url::parse(raw) {
        let default = match u.scheme() {
            "https" => 443,
            "http" => 80,
            _ => return out,
        };
        // `Url` drops a default port when parsing (and only a default one),
        // so its string is the portless form; add the port back by hand.
        let portless = u.to_string();
        if u.port().is_none() {
            let with_port = match u.host_str() {
                Some(host) => portless.replacen(host, &format!("{host}:{default}"), 1),
                None => portless.clone(),
            };
            out.push(with_port);
        }
        out.push(portless);
    }
    out.sort();
    out.dedup();
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let owned = |&(k, v): &(&str, &str)| (k.to_string(), v.to_string());
        pairs.iter().map(owned).collect()
    }

    #[test]
    fn matches_twilios_documented_example() {
        // From Twilio's webhook security documentation.
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = compute("12345", url, &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify("12345", url, &params, Some(&sig)));
        assert!(!verify("12345", url, &p(&[("CallSid", "CAx")]), Some(&sig)));
        assert!(!verify("other", url, &params, Some(&sig)));
        assert!(!verify("12345", url, &params, None));
    }

    #[test]
    fn default_port_is_optional_both_ways() {
        let params = p(&[("CallSid", "CA1")]);
        let with = compute("tok", "https://h.example.com:443/twilio/voice", &params);
        let without = compute("tok", "https://h.example.com/twilio/voice", &params);
        assert!(verify(
            "tok",
            "https://h.example.com/twilio/voice",
            &params,
            Some(&with)
        ));
        assert!(verify(
            "tok",
            "https://h.example.com/twilio/voice",
            &params,
            Some(&without)
        ));
        assert!(verify(
            "tok",
            "https://h.example.com:443/twilio/voice",
            &params,
            Some(&without)
        ));
        assert!(!verify(
            "tok",
            "https://h.example.com:8443/twilio/voice",
            &params,
            Some(&without)
        ));
    }
}
