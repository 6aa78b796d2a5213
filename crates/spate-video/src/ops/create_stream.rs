//! CreateStream: a new stream, CREATING until `create_delay_ms` has passed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{Lifecycle, StreamMeta, new_version};
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub device_name: Option<String>,
    pub stream_name: Option<String>,
    pub media_type: Option<String>,
    pub kms_key_id: Option<String>,
    pub data_retention_in_hours: Option<i64>,
    pub tags: Option<BTreeMap<String, String>>,
    pub stream_storage_configuration: Option<super::update_stream_storage_configuration::Storage>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::string(
            v,
            "deviceName",
            &self.device_name,
            false,
            (1, 128),
            Some(super::NAME_PATTERN),
        );
        super::name(v, "streamName", &self.stream_name, true);
        super::string(
            v,
            "mediaType",
            &self.media_type,
            false,
            (1, 128),
            Some(super::MEDIA_TYPE_PATTERN),
        );
        super::string(
            v,
            "kmsKeyId",
            &self.kms_key_id,
            false,
            (1, 2048),
            Some(".+"),
        );
        super::range(
            v,
            "dataRetentionInHours",
            self.data_retention_in_hours,
            Some(0),
            None,
        );
        super::tag_map(v, "tags", &self.tags, false);
        if let Some(storage) = &self.stream_storage_configuration {
            storage.validate(v, "streamStorageConfiguration");
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}

/// The longest retention, in hours (ten years).
pub const MAX_RETENTION_HOURS: i64 = 87_600;

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let name = request.stream_name.unwrap_or_default();
    let retention_hours = request.data_retention_in_hours.unwrap_or(0);
    if retention_hours > MAX_RETENTION_HOURS {
        return Err(VideoError::InvalidArgument(format!(
            "DataRetentionInHours {retention_hours} is over the maximum of {MAX_RETENTION_HOURS}."
        )));
    }
    let _control = service.control.lock().await;
    let live = service.live_streams();
    if live.iter().any(|(stream, _)| stream.name == name) {
        // Unverified: AWS's wording.
        return Err(VideoError::ResourceInUse(format!(
            "The stream {name} already exists."
        )));
    }
    if live.len() >= service.config.stream_limit {
        return Err(VideoError::AccountStreamLimitExceeded(format!(
            "The account already has {} streams, the limit ([video] stream_limit).",
            live.len()
        )));
    }
    let logs = service.allocate_logs().await?;
    service.store.create(logs.stream_logs())?;
    let now = service.now_ms();
    let stream = StreamMeta {
        arn: service.config.arn("stream", &name, now),
        name,
        version: new_version(),
        lifecycle: Lifecycle::creating(now, service.config.create_delay_ms),
        created_ms: now,
        retention_hours,
        device_name: request.device_name,
        media_type: request.media_type,
        kms_key_id: request
            .kms_key_id
            .unwrap_or_else(|| service.config.default_kms_key()),
        tags: request.tags.unwrap_or_default(),
        storage_tier: request
            .stream_storage_configuration
            .and_then(|storage| storage.default_storage_tier)
            .unwrap_or_else(|| "HOT".to_owned()),
        image_generation: None,
        notification: None,
        logs: Some(logs),
    };
    let stream_arn = stream.arn.clone();
    service.store_stream(stream).await?;
    Ok(Response { stream_arn })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(body: &str) -> Option<String> {
        crate::ops::violations::<Request>(body)
    }

    #[test]
    fn validation_follows_the_model() {
        assert_eq!(
            violations(r#"{"StreamName":"cam-1","MediaType":"video/h264"}"#),
            None
        );
        let message = violations(r#"{}"#).expect("name required");
        assert!(
            message.contains("'streamName' failed to satisfy constraint: Member must not be null")
        );
        let message =
            violations(r#"{"StreamName":"a b","MediaType":"h264","DataRetentionInHours":-1}"#)
                .expect("three violations");
        assert!(
            message.starts_with("3 validation errors detected"),
            "{message}"
        );
        let message = violations(
            r#"{"StreamName":"s","StreamStorageConfiguration":{"DefaultStorageTier":"COLD"}}"#,
        )
        .expect("enum");
        assert!(message.contains("enum value set: [HOT, WARM]"), "{message}");
    }
}
