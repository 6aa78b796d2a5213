//! The S3 destination settings (and, in `redshift`, the Redshift destination's) a delivery stream keeps: the request's configuration, as given,
//! merged with updates, and rendered back as AWS's description with its defaults filled in.
//!
//! One type serves `S3DestinationConfiguration`, `ExtendedS3DestinationConfiguration` and their
//! `...Update` shapes: every member is optional, so a create request, a stored value and an
//! update read alike. Members Spate does not act on yet are refused by [`S3Destination::check`]
//! with `InvalidArgumentException` naming them, never stored and ignored.

pub mod http_endpoint;
pub mod opensearch;
pub mod shared;
pub mod splunk;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::compress::Compression;
use crate::config::FirehoseConfig;
use crate::error::FirehoseError;
use crate::keys::PartitionKeySource;
use crate::processing::Pipeline;
use shared::pick;

pub mod redshift;

/// Buffer size default and range for S3 destinations, MiB (model `BufferingHints`).
pub const DEFAULT_SIZE_MIB: i64 = 5;
/// Buffer interval default for S3 destinations, seconds.
pub const DEFAULT_INTERVAL_SECS: i64 = 300;

pub const ROLE_ARN_PATTERN: &str = "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+";
pub const BUCKET_ARN_PATTERN: &str = "arn:.*:s3:::[\\w\\.\\-]{1,255}";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BufferingHints {
    #[serde(rename = "SizeInMBs", skip_serializing_if = "Option::is_none")]
    pub size_in_mbs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_in_seconds: Option<i64>,
}

/// An S3 (or extended S3) destination as configured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Destination {
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(rename = "BucketARN", skip_serializing_if = "Option::is_none")]
    pub bucket_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_output_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_configuration: Option<Value>,
    /// Kept and returned: Spate has no CloudWatch to log to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    #[serde(rename = "S3BackupMode", skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    #[serde(
        rename = "S3BackupConfiguration",
        alias = "S3BackupUpdate",
        skip_serializing_if = "Option::is_none"
    )]
    pub s3_backup: Option<Box<S3Destination>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_format_conversion_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_partitioning_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_time_zone: Option<String>,
}

