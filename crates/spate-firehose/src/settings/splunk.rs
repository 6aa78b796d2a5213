//! The Splunk destination as configured (`SplunkDestinationConfiguration`, its `...Update`),
//! merged with updates, and described (`SplunkDestinationDescription`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use super::shared::{self, HintRules, RetryOptions, pick};
use super::{BufferingHints, S3Destination};
use crate::error::FirehoseError;

/// Model `SplunkBufferingHints` (1-5 MiB, 0-60 s); defaults 5 MiB and 60 s.
pub const HINTS: HintRules = HintRules {
    max_size_mib: 5,
    max_interval_secs: 60,
    default_size_mib: 5,
    default_interval_secs: 60,
};
/// Default `RetryOptions.DurationInSeconds` (API reference: 3600).
pub const DEFAULT_RETRY_SECS: i64 = 3600;
/// Default `HECAcknowledgmentTimeoutInSeconds` (API reference: 180, the minimum).
pub const DEFAULT_ACK_TIMEOUT_SECS: i64 = 180;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SplunkDestination {
    #[serde(rename = "HECEndpoint", skip_serializing_if = "Option::is_none")]
    pub hec_endpoint: Option<String>,
    #[serde(rename = "HECEndpointType", skip_serializing_if = "Option::is_none")]
    pub hec_endpoint_type: Option<String>,
    #[serde(rename = "HECToken", skip_serializing_if = "Option::is_none")]
    pub hec_token: Option<String>,
    #[serde(
        rename = "HECAcknowledgmentTimeoutInSeconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub hec_ack_timeout_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_options: Option<RetryOptions>,
    #[serde(rename = "S3BackupMode", skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    #[serde(
        rename = "S3Configuration",
        alias = "S3Update",
        skip_serializing_if = "Option::is_none"
    )]
    pub s3: Option<S3Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets_manager_configuration: Option<Value>,
}

impl SplunkDestination {
    pub fn validate(&self, v: &mut Violations, path: &str, create: bool) {
        let member = format!("{path}.hECEndpoint");
        match &self.hec_endpoint {
            None if create => v.required(&member, &self.hec_endpoint),
            None => {}
            Some(endpoint) => v.string_length(&member, endpoint, 0, 2048),
        }
        let member = format!("{path}.hECEndpointType");
        match &self.hec_endpoint_type {
            None if create => v.required(&member, &self.hec_endpoint_type),
            None => {}
            Some(kind) => v.one_of(&member, kind, &["Raw", "Event"]),
        }
        if let Some(token) = &self.hec_token {
            v.string_length(&format!("{path}.hECToken"), token, 0, 2048);
        }
        if let Some(timeout) = self.hec_ack_timeout_secs {
            let member = format!("{path}.hECAcknowledgmentTimeoutInSeconds");
            v.range(&member, timeout, Some(180), Some(600));
        }
        shared::validate_retry(v, path, &self.retry_options);
        let modes = ["FailedEventsOnly", "AllEvents"];
        shared::validate_backup_mode(v, path, &self.s3_backup_mode, &modes);
        HINTS.validate(v, path, &self.buffering_hints);
        shared::validate_s3(v, path, &self.s3, create);
    }

    pub fn check(&self) -> Result<(), FirehoseError> {
        if self.hec_token.is_none() && self.secrets_manager_configuration.is_none() {
            return Err(FirehoseError::InvalidArgument(
                "Either HECToken or SecretsManagerConfiguration must be specified.".into(),
            ));
        }
        shared::check_common(
            &self.processing_configuration,
            &self.secrets_manager_configuration,
            &self.s3,
        )
    }

    /// AWS: the backup mode may go from FailedEventsOnly to AllEvents, not back.
    pub fn check_update(&self, update: &SplunkDestination) -> Result<(), FirehoseError> {
        if self.all_events() && update.s3_backup_mode.as_deref() == Some("FailedEventsOnly") {
            return Err(FirehoseError::InvalidArgument(
                "S3BackupMode cannot be changed from AllEvents to FailedEventsOnly.".into(),
            ));
        }
        Ok(())
    }

    pub fn merged(&self, update: &SplunkDestination) -> SplunkDestination {
        SplunkDestination {
            hec_endpoint: pick(&update.hec_endpoint, &self.hec_endpoint),
            hec_endpoint_type: pick(&update.hec_endpoint_type, &self.hec_endpoint_type),
            hec_token: pick(&update.hec_token, &self.hec_token),
            hec_ack_timeout_secs: pick(&update.hec_ack_timeout_secs, &self.hec_ack_timeout_secs),
            retry_options: pick(&update.retry_options, &self.retry_options),
            s3_backup_mode: pick(&update.s3_backup_mode, &self.s3_backup_mode),
            s3: shared::merge_s3(&self.s3, &update.s3),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            buffering_hints: pick(&update.buffering_hints, &self.buffering_hints),
            secrets_manager_configuration: pick(
                &update.secrets_manager_configuration,
                &self.secrets_manager_configuration,
            ),
        }
    }

