//! CreateDeliveryStream: a DirectPut stream with an S3, extended S3, HTTP endpoint, Splunk,
//! OpenSearch Service, Elasticsearch or Redshift destination. Sources and
//! destinations Spate does not serve yet are refused by name (`InvalidArgumentException`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use super::Tag;
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::{DeliveryStreamMeta, Destination, Encryption, StreamType};
use crate::ops::start_delivery_stream_encryption::EncryptionInput;
use crate::service::FirehoseService;
use crate::settings::S3Destination;
use crate::settings::http_endpoint::HttpEndpointDestination;
use crate::settings::opensearch::OpenSearchDestination;
use crate::settings::redshift::RedshiftDestination;
use crate::settings::splunk::SplunkDestination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_type: Option<String>,
    pub direct_put_source_configuration: Option<DirectPutSource>,
    pub kinesis_stream_source_configuration: Option<KinesisSource>,
    pub delivery_stream_encryption_configuration_input: Option<EncryptionInput>,
    pub s3_destination_configuration: Option<S3Destination>,
    pub extended_s3_destination_configuration: Option<S3Destination>,
    pub redshift_destination_configuration: Option<RedshiftDestination>,
    pub elasticsearch_destination_configuration: Option<OpenSearchDestination>,
    pub amazonopensearchservice_destination_configuration: Option<OpenSearchDestination>,
    pub splunk_destination_configuration: Option<SplunkDestination>,
    pub http_endpoint_destination_configuration: Option<HttpEndpointDestination>,
    pub tags: Option<Vec<Tag>>,
    pub amazon_open_search_serverless_destination_configuration: Option<Value>,
    #[serde(rename = "MSKSourceConfiguration")]
    pub msk_source_configuration: Option<Value>,
    pub snowflake_destination_configuration: Option<Value>,
    pub iceberg_destination_configuration: Option<Value>,
    pub database_source_configuration: Option<Value>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DirectPutSource {
    #[serde(rename = "ThroughputHintInMBs")]
    pub throughput_hint_in_mbs: Option<i64>,
}

/// `KinesisStreamSourceConfiguration`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KinesisSource {
    #[serde(rename = "KinesisStreamARN")]
    pub kinesis_stream_arn: Option<String>,
    #[serde(rename = "RoleARN")]
    pub role_arn: Option<String>,
}

const KINESIS_STREAM_ARN_PATTERN: &str =
    "arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+";

fn is_kinesis_stream_arn(text: &str) -> bool {
    let Some((_, rest)) = text
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":kinesis:"))
    else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(region), Some(account), Some(resource)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("stream/").is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        })
}

impl KinesisSource {
    fn validate(&self, v: &mut Violations) {
        let path = "kinesisStreamSourceConfiguration.kinesisStreamARN";
        match &self.kinesis_stream_arn {
            None => v.required(path, &self.kinesis_stream_arn),
            Some(arn) => {
                v.string_length(path, arn, 1, 512);
                v.pattern(
                    path,
                    arn,
                    KINESIS_STREAM_ARN_PATTERN,
                    is_kinesis_stream_arn(arn),
                );
            }
        }
        let path = "kinesisStreamSourceConfiguration.roleARN";
        match &self.role_arn {
            None => v.required(path, &self.role_arn),
            Some(arn) => {
                v.string_length(path, arn, 1, 512);
                v.pattern(
                    path,
                    arn,
                    crate::settings::ROLE_ARN_PATTERN,
                    crate::settings::is_role_arn(arn),
                );
            }
        }
    }
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        if let Some(kind) = &self.delivery_stream_type {
            v.one_of(
                "deliveryStreamType",
                kind,
                &[
                    "DirectPut",
                    "KinesisStreamAsSource",
                    "MSKAsSource",
                    "DatabaseAsSource",
                ],
            );
        }
        if let Some(source) = &self.direct_put_source_configuration {
            let path = "directPutSourceConfiguration.throughputHintInMBs";
            match source.throughput_hint_in_mbs {
                None => v.required(path, &source.throughput_hint_in_mbs),
                Some(hint) => v.range(path, hint, Some(1), Some(100)),
            }
        }
        if let Some(source) = &self.kinesis_stream_source_configuration {
            source.validate(v);
        }
        if let Some(encryption) = &self.delivery_stream_encryption_configuration_input {
            encryption.validate(v, "deliveryStreamEncryptionConfigurationInput");
        }
        if let Some(s3) = &self.s3_destination_configuration {
            s3.validate(v, "s3DestinationConfiguration", true);
        }
        if let Some(s3) = &self.extended_s3_destination_configuration {
            s3.validate(v, "extendedS3DestinationConfiguration", true);
        }
        if let Some(http) = &self.http_endpoint_destination_configuration {
            http.validate(v, "httpEndpointDestinationConfiguration", true);
        }
        if let Some(redshift) = &self.redshift_destination_configuration {
            redshift.validate(v, "redshiftDestinationConfiguration", true);
        }
        if let Some(splunk) = &self.splunk_destination_configuration {
            splunk.validate(v, "splunkDestinationConfiguration", true);
        }
        if let Some(opensearch) = &self.amazonopensearchservice_destination_configuration {
            opensearch.validate(v, "amazonopensearchserviceDestinationConfiguration", true);
        }
        if let Some(elasticsearch) = &self.elasticsearch_destination_configuration {
            elasticsearch.validate(v, "elasticsearchDestinationConfiguration", true);
        }
        if let Some(tags) = &self.tags {
            super::tags(v, "tags", tags);
        }
    }
}

