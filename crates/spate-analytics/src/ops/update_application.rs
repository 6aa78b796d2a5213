//! UpdateApplication: new code, and updates of the input, outputs, reference data sources and
//! logging options by id, applied together as one new version (or not at all).

use serde::Deserialize;
use serde_json::Value;
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::model::{Application, PieceKind, merge_update};
use crate::ops::{self, Empty};
use crate::runtime::reader::source_of;
use crate::service::AnalyticsService;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApplicationUpdate {
    pub input_updates: Option<Vec<Value>>,
    pub application_code_update: Option<String>,
    pub output_updates: Option<Vec<Value>>,
    pub reference_data_source_updates: Option<Vec<Value>>,
    pub cloud_watch_logging_option_updates: Option<Vec<Value>>,
}

impl ApplicationUpdate {
    /// Each kind's updates with the member that names the piece they update.
    fn by_kind(&self) -> [(PieceKind, &'static str, &[Value]); 4] {
        [
            (
                PieceKind::Input,
                "InputId",
                self.input_updates.as_deref().unwrap_or_default(),
            ),
            (
                PieceKind::Output,
                "OutputId",
                self.output_updates.as_deref().unwrap_or_default(),
            ),
            (
                PieceKind::Reference,
                "ReferenceId",
                self.reference_data_source_updates
                    .as_deref()
                    .unwrap_or_default(),
            ),
            (
                PieceKind::Logging,
                "CloudWatchLoggingOptionId",
                self.cloud_watch_logging_option_updates
                    .as_deref()
                    .unwrap_or_default(),
            ),
        ]
    }

    fn is_empty(&self) -> bool {
        self.application_code_update.is_none()
            && self
                .by_kind()
                .iter()
                .all(|(_, _, updates)| updates.is_empty())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub application_name: Option<String>,
    pub current_application_version_id: Option<i64>,
    pub application_update: Option<ApplicationUpdate>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        ops::versioned(
            v,
            &self.application_name,
            &self.current_application_version_id,
        );
        let Some(update) = &self.application_update else {
            v.required("applicationUpdate", &self.application_update);
            return;
        };
        ops::code(
            v,
            "applicationUpdate.applicationCodeUpdate",
            &update.application_code_update,
        );
        let paths = [
            "inputUpdates",
            "outputUpdates",
            "referenceDataSourceUpdates",
            "cloudWatchLoggingOptionUpdates",
        ];
        for ((_, id_member, updates), path) in update.by_kind().into_iter().zip(paths) {
            for (index, one) in updates.iter().enumerate() {
                let path = format!("applicationUpdate.{path}.{}.member", index + 1);
                ops::required_members(v, &path, one, &[id_member]);
            }
        }
    }
}

/// Applies every update to `application`; the first that cannot apply refuses them all.
pub fn apply(
    application: &mut Application,
    update: &ApplicationUpdate,
) -> Result<(), AnalyticsError> {
    if update.is_empty() {
        return Err(AnalyticsError::InvalidArgument(
            "ApplicationUpdate must change something: it has no code and no updates.".into(),
        ));
    }
    if let Some(code) = &update.application_code_update {
        ops::check_code(code)?;
        application.code = Some(code.clone());
    }
    let application_name = application.name.clone();
    for (kind, id_member, updates) in update.by_kind() {
        for one in updates {
            let id = one[id_member].as_str().unwrap_or_default().to_owned();
            let piece = application.piece_mut(kind, &id).ok_or_else(|| {
                AnalyticsError::ResourceNotFound(format!(
                    "{} {id} is not found in application {application_name}.",
                    kind.id_name()
                ))
            })?;
            merge_update(&mut piece.body, one);
            ops::check_piece(kind, &piece.body)?;
        }
    }
    Ok(())
}

pub async fn handle(service: &AnalyticsService, request: Request) -> Result<Empty, AnalyticsError> {
    let name = ops::required(&request.application_name);
    let version = ops::required(&request.current_application_version_id);
    let update = request.application_update.unwrap_or_default();
    let before = service.existing(&name)?;
    ops::change(service, &name, version, |application| {
        apply(application, &update)
    })
    .await?;
    // An input that no longer reads a delivery stream lets go of its records.
    if let Ok(after) = service.existing(&name) {
        let still_read = |piece: &crate::model::Piece| {
            after
                .inputs
                .iter()
                .any(|now| now.id == piece.id && source_of(now).ok() == source_of(piece).ok())
        };
        let dropped: Vec<_> = before
            .inputs
            .iter()
            .filter(|piece| !still_read(piece))
            .collect();
        super::delete_application::release_delivery_streams(service, &name, dropped).await;
    }
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn updates_apply_by_id_or_not_at_all() {
        let mut application = Application::new("a".into(), 0);
        application.add_piece(
            PieceKind::Output,
            json!({"Name": "O", "LambdaOutput": {"ResourceARN": "arn:l", "RoleARN": "arn:r"},
                   "DestinationSchema": {"RecordFormatType": "JSON"}}),
        );
        let update = ApplicationUpdate {
            application_code_update: Some("SELEC".into()),
            ..Default::default()
        };
        let err = apply(&mut application.clone(), &update).expect_err("refused");
        assert_eq!(err.to_aws().code, "CodeValidationException");

        let update = ApplicationUpdate {
            output_updates: Some(vec![json!({"OutputId": "1.1", "NameUpdate": "O2",
                "DestinationSchemaUpdate": {"RecordFormatType": "CSV"}})]),
            ..Default::default()
        };
        apply(&mut application, &update).expect("applies");
        assert_eq!(application.outputs[0].body["Name"], "O2");
        assert_eq!(
            application.outputs[0].body["DestinationSchema"]["RecordFormatType"],
            "CSV"
        );

        let missing = ApplicationUpdate {
            output_updates: Some(vec![json!({"OutputId": "9.1", "NameUpdate": "X"})]),
            ..Default::default()
        };
        let err = apply(&mut application, &missing).expect_err("refused");
        assert_eq!(err.to_aws().code, "ResourceNotFoundException");
        assert!(apply(&mut application, &ApplicationUpdate::default()).is_err());
    }
}
