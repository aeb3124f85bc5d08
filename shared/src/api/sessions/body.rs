//! `POST /sessions`'s body: read as sent ([`CreateSessionBody`]), then
//! checked into a [`CreateSession`] whose errors name the field at fault.
//! The numbers' validity is checked later, by the use case (it may ask
//! Vonage Number Insight).

use serde::Deserialize;
use serde_json::Value;

use crate::api::body::{country, provider};
use crate::api::http::ApiError;
use crate::clock::parse_rfc3339;
use crate::config::MAX_SESSION_TTL_SECONDS;
use crate::domain::session::{valid_unique_name, MAX_UNIQUE_NAME_CHARS};
use crate::domain::{Mode, Provider, SessionChanges};
use crate::usecases::opening::Requested;

/// Longest participant label.
pub const MAX_LABEL_CHARS: usize = 60;

/// The body as sent: any JSON in each field, so a wrong type gets our
/// reason, not serde's.
#[derive(Debug, Deserialize)]
pub struct CreateSessionBody {
    participants: Option<Value>,
    ttl_seconds: Option<Value>,
    provider: Option<Value>,
    notify: Option<Value>,
    /// The country of participants' numbers written without `+` or `00`
    /// (a participant's own `country` wins).
    country: Option<Value>,
    /// The service's sid or unique name (absent: the default service).
    service: Option<Value>,
    /// Sliding TTL: seconds after the last interaction.
    ttl: Option<Value>,
    /// A fixed end, RFC 3339; overrides any TTL.
    date_expiry: Option<Value>,
    mode: Option<Value>,
    unique_name: Option<Value>,
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSession {
    pub participants: [Requested; 2],
    /// `None`: the deployment's `DEFAULT_SESSION_TTL_SECONDS`.
    pub ttl_seconds: Option<u64>,
    /// `None`: the deployment's default provider.
    pub provider: Option<Provider>,
    pub notify: bool,
    /// The service's sid or unique name; `None`: the default service.
    pub service: Option<String>,
    /// Sliding TTL in seconds.
    pub ttl: Option<u64>,
    /// A fixed end (Unix seconds); the API checks it is in the future.
    pub date_expiry: Option<i64>,
    pub mode: Option<Mode>,
    pub unique_name: Option<String>,
}

impl TryFrom<CreateSessionBody> for CreateSession {
    type Error = ApiError;

    fn try_from(body: CreateSessionBody) -> Result<Self, ApiError> {
        let list = match body.participants {
            Some(Value::Array(list)) if list.len() == 2 => list,
            None => {
                return Err(ApiError::invalid(
                    "missing_participants",
                    "participants",
                    "participants is required",
                ))
            }
            _ => return Err(invalid_participants()),
        };
        let country = country(body.country.as_ref(), "country")?;
        let [a, b] = [
            participant(&list[0], 0, country.as_deref())?,
            participant(&list[1], 1, country.as_deref())?,
        ];
        Ok(CreateSession {
            participants: [a, b],
            ttl_seconds: ttl(body.ttl_seconds, "ttl_seconds")?,
            ttl: ttl(body.ttl, "ttl")?,
            date_expiry: date_expiry(body.date_expiry)?,
            mode: mode(body.mode)?,
            unique_name: unique_name(body.unique_name)?,
            provider: provider(body.provider)?,
            notify: match body.notify {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => b,
                Some(_) => {
                    return Err(ApiError::invalid(
                        "invalid_notify",
                        "notify",
                        "notify must be true or false",
                    ))
                }
            },
            service: match body.service {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "invalid_service",
                        "service",
                        "service must be a service's sid or unique_name",
                    ))
                }
            },
        })
    }
}

/// `PATCH /sessions/{id}`'s body as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionBody {
    status: Option<Value>,
    ttl: Option<Value>,
    date_expiry: Option<Value>,
    mode: Option<Value>,
}

/// A checked update: close, or change the lifetime or mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateSession {
    Close,
    Change(SessionChanges),
}

impl TryFrom<UpdateSessionBody> for UpdateSession {
    type Error = ApiError;

