//! CreateApplication: a new application at version 1, its code checked by the SQL front-end,
//! its input, outputs and logging option kept as given, each under a new id.

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::model::{Application, PieceKind};
use crate::service::AnalyticsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub application_name: Option<String>,
    pub application_description: Option<String>,
    pub inputs: Option<Vec<Value>>,
    pub outputs: Option<Vec<Value>>,
    pub cloud_watch_logging_options: Option<Vec<Value>>,
    pub application_code: Option<String>,
    pub tags: Option<Vec<super::Tag>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::application_name(v, "applicationName", &self.application_name, true);
        if let Some(description) = &self.application_description {
            v.string_length("applicationDescription", description, 0, 1024);
        }
        super::code(v, "applicationCode", &self.application_code);
        for (index, input) in self.inputs.iter().flatten().enumerate() {
            let path = format!("inputs.{}.member", index + 1);
            super::required_members(v, &path, input, super::INPUT_MEMBERS);
        }
        for (index, output) in self.outputs.iter().flatten().enumerate() {
            let path = format!("outputs.{}.member", index + 1);
            super::required_members(v, &path, output, super::OUTPUT_MEMBERS);
        }
        for (index, option) in self
            .cloud_watch_logging_options
            .iter()
            .flatten()
            .enumerate()
        {
            let path = format!("cloudWatchLoggingOptions.{}.member", index + 1);
            super::required_members(v, &path, option, super::LOGGING_MEMBERS);
        }
        if let Some(tags) = &self.tags {
            super::tags(v, "tags", tags);
        }
    }
}

pub async fn handle(service: &AnalyticsService, request: Request) -> Result<Value, AnalyticsError> {
    let name = super::required(&request.application_name);
    let mut application = Application::new(name.clone(), service.now_ms());
    application.description = request.application_description;
    if let Some(code) = &request.application_code {
        super::check_code(code)?;
    }
    application.code = request.application_code;
    let pieces = [
        (PieceKind::Input, request.inputs),
        (PieceKind::Output, request.outputs),
        (PieceKind::Logging, request.cloud_watch_logging_options),
    ];
    for (kind, bodies) in pieces {
        for body in bodies.into_iter().flatten() {
            super::add_piece(&mut application, kind, body)?;
        }
    }
    super::apply_tags(
        &mut application,
        request.tags.as_deref().unwrap_or_default(),
    )?;

    let _control = service.control.lock().await;
    if service.get(&name).is_some() {
        return Err(AnalyticsError::ResourceInUse(format!(
            "Application {name} already exists in account {}.",
            service.account_id()
        )));
    }
    let max = service.config.max_applications;
    if service.count() >= max {
        return Err(AnalyticsError::LimitExceeded(format!(
            "Account {} already has {max} applications, the most it may have.",
            service.account_id()
        )));
    }
    let summary = application.summary(&service.config.region, &service.config.account_id);
    service.store(application).await?;
    Ok(json!({ "ApplicationSummary": summary }))
}
