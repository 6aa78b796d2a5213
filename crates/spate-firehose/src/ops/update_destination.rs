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
use crate::settings::http_endpoint::HttpEndpointDestination;
use crate::settings::opensearch::OpenSearchDestination;
use crate::settings::redshift::RedshiftDestination;
use crate::settings::splunk::SplunkDestination;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub current_delivery_stream_version_id: Option<String>,
    pub destination_id: Option<String>,
    pub s3_destination_update: Option<S3Destination>,
    pub extended_s3_destination_update: Option<S3Destination>,
    pub redshift_destination_update: Option<RedshiftDestination>,
    pub elasticsearch_destination_update: Option<OpenSearchDestination>,
    pub amazonopensearchservice_destination_update: Option<OpenSearchDestination>,
    pub splunk_destination_update: Option<SplunkDestination>,
    pub http_endpoint_destination_update: Option<HttpEndpointDestination>,
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
        if let Some(update) = &self.http_endpoint_destination_update {
            update.validate(v, "httpEndpointDestinationUpdate", false);
        }
        if let Some(update) = &self.redshift_destination_update {
            update.validate(v, "redshiftDestinationUpdate", false);
        }
        if let Some(update) = &self.splunk_destination_update {
            update.validate(v, "splunkDestinationUpdate", false);
        }
        if let Some(update) = &self.amazonopensearchservice_destination_update {
            update.validate(v, "amazonopensearchserviceDestinationUpdate", false);
        }
        if let Some(update) = &self.elasticsearch_destination_update {
            update.validate(v, "elasticsearchDestinationUpdate", false);
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let others = [
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
    let given = [
        request.s3_destination_update.is_some(),
        request.extended_s3_destination_update.is_some(),
        request.http_endpoint_destination_update.is_some(),
        request.splunk_destination_update.is_some(),
        request.amazonopensearchservice_destination_update.is_some(),
        request.elasticsearch_destination_update.is_some(),
        request.redshift_destination_update.is_some(),
    ];
    if given.iter().filter(|given| **given).count() > 1 {
        return Err(FirehoseError::InvalidArgument(
            "Only one destination update can be specified.".into(),
        ));
    }
    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    let current = request
        .current_delivery_stream_version_id
        .clone()
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
            request.destination_id.as_deref().unwrap_or_default()
        )));
    }
    let destination = merged(&stream.destination, request_updates(&request))?;
    // "You cannot enable dynamic partitioning for an existing Firehose stream that does not have
    // dynamic partitioning already enabled" (AWS CDK `DynamicPartitioningProps`, after the
    // Firehose developer guide).
    if let (Destination::S3 { settings: old, .. }, Destination::S3 { settings: new, .. }) =
        (&stream.destination, &destination)
        && new.dynamic_partitioning()
        && !old.dynamic_partitioning()
    {
        return Err(FirehoseError::InvalidArgument(
            "Dynamic partitioning cannot be enabled on an existing delivery stream that was created without it.".into(),
        ));
    }
    super::check_destination(service, &destination)?;
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

/// The update a request carries, whichever destination it names.
enum Update<'a> {
    None,
    S3(&'a S3Destination),
    HttpEndpoint(&'a HttpEndpointDestination),
    Splunk(&'a SplunkDestination),
    OpenSearch(&'a OpenSearchDestination, bool),
    Redshift(&'a RedshiftDestination),
}

fn request_updates(request: &Request) -> Update<'_> {
    if let Some(update) = request
        .s3_destination_update
        .as_ref()
        .or(request.extended_s3_destination_update.as_ref())
    {
        return Update::S3(update);
    }
    if let Some(update) = &request.http_endpoint_destination_update {
        return Update::HttpEndpoint(update);
    }
    if let Some(update) = &request.splunk_destination_update {
        return Update::Splunk(update);
    }
    if let Some(update) = &request.amazonopensearchservice_destination_update {
        return Update::OpenSearch(update, false);
    }
    if let Some(update) = &request.elasticsearch_destination_update {
        return Update::OpenSearch(update, true);
    }
    if let Some(update) = &request.redshift_destination_update {
        return Update::Redshift(update);
    }
    Update::None
}

/// The stored destination with the update applied. An update for another kind of destination
/// is refused: Spate does not switch a stream's destination type (AWS can; unverified how it
/// fills the new destination's members from the old).
fn merged(current: &Destination, update: Update<'_>) -> Result<Destination, FirehoseError> {
    let mismatch = || {
        FirehoseError::InvalidArgument(
            "Spate does not change a delivery stream's destination type; the update must be for the stream's current destination.".into(),
        )
    };
    Ok(match (current, update) {
        (destination, Update::None) => destination.clone(),
        (Destination::S3 { settings, extended }, Update::S3(update)) => Destination::S3 {
            settings: settings.merged(update),
            extended: *extended,
        },
        (Destination::HttpEndpoint(settings), Update::HttpEndpoint(update)) => {
            Destination::HttpEndpoint(settings.merged(update))
        }
        (Destination::Splunk(settings), Update::Splunk(update)) => {
            settings.check_update(update)?;
            Destination::Splunk(settings.merged(update))
        }
        (
            Destination::OpenSearch {
                settings,
                elasticsearch,
            },
            Update::OpenSearch(update, update_elasticsearch),
        ) if *elasticsearch == update_elasticsearch => Destination::OpenSearch {
            settings: settings.merged(update),
            elasticsearch: *elasticsearch,
        },
        (Destination::Redshift { settings }, Update::Redshift(update)) => {
            if settings.backup_enabled() && update.s3_backup_mode.as_deref() == Some("Disabled") {
                return Err(FirehoseError::InvalidArgument(
                    "S3BackupMode cannot be changed from Enabled to Disabled.".into(),
                ));
            }
            Destination::Redshift {
                settings: settings.merged(update),
            }
        }
        _ => return Err(mismatch()),
    })
}
