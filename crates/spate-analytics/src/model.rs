//! An application as stored, and as `DescribeApplication` shows it.
//!
//! The configuration pieces (inputs, outputs, reference data sources, CloudWatch logging
//! options) are kept as the caller gave them, JSON in the request shape (`KinesisStreamsInput`,
//! `S3ReferenceDataSource`...), each with the id assigned when it was added. A description
//! renames a piece's members to the description shape (`KinesisStreamsInputDescription`); an
//! update's members (`KinesisStreamsInputUpdate`, `RecordColumnUpdates`...) merge into the
//! piece by the same naming rule. Its status (`READY`, `STARTING`, `RUNNING`, `STOPPING`) is
//! stored with it, so a restart finds running applications and runs them again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One configuration piece and its id (`1.1`, `2.1`...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    pub id: String,
    pub body: Value,
}

/// The four kinds of configuration piece, each with its own ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    Input,
    Output,
    Reference,
    Logging,
}

impl PieceKind {
    /// How messages name the piece's id.
    pub fn id_name(self) -> &'static str {
        match self {
            PieceKind::Input => "Input id",
            PieceKind::Output => "Output id",
            PieceKind::Reference => "Reference data source id",
            PieceKind::Logging => "CloudWatch logging option id",
        }
    }
}

/// `ApplicationStatus`, as far as Spate uses it (DELETING and UPDATING are never stored:
/// deletion and updates take effect at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    #[default]
    Ready,
    Starting,
    Running,
    Stopping,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "READY",
            Status::Starting => "STARTING",
            Status::Running => "RUNNING",
            Status::Stopping => "STOPPING",
        }
    }
}

/// An application, as stored under `analytics/applications/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub name: String,
    pub description: Option<String>,
    pub code: Option<String>,
    /// `ApplicationVersionId`: 1 at creation, one more for every change.
    pub version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub inputs: Vec<Piece>,
    pub outputs: Vec<Piece>,
    pub references: Vec<Piece>,
    pub logging: Vec<Piece>,
    /// The role a v2 (`KinesisAnalytics_20180523`) application runs with; v1 names roles per
    /// piece instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_execution_role: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The next id number of each kind (input, output, reference, logging): ids are never
    /// reused, so an id deleted and one added later cannot be confused.
    pub next_ids: [u32; 4],
    #[serde(default)]
    pub status: Status,
    /// The `InputStartingPosition` each input was last started with, by input id.
    #[serde(default)]
    pub starting_positions: BTreeMap<String, String>,
}

impl Application {
    pub fn new(name: String, now_ms: i64) -> Application {
        Application {
            name,
            description: None,
            code: None,
            version: 1,
            created_ms: now_ms,
            updated_ms: now_ms,
            inputs: Vec::new(),
            outputs: Vec::new(),
            references: Vec::new(),
            logging: Vec::new(),
            service_execution_role: None,
            tags: BTreeMap::new(),
            next_ids: [1; 4],
            status: Status::Ready,
            starting_positions: BTreeMap::new(),
        }
    }

    pub fn pieces(&self, kind: PieceKind) -> &Vec<Piece> {
        match kind {
            PieceKind::Input => &self.inputs,
            PieceKind::Output => &self.outputs,
            PieceKind::Reference => &self.references,
            PieceKind::Logging => &self.logging,
        }
    }

    pub fn pieces_mut(&mut self, kind: PieceKind) -> &mut Vec<Piece> {
        match kind {
            PieceKind::Input => &mut self.inputs,
            PieceKind::Output => &mut self.outputs,
            PieceKind::Reference => &mut self.references,
            PieceKind::Logging => &mut self.logging,
        }
    }

    /// Adds a piece under a new id (`<n>.1`) and returns the id.
    pub fn add_piece(&mut self, kind: PieceKind, body: Value) -> String {
        let slot = &mut self.next_ids[kind as usize];
        let id = format!("{slot}.1");
        *slot += 1;
        self.pieces_mut(kind).push(Piece {
            id: id.clone(),
            body,
        });
        id
    }

    /// The piece of `kind` with `id`, if any.
    pub fn piece_mut(&mut self, kind: PieceKind, id: &str) -> Option<&mut Piece> {
        self.pieces_mut(kind)
            .iter_mut()
            .find(|piece| piece.id == id)
    }

    /// Removes the piece of `kind` with `id`; false if there is none.
    pub fn remove_piece(&mut self, kind: PieceKind, id: &str) -> bool {
        let pieces = self.pieces_mut(kind);
        let before = pieces.len();
        pieces.retain(|piece| piece.id != id);
        pieces.len() != before
    }

    /// Records a change: the version goes up by one.
    pub fn bump(&mut self, now_ms: i64) {
        self.version += 1;
        self.updated_ms = now_ms;
    }

    pub fn arn(&self, region: &str, account: &str) -> String {
        application_arn(region, account, &self.name)
    }

