//! The stored chunk, value format v1: what the fragment store keeps per fragment, self-contained
//! (every chunk carries its segment's header, as AWS prepends it to every GetMedia chunk).
//!
//! ```text
//! magic "KVC1" | header_len u32 LE | header | cluster | trailing tags
//! ```
//! `header` = EBML header + Info + Tracks elements as received; `cluster` = the rewritten,
//! known-size Cluster (its own size says where it ends); `trailing tags` = the producer's Tags
//! elements that followed it (zero or more complete elements).

use bytes::{BufMut, Bytes, BytesMut};

use crate::cluster::RawCluster;
use crate::ebml;
use crate::error::MkvError;
use crate::header::MediaHeader;
use crate::ids;

/// Format v1 magic.
pub const MAGIC: &[u8; 4] = b"KVC1";

/// One stored fragment; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    pub header: Bytes,
    pub cluster: Bytes,
    pub tags: Bytes,
}

impl StoredChunk {
    /// A chunk from a segment header, a cluster already rewritten for storage and the producer
    /// Tags elements that followed it.
    pub fn new(header: &MediaHeader, cluster: Bytes, tags: &[Bytes]) -> Self {
        let mut all_tags = BytesMut::new();
        for t in tags {
            all_tags.extend_from_slice(t);
        }
        StoredChunk {
            header: header.stored(),
            cluster,
            tags: all_tags.freeze(),
        }
    }

    pub fn encode(&self) -> Bytes {
        let mut out =
            BytesMut::with_capacity(8 + self.header.len() + self.cluster.len() + self.tags.len());
        out.put_slice(MAGIC);
        // Headers are bounded by the splitter's `max_header_bytes`, far below 4 GiB.
        out.put_u32_le(u32::try_from(self.header.len()).unwrap_or(u32::MAX));
        out.put_slice(&self.header);
        out.put_slice(&self.cluster);
        out.put_slice(&self.tags);
        out.freeze()
    }

    /// Decodes format v1, checking the structure (not the header's or blocks' contents).
    pub fn decode(value: &Bytes) -> Result<Self, MkvError> {
        let bad = |what: &str| MkvError::invalid(format!("stored chunk: {what}"));
        if value.get(..4) != Some(MAGIC.as_slice()) {
            return Err(bad("bad magic"));
        }
        let len_bytes = value.get(4..8).ok_or_else(|| bad("truncated"))?;
        let header_len =
            u32::from_le_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        let header_end = usize::try_from(header_len)
            .ok()
            .and_then(|l| l.checked_add(8))
            .filter(|&end| end <= value.len())
            .ok_or_else(|| bad("header overruns the value"))?;
        let cluster = ebml::child_at(value, header_end)?;
        if cluster.header.id != ids::CLUSTER {
            return Err(bad("no Cluster after the header"));
        }
        let tags = value.slice(cluster.end..);
        let mut pos = 0;
        while pos < tags.len() {
            let element = ebml::child_at(&tags, pos)?;
            if element.header.id != ids::TAGS {
                return Err(bad("trailing element is not Tags"));
            }
            pos = element.end;
        }
        Ok(StoredChunk {
            header: value.slice(8..header_end),
            cluster: value.slice(header_end..cluster.end),
            tags,
        })
    }

    pub fn media_header(&self) -> Result<MediaHeader, MkvError> {
        MediaHeader::parse_stored(&self.header)
    }

    pub fn raw_cluster(&self) -> Result<RawCluster, MkvError> {
        RawCluster::parse(self.cluster.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::cluster_body;
    use crate::header::tests::{ebml_header, info, tracks};

    pub(crate) fn sample_chunk() -> StoredChunk {
        let header = MediaHeader::parse(
            ebml_header(),
            info(1_000_000),
            tracks(&[(1, 1, "V_MPEG/ISO/AVC")]),
        )
        .expect("header");
        let mut cluster = BytesMut::new();
        ebml::write_element(
            &mut cluster,
            ids::CLUSTER,
            &cluster_body(5, &[(1, 0, true), (1, 40, false)]),
        );
        let mut tags = BytesMut::new();
        ebml::write_element(&mut tags, ids::TAGS, &[]);
        StoredChunk::new(&header, cluster.freeze(), &[tags.freeze()])
    }

    #[test]
    fn encode_decode_round_trips() {
        let chunk = sample_chunk();
        let value = chunk.encode();
        assert_eq!(&value[..4], b"KVC1");
        let decoded = StoredChunk::decode(&value).expect("decode");
        assert_eq!(decoded, chunk);
        assert_eq!(decoded.raw_cluster().expect("cluster").blocks.len(), 2);
        assert_eq!(decoded.media_header().expect("header").tracks_info.len(), 1);
    }

    #[test]
    fn v1_layout_is_pinned() {
        let chunk = StoredChunk {
            header: Bytes::from_static(&[0xAA]),
            cluster: Bytes::from_static(&[0x1F, 0x43, 0xB6, 0x75, 0x83, 0xE7, 0x81, 0x00]),
            tags: Bytes::new(),
        };
        let expected: &[u8] = &[
            b'K', b'V', b'C', b'1', 1, 0, 0, 0, 0xAA, 0x1F, 0x43, 0xB6, 0x75, 0x83, 0xE7, 0x81,
            0x00,
        ];
        assert_eq!(chunk.encode().as_ref(), expected);
    }

    #[test]
    fn decode_refuses_damage() {
        let value = sample_chunk().encode();
        assert!(StoredChunk::decode(&Bytes::from_static(b"KVC2\0\0\0\0")).is_err());
        assert!(StoredChunk::decode(&value.slice(..6)).is_err());
        assert!(StoredChunk::decode(&value.slice(..value.len() - 1)).is_err());
        let mut huge = BytesMut::from(&value[..]);
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(StoredChunk::decode(&huge.freeze()).is_err());
        let mut trailing = BytesMut::from(&value[..]);
        trailing.extend_from_slice(&[0xEC, 0x80]);
        assert!(StoredChunk::decode(&trailing.freeze()).is_err());
    }
}
