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
//! Its Kinesis Video service keeps its streams and signaling channels in the same metadata
//! store, and their fragments in a storage engine of its own (`video-log/`), which deletes
//! the logs no video stream owns.
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
use spate_video::VideoService;
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
    video: BTreeMap<String, Arc<VideoService>>,
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
        let mut video = BTreeMap::new();
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
            video.insert(account.clone(), opened.video);
            analytics.insert(account, opened.analytics);
            logs.extend(opened.logs);
        }
        Ok(Accounts {
            default_account,
            services,
            firehose,
            analytics,
            video,
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
            video: BTreeMap::new(),
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

    /// The Kinesis Video service of the caller's account (None: the server's account); `None`
    /// when it is not served (in-process tests of Data Streams alone).
    pub fn video(&self, caller_account: Option<&str>) -> Option<&Arc<VideoService>> {
        caller_account
            .and_then(|account| self.video.get(account))
            .or_else(|| self.video.get(&self.default_account))
    }

    /// Every account's Kinesis Video service.
    pub fn all_video(&self) -> impl Iterator<Item = &Arc<VideoService>> {
        self.video.values()
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
    video: Arc<VideoService>,
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
    let mut analytics_config = AnalyticsConfig::new(account, firehose_config.region.clone());
    analytics_config.runtime = config.analytics.runtime();
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
        // The SQL engine: applications' code compiled and run on Arrow batches.
        factory: Some(Arc::new(spate_analytics::engine::pipeline::EngineFactory)),
        streams: Some(streams_api),
        firehose: Some(firehose_api.clone()),
        objects: Some(firehose_api.clone()),
        lambda: Some(firehose_api),
    };
    let mut video_config = config.video_config();
    video_config.account_id = account.to_owned();
    let video_dir = dir.join("video-log");
    let video_log_config = config.video_log_config();
    let video_clock = clock.clone();
    let video_log =
        tokio::task::spawn_blocking(move || Log::open(&video_dir, video_log_config, video_clock))
            .await??;
    let video = VideoService::open(
        video_config,
        meta.clone(),
        clock.clone(),
        spate_video::store::FragmentStore::with_log(video_log.clone()),
    )
    .await?;
    let analytics = AnalyticsService::open(analytics_config, meta, clock, connections).await?;
    Ok(OpenAccount {
        streams,
        firehose,
        analytics,
        video,
        logs: vec![log, firehose_log, video_log],
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

/// An account's Firehose as the source and destination of its analytics applications (inputs
/// that read delivery streams, outputs that write to them), and its S3 settings as where their
/// reference data is read from.
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

    async fn read_log(
        &self,
        name: &str,
        from: u64,
        max_records: usize,
    ) -> Result<spate_analytics::runtime::apis::DeliveryLogRead, spate_wire::AwsError> {
        let read = self
            .0
            .read_log(name, from, max_records)
            .await
            .map_err(|err| err.to_aws())?;
        Ok(spate_analytics::runtime::apis::DeliveryLogRead {
            records: read
                .records
                .into_iter()
                .map(|record| spate_analytics::runtime::apis::DeliveryLogRecord {
                    offset: record.offset,
                    arrival_ms: record.arrival_ms,
                    data: record.data.to_vec(),
                })
                .collect(),
            end: read.end,
        })
    }

    async fn hold_log(
        &self,
        name: &str,
        holder: &str,
        offset: u64,
    ) -> Result<(), spate_wire::AwsError> {
        self.0
            .hold_log(name, holder, offset)
            .await
            .map_err(|err| err.to_aws())
    }

    async fn release_log(&self, name: &str, holder: &str) -> Result<(), spate_wire::AwsError> {
        self.0
            .release_log(name, holder)
            .await
            .map_err(|err| err.to_aws())
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

/// Lambda outputs invoke the functions Firehose maps Lambda ARNs to (`[firehose.lambda]`).
#[async_trait::async_trait]
impl spate_analytics::runtime::LambdaApi for FirehoseApi {
    fn check(&self, function_arn: &str) -> Result<(), spate_wire::AwsError> {
        self.0
            .lambda_processor(function_arn)
            .map(|_| ())
            .map_err(|err| err.to_aws())
    }

    async fn invoke(
        &self,
        function_arn: &str,
        event: &[u8],
    ) -> Result<Vec<u8>, spate_wire::AwsError> {
        self.0
            .invoke_lambda(function_arn, event)
            .await
            .map_err(|err| err.to_aws())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};
    use spate_analytics::input::{Row, SqlType};
    use spate_analytics::model::Application;
    use spate_analytics::runtime::{
        Connections, ErrorRow, InputRows, Pipeline, PipelineError, PipelineFactory,
    };
    use spate_log::{LogConfig, SystemClock};
    use spate_meta::MemoryStore;
    use spate_streams::StreamsConfig;

    use super::*;

    /// A test-only engine: the rows of every input stream come out of `OUT` as they are.
    struct Copy(Vec<Row>);

    impl Pipeline for Copy {
        fn push(&mut self, _stream: &str, rows: InputRows) -> Result<(), PipelineError> {
            self.0.extend(rows.rows);
            Ok(())
        }
        fn push_error(&mut self, _error: ErrorRow) {}
        fn set_table(&mut self, _table: &str, _rows: Vec<Row>) -> Result<(), PipelineError> {
            Ok(())
        }
        fn advance(&mut self, _now_ms: i64) -> Result<(), PipelineError> {
            Ok(())
        }
        fn drain(&mut self, stream: &str) -> Vec<Row> {
            if stream == "OUT" {
                std::mem::take(&mut self.0)
            } else {
                Vec::new()
            }
        }
        fn columns(&self, stream: &str) -> Option<Vec<(String, SqlType)>> {
            (stream == "OUT").then(|| vec![("TICKER".to_owned(), SqlType::Varchar(4))])
        }
        fn snapshot(&self) -> Result<Vec<u8>, PipelineError> {
            Ok(Vec::new())
        }
    }

    struct CopyFactory;

    impl PipelineFactory for CopyFactory {
        fn build(
            &self,
            _application: &Application,
            _snapshot: Option<&[u8]>,
        ) -> Result<Box<dyn Pipeline>, PipelineError> {
            Ok(Box::new(Copy(Vec::new())))
        }
    }

    async fn call(api: &StreamsApi, operation: &str, body: Value) -> Value {
        spate_firehose::KinesisApi::call(api, operation, body)
            .await
            .unwrap_or_else(|err| panic!("{operation}: {} {}", err.code, err.message))
    }

    /// An application reads a data stream and writes another through the in-process wiring
    /// (the real Data Streams service, not a stand-in).
    #[tokio::test(flavor = "multi_thread")]
    async fn an_analytics_application_reads_and_writes_data_streams_in_process() {
        let dir = tempfile::tempdir().expect("a directory");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let log = Log::open(dir.path(), LogConfig::default(), clock.clone()).expect("a log");
        let meta: Arc<dyn MetaStore> = Arc::new(MemoryStore::new());
        let config = StreamsConfig {
            create_delay_ms: 0,
            ..StreamsConfig::default()
        };
        let streams = StreamsService::open(config, log.clone(), meta.clone(), clock.clone())
            .await
            .expect("a service");
        let api = Arc::new(StreamsApi(streams.clone()));
        let mut arns = Vec::new();
        for name in ["in", "out"] {
            call(
                &api,
                "CreateStream",
                json!({"StreamName": name, "ShardCount": 1}),
            )
            .await;
            let summary = call(&api, "DescribeStreamSummary", json!({"StreamName": name})).await;
            let arn = summary["StreamDescriptionSummary"]["StreamARN"]
                .as_str()
                .expect("an ARN")
                .to_owned();
            arns.push(arn);
        }
        let analytics = AnalyticsService::open(
            AnalyticsConfig::new("000000000000", "us-east-1"),
            meta,
            clock,
            Connections {
                factory: Some(Arc::new(CopyFactory)),
                streams: Some(api.clone()),
                ..Connections::default()
            },
        )
        .await
        .expect("opened");
        let role = "arn:aws:iam::000000000000:role/r";
        let create = json!({
            "ApplicationName": "app",
            "ApplicationCode": "CREATE OR REPLACE STREAM \"OUT\" (ticker VARCHAR(4));",
            "Inputs": [{
                "NamePrefix": "SOURCE_SQL_STREAM",
                "KinesisStreamsInput": {"ResourceARN": arns[0], "RoleARN": role},
                "InputSchema": {
                    "RecordFormat": {"RecordFormatType": "JSON",
                                     "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
                    "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"}],
                },
            }],
            "Outputs": [{
                "Name": "OUT",
                "KinesisStreamsOutput": {"ResourceARN": arns[1], "RoleARN": role},
                "DestinationSchema": {"RecordFormatType": "JSON"},
            }],
        });
        let body = serde_json::to_vec(&create).expect("JSON");
        analytics
            .handle("CreateApplication", &body, Codec::Json)
            .await
            .expect("created");
        let start = json!({"ApplicationName": "app", "InputConfigurations": [
            {"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"}}]});
        let body = serde_json::to_vec(&start).expect("JSON");
        analytics
            .handle("StartApplication", &body, Codec::Json)
            .await
            .expect("started");
        // {"ticker":"AMZN"}, base64 as the wire carries it.
        let data = "eyJ0aWNrZXIiOiJBTVpOIn0=";
        call(
            &api,
            "PutRecord",
            json!({"StreamName": "in", "Data": data, "PartitionKey": "k"}),
        )
        .await;

        let iterator = call(
            &api,
            "GetShardIterator",
            json!({"StreamName": "out",
            "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let mut iterator = iterator["ShardIterator"].clone();
        let mut read = Vec::new();
        for _ in 0..100 {
            let answer = call(&api, "GetRecords", json!({"ShardIterator": iterator})).await;
            for record in answer["Records"].as_array().into_iter().flatten() {
                read.push(record["Data"].as_str().expect("Data").to_owned());
            }
            if !read.is_empty() {
                break;
            }
            iterator = answer["NextShardIterator"].clone();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // {"TICKER":"AMZN"}: the JSON record of the output row.
        assert_eq!(read, vec!["eyJUSUNLRVIiOiJBTVpOIn0="]);
        analytics.shutdown().await;
        log.close().expect("closed");
    }

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
