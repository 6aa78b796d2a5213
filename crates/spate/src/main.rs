//! The `spate` command: `spate serve` runs the server; `spate bench` drives a Kinesis endpoint
//! with named load workloads (module `bench`); `spate video` puts and gets Kinesis Video media
//! (module `video`).

mod bench;
mod video;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use spate_server::{Overrides, ServerConfig};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: the request path makes many short-lived
/// allocations across threads, where glibc's malloc spent a third of the server's CPU time
/// (bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "spate",
    version,
    about = "A self-hosted streaming data platform that speaks the Amazon Kinesis APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every service on one listener, with embedded storage.
    Serve(ServeArgs),
    /// Drive a Kinesis endpoint (Spate or another) with a load workload and report throughput
    /// and latency.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Kinesis Video: send MKV with PutMedia (`put`), read it back with GetMedia (`get`).
    #[command(subcommand)]
    Video(video::VideoCommand),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4567].
    #[arg(long)]
    listen: Option<String>,
    /// Directory holding streams, records and metadata [default: ./spate-data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// When writes are acknowledged: "fsync" (on disk) or "os" (handed to the OS).
    #[arg(long)]
    durability: Option<String>,
    /// Throughput quotas like AWS's: "on" (default) or "off" for local testing.
    #[arg(long, value_parser = ["on", "off"])]
    quotas: Option<String>,
    /// TLS on the listener: "on" (https; a self-signed certificate unless --tls-cert and
    /// --tls-key are given) or "off" (default). `--tls` alone means "on".
    #[arg(long, value_parser = ["on", "off"], num_args = 0..=1, default_missing_value = "on")]
    tls: Option<String>,
    /// An access key requests may be signed with (with --secret-access-key); the configuration
    /// file's [[auth.credentials]] can hold more. With any credential configured, every request's
    /// signature is verified.
    #[arg(long, env = "SPATE_ACCESS_KEY_ID", requires = "secret_access_key")]
    access_key_id: Option<String>,
    /// The secret of --access-key-id.
    #[arg(
        long,
        env = "SPATE_SECRET_ACCESS_KEY",
        requires = "access_key_id",
        hide_env_values = true
    )]
    secret_access_key: Option<String>,
    /// PEM file of the TLS certificate chain, leaf first (tls.cert, SPATE_TLS_CERT).
    #[arg(long, value_name = "PATH")]
    tls_cert: Option<PathBuf>,
    /// PEM file of the TLS certificate's private key (tls.key, SPATE_TLS_KEY).
    #[arg(long, value_name = "PATH")]
    tls_key: Option<PathBuf>,
    /// The S3-compatible server Firehose delivers `arn:aws:s3:::BUCKET` to, path-style, e.g.
    /// http://127.0.0.1:9000 (firehose.s3.endpoint, SPATE_S3_ENDPOINT). Credentials come from
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the configuration file.
    #[arg(long, value_name = "URL")]
    s3_endpoint: Option<String>,
    /// A TOML configuration file (see crates/spate-server/src/default.toml for every setting).
    #[arg(long, env = "SPATE_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SPATE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve(args).map(|()| ExitCode::SUCCESS),
        Command::Bench(command) => bench::run(command),
        Command::Video(command) => video::run(command),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        durability: args.durability,
        quotas: args.quotas,
        tls: args.tls,
        access_key_id: args.access_key_id,
        secret_access_key: args.secret_access_key,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        s3_endpoint: args.s3_endpoint,
    };
    let config = ServerConfig::load(args.config.as_deref(), std::env::vars(), &overrides)
        .context("loading the configuration")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(spate_server::run(config, shutdown_signal()))?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
