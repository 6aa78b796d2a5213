//! ListFragments (kinesis-video-archived-media): the fragments whose producer or server
//! timestamp lies in a range, in fragment-number order (AWS promises no order), paged by
//! `MaxResults` and a sealed `NextToken` bound to the stream and the request.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::fragment_selector::{FragmentSelector, Required};
use crate::api::Validate;
use crate::error::VideoError;
use crate::media::readable_stream;
use crate::model::epoch_seconds;
use crate::service::{Call, VideoService};
use crate::store::{ListQuery, TimeAxis};
use crate::tokens::{PageRange, PageToken, request_digest};

/// `MaxResults` when the request has none. Unverified: AWS documents no default; 100.
pub const DEFAULT_MAX_RESULTS: i64 = 100;
/// The model's `MaxResults` bounds.
const MAX_RESULTS: i64 = 1000;
/// The model's NextToken pattern for this API (stricter than the control plane's).
const TOKEN_PATTERN: &str = "[a-zA-Z0-9+/]+={0,2}";
/// How long a NextToken stays good. Unverified: AWS documents no lifetime; one day.
const TOKEN_MAX_AGE_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub fragment_selector: Option<FragmentSelector>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::range(
            v,
            "maxResults",
            self.max_results,
            Some(1),
            Some(MAX_RESULTS),
        );
        super::string(
            v,
            "nextToken",
            &self.next_token,
            false,
            (1, crate::tokens::MAX_TOKEN_LEN),
            Some(TOKEN_PATTERN),
        );
        if let Some(selector) = &self.fragment_selector {
            selector.validate(
                v,
                "fragmentSelector",
                Required {
                    selector_type: true,
                    range: true,
                    timestamps: true,
                },
            );
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fragment {
    pub fragment_number: String,
    pub fragment_size_in_bytes: i64,
    pub producer_timestamp: f64,
    pub server_timestamp: f64,
    pub fragment_length_in_milliseconds: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub fragments: Vec<Fragment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The selector as a time axis and an inclusive range in epoch ms.
fn range_of(selector: &FragmentSelector) -> Result<(TimeAxis, i64, i64), VideoError> {
    let (Some(start), Some(end)) = selector.bounds() else {
        return Err(VideoError::InvalidArgument(
            "TimestampRange with StartTimestamp and EndTimestamp is required.".into(),
        ));
    };
    if start > end {
        // Unverified: AWS's wording.
        return Err(VideoError::InvalidArgument(
            "StartTimestamp must not be later than EndTimestamp.".into(),
        ));
    }
    Ok((selector.axis(), start, end))
}

/// What a NextToken is bound to besides the stream's creation time: the stream's media log
/// and the selected range (not `MaxResults`, which may change from page to page).
fn digest(media_log: u64, axis: TimeAxis, start_ms: i64, end_ms: i64) -> u32 {
    let axis = match axis {
        TimeAxis::Server => "SERVER",
        TimeAxis::Producer => "PRODUCER",
    };
    request_digest(format!("ListFragments|{media_log}|{axis}|{start_ms}|{end_ms}").as_bytes())
}

fn invalid_token() -> VideoError {
    // Unverified: AWS's wording.
    VideoError::InvalidArgument(
        "NextToken is not valid for this stream and FragmentSelector.".into(),
    )
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (stream, logs) = readable_stream(
        service,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    // A later page may name only its NextToken: the token carries the range.
    let (axis, start_ms, end_ms, after) = match (&request.fragment_selector, &request.next_token) {
        (None, None) => {
            // Unverified: AWS's wording.
            return Err(VideoError::InvalidArgument(
                "FragmentSelector is required when NextToken is not given.".into(),
            ));
        }
        (Some(selector), None) => {
            let (axis, start_ms, end_ms) = range_of(selector)?;
            (axis, start_ms, end_ms, None)
        }
        (selector, Some(token)) => {
            let page = PageToken::open(&service.sealer, token, service.now_ms(), TOKEN_MAX_AGE_MS)
                .map_err(|_| invalid_token())?;
            let range = page.range.ok_or_else(invalid_token)?;
            let axis = if range.producer_axis {
                TimeAxis::Producer
            } else {
                TimeAxis::Server
            };
            let bound_to = digest(logs.media.0, axis, range.start_ms, range.end_ms);
            let same_request = match selector {
                None => true,
                Some(selector) => range_of(selector)? == (axis, range.start_ms, range.end_ms),
            };
            if page.stream_created_ms != stream.created_ms
                || page.request_digest != bound_to
                || !same_request
            {
                return Err(invalid_token());
            }
            (axis, range.start_ms, range.end_ms, Some(page.cursor))
        }
    };
    let limit = request.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    let limit = usize::try_from(limit.clamp(1, MAX_RESULTS)).unwrap_or(1);
    let query = ListQuery {
        axis,
        start_ms,
        end_ms,
        after,
        // One more than asked for says whether another page follows.
        limit: limit + 1,
    };
    let mut listed = service.store.list(logs, query).await?;
    let more = listed.len() > limit;
    listed.truncate(limit);
    let next_token = match listed.last() {
        Some((number, _)) if more => {
            let page = PageToken {
                stream_created_ms: stream.created_ms,
                cursor: number.offset,
                request_digest: digest(logs.media.0, axis, start_ms, end_ms),
                issued_ms: service.now_ms(),
                range: Some(PageRange {
                    producer_axis: axis == TimeAxis::Producer,
                    start_ms,
                    end_ms,
                }),
            };
            Some(page.seal(&service.sealer))
        }
        _ => None,
    };
    let fragments = listed
        .into_iter()
        .map(|(number, meta)| Fragment {
            fragment_number: number.to_string(),
            fragment_size_in_bytes: i64::from(meta.cluster_bytes),
            producer_timestamp: epoch_seconds(meta.producer_ts_ms),
            server_timestamp: epoch_seconds(meta.server_ts_ms),
            fragment_length_in_milliseconds: i64::from(meta.duration_ms),
        })
        .collect();
    Ok(Response {
        fragments,
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::violations;

    #[test]
    fn selectors_are_validated() {
        let message = violations::<Request>(
            r#"{"StreamName":"cam","MaxResults":1001,"FragmentSelector":{"FragmentSelectorType":"ARRIVAL","TimestampRange":{"StartTimestamp":1}}}"#,
        )
        .expect("invalid");
        assert!(message.contains("'maxResults'"), "{message}");
        assert!(message.contains("fragmentSelectorType"), "{message}");
        assert!(message.contains("endTimestamp"), "{message}");
        assert!(
            violations::<Request>(r#"{"StreamName":"cam","NextToken":"a b"}"#).is_some(),
            "token pattern"
        );
        assert!(violations::<Request>(r#"{"StreamName":"cam","FragmentSelector":{"FragmentSelectorType":"SERVER_TIMESTAMP","TimestampRange":{"StartTimestamp":1,"EndTimestamp":2.5}}}"#).is_none());
    }

    #[test]
    fn ranges_are_milliseconds_and_ordered() {
        let selector =
            |body: &str| -> FragmentSelector { serde_json::from_str(body).expect("a selector") };
        let forward = selector(
            r#"{"FragmentSelectorType":"SERVER_TIMESTAMP","TimestampRange":{"StartTimestamp":1.5,"EndTimestamp":2}}"#,
        );
        assert_eq!(
            range_of(&forward).expect("valid"),
            (TimeAxis::Server, 1500, 2000)
        );
        let backwards = selector(
            r#"{"FragmentSelectorType":"PRODUCER_TIMESTAMP","TimestampRange":{"StartTimestamp":3,"EndTimestamp":2}}"#,
        );
        assert!(range_of(&backwards).is_err());
        assert_ne!(
            digest(1, TimeAxis::Server, 0, 1),
            digest(1, TimeAxis::Producer, 0, 1)
        );
    }
}
