//! ListStreams: names and summaries in name order, paged by Limit, ExclusiveStartStreamName and
//! NextToken.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::paging;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::shapes::StreamModeDetails;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub limit: Option<i64>,
    pub exclusive_start_stream_name: Option<String>,
    pub next_token: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(10_000));
        }
        validation::name(
            v,
            "exclusiveStartStreamName",
            &self.exclusive_start_stream_name,
            false,
        );
        if let Some(token) = &self.next_token {
            v.string_length("nextToken", token, 1, 1_048_576);
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSummary {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: &'static str,
    pub stream_mode_details: StreamModeDetails,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub stream_creation_timestamp: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_names: Vec<String>,
    pub has_more_streams: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub stream_summaries: Vec<StreamSummary>,
}

/// ListStreams returns at most this many streams per call.
const MAX_STREAMS_PER_PAGE: usize = 100;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let now = service.now_ms();
    let after = match &request.next_token {
        Some(token) => Some(paging::redeem::<String>(token, now)?),
        None => request.exclusive_start_stream_name,
    };
    let limit = usize::try_from(request.limit.unwrap_or(100))
        .unwrap_or(1)
        .min(MAX_STREAMS_PER_PAGE);
    let mut visible = service.registry.all().into_iter().filter_map(|stream| {
        let status = stream.status_at(now)?;
        let after_start = after
            .as_deref()
            .is_none_or(|after| stream.name.as_str() > after);
        after_start.then_some((stream, status))
    });
    let page: Vec<_> = visible.by_ref().take(limit).collect();
    let has_more = visible.next().is_some();
    let next_token = match page.last() {
        Some((last, _)) if has_more => Some(paging::issue(&last.name, now)),
        _ => None,
    };
    Ok(Response {
        stream_names: page.iter().map(|(stream, _)| stream.name.clone()).collect(),
        has_more_streams: has_more,
        next_token,
        stream_summaries: page
            .iter()
            .map(|(stream, status)| StreamSummary {
                stream_name: stream.name.clone(),
                stream_arn: service.config.stream_arn(&stream.name),
                stream_status: status.as_str(),
                stream_mode_details: StreamModeDetails::of(stream),
                stream_creation_timestamp: stream.created_ms,
            })
            .collect(),
    })
}
