//! One Cluster (= one Kinesis Video fragment): its children and blocks as scanned, the checks
//! that turn into ERROR acks (4010, 4011, 4002), and the rewrite that stores it (known size,
//! absolute Timecode, CRC-32 and Void dropped, blocks byte for byte).

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use crate::ebml::{self, Child};
use crate::error::MkvError;
use crate::header::MediaHeader;
use crate::{ids, vint};

/// Most blocks in one cluster. Ten seconds of three tracks is a few thousand frames; the cap
/// bounds the per-block bookkeeping (about 100 bytes each) of a cluster made of tiny blocks.
pub const MAX_BLOCKS: usize = 65_536;

/// One SimpleBlock, or the Block of a BlockGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRef {
    pub track: u64,
    /// Cluster Timecode + the block's relative timecode, in TimecodeScale units.
    pub timecode: i64,
    pub key: bool,
    pub laced: bool,
    /// The frame bytes (after the block header) within the cluster's bytes.
    pub frame: Range<usize>,
}

/// The Timecode, SimpleBlock and BlockGroup children and the blocks of a cluster, filled in as
/// complete children are seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterScan {
    pub timecode: Option<u64>,
    pub children: Vec<Child>,
    pub blocks: Vec<BlockRef>,
}

impl ClusterScan {
    /// Records the complete child `child` of `buf` (offsets relative to `buf`, which starts at the
    /// cluster's first byte). Returns the Timecode when this child was it.
    pub fn child(&mut self, buf: &[u8], child: Child) -> Result<Option<u64>, MkvError> {
        let data = &buf[child.data_start..child.end];
        let mut timecode_read = None;
        match child.header.id {
            ids::TIMECODE => {
                if self.timecode.is_some() {
                    return Err(MkvError::invalid("two Timecodes in a Cluster"));
                }
                let timecode = ebml::read_uint(data)?;
                self.timecode = Some(timecode);
                timecode_read = Some(timecode);
            }
            ids::SIMPLE_BLOCK => {
                let block = self.block(data, child.data_start, None)?;
                self.blocks.push(block);
            }
            ids::BLOCK_GROUP => {
                let (mut block, mut has_reference) = (None, false);
                for part in ebml::iter_children(data) {
                    let part = part?;
                    match part.header.id {
                        ids::BLOCK => block = Some(part),
                        ids::REFERENCE_BLOCK => has_reference = true,
                        _ => {}
                    }
                }
                let block = block.ok_or_else(|| MkvError::invalid("BlockGroup without Block"))?;
                let start = child.data_start + block.data_start;
                let end = child.data_start + block.end;
                let block = self.block(&buf[start..end], start, Some(!has_reference))?;
                self.blocks.push(block);
            }
            // CRC-32, Void, Position, PrevSize and the rest: dropped by the rewrite, not kept
            // (a cluster full of tiny Voids must not cost memory per element).
            _ => return Ok(None),
        }
        if self.blocks.len() > MAX_BLOCKS {
            return Err(MkvError::TooManyBlocks { max: MAX_BLOCKS });
        }
        self.children.push(child);
        Ok(timecode_read)
    }

    /// Parses a block's header; `key` is given for a BlockGroup, read from the flags otherwise.
    fn block(&self, data: &[u8], offset: usize, key: Option<bool>) -> Result<BlockRef, MkvError> {
        let cluster_timecode = self
            .timecode
            .ok_or_else(|| MkvError::invalid("block before the Cluster's Timecode"))?;
        let (track, track_len) = match vint::read_vint(data)? {
            Some((Some(track), len)) => (track, len),
            _ => return Err(MkvError::invalid("bad block track number")),
        };
        let Some(&[hi, lo, flags]) = data.get(track_len..track_len + 3) else {
            return Err(MkvError::invalid("truncated block header"));
        };
        let relative = i64::from(i16::from_be_bytes([hi, lo]));
        let timecode = i64::try_from(cluster_timecode)
            .ok()
            .and_then(|t| t.checked_add(relative))
            .ok_or_else(|| MkvError::invalid("block timecode out of range"))?;
        let header_len = track_len + 3;
        Ok(BlockRef {
            track,
            timecode,
            key: key.unwrap_or(flags & 0x80 != 0),
            laced: flags & 0x06 != 0,
            frame: offset + header_len..offset + data.len(),
        })
    }
}

/// A complete cluster: its bytes as received (header included; the size may be unknown), its
/// Timecode (TimecodeScale units, as sent), children and blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCluster {
    pub data: Bytes,
    pub timecode: u64,
    pub children: Vec<Child>,
    pub blocks: Vec<BlockRef>,
}

