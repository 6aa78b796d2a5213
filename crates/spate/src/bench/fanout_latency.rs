//! The `fanout-latency` workload: the time-stamped PutRecord calls of `get-latency`, read back
//! through enhanced fan-out instead of polling. A stream consumer is registered (and waited for
//! until ACTIVE), one SubscribeToShard subscription is opened on every shard (LATEST, before the
//! first put: the server fixes a subscription's position before it answers, so waiting for the
//! `initial-response` event is enough), and each record's latency is the time its
//! `SubscribeToShardEvent` arrived minus the send time its data carries. A subscription that
//! ends (AWS ends them after 5 minutes) is reopened `AFTER_SEQUENCE_NUMBER` the last
//! `ContinuationSequenceNumber`. The consumer is deregistered at the end of the run.
//!
//! Event-stream frames are decoded by `spate_wire::eventstream`, the server's own codec, which
//! checks both CRCs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::{Buf, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;
use spate_wire::eventstream::{self, FrameError};
use tokio::sync::watch;

use super::client::{CallError, KinesisClient, SubscribeProtocol};
use super::get_latency::{Readers, Seen, list_shards, read_stamp};
use super::report::{latency_histogram, record_latency};

/// How long a registered consumer may take to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the consumer's status is asked for meanwhile.
const STATUS_POLL: Duration = Duration::from_millis(100);
/// How long to wait for a subscription's `initial-response`.
const INITIAL_RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause before subscribing again after a failure.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How often a reader waiting for the next event checks whether the run is over.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// Registers a consumer named after this process and the time on `stream_member`'s stream;
/// returns its ARN once it is ACTIVE.
pub async fn register_consumer(
    client: &KinesisClient,
    stream_member: &str,
) -> anyhow::Result<String> {
    #[derive(Deserialize)]
    struct Summary {
        #[serde(rename = "StreamDescriptionSummary")]
        summary: SummaryFields,
    }
    #[derive(Deserialize)]
    struct SummaryFields {
        #[serde(rename = "StreamARN")]
        arn: String,
    }
    #[derive(Deserialize)]
    struct Registered {
        #[serde(rename = "Consumer")]
        consumer: RegisteredFields,
    }
    #[derive(Deserialize)]
    struct RegisteredFields {
        #[serde(rename = "ConsumerARN")]
        arn: String,
    }

    let answer = client
        .call(
            "DescribeStreamSummary",
            format!("{{{stream_member}}}").into_bytes(),
        )
        .await
        .context("describing the stream")?;
    let summary: Summary =
        serde_json::from_slice(&answer).context("reading DescribeStreamSummary's answer")?;
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_millis())
        .unwrap_or(0);
    let name = format!("spate-bench-{}-{millis}", std::process::id());
    let body = json!({"StreamARN": summary.summary.arn, "ConsumerName": name});
    let answer = client
        .call("RegisterStreamConsumer", body.to_string().into_bytes())
        .await
        .context("registering a stream consumer")?;
    let registered: Registered =
        serde_json::from_slice(&answer).context("reading RegisterStreamConsumer's answer")?;
    let arn = registered.consumer.arn;
    if let Err(err) = wait_until_active(client, &arn).await {
        deregister_consumer(client, &arn).await;
        return Err(err);
    }
    Ok(arn)
}

async fn wait_until_active(client: &KinesisClient, arn: &str) -> anyhow::Result<()> {
    #[derive(Deserialize)]
    struct Described {
        #[serde(rename = "ConsumerDescription")]
        description: DescribedFields,
    }
    #[derive(Deserialize)]
    struct DescribedFields {
        #[serde(rename = "ConsumerStatus")]
        status: String,
    }
    let give_up = Instant::now() + ACTIVE_TIMEOUT;
    let body = json!({"ConsumerARN": arn}).to_string();
    loop {
        let answer = client
            .call("DescribeStreamConsumer", body.clone().into_bytes())
            .await
            .context("describing the consumer")?;
        let described: Described =
            serde_json::from_slice(&answer).context("reading DescribeStreamConsumer's answer")?;
        if described.description.status == "ACTIVE" {
            return Ok(());
        }
        if Instant::now() >= give_up {
            bail!("consumer {arn} is not ACTIVE after {ACTIVE_TIMEOUT:?}");
        }
        tokio::time::sleep(STATUS_POLL).await;
    }
}

