//! UpdateDestination: changes the destination's settings, checked against the version the
//! caller last saw (`CurrentDeliveryStreamVersionId`); the version goes up by one. Buffers
//! written after the change use the new settings.

use serde::Deserialize;
use serde_json::Value;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::{DESTINATION_ID, DeliveryStreamMeta, Destination};
use crate::service::FirehoseService;
use crate::settings::S3Destination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub current_delivery_stream_version_id: Option<String>,
    pub destination_id: Option<String>,
    pub s3_destination_update: Option<S3Destination>,
    pub extended_s3_destination_update: Option<S3Destination>,
    pub redshift_destination_update: Option<Value>,
    pub elasticsearch_destination_update: Option<Value>,
    pub amazonopensearchservice_destination_update: Option<Value>,
    pub splunk_destination_update: Option<Value>,
    pub http_endpoint_destination_update: Option<Value>,
    pub amazon_open_search_serverless_destination_update: Option<Value>,
    pub snowflake_destination_update: Option<Value>,
    pub iceberg_destination_update: Option<Value>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        match &self.current_delivery_stream_version_id {
            None => v.required(
                "currentDeliveryStreamVersionId",
                &self.current_delivery_stream_version_id,
            ),
            Some(version) => {
                v.string_length("currentDeliveryStreamVersionId", version, 1, 50);
                v.pattern(
                    "currentDeliveryStreamVersionId",
                    version,
                    "[0-9]+",
                    !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()),
                );
            }
        }
        match &self.destination_id {
            None => v.required("destinationId", &self.destination_id),
            Some(id) => {
                v.string_length("destinationId", id, 1, 100);
                v.pattern(
                    "destinationId",
                    id,
                    "[a-zA-Z0-9-]+",
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                );
            }
        }
        if let Some(update) = &self.s3_destination_update {
            update.validate(v, "s3DestinationUpdate", false);
        }
        if let Some(update) = &self.extended_s3_destination_update {
            update.validate(v, "extendedS3DestinationUpdate", false);
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let others = [
        (
            "RedshiftDestinationUpdate",
            request.redshift_destination_update.is_some(),
        ),
        (
            "ElasticsearchDestinationUpdate",
            request.elasticsearch_destination_update.is_some(),
        ),
        (
            "AmazonopensearchserviceDestinationUpdate",
            request.amazonopensearchservice_destination_update.is_some(),
        ),
        (
            "SplunkDestinationUpdate",
            request.splunk_destination_update.is_some(),
        ),
        (
            "HttpEndpointDestinationUpdate",
            request.http_endpoint_destination_update.is_some(),
        ),
        (
            "AmazonOpenSearchServerlessDestinationUpdate",
            request
                .amazon_open_search_serverless_destination_update
                .is_some(),
        ),
        (
            "SnowflakeDestinationUpdate",
            request.snowflake_destination_update.is_some(),
        ),
        (
            "IcebergDestinationUpdate",
            request.iceberg_destination_update.is_some(),
        ),
    ];
    if let Some((member, _)) = others.iter().find(|(_, present)| *present) {
        return Err(FirehoseError::InvalidArgument(format!(
            "{member} is not supported by Spate yet."
        )));
    }
    let update = match (
        request.s3_destination_update,
        request.extended_s3_destination_update,
    ) {
        (Some(_), Some(_)) => {
            return Err(FirehoseError::InvalidArgument(
                "Only one destination update can be specified.".into(),
            ));
        }
        (Some(update), None) | (None, Some(update)) => update,
        (None, None) => S3Destination::default(),
    };

    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    let current = request
        .current_delivery_stream_version_id
        .unwrap_or_default();
    if current != stream.version.to_string() {
        return Err(FirehoseError::ConcurrentModification(format!(
            "Cannot update firehose: {name} since the current version id: {} and specified version id: {current} do not match",
            stream.version
        )));
    }
    if request.destination_id.as_deref() != Some(DESTINATION_ID) {
        return Err(FirehoseError::InvalidArgument(format!(
            "Destination Id {} not found in Firehose {name}.",
            request.destination_id.unwrap_or_default()
        )));
    }
    let Destination::S3 { settings, extended } = &stream.destination;
    let merged = settings.merged(&update);
    merged.check()?;
    crate::convert::Conversion::from_settings(&merged, &service.config)?;
    if let Some(bucket) = merged.bucket()
        && service.s3.endpoint_of(bucket).is_none()
    {
        return Err(FirehoseError::InvalidArgument(format!(
            "Spate has no S3-compatible server for bucket {bucket}: start it with --s3-endpoint URL (or [firehose.s3] in its configuration)."
        )));
    }
    let destination = Destination::S3 {
        settings: merged,
        extended: *extended,
    };
    service
        .store(DeliveryStreamMeta {
            destination,
            version: stream.version + 1,
            updated_ms: Some(service.now_ms()),
            ..(*stream).clone()
        })
        .await?;
    Ok(Empty {})
}
