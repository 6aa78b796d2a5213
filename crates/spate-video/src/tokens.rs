//! Sealed tokens: `NextToken`s of fragment listings and the HLS/DASH `SessionToken` (plan §3).
//!
//! A token is AES-256-GCM over a small versioned plaintext, under the account's
//! `video/token-key` (32 random bytes, kept by the service):
//! `nonce(12) | ciphertext | tag(16)`, where the plaintext is `version u8 = 1 | kind u8 | body`
//! and the kind is also the associated data, so a token of one kind never opens as another.
//! NextTokens are standard base64 (the model's `[a-zA-Z0-9+/]+={0,2}`); session tokens go in
//! URLs, so URL-safe base64 without padding. The body's layout belongs to its kind: this
//! module defines the NextToken's ([`PageToken`]); the session token's is the playback
//! module's, sealed with [`TokenSealer::seal`].

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
/// The model's limit on NextToken length; tokens longer than this are refused unread.
pub const MAX_TOKEN_LEN: usize = 4096;

/// What a token is for; part of the sealed data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A page cursor (ListFragments, GetImages): standard base64.
    Page = 1,
    /// An HLS/DASH session: URL-safe base64 without padding.
    Session = 2,
}

impl TokenKind {
    fn engine(self) -> &'static base64::engine::GeneralPurpose {
        match self {
            TokenKind::Page => &STANDARD,
            TokenKind::Session => &URL_SAFE_NO_PAD,
        }
    }
}

/// Why a token does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64, too short or too long, or an unknown version.
    #[error("the token is malformed")]
    Malformed,
    /// Not sealed by this key, altered, or of another kind.
    #[error("the token is not valid")]
    Invalid,
    /// Older than its kind allows.
    #[error("the token has expired")]
    Expired,
}

/// Seals and opens tokens with one key.
pub struct TokenSealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for TokenSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSealer { .. }")
    }
}

impl TokenSealer {
    /// A sealer under `key` (the account's `video/token-key`).
    pub fn new(key: &[u8; 32]) -> TokenSealer {
        TokenSealer {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key)),
        }
    }

    /// Seals `body` as a token of `kind`.
    pub fn seal(&self, kind: TokenKind, body: &[u8]) -> String {
        let mut plain = Vec::with_capacity(2 + body.len());
        plain.push(VERSION);
        plain.push(kind as u8);
        plain.extend_from_slice(body);
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = [kind as u8];
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of a short buffer cannot fail");
        let mut token = Vec::with_capacity(NONCE_LEN + sealed.len());
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        kind.engine().encode(token)
    }

    /// Opens a token of `kind` and returns its body.
    pub fn open(&self, kind: TokenKind, token: &str) -> Result<Vec<u8>, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let bytes = kind
            .engine()
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(TokenError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| TokenError::Malformed)?;
        let aad = [kind as u8];
        let plain = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| TokenError::Invalid)?;
        match plain.as_slice() {
            [VERSION, sealed_kind, body @ ..] if *sealed_kind == kind as u8 => Ok(body.to_vec()),
            [VERSION, ..] => Err(TokenError::Invalid),
            _ => Err(TokenError::Malformed),
        }
    }
}

/// A NextToken's contents: where the next page starts, for which stream and request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageToken {
    /// The stream's creation time: a recreated stream refuses the old stream's tokens.
    pub stream_created_ms: i64,
    /// Where the next page starts (for fragments: the last media offset returned).
    pub cursor: u64,
    /// [`request_digest`] of the request's other members: a token is only good for the
    /// request that produced it.
    pub request_digest: u32,
    /// When the token was issued, epoch ms.
    pub issued_ms: i64,
    /// The time range the pages cover, for operations whose later pages may name only the
    /// token (ListFragments).
    pub range: Option<PageRange>,
}

/// A time range a page token carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRange {
    /// The producer-time axis (else server time).
    pub producer_axis: bool,
    pub start_ms: i64,
    pub end_ms: i64,
}

const PAGE_BODY_LEN: usize = 8 + 8 + 4 + 8;
const RANGE_LEN: usize = 1 + 8 + 8;

/// A digest of a request's members other than the token (their canonical bytes, chosen by
/// the operation). CRC-32C: it sits inside the sealed token, so it needs no strength against
/// forgery, only to tell requests apart.
pub fn request_digest(canonical: &[u8]) -> u32 {
    crc32c::crc32c(canonical)
}

