//! One module per `kinesisvideo` operation: its request shape (every member optional, so a
//! missing required member is a validation error, not a deserialisation one), validation,
//! response and handler. Member checks several operations share live here, with the model's
//! patterns as written.

pub mod create_signaling_channel;
pub mod create_stream;
pub mod delete_signaling_channel;
pub mod delete_stream;
pub mod describe_image_generation_configuration;
pub mod describe_mapped_resource_configuration;
pub mod describe_media_storage_configuration;
pub mod describe_notification_configuration;
pub mod describe_signaling_channel;
pub mod describe_stream;
pub mod describe_stream_storage_configuration;
pub mod edge;
pub mod fragment_selector;
pub mod get_clip;
pub mod get_dash_streaming_session_url;
pub mod get_data_endpoint;
pub mod get_hls_streaming_session_url;
pub mod get_images;
pub mod get_media;
pub mod get_media_for_fragment_list;
pub mod get_signaling_channel_endpoint;
pub mod list_fragments;
pub mod list_signaling_channels;
pub mod list_streams;
pub mod list_tags_for_resource;
pub mod list_tags_for_stream;
pub mod streaming_session;
pub mod tag_resource;
pub mod tag_stream;
pub mod untag_resource;
pub mod untag_stream;
pub mod update_data_retention;
pub mod update_image_generation_configuration;
pub mod update_media_storage_configuration;
pub mod update_notification_configuration;
pub mod update_signaling_channel;
pub mod update_stream;
pub mod update_stream_storage_configuration;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::error::VideoError;

/// An empty response body: `{}`.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// Tags a stream or channel may have.
pub const MAX_TAGS: usize = 50;

pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";
pub const ARN_PATTERN: &str =
    "arn:[a-z\\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/[a-zA-Z0-9_.-]+/[0-9]+";
pub const VERSION_PATTERN: &str = "[a-zA-Z0-9]+";
pub const MEDIA_TYPE_PATTERN: &str =
    "[\\w\\-\\.\\+]+/[\\w\\-\\.\\+]+(,[\\w\\-\\.\\+]+/[\\w\\-\\.\\+]+)*";
pub const TAG_KEY_PATTERN: &str = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";
pub const TAG_VALUE_PATTERN: &str = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*";
pub const NEXT_TOKEN_PATTERN: &str = "[a-zA-Z0-9+/=]*";
pub const DESTINATION_URI_PATTERN: &str = "^[a-zA-Z_0-9]+:(//)?([^/]+)/?([^*]*)$";

/// Whether `text` matches `pattern` as a whole, as the model's patterns are applied.
fn full_match(pattern: &str, text: &str) -> bool {
    static CACHE: LazyLock<parking_lot::Mutex<BTreeMap<String, Regex>>> =
        LazyLock::new(Default::default);
    let mut cache = CACHE.lock();
    if !cache.contains_key(pattern) {
        let anchored = format!(
            "^(?:{})$",
            pattern.trim_start_matches('^').trim_end_matches('$')
        );
        let regex = Regex::new(&anchored).expect("the model's patterns are valid regexes");
        cache.insert(pattern.to_owned(), regex);
    }
    cache.get(pattern).is_some_and(|regex| regex.is_match(text))
}

/// A string member: length bounds and pattern; `required` adds the null check.
pub fn string(
    v: &mut Violations,
    path: &str,
    value: &Option<String>,
    required: bool,
    (min, max): (usize, usize),
    pattern: Option<&str>,
) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => {
            v.string_length(path, text, min, max);
            if let Some(pattern) = pattern {
                v.pattern(path, text, pattern, full_match(pattern, text));
            }
        }
    }
}

/// An enumerated member.
pub fn one_of(
    v: &mut Violations,
    path: &str,
    value: &Option<String>,
    required: bool,
    allowed: &[&str],
) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => v.one_of(path, text, allowed),
    }
}

/// `StreamName` or `ChannelName`: 1-256 of `[a-zA-Z0-9_.-]`.
pub fn name(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    string(v, path, value, required, (1, 256), Some(NAME_PATTERN));
}

/// `ResourceARN`.
pub fn arn(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    string(v, path, value, required, (1, 1024), Some(ARN_PATTERN));
}

