//! One piece of a media answer as bytes: a stored fragment wrapped in its
//! `AWS_KINESISVIDEO_*` tags, or the error tags that report a failure.

use bytes::{Bytes, BytesMut};
use spate_mkv::{ChunkTags, MkvError, StoredChunk, emit_chunk, emit_error, tags};

use crate::store::{FragmentMeta, FragmentNumber};

/// `AWS_KINESISVIDEO_ERROR_CODE` of a missing fragment.
/// Unverified: AWS documents only the numeric id (4000), not the text beside it.
pub const CODE_NOT_FOUND: &str = "MISSING_FRAGMENT";
/// `AWS_KINESISVIDEO_ERROR_CODE` of an internal failure (id 5000). Unverified: the text.
pub const CODE_INTERNAL: &str = "INTERNAL_ERROR";

/// GetMediaForFragmentList's documented error tags (its documentation names these instead of
/// GetMedia's `_ERROR_CODE`/`_ERROR_ID`).
const EXCEPTION_ERROR_CODE: &str = "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE";
const EXCEPTION_MESSAGE: &str = "AWS_KINESISVIDEO_EXCEPTION_MESSAGE";

/// What GetMedia adds to each chunk: how far it is behind the newest fragment, and the token
/// to resume after it.
#[derive(Clone, Copy, Debug)]
pub struct Live {
    /// Server timestamp of the newest fragment of the stream, epoch ms.
    pub newest_server_ms: i64,
}

/// A stored fragment as one output chunk; `live` for GetMedia (MILLIS_BEHIND_NOW and
/// CONTINUATION_TOKEN), `None` for GetMediaForFragmentList.
pub fn fragment(
    number: FragmentNumber,
    meta: &FragmentMeta,
    value: &Bytes,
    live: Option<Live>,
) -> Result<Bytes, MkvError> {
    let chunk = StoredChunk::decode(value)?;
    let number = number.to_string();
    let chunk_tags = ChunkTags {
        millis_behind_now: live.map(|live| {
            let behind = live.newest_server_ms.saturating_sub(meta.server_ts_ms);
            u64::try_from(behind).unwrap_or(0)
        }),
        continuation_token: live.map(|_| number.clone()),
        fragment_number: number,
        server_timestamp_ms: meta.server_ts_ms,
        producer_timestamp_ms: meta.producer_ts_ms,
    };
    let mut out = BytesMut::with_capacity(value.len().saturating_add(512));
    emit_chunk(&mut out, &chunk, &chunk_tags)?;
    Ok(out.freeze())
}

/// The error tags that end a GetMedia answer.
pub fn failure(code: &str, id: u32) -> Bytes {
    let mut out = BytesMut::new();
    emit_error(&mut out, code, id);
    out.freeze()
}

/// GetMediaForFragmentList's chunk for a fragment it cannot send (`number` as requested).
/// Unverified: one Tags element carrying both namings: GetMedia's (`_ERROR_CODE` text,
/// `_ERROR_ID` number), which AWS's parser library reads, and the ones this operation's
/// documentation lists (`_EXCEPTION_ERROR_CODE` number, `_EXCEPTION_MESSAGE`), with the
/// fragment's number.
pub fn list_failure(number: &str, code: &str, id: u32, message: &str) -> Bytes {
    let id = id.to_string();
    let mut out = BytesMut::new();
    tags::write_tags(
        &mut out,
        &[
            (tags::FRAGMENT_NUMBER, number),
            (tags::ERROR_CODE, code),
            (tags::ERROR_ID, &id),
            (EXCEPTION_ERROR_CODE, &id),
            (EXCEPTION_MESSAGE, message),
        ],
    );
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_failures_carry_both_namings() {
        let out = list_failure("913", CODE_NOT_FOUND, 4000, "not found");
        let pairs = tags::read_tags(&out).expect("tags");
        let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                tags::FRAGMENT_NUMBER,
                tags::ERROR_CODE,
                tags::ERROR_ID,
                EXCEPTION_ERROR_CODE,
                EXCEPTION_MESSAGE
            ]
        );
        assert_eq!(pairs[2].1, "4000");
        assert_eq!(pairs[3].1, "4000");
    }

    #[test]
    fn a_damaged_stored_value_is_an_error() {
        let meta = FragmentMeta::default();
        let number = FragmentNumber { log: 1, offset: 0 };
        assert!(fragment(number, &meta, &Bytes::from_static(b"KVC2"), None).is_err());
    }
}
