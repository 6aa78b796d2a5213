//! The error shape AWS clients parse.
//!
//! botocore reads the error code only from `__type` in the body (text before a `#` stripped); other
//! SDKs read the `x-amzn-ErrorType` header. Spate sends both. Kinesis and Firehose error shapes use
//! a lower-case `message` member. The body is in the request's encoding ([`Codec::error_body`]).

use crate::Codec;

/// Whether an error is the caller's (HTTP 400 family) or the server's (HTTP 500 family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Client,
    Server,
}

/// An error as it goes on the wire: the AWS error type name, the message and the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
    pub status: u16,
    pub fault: Fault,
}

impl AwsError {
    /// A client error answered with HTTP 400, the awsJson default for modeled client errors.
    pub fn client(code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            code,
            message: message.into(),
            status: 400,
            fault: Fault::Client,
        }
    }

    /// A server fault answered with HTTP 500.
    pub fn server(code: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            code,
            message: message.into(),
            status: 500,
            fault: Fault::Server,
        }
    }

    /// `SerializationException`: the body is not JSON (or CBOR) of the expected shape.
    pub fn serialization(message: impl Into<String>) -> AwsError {
        AwsError::client("SerializationException", message)
    }

    /// `UnknownOperationException`: the target names no operation Spate serves.
    pub fn unknown_operation(operation: &str) -> AwsError {
        AwsError::client(
            "UnknownOperationException",
            format!("Operation {operation} is not supported by Spate"),
        )
    }

    /// The awsJson error body: `{"__type": "...", "message": "..."}`.
    pub fn to_json_body(&self) -> Vec<u8> {
        Codec::Json.error_body(self)
    }

    /// The rest-json error body of the Kinesis Video APIs: `{"Message": "..."}`, under the
    /// member name the service's model gives the message (`Message` or `message`); the type
    /// goes in the `x-amzn-ErrorType` header, where rest-json clients read it.
    pub fn to_rest_json_body(&self, message_member: &str) -> Vec<u8> {
        let mut body = serde_json::Map::new();
        body.insert(
            message_member.to_owned(),
            serde_json::Value::String(self.message.clone()),
        );
        serde_json::Value::Object(body).to_string().into_bytes()
    }

    /// The error body in the given encoding.
    pub fn to_body(&self, codec: Codec) -> Vec<u8> {
        codec.error_body(self)
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_has_type_and_lowercase_message() {
        let err = AwsError::client("ResourceNotFoundException", "Stream s not found.");
        let body: serde_json::Value =
            serde_json::from_slice(&err.to_json_body()).expect("valid json");
        assert_eq!(body["__type"], "ResourceNotFoundException");
        assert_eq!(body["message"], "Stream s not found.");
        assert_eq!(err.status, 400);
        assert_eq!(AwsError::server("InternalFailure", "x").status, 500);
    }

    #[test]
    fn rest_json_body_names_the_message_member() {
        let err = AwsError::client("ResourceNotFoundException", "no \"cam\"");
        let body: serde_json::Value =
            serde_json::from_slice(&err.to_rest_json_body("Message")).expect("valid json");
        assert_eq!(body, serde_json::json!({"Message": "no \"cam\""}));
    }
}
