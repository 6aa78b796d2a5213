//! Reading fragments back as MKV: the body of GetMedia and GetMediaForFragmentList
//! (`video/webm`, plan §4.4).
//!
//! Both answers are produced by a spawned task that reads fragments from the
//! [`FragmentStore`](crate::store::FragmentStore), writes each as a self-contained chunk with
//! the `AWS_KINESISVIDEO_*` tags, and sends it through a bounded channel that becomes the
//! response body: a slow client holds the task back, a client that goes away stops it.
//! Failures after the 200 are written into the body as error tags, then the body ends.
//!
//! Submodules: `selector` (GetMedia's StartSelector to a first media offset), `chunk` (one
//! fragment or one failure as output bytes), `reader` (the two producing tasks, GetMedia's
//! following live data).

mod chunk;
mod reader;
mod selector;

use bytes::Bytes;
use futures::stream::BoxStream;
use tokio::sync::mpsc;

use crate::error::VideoError;
use crate::model::{Status, StreamMeta};
use crate::service::VideoService;
use crate::store::StreamLogs;

pub use reader::{spawn_fragment_list, spawn_get_media};
pub use selector::{Selector, Start, resolve};

/// The content type of GetMedia and GetMediaForFragmentList answers.
pub const MEDIA_CONTENT_TYPE: &str = "video/webm";

/// How long a GetMedia waits at the stream's tip for a new fragment before it ends the
/// response. Unverified: AWS ends a GetMedia some seconds after the stream's tip when no new
/// data arrives (the KVS parser library then re-issues GetMedia with the continuation token);
/// the exact time is not documented.
pub const GET_MEDIA_IDLE_END_MS: u64 = 5_000;

/// `AWS_KINESISVIDEO_ERROR_ID` of a fragment that is not (or no longer) in the stream, as the
/// GetMedia documentation lists it.
pub const ERROR_ID_NOT_FOUND: u32 = 4000;
/// `AWS_KINESISVIDEO_ERROR_ID` of an internal failure, as the GetMedia documentation lists it.
pub const ERROR_ID_INTERNAL: u32 = 5000;

/// Chunks (one fragment each) queued between the reading task and the client.
const CHANNEL_CHUNKS: usize = 4;

/// A bounded channel whose receiving end is a response body.
fn body_channel() -> (mpsc::Sender<Bytes>, BoxStream<'static, Bytes>) {
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| (bytes, receiver))
    });
    (sender, Box::pin(body))
}

/// The stream a media read names, with its fragment logs: one that is not ACTIVE (or
/// UPDATING) reads as not found.
pub(crate) fn readable_stream(
    service: &VideoService,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<(StreamMeta, StreamLogs), VideoError> {
    let (stream, status) = service.stream(name, arn)?;
    if matches!(status, Status::Creating | Status::Deleting) {
        // Unverified: that AWS refuses a CREATING stream this way, and its wording (the same
        // as for an unknown stream).
        return Err(VideoError::ResourceNotFound(
            "The requested stream is not found or not active.".into(),
        ));
    }
    let logs = stream.logs.ok_or_else(|| {
        VideoError::Internal(format!("stream {} has no fragment logs", stream.name))
    })?;
    Ok((stream, logs.stream_logs()))
}

/// Whether `stream` (as it was when the read began) still exists and is not being deleted:
/// a read ends once it is not.
fn still_readable(service: &VideoService, stream: &StreamMeta) -> bool {
    match service.stream(Some(&stream.name), None) {
        Ok((now, status)) => now.created_ms == stream.created_ms && status != Status::Deleting,
        Err(_) => false,
    }
}

/// [`readable_stream`], refused with `NoDataRetentionException` when the stream keeps no data
/// (`DataRetentionInHours` 0): what GetClip, GetImages and the streaming sessions read.
pub(crate) fn retained_stream(
    service: &VideoService,
    name: Option<&str>,
    arn: Option<&str>,
) -> Result<(StreamMeta, StreamLogs), VideoError> {
    let (stream, logs) = readable_stream(service, name, arn)?;
    if stream.retention_hours == 0 {
        // Unverified: AWS's wording.
        return Err(VideoError::NoDataRetention(format!(
            "The stream {} does not retain data (DataRetentionInHours is 0).",
            stream.name
        )));
    }
    Ok((stream, logs))
}
