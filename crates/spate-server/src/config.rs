//! Server configuration: defaults, then a TOML file, then `SPATE_*` environment, then flags.
//!
//! The defaults live in one checked-in file, `default.toml` beside this module. Every source is
//! merged as TOML before one typed deserialisation, so all of them are checked the same way and
//! an unknown key is an error wherever it comes from. Environment variables, by name:
//!
//! | variable | setting |
//! |---|---|
//! | `SPATE_LISTEN` | `listen` |
//! | `SPATE_DATA_DIR` | `data_dir` |
//! | `SPATE_DURABILITY` | `durability` |
//! | `SPATE_MAINTENANCE_INTERVAL_MS` | `maintenance_interval_ms` |
//! | `SPATE_LOG_JOURNAL_FILE_MIB`, `SPATE_LOG_SEAL_MIB`, `SPATE_LOG_SEAL_AGE_SECS`, `SPATE_LOG_READ_CACHE_MIB` | `log.*` |
//! | `SPATE_REGION`, `SPATE_ACCOUNT_ID` | `streams.region`, `streams.account_id` |
//! | `SPATE_S3_ENDPOINT` | `firehose.s3.endpoint` |
//! | `SPATE_STREAM_CREATE_DELAY_MS`, `SPATE_STREAM_DELETE_DELAY_MS`, `SPATE_STREAM_UPDATE_DELAY_MS` | `streams.*_delay_ms` |
//! | `SPATE_CONSUMER_CREATE_DELAY_MS`, `SPATE_CONSUMER_DELETE_DELAY_MS` | `streams.consumer_*_delay_ms` |
//! | `SPATE_SUBSCRIPTION_HEARTBEAT_MS`, `SPATE_SUBSCRIPTION_LIFETIME_MS` | `streams.subscription_*_ms` |
//! | `SPATE_SHARD_LIMIT` | `streams.shard_limit` |
//! | `SPATE_QUOTAS` (`on` or `off`) | `streams.quotas.enabled` |
//! | `SPATE_ON_DEMAND_SCALE_UP_AFTER_SECS`, `SPATE_ON_DEMAND_SCALE_DOWN_AFTER_SECS` | `streams.on_demand_scale_*_after_secs` |
//! | `SPATE_VIDEO_CREATE_DELAY_MS`, `SPATE_VIDEO_DELETE_DELAY_MS`, `SPATE_VIDEO_DATA_ENDPOINT` | `video.*` |
//! | `SPATE_TLS` (`on` or `off`), `SPATE_TLS_CERT`, `SPATE_TLS_KEY` | `tls.enabled`, `tls.cert`, `tls.key` |
//!
//! The `[kms]` section (keys of the stand-in for KMS that encrypts streams at rest) and the
//! `[[auth.credentials]]` list and the `[limits]` section (bounds on request heads, bodies and
//! slow connections) have no environment variables: they are configured in a file.
//! One credential can also be given on the command line (`--access-key-id` and
//! `--secret-access-key`); it is added to the file's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use spate_log::{Durability, LogConfig};
use spate_streams::StreamsConfig;
use spate_streams::kms::KmsConfig;

const DEFAULTS: &str = include_str!("default.toml");

