//! `spate bench`: a load generator that drives any Kinesis endpoint over the real awsJson wire
//! protocol, SigV4-signed, with named workloads (one file each: `put_records`, `put_record`,
//! `get_latency`).
//! `options` parses the flags, `client` sends signed requests, `setup` readies the stream,
//! `records` makes keys and data, `runner` drives the workers, `report` counts and prints.

mod client;
mod get_latency;
mod options;
mod put_record;
mod put_records;
mod read_back;
mod records;
mod report;
mod runner;
mod setup;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use client::KinesisClient;
use options::PutArgs;
use report::{Report, RunShape};
use runner::{Plan, Workload};

/// The workloads of `spate bench`.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// PutRecords batches of --records-per-call records.
    PutRecords(PutArgs),
    /// One PutRecord call per record.
    PutRecord(PutArgs),
    /// PutRecord calls of time-stamped records, read back by a polling GetRecords consumer on
    /// every shard: put-to-get latency (--records-per-call is ignored).
    GetLatency(GetLatencyArgs),
    /// GetRecords from TRIM_HORIZON on every shard, --connections shards at a time, until each
    /// is caught up or closed and read to its end: read throughput of retained records.
    ReadBack(read_back::ReadBackArgs),
}

/// The options of `get-latency`.
#[derive(Debug, clap::Args)]
pub struct GetLatencyArgs {
    #[command(flatten)]
    put: PutArgs,
    /// How long each shard's consumer waits between GetRecords calls (10ms, 1s).
    #[arg(long, default_value = "10ms", value_parser = options::parse_duration)]
    poll_interval: std::time::Duration,
}

/// Runs one workload to its end; fails (exit code 1) if no record was stored.
pub fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run_async(command))
}

async fn run_async(command: BenchCommand) -> anyhow::Result<ExitCode> {
    let base = std::time::Instant::now();
    let mut poll_interval = None;
    let (args, records_per_call, workload): (PutArgs, u32, Arc<dyn Workload>) = match command {
        BenchCommand::PutRecords(args) => {
            let workload = put_records::PutRecords {
                stream_member: format!("\"StreamName\":{}", records::json_string(&args.stream)),
                data: records::encoded_data(args.record_size),
            };
            let per_call = args.records_per_call;
            (args, per_call, Arc::new(workload))
        }
        BenchCommand::PutRecord(args) => {
            let workload = put_record::PutRecord {
                stream_member: format!("\"StreamName\":{}", records::json_string(&args.stream)),
                data: records::encoded_data(args.record_size),
            };
            (args, 1, Arc::new(workload))
        }
        BenchCommand::ReadBack(args) => return read_back::run_and_print(&args).await,
        BenchCommand::GetLatency(GetLatencyArgs {
            put: mut args,
            poll_interval: interval,
        }) => {
            poll_interval = Some(interval);
            // Every record carries its send time, so none is shorter than the stamp.
            args.record_size = args.record_size.max(get_latency::STAMP_DIGITS);
            let workload = get_latency::StampedPuts {
                stream_member: format!("\"StreamName\":{}", records::json_string(&args.stream)),
                record_size: args.record_size,
                base,
            };
            (args, 1, Arc::new(workload))
        }
    };
    let client = Arc::new(KinesisClient::new(
        &args.endpoint,
        args.connections as usize,
    )?);
    setup::ensure_stream(&client, &args.stream, args.create_shards).await?;

    let plan = Plan {
        connections: args.connections,
        records_per_call: u64::from(records_per_call),
        record_size: args.record_size,
        keys: args.keys,
        stop: args.stop(),
    };
    let consumers = match poll_interval {
        Some(interval) => {
            let stream_member = format!("\"StreamName\":{}", records::json_string(&args.stream));
            let consumers =
                get_latency::Consumers::start(Arc::clone(&client), &stream_member, interval, base)
                    .await?;
            Some(consumers)
        }
        None => None,
    };
    let (tally, elapsed) = runner::run(client, Arc::clone(&workload), &plan).await?;
    let arrivals = match consumers {
        Some(consumers) => Some(consumers.finish(tally.records).await?),
        None => None,
    };
    let shape = RunShape {
        workload: workload.name(),
        stream: args.stream.clone(),
        connections: args.connections,
        records_per_call,
        record_size: args.record_size,
    };
    let mut report = Report::new(shape, &tally, elapsed);
    report.arrivals = arrivals;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.records == 0 {
        eprintln!("spate bench: no record was stored");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
