//! `/numbers`: the pool of proxy numbers.
//!
//! - `POST /numbers` `{"number", "provider"}` → 201, 409 if present, 400 if bad.
//! - `GET /numbers` → `{"numbers": [...]}`, each with its active session count.
//! - `GET /numbers/{number}` → 200 / 404.
//! - `DELETE /numbers/{number}` → 204, 404, or 409 while it routes a session;
//!   with `?release=true` the provider cancels the rental first (502 and the
//!   number stays when it refuses).
//! - `POST /numbers/provision` `{"provider", "country", "count", "features"}`
//!   → 201: bought, linked and added (see [`provision`]).
//! - `POST /numbers/import` `{"provider"}` → 200: the account's numbers that
//!   point here join; the others are listed in `skipped` with the reason.

mod body;
mod orders;

pub use body::{
    parse_number, AddNumber, AddNumberBody, Import, ImportBody, Provision, ProvisionBody, FEATURES,
    MAX_PROVISION,
};

use http::Method;
use lambda_http::Request;
use serde_json::json;

use crate::api::http::{
    empty, json, json_body, path_param, public_base_url, query_map, raw_query, ApiError,
    HttpResponse,
};
use crate::core::Core;
use crate::domain::PoolNumber;
use crate::providers::Providers;
use crate::rest::RestError;
use crate::usecases::pool::{Imported, Order, Pool, PoolError};
use crate::usecases::PortError;

/// What the `numbers` function holds: the table and the providers' REST
/// clients (for provisioning, import and release).
#[derive(Debug, Clone)]
pub struct NumbersState {
    pub core: Core,
    pub providers: Providers,
}

impl NumbersState {
    /// The pool on this function's table and providers.
    pub fn pool(&self) -> Pool<'_, crate::store::Store, Providers> {
        Pool {
            store: &self.core.store,
            providers: &self.providers,
        }
    }

    pub async fn from_env(
        timeouts: crate::aws::Timeouts,
    ) -> Result<Self, crate::config::ConfigError> {
        let (core, sdk) = Core::load(timeouts).await?;
        let providers = Providers::from_env(&core, &sdk, timeouts)?;
        Ok(Self { core, providers })
    }
}

pub async fn handle(state: &NumbersState, req: Request) -> HttpResponse {
    let core = &state.core;
    let result = match (req.method().clone(), path_param(&req, "number", "numbers")) {
        (Method::POST, None) => create(core, &req).await,
        (Method::GET, None) => list(core).await,
        (Method::POST, Some(a)) if a == "provision" => provision(state, &req).await,
        (Method::POST, Some(a)) if a == "import" => import(state, &req).await,
        (_, Some(a)) if a == "provision" || a == "import" => {
            Err(ApiError::method_not_allowed("POST"))
        }
        (Method::GET, Some(n)) => show(core, &n).await,
        (Method::DELETE, Some(n)) => delete(state, &req, &n).await,
        (_, None) => Err(ApiError::method_not_allowed("GET, POST")),
        (_, Some(_)) => Err(ApiError::method_not_allowed("GET, DELETE")),
    };
    result.unwrap_or_else(ApiError::into_response)
}

async fn create(state: &Core, req: &Request) -> Result<HttpResponse, ApiError> {
    let body: AddNumber = json_body::<AddNumberBody>(req)?.try_into()?;
    let (number, provider) = (
        body.number,
        body.provider.unwrap_or(state.config.default_provider),
    );
    let rec = PoolNumber {
        country: number.country(),
        number,
        provider,
        created_at: state.clock.now(),
        provider_sid: None,
        linked: true,
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

async fn delete(state: &NumbersState, req: &Request, raw: &str) -> Result<HttpResponse, ApiError> {
    let number = parse_number(raw)?;
    let release = match query_map(raw_query(req)).get("release").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_release",
                "release",
                "release must be true or false",
            ))
        }
    };
    let now = state.core.clock.now();
    match state.pool().remove(&number, release, now).await {
        Ok(()) => Ok(empty(204)),
        Err(PoolError::NotFound) => {
            Err(ApiError::not_found(format!("{number} is not in the pool")))
        }
        Err(PoolError::InUse) => Err(ApiError::new(
            409,
            "number_in_use",
            format!("{number} routes active sessions; close them or let them expire first"),
        )),
        Err(e) => Err(pool_error(e)),
    }
}

fn pool_error(e: PoolError) -> ApiError {
    match e {
        PoolError::Provider(e) => provider_error(&e),
        PoolError::Store(e) => e.into(),
        PoolError::NotFound | PoolError::InUse => ApiError::unavailable(),
    }
}

