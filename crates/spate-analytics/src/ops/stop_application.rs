//! StopApplication: RUNNING (or STARTING) to STOPPING (stored); the runner stops reading,
//! delivers what the application produced, saves the stop point (for LAST_STOPPED_POINT) and
//! makes the application READY.
//!
//! Unverified: AWS's message for stopping an application that is not running.

use serde::Deserialize;
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::model::Status;
use crate::ops::{self, Empty};
use crate::runtime::Signal;
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

pub async fn handle(service: &AnalyticsService, request: Request) -> Result<Empty, AnalyticsError> {
    let name = ops::required(&request.application_name);
    let _control = service.control.lock().await;
    let current = service.existing(&name)?;
    if !matches!(current.status, Status::Running | Status::Starting) {
        return Err(AnalyticsError::ResourceInUse(format!(
            "Application {name} is in {} state; only a RUNNING application can be stopped.",
            current.status.as_str()
        )));
    }
    let mut application = (*current).clone();
    let signalled = service.signal_runner(&name, Signal::Stop);
    // Without a runner (it failed to run again after a restart) there is nothing to wait for.
    application.status = if signalled {
        Status::Stopping
    } else {
        Status::Ready
    };
    service.store(application).await?;
    Ok(Empty {})
}
