//! Counting and reporting: each worker keeps its own [`Tally`] (an HDR histogram of request
//! latencies and counters, no sharing on the hot path); the tallies are merged at the end into a
//! [`Report`], printed as text or as one JSON object. [`Progress`] holds the few shared counters
//! behind the once-a-second progress line.
//!
//! The JSON object (`--json`) has these fields:
//! - `workload`, `stream`, `connections`, `records_per_call`, `record_size` (bytes): the run;
//! - `elapsed_secs`: from the first request to the end of the last;
//! - `requests`, `requests_failed`: calls made, and calls that got an error (or no answer);
//! - `records`, `records_failed`: records acknowledged, and records not stored (in failed calls,
//!   or failed one by one inside a PutRecords answer);
//! - `records_per_sec`, `mb_per_sec`: acknowledged records and their data bytes (10^6 bytes to
//!   the MB, partition keys not counted) per second;
//! - `latency_ms`: `p50`, `p90`, `p99`, `p999`, `max` of successful requests, in milliseconds;
//! - `errors`: failed calls by AWS error type (`__type`), `Transport` or `Timeout`;
//! - `record_errors`: records failed inside PutRecords answers, by `ErrorCode`;
//! - `get-latency` and `fanout-latency` only: `records_received` (records of this run read
//!   back), `put_to_get_ms` (`p50` ... `max` from a record's send to the GetRecords answer, or
//!   the SubscribeToShardEvent, carrying it) and `get_errors` (failed GetShardIterator and
//!   GetRecords calls, or failed SubscribeToShard calls and exception events, by error type).
//! - `read-back` only (where `records` counts records read, `records_per_call` is the GetRecords
//!   `Limit`, `record_size` is 0 and `latency_ms` is per GetRecords call): `shards` (shards
//!   listed), `shards_abandoned` (given up after repeated failures) and `bytes_read` (data bytes
//!   read, partition keys not counted).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The longest latency the histogram holds, in microseconds (a minute); longer ones are clamped.
const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// What one worker saw.
#[derive(Debug, Clone)]
pub struct Tally {
    latency_micros: Histogram<u64>,
    pub requests: u64,
    pub requests_failed: u64,
    pub records: u64,
    pub records_failed: u64,
    pub bytes: u64,
    pub errors: BTreeMap<String, u64>,
    pub record_errors: BTreeMap<String, u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency_micros: latency_histogram(),
            requests: 0,
            requests_failed: 0,
            records: 0,
            records_failed: 0,
            bytes: 0,
            errors: BTreeMap::new(),
            record_errors: BTreeMap::new(),
        }
    }
}

impl Tally {
    /// A call that was answered with success: `stored` of its records (of `record_size` bytes)
    /// were kept, the others failed with the codes already given to [`Tally::record_error`].
    pub fn succeeded(&mut self, latency: Duration, stored: u64, record_size: usize) {
        record_latency(&mut self.latency_micros, latency);
        self.requests += 1;
        self.records += stored;
        self.bytes += stored * record_size as u64;
    }

    /// A read call that was answered with success, bringing `records` records of `bytes` data
    /// bytes in all.
    pub fn read(&mut self, latency: Duration, records: u64, bytes: u64) {
        record_latency(&mut self.latency_micros, latency);
        self.requests += 1;
        self.records += records;
        self.bytes += bytes;
    }

    /// One record failed inside a successful PutRecords answer.
    pub fn record_error(&mut self, code: &str) {
        self.records_failed += 1;
        *self.record_errors.entry(code.to_owned()).or_default() += 1;
    }

    /// A call failed as a whole, with all its `records`.
    pub fn failed(&mut self, error_type: &str, records: u64) {
        self.requests += 1;
        self.requests_failed += 1;
        self.records_failed += records;
        *self.errors.entry(error_type.to_owned()).or_default() += 1;
    }

    /// Adds another worker's tally to this one.
    pub fn merge(&mut self, other: &Tally) {
        self.latency_micros
            .add(&other.latency_micros)
            .expect("every tally has the same bounds");
        self.requests += other.requests;
        self.requests_failed += other.requests_failed;
        self.records += other.records;
        self.records_failed += other.records_failed;
        self.bytes += other.bytes;
        for (name, count) in &other.errors {
            *self.errors.entry(name.clone()).or_default() += count;
        }
        for (name, count) in &other.record_errors {
            *self.record_errors.entry(name.clone()).or_default() += count;
        }
    }
}

/// What the run was.
#[derive(Debug, Clone, Serialize)]
pub struct RunShape {
    pub workload: &'static str,
    pub stream: String,
    pub connections: u32,
    pub records_per_call: u32,
    pub record_size: usize,
}