    fn try_from(body: UpdateSessionBody) -> Result<Self, ApiError> {
        let changes = SessionChanges {
            ttl: ttl(body.ttl, "ttl")?.map(|t| t as i64),
            date_expiry: date_expiry(body.date_expiry)?,
            mode: mode(body.mode)?,
        };
        match body.status {
            None | Some(Value::Null) if changes == SessionChanges::default() => {
                Err(ApiError::invalid(
                    "nothing_to_change",
                    "status",
                    "give status, ttl, date_expiry or mode",
                ))
            }
            None | Some(Value::Null) => Ok(UpdateSession::Change(changes)),
            Some(Value::String(s)) if s == "closed" && changes == SessionChanges::default() => {
                Ok(UpdateSession::Close)
            }
            Some(Value::String(s)) if s == "closed" => Err(ApiError::invalid(
                "invalid_status",
                "status",
                "closing a session changes nothing else",
            )),
            Some(_) => Err(ApiError::invalid(
                "invalid_status",
                "status",
                "status can only be set to closed",
            )),
        }
    }
}

fn invalid_participants() -> ApiError {
    ApiError::invalid(
        "invalid_participants",
        "participants",
        "participants must be a list of two phone numbers",
    )
}

/// A plain string, or `{"number": "...", "label": "...", "country": "GB"}`.
fn participant(p: &Value, i: usize, body_country: Option<&str>) -> Result<Requested, ApiError> {
    let o = match p {
        Value::String(s) => {
            return Ok(Requested {
                number: s.clone(),
                label: None,
                country: body_country.map(str::to_string),
            })
        }
        Value::Object(o) => o,
        _ => return Err(invalid_participants()),
    };
    let number = o
        .get("number")
        .and_then(Value::as_str)
        .ok_or_else(invalid_participants)?
        .to_string();
    let label = match o.get("label") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if valid_label(l) => Some(l.trim().to_string()),
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_label",
                &format!("participants[{i}].label"),
                format!(
                    "participant {}: label must be text of 1 to {MAX_LABEL_CHARS} characters",
                    i + 1
                ),
            ))
        }
    };
    let own = country(o.get("country"), &format!("participants[{i}].country"))?;
    Ok(Requested {
        number,
        label,
        country: own.or(body_country.map(str::to_string)),
    })
}

fn valid_label(l: &str) -> bool {
    let l = l.trim();
    !l.is_empty() && l.chars().count() <= MAX_LABEL_CHARS && !l.chars().any(char::is_control)
}

pub(crate) fn ttl(v: Option<Value>, field: &str) -> Result<Option<u64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(t) if (1..=MAX_SESSION_TTL_SECONDS).contains(&t) => Ok(Some(t)),
            _ => Err(ApiError::invalid(
                "invalid_ttl",
                field,
                format!("{field} must be a whole number from 1 to {MAX_SESSION_TTL_SECONDS}"),
            )),
        },
        Some(_) => Err(ApiError::invalid(
            "invalid_ttl",
            field,
            format!("{field} must be a number"),
        )),
    }
}

pub(crate) fn date_expiry(v: Option<Value>) -> Result<Option<i64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(d)) => parse_rfc3339(&d).map(Some).ok_or_else(bad_date),
        Some(_) => Err(bad_date()),
    }
}

fn bad_date() -> ApiError {
    ApiError::invalid(
        "invalid_date_expiry",
        "date_expiry",
        "date_expiry must be an RFC 3339 date and time, e.g. 2026-12-31T23:00:00Z",
    )
}

pub(crate) fn mode(v: Option<Value>) -> Result<Option<Mode>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(m)) if Mode::parse(&m).is_some() => Ok(Mode::parse(&m)),
        Some(_) => Err(ApiError::invalid(
            "invalid_mode",
            "mode",
            "mode must be voice-and-message, voice-only or message-only",
        )),
    }
}

