//! The OpenSearch Service and Elasticsearch destinations as configured (their
//! `...DestinationConfiguration` and `...Update` shapes have the same members), merged with
//! updates, described, and the index a document goes to under `IndexRotationPeriod`.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use super::shared::{self, HintRules, RetryOptions, pick};
use super::{BufferingHints, S3Destination, not_implemented};
use crate::error::FirehoseError;

/// Model `AmazonopensearchserviceBufferingHints` / `ElasticsearchBufferingHints` (1-100 MiB,
/// 0-900 s); defaults 5 MiB and 300 s.
pub const HINTS: HintRules = HintRules {
    max_size_mib: 100,
    max_interval_secs: 900,
    default_size_mib: 5,
    default_interval_secs: 300,
};
/// Default `RetryOptions.DurationInSeconds` (API reference: 300).
pub const DEFAULT_RETRY_SECS: i64 = 300;
pub const DOMAIN_ARN_PATTERN: &str =
    "arn:.*:es:[a-zA-Z0-9\\-]+:\\d{12}:domain/[a-z][-0-9a-z]{2,27}";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DocumentIdOptions {
    pub default_document_id_format: Option<DocumentIdFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DocumentIdFormat {
    #[serde(rename = "FIREHOSE_DEFAULT")]
    FirehoseDefault,
    #[serde(rename = "NO_DOCUMENT_ID")]
    NoDocumentId,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OpenSearchDestination {
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(rename = "DomainARN", skip_serializing_if = "Option::is_none")]
    pub domain_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_rotation_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
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
    pub vpc_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id_options: Option<DocumentIdOptions>,
}

fn is_domain_arn(arn: &str) -> bool {
    let Some((_, rest)) = arn.split_once(":es:") else {
        return false;
    };
    let Some((region, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some((account, domain)) = rest.split_once(":domain/") else {
        return false;
    };
    arn.starts_with("arn:")
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && (3..=28).contains(&domain.len())
        && domain.starts_with(|c: char| c.is_ascii_lowercase())
        && domain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl OpenSearchDestination {
    pub fn validate(&self, v: &mut Violations, path: &str, create: bool) {
        shared::validate_role(v, path, &self.role_arn, create);
        if let Some(arn) = &self.domain_arn {
            let member = format!("{path}.domainARN");
            v.string_length(&member, arn, 1, 512);
            v.pattern(&member, arn, DOMAIN_ARN_PATTERN, is_domain_arn(arn));
        }
        if let Some(endpoint) = &self.cluster_endpoint {
            let member = format!("{path}.clusterEndpoint");
            v.string_length(&member, endpoint, 1, 512);
            v.pattern(
                &member,
                endpoint,
                "https:.*",
                endpoint.starts_with("https:"),
            );
        }
        let member = format!("{path}.indexName");
        match &self.index_name {
            None if create => v.required(&member, &self.index_name),
            None => {}
            Some(name) => v.string_length(&member, name, 1, 80),
        }
        if let Some(name) = &self.type_name {
            v.string_length(&format!("{path}.typeName"), name, 0, 100);
        }
        if let Some(period) = &self.index_rotation_period {
            let member = format!("{path}.indexRotationPeriod");
            v.one_of(
                &member,
                period,
                &["NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth"],
            );
        }
        HINTS.validate(v, path, &self.buffering_hints);
        shared::validate_retry(v, path, &self.retry_options);
        let modes = ["FailedDocumentsOnly", "AllDocuments"];
        shared::validate_backup_mode(v, path, &self.s3_backup_mode, &modes);
        shared::validate_s3(v, path, &self.s3, create);
    }

    /// What Spate does not implement, and AWS's rules; `domain_known` says whether Spate's
    /// configuration maps a `DomainARN` to a server.
    pub fn check(&self, domain_known: impl Fn(&str) -> bool) -> Result<(), FirehoseError> {
        if self.vpc_configuration.is_some() {
            return Err(not_implemented("VpcConfiguration"));
        }
        match (&self.domain_arn, &self.cluster_endpoint) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(FirehoseError::InvalidArgument(
                    "Exactly one of DomainARN or ClusterEndpoint must be specified.".into(),
                ));
            }
            (Some(arn), None) if !domain_known(arn) => {
                return Err(FirehoseError::InvalidArgument(format!(
                    "Spate has no server for domain {arn}: map it in its configuration ([firehose.opensearch_domains.\"{arn}\"] url = ...), or give ClusterEndpoint."
                )));
            }
            _ => {}
        }
        shared::check_common(&self.processing_configuration, &None, &self.s3)
    }

    pub fn merged(&self, update: &OpenSearchDestination) -> OpenSearchDestination {
        // DomainARN and ClusterEndpoint are alternatives: an update naming one drops the other.
        let (domain_arn, cluster_endpoint) = match (&update.domain_arn, &update.cluster_endpoint) {
            (None, None) => (self.domain_arn.clone(), self.cluster_endpoint.clone()),
            (arn, endpoint) => (arn.clone(), endpoint.clone()),
        };
        OpenSearchDestination {
            role_arn: pick(&update.role_arn, &self.role_arn),
            domain_arn,
            cluster_endpoint,
            index_name: pick(&update.index_name, &self.index_name),
            type_name: pick(&update.type_name, &self.type_name),
            index_rotation_period: pick(&update.index_rotation_period, &self.index_rotation_period),
            buffering_hints: pick(&update.buffering_hints, &self.buffering_hints),
            retry_options: pick(&update.retry_options, &self.retry_options),
            s3_backup_mode: self.s3_backup_mode.clone(),
            s3: shared::merge_s3(&self.s3, &update.s3),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            vpc_configuration: self.vpc_configuration.clone(),
            document_id_options: pick(&update.document_id_options, &self.document_id_options),
        }
    }

    pub fn rotation(&self) -> &str {
        self.index_rotation_period.as_deref().unwrap_or("OneDay")
    }

    pub fn document_ids(&self) -> bool {
        self.document_id_options
            .and_then(|options| options.default_document_id_format)
            != Some(DocumentIdFormat::NoDocumentId)
    }

    pub fn retry_secs(&self) -> i64 {
        shared::retry_secs(&self.retry_options, DEFAULT_RETRY_SECS)
    }

    pub fn all_documents(&self) -> bool {
        self.s3_backup_mode.as_deref() == Some("AllDocuments")
    }

    pub fn buffer_limits(&self) -> (u64, u64) {
        HINTS.limits(&self.buffering_hints)
    }

    /// The `AmazonopensearchserviceDestinationDescription` /
    /// `ElasticsearchDestinationDescription` shape.
    pub fn description(&self) -> Value {
        let mut own = json!({
            "RoleARN": self.role_arn,
            "IndexName": self.index_name,
            "IndexRotationPeriod": self.rotation(),
            "DocumentIdOptions": {
                "DefaultDocumentIdFormat": if self.document_ids() { "FIREHOSE_DEFAULT" } else { "NO_DOCUMENT_ID" }
            },
        });
        if let Some(arn) = &self.domain_arn {
            own["DomainARN"] = json!(arn);
        }
        if let Some(endpoint) = &self.cluster_endpoint {
            own["ClusterEndpoint"] = json!(endpoint);
        }
        if let Some(name) = &self.type_name {
            own["TypeName"] = json!(name);
        }
        shared::Described {
            hints: HINTS,
            buffering_hints: &self.buffering_hints,
            retry_secs: self.retry_secs(),
            s3_backup_mode: self
                .s3_backup_mode
                .as_deref()
                .unwrap_or("FailedDocumentsOnly"),
            s3: &self.s3,
            cloud_watch_logging_options: &self.cloud_watch_logging_options,
            processing_configuration: &self.processing_configuration,
            secrets_manager_configuration: None,
        }
        .with(own)
    }
}

/// The index a document that arrived at `arrival_ms` goes to: *Configure index rotation for
/// OpenSearch Service* appends a portion of the UTC arrival timestamp, `myindex-2016-02-25-13`
/// (OneHour), `myindex-2016-02-25` (OneDay), `myindex-2016-w08` (OneWeek), `myindex-2016-02`
/// (OneMonth). The week number follows the page's US convention: weeks start on Sunday and the
/// days before the year's first Sunday are week 0 (strftime `%U`), which gives its example's
/// `w08` for 2016-02-25.
pub fn rotated_index(index: &str, rotation: &str, arrival_ms: i64) -> String {
    let time = Timestamp::from_millisecond(arrival_ms)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(TimeZone::UTC);
    let (year, month, day, hour) = (time.year(), time.month(), time.day(), time.hour());
    match rotation {
        "NoRotation" => index.to_owned(),
        "OneHour" => format!("{index}-{year:04}-{month:02}-{day:02}-{hour:02}"),
        "OneWeek" => {
            let yday = i32::from(time.day_of_year()) - 1;
            let wday = i32::from(time.weekday().to_sunday_zero_offset());
            let week = (yday + 7 - wday) / 7;
            format!("{index}-{year:04}-w{week:02}")
        }
        "OneMonth" => format!("{index}-{year:04}-{month:02}"),
        _ => format!("{index}-{year:04}-{month:02}-{day:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2016-02-25T13:00:00Z, the docs' example.
    const EXAMPLE_MS: i64 = 1_456_405_200_000;

    #[test]
    fn rotation_names_match_the_documented_examples() {
        assert_eq!(
            rotated_index("myindex", "NoRotation", EXAMPLE_MS),
            "myindex"
        );
        assert_eq!(
            rotated_index("myindex", "OneHour", EXAMPLE_MS),
            "myindex-2016-02-25-13"
        );
        assert_eq!(
            rotated_index("myindex", "OneDay", EXAMPLE_MS),
            "myindex-2016-02-25"
        );
        assert_eq!(
            rotated_index("myindex", "OneWeek", EXAMPLE_MS),
            "myindex-2016-w08"
        );
        assert_eq!(
            rotated_index("myindex", "OneMonth", EXAMPLE_MS),
            "myindex-2016-02"
        );
    }

    #[test]
    fn days_before_the_first_sunday_are_week_zero() {
        // 2016-01-01 was a Friday; 2016-01-03 the first Sunday.
        assert_eq!(
            rotated_index("i", "OneWeek", 1_451_606_400_000),
            "i-2016-w00"
        );
        assert_eq!(
            rotated_index("i", "OneWeek", 1_451_779_200_000),
            "i-2016-w01"
        );
    }

    #[test]
    fn exactly_one_of_domain_and_endpoint() {
        let both: OpenSearchDestination = serde_json::from_value(json!({
            "DomainARN": "arn:aws:es:us-east-1:123456789012:domain/logs",
            "ClusterEndpoint": "https://x"
        }))
        .expect("parses");
        assert!(both.check(|_| true).is_err());
        let unknown: OpenSearchDestination = serde_json::from_value(json!({
            "DomainARN": "arn:aws:es:us-east-1:123456789012:domain/logs"
        }))
        .expect("parses");
        assert!(unknown.check(|_| false).is_err());
        assert!(unknown.check(|_| true).is_ok());
        assert!(is_domain_arn(
            "arn:aws:es:us-east-1:123456789012:domain/logs"
        ));
        assert!(!is_domain_arn("arn:aws:es:us-east-1:1234:domain/logs"));
    }

    #[test]
    fn description_fills_defaults() {
        let destination: OpenSearchDestination = serde_json::from_value(json!({
            "ClusterEndpoint": "https://search", "IndexName": "logs"
        }))
        .expect("parses");
        let description = destination.description();
        assert_eq!(description["IndexRotationPeriod"], "OneDay");
        assert_eq!(description["S3BackupMode"], "FailedDocumentsOnly");
        assert_eq!(description["RetryOptions"]["DurationInSeconds"], 300);
        assert_eq!(
            description["DocumentIdOptions"]["DefaultDocumentIdFormat"],
            "FIREHOSE_DEFAULT"
        );
        assert_eq!(
            description["BufferingHints"],
            json!({"SizeInMBs": 5, "IntervalInSeconds": 300})
        );
        assert_eq!(
            description["CloudWatchLoggingOptions"],
            json!({"Enabled": false})
        );
        assert!(description.get("SecretsManagerConfiguration").is_none());
        assert!(description.get("ProcessingConfiguration").is_none());
    }
}
