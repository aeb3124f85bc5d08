//! The events Lambda hands a function, signed as each provider signs its
//! webhooks.

/// An API Gateway HTTP API (payload 2.0) event, as Lambda hands it over.
pub fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, String)],
    body: &str,
) -> String {
    let mut h = serde_json::Map::new();
    h.insert("host".into(), "bench.example.com".into());
    h.insert("x-forwarded-proto".into(), "https".into());
    for (k, v) in headers {
        h.insert((*k).into(), v.clone().into());
    }
    serde_json::json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench", "domainName": "bench.example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.10", "userAgent": "bench"},
            "requestId": "bench", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "24/Nov/2026:08:00:00 +0000", "timeEpoch": 1795939200000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

pub const PUBLIC: &str = "https://bench.example.com";
pub const VONAGE_SECRET: &str = "bench-vonage-signature-secret";
pub const TWILIO_TOKEN: &str = "bench-twilio-auth-token";
pub use crate::fakes::TWILIO_ACCOUNT;

fn vonage_bearer(payload: &[u8]) -> String {
    callmask_local::signing::vonage_bearer(VONAGE_SECRET, payload)
}

/// A signed Vonage GET webhook (the query hashed as compact JSON).
pub fn vonage_get(path: &str, params: &[(&str, String)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let json = callmask::vonage::signature::query_json_forms(&query)
        .into_iter()
        .next()
        .unwrap_or_default();
    http_event(
        "GET",
        path,
        &query,
        &[("authorization", vonage_bearer(json.as_bytes()))],
        "",
    )
}

pub fn vonage_post(path: &str, query: &str, body: &str) -> String {
    http_event(
        "POST",
        path,
        query,
        &[
            ("authorization", vonage_bearer(body.as_bytes())),
            ("content-type", "application/json".into()),
        ],
        body,
    )
}

/// A Twilio form webhook signed over the public URL.
pub fn twilio_post(path: &str, form: &[(&str, String)]) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let params: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let sig =
        callmask::twilio::signature::compute(TWILIO_TOKEN, &format!("{PUBLIC}{path}"), &params);
    http_event(
        "POST",
        path,
        "",
        &[
            ("x-twilio-signature", sig),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
        &body,
    )
}