/// Refuses members naming what Spate does not serve yet, by name.
fn refuse_unsupported(request: &Request) -> Result<(), FirehoseError> {
    let unsupported = [
        (
            "AmazonOpenSearchServerlessDestinationConfiguration",
            request
                .amazon_open_search_serverless_destination_configuration
                .is_some(),
        ),
        (
            "MSKSourceConfiguration",
            request.msk_source_configuration.is_some(),
        ),
        (
            "SnowflakeDestinationConfiguration",
            request.snowflake_destination_configuration.is_some(),
        ),
        (
            "IcebergDestinationConfiguration",
            request.iceberg_destination_configuration.is_some(),
        ),
        (
            "DatabaseSourceConfiguration",
            request.database_source_configuration.is_some(),
        ),
    ];
    if let Some((member, _)) = unsupported.iter().find(|(_, present)| *present) {
        return Err(FirehoseError::InvalidArgument(format!(
            "{member} is not supported by Spate yet."
        )));
    }
    match request.delivery_stream_type.as_deref() {
        None | Some("DirectPut") | Some("KinesisStreamAsSource") => Ok(()),
        Some(other) => Err(FirehoseError::InvalidArgument(format!(
            "DeliveryStreamType {other} is not supported by Spate yet."
        ))),
    }
}

/// The stream type and source of a create request, with AWS's rules on which goes with which;
/// a Kinesis stream must exist in the account.
async fn source_of(
    service: &FirehoseService,
    request: &Request,
) -> Result<(StreamType, Value), FirehoseError> {
    match request.delivery_stream_type.as_deref() {
        Some("KinesisStreamAsSource") => {
            let Some(source) = &request.kinesis_stream_source_configuration else {
                return Err(FirehoseError::InvalidArgument(
                    "KinesisStreamSourceConfiguration is required when DeliveryStreamType is KinesisStreamAsSource.".into(),
                ));
            };
            if request.direct_put_source_configuration.is_some() {
                return Err(FirehoseError::InvalidArgument(
                    "DirectPutSourceConfiguration cannot be specified when DeliveryStreamType is KinesisStreamAsSource.".into(),
                ));
            }
            if request
                .delivery_stream_encryption_configuration_input
                .is_some()
            {
                return Err(FirehoseError::InvalidArgument(
                    "Server-side encryption is not supported for a Firehose stream whose source is a Kinesis data stream; encrypt the Kinesis stream instead.".into(),
                ));
            }
            let arn = source.kinesis_stream_arn.clone().unwrap_or_default();
            let kinesis = service.kinesis.as_ref().ok_or_else(|| {
                FirehoseError::InvalidArgument(
                    "KinesisStreamAsSource is not available on this server.".into(),
                )
            })?;
            if let Err(err) = kinesis
                .call("DescribeStreamSummary", json!({ "StreamARN": arn }))
                .await
            {
                return Err(FirehoseError::InvalidArgument(format!(
                    "The Kinesis stream {arn} cannot be read: {}",
                    err.message
                )));
            }
            Ok((
                StreamType::KinesisStreamAsSource,
                json!({ "KinesisStreamARN": arn, "RoleARN": source.role_arn }),
            ))
        }
        _ => {
            if request.kinesis_stream_source_configuration.is_some() {
                return Err(FirehoseError::InvalidArgument(
                    "KinesisStreamSourceConfiguration can be specified only when DeliveryStreamType is KinesisStreamAsSource.".into(),
                ));
            }
            let hint = request
                .direct_put_source_configuration
                .as_ref()
                .and_then(|source| source.throughput_hint_in_mbs)
                .unwrap_or(5);
            Ok((
                StreamType::DirectPut,
                json!({ "ThroughputHintInMBs": hint }),
            ))
        }
    }
}

