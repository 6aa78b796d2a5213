//! The v1 operations: one module per operation, except the piecewise additions and deletions
//! (`pieces`), which share one shape, and the tagging operations (`tags`); `not_built` is the
//! refusal of StartApplication on a server without the SQL engine. Members several operations
//! share are checked here, and `change` applies a change (to a running application too).

pub mod create_application;
pub mod delete_application;
pub mod describe_application;
pub mod discover_input_schema;
pub mod list_applications;
pub mod not_built;
pub mod pieces;
pub mod start_application;
pub mod stop_application;
pub mod tags;
pub mod update_application;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spate_wire::Violations;

use crate::error::AnalyticsError;
use crate::model::{Application, PieceKind, Status};
use crate::runtime::RuntimeError;
use crate::runtime::checkpoint::{Checkpoint, StartAt};
use crate::runtime::{reference, runner};
use crate::service::AnalyticsService;

pub const NAME_PATTERN: &str = "[a-zA-Z0-9_.-]+";
/// Tags an application may have (AWS: 50).
pub const MAX_TAGS: usize = 50;
/// Streaming sources an application may have.
pub const MAX_INPUTS: usize = 1;
/// Destinations an application may have.
pub const MAX_OUTPUTS: usize = 3;
/// Reference data sources an application may have.
pub const MAX_REFERENCES: usize = 1;
/// CloudWatch logging options an application may have.
pub const MAX_LOGGING: usize = 1;

/// An empty response body: `{}`.
#[derive(Debug, Serialize)]
pub struct Empty {}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// `ApplicationName`: 1-128 characters of `[a-zA-Z0-9_.-]`.
pub fn application_name(v: &mut Violations, path: &str, value: &Option<String>, required: bool) {
    match value {
        None if required => v.required(path, value),
        None => {}
        Some(text) => {
            v.string_length(path, text, 1, 128);
            v.pattern(path, text, NAME_PATTERN, is_name(text));
        }
    }
}

/// `Id` (of an input, output, reference data source or logging option): 1-50 characters of
/// `[a-zA-Z0-9_.-]`.
pub fn piece_id(v: &mut Violations, path: &str, value: &Option<String>) {
    match value {
        None => v.required(path, value),
        Some(text) => {
            v.string_length(path, text, 1, 50);
            v.pattern(path, text, NAME_PATTERN, is_name(text));
        }
    }
}

/// `ApplicationVersionId`: 1 to 999999999.
pub fn version_id(v: &mut Violations, path: &str, value: &Option<i64>) {
    match value {
        None => v.required(path, value),
        Some(version) => v.range(path, *version, Some(1), Some(999_999_999)),
    }
}

/// The two members every change to an application carries: its (required) `ApplicationName`
/// and the `CurrentApplicationVersionId` the change is made against.
pub fn versioned(v: &mut Violations, name: &Option<String>, version: &Option<i64>) {
    application_name(v, "applicationName", name, true);
    version_id(v, "currentApplicationVersionId", version);
}

/// `ApplicationCode`: at most 102400 characters.
pub fn code(v: &mut Violations, path: &str, value: &Option<String>) {
    if let Some(code) = value {
        v.string_length(path, code, 0, 102_400);
    }
}

/// A required member, after validation has run.
pub fn required<T: Default + Clone>(value: &Option<T>) -> T {
    value.clone().unwrap_or_default()
}

/// A required structure member: present, and an object holding each of `members`.
pub fn structure(v: &mut Violations, path: &str, value: &Option<Value>, members: &[&str]) {
    match value {
        None => v.required(path, value),
        Some(body) => required_members(v, path, body, members),
    }
}

/// Each of `members` of a structure given as JSON is present.
pub fn required_members(v: &mut Violations, path: &str, body: &Value, members: &[&str]) {
    for member in members {
        if body.get(member).is_none_or(Value::is_null) {
            let mut name = member.to_string();
            name[..1].make_ascii_lowercase();
            v.required(&format!("{path}.{name}"), &None::<()>);
        }
    }
}

/// The members an `Input` must have.
pub const INPUT_MEMBERS: &[&str] = &["NamePrefix", "InputSchema"];
/// The members an `Output` must have.
pub const OUTPUT_MEMBERS: &[&str] = &["Name", "DestinationSchema"];
/// The members a `ReferenceDataSource` must have.
pub const REFERENCE_MEMBERS: &[&str] = &["TableName", "ReferenceSchema"];
/// The members a `CloudWatchLoggingOption` must have.
pub const LOGGING_MEMBERS: &[&str] = &["LogStreamARN", "RoleARN"];

