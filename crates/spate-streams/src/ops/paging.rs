//! Pagination tokens: opaque to clients, self-describing, valid for 300 seconds.
//!
//! A token is the base64 of a small JSON document naming where the next page starts and when the
//! token was issued; it carries no secret, so it is not encrypted, only checked on the way back.

use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::codec::{decode_blob, encode_blob};

use crate::error::StreamsError;

/// How long a pagination token stays valid after it is issued.
pub const TOKEN_LIFETIME_MS: i64 = 300_000;

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    issued_ms: i64,
    next: T,
}

pub fn issue<T: Serialize>(next: &T, now_ms: i64) -> String {
    let envelope = Envelope {
        issued_ms: now_ms,
        next,
    };
    encode_blob(&serde_json::to_vec(&envelope).expect("a token body always serializes"))
}

pub fn redeem<T: DeserializeOwned>(token: &str, now_ms: i64) -> Result<T, StreamsError> {
    let invalid = || StreamsError::InvalidArgument(format!("Invalid NextToken: {token}"));
    let bytes = decode_blob(token).map_err(|_| invalid())?;
    let envelope: Envelope<T> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if now_ms - envelope.issued_ms > TOKEN_LIFETIME_MS {
        return Err(StreamsError::ExpiredNextToken(format!(
            "The timestamp in NextToken ({}) is more than {} seconds old.",
            envelope.issued_ms,
            TOKEN_LIFETIME_MS / 1000
        )));
    }
    Ok(envelope.next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_then_expire() {
        let token = issue(&"orders".to_string(), 1_000);
        assert_eq!(redeem::<String>(&token, 2_000).expect("fresh"), "orders");
        assert!(matches!(
            redeem::<String>(&token, 1_000 + TOKEN_LIFETIME_MS + 1),
            Err(StreamsError::ExpiredNextToken(_))
        ));
        assert!(matches!(
            redeem::<String>("garbage", 0),
            Err(StreamsError::InvalidArgument(_))
        ));
    }
}