/// Deregisters the consumer; a failure is only reported, since the run's figures stand.
pub async fn deregister_consumer(client: &KinesisClient, arn: &str) {
    let body = json!({"ConsumerARN": arn}).to_string().into_bytes();
    if let Err(err) = client.call("DeregisterStreamConsumer", body).await {
        eprintln!("spate bench: could not deregister consumer {arn}: {err}");
    }
}

/// SubscribeToShard readers, one per shard.
#[derive(Debug)]
pub struct Subscribers;

impl Subscribers {
    /// Subscribes the consumer to every shard of the stream (LATEST) and starts reading; returns
    /// once every subscription has answered with its `initial-response`.
    pub async fn start(
        client: Arc<KinesisClient>,
        stream_member: &str,
        consumer_arn: &str,
        protocol: SubscribeProtocol,
        base: Instant,
    ) -> anyhow::Result<Readers> {
        let shards = list_shards(&client, stream_member).await?;
        let received = Arc::new(AtomicU64::new(0));
        let (finish, finished) = watch::channel(None);
        let mut tasks = Vec::with_capacity(shards.len());
        for shard in shards {
            let mut subscriber = Subscriber {
                client: Arc::clone(&client),
                consumer_arn: consumer_arn.to_owned(),
                shard,
                protocol,
                base,
                continuation: None,
                received: Arc::clone(&received),
                finished: finished.clone(),
            };
            let first = subscriber
                .open()
                .await
                .with_context(|| format!("subscribing to shard {}", subscriber.shard))?;
            tasks.push(tokio::spawn(subscriber.run(first)));
        }
        Ok(Readers {
            tasks,
            received,
            finish,
        })
    }
}

/// Reads one shard through successive subscriptions.
#[derive(Debug)]
struct Subscriber {
    client: Arc<KinesisClient>,
    consumer_arn: String,
    shard: String,
    protocol: SubscribeProtocol,
    base: Instant,
    /// The last `ContinuationSequenceNumber`; None until the first event.
    continuation: Option<String>,
    received: Arc<AtomicU64>,
    finished: watch::Receiver<Option<(u64, Instant)>>,
}

/// Why a subscription stopped being read.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// Every record was read, or the grace period ran out.
    RunOver,
    /// The shard is closed and was read to its end.
    ShardClosed,
    /// The server ended the subscription (its lifetime is over): subscribe again.
    Lapsed,
    /// An exception event, a broken connection or an unreadable frame, by error type.
    Failed(String),
}

impl Subscriber {
    /// The run is over: every record stored was read, or it is time to give up.
    fn run_over(&self) -> bool {
        let finished = *self.finished.borrow();
        finished.is_some_and(|(stored, give_up)| {
            self.received.load(Ordering::Relaxed) >= stored || Instant::now() >= give_up
        })
    }

    /// Subscribes from LATEST, or after the last continuation, and waits for the
    /// `initial-response` event.
    async fn open(&mut self) -> Result<Subscription, CallError> {
        let position = match &self.continuation {
            Some(sequence) => json!({"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": sequence}),
            None => json!({"Type": "LATEST"}),
        };
        let body = json!({
            "ConsumerARN": self.consumer_arn,
            "ShardId": self.shard,
            "StartingPosition": position,
        });
        let body = self
            .client
            .subscribe(body.to_string().into_bytes(), self.protocol)
            .await?;
        let mut subscription = Subscription {
            body,
            frames: FrameReader::default(),
            arrived: Duration::ZERO,
        };
        let first = tokio::time::timeout(INITIAL_RESPONSE_TIMEOUT, subscription.next(self.base))
            .await
            .map_err(|_| CallError::Timeout)?;
        match first.map_err(CallError::Transport)? {
            Some(Event::InitialResponse) => Ok(subscription),
            Some(Event::Exception(error_type)) => Err(CallError::Service {
                error_type,
                status: 200,
                message: "exception event".to_owned(),
            }),
            Some(other) => Err(CallError::Transport(format!(
                "expected initial-response, got {other:?}"
            ))),
            None => Err(CallError::Transport(
                "the subscription ended before its initial-response".to_owned(),
            )),
        }
    }

