//! A delivery stream as stored in the metadata store (one JSON value per stream under
//! `firehose/streams/<name>`), and its status over time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_log::LogId;

use crate::settings::S3Destination;
use crate::settings::http_endpoint::HttpEndpointDestination;
use crate::settings::opensearch::OpenSearchDestination;
use crate::settings::redshift::RedshiftDestination;
use crate::settings::splunk::SplunkDestination;

/// The id of the one destination a delivery stream has, as AWS names it.
pub const DESTINATION_ID: &str = "destinationId-000000000001";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StreamType {
    DirectPut,
    KinesisStreamAsSource,
}

impl StreamType {
    pub fn model_name(self) -> &'static str {
        match self {
            StreamType::DirectPut => "DirectPut",
            StreamType::KinesisStreamAsSource => "KinesisStreamAsSource",
        }
    }
}

/// Where records go.
#[expect(clippy::large_enum_variant, reason = "one per stream, held in an Arc")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Destination {
    /// Created with `S3DestinationConfiguration` (`extended: false`) or
    /// `ExtendedS3DestinationConfiguration`; AWS describes both shapes either way.
    S3 {
        settings: S3Destination,
        extended: bool,
    },
    /// `HttpEndpointDestinationConfiguration`.
    HttpEndpoint(HttpEndpointDestination),
    /// `SplunkDestinationConfiguration`.
    Splunk(SplunkDestination),
    /// `AmazonopensearchserviceDestinationConfiguration` (`elasticsearch: false`) or
    /// `ElasticsearchDestinationConfiguration`: one shape, described under the name it was
    /// created with.
    OpenSearch {
        settings: OpenSearchDestination,
        elasticsearch: bool,
    },
    /// Created with `RedshiftDestinationConfiguration`: COPY into PostgreSQL standing in for
    /// Redshift, through the intermediate bucket of its `S3Configuration`.
    Redshift { settings: RedshiftDestination },
}

impl Destination {
    /// The S3 settings objects are written with: the S3 destination's own, or the S3
    /// configuration of an HTTP-based destination (backup and error output).
    pub fn s3_settings(&self) -> Option<&S3Destination> {
        match self {
            Destination::S3 { settings, .. } => Some(settings),
            Destination::HttpEndpoint(settings) => settings.s3.as_ref(),
            Destination::Splunk(settings) => settings.s3.as_ref(),
            Destination::OpenSearch { settings, .. } => settings.s3.as_ref(),
            Destination::Redshift { settings } => settings.s3_configuration.as_ref(),
        }
    }
}

/// Server-side encryption of the records Spate holds for the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `ENABLED` or `DISABLED` (the transitions are immediate).
    pub enabled: bool,
    pub key_type: Option<String>,
    pub key_arn: Option<String>,
}

/// One delivery stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStreamMeta {
    pub name: String,
    pub arn: String,
    pub stream_type: StreamType,
    /// `DirectPutSourceConfiguration` or `KinesisStreamSourceConfiguration`, as given.
    pub source: Option<Value>,
    pub destination: Destination,
    /// Bumped by every UpdateDestination.
    pub version: u64,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
    /// ACTIVE from this time on (CREATING before).
    pub active_from_ms: i64,
    /// Set by DeleteDeliveryStream: DELETING until the stream is removed.
    pub deleting_since_ms: Option<i64>,
    /// The log that holds the stream's records until they are delivered.
    #[serde(with = "log_id")]
    pub log: LogId,
    pub encryption: Encryption,
    pub tags: BTreeMap<String, String>,
}

