//! EBML variable-length integers and element headers, read from possibly incomplete input.
//!
//! An element ID keeps its length-marker bits (`0x1A45DFA3`); a data size drops them, and a size
//! whose value bits are all ones means "unknown size". Readers answer `Ok(None)` when the input
//! ends before the integer does, so streaming callers can wait for more bytes.

use bytes::{BufMut, BytesMut};

use crate::error::MkvError;

/// Largest size an EBML size vint can express (2^56 − 2; 2^56 − 1 is "unknown").
pub const MAX_SIZE: u64 = (1 << 56) - 2;

/// An 8-byte "unknown size" data size, as the producer SDK writes for Segment and Cluster.
pub const UNKNOWN_SIZE: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

/// An element's ID and data size, and how many bytes they took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementHeader {
    pub id: u32,
    /// `None` = unknown size.
    pub size: Option<u64>,
    /// Bytes of ID + size.
    pub len: usize,
}

impl ElementHeader {
    /// Header plus data length, if known and addressable.
    pub fn total_len(&self) -> Option<usize> {
        let size = usize::try_from(self.size?).ok()?;
        size.checked_add(self.len)
    }
}

/// Length in bytes of a vint from its first byte (1..=8), or `None` for a zero first byte.
fn vint_len(first: u8) -> Option<usize> {
    if first == 0 {
        None
    } else {
        Some(first.leading_zeros() as usize + 1)
    }
}

/// Reads an element ID (1..=4 bytes, marker kept).
pub fn read_id(buf: &[u8]) -> Result<Option<(u32, usize)>, MkvError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let len = match vint_len(first) {
        Some(len) if len <= 4 => len,
        _ => {
            return Err(MkvError::invalid(format!(
                "bad element ID byte {first:#04x}"
            )));
        }
    };
    let Some(bytes) = buf.get(..len) else {
        return Ok(None);
    };
    let id = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
    Ok(Some((id, len)))
}

/// Reads a vint with its marker removed (data sizes, block track numbers). `Some(None)` inside
/// means all value bits were ones (unknown size).
pub fn read_vint(buf: &[u8]) -> Result<Option<(Option<u64>, usize)>, MkvError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let Some(len) = vint_len(first) else {
        return Err(MkvError::invalid("vint longer than 8 bytes"));
    };
    let Some(bytes) = buf.get(..len) else {
        return Ok(None);
    };
    let marker_mask = if len == 8 { 0 } else { 0xFFu8 >> len };
    let mut value = u64::from(first & marker_mask);
    for &b in &bytes[1..] {
        value = (value << 8) | u64::from(b);
    }
    let all_ones = (1u64 << (7 * len as u32)) - 1;
    let value = if value == all_ones { None } else { Some(value) };
    Ok(Some((value, len)))
}

/// Reads an element header (ID + data size).
pub fn read_header(buf: &[u8]) -> Result<Option<ElementHeader>, MkvError> {
    let Some((id, id_len)) = read_id(buf)? else {
        return Ok(None);
    };
    let Some((size, size_len)) = read_vint(&buf[id_len..])? else {
        return Ok(None);
    };
    Ok(Some(ElementHeader {
        id,
        size,
        len: id_len + size_len,
    }))
}

/// Writes an element ID (its bytes without leading zero bytes).
pub fn write_id(out: &mut BytesMut, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = (id.leading_zeros() / 8) as usize;
    out.put_slice(&bytes[skip.min(3)..]);
}

/// Writes a data size in its shortest form. Sizes come from in-memory buffers, far below
/// [`MAX_SIZE`]; a larger one is clamped (and trips a debug assertion).
pub fn write_size(out: &mut BytesMut, size: u64) {
    debug_assert!(size <= MAX_SIZE, "size {size} does not fit an EBML vint");
    let size = size.min(MAX_SIZE);
    let mut len = 1u32;
    while size >= (1u64 << (7 * len)) - 1 {
        len += 1;
    }
    let value = size | (1u64 << (7 * len));
    out.put_slice(&value.to_be_bytes()[(8 - len as usize)..]);
}

/// Writes an element header with a known size.
pub fn write_header(out: &mut BytesMut, id: u32, size: u64) {
    write_id(out, id);
    write_size(out, size);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_with_marker() {
        assert_eq!(
            read_id(&[0x1A, 0x45, 0xDF, 0xA3, 0]).expect("ok"),
            Some((0x1A45_DFA3, 4))
        );
        assert_eq!(read_id(&[0xEC]).expect("ok"), Some((0xEC, 1)));
        assert_eq!(read_id(&[0x1A, 0x45]).expect("ok"), None);
        assert!(read_id(&[0x08]).is_err());
        assert!(read_id(&[0x00]).is_err());
    }

    #[test]
    fn reads_sizes_and_unknown() {
        assert_eq!(read_vint(&[0x81]).expect("ok"), Some((Some(1), 1)));
        assert_eq!(read_vint(&[0x40, 0x02]).expect("ok"), Some((Some(2), 2)));
        assert_eq!(read_vint(&[0xFF]).expect("ok"), Some((None, 1)));
        assert_eq!(read_vint(&UNKNOWN_SIZE).expect("ok"), Some((None, 8)));
        assert_eq!(read_vint(&[0x01, 0, 0]).expect("ok"), None);
        assert!(read_vint(&[0x00, 1]).is_err());
    }

    #[test]
    fn write_then_read_round_trips() {
        for size in [0u64, 1, 126, 127, 128, 16_382, 16_383, 1 << 20, MAX_SIZE] {
            let mut out = BytesMut::new();
            write_header(&mut out, 0x1F43_B675, size);
            let header = read_header(&out).expect("ok").expect("complete");
            assert_eq!(
                header,
                ElementHeader {
                    id: 0x1F43_B675,
                    size: Some(size),
                    len: out.len()
                }
            );
        }
        let mut out = BytesMut::new();
        write_id(&mut out, 0xA3);
        assert_eq!(&out[..], &[0xA3]);
    }
}
