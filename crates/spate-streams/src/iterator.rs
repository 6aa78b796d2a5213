//! Shard iterators: opaque, self-contained, tamper-proof positions that expire after 5 minutes.
//!
//! An iterator names a stream (by name and creation time, so a recreated stream's iterators are
//! refused), a shard, a position in its log and the time it was issued. Those fields are sealed
//! with AES-256-GCM under a server key kept in the metadata store, behind the 8-byte prefix
//! `00 00 00 00 00 00 00 01` that real iterators carry, and written as standard base64:
//! `prefix(8) | nonce(12) | ciphertext | tag(16)`. Plaintext layout (version 1, big-endian):
//! `version u8 | stream_created_ms i64 | shard_index u32 | position u64 | issued_ms i64 | name`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use spate_wire::codec::{decode_blob, encode_blob};

/// How long an iterator stays valid after it is issued.
pub const ITERATOR_LIFETIME_MS: i64 = 300_000;

const PREFIX: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
const NONCE_LEN: usize = 12;
const VERSION: u8 = 1;
const FIXED_LEN: usize = 1 + 8 + 4 + 8 + 8;

/// A position in a shard, as carried by an iterator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IteratorState {
    pub stream_name: String,
    pub stream_created_ms: i64,
    pub shard_index: u32,
    pub position: u64,
    pub issued_ms: i64,
}

/// Seals and opens iterators with the server key.
pub struct IteratorCodec {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for IteratorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IteratorCodec { .. }")
    }
}

impl IteratorCodec {
    pub fn new(key: &[u8; 32]) -> IteratorCodec {
        IteratorCodec {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
        }
    }

    pub fn seal(&self, state: &IteratorState) -> String {
        let mut plain = Vec::with_capacity(FIXED_LEN + state.stream_name.len());
        plain.push(VERSION);
        plain.extend_from_slice(&state.stream_created_ms.to_be_bytes());
        plain.extend_from_slice(&state.shard_index.to_be_bytes());
        plain.extend_from_slice(&state.position.to_be_bytes());
        plain.extend_from_slice(&state.issued_ms.to_be_bytes());
        plain.extend_from_slice(state.stream_name.as_bytes());
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce_bytes), plain.as_slice())
            .expect("AES-GCM encryption of a short buffer cannot fail");
        let mut token = Vec::with_capacity(PREFIX.len() + NONCE_LEN + sealed.len());
        token.extend_from_slice(&PREFIX);
        token.extend_from_slice(&nonce_bytes);
        token.extend_from_slice(&sealed);
        encode_blob(&token)
    }

    /// Opens an iterator; `None` when it was not issued by this server or was altered.
    pub fn open(&self, token: &str) -> Option<IteratorState> {
        let bytes = decode_blob(token).ok()?;
        let rest = bytes.strip_prefix(&PREFIX)?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).ok()?;
        let plain = self.cipher.decrypt(&nonce, sealed).ok()?;
        if plain.len() < FIXED_LEN || plain[0] != VERSION {
            return None;
        }
        let field = |start: usize, len: usize| &plain[start..start + len];
        Some(IteratorState {
            stream_created_ms: i64::from_be_bytes(field(1, 8).try_into().ok()?),
            shard_index: u32::from_be_bytes(field(9, 4).try_into().ok()?),
            position: u64::from_be_bytes(field(13, 8).try_into().ok()?),
            issued_ms: i64::from_be_bytes(field(21, 8).try_into().ok()?),
            stream_name: String::from_utf8(plain[FIXED_LEN..].to_vec()).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> IteratorState {
        IteratorState {
            stream_name: "x".repeat(128),
            stream_created_ms: 1_700_000_000_000,
            shard_index: 3,
            position: 99,
            issued_ms: 1_700_000_100_000,
        }
    }

    #[test]
    fn round_trips_and_fits_the_model_limit() {
        let codec = IteratorCodec::new(&[7; 32]);
        let token = codec.seal(&state());
        assert!(token.len() <= 512, "{}", token.len());
        // Like real iterators: ten 'A's then E-H, the 8-byte 00..01 prefix in base64.
        assert!(token.starts_with("AAAAAAAAAA"), "{token}");
        assert!("EFGH".contains(&token[10..11]), "{token}");
        assert_eq!(codec.open(&token), Some(state()));
    }

    #[test]
    fn refuses_tampered_foreign_and_garbage_tokens() {
        let codec = IteratorCodec::new(&[7; 32]);
        let token = codec.seal(&state());
        let mut bytes = decode_blob(&token).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(codec.open(&encode_blob(&bytes)), None);
        assert_eq!(IteratorCodec::new(&[8; 32]).open(&token), None);
        assert_eq!(codec.open("not an iterator"), None);
        assert_eq!(codec.open(""), None);
    }
}