    pub fn raw(&self) -> bool {
        self.hec_endpoint_type.as_deref() == Some("Raw")
    }

    pub fn ack_timeout_secs(&self) -> i64 {
        self.hec_ack_timeout_secs
            .unwrap_or(DEFAULT_ACK_TIMEOUT_SECS)
    }

    pub fn retry_secs(&self) -> i64 {
        shared::retry_secs(&self.retry_options, DEFAULT_RETRY_SECS)
    }

    pub fn all_events(&self) -> bool {
        self.s3_backup_mode.as_deref() == Some("AllEvents")
    }

    pub fn buffer_limits(&self) -> (u64, u64) {
        HINTS.limits(&self.buffering_hints)
    }

    /// The `SplunkDestinationDescription` shape.
    pub fn description(&self) -> Value {
        let mut own = json!({
            "HECEndpoint": self.hec_endpoint,
            "HECEndpointType": self.hec_endpoint_type,
            "HECAcknowledgmentTimeoutInSeconds": self.ack_timeout_secs(),
        });
        if let Some(token) = &self.hec_token {
            own["HECToken"] = json!(token);
        }
        shared::Described {
            hints: HINTS,
            buffering_hints: &self.buffering_hints,
            retry_secs: self.retry_secs(),
            s3_backup_mode: self.s3_backup_mode.as_deref().unwrap_or("FailedEventsOnly"),
            s3: &self.s3,
            cloud_watch_logging_options: &self.cloud_watch_logging_options,
            processing_configuration: &self.processing_configuration,
            secrets_manager_configuration: Some(&self.secrets_manager_configuration),
        }
        .with(own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_fills_defaults() {
        let destination: SplunkDestination = serde_json::from_value(json!({
            "HECEndpoint": "https://splunk:8088", "HECEndpointType": "Event", "HECToken": "t",
            "S3Configuration": {"BucketARN": "arn:aws:s3:::b"}
        }))
        .expect("parses");
        let description = destination.description();
        assert_eq!(description["HECAcknowledgmentTimeoutInSeconds"], 180);
        assert_eq!(description["RetryOptions"]["DurationInSeconds"], 3600);
        assert_eq!(description["S3BackupMode"], "FailedEventsOnly");
        assert_eq!(
            description["BufferingHints"],
            json!({"SizeInMBs": 5, "IntervalInSeconds": 60})
        );
    }

    #[test]
    fn description_returns_every_member_given() {
        let destination: SplunkDestination = serde_json::from_value(json!({
            "HECEndpoint": "https://splunk:8088", "HECEndpointType": "Raw", "HECToken": "t",
            "HECAcknowledgmentTimeoutInSeconds": 300, "RetryOptions": {"DurationInSeconds": 10},
            "S3BackupMode": "AllEvents", "S3Configuration": {"BucketARN": "arn:aws:s3:::b"},
            "ProcessingConfiguration": {"Enabled": false},
            "CloudWatchLoggingOptions": {"Enabled": true},
            "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 30},
            "SecretsManagerConfiguration": {"Enabled": false}
        }))
        .expect("parses");
        let s3 = destination.s3.clone().expect("set").s3_description();
        assert_eq!(
            destination.description(),
            json!({
                "HECEndpoint": "https://splunk:8088", "HECEndpointType": "Raw", "HECToken": "t",
                "HECAcknowledgmentTimeoutInSeconds": 300,
                "RetryOptions": {"DurationInSeconds": 10},
                "S3BackupMode": "AllEvents", "S3DestinationDescription": s3,
                "ProcessingConfiguration": {"Enabled": false},
                "CloudWatchLoggingOptions": {"Enabled": true},
                "BufferingHints": {"SizeInMBs": 2, "IntervalInSeconds": 30},
                "SecretsManagerConfiguration": {"Enabled": false}
            })
        );
    }

    #[test]
    fn backup_mode_cannot_go_back_to_failed_events_only() {
        let all: SplunkDestination =
            serde_json::from_value(json!({"S3BackupMode": "AllEvents"})).expect("parses");
        let back: SplunkDestination =
            serde_json::from_value(json!({"S3BackupMode": "FailedEventsOnly"})).expect("parses");
        assert!(all.check_update(&back).is_err());
        assert!(back.check_update(&all).is_ok());
    }
}
