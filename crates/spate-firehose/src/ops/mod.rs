//! One module per Firehose operation: its request shape, validation, response and handler.
//! Members several operations share are checked here.

pub mod create_delivery_stream;
pub mod delete_delivery_stream;
pub mod describe_delivery_stream;
pub mod list_delivery_streams;
pub mod list_tags_for_delivery_stream;
pub mod put_record;
pub mod put_record_batch;
pub mod start_delivery_stream_encryption;
pub mod stop_delivery_stream_encryption;
pub mod tag_delivery_stream;
pub mod untag_delivery_stream;
pub mod update_destination;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::error::FirehoseError;
use crate::model::Destination;
use crate::service::FirehoseService;

pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";
pub const TAG_KEY_PATTERN: &str = "^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$";
pub const TAG_VALUE_PATTERN: &str = "^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$";
/// Tags a delivery stream may have.
pub const MAX_TAGS: usize = 50;

/// An empty response body: `{}`.
#[derive(Debug, Serialize)]
pub struct Empty {}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// `DeliveryStreamName`: 1-64 characters of `[a-zA-Z0-9_.-]`.
pub fn stream_name(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => {
            v.string_length(path, text, 1, 64);
            v.pattern(path, text, NAME_PATTERN, is_name(text));
        }
    }
}

/// The required name, after validation has run.
pub fn name_of(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

fn is_tag_text(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@%".contains(c))
}

/// One tag, as the model shapes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

pub fn tag_key(v: &mut Violations, path: &str, key: &Option<String>) {
    match key {
        None => v.required(path, key),
        Some(key) => {
            v.string_length(path, key, 1, 128);
            v.pattern(
                path,
                key,
                TAG_KEY_PATTERN,
                is_tag_text(key) && !key.starts_with("aws:"),
            );
        }
    }
}

pub fn tags(v: &mut Violations, path: &str, tags: &[Tag]) {
    let rendered = format!("[{}]", tags.len());
    v.collection_length(path, &rendered, tags.len(), 1, MAX_TAGS);
    for (index, tag) in tags.iter().enumerate() {
        let member = format!("{path}.{}.member", index + 1);
        tag_key(v, &format!("{member}.key"), &tag.key);
        if let Some(value) = &tag.value {
            let path = format!("{member}.value");
            v.string_length(&path, value, 0, 256);
            v.pattern(&path, value, TAG_VALUE_PATTERN, is_tag_text(value));
        }
    }
}

/// AWS's semantic rules and what Spate does not implement, for a destination as it would be
/// stored (after an update's merge), and whether Spate can reach its bucket and domain.
pub fn check_destination(
    service: &FirehoseService,
    destination: &Destination,
) -> Result<(), FirehoseError> {
    match destination {
        Destination::S3 { settings, .. } => {
            settings.check(&service.config)?;
            crate::convert::Conversion::from_settings(settings, &service.config)?;
        }
        Destination::HttpEndpoint(settings) => settings.check()?,
        Destination::Splunk(settings) => settings.check()?,
        Destination::OpenSearch { settings, .. } => {
            settings.check(|arn| service.config.opensearch_domains.contains_key(arn))?
        }
        Destination::Redshift { settings } => settings.check()?,
    }
    let backup = match destination {
        Destination::Redshift { settings } => settings.s3_backup.as_ref(),
        Destination::S3 { settings, .. } => settings.s3_backup.as_deref(),
        _ => None,
    };
    for bucket in [destination.s3_settings(), backup]
        .into_iter()
        .flatten()
        .filter_map(|s3| s3.bucket())
    {
        if service.s3.endpoint_of(bucket).is_none() {
            return Err(FirehoseError::InvalidArgument(format!(
                "Spate has no S3-compatible server for bucket {bucket}: start it with --s3-endpoint URL (or [firehose.s3] in its configuration)."
            )));
        }
    }
    Ok(())
}