fn unique_name(v: Option<Value>) -> Result<Option<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(n)) if valid_unique_name(&n) => Ok(Some(n)),
        Some(_) => Err(ApiError::invalid(
            "invalid_unique_name",
            "unique_name",
            format!("unique_name must be text of 1 to {MAX_UNIQUE_NAME_CHARS} characters"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update(v: Value) -> Result<UpdateSession, ApiError> {
        UpdateSession::try_from(serde_json::from_value::<UpdateSessionBody>(v).unwrap())
    }

    #[test]
    fn an_update_closes_or_changes_and_says_what_is_wrong() {
        assert_eq!(
            update(json!({"status": "closed"})).unwrap(),
            UpdateSession::Close
        );
        let UpdateSession::Change(c) = update(json!({"ttl": 60, "mode": "voice-only"})).unwrap()
        else {
            panic!("not a change")
        };
        assert_eq!((c.ttl, c.mode), (Some(60), Some(Mode::VoiceOnly)));
        for (body, code) in [
            (json!({}), "nothing_to_change"),
            (json!({"status": "open"}), "invalid_status"),
            (json!({"status": "closed", "ttl": 5}), "invalid_status"),
            (json!({"ttl": 0}), "invalid_ttl"),
        ] {
            assert_eq!(update(body.clone()).unwrap_err().code, code, "{body}");
        }
    }

    fn check(v: Value) -> Result<CreateSession, ApiError> {
        CreateSession::try_from(serde_json::from_value::<CreateSessionBody>(v).unwrap())
    }

    #[test]
    fn numbers_and_labelled_participants_with_defaults_left_open() {
        let s = check(json!({"participants": ["+447700900100", {"number": "+447700900200", "label": " your driver "}]})).unwrap();
        assert_eq!(s.participants[0].number, "+447700900100");
        assert_eq!(s.participants[1].label.as_deref(), Some("your driver"));
        assert_eq!((s.ttl_seconds, s.provider, s.notify), (None, None, false));
        assert_eq!(s.participants[0].country, None);
    }

    #[test]
    fn a_country_in_the_body_or_the_participant() {
        let s = check(json!({"country": "us", "participants": ["5551230999",
            {"number": "07700 900200", "country": "GB"}]}))
        .unwrap();
        assert_eq!(s.participants[0].country.as_deref(), Some("US"));
        assert_eq!(s.participants[1].country.as_deref(), Some("GB"));
        let e = check(json!({"participants": ["+1", {"number": "2", "country": "Britain"}]}))
            .unwrap_err();
        assert_eq!(
            (e.code, e.details["field"].as_str()),
            ("invalid_country", Some("participants[1].country"))
        );
    }

    #[test]
    fn each_bad_field_is_named_in_the_details() {
        for (body, code, field) in [
            (json!({}), "missing_participants", "participants"),
            (
                json!({"participants": ["+1"]}),
                "invalid_participants",
                "participants",
            ),
            (
                json!({"participants": ["+1", {"number": "+2", "label": ""}]}),
                "invalid_label",
                "participants[1].label",
            ),
            (
                json!({"participants": ["+1", "+2"], "ttl_seconds": 0}),
                "invalid_ttl",
                "ttl_seconds",
            ),
            (
                json!({"participants": ["+1", "+2"], "ttl_seconds": "1"}),
                "invalid_ttl",
                "ttl_seconds",
            ),
            (
                json!({"participants": ["+1", "+2"], "provider": "plivo"}),
                "invalid_provider",
                "provider",
            ),
            (
                json!({"participants": ["+1", "+2"], "notify": "yes"}),
                "invalid_notify",
                "notify",
            ),
            (
                json!({"participants": ["+1", "+2"], "ttl": -5}),
                "invalid_ttl",
                "ttl",
            ),
            (
                json!({"participants": ["+1", "+2"], "date_expiry": "tomorrow"}),
                "invalid_date_expiry",
                "date_expiry",
            ),
            (
                json!({"participants": ["+1", "+2"], "mode": "video"}),
                "invalid_mode",
                "mode",
            ),
            (
                json!({"participants": ["+1", "+2"], "unique_name": " "}),
                "invalid_unique_name",
                "unique_name",
            ),
        ] {
            let e = check(body.clone()).unwrap_err();
            assert_eq!((e.status, e.code), (400, code), "{body}");
            assert_eq!(e.details["field"], field, "{body}");
        }
    }
}
