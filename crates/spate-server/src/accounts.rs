//! The accounts Spate hosts, each a Data Streams service of its own: the server's account
//! (`streams.account_id`) and every other account a configured access key belongs to. Two
//! accounts may each have a stream named `clicks`; each key sees its own account's streams, in
//! ARNs that carry its account id.
//!
//! Each account has its own metadata store and storage engine: the server's account keeps the
//! original layout (`<data_dir>/meta.redb`, `<data_dir>/log/`), any other lives under
//! `<data_dir>/accounts/<account_id>/`. Their engines are independent (their own journal,
//! writer thread and memory bounds), so one account's load or failure never holds up another's.
//!
//! Each account also has its Firehose service, on the same metadata store and a storage engine
//! of its own (`firehose-log/` beside `log/`): delivery streams buffer by their own rhythm, and
//! Data Streams' engine removes logs no stream owns. Its Kinesis Data Analytics service (the
//! application API) keeps its applications in the same metadata store; its running
//! applications read their inputs from the account's Data Streams and write their outputs to
//! its Data Streams and Firehose, in process (`StreamsApi`, `FirehoseApi` below).
//!
//! A call goes to its caller's account, unless it names (by ARN) a resource of another account
//! hosted here: then it goes there, and authorization requires that resource's policy to allow
//! it, as cross-account access on AWS does.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use spate_analytics::{AnalyticsConfig, AnalyticsService};
use spate_firehose::FirehoseService;
use spate_log::{Clock, Log, LogError};
use spate_meta::{MetaStore, RedbStore};
use spate_streams::StreamsService;
use spate_wire::Codec;

use crate::ServerError;
use crate::config::ServerConfig;

/// The account a call goes to.
#[derive(Debug)]
pub struct Routed<'a> {
    pub streams: &'a Arc<StreamsService>,
    /// The ARN of the resource the call names, if the body was read to route it.
    pub resource: Option<String>,
}

/// The hosted accounts' services, by account id.
#[derive(Debug)]
pub struct Accounts {
    default_account: String,
    services: BTreeMap<String, Arc<StreamsService>>,
    firehose: BTreeMap<String, Arc<FirehoseService>>,
    analytics: BTreeMap<String, Arc<AnalyticsService>>,
    logs: Vec<Log>,
}

