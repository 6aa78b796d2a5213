//! One PutMedia session: the body split into fragments, each acknowledged as it goes.
//!
//! A fragment is one Cluster. Its number is known when its first bytes arrive (BUFFERING):
//! the stream has one ingest connection, so it is the media log's end plus the fragments this
//! session numbered since. Once complete it is checked (tracks, duration, order against the
//! previous fragment) and acknowledged RECEIVED; producer Tags that follow a cluster belong to
//! it, so it is handed to the appender at the next cluster, at the end of the body, or
//! [`TAGS_WINDOW`] after it ended, whichever comes first. Any refusal is one ERROR
//! acknowledgement, after which the session reads no more (AWS ends the connection too); it is
//! the last line of the response, after the PERSISTED of every fragment already received.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use spate_mkv::cluster::units_to_ms;
use spate_mkv::{
    AckError, Event, FragmentTimes, MediaHeader, MkvError, RawCluster, Splitter, SplitterConfig,
    StoredChunk, TimecodeType, check_order, fragment_times,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::acks::{Ack, EventType};
use super::appender::{self, APPEND_QUEUE, Append};
use super::limits::{BYTES_PER_SECOND, DataRate};
use super::{IngestSlot, MediaBody};
use crate::error::VideoError;
use crate::model::{Status, StreamMeta};
use crate::service::VideoService;
use crate::store::{FLAG_DISCONTINUITY, FLAG_KEY_FRAME, FragmentMeta, FragmentNumber, StreamLogs};

/// How long after a cluster ends producer Tags may still join its fragment.
/// Unverified: AWS documents no such window; the producer SDK writes a fragment's Tags right
/// after its cluster.
const TAGS_WINDOW: Duration = Duration::from_millis(20);

/// A gap between fragments' producer times beyond this marks a discontinuity (HLS and DASH
/// start a new timeline there). Unverified: AWS documents no threshold.
const DISCONTINUITY_GAP_MS: i64 = 1_000;

/// How the producer's cluster timecodes map to time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timing {
    pub timecode_type: TimecodeType,
    /// `x-amzn-producer-start-timestamp`, epoch ms.
    pub start_ms: Option<i64>,
}

/// The fragment whose cluster is arriving.
#[derive(Debug, Clone, Copy)]
struct Open {
    number: FragmentNumber,
    timecode_ms: u64,
    server_ts_ms: i64,
}

/// A complete fragment waiting for Tags that may follow it.
struct Pending {
    append: Append,
    cluster: Bytes,
    tags: Vec<Bytes>,
    deadline: Instant,
}

/// What the session loop waits for.
enum Input {
    Body(Option<Result<Bytes, std::io::Error>>),
    TagsWindowOver,
    Idle,
}

pub(super) struct Session {
    service: Arc<VideoService>,
    /// Held while the session runs: the stream's one ingest connection.
    _slot: IngestSlot,
    stream: StreamMeta,
    logs: StreamLogs,
    timing: Timing,
    acks: mpsc::Sender<Bytes>,
    appender: mpsc::Sender<Append>,
    appender_task: tokio::task::JoinHandle<()>,
    /// The ERROR that ended the session, sent once the appender is done.
    failure: Option<Ack>,
    splitter: Splitter,
    header: Option<MediaHeader>,
    next_offset: u64,
    /// The previous fragment of this session, for the order rule (4004).
    previous: Option<FragmentTimes>,
    open: Option<Open>,
    pending: Option<Pending>,
    last_server_ts_ms: i64,
    /// The connection's data-rate budget, with quotas on.
    data_rate: Option<DataRate>,
    /// This session's number: one more than the stream's last stored fragment's.
    session_number: u32,
    disc_seq: u32,
}

impl Session {
    /// Readies a session on `stream` and starts its appender.
    pub(super) async fn start(
        service: Arc<VideoService>,
        slot: IngestSlot,
        stream: StreamMeta,
        timing: Timing,
        acks: mpsc::Sender<Bytes>,
    ) -> Result<Session, VideoError> {
        let logs = stream
            .logs
            .ok_or_else(|| VideoError::Internal(format!("stream {} has no logs", stream.name)))?
            .stream_logs();
        let (start, end) = service.store.bounds(logs)?;
        let last = if end > start {
            let number = FragmentNumber {
                log: logs.media.0,
                offset: end - 1,
            };
            service.store.get(logs, number).await?.map(|(meta, _)| meta)
        } else {
            None
        };
        let (appender, fragments) = mpsc::channel(APPEND_QUEUE);
        let appender_task = tokio::spawn(appender::run(
            service.store.clone(),
            logs,
            fragments,
            acks.clone(),
            // A stream without retention keeps nothing durably: no PERSISTED.
            stream.retention_hours > 0,
        ));
        let splitter = Splitter::new(SplitterConfig {
            max_fragment_bytes: service.config.max_fragment_bytes,
            max_fragment_duration_ms: service.config.max_fragment_duration_ms,
            ..SplitterConfig::default()
        });
        Ok(Session {
            _slot: slot,
            stream,
            logs,
            timing,
            acks,
            appender,
            appender_task,
            failure: None,
            splitter,
            header: None,
            next_offset: end,
            previous: None,
            open: None,
            pending: None,
            last_server_ts_ms: last.map_or(i64::MIN, |meta| meta.server_ts_ms),
            data_rate: service
                .config
                .quotas
                .then(|| DataRate::new(BYTES_PER_SECOND, Instant::now())),
            session_number: last.map_or(1, |meta| meta.session.wrapping_add(1)),
            disc_seq: last.map_or(0, |meta| meta.disc_seq),
            service,
        })
    }

