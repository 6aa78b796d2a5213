//! Checks of the members Data Streams operations share: names, ARNs, keys, tags.

use serde::Deserialize;
use spate_wire::Violations;

use crate::config::StreamsConfig;
use crate::error::StreamsError;

pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";
pub const STREAM_ARN_PATTERN: &str = "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+";
pub const RESOURCE_ARN_PATTERN: &str = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+";
pub const CONSUMER_ARN_PATTERN: &str = "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+";
pub const HASH_KEY_PATTERN: &str = "0|([1-9]\\d{0,38})";
pub const SEQUENCE_NUMBER_PATTERN: &str = "0|([1-9]\\d{0,128})";

/// Whether `text` is made only of `[a-zA-Z0-9_.-]` and is not empty.
pub fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A stream, consumer or shard name: 1-128 characters of `[a-zA-Z0-9_.-]`.
pub fn name(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => {
            v.string_length(path, text, 1, 128);
            v.pattern(path, text, NAME_PATTERN, is_name(text));
        }
    }
}

/// The structure shared by stream ARNs: `arn:aws*:kinesis:<region>:<12 digits>:<resource>`.
fn split_arn(text: &str) -> Option<(&str, &str, &str)> {
    let rest = text.strip_prefix("arn:aws")?;
    let (_, rest) = rest.split_once(":kinesis:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, resource) = rest.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((region, account, resource))
}

fn is_stream_arn(text: &str) -> bool {
    split_arn(text).is_some_and(|(_, _, resource)| {
        resource
            .strip_prefix("stream/")
            .is_some_and(|rest| !rest.is_empty() && !rest.chars().any(char::is_whitespace))
    })
}

pub fn stream_arn(v: &mut Violations, path: &str, value: &Option<String>) {
    if let Some(text) = value {
        v.string_length(path, text, 1, 2048);
        v.pattern(path, text, STREAM_ARN_PATTERN, is_stream_arn(text));
    }
}

fn is_consumer_arn(text: &str) -> bool {
    crate::consumers::split_consumer_arn(text).is_some_and(|(stream_arn, _, _)| {
        split_arn(stream_arn).is_some() && stream_arn.contains("stream/")
    })
}

/// A consumer ARN: `<stream ARN>/consumer/<name>:<epoch seconds>`.
pub fn consumer_arn(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => {
            v.string_length(path, text, 1, 2048);
            v.pattern(path, text, CONSUMER_ARN_PATTERN, is_consumer_arn(text));
        }
    }
}

pub fn resource_arn(v: &mut Violations, path: &str, value: &Option<String>) {
    match value {
        None => v.required(path, value),
        Some(text) => {
            v.string_length(path, text, 1, 2048);
            let matches = split_arn(text).is_some_and(|(_, _, resource)| {
                resource.contains("stream/") && !text.chars().any(char::is_whitespace)
            });
            v.pattern(path, text, RESOURCE_ARN_PATTERN, matches);
        }
    }
}

pub fn hash_key(v: &mut Violations, path: &str, value: &Option<String>) {
    if let Some(text) = value {
        let matches = text == "0"
            || (!text.is_empty()
                && text.len() <= 39
                && !text.starts_with('0')
                && text.bytes().all(|b| b.is_ascii_digit()));
        v.pattern(path, text, HASH_KEY_PATTERN, matches);
    }
}

pub fn sequence_number(v: &mut Violations, path: &str, value: &Option<String>) {
    if let Some(text) = value {
        let matches = crate::sequence::is_sequence_number_syntax(text);
        v.pattern(path, text, SEQUENCE_NUMBER_PATTERN, matches);
    }
}

/// The `StreamName` and `StreamARN` members most operations take, either or both naming the
/// stream; flattened into each request shape.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamRef {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
}

impl StreamRef {
    /// The modeled constraints of both members (neither is required by the model).
    pub fn validate(&self, v: &mut Violations) {
        name(v, "streamName", &self.stream_name, false);
        stream_arn(v, "streamARN", &self.stream_arn);
    }

    /// The name of the stream the members designate.
    pub fn resolve(&self, config: &StreamsConfig) -> Result<String, StreamsError> {
        resolve_stream_name(
            config,
            self.stream_name.as_deref(),
            self.stream_arn.as_deref(),
        )
    }
}

/// The `StreamModeDetails` member of CreateStream and UpdateStreamMode.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamModeDetails {
    pub stream_mode: Option<String>,
}