/// Environment variables and the setting each one sets.
pub const ENVIRONMENT: &[(&str, &[&str])] = &[
    ("SPATE_LISTEN", &["listen"]),
    ("SPATE_DATA_DIR", &["data_dir"]),
    ("SPATE_DURABILITY", &["durability"]),
    (
        "SPATE_MAINTENANCE_INTERVAL_MS",
        &["maintenance_interval_ms"],
    ),
    ("SPATE_LOG_JOURNAL_FILE_MIB", &["log", "journal_file_mib"]),
    ("SPATE_LOG_SEAL_MIB", &["log", "seal_mib"]),
    ("SPATE_LOG_SEAL_AGE_SECS", &["log", "seal_age_secs"]),
    ("SPATE_LOG_READ_CACHE_MIB", &["log", "read_cache_mib"]),
    ("SPATE_LOG_MAX_UNSEALED_MIB", &["log", "max_unsealed_mib"]),
    ("SPATE_REGION", &["streams", "region"]),
    ("SPATE_S3_ENDPOINT", &["firehose", "s3", "endpoint"]),
    ("SPATE_ACCOUNT_ID", &["streams", "account_id"]),
    (
        "SPATE_STREAM_CREATE_DELAY_MS",
        &["streams", "create_delay_ms"],
    ),
    (
        "SPATE_STREAM_DELETE_DELAY_MS",
        &["streams", "delete_delay_ms"],
    ),
    (
        "SPATE_STREAM_UPDATE_DELAY_MS",
        &["streams", "update_delay_ms"],
    ),
    (
        "SPATE_CONSUMER_CREATE_DELAY_MS",
        &["streams", "consumer_create_delay_ms"],
    ),
    (
        "SPATE_CONSUMER_DELETE_DELAY_MS",
        &["streams", "consumer_delete_delay_ms"],
    ),
    (
        "SPATE_SUBSCRIPTION_HEARTBEAT_MS",
        &["streams", "subscription_heartbeat_ms"],
    ),
    (
        "SPATE_SUBSCRIPTION_LIFETIME_MS",
        &["streams", "subscription_lifetime_ms"],
    ),
    ("SPATE_SHARD_LIMIT", &["streams", "shard_limit"]),
    ("SPATE_QUOTAS", &["streams", "quotas", "enabled"]),
    (
        "SPATE_ON_DEMAND_SCALE_UP_AFTER_SECS",
        &["streams", "on_demand_scale_up_after_secs"],
    ),
    (
        "SPATE_ON_DEMAND_SCALE_DOWN_AFTER_SECS",
        &["streams", "on_demand_scale_down_after_secs"],
    ),
    ("SPATE_VIDEO_CREATE_DELAY_MS", &["video", "create_delay_ms"]),
    ("SPATE_VIDEO_DELETE_DELAY_MS", &["video", "delete_delay_ms"]),
    ("SPATE_VIDEO_DATA_ENDPOINT", &["video", "data_endpoint"]),
    ("SPATE_TLS", &["tls", "enabled"]),
    ("SPATE_TLS_CERT", &["tls", "cert"]),
    ("SPATE_TLS_KEY", &["tls", "key"]),
];

/// Which environment variables hold paths, URLs or ids, so a value such as `123` (or an
/// account id such as `123456789012`) stays a string.
const PATH_VARIABLES: &[&str] = &[
    "SPATE_ACCOUNT_ID",
    "SPATE_DATA_DIR",
    "SPATE_TLS_CERT",
    "SPATE_TLS_KEY",
    "SPATE_VIDEO_DATA_ENDPOINT",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurabilitySetting {
    Fsync,
    Os,
}

/// Storage engine settings, in operator-friendly units.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// The journal rolls to a new file past this many MiB.
    pub journal_file_mib: u64,
    /// A shard's recent records are sealed into a segment past this many MiB.
    pub seal_mib: u64,
    /// ... or once the oldest of them is this many seconds old.
    pub seal_age_secs: u64,
    /// MiB of memory for cached segment data.
    pub read_cache_mib: u64,
    /// MiB of unsealed records all shards together may hold in memory; at this bound, writes
    /// wait for sealing to catch up.
    pub max_unsealed_mib: u64,
}

/// The `[analytics]` section: the runtime's timings, in milliseconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsSettings {
    pub tick_ms: u64,
    pub poll_interval_ms: u64,
    pub output_batching_ms: u64,
    pub checkpoint_interval_ms: u64,
    pub discovery_wait_ms: u64,
}

impl AnalyticsSettings {
    fn validate(&self) -> Result<(), String> {
        if self.tick_ms == 0 || self.poll_interval_ms == 0 {
            return Err("analytics.tick_ms and analytics.poll_interval_ms must be positive".into());
        }
        Ok(())
    }