/// Whether an optional `{"Enabled": ...}` block is switched on (absent `Enabled` means on, as
/// AWS reads these blocks).
pub(crate) fn enabled(block: &Option<Value>) -> bool {
    match block {
        None | Some(Value::Null) => false,
        Some(value) => value
            .get("Enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}

pub(crate) fn not_implemented(member: &str) -> FirehoseError {
    FirehoseError::InvalidArgument(format!(
        "{member} is not supported by Spate yet; remove it or disable it."
    ))
}

impl S3Destination {
    /// The modeled constraints of the members present; `path` is the member's own path.
    pub fn validate(&self, v: &mut Violations, path: &str, create: bool) {
        shared::validate_role(v, path, &self.role_arn, create);
        match &self.bucket_arn {
            None if create => v.required(&format!("{path}.bucketARN"), &self.bucket_arn),
            None => {}
            Some(arn) => {
                let member = format!("{path}.bucketARN");
                v.string_length(&member, arn, 1, 2048);
                v.pattern(&member, arn, BUCKET_ARN_PATTERN, bucket_name(arn).is_some());
            }
        }
        if let Some(prefix) = &self.prefix {
            v.string_length(&format!("{path}.prefix"), prefix, 0, 1024);
        }
        if let Some(prefix) = &self.error_output_prefix {
            v.string_length(&format!("{path}.errorOutputPrefix"), prefix, 0, 1024);
        }
        if let Some(hints) = &self.buffering_hints {
            if let Some(size) = hints.size_in_mbs {
                v.range(
                    &format!("{path}.bufferingHints.sizeInMBs"),
                    size,
                    Some(1),
                    Some(128),
                );
            }
            if let Some(interval) = hints.interval_in_seconds {
                v.range(
                    &format!("{path}.bufferingHints.intervalInSeconds"),
                    interval,
                    Some(0),
                    Some(900),
                );
            }
        }
        if let Some(format) = &self.compression_format {
            v.one_of(
                &format!("{path}.compressionFormat"),
                format,
                &["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"],
            );
        }
        shared::validate_backup_mode(v, path, &self.s3_backup_mode, &["Disabled", "Enabled"]);
        if let Some(extension) = &self.file_extension {
            let member = format!("{path}.fileExtension");
            v.string_length(&member, extension, 0, 128);
            v.pattern(
                &member,
                extension,
                "^$|\\.[0-9a-z!\\-_.*'()]+",
                is_file_extension(extension),
            );
        }
        if let Some(zone) = &self.custom_time_zone {
            v.string_length(&format!("{path}.customTimeZone"), zone, 0, 50);
        }
        if let Some(processing) = &self.processing_configuration {
            crate::processing::validate(processing, v, &format!("{path}.processingConfiguration"));
        }
        if let Some(conversion) = &self.data_format_conversion_configuration {
            crate::convert::validate_model(
                v,
                &format!("{path}.dataFormatConversionConfiguration"),
                conversion,
            );
        }
        if let Some(backup) = &self.s3_backup {
            backup.validate(v, &format!("{path}.s3BackupConfiguration"), create);
        }
    }

    /// Whether `DynamicPartitioningConfiguration` is on.
    pub fn dynamic_partitioning(&self) -> bool {
        enabled(&self.dynamic_partitioning_configuration)
    }

    /// The record processors, checked; `None` when processing is off.
    pub fn pipeline(&self, config: &FirehoseConfig) -> Result<Option<Pipeline>, FirehoseError> {
        Pipeline::build(
            self.processing_configuration.as_ref(),
            self.dynamic_partitioning(),
            config,
        )
    }

    /// Refuses what Spate does not do yet, and AWS's semantic rules (`InvalidArgumentException`).
    pub fn check(&self, config: &FirehoseConfig) -> Result<(), FirehoseError> {
        if let Some(hints) = &self.buffering_hints
            && hints.size_in_mbs.is_some() != hints.interval_in_seconds.is_some()
        {
            return Err(FirehoseError::InvalidArgument(
                "BufferingHints must specify both SizeInMBs and IntervalInSeconds.".into(),
            ));
        }
        if let Some(encryption) = &self.encryption_configuration
            && encryption
                .get("KMSEncryptionConfig")
                .is_some_and(|v| !v.is_null())
        {
            return Err(not_implemented(
                "EncryptionConfiguration.KMSEncryptionConfig",
            ));
        }
        let pipeline = self.pipeline(config)?;
        let dynamic_partitioning = self.dynamic_partitioning();
        if dynamic_partitioning {
            self.check_dynamic_partitioning(pipeline.as_ref())?;
        }
        if self.s3_backup_mode.as_deref() == Some("Enabled") {
            let Some(backup) = &self.s3_backup else {
                return Err(FirehoseError::InvalidArgument(
                    "S3BackupConfiguration is required when S3BackupMode is Enabled.".into(),
                ));
            };
            backup.check(config)?;
        }
        if let Some(zone) = &self.custom_time_zone
            && !zone.is_empty()
            && zone != "UTC"
        {
            return Err(not_implemented("CustomTimeZone other than UTC"));
        }
        crate::keys::validate_prefixes(
            self.prefix.as_deref(),
            self.error_output_prefix.as_deref(),
            dynamic_partitioning,
        )
        .map_err(|err| FirehoseError::InvalidArgument(err.to_string()))?;
        Ok(())
    }

    /// Dynamic partitioning's rules beyond the prefixes': the `partitionKeyFrom*` expressions
    /// of the prefix need a processor that gives their values (unverified wording).
    fn check_dynamic_partitioning(&self, pipeline: Option<&Pipeline>) -> Result<(), FirehoseError> {
        if let Some(options) = self
            .dynamic_partitioning_configuration
            .as_ref()
            .and_then(|c| c.get("RetryOptions"))
            .and_then(|o| o.get("DurationInSeconds"))
            && !options
                .as_i64()
                .is_some_and(|secs| (0..=7200).contains(&secs))
        {
            return Err(FirehoseError::InvalidArgument(
                "DynamicPartitioningConfiguration.RetryOptions.DurationInSeconds must be between 0 and 7200.".into(),
            ));
        }
        let Ok(prefixes) = crate::keys::validate_prefixes(
            self.prefix.as_deref(),
            self.error_output_prefix.as_deref(),
            true,
        ) else {
            // validate_prefixes in check reports the error.
            return Ok(());
        };
        let Some(prefix) = prefixes.prefix else {
            return Ok(());
        };
        for (source, key) in prefix.partition_keys() {
            let missing = match source {
                PartitionKeySource::Query => pipeline.is_none_or(|p| p.extraction.is_none()),
                PartitionKeySource::Lambda => pipeline.is_none_or(|p| p.lambda.is_none()),
            };
            if missing {
                let (namespace, processor) = match source {
                    PartitionKeySource::Query => ("partitionKeyFromQuery", "MetadataExtraction"),
                    PartitionKeySource::Lambda => ("partitionKeyFromLambda", "Lambda"),
                };
                return Err(FirehoseError::InvalidArgument(format!(
                    "Prefix uses !{{{namespace}:{key}}} but ProcessingConfiguration has no enabled {processor} processor."
                )));
            }
        }
        Ok(())
    }

    /// This destination with the members `update` sets replaced.
    pub fn merged(&self, update: &S3Destination) -> S3Destination {
        S3Destination {
            role_arn: pick(&update.role_arn, &self.role_arn),
            bucket_arn: pick(&update.bucket_arn, &self.bucket_arn),
            prefix: pick(&update.prefix, &self.prefix),
            error_output_prefix: pick(&update.error_output_prefix, &self.error_output_prefix),
            buffering_hints: pick(&update.buffering_hints, &self.buffering_hints),
            compression_format: pick(&update.compression_format, &self.compression_format),
            encryption_configuration: pick(
                &update.encryption_configuration,
                &self.encryption_configuration,
            ),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            s3_backup_mode: pick(&update.s3_backup_mode, &self.s3_backup_mode),
            s3_backup: match (&self.s3_backup, &update.s3_backup) {
                (Some(old), Some(new)) => Some(Box::new(old.merged(new))),
                (old, new) => pick(new, old),
            },
            data_format_conversion_configuration: pick(
                &update.data_format_conversion_configuration,
                &self.data_format_conversion_configuration,
            ),
            dynamic_partitioning_configuration: pick(
                &update.dynamic_partitioning_configuration,
                &self.dynamic_partitioning_configuration,
            ),
            file_extension: pick(&update.file_extension, &self.file_extension),
            custom_time_zone: pick(&update.custom_time_zone, &self.custom_time_zone),
        }
    }

    /// The bucket name of `BucketARN`.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket_arn.as_deref().and_then(bucket_name)
    }

    /// Whether records are converted to Parquet or ORC.
    pub fn converts(&self) -> bool {
        crate::convert::is_enabled(self.data_format_conversion_configuration.as_ref())
    }

    /// The buffer size when no hints give it: 5 MiB, or 128 MiB with conversion (whose
    /// minimum is 64).
    fn default_size_mib(&self) -> i64 {
        if self.converts() {
            crate::convert::DEFAULT_SIZE_MIB_WITH_CONVERSION
        } else {
            DEFAULT_SIZE_MIB
        }
    }

    /// Buffer size in bytes and interval in milliseconds, AWS's defaults filled in.
    pub fn buffer_limits(&self) -> (u64, u64) {
        let hints = self.buffering_hints.unwrap_or_default();
        let size = hints.size_in_mbs.unwrap_or(self.default_size_mib()).max(1) as u64;
        let interval = hints
            .interval_in_seconds
            .unwrap_or(DEFAULT_INTERVAL_SECS)
            .max(0) as u64;
        (size << 20, interval * 1000)
    }

    pub fn compression(&self) -> Compression {
        self.compression_format
            .as_deref()
            .and_then(Compression::from_model)
            .unwrap_or(Compression::Uncompressed)
    }

    /// The extension of delivered objects: `FileExtension` if given, else the output format's
    /// (`conversion_extension`, when records are converted) or the compression's.
    pub fn extension(&self, conversion_extension: Option<&str>) -> String {
        match (&self.file_extension, conversion_extension) {
            (Some(extension), _) if !extension.is_empty() => extension.clone(),
            (_, Some(extension)) => extension.to_owned(),
            _ => self.compression().file_extension().to_owned(),
        }
    }

    /// The `S3DestinationDescription` shape.
    pub fn s3_description(&self) -> Value {
        let hints = self.buffering_hints.unwrap_or_default();
        let mut out = json!({
            "RoleARN": self.role_arn,
            "BucketARN": self.bucket_arn,
            "Prefix": self.prefix.clone().unwrap_or_default(),
            "BufferingHints": {
                "SizeInMBs": hints.size_in_mbs.unwrap_or(self.default_size_mib()),
                "IntervalInSeconds": hints.interval_in_seconds.unwrap_or(DEFAULT_INTERVAL_SECS),
            },
            "CompressionFormat": self.compression().model_name(),
            "EncryptionConfiguration": self
                .encryption_configuration
                .clone()
                .unwrap_or_else(|| json!({"NoEncryptionConfig": "NoEncryption"})),
            "CloudWatchLoggingOptions": shared::cloud_watch(&self.cloud_watch_logging_options),
        });
        if let Some(prefix) = &self.error_output_prefix {
            out["ErrorOutputPrefix"] = json!(prefix);
        }
        out
    }

    /// The `ExtendedS3DestinationDescription` shape.
    pub fn extended_s3_description(&self) -> Value {
        let mut out = self.s3_description();
        out["S3BackupMode"] = json!(self.s3_backup_mode.as_deref().unwrap_or("Disabled"));
        for (member, value) in [
            ("ProcessingConfiguration", &self.processing_configuration),
            (
                "DataFormatConversionConfiguration",
                &self.data_format_conversion_configuration,
            ),
            (
                "DynamicPartitioningConfiguration",
                &self.dynamic_partitioning_configuration,
            ),
        ] {
            if let Some(value) = value {
                out[member] = value.clone();
            }
        }
        if let Some(backup) = &self.s3_backup {
            out["S3BackupDescription"] = backup.s3_description();
        }
        if let Some(extension) = &self.file_extension {
            out["FileExtension"] = json!(extension);
        }
        if let Some(zone) = &self.custom_time_zone {
            out["CustomTimeZone"] = json!(zone);
        }
        out
    }
}

pub fn is_role_arn(text: &str) -> bool {
    text.starts_with("arn:")
        && text.split_once(":iam::").is_some_and(|(_, rest)| {
            rest.split_once(":role/").is_some_and(|(account, role)| {
                account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !role.is_empty()
                    && role
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
            })
        })
}

/// The bucket of `arn:<partition>:s3:::<bucket>`, if the ARN has that form.
pub fn bucket_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, bucket) = rest.split_once(":s3:::")?;
    let valid = (1..=255).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    valid.then_some(bucket)
}

