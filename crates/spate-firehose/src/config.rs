//! Settings of the Firehose service.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// How the Firehose service behaves; defaults mirror AWS where AWS defines a value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirehoseConfig {
    /// Region named in ARNs. Not part of `[firehose]`: the server fills it from `[streams]`.
    #[serde(skip)]
    pub region: String,
    /// Twelve-digit account id named in ARNs and messages; filled by the server.
    #[serde(skip)]
    pub account_id: String,
    /// How long a new delivery stream stays CREATING before it becomes ACTIVE.
    pub create_delay_ms: u64,
    /// How long a deleted delivery stream stays DELETING before it is gone.
    pub delete_delay_ms: u64,
    /// Delivery streams an account may have (AWS: 5,000 per region).
    pub delivery_stream_limit: usize,
    /// The first wait between two attempts at a failed delivery; it doubles up to `retry_max_ms`.
    pub retry_initial_ms: u64,
    /// The longest wait between two attempts at a failed delivery.
    pub retry_max_ms: u64,
    /// The DEFLATE level of GZIP objects, 1 (fastest) to 9 (smallest). AWS does not document
    /// Firehose's; Spate's default is 1, for throughput (`ARCHITECTURE.md` has the figures).
    pub gzip_level: u32,
    /// Where `arn:aws:s3:::BUCKET` goes: the S3-compatible server of every bucket, unless
    /// `buckets` names another for it.
    pub s3: S3Settings,
    /// What each Lambda function ARN a `Lambda` processor names runs as: Spate has no Lambda,
    /// so `[firehose.lambda."arn:aws:lambda:REGION:ACCOUNT:function:NAME"]` maps it to an HTTP
    /// endpoint or a local command that takes the Lambda event JSON and answers the response
    /// JSON. A processor naming an ARN not listed here is refused at CreateDeliveryStream.
    pub lambda: BTreeMap<String, LambdaTarget>,
    /// The HTTP client of the HTTP endpoint, Splunk and OpenSearch destinations.
    pub http: HttpSettings,
    /// Where an OpenSearch or Elasticsearch `DomainARN` goes, by ARN: e.g.
    /// `[firehose.opensearch_domains."arn:aws:es:us-east-1:123456789012:domain/logs"]` with
    /// `url = "http://127.0.0.1:9200"`. A `ClusterEndpoint` is used as given.
    pub opensearch_domains: BTreeMap<String, DomainSettings>,
    /// The AWS Glue tables `DataFormatConversionConfiguration.SchemaConfiguration` may name, by
    /// `"<database>.<table>"`: Spate has no Glue Data Catalog, so a table's columns are given
    /// here. A stream naming a table missing from this map is refused.
    pub glue_tables: BTreeMap<String, GlueTable>,
}

impl Default for FirehoseConfig {
    fn default() -> FirehoseConfig {
        FirehoseConfig {
            region: "us-east-1".to_string(),
            account_id: "000000000000".to_string(),
            create_delay_ms: 500,
            delete_delay_ms: 500,
            delivery_stream_limit: 5_000,
            retry_initial_ms: 1_000,
            retry_max_ms: 30_000,
            gzip_level: crate::compress::DEFAULT_GZIP_LEVEL,
            s3: S3Settings::default(),
            lambda: BTreeMap::new(),
            http: HttpSettings::default(),
            opensearch_domains: BTreeMap::new(),
            glue_tables: BTreeMap::new(),
        }
    }
}

