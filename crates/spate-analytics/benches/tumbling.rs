//! Micro-benchmark of the engine's hot path, the issue's workload: a tumbling window of one
//! second, `COUNT(*)` and `SUM(v)` grouped by a key of 1,000 values, on one core.
//!
//! - `engine`: typed rows already in Arrow batches of 4,096 rows, through the pump (group
//!   lookup by Arrow's row format, accumulators), the windows closing as time passes, and
//!   the output rows projected into the target stream.
//! - `parse_and_engine`: the same from JSON records, through the input schema's parser and
//!   the conversion of rows to batches, as the runtime does it.
//!
//! Criterion reports elements (events) per second. `cargo bench -p spate-analytics --bench tumbling`

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spate_analytics::engine::plan::{InputStream, plan_application};
use spate_analytics::engine::run::Engine;
use spate_analytics::engine::schema::{Column, rows_to_batch};
use spate_analytics::input::{InputParser, Row, SourceSchema, SqlType, Value};

const KEYS: usize = 1_000;
const BATCH: usize = 4_096;
const BATCHES: usize = 64;
/// Events per second of ROWTIME: a window of one second holds this many rows.
const RATE: usize = 200_000;

const CODE: &str = r#"
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (k VARCHAR(16), n BIGINT, total BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM k, COUNT(*), SUM(v)
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY k, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' SECOND);
"#;

fn columns() -> Vec<Column> {
    vec![
        Column::new("K", SqlType::Varchar(16)),
        Column::new("V", SqlType::BigInt),
    ]
}

fn engine() -> Engine {
    let inputs = [InputStream {
        name: "SOURCE_SQL_STREAM_001".into(),
        columns: columns(),
    }];
    let plan = Arc::new(plan_application(CODE, &inputs, &[]).expect("the code plans"));
    Engine::new(plan, &["DESTINATION_SQL_STREAM".into()]).expect("the engine starts")
}

fn rowtime(event: usize) -> i64 {
    1_700_000_000_000 + (event * 1000 / RATE) as i64
}

fn key(event: usize) -> String {
    format!("key-{:04}", event.wrapping_mul(7919) % KEYS)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("tumbling_count_sum_1000_keys");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(10);

    let columns = columns();
    let schema = spate_analytics::engine::schema::stream_schema(&columns);
    let batches: Vec<_> = (0..BATCHES)
        .map(|b| {
            let events = b * BATCH..(b + 1) * BATCH;
            let rowtimes: Vec<i64> = events.clone().map(rowtime).collect();
            let rows: Vec<Row> = events
                .map(|event| {
                    vec![
                        Value::Varchar(key(event)),
                        Value::Integer(event as i64 % 100),
                    ]
                })
                .collect();
            rows_to_batch(&schema, &columns, &rowtimes, &rows).expect("rows fit")
        })
        .collect();
    group.bench_function("engine", |b| {
        b.iter(|| {
            let mut engine = engine();
            for batch in &batches {
                engine.push("SOURCE_SQL_STREAM_001", batch.clone());
                engine.drain("DESTINATION_SQL_STREAM");
            }
            engine.advance(i64::MAX);
            engine.drain("DESTINATION_SQL_STREAM").len()
        })
    });

    let source: SourceSchema = serde_json::from_value(serde_json::json!({
        "RecordFormat": {"RecordFormatType": "JSON",
            "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
        "RecordEncoding": "UTF-8",
        "RecordColumns": [
            {"Name": "K", "SqlType": "VARCHAR(16)", "Mapping": "$.k"},
            {"Name": "V", "SqlType": "BIGINT", "Mapping": "$.v"}
        ]
    }))
    .expect("a valid schema");
    let parser = InputParser::new(&source).expect("the schema is usable");
    let records: Vec<Vec<Vec<u8>>> = (0..BATCHES)
        .map(|b| {
            (b * BATCH..(b + 1) * BATCH)
                .map(|event| {
                    format!(r#"{{"k":"{}","v":{}}}"#, key(event), event % 100).into_bytes()
                })
                .collect()
        })
        .collect();
    group.bench_function("parse_and_engine", |b| {
        b.iter(|| {
            let mut engine = engine();
            for (index, batch) in records.iter().enumerate() {
                let mut rows = Vec::with_capacity(BATCH);
                for record in batch {
                    rows.extend(parser.parse_record(record).into_iter().flatten());
                }
                let rowtimes: Vec<i64> =
                    (index * BATCH..(index + 1) * BATCH).map(rowtime).collect();
                engine
                    .push_rows("SOURCE_SQL_STREAM_001", &rowtimes, &rows)
                    .expect("rows fit");
                engine.drain("DESTINATION_SQL_STREAM");
            }
            engine.advance(i64::MAX);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
