//! The account's key for sealed tokens, `video/token-key` (32 random bytes, plan §2.2):
//! created on first use with a check that it is absent, so two first uses at once agree on
//! one key.
//!
//! Read (or created) once when the service opens; the service keeps the sealer.

use spate_meta::{Check, MetaStore, Outcome, Txn};

use crate::error::VideoError;
use crate::tokens::TokenSealer;

const TOKEN_KEY: &str = "video/token-key";

/// A sealer under the account's token key, creating the key if there is none.
pub(crate) async fn load_sealer(meta: &dyn MetaStore) -> Result<TokenSealer, VideoError> {
    // Two rounds: a lost creation race reads the winner's key.
    for _ in 0..2 {
        if let Some(entry) = meta.get(TOKEN_KEY).await? {
            let key: &[u8; 32] =
                entry.value.as_slice().try_into().map_err(|_| {
                    VideoError::Internal(format!("stored {TOKEN_KEY} is not 32 bytes"))
                })?;
            return Ok(TokenSealer::new(key));
        }
        let key: [u8; 32] = rand::random();
        let created = Txn::new()
            .check(Check::Absent(TOKEN_KEY.to_owned()))
            .put(TOKEN_KEY, key.to_vec());
        if let Outcome::Committed { .. } = meta.commit(created).await? {
            return Ok(TokenSealer::new(&key));
        }
    }
    Err(VideoError::Internal(format!(
        "{TOKEN_KEY} could be neither read nor created"
    )))
}