impl FirehoseConfig {
    /// The ARN of a delivery stream of this account and region.
    pub fn delivery_stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:firehose:{}:{}:deliverystream/{}",
            self.region, self.account_id, name
        )
    }

    /// Checks what serde cannot: the GZIP level is one DEFLATE has, and every Glue table is
    /// named `<database>.<table>` and has valid columns of supported types.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=9).contains(&self.gzip_level) {
            return Err(format!(
                "firehose.gzip_level must be 1 to 9, not {}",
                self.gzip_level
            ));
        }
        for (name, table) in &self.glue_tables {
            match name.split_once('.') {
                Some((database, table)) if !database.is_empty() && !table.is_empty() => {}
                _ => {
                    return Err(format!(
                        "firehose.glue_tables: {name:?} is not \"<database>.<table>\""
                    ));
                }
            }
            crate::convert::schema::TableSchema::parse(name, &table.columns)
                .map_err(|err| format!("firehose.glue_tables: {err}"))?;
        }
        Ok(())
    }

    /// The wait after the `attempts`-th failed attempt in a row: `retry_initial_ms`, doubled for
    /// each failure after the first, at most `retry_max_ms`. The delivery worker, the retries of
    /// the HTTP-based destinations and Redshift's loads all wait so.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u64 << attempts.saturating_sub(1).min(16);
        Duration::from_millis(
            self.retry_initial_ms
                .saturating_mul(factor)
                .min(self.retry_max_ms),
        )
    }

    /// AWS's message for a delivery stream that does not exist.
    pub fn not_found_message(&self, name: &str) -> String {
        format!(
            "Firehose {name} under account {} not found.",
            self.account_id
        )
    }
}

/// The S3-compatible servers buckets live on.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// The server of every bucket not listed in `buckets`, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// The region to sign requests for.
    pub region: Option<String>,
    /// Credentials; when absent, the standard `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN` environment variables are used.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Buckets on other servers, by bucket name.
    pub buckets: BTreeMap<String, S3Endpoint>,
}

/// One bucket's server and credentials.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Endpoint {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Where a Lambda function ARN's invocations go: exactly one of `url` and `command`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LambdaTarget {
    /// `POST`ed the event JSON; the response body is the function's response JSON. A status
    /// other than 2xx is a failed invocation.
    pub url: Option<String>,
    /// Run once per invocation with the event JSON on stdin; its stdout is the response JSON.
    /// A non-zero exit status is a failed invocation. The first element is the program.
    pub command: Option<Vec<String>>,
    /// How long one invocation may take, in milliseconds (AWS Lambda's limit is 15 minutes).
    #[serde(default = "default_lambda_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_lambda_timeout_ms() -> u64 {
    60_000
}

/// The HTTP client of the HTTP-based destinations.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// A PEM file of certificates to trust besides the system's roots (e.g. a private CA of the
    /// endpoints delivered to); empty for none.
    pub ca_file: String,
    /// How long a request may take before it counts as failed; AWS gives HTTP endpoints 3
    /// minutes to respond.
    pub request_timeout_ms: u64,
    /// How often Splunk's indexer acknowledgement endpoint is asked whether a batch is indexed.
    pub ack_poll_interval_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            ca_file: String::new(),
            request_timeout_ms: 180_000,
            ack_poll_interval_ms: 1_000,
        }
    }
}

/// The server of an OpenSearch or Elasticsearch domain named by ARN.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DomainSettings {
    /// Base URL of the cluster, e.g. `https://search.example.com:9200`.
    pub url: String,
}

/// A Glue table's schema: its columns, in order.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct GlueTable {
    pub columns: Vec<GlueColumn>,
}

/// One column of a Glue table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GlueColumn {
    /// The column's name, as Glue keeps it (lowercase; matched against JSON keys as the
    /// deserializer says).
    pub name: String,
    /// Its Hive/Glue type name: `string`, `varchar(n)`, `char(n)`, `tinyint`, `smallint`, `int`,
    /// `bigint`, `float`, `double`, `boolean`, `timestamp` or `date`.
    #[serde(rename = "type")]
    pub type_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_initial_wait_up_to_the_longest() {
        let config = FirehoseConfig::default();
        let waits: Vec<u64> = (1..=7)
            .map(|attempts| config.backoff(attempts).as_millis() as u64)
            .collect();
        assert_eq!(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert_eq!(config.backoff(u32::MAX), Duration::from_millis(30_000));
    }

    #[test]
    fn the_gzip_level_is_one_deflate_has() {
        let mut config = FirehoseConfig::default();
        assert_eq!(config.gzip_level, crate::compress::DEFAULT_GZIP_LEVEL);
        for level in [1, 6, 9] {
            config.gzip_level = level;
            assert_eq!(config.validate(), Ok(()));
        }
        for level in [0, 10] {
            config.gzip_level = level;
            let err = config.validate().expect_err("refused");
            assert!(err.contains("gzip_level must be 1 to 9"), "{err}");
        }
    }
}
