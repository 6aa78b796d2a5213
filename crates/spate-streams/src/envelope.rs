//! How a record of a stream is stored in its shard's log, encrypted or not.
//!
//! `spate-log` stores each record as an opaque key and value. Data Streams uses them like this:
//!
//! - **Plain record** (the only form before encryption existed, and still the form while a stream
//!   is not encrypted): key = the partition key's UTF-8 bytes (1-256 characters, so never empty),
//!   value = the data, as is. Nothing is added.
//! - **Encrypted record**: key = empty, value = the envelope below. An empty key cannot be a plain
//!   record (partition keys are at least one character), so the two forms never collide and no
//!   existing record needs rewriting when encryption starts or stops.
//!
//! Envelope, version 1 (all integers big-endian):
//!
//! ```text
//! version u8 = 1 | key id [16] | nonce [12] | AES-256-GCM ciphertext of the payload | tag [16]
//! payload = partition key length u16 | partition key (UTF-8) | data
//! ```
//!
//! The key id is the binary UUID of the [`crate::kms`] key whose material encrypts the record;
//! the nonce is random per record. The associated data authenticated with the ciphertext is the
//! first 17 bytes (version and key id), so neither can be swapped undetected. The partition key is
//! encrypted with the data, as AWS does. Overhead: 47 bytes per record (1 + 16 + 12 + 16 + 2).
//! A new version would take a new first byte; readers refuse versions they do not know.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use bytes::Bytes;
use spate_log::AppendRecord;

use crate::kms::KeyId;

/// The envelope version this code writes.
pub const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 16;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Bytes an encrypted record takes beyond its partition key and data.
pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN + 2;

/// Why a stored record could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope is {0} bytes, shorter than any envelope")]
    Truncated(usize),
    #[error("envelope version {0} is unknown")]
    UnknownVersion(u8),
    #[error("envelope does not authenticate under its key")]
    Unauthentic,
    #[error("envelope payload is malformed")]
    Malformed,
}

/// Whether a stored record is encrypted, and under which key.
pub fn key_id_of(key: &[u8], value: &[u8]) -> Result<Option<KeyId>, EnvelopeError> {
    if !key.is_empty() {
        return Ok(None);
    }
    if value.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(EnvelopeError::Truncated(value.len()));
    }
    if value[0] != VERSION {
        return Err(EnvelopeError::UnknownVersion(value[0]));
    }
    Ok(Some(
        value[1..HEADER_LEN].try_into().expect("slice of 16 bytes"),
    ))
}

/// Encrypts a record with a random nonce.
pub fn seal(cipher: &Aes256Gcm, key_id: &KeyId, partition_key: &[u8], data: &[u8]) -> AppendRecord {
    seal_with_nonce(cipher, key_id, rand::random(), partition_key, data)
}

/// Encrypts a record with the given nonce (fixed only in tests).
pub fn seal_with_nonce(
    cipher: &Aes256Gcm,
    key_id: &KeyId,
    nonce: [u8; NONCE_LEN],
    partition_key: &[u8],
    data: &[u8],
) -> AppendRecord {
    let key_len = u16::try_from(partition_key.len()).expect("partition keys are at most 1 KiB");
    let mut payload = Vec::with_capacity(2 + partition_key.len() + data.len());
    payload.extend_from_slice(&key_len.to_be_bytes());
    payload.extend_from_slice(partition_key);
    payload.extend_from_slice(data);
    let mut value = Vec::with_capacity(OVERHEAD + partition_key.len() + data.len());
    value.push(VERSION);
    value.extend_from_slice(key_id);
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &payload,
                aad: &value[..HEADER_LEN],
            },
        )
        .expect("AES-GCM encrypts any buffer below 64 GiB");
    value.extend_from_slice(&nonce);
    value.extend_from_slice(&sealed);
    AppendRecord {
        key: Bytes::new(),
        value: Bytes::from(value),
    }
}

