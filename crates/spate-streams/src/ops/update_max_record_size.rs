//! UpdateMaxRecordSize: the largest record (data plus partition key) a stream accepts, 1024 to
//! 10240 KiB; routing checks every new record against it. The stream is UPDATING meanwhile.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    #[serde(rename = "MaxRecordSizeInKiB")]
    pub max_record_size_in_kib: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        match self.max_record_size_in_kib {
            None => v.required("maxRecordSizeInKiB", &self.max_record_size_in_kib),
            Some(size) => v.range("maxRecordSizeInKiB", size, Some(1024), Some(10240)),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name =
        validation::resolve_stream_name(&service.config, None, request.stream_arn.as_deref())?;
    let size = u32::try_from(request.max_record_size_in_kib.unwrap_or_default())
        .expect("validated to be within 1024..=10240");
    change_stream(service, &name, Transition::Updating, |stream| {
        stream.max_record_size_kib = size;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
