//! `/services` bodies: read as sent (any JSON in each field, so a wrong
//! type gets our reason, not serde's), then checked into domain changes.
//! The values' rules are the domain's (`domain::service`); this module
//! reads types and names the field at fault.

use serde::Deserialize;
use serde_json::Value;

use crate::api::http::ApiError;
use crate::api::numbers::parse_number;
use crate::domain::service::{GeoMatch, NumberSelection, ServiceChanges, ServiceError};
use crate::phone::PhoneNumber;

/// `POST /services` and `POST /services/{sid}` as sent: every field may be
/// left out (an update changes only what it names); `null` clears an
/// optional setting.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    #[serde(default, deserialize_with = "present")]
    unique_name: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    default_ttl: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    number_selection_behavior: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    geo_match_level: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    allow_foreign_numbers: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    cool_off_seconds: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    callback_url: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    intercept_callback_url: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    out_of_session_callback_url: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    out_of_session_message: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    interaction_ttl: Option<Value>,
}

/// A field that is present, `null` included (serde reads a `null` into
/// `Option<Value>` as absent otherwise): `null` then clears it.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The error code of a field's bad value.
fn code(field: &str) -> &'static str {
    match field {
        "unique_name" => "invalid_unique_name",
        "default_ttl" => "invalid_default_ttl",
        "number_selection_behavior" => "invalid_number_selection_behavior",
        "geo_match_level" => "invalid_geo_match_level",
        "allow_foreign_numbers" => "invalid_allow_foreign_numbers",
        "cool_off_seconds" => "invalid_cool_off_seconds",
        "callback_url" => "invalid_callback_url",
        "intercept_callback_url" => "invalid_intercept_callback_url",
        "out_of_session_callback_url" => "invalid_out_of_session_callback_url",
        "out_of_session_message" => "invalid_out_of_session_message",
        "interaction_ttl" => "invalid_interaction_ttl",
        _ => "invalid_request",
    }
}

/// A 400 naming `field`.
fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(code(field), field, message)
}

/// The domain's refusal as the API answers it.
pub fn refused(e: &ServiceError) -> ApiError {
    match e {
        ServiceError::DefaultName => ApiError::new(409, "default_service", e.to_string()),
        _ => invalid(e.field(), e.to_string()),
    }
}

impl TryFrom<ServiceBody> for ServiceChanges {
    type Error = ApiError;

    fn try_from(b: ServiceBody) -> Result<Self, ApiError> {
        Ok(ServiceChanges {
            unique_name: b
                .unique_name
                .map(|v| text(v, "unique_name", "unique_name must be a string"))
                .transpose()?,
            default_ttl: b.default_ttl.map(|v| clearable(v, "default_ttl", seconds)).transpose()?,
            number_selection_behavior: b
                .number_selection_behavior
                .map(|v| {
                    v.as_str().and_then(NumberSelection::parse).ok_or_else(|| {
                        invalid(
                            "number_selection_behavior",
                            "number_selection_behavior must be \"prefer-sticky\" or \"avoid-sticky\"",
                        )
                    })
                })
                .transpose()?,
            geo_match_level: b
                .geo_match_level
                .map(|v| {
                    v.as_str().and_then(GeoMatch::parse).ok_or_else(|| {
                        invalid(
                            "geo_match_level",
                            "geo_match_level must be \"country\" or \"area-code\"",
                        )
                    })
                })
                .transpose()?,
            allow_foreign_numbers: b
                .allow_foreign_numbers
                .map(|v| {
                    v.as_bool().ok_or_else(|| {
                        invalid(
                            "allow_foreign_numbers",
                            "allow_foreign_numbers must be true or false",
                        )
                    })
                })
                .transpose()?,
            cool_off_seconds: b
                .cool_off_seconds
                .map(|v| seconds(v, "cool_off_seconds"))
                .transpose()?,
            callback_url: b.callback_url.map(|v| clearable(v, "callback_url", url)).transpose()?,
            intercept_callback_url: b
                .intercept_callback_url
                .map(|v| clearable(v, "intercept_callback_url", url))
                .transpose()?,
            out_of_session_callback_url: b
                .out_of_session_callback_url
                .map(|v| clearable(v, "out_of_session_callback_url", url))
                .transpose()?,
            out_of_session_message: b
                .out_of_session_message
                .map(|v| {
                    clearable(v, "out_of_session_message", |v, f| {
                        text(v, f, "out_of_session_message must be a string")
                    })
                })
                .transpose()?,
            interaction_ttl: b
                .interaction_ttl
                .map(|v| clearable(v, "interaction_ttl", seconds))
                .transpose()?,
        })
    }
}