/// Request latency percentiles, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// The percentiles of a histogram of microseconds.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let millis = |micros: u64| micros as f64 / 1000.0;
        Self {
            p50: millis(histogram.value_at_quantile(0.50)),
            p90: millis(histogram.value_at_quantile(0.90)),
            p99: millis(histogram.value_at_quantile(0.99)),
            p999: millis(histogram.value_at_quantile(0.999)),
            max: millis(histogram.max()),
        }
    }
}

/// The percentiles as the text reports print them: `p50 1.00  p90 ...  max 9.00`.
impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
            self.p50, self.p90, self.p99, self.p999, self.max
        )
    }
}

/// A histogram of microseconds from 1 µs to a minute, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3).expect("the bounds are valid constants")
}

/// Records `latency` in a histogram made by [`latency_histogram`], clamped to its bounds.
pub fn record_latency(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    histogram.saturating_record(micros.clamp(1, MAX_LATENCY_MICROS));
}

/// What the consumers saw: `get-latency` and `fanout-latency` only.
#[derive(Debug, Clone, Serialize)]
pub struct Arrivals {
    /// Records read back that this run had put.
    pub records_received: u64,
    /// From a record's send to the answer or event that carried it, in milliseconds.
    pub put_to_get_ms: Latency,
    /// Failed reads (GetRecords and iterator requests, or subscriptions) by error type.
    pub get_errors: BTreeMap<String, u64>,
}

/// What a reader of the whole stream saw: `read-back` only.
#[derive(Debug, Clone, Serialize)]
pub struct ReadBack {
    /// Shards listed (and read, unless abandoned).
    pub shards: u64,
    /// Shards given up after repeated failures.
    pub shards_abandoned: u64,
    /// Data bytes read.
    #[serde(rename = "bytes_read")]
    pub bytes: u64,
}

/// The result of a run; its JSON form is documented in the module comment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub shape: RunShape,
    pub elapsed_secs: f64,
    pub requests: u64,
    pub requests_failed: u64,
    pub records: u64,
    pub records_failed: u64,
    pub records_per_sec: f64,
    pub mb_per_sec: f64,
    pub latency_ms: Latency,
    pub errors: BTreeMap<String, u64>,
    pub record_errors: BTreeMap<String, u64>,
    /// The latency workloads only: what the consumers saw.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<Arrivals>,
    /// `read-back` only: what was read.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub read_back: Option<ReadBack>,
}

impl Report {
    pub fn new(shape: RunShape, tally: &Tally, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let latency_ms = Latency::of(&tally.latency_micros);
        Self {
            shape,
            elapsed_secs: elapsed.as_secs_f64(),
            requests: tally.requests,
            requests_failed: tally.requests_failed,
            records: tally.records,
            records_failed: tally.records_failed,
            records_per_sec: tally.records as f64 / seconds,
            mb_per_sec: tally.bytes as f64 / 1e6 / seconds,
            latency_ms,
            errors: tally.errors.clone(),
            record_errors: tally.record_errors.clone(),
            arrivals: None,
            read_back: None,
        }
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        if let Some(read_back) = &self.read_back {
            return self.read_back_text(read_back);
        }
        let shape = &self.shape;
        let mut text = format!(
            "{} on {}: {} connections, {} records per call, {} bytes per record\n\
             {:.1} s: {} requests ({} failed), {} records stored ({} failed)\n\
             throughput: {:.0} records/s, {:.2} MB/s\n\
             latency ms: {}\n",
            shape.workload,
            shape.stream,
            shape.connections,
            shape.records_per_call,
            shape.record_size,
            self.elapsed_secs,
            self.requests,
            self.requests_failed,
            self.records,
            self.records_failed,
            self.records_per_sec,
            self.mb_per_sec,
            self.latency_ms,
        );
        for (name, count) in &self.errors {
            text.push_str(&format!("error {name}: {count} requests\n"));
        }
        for (name, count) in &self.record_errors {
            text.push_str(&format!("record error {name}: {count} records\n"));
        }
        if let Some(arrivals) = &self.arrivals {
            text.push_str(&format!(
                "read back: {} records\nput-to-get ms: {}\n",
                arrivals.records_received, arrivals.put_to_get_ms,
            ));
            for (name, count) in &arrivals.get_errors {
                text.push_str(&format!("get error {name}: {count} requests\n"));
            }
        }
        text
    }
}

