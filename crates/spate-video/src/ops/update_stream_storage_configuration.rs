//! UpdateStreamStorageConfiguration: a stream's `DefaultStorageTier` (HOT or WARM; stored and
//! described, all tiers are the same storage in Spate).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

/// `StreamStorageConfiguration`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Storage {
    pub default_storage_tier: Option<String>,
}

impl Storage {
    pub fn validate(&self, v: &mut Violations, path: &str) {
        super::one_of(
            v,
            &format!("{path}.defaultStorageTier"),
            &self.default_storage_tier,
            true,
            &["HOT", "WARM"],
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub current_version: Option<String>,
    pub stream_storage_configuration: Option<Storage>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::version(v, "currentVersion", &self.current_version, true);
        match &self.stream_storage_configuration {
            None => v.required(
                "streamStorageConfiguration",
                &self.stream_storage_configuration,
            ),
            Some(storage) => storage.validate(v, "streamStorageConfiguration"),
        }
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    service
        .update_stream(
            request.stream_name.as_deref(),
            request.stream_arn.as_deref(),
            &request.current_version,
            |stream| {
                if let Some(tier) = request
                    .stream_storage_configuration
                    .and_then(|storage| storage.default_storage_tier)
                {
                    stream.storage_tier = tier;
                }
                Ok(())
            },
        )
        .await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_and_version_are_required() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s"}"#).expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        let message = crate::ops::violations::<Request>(
            r#"{"StreamName":"s","CurrentVersion":"v","StreamStorageConfiguration":{}}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'streamStorageConfiguration.defaultStorageTier' failed to satisfy constraint: Member must not be null"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"StreamName":"s","CurrentVersion":"v","StreamStorageConfiguration":{"DefaultStorageTier":"WARM"}}"#
            ),
            None
        );
    }
}