    /// Reads the body to its end (or to an error), acknowledging as it goes.
    pub(super) async fn run(mut self, mut body: MediaBody) {
        let idle = Duration::from_millis(self.service.config.idle_ack_interval_ms.max(1));
        let mut events = Vec::new();
        loop {
            let deadline = self.pending.as_ref().map(|pending| pending.deadline);
            let input = tokio::select! {
                piece = body.next() => Input::Body(piece),
                () = sleep_until(deadline) => Input::TagsWindowOver,
                () = tokio::time::sleep(idle) => Input::Idle,
            };
            let flow = match input {
                Input::Body(Some(Ok(bytes))) => {
                    let split = self.splitter.push(&bytes, &mut events);
                    let flow = self.handle(&mut events, split).await;
                    if let Some(rate) = &mut self.data_rate {
                        // Over the data rate: read the next piece later.
                        tokio::time::sleep(rate.take(bytes.len(), Instant::now())).await;
                    }
                    flow
                }
                Input::Body(Some(Err(err))) => {
                    // The client went away: what arrived complete is kept.
                    tracing::debug!(stream = %self.stream.name, error = %err, "PutMedia body ended early");
                    let _ = self.finish_pending().await;
                    ControlFlow::Break(())
                }
                Input::Body(None) => {
                    let split = self.splitter.finish(&mut events);
                    if self.handle(&mut events, split).await.is_continue() {
                        let _ = self.finish_pending().await;
                    }
                    ControlFlow::Break(())
                }
                Input::TagsWindowOver => self.finish_pending().await,
                Input::Idle => {
                    self.send(Ack::idle()).await;
                    ControlFlow::Continue(())
                }
            };
            if flow.is_break() {
                break;
            }
        }
        let Session {
            acks,
            appender,
            appender_task,
            failure,
            ..
        } = self;
        drop(appender);
        if let Err(err) = appender_task.await {
            tracing::error!(error = %err, "the PutMedia appender failed");
        }
        if let Some(failure) = failure {
            let _ = acks.send(failure.line()).await;
        }
    }

