//! The Redshift destination settings a delivery stream keeps: `RedshiftDestinationConfiguration`
//! (and `RedshiftDestinationUpdate`, whose members read the same), merged with updates, and
//! rendered back as `RedshiftDestinationDescription` without the password.
//!
//! Spate loads into PostgreSQL standing in for Redshift: `ClusterJDBCURL` names the PostgreSQL
//! server (`jdbc:redshift://host:port/db` or `jdbc:postgresql://host:port/db`). AWS's model
//! pattern also requires a `*.redshift.*` (or `redshift-serverless`) host name; Spate accepts any
//! host, since the server it loads into is not a Redshift cluster.
//!
//! The AWS rules checked by [`RedshiftDestination::check`] (`InvalidArgumentException`), with
//! their sources:
//! - `S3Configuration.CompressionFormat`: "The compression formats SNAPPY or ZIP cannot be
//!   specified in RedshiftDestinationConfiguration.S3Configuration because the Amazon Redshift
//!   COPY operation that reads from the S3 bucket doesn't support these compression formats"
//!   (API reference, `RedshiftDestinationConfiguration` and `RedshiftDestinationUpdate.S3Update`).
//!   `HADOOP_SNAPPY`, added to the enum later, is refused for the same reason (COPY reads BZIP2,
//!   GZIP, LZOP and ZSTD only: Redshift's *File compression parameters*).
//! - *Custom prefixes for Amazon S3 objects*, semantic rules: "If the destination is Amazon
//!   Redshift, `Prefix` must not contain expressions and `ErrorOutputPrefix` must be null."
//! - `S3BackupMode`: "If backup is enabled, you can't update the Firehose stream to disable it"
//!   (API reference, `RedshiftDestinationUpdate.S3BackupMode`), checked by UpdateDestination.
//! - `Username` and `Password` are optional in the model only because
//!   `SecretsManagerConfiguration` may stand for them; without it both are required.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use super::shared::{self, RetryOptions, merge_s3, pick};
use super::{S3Destination, enabled, not_implemented};
use crate::compress::Compression;
use crate::destination::redshift::copy::CopyOptions;
use crate::error::FirehoseError;
use crate::keys::{Prefix, PrefixRole};

/// AWS's default retry duration for Redshift, seconds (`RedshiftRetryOptions`).
pub const DEFAULT_RETRY_SECS: i64 = 3600;

pub const JDBC_URL_PATTERN: &str = "jdbc:(redshift|postgresql)://((?!-)[A-Za-z0-9-]{1,63}(?<!-)\\.)+(redshift(-serverless)?)\\.([a-zA-Z0-9\\.\\-]+):\\d{1,5}/[a-zA-Z0-9_$-]+";

/// `CopyCommand`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyCommand {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_table_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_table_columns: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_options: Option<String>,
}

/// A Redshift destination as configured (every member optional, so creates, stored values and
/// updates read alike).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RedshiftDestination {
    #[serde(rename = "RoleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(rename = "ClusterJDBCURL", skip_serializing_if = "Option::is_none")]
    pub cluster_jdbc_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_command: Option<CopyCommand>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Kept in the metadata store as given (as the S3 credentials in Spate's configuration
    /// are); never described.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `RedshiftRetryOptions`, the same shape as the other destinations' `RetryOptions`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_options: Option<RetryOptions>,
    /// The intermediate bucket (`S3Update` in an update).
    #[serde(alias = "S3Update", skip_serializing_if = "Option::is_none")]
    pub s3_configuration: Option<S3Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_configuration: Option<Value>,
    #[serde(rename = "S3BackupMode", skip_serializing_if = "Option::is_none")]
    pub s3_backup_mode: Option<String>,
    /// Where the source records are backed up when `S3BackupMode` is `Enabled`.
    #[serde(
        rename = "S3BackupConfiguration",
        alias = "S3BackupUpdate",
        skip_serializing_if = "Option::is_none"
    )]
    pub s3_backup: Option<S3Destination>,
    /// Kept and returned: Spate has no CloudWatch to log to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_watch_logging_options: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets_manager_configuration: Option<Value>,
}

/// Where `ClusterJDBCURL` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JdbcUrl {
    pub host: String,
    pub port: u16,
    pub database: String,
}

