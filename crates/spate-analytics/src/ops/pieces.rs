//! The piecewise changes: adding and deleting an application's input processing, outputs,
//! reference data sources and CloudWatch logging options. Each names the application and the
//! version it read (`CurrentApplicationVersionId`): a stale version is refused, a change bumps
//! it. Their shapes differ only in the member that carries the piece or its id, so each
//! operation's module is written by one of two macros.

/// An operation that adds a piece carried in `$member` (`$wire` on the wire).
macro_rules! add_operation {
    ($module:ident, $doc:literal, $member:ident, $path:literal, $kind:expr, $required:expr) => {
        #[doc = $doc]
        pub mod $module {
            use serde::Deserialize;
            use serde_json::Value;
            use spate_wire::Violations;

            use crate::api::Validate;
            use crate::error::AnalyticsError;
            use crate::ops::{self, Empty};
            use crate::service::AnalyticsService;

            #[derive(Debug, Deserialize)]
            #[serde(rename_all = "PascalCase")]
            pub struct Request {
                pub application_name: Option<String>,
                pub current_application_version_id: Option<i64>,
                pub $member: Option<Value>,
            }

            impl Validate for Request {
                fn validate(&self, v: &mut Violations) {
                    ops::versioned(
                        v,
                        &self.application_name,
                        &self.current_application_version_id,
                    );
                    ops::structure(v, $path, &self.$member, $required);
                }
            }

            pub async fn handle(
                service: &AnalyticsService,
                request: Request,
            ) -> Result<Empty, AnalyticsError> {
                let name = ops::required(&request.application_name);
                let version = ops::required(&request.current_application_version_id);
                let body = ops::required(&request.$member);
                ops::change(service, &name, version, |application| {
                    ops::add_piece(application, $kind, body).map(|_| ())
                })
                .await?;
                Ok(Empty {})
            }
        }
    };
}

/// An operation that deletes the piece whose id is in `$member`.
macro_rules! delete_operation {
    ($module:ident, $doc:literal, $member:ident, $path:literal, $kind:expr) => {
        #[doc = $doc]
        pub mod $module {
            use serde::Deserialize;
            use spate_wire::Violations;

            use crate::api::Validate;
            use crate::error::AnalyticsError;
            use crate::ops::{self, Empty};
            use crate::service::AnalyticsService;

            #[derive(Debug, Deserialize)]
            #[serde(rename_all = "PascalCase")]
            pub struct Request {
                pub application_name: Option<String>,
                pub current_application_version_id: Option<i64>,
                pub $member: Option<String>,
            }

            impl Validate for Request {
                fn validate(&self, v: &mut Violations) {
                    ops::versioned(
                        v,
                        &self.application_name,
                        &self.current_application_version_id,
                    );
                    ops::piece_id(v, $path, &self.$member);
                }
            }

            pub async fn handle(
                service: &AnalyticsService,
                request: Request,
            ) -> Result<Empty, AnalyticsError> {
                let name = ops::required(&request.application_name);
                let version = ops::required(&request.current_application_version_id);
                let id = ops::required(&request.$member);
                ops::change(service, &name, version, |application| {
                    if application.remove_piece($kind, &id) {
                        return Ok(());
                    }
                    Err(AnalyticsError::ResourceNotFound(format!(
                        "{} {id} is not found in application {}.",
                        $kind.id_name(),
                        application.name
                    )))
                })
                .await?;
                Ok(Empty {})
            }
        }
    };
}