    /// `ApplicationSummary`.
    pub fn summary(&self, region: &str, account: &str) -> Value {
        json!({
            "ApplicationName": self.name,
            "ApplicationARN": self.arn(region, account),
            "ApplicationStatus": self.status.as_str(),
        })
    }

    /// `ApplicationDetail`.
    pub fn detail(&self, region: &str, account: &str) -> Value {
        let mut detail = json!({
            "ApplicationName": self.name,
            "ApplicationARN": self.arn(region, account),
            "ApplicationStatus": self.status.as_str(),
            "CreateTimestamp": self.created_ms as f64 / 1000.0,
            "LastUpdateTimestamp": self.updated_ms as f64 / 1000.0,
            "ApplicationVersionId": self.version,
            "InputDescriptions": self.inputs.iter()
                .map(|piece| input_description(piece, self.starting_positions.get(&piece.id)))
                .collect::<Vec<_>>(),
            "OutputDescriptions": self.outputs.iter()
                .map(|piece| piece_description(piece, "OutputId")).collect::<Vec<_>>(),
            "ReferenceDataSourceDescriptions": self.references.iter()
                .map(|piece| piece_description(piece, "ReferenceId")).collect::<Vec<_>>(),
            "CloudWatchLoggingOptionDescriptions": self.logging.iter()
                .map(|piece| piece_description(piece, "CloudWatchLoggingOptionId"))
                .collect::<Vec<_>>(),
        });
        if let Some(description) = &self.description {
            detail["ApplicationDescription"] = json!(description);
        }
        if let Some(code) = &self.code {
            detail["ApplicationCode"] = json!(code);
        }
        detail
    }
}

pub fn application_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kinesisanalytics:{region}:{account}:application/{name}")
}

/// Members of a request shape that a description shows under `<member>Description`.
const DESCRIBED: &[&str] = &[
    "KinesisStreamsInput",
    "KinesisFirehoseInput",
    "KinesisStreamsOutput",
    "KinesisFirehoseOutput",
    "LambdaOutput",
    "S3ReferenceDataSource",
    "InputProcessingConfiguration",
    "InputLambdaProcessor",
];

/// The piece's body in its description shape, with its id under `id_member`.
fn piece_description(piece: &Piece, id_member: &str) -> Value {
    let mut described = describe(&piece.body);
    if let Value::Object(members) = &mut described {
        members.insert(id_member.to_owned(), json!(piece.id));
    }
    described
}

fn describe(value: &Value) -> Value {
    let Value::Object(members) = value else {
        return value.clone();
    };
    let mut described = Map::new();
    for (key, member) in members {
        if DESCRIBED.contains(&key.as_str()) {
            described.insert(format!("{key}Description"), describe(member));
        } else {
            described.insert(key.clone(), member.clone());
        }
    }
    Value::Object(described)
}

/// The in-application streams an input creates: `<NamePrefix>_001` up to its parallelism.
pub fn in_app_stream_names(input: &Value) -> Vec<String> {
    let prefix = input["NamePrefix"].as_str().unwrap_or_default();
    let count = parallelism(input);
    (1..=count).map(|n| format!("{prefix}_{n:03}")).collect()
}

fn parallelism(input: &Value) -> i64 {
    input["InputParallelism"]["Count"]
        .as_i64()
        .unwrap_or(1)
        .max(1)
}

fn input_description(piece: &Piece, starting: Option<&String>) -> Value {
    let mut described = piece_description(piece, "InputId");
    described["InAppStreamNames"] = json!(in_app_stream_names(&piece.body));
    described["InputParallelism"] = json!({ "Count": parallelism(&piece.body) });
    described["InputStartingPositionConfiguration"] = match starting {
        Some(position) => json!({ "InputStartingPosition": position }),
        None => json!({}),
    };
    described
}

/// The members of a piece that name where its data comes from or goes to: setting one through
/// an update replaces the others.
const ENDPOINTS: &[&str] = &[
    "KinesisStreamsInput",
    "KinesisFirehoseInput",
    "KinesisStreamsOutput",
    "KinesisFirehoseOutput",
    "LambdaOutput",
];

/// The member an update member sets: `NamePrefixUpdate` sets `NamePrefix`,
/// `RecordColumnUpdates` sets `RecordColumns`; `None` for a member that is not an update
/// (the ids an update names its piece by).
fn updated_member(key: &str) -> Option<String> {
    if let Some(base) = key.strip_suffix("Updates") {
        return Some(format!("{base}s"));
    }
    key.strip_suffix("Update").map(str::to_owned)
}