impl Report {
    /// The report of a `read-back` run for people.
    fn read_back_text(&self, read_back: &ReadBack) -> String {
        let mut text = format!(
            "read-back on {}: {} shards, {} read at once, GetRecords Limit {}\n\
             {:.1} s: {} requests ({} failed), {} records and {} bytes read, {} shards abandoned\n\
             throughput: {:.0} records/s, {:.2} MB/s\n\
             GetRecords latency ms: {}\n",
            self.shape.stream,
            read_back.shards,
            self.shape.connections,
            self.shape.records_per_call,
            self.elapsed_secs,
            self.requests,
            self.requests_failed,
            self.records,
            read_back.bytes,
            read_back.shards_abandoned,
            self.records_per_sec,
            self.mb_per_sec,
            self.latency_ms,
        );
        for (name, count) in &self.errors {
            text.push_str(&format!("error {name}: {count} requests\n"));
        }
        text
    }
}

/// Counters shared by all workers for the progress line, added to once per request.
#[derive(Debug, Default)]
pub struct Progress {
    records: AtomicU64,
    requests: AtomicU64,
    failures: AtomicU64,
}

impl Progress {
    pub fn add(&self, records: u64, failed: bool) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (records stored, requests, failed requests) so far.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.records.load(Ordering::Relaxed),
            self.requests.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> RunShape {
        RunShape {
            workload: "put-records",
            stream: "s".to_owned(),
            connections: 2,
            records_per_call: 100,
            record_size: 100,
        }
    }

    #[test]
    fn tallies_merge_into_one_report() {
        let mut first = Tally::default();
        first.succeeded(Duration::from_millis(1), 100, 100);
        first.succeeded(Duration::from_millis(3), 98, 100);
        first.record_error("ProvisionedThroughputExceededException");
        first.record_error("ProvisionedThroughputExceededException");
        let mut second = Tally::default();
        second.succeeded(Duration::from_millis(2), 100, 100);
        second.failed("ResourceNotFoundException", 100);

        let mut total = Tally::default();
        total.merge(&first);
        total.merge(&second);
        let report = Report::new(shape(), &total, Duration::from_secs(2));
        assert_eq!(report.requests, 4);
        assert_eq!(report.requests_failed, 1);
        assert_eq!(report.records, 298);
        assert_eq!(report.records_failed, 102);
        assert_eq!(report.records_per_sec, 149.0);
        assert!((report.mb_per_sec - 0.0149).abs() < 1e-12);
        assert_eq!(report.errors["ResourceNotFoundException"], 1);
        assert_eq!(
            report.record_errors["ProvisionedThroughputExceededException"],
            2
        );
        // Three successful latencies, 1, 2 and 3 ms, within the histogram's 3 digits.
        assert!((report.latency_ms.p50 - 2.0).abs() < 0.01);
        assert!((report.latency_ms.max - 3.0).abs() < 0.01);
    }

    #[test]
    fn json_has_the_documented_fields() {
        let mut tally = Tally::default();
        tally.succeeded(Duration::from_micros(1500), 10, 100);
        let json: serde_json::Value =
            serde_json::from_str(&Report::new(shape(), &tally, Duration::from_secs(1)).to_json())
                .expect("the report is JSON");
        let object = json.as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "connections",
                "elapsed_secs",
                "errors",
                "latency_ms",
                "mb_per_sec",
                "record_errors",
                "record_size",
                "records",
                "records_failed",
                "records_per_call",
                "records_per_sec",
                "requests",
                "requests_failed",
                "stream",
                "workload",
            ]
        );
        let latency = json["latency_ms"]
            .as_object()
            .expect("latency is an object");
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(latency[key].is_f64(), "{key}");
        }
        assert_eq!(json["records"], 10);
        assert_eq!(json["errors"], serde_json::json!({}));
    }

    #[test]
    fn a_read_back_report_counts_bytes_read() {
        let mut tally = Tally::default();
        tally.read(Duration::from_millis(2), 3, 1000);
        tally.read(Duration::from_millis(1), 0, 0);
        let mut report = Report::new(shape(), &tally, Duration::from_secs(1));
        report.read_back = Some(ReadBack {
            shards: 2,
            shards_abandoned: 0,
            bytes: tally.bytes,
        });
        let json: serde_json::Value =
            serde_json::from_str(&report.to_json()).expect("the report is JSON");
        assert_eq!(json["records"], 3);
        assert_eq!(json["requests"], 2);
        assert_eq!(json["bytes_read"], 1000);
        assert_eq!(json["shards"], 2);
        assert_eq!(json["shards_abandoned"], 0);
        assert!((report.mb_per_sec - 0.001).abs() < 1e-12);
        assert!(report.to_text().contains("3 records and 1000 bytes read"));
    }
}
