//! The HTTP endpoint destination as configured (`HttpEndpointDestinationConfiguration`, its
//! `...Update`), merged with updates, and described (`HttpEndpointDestinationDescription`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use super::shared::{self, HintRules, RetryOptions, pick};
use super::{BufferingHints, S3Destination};
use crate::error::FirehoseError;

/// Model `HttpEndpointBufferingHints` (1-64 MiB, 0-900 s); defaults 5 MiB and 300 s.
pub const HINTS: HintRules = HintRules {
    max_size_mib: 64,
    max_interval_secs: 900,
    default_size_mib: 5,
    default_interval_secs: 300,
};
/// Default `RetryOptions.DurationInSeconds` (API reference: 300).
pub const DEFAULT_RETRY_SECS: i64 = 300;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonAttribute {
    pub attribute_name: Option<String>,
    pub attribute_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_attributes: Option<Vec<CommonAttribute>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpEndpointDestination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buffering_hints: Option<BufferingHints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_configuration: Option<RequestConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
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
    pub secrets_manager_configuration: Option<Value>,
}

fn is_https_url(url: &str) -> bool {
    url.starts_with("https://")
}

impl HttpEndpointDestination {
    pub fn validate(&self, v: &mut Violations, path: &str, create: bool) {
        match &self.endpoint_configuration {
            None if create => v.required(
                &format!("{path}.endpointConfiguration"),
                &self.endpoint_configuration,
            ),
            None => {}
            Some(endpoint) => {
                let member = format!("{path}.endpointConfiguration.url");
                match &endpoint.url {
                    None => v.required(&member, &endpoint.url),
                    Some(url) => {
                        v.string_length(&member, url, 1, 1000);
                        v.pattern(&member, url, "https://.*", is_https_url(url));
                    }
                }
                if let Some(name) = &endpoint.name {
                    let member = format!("{path}.endpointConfiguration.name");
                    v.string_length(&member, name, 1, 256);
                    v.pattern(&member, name, "^(?!\\s*$).+", !name.trim().is_empty());
                }
                if let Some(key) = &endpoint.access_key {
                    let member = format!("{path}.endpointConfiguration.accessKey");
                    v.string_length(&member, key, 0, 4096);
                }
            }
        }
        HINTS.validate(v, path, &self.buffering_hints);
        if let Some(request) = &self.request_configuration {
            if let Some(encoding) = &request.content_encoding {
                let member = format!("{path}.requestConfiguration.contentEncoding");
                v.one_of(&member, encoding, &["NONE", "GZIP"]);
            }
            if let Some(attributes) = &request.common_attributes {
                let member = format!("{path}.requestConfiguration.commonAttributes");
                let rendered = format!("[{}]", attributes.len());
                v.collection_length(&member, &rendered, attributes.len(), 0, 50);
                for (index, attribute) in attributes.iter().enumerate() {
                    let item = format!("{member}.{}.member", index + 1);
                    match &attribute.attribute_name {
                        None => v.required(&format!("{item}.attributeName"), &None::<String>),
                        Some(name) => {
                            let member = format!("{item}.attributeName");
                            v.string_length(&member, name, 1, 256);
                            v.pattern(&member, name, "^(?!\\s*$).+", !name.trim().is_empty());
                        }
                    }
                    match &attribute.attribute_value {
                        None => v.required(&format!("{item}.attributeValue"), &None::<String>),
                        Some(value) => {
                            v.string_length(&format!("{item}.attributeValue"), value, 0, 1024)
                        }
                    }
                }
            }
        }
        shared::validate_role(v, path, &self.role_arn, false);
        shared::validate_retry(v, path, &self.retry_options);
        let modes = ["FailedDataOnly", "AllData"];
        shared::validate_backup_mode(v, path, &self.s3_backup_mode, &modes);
        shared::validate_s3(v, path, &self.s3, create);
    }

    /// What Spate does not implement, and AWS's semantic rules.
    pub fn check(&self) -> Result<(), FirehoseError> {
        shared::check_common(
            &self.processing_configuration,
            &self.secrets_manager_configuration,
            &self.s3,
        )
    }

    pub fn merged(&self, update: &HttpEndpointDestination) -> HttpEndpointDestination {
        HttpEndpointDestination {
            endpoint_configuration: pick(
                &update.endpoint_configuration,
                &self.endpoint_configuration,
            ),
            buffering_hints: pick(&update.buffering_hints, &self.buffering_hints),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            request_configuration: pick(&update.request_configuration, &self.request_configuration),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            role_arn: pick(&update.role_arn, &self.role_arn),
            retry_options: pick(&update.retry_options, &self.retry_options),
            s3_backup_mode: pick(&update.s3_backup_mode, &self.s3_backup_mode),
            s3: shared::merge_s3(&self.s3, &update.s3),
            secrets_manager_configuration: pick(
                &update.secrets_manager_configuration,
                &self.secrets_manager_configuration,
            ),
        }
    }

    pub fn url(&self) -> &str {
        self.endpoint_configuration
            .as_ref()
            .and_then(|endpoint| endpoint.url.as_deref())
            .unwrap_or_default()
    }

    pub fn access_key(&self) -> Option<&str> {
        self.endpoint_configuration
            .as_ref()
            .and_then(|endpoint| endpoint.access_key.as_deref())
    }