/// `Version`.
pub fn version(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    string(v, path, value, required, (1, 64), Some(VERSION_PATTERN));
}

/// `NextToken`.
pub fn next_token(v: &mut Violations, path: &str, value: &Option<String>) {
    string(v, path, value, false, (0, 1024), Some(NEXT_TOKEN_PATTERN));
}

/// An optional integer member's bounds.
pub fn range(
    v: &mut Violations,
    path: &str,
    value: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
) {
    if let Some(value) = value {
        v.range(path, value, min, max);
    }
}

/// One tag key (`TagKey`).
pub fn tag_key(v: &mut Violations, path: &str, key: &str) {
    v.string_length(path, key, 1, 128);
    v.pattern(path, key, TAG_KEY_PATTERN, full_match(TAG_KEY_PATTERN, key));
}

/// One tag value (`TagValue`).
pub fn tag_value(v: &mut Violations, path: &str, value: &str) {
    v.string_length(path, value, 0, 256);
    v.pattern(
        path,
        value,
        TAG_VALUE_PATTERN,
        full_match(TAG_VALUE_PATTERN, value),
    );
}

/// `ResourceTags`: a map of 1-50 entries.
pub fn tag_map(
    v: &mut Violations,
    path: &str,
    tags: &Option<BTreeMap<String, String>>,
    required: bool,
) {
    match tags {
        None if required => v.required(path, tags),
        None => {}
        Some(tags) => {
            v.collection_length(path, &format!("{tags:?}"), tags.len(), 1, MAX_TAGS);
            for (key, value) in tags {
                tag_key(v, &format!("{path}.{key}.key"), key);
                tag_value(v, &format!("{path}.{key}.value"), value);
            }
        }
    }
}

/// One tag of a `TagList` / `TagOnCreateList`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// A list of tags with `min`..=50 members.
pub fn tag_list(
    v: &mut Violations,
    path: &str,
    tags: &Option<Vec<Tag>>,
    required: bool,
    min: usize,
) {
    match tags {
        None if required => v.required(path, tags),
        None => {}
        Some(tags) => {
            v.collection_length(
                path,
                &format!("[{}]", tags.len()),
                tags.len(),
                min,
                MAX_TAGS,
            );
            for (index, tag) in tags.iter().enumerate() {
                let member = format!("{path}.{}.member", index + 1);
                match &tag.key {
                    None => v.required(&format!("{member}.key"), &tag.key),
                    Some(key) => tag_key(v, &format!("{member}.key"), key),
                }
                match &tag.value {
                    None => v.required(&format!("{member}.value"), &tag.value),
                    Some(value) => tag_value(v, &format!("{member}.value"), value),
                }
            }
        }
    }
}

/// `TagKeyList`: 1-50 keys.
pub fn tag_key_list(v: &mut Violations, path: &str, keys: &Option<Vec<String>>) {
    match keys {
        None => v.required(path, keys),
        Some(keys) => {
            v.collection_length(path, &format!("[{}]", keys.len()), keys.len(), 1, MAX_TAGS);
            for (index, key) in keys.iter().enumerate() {
                tag_key(v, &format!("{path}.{}.member", index + 1), key);
            }
        }
    }
}

/// Adds `added` to `tags`, refusing a result over [`MAX_TAGS`].
pub fn merge_tags(
    tags: &mut BTreeMap<String, String>,
    added: impl IntoIterator<Item = (String, String)>,
) -> Result<(), VideoError> {
    for (key, value) in added {
        tags.insert(key, value);
    }
    if tags.len() > MAX_TAGS {
        // Unverified: AWS's wording.
        return Err(VideoError::TagsPerResourceExceededLimit(format!(
            "The resource would have {} tags; a resource can have at most {MAX_TAGS}.",
            tags.len()
        )));
    }
    Ok(())
}

/// The name in a Video ARN (`arn:aws:kinesisvideo:R:A:stream/NAME/123`); `""` when there is none.
pub fn name_in_arn(arn: &str) -> &str {
    arn.split('/').nth(1).unwrap_or_default()
}

