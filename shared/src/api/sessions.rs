//! `/sessions`: private voice sessions.
//!
//! - `POST /sessions` `{"participants": [a, b], "ttl_seconds", "provider",
//!   "notify"}` → 201. A participant is a number or `{"number", "label"}`.
//!   With `"notify": true` each participant is texted the number to call.
//! - `GET /sessions/{id}` → 200 / 404; `GET /sessions/{id}/calls` → its
//!   calls; `GET /sessions/{id}/messages` → its relayed texts.
//! - `DELETE /sessions/{id}` → 204 (closing twice is harmless), 404.
//! - `GET /sessions` → a page of sessions ([`crate::api::session_list`]);
//!   `GET /calls/{id}` → one call ([`crate::api::calls`]).

mod body;

pub use body::{CreateSession, CreateSessionBody, RawParticipant, MAX_LABEL_CHARS};

use http::Method;
use lambda_http::Request;
use serde_json::{json, Value};

use crate::api::http::{
    empty, json, json_body, path_param, public_base_url, sub_resource, ApiError, HttpResponse,
};
use crate::clock::rfc3339;
use crate::config::{MessagingConfig, NumberValidation};
use crate::core::Core;
use crate::domain::{Notification, NotificationStatus, Provider, Session, SessionStatus};
use crate::phone::PhoneNumber;
use crate::providers::Providers;
use crate::store::CloseSession;
use crate::usecases::sessions::{self, CreateError, NewSession};

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

/// A participant's number: offline from the phone table, or by Vonage
/// Number Insight when `NUMBER_VALIDATION=number-insight`. Number Insight
/// down or unsure never refuses a session: it falls back to offline.
async fn validate(state: &SessionsState, raw: &str, i: usize) -> Result<PhoneNumber, ApiError> {
    let invalid =
        |e: String| ApiError::bad_request("invalid_number", format!("participant {}: {e}", i + 1));
    if state.messaging.number_validation == NumberValidation::NumberInsight {
        match number_insight(state, raw).await {
            Insight::Valid(n) => return Ok(n),
            Insight::Invalid => return Err(invalid("not a valid phone number".into())),
            Insight::Unknown => {}
        }
    }
    PhoneNumber::parse(raw).map_err(|e| invalid(e.to_string()))
}

enum Insight {
    Valid(PhoneNumber),
    Invalid,
    Unknown,
}

async fn number_insight(state: &SessionsState, raw: &str) -> Insight {
    // Number Insight takes the international number as digits.
    let trimmed = raw.trim();
    let mut digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if !trimmed.starts_with('+') {
        if let Some(rest) = digits.strip_prefix("00") {
            digits = rest.to_string();
        }
    }
    if digits.is_empty() || digits.len() > 15 {
        return Insight::Invalid;
    }
    let api = match state.providers.vonage() {
        Ok(api) => api,
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "NUMBER_VALIDATION=number-insight without Vonage credentials: validating offline");
            return Insight::Unknown;
        }
    };
    match api.number_insight_basic(&digits).await {
        Ok(ins) if ins.status == 0 => match ins
            .international_format_number
            .as_deref()
            .and_then(|n| PhoneNumber::from_e164(&format!("+{n}")).ok())
        {
            Some(n) => Insight::Valid(n),
            None => {
                tracing::warn!(
                    "Number Insight answered without a usable number: validating offline"
                );
                Insight::Unknown
            }
        },
        Ok(ins) if ins.status == 3 => Insight::Invalid,
        Ok(ins) => {
            tracing::warn!(
                status = ins.status,
                "Number Insight could not validate: validating offline"
            );
            Insight::Unknown
        }
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "Number Insight unreachable: validating offline");
            Insight::Unknown
        }
    }
}