impl JdbcUrl {
    /// `jdbc:redshift://host:port/db` or `jdbc:postgresql://host:port/db`.
    pub fn parse(text: &str) -> Option<JdbcUrl> {
        let rest = text
            .strip_prefix("jdbc:redshift://")
            .or_else(|| text.strip_prefix("jdbc:postgresql://"))?;
        let (authority, database) = rest.split_once('/')?;
        let (host, port) = authority.rsplit_once(':')?;
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let port_ok = (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit());
        let database_ok = !database.is_empty()
            && database
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_$-".contains(&b));
        if !(host_ok && port_ok && database_ok) {
            return None;
        }
        Some(JdbcUrl {
            host: host.to_owned(),
            port: port.parse().ok()?,
            database: database.to_owned(),
        })
    }
}

impl RedshiftDestination {
    /// The modeled constraints of the members present; `path` is the member's own path.
    pub fn validate(&self, v: &mut Violations, path: &str, create: bool) {
        shared::validate_role(v, path, &self.role_arn, create);
        match &self.cluster_jdbc_url {
            None if create => v.required(&format!("{path}.clusterJDBCURL"), &self.cluster_jdbc_url),
            None => {}
            Some(url) => {
                let member = format!("{path}.clusterJDBCURL");
                v.string_length(&member, url, 1, 512);
                v.pattern(
                    &member,
                    url,
                    JDBC_URL_PATTERN,
                    JdbcUrl::parse(url).is_some(),
                );
            }
        }
        match &self.copy_command {
            None if create => v.required(&format!("{path}.copyCommand"), &self.copy_command),
            None => {}
            Some(copy) => {
                let member = format!("{path}.copyCommand");
                match &copy.data_table_name {
                    None => v.required(&format!("{member}.dataTableName"), &copy.data_table_name),
                    Some(name) => {
                        v.string_length(&format!("{member}.dataTableName"), name, 1, 512);
                    }
                }
                if let Some(columns) = &copy.data_table_columns {
                    v.string_length(&format!("{member}.dataTableColumns"), columns, 0, 10240);
                }
                if let Some(options) = &copy.copy_options {
                    v.string_length(&format!("{member}.copyOptions"), options, 0, 10240);
                }
            }
        }
        if let Some(username) = &self.username {
            v.string_length(&format!("{path}.username"), username, 1, 512);
        }
        if let Some(password) = &self.password {
            // The value itself is never echoed in a message.
            v.string_length(&format!("{path}.password"), password, 6, 512);
        }
        shared::validate_retry(v, path, &self.retry_options);
        shared::validate_s3(v, path, &self.s3_configuration, create);
        shared::validate_backup_mode(v, path, &self.s3_backup_mode, &["Disabled", "Enabled"]);
        if let Some(backup) = &self.s3_backup {
            let member = if create {
                "s3BackupConfiguration"
            } else {
                "s3BackupUpdate"
            };
            backup.validate(v, &format!("{path}.{member}"), create);
        }
    }

    /// AWS's semantic rules and what Spate does not do yet (`InvalidArgumentException`), on a
    /// complete destination (a create, or the result of a merge).
    pub fn check(&self) -> Result<(), FirehoseError> {
        if enabled(&self.secrets_manager_configuration) {
            return Err(not_implemented("SecretsManagerConfiguration"));
        }
        if self.username.is_none() || self.password.is_none() {
            return Err(FirehoseError::InvalidArgument(
                "Username and Password are required when SecretsManagerConfiguration is not enabled."
                    .into(),
            ));
        }
        if enabled(&self.processing_configuration) {
            return Err(not_implemented("ProcessingConfiguration"));
        }
        if let Some(url) = &self.cluster_jdbc_url
            && JdbcUrl::parse(url).is_some_and(|url| url.port == 0)
        {
            return Err(FirehoseError::InvalidArgument(format!(
                "ClusterJDBCURL {url} has no valid port."
            )));
        }
        let copy = self.copy_command.clone().unwrap_or_default();
        CopyOptions::parse(copy.copy_options.as_deref().unwrap_or_default())
            .map_err(|err| FirehoseError::InvalidArgument(format!("CopyOptions: {err}")))?;
        crate::destination::redshift::copy::check_table(
            copy.data_table_name.as_deref().unwrap_or_default(),
            copy.data_table_columns.as_deref(),
        )
        .map_err(|err| FirehoseError::InvalidArgument(format!("CopyCommand: {err}")))?;
        check_intermediate(&self.intermediate(), "S3Configuration")?;
        match self.s3_backup_mode.as_deref() {
            Some("Enabled") => match &self.s3_backup {
                None => {
                    return Err(FirehoseError::InvalidArgument(
                        "S3BackupConfiguration is required when S3BackupMode is Enabled.".into(),
                    ));
                }
                Some(backup) => {
                    if backup.bucket().is_none() {
                        return Err(FirehoseError::InvalidArgument(
                            "S3BackupConfiguration.BucketARN is required when S3BackupMode is Enabled."
                                .into(),
                        ));
                    }
                    backup.check(&crate::config::FirehoseConfig::default())?;
                }
            },
            _ => {
                if let Some(backup) = &self.s3_backup {
                    backup.check(&crate::config::FirehoseConfig::default())?;
                }
            }
        }
        Ok(())
    }