/// The resource type of a Video ARN: `stream`, `channel`, ...
pub fn kind_of_arn(arn: &str) -> &str {
    arn.split(':')
        .nth(5)
        .and_then(|resource| resource.split('/').next())
        .unwrap_or_default()
}

/// A page token: the last name returned, base64 (the model's `[a-zA-Z0-9+/=]*`).
pub fn page_token(last_name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(last_name)
}

/// The name after which a page starts.
pub fn page_start(token: Option<&str>) -> Result<Option<String>, VideoError> {
    let Some(token) = token.filter(|token| !token.is_empty()) else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| VideoError::InvalidArgument(format!("NextToken {token} is not valid.")))
}

/// Checks `CurrentVersion` against the resource's version.
pub fn check_version(current: &Option<String>, actual: &str, what: &str) -> Result<(), VideoError> {
    match current {
        Some(current) if current != actual => Err(VideoError::VersionMismatch(format!(
            "The version {current} of {what} does not match its current version {actual}."
        ))),
        _ => Ok(()),
    }
}

/// Refuses a configuration whose `Status` is ENABLED: Spate stores these configurations but
/// does not act on them in the background (`what` says what it would have to do).
pub fn refuse_enabled(operation: &str, status: Option<&str>, what: &str) -> Result<(), VideoError> {
    if status == Some("ENABLED") {
        return Err(VideoError::NotSupported(format!(
            "{operation} with Status ENABLED is not supported by Spate: {what}; store it with Status DISABLED."
        )));
    }
    Ok(())
}

/// Validation of a request body, for the operations' tests: the message, or `None` if valid.
#[cfg(test)]
pub(crate) fn violations<T: serde::de::DeserializeOwned + crate::api::Validate>(
    body: &str,
) -> Option<String> {
    let request: T = serde_json::from_str(body).expect("test bodies are JSON of the shape");
    let mut v = Violations::new();
    request.validate(&mut v);
    v.finish().err().map(|violations| violations.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: impl Fn(&mut Violations)) -> Result<(), Violations> {
        let mut v = Violations::new();
        f(&mut v);
        v.finish()
    }

    #[test]
    fn patterns_match_whole_values() {
        assert!(full_match(NAME_PATTERN, "cam-1.a_b"));
        assert!(!full_match(NAME_PATTERN, "cam 1"));
        assert!(full_match(MEDIA_TYPE_PATTERN, "video/h264,audio/aac"));
        assert!(!full_match(MEDIA_TYPE_PATTERN, "video"));
        assert!(full_match(
            ARN_PATTERN,
            "arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/1700000000000"
        ));
        assert!(!full_match(
            ARN_PATTERN,
            "arn:aws:kinesis:us-east-1:0:stream/cam"
        ));
        assert!(full_match(TAG_KEY_PATTERN, "team name:é"));
        assert!(!full_match(TAG_KEY_PATTERN, "a*b"));
    }

    #[test]
    fn tag_lists_are_bounded_and_complete() {
        let tags = Some(vec![Tag {
            key: Some("k".into()),
            value: None,
        }]);
        let err = check(|v| tag_list(v, "tags", &tags, true, 1)).expect_err("value required");
        assert!(err.message().contains("tags.1.member.value"));
        let many: BTreeMap<String, String> =
            (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert!(check(|v| tag_map(v, "tags", &Some(many.clone()), true)).is_err());
        let mut tags = BTreeMap::new();
        assert!(matches!(
            merge_tags(&mut tags, many),
            Err(VideoError::TagsPerResourceExceededLimit(_))
        ));
    }

    #[test]
    fn arns_name_their_resource_and_tokens_round_trip() {
        let arn = "arn:aws:kinesisvideo:us-east-1:000000000000:channel/door/17";
        assert_eq!((kind_of_arn(arn), name_in_arn(arn)), ("channel", "door"));
        let token = page_token("cam-9");
        assert_eq!(
            page_start(Some(&token)).expect("valid"),
            Some("cam-9".to_owned())
        );
        assert!(page_start(Some("!!")).is_err());
        assert!(check_version(&Some("a".into()), "b", "stream s").is_err());
        assert!(check_version(&None, "b", "stream s").is_ok());
    }
}