async fn create(state: &SessionsState, req: &Request) -> Result<HttpResponse, ApiError> {
    let core = &state.core;
    let body: CreateSession = json_body::<CreateSessionBody>(req)?.try_into()?;
    let [p0, p1] = &body.participants;
    let (a, b) = tokio::join!(
        validate(state, &p0.number, 0),
        validate(state, &p1.number, 1)
    );
    let (a, b) = (a?, b?);
    if a == b {
        return Err(ApiError::bad_request(
            "identical_participants",
            "the two participants must be different numbers",
        ));
    }
    let new = NewSession {
        participants: [a, b],
        labels: [p0.label.clone(), p1.label.clone()],
        provider: body.provider.unwrap_or(core.config.default_provider),
        ttl_seconds: body
            .ttl_seconds
            .unwrap_or(core.config.default_session_ttl_seconds),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = core.clock.now();
    let mut result = sessions::create(&core.store, new.clone(), id.clone(), now).await;
    if let Err(CreateError::PoolExhausted { country, .. }) = &result {
        if grow_pool(state, req, new.provider, country).await {
            result = sessions::create(&core.store, new, id, now).await;
        }
    }
    match result {
        Ok(mut session) => {
            tracing::info!(session = %session.id, provider = session.provider.as_str(), "session created");
            crate::metrics::session_created();
            if body.notify {
                session.notifications = notify(state, &session).await;
                // The notices went out whether or not this is kept.
                if let Err(e) = core
                    .store
                    .set_notifications(&session.id, &session.notifications)
                    .await
                {
                    tracing::warn!(session = %session.id, error = %crate::telemetry::chain(&e), "could not keep the notices' outcome");
                }
            }
            Ok(json(201, &view(&session, now)))
        }
        Err(CreateError::PoolExhausted { provider, country }) => {
            tracing::warn!(provider, country = %country, "pool exhausted");
            // The country in a field too, for programs.
            Err(ApiError::new(
                409,
                "pool_exhausted",
                format!("no free {provider} number for a participant in {country}; add numbers to the pool"),
            )
            .with("country", country))
        }
        Err(CreateError::Busy) => Err(ApiError::new(
            503,
            "busy",
            "too many concurrent changes; try again",
        )),
        Err(CreateError::Unavailable(e)) => Err(e.into()),
    }
}

/// `POOL_AUTO_PROVISION_MAX`: buys one more number in `country`, within the
/// provider's allowance. True when the pool grew.
async fn grow_pool(
    state: &SessionsState,
    req: &Request,
    provider: Provider,
    country: &str,
) -> bool {
    let max = state.messaging.pool_auto_provision_max;
    if max == 0 {
        return false;
    }
    match state.core.store.take_auto_provision(provider, max).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                provider = provider.as_str(),
                max,
                "POOL_AUTO_PROVISION_MAX reached: not buying more numbers"
            );
            return false;
        }
        Err(e) => {
            tracing::warn!(error = %crate::telemetry::chain(&e), "could not count automatic purchases");
            return false;
        }
    }
    let base = public_base_url(state.core.config.public_base_url.as_deref(), req);
    match crate::api::numbers::provision_numbers(
        &state.core,
        &state.providers,
        provider,
        country,
        &["voice", "sms"],
        1,
        &base,
    )
    .await
    {
        Ok(out) if out.added.iter().any(|n| n.linked) => {
            tracing::info!(
                provider = provider.as_str(),
                country,
                "bought a number for a session (POOL_AUTO_PROVISION_MAX)"
            );
            true
        }
        Ok(_) => {
            let _ = state.core.store.give_back_auto_provision(provider).await;
            tracing::warn!(
                provider = provider.as_str(),
                country,
                "could not buy a usable number for a session"
            );
            false
        }
        Err(e) => {
            let _ = state.core.store.give_back_auto_provision(provider).await;
            tracing::warn!(provider = provider.as_str(), country, error = %crate::telemetry::chain(&e), "could not buy a number for a session");
            false
        }
    }
}

/// Texts each participant the number that reaches the other one, from that
/// number. A failed notice is reported, never fatal.
async fn notify(state: &SessionsState, session: &Session) -> Vec<Notification> {
    let send = |i: usize| {
        let me = &session.participants[i];
        let other = &session.participants[1 - i];
        let counterpart = other.label.as_deref().unwrap_or("your contact");
        let text = state
            .messaging
            .session_notice_text
            .replace("{counterpart}", counterpart);
        async move {
            let res = state
                .providers
                .send_sms(session.provider, &me.proxy_number, &me.number, &text)
                .await;
            match res {
                Ok(()) => Notification {
                    participant: i,
                    status: NotificationStatus::Sent,
                    reason: None,
                },
                Err(e) => {
                    tracing::warn!(session = %session.id, participant = i, error = %crate::telemetry::chain(&e), "session notice failed");
                    Notification {
                        participant: i,
                        status: NotificationStatus::Failed,
                        reason: Some(e.reason()),
                    }
                }
            }
        }
    };
    let (a, b) = tokio::join!(send(0), send(1));
    vec![a, b]
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
