//! Streams and signaling channels as stored in the metadata store (JSON under
//! `video/streams/<name>` and `video/channels/<name>`), and their status over time.
//!
//! A status in transition carries the time it ends (`status_until_ms`): CREATING reads as
//! ACTIVE from then on, and DELETING as gone, so no timer has to run for a status to change;
//! the service's maintenance removes what is gone from the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_log::LogId;

use crate::store::StreamLogs;

/// `Status` of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Creating,
    Active,
    Updating,
    Deleting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Updating => "UPDATING",
            Status::Deleting => "DELETING",
        }
    }
}

/// A status and when its transition ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub status: Status,
    pub status_until_ms: i64,
}

impl Lifecycle {
    pub fn creating(now_ms: i64, delay_ms: u64) -> Lifecycle {
        Lifecycle {
            status: Status::Creating,
            status_until_ms: now_ms.saturating_add(delay_ms.try_into().unwrap_or(i64::MAX)),
        }
    }

    pub fn deleting(now_ms: i64, delay_ms: u64) -> Lifecycle {
        Lifecycle {
            status: Status::Deleting,
            status_until_ms: now_ms.saturating_add(delay_ms.try_into().unwrap_or(i64::MAX)),
        }
    }

    /// The status at `now_ms`; `None` once a deletion has finished.
    pub fn at(&self, now_ms: i64) -> Option<Status> {
        let done = now_ms >= self.status_until_ms;
        match self.status {
            Status::Creating | Status::Updating if done => Some(Status::Active),
            Status::Deleting if done => None,
            status => Some(status),
        }
    }
}

/// `ImageGenerationConfiguration`, stored as given (Spate generates no images in the
/// background, so only a DISABLED one is accepted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageGenerationConfiguration {
    pub status: Option<String>,
    pub image_selector_type: Option<String>,
    pub destination_config: Option<ImageDestination>,
    pub sampling_interval: Option<i64>,
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_config: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width_pixels: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height_pixels: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDestination {
    pub uri: Option<String>,
    pub destination_region: Option<String>,
}

/// `NotificationConfiguration`, stored as given (only DISABLED: Spate sends no notifications).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfiguration {
    pub status: Option<String>,
    pub destination_config: Option<NotificationDestination>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationDestination {
    pub uri: Option<String>,
}

/// A video stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub name: String,
    pub arn: String,
    pub version: String,
    pub lifecycle: Lifecycle,
    pub created_ms: i64,
    pub retention_hours: i64,
    pub device_name: Option<String>,
    pub media_type: Option<String>,
    pub kms_key_id: String,
    pub tags: BTreeMap<String, String>,
    /// `HOT` or `WARM`.
    pub storage_tier: String,
    pub image_generation: Option<ImageGenerationConfiguration>,
    pub notification: Option<NotificationConfiguration>,
    /// The stream's fragment logs in the account's `video-log/` engine; absent only in streams
    /// stored before fragments were kept (the service gives them logs at open).
    #[serde(default)]
    pub logs: Option<LogIds>,
}

/// The ids of a stream's two fragment logs (media and index), never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogIds {
    pub media: u64,
    pub index: u64,
}

impl LogIds {
    pub fn stream_logs(self) -> StreamLogs {
        StreamLogs {
            media: LogId(self.media),
            index: LogId(self.index),
        }
    }
}

/// `MediaStorageConfiguration` of a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MediaStorage {
    #[serde(rename = "StreamARN", skip_serializing_if = "Option::is_none")]
    pub stream_arn: Option<String>,
    pub status: String,
}

/// A signaling channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelMeta {
    pub name: String,
    pub arn: String,
    pub version: String,
    pub lifecycle: Lifecycle,
    pub created_ms: i64,
    /// `SINGLE_MASTER` or `FULL_MESH`.
    pub channel_type: String,
    pub message_ttl_seconds: i64,
    pub tags: BTreeMap<String, String>,
    pub media_storage: Option<MediaStorage>,
}

/// A new `Version`: 22 random alphanumeric characters, as AWS's look.
pub fn new_version() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let random: [u8; 22] = rand::random();
    random
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect()
}

/// Epoch milliseconds as the epoch seconds rest-json timestamps are.
pub fn epoch_seconds(ms: i64) -> f64 {
    // Exact for every millisecond count below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let seconds = ms as f64 / 1000.0;
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_end_at_their_time() {
        let creating = Lifecycle::creating(1_000, 500);
        assert_eq!(creating.at(1_499), Some(Status::Creating));
        assert_eq!(creating.at(1_500), Some(Status::Active));
        let deleting = Lifecycle::deleting(1_500, 500);
        assert_eq!(deleting.at(1_999), Some(Status::Deleting));
        assert_eq!(deleting.at(2_000), None);
    }

    #[test]
    fn versions_are_alphanumeric_and_fresh() {
        let version = new_version();
        assert_eq!(version.len(), 22);
        assert!(version.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(version, new_version());
    }
}
