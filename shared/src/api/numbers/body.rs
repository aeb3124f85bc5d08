//! The `/numbers` bodies: read as sent, then checked into typed requests
//! whose errors name the field at fault.

use serde::Deserialize;
use serde_json::Value;

use crate::api::body::{country, provider};
use crate::api::http::ApiError;
use crate::domain::Provider;
use crate::phone::PhoneNumber;

/// What a number may be bought for.
pub const FEATURES: [&str; 2] = ["voice", "sms"];
/// Most numbers one `POST /numbers/provision` buys.
pub const MAX_PROVISION: u64 = 50;

/// `POST /numbers` as sent.
#[derive(Debug, Deserialize)]
pub struct AddNumberBody {
    number: Option<Value>,
    /// The country of a number written without `+` or `00`.
    country: Option<Value>,
    provider: Option<Value>,
}

/// A number to add to the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddNumber {
    pub number: PhoneNumber,
    /// `None`: the deployment's default.
    pub provider: Option<Provider>,
}

impl TryFrom<AddNumberBody> for AddNumber {
    type Error = ApiError;

    fn try_from(body: AddNumberBody) -> Result<Self, ApiError> {
        let country = country(body.country.as_ref(), "country")?;
        let number = match body.number {
            Some(Value::String(s)) => {
                PhoneNumber::parse_written(&s, country.as_deref()).map_err(|e| {
                    ApiError::invalid("invalid_number", "number", format!("number: {e}"))
                })?
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_number",
                    "number",
                    "number must be a string",
                ))
            }
            None => {
                return Err(ApiError::invalid(
                    "missing_number",
                    "number",
                    "number is required",
                ))
            }
        };
        Ok(AddNumber {
            number,
            provider: provider(body.provider)?,
        })
    }
}

/// A number in a path or a body.
pub fn parse_number(raw: &str) -> Result<PhoneNumber, ApiError> {
    PhoneNumber::parse(raw)
        .map_err(|e| ApiError::invalid("invalid_number", "number", format!("number: {e}")))
}

/// `POST /numbers/provision` as sent.
#[derive(Debug, Deserialize)]
pub struct ProvisionBody {
    provider: Option<Value>,
    country: Option<Value>,
    count: Option<Value>,
    features: Option<Value>,
}

/// Numbers to buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    pub provider: Option<Provider>,
    /// ISO 3166 alpha-2, upper case.
    pub country: String,
    pub count: u32,
    pub features: Vec<&'static str>,
}

impl TryFrom<ProvisionBody> for Provision {
    type Error = ApiError;

    fn try_from(body: ProvisionBody) -> Result<Self, ApiError> {
        let country = match body.country {
            Some(Value::String(c)) if crate::phone::known_region(&c.to_ascii_uppercase()) => {
                c.to_ascii_uppercase()
            }
            None => {
                return Err(ApiError::invalid(
                    "missing_country",
                    "country",
                    "country is required",
                ))
            }
            _ => {
                return Err(ApiError::invalid(
                    "invalid_country",
                    "country",
                    "country must be an ISO 3166 country code such as \"GB\"",
                ))
            }
        };
        let count = match body.count {
            None | Some(Value::Null) => 1,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(c) if (1..=MAX_PROVISION).contains(&c) => c as u32,
                _ => {
                    return Err(ApiError::invalid(
                        "invalid_count",
                        "count",
                        format!("count must be a whole number from 1 to {MAX_PROVISION}"),
                    ))
                }
            },
            Some(_) => {
                return Err(ApiError::invalid(
                    "invalid_count",
                    "count",
                    "count must be a number",
                ))
            }
        };
        Ok(Provision {
            provider: provider(body.provider)?,
            country,
            count,
            features: features(body.features)?,
        })
    }
}

fn features(v: Option<Value>) -> Result<Vec<&'static str>, ApiError> {
    let invalid = || {
        ApiError::invalid(
            "invalid_features",
            "features",
            "features must be a list of \"voice\" and \"sms\"",
        )
    };
    let list = match v {
        None | Some(Value::Null) => return Ok(FEATURES.to_vec()),
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(_) => return Err(invalid()),
    };
    let mut out = Vec::new();
    for f in &list {
        let f = f
            .as_str()
            .and_then(|f| FEATURES.iter().find(|k| k.eq_ignore_ascii_case(f)))
            .ok_or_else(invalid)?;
        if !out.contains(f) {
            out.push(*f);
        }
    }
    Ok(out)
}

