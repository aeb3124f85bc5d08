//! `/services` (served by the `sessions` function: a service scopes
//! sessions): a pool of numbers and the policies its sessions follow.
//!
//! - `POST /services` `{"unique_name", ...policies}` → 201; 409
//!   `unique_name_taken`.
//! - `GET /services` → `{"services": [...], "next"}`, newest first, the
//!   default service last; `?limit=1..100`, `?next=<token>`.
//! - `GET /services/{sid or unique_name}` → 200 / 404.
//! - `POST /services/{sid}` → 200: only the fields sent change (`null`
//!   clears an optional one).
//! - `DELETE /services/{sid}` → 204; 409 `service_in_use` while numbers
//!   are in it; 409 `default_service` for the default service.
//! - `POST /services/{sid}/numbers` `{"number", "is_reserved"}` → 200: a
//!   pool number joins (404 if not in the pool; 409 `number_in_use` while
//!   it routes a session of its current service).
//! - `GET /services/{sid}/numbers` → its numbers.
//! - `DELETE /services/{sid}/numbers/{number}` → 204: back to the default
//!   service.

pub mod body;

pub use body::{Join, JoinBody, ServiceBody};

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::HttpResponse;
use crate::api::http::{empty, json, json_body, path_param, raw_query, sub_resource, ApiError};
use crate::api::numbers::parse_number;
use crate::api::session_list::{encode_next, parse_limit, parse_next, DEFAULT_LIMIT};
use crate::api::sessions::SessionsState;
use crate::clock::rfc3339;
use crate::domain::service::{ServiceChanges, DEFAULT_UNIQUE_NAME};
use crate::domain::{Membership, Service, ServiceSid};
use crate::store::{DeleteService, JoinService, SaveService, StoredService};

/// Read-modify-write rounds of an update before answering 409.
const SAVE_ATTEMPTS: usize = 3;

/// Whether `req` is a `/services` route (the sessions function serves it).
pub fn is_service_route(req: &Request) -> bool {
    req.uri().path().split('/').find(|s| !s.is_empty()) == Some("services")
}

pub async fn handle(state: &SessionsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let id = path_param(req, "id", "services");
    let sub = sub_resource(req, "services");
    match (req.method().clone(), id, sub.as_deref()) {
        (Method::POST, None, None) => create(state, req).await,
        (Method::GET, None, None) => list(state, req).await,
        (Method::GET, Some(id), None) => show(state, &id).await,
        (Method::POST, Some(id), None) => update(state, req, &id).await,
        (Method::DELETE, Some(id), None) => delete(state, &id).await,
        (method, Some(id), Some("numbers")) => {
            match (method, path_param(req, "number", "numbers")) {
                (Method::POST, None) => join(state, req, &id).await,
                (Method::GET, None) => numbers(state, &id).await,
                (Method::DELETE, Some(n)) => leave(state, &id, &n).await,
                (_, None) => Err(ApiError::method_not_allowed("GET, POST")),
                (_, Some(_)) => Err(ApiError::method_not_allowed("DELETE")),
            }
        }
        (_, Some(_), Some(_)) => Err(ApiError::not_found("no such resource")),
        (_, None, _) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, Some(_), None) => Err(ApiError::method_not_allowed("GET, POST, DELETE")),
    }
}

/// The default service as the deployment's settings make it.
fn builtin_default(state: &SessionsState) -> Service {
    Service::default_service(
        state.core.config.default_session_ttl_seconds,
        &state.messaging.out_of_session_sms_text,
    )
}

fn no_such_service() -> ApiError {
    ApiError::not_found("no such service")
}