/// 502 with the provider's reason (or 503 when it could not be reached).
fn provider_error(e: &PortError) -> ApiError {
    let Some(e) = e.downcast_ref::<RestError>() else {
        return ApiError::new(502, "provider_error", "the provider failed");
    };
    match e {
        RestError::NotConfigured(what) => ApiError::new(
            501,
            "provider_not_configured",
            format!("{what} is not set for this deployment"),
        ),
        RestError::NoneAvailable => ApiError::new(
            409,
            "none_available",
            "the provider has no numbers matching the request",
        ),
        RestError::RateLimited { .. } => ApiError::new(503, "provider_busy", e.reason()),
        RestError::Unavailable(_) => ApiError::new(502, "provider_unavailable", e.reason()),
        RestError::AuthRefused(_) | RestError::Refused { .. } => {
            ApiError::new(502, "provider_error", e.reason())
        }
    }
}

/// How long provisioning may start purchases: HTTP API gives up at 30 s,
/// and the last purchase (buy and link, up to `REQUEST_TIMEOUT` each, then
/// the write) must end before it.
const PROVISION_BUDGET: std::time::Duration = std::time::Duration::from_secs(15);

/// Search, buy, link, add to the pool. A number bought but not linked is
/// added too (status `unlinked`, out of allocation): it is ours and paid
/// for, so it is never lost. A number the provider would not sell is
/// reported in `failed` and not added.
async fn provision(state: &NumbersState, req: &Request) -> Result<HttpResponse, ApiError> {
    let key = orders::idempotency_key(req)?;
    let body: Provision = json_body::<ProvisionBody>(req)?.try_into()?;
    let store = &state.core.store;
    let now = state.core.clock.now();
    if let Some(key) = key {
        if let Some(answer) = orders::begin(store, key, req, now).await? {
            return Ok(answer);
        }
    }
    let provider = body.provider.unwrap_or(state.core.config.default_provider);
    let (country, count, features) = (body.country, body.count, body.features);
    let base = public_base_url(state.core.config.public_base_url.as_deref(), req);
    let order = Order {
        // HTTP API answers 503 at 30 s while the function runs on; a
        // client that retried then bought again. Purchases stop in time
        // for the answer to reach it, naming what was not bought.
        deadline: Some(std::time::Instant::now() + PROVISION_BUDGET),
        provider,
        country: &country,
        features: &features,
        count,
        webhooks: &base,
    };
    let outcome = match state.pool().provision(order, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // The search failed: nothing was bought.
            if let Some(key) = key {
                orders::abandon(store, key).await;
            }
            return Err(pool_error(e));
        }
    };
    let numbers: Vec<_> = outcome.added.iter().map(|rec| view(rec, None)).collect();
    let failed: Vec<_> = outcome
        .failed
        .iter()
        .map(|(n, reason)| json!({"number": n, "reason": reason}))
        .collect();
    tracing::info!(provider = provider.as_str(), country = %country, added = numbers.len(), failed = failed.len(), "numbers provisioned");
    let answer = json!({"numbers": numbers, "failed": failed});
    if let Some(key) = key {
        orders::finish(store, key, 201, &answer.to_string()).await;
    }
    Ok(json(201, &answer))
}

/// The account's numbers join the pool (onboarding an existing account).
async fn import(state: &NumbersState, req: &Request) -> Result<HttpResponse, ApiError> {
    let Import { provider } = json_body::<ImportBody>(req)?.try_into()?;
    let base = public_base_url(state.core.config.public_base_url.as_deref(), req);
    let Imported {
        added,
        present,
        skipped,
    } = state
        .pool()
        .import(provider, &base, state.core.clock.now())
        .await
        .map_err(pool_error)?;
    tracing::info!(
        provider = provider.as_str(),
        added = added.len(),
        present = present.len(),
        skipped = skipped.len(),
        "numbers imported"
    );
    let skipped: Vec<_> = skipped
        .iter()
        .map(|(n, reason)| json!({"number": n, "reason": reason}))
        .collect();
    Ok(json(
        200,
        &json!({"added": added, "present": present, "skipped": skipped}),
    ))
}

fn view(rec: &PoolNumber, active_sessions: Option<usize>) -> serde_json::Value {
    let mut v = json!({
        "number": rec.number.e164(),
        "provider": rec.provider.as_str(),
        "country": rec.country,
        "status": if rec.linked { "active" } else { "unlinked" },
    });
    if let Some(n) = active_sessions {
        v["active_sessions"] = json!(n);
    }
    v
}