impl RawCluster {
    pub(crate) fn from_scan(data: Bytes, scan: ClusterScan) -> Result<Self, MkvError> {
        let timecode = scan
            .timecode
            .ok_or_else(|| MkvError::invalid("Cluster without Timecode"))?;
        Ok(RawCluster {
            data,
            timecode,
            children: scan.children,
            blocks: scan.blocks,
        })
    }

    /// Parses a complete, known-size Cluster element (a stored one).
    pub fn parse(data: Bytes) -> Result<Self, MkvError> {
        let element = ebml::child_at(&data, 0)?;
        if element.header.id != ids::CLUSTER || element.end != data.len() {
            return Err(MkvError::invalid("expected one Cluster element"));
        }
        let mut scan = ClusterScan::default();
        let mut pos = element.data_start;
        while pos < element.end {
            let child = ebml::child_at(&data, pos)?;
            pos = child.end;
            scan.child(&data, child)?;
        }
        Self::from_scan(data, scan)
    }

    /// The bytes of one block's frame.
    pub fn frame(&self, block: &BlockRef) -> Bytes {
        self.data.slice(block.frame.clone())
    }

    /// Earliest and latest block timecodes (TimecodeScale units), if there are blocks.
    pub fn block_span(&self) -> Option<(i64, i64)> {
        let first = self.blocks.iter().map(|b| b.timecode).min()?;
        let last = self.blocks.iter().map(|b| b.timecode).max()?;
        Some((first, last))
    }

    /// Whether the first block is a key frame of a video track (or, with no video, any block).
    pub fn starts_with_key_frame(&self) -> bool {
        self.blocks.first().is_some_and(|b| b.key)
    }

    /// Checks the cluster against its header: every block's track is declared (4010), every
    /// declared track has a frame (4011), last − first block ≤ `max_duration_ms` (4002).
    /// Unverified: when AWS raises 4011 (its docs name the code, not the rule).
    pub fn validate(&self, header: &MediaHeader, max_duration_ms: u64) -> Result<(), MkvError> {
        for block in &self.blocks {
            if header.track(block.track).is_none() {
                return Err(MkvError::TrackNumberMismatch { track: block.track });
            }
        }
        for track in &header.tracks_info {
            if !self.blocks.iter().any(|b| b.track == track.number) {
                return Err(MkvError::FramesMissing {
                    track: track.number,
                });
            }
        }
        let (first, last) = self.block_span().unwrap_or((0, 0));
        let duration_ms = units_to_ms(last.abs_diff(first), header.timecode_scale_ns);
        if duration_ms > max_duration_ms {
            return Err(MkvError::FragmentTooLong {
                duration_ms,
                max_ms: max_duration_ms,
            });
        }
        Ok(())
    }

    /// The stored form: a known-size Cluster whose Timecode is `timecode` (TimecodeScale units),
    /// followed by the SimpleBlocks and BlockGroups byte for byte; CRC-32 (it would be wrong),
    /// Void, Position and PrevSize are dropped (`children` never holds them).
    pub fn rewrite(&self, timecode: u64) -> Bytes {
        let mut timecode_element = BytesMut::new();
        ebml::write_uint(&mut timecode_element, ids::TIMECODE, timecode);
        let kept = || {
            self.children
                .iter()
                .filter(|c| matches!(c.header.id, ids::SIMPLE_BLOCK | ids::BLOCK_GROUP))
        };
        let body_len = timecode_element.len() + kept().map(|c| c.end - c.start).sum::<usize>();
        let mut out = BytesMut::with_capacity(body_len + 12);
        vint::write_header(&mut out, ids::CLUSTER, body_len as u64);
        out.extend_from_slice(&timecode_element);
        for child in kept() {
            out.extend_from_slice(&self.data[child.start..child.end]);
        }
        out.freeze()
    }
}