/// Decrypts an envelope (checked with [`key_id_of`]) into its partition key and data.
pub fn open(cipher: &Aes256Gcm, value: &[u8]) -> Result<(Bytes, Bytes), EnvelopeError> {
    if value.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(EnvelopeError::Truncated(value.len()));
    }
    let (header, rest) = value.split_at(HEADER_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("slice of 12 bytes");
    let payload = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: sealed,
                aad: header,
            },
        )
        .map_err(|_| EnvelopeError::Unauthentic)?;
    if payload.len() < 2 {
        return Err(EnvelopeError::Malformed);
    }
    let key_len = usize::from(u16::from_be_bytes([payload[0], payload[1]]));
    if payload.len() < 2 + key_len {
        return Err(EnvelopeError::Malformed);
    }
    let payload = Bytes::from(payload);
    Ok((payload.slice(2..2 + key_len), payload.slice(2 + key_len..)))
}

#[cfg(test)]
mod tests {
    use aes_gcm::Key;
    use aes_gcm::aead::KeyInit;

    use super::*;

    const KEY_ID: KeyId = [
        0x12, 0x34, 0xab, 0xcd, 0x12, 0xab, 0x34, 0xcd, 0x56, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90,
        0xab,
    ];

    fn cipher(byte: u8) -> Aes256Gcm {
        Aes256Gcm::new(&Key::<Aes256Gcm>::from([byte; 32]))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// Version 1 pinned: material 0x07 * 32, nonce 0x01..0x0c, partition key "pk", data "hello".
    /// If this changes, stored records stop opening: write a new version instead.
    const FIXTURE_V1: &str = concat!(
        "01",                               // version
        "1234abcd12ab34cd56ef1234567890ab", // key id
        "0102030405060708090a0b0c",         // nonce
    );

    #[test]
    fn version_1_fixture_opens_and_is_reproduced() {
        let nonce: [u8; 12] = core::array::from_fn(|i| u8::try_from(i + 1).expect("small"));
        let sealed = seal_with_nonce(&cipher(7), &KEY_ID, nonce, b"pk", b"hello");
        assert!(sealed.key.is_empty());
        let text = hex(&sealed.value);
        assert!(text.starts_with(FIXTURE_V1), "{text}");
        assert_eq!(sealed.value.len(), OVERHEAD + 2 + 5);
        // The ciphertext and tag were pinned once from this implementation.
        assert_eq!(text, EXPECTED_V1, "envelope version 1 changed");
        let (key, data) = open(&cipher(7), &unhex(EXPECTED_V1)).expect("opens");
        assert_eq!((&key[..], &data[..]), (&b"pk"[..], &b"hello"[..]));
    }

    /// Cross-checked independently with Python `cryptography`:
    /// `hdr + nonce + AESGCM(b"\x07" * 32).encrypt(nonce, b"\x00\x02pkhello", hdr)`.
    const EXPECTED_V1: &str = "011234abcd12ab34cd56ef1234567890ab0102030405060708090a0b0cbb7e98f5028f8e408a40851f84196917a81d6c68ba1506447e";

    #[test]
    fn round_trips_and_detects_tampering() {
        let sealed = seal(&cipher(1), &KEY_ID, "ключ".as_bytes(), b"");
        assert_eq!(key_id_of(&sealed.key, &sealed.value), Ok(Some(KEY_ID)));
        let (key, data) = open(&cipher(1), &sealed.value).expect("opens");
        assert_eq!(std::str::from_utf8(&key), Ok("ключ"));
        assert!(data.is_empty());

        assert_eq!(
            open(&cipher(2), &sealed.value),
            Err(EnvelopeError::Unauthentic)
        );
        let mut swapped = sealed.value.to_vec();
        swapped[5] ^= 1; // the key id is authenticated
        assert_eq!(open(&cipher(1), &swapped), Err(EnvelopeError::Unauthentic));
        let mut flipped = sealed.value.to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(open(&cipher(1), &flipped), Err(EnvelopeError::Unauthentic));
    }

    #[test]
    fn plain_records_are_told_apart() {
        assert_eq!(key_id_of(b"pk", b"anything"), Ok(None));
        assert_eq!(
            key_id_of(b"", b"\x01short"),
            Err(EnvelopeError::Truncated(6))
        );
        let mut future = seal(&cipher(1), &KEY_ID, b"pk", b"x").value.to_vec();
        future[0] = 2;
        assert_eq!(
            key_id_of(b"", &future),
            Err(EnvelopeError::UnknownVersion(2))
        );
    }
}
