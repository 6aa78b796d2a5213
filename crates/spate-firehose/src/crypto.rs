//! Server-side encryption of the records a delivery stream holds (StartDeliveryStreamEncryption):
//! while it is on, each record is sealed with AES-256-GCM under the stream's data key before it
//! reaches the log, and opened again just before delivery.
//!
//! Stored form: the log record's key is `0x01` followed by the 12-byte nonce, and its value the
//! ciphertext with its 16-byte tag; a record with an empty key was stored in the clear (before
//! encryption was turned on). The data key (32 random bytes) is kept in the metadata store under
//! `firehose/keys/<stream>`, made on first use.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use bytes::Bytes;

use crate::error::FirehoseError;

const SEALED_MARK: u8 = 0x01;
const NONCE_LEN: usize = 12;
pub(crate) const KEY_PREFIX: &str = "firehose/keys/";

/// A stream's data key.
#[derive(Clone)]
pub(crate) struct DataKey(Aes256Gcm);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<DataKey> {
        Aes256Gcm::new_from_slice(bytes).ok().map(DataKey)
    }

    pub(crate) fn generate() -> ([u8; 32], DataKey) {
        let bytes: [u8; 32] = rand::random();
        let key = DataKey::from_bytes(&bytes).expect("32 bytes make an AES-256 key");
        (bytes, key)
    }

    /// The stored (key, value) of a record's data.
    pub(crate) fn seal(&self, data: &[u8]) -> Result<(Bytes, Bytes), FirehoseError> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), data)
            .map_err(|_| FirehoseError::Internal("sealing a record failed".into()))?;
        let mut key = Vec::with_capacity(1 + NONCE_LEN);
        key.push(SEALED_MARK);
        key.extend_from_slice(&nonce);
        Ok((Bytes::from(key), Bytes::from(sealed)))
    }
}

/// Whether a stored record is sealed.
pub(crate) fn is_sealed(stored_key: &[u8]) -> bool {
    stored_key.first() == Some(&SEALED_MARK)
}

/// The data of a sealed record.
pub(crate) fn open(
    key: &DataKey,
    stored_key: &[u8],
    value: &[u8],
) -> Result<Vec<u8>, FirehoseError> {
    let nonce: [u8; NONCE_LEN] = stored_key
        .get(1..1 + NONCE_LEN)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| FirehoseError::Internal("a sealed record's nonce is cut short".into()))?;
    key.0
        .decrypt(&Nonce::from(nonce), value)
        .map_err(|_| FirehoseError::Internal("a sealed record does not open".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_open_with_their_key_only() {
        let (_, key) = DataKey::generate();
        let (stored_key, value) = key.seal(b"hello").expect("seals");
        assert!(is_sealed(&stored_key));
        assert_ne!(&value[..], b"hello");
        assert_eq!(open(&key, &stored_key, &value).expect("opens"), b"hello");
        let (_, other) = DataKey::generate();
        assert!(open(&other, &stored_key, &value).is_err());
        assert!(!is_sealed(b""));
    }
}
