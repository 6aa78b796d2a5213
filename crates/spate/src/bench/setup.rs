//! Getting the stream ready before a run: `--create-shards N` creates it if it is missing, and
//! the run starts only once the stream is ACTIVE.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::client::{CallError, KinesisClient};
use super::records::json_string;

/// How long a stream may take to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How often its status is asked for meanwhile.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Creates `stream` with `shards` shards unless it exists, then waits until it is ACTIVE.
/// With `shards` None, only checks that the stream exists and waits for ACTIVE.
pub async fn ensure_stream(
    client: &KinesisClient,
    stream: &str,
    shards: Option<u32>,
) -> anyhow::Result<()> {
    let name = json_string(stream);
    let give_up = Instant::now() + ACTIVE_TIMEOUT;
    let mut created = false;
    loop {
        match stream_status(client, &name).await {
            Ok(status) if status == "ACTIVE" => return Ok(()),
            Ok(status) => {
                tracing::debug!(stream, status, "waiting for the stream to become ACTIVE");
            }
            Err(CallError::Service { error_type, .. })
                if error_type == "ResourceNotFoundException" && !created =>
            {
                let Some(shards) = shards else {
                    bail!("stream {stream:?} does not exist (give --create-shards N to create it)");
                };
                let body = format!("{{\"StreamName\":{name},\"ShardCount\":{shards}}}");
                match client.call("CreateStream", body.into_bytes()).await {
                    Ok(_) => {}
                    // Someone else created it in the meantime: wait for it like any other.
                    Err(CallError::Service { error_type, .. })
                        if error_type == "ResourceInUseException" => {}
                    Err(err) => return Err(err).context("creating the stream"),
                }
                created = true;
            }
            Err(err) => return Err(err).context("describing the stream"),
        }
        if Instant::now() >= give_up {
            bail!("stream {stream:?} is not ACTIVE after {ACTIVE_TIMEOUT:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn stream_status(client: &KinesisClient, name: &str) -> Result<String, CallError> {
    #[derive(Deserialize)]
    struct Output {
        #[serde(rename = "StreamDescriptionSummary")]
        summary: Summary,
    }
    #[derive(Deserialize)]
    struct Summary {
        #[serde(rename = "StreamStatus")]
        status: String,
    }
    let body = format!("{{\"StreamName\":{name}}}");
    let response = client
        .call("DescribeStreamSummary", body.into_bytes())
        .await?;
    let output: Output = serde_json::from_slice(&response)
        .map_err(|err| CallError::Transport(format!("unreadable DescribeStreamSummary: {err}")))?;
    Ok(output.summary.status)
}
