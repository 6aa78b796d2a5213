//! GetMediaForFragmentList (kinesis-video-archived-media): the listed fragments as a
//! `video/webm` body of chunks, in list order; a number the stream does not have yields error
//! tags in its place and the list goes on (see [`crate::media`]).

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use serde::Deserialize;
use spate_wire::Violations;

use super::get_media::FRAGMENT_NUMBER_PATTERN;
use crate::api::Validate;
use crate::error::VideoError;
use crate::media::{readable_stream, spawn_fragment_list};
use crate::service::{Call, VideoService};

/// The model's bounds on `Fragments`.
const MAX_FRAGMENTS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub fragments: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        let Some(fragments) = &self.fragments else {
            v.required("fragments", &self.fragments);
            return;
        };
        v.collection_length(
            "fragments",
            &format!("[{}]", fragments.len()),
            fragments.len(),
            1,
            MAX_FRAGMENTS,
        );
        for (index, number) in fragments.iter().enumerate() {
            super::string(
                v,
                &format!("fragments.{}.member", index + 1),
                &Some(number.clone()),
                true,
                (1, 128),
                Some(FRAGMENT_NUMBER_PATTERN),
            );
        }
    }
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
    let numbers = request
        .fragments
        .ok_or_else(|| VideoError::InvalidArgument("Fragments is required.".into()))?;
    Ok(spawn_fragment_list(
        Arc::clone(service),
        stream,
        logs,
        numbers,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::violations;

    #[test]
    fn the_list_is_bounded_and_numeric() {
        assert!(violations::<Request>(r#"{"StreamName":"cam","Fragments":[]}"#).is_some());
        let message = violations::<Request>(r#"{"StreamName":"cam","Fragments":["1","x"]}"#)
            .expect("invalid");
        assert!(message.contains("fragments.2.member"), "{message}");
        let many = format!(
            r#"{{"StreamName":"cam","Fragments":[{}]}}"#,
            vec!["\"1\""; 1001].join(",")
        );
        assert!(violations::<Request>(&many).is_some());
        assert!(violations::<Request>(r#"{"StreamName":"cam","Fragments":["12"]}"#).is_none());
    }
}