/// The service `raw` names, by sid or unique name: `None` when there is
/// none. The default service always exists.
pub async fn resolve(state: &SessionsState, raw: &str) -> Result<Option<StoredService>, ApiError> {
    let store = &state.core.store;
    let sid = match ServiceSid::parse(raw) {
        Some(sid) => sid,
        None if raw == DEFAULT_UNIQUE_NAME => ServiceSid::default_service(),
        None if raw.is_empty() || raw.len() > 4 * crate::domain::service::MAX_UNIQUE_NAME_CHARS => {
            return Ok(None)
        }
        None => match store.service_named(raw).await? {
            Some(sid) => sid,
            None => return Ok(None),
        },
    };
    let stored = store.get_service(&sid).await?;
    Ok(match stored {
        None if sid.is_default() => Some(StoredService::builtin(builtin_default(state))),
        other => other,
    })
}

async fn find(state: &SessionsState, raw: &str) -> Result<StoredService, ApiError> {
    resolve(state, raw).await?.ok_or_else(no_such_service)
}

async fn create(state: &SessionsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let changes: ServiceChanges = json_body::<ServiceBody>(req)?.try_into()?;
    let now = state.core.clock.now();
    let service =
        Service::create(ServiceSid::random(), changes, now).map_err(|e| body::refused(&e))?;
    match state.core.store.create_service(&service).await? {
        SaveService::Saved => {
            tracing::info!(service = %service.sid, "service created");
            Ok(json(201, &view(&StoredService::builtin(service))))
        }
        SaveService::NameTaken => Err(name_taken(&service.unique_name)),
        // A fresh sid cannot exist already.
        SaveService::Stale => Err(ApiError::unavailable()),
    }
}

fn name_taken(name: &str) -> ApiError {
    let shown: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    ApiError::new(
        409,
        "unique_name_taken",
        format!("a service is already named `{shown}`"),
    )
}

async fn show(state: &SessionsState, raw: &str) -> Result<HttpResponse, ApiError> {
    Ok(json(200, &view(&find(state, raw).await?)))
}

async fn update(state: &SessionsState, req: &Request, raw: &str) -> Result<HttpResponse, ApiError> {
    let changes: ServiceChanges = json_body::<ServiceBody>(req)?.try_into()?;
    for _ in 0..SAVE_ATTEMPTS {
        let old = find(state, raw).await?;
        let now = state.core.clock.now();
        let new = old
            .service
            .change(changes.clone(), now)
            .map_err(|e| body::refused(&e))?;
        match state.core.store.save_service(&new, &old).await? {
            SaveService::Saved => {
                tracing::info!(service = %new.sid, "service updated");
                let saved = StoredService {
                    service: new,
                    version: old.version + 1,
                    numbers: old.numbers,
                };
                return Ok(json(200, &view(&saved)));
            }
            SaveService::NameTaken => return Err(name_taken(&new.unique_name)),
            SaveService::Stale => continue,
        }
    }
    Err(conflict())
}

fn conflict() -> ApiError {
    ApiError::new(
        409,
        "conflict",
        "changed by another request meanwhile; try again",
    )
}

async fn delete(state: &SessionsState, raw: &str) -> Result<HttpResponse, ApiError> {
    let stored = find(state, raw).await?;
    let sid = &stored.service.sid;
    if sid.is_default() {
        return Err(ApiError::new(
            409,
            "default_service",
            "the default service cannot be deleted",
        ));
    }
    match state.core.store.delete_service(sid).await? {
        DeleteService::Deleted => {
            tracing::info!(service = %sid, "service deleted");
            Ok(empty(204))
        }
        DeleteService::InUse => Err(ApiError::new(
            409,
            "service_in_use",
            "numbers are in this service; move them out first (its sessions then ended)",
        )),
        DeleteService::NotFound => Err(no_such_service()),
    }
}

async fn list(state: &SessionsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let (limit, after) = parse_list_query(raw_query(req))?;
    let page = state
        .core
        .store
        .list_services(limit, after.as_ref(), &builtin_default(state))
        .await?;
    let services: Vec<Value> = page.services.iter().map(view).collect();
    let next = page.next.as_ref().map(encode_next);
    Ok(json(200, &json!({ "services": services, "next": next })))
}

