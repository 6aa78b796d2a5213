//! Micro-benchmarks of the pieces of the PutRecords request path, one call of 100 records of
//! 100 bytes (the `spate bench put-records` default) at a time: decoding the body, base64, MD5
//! routing, sequence number formatting and encoding the response. The whole path, with HTTP and
//! the durable log, is measured by `spate bench` and `bench/compare.sh`; bench/RESULTS.md says
//! what each change bought.
//!
//! `cargo bench -p spate-streams --bench put_path`

use std::collections::BTreeMap;
use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use spate_streams::hashing::{partition_key_hash, split_hash_space};
use spate_streams::model::{ShardMeta, StreamMeta, StreamMode, StreamSettings, StreamStatus};
use spate_streams::ops::put_records::{Request, Response, ResultEntry};
use spate_streams::routing;
use spate_streams::sequence::SequenceNumber;
use spate_wire::Codec;

const RECORDS: usize = 100;
const RECORD_BYTES: usize = 100;

/// A PutRecords body as the load tool sends it: 16-hex-digit keys, 100-byte records.
fn put_records_body() -> Vec<u8> {
    let records: Vec<serde_json::Value> = (0..RECORDS)
        .map(|i| {
            serde_json::json!({
                "Data": STANDARD.encode(vec![b'a' + (i % 26) as u8; RECORD_BYTES]),
                "PartitionKey": format!("{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "StreamName": "bench", "Records": records }))
        .expect("a JSON value encodes")
}

fn four_shard_stream() -> StreamMeta {
    let shards = split_hash_space(4)
        .into_iter()
        .zip(0u32..)
        .map(|((hash_start, hash_end), index)| ShardMeta {
            index,
            log: u64::from(index) + 1,
            created_ms: 1_700_000_000_000,
            hash_start,
            hash_end,
            parent: None,
            adjacent_parent: None,
            closed_at_position: None,
            closed_at_ms: None,
        })
        .collect();
    StreamMeta {
        name: "bench".into(),
        created_ms: 1_700_000_000_000,
        status: StreamStatus::Active,
        status_until_ms: None,
        mode: StreamMode::Provisioned,
        retention_hours: 24,
        max_record_size_kib: 1024,
        shards,
        next_shard_index: 4,
        tags: BTreeMap::new(),
        scalings_ms: Vec::new(),
        mode_changes_ms: Vec::new(),
        settings: StreamSettings::default(),
    }
}

fn decode(c: &mut Criterion) {
    let body = put_records_body();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("put_records_json_in_arena", |b| {
        b.iter(|| {
            let request: Request = Codec::Json
                .decode_in_arena(black_box(&body))
                .expect("the body decodes");
            request
        })
    });
    group.bench_function("put_records_json_member_by_member", |b| {
        b.iter(|| {
            let request: Request = Codec::Json
                .decode(black_box(&body))
                .expect("the body decodes");
            request
        })
    });
    let text = STANDARD.encode([7u8; RECORD_BYTES]);
    group.throughput(Throughput::Bytes(RECORD_BYTES as u64));
    group.bench_function("base64_100_bytes", |b| {
        b.iter(|| spate_wire::codec::decode_blob(black_box(&text)).expect("valid base64"))
    });
    group.finish();
}

fn route(c: &mut Criterion) {
    let stream = four_shard_stream();
    let body = put_records_body();
    let mut group = c.benchmark_group("route");
    group.throughput(Throughput::Elements(1));
    group.bench_function("md5_partition_key", |b| {
        b.iter(|| partition_key_hash(black_box(b"9e3779b97f4a7c15")))
    });
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("route_and_batch_100_records", |b| {
        b.iter_batched(
            || {
                let request: Request = Codec::Json
                    .decode_in_arena(&body)
                    .expect("the body decodes");
                request.records.unwrap_or_default()
            },
            |entries| {
                let routed: Vec<_> = entries
                    .into_iter()
                    .map(|entry| {
                        routing::route(
                            &stream,
                            entry.partition_key.unwrap_or_default(),
                            None,
                            entry.data.unwrap_or_default(),
                            || "data".to_string(),
                        )
                        .expect("records fit")
                    })
                    .collect();
                routing::batch(routed)
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let number = SequenceNumber {
        shard_created_secs: 1_700_000_000,
        shard_index: 3,
        position: 123_456_789,
        arrival_secs: 1_700_000_123,
    };
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequence_number_inline", |b| {
        b.iter(|| black_box(&number).text())
    });
    group.bench_function("sequence_number_string", |b| {
        b.iter(|| black_box(&number).encode())
    });
    let shards = four_shard_stream().shards;
    let response = Response {
        failed_record_count: 0,
        records: (0..RECORDS)
            .map(|i| {
                let shard = &shards[i % shards.len()];
                ResultEntry {
                    sequence_number: Some(shard.sequence_text(i as u64, 1_700_000_123_000)),
                    shard_id: Some(shard.shard_id_text()),
                    error_code: None,
                    error_message: None,
                }
            })
            .collect(),
        encryption_type: "NONE",
    };
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("put_records_response_json", |b| {
        b.iter(|| Codec::Json.encode(black_box(&response)).expect("encodes"))
    });
    group.finish();
}

criterion_group!(benches, decode, route, encode);
criterion_main!(benches);
