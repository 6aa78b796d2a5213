//! UpdateStreamWarmThroughput: the write throughput an on-demand stream keeps ready, for accounts
//! with a minimum throughput billing commitment. UPDATING until the target is current.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::StreamMode;
use crate::service::StreamsService;
use crate::shapes::WarmThroughput;
use crate::validation::StreamRef;

/// The most warm throughput an on-demand stream may ask for: 10 GiB/s.
pub const MAX_WARM_THROUGHPUT_MIBPS: i64 = 10 * 1024;

/// The warm throughput a stream may be given at creation or on switching mode: none for zero
/// or absent, else only for an ON_DEMAND stream of an account with a billing commitment, up
/// to the limit.
pub(crate) fn warm_target(
    service: &StreamsService,
    mode: StreamMode,
    requested: Option<i64>,
) -> Result<Option<u32>, StreamsError> {
    let Some(target) = requested.filter(|warm| *warm > 0) else {
        return Ok(None);
    };
    if mode != StreamMode::OnDemand {
        return Err(StreamsError::ValidationMessage(
            "Warm throughput is only supported for streams in ON_DEMAND mode.".to_string(),
        ));
    }
    if !service
        .account
        .lock()
        .0
        .commitment
        .is_enabled_at(service.now_ms())
    {
        return Err(StreamsError::InvalidArgument(
            "Warm throughput requires a minimum throughput billing commitment. Enable it with \
             UpdateAccountSettings."
                .to_string(),
        ));
    }
    if target > MAX_WARM_THROUGHPUT_MIBPS {
        return Err(StreamsError::LimitExceeded(format!(
            "Requested warm throughput of {target} MiBps exceeds the limit of \
             {MAX_WARM_THROUGHPUT_MIBPS} MiBps for an on-demand stream."
        )));
    }
    Ok(Some(
        u32::try_from(target).expect("checked to be within 1..=10240"),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub warm_throughput_mi_bps: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match self.warm_throughput_mi_bps {
            None => v.required("warmThroughputMiBps", &self.warm_throughput_mi_bps),
            Some(warm) => v.range("warmThroughputMiBps", warm, Some(0), None),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_name: String,
    pub warm_throughput: WarmThroughput,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let target = request.warm_throughput_mi_bps.unwrap_or_default();
    if target > MAX_WARM_THROUGHPUT_MIBPS {
        return Err(StreamsError::LimitExceeded(format!(
            "Requested warm throughput of {target} MiBps exceeds the limit of \
             {MAX_WARM_THROUGHPUT_MIBPS} MiBps for an on-demand stream."
        )));
    }
    let target = u32::try_from(target).expect("validated to be within 0..=10240");
    let now = service.now_ms();
    let committed = service.account.lock().0.commitment.is_enabled_at(now);
    let (previous, stream) = change_stream(service, &name, Transition::Updating, |stream| {
        if stream.mode != StreamMode::OnDemand {
            return Err(StreamsError::ValidationMessage(format!(
                "Warm throughput is only supported for streams in ON_DEMAND mode; stream {} is \
                 in PROVISIONED mode.",
                stream.name
            )));
        }
        if !committed {
            return Err(StreamsError::InvalidArgument(
                "Warm throughput requires a minimum throughput billing commitment. Enable it \
                 with UpdateAccountSettings."
                    .to_string(),
            ));
        }
        let previous = stream.settings.warm_throughput_mibps.unwrap_or(0);
        stream.settings.previous_warm_throughput_mibps = Some(previous);
        stream.settings.warm_throughput_mibps = Some(target);
        Ok(previous)
    })
    .await?;
    Ok(Response {
        stream_arn: service.config.stream_arn(&stream.name),
        stream_name: stream.name.clone(),
        warm_throughput: WarmThroughput {
            target_mibps: target,
            current_mibps: previous,
        },
    })
}
