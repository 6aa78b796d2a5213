//! ListStreamConsumers: a stream's consumers in name order, paged by MaxResults and NextToken.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::consumer_ref::Consumer;
use super::paging;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub stream_creation_timestamp: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        if self.stream_arn.is_none() {
            v.required("streamARN", &self.stream_arn);
        }
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        if let Some(token) = &self.next_token {
            v.string_length("nextToken", token, 1, 1_048_576);
        }
        if let Some(max) = self.max_results {
            v.range("maxResults", max, Some(1), Some(10_000));
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub consumers: Vec<Consumer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// ListStreamConsumers returns at most this many consumers per call.
const MAX_CONSUMERS_PER_PAGE: usize = 100;

/// Where the next page starts: after this consumer of this stream incarnation.
#[derive(Serialize, Deserialize)]
struct Next {
    stream_created_ms: i64,
    after: String,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let now = service.now_ms();
    let stream_arn = request.stream_arn.unwrap_or_default();
    let name = validation::resolve_stream_name(&service.config, None, Some(&stream_arn))?;
    let stream = service.visible_stream(&name)?;
    if let Some(created) = request.stream_creation_timestamp
        && created.div_euclid(1000) != stream.created_ms.div_euclid(1000)
    {
        return Err(service.not_found(&name));
    }
    let after = match &request.next_token {
        Some(token) => {
            let next: Next = paging::redeem(token, now)?;
            if next.stream_created_ms != stream.created_ms {
                return Err(StreamsError::InvalidArgument(format!(
                    "NextToken {token} does not belong to stream {name}."
                )));
            }
            Some(next.after)
        }
        None => None,
    };
    let limit = usize::try_from(request.max_results.unwrap_or(100))
        .unwrap_or(1)
        .min(MAX_CONSUMERS_PER_PAGE);
    let mut remaining = service
        .visible_consumers(&stream)
        .into_iter()
        .filter(|consumer| {
            after
                .as_deref()
                .is_none_or(|after| consumer.name.as_str() > after)
        });
    let page: Vec<_> = remaining.by_ref().take(limit).collect();
    let next_token = match page.last() {
        Some(last) if remaining.next().is_some() => Some(paging::issue(
            &Next {
                stream_created_ms: stream.created_ms,
                after: last.name.clone(),
            },
            now,
        )),
        _ => None,
    };
    Ok(Response {
        consumers: page
            .iter()
            .filter_map(|consumer| Consumer::describe(service, consumer))
            .collect(),
        next_token,
    })
}
