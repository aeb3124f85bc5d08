//! Twilio: form bodies, `X-Twilio-Signature`, the recording URL a callback
//! names.

use callmask::config::TwilioConfig;
use callmask::twilio::recordings;
use callmask::twilio::signature::{compute, verify};
use callmask::twilio::webhook::{valid_sid, Form};

use crate::{fields, text};

/// A webhook's form body: what is parsed can be written back and parses
/// the same; a looked-up value is trimmed and never empty.
pub fn form(data: &[u8]) {
    let f = Form::parse(data);
    let mut again = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &f.pairs {
        again.append_pair(k, v);
    }
    assert_eq!(Form::parse(again.finish().as_bytes()).pairs, f.pairs);
    for (k, _) in &f.pairs {
        if let Some(v) = f.get(k) {
            assert!(!v.is_empty() && v.trim() == v);
            if valid_sid(v) {
                assert!(
                    v.bytes().all(|b| b.is_ascii_alphanumeric()) && (2..=64).contains(&v.len())
                );
            }
        }
    }
}

/// Token, URL, body, a signature: what we compute for the body verifies,
/// whatever the URL; any other signature is judged without a panic.
pub fn signature(data: &[u8]) {
    let [token, url, body, given] = fields(data, 4)[..] else {
        return;
    };
    let (token, url, given) = (text(token), text(url), text(given));
    let params = Form::parse(body).pairs;
    let sig = compute(&token, &url, &params);
    assert_eq!(sig.len(), 28, "Base64 of a SHA-1 HMAC");
    assert!(verify(&token, &url, &params, Some(&sig)));
    assert!(!verify(&token, &url, &params, None));
    assert!(!verify(&token, &url, &params, Some("  ")));
    let _ = verify(&token, &url, &params, Some(&given));
}

/// Account SID, then a callback's `RecordingUrl`: a URL taken is on the API
/// host over https, under the account's `Recordings/`, with no credentials.
pub fn recording_url(data: &[u8]) {
    let [sid, raw] = fields(data, 2)[..] else {
        return;
    };
    let sid = text(sid);
    let config = TwilioConfig {
        account_sid: (!sid.is_empty()).then(|| sid.clone()),
        ..TwilioConfig::default()
    };
    if let Ok(url) = recordings::recording_url(&config, &text(raw)) {
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host_str(), Some("api.twilio.com"));
        assert_eq!(url.port_or_known_default(), Some(443));
        assert!(url.username().is_empty() && url.password().is_none());
        if !sid.is_empty() {
            let prefix = format!("/2010-04-01/Accounts/{sid}/Recordings/");
            let rest = url.path().strip_prefix(&prefix).expect("under the account");
            assert!(!rest.is_empty() && !rest.contains(['/', '%']));
        }
    }
}
