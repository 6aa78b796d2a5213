//! Micro-benchmark of the engine's append path: one call of 100 records of 100 bytes over four
//! logs (a PutRecords call on a 4-shard stream), through the commit queue, the writer thread's
//! journal encoding and write, and publication to the tails, with the sealer running. With
//! `Durability::Os` the figure is the CPU path; with `Fsync` it is bound by the disk's fdatasync
//! latency, since one call waits for its own group. Concurrent appenders sharing fsyncs are
//! measured by `spate bench`.
//!
//! `cargo bench -p spate-log --bench append`

use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spate_log::{AppendRecord, Durability, Log, LogConfig, LogId, SystemClock};

const RECORDS: usize = 100;
const LOGS: u64 = 4;

fn batches() -> Vec<(LogId, Vec<AppendRecord>)> {
    let value = Bytes::from(vec![b'v'; 100]);
    (1..=LOGS)
        .map(|log| {
            let records = (0..RECORDS / LOGS as usize)
                .map(|i| AppendRecord {
                    key: Bytes::from(format!("{i:016x}")),
                    value: value.clone(),
                })
                .collect();
            (LogId(log), records)
        })
        .collect()
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(RECORDS as u64));
    for (name, durability) in [
        ("100_records_os", Durability::Os),
        ("100_records_fsync", Durability::Fsync),
    ] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = LogConfig {
            durability,
            ..LogConfig::default()
        };
        let log = Log::open(dir.path(), config, Arc::new(SystemClock)).expect("the log opens");
        for id in 1..=LOGS {
            log.create_log(LogId(id)).expect("the log is created");
        }
        group.bench_function(name, |b| {
            b.iter_batched(
                batches,
                |batches| log.append_blocking(batches).expect("appended"),
                criterion::BatchSize::SmallInput,
            )
        });
        log.close().expect("the log closes");
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
