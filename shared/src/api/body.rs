//! Readers of admin request bodies' fields: each error is a 400 whose
//! details name the field (`{"error": {"code", "message", "field"}}`).

use serde_json::Value;

use crate::api::http::ApiError;
use crate::domain::Provider;

/// `"vonage"` or `"twilio"` (any case); `None` when not given. Shared by
/// the admin bodies that name a provider.
pub fn provider(v: Option<Value>) -> Result<Option<Provider>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(p)) => Provider::parse(&p.to_ascii_lowercase())
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid(
                    "invalid_provider",
                    "provider",
                    "provider must be \"vonage\" or \"twilio\"",
                )
            }),
        Some(_) => Err(ApiError::invalid(
            "invalid_provider",
            "provider",
            "provider must be a string",
        )),
    }
}

/// The country a number without `+` or `00` is read in: an ISO 3166
/// alpha-2 code (any case), upper-cased; `None` when not given. `field`
/// names it in the error.
pub fn country(v: Option<&Value>, field: &str) -> Result<Option<String>, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "invalid_country",
            field,
            format!("{field} must be an ISO 3166 country code such as \"GB\""),
        )
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(c)) => {
            let c = c.trim().to_ascii_uppercase();
            let alpha2 = c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
            if alpha2 && crate::phone::known_region(&c) {
                Ok(Some(c))
            } else {
                Err(invalid())
            }
        }
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn provider_any_case_or_none() {
        assert_eq!(
            provider(Some(json!("Twilio"))).unwrap(),
            Some(Provider::Twilio)
        );
        assert_eq!(provider(Some(Value::Null)).unwrap(), None);
        let e = provider(Some(json!(1))).unwrap_err();
        assert_eq!(
            (e.code, e.details["field"].as_str()),
            ("invalid_provider", Some("provider"))
        );
    }
}