add_operation!(
    add_input,
    "AddApplicationInput: the application's streaming source (it may have one).",
    input,
    "input",
    crate::model::PieceKind::Input,
    crate::ops::INPUT_MEMBERS
);
add_operation!(
    add_output,
    "AddApplicationOutput: a destination of an in-application stream (at most three).",
    output,
    "output",
    crate::model::PieceKind::Output,
    crate::ops::OUTPUT_MEMBERS
);
add_operation!(
    add_reference,
    "AddApplicationReferenceDataSource: an S3 object read as an in-application table.",
    reference_data_source,
    "referenceDataSource",
    crate::model::PieceKind::Reference,
    crate::ops::REFERENCE_MEMBERS
);
add_operation!(
    add_logging,
    "AddApplicationCloudWatchLoggingOption: where the application's errors are logged.",
    cloud_watch_logging_option,
    "cloudWatchLoggingOption",
    crate::model::PieceKind::Logging,
    crate::ops::LOGGING_MEMBERS
);
delete_operation!(
    delete_output,
    "DeleteApplicationOutput: removes a destination by its id.",
    output_id,
    "outputId",
    crate::model::PieceKind::Output
);
delete_operation!(
    delete_reference,
    "DeleteApplicationReferenceDataSource: removes a reference data source by its id.",
    reference_id,
    "referenceId",
    crate::model::PieceKind::Reference
);
delete_operation!(
    delete_logging,
    "DeleteApplicationCloudWatchLoggingOption: removes a logging option by its id.",
    cloud_watch_logging_option_id,
    "cloudWatchLoggingOptionId",
    crate::model::PieceKind::Logging
);

/// AddApplicationInputProcessingConfiguration: a Lambda preprocessor for an input.
pub mod add_processing {
    use serde::Deserialize;
    use serde_json::Value;
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::model::PieceKind;
    use crate::ops::{self, Empty};
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        pub application_name: Option<String>,
        pub current_application_version_id: Option<i64>,
        pub input_id: Option<String>,
        pub input_processing_configuration: Option<Value>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            ops::versioned(
                v,
                &self.application_name,
                &self.current_application_version_id,
            );
            ops::piece_id(v, "inputId", &self.input_id);
            ops::structure(
                v,
                "inputProcessingConfiguration",
                &self.input_processing_configuration,
                &["InputLambdaProcessor"],
            );
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        let name = ops::required(&request.application_name);
        let version = ops::required(&request.current_application_version_id);
        let id = ops::required(&request.input_id);
        let configuration = ops::required(&request.input_processing_configuration);
        ops::change(service, &name, version, |application| {
            let application_name = application.name.clone();
            let input = application
                .piece_mut(PieceKind::Input, &id)
                .ok_or_else(|| input_not_found(&id, &application_name))?;
            if input.body.get("InputProcessingConfiguration").is_some() {
                return Err(AnalyticsError::InvalidArgument(format!(
                    "Input {id} of application {application_name} already has an input processing configuration."
                )));
            }
            input.body["InputProcessingConfiguration"] = configuration;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(super) fn input_not_found(id: &str, application: &str) -> AnalyticsError {
        AnalyticsError::ResourceNotFound(format!(
            "Input id {id} is not found in application {application}."
        ))
    }
}

/// DeleteApplicationInputProcessingConfiguration: removes an input's preprocessor.
pub mod delete_processing {
    use serde::Deserialize;
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::model::PieceKind;
    use crate::ops::{self, Empty};
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        pub application_name: Option<String>,
        pub current_application_version_id: Option<i64>,
        pub input_id: Option<String>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            ops::versioned(
                v,
                &self.application_name,
                &self.current_application_version_id,
            );
            ops::piece_id(v, "inputId", &self.input_id);
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        let name = ops::required(&request.application_name);
        let version = ops::required(&request.current_application_version_id);
        let id = ops::required(&request.input_id);
        ops::change(service, &name, version, |application| {
            let application_name = application.name.clone();
            let input = application
                .piece_mut(PieceKind::Input, &id)
                .ok_or_else(|| super::add_processing::input_not_found(&id, &application_name))?;
            let removed = input
                .body
                .as_object_mut()
                .and_then(|members| members.remove("InputProcessingConfiguration"));
            if removed.is_none() {
                return Err(AnalyticsError::ResourceNotFound(format!(
                    "Input {id} of application {application_name} has no input processing configuration."
                )));
            }
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
