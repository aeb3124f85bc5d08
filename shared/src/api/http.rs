//! HTTP glue shared by every function: reading requests, writing JSON and
//! error responses.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::core::Denied;

/// Admin and webhook bodies are small; anything larger is refused.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub type HttpResponse = Response<Body>;

/// An admin API error: `{"error": {"code": "...", "message": "...", ...}}`,
/// where `...` are the error's machine-readable details (the `field` a
/// request got wrong, the `country` a pool ran out in).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub allow: Option<&'static str>,
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
            details: serde_json::Map::new(),
        }
    }

    /// A 400 about one field of the request, named in `field`.
    pub fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::bad_request(code, message).with("field", field)
    }

    /// Adds a machine-readable detail to the error object.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_string(), value.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(405, "method_not_allowed", format!("use {allow}"))
        }
    }

    pub fn unavailable() -> Self {
        Self::new(
            503,
            "unavailable",
            "storage is unavailable; try again shortly",
        )
    }

    pub fn into_response(self) -> HttpResponse {
        let mut error = self.details;
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        let body = serde_json::json!({ "error": error });
        let mut resp = json(self.status, &body);
        if let Some(allow) = self.allow {
            if let Ok(v) = allow.parse() {
                resp.headers_mut().insert(http::header::ALLOW, v);
            }
        }
        if self.status == 503 {
            resp.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

impl From<Denied> for ApiError {
    /// A bad signature is a bare 401; a secret that cannot be read is 503,
    /// as when storage is down, so the provider retries; no secret and
    /// unsigned webhooks not allowed is 503, never a pass.
    fn from(d: Denied) -> Self {
        match d {
            Denied::Unauthorized => ApiError::new(401, "unauthorized", "invalid signature"),
            Denied::SecretUnavailable => ApiError::unavailable(),
            Denied::NotConfigured => ApiError::new(
                503,
                "not_configured",
                "webhook signature secret is not configured",
            ),
        }
    }
}

impl Denied {
    /// The plain HTTP answer: 401, or 503 so the provider tries again.
    pub fn into_response(self) -> HttpResponse {
        ApiError::from(self).into_response()
    }
}

impl From<crate::usecases::PortError> for ApiError {
    fn from(e: crate::usecases::PortError) -> Self {
        tracing::error!(error = %crate::telemetry::chain(&e), "a dependency failed");
        ApiError::unavailable()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %crate::telemetry::chain(&e), "storage request failed");
        ApiError::unavailable()
    }
}

pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> HttpResponse {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .unwrap_or_default()
}

pub fn empty(status: u16) -> HttpResponse {
    Response::builder()
        .status(status)
        .body(Body::Empty)
        .unwrap_or_default()
}

pub fn body_bytes(req: &Request) -> &[u8] {
    req.body().as_ref()
}

/// The body, or 413 when it is larger than any request we take.
pub fn bounded_body(req: &Request) -> Result<&[u8], ApiError> {
    let body = body_bytes(req);
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            413,
            "payload_too_large",
            format!("body exceeds {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(body)
}

/// Parses a JSON object body, with a reason a client can act on.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let body = bounded_body(req)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "a JSON object body is required",
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("body is not valid JSON: {e}"))
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))
}

/// The raw query string, in its original order (signatures depend on it).
pub fn raw_query(req: &Request) -> &str {
    req.uri().query().unwrap_or("")
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A path parameter: from API Gateway's path parameters, else the path
/// segment after `after` (so a raw event without them still works).
pub fn path_param(req: &Request, name: &str, after: &str) -> Option<String> {
    if let Some(v) = req.path_parameters().first(name) {
        return Some(v.to_string()).filter(|v| !v.is_empty());
    }
    let path = req.uri().path();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    segments.by_ref().find(|s| *s == after)?;
    segments.next().map(decode_path_segment)
}

/// Decodes `%XX` in one path segment; unlike a form value, `+` stays `+`
/// (`/numbers/+447700900001`).
pub fn decode_path_segment(s: &str) -> String {
    let escaped = s.replace('+', "%2B");
    url::form_urlencoded::parse(format!("v={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The segment after the path parameter (`/sessions/{id}/calls` → `calls`).
pub fn sub_resource(req: &Request, after: &str) -> Option<String> {
    let mut segments = req.uri().path().split('/').filter(|s| !s.is_empty());
    segments.by_ref().find(|s| *s == after)?;
    segments.next()?;
    segments.next().map(str::to_string)
}

/// The base URL the caller reached us on: the configured public URL, else
/// rebuilt from the request's Host and X-Forwarded-Proto headers.
pub fn public_base_url(configured: Option<&str>, req: &Request) -> String {
    if let Some(base) = configured {
        return base.to_string();
    }
    let host = header(req, "host")
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_else(|| "localhost".into());
    let proto = header(req, "x-forwarded-proto").unwrap_or(
        if host.starts_with("127.0.0.1") || host.starts_with("localhost") {
            "http"
        } else {
            "https"
        },
    );
    format!("{proto}://{host}")
}

pub fn query_map(query: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}
