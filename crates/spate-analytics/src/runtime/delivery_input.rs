//! Reading an input that is a Firehose delivery stream (`KinesisFirehoseInput`): the records
//! as they arrive in the delivery stream, whatever it later delivers them to.
//!
//! The position is the offset of the next record (`InputPosition::next_offset`). While it is
//! not yet durable, the records from it on must stay in the delivery stream although they are
//! delivered: the cursor holds them (`FirehoseApi::hold_log`), holding everything before the
//! first read and moving the hold to the checkpointed position after each checkpoint.
//!
//! Unverified: a delivery stream has no shards, so every row goes to the input's first
//! in-application stream (`<prefix>_001`) whatever the InputParallelism.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::RuntimeError;
use super::apis::{DeliveryLogRecord, FirehoseApi};
use super::checkpoint::{InputPosition, StartAt};

/// Records per read of the delivery stream.
const READ_LIMIT: usize = 10_000;

/// Where reading one delivery stream stands, beyond the durable position.
#[derive(Debug)]
pub struct DeliveryCursor {
    pub name: String,
    /// Who holds the delivery stream's records: the application and the input.
    holder: String,
    /// When the delivery stream is read next.
    pub due: Instant,
    /// `NOW` and `AT_TIMESTAMP` starts: records that arrived before this are passed over,
    /// until the first that did not.
    skip_before: Option<i64>,
    /// The offset the hold is at, once it is set.
    held: Option<u64>,
}

/// The records one read gave, and whether more are waiting.
#[derive(Debug, Default)]
pub struct DeliveryRead {
    pub records: Vec<DeliveryLogRecord>,
    pub more: bool,
}

impl DeliveryCursor {
    pub fn new(name: &str, application: &str, input_id: &str, position: &InputPosition) -> Self {
        let skip_before = match (position.next_offset, position.start) {
            (None, StartAt::Timestamp(ms)) => Some(ms),
            _ => None,
        };
        DeliveryCursor {
            name: name.to_owned(),
            holder: holder(application, input_id),
            due: Instant::now(),
            skip_before,
            held: None,
        }
    }

    /// Reads the records after `position` (moving it past them), holding the delivery
    /// stream's records first if it has not yet.
    pub async fn read(
        &mut self,
        api: &Arc<dyn FirehoseApi>,
        position: &mut InputPosition,
    ) -> Result<DeliveryRead, RuntimeError> {
        let from = position.next_offset.unwrap_or(0);
        if self.held.is_none() {
            self.hold(api, from).await?;
        }
        let answer = api
            .read_log(&self.name, from, READ_LIMIT)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        let Some(last) = answer.records.last().map(|record| record.offset) else {
            return Ok(DeliveryRead::default());
        };
        position.next_offset = Some(last + 1);
        let mut records = answer.records;
        if let Some(before) = self.skip_before {
            match records
                .iter()
                .position(|record| record.arrival_ms >= before)
            {
                Some(first) => {
                    records.drain(..first);
                    self.skip_before = None;
                }
                None => records.clear(),
            }
        }
        Ok(DeliveryRead {
            records,
            more: last + 1 < answer.end,
        })
    }

    /// Moves the hold to the durable position, after a checkpoint stored it.
    pub async fn checkpointed(
        &mut self,
        api: &Arc<dyn FirehoseApi>,
        position: &InputPosition,
    ) -> Result<(), RuntimeError> {
        match position.next_offset {
            Some(offset) if self.held != Some(offset) => self.hold(api, offset).await,
            _ => Ok(()),
        }
    }

    async fn hold(&mut self, api: &Arc<dyn FirehoseApi>, offset: u64) -> Result<(), RuntimeError> {
        api.hold_log(&self.name, &self.holder, offset)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        self.held = Some(offset);
        Ok(())
    }

    /// When to read again after a read that found `more` waiting, or not.
    pub fn next_due(&mut self, more: bool, poll_interval: Duration) {
        self.due = if more {
            Instant::now()
        } else {
            Instant::now() + poll_interval
        };
    }
}

/// The holder name of an application's input, for releasing its hold.
pub fn holder(application: &str, input_id: &str) -> String {
    format!("analytics/{application}/{input_id}")
}

/// The metadata a preprocessor sees of a delivery stream's record.
pub fn preprocessor_metadata(record: &DeliveryLogRecord) -> (&'static str, serde_json::Value) {
    (
        "kinesisFirehoseRecordMetadata",
        json!({"approximateArrivalTimestamp": record.arrival_ms}),
    )
}
