//! `spate video`: a Kinesis Video producer and consumer for Spate (or AWS-compatible endpoints).
//!
//! - `put` ([`put`]): MKV from a file or a pipe, re-clustered into fragments as the producer
//!   SDK makes them ([`recluster`], reading with [`input`]), sent as one chunked PutMedia; the
//!   acknowledgement lines ([`acks`]) are printed as they arrive.
//! - `get` ([`get`]): GetMedia, merged into one playable MKV or raw.
//! - [`client`]: endpoint and credentials options, SigV4 signing, the HTTP/1.1 exchange.

pub mod acks;
pub mod client;
pub mod get;
pub mod input;
pub mod put;
pub mod recluster;
#[cfg(test)]
mod testdata;

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum VideoCommand {
    /// Send MKV (a file, or stdin: `ffmpeg ... -f matroska - | spate video put cam1 -`) as one
    /// PutMedia, printing each acknowledgement line as it arrives.
    Put(put::PutArgs),
    /// GetMedia from a start selector, written as one merged MKV (or raw with --raw).
    Get(get::GetArgs),
}

pub fn run(command: VideoCommand) -> anyhow::Result<ExitCode> {
    match command {
        VideoCommand::Put(args) => put::run(args),
        VideoCommand::Get(args) => get::run(args),
    }
}
