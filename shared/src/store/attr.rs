//! Reading and writing DynamoDB attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::phone::PhoneNumber;
use crate::store::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s<'a>(item: &'a Item, key: &str) -> Result<&'a str, StoreError> {
    match item.get(key) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(StoreError::malformed(format!(
            "attribute {key} missing or not a string"
        ))),
    }
}

pub fn opt_s(item: &Item, key: &str) -> Option<String> {
    match item.get(key) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

pub fn get_n(item: &Item, key: &str) -> Result<i64, StoreError> {
    opt_n(item, key)
        .ok_or_else(|| StoreError::malformed(format!("attribute {key} missing or not a number")))
}

pub fn opt_n(item: &Item, key: &str) -> Option<i64> {
    match item.get(key) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

pub fn get_phone(item: &Item, key: &str) -> Result<PhoneNumber, StoreError> {
    PhoneNumber::from_e164(get_s(item, key)?)
        .map_err(|e| StoreError::malformed(format!("attribute {key}: {e}")))
}