    /// The runtime's configuration.
    pub fn runtime(&self) -> spate_analytics::runtime::RuntimeConfig {
        spate_analytics::runtime::RuntimeConfig {
            tick: Duration::from_millis(self.tick_ms),
            poll_interval: Duration::from_millis(self.poll_interval_ms),
            output_batching: Duration::from_millis(self.output_batching_ms),
            checkpoint_interval: Duration::from_millis(self.checkpoint_interval_ms),
            discovery_wait: Duration::from_millis(self.discovery_wait_ms),
        }
    }
}

/// TLS on the listener. Off, the listener speaks cleartext HTTP/1.1 and HTTP/2 (prior knowledge).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// Serve HTTPS (HTTP/1.1 and HTTP/2, ALPN `h2` and `http/1.1`) instead of cleartext.
    pub enabled: bool,
    /// PEM file with the certificate chain, leaf first; unset (`""`) with `key` unset: a
    /// self-signed certificate is generated and written to `<data_dir>/tls/self-signed.pem`.
    #[serde(deserialize_with = "empty_path_is_none")]
    pub cert: Option<PathBuf>,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1) of `cert`.
    #[serde(deserialize_with = "empty_path_is_none")]
    pub key: Option<PathBuf>,
}

fn empty_path_is_none<'de, D>(deserializer: D) -> Result<Option<PathBuf>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    Ok((!text.is_empty()).then(|| PathBuf::from(text)))
}

/// Authentication of requests (see the `auth` module for the modes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The access keys requests may be signed with. With none, a loopback listener accepts any
    /// well-formed signature, and any other listener refuses to start.
    pub credentials: Vec<crate::auth::CredentialSettings>,
}

/// Everything `spate serve` needs, validated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of the listener.
    pub listen: SocketAddr,
    /// Directory holding all data.
    pub data_dir: PathBuf,
    /// When a write is acknowledged.
    pub durability: DurabilitySetting,
    /// Period of retention trimming and deleted-stream cleanup, in milliseconds.
    pub maintenance_interval_ms: u64,
    /// Storage engine settings.
    pub log: LogSettings,
    /// Data Streams settings.
    pub streams: StreamsConfig,
    /// Firehose settings (delivery retries, the S3-compatible servers buckets live on).
    pub firehose: spate_firehose::FirehoseConfig,
    /// Kinesis Data Analytics applications' runtime timings.
    pub analytics: AnalyticsSettings,
    /// Kinesis Video settings (status delays, limits, the data endpoint's base URL).
    pub video: spate_video::VideoConfig,
    /// Keys for server-side encryption besides the AWS-managed `alias/aws/kinesis`.
    pub kms: KmsConfig,
    /// TLS on the listener.
    pub tls: TlsSettings,
    /// Authentication of requests.
    pub auth: AuthSettings,
    /// Bounds on request heads, bodies and slow or idle connections.
    pub limits: crate::limits::LimitSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration {origin} is not valid TOML: {source}")]
    Parse {
        origin: String,
        source: toml::de::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Overrides given on the command line; `None` leaves the setting to the other sources.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub durability: Option<String>,
    /// `on` or `off`.
    pub quotas: Option<String>,
    /// `on` or `off`.
    pub tls: Option<String>,
    /// One more credential (`--access-key-id`, `--secret-access-key`): both or neither.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `tls.cert`: PEM file of the certificate chain.
    pub tls_cert: Option<PathBuf>,
    /// `tls.key`: PEM file of the certificate's private key.
    pub tls_key: Option<PathBuf>,
    /// `firehose.s3.endpoint`: the S3-compatible server `arn:aws:s3:::BUCKET` resolves to.
    pub s3_endpoint: Option<String>,
}

