//! PutRecordBatch: 1-500 records of at most 4 MiB together, acknowledged once durable. The
//! records of one call are appended in one group commit, so they either all succeed or the
//! call fails; the per-record answer shape is AWS's.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::put_record::{Record, validate_record};
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::service::FirehoseService;

/// The most bytes of record data one call may carry.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub records: Option<Vec<Option<Record>>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        match &self.records {
            None => v.required("records", &self.records),
            Some(records) => {
                let rendered = format!("[{} records]", records.len());
                v.collection_length("records", &rendered, records.len(), 1, 500);
                for (index, record) in records.iter().enumerate() {
                    validate_record(v, &format!("records.{}.member", index + 1), record);
                }
            }
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub failed_put_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    pub request_responses: Vec<Entry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    pub record_id: String,
}

pub async fn handle(
    service: &FirehoseService,
    request: Request,
) -> Result<Response, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let data: Vec<_> = request
        .records
        .unwrap_or_default()
        .into_iter()
        .map(|record| record.and_then(|r| r.data).unwrap_or_default())
        .collect();
    let total: usize = data.iter().map(|d| d.len()).sum();
    if total > MAX_BATCH_BYTES {
        return Err(FirehoseError::InvalidArgument(format!(
            "Records size exceeds the limit of {MAX_BATCH_BYTES} bytes (4 MiB) per call: {total} bytes."
        )));
    }
    let (ids, encrypted) = service.append(name, data).await?;
    Ok(Response {
        failed_put_count: 0,
        encrypted: encrypted.then_some(true),
        request_responses: ids
            .into_iter()
            .map(|record_id| Entry { record_id })
            .collect(),
    })
}
