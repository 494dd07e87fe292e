//! Deserializers that turn a field of an unexpected type into "absent" instead of failing
//! the whole response. Peloton's API is unofficial and drifts; one odd field must not cost
//! us every other value in the answer.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A number, or a numeric string; anything else is `None`.
pub fn f64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    })
}

/// An integer (or an integral float/string); anything else is `None`.
pub fn i64_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|v| v.is_finite()).map(|v| v as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

/// A boolean, or `"true"`/`"false"`; anything else is `None`.
pub fn bool_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => s.trim().parse::<bool>().ok(),
        _ => None,
    })
}

/// A string (numbers are rendered as text); null, objects and arrays are `None`.
pub fn string_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// A JSON array of `T`; a null or a non-array is an empty list, and elements that do not
/// parse as `T` are skipped.
pub fn vec_skip<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// A JSON array of `T` (elements that do not parse skipped), or `None` when the value is
/// no array at all: "no field" stays apart from "an empty list".
pub fn vec_opt<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
        ),
        _ => None,
    })
}

/// A JSON array of numbers, position kept: an element that is not a finite number (null,
/// text, an object) becomes `None` so the values stay aligned with their timestamps. A
/// null or a non-array is an empty list.
pub fn f64_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<f64>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| v.as_f64().filter(|x| x.is_finite()))
            .collect(),
        _ => Vec::new(),
    })
}

/// An object that parses as `T`, or `None` for null or anything that does not fit.
pub fn object_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        v @ Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// A map of string keys to numbers; entries with other values are skipped.
pub fn number_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| v.as_f64().filter(|x| x.is_finite()).map(|x| (k, x)))
            .collect(),
        _ => std::collections::BTreeMap::new(),
    })
}
