//! An order-preserving JSON value for input records. The workspace's `serde_json` keeps object
//! members in a sorted map, but schema discovery must list columns in the order the record
//! writes them, so records are read into this tree instead (through `serde_json`'s parser).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

/// A JSON number as the parser produced it: integers stay exact, other numbers are `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsonNumber {
    Int(i64),
    /// A positive integer above `i64::MAX`.
    UInt(u64),
    Float(f64),
}

/// A JSON value whose objects keep their members in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(JsonNumber),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses one JSON document.
    pub fn parse(bytes: &[u8]) -> Result<Json, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The member `name` of an object (the first one, should the name repeat).
    pub fn member(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// The kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }
}

impl fmt::Display for JsonNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonNumber::Int(number) => write!(f, "{number}"),
            JsonNumber::UInt(number) => write!(f, "{number}"),
            // Rust prints the shortest text that reads back as the same f64, without exponent.
            JsonNumber::Float(number) => write!(f, "{number}"),
        }
    }
}

/// Compact JSON text, members in document order.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(value) => write!(f, "{value}"),
            Json::Number(number) => write!(f, "{number}"),
            Json::String(text) => write!(f, "{}", serde_json::Value::String(text.clone())),
            Json::Array(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Json::Object(members) => {
                f.write_str("{")?;
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{value}", serde_json::Value::String(key.clone()))?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json, E> {
        Ok(Json::Number(JsonNumber::Int(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json, E> {
        Ok(Json::Number(match i64::try_from(value) {
            Ok(value) => JsonNumber::Int(value),
            Err(_) => JsonNumber::UInt(value),
        }))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Json, E> {
        Ok(Json::Number(JsonNumber::Float(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_member_order_and_exact_integers() {
        let json = Json::parse(br#"{"z":1,"a":{"y":9223372036854775807,"b":18446744073709551615},"m":[1.5,null,true,"x"]}"#)
            .expect("valid JSON");
        let Json::Object(members) = &json else {
            panic!("object expected")
        };
        let keys: Vec<&str> = members.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        let inner = json.member("a").expect("member a");
        assert_eq!(
            inner.member("y"),
            Some(&Json::Number(JsonNumber::Int(i64::MAX)))
        );
        assert_eq!(
            inner.member("b"),
            Some(&Json::Number(JsonNumber::UInt(u64::MAX)))
        );
        assert_eq!(
            json.to_string(),
            r#"{"z":1,"a":{"y":9223372036854775807,"b":18446744073709551615},"m":[1.5,null,true,"x"]}"#
        );
    }

    #[test]
    fn rejects_malformed_documents() {
        assert!(Json::parse(b"{\"a\":").is_err());
        assert!(Json::parse(b"{} trailing").is_err());
    }
}
