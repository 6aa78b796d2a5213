//! Complete EBML elements already in memory: iterating a master element's children, decoding
//! unsigned/float/string values, and writing elements.

use bytes::{BufMut, BytesMut};

use crate::error::MkvError;
use crate::vint::{self, ElementHeader};

/// One child element: its header, and where its data lies in the parent's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    pub header: ElementHeader,
    /// Offset of the child's first (header) byte.
    pub start: usize,
    /// Offset of its data.
    pub data_start: usize,
    /// Offset just past its data.
    pub end: usize,
}

/// The children of a complete master element's data, in order, without allocating (input
/// made of tiny elements must not cost memory). Every child must have a known size that fits in
/// `data`; iteration stops after the first error.
pub fn iter_children(data: &[u8]) -> ChildIter<'_> {
    ChildIter {
        data,
        pos: 0,
        failed: false,
    }
}

/// See [`iter_children`].
#[derive(Debug)]
pub struct ChildIter<'a> {
    data: &'a [u8],
    pos: usize,
    failed: bool,
}

impl Iterator for ChildIter<'_> {
    type Item = Result<Child, MkvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        match child_at(self.data, self.pos) {
            Ok(child) => {
                self.pos = child.end;
                Some(Ok(child))
            }
            Err(err) => {
                self.failed = true;
                Some(Err(err))
            }
        }
    }
}

/// All children at once (for small, trusted elements such as a stored header).
pub fn children(data: &[u8]) -> Result<Vec<Child>, MkvError> {
    iter_children(data).collect()
}

/// The complete child element starting at `pos`.
pub fn child_at(data: &[u8], pos: usize) -> Result<Child, MkvError> {
    let rest = data.get(pos..).unwrap_or_default();
    let header =
        vint::read_header(rest)?.ok_or_else(|| MkvError::invalid("truncated element header"))?;
    let total = header.total_len().ok_or_else(|| {
        MkvError::invalid(format!("element {:#x} of unknown size here", header.id))
    })?;
    if total > rest.len() {
        return Err(MkvError::invalid(format!(
            "element {:#x} overruns its parent",
            header.id
        )));
    }
    Ok(Child {
        header,
        start: pos,
        data_start: pos + header.len,
        end: pos + total,
    })
}

/// Big-endian unsigned integer of 0..=8 bytes.
pub fn read_uint(data: &[u8]) -> Result<u64, MkvError> {
    if data.len() > 8 {
        return Err(MkvError::invalid("unsigned integer longer than 8 bytes"));
    }
    Ok(data.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// IEEE float of 0, 4 or 8 bytes.
pub fn read_float(data: &[u8]) -> Result<f64, MkvError> {
    match data.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([
            data[0], data[1], data[2], data[3],
        ]))),
        8 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(data);
            Ok(f64::from_be_bytes(bytes))
        }
        n => Err(MkvError::invalid(format!("float of {n} bytes"))),
    }
}

/// String or UTF-8 value, without trailing NUL padding.
pub fn read_string(data: &[u8]) -> String {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// Writes a complete element with the given data.
pub fn write_element(out: &mut BytesMut, id: u32, data: &[u8]) {
    vint::write_header(out, id, data.len() as u64);
    out.put_slice(data);
}

/// Writes an unsigned-integer element in its shortest form (at least one byte).
pub fn write_uint(out: &mut BytesMut, id: u32, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = ((value.leading_zeros() / 8) as usize).min(7);
    write_element(out, id, &bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut out = BytesMut::new();
        write_uint(&mut out, 0xE7, 0);
        write_uint(&mut out, 0x2A_D7B1, 1_000_000);
        write_element(&mut out, 0x86, b"V_MPEG/ISO/AVC\0");
        let kids = children(&out).expect("children");
        assert_eq!(kids.len(), 3);
        assert_eq!(
            read_uint(&out[kids[0].data_start..kids[0].end]).expect("uint"),
            0
        );
        assert_eq!(
            read_uint(&out[kids[1].data_start..kids[1].end]).expect("uint"),
            1_000_000
        );
        assert_eq!(
            read_string(&out[kids[2].data_start..kids[2].end]),
            "V_MPEG/ISO/AVC"
        );
        assert_eq!(
            read_float(&48_000f32.to_be_bytes()).expect("float"),
            48_000.0
        );
        assert!(read_float(&[0; 3]).is_err());
        assert!(read_uint(&[0; 9]).is_err());
    }

    #[test]
    fn overrun_and_unknown_size_are_refused() {
        assert!(children(&[0xE7, 0x84, 0, 0]).is_err());
        assert!(children(&[0xE7, 0xFF]).is_err());
        assert!(children(&[0xE7]).is_err());
    }
}
