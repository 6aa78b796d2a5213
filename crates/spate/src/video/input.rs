//! Reading the MKV given to `spate video put`, incrementally (an endless pipe works): the
//! segment's header (EBML header, Info, Tracks) and each Cluster with its blocks.
//!
//! Not `spate_mkv::Splitter`: that one applies PutMedia's checks to every cluster it reads (a
//! declared track without frames in the cluster is error 4011), and ffmpeg's own clusters fail
//! them when it writes to a pipe (32 KiB clusters: a large key frame can fill one alone). This
//! reader only finds the elements; `spate_mkv` parses the header ([`MediaHeader`]) and the
//! blocks ([`RawCluster`]). Everything else at segment level (SeekHead, Cues, Tags, Void,
//! Chapters...) is skipped; a second segment is refused by name.

use bytes::{Buf, Bytes, BytesMut};
use spate_mkv::{MediaHeader, MkvError, RawCluster, ids, vint};

/// Largest input cluster held in memory (the service takes fragments up to 50 MiB).
pub const MAX_CLUSTER_BYTES: usize = 64 * 1024 * 1024;
/// Largest EBML header, Info or Tracks element.
const MAX_HEADER_BYTES: usize = 1024 * 1024;

/// Why the input cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the input is not valid MKV: {0}")]
    Mkv(#[from] MkvError),
    #[error("the input is not valid MKV: {0}")]
    Invalid(String),
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
}

/// What the reader found.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    /// The segment's header, just before its first Cluster.
    Header(MediaHeader),
    Cluster(RawCluster),
}

#[derive(Debug)]
enum State {
    ExpectEbml,
    ExpectSegment,
    Segment,
    /// Discarding this many more bytes of a skipped element.
    Skip(u64),
    /// Inside a Cluster whose first byte starts `buf`; `scan` = offset of its next child.
    Cluster {
        size: Option<u64>,
        header_len: usize,
        scan: usize,
    },
    /// The (known-size) segment ended.
    SegmentEnded,
}

/// Push-based reader; see the module docs.
#[derive(Debug)]
pub struct MkvInput {
    buf: BytesMut,
    state: State,
    /// Bytes of the Segment's data still to come; `None` = unknown size.
    segment_left: Option<u64>,
    ebml: Option<Bytes>,
    info: Option<Bytes>,
    tracks: Option<Bytes>,
    header_sent: bool,
}

impl Default for MkvInput {
    fn default() -> Self {
        Self::new()
    }
}

impl MkvInput {
    pub fn new() -> Self {
        MkvInput {
            buf: BytesMut::new(),
            state: State::ExpectEbml,
            segment_left: None,
            ebml: None,
            info: None,
            tracks: None,
            header_sent: false,
        }
    }

    /// Feeds the next bytes; complete elements are appended to `events`.
    pub fn push(&mut self, data: &[u8], events: &mut Vec<InputEvent>) -> Result<(), InputError> {
        self.buf.extend_from_slice(data);
        while self.step(events)? {}
        Ok(())
    }

    /// The input ended: completes an unknown-size Cluster; refuses input cut inside an element.
    pub fn finish(&mut self, events: &mut Vec<InputEvent>) -> Result<(), InputError> {
        if let State::Cluster {
            size: None,
            header_len,
            scan,
        } = self.state
            && scan == self.buf.len()
        {
            self.end_cluster(header_len, scan, events)?;
        }
        match self.state {
            State::Segment | State::SegmentEnded if self.buf.is_empty() => Ok(()),
            State::ExpectEbml if self.buf.is_empty() => {
                Err(InputError::Invalid("the input is empty".into()))
            }
            _ => Err(InputError::Invalid(
                "the input ended inside an element".into(),
            )),
        }
    }

