//! Shard-level metric sets shared by Enable- and DisableEnhancedMonitoring.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::SHARD_LEVEL_METRICS;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub shard_level_metrics: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match &self.shard_level_metrics {
            None => v.required("shardLevelMetrics", &self.shard_level_metrics),
            Some(metrics) => {
                v.collection_length(
                    "shardLevelMetrics",
                    &format!("[{}]", metrics.join(", ")),
                    metrics.len(),
                    1,
                    7,
                );
                let mut allowed: Vec<&str> = SHARD_LEVEL_METRICS.to_vec();
                allowed.push("ALL");
                for (index, metric) in metrics.iter().enumerate() {
                    v.one_of(
                        &format!("shardLevelMetrics.{}.member", index + 1),
                        metric,
                        &allowed,
                    );
                }
            }
        }
    }
}

/// `EnhancedMonitoringOutput`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub current_shard_level_metrics: Vec<String>,
    pub desired_shard_level_metrics: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Enable,
    Disable,
}

/// The metric set after enabling or disabling `named` (where `ALL` means all seven), in AWS's
/// order.
pub fn apply(current: &[String], named: &[String], direction: Direction) -> Vec<String> {
    let all = named.iter().any(|metric| metric == "ALL");
    let mut result = Vec::new();
    for metric in SHARD_LEVEL_METRICS {
        let is_named = all || named.iter().any(|m| m == metric);
        let is_current = current.iter().any(|m| m == metric);
        let keep = match direction {
            Direction::Enable => is_current || is_named,
            Direction::Disable => is_current && !is_named,
        };
        if keep {
            result.push(metric.to_string());
        }
    }
    result
}

pub async fn change(
    service: &StreamsService,
    request: Request,
    direction: Direction,
) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let named = request.shard_level_metrics.unwrap_or_default();
    let (current, stream) = change_stream(service, &name, Transition::Immediate, |stream| {
        let current = stream.settings.shard_level_metrics.clone();
        stream.settings.shard_level_metrics = apply(&current, &named, direction);
        Ok(current)
    })
    .await?;
    Ok(Response {
        stream_arn: service.config.stream_arn(&stream.name),
        stream_name: stream.name.clone(),
        current_shard_level_metrics: current,
        desired_shard_level_metrics: stream.settings.shard_level_metrics.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn all_expands_and_order_is_awss() {
        let all = apply(&[], &names(&["ALL"]), Direction::Enable);
        assert_eq!(all, names(&SHARD_LEVEL_METRICS));
        let some = apply(
            &[],
            &names(&["OutgoingBytes", "IncomingBytes", "IncomingBytes"]),
            Direction::Enable,
        );
        assert_eq!(some, names(&["IncomingBytes", "OutgoingBytes"]));
        let fewer = apply(&all, &names(&["IncomingBytes"]), Direction::Disable);
        assert_eq!(fewer.len(), 6);
        assert!(apply(&some, &names(&["ALL"]), Direction::Disable).is_empty());
    }
}