impl Accounts {
    /// Opens (and recovers) every account's storage and service.
    pub async fn open(
        config: &ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Accounts, ServerError> {
        let data_dir = &config.data_dir;
        let default_account = config.streams.account_id.clone();
        let mut account_ids = vec![default_account.clone()];
        for credential in &config.auth.credentials {
            if let Some(account) = &credential.account_id
                && !account_ids.contains(account)
            {
                account_ids.push(account.clone());
            }
        }
        let mut services = BTreeMap::new();
        let mut firehose = BTreeMap::new();
        let mut analytics = BTreeMap::new();
        let mut logs = Vec::new();
        for account in account_ids {
            let dir = if account == default_account {
                data_dir.clone()
            } else {
                data_dir.join("accounts").join(&account)
            };
            let opened = open_account(config, &account, &dir, clock.clone()).await?;
            services.insert(account.clone(), opened.streams);
            firehose.insert(account.clone(), opened.firehose);
            analytics.insert(account, opened.analytics);
            logs.extend(opened.logs);
        }
        Ok(Accounts {
            default_account,
            services,
            firehose,
            analytics,
            logs,
        })
    }

    /// One account only, its service and engine already open (in-process tests).
    pub fn single(service: Arc<StreamsService>, log: Log) -> Accounts {
        let default_account = service.account_id().to_owned();
        Accounts {
            services: BTreeMap::from([(default_account.clone(), service)]),
            firehose: BTreeMap::new(),
            analytics: BTreeMap::new(),
            default_account,
            logs: vec![log],
        }
    }

    /// The server's own account's service (the only one without other accounts configured).
    pub fn default_service(&self) -> &Arc<StreamsService> {
        self.services
            .get(&self.default_account)
            .expect("the server's account is always opened")
    }

    /// The service of `account`, if it is hosted here.
    pub fn service(&self, account: &str) -> Option<&Arc<StreamsService>> {
        self.services.get(account)
    }

    /// The Firehose service of the caller's account (None: the server's account); `None` when
    /// Firehose is not served (in-process tests of Data Streams alone).
    pub fn firehose(&self, caller_account: Option<&str>) -> Option<&Arc<FirehoseService>> {
        caller_account
            .and_then(|account| self.firehose.get(account))
            .or_else(|| self.firehose.get(&self.default_account))
    }

    /// The Kinesis Data Analytics service of the caller's account (None: the server's
    /// account); `None` when it is not served (in-process tests of Data Streams alone).
    pub fn analytics(&self, caller_account: Option<&str>) -> Option<&Arc<AnalyticsService>> {
        caller_account
            .and_then(|account| self.analytics.get(account))
            .or_else(|| self.analytics.get(&self.default_account))
    }

    /// Every account's Kinesis Data Analytics service.
    pub fn all_analytics(&self) -> impl Iterator<Item = &Arc<AnalyticsService>> {
        self.analytics.values()
    }

    /// Every account's Firehose service.
    pub fn all_firehose(&self) -> impl Iterator<Item = &Arc<FirehoseService>> {
        self.firehose.values()
    }

    /// Every account's service.
    pub fn all(&self) -> impl Iterator<Item = &Arc<StreamsService>> {
        self.services.values()
    }

    /// Where a Kinesis call from `caller_account` (None: no identity, the server's account)
    /// goes: the caller's account, or another hosted account whose resource the body names by
    /// ARN. When the body had to be read for that, the resource ARN found comes along, so that
    /// authorization need not read it again.
    pub fn for_call(&self, caller_account: Option<&str>, body: &[u8], codec: Codec) -> Routed<'_> {
        let own = caller_account
            .and_then(|account| self.services.get(account))
            .unwrap_or_else(|| self.default_service());
        if self.services.len() == 1 || !mentions_kinesis_arn(body) {
            return Routed {
                streams: own,
                resource: None,
            };
        }
        let resource = own.resource_arn_of_request(body, codec);
        let streams = resource
            .split(':')
            .nth(4)
            .and_then(|account| self.services.get(account))
            .unwrap_or(own);
        Routed {
            streams,
            resource: Some(resource),
        }
    }

