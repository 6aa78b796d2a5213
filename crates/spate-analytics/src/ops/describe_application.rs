//! DescribeApplication: the application's detail, its pieces in their description shapes.

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::service::AnalyticsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub application_name: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::application_name(v, "applicationName", &self.application_name, true);
    }
}

pub async fn handle(service: &AnalyticsService, request: Request) -> Result<Value, AnalyticsError> {
    let application = service.existing(&super::required(&request.application_name))?;
    let detail = application.detail(&service.config.region, &service.config.account_id);
    Ok(json!({ "ApplicationDetail": detail }))
}