fn is_file_extension(text: &str) -> bool {
    text.is_empty()
        || text.strip_prefix('.').is_some_and(|rest| {
            !rest.is_empty()
                && rest.bytes().all(|b| {
                    b.is_ascii_digit() || b.is_ascii_lowercase() || b"!-_.*'()".contains(&b)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_and_role_arns_are_recognised() {
        assert_eq!(bucket_name("arn:aws:s3:::my-bucket"), Some("my-bucket"));
        assert_eq!(bucket_name("arn:aws:s3:::"), None);
        assert_eq!(bucket_name("arn:aws:s3:::a/b"), None);
        assert!(is_role_arn("arn:aws:iam::123456789012:role/firehose_role"));
        assert!(!is_role_arn("arn:aws:iam::1234:role/r"));
    }

    #[test]
    fn updates_replace_only_the_members_they_set() {
        let base: S3Destination = serde_json::from_value(json!({
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "BucketARN": "arn:aws:s3:::b",
            "Prefix": "p/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}
        }))
        .expect("parses");
        let update: S3Destination =
            serde_json::from_value(json!({"Prefix": "q/", "CompressionFormat": "GZIP"}))
                .expect("parses");
        let merged = base.merged(&update);
        assert_eq!(merged.prefix.as_deref(), Some("q/"));
        assert_eq!(merged.bucket(), Some("b"));
        assert_eq!(merged.buffer_limits(), (1 << 20, 60_000));
        assert_eq!(merged.compression(), Compression::Gzip);
    }

    #[test]
    fn descriptions_fill_in_aws_defaults() {
        let destination: S3Destination = serde_json::from_value(json!({
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "BucketARN": "arn:aws:s3:::b"
        }))
        .expect("parses");
        let description = destination.extended_s3_description();
        assert_eq!(description["BufferingHints"]["SizeInMBs"], 5);
        assert_eq!(description["BufferingHints"]["IntervalInSeconds"], 300);
        assert_eq!(description["CompressionFormat"], "UNCOMPRESSED");
        assert_eq!(
            description["EncryptionConfiguration"]["NoEncryptionConfig"],
            "NoEncryption"
        );
        assert_eq!(description["S3BackupMode"], "Disabled");
        assert_eq!(description["Prefix"], "");
    }

    #[test]
    fn unimplemented_members_are_refused_by_name() {
        let config = FirehoseConfig::default();
        let destination: S3Destination = serde_json::from_value(json!({
            "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": "arn:aws:kms:us-east-1:123456789012:key/k"}}
        }))
        .expect("parses");
        let err = destination.check(&config).expect_err("refused");
        assert!(err.to_string().contains("KMSEncryptionConfig"), "{err}");
        let destination: S3Destination = serde_json::from_value(json!({
            "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "CloudWatchLogProcessing"}]}
        }))
        .expect("parses");
        let err = destination.check(&config).expect_err("refused");
        assert!(err.to_string().contains("Decompression"), "{err}");
        let disabled: S3Destination = serde_json::from_value(json!({
            "ProcessingConfiguration": {"Enabled": false, "Processors": [{"Type": "Decompression"}]}
        }))
        .expect("parses");
        disabled
            .check(&config)
            .expect("a disabled block is accepted");
    }

    #[test]
    fn dynamic_partitioning_needs_keys_and_their_processor() {
        let config = FirehoseConfig::default();
        let with = |prefix: &str, processors: Value| -> S3Destination {
            serde_json::from_value(json!({
                "Prefix": prefix,
                "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                "DynamicPartitioningConfiguration": {"Enabled": true},
                "ProcessingConfiguration": {"Enabled": true, "Processors": processors}
            }))
            .expect("parses")
        };
        let extraction = json!([{"Type": "MetadataExtraction", "Parameters": [
            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{c: .c}"},
            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]);
        with("c=!{partitionKeyFromQuery:c}/", extraction.clone())
            .check(&config)
            .expect("valid");
        assert!(with("plain/", extraction.clone()).check(&config).is_err());
        let err = with("c=!{partitionKeyFromQuery:c}/", json!([]))
            .check(&config)
            .expect_err("no processor");
        assert!(err.to_string().contains("MetadataExtraction"), "{err}");
    }
}