/// AWS's semantic rules for a piece as it would be stored: an input reads exactly one source,
/// an output writes to exactly one destination.
pub fn check_piece(kind: PieceKind, body: &Value) -> Result<(), AnalyticsError> {
    let (what, endpoints): (&str, &[&str]) = match kind {
        PieceKind::Input => (
            "Input",
            &["KinesisStreamsInput", "KinesisFirehoseInput"][..],
        ),
        PieceKind::Output => (
            "Output",
            &[
                "KinesisStreamsOutput",
                "KinesisFirehoseOutput",
                "LambdaOutput",
            ][..],
        ),
        PieceKind::Reference => ("ReferenceDataSource", &["S3ReferenceDataSource"][..]),
        PieceKind::Logging => return Ok(()),
    };
    let named = endpoints
        .iter()
        .filter(|member| body.get(**member).is_some_and(|value| !value.is_null()))
        .count();
    if named != 1 {
        return Err(AnalyticsError::InvalidArgument(format!(
            "{what} must name exactly one of {}.",
            endpoints.join(", ")
        )));
    }
    if kind == PieceKind::Input {
        let prefix = body["NamePrefix"].as_str().unwrap_or_default();
        if prefix.is_empty() || prefix.chars().count() > 32 {
            return Err(AnalyticsError::InvalidArgument(
                "Input NamePrefix must have length between 1 and 32.".into(),
            ));
        }
        if let Some(count) = body["InputParallelism"]["Count"].as_i64()
            && !(1..=64).contains(&count)
        {
            return Err(AnalyticsError::InvalidArgument(format!(
                "InputParallelism Count {count} must be between 1 and 64."
            )));
        }
    }
    Ok(())
}

/// How many pieces of `kind` an application may have.
pub fn max_pieces(kind: PieceKind) -> usize {
    match kind {
        PieceKind::Input => MAX_INPUTS,
        PieceKind::Output => MAX_OUTPUTS,
        PieceKind::Reference => MAX_REFERENCES,
        PieceKind::Logging => MAX_LOGGING,
    }
}

/// Adds a piece after checking it and the application's room for it.
pub fn add_piece(
    application: &mut Application,
    kind: PieceKind,
    body: Value,
) -> Result<String, AnalyticsError> {
    check_piece(kind, &body)?;
    let max = max_pieces(kind);
    if application.pieces(kind).len() >= max {
        return Err(AnalyticsError::InvalidArgument(format!(
            "Application {} already has {max} {}; no more can be added.",
            application.name,
            match kind {
                PieceKind::Input => "input",
                PieceKind::Output => "outputs",
                PieceKind::Reference => "reference data source",
                PieceKind::Logging => "CloudWatch logging option",
            }
        )));
    }
    Ok(application.add_piece(kind, body))
}

/// The application code parses as the SQL dialect; a syntax error is AWS's
/// `CodeValidationException`, its message carrying the line and column.
pub fn check_code(code: &str) -> Result<(), AnalyticsError> {
    crate::sql::parse_application_code(code)
        .map(|_| ())
        .map_err(|err| AnalyticsError::CodeValidation(format!("Invalid application code: {err}")))
}

/// A stale `CurrentApplicationVersionId` is AWS's `ConcurrentModificationException`.
pub fn check_version(application: &Application, given: i64) -> Result<(), AnalyticsError> {
    if given != application.version {
        return Err(AnalyticsError::ConcurrentModification(format!(
            "Current application version id {given} does not match the version id {} of application {}.",
            application.version, application.name
        )));
    }
    Ok(())
}

/// One change to an application under the control lock: the version is checked, `apply`
/// changes a copy, the version goes up by one and the copy is stored. A running application
/// is checked to run with the change (its code built, its inputs and outputs usable) and then
/// runs it (`AnalyticsService::reload`).
pub async fn change<F>(
    service: &AnalyticsService,
    name: &str,
    version: i64,
    apply: F,
) -> Result<(), AnalyticsError>
where
    F: FnOnce(&mut Application) -> Result<(), AnalyticsError>,
{
    let control = service.control.lock().await;
    let current = service.existing(name)?;
    check_version(&current, version)?;
    let mut application = (*current).clone();
    apply(&mut application)?;
    application.bump(service.now_ms());
    let running = matches!(application.status, Status::Running | Status::Starting);
    if running {
        // A running application goes on with the change, so the change must be able to run.
        let start = StartAt::Timestamp(service.now_ms());
        let tables = reference::load(service.connections.objects.as_ref(), &application)
            .await
            .map_err(change_refused)?;
        runner::prepare(service, &application, Checkpoint::default(), start, tables)
            .map_err(change_refused)?;
    }
    service.store(application).await?;
    drop(control);
    if running {
        service.reload(name).await;
    }
    Ok(())
}

