//! StartApplication: READY to STARTING (stored), the application's runner started; the runner
//! makes it RUNNING once it runs. Everything that can be checked before running is checked
//! here, so a caller learns of a bad configuration from the call rather than from a status:
//! every input is named with a starting position, inputs and outputs use what Spate supports,
//! and the engine builds the application's code. The engine's absence is reported last, so
//! the configuration checks answer as they will once it is there.
//!
//! Unverified: the error types and messages AWS gives for an application without code or
//! input, and for an input id the application does not have (InvalidArgumentException here).

use serde::Deserialize;
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::model::Status;
use crate::ops::{self, Empty};
use crate::runtime::Signal;
use crate::runtime::checkpoint::{self, Checkpoint, InputPosition, StartAt};
use crate::runtime::{PipelineError, RuntimeError};
use crate::runtime::{reference, runner};
use crate::service::AnalyticsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputConfiguration {
    pub id: Option<String>,
    pub input_starting_position_configuration: Option<StartingPositionConfiguration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartingPositionConfiguration {
    pub input_starting_position: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub application_name: Option<String>,
    pub input_configurations: Option<Vec<InputConfiguration>>,
}

const POSITIONS: &[&str] = &["NOW", "TRIM_HORIZON", "LAST_STOPPED_POINT"];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        ops::application_name(v, "applicationName", &self.application_name, true);
        let Some(configurations) = &self.input_configurations else {
            v.required("inputConfigurations", &self.input_configurations);
            return;
        };
        for (index, configuration) in configurations.iter().enumerate() {
            let path = format!("inputConfigurations.{}.member", index + 1);
            ops::piece_id(v, &format!("{path}.id"), &configuration.id);
            let starting_path = format!("{path}.inputStartingPositionConfiguration");
            match &configuration.input_starting_position_configuration {
                None => v.required(
                    &starting_path,
                    &configuration.input_starting_position_configuration,
                ),
                Some(starting) => {
                    if let Some(position) = &starting.input_starting_position {
                        v.one_of(
                            &format!("{starting_path}.inputStartingPosition"),
                            position,
                            POSITIONS,
                        );
                    }
                }
            }
        }
    }
}

/// A runtime refusal as the API's error.
pub fn api_error(err: RuntimeError) -> AnalyticsError {
    match err {
        RuntimeError::Configuration(message) => {
            AnalyticsError::InvalidApplicationConfiguration(message)
        }
        RuntimeError::Pipeline(err) => AnalyticsError::InvalidApplicationConfiguration(format!(
            "Invalid application configuration: {err}"
        )),
        RuntimeError::Unsupported(message) => AnalyticsError::UnsupportedOperation(message),
        RuntimeError::Source(message) | RuntimeError::Destination(message) => {
            AnalyticsError::InvalidArgument(message)
        }
        RuntimeError::Meta(err) => AnalyticsError::Meta(err),
        RuntimeError::Internal(message) => AnalyticsError::Internal(message),
        RuntimeError::Aborted => AnalyticsError::Internal("aborted".into()),
    }
}

