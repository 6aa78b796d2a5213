//! Delivery to Redshift, with PostgreSQL standing in for the cluster, the way Firehose does it:
//! the batch is first written to the intermediate bucket (`S3Configuration`) as an S3
//! destination would write it, then a manifest naming that object is written next to it, then
//! the data is loaded with `COPY`.
//!
//! Object keys (the intermediate prefix has no expressions, a Redshift rule, so each is the
//! literal prefix, a folder, the default `YYYY/MM/DD/HH/` path and the object name):
//! - data: `<Prefix>YYYY/MM/DD/HH/<name><extension>`, as an S3 destination;
//! - manifest: `<Prefix>manifests/YYYY/MM/DD/HH/<name>`, holding
//!   `{"entries":[{"url":"s3://bucket/<data key>","mandatory":true}]}` (the manifest format of
//!   Redshift's *Using a manifest to specify data files*);
//! - a batch that could not be loaded: its manifest again, under
//!   `<Prefix>errors/manifests/YYYY/MM/DD/HH/<name>`. *Handle data delivery failures*, Amazon
//!   Redshift: Firehose "retries for the specified time duration and skips that particular
//!   batch of Amazon S3 objects. The skipped objects' information is delivered to your S3
//!   bucket as a manifest file in the `errors/` folder, which you can use for manual
//!   backfill." Unverified: the `manifests/` folder names, which follow what AWS delivers
//!   rather than a documented sentence. `ErrorOutputPrefix` must be null for Redshift, so the
//!   error folder hangs off `Prefix`.
//!
//! The load: AWS runs `COPY table (columns) FROM 's3://bucket/manifest' ... MANIFEST
//! <CopyOptions>`; Spate connects to the PostgreSQL server `ClusterJDBCURL` names (no TLS yet:
//! `NoTls`), and runs `COPY table (columns) FROM STDIN` with the object, as [`copy`] translates
//! it. A failed load is retried for `RetryOptions.DurationInSeconds` from the first attempt
//! (default 3600; 0 means no retry), with the worker's doubling waits; then the manifest goes
//! to `errors/` and the batch counts as delivered, so the checkpoint advances. A restart in
//! the middle writes the batch again and starts the retry duration over.

pub mod copy;

use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use serde_json::json;
use tokio::time::Instant;
use tokio_postgres::NoTls;
use tracing::{debug, warn};
use uuid::Uuid;

use super::DeliveryError;
use crate::delivery::Batch;
use crate::keys::{self, Prefix, PrefixRole};
use crate::service::FirehoseService;
use crate::settings::S3Destination;
use crate::settings::redshift::{JdbcUrl, RedshiftDestination};
use copy::{CopyOptions, Format, Identifier};

/// The longest a connection attempt, or one COPY, may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const COPY_TIMEOUT: Duration = Duration::from_secs(300);