/// Why a running application cannot take a change, as the change operations' errors (their
/// models have no InvalidApplicationConfigurationException).
fn change_refused(err: RuntimeError) -> AnalyticsError {
    match start_application::api_error(err) {
        AnalyticsError::InvalidApplicationConfiguration(message) => {
            AnalyticsError::InvalidArgument(message)
        }
        other => other,
    }
}

/// One tag, as the model shapes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `Tags`: 1-200 tags, keys of 1-128 characters, values of at most 256.
pub fn tags(v: &mut Violations, path: &str, tags: &[Tag]) {
    let rendered = format!("[{}]", tags.len());
    v.collection_length(path, &rendered, tags.len(), 1, 200);
    for (index, tag) in tags.iter().enumerate() {
        let member = format!("{path}.{}.member", index + 1);
        let key_path = format!("{member}.key");
        match &tag.key {
            None => v.required(&key_path, &tag.key),
            Some(key) => v.string_length(&key_path, key, 1, 128),
        }
        if let Some(value) = &tag.value {
            v.string_length(&format!("{member}.value"), value, 0, 256);
        }
    }
}

/// Merges tags into an application's, checking AWS's rules: no `aws:` keys, at most 50.
pub fn apply_tags(application: &mut Application, tags: &[Tag]) -> Result<(), AnalyticsError> {
    for tag in tags {
        let key = tag.key.as_deref().unwrap_or_default();
        if key.starts_with("aws:") {
            return Err(AnalyticsError::InvalidArgument(format!(
                "Tag key {key} is reserved: keys may not start with aws:."
            )));
        }
        application
            .tags
            .insert(key.to_owned(), tag.value.clone().unwrap_or_default());
    }
    if application.tags.len() > MAX_TAGS {
        return Err(AnalyticsError::TooManyTags(format!(
            "Application {} would have {} tags; at most {MAX_TAGS} are allowed.",
            application.name,
            application.tags.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_stale_version_is_a_concurrent_modification() {
        let mut application = Application::new("a".into(), 0);
        assert!(check_version(&application, 1).is_ok());
        application.bump(5);
        assert_eq!(application.version, 2);
        let err = check_version(&application, 1).expect_err("refused");
        assert_eq!(err.to_aws().code, "ConcurrentModificationException");
        assert!(check_version(&application, 2).is_ok());
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        assert!(check_code("").is_ok());
        assert!(
            check_code("CREATE OR REPLACE STREAM \"S\" (a INTEGER);\nSELECT STREAM * FROM \"S\";")
                .is_ok()
        );
        let err = check_code("CREATE STREAM \"S\" (a INTEGER);\nSELEC 1;").expect_err("refused");
        assert_eq!(err.to_aws().code, "CodeValidationException");
        assert!(err.to_string().contains("line 2, column 1"), "{err}");
    }

    #[test]
    fn pieces_are_checked_and_bounded() {
        let mut application = Application::new("a".into(), 0);
        let input = json!({
            "NamePrefix": "IN",
            "KinesisStreamsInput": {"ResourceARN": "arn:s", "RoleARN": "arn:r"},
            "InputSchema": {},
        });
        assert_eq!(
            add_piece(&mut application, PieceKind::Input, input.clone()).expect("added"),
            "1.1"
        );
        let err = add_piece(&mut application, PieceKind::Input, input).expect_err("refused");
        assert_eq!(err.to_aws().code, "InvalidArgumentException");
        let both = json!({"Name": "O", "LambdaOutput": {}, "KinesisStreamsOutput": {}});
        assert!(add_piece(&mut application, PieceKind::Output, both).is_err());
    }

    #[test]
    fn tags_are_bounded_and_aws_keys_refused() {
        let mut application = Application::new("a".into(), 0);
        let tag = |key: &str| Tag {
            key: Some(key.into()),
            value: None,
        };
        assert!(apply_tags(&mut application, &[tag("aws:x")]).is_err());
        let many: Vec<Tag> = (0..51).map(|n| tag(&format!("k{n}"))).collect();
        let err = apply_tags(&mut application, &many).expect_err("refused");
        assert_eq!(err.to_aws().code, "TooManyTagsException");
    }
}
