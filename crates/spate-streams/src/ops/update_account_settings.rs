//! UpdateAccountSettings: enables or disables the minimum throughput billing commitment, at once
//! (a commitment ends no earlier than 24 hours after it started; see [`crate::account`]).

use serde::Deserialize;
use spate_wire::Violations;

use super::describe_account_settings::{CommitmentOutput, Response};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommitmentInput {
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub minimum_throughput_billing_commitment: Option<CommitmentInput>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.minimum_throughput_billing_commitment {
            None => v.required(
                "minimumThroughputBillingCommitment",
                &self.minimum_throughput_billing_commitment,
            ),
            Some(commitment) => match &commitment.status {
                None => v.required(
                    "minimumThroughputBillingCommitment.status",
                    &commitment.status,
                ),
                Some(status) => v.one_of(
                    "minimumThroughputBillingCommitment.status",
                    status,
                    &["ENABLED", "DISABLED"],
                ),
            },
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let enable = request
        .minimum_throughput_billing_commitment
        .and_then(|c| c.status)
        .is_some_and(|status| status == "ENABLED");
    // The control-plane lock orders this against other changes; the settings mutex is never
    // held across an await.
    let _guard = service.registry.lock().await;
    let now = service.now_ms();
    let (mut settings, revision) = service.account.lock().clone();
    settings.commitment = settings.commitment.updated(enable, now);
    let revision_after = crate::account::save(service.meta.as_ref(), revision, &settings).await?;
    let output = CommitmentOutput::of(&settings.commitment, now);
    *service.account.lock() = (settings, revision_after);
    Ok(Response {
        minimum_throughput_billing_commitment: output,
    })
}