impl DeliveryStreamMeta {
    pub fn status(&self, now_ms: i64) -> &'static str {
        if self.deleting_since_ms.is_some() {
            "DELETING"
        } else if now_ms < self.active_from_ms {
            "CREATING"
        } else {
            "ACTIVE"
        }
    }

    pub fn is_active(&self, now_ms: i64) -> bool {
        self.status(now_ms) == "ACTIVE"
    }

    /// The ARN of the Kinesis stream a `KinesisStreamAsSource` stream reads.
    pub fn source_stream_arn(&self) -> Option<&str> {
        match self.stream_type {
            StreamType::KinesisStreamAsSource => self
                .source
                .as_ref()
                .and_then(|source| source.get("KinesisStreamARN"))
                .and_then(Value::as_str),
            StreamType::DirectPut => None,
        }
    }

    /// The destination's buffer size in bytes and interval in milliseconds, defaults filled in.
    pub fn buffer_limits(&self) -> (u64, u64) {
        match &self.destination {
            Destination::S3 { settings, .. } => settings.buffer_limits(),
            Destination::HttpEndpoint(settings) => settings.buffer_limits(),
            Destination::Splunk(settings) => settings.buffer_limits(),
            Destination::OpenSearch { settings, .. } => settings.buffer_limits(),
            Destination::Redshift { settings } => settings.buffer_limits(),
        }
    }

    /// The `DeliveryStreamDescription` shape.
    pub fn description(&self, now_ms: i64) -> Value {
        let destination = match &self.destination {
            Destination::S3 { settings, .. } => json!({
                "DestinationId": DESTINATION_ID,
                "S3DestinationDescription": settings.s3_description(),
                "ExtendedS3DestinationDescription": settings.extended_s3_description(),
            }),
            Destination::HttpEndpoint(settings) => json!({
                "DestinationId": DESTINATION_ID,
                "HttpEndpointDestinationDescription": settings.description(),
            }),
            Destination::Splunk(settings) => json!({
                "DestinationId": DESTINATION_ID,
                "SplunkDestinationDescription": settings.description(),
            }),
            Destination::OpenSearch {
                settings,
                elasticsearch: false,
            } => json!({
                "DestinationId": DESTINATION_ID,
                "AmazonopensearchserviceDestinationDescription": settings.description(),
            }),
            Destination::OpenSearch {
                settings,
                elasticsearch: true,
            } => json!({
                "DestinationId": DESTINATION_ID,
                "ElasticsearchDestinationDescription": settings.description(),
            }),
            Destination::Redshift { settings } => json!({
                "DestinationId": DESTINATION_ID,
                "RedshiftDestinationDescription": settings.description(),
            }),
        };
        let mut encryption = json!({
            "Status": if self.encryption.enabled { "ENABLED" } else { "DISABLED" },
        });
        if self.encryption.enabled {
            if let Some(key_type) = &self.encryption.key_type {
                encryption["KeyType"] = json!(key_type);
            }
            if let Some(key_arn) = &self.encryption.key_arn {
                encryption["KeyARN"] = json!(key_arn);
            }
        }
        let mut out = json!({
            "DeliveryStreamName": self.name,
            "DeliveryStreamARN": self.arn,
            "DeliveryStreamStatus": self.status(now_ms),
            "DeliveryStreamEncryptionConfiguration": encryption,
            "DeliveryStreamType": self.stream_type.model_name(),
            "VersionId": self.version.to_string(),
            "CreateTimestamp": self.created_ms as f64 / 1000.0,
            "Destinations": [destination],
            "HasMoreDestinations": false,
        });
        if let Some(updated) = self.updated_ms {
            out["LastUpdateTimestamp"] = json!(updated as f64 / 1000.0);
        }
        match (&self.stream_type, &self.source) {
            (StreamType::DirectPut, Some(source)) => {
                out["Source"] = json!({ "DirectPutSourceDescription": source });
            }
            (StreamType::KinesisStreamAsSource, Some(source)) => {
                let mut description = source.clone();
                description["DeliveryStartTimestamp"] = json!(self.created_ms as f64 / 1000.0);
                out["Source"] = json!({ "KinesisStreamSourceDescription": description });
            }
            _ => {}
        }
        out
    }
}

/// `LogId` as its number.
mod log_id {
    use serde::{Deserialize, Deserializer, Serializer};
    use spate_log::LogId;

    pub fn serialize<S: Serializer>(id: &LogId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(id.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<LogId, D::Error> {
        u64::deserialize(deserializer).map(LogId)
    }
}
