//! The Video service of one account: its streams and signaling channels.
//!
//! Both are held in memory and written through to the metadata store (`video/streams/<name>`,
//! `video/channels/<name>`) before they are published; control-plane changes are serialized by
//! one async lock. Status transitions are read off the clock ([`crate::model::Lifecycle`]);
//! [`VideoService::maintain`] drops from the store what a finished deletion left, and trims
//! fragments past their stream's retention.
//!
//! Fragments live in the account's own `video-log/` engine ([`FragmentStore`]): each stream
//! owns two logs whose ids come from the counter `video/log-id` and are never reused. At open,
//! logs no stream owns (a deletion or a creation cut short) are deleted, and each stream's
//! index is brought level with its media log.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_log::Clock;
use spate_meta::{MetaStore, Txn};

use crate::config::VideoConfig;
use crate::error::VideoError;
use crate::model::{ChannelMeta, LogIds, Status, StreamMeta};
use crate::store::FragmentStore;

pub(crate) const STREAM_PREFIX: &str = "video/streams/";
pub(crate) const CHANNEL_PREFIX: &str = "video/channels/";
/// The next unused fragment log id.
const NEXT_LOG_KEY: &str = "video/log-id";
/// How long fragments of a stream with no retention (`DataRetentionInHours` 0) stay readable:
/// AWS keeps such media in its hosts' buffers for a few minutes.
/// Unverified: five minutes.
const NO_RETENTION_KEEP_MS: i64 = 5 * 60 * 1000;

/// What an operation knows of the HTTP request besides its body.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// The request's `Host` header, for the data endpoints' base URL.
    pub host: Option<String>,
}

/// Kinesis Video over a metadata store.
pub struct VideoService {
    pub(crate) config: VideoConfig,
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Every stream's fragments.
    pub(crate) store: FragmentStore,
    /// Seals NextTokens and session tokens under the account's `video/token-key`.
    pub(crate) sealer: crate::tokens::TokenSealer,
    pub(crate) streams: Mutex<BTreeMap<String, StreamMeta>>,
    pub(crate) channels: Mutex<BTreeMap<String, ChannelMeta>>,
    /// Serializes control-plane changes.
    pub(crate) control: tokio::sync::Mutex<()>,
    /// Streams with a PutMedia connection open.
    pub(crate) ingest: crate::ingest::IngestSlots,
    /// Recent PutMedia calls per stream (quota).
    pub(crate) put_media_calls: crate::ingest::limits::CallRate,
}

impl std::fmt::Debug for VideoService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

async fn load<T: DeserializeOwned>(
    meta: &dyn MetaStore,
    prefix: &str,
) -> Result<Vec<T>, VideoError> {
    let mut items = Vec::new();
    for (key, entry) in meta.scan_prefix(prefix).await? {
        let item = serde_json::from_slice(&entry.value)
            .map_err(|err| VideoError::Internal(format!("stored {key}: {err}")))?;
        items.push(item);
    }
    Ok(items)
}

impl VideoService {
    /// Loads the account's streams and channels, and readies their fragment logs in `store`.
    pub async fn open(
        config: VideoConfig,
        meta: Arc<dyn MetaStore>,
        clock: Arc<dyn Clock>,
        store: FragmentStore,
    ) -> Result<Arc<VideoService>, VideoError> {
        let mut streams: Vec<StreamMeta> = load(meta.as_ref(), STREAM_PREFIX).await?;
        let channels: Vec<ChannelMeta> = load(meta.as_ref(), CHANNEL_PREFIX).await?;
        for stream in &mut streams {
            if stream.logs.is_none() {
                stream.logs = Some(allocate_logs(meta.as_ref()).await?);
                let key = format!("{STREAM_PREFIX}{}", stream.name);
                meta.commit(Txn::new().put(key, encode(&stream)?)).await?;
            }
        }
        let owned: HashSet<u64> = streams
            .iter()
            .filter_map(|stream| stream.logs)
            .flat_map(|logs| [logs.media, logs.index])
            .collect();
        for id in store.log().logs() {
            if !owned.contains(&id.0) {
                store.delete_log(id)?;
            }
        }
        for logs in streams.iter().filter_map(|stream| stream.logs) {
            store.create(logs.stream_logs())?;
            let rebuilt = store.recover(logs.stream_logs()).await?;
            if rebuilt > 0 {
                tracing::info!(
                    media_log = logs.media,
                    rebuilt,
                    "rebuilt fragment index records after an interrupted append"
                );
            }
        }
        let sealer = crate::token_key::load_sealer(meta.as_ref()).await?;
        Ok(Arc::new(VideoService {
            config,
            meta,
            clock,
            store,
            sealer,
            streams: Mutex::new(streams.into_iter().map(|s| (s.name.clone(), s)).collect()),
            channels: Mutex::new(channels.into_iter().map(|c| (c.name.clone(), c)).collect()),
            control: tokio::sync::Mutex::new(()),
            ingest: crate::ingest::IngestSlots::default(),
            put_media_calls: crate::ingest::limits::CallRate::default(),
        }))
    }