/// TimecodeScale units to whole milliseconds, saturating.
pub fn units_to_ms(units: u64, scale_ns: u64) -> u64 {
    let ms = u128::from(units) * u128::from(scale_ns) / 1_000_000;
    u64::try_from(ms).unwrap_or(u64::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::header::tests::{ebml_header, info, tracks};

    /// A SimpleBlock element: track, relative timecode, flags, payload.
    pub(crate) fn simple_block(track: u8, relative: i16, flags: u8, payload: &[u8]) -> BytesMut {
        let mut data = BytesMut::new();
        data.extend_from_slice(&[0x80 | track]);
        data.extend_from_slice(&relative.to_be_bytes());
        data.extend_from_slice(&[flags]);
        data.extend_from_slice(payload);
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, ids::SIMPLE_BLOCK, &data);
        out
    }

    /// Cluster children: Timecode, CRC-32, Void, then blocks `(track, relative, key)`.
    pub(crate) fn cluster_body(timecode: u64, blocks: &[(u8, i16, bool)]) -> BytesMut {
        let mut body = BytesMut::new();
        ebml::write_uint(&mut body, ids::TIMECODE, timecode);
        ebml::write_element(&mut body, ids::CRC32, &[1, 2, 3, 4]);
        ebml::write_element(&mut body, ids::VOID, &[0; 3]);
        for &(track, relative, key) in blocks {
            let flags = if key { 0x80 } else { 0 };
            body.extend_from_slice(&simple_block(track, relative, flags, &[track, 0xAB, 0xCD]));
        }
        body
    }

    fn header_av() -> MediaHeader {
        MediaHeader::parse(
            ebml_header(),
            info(1_000_000),
            tracks(&[(1, 1, "V_MPEG/ISO/AVC"), (2, 2, "A_AAC")]),
        )
        .expect("header")
    }

    fn cluster(timecode: u64, blocks: &[(u8, i16, bool)]) -> RawCluster {
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, ids::CLUSTER, &cluster_body(timecode, blocks));
        RawCluster::parse(out.freeze()).expect("cluster")
    }

    #[test]
    fn rewrite_drops_crc_and_void_and_keeps_blocks() {
        let raw = cluster(0, &[(1, 0, true), (2, 5, false), (1, 40, false)]);
        let stored = RawCluster::parse(raw.rewrite(1_726_677_688_724)).expect("stored");
        assert_eq!(stored.timecode, 1_726_677_688_724);
        let kept: Vec<u32> = raw.children.iter().map(|c| c.header.id).collect();
        assert_eq!(
            kept,
            [
                ids::TIMECODE,
                ids::SIMPLE_BLOCK,
                ids::SIMPLE_BLOCK,
                ids::SIMPLE_BLOCK
            ]
        );
        let ids: Vec<u32> = stored.children.iter().map(|c| c.header.id).collect();
        assert_eq!(
            ids,
            [
                ids::TIMECODE,
                ids::SIMPLE_BLOCK,
                ids::SIMPLE_BLOCK,
                ids::SIMPLE_BLOCK
            ]
        );
        assert_eq!(stored.blocks.len(), 3);
        for (a, b) in raw.blocks.iter().zip(&stored.blocks) {
            assert_eq!(raw.frame(a), stored.frame(b));
            assert_eq!(b.timecode - 1_726_677_688_724, a.timecode);
        }
        assert!(stored.starts_with_key_frame());
    }

    #[test]
    fn validate_produces_4010_4011_4002() {
        let header = header_av();
        assert!(
            cluster(0, &[(1, 0, true), (2, 0, false)])
                .validate(&header, 10_000)
                .is_ok()
        );
        let err = cluster(0, &[(1, 0, true), (3, 0, false)])
            .validate(&header, 10_000)
            .expect_err("3");
        assert_eq!(err.ack_error().id(), 4010);
        let err = cluster(0, &[(1, 0, true)])
            .validate(&header, 10_000)
            .expect_err("no audio");
        assert_eq!(err.ack_error().id(), 4011);
        let err = cluster(0, &[(1, 0, true), (2, 20_000, false)])
            .validate(&header, 10_000)
            .expect_err("long");
        assert_eq!(err.ack_error().id(), 4002);
    }

    #[test]
    fn block_before_timecode_and_bad_groups_are_invalid() {
        let mut body = simple_block(1, 0, 0x80, &[1]);
        ebml::write_uint(&mut body, ids::TIMECODE, 0);
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, ids::CLUSTER, &body);
        assert_eq!(
            RawCluster::parse(out.freeze())
                .expect_err("order")
                .ack_error()
                .id(),
            4006
        );

        let mut body = BytesMut::new();
        ebml::write_uint(&mut body, ids::TIMECODE, 0);
        ebml::write_element(&mut body, ids::BLOCK_GROUP, &[]);
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, ids::CLUSTER, &body);
        assert!(RawCluster::parse(out.freeze()).is_err());
    }

    #[test]
    fn block_group_key_comes_from_reference_block() {
        let mut block = BytesMut::new();
        block.extend_from_slice(&[0x81, 0, 10, 0, 9, 9]);
        let mut group = BytesMut::new();
        ebml::write_element(&mut group, ids::BLOCK, &block);
        let mut body = BytesMut::new();
        ebml::write_uint(&mut body, ids::TIMECODE, 100);
        ebml::write_element(&mut body, ids::BLOCK_GROUP, &group);
        ebml::write_uint(&mut group, ids::REFERENCE_BLOCK, 1);
        ebml::write_element(&mut body, ids::BLOCK_GROUP, &group);
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, ids::CLUSTER, &body);
        let raw = RawCluster::parse(out.freeze()).expect("cluster");
        assert_eq!(raw.blocks.len(), 2);
        assert!(raw.blocks[0].key);
        assert!(!raw.blocks[1].key);
        assert_eq!(raw.blocks[0].timecode, 110);
        assert_eq!(raw.frame(&raw.blocks[0]).as_ref(), &[9, 9]);
    }
}
