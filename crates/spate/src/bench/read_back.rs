//! The `read-back` workload: reads every shard of a stream from its start. Each of
//! `--connections` readers takes the next shard not yet read, opens a TRIM_HORIZON iterator and
//! calls GetRecords (`--limit` records per call) until an answer brings no records and says it is
//! 0 ms behind the latest record, or the shard is closed and read to its end (no
//! `NextShardIterator`). The report counts the records and their data bytes (decoded, partition
//! keys not counted) and the latency of each GetRecords call.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::client::KinesisClient;
use super::get_latency::list_shards;
use super::records::json_string;
use super::report::{ReadBack, Report, RunShape, Tally};

/// A shard is given up after this many failed calls in a row.
const MAX_FAILURES_IN_A_ROW: u32 = 10;
/// The pause after a failed call before it is tried again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// The options of `read-back`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReadBackArgs {
    /// The endpoint to read from, e.g. http://127.0.0.1:4567 (plain HTTP).
    #[arg(long)]
    pub endpoint: String,
    /// The stream to read, every shard of it (the first 1,000 shards ListShards names).
    #[arg(long)]
    pub stream: String,
    /// Shards read at once, each by its own reader on its own keep-alive connection.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub connections: u32,
    /// Records per GetRecords call (1-10000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Print one JSON object with the results on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// Reads the whole stream and prints the report; fails (exit code 1) if no record was read.
pub async fn run_and_print(args: &ReadBackArgs) -> anyhow::Result<ExitCode> {
    let report = run(args).await?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.records == 0 {
        eprintln!("spate bench: no record was read");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the whole stream and returns its report.
async fn run(args: &ReadBackArgs) -> anyhow::Result<Report> {
    let client = Arc::new(KinesisClient::new(
        &args.endpoint,
        args.connections as usize,
    )?);
    let stream_member = format!("\"StreamName\":{}", json_string(&args.stream));
    let shards = Arc::new(list_shards(&client, &stream_member).await?);

    let next_shard = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Counters::default());
    let started = Instant::now();
    let ticker = tokio::spawn(print_progress(Arc::clone(&progress), started));
    let mut readers = Vec::with_capacity(args.connections as usize);
    for _ in 0..args.connections {
        let reader = Reader {
            client: Arc::clone(&client),
            stream_member: stream_member.clone(),
            shards: Arc::clone(&shards),
            next_shard: Arc::clone(&next_shard),
            limit: args.limit,
            progress: Arc::clone(&progress),
        };
        readers.push(tokio::spawn(reader.run()));
    }
    let mut total = Tally::default();
    for reader in readers {
        total.merge(&reader.await?);
    }
    let elapsed = started.elapsed();
    ticker.abort();

    let shape = RunShape {
        workload: "read-back",
        stream: args.stream.clone(),
        connections: args.connections,
        records_per_call: args.limit,
        record_size: 0,
    };
    let mut report = Report::new(shape, &total, elapsed);
    report.read_back = Some(ReadBack {
        shards: shards.len() as u64,
        shards_abandoned: progress.abandoned.load(Ordering::Relaxed),
        bytes: total.bytes,
    });
    Ok(report)
}

/// Shared counters behind the progress line, added to once per call.
#[derive(Debug, Default)]
struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
    shards_done: AtomicU64,
    abandoned: AtomicU64,
}

#[derive(Debug)]
struct Reader {
    client: Arc<KinesisClient>,
    stream_member: String,
    shards: Arc<Vec<String>>,
    next_shard: Arc<AtomicUsize>,
    limit: u32,
    progress: Arc<Counters>,
}

impl Reader {
    /// Reads shards until none is left.
    async fn run(self) -> Tally {
        let mut tally = Tally::default();
        loop {
            let index = self.next_shard.fetch_add(1, Ordering::Relaxed);
            let Some(shard) = self.shards.get(index) else {
                return tally;
            };
            let read_to_end = self.read_shard(shard, &mut tally).await;
            if read_to_end {
                self.progress.shards_done.fetch_add(1, Ordering::Relaxed);
            } else {
                self.progress.abandoned.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(shard, "giving up on a shard after repeated failures");
            }
        }
    }