impl PageToken {
    /// Seals the page token (standard base64).
    pub fn seal(&self, sealer: &TokenSealer) -> String {
        let mut body = Vec::with_capacity(PAGE_BODY_LEN);
        body.extend_from_slice(&self.stream_created_ms.to_le_bytes());
        body.extend_from_slice(&self.cursor.to_le_bytes());
        body.extend_from_slice(&self.request_digest.to_le_bytes());
        body.extend_from_slice(&self.issued_ms.to_le_bytes());
        if let Some(range) = self.range {
            body.push(u8::from(range.producer_axis));
            body.extend_from_slice(&range.start_ms.to_le_bytes());
            body.extend_from_slice(&range.end_ms.to_le_bytes());
        }
        sealer.seal(TokenKind::Page, &body)
    }

    /// Opens a page token, refusing one issued more than `max_age_ms` before `now_ms`.
    /// Unverified: AWS documents no NextToken lifetime; the caller picks it.
    pub fn open(
        sealer: &TokenSealer,
        token: &str,
        now_ms: i64,
        max_age_ms: i64,
    ) -> Result<PageToken, TokenError> {
        let body = sealer.open(TokenKind::Page, token)?;
        if body.len() != PAGE_BODY_LEN && body.len() != PAGE_BODY_LEN + RANGE_LEN {
            return Err(TokenError::Malformed);
        }
        let word_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&body[at..at + 8]);
            bytes
        };
        let range = (body.len() > PAGE_BODY_LEN).then(|| PageRange {
            producer_axis: body[PAGE_BODY_LEN] != 0,
            start_ms: i64::from_le_bytes(word_at(PAGE_BODY_LEN + 1)),
            end_ms: i64::from_le_bytes(word_at(PAGE_BODY_LEN + 9)),
        });
        let mut digest = [0u8; 4];
        digest.copy_from_slice(&body[16..20]);
        let page = PageToken {
            stream_created_ms: i64::from_le_bytes(word_at(0)),
            cursor: u64::from_le_bytes(word_at(8)),
            request_digest: u32::from_le_bytes(digest),
            issued_ms: i64::from_le_bytes(word_at(20)),
            range,
        };
        if now_ms.saturating_sub(page.issued_ms) > max_age_ms {
            return Err(TokenError::Expired);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3_600_000;

    fn page() -> PageToken {
        PageToken {
            stream_created_ms: 1_700_000_000_000,
            cursor: u64::MAX - 3,
            request_digest: request_digest(b"stream-a|SERVER|0|100"),
            issued_ms: 1_700_000_500_000,
            range: Some(PageRange {
                producer_axis: true,
                start_ms: -5,
                end_ms: i64::MAX,
            }),
        }
    }

    #[test]
    fn page_tokens_round_trip_in_the_model_alphabet() {
        let sealer = TokenSealer::new(&[7; 32]);
        let token = page().seal(&sealer);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
            "{token}"
        );
        let opened = PageToken::open(&sealer, &token, page().issued_ms + 1000, HOUR_MS)
            .expect("own token opens");
        assert_eq!(opened, page());
        assert_ne!(token, page().seal(&sealer), "fresh nonce each time");
    }

    #[test]
    fn expired_tampered_foreign_and_cross_kind_tokens_are_refused() {
        let sealer = TokenSealer::new(&[7; 32]);
        let token = page().seal(&sealer);
        let later = page().issued_ms + HOUR_MS + 1;
        assert_eq!(
            PageToken::open(&sealer, &token, later, HOUR_MS),
            Err(TokenError::Expired)
        );
        let mut bytes = STANDARD.decode(&token).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let now = page().issued_ms;
        assert_eq!(
            PageToken::open(&sealer, &STANDARD.encode(&bytes), now, HOUR_MS),
            Err(TokenError::Invalid)
        );
        let other = TokenSealer::new(&[8; 32]);
        assert_eq!(
            PageToken::open(&other, &token, now, HOUR_MS),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            PageToken::open(&sealer, "not a token!", now, HOUR_MS),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            PageToken::open(&sealer, "", now, HOUR_MS),
            Err(TokenError::Malformed)
        );
        // A session token with a page-sized body still does not open as a page token.
        let session = sealer.seal(TokenKind::Session, &[0; PAGE_BODY_LEN]);
        assert!(!session.contains('=') && !session.contains('+') && !session.contains('/'));
        assert!(PageToken::open(&sealer, &session, now, HOUR_MS).is_err());
        assert_eq!(
            sealer.open(TokenKind::Session, &session),
            Ok(vec![0; PAGE_BODY_LEN])
        );
    }
}