/// The one destination the request configures.
fn destination_of(request: &Request) -> Result<Destination, FirehoseError> {
    let mut given = Vec::new();
    if let Some(settings) = &request.s3_destination_configuration {
        given.push(Destination::S3 {
            settings: settings.clone(),
            extended: false,
        });
    }
    if let Some(settings) = &request.extended_s3_destination_configuration {
        given.push(Destination::S3 {
            settings: settings.clone(),
            extended: true,
        });
    }
    if let Some(settings) = &request.http_endpoint_destination_configuration {
        given.push(Destination::HttpEndpoint(settings.clone()));
    }
    if let Some(settings) = &request.redshift_destination_configuration {
        given.push(Destination::Redshift {
            settings: settings.clone(),
        });
    }
    if let Some(settings) = &request.splunk_destination_configuration {
        given.push(Destination::Splunk(settings.clone()));
    }
    if let Some(settings) = &request.amazonopensearchservice_destination_configuration {
        given.push(Destination::OpenSearch {
            settings: settings.clone(),
            elasticsearch: false,
        });
    }
    if let Some(settings) = &request.elasticsearch_destination_configuration {
        given.push(Destination::OpenSearch {
            settings: settings.clone(),
            elasticsearch: true,
        });
    }
    match given.len() {
        0 => Err(FirehoseError::InvalidArgument(
            "A destination configuration is required.".into(),
        )),
        1 => Ok(given.remove(0)),
        _ => Err(FirehoseError::InvalidArgument(
            "Only one destination configuration can be specified.".into(),
        )),
    }
}

pub async fn handle(
    service: &Arc<FirehoseService>,
    request: Request,
) -> Result<Value, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name).to_owned();
    refuse_unsupported(&request)?;
    let destination = destination_of(&request)?;
    super::check_destination(service, &destination)?;
    let mut tags = BTreeMap::new();
    for tag in request.tags.iter().flatten() {
        tags.insert(
            tag.key.clone().unwrap_or_default(),
            tag.value.clone().unwrap_or_default(),
        );
    }
    let (stream_type, source) = source_of(service, &request).await?;
    let encryption = match &request.delivery_stream_encryption_configuration_input {
        Some(input) => input.to_encryption(service)?,
        None => Encryption::default(),
    };

    let _control = service.control.lock().await;
    if service.get(&name).is_some() {
        return Err(FirehoseError::ResourceInUse(format!(
            "Firehose {name} under accountId {} already exists",
            service.config.account_id
        )));
    }
    let live = service
        .all()
        .iter()
        .filter(|stream| stream.deleting_since_ms.is_none())
        .count();
    if live >= service.config.delivery_stream_limit {
        return Err(FirehoseError::LimitExceeded(format!(
            "You have already consumed your firehose quota of {} hoses. Firehose names: {name}",
            service.config.delivery_stream_limit
        )));
    }
    let log = service.allocate_log().await?;
    service
        .with_log(move |engine| engine.create_log(log))
        .await?;
    let now = service.now_ms();
    let stream = DeliveryStreamMeta {
        arn: service.config.delivery_stream_arn(&name),
        name: name.clone(),
        stream_type,
        source: Some(source),
        destination,
        version: 1,
        created_ms: now,
        updated_ms: None,
        active_from_ms: now.saturating_add(service.config.create_delay_ms as i64),
        deleting_since_ms: None,
        log,
        encryption,
        tags,
    };
    let arn = stream.arn.clone();
    service.store(stream.clone()).await?;
    service.start_worker(&stream);
    Ok(json!({ "DeliveryStreamARN": arn }))
}