pub async fn handle(
    service: &std::sync::Arc<AnalyticsService>,
    request: Request,
) -> Result<Empty, AnalyticsError> {
    let name = ops::required(&request.application_name);
    let _control = service.control.lock().await;
    let current = service.existing(&name)?;
    if current.status != Status::Ready {
        return Err(AnalyticsError::ResourceInUse(format!(
            "Application {name} is in {} state; it can be started only when it is READY.",
            current.status.as_str()
        )));
    }
    if current
        .code
        .as_deref()
        .is_none_or(|code| code.trim().is_empty())
    {
        return Err(AnalyticsError::InvalidApplicationConfiguration(format!(
            "Application {name} has no application code; add it with UpdateApplication before starting."
        )));
    }
    if current.inputs.is_empty() {
        return Err(AnalyticsError::InvalidApplicationConfiguration(format!(
            "Application {name} has no input; add one with AddApplicationInput before starting."
        )));
    }
    let configurations = request.input_configurations.unwrap_or_default();
    for configuration in &configurations {
        let id = ops::required(&configuration.id);
        if !current.inputs.iter().any(|piece| piece.id == id) {
            return Err(AnalyticsError::InvalidArgument(format!(
                "Input id {id} is not found in application {name}."
            )));
        }
    }
    let stored = checkpoint::load(service.meta.as_ref(), &name)
        .await
        .map_err(api_error)?;
    let now = service.now_ms();
    let mut fresh = Checkpoint {
        sequence: stored.as_ref().map_or(0, |stored| stored.sequence),
        rowtime_ms: stored.as_ref().map_or(i64::MIN, |stored| stored.rowtime_ms),
        ..Checkpoint::default()
    };
    let mut application = (*current).clone();
    for piece in &current.inputs {
        let Some(configuration) = configurations
            .iter()
            .find(|configuration| configuration.id.as_deref() == Some(piece.id.as_str()))
        else {
            return Err(AnalyticsError::InvalidArgument(format!(
                "InputConfigurations must give a starting position for input {} of application {name}.",
                piece.id
            )));
        };
        // Unverified: a configuration without a position starts at NOW.
        let position = configuration
            .input_starting_position_configuration
            .as_ref()
            .and_then(|starting| starting.input_starting_position.clone())
            .unwrap_or_else(|| "NOW".into());
        let input_position = match position.as_str() {
            "TRIM_HORIZON" => InputPosition::new(StartAt::TrimHorizon),
            // Unverified: with no stop point yet, LAST_STOPPED_POINT starts at NOW.
            "LAST_STOPPED_POINT" => stored
                .as_ref()
                .and_then(|stored| stored.inputs.get(&piece.id).cloned())
                .unwrap_or_else(|| InputPosition::new(StartAt::Timestamp(now))),
            _ => InputPosition::new(StartAt::Timestamp(now)),
        };
        fresh.inputs.insert(piece.id.clone(), input_position);
        application
            .starting_positions
            .insert(piece.id.clone(), position);
    }
    // Resuming every input from where it stopped resumes the engine's state too (open windows
    // included), so a window the stop cut through counts its rows once; any other starting
    // position starts from empty state, as the rows it reads may already have been counted.
    let resume = current.inputs.iter().all(|piece| {
        application
            .starting_positions
            .get(&piece.id)
            .map(String::as_str)
            == Some("LAST_STOPPED_POINT")
    });
    if resume {
        fresh.snapshot = stored.as_ref().and_then(|stored| stored.snapshot.clone());
    }
    let tables = reference::load(service.connections.objects.as_ref(), &application)
        .await
        .map_err(api_error)?;
    let prepared = match runner::prepare(
        service,
        &application,
        fresh.clone(),
        StartAt::Timestamp(now),
        tables.clone(),
    ) {
        // Code changed since the stop so that the state no longer fits: start without it.
        Err(RuntimeError::Pipeline(PipelineError::Snapshot(reason)))
            if fresh.snapshot.is_some() =>
        {
            tracing::warn!(application = %name, %reason, "the stopped state does not fit the code; starting without it");
            fresh.snapshot = None;
            runner::prepare(
                service,
                &application,
                fresh.clone(),
                StartAt::Timestamp(now),
                tables,
            )
            .map_err(api_error)?
        }
        other => other.map_err(api_error)?,
    };
    // The fresh checkpoint first: a crash before the status is stored leaves the application
    // READY, and one after finds the positions it was started with.
    checkpoint::store(service.meta.as_ref(), &name, &fresh)
        .await
        .map_err(api_error)?;
    application.status = Status::Starting;
    service.store(application).await?;
    let handle = runner::spawn(service.clone(), prepared, Signal::Run);
    service.add_runner(&name, handle);
    Ok(Empty {})
}