/// Merges an update (`InputUpdate`, `OutputUpdate`...) into a piece's body: an update member
/// whose value is itself made of update members merges into the member it names; any other
/// value replaces it.
pub fn merge_update(body: &mut Value, update: &Value) {
    let (Value::Object(target), Value::Object(changes)) = (body, update) else {
        return;
    };
    for (key, change) in changes {
        let Some(member) = updated_member(key) else {
            continue;
        };
        let nested_update = match change {
            Value::Object(inner) => {
                !inner.is_empty() && inner.keys().all(|k| updated_member(k).is_some())
            }
            _ => false,
        };
        if ENDPOINTS.contains(&member.as_str()) {
            let switching = !target.contains_key(&member);
            if switching {
                for other in ENDPOINTS {
                    target.remove(*other);
                }
            }
        }
        if nested_update {
            let slot = target.entry(member).or_insert_with(|| json!({}));
            merge_update(slot, change);
        } else {
            target.insert(member, change.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_per_kind_and_are_not_reused() {
        let mut app = Application::new("a".into(), 0);
        assert_eq!(app.add_piece(PieceKind::Output, json!({})), "1.1");
        assert_eq!(app.add_piece(PieceKind::Output, json!({})), "2.1");
        assert_eq!(app.add_piece(PieceKind::Input, json!({})), "1.1");
        assert!(app.remove_piece(PieceKind::Output, "2.1"));
        assert!(!app.remove_piece(PieceKind::Output, "2.1"));
        assert_eq!(app.add_piece(PieceKind::Output, json!({})), "3.1");
    }

    #[test]
    fn descriptions_rename_members_and_name_in_app_streams() {
        let mut app = Application::new("a".into(), 1_500);
        app.add_piece(
            PieceKind::Input,
            json!({
                "NamePrefix": "SOURCE_SQL_STREAM",
                "InputParallelism": {"Count": 2},
                "KinesisStreamsInput": {"ResourceARN": "arn:s", "RoleARN": "arn:r"},
                "InputProcessingConfiguration": {"InputLambdaProcessor": {"ResourceARN": "arn:l"}},
                "InputSchema": {"RecordColumns": []},
            }),
        );
        let detail = app.detail("us-east-1", "1");
        let input = &detail["InputDescriptions"][0];
        assert_eq!(input["InputId"], "1.1");
        assert_eq!(
            input["InAppStreamNames"],
            json!(["SOURCE_SQL_STREAM_001", "SOURCE_SQL_STREAM_002"])
        );
        assert_eq!(input["KinesisStreamsInputDescription"]["RoleARN"], "arn:r");
        assert_eq!(
            input["InputProcessingConfigurationDescription"]["InputLambdaProcessorDescription"]["ResourceARN"],
            "arn:l"
        );
        assert_eq!(detail["CreateTimestamp"], 1.5);
        assert_eq!(detail["ApplicationVersionId"], 1);
        assert_eq!(
            detail["ApplicationARN"],
            "arn:aws:kinesisanalytics:us-east-1:1:application/a"
        );
    }

    #[test]
    fn updates_merge_by_member_name_and_switch_endpoints() {
        let mut body = json!({
            "NamePrefix": "IN",
            "KinesisStreamsInput": {"ResourceARN": "arn:s", "RoleARN": "arn:r"},
            "InputSchema": {"RecordFormat": {"RecordFormatType": "JSON"}, "RecordColumns": []},
        });
        merge_update(
            &mut body,
            &json!({
                "InputId": "1.1",
                "NamePrefixUpdate": "IN2",
                "KinesisStreamsInputUpdate": {"RoleARNUpdate": "arn:r2"},
                "InputSchemaUpdate": {"RecordColumnUpdates": [{"Name": "c", "SqlType": "INT"}]},
            }),
        );
        assert_eq!(body["NamePrefix"], "IN2");
        assert_eq!(
            body["KinesisStreamsInput"],
            json!({"ResourceARN": "arn:s", "RoleARN": "arn:r2"})
        );
        assert_eq!(body["InputSchema"]["RecordColumns"][0]["Name"], "c");
        assert_eq!(
            body["InputSchema"]["RecordFormat"]["RecordFormatType"],
            "JSON"
        );
        assert!(body.get("InputId").is_none());

        merge_update(
            &mut body,
            &json!({"KinesisFirehoseInputUpdate": {"ResourceARNUpdate": "arn:f", "RoleARNUpdate": "arn:r"}}),
        );
        assert!(body.get("KinesisStreamsInput").is_none());
        assert_eq!(body["KinesisFirehoseInput"]["ResourceARN"], "arn:f");
    }

    #[test]
    fn the_status_is_stored_and_older_applications_read_as_ready() {
        let mut app = Application::new("a".into(), 0);
        app.status = Status::Running;
        app.starting_positions
            .insert("1.1".into(), "TRIM_HORIZON".into());
        app.add_piece(PieceKind::Input, json!({"NamePrefix": "IN"}));
        let stored = serde_json::to_value(&app).expect("encoded");
        assert_eq!(stored["status"], "RUNNING");
        let detail = app.detail("us-east-1", "1");
        assert_eq!(detail["ApplicationStatus"], "RUNNING");
        assert_eq!(
            detail["InputDescriptions"][0]["InputStartingPositionConfiguration"],
            json!({"InputStartingPosition": "TRIM_HORIZON"})
        );
        let mut older = stored;
        let members = older.as_object_mut().expect("an object");
        members.remove("status");
        members.remove("starting_positions");
        let read: Application = serde_json::from_value(older).expect("decoded");
        assert_eq!(read.status, Status::Ready);
    }
}
