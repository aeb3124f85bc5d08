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
//! - `POST /numbers/import` `{"provider"}` → 200: the account's numbers join.

mod body;

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
use crate::domain::{PoolNumber, Provider};
use crate::providers::Providers;
use crate::rest::RestError;
use crate::store::RetireNumber;

/// What the `numbers` function holds: the table and the providers' REST
/// clients (for provisioning, import and release).
#[derive(Debug, Clone)]
pub struct NumbersState {
    pub core: Core,
    pub providers: Providers,
}

impl NumbersState {
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
            return Err(ApiError::bad_request(
                "invalid_release",
                "release must be true or false",
            ))
        }
    };
    let store = &state.core.store;
    let rec = match store.retire_number(&number, state.core.clock.now()).await? {
        RetireNumber::Retired(rec) => rec,
        RetireNumber::NotFound => {
            return Err(ApiError::not_found(format!("{number} is not in the pool")))
        }
        RetireNumber::InUse => {
            return Err(ApiError::new(
                409,
                "number_in_use",
                format!("{number} routes active sessions; close them or let them expire first"),
            ))
        }
    };
    if release {
        // Out of allocation while the provider answers; back in if it refuses.
        if let Err(e) = state.providers.release(&rec).await {
            tracing::warn!(number = %number.masked(), error = %crate::telemetry::chain(&e), "the provider did not release a number");
            store.restore_number(&number).await?;
            return Err(provider_error(&e));
        }
        tracing::info!(number = %number.masked(), provider = rec.provider.as_str(), "number released");
    }
    store.remove_number(&number).await?;
    tracing::info!(number = %number.masked(), "number removed");
    Ok(empty(204))
}

/// 502 with the provider's reason (or 503 when it could not be reached).
fn provider_error(e: &RestError) -> ApiError {
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

/// Search, buy, link, add to the pool. A number bought but not linked is
/// added too (status `unlinked`, out of allocation): it is ours and paid
/// for, so it is never lost. A number the provider would not sell is
/// reported in `failed` and not added.
async fn provision(state: &NumbersState, req: &Request) -> Result<HttpResponse, ApiError> {
    let body: Provision = json_body::<ProvisionBody>(req)?.try_into()?;
    let provider = body.provider.unwrap_or(state.core.config.default_provider);
    let (country, count, features) = (body.country, body.count, body.features);
    let base = public_base_url(state.core.config.public_base_url.as_deref(), req);
    let outcome = provision_numbers(
        &state.core,
        &state.providers,
        provider,
        &country,
        &features,
        count,
        &base,
    )
    .await
    .map_err(|e| match e {
        ProvisionError::Provider(e) => provider_error(&e),
        ProvisionError::Store(e) => e.into(),
    })?;
    let numbers: Vec<_> = outcome.added.iter().map(|rec| view(rec, None)).collect();
    let failed: Vec<_> = outcome
        .failed
        .iter()
        .map(|(n, reason)| json!({"number": n, "reason": reason}))
        .collect();
    tracing::info!(provider = provider.as_str(), country = %country, added = numbers.len(), failed = failed.len(), "numbers provisioned");
    Ok(json(201, &json!({"numbers": numbers, "failed": failed})))
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Provider(#[from] RestError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// What provisioning added to the pool and what failed (number, reason).
#[derive(Debug, Default)]
pub struct ProvisionOutcome {
    pub added: Vec<PoolNumber>,
    pub failed: Vec<(String, String)>,
}

/// Buys and links `count` numbers and adds them to the pool. Shared with
/// sessions' automatic growth.
pub async fn provision_numbers(
    core: &Core,
    providers: &Providers,
    provider: Provider,
    country: &str,
    features: &[&str],
    count: u32,
    webhooks: &str,
) -> Result<ProvisionOutcome, ProvisionError> {
    let bought = providers
        .provision(provider, country, features, count, webhooks)
        .await?;
    let mut out = ProvisionOutcome {
        failed: bought
            .failed
            .iter()
            .map(|(n, e)| (n.clone(), e.reason()))
            .collect(),
        ..Default::default()
    };
    let now = core.clock.now();
    for b in bought.bought {
        if let Some(e) = &b.link_error {
            tracing::warn!(number = %b.number.masked(), error = %crate::telemetry::chain(e), "bought a number but could not link it");
        }
        let rec = PoolNumber {
            number: b.number,
            provider,
            country: b.country,
            created_at: now,
            provider_sid: b.provider_sid,
            linked: b.link_error.is_none(),
        };
        // Bought is bought: a storage failure here must not lose the
        // number, so it is retried before giving up loudly.
        let mut stored = core.store.put_number(&rec).await;
        for _ in 0..2 {
            if stored.is_ok() {
                break;
            }
            stored = core.store.put_number(&rec).await;
        }
        match stored {
            Ok(_) => out.added.push(rec),
            Err(e) => {
                tracing::error!(number = %rec.number.masked(), error = %crate::telemetry::chain(&e), "a bought number could not be added to the pool; import it with POST /numbers/import");
                out.failed.push((
                    rec.number.e164().to_string(),
                    "bought, but not added to the pool (storage unavailable); POST /numbers/import adds it".into(),
                ));
            }
        }
    }
    Ok(out)
}

/// The account's numbers join the pool (onboarding an existing account).
async fn import(state: &NumbersState, req: &Request) -> Result<HttpResponse, ApiError> {
    let Import { provider } = json_body::<ImportBody>(req)?.try_into()?;
    let owned = state
        .providers
        .owned(provider)
        .await
        .map_err(|e| provider_error(&e))?;
    let now = state.core.clock.now();
    let (mut added, mut present) = (Vec::new(), Vec::new());
    for n in owned {
        let rec = PoolNumber {
            number: n.number,
            provider,
            country: n.country,
            created_at: now,
            provider_sid: n.provider_sid,
            linked: true,
        };
        if state.core.store.put_number(&rec).await? {
            added.push(rec.number.e164().to_string());
        } else {
            present.push(rec.number.e164().to_string());
        }
    }
    tracing::info!(
        provider = provider.as_str(),
        added = added.len(),
        present = present.len(),
        "numbers imported"
    );
    Ok(json(200, &json!({"added": added, "present": present})))
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
