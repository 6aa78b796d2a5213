//! The tasks that produce media answers.
//!
//! GetMedia sends every fragment from its start offset to the media log's durable end, then
//! waits on the log's end watch for the next one: it ends when no fragment arrived for
//! [`GET_MEDIA_IDLE_END_MS`], when its stream is deleted (checked at least every
//! [`STREAM_CHECK_MS`] while waiting), when the client goes away, or after error tags (a
//! fragment trimmed under it, a read failure). GetMediaForFragmentList sends the listed
//! fragments in list order, error tags in place of each one it does not find.
//!
//! Waiting uses tokio's clock, so tests can run it on paused time.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::BoxStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::chunk::{self, CODE_INTERNAL, CODE_NOT_FOUND, Live};
use super::selector::Start;
use super::{
    ERROR_ID_INTERNAL, ERROR_ID_NOT_FOUND, GET_MEDIA_IDLE_END_MS, body_channel, still_readable,
};
use crate::model::StreamMeta;
use crate::service::VideoService;
use crate::store::{FragmentNumber, ListQuery, StreamLogs, TimeAxis};

/// How often a GetMedia waiting at the stream's tip checks that its stream still exists.
pub const STREAM_CHECK_MS: u64 = 250;

/// Starts a GetMedia from `start` and returns its body.
pub fn spawn_get_media(
    service: Arc<VideoService>,
    stream: StreamMeta,
    logs: StreamLogs,
    start: Start,
) -> BoxStream<'static, Bytes> {
    let (sender, body) = body_channel();
    let reader = Reader {
        service,
        stream,
        logs,
        sender,
    };
    tokio::spawn(reader.get_media(start, Duration::from_millis(GET_MEDIA_IDLE_END_MS)));
    body
}

/// Starts a GetMediaForFragmentList of `numbers` (as requested) and returns its body.
pub fn spawn_fragment_list(
    service: Arc<VideoService>,
    stream: StreamMeta,
    logs: StreamLogs,
    numbers: Vec<String>,
) -> BoxStream<'static, Bytes> {
    let (sender, body) = body_channel();
    let reader = Reader {
        service,
        stream,
        logs,
        sender,
    };
    tokio::spawn(reader.fragment_list(numbers));
    body
}

/// The reading ended (client gone, stream deleted, or error tags sent).
struct Stopped;

/// One media answer being produced.
struct Reader {
    service: Arc<VideoService>,
    /// The stream as it was when the read began.
    stream: StreamMeta,
    logs: StreamLogs,
    sender: mpsc::Sender<Bytes>,
}

impl Reader {
    fn number(&self, offset: u64) -> FragmentNumber {
        FragmentNumber {
            log: self.logs.media.0,
            offset,
        }
    }

    async fn send(&self, bytes: Bytes) -> Result<(), Stopped> {
        self.sender.send(bytes).await.map_err(|_| Stopped)
    }

    /// Ends the answer with error tags, unless the stream is gone (then it just ends).
    async fn fail(&self, code: &str, id: u32, reason: &(dyn std::fmt::Display + Sync)) -> Stopped {
        if !still_readable(&self.service, &self.stream) {
            return Stopped;
        }
        if id == ERROR_ID_INTERNAL {
            tracing::error!(stream = %self.stream.name, error = %reason, "GetMedia read failed");
        }
        // Whether the client is still there to read it changes nothing.
        let _ = self.send(chunk::failure(code, id)).await;
        Stopped
    }

    async fn get_media(self, start: Start, idle: Duration) {
        let mut next = match start {
            Start::Offset(offset) => offset,
            Start::NotFound(number) => {
                let reason = format!("fragment {number} is not in the stream");
                self.fail(CODE_NOT_FOUND, ERROR_ID_NOT_FOUND, &reason).await;
                return;
            }
        };
        let mut durable_end = match self.service.store.watch(self.logs) {
            Ok(watch) => watch,
            Err(err) => {
                self.fail(CODE_INTERNAL, ERROR_ID_INTERNAL, &err).await;
                return;
            }
        };
        let mut idle_until = Instant::now() + idle;
        loop {
            let end = *durable_end.borrow_and_update();
            if next < end {
                if self.send_range(next, end).await.is_err() {
                    return;
                }
                next = end;
                idle_until = Instant::now() + idle;
                continue;
            }
            if !still_readable(&self.service, &self.stream) {
                return;
            }
            let now = Instant::now();
            if now >= idle_until {
                return;
            }
            let wait = (idle_until - now).min(Duration::from_millis(STREAM_CHECK_MS));
            tokio::select! {
                changed = durable_end.changed() => {
                    if changed.is_err() {
                        return; // the log is gone
                    }
                }
                () = tokio::time::sleep(wait) => {}
                () = self.sender.closed() => return,
            }
        }
    }

