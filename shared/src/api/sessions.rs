//! `/sessions`: private voice sessions.
//!
//! - `POST /sessions` `{"participants": [a, b], "ttl_seconds", "provider",
//!   "notify"}` → 201. A participant is a number or `{"number", "label"}`.
//!   With `"notify": true` each participant is texted the number to call.
//! - `GET /sessions/{id}` → 200 / 404; `GET /sessions/{id}/calls` → its
//!   calls; `GET /sessions/{id}/messages` → its relayed texts.
//! - `DELETE /sessions/{id}` → 204 (closing twice is harmless), 404.
//! - `PATCH` (or `POST`) `/sessions/{id}` `{"status": "closed"}` or
//!   `{"ttl", "date_expiry", "mode"}` → 200 with the session; 409 when it
//!   has ended.
//! - `GET /sessions` → a page of sessions ([`crate::api::session_list`]);
//!   `GET /calls/{id}` → one call ([`crate::api::calls`]); `/services`
//!   ([`crate::api::services`]).
//!
//! A session opens in a service (`"service"`: its sid or unique name;
//! absent: the default service), from that service's numbers, with its
//! `default_ttl` when the request gives no `ttl_seconds`.

mod body;

pub use body::{
    CreateSession, CreateSessionBody, UpdateSession, UpdateSessionBody, MAX_LABEL_CHARS,
};

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::{
    empty, json, json_body, path_param, public_base_url, raw_query, sub_resource, ApiError,
    HttpResponse,
};
use crate::clock::rfc3339;
use crate::config::{MessagingConfig, NumberValidation};
use crate::core::Core;
use crate::domain::service::DEFAULT_UNIQUE_NAME;
use crate::domain::session::valid_unique_name;
use crate::domain::{ChangeError, Service, Session, NO_END};
use crate::providers::Providers;
use crate::store::CloseSession;
use crate::usecases::opening::{OpenError, OpenSession, Opening, Policy};
use crate::usecases::sessions::{CreateError, Lifetime, Terms};

/// What the `sessions` function holds.
#[derive(Debug, Clone)]
pub struct SessionsState {
    pub core: Core,
    pub providers: Providers,
    pub messaging: MessagingConfig,
}

impl SessionsState {
    pub async fn from_env(
        timeouts: crate::aws::Timeouts,
    ) -> Result<Self, crate::config::ConfigError> {
        let (core, sdk) = Core::load(timeouts).await?;
        let providers = Providers::from_env(&core, &sdk, timeouts)?;
        Ok(Self {
            core,
            providers,
            messaging: MessagingConfig::from_env()?,
        })
    }
}

pub async fn handle(state: &SessionsState, req: Request) -> HttpResponse {
    let id = path_param(&req, "id", "sessions");
    let sub = sub_resource(&req, "sessions");
    let core = &state.core;
    // Each route's future boxed: one state machine holding all of them
    // overflows a thread's stack in a debug build.
    let result = match (req.method().clone(), id, sub.as_deref()) {
        _ if crate::api::services::is_service_route(&req) => {
            Box::pin(crate::api::services::handle(state, &req)).await
        }
        _ if crate::api::calls::is_call_route(&req) => {
            Box::pin(crate::api::calls::handle(core, &req)).await
        }
        (Method::POST, None, _) => Box::pin(create(state, &req)).await,
        (Method::GET, None, _) => Box::pin(crate::api::session_list::list(core, &req)).await,
        (Method::GET, Some(id), None) => Box::pin(show(state, &req, &id)).await,
        (Method::DELETE, Some(id), None) => Box::pin(close(core, &id)).await,
        // POST as Twilio's API updates, PATCH as a JSON API does.
        (Method::PATCH | Method::POST, Some(id), None) => Box::pin(update(core, &req, &id)).await,
        (Method::GET, Some(id), Some("calls")) => calls(core, &id).await,
        (Method::GET, Some(id), Some("messages")) => messages(core, &id).await,
        (_, Some(_), Some("calls" | "messages")) => Err(ApiError::method_not_allowed("GET")),
        (_, Some(_), Some(_)) => Err(ApiError::not_found("no such resource")),
        (_, None, _) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, Some(_), None) => Err(ApiError::method_not_allowed("GET, PATCH, POST, DELETE")),
    };
    result.unwrap_or_else(ApiError::into_response)
}

