//! Sampling a Kinesis data stream or a Firehose delivery stream for DiscoverInputSchema:
//! records from every shard (or the delivery stream's records not yet dropped), from the
//! requested starting position, until `MAX_SAMPLES` are read, the source is read to its tip
//! (with at least one record), or the wait runs out.
//!
//! Unverified: how many records and how long AWS samples (its console speaks of a sample of a
//! few hundred records); LAST_STOPPED_POINT, which has no meaning without an application, reads
//! as TRIM_HORIZON.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use tokio::time::Instant;

use super::RuntimeError;
use super::apis::{FirehoseApi, StreamsApi};
use super::reader::list_shards;

/// Most records a discovery samples.
pub const MAX_SAMPLES: usize = 500;
/// The pause between rounds of polls: Data Streams serves 5 GetRecords calls a second per
/// shard when quotas are on.
const POLL_PAUSE: Duration = Duration::from_millis(200);

/// Reads sample records of `stream_arn` from `position` (`NOW`, `TRIM_HORIZON`...).
pub async fn sample(
    api: &Arc<dyn StreamsApi>,
    stream_arn: &str,
    position: &str,
    now_ms: i64,
    wait: Duration,
) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let deadline = Instant::now() + wait;
    let shards = list_shards(api, stream_arn).await?;
    let mut iterators = BTreeMap::new();
    for (shard, _) in &shards {
        let mut request = json!({"StreamARN": stream_arn, "ShardId": shard});
        if position == "NOW" {
            request["ShardIteratorType"] = json!("AT_TIMESTAMP");
            request["Timestamp"] = json!(now_ms as f64 / 1000.0);
        } else {
            request["ShardIteratorType"] = json!("TRIM_HORIZON");
        }
        let answer = api
            .call("GetShardIterator", request)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        if let Some(iterator) = answer["ShardIterator"].as_str() {
            iterators.insert(shard.clone(), iterator.to_owned());
        }
    }
    let mut samples = Vec::new();
    loop {
        let mut at_tip = true;
        for iterator in iterators.values_mut() {
            if samples.len() >= MAX_SAMPLES {
                break;
            }
            let limit = MAX_SAMPLES - samples.len();
            let answer = api
                .call(
                    "GetRecords",
                    json!({"ShardIterator": iterator.clone(), "Limit": limit, "StreamARN": stream_arn}),
                )
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                // The shard's read quota is spent: try it again after the pause.
                Err(err) if err.code == "ProvisionedThroughputExceededException" => {
                    at_tip = false;
                    continue;
                }
                Err(err) => {
                    return Err(RuntimeError::Source(format!(
                        "{}: {}",
                        err.code, err.message
                    )));
                }
            };
            for record in answer["Records"].as_array().into_iter().flatten() {
                if let Some(data) = record["Data"]
                    .as_str()
                    .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                {
                    samples.push(data);
                }
            }
            if answer["MillisBehindLatest"].as_i64().unwrap_or(0) > 0 {
                at_tip = false;
            }
            if let Some(next) = answer["NextShardIterator"].as_str() {
                *iterator = next.to_owned();
            }
        }
        let done = samples.len() >= MAX_SAMPLES || (at_tip && !samples.is_empty());
        if done || Instant::now() >= deadline {
            samples.truncate(MAX_SAMPLES);
            return Ok(samples);
        }
        tokio::time::sleep(POLL_PAUSE).await;
    }
}

/// Reads sample records of delivery stream `name` from `position`: `NOW` takes the records that
/// arrive from `now_ms` on, anything else the oldest the delivery stream still keeps.
pub async fn sample_delivery_stream(
    api: &Arc<dyn FirehoseApi>,
    name: &str,
    position: &str,
    now_ms: i64,
    wait: Duration,
) -> Result<Vec<Vec<u8>>, RuntimeError> {
    let deadline = Instant::now() + wait;
    let from_ms = if position == "NOW" { now_ms } else { i64::MIN };
    let mut samples = Vec::new();
    let mut next = 0;
    loop {
        let answer = api
            .read_log(name, next, MAX_SAMPLES)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        if let Some(last) = answer.records.last() {
            next = last.offset + 1;
        }
        samples.extend(
            answer
                .records
                .into_iter()
                .filter(|record| record.arrival_ms >= from_ms)
                .map(|record| record.data),
        );
        let at_tip = next >= answer.end;
        if samples.len() >= MAX_SAMPLES || (at_tip && !samples.is_empty()) {
            samples.truncate(MAX_SAMPLES);
            return Ok(samples);
        }
        if Instant::now() >= deadline {
            return Ok(samples);
        }
        if at_tip {
            tokio::time::sleep(POLL_PAUSE).await;
        }
    }
}