impl StreamModeDetails {
    /// `StreamMode` is required inside the structure and is one of the two modes.
    pub fn validate(&self, v: &mut Violations) {
        let path = "streamModeDetails.streamMode";
        match &self.stream_mode {
            None => v.required(path, &self.stream_mode),
            Some(mode) => v.one_of(path, mode, &["PROVISIONED", "ON_DEMAND"]),
        }
    }

    /// The mode asked for; PROVISIONED when the member is absent, as AWS defaults.
    pub fn mode(details: Option<&StreamModeDetails>) -> crate::model::StreamMode {
        match details.and_then(|d| d.stream_mode.as_deref()) {
            Some("ON_DEMAND") => crate::model::StreamMode::OnDemand,
            _ => crate::model::StreamMode::Provisioned,
        }
    }
}

/// The stream a request names by `StreamName`, `StreamARN` or both.
pub fn resolve_stream_name(
    config: &StreamsConfig,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<String, StreamsError> {
    let from_arn = match arn {
        None => None,
        Some(arn) => {
            let (region, account, resource) = split_arn(arn).ok_or_else(|| {
                StreamsError::InvalidArgument(format!("StreamARN {arn} is not a stream ARN."))
            })?;
            let stream = resource.strip_prefix("stream/").unwrap_or(resource);
            if region != config.region || account != config.account_id {
                return Err(StreamsError::ResourceNotFound(format!(
                    "Stream {stream} under account {account} not found."
                )));
            }
            Some(stream.to_string())
        }
    };
    match (name, from_arn) {
        (Some(name), Some(from_arn)) if name != from_arn => {
            Err(StreamsError::InvalidArgument(format!(
                "StreamName {name} and StreamARN {} name different streams.",
                arn.unwrap_or("")
            )))
        }
        (Some(name), _) => Ok(name.to_string()),
        (None, Some(from_arn)) => Ok(from_arn),
        (None, None) => Err(StreamsError::InvalidArgument(
            "Either StreamName or StreamARN must be provided.".to_string(),
        )),
    }
}

/// The stream named by a resource ARN (a stream ARN, or a consumer ARN under a stream).
pub fn stream_of_resource_arn(config: &StreamsConfig, arn: &str) -> Result<String, StreamsError> {
    let invalid = || StreamsError::InvalidArgument(format!("ResourceARN {arn} is not valid."));
    let (region, account, resource) = split_arn(arn).ok_or_else(invalid)?;
    let stream_part = resource.strip_prefix("stream/").ok_or_else(invalid)?;
    let stream = stream_part.split('/').next().unwrap_or(stream_part);
    if region != config.region || account != config.account_id || !is_name(stream) {
        return Err(StreamsError::ResourceNotFound(format!(
            "Stream {stream} under account {account} not found."
        )));
    }
    Ok(stream.to_string())
}

/// Tag keys and values as AWS restricts them: keys 1-128, values 0-256 characters, both from
/// letters, digits, spaces and `_ . : / = + - @`.
pub fn tag_characters_are_valid(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_arns() {
        let config = StreamsConfig::default();
        let arn = config.stream_arn("orders");
        assert_eq!(
            resolve_stream_name(&config, None, Some(&arn)).expect("valid"),
            "orders"
        );
        assert_eq!(
            resolve_stream_name(&config, Some("orders"), Some(&arn)).expect("valid"),
            "orders"
        );
        assert!(matches!(
            resolve_stream_name(&config, Some("other"), Some(&arn)),
            Err(StreamsError::InvalidArgument(_))
        ));
        assert!(matches!(
            resolve_stream_name(
                &config,
                None,
                Some("arn:aws:kinesis:eu-west-1:000000000000:stream/x")
            ),
            Err(StreamsError::ResourceNotFound(_))
        ));
        assert!(resolve_stream_name(&config, None, None).is_err());
    }

    #[test]
    fn arn_patterns() {
        assert!(is_stream_arn(
            "arn:aws:kinesis:us-east-1:123456789012:stream/a"
        ));
        assert!(!is_stream_arn("arn:aws:kinesis:us-east-1:1234:stream/a"));
        assert!(!is_stream_arn("arn:aws:s3:::bucket"));
        let config = StreamsConfig::default();
        let consumer = format!("{}/consumer/c:1700000000", config.stream_arn("s"));
        assert_eq!(
            stream_of_resource_arn(&config, &consumer).expect("valid"),
            "s"
        );
    }
}
