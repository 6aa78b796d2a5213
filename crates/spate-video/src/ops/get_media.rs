//! GetMedia (kinesis-video-media): the stream's fragments from a StartSelector on, as a
//! `video/webm` body of chunks that follows live data (see [`crate::media`]).

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use serde::Deserialize;
use spate_wire::Violations;
use spate_wire::codec::epoch_seconds_to_millis;

use crate::api::Validate;
use crate::error::VideoError;
use crate::media::{Selector, readable_stream, resolve, spawn_get_media};
use crate::service::{Call, VideoService};
use crate::store::FragmentNumber;

/// `FragmentNumberString` and `ContinuationToken` patterns of the model.
pub const FRAGMENT_NUMBER_PATTERN: &str = "^[0-9]+$";
const CONTINUATION_TOKEN_PATTERN: &str = "^[a-zA-Z0-9_\\.\\-]+$";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartSelector {
    pub start_selector_type: Option<String>,
    pub after_fragment_number: Option<String>,
    pub start_timestamp: Option<f64>,
    pub continuation_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub start_selector: Option<StartSelector>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        let Some(selector) = &self.start_selector else {
            v.required("startSelector", &self.start_selector);
            return;
        };
        super::one_of(
            v,
            "startSelector.startSelectorType",
            &selector.start_selector_type,
            true,
            &[
                "FRAGMENT_NUMBER",
                "SERVER_TIMESTAMP",
                "PRODUCER_TIMESTAMP",
                "NOW",
                "EARLIEST",
                "CONTINUATION_TOKEN",
            ],
        );
        super::string(
            v,
            "startSelector.afterFragmentNumber",
            &selector.after_fragment_number,
            false,
            (1, 128),
            Some(FRAGMENT_NUMBER_PATTERN),
        );
        super::string(
            v,
            "startSelector.continuationToken",
            &selector.continuation_token,
            false,
            (1, 128),
            Some(CONTINUATION_TOKEN_PATTERN),
        );
    }
}

/// A fragment number a selector member names; one that is no number Spate gives out is an
/// invalid argument.
fn fragment_number(
    text: Option<&str>,
    member: &str,
    kind: &str,
) -> Result<FragmentNumber, VideoError> {
    let text = text.ok_or_else(|| {
        VideoError::InvalidArgument(format!(
            "{member} is required when StartSelectorType is {kind}."
        ))
    })?;
    text.parse().map_err(|err| {
        VideoError::InvalidArgument(format!(
            "{member} {text} is not a valid fragment number: {err}."
        ))
    })
}

/// The selector a validated request names.
pub fn selector_of(start: &StartSelector) -> Result<Selector, VideoError> {
    let kind = start.start_selector_type.as_deref().unwrap_or_default();
    let timestamp = || {
        let seconds = start.start_timestamp.ok_or_else(|| {
            VideoError::InvalidArgument(format!(
                "StartTimestamp is required when StartSelectorType is {kind}."
            ))
        })?;
        epoch_seconds_to_millis(seconds).ok_or_else(|| {
            VideoError::InvalidArgument("StartTimestamp is not a valid timestamp.".into())
        })
    };
    Ok(match kind {
        "EARLIEST" => Selector::Earliest,
        "NOW" => Selector::Now,
        "FRAGMENT_NUMBER" => Selector::After(fragment_number(
            start.after_fragment_number.as_deref(),
            "AfterFragmentNumber",
            kind,
        )?),
        "CONTINUATION_TOKEN" => Selector::After(fragment_number(
            start.continuation_token.as_deref(),
            "ContinuationToken",
            kind,
        )?),
        "SERVER_TIMESTAMP" => Selector::ServerTime(timestamp()?),
        "PRODUCER_TIMESTAMP" => Selector::ProducerTime(timestamp()?),
        other => {
            return Err(VideoError::InvalidArgument(format!(
                "StartSelectorType {other} is not valid."
            )));
        }
    })
}

/// Checks the request and starts the read; errors here come before the 200.
pub async fn handle(
    service: &Arc<VideoService>,
    _call: &Call,
    request: Request,
) -> Result<BoxStream<'static, Bytes>, VideoError> {
    let (stream, logs) = readable_stream(
        service,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let start = request
        .start_selector
        .as_ref()
        .ok_or_else(|| VideoError::InvalidArgument("StartSelector is required.".into()))?;
    let selector = selector_of(start)?;
    let start = resolve(&service.store, logs, selector).await?;
    Ok(spawn_get_media(Arc::clone(service), stream, logs, start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::violations;

    fn selector(json: &str) -> Result<Selector, VideoError> {
        let start: StartSelector = serde_json::from_str(json).expect("json");
        selector_of(&start)
    }

    #[test]
    fn each_type_needs_its_member() {
        assert_eq!(
            selector(r#"{"StartSelectorType":"EARLIEST"}"#).expect("valid"),
            Selector::Earliest
        );
        assert_eq!(
            selector(r#"{"StartSelectorType":"SERVER_TIMESTAMP","StartTimestamp":1.25}"#)
                .expect("valid"),
            Selector::ServerTime(1250)
        );
        let number = FragmentNumber { log: 3, offset: 9 };
        let json = format!(
            r#"{{"StartSelectorType":"CONTINUATION_TOKEN","ContinuationToken":"{number}"}}"#
        );
        assert_eq!(selector(&json).expect("valid"), Selector::After(number));
        for missing in [
            r#"{"StartSelectorType":"FRAGMENT_NUMBER"}"#,
            r#"{"StartSelectorType":"PRODUCER_TIMESTAMP"}"#,
            r#"{"StartSelectorType":"CONTINUATION_TOKEN"}"#,
            r#"{"StartSelectorType":"FRAGMENT_NUMBER","AfterFragmentNumber":"12"}"#,
        ] {
            assert!(
                matches!(selector(missing), Err(VideoError::InvalidArgument(_))),
                "{missing}"
            );
        }
    }

    #[test]
    fn members_follow_the_model() {
        let message = violations::<Request>(
            r#"{"StreamName":"cam","StartSelector":{"StartSelectorType":"LATEST","AfterFragmentNumber":"1a"}}"#,
        )
        .expect("invalid");
        assert!(message.contains("startSelectorType"), "{message}");
        assert!(message.contains("afterFragmentNumber"), "{message}");
        assert!(violations::<Request>(r#"{"StreamName":"cam"}"#).is_some());
    }
}
