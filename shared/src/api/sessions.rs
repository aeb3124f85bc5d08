//! `/sessions`: private voice sessions.
//!
//! - `POST /sessions` `{"participants": [a, b], "ttl_seconds", "provider",
//!   "notify"}` → 201. A participant is a number or `{"number", "label"}`.
//!   With `"notify": true` each participant is texted the number to call.
//! - `GET /sessions/{id}` → 200 / 404; `GET /sessions/{id}/calls` → its
//!   calls; `GET /sessions/{id}/messages` → its relayed texts.
//! - `DELETE /sessions/{id}` → 204 (closing twice is harmless), 404.
//! - `GET /sessions` → a page of sessions ([`crate::api::session_list`]);
//!   `GET /calls/{id}` → one call ([`crate::api::calls`]); `/services`
//!   ([`crate::api::services`]).
//!
//! A session opens in a service (`"service"`: its sid or unique name;
//! absent: the default service), from that service's numbers, with its
//! `default_ttl` when the request gives no `ttl_seconds`.

mod body;

pub use body::{CreateSession, CreateSessionBody, MAX_LABEL_CHARS};

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::{
    empty, json, json_body, path_param, public_base_url, sub_resource, ApiError, HttpResponse,
};
use crate::clock::rfc3339;
use crate::config::{MessagingConfig, NumberValidation};
use crate::core::Core;
use crate::domain::service::DEFAULT_UNIQUE_NAME;
use crate::domain::{Session, SessionStatus};
use crate::providers::Providers;
use crate::store::CloseSession;
use crate::usecases::opening::{OpenError, OpenSession, Opening, Policy};
use crate::usecases::sessions::CreateError;

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
    let result = match (req.method().clone(), id, sub.as_deref()) {
        _ if crate::api::services::is_service_route(&req) => {
            crate::api::services::handle(state, &req).await
        }
        _ if crate::api::calls::is_call_route(&req) => crate::api::calls::handle(core, &req).await,
        (Method::POST, None, _) => create(state, &req).await,
        (Method::GET, None, _) => crate::api::session_list::list(core, &req).await,
        (Method::GET, Some(id), None) => show(core, &id).await,
        (Method::DELETE, Some(id), None) => close(core, &id).await,
        (Method::GET, Some(id), Some("calls")) => calls(core, &id).await,
        (Method::GET, Some(id), Some("messages")) => messages(core, &id).await,
        (_, Some(_), Some("calls" | "messages")) => Err(ApiError::method_not_allowed("GET")),
        (_, Some(_), Some(_)) => Err(ApiError::not_found("no such resource")),
        (_, None, _) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, Some(_), None) => Err(ApiError::method_not_allowed("GET, DELETE")),
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
    let request = OpenSession {
        participants: body.participants,
        provider: body.provider.unwrap_or(core.config.default_provider),
        ttl_seconds: body.ttl_seconds.unwrap_or(
            service
                .default_ttl
                .unwrap_or(core.config.default_session_ttl_seconds),
        ),
        notify: body.notify,
        service: service.sid,
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
    let now = core.clock.now();
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
        Err(OpenError::Create(CreateError::Busy)) => Err(ApiError::new(
            503,
            "busy",
            "too many concurrent changes; try again",
        )),
        Err(OpenError::Create(CreateError::Unavailable(e))) => Err(e.into()),
    }
}

async fn show(state: &Core, id: &str) -> Result<HttpResponse, ApiError> {
    let session = find(state, id).await?;
    Ok(json(200, &view(&session, state.clock.now())))
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

/// The session as the API shows it. An expired session reads as closed,
/// with the reason.
pub fn view(s: &Session, now: i64) -> Value {
    let (status, reason) = match s.status {
        SessionStatus::Closed => ("closed", Some("closed")),
        SessionStatus::Open if now >= s.expires_at => ("closed", Some("expired")),
        SessionStatus::Open => ("open", None),
    };
    let mut v = json!({
        "id": s.id,
        "status": status,
        "provider": s.provider.as_str(),
        "service": s.service,
        "created_at": rfc3339(s.created_at),
        "expires_at": rfc3339(s.expires_at),
        "participants": s.participants,
    });
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
