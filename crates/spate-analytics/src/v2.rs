//! The v2 API (`KinesisAnalytics_20180523`, model kinesisanalyticsv2) for SQL applications
//! (`RuntimeEnvironment` SQL-1_0), on the same applications and engine as v1.
//!
//! Each v2 operation is translated into the v1 operation that does the same thing, run through
//! the v1 operation table (so checks, storage and the runtime are shared), and its answer is
//! reshaped into v2's:
//! - requests: v2 names an application's role once (`ServiceExecutionRole`) where v1 names one
//!   per piece, so the role is filled into every piece's `RoleARN` (`ReferenceRoleARN` for
//!   reference data); `ApplicationConfiguration` is unfolded into v1's `Inputs`, `Outputs` and
//!   `ApplicationCode`; `RunConfiguration.SqlRunConfigurations` become `InputConfigurations`;
//!   `NextToken` is v1's `ExclusiveStartApplicationName`;
//! - answers: `ApplicationDetail` gains `RuntimeEnvironment`, `ServiceExecutionRole` and the
//!   nested `ApplicationConfigurationDescription` (with the code's MD5 and size); the piecewise
//!   operations answer the application's ARN, version and the pieces of the kind changed.
//!
//! What v2 only has for Apache Flink and Zeppelin (other runtimes, snapshots, versions and
//! rollback, operations, VPC, maintenance, presigned URLs, Flink and snapshot configuration) is
//! refused with an error naming it: `UnsupportedOperationException` where the model lists it,
//! `InvalidArgumentException` otherwise.

use std::sync::Arc;

use md5::{Digest, Md5};
use serde_json::{Map, Value, json};
use spate_wire::{AwsError, Codec};

use crate::error::AnalyticsError;
use crate::service::AnalyticsService;

/// The prefix of `X-Amz-Target` for the v2 API.
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20180523";

/// The one runtime this server runs.
pub const SQL_RUNTIME: &str = "SQL-1_0";

impl AnalyticsService {
    /// Runs one v2 operation; an unknown operation name is `UnknownOperationException`.
    pub async fn handle_v2(
        self: &Arc<Self>,
        operation: &str,
        body: &[u8],
        codec: Codec,
    ) -> Result<Vec<u8>, AwsError> {
        let request: Value = match codec.decode(body) {
            Ok(Value::Object(map)) => Value::Object(map),
            Ok(_) => {
                return Err(AnalyticsError::Serialization(
                    "the request body is not an object".into(),
                )
                .to_aws());
            }
            Err(err) => return Err(AnalyticsError::Serialization(err.to_string()).to_aws()),
        };
        match self.run_v2(operation, request).await {
            Some(Ok(answer)) => codec
                .encode(&answer)
                .map_err(|err| AnalyticsError::Internal(err.to_string()).to_aws()),
            Some(Err(err)) => {
                if err.is_server_fault() {
                    tracing::error!(operation, error = %err, "Kinesis Analytics v2 operation failed");
                }
                Err(err.to_aws())
            }
            None => Err(AwsError::unknown_operation(&format!(
                "{TARGET_PREFIX}.{operation}"
            ))),
        }
    }

    /// A v1 operation with a JSON body, in process.
    async fn call_v1(
        self: &Arc<Self>,
        operation: &str,
        body: Value,
    ) -> Result<Value, AnalyticsError> {
        let bytes =
            serde_json::to_vec(&body).map_err(|err| AnalyticsError::Internal(err.to_string()))?;
        match self.run(operation, &bytes, Codec::Json).await {
            Some(Ok(answer)) => serde_json::from_slice(&answer)
                .map_err(|err| AnalyticsError::Internal(err.to_string())),
            Some(Err(err)) => Err(err),
            None => Err(AnalyticsError::Internal(format!(
                "no v1 operation {operation}"
            ))),
        }
    }

