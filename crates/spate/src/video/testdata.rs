//! Test inputs shared by the video command's unit tests: spate-mkv's ffmpeg-made fixtures
//! (160x90 H.264 + AAC, 2 s, two clusters; `crates/spate-mkv/tests/fixtures/README.md`).

use spate_mkv::{ebml, ids, vint};

pub const AV2: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2.mkv");
pub const AV2_BFRAMES: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2-bframes.mkv");

/// `input` cut into slices whose sizes `size` gives (at least 1 byte each).
pub fn pieces<'a>(input: &'a [u8], size: &mut dyn FnMut() -> usize) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = size().clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        out.push(now);
        rest = later;
    }
    out
}

/// The same MKV with the Segment and every Cluster of unknown size, as the producer SDK writes.
pub fn with_unknown_sizes(input: &[u8]) -> Vec<u8> {
    let ebml_header = ebml::child_at(input, 0).expect("EBML header");
    let segment = vint::read_header(&input[ebml_header.end..])
        .expect("segment header")
        .expect("complete");
    let mut out = bytes::BytesMut::new();
    out.extend_from_slice(&input[..ebml_header.end]);
    vint::write_id(&mut out, ids::SEGMENT);
    out.extend_from_slice(&vint::UNKNOWN_SIZE);
    let data = &input[ebml_header.end + segment.len..];
    for child in ebml::iter_children(data) {
        let child = child.expect("segment child");
        if child.header.id == ids::CLUSTER {
            vint::write_id(&mut out, ids::CLUSTER);
            out.extend_from_slice(&vint::UNKNOWN_SIZE);
            out.extend_from_slice(&data[child.data_start..child.end]);
        } else {
            out.extend_from_slice(&data[child.start..child.end]);
        }
    }
    out.to_vec()
}
