//! The operations that need the SQL engine, which is not built yet: StartApplication,
//! StopApplication and DiscoverInputSchema answer an error that names the operation, never a
//! silent success. The application must still exist (as AWS checks first), so a caller with a
//! wrong name learns that rather than the engine's absence.

/// The message every one of these operations answers.
fn not_built(operation: &str) -> String {
    format!(
        "{operation} is not supported by Spate yet: the Kinesis Data Analytics SQL engine is not built, so applications are stored and described but cannot run."
    )
}

pub mod start_application {
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
        pub input_configurations: Option<Vec<Value>>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            ops::application_name(v, "applicationName", &self.application_name, true);
            if self.input_configurations.is_none() {
                v.required("inputConfigurations", &self.input_configurations);
            }
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        service.existing(&ops::required(&request.application_name))?;
        Err(AnalyticsError::UnsupportedOperation(super::not_built(
            "StartApplication",
        )))
    }
}

pub mod stop_application {
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
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            ops::application_name(v, "applicationName", &self.application_name, true);
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        service.existing(&ops::required(&request.application_name))?;
        Err(AnalyticsError::UnsupportedOperation(super::not_built(
            "StopApplication",
        )))
    }
}

/// DiscoverInputSchema's model lists no `UnsupportedOperationException`; its refusal is
/// `UnableToDetectSchemaException`, which is true: no schema was detected.
pub mod discover_input_schema {
    use serde::Deserialize;
    use serde_json::Value;
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::ops::Empty;
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        #[serde(flatten)]
        pub members: serde_json::Map<String, Value>,
    }

    impl Validate for Request {
        fn validate(&self, _v: &mut Violations) {}
    }

    pub async fn handle(
        _service: &AnalyticsService,
        _request: Request,
    ) -> Result<Empty, AnalyticsError> {
        Err(AnalyticsError::UnableToDetectSchema(super::not_built(
            "DiscoverInputSchema",
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_refusal_names_the_operation_and_the_missing_engine() {
        let message = super::not_built("StartApplication");
        assert!(message.starts_with("StartApplication is not supported"));
        assert!(message.contains("SQL engine is not built"));
    }
}
