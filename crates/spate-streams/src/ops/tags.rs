//! Tag rules shared by the stream-tag and resource-tag operations.

use std::collections::BTreeMap;

use spate_wire::Violations;

use super::consumer_ref::ConsumerRef;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation::tag_characters_are_valid;

/// Tags a stream may carry.
pub const MAX_TAGS_PER_STREAM: usize = 50;

fn render(tags: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// Modeled limits of a tag map: 1-200 entries, keys 1-128 and values 0-256 characters.
pub fn validate_map(v: &mut Violations, path: &str, tags: &BTreeMap<String, String>) {
    v.collection_length(path, &render(tags), tags.len(), 1, 200);
    for (key, value) in tags {
        v.string_length(&format!("{path}.key"), key, 1, 128);
        v.string_length(&format!("{path}.value"), value, 0, 256);
    }
}

/// Modeled limits of a tag key list: 1-50 keys of 1-128 characters.
pub fn validate_keys(v: &mut Violations, path: &str, keys: &[String]) {
    v.collection_length(path, &format!("[{}]", keys.join(", ")), keys.len(), 1, 50);
    for (index, key) in keys.iter().enumerate() {
        v.string_length(&format!("{path}.{}.member", index + 1), key, 1, 128);
    }
}

/// Characters and the per-stream count, which AWS checks beyond the model.
pub fn check_semantics(
    service: &StreamsService,
    stream: &str,
    adding: &BTreeMap<String, String>,
    existing_after_merge: usize,
) -> Result<(), StreamsError> {
    let account = &service.config.account_id;
    if adding
        .iter()
        .any(|(k, v)| !tag_characters_are_valid(k) || !tag_characters_are_valid(v))
    {
        return Err(StreamsError::InvalidArgument(
            "Some tags contain invalid characters. Valid characters: Unicode letters, digits, \
             white space, _ . / = + - % @."
                .to_string(),
        ));
    }
    if adding.keys().any(|k| k.starts_with("aws:")) {
        return Err(StreamsError::InvalidArgument(
            "Some tags contain the reserved prefix aws:.".to_string(),
        ));
    }
    if existing_after_merge.max(adding.len()) > MAX_TAGS_PER_STREAM {
        return Err(StreamsError::InvalidArgument(format!(
            "Failed to add tags to stream {stream} under account {account} because a given \
             stream cannot have more than {MAX_TAGS_PER_STREAM} tags."
        )));
    }
    Ok(())
}

/// Adds or overwrites tags on an ACTIVE stream.
pub async fn add(
    service: &StreamsService,
    stream_name: &str,
    tags: BTreeMap<String, String>,
) -> Result<(), StreamsError> {
    let guard = service.registry.lock().await;
    let stream = service.active_stream(stream_name)?;
    let mut updated = service.settled(&stream);
    updated
        .tags
        .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    check_semantics(service, stream_name, &tags, updated.tags.len())?;
    service.registry.save(&guard, updated).await?;
    Ok(())
}

/// Removes tags from an ACTIVE stream; absent keys are ignored.
pub async fn remove(
    service: &StreamsService,
    stream_name: &str,
    keys: &[String],
) -> Result<(), StreamsError> {
    let guard = service.registry.lock().await;
    let stream = service.active_stream(stream_name)?;
    let mut updated = service.settled(&stream);
    for key in keys {
        updated.tags.remove(key);
    }
    service.registry.save(&guard, updated).await?;
    Ok(())
}

/// Adds or overwrites tags on a consumer that exists now.
pub async fn add_on_consumer(
    service: &StreamsService,
    consumer: &ConsumerRef,
    tags: BTreeMap<String, String>,
) -> Result<(), StreamsError> {
    let guard = service.registry.lock().await;
    let (stream, found) = consumer.resolve(service)?;
    let mut updated = (*found).clone();
    updated
        .tags
        .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    check_semantics(service, &stream.name, &tags, updated.tags.len())?;
    service.consumers.save(&guard, updated).await?;
    Ok(())
}

/// Removes tags from a consumer that exists now; absent keys are ignored.
pub async fn remove_on_consumer(
    service: &StreamsService,
    consumer: &ConsumerRef,
    keys: &[String],
) -> Result<(), StreamsError> {
    let guard = service.registry.lock().await;
    let (_, found) = consumer.resolve(service)?;
    let mut updated = (*found).clone();
    for key in keys {
        updated.tags.remove(key);
    }
    service.consumers.save(&guard, updated).await?;
    Ok(())
}