    /// One step over `buf`; `false` when more input is needed.
    fn step(&mut self, events: &mut Vec<InputEvent>) -> Result<bool, InputError> {
        match self.state {
            State::Skip(left) => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                self.buf.advance(n);
                self.consume_segment(n)?;
                let left = left - n as u64;
                self.state = if left == 0 {
                    State::Segment
                } else {
                    State::Skip(left)
                };
                return Ok(left == 0 && !self.buf.is_empty());
            }
            State::Cluster {
                size,
                header_len,
                scan,
            } => return self.cluster(size, header_len, scan, events),
            _ => {}
        }
        let Some(header) = vint::read_header(&self.buf)? else {
            return Ok(false);
        };
        match (&self.state, header.id) {
            (State::ExpectEbml, ids::EBML) => {
                let Some(element) = self.take_small(header)? else {
                    return Ok(false);
                };
                self.ebml = Some(element);
                self.state = State::ExpectSegment;
            }
            (State::ExpectEbml, id) => {
                return Err(InputError::Invalid(format!(
                    "expected an EBML header, found element {id:#x}"
                )));
            }
            (State::ExpectSegment, ids::SEGMENT) => {
                self.buf.advance(header.len);
                self.segment_left = header.size;
                self.state = State::Segment;
            }
            (State::ExpectSegment, id) => {
                return Err(InputError::Invalid(format!(
                    "expected a Segment, found element {id:#x}"
                )));
            }
            (State::Segment | State::SegmentEnded, ids::EBML | ids::SEGMENT) => {
                return Err(InputError::Unsupported(
                    "a second MKV segment in one input (one PutMedia carries one segment)",
                ));
            }
            (State::SegmentEnded, id) => {
                return Err(InputError::Invalid(format!(
                    "element {id:#x} after the Segment's end"
                )));
            }
            (State::Segment, ids::INFO | ids::TRACKS) => {
                if self.header_sent {
                    return Err(InputError::Unsupported(
                        "Info or Tracks after the first Cluster (tracks changing mid-stream)",
                    ));
                }
                let Some(element) = self.take_small(header)? else {
                    return Ok(false);
                };
                self.consume_segment(element.len())?;
                if header.id == ids::INFO {
                    self.info = Some(element);
                } else {
                    self.tracks = Some(element);
                }
            }
            (State::Segment, ids::CLUSTER) => {
                if header
                    .total_len()
                    .is_some_and(|total| total > MAX_CLUSTER_BYTES)
                    || header.size.is_some_and(|s| s > MAX_CLUSTER_BYTES as u64)
                {
                    return Err(self.too_large());
                }
                if !self.header_sent {
                    let (Some(ebml), Some(info), Some(tracks)) =
                        (&self.ebml, &self.info, &self.tracks)
                    else {
                        return Err(InputError::Invalid(
                            "a Cluster before Info and Tracks".into(),
                        ));
                    };
                    let header = MediaHeader::parse(ebml.clone(), info.clone(), tracks.clone())?;
                    events.push(InputEvent::Header(header));
                    self.header_sent = true;
                }
                self.state = State::Cluster {
                    size: header.size,
                    header_len: header.len,
                    scan: header.len,
                };
            }
            (State::Segment, id) => {
                let size = header.size.ok_or_else(|| {
                    InputError::Invalid(format!("segment child {id:#x} of unknown size"))
                })?;
                self.buf.advance(header.len);
                self.consume_segment(header.len)?;
                self.state = State::Skip(size);
            }
            (State::Skip(_) | State::Cluster { .. }, _) => {
                unreachable!("handled before reading a header")
            }
        }
        if self.segment_left == Some(0) && matches!(self.state, State::Segment) {
            self.state = State::SegmentEnded;
        }
        Ok(true)
    }

    /// Scans a Cluster's children as they complete; emits it once its end is known.
    fn cluster(
        &mut self,
        size: Option<u64>,
        header_len: usize,
        mut scan: usize,
        events: &mut Vec<InputEvent>,
    ) -> Result<bool, InputError> {
        let end = size.map(|s| header_len + s as usize);
        loop {
            if Some(scan) == end {
                self.end_cluster(header_len, scan, events)?;
                return Ok(true);
            }
            let child = match vint::read_header(&self.buf[scan..])? {
                Some(child) => child,
                None => break,
            };
            if size.is_none() && ids::ends_unknown_cluster(child.id) {
                self.end_cluster(header_len, scan, events)?;
                return Ok(true);
            }
            let child_end = child
                .total_len()
                .and_then(|total| total.checked_add(scan))
                .ok_or_else(|| {
                    InputError::Invalid(format!("Cluster child {:#x} of unknown size", child.id))
                })?;
            if end.is_some_and(|e| child_end > e) {
                return Err(InputError::Invalid(
                    "a Cluster child overruns its Cluster".into(),
                ));
            }
            if child_end > MAX_CLUSTER_BYTES {
                return Err(self.too_large());
            }
            if self.buf.len() < child_end {
                break;
            }
            scan = child_end;
        }
        self.state = State::Cluster {
            size,
            header_len,
            scan,
        };
        Ok(false)
    }

    /// The cluster occupies `buf[..len]`: parses it (as a known-size element) and emits it.
    fn end_cluster(
        &mut self,
        header_len: usize,
        len: usize,
        events: &mut Vec<InputEvent>,
    ) -> Result<(), InputError> {
        let raw = self.buf.split_to(len);
        self.consume_segment(len)?;
        let mut element = BytesMut::with_capacity(len + 8);
        vint::write_header(&mut element, ids::CLUSTER, (len - header_len) as u64);
        element.extend_from_slice(&raw[header_len..]);
        events.push(InputEvent::Cluster(RawCluster::parse(element.freeze())?));
        self.state = if self.segment_left == Some(0) {
            State::SegmentEnded
        } else {
            State::Segment
        };
        Ok(())
    }

    /// A complete small element off `buf`, `None` while incomplete.
    fn take_small(&mut self, header: vint::ElementHeader) -> Result<Option<Bytes>, InputError> {
        let total = header
            .total_len()
            .filter(|&total| total <= MAX_HEADER_BYTES)
            .ok_or_else(|| {
                InputError::Invalid(format!(
                    "element {:#x} of unknown or excessive size",
                    header.id
                ))
            })?;
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(total).freeze()))
    }

    fn consume_segment(&mut self, n: usize) -> Result<(), InputError> {
        if let Some(left) = self.segment_left {
            self.segment_left =
                Some(left.checked_sub(n as u64).ok_or_else(|| {
                    InputError::Invalid("an element overruns its Segment".into())
                })?);
        }
        Ok(())
    }

    fn too_large(&self) -> InputError {
        InputError::Invalid(format!("a Cluster larger than {MAX_CLUSTER_BYTES} bytes"))
    }
}