impl ServerConfig {
    /// Merges defaults, `file`, the environment `env` and `overrides`, in that order.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<ServerConfig, ConfigError> {
        let mut merged = parse(DEFAULTS, "defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            merge(&mut merged, parse(&text, &path.display().to_string())?);
        }
        for (name, value) in env {
            if let Some((_, key)) = ENVIRONMENT.iter().find(|(known, _)| *known == name) {
                let value = if PATH_VARIABLES.contains(&name.as_str()) {
                    toml::Value::String(value)
                } else {
                    scalar(&value)
                };
                set(&mut merged, key, value);
            }
        }
        if let Some(quotas) = &overrides.quotas {
            set(
                &mut merged,
                &["streams", "quotas", "enabled"],
                scalar(quotas),
            );
        }
        if let Some(tls) = &overrides.tls {
            set(&mut merged, &["tls", "enabled"], scalar(tls));
        }
        match (&overrides.access_key_id, &overrides.secret_access_key) {
            (Some(access_key_id), Some(secret)) => {
                let mut credential = toml::Table::new();
                credential.insert(
                    "access_key_id".to_owned(),
                    toml::Value::String(access_key_id.clone()),
                );
                credential.insert(
                    "secret_access_key".to_owned(),
                    toml::Value::String(secret.clone()),
                );
                push(
                    &mut merged,
                    &["auth", "credentials"],
                    toml::Value::Table(credential),
                );
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError::Invalid(
                    "--access-key-id and --secret-access-key go together".to_owned(),
                ));
            }
        }
        for (key, path) in [("cert", &overrides.tls_cert), ("key", &overrides.tls_key)] {
            if let Some(path) = path {
                let value = toml::Value::String(path.display().to_string());
                set(&mut merged, &["tls", key], value);
            }
        }
        if let Some(endpoint) = &overrides.s3_endpoint {
            set(
                &mut merged,
                &["firehose", "s3", "endpoint"],
                toml::Value::String(endpoint.clone()),
            );
        }
        if let Some(listen) = &overrides.listen {
            set(
                &mut merged,
                &["listen"],
                toml::Value::String(listen.clone()),
            );
        }
        if let Some(dir) = &overrides.data_dir {
            set(
                &mut merged,
                &["data_dir"],
                toml::Value::String(dir.display().to_string()),
            );
        }
        if let Some(durability) = &overrides.durability {
            set(
                &mut merged,
                &["durability"],
                toml::Value::String(durability.clone()),
            );
        }
        let config: ServerConfig = toml::Value::Table(merged)
            .try_into()
            .map_err(|err: toml::de::Error| ConfigError::Invalid(err.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let account = &self.streams.account_id;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::Invalid(format!(
                "streams.account_id must be 12 digits, not {account:?}"
            )));
        }
        if self.log.journal_file_mib == 0
            || self.log.seal_mib == 0
            || self.log.max_unsealed_mib == 0
        {
            return Err(ConfigError::Invalid(
                "log sizes must be at least 1 MiB".to_string(),
            ));
        }
        self.kms.validate().map_err(ConfigError::Invalid)?;
        self.analytics.validate().map_err(ConfigError::Invalid)?;
        self.firehose.validate().map_err(ConfigError::Invalid)?;
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Invalid(
                "tls.cert and tls.key go together: give both, or neither for a self-signed \
                 certificate"
                    .into(),
            ));
        }
        self.authenticator()?;
        self.limits.validate().map_err(ConfigError::Invalid)?;
        if self.maintenance_interval_ms == 0 {
            return Err(ConfigError::Invalid(
                "maintenance_interval_ms must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The Data Streams service's configuration, with the keys of the `[kms]` section.
    pub fn streams_config(&self) -> StreamsConfig {
        StreamsConfig {
            kms: self.kms.clone(),
            ..self.streams.clone()
        }
    }

    /// The Firehose service's configuration, for the account `[streams]` names.
    pub fn firehose_config(&self) -> spate_firehose::FirehoseConfig {
        spate_firehose::FirehoseConfig {
            region: self.streams.region.clone(),
            account_id: self.streams.account_id.clone(),
            ..self.firehose.clone()
        }
    }

    /// The Kinesis Video service's configuration, for the account `[streams]` names.
    pub fn video_config(&self) -> spate_video::VideoConfig {
        spate_video::VideoConfig {
            region: self.streams.region.clone(),
            account_id: self.streams.account_id.clone(),
            tls: self.tls.enabled,
            quotas: self.streams.quotas.enabled,
            ..self.video.clone()
        }
    }

    /// The authenticator of requests, in the mode the listener and credentials call for.
    pub fn authenticator(&self) -> Result<crate::auth::Authenticator, ConfigError> {
        let mode = crate::auth::AuthMode::for_listener(self.listen, &self.auth.credentials)
            .map_err(ConfigError::Invalid)?;
        crate::auth::Authenticator::new(mode, &self.auth.credentials, &self.streams.account_id)
            .map_err(ConfigError::Invalid)
    }

    /// The storage engine's configuration.
    pub fn log_config(&self) -> LogConfig {
        const MIB: u64 = 1024 * 1024;
        LogConfig {
            durability: match self.durability {
                DurabilitySetting::Fsync => Durability::Fsync,
                DurabilitySetting::Os => Durability::Os,
            },
            journal_file_bytes: self.log.journal_file_mib * MIB,
            seal_bytes: self.log.seal_mib * MIB,
            seal_age: Duration::from_secs(self.log.seal_age_secs),
            read_cache_bytes: self.log.read_cache_mib * MIB,
            max_unsealed_bytes: self.log.max_unsealed_mib * MIB,
        }
    }

    /// The settings of Firehose's engine (`firehose-log/`): those of `[log]`, except that a
    /// delivery stream's buffer (128 MiB at most) stays in memory until it is delivered, and
    /// is then discarded unsealed (`Log::discard_before`): each record is written once, to the
    /// journal, instead of twice. A buffer held past 15 minutes, or past 512 MiB of buffers
    /// in all, is sealed as any log's tail.
    /// The storage engine of Video fragments (`video-log/`): the shared settings, with room
    /// for fragments of up to 50 MiB in the in-memory tail.
    pub fn video_log_config(&self) -> LogConfig {
        const MIB: u64 = 1024 * 1024;
        let mut config = self.log_config();
        config.max_unsealed_bytes = config.max_unsealed_bytes.max(256 * MIB);
        config
    }

    pub fn firehose_log_config(&self) -> LogConfig {
        const MIB: u64 = 1024 * 1024;
        let mut config = self.log_config();
        config.seal_bytes = config.seal_bytes.max(160 * MIB);
        config.seal_age = config.seal_age.max(Duration::from_secs(900));
        config.max_unsealed_bytes = config.max_unsealed_bytes.max(512 * MIB);
        config
    }
}

fn parse(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|source| ConfigError::Parse {
            origin: origin.to_string(),
            source,
        })
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(over_table)) => {
                merge(base_table, over_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// The table at `path` below `table`, made (or replacing what is there) as needed.
fn table_at<'t>(table: &'t mut toml::Table, path: &[&str]) -> &'t mut toml::Table {
    let mut current = table;
    for name in path {
        let entry = current
            .entry(name.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        current = entry.as_table_mut().expect("just made a table");
    }
    current
}

/// Appends `value` to the array at `path` (made an array if it is not one).
fn push(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let entry = table_at(table, parents)
        .entry(last.to_string())
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = toml::Value::Array(Vec::new());
    }
    if let Some(array) = entry.as_array_mut() {
        array.push(value);
    }
}

fn set(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    table_at(table, parents).insert(last.to_string(), value);
}

/// An environment value as TOML: integers and booleans (also `on`/`off`) typed, anything else a
/// string.
fn scalar(text: &str) -> toml::Value {
    if let Ok(number) = text.parse::<i64>() {
        return toml::Value::Integer(number);
    }
    match text {
        "true" | "on" => toml::Value::Boolean(true),
        "false" | "off" => toml::Value::Boolean(false),
        _ => toml::Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: Option<&str>, env: &[(&str, &str)], overrides: Overrides) -> ServerConfig {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spate.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).expect("write");
        }
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServerConfig::load(file.map(|_| path.as_path()), env, &overrides).expect("valid config")
    }

    #[test]
    fn checked_in_defaults_match_the_code_defaults() {
        let config = load(None, &[], Overrides::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:4567");
        assert_eq!(config.data_dir, PathBuf::from("./spate-data"));
        assert_eq!(config.durability, DurabilitySetting::Fsync);
        let code = StreamsConfig::default();
        assert_eq!(config.streams.account_id, code.account_id);
        assert_eq!(config.streams.create_delay_ms, code.create_delay_ms);
        assert_eq!(config.streams.shard_limit, code.shard_limit);
        assert_eq!(
            config.streams.on_demand_initial_shards,
            code.on_demand_initial_shards
        );
    }

    #[test]
    fn video_settings_default_to_the_code_and_come_from_the_environment() {
        let config = load(None, &[], Overrides::default());
        let code = spate_video::VideoConfig::default();
        assert_eq!(config.video.create_delay_ms, code.create_delay_ms);
        assert_eq!(config.video.delete_delay_ms, code.delete_delay_ms);
        assert_eq!(config.video.stream_limit, code.stream_limit);
        assert_eq!(config.video.channel_limit, code.channel_limit);
        assert_eq!(config.video.data_endpoint, code.data_endpoint);

        let env = [
            ("SPATE_VIDEO_CREATE_DELAY_MS", "7"),
            ("SPATE_VIDEO_DATA_ENDPOINT", "https://video.example:8443"),
            ("SPATE_ACCOUNT_ID", "123456789012"),
            ("SPATE_TLS", "on"),
        ];
        let video = load(None, &env, Overrides::default()).video_config();
        assert_eq!(video.create_delay_ms, 7);
        assert_eq!(video.data_endpoint, "https://video.example:8443");
        assert_eq!(video.account_id, "123456789012");
        assert!(video.tls);
    }

    #[test]
    fn file_then_environment_then_flags() {
        let file = "listen = \"127.0.0.1:1000\"\ndata_dir = \"/from-file\"\n[streams]\ncreate_delay_ms = 7\n";
        let config = load(Some(file), &[], Overrides::default());
        assert_eq!(config.listen.port(), 1000);
        assert_eq!(config.streams.create_delay_ms, 7);
        assert_eq!(
            config.streams.delete_delay_ms, 500,
            "unset keys keep their defaults"
        );

        let env = [
            ("SPATE_LISTEN", "127.0.0.1:2000"),
            ("SPATE_STREAM_CREATE_DELAY_MS", "9"),
        ];
        let config = load(Some(file), &env, Overrides::default());
        assert_eq!(config.listen.port(), 2000);
        assert_eq!(config.streams.create_delay_ms, 9);
        assert_eq!(config.data_dir, PathBuf::from("/from-file"));

        let flags = Overrides {
            listen: Some("127.0.0.1:3000".into()),
            data_dir: Some("/from-flag".into()),
            durability: Some("os".into()),
            ..Overrides::default()
        };
        let config = load(Some(file), &env, flags);
        assert_eq!(config.listen.port(), 3000);
        assert_eq!(config.data_dir, PathBuf::from("/from-flag"));
        assert_eq!(config.durability, DurabilitySetting::Os);
    }

    #[test]
    fn quotas_are_on_by_default_and_switch_off_by_environment_or_flag() {
        let config = load(None, &[], Overrides::default());
        assert!(config.streams.quotas.enabled);
        assert_eq!(
            config.streams.quotas.shard,
            spate_streams::quota::ShardLimits::default()
        );
        let config = load(None, &[("SPATE_QUOTAS", "off")], Overrides::default());
        assert!(!config.streams.quotas.enabled);
        let flags = Overrides {
            quotas: Some("on".into()),
            ..Overrides::default()
        };
        assert!(
            load(None, &[("SPATE_QUOTAS", "off")], flags)
                .streams
                .quotas
                .enabled
        );
        let file = "[streams.quotas.streams.clicks]\nwrite_records_per_sec = 5000\n";
        let config = load(Some(file), &[], Overrides::default());
        assert_eq!(
            config.streams.quotas.streams["clicks"].write_records_per_sec,
            5000
        );
        assert_eq!(
            config.streams.quotas.streams["clicks"].read_calls_per_sec,
            5
        );
    }

    #[test]
    fn kms_keys_come_from_the_file_and_are_checked() {
        let file = "[[kms.keys]]\nid = \"1234abcd-12ab-34cd-56ef-1234567890ab\"\naliases = [\"alias/orders\"]\n\n[[kms.keys]]\nid = \"0000abcd-12ab-34cd-56ef-1234567890ab\"\nenabled = false\n";
        let config = load(Some(file), &[], Overrides::default());
        assert_eq!(config.kms.keys.len(), 2);
        assert_eq!(config.kms.keys[0].aliases, ["alias/orders"]);
        assert!(config.kms.keys[0].enabled);
        assert!(!config.kms.keys[1].enabled);
        assert_eq!(config.streams_config().kms, config.kms);
        assert!(load(None, &[], Overrides::default()).kms.keys.is_empty());

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[[kms.keys]]\nid = \"not-a-uuid\"\n").expect("write");
        let err = ServerConfig::load(Some(&path), Vec::new(), &Overrides::default())
            .expect_err("a bad key id is refused");
        assert!(err.to_string().contains("not-a-uuid"), "{err}");
    }

    #[test]
    fn tls_is_off_by_default_and_set_by_file_environment_or_flag() {
        let config = load(None, &[], Overrides::default());
        assert_eq!(config.tls, TlsSettings::default());

        let file =
            "[tls]\nenabled = true\ncert = \"/etc/spate/cert.pem\"\nkey = \"/etc/spate/key.pem\"\n";
        let config = load(Some(file), &[], Overrides::default());
        assert!(config.tls.enabled);
        assert_eq!(config.tls.cert, Some(PathBuf::from("/etc/spate/cert.pem")));
        assert_eq!(config.tls.key, Some(PathBuf::from("/etc/spate/key.pem")));

        let env = [
            ("SPATE_TLS", "on"),
            ("SPATE_TLS_CERT", "1234"),
            ("SPATE_TLS_KEY", "/k.pem"),
        ];
        let config = load(None, &env, Overrides::default());
        assert!(config.tls.enabled);
        assert_eq!(
            config.tls.cert,
            Some(PathBuf::from("1234")),
            "a path, never a number"
        );
        assert_eq!(config.tls.key, Some(PathBuf::from("/k.pem")));

        let flags = Overrides {
            tls: Some("off".into()),
            ..Overrides::default()
        };
        assert!(!load(None, &[("SPATE_TLS", "on")], flags).tls.enabled);
        let flags = Overrides {
            tls: Some("on".into()),
            ..Overrides::default()
        };
        let config = load(None, &[], flags);
        assert!(config.tls.enabled);
        assert_eq!(config.tls.cert, None, "no files: a self-signed certificate");

        let flags = Overrides {
            tls_cert: Some("/flag/cert.pem".into()),
            tls_key: Some("/flag/key.pem".into()),
            ..Overrides::default()
        };
        let config = load(None, &env, flags);
        assert_eq!(config.tls.cert, Some(PathBuf::from("/flag/cert.pem")));
        assert_eq!(config.tls.key, Some(PathBuf::from("/flag/key.pem")));

        let only_cert = [("SPATE_TLS_CERT".to_string(), "/c.pem".to_string())];
        let err = ServerConfig::load(None, only_cert, &Overrides::default())
            .expect_err("a certificate without its key is refused");
        assert!(err.to_string().contains("tls.key"), "{err}");
    }

    #[test]
    fn limits_have_defaults_and_are_checked() {
        let config = load(None, &[], Overrides::default());
        assert_eq!(config.limits.max_header_bytes, 65536);
        assert_eq!(config.limits.header_read_timeout_secs, 30);
        assert!(config.limits.validate().is_ok());
        let file = "[limits]\nheader_read_timeout_secs = 2\n";
        let config = load(Some(file), &[], Overrides::default());
        assert_eq!(config.limits.header_read_timeout_secs, 2);
        assert_eq!(config.limits.body_read_timeout_secs, 30);

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("limits.toml");
        for bad in [
            "[limits]\nmax_header_bytes = 100\n",
            "[limits]\nidle_timeout_secs = 0\n",
            "[limits]\nheader_timeout = 5\n",
        ] {
            std::fs::write(&path, bad).expect("write");
            let none = std::iter::empty();
            assert!(
                ServerConfig::load(Some(&path), none, &Overrides::default()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn analytics_timings_default_to_the_runtime_defaults_and_are_checked() {
        let config = load(None, &[], Overrides::default());
        assert_eq!(
            config.analytics.runtime(),
            spate_analytics::runtime::RuntimeConfig::default()
        );
        let config = load(
            Some(
                "[analytics]
tick_ms = 5
",
            ),
            &[],
            Overrides::default(),
        );
        assert_eq!(config.analytics.runtime().tick, Duration::from_millis(5));
        assert_eq!(config.analytics.poll_interval_ms, 200);

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("analytics.toml");
        for bad in [
            "[analytics]
tick_ms = 0
",
            "[analytics]
tick = 5
",
        ] {
            std::fs::write(&path, bad).expect("write");
            let none = std::iter::empty();
            assert!(
                ServerConfig::load(Some(&path), none, &Overrides::default()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"x\"\n").expect("write");
        let none = std::iter::empty();
        assert!(ServerConfig::load(Some(&path), none, &Overrides::default()).is_err());
        let flags = Overrides {
            durability: Some("sometimes".into()),
            ..Overrides::default()
        };
        assert!(ServerConfig::load(None, std::iter::empty(), &flags).is_err());
        let env = [("SPATE_ACCOUNT_ID".to_string(), "12".to_string())];
        assert!(ServerConfig::load(None, env, &Overrides::default()).is_err());
    }

    fn try_load(file: Option<&str>, overrides: Overrides) -> Result<ServerConfig, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spate.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).expect("write");
        }
        ServerConfig::load(file.map(|_| path.as_path()), std::iter::empty(), &overrides)
    }

    #[test]
    fn credentials_come_from_the_file_and_one_more_from_the_flags() {
        let file = r#"
[[auth.credentials]]
access_key_id = "AKIDFILE"
secret_access_key = "file-secret"
account_id = "111122223333"
user_name = "alice"
"#;
        let flags = Overrides {
            access_key_id: Some("AKIDFLAG".into()),
            secret_access_key: Some("flag-secret".into()),
            ..Overrides::default()
        };
        let config = load(Some(file), &[], flags);
        let keys: Vec<&str> = config
            .auth
            .credentials
            .iter()
            .map(|c| c.access_key_id.as_str())
            .collect();
        assert_eq!(keys, ["AKIDFILE", "AKIDFLAG"]);
        assert_eq!(
            config.auth.credentials[0].account_id.as_deref(),
            Some("111122223333")
        );
        let auth = config.authenticator().expect("valid");
        assert_eq!(auth.mode(), crate::auth::AuthMode::Strict);
    }

    #[test]
    fn without_credentials_only_a_loopback_listener_may_start() {
        let config = load(None, &[], Overrides::default());
        assert_eq!(
            config.authenticator().expect("valid").mode(),
            crate::auth::AuthMode::AnySignature
        );
        let open = Overrides {
            listen: Some("0.0.0.0:4567".into()),
            ..Overrides::default()
        };
        let err = try_load(None, open).expect_err("refused");
        assert!(err.to_string().contains("configure credentials"), "{err}");
        let open_with_key = Overrides {
            listen: Some("0.0.0.0:4567".into()),
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("secret".into()),
            ..Overrides::default()
        };
        try_load(None, open_with_key).expect("credentials make it strict");
    }

    #[test]
    fn bad_credentials_are_refused_at_load() {
        for (file, expected) in [
            (
                "[[auth.credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"\"\n",
                "empty secret",
            ),
            (
                "[[auth.credentials]]\naccess_key_id = \"A-B\"\nsecret_access_key = \"s\"\n",
                "letters and digits",
            ),
            (
                "[[auth.credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\naccount_id = \"12\"\n",
                "12 digits",
            ),
            (
                "[[auth.credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\n[[auth.credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"t\"\n",
                "configured twice",
            ),
            (
                "[[auth.credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\nsecret = 1\n",
                "unknown field",
            ),
        ] {
            let err = try_load(Some(file), Overrides::default()).expect_err(file);
            assert!(err.to_string().contains(expected), "{file}: {err}");
        }
        let half = Overrides {
            access_key_id: Some("AKID".into()),
            ..Overrides::default()
        };
        assert!(try_load(None, half).is_err());
    }
}
