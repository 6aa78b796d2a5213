//! `spate bench`: a load generator that drives any Kinesis endpoint over the real awsJson wire
//! protocol, SigV4-signed, with named workloads (one file each: `put_records`, `put_record`,
//! `get_latency`, `fanout_latency`).
//! `options` parses the flags, `client` sends signed requests, `setup` readies the stream,
//! `records` makes keys and data, `runner` drives the workers, `report` counts and prints.

mod client;
mod fanout_latency;
mod firehose_put;
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

use client::{KinesisClient, SubscribeProtocol};
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
    /// PutRecord calls of time-stamped records at --rate, read back through enhanced fan-out:
    /// a registered consumer subscribed (SubscribeToShard) to every shard. Spate only among the
    /// emulators (kinesalite has no SubscribeToShard).
    FanoutLatency(FanoutLatencyArgs),
    /// Firehose PutRecordBatch calls of --records-per-call (at most 500) JSON log lines of
    /// --record-size bytes to the existing delivery stream --stream.
    FirehosePut(PutArgs),
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
    /// Records per second over all connections; unpaced (as fast as answers come) if not given.
    #[arg(long, value_parser = options::parse_rate)]
    rate: Option<f64>,
}

/// The options of `fanout-latency`.
#[derive(Debug, clap::Args)]
pub struct FanoutLatencyArgs {
    #[command(flatten)]
    put: PutArgs,
    /// Records per second over all connections.
    #[arg(long, default_value = "1000", value_parser = options::parse_rate)]
    rate: f64,
    /// The HTTP version subscriptions use: one HTTP/2 connection for all, or one HTTP/1.1
    /// connection each.
    #[arg(long, value_enum, default_value_t = SubscribeProtocol::Http2)]
    subscribe_protocol: SubscribeProtocol,
}

/// How a run reads its records back, if it does.
#[derive(Debug, Clone, Copy)]
enum Readers {
    None,
    Polling(std::time::Duration),
    Subscribing(SubscribeProtocol),
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
    let mut readers = Readers::None;
    let mut rate = None;
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
        BenchCommand::FirehosePut(args) => {
            let member = format!(
                "\"DeliveryStreamName\":{}",
                records::json_string(&args.stream)
            );
            let workload = firehose_put::FirehosePut::new(member, args.record_size);
            let per_call = args.records_per_call;
            (args, per_call, Arc::new(workload))
        }
        BenchCommand::ReadBack(args) => return read_back::run_and_print(&args).await,
        BenchCommand::GetLatency(GetLatencyArgs {
            put,
            poll_interval,
            rate: paced,
        }) => {
            readers = Readers::Polling(poll_interval);
            rate = paced;
            stamped_puts("get-latency", put, base)
        }
        BenchCommand::FanoutLatency(FanoutLatencyArgs {
            put,
            rate: paced,
            subscribe_protocol,
        }) => {
            readers = Readers::Subscribing(subscribe_protocol);
            rate = Some(paced);
            stamped_puts("fanout-latency", put, base)
        }
    };
    let client = if workload.name() == "firehose-put" {
        Arc::new(KinesisClient::for_service(
            &args.endpoint,
            args.connections as usize,
            "Firehose_20150804",
            "firehose",
        )?)
    } else {
        let client = Arc::new(KinesisClient::new(
            &args.endpoint,
            args.connections as usize,
        )?);
        setup::ensure_stream(&client, &args.stream, args.create_shards).await?;
        client
    };

    let plan = Plan {
        connections: args.connections,
        rate,
        records_per_call: u64::from(records_per_call),
        record_size: args.record_size,
        keys: args.keys,
        stop: args.stop(),
    };
    let stream_member = format!("\"StreamName\":{}", records::json_string(&args.stream));
    let (tally, elapsed, arrivals) = match readers {
        Readers::None => {
            let (tally, elapsed) = runner::run(client, Arc::clone(&workload), &plan).await?;
            (tally, elapsed, None)
        }
        Readers::Polling(interval) => {
            let consumers =
                get_latency::Consumers::start(Arc::clone(&client), &stream_member, interval, base)
                    .await?;
            let (tally, elapsed) = runner::run(client, Arc::clone(&workload), &plan).await?;
            let arrivals = consumers.finish(tally.records).await?;
            (tally, elapsed, Some(arrivals))
        }
        Readers::Subscribing(protocol) => {
            let consumer = fanout_latency::register_consumer(&client, &stream_member).await?;
            let run = async {
                let subscribers = fanout_latency::Subscribers::start(
                    Arc::clone(&client),
                    &stream_member,
                    &consumer,
                    protocol,
                    base,
                )
                .await?;
                let (tally, elapsed) =
                    runner::run(Arc::clone(&client), Arc::clone(&workload), &plan).await?;
                let arrivals = subscribers.finish(tally.records).await?;
                anyhow::Ok((tally, elapsed, Some(arrivals)))
            };
            let outcome = run.await;
            // Deregistered whether the run succeeded or not, so no consumer is left behind.
            fanout_latency::deregister_consumer(&client, &consumer).await;
            outcome?
        }
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

/// The time-stamped PutRecord workload of the latency runs.
fn stamped_puts(
    name: &'static str,
    mut args: PutArgs,
    base: std::time::Instant,
) -> (PutArgs, u32, Arc<dyn Workload>) {
    // Every record carries its send time, so none is shorter than the stamp.
    args.record_size = args.record_size.max(get_latency::STAMP_DIGITS);
    let workload = get_latency::StampedPuts {
        name,
        stream_member: format!("\"StreamName\":{}", records::json_string(&args.stream)),
        record_size: args.record_size,
        base,
    };
    (args, 1, Arc::new(workload))
}
