//! Where reading starts in a shard: the five iterator types GetShardIterator and
//! SubscribeToShard's `StartingPosition` share, resolved to a log offset.

use crate::error::StreamsError;
use crate::model::{ShardMeta, StreamMeta};
use crate::sequence::SequenceNumber;
use crate::service::StreamsService;

/// The log offset reading starts at for `kind` (`AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER`,
/// `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`) with its sequence number or timestamp.
pub(crate) async fn resolve_position(
    service: &StreamsService,
    stream: &StreamMeta,
    shard: &ShardMeta,
    kind: &str,
    sequence: Option<&str>,
    timestamp: Option<i64>,
) -> Result<u64, StreamsError> {
    let mismatch = |with: &str| {
        StreamsError::InvalidArgument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified {kind} and {with}StartingSequenceNumber."
        ))
    };
    let log = shard.log_id();
    let position = match (kind, sequence) {
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => return Err(mismatch("no ")),
        ("TRIM_HORIZON" | "LATEST", Some(_)) => return Err(mismatch("also a ")),
        ("AT_SEQUENCE_NUMBER", Some(text)) => position_of(service, stream, shard, text)?,
        ("AFTER_SEQUENCE_NUMBER", Some(text)) => {
            position_of(service, stream, shard, text)?.saturating_add(1)
        }
        ("TRIM_HORIZON", None) => service.log.bounds(log)?.start,
        ("LATEST", None) => service.log.bounds(log)?.end,
        ("AT_TIMESTAMP", _) => {
            let timestamp = timestamp.ok_or_else(|| {
                StreamsError::InvalidArgument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. \
                     Current request has no timestamp parameter."
                        .to_string(),
                )
            })?;
            service
                .with_log(move |l| l.offset_at_or_after(log, timestamp))
                .await?
        }
        (other, _) => {
            return Err(StreamsError::InvalidArgument(format!(
                "Unknown ShardIteratorType {other}."
            )));
        }
    };
    Ok(position)
}

/// The log position a sequence number names in `shard`, checking that it belongs there.
fn position_of(
    service: &StreamsService,
    stream: &StreamMeta,
    shard: &ShardMeta,
    text: &str,
) -> Result<u64, StreamsError> {
    let account = &service.config.account_id;
    let invalid = || {
        StreamsError::InvalidArgument(format!(
            "StartingSequenceNumber {text} used in GetShardIterator on shard {} in stream {} \
             under account {account} is invalid.",
            shard.shard_id(),
            stream.name
        ))
    };
    let number = SequenceNumber::decode(text).ok_or_else(invalid)?;
    if number.shard_index != shard.index {
        return Err(StreamsError::InvalidArgument(format!(
            "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a \
             shard with {}",
            crate::model::shard_id(number.shard_index),
            shard.shard_id()
        )));
    }
    if number.shard_created_secs != shard.created_secs() {
        return Err(StreamsError::InvalidArgument(format!(
            "StartingSequenceNumber {text} used in GetShardIterator on shard {} in stream {} \
             under account {account} is invalid because it did not come from this stream.",
            shard.shard_id(),
            stream.name
        )));
    }
    Ok(number.position)
}