    /// This destination with the members `update` sets replaced; `S3Update` and
    /// `S3BackupUpdate` merge into the S3 settings member by member.
    pub fn merged(&self, update: &RedshiftDestination) -> RedshiftDestination {
        RedshiftDestination {
            role_arn: pick(&update.role_arn, &self.role_arn),
            cluster_jdbc_url: pick(&update.cluster_jdbc_url, &self.cluster_jdbc_url),
            copy_command: pick(&update.copy_command, &self.copy_command),
            username: pick(&update.username, &self.username),
            password: pick(&update.password, &self.password),
            retry_options: pick(&update.retry_options, &self.retry_options),
            s3_configuration: merge_s3(&self.s3_configuration, &update.s3_configuration),
            processing_configuration: pick(
                &update.processing_configuration,
                &self.processing_configuration,
            ),
            s3_backup_mode: pick(&update.s3_backup_mode, &self.s3_backup_mode),
            s3_backup: merge_s3(&self.s3_backup, &update.s3_backup),
            cloud_watch_logging_options: pick(
                &update.cloud_watch_logging_options,
                &self.cloud_watch_logging_options,
            ),
            secrets_manager_configuration: pick(
                &update.secrets_manager_configuration,
                &self.secrets_manager_configuration,
            ),
        }
    }

    /// The intermediate bucket's settings.
    pub fn intermediate(&self) -> S3Destination {
        self.s3_configuration.clone().unwrap_or_default()
    }

    pub fn backup_enabled(&self) -> bool {
        self.s3_backup_mode.as_deref() == Some("Enabled")
    }

    pub fn retry_secs(&self) -> u64 {
        shared::retry_secs(&self.retry_options, DEFAULT_RETRY_SECS).max(0) as u64
    }

    /// Buffer size in bytes and interval in milliseconds: the intermediate bucket's hints.
    pub fn buffer_limits(&self) -> (u64, u64) {
        self.intermediate().buffer_limits()
    }

    /// The `RedshiftDestinationDescription` shape; the password is never part of it.
    pub fn description(&self) -> Value {
        let copy = self.copy_command.clone().unwrap_or_default();
        let mut copy_description = json!({ "DataTableName": copy.data_table_name });
        if let Some(columns) = &copy.data_table_columns {
            copy_description["DataTableColumns"] = json!(columns);
        }
        if let Some(options) = &copy.copy_options {
            copy_description["CopyOptions"] = json!(options);
        }
        let mut out = json!({
            "RoleARN": self.role_arn,
            "ClusterJDBCURL": self.cluster_jdbc_url,
            "CopyCommand": copy_description,
            "RetryOptions": { "DurationInSeconds": self.retry_secs() },
            "S3DestinationDescription": self.intermediate().s3_description(),
            "S3BackupMode": self.s3_backup_mode.as_deref().unwrap_or("Disabled"),
            "CloudWatchLoggingOptions": shared::cloud_watch(&self.cloud_watch_logging_options),
        });
        if let Some(username) = &self.username {
            out["Username"] = json!(username);
        }
        if let Some(processing) = &self.processing_configuration {
            out["ProcessingConfiguration"] = processing.clone();
        }
        if let Some(backup) = &self.s3_backup {
            out["S3BackupDescription"] = backup.s3_description();
        }
        if let Some(secrets) = &self.secrets_manager_configuration {
            out["SecretsManagerConfiguration"] = secrets.clone();
        }
        out
    }
}

