//! PutMedia: a producer's MKV body in, a stream of acknowledgements out, while the body is
//! still arriving.
//!
//! [`VideoService::put_media`] checks what can be checked before the 200 (the headers, the
//! stream, the stream's one ingest connection) and starts the session's tasks: `session`
//! splits the body into fragments (BUFFERING at a cluster's first bytes, RECEIVED once it is
//! complete and valid) and hands each to `appender`, which stores it and sends PERSISTED once
//! the append is durable. Acknowledgements are lines of JSON (`acks`); the response ends once
//! the body has ended and every fragment is stored, or after an ERROR.

mod acks;
mod appender;
pub mod limits;
mod session;

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use parking_lot::Mutex;
use spate_mkv::TimecodeType;
use tokio::sync::mpsc;

pub use acks::{Ack, EventType};

use crate::error::VideoError;
use crate::service::VideoService;

/// Acknowledgements waiting for the client to read them before the session pauses.
const ACK_QUEUE: usize = 64;

/// PutMedia's request headers, as received.
#[derive(Debug, Clone, Default)]
pub struct PutMediaParams {
    /// `x-amzn-stream-name`.
    pub stream_name: Option<String>,
    /// `x-amzn-stream-arn`.
    pub stream_arn: Option<String>,
    /// `x-amzn-fragment-timecode-type`: `ABSOLUTE` or `RELATIVE`.
    pub timecode_type: Option<String>,
    /// `x-amzn-producer-start-timestamp`: epoch seconds, with a fraction.
    pub producer_start: Option<String>,
}

/// The body of a PutMedia request as it arrives.
pub type MediaBody = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Streams with a PutMedia connection open, by name and creation time.
#[derive(Debug, Default)]
pub(crate) struct IngestSlots(Mutex<HashSet<(String, i64)>>);

/// A stream's one ingest connection; freed on drop.
pub(crate) struct IngestSlot {
    service: Arc<VideoService>,
    key: (String, i64),
}

impl Drop for IngestSlot {
    fn drop(&mut self) {
        self.service.ingest.0.lock().remove(&self.key);
    }
}

impl VideoService {
    /// Starts a PutMedia session; `Err` is answered as an error instead of the 200.
    pub async fn put_media(
        self: &Arc<Self>,
        params: PutMediaParams,
        body: MediaBody,
    ) -> Result<BoxStream<'static, Bytes>, VideoError> {
        let timecode_type = parse_timecode_type(params.timecode_type.as_deref())?;
        let start_ms = params
            .producer_start
            .as_deref()
            .map(parse_epoch_seconds)
            .transpose()?;
        if params.stream_name.is_none() && params.stream_arn.is_none() {
            return Err(VideoError::InvalidArgument(
                "Either x-amzn-stream-name or x-amzn-stream-arn must be specified.".into(),
            ));
        }
        let (stream, _) =
            self.stream(params.stream_name.as_deref(), params.stream_arn.as_deref())?;
        let key = (stream.name.clone(), stream.created_ms);
        if self.config.quotas
            && !self
                .put_media_calls
                .admit(&key, tokio::time::Instant::now())
        {
            // Unverified: AWS's wording.
            return Err(VideoError::ClientLimitExceeded(format!(
                "The stream {} takes at most {} PutMedia calls a second.",
                stream.name,
                limits::CALLS_PER_SECOND
            )));
        }
        if !self.ingest.0.lock().insert(key.clone()) {
            // Unverified: AWS's wording.
            return Err(VideoError::ConnectionLimitExceeded(format!(
                "The stream {} already has a PutMedia connection; a stream takes one at a time.",
                stream.name
            )));
        }
        let slot = IngestSlot {
            service: self.clone(),
            key,
        };
        let (acks, received) = mpsc::channel(ACK_QUEUE);
        let session = session::Session::start(
            self.clone(),
            slot,
            stream,
            session::Timing {
                timecode_type,
                start_ms,
            },
            acks,
        )
        .await?;
        tokio::spawn(session.run(body));
        Ok(
            futures::stream::unfold(received, |mut received| async move {
                received.recv().await.map(|line| (line, received))
            })
            .boxed(),
        )
    }
}

fn parse_timecode_type(value: Option<&str>) -> Result<TimecodeType, VideoError> {
    match value {
        Some("ABSOLUTE") => Ok(TimecodeType::Absolute),
        Some("RELATIVE") => Ok(TimecodeType::Relative),
        Some(other) => Err(VideoError::InvalidArgument(format!(
            "x-amzn-fragment-timecode-type {other:?} is not one of ABSOLUTE, RELATIVE."
        ))),
        None => Err(VideoError::InvalidArgument(
            "x-amzn-fragment-timecode-type (ABSOLUTE or RELATIVE) must be specified.".into(),
        )),
    }
}

/// Epoch seconds with an optional fraction (`1700000000.123`) to epoch milliseconds; digits
/// past the millisecond are dropped.
fn parse_epoch_seconds(text: &str) -> Result<i64, VideoError> {
    let invalid = || {
        VideoError::InvalidArgument(format!(
            "x-amzn-producer-start-timestamp {text:?} is not epoch seconds (e.g. 1700000000.123)."
        ))
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || !digits(whole) || !digits(fraction) {
        return Err(invalid());
    }
    let seconds: i64 = whole.parse().map_err(|_| invalid())?;
    let mut millis = 0;
    for (position, byte) in fraction.bytes().take(3).enumerate() {
        let weight = [100, 10, 1][position];
        millis += i64::from(byte - b'0') * weight;
    }
    Ok(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_start_is_epoch_seconds() {
        assert_eq!(
            parse_epoch_seconds("1700000000").ok(),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_epoch_seconds("1700000000.5").ok(),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_epoch_seconds("1700000000.123456").ok(),
            Some(1_700_000_000_123)
        );
        for bad in ["", ".5", "-1", "1e9", "12.3.4", "999999999999999"] {
            assert!(parse_epoch_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timecode_type_is_required_and_named() {
        assert_eq!(
            parse_timecode_type(Some("RELATIVE")).ok(),
            Some(TimecodeType::Relative)
        );
        assert!(parse_timecode_type(Some("relative")).is_err());
        assert!(parse_timecode_type(None).is_err());
    }
}
