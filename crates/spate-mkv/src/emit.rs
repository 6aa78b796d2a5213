//! GetMedia / GetMediaForFragmentList output: one stored chunk written as AWS writes it, a
//! self-contained MKV segment wrapped in `AWS_KINESISVIDEO_*` tags (plan §4.4):
//!
//! ```text
//! EBML header | Segment (unknown size) { Info | Tracks
//!   | Tags{FRAGMENT_NUMBER, SERVER_TIMESTAMP, PRODUCER_TIMESTAMP} | Cluster | producer Tags
//!   | Tags{MILLIS_BEHIND_NOW, CONTINUATION_TOKEN} }
//! ```

use bytes::BytesMut;

use crate::chunk::StoredChunk;
use crate::ebml;
use crate::error::MkvError;
use crate::ids;
use crate::tags::{self, format_seconds};
use crate::vint;

/// The per-chunk tag values.
///
/// Unverified: GetMediaForFragmentList uses these GetMedia tag names too (its docs say
/// `_SERVER_SIDE_TIMESTAMP`/`_PRODUCER_SIDE_TIMESTAMP`; AWS's parser library reads these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkTags {
    pub fragment_number: String,
    pub server_timestamp_ms: i64,
    pub producer_timestamp_ms: i64,
    /// GetMedia only: newest fragment's server time − this one's.
    pub millis_behind_now: Option<u64>,
    /// GetMedia only: the token to resume after this chunk (its fragment number).
    pub continuation_token: Option<String>,
}

/// Appends one chunk as GetMedia emits it. Fails only if the stored header is damaged.
pub fn emit_chunk(
    out: &mut BytesMut,
    chunk: &StoredChunk,
    chunk_tags: &ChunkTags,
) -> Result<(), MkvError> {
    let ebml_header = ebml::child_at(&chunk.header, 0)?;
    if ebml_header.header.id != ids::EBML {
        return Err(MkvError::invalid(
            "stored header does not start with an EBML header",
        ));
    }
    out.extend_from_slice(&chunk.header[..ebml_header.end]);
    vint::write_id(out, ids::SEGMENT);
    out.extend_from_slice(&vint::UNKNOWN_SIZE);
    out.extend_from_slice(&chunk.header[ebml_header.end..]);
    let server = format_seconds(chunk_tags.server_timestamp_ms);
    let producer = format_seconds(chunk_tags.producer_timestamp_ms);
    tags::write_tags(
        out,
        &[
            (tags::FRAGMENT_NUMBER, &chunk_tags.fragment_number),
            (tags::SERVER_TIMESTAMP, &server),
            (tags::PRODUCER_TIMESTAMP, &producer),
        ],
    );
    out.extend_from_slice(&chunk.cluster);
    out.extend_from_slice(&chunk.tags);
    let behind = chunk_tags.millis_behind_now.map(|m| m.to_string());
    let mut trailing: Vec<(&str, &str)> = Vec::new();
    if let Some(behind) = &behind {
        trailing.push((tags::MILLIS_BEHIND_NOW, behind));
    }
    if let Some(token) = &chunk_tags.continuation_token {
        trailing.push((tags::CONTINUATION_TOKEN, token));
    }
    if !trailing.is_empty() {
        tags::write_tags(out, &trailing);
    }
    Ok(())
}

/// Appends the error tags that end a GetMedia stream (a bare Tags element, continuing the last
/// chunk's unknown-size Segment). `id`: 4000 not found, 5000 internal.
/// Unverified: the layout and the codes come from field notes (plan §4.4), not from a spec.
pub fn emit_error(out: &mut BytesMut, code: &str, id: u32) {
    let id = id.to_string();
    tags::write_tags(out, &[(tags::ERROR_CODE, code), (tags::ERROR_ID, &id)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tags_read_back() {
        let mut out = BytesMut::new();
        emit_error(&mut out, "MISSING_FRAGMENT", 4000);
        let pairs = tags::read_tags(&out).expect("tags");
        assert_eq!(
            pairs[0],
            (tags::ERROR_CODE.to_owned(), "MISSING_FRAGMENT".to_owned())
        );
        assert_eq!(pairs[1], (tags::ERROR_ID.to_owned(), "4000".to_owned()));
    }

    #[test]
    fn damaged_header_is_refused() {
        let chunk = StoredChunk {
            header: bytes::Bytes::from_static(&[0xEC, 0x80]),
            cluster: bytes::Bytes::new(),
            tags: bytes::Bytes::new(),
        };
        let tags = ChunkTags {
            fragment_number: "1".into(),
            server_timestamp_ms: 0,
            producer_timestamp_ms: 0,
            millis_behind_now: None,
            continuation_token: None,
        };
        assert!(emit_chunk(&mut BytesMut::new(), &chunk, &tags).is_err());
    }
}