    /// Sends the fragments at media offsets `[from, end)`.
    async fn send_range(&self, from: u64, end: u64) -> Result<(), Stopped> {
        let live = match self.newest_server_ms(end).await {
            Ok(newest) => newest.map(|newest_server_ms| Live { newest_server_ms }),
            Err(err) => return Err(self.fail(CODE_INTERNAL, ERROR_ID_INTERNAL, &err).await),
        };
        for offset in from..end {
            let number = self.number(offset);
            let (meta, value) = match self.service.store.get(self.logs, number).await {
                Ok(Some(found)) => found,
                Ok(None) => {
                    let reason = format!("fragment {number} is no longer kept");
                    return Err(self.fail(CODE_NOT_FOUND, ERROR_ID_NOT_FOUND, &reason).await);
                }
                Err(err) => return Err(self.fail(CODE_INTERNAL, ERROR_ID_INTERNAL, &err).await),
            };
            // The newest fragment's time is read once per range; one that is not found (all
            // trimmed) makes this one the newest.
            let live = live.unwrap_or(Live {
                newest_server_ms: meta.server_ts_ms,
            });
            match chunk::fragment(number, &meta, &value, Some(live)) {
                Ok(bytes) => self.send(bytes).await?,
                Err(err) => return Err(self.fail(CODE_INTERNAL, ERROR_ID_INTERNAL, &err).await),
            }
        }
        Ok(())
    }

    /// The server timestamp of the fragment just before the media offset `end` (read from the
    /// index, without its chunk).
    async fn newest_server_ms(&self, end: u64) -> Result<Option<i64>, crate::store::StoreError> {
        let Some(last) = end.checked_sub(1) else {
            return Ok(None);
        };
        let query = ListQuery {
            axis: TimeAxis::Server,
            start_ms: i64::MIN,
            end_ms: i64::MAX,
            after: last.checked_sub(1),
            limit: 1,
        };
        let listed = self.service.store.list(self.logs, query).await?;
        Ok(listed
            .first()
            .filter(|(number, _)| number.offset == last)
            .map(|(_, meta)| meta.server_ts_ms))
    }

    async fn fragment_list(self, numbers: Vec<String>) {
        for text in numbers {
            if !still_readable(&self.service, &self.stream) {
                return;
            }
            let found = match text.parse::<FragmentNumber>() {
                Ok(number) => self
                    .service
                    .store
                    .get(self.logs, number)
                    .await
                    .map(|found| found.map(|(meta, value)| (number, meta, value))),
                // Digits, but no number of ours: not found.
                Err(_) => Ok(None),
            };
            let bytes = match found {
                Ok(Some((number, meta, value))) => {
                    match chunk::fragment(number, &meta, &value, None) {
                        Ok(bytes) => bytes,
                        Err(err) => {
                            self.list_internal_failure(&text, &err).await;
                            return;
                        }
                    }
                }
                // Unverified: the message text.
                Ok(None) => chunk::list_failure(
                    &text,
                    CODE_NOT_FOUND,
                    ERROR_ID_NOT_FOUND,
                    "The requested fragment is not found.",
                ),
                Err(err) => {
                    self.list_internal_failure(&text, &err).await;
                    return;
                }
            };
            if self.send(bytes).await.is_err() {
                return;
            }
        }
    }

    /// Ends a GetMediaForFragmentList with error tags for `number`, unless the stream is gone.
    /// Unverified: AWS may go on with the rest of the list after an internal failure.
    async fn list_internal_failure(&self, number: &str, reason: &(dyn std::fmt::Display + Sync)) {
        if !still_readable(&self.service, &self.stream) {
            return;
        }
        tracing::error!(stream = %self.stream.name, error = %reason, "GetMediaForFragmentList read failed");
        let bytes = chunk::list_failure(
            number,
            CODE_INTERNAL,
            ERROR_ID_INTERNAL,
            "Internal service failure.",
        );
        let _ = self.send(bytes).await;
    }
}