/// `null` clears the setting; anything else is read by `read`.
fn clearable<T>(
    v: Value,
    field: &'static str,
    read: impl FnOnce(Value, &'static str) -> Result<T, ApiError>,
) -> Result<Option<T>, ApiError> {
    match v {
        Value::Null => Ok(None),
        v => read(v, field).map(Some),
    }
}

fn text(v: Value, field: &'static str, message: &str) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(invalid(field, message)),
    }
}

fn url(v: Value, field: &'static str) -> Result<String, ApiError> {
    text(v, field, &format!("{field} must be a URL string"))
}

/// Whole seconds; the range is the domain's to check.
fn seconds(v: Value, field: &'static str) -> Result<u64, ApiError> {
    v.as_u64()
        .ok_or_else(|| invalid(field, format!("{field} must be a whole number of seconds")))
}

/// `POST /services/{sid}/numbers` as sent.
#[derive(Debug, Deserialize)]
pub struct JoinBody {
    number: Option<Value>,
    is_reserved: Option<Value>,
}

/// A number to move into a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub number: PhoneNumber,
    pub reserved: bool,
}

impl TryFrom<JoinBody> for Join {
    type Error = ApiError;

    fn try_from(b: JoinBody) -> Result<Self, ApiError> {
        let number = match b.number {
            Some(Value::String(n)) => parse_number(&n)?,
            None | Some(Value::Null) => {
                return Err(ApiError::invalid(
                    "missing_number",
                    "number",
                    "number is required",
                ))
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_number",
                    "number",
                    "number must be a string",
                ))
            }
        };
        let reserved = match b.is_reserved {
            None | Some(Value::Null) => false,
            Some(Value::Bool(r)) => r,
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_is_reserved",
                    "is_reserved",
                    "is_reserved must be true or false",
                ))
            }
        };
        Ok(Join { number, reserved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changes(v: Value) -> Result<ServiceChanges, ApiError> {
        ServiceChanges::try_from(serde_json::from_value::<ServiceBody>(v).unwrap())
    }

    #[test]
    fn fields_left_out_stay_and_null_clears() {
        let c = changes(json!({"unique_name": "rides", "callback_url": null})).unwrap();
        assert_eq!(c.unique_name.as_deref(), Some("rides"));
        assert_eq!(c.callback_url, Some(None));
        assert_eq!(c.default_ttl, None);
        let c = changes(json!({"default_ttl": 600, "geo_match_level": "area-code"})).unwrap();
        assert_eq!(c.default_ttl, Some(Some(600)));
        assert_eq!(c.geo_match_level, Some(GeoMatch::AreaCode));
    }

    #[test]
    fn each_wrong_type_is_named() {
        for (body, field) in [
            (json!({"unique_name": 5}), "unique_name"),
            (json!({"unique_name": null}), "unique_name"),
            (json!({"default_ttl": "60"}), "default_ttl"),
            (json!({"default_ttl": -1}), "default_ttl"),
            (
                json!({"number_selection_behavior": "sticky"}),
                "number_selection_behavior",
            ),
            (json!({"geo_match_level": 1}), "geo_match_level"),
            (
                json!({"allow_foreign_numbers": "yes"}),
                "allow_foreign_numbers",
            ),
            (json!({"cool_off_seconds": null}), "cool_off_seconds"),
            (json!({"callback_url": 1}), "callback_url"),
            (
                json!({"out_of_session_message": []}),
                "out_of_session_message",
            ),
            (json!({"interaction_ttl": 1.5}), "interaction_ttl"),
        ] {
            let e = changes(body.clone()).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert_eq!(e.details["field"], field, "{body}");
            assert_eq!(e.code, code(field), "{body}");
        }
        assert!(serde_json::from_value::<ServiceBody>(json!({"uniqe_name": "x"})).is_err());
    }

    #[test]
    fn a_number_joins_reserved_or_not() {
        let join = |v: Value| Join::try_from(serde_json::from_value::<JoinBody>(v).unwrap());
        let j = join(json!({"number": "+447700900001"})).unwrap();
        assert!(!j.reserved);
        assert!(
            join(json!({"number": "+447700900001", "is_reserved": true}))
                .unwrap()
                .reserved
        );
        assert_eq!(join(json!({})).unwrap_err().code, "missing_number");
        assert_eq!(
            join(json!({"number": "447"})).unwrap_err().code,
            "invalid_number"
        );
        let e = join(json!({"number": "+447700900001", "is_reserved": 1})).unwrap_err();
        assert_eq!(e.code, "invalid_is_reserved");
    }
}
