//! Delivery to S3-compatible object storage through `object_store`: `arn:aws:s3:::BUCKET` names
//! a bucket on the server `[firehose.s3]` (or `--s3-endpoint`) configures, with path-style
//! addressing, so any S3-compatible server on any host works. One client per bucket, made on
//! first use and kept.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ClientOptions, ObjectStore, ObjectStoreExt, PutOptions, PutPayload,
    RetryConfig,
};
use parking_lot::Mutex;

use super::DeliveryError;
use crate::config::S3Settings;
use crate::convert::{self, Conversion};
use crate::delivery::{Batch, BatchRecord};
use crate::keys;
use crate::model::DeliveryStreamMeta;
use crate::processing::{self, partition};
use crate::service::FirehoseService;
use crate::settings::S3Destination;

/// Delivers a batch to an S3 destination; with `S3BackupMode` Enabled, the source records
/// (before any processor) go to the backup bucket first, as AWS backs them up. A failure of
/// either retries both (at least once).
pub(crate) async fn deliver(
    service: &FirehoseService,
    settings: &S3Destination,
    batch: &Batch,
) -> Result<(), DeliveryError> {
    if settings.s3_backup_mode.as_deref() == Some("Enabled")
        && let Some(backup) = &settings.s3_backup
    {
        write_batch(service, backup, batch).await?;
    }
    write_batch(service, settings, batch).await
}

/// Writes a batch to an S3 destination (or a backup bucket): the records through the
/// destination's processors (`processing`), one object per partition (one object in all without
/// dynamic partitioning), compressed (or converted to Parquet or ORC), then the error objects of
/// the records that failed. `Ok` only once every object is written, so a failure retries the
/// whole batch (at least once, as AWS delivers).
pub(crate) async fn write_batch(
    service: &FirehoseService,
    settings: &S3Destination,
    batch: &Batch,
) -> Result<(), DeliveryError> {
    let bucket = settings
        .bucket()
        .ok_or_else(|| DeliveryError::Configuration("the stream has no bucket".into()))?;
    let prepared = service
        .prepared
        .get(&batch.stream.name, settings, &service.config)?;
    let now_ms = || service.now_ms();
    let processed = match &prepared.pipeline {
        Some(pipeline) => {
            let context = processing::StreamContext {
                delivery_stream_arn: &batch.stream.arn,
                region: &service.config.region,
                now_ms: &now_ms,
            };
            processing::run(pipeline, &context, &batch.records).await
        }
        None => processing::Processed {
            records: batch
                .records
                .iter()
                .map(processing::Record::from_batch)
                .collect(),
            failed: Vec::new(),
        },
    };
    if let Some(conversion) = &prepared.conversion {
        return deliver_converted(service, settings, bucket, conversion, batch, processed).await;
    }
    let prefixes = keys::validate_prefixes(
        settings.prefix.as_deref(),
        settings.error_output_prefix.as_deref(),
        settings.dynamic_partitioning(),
    )
    .map_err(|err| DeliveryError::Configuration(err.to_string()))?;
    let extension = settings.extension(None);
    let naming = partition::ObjectNaming {
        prefixes: &prefixes,
        stream_name: &batch.stream.name,
        stream_version: batch.stream.version,
        time_zone: &jiff::tz::TimeZone::UTC,
        extension: &extension,
        oldest_ms: batch.oldest_ms,
        now_ms: service.now_ms(),
    };
    let objects = partition::plan(processed, &naming, &mut keys::random_uuid)
        .map_err(|err| DeliveryError::Configuration(err.to_string()))?;
    for object in objects {
        if object.is_error_output {
            service
                .s3
                .put(bucket, &object.key, object.body, None)
                .await?;
            continue;
        }
        let compression = settings.compression();
        let level = service.config.gzip_level;
        // Compressing up to 128 MiB takes a while: on blocking threads, not the runtime's.
        let body = tokio::task::spawn_blocking(move || {
            crate::compress::compress_at(
                compression,
                &object.body,
                level,
                crate::compress::threads(),
            )
        })
        .await
        .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?
        .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?;
        service
            .s3
            .put(bucket, &object.key, body, compression.content_encoding())
            .await?;
    }
    Ok(())
}