    /// Acts on the events of one slice of the body, then on the splitter's refusal, if any.
    async fn handle(
        &mut self,
        events: &mut Vec<Event>,
        split: Result<(), MkvError>,
    ) -> ControlFlow<()> {
        for event in events.drain(..) {
            self.on_event(event).await?;
        }
        match split {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                tracing::debug!(stream = %self.stream.name, error = %err, "PutMedia refused");
                let about = self.open.map(|open| (open.timecode_ms, open.number));
                self.refuse(err.ack_error(), about).await
            }
        }
    }

    async fn on_event(&mut self, event: Event) -> ControlFlow<()> {
        match event {
            Event::Header(header) => {
                self.finish_pending().await?;
                self.header = Some(header);
                ControlFlow::Continue(())
            }
            Event::ClusterStart { timecode } => {
                self.finish_pending().await?;
                self.begin(timecode).await
            }
            Event::ClusterEnd(cluster) => self.complete(cluster).await,
            Event::Tags(tags) => {
                // Unverified: Tags before the first cluster (ffmpeg writes one) describe no
                // fragment and are not kept.
                if let Some(pending) = &mut self.pending {
                    pending.tags.push(tags);
                }
                ControlFlow::Continue(())
            }
            Event::End => self.finish_pending().await,
        }
    }

    /// A cluster's first bytes: number the fragment and say BUFFERING.
    async fn begin(&mut self, timecode: u64) -> ControlFlow<()> {
        let number = FragmentNumber {
            log: self.logs.media.0,
            offset: self.next_offset,
        };
        let scale = self.timecode_scale();
        let timecode_ms = units_to_ms(timecode, scale);
        if !self.stream_is_active() {
            return self
                .refuse(AckError::StreamNotActive, Some((timecode_ms, number)))
                .await;
        }
        let server_ts_ms = self.service.now_ms().max(self.last_server_ts_ms);
        self.last_server_ts_ms = server_ts_ms;
        self.open = Some(Open {
            number,
            timecode_ms,
            server_ts_ms,
        });
        self.send(Ack::fragment(EventType::Buffering, timecode_ms, number))
            .await;
        ControlFlow::Continue(())
    }

    /// A complete cluster: check it, say RECEIVED, and keep it for its Tags.
    async fn complete(&mut self, cluster: RawCluster) -> ControlFlow<()> {
        let Some(open) = self.open.take() else {
            // The splitter reports every cluster's start before its end.
            return self.refuse(AckError::InternalError, None).await;
        };
        let about = Some((open.timecode_ms, open.number));
        let scale = self.timecode_scale();
        let checked = fragment_times(
            &cluster,
            scale,
            self.timing.timecode_type,
            self.timing.start_ms,
        )
        .and_then(|times| {
            check_order(self.previous.as_ref(), &times)?;
            Ok(times)
        })
        .and_then(|times| Ok((times, self.stored_timecode(cluster.timecode, scale)?)));
        let (times, stored_timecode) = match checked {
            Ok(checked) => checked,
            Err(err) => {
                tracing::debug!(stream = %self.stream.name, error = %err, "fragment refused");
                return self.refuse(err.ack_error(), about).await;
            }
        };
        let discontinuity = match &self.previous {
            None => true,
            Some(previous) => {
                let gap = times.first_block_ms.saturating_sub(previous.last_block_ms);
                gap > DISCONTINUITY_GAP_MS
            }
        };
        let mut flags = 0;
        if cluster.starts_with_key_frame() {
            flags |= FLAG_KEY_FRAME;
        }
        if discontinuity {
            flags |= FLAG_DISCONTINUITY;
            self.disc_seq = self.disc_seq.wrapping_add(1);
        }
        let meta = FragmentMeta {
            flags,
            tracks: self.header.as_ref().map_or(0, |header| {
                u8::try_from(header.tracks_info.len()).unwrap_or(u8::MAX)
            }),
            chunk_bytes: 0,
            media_offset: open.number.offset,
            producer_ts_ms: times.producer_ms,
            server_ts_ms: open.server_ts_ms,
            duration_ms: u32::try_from(times.duration_ms()).unwrap_or(u32::MAX),
            cluster_bytes: u32::try_from(cluster.data.len()).unwrap_or(u32::MAX),
            session: self.session_number,
            disc_seq: self.disc_seq,
            timecode_as_sent: i64::try_from(open.timecode_ms).unwrap_or(i64::MAX),
        };
        self.send(Ack::fragment(
            EventType::Received,
            open.timecode_ms,
            open.number,
        ))
        .await;
        self.previous = Some(times);
        self.next_offset += 1;
        self.pending = Some(Pending {
            append: Append {
                number: open.number,
                timecode_ms: open.timecode_ms,
                meta,
                chunk: Bytes::new(),
            },
            cluster: cluster.rewrite(stored_timecode),
            tags: Vec::new(),
            deadline: Instant::now() + TAGS_WINDOW,
        });
        ControlFlow::Continue(())
    }

    /// Hands the pending fragment, with its Tags, to the appender.
    async fn finish_pending(&mut self) -> ControlFlow<()> {
        let Some(pending) = self.pending.take() else {
            return ControlFlow::Continue(());
        };
        let Some(header) = &self.header else {
            return self.refuse(AckError::InternalError, None).await;
        };
        let chunk = StoredChunk::new(header, pending.cluster, &pending.tags).encode();
        let append = Append {
            chunk,
            ..pending.append
        };
        if self.appender.send(append).await.is_err() {
            // The appender failed (and said so with an ERROR): read no more.
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// The stored cluster's Timecode: the producer time in TimecodeScale units.
    fn stored_timecode(&self, timecode: u64, scale_ns: u64) -> Result<u64, MkvError> {
        match (self.timing.timecode_type, self.timing.start_ms) {
            (TimecodeType::Absolute, _) => Ok(timecode),
            (TimecodeType::Relative, start_ms) => {
                let start_ms = start_ms.unwrap_or(0);
                let start =
                    u128::try_from(start_ms).unwrap_or(0) * 1_000_000 / u128::from(scale_ns.max(1));
                u64::try_from(start)
                    .ok()
                    .and_then(|start| start.checked_add(timecode))
                    .ok_or_else(|| {
                        MkvError::InvalidProducerTimestamp(format!(
                            "start {start_ms} ms plus timecode {timecode} is out of range"
                        ))
                    })
            }
        }
    }

    fn timecode_scale(&self) -> u64 {
        self.header
            .as_ref()
            .map_or(1_000_000, |header| header.timecode_scale_ns)
    }

    /// Whether the stream this session writes is still the same ACTIVE stream.
    fn stream_is_active(&self) -> bool {
        self.service
            .stream(Some(&self.stream.name), None)
            .is_ok_and(|(stream, status)| {
                status == Status::Active && stream.created_ms == self.stream.created_ms
            })
    }

    async fn send(&self, ack: Ack) {
        // A client that stopped reading acknowledgements still gets its fragments stored.
        let _ = self.acks.send(ack.line()).await;
    }

    /// Stops reading; the ERROR goes out once the fragments received before are stored.
    async fn refuse(
        &mut self,
        error: AckError,
        about: Option<(u64, FragmentNumber)>,
    ) -> ControlFlow<()> {
        self.failure = Some(Ack::error(error, about));
        ControlFlow::Break(())
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