/// `POST /numbers/import` as sent.
#[derive(Debug, Deserialize)]
pub struct ImportBody {
    provider: Option<Value>,
}

/// The account whose numbers join the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Import {
    pub provider: Provider,
}

impl TryFrom<ImportBody> for Import {
    type Error = ApiError;

    fn try_from(body: ImportBody) -> Result<Self, ApiError> {
        match provider(body.provider)? {
            Some(provider) => Ok(Import { provider }),
            None => Err(ApiError::invalid(
                "missing_provider",
                "provider",
                "provider is required",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn provision_defaults_and_checks() {
        let p = Provision::try_from(body::<ProvisionBody>(json!({"country": "gb"}))).unwrap();
        assert_eq!(
            (p.country.as_str(), p.count, p.features.len()),
            ("GB", 1, 2)
        );
        let p = Provision::try_from(body::<ProvisionBody>(
            json!({"country": "US", "count": 3, "features": ["SMS", "sms"], "provider": "twilio"}),
        ))
        .unwrap();
        assert_eq!(
            (p.count, p.features, p.provider),
            (3, vec!["sms"], Some(Provider::Twilio))
        );
        for (v, code, field) in [
            (json!({}), "missing_country", "country"),
            (json!({"country": "XX"}), "invalid_country", "country"),
            (
                json!({"country": "GB", "count": 51}),
                "invalid_count",
                "count",
            ),
            (
                json!({"country": "GB", "count": "2"}),
                "invalid_count",
                "count",
            ),
            (
                json!({"country": "GB", "features": []}),
                "invalid_features",
                "features",
            ),
            (
                json!({"country": "GB", "features": ["fax"]}),
                "invalid_features",
                "features",
            ),
        ] {
            let e = Provision::try_from(body::<ProvisionBody>(v.clone())).unwrap_err();
            assert_eq!(
                (e.code, e.details["field"].as_str()),
                (code, Some(field)),
                "{v}"
            );
        }
    }

    #[test]
    fn add_and_import_name_their_fields() {
        let e = AddNumber::try_from(body::<AddNumberBody>(json!({}))).unwrap_err();
        assert_eq!(
            (e.code, e.details["field"].as_str()),
            ("missing_number", Some("number"))
        );
        let e = AddNumber::try_from(body::<AddNumberBody>(json!({"number": 7}))).unwrap_err();
        assert_eq!(e.code, "invalid_number");
        // Bare digits are not guessed at: this was +55 123 0999 (Brazil).
        let e = AddNumber::try_from(body::<AddNumberBody>(json!({"number": "5551230999"})))
            .unwrap_err();
        assert_eq!(
            (e.status, e.code, e.details["field"].as_str()),
            (400, "invalid_number", Some("number"))
        );
        assert!(e.message.contains("+ or 00"), "{}", e.message);
        for (v, e164) in [
            (
                json!({"number": "5551230999", "country": "us"}),
                "+15551230999",
            ),
            (json!({"number": "+5551230999"}), "+5551230999"),
            (json!({"number": "00447700900100"}), "+447700900100"),
            (
                json!({"number": "07700 900100", "country": "GB"}),
                "+447700900100",
            ),
        ] {
            let n = AddNumber::try_from(body::<AddNumberBody>(v.clone())).unwrap();
            assert_eq!(n.number.e164(), e164, "{v}");
        }
        let e = AddNumber::try_from(body::<AddNumberBody>(
            json!({"number": "5551230999", "country": "USA"}),
        ))
        .unwrap_err();
        assert_eq!(
            (e.code, e.details["field"].as_str()),
            ("invalid_country", Some("country"))
        );
        let e = Import::try_from(body::<ImportBody>(json!({}))).unwrap_err();
        assert_eq!(e.code, "missing_provider");
        let i = Import::try_from(body::<ImportBody>(json!({"provider": "VONAGE"}))).unwrap();
        assert_eq!(i.provider, Provider::Vonage);
    }
}