/// A batch with record format conversion: the processors' failures to the error output, then
/// the records they passed as one Parquet or ORC file made by `convert`, its own failures to
/// the error output (`format-conversion-failed`).
async fn deliver_converted(
    service: &FirehoseService,
    settings: &S3Destination,
    bucket: &str,
    conversion: &Conversion,
    batch: &Batch,
    processed: processing::Processed,
) -> Result<(), DeliveryError> {
    if !processed.failed.is_empty() {
        let prefixes = keys::validate_prefixes(
            settings.prefix.as_deref(),
            settings.error_output_prefix.as_deref(),
            false,
        )
        .map_err(|err| DeliveryError::Configuration(err.to_string()))?;
        let naming = partition::ObjectNaming {
            prefixes: &prefixes,
            stream_name: &batch.stream.name,
            stream_version: batch.stream.version,
            time_zone: &jiff::tz::TimeZone::UTC,
            extension: "",
            oldest_ms: batch.oldest_ms,
            now_ms: service.now_ms(),
        };
        let failures = processing::Processed {
            records: Vec::new(),
            failed: processed.failed,
        };
        for object in partition::plan(failures, &naming, &mut keys::random_uuid)
            .map_err(|err| DeliveryError::Configuration(err.to_string()))?
        {
            service
                .s3
                .put(bucket, &object.key, object.body, None)
                .await?;
        }
    }
    let records: Vec<BatchRecord> = processed
        .records
        .into_iter()
        .enumerate()
        .map(|(index, record)| BatchRecord {
            offset: record
                .id
                .split('.')
                .next()
                .and_then(|offset| offset.parse().ok())
                .unwrap_or(index as u64),
            arrival_ms: record.arrival_ms,
            data: record.data,
        })
        .collect();
    let converted = convert::convert(conversion, &records)
        .map_err(|err| DeliveryError::Failed(err.to_string()))?;
    if !converted.failed.is_empty() {
        let body =
            convert::error_records(conversion, &records, &converted.failed, service.now_ms());
        let key = error_object_key(
            settings,
            batch,
            keys::ErrorOutputType::FormatConversionFailed,
        )?;
        service.s3.put(bucket, &key, body, None).await?;
    }
    if let Some(object) = converted.object {
        let extension = settings.extension(Some(conversion.output.file_extension()));
        let key = key_of(settings, &batch.stream, batch.oldest_ms, None, &extension)?;
        service.s3.put(bucket, &key, object, None).await?;
    }
    Ok(())
}

/// Writes `parts` concatenated, compressed as `settings` say, as object `key` of `bucket`.
pub(crate) async fn put_compressed<'a>(
    service: &FirehoseService,
    settings: &S3Destination,
    bucket: &str,
    key: &str,
    parts: impl Iterator<Item = &'a [u8]>,
) -> Result<(), DeliveryError> {
    let compression = settings.compression();
    let mut compressor = compression.compressor_at(service.config.gzip_level);
    for part in parts {
        compressor
            .write(part)
            .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?;
    }
    let body = compressor
        .finish()
        .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?;
    service
        .s3
        .put(bucket, key, body, compression.content_encoding())
        .await
}

/// The key of a batch's object, as AWS names it.
pub(crate) fn object_key(settings: &S3Destination, batch: &Batch) -> Result<String, DeliveryError> {
    key_of(
        settings,
        &batch.stream,
        batch.oldest_ms,
        None,
        &settings.extension(None),
    )
}

/// Writes a buffer the worker compressed while it filled (`delivery::eager`) as the one object
/// `write_batch` would have made of it: the stream has no processors, no conversion, no
/// dynamic partitioning and no backup.
pub(crate) async fn put_precompressed(
    service: &FirehoseService,
    settings: &S3Destination,
    stream: &DeliveryStreamMeta,
    oldest_ms: i64,
    body: Vec<u8>,
) -> Result<(), DeliveryError> {
    let bucket = settings
        .bucket()
        .ok_or_else(|| DeliveryError::Configuration("the stream has no bucket".into()))?;
    let key = key_of(settings, stream, oldest_ms, None, &settings.extension(None))?;
    service
        .s3
        .put(
            bucket,
            &key,
            body,
            settings.compression().content_encoding(),
        )
        .await
}

/// The key of the object holding a batch's failed records, under `ErrorOutputPrefix` (or the
/// prefix and `error_type`'s folder).
pub(crate) fn error_object_key(
    settings: &S3Destination,
    batch: &Batch,
    error_type: keys::ErrorOutputType,
) -> Result<String, DeliveryError> {
    // Unverified: whether AWS gives error objects an extension; Spate gives none (they are
    // JSON lines whatever the output format).
    key_of(
        settings,
        &batch.stream,
        batch.oldest_ms,
        Some(error_type),
        "",
    )
}

