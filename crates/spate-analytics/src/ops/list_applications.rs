//! ListApplications: summaries in alphabetical order of name, paged by the last name seen.

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::service::AnalyticsService;

/// The page size when the request gives none (the model's largest).
const DEFAULT_LIMIT: i64 = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub limit: Option<i64>,
    pub exclusive_start_application_name: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(50));
        }
        super::application_name(
            v,
            "exclusiveStartApplicationName",
            &self.exclusive_start_application_name,
            false,
        );
    }
}

pub async fn handle(service: &AnalyticsService, request: Request) -> Result<Value, AnalyticsError> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    let after = request.exclusive_start_application_name.as_deref();
    let matching: Vec<Value> = service
        .all()
        .iter()
        .filter(|application| after.is_none_or(|start| application.name.as_str() > start))
        .map(|application| application.summary(&service.config.region, &service.config.account_id))
        .collect();
    let has_more = matching.len() > limit;
    let page: Vec<&Value> = matching.iter().take(limit).collect();
    Ok(json!({
        "ApplicationSummaries": page,
        "HasMoreApplications": has_more,
    }))
}