/// `?limit=1..100` (50) and `?next=<token>`; anything else is a 400.
fn parse_list_query(
    query: &str,
) -> Result<(usize, Option<crate::store::SessionPosition>), ApiError> {
    let (mut limit, mut next) = (DEFAULT_LIMIT, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "limit" => limit = parse_limit(&value)?,
            "next" => next = Some(parse_next(&value)?),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "unknown parameter: use limit, next",
                ))
            }
        }
    }
    Ok((limit, next))
}

async fn join(state: &SessionsState, req: &Request, raw: &str) -> Result<HttpResponse, ApiError> {
    let Join { number, reserved } = Join::try_from(json_body::<JoinBody>(req)?)?;
    let stored = find(state, raw).await?;
    let to = Membership {
        service: stored.service.sid.clone(),
        reserved,
    };
    let now = state.core.clock.now();
    let joined = state
        .core
        .store
        .join_service(&number, &to, None, now)
        .await?;
    joined_or_error(joined, &number)?;
    tracing::info!(service = %to.service, number = %number.masked(), reserved, "number joined a service");
    Ok(json(
        200,
        &json!({"number": number.e164(), "service": to.service, "is_reserved": reserved}),
    ))
}

fn joined_or_error(
    joined: JoinService,
    number: &crate::phone::PhoneNumber,
) -> Result<(), ApiError> {
    match joined {
        JoinService::Joined => Ok(()),
        JoinService::NotInPool => Err(ApiError::not_found(format!("{number} is not in the pool"))),
        JoinService::InUse => Err(ApiError::new(
            409,
            "number_in_use",
            format!(
                "{number} routes open sessions of its service; close them or let them expire first"
            ),
        )),
        JoinService::Line => Err(ApiError::new(
            409,
            "number_is_line",
            format!("{number} is a masked line; delete the line first"),
        )),
        JoinService::NoService => Err(no_such_service()),
        JoinService::NotInService => Err(ApiError::not_found(format!(
            "{number} is not in this service"
        ))),
        JoinService::Contended => Err(conflict()),
    }
}

async fn numbers(state: &SessionsState, raw: &str) -> Result<HttpResponse, ApiError> {
    let sid = find(state, raw).await?.service.sid;
    let store = &state.core.store;
    let mut out = Vec::new();
    for provider in [
        crate::domain::Provider::Vonage,
        crate::domain::Provider::Twilio,
    ] {
        for e in store.pool_entries(provider).await? {
            if e.membership.service == sid && !e.line {
                out.push(json!({
                    "number": e.number.number.e164(),
                    "provider": provider.as_str(),
                    "country": e.number.country,
                    "is_reserved": e.membership.reserved,
                }));
            }
        }
    }
    Ok(json(200, &json!({ "service": sid, "numbers": out })))
}

/// The number goes back to the default service (unreserved).
async fn leave(state: &SessionsState, raw: &str, number: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(number)?;
    let sid = find(state, raw).await?.service.sid;
    let now = state.core.clock.now();
    let joined = state
        .core
        .store
        .join_service(&number, &Membership::default(), Some(&sid), now)
        .await?;
    joined_or_error(joined, &number)?;
    tracing::info!(service = %sid, number = %number.masked(), "number left a service");
    Ok(empty(204))
}

/// The service as the API shows it (snake_case; unset settings `null`).
fn view(stored: &StoredService) -> Value {
    let s = &stored.service;
    let mut v = json!({
        "sid": s.sid,
        "unique_name": s.unique_name,
        "default_ttl": s.default_ttl,
        "number_selection_behavior": s.number_selection_behavior,
        "geo_match_level": s.geo_match_level,
        "allow_foreign_numbers": s.allow_foreign_numbers,
        "cool_off_seconds": s.cool_off_seconds,
        "callback_url": s.callback_url,
        "intercept_callback_url": s.intercept_callback_url,
        "out_of_session_callback_url": s.out_of_session_callback_url,
        "out_of_session_message": s.out_of_session_message,
        "interaction_ttl": s.interaction_ttl,
        "created_at": rfc3339(s.created_at),
        "updated_at": rfc3339(s.updated_at),
    });
    if !s.sid.is_default() {
        v["numbers"] = json!(stored.numbers);
    }
    v
}