    /// Reads one shard from its start to its end; false if it was given up.
    async fn read_shard(&self, shard: &str, tally: &mut Tally) -> bool {
        let body = format!(
            "{{{},\"ShardId\":{},\"ShardIteratorType\":\"TRIM_HORIZON\"}}",
            self.stream_member,
            json_string(shard),
        );
        let mut failures = 0;
        let mut iterator = loop {
            match self
                .client
                .call("GetShardIterator", body.clone().into_bytes())
                .await
            {
                Ok(answer) => match serde_json::from_slice::<IteratorOutput>(&answer) {
                    Ok(output) => break output.shard_iterator,
                    Err(_) => tally.failed("Unreadable", 0),
                },
                Err(err) => tally.failed(err.error_type(), 0),
            }
            failures += 1;
            if failures >= MAX_FAILURES_IN_A_ROW {
                return false;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        };

        failures = 0;
        loop {
            let body = format!(
                "{{\"ShardIterator\":{},\"Limit\":{}}}",
                json_string(&iterator),
                self.limit
            );
            let sent = Instant::now();
            let answer = self.client.call("GetRecords", body.into_bytes()).await;
            let latency = sent.elapsed();
            let output = match answer {
                Ok(bytes) => match serde_json::from_slice::<RecordsOutput>(&bytes) {
                    Ok(output) => output,
                    Err(_) => {
                        tally.failed("Unreadable", 0);
                        failures += 1;
                        if failures >= MAX_FAILURES_IN_A_ROW {
                            return false;
                        }
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                },
                Err(err) => {
                    tracing::debug!(error = %err, shard, "GetRecords failed");
                    tally.failed(err.error_type(), 0);
                    failures += 1;
                    if failures >= MAX_FAILURES_IN_A_ROW {
                        return false;
                    }
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            };
            failures = 0;
            let records = output.records.len() as u64;
            let mut bytes = 0;
            for record in &output.records {
                bytes += decoded_len(&record.data);
            }
            tally.read(latency, records, bytes);
            self.progress.records.fetch_add(records, Ordering::Relaxed);
            self.progress.bytes.fetch_add(bytes, Ordering::Relaxed);
            match output.next {
                // The shard is closed and read to its end.
                None => return true,
                Some(_) if records == 0 && output.millis_behind_latest == Some(0) => return true,
                Some(next) => iterator = next,
            }
        }
    }
}

#[derive(Deserialize)]
struct IteratorOutput {
    #[serde(rename = "ShardIterator")]
    shard_iterator: String,
}

#[derive(Deserialize)]
struct RecordsOutput {
    #[serde(rename = "Records", default)]
    records: Vec<RecordOutput>,
    #[serde(rename = "NextShardIterator")]
    next: Option<String>,
    #[serde(rename = "MillisBehindLatest")]
    millis_behind_latest: Option<i64>,
}

#[derive(Deserialize)]
struct RecordOutput {
    /// Base64, counted without decoding.
    #[serde(rename = "Data")]
    data: String,
}

/// How many bytes standard base64 text decodes to (padding taken off).
fn decoded_len(base64: &str) -> u64 {
    let text = base64.as_bytes();
    let padding = text.iter().rev().take(2).filter(|&&c| c == b'=').count();
    (text.len() / 4 * 3).saturating_sub(padding) as u64
}

/// Once a second: records/s and MB/s over the last second, shards read so far.
async fn print_progress(progress: Arc<Counters>, started: Instant) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.tick().await;
    let (mut last_records, mut last_bytes) = (0, 0);
    loop {
        interval.tick().await;
        let records = progress.records.load(Ordering::Relaxed);
        let bytes = progress.bytes.load(Ordering::Relaxed);
        eprintln!(
            "[{:>4.0}s] {:>9} records/s {:>8.2} MB/s | {} shards read",
            started.elapsed().as_secs_f64(),
            records - last_records,
            (bytes - last_bytes) as f64 / 1e6,
            progress.shards_done.load(Ordering::Relaxed),
        );
        (last_records, last_bytes) = (records, bytes);
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn decoded_length_matches_decoding() {
        for size in 0..20 {
            let text = STANDARD.encode(vec![7u8; size]);
            assert_eq!(decoded_len(&text), size as u64, "{text}");
        }
    }

    #[test]
    fn an_answer_without_records_or_next_iterator_reads() {
        let caught_up: RecordsOutput = serde_json::from_str(
            r#"{"Records":[],"NextShardIterator":"abc","MillisBehindLatest":0}"#,
        )
        .expect("parses");
        assert!(caught_up.records.is_empty());
        assert_eq!(caught_up.millis_behind_latest, Some(0));
        let closed: RecordsOutput =
            serde_json::from_str(r#"{"Records":[{"Data":"YWJj","PartitionKey":"k"}]}"#)
                .expect("parses");
        assert!(closed.next.is_none());
        assert_eq!(decoded_len(&closed.records[0].data), 3);
    }
}