/// The rules an intermediate bucket of a Redshift destination follows besides an S3
/// destination's own.
fn check_intermediate(s3: &S3Destination, member: &str) -> Result<(), FirehoseError> {
    if s3.error_output_prefix.is_some() {
        return Err(FirehoseError::InvalidArgument(format!(
            "{member}.ErrorOutputPrefix must be null when the destination is Amazon Redshift."
        )));
    }
    if let Some(text) = s3.prefix.as_deref().filter(|text| !text.is_empty()) {
        let prefix = Prefix::parse(text, PrefixRole::Prefix)
            .map_err(|err| FirehoseError::InvalidArgument(err.to_string()))?;
        if prefix.has_expressions() {
            return Err(FirehoseError::InvalidArgument(format!(
                "{member}.Prefix cannot contain expressions when the destination is Amazon Redshift."
            )));
        }
    }
    s3.check(&crate::config::FirehoseConfig::default())?;
    match s3.compression() {
        Compression::Uncompressed | Compression::Gzip => Ok(()),
        other => Err(FirehoseError::InvalidArgument(format!(
            "{member}.CompressionFormat {} is not supported for Redshift destinations: the Redshift COPY command cannot read it.",
            other.model_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> RedshiftDestination {
        serde_json::from_value(json!({
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "ClusterJDBCURL": "jdbc:redshift://127.0.0.1:5439/dev",
            "CopyCommand": {"DataTableName": "events", "CopyOptions": "JSON 'auto'"},
            "Username": "loader",
            "Password": "secret-password",
            "S3Configuration": {
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "BucketARN": "arn:aws:s3:::b"
            }
        }))
        .expect("parses")
    }

    #[test]
    fn jdbc_urls_of_both_schemes_parse() {
        let url = JdbcUrl::parse("jdbc:redshift://c.abc.us-east-1.redshift.amazonaws.com:5439/dev")
            .expect("parses");
        assert_eq!(url.port, 5439);
        assert_eq!(url.database, "dev");
        let url = JdbcUrl::parse("jdbc:postgresql://127.0.0.1:5432/db_1").expect("parses");
        assert_eq!(url.host, "127.0.0.1");
        assert_eq!(JdbcUrl::parse("jdbc:mysql://h:1/d"), None);
        assert_eq!(JdbcUrl::parse("jdbc:redshift://h/d"), None);
        assert_eq!(JdbcUrl::parse("jdbc:redshift://h:123456/d"), None);
        assert_eq!(JdbcUrl::parse("jdbc:redshift://h:5439/"), None);
    }

    #[test]
    fn a_complete_destination_passes_and_aws_rules_refuse() {
        complete().check().expect("accepted");

        let mut snappy = complete();
        snappy
            .s3_configuration
            .as_mut()
            .expect("set")
            .compression_format = Some("Snappy".into());
        let err = snappy.check().expect_err("refused");
        assert!(err.to_string().contains("Snappy"), "{err}");

        let mut error_prefix = complete();
        error_prefix
            .s3_configuration
            .as_mut()
            .expect("set")
            .error_output_prefix = Some("e/".into());
        assert!(error_prefix.check().is_err());

        let mut no_password = complete();
        no_password.password = None;
        assert!(no_password.check().is_err());

        let mut backup_without_bucket = complete();
        backup_without_bucket.s3_backup_mode = Some("Enabled".into());
        assert!(backup_without_bucket.check().is_err());
    }

    #[test]
    fn the_description_hides_the_password_and_fills_defaults() {
        let description = complete().description();
        assert!(description.get("Password").is_none());
        assert!(!description.to_string().contains("secret-password"));
        assert_eq!(description["RetryOptions"]["DurationInSeconds"], 3600);
        assert_eq!(description["S3BackupMode"], "Disabled");
        assert_eq!(description["Username"], "loader");
        assert_eq!(
            description["S3DestinationDescription"]["CompressionFormat"],
            "UNCOMPRESSED"
        );
    }

    #[test]
    fn updates_merge_member_by_member() {
        let update: RedshiftDestination = serde_json::from_value(json!({
            "Password": "another-password",
            "S3Update": {"Prefix": "p/"},
            "RetryOptions": {"DurationInSeconds": 0}
        }))
        .expect("parses");
        let merged = complete().merged(&update);
        assert_eq!(merged.password.as_deref(), Some("another-password"));
        assert_eq!(merged.username.as_deref(), Some("loader"));
        assert_eq!(merged.intermediate().prefix.as_deref(), Some("p/"));
        assert_eq!(merged.intermediate().bucket(), Some("b"));
        assert_eq!(merged.retry_secs(), 0);
    }
}
