//! PutRecord: one record, acknowledged once it is durable in the stream's log.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::FirehoseError;
use crate::service::FirehoseService;

/// The largest record `Data`, in bytes before base64 (1,000 KiB).
pub const MAX_RECORD_BYTES: usize = 1_024_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub record: Option<Record>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    #[serde(default, with = "spate_wire::codec::opt_blob")]
    pub data: Option<Bytes>,
}

/// `Record.Data`'s constraints at `path`.
pub fn validate_record(v: &mut Violations, path: &str, record: &Option<Record>) {
    match record {
        None => v.required(path, record),
        Some(record) => match &record.data {
            None => v.required(&format!("{path}.data"), &record.data),
            Some(data) if data.len() > MAX_RECORD_BYTES => v.push(
                "java.nio.HeapByteBuffer",
                &format!("{path}.data"),
                &format!("Member must have length less than or equal to {MAX_RECORD_BYTES}"),
            ),
            Some(_) => {}
        },
    }
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        validate_record(v, "record", &self.record);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub record_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
}

pub async fn handle(
    service: &FirehoseService,
    request: Request,
) -> Result<Response, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let data = request
        .record
        .and_then(|record| record.data)
        .unwrap_or_default();
    let (mut ids, encrypted) = service.append(name, vec![data]).await?;
    let record_id = ids
        .pop()
        .ok_or_else(|| FirehoseError::Internal("an append returned no record".into()))?;
    Ok(Response {
        record_id,
        encrypted: encrypted.then_some(true),
    })
}
