//! DescribeAccountSettings: the account's minimum throughput billing commitment.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::account::Commitment;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;

#[derive(Debug, Deserialize)]
pub struct Request {}

impl Validate for Request {
    fn validate(&self, _v: &mut Violations) {}
}

/// `MinimumThroughputBillingCommitmentOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitmentOutput {
    pub status: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "spate_wire::codec::opt_timestamp"
    )]
    pub started_at: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "spate_wire::codec::opt_timestamp"
    )]
    pub ended_at: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "spate_wire::codec::opt_timestamp"
    )]
    pub earliest_allowed_end_at: Option<i64>,
}

impl CommitmentOutput {
    pub fn of(commitment: &Commitment, now_ms: i64) -> CommitmentOutput {
        CommitmentOutput {
            status: commitment.status_at(now_ms).as_str(),
            started_at: commitment.started_ms,
            ended_at: commitment.ended_ms,
            earliest_allowed_end_at: commitment
                .earliest_allowed_end_ms()
                .filter(|_| commitment.ended_ms.is_none_or(|end| now_ms < end)),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub minimum_throughput_billing_commitment: CommitmentOutput,
}

pub async fn handle(service: &StreamsService, _request: Request) -> Result<Response, StreamsError> {
    let commitment = service.account.lock().0.commitment.clone();
    Ok(Response {
        minimum_throughput_billing_commitment: CommitmentOutput::of(&commitment, service.now_ms()),
    })
}
