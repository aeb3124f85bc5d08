//! The local stack's router: serves every function at the template's own
//! paths by turning a plain HTTP request into the API Gateway (HTTP API,
//! payload 2.0) request that `lambda_http` would hand the function in AWS.

pub mod config;
pub mod functions;
pub mod runtime_api;
pub mod signing;

use std::collections::HashMap;

use callmask::api::http::ApiError;
use lambda_http::{Body, Request, RequestExt};

pub use functions::{match_path, Function, Stack, StackConfig, ROUTES};

/// API Gateway refuses larger payloads (10 MB); so do we.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// Which function serves `method path`, with its path parameters; or the
/// error API Gateway-like routing gives.
pub fn route(method: &str, path: &str) -> Result<(Function, Vec<(String, String)>), ApiError> {
    let mut path_matched = None;
    for r in ROUTES {
        if let Some(params) = match_path(r.path, path) {
            if r.method == method {
                return Ok((r.function, params));
            }
            path_matched.get_or_insert((r.function, params));
        }
    }
    match path_matched {
        // The function itself answers 405 with the methods it accepts.
        Some(found) => Ok(found),
        None => Err(ApiError::not_found(format!("no route for {method} {path}"))),
    }
}

/// Builds the request a function sees, with path and query parameters set
/// as API Gateway sets them.
pub fn to_lambda_request(
    parts: http::request::Parts,
    body: Vec<u8>,
    path_params: Vec<(String, String)>,
) -> Request {
    let query: HashMap<String, Vec<String>> = parts
        .uri
        .query()
        .map(|q| {
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for (k, v) in url_pairs(q) {
                map.entry(k).or_default().push(v);
            }
            map
        })
        .unwrap_or_default();
    let body = if body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(body) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };
    let path_params: HashMap<String, String> = path_params.into_iter().collect();
    Request::from_parts(parts, body)
        .with_path_parameters(path_params)
        .with_query_string_parameters(query)
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}
