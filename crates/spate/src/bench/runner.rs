//! Runs a workload: `--connections` tokio tasks, each sending one request at a time on its own
//! keep-alive connection ([`Connection`]), until a record count is used up or a duration has passed; a
//! ticker prints progress on stderr once a second. With a rate, each worker sends on a schedule
//! instead of as soon as its previous call was answered. Each worker keeps its own [`Tally`];
//! they are merged once all have finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::client::{Connection, KinesisClient};
use super::options::{KeyMode, Stop};
use super::records::Keys;
use super::report::{Progress, Tally};

/// One kind of request a run repeats.
pub trait Workload: Send + Sync + std::fmt::Debug + 'static {
    /// The name in the report (`put-records`).
    fn name(&self) -> &'static str;
    /// The Kinesis operation called (`PutRecords`).
    fn operation(&self) -> &'static str;
    /// The JSON body of a request carrying `records` records.
    fn body(&self, keys: &mut Keys, records: u64) -> Vec<u8>;
    /// How many of `records` a successful answer stored; failures inside it go to `tally`.
    fn stored(&self, response: &[u8], records: u64, tally: &mut Tally) -> u64;
}

/// How a run is driven.
#[derive(Debug, Clone)]
pub struct Plan {
    pub connections: u32,
    /// Records per second over all workers, or None to send as fast as answers come back.
    pub rate: Option<f64>,
    pub records_per_call: u64,
    pub record_size: usize,
    pub keys: KeyMode,
    pub stop: Stop,
}

/// Runs `workload` as `plan` says; returns the merged tally and the time the run took.
pub async fn run(
    client: Arc<KinesisClient>,
    workload: Arc<dyn Workload>,
    plan: &Plan,
) -> anyhow::Result<(Tally, Duration)> {
    let progress = Arc::new(Progress::default());
    let remaining = Arc::new(AtomicU64::new(match plan.stop {
        Stop::Count(count) => count,
        Stop::After(_) => u64::MAX,
    }));
    let started = Instant::now();
    let deadline = match plan.stop {
        Stop::After(duration) => Some(started + duration),
        Stop::Count(_) => None,
    };
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos() as u64)
        .unwrap_or(0);

    let ticker = tokio::spawn(print_progress(
        Arc::clone(&progress),
        started,
        plan.record_size,
    ));
    let mut workers = Vec::with_capacity(plan.connections as usize);
    // Each worker sends a call every `period`, the workers' schedules spread evenly over it.
    let period = plan.rate.map(|rate| {
        Duration::from_secs_f64(
            f64::from(plan.connections) * plan.records_per_call as f64 / rate.max(1e-6),
        )
    });
    for index in 0..plan.connections {
        let pace = period.map(|period| {
            let offset = period.mul_f64(f64::from(index) / f64::from(plan.connections));
            tokio::time::interval_at((started + offset).into(), period)
        });
        let worker = Worker {
            connection: Connection::new(Arc::clone(&client)),
            workload: Arc::clone(&workload),
            progress: Arc::clone(&progress),
            remaining: Arc::clone(&remaining),
            deadline,
            pace,
            records_per_call: plan.records_per_call,
            record_size: plan.record_size,
            keys: Keys::new(
                plan.keys,
                seed ^ u64::from(index).wrapping_mul(0xA24B_AED4_963E_E407),
            ),
        };
        workers.push(tokio::spawn(worker.run()));
    }
    let mut total = Tally::default();
    for worker in workers {
        total.merge(&worker.await?);
    }
    let elapsed = started.elapsed();
    ticker.abort();
    Ok((total, elapsed))
}

#[derive(Debug)]
struct Worker {
    connection: Connection,
    workload: Arc<dyn Workload>,
    progress: Arc<Progress>,
    remaining: Arc<AtomicU64>,
    deadline: Option<Instant>,
    /// With a `--rate`: when to send the next call. A worker that falls behind catches up (the
    /// interval's default burst behaviour), so the offered rate holds whatever the latency.
    pace: Option<tokio::time::Interval>,
    records_per_call: u64,
    record_size: usize,
    keys: Keys,
}

impl Worker {
    async fn run(mut self) -> Tally {
        let mut tally = Tally::default();
        loop {
            if let Some(pace) = &mut self.pace {
                pace.tick().await;
            }
            if self
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                break;
            }
            let records = claim(&self.remaining, self.records_per_call);
            if records == 0 {
                break;
            }
            let body = self.workload.body(&mut self.keys, records);
            let sent = Instant::now();
            match self.connection.call(self.workload.operation(), body).await {
                Ok(response) => {
                    let latency = sent.elapsed();
                    let stored = self.workload.stored(&response, records, &mut tally);
                    tally.succeeded(latency, stored, self.record_size);
                    self.progress.add(stored, false);
                }
                Err(err) => {
                    tracing::debug!(error = %err, "request failed");
                    tally.failed(err.error_type(), records);
                    self.progress.add(0, true);
                }
            }
        }
        tally
    }
}

/// Takes up to `want` records from the shared budget; 0 when it is used up.
fn claim(remaining: &AtomicU64, want: u64) -> u64 {
    let mut current = remaining.load(Ordering::Relaxed);
    loop {
        if current == 0 {
            return 0;
        }
        let take = current.min(want);
        match remaining.compare_exchange_weak(
            current,
            current - take,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return take,
            Err(actual) => current = actual,
        }
    }
}

/// Once a second: records/s and MB/s over the last second, requests and failures so far.
async fn print_progress(progress: Arc<Progress>, started: Instant, record_size: usize) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.tick().await;
    let mut last_records = 0;
    loop {
        interval.tick().await;
        let (records, requests, failures) = progress.snapshot();
        let per_second = records - last_records;
        last_records = records;
        eprintln!(
            "[{:>4.0}s] {:>9} records/s {:>8.2} MB/s | {} requests, {} failed",
            started.elapsed().as_secs_f64(),
            per_second,
            (per_second * record_size as u64) as f64 / 1e6,
            requests,
            failures,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_use_up_the_budget_exactly() {
        let remaining = AtomicU64::new(250);
        assert_eq!(claim(&remaining, 100), 100);
        assert_eq!(claim(&remaining, 100), 100);
        assert_eq!(claim(&remaining, 100), 50);
        assert_eq!(claim(&remaining, 100), 0);
    }
}