    async fn run_v2(
        self: &Arc<Self>,
        operation: &str,
        request: Value,
    ) -> Option<Result<Value, AnalyticsError>> {
        let name = request["ApplicationName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        Some(match operation {
            "CreateApplication" => self.v2_create(request).await,
            "DescribeApplication" => self.v2_detail(&request).await,
            "ListApplications" => self.v2_list(request).await,
            "DeleteApplication" => self.call_v1("DeleteApplication", request).await,
            "StartApplication" => self.v2_start(request).await,
            "StopApplication" => {
                let body = json!({"ApplicationName": request["ApplicationName"]});
                self.call_v1("StopApplication", body)
                    .await
                    .map(|_| json!({}))
            }
            "UpdateApplication" => self.v2_update(request).await,
            "AddApplicationInput" => self.v2_piece(request, "AddApplicationInput", "Input").await,
            "AddApplicationOutput" => {
                self.v2_piece(request, "AddApplicationOutput", "Output")
                    .await
            }
            "AddApplicationReferenceDataSource" => {
                self.v2_piece(
                    request,
                    "AddApplicationReferenceDataSource",
                    "ReferenceDataSource",
                )
                .await
            }
            "AddApplicationInputProcessingConfiguration" => {
                self.v2_piece(
                    request,
                    "AddApplicationInputProcessingConfiguration",
                    "InputProcessingConfiguration",
                )
                .await
            }
            "AddApplicationCloudWatchLoggingOption" => {
                self.v2_piece(
                    request,
                    "AddApplicationCloudWatchLoggingOption",
                    "CloudWatchLoggingOption",
                )
                .await
            }
            "DeleteApplicationOutput"
            | "DeleteApplicationReferenceDataSource"
            | "DeleteApplicationInputProcessingConfiguration"
            | "DeleteApplicationCloudWatchLoggingOption" => {
                self.v2_piece(request, operation, "").await
            }
            "DiscoverInputSchema" => {
                let mut body = request;
                let role = body
                    .as_object_mut()
                    .and_then(|map| map.remove("ServiceExecutionRole"))
                    .unwrap_or(Value::Null);
                body["RoleARN"] = role.clone();
                fill_roles(&mut body, &role);
                self.call_v1("DiscoverInputSchema", body).await
            }
            "TagResource" | "UntagResource" | "ListTagsForResource" => {
                self.call_v1(operation, request).await
            }
            "CreateApplicationSnapshot"
            | "DeleteApplicationSnapshot"
            | "DescribeApplicationSnapshot"
            | "ListApplicationSnapshots" => self.v2_flink_only(&name, operation, "snapshots", true),
            "ListApplicationVersions" | "DescribeApplicationVersion" | "RollbackApplication" => {
                self.v2_flink_only(&name, operation, "application versions", true)
            }
            "ListApplicationOperations" | "DescribeApplicationOperation" => {
                self.v2_flink_only(&name, operation, "application operations", true)
            }
            "UpdateApplicationMaintenanceConfiguration" => {
                self.v2_flink_only(&name, operation, "maintenance windows", true)
            }
            "AddApplicationVpcConfiguration" | "DeleteApplicationVpcConfiguration" => {
                self.v2_flink_only(&name, operation, "VPC configurations", false)
            }
            "CreateApplicationPresignedUrl" => {
                self.v2_flink_only(&name, operation, "dashboard URLs", false)
            }
            _ => return None,
        })
    }

    /// An operation v2 has for Apache Flink and Zeppelin applications only.
    fn v2_flink_only(
        &self,
        name: &str,
        operation: &str,
        what: &str,
        unsupported_is_modeled: bool,
    ) -> Result<Value, AnalyticsError> {
        self.existing(name)?;
        let message = format!(
            "{operation}: {what} are for Apache Flink and Zeppelin applications; {name} is a SQL application ({SQL_RUNTIME})."
        );
        Err(if unsupported_is_modeled {
            AnalyticsError::UnsupportedOperation(message)
        } else {
            AnalyticsError::InvalidArgument(message)
        })
    }

    async fn v2_create(self: &Arc<Self>, request: Value) -> Result<Value, AnalyticsError> {
        let runtime = request["RuntimeEnvironment"].as_str().unwrap_or_default();
        if runtime.is_empty() {
            return Err(missing("runtimeEnvironment"));
        }
        if runtime != SQL_RUNTIME {
            return Err(AnalyticsError::UnsupportedOperation(format!(
                "Runtime environment {runtime} is not supported: this server runs SQL applications ({SQL_RUNTIME}) only."
            )));
        }
        let role = request["ServiceExecutionRole"].clone();
        if role.is_null() {
            return Err(missing("serviceExecutionRole"));
        }
        if let Some(mode) = request["ApplicationMode"].as_str()
            && mode != "STREAMING"
        {
            return Err(AnalyticsError::InvalidArgument(format!(
                "ApplicationMode {mode} is for Zeppelin applications; a SQL application is STREAMING."
            )));
        }
        let configuration = &request["ApplicationConfiguration"];
        refuse_flink_configuration(configuration)?;
        let sql = &configuration["SqlApplicationConfiguration"];
        let mut body = json!({"ApplicationName": request["ApplicationName"]});
        copy(&request, &mut body, "ApplicationDescription");
        copy(&request, &mut body, "Tags");
        copy(sql, &mut body, "Inputs");
        copy(sql, &mut body, "Outputs");
        copy(&request, &mut body, "CloudWatchLoggingOptions");
        if let Some(code) = code_of(&configuration["ApplicationCodeConfiguration"])? {
            body["ApplicationCode"] = json!(code);
        }
        fill_roles(&mut body, &role);
        let references = sql["ReferenceDataSources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        self.call_v1("CreateApplication", body).await?;
        let name = request["ApplicationName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.set_service_execution_role(&name, role.as_str().map(str::to_string))
            .await?;
        // v1 adds reference data sources one by one, after creation.
        for mut reference in references {
            fill_roles(&mut reference, &role);
            let version = self.existing(&name)?.version;
            self.call_v1(
                "AddApplicationReferenceDataSource",
                json!({"ApplicationName": name, "CurrentApplicationVersionId": version,
                       "ReferenceDataSource": reference}),
            )
            .await?;
        }
        self.v2_detail(&json!({"ApplicationName": name})).await
    }

    /// `{"ApplicationDetail": ...}` in v2's shape.
    async fn v2_detail(self: &Arc<Self>, request: &Value) -> Result<Value, AnalyticsError> {
        let name = request["ApplicationName"].clone();
        let answer = self
            .call_v1("DescribeApplication", json!({"ApplicationName": name}))
            .await?;
        let role = name
            .as_str()
            .and_then(|name| self.get(name))
            .and_then(|application| application.service_execution_role.clone());
        Ok(json!({"ApplicationDetail": v2_detail(&answer["ApplicationDetail"], role.as_deref())}))
    }

    async fn v2_list(self: &Arc<Self>, request: Value) -> Result<Value, AnalyticsError> {
        let mut body = json!({});
        copy(&request, &mut body, "Limit");
        if let Some(token) = request.get("NextToken").filter(|token| !token.is_null()) {
            body["ExclusiveStartApplicationName"] = token.clone();
        }
        let answer = self.call_v1("ListApplications", body).await?;
        let mut summaries = Vec::new();
        for summary in answer["ApplicationSummaries"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut summary = summary.clone();
            let version = summary["ApplicationName"]
                .as_str()
                .and_then(|name| self.get(name))
                .map_or(1, |application| application.version);
            summary["ApplicationVersionId"] = json!(version);
            summary["RuntimeEnvironment"] = json!(SQL_RUNTIME);
            summary["ApplicationMode"] = json!("STREAMING");
            summaries.push(summary);
        }
        let mut out = json!({"ApplicationSummaries": summaries});
        if answer["HasMoreApplications"].as_bool() == Some(true)
            && let Some(last) = summaries.last()
        {
            out["NextToken"] = last["ApplicationName"].clone();
        }
        Ok(out)
    }

    async fn v2_start(self: &Arc<Self>, request: Value) -> Result<Value, AnalyticsError> {
        let run = &request["RunConfiguration"];
        if !run["FlinkRunConfiguration"].is_null()
            || !run["ApplicationRestoreConfiguration"].is_null()
        {
            return Err(AnalyticsError::InvalidArgument(
                "FlinkRunConfiguration and ApplicationRestoreConfiguration are for Apache Flink applications; a SQL application starts with SqlRunConfigurations.".into(),
            ));
        }
        let configurations: Vec<Value> = run["SqlRunConfigurations"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|sql| {
                json!({"Id": sql["InputId"],
                       "InputStartingPositionConfiguration": sql["InputStartingPositionConfiguration"]})
            })
            .collect();
        let body = json!({"ApplicationName": request["ApplicationName"],
                          "InputConfigurations": configurations});
        self.call_v1("StartApplication", body)
            .await
            .map(|_| json!({}))
    }

    async fn v2_update(self: &Arc<Self>, request: Value) -> Result<Value, AnalyticsError> {
        let name = request["ApplicationName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let application = self.existing(&name)?;
        if let Some(runtime) = request["RuntimeEnvironmentUpdate"].as_str()
            && runtime != SQL_RUNTIME
        {
            return Err(AnalyticsError::InvalidArgument(format!(
                "A SQL application's runtime cannot change to {runtime}."
            )));
        }
        if !request["RunConfigurationUpdate"].is_null() {
            return Err(AnalyticsError::InvalidArgument(
                "RunConfigurationUpdate is for Apache Flink applications.".into(),
            ));
        }
        let configuration = &request["ApplicationConfigurationUpdate"];
        refuse_flink_configuration(configuration)?;
        let role = request["ServiceExecutionRoleUpdate"]
            .as_str()
            .map(str::to_string)
            .or_else(|| application.service_execution_role.clone());
        let role_value = role.clone().map_or(Value::Null, Value::String);
        let sql = &configuration["SqlApplicationConfigurationUpdate"];
        let mut update = json!({});
        copy(sql, &mut update, "InputUpdates");
        copy(sql, &mut update, "OutputUpdates");
        copy(sql, &mut update, "ReferenceDataSourceUpdates");
        copy(&request, &mut update, "CloudWatchLoggingOptionUpdates");
        let code_update = &configuration["ApplicationCodeConfigurationUpdate"];
        if let Some(kind) = code_update["CodeContentTypeUpdate"].as_str()
            && kind != "PLAINTEXT"
        {
            return Err(AnalyticsError::InvalidArgument(format!(
                "A SQL application's code is PLAINTEXT, not {kind}."
            )));
        }
        let content = &code_update["CodeContentUpdate"];
        if !content["ZipFileContentUpdate"].is_null()
            || !content["S3ContentLocationUpdate"].is_null()
        {
            return Err(AnalyticsError::InvalidArgument(
                "A SQL application's code is text: use TextContentUpdate.".into(),
            ));
        }
        if let Some(text) = content
            .get("TextContentUpdate")
            .filter(|text| !text.is_null())
        {
            update["ApplicationCodeUpdate"] = text.clone();
        }
        let version = match request["CurrentApplicationVersionId"].as_i64() {
            Some(version) => version,
            None => application.version,
        };
        let changes = update.as_object().is_some_and(|map| !map.is_empty());
        if changes {
            fill_roles(&mut update, &role_value);
            self.call_v1(
                "UpdateApplication",
                json!({"ApplicationName": name, "CurrentApplicationVersionId": version,
                       "ApplicationUpdate": update}),
            )
            .await?;
        } else if version != application.version {
            return Err(AnalyticsError::ConcurrentModification(format!(
                "The application version {version} is not the current version {}.",
                application.version
            )));
        }
        if request["ServiceExecutionRoleUpdate"].is_string() {
            self.set_service_execution_role(&name, role).await?;
        }
        self.v2_detail(&json!({"ApplicationName": name})).await
    }

    /// A piecewise addition or deletion: v1 does it; v2 answers the ARN, the new version and
    /// (for additions) the descriptions of the pieces of that kind.
    async fn v2_piece(
        self: &Arc<Self>,
        mut request: Value,
        operation: &str,
        member: &str,
    ) -> Result<Value, AnalyticsError> {
        let name = request["ApplicationName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let application = self.existing(&name)?;
        if request["CurrentApplicationVersionId"].is_null() {
            request["CurrentApplicationVersionId"] = json!(application.version);
        }
        if let Some(map) = request.as_object_mut() {
            map.remove("ConditionalToken");
        }
        let role = application
            .service_execution_role
            .clone()
            .map_or(Value::Null, Value::String);
        fill_roles(&mut request, &role);
        let input_id = request["InputId"].clone();
        self.call_v1(operation, request).await?;
        let detail = self
            .call_v1("DescribeApplication", json!({"ApplicationName": name}))
            .await?;
        let detail = &detail["ApplicationDetail"];
        let mut answer = json!({
            "ApplicationARN": detail["ApplicationARN"],
            "ApplicationVersionId": detail["ApplicationVersionId"],
        });
        match member {
            "Input" => answer["InputDescriptions"] = detail["InputDescriptions"].clone(),
            "Output" => answer["OutputDescriptions"] = detail["OutputDescriptions"].clone(),
            "ReferenceDataSource" => {
                answer["ReferenceDataSourceDescriptions"] =
                    detail["ReferenceDataSourceDescriptions"].clone()
            }
            "CloudWatchLoggingOption" => {
                answer["CloudWatchLoggingOptionDescriptions"] =
                    detail["CloudWatchLoggingOptionDescriptions"].clone()
            }
            "InputProcessingConfiguration" => {
                answer["InputId"] = input_id.clone();
                if let Some(input) = detail["InputDescriptions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|input| input["InputId"] == input_id)
                {
                    answer["InputProcessingConfigurationDescription"] =
                        input["InputProcessingConfigurationDescription"].clone();
                }
            }
            _ => {
                if operation == "DeleteApplicationCloudWatchLoggingOption" {
                    answer["CloudWatchLoggingOptionDescriptions"] =
                        detail["CloudWatchLoggingOptionDescriptions"].clone();
                }
            }
        }
        Ok(answer)
    }
}

fn missing(member: &str) -> AnalyticsError {
    let mut violations = spate_wire::Violations::default();
    violations.required(member, &None::<String>);
    AnalyticsError::Validation(violations)
}

fn copy(from: &Value, to: &mut Value, member: &str) {
    if let Some(value) = from.get(member).filter(|value| !value.is_null()) {
        to[member] = value.clone();
    }
}

/// Refuses the parts of `ApplicationConfiguration` (or its update) only Flink and Zeppelin
/// applications have.
fn refuse_flink_configuration(configuration: &Value) -> Result<(), AnalyticsError> {
    const FLINK_ONLY: &[&str] = &[
        "FlinkApplicationConfiguration",
        "FlinkApplicationConfigurationUpdate",
        "EnvironmentProperties",
        "EnvironmentPropertyUpdates",
        "ApplicationSnapshotConfiguration",
        "ApplicationSnapshotConfigurationUpdate",
        "ApplicationSystemRollbackConfiguration",
        "ApplicationSystemRollbackConfigurationUpdate",
        "VpcConfigurations",
        "VpcConfigurationUpdates",
        "ZeppelinApplicationConfiguration",
        "ZeppelinApplicationConfigurationUpdate",
        "ApplicationEncryptionConfiguration",
        "ApplicationEncryptionConfigurationUpdate",
    ];
    for member in FLINK_ONLY {
        if configuration
            .get(member)
            .is_some_and(|value| !value.is_null())
        {
            return Err(AnalyticsError::InvalidArgument(format!(
                "{member} is for Apache Flink and Zeppelin applications; a SQL application ({SQL_RUNTIME}) cannot have it."
            )));
        }
    }
    Ok(())
}

/// The text of a SQL application's `ApplicationCodeConfiguration`.
fn code_of(configuration: &Value) -> Result<Option<String>, AnalyticsError> {
    if configuration.is_null() {
        return Ok(None);
    }
    match configuration["CodeContentType"].as_str() {
        Some("PLAINTEXT") => {}
        Some(other) => {
            return Err(AnalyticsError::InvalidArgument(format!(
                "A SQL application's code is PLAINTEXT, not {other}."
            )));
        }
        None => {
            return Err(missing(
                "applicationConfiguration.applicationCodeConfiguration.codeContentType",
            ));
        }
    }
    let content = &configuration["CodeContent"];
    if !content["ZipFileContent"].is_null() || !content["S3ContentLocation"].is_null() {
        return Err(AnalyticsError::InvalidArgument(
            "A SQL application's code is text: use TextContent.".into(),
        ));
    }
    Ok(content["TextContent"].as_str().map(str::to_string))
}

/// The members of v1 pieces that name a role, by the object that holds them; v2 pieces have
/// none, the application's `ServiceExecutionRole` standing for them all.
const ROLE_HOLDERS: &[(&str, &str)] = &[
    ("KinesisStreamsInput", "RoleARN"),
    ("KinesisFirehoseInput", "RoleARN"),
    ("InputLambdaProcessor", "RoleARN"),
    ("KinesisStreamsOutput", "RoleARN"),
    ("KinesisFirehoseOutput", "RoleARN"),
    ("LambdaOutput", "RoleARN"),
    ("S3ReferenceDataSource", "ReferenceRoleARN"),
    ("S3Configuration", "RoleARN"),
    ("KinesisStreamsInputUpdate", "RoleARNUpdate"),
    ("KinesisFirehoseInputUpdate", "RoleARNUpdate"),
    ("InputLambdaProcessorUpdate", "RoleARNUpdate"),
    ("KinesisStreamsOutputUpdate", "RoleARNUpdate"),
    ("KinesisFirehoseOutputUpdate", "RoleARNUpdate"),
    ("LambdaOutputUpdate", "RoleARNUpdate"),
    ("S3ReferenceDataSourceUpdate", "ReferenceRoleARNUpdate"),
];

/// Fills `role` into every role member of the v1 request `body` that is missing: into each
/// role-holding object, and into CloudWatch logging options (`LogStreamARN` objects).
fn fill_roles(body: &mut Value, role: &Value) {
    if role.is_null() {
        return;
    }
    match body {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if let Some((_, member)) = ROLE_HOLDERS.iter().find(|(holder, _)| holder == key)
                    && let Value::Object(holder) = value
                    && !holder.contains_key(*member)
                {
                    holder.insert((*member).to_string(), role.clone());
                }
                fill_roles(value, role);
            }
            if map.contains_key("LogStreamARN") && !map.contains_key("RoleARN") {
                map.insert("RoleARN".into(), role.clone());
            }
        }
        Value::Array(items) => {
            for item in items {
                fill_roles(item, role);
            }
        }
        _ => {}
    }
}

/// v1's `ApplicationDetail` in v2's shape.
fn v2_detail(v1: &Value, role: Option<&str>) -> Value {
    let mut detail = Map::new();
    for member in [
        "ApplicationARN",
        "ApplicationDescription",
        "ApplicationName",
        "ApplicationStatus",
        "ApplicationVersionId",
        "CreateTimestamp",
        "LastUpdateTimestamp",
        "CloudWatchLoggingOptionDescriptions",
    ] {
        if let Some(value) = v1.get(member).filter(|value| !value.is_null()) {
            detail.insert(member.into(), value.clone());
        }
    }
    detail.insert("RuntimeEnvironment".into(), json!(SQL_RUNTIME));
    detail.insert("ApplicationMode".into(), json!("STREAMING"));
    if let Some(role) = role {
        detail.insert("ServiceExecutionRole".into(), json!(role));
    }
    let mut configuration = json!({
        "SqlApplicationConfigurationDescription": {
            "InputDescriptions": v1["InputDescriptions"],
            "OutputDescriptions": v1["OutputDescriptions"],
            "ReferenceDataSourceDescriptions": v1["ReferenceDataSourceDescriptions"],
        }
    });
    if let Some(code) = v1["ApplicationCode"].as_str() {
        configuration["ApplicationCodeConfigurationDescription"] = json!({
            "CodeContentType": "PLAINTEXT",
            "CodeContentDescription": {
                "TextContent": code,
                "CodeMD5": hex(&Md5::digest(code.as_bytes())),
                "CodeSize": code.len(),
            }
        });
    }
    detail.insert("ApplicationConfigurationDescription".into(), configuration);
    Value::Object(detail)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_fills_every_piece_that_lacks_one() {
        let mut body = json!({
            "Inputs": [{"NamePrefix": "S", "KinesisStreamsInput": {"ResourceARN": "in"},
                        "InputProcessingConfiguration": {"InputLambdaProcessor": {"ResourceARN": "f"}}}],
            "Outputs": [{"Name": "O", "KinesisFirehoseOutput": {"ResourceARN": "out", "RoleARN": "own"}}],
            "CloudWatchLoggingOptions": [{"LogStreamARN": "log"}],
            "ReferenceDataSource": {"S3ReferenceDataSource": {"BucketARN": "b", "FileKey": "k"}},
        });
        fill_roles(&mut body, &json!("role"));
        assert_eq!(body["Inputs"][0]["KinesisStreamsInput"]["RoleARN"], "role");
        assert_eq!(
            body["Inputs"][0]["InputProcessingConfiguration"]["InputLambdaProcessor"]["RoleARN"],
            "role"
        );
        assert_eq!(
            body["Outputs"][0]["KinesisFirehoseOutput"]["RoleARN"],
            "own"
        );
        assert_eq!(body["CloudWatchLoggingOptions"][0]["RoleARN"], "role");
        assert_eq!(
            body["ReferenceDataSource"]["S3ReferenceDataSource"]["ReferenceRoleARN"],
            "role"
        );
    }

    #[test]
    fn a_v1_detail_becomes_a_v2_detail() {
        let v1 = json!({
            "ApplicationName": "a", "ApplicationARN": "arn", "ApplicationStatus": "READY",
            "ApplicationVersionId": 3, "ApplicationCode": "abc",
            "InputDescriptions": [], "OutputDescriptions": [], "ReferenceDataSourceDescriptions": [],
        });
        let detail = v2_detail(&v1, Some("role"));
        assert_eq!(detail["RuntimeEnvironment"], SQL_RUNTIME);
        assert_eq!(detail["ServiceExecutionRole"], "role");
        let code = &detail["ApplicationConfigurationDescription"]["ApplicationCodeConfigurationDescription"]
            ["CodeContentDescription"];
        assert_eq!(code["TextContent"], "abc");
        assert_eq!(code["CodeMD5"], "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(code["CodeSize"], 3);
        assert!(detail.get("ApplicationCode").is_none());
    }
}
