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
use crate::settings::redshift::RedshiftDestination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub current_delivery_stream_version_id: Option<String>,
    pub destination_id: Option<String>,
    pub s3_destination_update: Option<S3Destination>,
    pub extended_s3_destination_update: Option<S3Destination>,
    pub redshift_destination_update: Option<RedshiftDestination>,
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
        if let Some(update) = &self.redshift_destination_update {
            update.validate(v, "redshiftDestinationUpdate", false);
        }
    }
}

/// The destination update a request carries.
#[expect(clippy::large_enum_variant, reason = "one per request, moved once")]
enum Update {
    None,
    S3(S3Destination),
    Redshift(RedshiftDestination),
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let others = [
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
        request.redshift_destination_update,
    ) {
        (Some(update), None, None) | (None, Some(update), None) => Update::S3(update),
        (None, None, Some(update)) => Update::Redshift(update),
        (None, None, None) => Update::None,
        _ => {
            return Err(FirehoseError::InvalidArgument(
                "Only one destination update can be specified.".into(),
            ));
        }
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
    let destination = match (&stream.destination, update) {
        (Destination::S3 { settings, extended }, Update::S3(update)) => Destination::S3 {
            settings: settings.merged(&update),
            extended: *extended,
        },
        (Destination::S3 { settings, extended }, Update::None) => Destination::S3 {
            settings: settings.clone(),
            extended: *extended,
        },
        (Destination::Redshift { settings }, Update::Redshift(update)) => {
            if settings.backup_enabled() && update.s3_backup_mode.as_deref() == Some("Disabled") {
                return Err(FirehoseError::InvalidArgument(
                    "S3BackupMode cannot be changed from Enabled to Disabled.".into(),
                ));
            }
            Destination::Redshift {
                settings: settings.merged(&update),
            }
        }
        (Destination::Redshift { settings }, Update::None) => Destination::Redshift {
            settings: settings.clone(),
        },
        (Destination::S3 { .. }, Update::Redshift(_))
        | (Destination::Redshift { .. }, Update::S3(_)) => {
            return Err(FirehoseError::InvalidArgument(
                "Changing the destination type with UpdateDestination is not supported by Spate yet."
                    .into(),
            ));
        }
    };
    super::create_delivery_stream::check_destination(service, &destination)?;
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
