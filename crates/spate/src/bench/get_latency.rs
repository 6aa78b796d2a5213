//! The `get-latency` workload: PutRecord calls whose data starts with the time they were sent
//! (20 decimal digits: microseconds since the run began, on this process's monotonic clock), and
//! one polling consumer per shard (GetShardIterator LATEST before the first put, then
//! GetRecords every `--poll-interval`) that measures each record's put-to-get latency. Producer
//! and consumers share one process, so no clock skew enters the figure. Consumers poll on a
//! fixed schedule (a call starts every interval, as "polled every 10 ms" means), not an interval
//! after each answer, which would stretch the period by the call's round trip and the timer's
//! rounding and count that against the server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use serde::Deserialize;
use tokio::sync::watch;

use super::client::KinesisClient;
use super::records::Keys;
use super::report::{Arrivals, Latency, Tally, latency_histogram, record_latency};
use super::runner::Workload;

/// Digits of the send time at the start of each record's data.
pub const STAMP_DIGITS: usize = 20;
/// How long consumers keep reading after the last put for records still missing.
pub(super) const GRACE: Duration = Duration::from_secs(5);
/// Records per GetRecords call.
const GET_LIMIT: u32 = 10_000;

/// PutRecord of time-stamped records (shared with `fanout-latency`).
#[derive(Debug)]
pub struct StampedPuts {
    /// The workload's name in the report.
    pub name: &'static str,
    /// `"StreamName":"..."` ready to paste.
    pub stream_member: String,
    /// Bytes per record, at least [`STAMP_DIGITS`].
    pub record_size: usize,
    /// The start of the run's clock.
    pub base: Instant,
}

impl Workload for StampedPuts {
    fn name(&self) -> &'static str {
        self.name
    }

    fn operation(&self) -> &'static str {
        "PutRecord"
    }

    fn body(&self, keys: &mut Keys, _records: u64) -> Vec<u8> {
        let data = stamped_data(self.base.elapsed(), self.record_size);
        let mut body = String::with_capacity(data.len() * 2 + 96);
        body.push('{');
        body.push_str(&self.stream_member);
        body.push_str(",\"Data\":\"");
        body.push_str(&STANDARD.encode(data));
        body.push_str("\",\"PartitionKey\":\"");
        keys.push_next(&mut body);
        body.push_str("\"}");
        body.into_bytes()
    }

    fn stored(&self, _response: &[u8], records: u64, _tally: &mut Tally) -> u64 {
        records
    }
}

/// `size` bytes (at least [`STAMP_DIGITS`]) starting with `since_base` in microseconds.
fn stamped_data(since_base: Duration, size: usize) -> Vec<u8> {
    let mut data = format!("{:0width$}", since_base.as_micros(), width = STAMP_DIGITS).into_bytes();
    data.resize(size.max(STAMP_DIGITS), b'.');
    data
}

/// The send time a record's data carries, if it is one of ours.
pub(super) fn read_stamp(data: &[u8]) -> Option<Duration> {
    let digits = std::str::from_utf8(data.get(..STAMP_DIGITS)?).ok()?;
    let micros: u64 = digits.parse().ok()?;
    Some(Duration::from_micros(micros))
}

/// The reading side of a latency run, polling consumers or subscribers: one task per shard,
/// started before the first put, stopped by [`Readers::finish`].
#[derive(Debug)]
pub struct Readers {
    pub(super) tasks: Vec<tokio::task::JoinHandle<Seen>>,
    pub(super) received: Arc<AtomicU64>,
    /// Once the puts are over: how many records were stored, and when to give up waiting.
    pub(super) finish: watch::Sender<Option<(u64, Instant)>>,
}

impl Readers {
    /// Tells the readers that `stored` records were put; they stop once all are read, or
    /// [`GRACE`] later. Returns what they saw.
    pub async fn finish(self, stored: u64) -> anyhow::Result<Arrivals> {
        // An error only means every reader has already ended.
        let _ = self.finish.send(Some((stored, Instant::now() + GRACE)));
        let mut latency_micros = latency_histogram();
        let mut get_errors = BTreeMap::new();
        for task in self.tasks {
            let seen = task.await?;
            latency_micros
                .add(&seen.latency_micros)
                .expect("every histogram has the same bounds");
            for (name, count) in seen.errors {
                *get_errors.entry(name).or_default() += count;
            }
        }
        Ok(Arrivals {
            records_received: self.received.load(Ordering::Relaxed),
            put_to_get_ms: Latency::of(&latency_micros),
            get_errors,
        })
    }
}

/// Polling GetRecords consumers, one per shard.
#[derive(Debug)]
pub struct Consumers;

#[derive(Debug)]
pub(super) struct Seen {
    pub(super) latency_micros: Histogram<u64>,
    pub(super) errors: BTreeMap<String, u64>,
}

