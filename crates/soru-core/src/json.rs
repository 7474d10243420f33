//! Small helpers for reading Octez JSON objects with clear errors.

use std::fmt::Display;
use std::str::FromStr;

use serde_json::Value;

/// Why a JSON value does not have the expected Octez shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON field {field:?}: {reason}")]
pub struct JsonError {
    /// The field (or value) at fault.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl JsonError {
    /// An error about `field`.
    pub fn field(field: &str, reason: impl Display) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// The field `name` of an object.
pub fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value, JsonError> {
    value.get(name).ok_or_else(|| JsonError::field(name, "missing"))
}

/// The string field `name` of an object.
pub fn str_field<'a>(value: &'a Value, name: &str) -> Result<&'a str, JsonError> {
    field(value, name)?
        .as_str()
        .ok_or_else(|| JsonError::field(name, "expected a string"))
}

/// The string field `name`, parsed with `FromStr`.
pub fn parse_field<T>(value: &Value, name: &str) -> Result<T, JsonError>
where
    T: FromStr,
    T::Err: Display,
{
    str_field(value, name)?.parse().map_err(|e| JsonError::field(name, e))
}

/// The field `name` deserialized with serde.
pub fn serde_field<T: serde::de::DeserializeOwned>(value: &Value, name: &str) -> Result<T, JsonError> {
    serde_json::from_value(field(value, name)?.clone()).map_err(|e| JsonError::field(name, e))
}