    pub fn gzip(&self) -> bool {
        self.request_configuration
            .as_ref()
            .and_then(|request| request.content_encoding.as_deref())
            == Some("GZIP")
    }

    /// `X-Amz-Firehose-Common-Attributes`: `{"commonAttributes": {name: value, ...}}`.
    pub fn common_attributes(&self) -> Option<String> {
        let attributes = self
            .request_configuration
            .as_ref()
            .and_then(|request| request.common_attributes.as_ref())?;
        let mut map = serde_json::Map::new();
        for attribute in attributes {
            map.insert(
                attribute.attribute_name.clone().unwrap_or_default(),
                json!(attribute.attribute_value.clone().unwrap_or_default()),
            );
        }
        Some(json!({ "commonAttributes": map }).to_string())
    }

    pub fn retry_secs(&self) -> i64 {
        shared::retry_secs(&self.retry_options, DEFAULT_RETRY_SECS)
    }

    pub fn all_data(&self) -> bool {
        self.s3_backup_mode.as_deref() == Some("AllData")
    }

    pub fn buffer_limits(&self) -> (u64, u64) {
        HINTS.limits(&self.buffering_hints)
    }

    /// The `HttpEndpointDestinationDescription` shape (the access key is not returned).
    pub fn description(&self) -> Value {
        let endpoint = self.endpoint_configuration.clone().unwrap_or_default();
        let mut endpoint_description = json!({ "Url": endpoint.url });
        if let Some(name) = endpoint.name {
            endpoint_description["Name"] = json!(name);
        }
        let request = self.request_configuration.clone().unwrap_or_default();
        let mut request_description = json!({
            "ContentEncoding": request.content_encoding.unwrap_or_else(|| "NONE".to_owned()),
        });
        if let Some(attributes) = request.common_attributes {
            request_description["CommonAttributes"] = json!(attributes);
        }
        let mut own = json!({
            "EndpointConfiguration": endpoint_description,
            "RequestConfiguration": request_description,
        });
        if let Some(role) = &self.role_arn {
            own["RoleARN"] = json!(role);
        }
        shared::Described {
            hints: HINTS,
            buffering_hints: &self.buffering_hints,
            retry_secs: self.retry_secs(),
            s3_backup_mode: self.s3_backup_mode.as_deref().unwrap_or("FailedDataOnly"),
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

    fn parse(value: Value) -> HttpEndpointDestination {
        serde_json::from_value(value).expect("parses")
    }

    #[test]
    fn description_fills_defaults_and_hides_the_access_key() {
        let destination = parse(json!({
            "EndpointConfiguration": {"Url": "https://example.com/in", "AccessKey": "secret"},
            "S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/r",
                                "BucketARN": "arn:aws:s3:::b"}
        }));
        let description = destination.description();
        assert_eq!(
            description["EndpointConfiguration"],
            json!({"Url": "https://example.com/in"})
        );
        assert_eq!(description["BufferingHints"]["SizeInMBs"], 5);
        assert_eq!(description["BufferingHints"]["IntervalInSeconds"], 300);
        assert_eq!(description["RetryOptions"]["DurationInSeconds"], 300);
        assert_eq!(description["S3BackupMode"], "FailedDataOnly");
        assert_eq!(
            description["RequestConfiguration"]["ContentEncoding"],
            "NONE"
        );
        assert_eq!(
            description["S3DestinationDescription"]["BucketARN"],
            "arn:aws:s3:::b"
        );
    }

    #[test]
    fn common_attributes_header_is_a_json_object() {
        let destination = parse(json!({
            "RequestConfiguration": {"CommonAttributes": [
                {"AttributeName": "a", "AttributeValue": "1"},
                {"AttributeName": "b", "AttributeValue": ""}]}
        }));
        let header: Value =
            serde_json::from_str(&destination.common_attributes().expect("set")).expect("json");
        assert_eq!(header, json!({"commonAttributes": {"a": "1", "b": ""}}));
    }

    #[test]
    fn updates_merge_the_s3_configuration() {
        let base = parse(json!({
            "EndpointConfiguration": {"Url": "https://a"},
            "S3Configuration": {"BucketARN": "arn:aws:s3:::b", "Prefix": "p/"}
        }));
        let update =
            parse(json!({"S3Update": {"Prefix": "q/"}, "RetryOptions": {"DurationInSeconds": 0}}));
        let merged = base.merged(&update);
        assert_eq!(merged.url(), "https://a");
        assert_eq!(merged.retry_secs(), 0);
        let s3 = merged.s3.expect("kept");
        assert_eq!((s3.bucket(), s3.prefix.as_deref()), (Some("b"), Some("q/")));
    }

    #[test]
    fn http_urls_and_large_hints_violate_the_model() {
        let destination = parse(json!({
            "EndpointConfiguration": {"Url": "http://plain"},
            "BufferingHints": {"SizeInMBs": 65, "IntervalInSeconds": 60}
        }));
        let mut v = Violations::default();
        destination.validate(&mut v, "httpEndpointDestinationConfiguration", false);
        let message = v.message();
        assert!(message.contains("endpointConfiguration.url"), "{message}");
        assert!(message.contains("bufferingHints.sizeInMBs"), "{message}");
    }
}
