//! Matroska element IDs this crate reads or writes (marker bits kept, as they appear on the wire).

pub const EBML: u32 = 0x1A45_DFA3;
pub const SEGMENT: u32 = 0x1853_8067;

pub const SEEK_HEAD: u32 = 0x114D_9B74;
pub const INFO: u32 = 0x1549_A966;
pub const TRACKS: u32 = 0x1654_AE6B;
pub const CLUSTER: u32 = 0x1F43_B675;
pub const CUES: u32 = 0x1C53_BB6B;
pub const TAGS: u32 = 0x1254_C367;
pub const CHAPTERS: u32 = 0x1043_A770;
pub const ATTACHMENTS: u32 = 0x1941_A469;

/// Global elements, valid in any master element.
pub const VOID: u32 = 0xEC;
pub const CRC32: u32 = 0xBF;

pub const TIMECODE_SCALE: u32 = 0x2A_D7B1;

pub const TRACK_ENTRY: u32 = 0xAE;
pub const TRACK_NUMBER: u32 = 0xD7;
pub const TRACK_UID: u32 = 0x73C5;
pub const TRACK_TYPE: u32 = 0x83;
pub const CODEC_ID: u32 = 0x86;
pub const CODEC_PRIVATE: u32 = 0x63A2;
pub const DEFAULT_DURATION: u32 = 0x23_E383;
pub const VIDEO: u32 = 0xE0;
pub const PIXEL_WIDTH: u32 = 0xB0;
pub const PIXEL_HEIGHT: u32 = 0xBA;
pub const AUDIO: u32 = 0xE1;
pub const SAMPLING_FREQUENCY: u32 = 0xB5;
pub const CHANNELS: u32 = 0x9F;

pub const TIMECODE: u32 = 0xE7;
pub const SIMPLE_BLOCK: u32 = 0xA3;
pub const BLOCK_GROUP: u32 = 0xA0;
pub const BLOCK: u32 = 0xA1;
pub const REFERENCE_BLOCK: u32 = 0xFB;

pub const TAG: u32 = 0x7373;
pub const SIMPLE_TAG: u32 = 0x67C8;
pub const TAG_NAME: u32 = 0x45A3;
pub const TAG_STRING: u32 = 0x4487;

/// Level-1 (Segment children) and level-0 IDs: in an unknown-size Cluster, any of these ends the
/// Cluster (Matroska's rule: an unknown-size element ends at an element that is not its child).
pub fn ends_unknown_cluster(id: u32) -> bool {
    matches!(
        id,
        EBML | SEGMENT | SEEK_HEAD | INFO | TRACKS | CLUSTER | CUES | TAGS | CHAPTERS | ATTACHMENTS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_one_ids_end_an_unknown_cluster_and_cluster_children_do_not() {
        for id in [EBML, SEGMENT, CLUSTER, TAGS, CUES, INFO, TRACKS] {
            assert!(ends_unknown_cluster(id), "{id:#x}");
        }
        for id in [TIMECODE, SIMPLE_BLOCK, BLOCK_GROUP, VOID, CRC32] {
            assert!(!ends_unknown_cluster(id), "{id:#x}");
        }
    }
}
