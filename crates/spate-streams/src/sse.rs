//! Server-side encryption on the data path: sealing records on the way into a shard's log and
//! opening them on the way out (the stored form is in [`crate::envelope`]).

use std::collections::HashMap;
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

/// Encrypts new records of one stream under its key.
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

    /// Every record of routed batches, encrypted in place of the plain ones.
    pub fn seal_batches(&self, batches: Batches) -> Batches {
        batches
            .into_iter()
            .map(|(log, records)| (log, records.iter().map(|r| self.seal(r)).collect()))
            .collect()
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
        let mut opened = Vec::with_capacity(stored.len());
        for record in stored {
            let unreadable = |err: envelope::EnvelopeError| {
                StreamsError::Internal(format!(
                    "stored record at offset {} is unreadable: {err}",
                    record.offset
                ))
            };
            let Some(key_id) =
                envelope::key_id_of(&record.key, &record.value).map_err(unreadable)?
            else {
                opened.push(OpenedRecord {
                    offset: record.offset,
                    timestamp_ms: record.timestamp_ms,
                    partition_key: String::from_utf8_lossy(&record.key).into_owned(),
                    data: record.value,
                    encrypted: false,
                });
                continue;
            };
            let cipher = match ciphers.get(&key_id) {
                Some(cipher) => cipher.clone(),
                None => {
                    self.keys.check_enabled(&key_id)?;
                    let cipher = self.keys.cipher(&key_id).await?;
                    ciphers.insert(key_id, cipher.clone());
                    cipher
                }
            };
            let (key, data) = envelope::open(&cipher, &record.value).map_err(unreadable)?;
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
}
