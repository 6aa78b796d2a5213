//! Server-side encryption on the data path: sealing records on the way into a shard's log and
//! opening them on the way out (the stored form is in [`crate::envelope`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use bytes::Bytes;
use spate_log::{AppendRecord, StoredRecord};

use crate::envelope;
use crate::error::StreamsError;
use crate::kms::{KeyId, format_key_id, parse_key_id};
use crate::model::StreamMeta;
use crate::routing::Batches;
use crate::service::StreamsService;

/// The `EncryptionType` of an encrypted stream or record.
pub const KMS: &str = "KMS";
/// The `EncryptionType` of a stream without encryption.
pub const NONE: &str = "NONE";

/// Work on more bytes than this runs on a blocking thread: AES-GCM costs about a millisecond per
/// MiB, and the async runtime must not stall for more than about half a millisecond.
const INLINE_BYTES: usize = 256 * 1024;

/// Runs `work` inline when it is small, else off the async runtime.
async fn off_runtime<T: Send + 'static>(
    bytes: usize,
    work: impl FnOnce() -> Result<T, StreamsError> + Send + 'static,
) -> Result<T, StreamsError> {
    if bytes <= INLINE_BYTES {
        return work();
    }
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StreamsError::Internal(format!("encryption task failed: {err}")))?
}

/// Encrypts new records of one stream under its key.
#[derive(Clone)]
pub struct Sealer {
    key_id: KeyId,
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({})", format_key_id(&self.key_id))
    }
}

impl Sealer {
    /// A plain record (partition key, data) in its encrypted stored form.
    pub fn seal(&self, record: &AppendRecord) -> AppendRecord {
        envelope::seal(&self.cipher, &self.key_id, &record.key, &record.value)
    }

    /// Every record of routed batches, encrypted in place of the plain ones (off the async
    /// runtime when they are large).
    pub async fn seal_batches(&self, batches: Batches) -> Result<Batches, StreamsError> {
        let bytes = batches
            .iter()
            .flat_map(|(_, records)| records.iter())
            .map(|record| record.key.len() + record.value.len())
            .sum();
        let sealer = self.clone();
        off_runtime(bytes, move || {
            Ok(batches
                .into_iter()
                .map(|(log, records)| (log, records.iter().map(|r| sealer.seal(r)).collect()))
                .collect())
        })
        .await
    }
}

/// The `EncryptionType` a put answers with.
pub fn encryption_type(sealer: &Option<Sealer>) -> &'static str {
    if sealer.is_some() { KMS } else { NONE }
}

/// A record as a reader sees it.
#[derive(Debug, Clone)]
pub struct OpenedRecord {
    pub offset: u64,
    pub timestamp_ms: i64,
    pub partition_key: String,
    pub data: Bytes,
    pub encrypted: bool,
}

fn unreadable(record: &StoredRecord, err: envelope::EnvelopeError) -> StreamsError {
    StreamsError::Internal(format!(
        "stored record at offset {} is unreadable: {err}",
        record.offset
    ))
}

/// Opens every record with the ciphers of the keys they name (all present in `ciphers`).
fn open_all(
    stored: Vec<StoredRecord>,
    ciphers: &HashMap<KeyId, Arc<Aes256Gcm>>,
) -> Result<Vec<OpenedRecord>, StreamsError> {
    let mut opened = Vec::with_capacity(stored.len());
    for record in stored {
        let key_id = envelope::key_id_of(&record.key, &record.value)
            .map_err(|err| unreadable(&record, err))?;
        let Some(key_id) = key_id else {
            opened.push(OpenedRecord {
                offset: record.offset,
                timestamp_ms: record.timestamp_ms,
                partition_key: String::from_utf8_lossy(&record.key).into_owned(),
                data: record.value,
                encrypted: false,
            });
            continue;
        };
        let cipher = ciphers.get(&key_id).ok_or_else(|| {
            StreamsError::Internal(format!("key {} was not loaded", format_key_id(&key_id)))
        })?;
        let (key, data) =
            envelope::open(cipher, &record.value).map_err(|err| unreadable(&record, err))?;
        opened.push(OpenedRecord {
            offset: record.offset,
            timestamp_ms: record.timestamp_ms,
            partition_key: String::from_utf8_lossy(&key).into_owned(),
            data,
            encrypted: true,
        });
    }
    Ok(opened)
}

impl StreamsService {
    /// The sealer for new records of `stream`, `None` while it is not encrypted.
    pub(crate) async fn sealer(&self, stream: &StreamMeta) -> Result<Option<Sealer>, StreamsError> {
        let Some(encryption) = &stream.settings.encryption else {
            return Ok(None);
        };
        let key_id = parse_key_id(&encryption.key).ok_or_else(|| {
            StreamsError::Internal(format!(
                "stream {} names the unreadable key id {:?}",
                stream.name, encryption.key
            ))
        })?;
        self.keys.check_enabled(&key_id)?;
        let cipher = self.keys.cipher(&key_id).await?;
        Ok(Some(Sealer { key_id, cipher }))
    }

    /// Stored records in readable form, decrypting those that are encrypted.
    pub(crate) async fn open_records(
        &self,
        stored: Vec<StoredRecord>,
    ) -> Result<Vec<OpenedRecord>, StreamsError> {
        let mut ciphers: HashMap<KeyId, Arc<Aes256Gcm>> = HashMap::new();
        let mut encrypted_bytes = 0;
        for record in &stored {
            let key_id = envelope::key_id_of(&record.key, &record.value)
                .map_err(|err| unreadable(record, err))?;
            if let Some(key_id) = key_id {
                encrypted_bytes += record.value.len();
                if let Entry::Vacant(slot) = ciphers.entry(key_id) {
                    self.keys.check_enabled(&key_id)?;
                    slot.insert(self.keys.cipher(&key_id).await?);
                }
            }
        }
        off_runtime(encrypted_bytes, move || open_all(stored, &ciphers)).await
    }
}