    async fn run(mut self, first: Subscription) -> Seen {
        let mut seen = Seen {
            latency_micros: latency_histogram(),
            errors: BTreeMap::new(),
        };
        let mut next = Some(first);
        while !self.run_over() {
            let subscription = match next.take() {
                Some(subscription) => subscription,
                None => match self.open().await {
                    Ok(subscription) => subscription,
                    Err(err) => {
                        *seen.errors.entry(err.error_type().to_owned()).or_default() += 1;
                        tokio::time::sleep(RETRY_AFTER).await;
                        continue;
                    }
                },
            };
            match self.read(subscription, &mut seen).await {
                Ended::RunOver | Ended::ShardClosed => break,
                Ended::Lapsed => {}
                Ended::Failed(error_type) => {
                    *seen.errors.entry(error_type).or_default() += 1;
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }
        }
        seen
    }

    /// Reads events until the subscription ends or the run is over.
    async fn read(&mut self, mut subscription: Subscription, seen: &mut Seen) -> Ended {
        loop {
            if self.run_over() {
                return Ended::RunOver;
            }
            // Waiting is cancel-safe (see `Subscription::next`), so a timeout only lets the
            // loop look at the clock.
            let Ok(event) = tokio::time::timeout(CHECK_EVERY, subscription.next(self.base)).await
            else {
                continue;
            };
            let event = match event {
                Ok(Some(event)) => event,
                Ok(None) => return Ended::Lapsed,
                Err(_) => return Ended::Failed("Transport".to_owned()),
            };
            match event {
                Event::Records {
                    stamps,
                    continuation,
                } => {
                    let arrived = subscription.arrived;
                    for sent in &stamps {
                        record_latency(&mut seen.latency_micros, arrived.saturating_sub(*sent));
                    }
                    self.received
                        .fetch_add(stamps.len() as u64, Ordering::Relaxed);
                    match continuation {
                        Some(sequence) => self.continuation = Some(sequence),
                        None => return Ended::ShardClosed,
                    }
                }
                Event::Exception(error_type) => return Ended::Failed(error_type),
                Event::Unreadable(_) => return Ended::Failed("Unreadable".to_owned()),
                Event::InitialResponse | Event::Other => {}
            }
        }
    }
}

/// An open subscription: the streaming body and the bytes of a frame not yet complete.
#[derive(Debug)]
struct Subscription {
    body: Incoming,
    frames: FrameReader,
    /// When the bytes of the last event returned arrived (since the run's base).
    arrived: Duration,
}

impl Subscription {
    /// The next event, or None at the end of the body. Cancel-safe: the only await point is the
    /// body's next frame, and the buffer changes only once a frame is in hand.
    async fn next(&mut self, base: Instant) -> Result<Option<Event>, String> {
        loop {
            if let Some(event) = self.frames.next_event() {
                return Ok(Some(event));
            }
            let Some(frame) = self.body.frame().await else {
                return Ok(None);
            };
            let frame = frame.map_err(|err| err.to_string())?;
            self.arrived = base.elapsed();
            if let Ok(data) = frame.into_data() {
                self.frames.push(&data);
            }
        }
    }
}

/// One event-stream message, as much of it as the benchmark needs.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    InitialResponse,
    /// A `SubscribeToShardEvent`: the send times of this run's records in it, and its
    /// `ContinuationSequenceNumber` (None once a closed shard has been read to its end).
    Records {
        stamps: Vec<Duration>,
        continuation: Option<String>,
    },
    /// An exception message, by `:exception-type`.
    Exception(String),
    /// A frame or payload that could not be read; reading cannot go on after it.
    Unreadable(String),
    /// Any other event type.
    Other,
}

/// Splits the bytes of a subscription's body into events. Pure: no I/O.
#[derive(Debug, Default)]
struct FrameReader {
    buffer: BytesMut,
}

