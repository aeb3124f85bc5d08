//! `/numbers`: the pool of proxy numbers.
//!
//! - `POST /numbers` `{"number", "provider"}` → 201, 409 if present, 400 if bad.
//! - `GET /numbers` → `{"numbers": [...]}`, each with its active session count.
//! - `GET /numbers/{number}` → 200 / 404.
//! - `DELETE /numbers/{number}` → 204, 404, or 409 while it routes a session.

use http::Method;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

use crate::core::Core;
use crate::domain::{PoolNumber, Provider};
use crate::http::{empty, json, json_body, path_param, ApiError, HttpResponse};
use crate::phone::PhoneNumber;
use crate::store::DeleteNumber;

pub async fn handle(state: &Core, req: Request) -> HttpResponse {
    let result = match (req.method().clone(), path_param(&req, "number", "numbers")) {
        (Method::POST, None) => create(state, &req).await,
        (Method::GET, None) => list(state).await,
        (Method::GET, Some(n)) => show(state, &n).await,
        (Method::DELETE, Some(n)) => delete(state, &n).await,
        (_, None) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, Some(_)) => Err(ApiError::method_not_allowed("GET, DELETE")),
    };
    result.unwrap_or_else(ApiError::into_response)
}

#[derive(Deserialize)]
struct CreateNumber {
    number: Option<serde_json::Value>,
    provider: Option<serde_json::Value>,
}

fn parse_number(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw)
        .map_err(|e| ApiError::bad_request("invalid_number", format!("number: {e}")))
}

async fn create(state: &Core, req: &Request) -> Result<HttpResponse, ApiError> {
    let body: CreateNumber = json_body(req)?;
    let number = match body.number {
        Some(serde_json::Value::String(s)) => parse_number(&s)?,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_number",
                "number must be a string",
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                "missing_number",
                "number is required",
            ))
        }
    };
    let provider = match body.provider {
        None | Some(serde_json::Value::Null) => state.config.default_provider,
        Some(serde_json::Value::String(p)) => {
            Provider::parse(&p.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_provider",
                    "provider must be \"vonage\" or \"twilio\"",
                )
            })?
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_provider",
                "provider must be a string",
            ))
        }
    };
    let rec = PoolNumber {
        country: number.country(),
        number,
        provider,
        created_at: state.clock.now(),
    };
    if !state.store.put_number(&rec).await? {
        return Err(ApiError::new(
            409,
            "number_exists",
            format!("{} is already in the pool", rec.number),
        ));
    }
    tracing::info!(number = %rec.number.masked(), provider = provider.as_str(), "number added");
    Ok(json(201, &view(&rec, None)))
}

async fn list(state: &Core) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let numbers = state.store.all_numbers().await?;
    let mut out = Vec::with_capacity(numbers.len());
    for (rec, is_line) in &numbers {
        let active = state.store.active_sessions_on(&rec.number, now).await?;
        let mut v = view(rec, Some(active));
        v["line"] = json!(is_line);
        out.push(v);
    }
    Ok(json(200, &json!({ "numbers": out })))
}

async fn show(state: &Core, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    let rec = state
        .store
        .get_number(&number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{number} is not in the pool")))?;
    let active = state
        .store
        .active_sessions_on(&number, state.clock.now())
        .await?;
    Ok(json(200, &view(&rec, Some(active))))
}

async fn delete(state: &Core, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    match state
        .store
        .delete_number(&number, state.clock.now())
        .await?
    {
        DeleteNumber::Deleted => {
            tracing::info!(number = %number.masked(), "number removed");
            Ok(empty(204))
        }
        DeleteNumber::NotFound => Err(ApiError::not_found(format!("{number} is not in the pool"))),
        DeleteNumber::InUse => Err(ApiError::new(
            409,
            "number_in_use",
            format!("{number} routes active sessions; close them or let them expire first"),
        )),
    }
}

fn view(rec: &PoolNumber, active_sessions: Option<usize>) -> serde_json::Value {
    let mut v = json!({
        "number": rec.number.e164(),
        "provider": rec.provider.as_str(),
        "country": rec.country,
        "status": "active",
    });
    if let Some(n) = active_sessions {
        v["active_sessions"] = json!(n);
    }
    v
}