fn key_of(
    settings: &S3Destination,
    stream: &DeliveryStreamMeta,
    oldest_ms: i64,
    error_type: Option<keys::ErrorOutputType>,
    extension: &str,
) -> Result<String, DeliveryError> {
    let prefixes = keys::validate_prefixes(
        settings.prefix.as_deref(),
        settings.error_output_prefix.as_deref(),
        false,
    )
    .map_err(|err| DeliveryError::Configuration(err.to_string()))?;
    let no_keys = BTreeMap::new();
    let inputs = keys::KeyInputs {
        stream_name: &stream.name,
        stream_version: stream.version,
        oldest_arrival_ms: oldest_ms,
        time_zone: &jiff::tz::TimeZone::UTC,
        query_keys: &no_keys,
        lambda_keys: &no_keys,
        extension,
    };
    let key = match error_type {
        None => keys::object_key(prefixes.prefix.as_ref(), &inputs, &mut keys::random_uuid),
        Some(error_type) => keys::error_object_key(
            prefixes.error_output_prefix.as_ref(),
            prefixes.prefix.as_ref(),
            error_type,
            &inputs,
            &mut keys::random_uuid,
        ),
    };
    key.map_err(|err| DeliveryError::Configuration(err.to_string()))
}

/// The S3 clients of every bucket delivered to.
#[derive(Debug)]
pub struct S3Stores {
    settings: S3Settings,
    clients: Mutex<BTreeMap<String, Arc<AmazonS3>>>,
}

impl S3Stores {
    pub fn new(settings: S3Settings) -> S3Stores {
        S3Stores {
            settings,
            clients: Mutex::new(BTreeMap::new()),
        }
    }

    /// The server `bucket` lives on, if one is configured.
    pub fn endpoint_of(&self, bucket: &str) -> Option<&str> {
        self.settings
            .buckets
            .get(bucket)
            .and_then(|own| own.endpoint.as_deref())
            .or(self.settings.endpoint.as_deref())
    }

    fn client(&self, bucket: &str) -> Result<Arc<AmazonS3>, DeliveryError> {
        if let Some(client) = self.clients.lock().get(bucket) {
            return Ok(Arc::clone(client));
        }
        let endpoint = self.endpoint_of(bucket).ok_or_else(|| {
            DeliveryError::Configuration(format!(
                "no S3-compatible server is configured for bucket {bucket} (--s3-endpoint)"
            ))
        })?;
        let own = self.settings.buckets.get(bucket);
        let pick = |own: Option<&Option<String>>, all: &Option<String>| {
            own.and_then(Option::clone).or_else(|| all.clone())
        };
        // Retries are the delivery worker's (with its own backoff and error output); one
        // quick attempt here, bounded in time, so a server that is down is noticed.
        let retry = RetryConfig {
            max_retries: 0,
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_endpoint(endpoint)
            .with_bucket_name(bucket)
            // The client options first: they carry allow_http, which they would reset.
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120)),
            )
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_retry(retry)
            // Hashing every object for its signature costs a core's worth of SHA-256 at full
            // speed; TCP and the server's own checks guard the bytes, as for AWS SDK uploads.
            .with_unsigned_payload(true)
            .with_region(
                pick(own.map(|b| &b.region), &self.settings.region)
                    .unwrap_or_else(|| "us-east-1".to_string()),
            );
        if let Some(key) = pick(own.map(|b| &b.access_key_id), &self.settings.access_key_id) {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = pick(
            own.map(|b| &b.secret_access_key),
            &self.settings.secret_access_key,
        ) {
            builder = builder.with_secret_access_key(secret);
        }
        let client = Arc::new(builder.build().map_err(|err| {
            DeliveryError::Configuration(format!("S3 client for bucket {bucket}: {err}"))
        })?);
        self.clients
            .lock()
            .insert(bucket.to_owned(), Arc::clone(&client));
        Ok(client)
    }

    /// Reads one whole object (Kinesis Data Analytics' reference data, read through the same
    /// S3 settings as delivery).
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, DeliveryError> {
        let client = self.client(bucket)?;
        let path = Path::parse(key)
            .map_err(|err| DeliveryError::Configuration(format!("object key {key:?}: {err}")))?;
        let object = client.get(&path).await.map_err(|err| {
            DeliveryError::Failed(format!("GetObject s3://{bucket}/{key}: {err}"))
        })?;
        let bytes = object.bytes().await.map_err(|err| {
            DeliveryError::Failed(format!("GetObject s3://{bucket}/{key}: {err}"))
        })?;
        Ok(bytes.to_vec())
    }

    /// Writes one object, with its `Content-Encoding` when it is compressed (as Firehose does).
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_encoding: Option<&'static str>,
    ) -> Result<(), DeliveryError> {
        let client = self.client(bucket)?;
        let path = Path::parse(key)
            .map_err(|err| DeliveryError::Configuration(format!("object key {key:?}: {err}")))?;
        let mut options = PutOptions::default();
        if let Some(encoding) = content_encoding {
            options.attributes =
                Attributes::from_iter([(Attribute::ContentEncoding, encoding.to_owned())]);
        }
        client
            .put_opts(&path, PutPayload::from(body), options)
            .await
            .map_err(|err| {
                DeliveryError::Failed(format!("PutObject s3://{bucket}/{key}: {err}"))
            })?;
        Ok(())
    }
}
