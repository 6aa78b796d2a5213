//! DescribeAccountSettings: Spate accounts have no minimum throughput billing commitment.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;

#[derive(Debug, Deserialize)]
pub struct Request {}

impl Validate for Request {
    fn validate(&self, _v: &mut Violations) {}
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Commitment {
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub minimum_throughput_billing_commitment: Commitment,
}

pub async fn handle(
    _service: &StreamsService,
    _request: Request,
) -> Result<Response, StreamsError> {
    Ok(Response {
        minimum_throughput_billing_commitment: Commitment { status: "DISABLED" },
    })
}