/// Writes the batch and its manifest to the intermediate bucket, loads it, and on a load that
/// keeps failing past the retry duration writes the manifest under `errors/`.
pub(crate) async fn deliver(
    service: &FirehoseService,
    settings: &RedshiftDestination,
    batch: Batch,
) -> Result<(), DeliveryError> {
    if settings.backup_enabled()
        && let Some(backup) = &settings.s3_backup
    {
        super::s3::write_batch(service, backup, &batch).await?;
    }
    let intermediate = settings.intermediate();
    let bucket = intermediate
        .bucket()
        .ok_or_else(|| DeliveryError::Configuration("the stream has no bucket".into()))?;
    let compression = intermediate.compression();
    let mut compressor = compression.compressor_at(service.config.gzip_level);
    for record in &batch.records {
        compressor
            .write(&record.data)
            .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?;
    }
    let object = compressor
        .finish()
        .map_err(|err| DeliveryError::Failed(format!("compressing a batch: {err}")))?;
    let name = keys::random_uuid();
    let data_key = key(
        &intermediate,
        "",
        &batch,
        &intermediate.extension(None),
        name,
    )?;
    service
        .s3
        .put(
            bucket,
            &data_key,
            object.clone(),
            compression.content_encoding(),
        )
        .await?;
    let manifest = manifest(bucket, &data_key);
    let manifest_key = key(&intermediate, "manifests/", &batch, "", name)?;
    service
        .s3
        .put(bucket, &manifest_key, manifest.clone(), None)
        .await?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(settings.retry_secs());
    let mut attempts: u32 = 0;
    loop {
        attempts = attempts.saturating_add(1);
        let error = match tokio::time::timeout(COPY_TIMEOUT, load(settings, &object)).await {
            Ok(Ok(rows)) => {
                debug!(delivery_stream = %batch.stream.name, rows, manifest = %manifest_key, "loaded into redshift");
                return Ok(());
            }
            Ok(Err(error)) => error,
            Err(_) => format!("COPY did not finish within {COPY_TIMEOUT:?}"),
        };
        let now = Instant::now();
        if now >= deadline {
            let error_key = key(&intermediate, "errors/manifests/", &batch, "", name)?;
            warn!(
                delivery_stream = %batch.stream.name,
                error = %error,
                attempts,
                manifest = %error_key,
                "redshift load failed past the retry duration; the batch is skipped and its manifest written under errors/"
            );
            put_until_written(service, bucket, &error_key, manifest).await;
            return Ok(());
        }
        let wait = service.config.backoff(attempts).min(deadline - now);
        warn!(
            delivery_stream = %batch.stream.name,
            error = %error,
            attempt = attempts,
            retry_in_ms = wait.as_millis() as u64,
            "redshift load failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// Writes the error manifest, retrying as long as S3 refuses: the batch must not be dropped
/// without a trace (AWS pauses delivery in this case, too).
async fn put_until_written(service: &FirehoseService, bucket: &str, key: &str, manifest: Vec<u8>) {
    let mut attempts: u32 = 0;
    loop {
        attempts = attempts.saturating_add(1);
        match service.s3.put(bucket, key, manifest.clone(), None).await {
            Ok(()) => return,
            Err(err) => {
                let wait = service.config.backoff(attempts);
                warn!(error = %err, key, retry_in_ms = wait.as_millis() as u64, "writing an error manifest failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// A Redshift manifest naming one object.
fn manifest(bucket: &str, key: &str) -> Vec<u8> {
    let manifest = json!({
        "entries": [{"url": format!("s3://{bucket}/{key}"), "mandatory": true}]
    });
    manifest.to_string().into_bytes()
}

/// `<Prefix><folder>YYYY/MM/DD/HH/<name><extension>`, the name made with `name` as its UUID.
fn key(
    settings: &S3Destination,
    folder: &str,
    batch: &Batch,
    extension: &str,
    name: Uuid,
) -> Result<String, DeliveryError> {
    let text = format!("{}{folder}", settings.prefix.as_deref().unwrap_or_default());
    let prefix = if text.is_empty() {
        None
    } else {
        Some(
            Prefix::parse(&text, PrefixRole::Prefix)
                .map_err(|err| DeliveryError::Configuration(err.to_string()))?,
        )
    };
    let no_keys = std::collections::BTreeMap::new();
    let inputs = keys::KeyInputs {
        stream_name: &batch.stream.name,
        stream_version: batch.stream.version,
        oldest_arrival_ms: batch.oldest_ms,
        time_zone: &jiff::tz::TimeZone::UTC,
        query_keys: &no_keys,
        lambda_keys: &no_keys,
        extension,
    };
    keys::object_key(prefix.as_ref(), &inputs, &mut || name)
        .map_err(|err| DeliveryError::Configuration(err.to_string()))
}

/// One load: connect, `COPY ... FROM STDIN`, the number of rows loaded.
async fn load(settings: &RedshiftDestination, object: &[u8]) -> Result<u64, String> {
    let url = settings.cluster_jdbc_url.as_deref().unwrap_or_default();
    let target = JdbcUrl::parse(url).ok_or_else(|| format!("ClusterJDBCURL {url} is invalid"))?;
    let command = settings.copy_command.clone().unwrap_or_default();
    let options = CopyOptions::parse(command.copy_options.as_deref().unwrap_or_default())?;
    let table = copy::table_name(command.data_table_name.as_deref().unwrap_or_default())?;
    let table_sql = table
        .iter()
        .map(|part| part.sql.as_str())
        .collect::<Vec<_>>()
        .join(".");
    let mut columns =
        copy::column_names(command.data_table_columns.as_deref().unwrap_or_default())?;

    let mut config = tokio_postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .dbname(&target.database)
        .user(settings.username.as_deref().unwrap_or_default())
        .password(settings.password.as_deref().unwrap_or_default())
        .application_name("spate-firehose")
        .connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = config.connect(NoTls).await.map_err(|err| {
        format!(
            "connecting to {}:{}/{}: {}",
            target.host,
            target.port,
            target.database,
            describe(&err)
        )
    })?;
    let connection = tokio::spawn(connection);

    let result = async {
        if columns.is_empty() && matches!(options.format, Format::JsonAuto { .. }) {
            // JSON 'auto' without DataTableColumns loads every column of the table.
            let statement = client
                .prepare(&format!("SELECT * FROM {table_sql} LIMIT 0"))
                .await
                .map_err(|err| format!("reading the columns of {table_sql}: {}", describe(&err)))?;
            columns = statement
                .columns()
                .iter()
                .map(|column| Identifier {
                    sql: format!("\"{}\"", column.name().replace('"', "\"\"")),
                    name: column.name().to_owned(),
                })
                .collect();
        }
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let rows = options.rows(object, &names)?;
        let column_list = if columns.is_empty() {
            String::new()
        } else {
            let list: Vec<&str> = columns.iter().map(|c| c.sql.as_str()).collect();
            format!(" ({})", list.join(", "))
        };
        let statement = format!(
            "COPY {table_sql}{column_list} FROM STDIN WITH ({})",
            options.postgres_with()
        );
        let sink = client
            .copy_in::<_, Bytes>(statement.as_str())
            .await
            .map_err(|err| format!("{statement}: {}", describe(&err)))?;
        futures::pin_mut!(sink);
        sink.send(Bytes::from(rows))
            .await
            .map_err(|err| format!("{statement}: {}", describe(&err)))?;
        sink.as_mut()
            .finish()
            .await
            .map_err(|err| format!("{statement}: {}", describe(&err)))
    }
    .await;
    drop(client);
    let _ = connection.await;
    result
}

/// A PostgreSQL error with the server's own message when there is one.
fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_its_object_as_redshift_reads_it() {
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest("b", "p/2026/01/02/03/s-1-x")).expect("json");
        assert_eq!(
            manifest,
            json!({"entries": [{"url": "s3://b/p/2026/01/02/03/s-1-x", "mandatory": true}]})
        );
    }
}