/// A Cluster's block elements (SimpleBlock or BlockGroup) with their parsed blocks, in order.
pub fn block_elements(
    cluster: &RawCluster,
) -> impl Iterator<Item = (&[u8], usize, &spate_mkv::BlockRef)> {
    cluster
        .children
        .iter()
        .filter(|child| matches!(child.header.id, ids::SIMPLE_BLOCK | ids::BLOCK_GROUP))
        .zip(&cluster.blocks)
        .map(|(child, block)| {
            let element = &cluster.data[child.start..child.end];
            // The block header's timecode sits right before its frame: i16 then a flags byte.
            (element, block.frame.start - child.start - 3, block)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], piece: usize) -> Vec<InputEvent> {
        let mut reader = MkvInput::new();
        let mut events = Vec::new();
        for slice in input.chunks(piece) {
            reader.push(slice, &mut events).expect("push");
        }
        reader.finish(&mut events).expect("finish");
        events
    }

    #[test]
    fn reads_unknown_size_clusters_the_way_it_reads_known_size_ones() {
        let known = read_all(crate::video::testdata::AV2, 4096);
        // The same file with every Cluster and the Segment of unknown size.
        let unknown = crate::video::testdata::with_unknown_sizes(crate::video::testdata::AV2);
        for piece in [1, 7, 4096] {
            assert_eq!(read_all(&unknown, piece), known, "pieces of {piece}");
        }
        assert_eq!(known.len(), 3);
        assert!(matches!(known[0], InputEvent::Header(_)));
    }

    #[test]
    fn refuses_a_second_segment_and_truncated_input() {
        let mut twice = crate::video::testdata::AV2.to_vec();
        twice.extend_from_slice(crate::video::testdata::AV2);
        let mut reader = MkvInput::new();
        let err = reader
            .push(&twice, &mut Vec::new())
            .expect_err("two segments");
        assert!(err.to_string().contains("second MKV segment"), "{err}");

        let cut = &crate::video::testdata::AV2[..crate::video::testdata::AV2.len() - 10];
        let mut reader = MkvInput::new();
        let mut events = Vec::new();
        reader.push(cut, &mut events).expect("push");
        assert!(reader.finish(&mut events).is_err());
    }
}
