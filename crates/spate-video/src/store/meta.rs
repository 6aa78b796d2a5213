//! `FragmentMeta` v1: what the store knows of one fragment, in 64 little-endian bytes.
//!
//! The same 64 bytes are the media record's key and the index record's value (plan §2.2):
//! ```text
//! 0  version u8 = 1        1  flags u8 (bit0 key frame first, bit1 discontinuity before)
//! 2  tracks u8             3  zero u8
//! 4  chunk_bytes u32       8  media_offset u64      16 producer_ts_ms i64
//! 24 server_ts_ms i64      32 duration_ms u32       36 cluster_bytes u32
//! 40 session u32           44 disc_seq u32          48 timecode_as_sent i64
//! 56 reserved u32 = 0      60 crc32c u32 of bytes 0..60
//! ```
//! The checksum is CRC-32C from the `crc32c` crate, already used by `spate-log`.

use crate::store::error::StoreError;

/// Encoded length of a [`FragmentMeta`].
pub const META_LEN: usize = 64;
const VERSION: u8 = 1;
/// Bytes covered by the checksum.
const CRC_AT: usize = 60;

/// Flag: the fragment starts with a key frame.
pub const FLAG_KEY_FRAME: u8 = 1;
/// Flag: a discontinuity (new session, or a gap/overlap) comes before this fragment.
pub const FLAG_DISCONTINUITY: u8 = 2;

/// One fragment's metadata, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragmentMeta {
    /// [`FLAG_KEY_FRAME`], [`FLAG_DISCONTINUITY`].
    pub flags: u8,
    /// Number of tracks in the fragment.
    pub tracks: u8,
    /// Length of the stored chunk (the media record's value).
    pub chunk_bytes: u32,
    /// The fragment's offset in the media log.
    pub media_offset: u64,
    /// Producer timestamp of the fragment's start, epoch ms.
    pub producer_ts_ms: i64,
    /// Server timestamp (arrival of the first byte), epoch ms; never below the previous
    /// fragment's.
    pub server_ts_ms: i64,
    /// Duration, ms.
    pub duration_ms: u32,
    /// Size of the cluster as received (`FragmentSizeInBytes`).
    pub cluster_bytes: u32,
    /// Ingest session number.
    pub session: u32,
    /// Discontinuities up to and including this fragment.
    pub disc_seq: u32,
    /// The cluster timecode the producer sent.
    pub timecode_as_sent: i64,
}

fn read_array<const N: usize>(bytes: &[u8; META_LEN], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[at..at + N]);
    out
}

impl FragmentMeta {
    /// The 64-byte v1 encoding.
    pub fn encode(&self) -> [u8; META_LEN] {
        let mut out = [0u8; META_LEN];
        out[0] = VERSION;
        out[1] = self.flags;
        out[2] = self.tracks;
        out[4..8].copy_from_slice(&self.chunk_bytes.to_le_bytes());
        out[8..16].copy_from_slice(&self.media_offset.to_le_bytes());
        out[16..24].copy_from_slice(&self.producer_ts_ms.to_le_bytes());
        out[24..32].copy_from_slice(&self.server_ts_ms.to_le_bytes());
        out[32..36].copy_from_slice(&self.duration_ms.to_le_bytes());
        out[36..40].copy_from_slice(&self.cluster_bytes.to_le_bytes());
        out[40..44].copy_from_slice(&self.session.to_le_bytes());
        out[44..48].copy_from_slice(&self.disc_seq.to_le_bytes());
        out[48..56].copy_from_slice(&self.timecode_as_sent.to_le_bytes());
        let crc = crc32c::crc32c(&out[..CRC_AT]);
        out[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks a v1 encoding.
    pub fn decode(bytes: &[u8]) -> Result<FragmentMeta, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt(format!("fragment metadata: {reason}"));
        let bytes: &[u8; META_LEN] = bytes
            .try_into()
            .map_err(|_| corrupt(&format!("{} bytes, not {META_LEN}", bytes.len())))?;
        let crc = u32::from_le_bytes(read_array(bytes, CRC_AT));
        if crc32c::crc32c(&bytes[..CRC_AT]) != crc {
            return Err(corrupt("checksum mismatch"));
        }
        if bytes[0] != VERSION {
            return Err(corrupt(&format!("unknown version {}", bytes[0])));
        }
        if bytes[3] != 0 || read_array::<4>(bytes, 56) != [0; 4] {
            return Err(corrupt("reserved bytes are not zero"));
        }
        Ok(FragmentMeta {
            flags: bytes[1],
            tracks: bytes[2],
            chunk_bytes: u32::from_le_bytes(read_array(bytes, 4)),
            media_offset: u64::from_le_bytes(read_array(bytes, 8)),
            producer_ts_ms: i64::from_le_bytes(read_array(bytes, 16)),
            server_ts_ms: i64::from_le_bytes(read_array(bytes, 24)),
            duration_ms: u32::from_le_bytes(read_array(bytes, 32)),
            cluster_bytes: u32::from_le_bytes(read_array(bytes, 36)),
            session: u32::from_le_bytes(read_array(bytes, 40)),
            disc_seq: u32::from_le_bytes(read_array(bytes, 44)),
            timecode_as_sent: i64::from_le_bytes(read_array(bytes, 48)),
        })
    }

    /// The producer timestamp of the fragment's end, saturating.
    pub fn producer_end_ms(&self) -> i64 {
        self.producer_ts_ms
            .saturating_add(i64::from(self.duration_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> FragmentMeta {
        FragmentMeta {
            flags: FLAG_KEY_FRAME | FLAG_DISCONTINUITY,
            tracks: 2,
            chunk_bytes: 0x0102_0304,
            media_offset: 0x1122_3344_5566_7788,
            producer_ts_ms: -5,
            server_ts_ms: 1_700_000_000_123,
            duration_ms: 2000,
            cluster_bytes: 99,
            session: 3,
            disc_seq: 4,
            timecode_as_sent: i64::MIN,
        }
    }

    #[test]
    fn round_trips() {
        let meta = sample();
        let bytes = meta.encode();
        assert_eq!(FragmentMeta::decode(&bytes).expect("decodes"), meta);
        assert_eq!(bytes[0], 1);
        assert_eq!(&bytes[4..8], &[4, 3, 2, 1], "little-endian");
    }

    #[test]
    fn rejects_corruption() {
        let good = sample().encode();
        for at in [0, 5, 59, 60, 63] {
            let mut bad = good;
            bad[at] ^= 0x40;
            assert!(
                matches!(FragmentMeta::decode(&bad), Err(StoreError::Corrupt(_))),
                "flip at {at}"
            );
        }
        assert!(FragmentMeta::decode(&good[..63]).is_err());
        // A consistent checksum over a non-zero reserved field is still refused.
        let mut reserved = good;
        reserved[56] = 1;
        let crc = crc32c::crc32c(&reserved[..CRC_AT]);
        reserved[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
        assert!(FragmentMeta::decode(&reserved).is_err());
    }

    #[test]
    fn matches_the_fixture() {
        let fixture = include_bytes!("../../tests/fixtures/fragment_meta_v1.bin");
        assert_eq!(fixture, &sample().encode(), "v1 encoding changed");
        assert_eq!(
            FragmentMeta::decode(fixture).expect("fixture decodes"),
            sample()
        );
    }
}
