//! UpdateStreamMode: switches a stream between PROVISIONED and ON_DEMAND capacity, keeping its
//! shards; an on-demand stream then scales itself (see `autoscale`).

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::reshard::DAY_MS;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::{StreamMode, StreamStatus};
use crate::service::StreamsService;
use crate::validation::{self, StreamModeDetails};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub stream_mode_details: Option<StreamModeDetails>,
    pub warm_throughput_mi_bps: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.stream_arn {
            None => v.required("streamARN", &self.stream_arn),
            Some(_) => validation::stream_arn(v, "streamARN", &self.stream_arn),
        }
        match &self.stream_mode_details {
            None => v.required("streamModeDetails", &self.stream_mode_details),
            Some(details) => details.validate(v),
        }
        if let Some(warm) = self.warm_throughput_mi_bps {
            v.range("warmThroughputMiBps", warm, Some(0), None);
        }
    }
}

/// Capacity mode changes a stream may make in a rolling day.
const CHANGES_PER_DAY: usize = 2;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name =
        validation::resolve_stream_name(&service.config, None, request.stream_arn.as_deref())?;
    let mode = StreamModeDetails::mode(request.stream_mode_details.as_ref());
    let account = &service.config.account_id;
    let warm = super::update_stream_warm_throughput::warm_target(
        service,
        mode,
        request.warm_throughput_mi_bps,
    )?;
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    if stream.mode == mode {
        return Err(StreamsError::InvalidArgument(format!(
            "Stream {name} under account {account} is already in {} capacity mode.",
            mode.as_str()
        )));
    }
    let now = service.now_ms();
    if stream
        .mode_changes_ms
        .iter()
        .filter(|at| now - **at < DAY_MS)
        .count()
        >= CHANGES_PER_DAY
    {
        return Err(StreamsError::LimitExceeded(format!(
            "Stream {name} under account {account} can change its capacity mode at most \
             {CHANGES_PER_DAY} times in 24 hours."
        )));
    }
    if mode == StreamMode::OnDemand {
        service.check_on_demand_limit()?;
    }
    let mut updated = service.settled(&stream);
    updated.mode = mode;
    if mode == StreamMode::OnDemand {
        updated.settings.warm_throughput_mibps = warm;
    } else {
        updated.settings.warm_throughput_mibps = None;
        updated.settings.previous_warm_throughput_mibps = None;
    }
    updated.mode_changes_ms.retain(|at| now - *at < DAY_MS);
    updated.mode_changes_ms.push(now);
    let delay = i64::try_from(service.config.update_delay_ms).unwrap_or(i64::MAX);
    updated.status = StreamStatus::Updating;
    updated.status_until_ms = Some(now.saturating_add(delay));
    service.registry.save(&guard, updated).await?;
    Ok(Empty {})
}
