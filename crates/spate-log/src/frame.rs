//! The checksummed frame shared by journal and segment files, and little-endian helpers.
//!
//! A frame is `payload_len: u32 LE | crc32c(payload): u32 LE | payload`. What the payload holds
//! is up to the file format using it (see `journal` and `segment`). A frame whose length runs
//! past the end of the buffer, whose length is absurd, or whose checksum does not match is
//! reported as bad; the caller decides whether that is a torn tail or corruption.

/// Bytes before the payload: length and checksum.
pub(crate) const FRAME_HEADER_LEN: usize = 8;

/// Largest payload accepted when decoding; anything larger is treated as a bad frame.
pub(crate) const MAX_FRAME_PAYLOAD: usize = 1 << 30;

/// Starts a frame at the end of `buf`; returns where it starts, for [`finish_frame`].
pub(crate) fn begin_frame(buf: &mut Vec<u8>) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[0u8; FRAME_HEADER_LEN]);
    start
}

/// Fills in length and checksum of the frame begun at `start`, whose payload is the rest of `buf`.
pub(crate) fn finish_frame(buf: &mut [u8], start: usize) {
    let payload = &buf[start + FRAME_HEADER_LEN..];
    let len = u32::try_from(payload.len()).expect("frame payloads are built far below 4 GiB");
    let crc = crc32c::crc32c(payload);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The outcome of decoding one frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameRead<'a> {
    /// A complete frame with a valid checksum, and the position just after it.
    Frame { payload: &'a [u8], next: usize },
    /// `pos` is exactly the end of the buffer.
    End,
    /// Incomplete or failing its checksum.
    Bad(String),
}

/// Decodes the frame starting at `pos` in `buf`.
pub(crate) fn read_frame(buf: &[u8], pos: usize) -> FrameRead<'_> {
    if pos == buf.len() {
        return FrameRead::End;
    }
    let Some(header) = buf.get(pos..pos + FRAME_HEADER_LEN) else {
        return FrameRead::Bad(format!("incomplete frame header at {pos}"));
    };
    let mut reader = Reader::new(header);
    let (Some(len), Some(crc)) = (reader.u32(), reader.u32()) else {
        return FrameRead::Bad(format!("incomplete frame header at {pos}"));
    };
    let len = len as usize;
    if len > MAX_FRAME_PAYLOAD {
        return FrameRead::Bad(format!("frame at {pos} claims {len} bytes"));
    }
    let payload_start = pos + FRAME_HEADER_LEN;
    let Some(payload) = buf.get(payload_start..payload_start + len) else {
        return FrameRead::Bad(format!("frame at {pos} runs past the end"));
    };
    if crc32c::crc32c(payload) != crc {
        return FrameRead::Bad(format!("checksum mismatch in frame at {pos}"));
    }
    FrameRead::Frame {
        payload,
        next: payload_start + len,
    }
}

/// Reads little-endian integers and byte runs from a slice; `None` once it runs out.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        let out = self.buf.get(self.pos..self.pos.checked_add(len)?)?;
        self.pos += len;
        Some(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }

    /// Everything not yet read.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(payload: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        let start = begin_frame(&mut buf);
        buf.extend_from_slice(payload);
        finish_frame(&mut buf, start);
        buf
    }

    #[test]
    fn frames_round_trip_back_to_back() {
        let mut buf = frame_of(b"hello");
        buf.extend_from_slice(&frame_of(b""));
        buf.extend_from_slice(&frame_of(b"world!"));
        let mut pos = 0;
        let mut payloads = Vec::new();
        loop {
            match read_frame(&buf, pos) {
                FrameRead::Frame { payload, next } => {
                    payloads.push(payload.to_vec());
                    pos = next;
                }
                FrameRead::End => break,
                FrameRead::Bad(reason) => panic!("unexpected bad frame: {reason}"),
            }
        }
        assert_eq!(
            payloads,
            vec![b"hello".to_vec(), vec![], b"world!".to_vec()]
        );
    }

    #[test]
    fn every_truncation_is_a_bad_frame() {
        let buf = frame_of(b"some payload");
        for cut in 1..buf.len() {
            assert!(
                matches!(read_frame(&buf[..cut], 0), FrameRead::Bad(_)),
                "cut at {cut}"
            );
        }
        assert_eq!(read_frame(&buf[..0], 0), FrameRead::End);
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum() {
        let mut buf = frame_of(b"some payload");
        buf[FRAME_HEADER_LEN + 3] ^= 0x10;
        assert!(
            matches!(read_frame(&buf, 0), FrameRead::Bad(reason) if reason.contains("checksum"))
        );
    }

    #[test]
    fn absurd_lengths_are_rejected_without_allocation() {
        let mut buf = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        buf.extend_from_slice(&[0; 16]);
        assert!(matches!(read_frame(&buf, 0), FrameRead::Bad(_)));
    }

    #[test]
    fn reader_stops_at_the_end() {
        let mut reader = Reader::new(&[1, 0, 0, 0, 2]);
        assert_eq!(reader.u32(), Some(1));
        assert_eq!(reader.u32(), None);
        assert_eq!(reader.rest(), &[2]);
    }
}
