//! The framework's constraint-violation messages, as AWS writes them.
//!
//! AWS checks modeled constraints (required members, lengths, ranges, patterns) before an
//! operation runs and answers `ValidationException` with every violation in one message:
//! `2 validation errors detected: Value 'a b' at 'streamName' failed to satisfy constraint: Member
//! must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'limit' ...`. Member
//! paths are lower-camel (`records.1.member.partitionKey`, 1-based list index).
//!
//! [`decode_request`] is every service's first step: the body into the operation's request
//! shape (in the request's arena, see [`crate::arena`]), then the shape's own checks.

use serde::de::DeserializeOwned;

use crate::Codec;

/// A request shape that checks its modeled constraints.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}

/// Why a body did not become a valid request.
#[derive(Debug)]
pub enum RequestError {
    /// The body is not JSON (or CBOR) of the operation's input shape (`SerializationException`).
    Serialization(String),
    /// Modeled constraints violated (`ValidationException`).
    Validation(Violations),
}

/// `impl From<RequestError> for $error`, for a service error with `Serialization(String)` and
/// `Validation(Violations)` variants: every service answers a bad body the same way.
#[macro_export]
macro_rules! request_error_conversion {
    ($error:ident) => {
        impl From<$crate::validate::RequestError> for $error {
            fn from(err: $crate::validate::RequestError) -> $error {
                match err {
                    $crate::validate::RequestError::Serialization(message) => {
                        $error::Serialization(message)
                    }
                    $crate::validate::RequestError::Validation(violations) => {
                        $error::Validation(violations)
                    }
                }
            }
        }
    };
}

/// Decodes a request body into its shape, its blobs and texts into one buffer per request
/// (`crate::arena`), then checks the shape's constraints.
pub fn decode_request<T: DeserializeOwned + Validate>(
    codec: Codec,
    body: &[u8],
) -> Result<T, RequestError> {
    let request: T = codec
        .decode_in_arena(body)
        .map_err(|err| RequestError::Serialization(err.to_string()))?;
    let mut violations = Violations::new();
    request.validate(&mut violations);
    violations.finish().map_err(RequestError::Validation)?;
    Ok(request)
}

/// The violations found in one request, in the order the checks ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations {
    items: Vec<String>,
}

impl Violations {
    pub fn new() -> Violations {
        Violations::default()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Records one violation: `value` is already rendered the way AWS shows it (quoted or `null`).
    pub fn push(&mut self, rendered_value: &str, path: &str, constraint: &str) {
        self.items.push(format!(
            "Value {rendered_value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, path: &str, value: &Option<T>) {
        if value.is_none() {
            self.push("null", path, "Member must not be null");
        }
    }

    /// Length bounds of a string, counted in characters as AWS does.
    pub fn string_length(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let length = value.chars().count();
        if length < min {
            self.push(
                &quote(value),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if length > max {
            self.push(
                &quote(value),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A string that must match a pattern; `matches` is the caller's verdict.
    pub fn pattern(&mut self, path: &str, value: &str, pattern: &str, matches: bool) {
        if !matches {
            self.push(
                &quote(value),
                path,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// Bounds of an integer member.
    pub fn range(&mut self, path: &str, value: i64, min: Option<i64>, max: Option<i64>) {
        if let Some(min) = min
            && value < min
        {
            self.push(
                &quote(&value.to_string()),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && value > max
        {
            self.push(
                &quote(&value.to_string()),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// Length bounds of a list or map; `rendered` is how the value is shown.
    pub fn collection_length(
        &mut self,
        path: &str,
        rendered: &str,
        length: usize,
        min: usize,
        max: usize,
    ) {
        if length < min {
            self.push(
                &quote(rendered),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if length > max {
            self.push(
                &quote(rendered),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A value outside an enumeration.
    pub fn one_of(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                &quote(value),
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// The whole message: `N validation error(s) detected: a; b`.
    pub fn message(&self) -> String {
        let count = self.items.len();
        let noun = if count == 1 { "error" } else { "errors" };
        format!(
            "{count} validation {noun} detected: {}",
            self.items.join("; ")
        )
    }

    /// `Ok` when nothing was violated.
    pub fn finish(self) -> Result<(), Violations> {
        if self.items.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

fn quote(value: &str) -> String {
    format!("'{value}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_violation_reads_like_aws() {
        let mut v = Violations::new();
        v.pattern("streamName", "a b", "[a-zA-Z0-9_.-]+", false);
        assert_eq!(
            v.message(),
            "1 validation error detected: Value 'a b' at 'streamName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        v.required::<String>("streamName", &None);
        v.range("limit", 10_001, Some(1), Some(10_000));
        assert_eq!(
            v.message(),
            "2 validation errors detected: Value null at 'streamName' failed to satisfy \
             constraint: Member must not be null; Value '10001' at 'limit' failed to satisfy \
             constraint: Member must have value less than or equal to 10000"
        );
        assert!(v.finish().is_err());
        assert!(Violations::new().finish().is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut v = Violations::new();
        v.string_length("partitionKey", &"é".repeat(256), 1, 256);
        assert!(v.is_empty());
        v.string_length("partitionKey", &"é".repeat(257), 1, 256);
        assert!(!v.is_empty());
    }
}