async fn create(state: &SessionsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let core = &state.core;
    let body: CreateSession = json_body::<CreateSessionBody>(req)?.try_into()?;
    let named = body.service.as_deref().unwrap_or(DEFAULT_UNIQUE_NAME);
    let service = crate::api::services::resolve(state, named)
        .await?
        .ok_or_else(|| ApiError::not_found("no such service").with("field", "service"))?
        .service;
    let now = core.clock.now();
    let deployment_ttl = core.config.default_session_ttl_seconds;
    let terms = Terms {
        lifetime: lifetime(&body, &service, deployment_ttl, now)?,
        cool_off: service.cool_off_seconds,
        unique_name: body.unique_name,
        mode: body.mode.unwrap_or_default(),
        selection: service.number_selection_behavior,
        allow_foreign: service.allow_foreign_numbers,
        service: service.sid,
    };
    let request = OpenSession {
        participants: body.participants,
        provider: body.provider.unwrap_or(core.config.default_provider),
        notify: body.notify,
        terms,
    };
    let webhooks = public_base_url(core.config.public_base_url.as_deref(), req);
    let policy = Policy {
        number_insight: state.messaging.number_validation == NumberValidation::NumberInsight,
        notice_text: &state.messaging.session_notice_text,
        auto_provision_max: state.messaging.pool_auto_provision_max,
        webhooks: &webhooks,
    };
    let opening = Opening {
        store: &core.store,
        providers: &state.providers,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    match opening.open(request, &policy, id, now).await {
        Ok(session) => Ok(json(201, &view(&session, now))),
        Err(e @ OpenError::InvalidNumber { participant, .. }) => Err(ApiError::invalid(
            "invalid_number",
            &format!("participants[{participant}]"),
            e.to_string(),
        )),
        Err(e @ OpenError::Identical) => Err(ApiError::invalid(
            "identical_participants",
            "participants",
            e.to_string(),
        )),
        Err(OpenError::Create(CreateError::PoolExhausted { provider, country })) => {
            tracing::warn!(provider, country = %country, "pool exhausted");
            // The country in a field too, for programs.
            Err(ApiError::new(
                409,
                "pool_exhausted",
                format!("no free {provider} number for a participant in {country}; add numbers to the pool"),
            )
            .with("country", country))
        }
        Err(e @ OpenError::Create(CreateError::NameTaken)) => {
            Err(ApiError::new(409, "unique_name_taken", e.to_string()).with("field", "unique_name"))
        }
        Err(OpenError::Create(CreateError::Busy)) => Err(ApiError::new(
            503,
            "busy",
            "too many concurrent changes; try again",
        )),
        Err(OpenError::Create(CreateError::Unavailable(e))) => Err(e.into()),
    }
}

/// How long the session lasts: `date_expiry` (fixed, overrides a TTL),
/// `ttl` (sliding), `ttl_seconds` (fixed from creation), else the
/// service's `default_ttl` (sliding); the default service keeps the
/// deployment's fixed `DEFAULT_SESSION_TTL_SECONDS` unless the request
/// says otherwise, so clients from before services see no change.
fn lifetime(
    body: &CreateSession,
    service: &Service,
    deployment_ttl: u64,
    now: i64,
) -> Result<Lifetime, ApiError> {
    if let Some(at) = body.date_expiry {
        if at <= now {
            return Err(ApiError::invalid(
                "invalid_date_expiry",
                "date_expiry",
                "date_expiry must be in the future",
            ));
        }
        return Ok(Lifetime::Until(at));
    }
    Ok(match (body.ttl, body.ttl_seconds, service.default_ttl) {
        (Some(ttl), _, _) => Lifetime::Sliding { ttl, until: None },
        (None, Some(fixed), _) => Lifetime::Fixed(fixed),
        (None, None, Some(ttl)) if !service.sid.is_default() => {
            Lifetime::Sliding { ttl, until: None }
        }
        (None, None, default) => Lifetime::Fixed(default.unwrap_or(deployment_ttl)),
    })
}

/// `GET /sessions/{id}`: by id, else by unique name in the service the
/// query names (`?service=`, sid or unique name; the default service).
async fn show(state: &SessionsState, req: &Request, id: &str) -> Result<HttpResponse, ApiError> {
    let core = &state.core;
    let by_id = match Session::valid_id(id) {
        true => core.store.get_session(id).await?,
        false => None,
    };
    let session = match by_id {
        Some(session) => session,
        None => named(state, req, id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such session"))?,
    };
    Ok(json(200, &view(&session, core.clock.now())))
}

async fn named(
    state: &SessionsState,
    req: &Request,
    name: &str,
) -> Result<Option<Session>, ApiError> {
    if !valid_unique_name(name) {
        return Ok(None);
    }
    let query: Vec<(String, String)> = url::form_urlencoded::parse(raw_query(req).as_bytes())
        .into_owned()
        .collect();
    let service = match query.iter().find(|(k, _)| k == "service") {
        Some((_, v)) => v.as_str(),
        None => DEFAULT_UNIQUE_NAME,
    };
    let Some(service) = crate::api::services::resolve(state, service).await? else {
        return Err(ApiError::not_found("no such service").with("field", "service"));
    };
    Ok(state
        .core
        .store
        .session_named(&service.service.sid, name)
        .await?)
}

async fn close(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    if !Session::valid_id(id) {
        return Err(ApiError::not_found("no such session"));
    }
    match state.store.close_session(id, state.clock.now()).await? {
        CloseSession::Closed => {
            tracing::info!(session = %id, "session closed");
            Ok(empty(204))
        }
        CloseSession::AlreadyClosed => Ok(empty(204)),
        CloseSession::NotFound => Err(ApiError::not_found("no such session")),
    }
}

/// `PATCH /sessions/{id}`: `{"status": "closed"}`, or a new `ttl`
/// (sliding), `date_expiry` (fixed) or `mode`; 200 with the session.
async fn update(state: &Core, req: &Request, id: &str) -> Result<HttpResponse, ApiError> {
    let body: UpdateSession = json_body::<UpdateSessionBody>(req)?.try_into()?;
    if !Session::valid_id(id) {
        return Err(ApiError::not_found("no such session"));
    }
    let now = state.clock.now();
    let changes = match body {
        UpdateSession::Close => {
            close(state, id).await?;
            let session = find(state, id).await?;
            return Ok(json(200, &view(&session, now)));
        }
        UpdateSession::Change(changes) => changes,
    };
    match state.store.update_session(id, &changes, now).await? {
        None => Err(ApiError::not_found("no such session")),
        Some(Ok(session)) => {
            tracing::info!(session = %id, "session updated");
            Ok(json(200, &view(&session, now)))
        }
        Some(Err(e @ ChangeError::Closed)) => {
            Err(ApiError::new(409, "session_closed", e.to_string()))
        }
        Some(Err(e @ ChangeError::PastDate)) => Err(ApiError::invalid(
            "invalid_date_expiry",
            "date_expiry",
            e.to_string(),
        )),
    }
}

async fn calls(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    find(state, id).await?;
    let calls = state.store.session_calls(id).await?;
    Ok(json(200, &json!({ "calls": calls })))
}

async fn messages(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    find(state, id).await?;
    let messages: Vec<Value> = state
        .store
        .session_messages(id)
        .await?
        .into_iter()
        .map(|m| {
            let mut v = json!({
                "message_id": m.message_id,
                "provider": m.provider.as_str(),
                "direction": m.direction,
                "at": rfc3339(m.at),
                "status": m.status,
                "length": m.length,
            });
            if let Some(body) = m.body {
                v["body"] = json!(body);
            }
            v
        })
        .collect();
    Ok(json(200, &json!({ "messages": messages })))
}

async fn find(state: &Core, id: &str) -> Result<Session, ApiError> {
    if !Session::valid_id(id) {
        return Err(ApiError::not_found("no such session"));
    }
    state
        .store
        .get_session(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such session"))
}

/// The session as the API shows it: `expires_at` is when it ends if
/// nothing more is routed (a sliding session's moves with each call);
/// an expired session reads as closed, with the reason.
pub fn view(s: &Session, now: i64) -> Value {
    let (status, reason) = s.status_at(now);
    let mut v = json!({
        "id": s.id,
        "status": status,
        "provider": s.provider.as_str(),
        "service": s.service,
        "mode": s.mode,
        "created_at": rfc3339(s.created_at),
        "expires_at": rfc3339(s.ends_at()),
        "participants": s.participants,
    });
    if let Some(name) = &s.unique_name {
        v["unique_name"] = json!(name);
    }
    if let Some(ttl) = s.ttl {
        v["ttl"] = json!(ttl);
    }
    if s.expires_at != NO_END {
        v["date_expiry"] = json!(rfc3339(s.expires_at));
    }
    if let Some(at) = s.last_interaction_at {
        v["last_interaction_at"] = json!(rfc3339(at));
    }
    if let Some(reason) = reason {
        v["closed_reason"] = json!(reason);
    }
    if let Some(at) = s.closed_at {
        v["closed_at"] = json!(rfc3339(at));
    }
    if !s.notifications.is_empty() {
        v["notifications"] = json!(s.notifications);
    }
    v
}
