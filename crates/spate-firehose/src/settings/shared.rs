//! What the destinations' settings share: the role and `S3BackupMode` checks (each
//! destination with its own modes), merging member by member and the `CloudWatchLoggingOptions`
//! description, for S3 and Redshift too; retry options and the checks of a destination's own S3
//! configuration, for Redshift (its intermediate bucket) and the HTTP-based destinations; and,
//! for the HTTP-based ones alone, buffering hints with per-destination ranges and defaults, the
//! blocks none of them implements yet, and the members their descriptions share.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use super::{
    BufferingHints, ROLE_ARN_PATTERN, S3Destination, enabled, is_role_arn, not_implemented,
};
use crate::error::FirehoseError;

/// `...RetryOptions`: how long a failing batch is retried before it goes to the error output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_in_seconds: Option<i64>,
}

/// A destination's buffering-hint ranges and defaults (model `...BufferingHints` shapes; the
/// defaults are the API reference's).
#[derive(Debug, Clone, Copy)]
pub struct HintRules {
    pub max_size_mib: i64,
    pub max_interval_secs: i64,
    pub default_size_mib: i64,
    pub default_interval_secs: i64,
}

impl HintRules {
    pub fn validate(&self, v: &mut Violations, path: &str, hints: &Option<BufferingHints>) {
        let Some(hints) = hints else { return };
        if let Some(size) = hints.size_in_mbs {
            let member = format!("{path}.bufferingHints.sizeInMBs");
            v.range(&member, size, Some(1), Some(self.max_size_mib));
        }
        if let Some(interval) = hints.interval_in_seconds {
            let member = format!("{path}.bufferingHints.intervalInSeconds");
            v.range(&member, interval, Some(0), Some(self.max_interval_secs));
        }
    }

    /// Buffer size in bytes and interval in milliseconds, defaults filled in.
    pub fn limits(&self, hints: &Option<BufferingHints>) -> (u64, u64) {
        let hints = hints.unwrap_or_default();
        let size = hints.size_in_mbs.unwrap_or(self.default_size_mib).max(1) as u64;
        let interval = hints
            .interval_in_seconds
            .unwrap_or(self.default_interval_secs)
            .max(0) as u64;
        (size << 20, interval * 1000)
    }

    pub fn description(&self, hints: &Option<BufferingHints>) -> Value {
        let hints = hints.unwrap_or_default();
        json!({
            "SizeInMBs": hints.size_in_mbs.unwrap_or(self.default_size_mib),
            "IntervalInSeconds": hints.interval_in_seconds.unwrap_or(self.default_interval_secs),
        })
    }
}

/// `RetryOptions.DurationInSeconds`, else the destination's `default`.
pub fn retry_secs(retry: &Option<RetryOptions>, default: i64) -> i64 {
    retry
        .and_then(|retry| retry.duration_in_seconds)
        .unwrap_or(default)
}

pub fn validate_retry(v: &mut Violations, path: &str, retry: &Option<RetryOptions>) {
    if let Some(seconds) = retry.and_then(|retry| retry.duration_in_seconds) {
        let member = format!("{path}.retryOptions.durationInSeconds");
        v.range(&member, seconds, Some(0), Some(7200));
    }
}

pub fn validate_role(v: &mut Violations, path: &str, role: &Option<String>, required: bool) {
    let member = format!("{path}.roleARN");
    match role {
        None if required => v.required(&member, role),
        None => {}
        Some(arn) => {
            v.string_length(&member, arn, 1, 512);
            v.pattern(&member, arn, ROLE_ARN_PATTERN, is_role_arn(arn));
        }
    }
}

/// `S3BackupMode`, one of the destination's own `modes`.
pub fn validate_backup_mode(v: &mut Violations, path: &str, mode: &Option<String>, modes: &[&str]) {
    if let Some(mode) = mode {
        v.one_of(&format!("{path}.s3BackupMode"), mode, modes);
    }
}

/// The destination's `S3Configuration` (or `S3Update`): required at create, checked as S3's.
pub fn validate_s3(v: &mut Violations, path: &str, s3: &Option<S3Destination>, create: bool) {
    match s3 {
        None if create => v.required(&format!("{path}.s3Configuration"), s3),
        None => {}
        Some(s3) => {
            let member = if create {
                "s3Configuration"
            } else {
                "s3Update"
            };
            s3.validate(v, &format!("{path}.{member}"), create);
        }
    }
}

/// Refuses the blocks no HTTP-based destination implements yet.
pub fn check_common(
    processing: &Option<Value>,
    secrets_manager: &Option<Value>,
    s3: &Option<S3Destination>,
) -> Result<(), FirehoseError> {
    if enabled(processing) {
        return Err(not_implemented("ProcessingConfiguration"));
    }
    if enabled(secrets_manager) {
        return Err(not_implemented("SecretsManagerConfiguration"));
    }
    if let Some(s3) = s3 {
        // A destination's S3Configuration is the model's S3DestinationConfiguration, which has
        // no processors: nothing in it reads the Lambda mappings of the configuration.
        s3.check(&crate::config::FirehoseConfig::default())?;
    }
    Ok(())
}

/// `new` if given, else `old`.
pub fn pick<T: Clone>(new: &Option<T>, old: &Option<T>) -> Option<T> {
    new.clone().or_else(|| old.clone())
}

/// The stored S3 configuration with an update's members applied.
pub fn merge_s3(old: &Option<S3Destination>, new: &Option<S3Destination>) -> Option<S3Destination> {
    match (old, new) {
        (Some(old), Some(new)) => Some(old.merged(new)),
        (old, new) => pick(new, old),
    }
}

/// A `CloudWatchLoggingOptions` description: as given, else disabled.
pub fn cloud_watch(options: &Option<Value>) -> Value {
    options.clone().unwrap_or_else(|| json!({"Enabled": false}))
}

/// The members the HTTP-based destinations' descriptions share, each destination's defaults
/// already applied where it has its own (`retry_secs`, `s3_backup_mode`).
#[derive(Debug)]
pub struct Described<'a> {
    pub hints: HintRules,
    pub buffering_hints: &'a Option<BufferingHints>,
    pub retry_secs: i64,
    pub s3_backup_mode: &'a str,
    pub s3: &'a Option<S3Destination>,
    pub cloud_watch_logging_options: &'a Option<Value>,
    pub processing_configuration: &'a Option<Value>,
    /// `None` for a destination without the member (OpenSearch).
    pub secrets_manager_configuration: Option<&'a Option<Value>>,
}

impl Described<'_> {
    /// `own` (the destination's own members, an object) with the shared members added:
    /// `BufferingHints`, `RetryOptions`, `S3BackupMode`, `S3DestinationDescription` and
    /// `CloudWatchLoggingOptions` always, `ProcessingConfiguration` and
    /// `SecretsManagerConfiguration` when set.
    pub fn with(self, mut own: Value) -> Value {
        debug_assert!(own.is_object(), "a description is an object");
        own["BufferingHints"] = self.hints.description(self.buffering_hints);
        own["RetryOptions"] = json!({"DurationInSeconds": self.retry_secs});
        own["S3BackupMode"] = json!(self.s3_backup_mode);
        own["S3DestinationDescription"] = self.s3.clone().unwrap_or_default().s3_description();
        own["CloudWatchLoggingOptions"] = cloud_watch(self.cloud_watch_logging_options);
        if let Some(processing) = self.processing_configuration {
            own["ProcessingConfiguration"] = processing.clone();
        }
        if let Some(Some(secrets)) = self.secrets_manager_configuration {
            own["SecretsManagerConfiguration"] = secrets.clone();
        }
        own
    }
}