    /// Closes every account's storage engine; the first error is returned, after all are closed.
    pub fn close(&self) -> Result<(), LogError> {
        let mut first_error = None;
        for log in &self.logs {
            if let Err(err) = log.close() {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Whether a body (JSON or CBOR: both carry ARNs as plain text) may name a Kinesis ARN. A
/// vectorised substring search: this runs on every call once several accounts are hosted.
fn mentions_kinesis_arn(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"arn:aws:kinesis:").is_some()
}

/// One account's services and the storage engines under them.
struct OpenAccount {
    streams: Arc<StreamsService>,
    firehose: Arc<FirehoseService>,
    analytics: Arc<AnalyticsService>,
    logs: Vec<Log>,
}

/// Opens one account's metadata store, storage engines and services under `dir`.
async fn open_account(
    config: &ServerConfig,
    account: &str,
    dir: &Path,
    clock: Arc<dyn Clock>,
) -> Result<OpenAccount, ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    // The metadata store is opened first: it refuses a second server on the same directory.
    let meta_path = dir.join("meta.redb");
    let meta: Arc<dyn MetaStore> =
        Arc::new(tokio::task::spawn_blocking(move || RedbStore::open(&meta_path)).await??);
    let log_dir = dir.join("log");
    let log_config = config.log_config();
    let log_clock = clock.clone();
    let log =
        tokio::task::spawn_blocking(move || Log::open(&log_dir, log_config, log_clock)).await??;
    let mut streams_config = config.streams_config();
    streams_config.account_id = account.to_owned();
    let streams =
        StreamsService::open(streams_config, log.clone(), meta.clone(), clock.clone()).await?;

    let firehose_dir = dir.join("firehose-log");
    let firehose_log_config = config.firehose_log_config();
    let firehose_clock = clock.clone();
    let firehose_log = tokio::task::spawn_blocking(move || {
        Log::open(&firehose_dir, firehose_log_config, firehose_clock)
    })
    .await??;
    let mut firehose_config = config.firehose_config();
    firehose_config.account_id = account.to_owned();
    let analytics_config = AnalyticsConfig::new(account, firehose_config.region.clone());
    let streams_api = Arc::new(StreamsApi(streams.clone()));
    let kinesis: Arc<dyn spate_firehose::KinesisApi> = streams_api.clone();
    let firehose = FirehoseService::open(
        firehose_config,
        firehose_log.clone(),
        meta.clone(),
        clock.clone(),
        Some(kinesis),
    )
    .await?;
    let firehose_api = Arc::new(FirehoseApi(firehose.clone()));
    let connections = spate_analytics::runtime::Connections {
        // The SQL engine is not built yet: StartApplication says so.
        factory: None,
        streams: Some(streams_api),
        firehose: Some(firehose_api.clone()),
        objects: Some(firehose_api),
    };
    let analytics = AnalyticsService::open(analytics_config, meta, clock, connections).await?;
    Ok(OpenAccount {
        streams,
        firehose,
        analytics,
        logs: vec![log, firehose_log],
    })
}

/// An account's Data Streams as the source of its delivery streams: the same operations the
/// wire serves, called in process with JSON bodies.
#[derive(Debug)]
struct StreamsApi(Arc<StreamsService>);

#[async_trait::async_trait]
impl spate_firehose::KinesisApi for StreamsApi {
    async fn call(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, spate_wire::AwsError> {
        let body = serde_json::to_vec(&body)
            .map_err(|err| spate_wire::AwsError::serialization(err.to_string()))?;
        match self.0.handle(operation, &body, Codec::Json).await {
            Some(Ok(answer)) => serde_json::from_slice(&answer)
                .map_err(|err| spate_wire::AwsError::serialization(err.to_string())),
            Some(Err(err)) => Err(err.to_aws()),
            None => Err(spate_wire::AwsError::unknown_operation(operation)),
        }
    }
}

#[async_trait::async_trait]
impl spate_analytics::runtime::StreamsApi for StreamsApi {
    async fn call(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, spate_wire::AwsError> {
        spate_firehose::KinesisApi::call(self, operation, body).await
    }
}

/// An account's Firehose as the destination of its analytics applications' outputs, and its
/// S3 settings as where their reference data is read from.
#[derive(Debug)]
struct FirehoseApi(Arc<FirehoseService>);

#[async_trait::async_trait]
impl spate_analytics::runtime::FirehoseApi for FirehoseApi {
    async fn call(
        &self,
        operation: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, spate_wire::AwsError> {
        let body = serde_json::to_vec(&body)
            .map_err(|err| spate_wire::AwsError::serialization(err.to_string()))?;
        let answer = self.0.handle(operation, &body, Codec::Json).await?;
        serde_json::from_slice(&answer)
            .map_err(|err| spate_wire::AwsError::serialization(err.to_string()))
    }
}

/// Reference data and DiscoverInputSchema's S3 objects come from the S3-compatible server
/// Firehose delivers to (`--s3-endpoint`, `[firehose.s3]`).
#[async_trait::async_trait]
impl spate_analytics::runtime::ObjectsApi for FirehoseApi {
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, spate_wire::AwsError> {
        self.0
            .read_object(bucket, key)
            .await
            .map_err(|err| err.to_aws())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinesis_arns_are_spotted_in_json_and_cbor_bodies() {
        assert!(mentions_kinesis_arn(
            br#"{"StreamARN":"arn:aws:kinesis:us-east-1:111122223333:stream/s"}"#
        ));
        assert!(mentions_kinesis_arn(
            b"\xa1\x69StreamARN\x78\x30arn:aws:kinesis:us-east-1:111122223333:stream/s"
        ));
        assert!(!mentions_kinesis_arn(br#"{"StreamName":"s"}"#));
        assert!(!mentions_kinesis_arn(b""));
    }
}
