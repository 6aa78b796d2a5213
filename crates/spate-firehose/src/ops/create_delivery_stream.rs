//! CreateDeliveryStream: a DirectPut stream with an S3 or extended S3 destination. Sources and
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_type: Option<String>,
    pub direct_put_source_configuration: Option<DirectPutSource>,
    pub kinesis_stream_source_configuration: Option<Value>,
    pub delivery_stream_encryption_configuration_input: Option<EncryptionInput>,
    pub s3_destination_configuration: Option<S3Destination>,
    pub extended_s3_destination_configuration: Option<S3Destination>,
    pub redshift_destination_configuration: Option<Value>,
    pub elasticsearch_destination_configuration: Option<Value>,
    pub amazonopensearchservice_destination_configuration: Option<Value>,
    pub splunk_destination_configuration: Option<Value>,
    pub http_endpoint_destination_configuration: Option<Value>,
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
        if let Some(encryption) = &self.delivery_stream_encryption_configuration_input {
            encryption.validate(v, "deliveryStreamEncryptionConfigurationInput");
        }
        if let Some(s3) = &self.s3_destination_configuration {
            s3.validate(v, "s3DestinationConfiguration", true);
        }
        if let Some(s3) = &self.extended_s3_destination_configuration {
            s3.validate(v, "extendedS3DestinationConfiguration", true);
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
            "KinesisStreamSourceConfiguration",
            request.kinesis_stream_source_configuration.is_some(),
        ),
        (
            "RedshiftDestinationConfiguration",
            request.redshift_destination_configuration.is_some(),
        ),
        (
            "ElasticsearchDestinationConfiguration",
            request.elasticsearch_destination_configuration.is_some(),
        ),
        (
            "AmazonopensearchserviceDestinationConfiguration",
            request
                .amazonopensearchservice_destination_configuration
                .is_some(),
        ),
        (
            "SplunkDestinationConfiguration",
            request.splunk_destination_configuration.is_some(),
        ),
        (
            "HttpEndpointDestinationConfiguration",
            request.http_endpoint_destination_configuration.is_some(),
        ),
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
        None | Some("DirectPut") => Ok(()),
        Some(other) => Err(FirehoseError::InvalidArgument(format!(
            "DeliveryStreamType {other} is not supported by Spate yet."
        ))),
    }
}

pub async fn handle(
    service: &Arc<FirehoseService>,
    request: Request,
) -> Result<Value, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name).to_owned();
    refuse_unsupported(&request)?;
    let destination = match (
        &request.s3_destination_configuration,
        &request.extended_s3_destination_configuration,
    ) {
        (Some(_), Some(_)) => {
            return Err(FirehoseError::InvalidArgument(
                "Only one destination configuration can be specified: S3DestinationConfiguration or ExtendedS3DestinationConfiguration.".into(),
            ));
        }
        (Some(settings), None) => Destination::S3 {
            settings: settings.clone(),
            extended: false,
        },
        (None, Some(settings)) => Destination::S3 {
            settings: settings.clone(),
            extended: true,
        },
        (None, None) => {
            return Err(FirehoseError::InvalidArgument(
                "A destination configuration is required: S3DestinationConfiguration or ExtendedS3DestinationConfiguration.".into(),
            ));
        }
    };
    let Destination::S3 { settings, .. } = &destination;
    settings.check()?;
    crate::convert::Conversion::from_settings(settings, &service.config)?;
    if let Some(bucket) = settings.bucket()
        && service.s3.endpoint_of(bucket).is_none()
    {
        return Err(FirehoseError::InvalidArgument(format!(
            "Spate has no S3-compatible server for bucket {bucket}: start it with --s3-endpoint URL (or [firehose.s3] in its configuration)."
        )));
    }
    let mut tags = BTreeMap::new();
    for tag in request.tags.iter().flatten() {
        tags.insert(
            tag.key.clone().unwrap_or_default(),
            tag.value.clone().unwrap_or_default(),
        );
    }
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
        stream_type: StreamType::DirectPut,
        source: Some(json!({
            "ThroughputHintInMBs": request
                .direct_put_source_configuration
                .as_ref()
                .and_then(|source| source.throughput_hint_in_mbs)
                .unwrap_or(5)
        })),
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