impl Consumers {
    /// Opens a LATEST iterator on every shard of the stream and starts polling.
    pub async fn start(
        client: Arc<KinesisClient>,
        stream_member: &str,
        poll_interval: Duration,
        base: Instant,
    ) -> anyhow::Result<Readers> {
        let shards = list_shards(&client, stream_member).await?;
        let received = Arc::new(AtomicU64::new(0));
        let (finish, finished) = watch::channel(None);
        let mut tasks = Vec::with_capacity(shards.len());
        for shard in shards {
            let body = format!(
                "{{{stream_member},\"ShardId\":\"{shard}\",\"ShardIteratorType\":\"LATEST\"}}"
            );
            let answer = client
                .call("GetShardIterator", body.into_bytes())
                .await
                .context("opening a shard iterator")?;
            let iterator: IteratorOutput =
                serde_json::from_slice(&answer).context("reading GetShardIterator's answer")?;
            let poller = Poller {
                client: Arc::clone(&client),
                iterator: iterator.shard_iterator,
                poll_interval,
                base,
                received: Arc::clone(&received),
                finished: finished.clone(),
            };
            tasks.push(tokio::spawn(poller.run()));
        }
        Ok(Readers {
            tasks,
            received,
            finish,
        })
    }
}

#[derive(Deserialize)]
struct IteratorOutput {
    #[serde(rename = "ShardIterator")]
    shard_iterator: String,
}

#[derive(Debug)]
struct Poller {
    client: Arc<KinesisClient>,
    iterator: String,
    poll_interval: Duration,
    base: Instant,
    received: Arc<AtomicU64>,
    finished: watch::Receiver<Option<(u64, Instant)>>,
}

impl Poller {
    async fn run(mut self) -> Seen {
        #[derive(Deserialize)]
        struct Output {
            #[serde(rename = "Records", default)]
            records: Vec<Record>,
            #[serde(rename = "NextShardIterator")]
            next: Option<String>,
        }
        #[derive(Deserialize)]
        struct Record {
            #[serde(rename = "Data")]
            data: String,
        }
        let mut seen = Seen {
            latency_micros: latency_histogram(),
            errors: BTreeMap::new(),
        };
        let mut schedule = tokio::time::interval(self.poll_interval);
        // A call slower than the interval delays the next one instead of bursting to catch up.
        schedule.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            schedule.tick().await;
            let finished = *self.finished.borrow();
            if let Some((stored, give_up)) = finished
                && (self.received.load(Ordering::Relaxed) >= stored || Instant::now() >= give_up)
            {
                break;
            }
            let body = serde_json::json!({"ShardIterator": self.iterator, "Limit": GET_LIMIT});
            let answer = self
                .client
                .call("GetRecords", body.to_string().into_bytes())
                .await;
            let arrived = self.base.elapsed();
            match answer.map(|bytes| serde_json::from_slice::<Output>(&bytes)) {
                Ok(Ok(output)) => {
                    let mut ours = 0;
                    for record in &output.records {
                        let Ok(data) = STANDARD.decode(&record.data) else {
                            continue;
                        };
                        if let Some(sent) = read_stamp(&data) {
                            record_latency(&mut seen.latency_micros, arrived.saturating_sub(sent));
                            ours += 1;
                        }
                    }
                    self.received.fetch_add(ours, Ordering::Relaxed);
                    match output.next {
                        Some(next) => self.iterator = next,
                        None => break, // the shard was closed and read to its end
                    }
                }
                Ok(Err(_)) => *seen.errors.entry("Unreadable".to_owned()).or_default() += 1,
                Err(err) => *seen.errors.entry(err.error_type().to_owned()).or_default() += 1,
            }
        }
        seen
    }
}

/// The ids of every shard of the stream (first page of ListShards: up to 1,000 shards).
pub async fn list_shards(
    client: &KinesisClient,
    stream_member: &str,
) -> anyhow::Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Output {
        #[serde(rename = "Shards")]
        shards: Vec<Shard>,
    }
    #[derive(Deserialize)]
    struct Shard {
        #[serde(rename = "ShardId")]
        shard_id: String,
    }
    let answer = client
        .call("ListShards", format!("{{{stream_member}}}").into_bytes())
        .await
        .context("listing the shards")?;
    let output: Output = serde_json::from_slice(&answer).context("reading ListShards' answer")?;
    Ok(output
        .shards
        .into_iter()
        .map(|shard| shard.shard_id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_time_survives_the_round_trip() {
        let sent = Duration::from_micros(1_234_567);
        let data = stamped_data(sent, 100);
        assert_eq!(data.len(), 100);
        assert_eq!(read_stamp(&data), Some(sent));
        assert_eq!(stamped_data(sent, 5).len(), STAMP_DIGITS);
        assert_eq!(read_stamp(b"not a stamp at all, no"), None);
        assert_eq!(read_stamp(b"short"), None);
    }
}