impl FrameReader {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete event in the buffer, if there is one.
    fn next_event(&mut self) -> Option<Event> {
        let (message, used) = match eventstream::decode(&self.buffer) {
            Ok(decoded) => decoded,
            Err(FrameError::Incomplete) => return None,
            Err(err) => return Some(Event::Unreadable(err.to_string())),
        };
        self.buffer.advance(used);
        if message.string_header(":message-type") == Some("exception") {
            let error_type = message
                .string_header(":exception-type")
                .unwrap_or("UnknownException");
            return Some(Event::Exception(error_type.to_owned()));
        }
        match message.string_header(":event-type") {
            Some("initial-response") => Some(Event::InitialResponse),
            Some("SubscribeToShardEvent") => Some(read_records(&message.payload)),
            _ => Some(Event::Other),
        }
    }
}

/// The send times and continuation of a `SubscribeToShardEvent`'s JSON payload.
fn read_records(payload: &[u8]) -> Event {
    #[derive(Deserialize)]
    struct Payload {
        #[serde(rename = "Records", default)]
        records: Vec<Record>,
        #[serde(rename = "ContinuationSequenceNumber")]
        continuation: Option<String>,
    }
    #[derive(Deserialize)]
    struct Record {
        #[serde(rename = "Data")]
        data: String,
    }
    let payload: Payload = match serde_json::from_slice(payload) {
        Ok(payload) => payload,
        Err(err) => return Event::Unreadable(err.to_string()),
    };
    let mut stamps = Vec::with_capacity(payload.records.len());
    for record in &payload.records {
        let Ok(data) = STANDARD.decode(&record.data) else {
            continue;
        };
        if let Some(sent) = read_stamp(&data) {
            stamps.push(sent);
        }
    }
    Event::Records {
        stamps,
        continuation: payload.continuation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = "application/x-amz-json-1.1";

    fn records_event(stamps_micros: &[u64], continuation: Option<&str>) -> bytes::Bytes {
        let records: Vec<serde_json::Value> = stamps_micros
            .iter()
            .map(|micros| {
                let data = format!("{micros:020}....");
                json!({
                    "Data": STANDARD.encode(data),
                    "PartitionKey": "k",
                    "SequenceNumber": "1",
                    "ApproximateArrivalTimestamp": 1.5,
                })
            })
            .collect();
        let payload = json!({
            "Records": records,
            "ContinuationSequenceNumber": continuation,
            "MillisBehindLatest": 0,
        });
        eventstream::json_event(
            "SubscribeToShardEvent",
            JSON,
            payload.to_string().as_bytes(),
        )
    }

    #[test]
    fn events_are_read_from_bytes_in_any_chunks() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&eventstream::json_event("initial-response", JSON, b"{}"));
        stream.extend_from_slice(&records_event(&[10, 20], Some("49")));
        stream.extend_from_slice(&records_event(&[], Some("49")));
        stream.extend_from_slice(&eventstream::exception(
            "ResourceInUseException",
            JSON,
            b"{\"message\":\"taken over\"}",
        ));
        let expected = vec![
            Event::InitialResponse,
            Event::Records {
                stamps: vec![Duration::from_micros(10), Duration::from_micros(20)],
                continuation: Some("49".to_owned()),
            },
            Event::Records {
                stamps: vec![],
                continuation: Some("49".to_owned()),
            },
            Event::Exception("ResourceInUseException".to_owned()),
        ];
        for chunk_size in [1, 7, 64, stream.len()] {
            let mut reader = FrameReader::default();
            let mut events = Vec::new();
            for chunk in stream.chunks(chunk_size) {
                reader.push(chunk);
                while let Some(event) = reader.next_event() {
                    events.push(event);
                }
            }
            assert_eq!(events, expected, "chunks of {chunk_size}");
            assert!(reader.buffer.is_empty());
        }
    }

    #[test]
    fn a_closed_shard_and_a_corrupt_frame_are_told_apart() {
        let mut reader = FrameReader::default();
        reader.push(&records_event(&[5], None));
        assert_eq!(
            reader.next_event(),
            Some(Event::Records {
                stamps: vec![Duration::from_micros(5)],
                continuation: None,
            })
        );
        let mut corrupt = records_event(&[5], Some("1")).to_vec();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        reader.push(&corrupt);
        assert!(matches!(reader.next_event(), Some(Event::Unreadable(_))));
    }
}