    pub fn config(&self) -> &VideoConfig {
        &self.config
    }

    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Every stream not yet gone, by name, with its status now.
    pub(crate) fn live_streams(&self) -> Vec<(StreamMeta, Status)> {
        let now = self.now_ms();
        let streams = self.streams.lock();
        let mut live = Vec::with_capacity(streams.len());
        for stream in streams.values() {
            if let Some(status) = stream.lifecycle.at(now) {
                live.push((stream.clone(), status));
            }
        }
        live
    }

    /// Every channel not yet gone, by name, with its status now.
    pub(crate) fn live_channels(&self) -> Vec<(ChannelMeta, Status)> {
        let now = self.now_ms();
        let channels = self.channels.lock();
        let mut live = Vec::with_capacity(channels.len());
        for channel in channels.values() {
            if let Some(status) = channel.lifecycle.at(now) {
                live.push((channel.clone(), status));
            }
        }
        live
    }

    /// The stream a request names by `StreamName` or `StreamARN`, with its status now.
    pub(crate) fn stream(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<(StreamMeta, Status), VideoError> {
        let name = match (name, arn) {
            (Some(name), _) => name,
            (None, Some(arn)) => crate::ops::name_in_arn(arn),
            (None, None) => {
                return Err(VideoError::InvalidArgument(
                    "Either StreamName or StreamARN must be specified.".into(),
                ));
            }
        };
        let now = self.now_ms();
        let found = self.streams.lock().get(name).and_then(|stream| {
            let status = stream.lifecycle.at(now)?;
            let arn_matches = arn.is_none_or(|arn| arn == stream.arn);
            arn_matches.then(|| (stream.clone(), status))
        });
        // Unverified: AWS's wording for an unknown stream.
        found.ok_or_else(|| {
            VideoError::ResourceNotFound("The requested stream is not found or not active.".into())
        })
    }

    /// The stream, which must be ACTIVE for a change (`ResourceInUseException` otherwise).
    pub(crate) fn active_stream(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<StreamMeta, VideoError> {
        let (stream, status) = self.stream(name, arn)?;
        if status != Status::Active {
            return Err(VideoError::ResourceInUse(format!(
                "The stream {} is {}; it must be ACTIVE for this operation.",
                stream.name,
                status.as_str()
            )));
        }
        Ok(stream)
    }

    /// The channel a request names by `ChannelName` or `ChannelARN`, with its status now.
    pub(crate) fn channel(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<(ChannelMeta, Status), VideoError> {
        let name = match (name, arn) {
            (Some(name), _) => name,
            (None, Some(arn)) => crate::ops::name_in_arn(arn),
            (None, None) => {
                return Err(VideoError::InvalidArgument(
                    "Either ChannelName or ChannelARN must be specified.".into(),
                ));
            }
        };
        let now = self.now_ms();
        let found = self.channels.lock().get(name).and_then(|channel| {
            let status = channel.lifecycle.at(now)?;
            let arn_matches = arn.is_none_or(|arn| arn == channel.arn);
            arn_matches.then(|| (channel.clone(), status))
        });
        // Unverified: AWS's wording for an unknown channel.
        found.ok_or_else(|| {
            VideoError::ResourceNotFound(
                "The requested signaling channel is not found or not active.".into(),
            )
        })
    }

    /// The channel, which must be ACTIVE for a change.
    pub(crate) fn active_channel(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<ChannelMeta, VideoError> {
        let (channel, status) = self.channel(name, arn)?;
        if status != Status::Active {
            return Err(VideoError::ResourceInUse(format!(
                "The signaling channel {} is {}; it must be ACTIVE for this operation.",
                channel.name,
                status.as_str()
            )));
        }
        Ok(channel)
    }

    /// Changes the ACTIVE stream a request names (by `StreamName` or `StreamARN`) under the
    /// control lock: checks the request's `CurrentVersion` (when it has one), applies `change`,
    /// gives the stream a new version and stores it.
    pub(crate) async fn update_stream(
        &self,
        name: Option<&str>,
        arn: Option<&str>,
        current_version: &Option<String>,
        change: impl FnOnce(&mut StreamMeta) -> Result<(), VideoError>,
    ) -> Result<(), VideoError> {
        let _control = self.control.lock().await;
        let mut stream = self.active_stream(name, arn)?;
        crate::ops::check_version(current_version, &stream.version, "the stream")?;
        change(&mut stream)?;
        stream.version = crate::model::new_version();
        self.store_stream(stream).await
    }

    /// Writes `stream` to the metadata store, then publishes it.
    pub(crate) async fn store_stream(&self, stream: StreamMeta) -> Result<(), VideoError> {
        let key = format!("{STREAM_PREFIX}{}", stream.name);
        self.meta
            .commit(Txn::new().put(key, encode(&stream)?))
            .await?;
        self.streams.lock().insert(stream.name.clone(), stream);
        Ok(())
    }

    /// Writes `channel` to the metadata store, then publishes it.
    pub(crate) async fn store_channel(&self, channel: ChannelMeta) -> Result<(), VideoError> {
        let key = format!("{CHANNEL_PREFIX}{}", channel.name);
        self.meta
            .commit(Txn::new().put(key, encode(&channel)?))
            .await?;
        self.channels.lock().insert(channel.name.clone(), channel);
        Ok(())
    }

    /// Two fragment log ids never used before.
    pub(crate) async fn allocate_logs(&self) -> Result<LogIds, VideoError> {
        allocate_logs(self.meta.as_ref()).await
    }

    /// Drops fragments past their stream's retention (whole sealed segments).
    fn trim_fragments(&self) -> Result<(), VideoError> {
        let now = self.now_ms();
        for (stream, _) in self.live_streams() {
            let Some(logs) = stream.logs else { continue };
            let keep_ms = if stream.retention_hours == 0 {
                NO_RETENTION_KEEP_MS
            } else {
                stream.retention_hours.saturating_mul(3_600_000)
            };
            self.store
                .trim(logs.stream_logs(), now.saturating_sub(keep_ms))?;
        }
        Ok(())
    }

    /// Removes from the store the streams and channels whose deletion has finished, with
    /// their fragments, and trims fragments past retention.
    pub async fn maintain(&self) -> Result<(), VideoError> {
        self.trim_fragments()?;
        // Held throughout: a create may not reuse a name between the scan and the commit.
        let _control = self.control.lock().await;
        let now = self.now_ms();
        let gone_streams: Vec<(String, Option<LogIds>)> = self
            .streams
            .lock()
            .values()
            .filter(|stream| stream.lifecycle.at(now).is_none())
            .map(|stream| (stream.name.clone(), stream.logs))
            .collect();
        let gone_channels: Vec<String> = self
            .channels
            .lock()
            .values()
            .filter(|channel| channel.lifecycle.at(now).is_none())
            .map(|channel| channel.name.clone())
            .collect();
        if gone_streams.is_empty() && gone_channels.is_empty() {
            return Ok(());
        }
        let mut txn = Txn::new();
        for (name, _) in &gone_streams {
            txn = txn.delete(format!("{STREAM_PREFIX}{name}"));
        }
        for name in &gone_channels {
            txn = txn.delete(format!("{CHANNEL_PREFIX}{name}"));
        }
        self.meta.commit(txn).await?;
        // After the commit: a crash in between leaves logs no stream owns, deleted at open.
        for (name, logs) in gone_streams {
            self.streams.lock().remove(&name);
            if let Some(logs) = logs {
                self.store.delete(logs.stream_logs())?;
            }
        }
        let mut channels = self.channels.lock();
        for name in gone_channels {
            channels.remove(&name);
        }
        Ok(())
    }
}

/// Two fragment log ids never used before, from the counter `video/log-id`.
async fn allocate_logs(meta: &dyn MetaStore) -> Result<LogIds, VideoError> {
    let next = match meta.get(NEXT_LOG_KEY).await? {
        Some(entry) => std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| VideoError::Internal("stored next video log id".into()))?,
        None => 1,
    };
    let after = next
        .checked_add(2)
        .ok_or_else(|| VideoError::Internal("video log ids exhausted".into()))?;
    meta.commit(Txn::new().put(NEXT_LOG_KEY, after.to_string()))
        .await?;
    Ok(LogIds {
        media: next,
        index: next + 1,
    })
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, VideoError> {
    serde_json::to_vec(value).map_err(|err| VideoError::Internal(format!("encoding: {err}")))
}
