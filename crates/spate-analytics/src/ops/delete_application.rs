//! DeleteApplication: the caller names the application and its creation time, so that an
//! application deleted and created again under the same name is not deleted by mistake. A
//! running application is stopped at once (its undelivered output is dropped with it).

use serde::Deserialize;
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::model::Piece;
use crate::runtime::delivery_input;
use crate::runtime::reader::{Source, source_of};
use crate::service::AnalyticsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub application_name: Option<String>,
    /// Epoch seconds, as awsJson sends timestamps.
    pub create_timestamp: Option<f64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::application_name(v, "applicationName", &self.application_name, true);
        if self.create_timestamp.is_none() {
            v.required("createTimestamp", &self.create_timestamp);
        }
    }
}

/// Whether a timestamp the caller read back from a description names `created_ms`.
/// Descriptions carry milliseconds, but botocore sends this member in whole seconds: a whole
/// number matches the second of creation, a fraction the millisecond.
pub fn same_creation(given_seconds: f64, created_ms: i64) -> bool {
    if given_seconds.fract() == 0.0 {
        return given_seconds as i64 == created_ms.div_euclid(1000);
    }
    (given_seconds * 1000.0).round() as i64 == created_ms
}

pub async fn handle(
    service: &AnalyticsService,
    request: Request,
) -> Result<super::Empty, AnalyticsError> {
    let name = super::required(&request.application_name);
    let given = request.create_timestamp.unwrap_or_default();
    let _control = service.control.lock().await;
    let application = service.existing(&name)?;
    if !same_creation(given, application.created_ms) {
        return Err(AnalyticsError::ResourceNotFound(format!(
            "Application {name} with create timestamp {given} is not found in account {}: the application of that name was created at {}.",
            service.account_id(),
            application.created_ms as f64 / 1000.0
        )));
    }
    service.remove(&name).await?;
    drop(_control);
    // A running application stops with it. Its runner is waited for outside the control lock
    // (it may be waiting for that lock to store a status) before its checkpoint goes.
    if let Some(runner) = service.take_runner(&name) {
        runner.abort_and_wait().await;
    }
    crate::runtime::checkpoint::remove(service.meta.as_ref(), &name)
        .await
        .map_err(|err| AnalyticsError::Internal(err.to_string()))?;
    release_delivery_streams(service, &name, &application.inputs).await;
    Ok(super::Empty {})
}

/// Releases the holds application `name`'s delivery stream `inputs` kept on their records.
pub(crate) async fn release_delivery_streams<'a>(
    service: &AnalyticsService,
    name: &str,
    inputs: impl IntoIterator<Item = &'a Piece>,
) {
    let Some(firehose) = &service.connections.firehose else {
        return;
    };
    for piece in inputs {
        let Ok(Source::DeliveryStream {
            name: delivery_stream,
            ..
        }) = source_of(piece)
        else {
            continue;
        };
        let holder = delivery_input::holder(name, &piece.id);
        if let Err(err) = firehose.release_log(&delivery_stream, &holder).await {
            tracing::warn!(application = %name, %delivery_stream, error = %err.message, "releasing the input's hold failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times_compare_at_millisecond_precision() {
        assert!(same_creation(1_700_000_000.123, 1_700_000_000_123));
        assert!(!same_creation(1_700_000_000.124, 1_700_000_000_123));
        assert!(same_creation(1_700_000_000.0, 1_700_000_000_123));
        assert!(!same_creation(1_700_000_001.0, 1_700_000_000_123));
    }
}
