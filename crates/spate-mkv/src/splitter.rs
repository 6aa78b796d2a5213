//! Push-based splitting of a PutMedia body into events: the segment's header, each cluster's
//! start (its Timecode) and end (the complete cluster), producer Tags, and the end of input.
//!
//! Bytes arrive in arbitrary slices; the splitter keeps only what it still needs (the element it
//! is inside: at most one cluster, bounded by `max_fragment_bytes`, or one header element,
//! bounded by `max_header_bytes`) plus the last slice pushed. It descends only into Segment and
//! Cluster, keeps EBML header, Info, Tracks and Tags whole, and discards SeekHead, Cues, Void,
//! CRC-32, Chapters, Attachments and unknown elements as they stream by. An unknown-size Segment
//! ends at the next EBML header; an unknown-size Cluster at the next level-0/1 element
//! ([`ids::ends_unknown_cluster`]) or at the end of input.

use bytes::{Buf, Bytes, BytesMut};

use crate::cluster::{ClusterScan, RawCluster};
use crate::ebml::Child;
use crate::error::MkvError;
use crate::header::MediaHeader;
use crate::{ids, vint};

/// Limits and mode of a [`Splitter`].
#[derive(Debug, Clone)]
pub struct SplitterConfig {
    /// Largest cluster, in bytes (error 4001 beyond).
    pub max_fragment_bytes: usize,
    /// Longest cluster, last block − first block (error 4002 beyond).
    pub max_fragment_duration_ms: u64,
    /// Largest EBML header, Info, Tracks or Tags element.
    pub max_header_bytes: usize,
    /// Accept one segment after another, each with its EBML header (GetMedia output). A
    /// PutMedia body has one segment: a second EBML header or Segment is error 4006.
    pub multiple_segments: bool,
}

impl Default for SplitterConfig {
    fn default() -> Self {
        SplitterConfig {
            max_fragment_bytes: 50 * 1024 * 1024,
            max_fragment_duration_ms: 10_000,
            max_header_bytes: 256 * 1024,
            multiple_segments: false,
        }
    }
}

/// What the splitter saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Info and Tracks of a segment, emitted just before its first Cluster.
    Header(MediaHeader),
    /// A Cluster's Timecode was read (TimecodeScale units, as sent): the BUFFERING moment.
    ClusterStart { timecode: u64 },
    /// A complete, validated Cluster.
    ClusterEnd(RawCluster),
    /// A Tags element at segment level (complete element). ffmpeg writes one before the first
    /// Cluster; the producer SDK's follow the cluster they describe. The caller decides which
    /// fragment a Tags belongs to.
    Tags(Bytes),
    /// The input ended cleanly.
    End,
}

#[derive(Debug)]
enum State {
    /// Before an EBML header (start of input, or after a segment ended).
    ExpectEbml,
    /// After the EBML header, before the Segment.
    ExpectSegment,
    /// Between the Segment's children.
    Segment,
    /// Discarding this many more bytes of an element we do not keep.
    Skip(u64),
    /// Inside a Cluster: `buf` starts at its first byte; `scan` is the offset of the next child.
    Cluster {
        size: Option<u64>,
        header_len: usize,
        scan: usize,
        children: ClusterScan,
    },
    /// An error was returned; nothing more is accepted.
    Failed,
}

/// Streaming MKV splitter; see the module docs.
#[derive(Debug)]
pub struct Splitter {
    config: SplitterConfig,
    buf: BytesMut,
    state: State,
    /// Bytes of the current Segment's data not yet consumed; `None` = unknown size.
    segment_left: Option<u64>,
    segments_seen: usize,
    ebml: Option<Bytes>,
    info: Option<Bytes>,
    tracks: Option<Bytes>,
    header: Option<MediaHeader>,
}

impl Splitter {
    pub fn new(config: SplitterConfig) -> Self {
        Splitter {
            config,
            buf: BytesMut::new(),
            state: State::ExpectEbml,
            segment_left: None,
            segments_seen: 0,
            ebml: None,
            info: None,
            tracks: None,
            header: None,
        }
    }

    /// The current segment's header, once its first Cluster began.
    pub fn header(&self) -> Option<&MediaHeader> {
        self.header.as_ref()
    }

    /// Bytes held now (the element being assembled plus unread input), for memory accounting.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Feeds the next bytes. Events are appended to `events` as they complete, so the events
    /// before an error are kept; after an error the splitter refuses everything.
    pub fn push(&mut self, data: &[u8], events: &mut Vec<Event>) -> Result<(), MkvError> {
        if matches!(self.state, State::Failed) {
            return Err(MkvError::invalid("input after an error"));
        }
        self.buf.extend_from_slice(data);
        let result = self.drain(events);
        if result.is_err() {
            self.state = State::Failed;
            self.buf = BytesMut::new();
        }
        result
    }

    /// The input ended: completes an unknown-size Cluster and emits [`Event::End`]. Input that
    /// ends inside an element is error 4006; a known-size Segment cut short at an element
    /// boundary is accepted (Unverified: whether AWS refuses it).
    pub fn finish(&mut self, events: &mut Vec<Event>) -> Result<(), MkvError> {
        let result = self.finish_inner(events);
        self.state = State::Failed;
        self.buf = BytesMut::new();
        result
    }

    fn finish_inner(&mut self, events: &mut Vec<Event>) -> Result<(), MkvError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Failed => return Err(MkvError::invalid("input after an error")),
            State::Cluster {
                size: None,
                scan,
                children,
                ..
            } if scan == self.buf.len() => {
                self.end_cluster(scan, children, events)?;
            }
            State::Cluster { .. } | State::Skip(_) => {
                return Err(MkvError::invalid("input ended inside an element"));
            }
            State::ExpectSegment => {
                return Err(MkvError::invalid("input ended before the Segment"));
            }
            State::ExpectEbml | State::Segment => {}
        }
        if !self.buf.is_empty() {
            return Err(MkvError::invalid("input ended inside an element"));
        }
        events.push(Event::End);
        Ok(())
    }

    /// Handles as much of `buf` as is complete.
    fn drain(&mut self, events: &mut Vec<Event>) -> Result<(), MkvError> {
        loop {
            let progressed = match std::mem::replace(&mut self.state, State::Failed) {
                State::Failed => return Err(MkvError::invalid("input after an error")),
                State::ExpectEbml => self.expect_ebml()?,
                State::ExpectSegment => self.expect_segment()?,
                State::Segment => self.segment_child(events)?,
                State::Skip(left) => self.skip(left)?,
                State::Cluster {
                    size,
                    header_len,
                    scan,
                    children,
                } => self.cluster(size, header_len, scan, children, events)?,
            };
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Reads the header of the element at the start of `buf`, if complete.
    fn peek_header(&self) -> Result<Option<vint::ElementHeader>, MkvError> {
        vint::read_header(&self.buf)
    }

    /// Takes a complete known-size element of at most `max_header_bytes` off `buf`, or answers
    /// `None` while it is incomplete.
    fn take_small_element(
        &mut self,
        header: vint::ElementHeader,
    ) -> Result<Option<Bytes>, MkvError> {
        let total = header
            .total_len()
            .filter(|&t| t <= self.config.max_header_bytes)
            .ok_or_else(|| {
                MkvError::invalid(format!(
                    "element {:#x} of unknown or excessive size",
                    header.id
                ))
            })?;
        if self.buf.len() < total {
            return Ok(None);
        }
        Ok(Some(self.buf.split_to(total).freeze()))
    }

    fn expect_ebml(&mut self) -> Result<bool, MkvError> {
        self.state = State::ExpectEbml;
        let Some(header) = self.peek_header()? else {
            return Ok(false);
        };
        if header.id != ids::EBML {
            return Err(MkvError::invalid(format!(
                "expected an EBML header, found element {:#x}",
                header.id
            )));
        }
        if self.segments_seen > 0 && !self.config.multiple_segments {
            return Err(MkvError::invalid(
                "a second EBML header in the same PutMedia body",
            ));
        }
        let Some(ebml) = self.take_small_element(header)? else {
            return Ok(false);
        };
        self.ebml = Some(ebml);
        self.info = None;
        self.tracks = None;
        self.header = None;
        self.state = State::ExpectSegment;
        Ok(true)
    }

    fn expect_segment(&mut self) -> Result<bool, MkvError> {
        self.state = State::ExpectSegment;
        let Some(header) = self.peek_header()? else {
            return Ok(false);
        };
        if header.id != ids::SEGMENT {
            return Err(MkvError::invalid(format!(
                "expected a Segment, found element {:#x}",
                header.id
            )));
        }
        self.buf.advance(header.len);
        self.segment_left = header.size;
        self.segments_seen += 1;
        self.state = State::Segment;
        Ok(true)
    }

    /// Counts `n` bytes of the current Segment's data as consumed.
    fn consume_segment(&mut self, n: u64) -> Result<(), MkvError> {
        if let Some(left) = self.segment_left {
            self.segment_left = Some(
                left.checked_sub(n)
                    .ok_or_else(|| MkvError::invalid("element overruns its Segment"))?,
            );
        }
        Ok(())
    }

    fn segment_child(&mut self, events: &mut Vec<Event>) -> Result<bool, MkvError> {
        self.state = State::Segment;
        if self.segment_left == Some(0) {
            self.state = State::ExpectEbml;
            return Ok(true);
        }
        let Some(header) = self.peek_header()? else {
            return Ok(false);
        };
        match header.id {
            ids::EBML | ids::SEGMENT if self.segment_left.is_none() => {
                // An unknown-size Segment ends where the next one begins.
                self.state = State::ExpectEbml;
                Ok(true)
            }
            ids::EBML | ids::SEGMENT => {
                Err(MkvError::invalid("EBML header or Segment inside a Segment"))
            }
            ids::CLUSTER => self.begin_cluster(header, events),
            ids::INFO | ids::TRACKS | ids::TAGS => {
                if header.id != ids::TAGS && self.header.is_some() {
                    return Err(MkvError::invalid("Info or Tracks after the first Cluster"));
                }
                let Some(element) = self.take_small_element(header)? else {
                    return Ok(false);
                };
                self.consume_segment(element.len() as u64)?;
                match header.id {
                    ids::INFO => self.info = Some(element),
                    ids::TRACKS => self.tracks = Some(element),
                    _ => events.push(Event::Tags(element)),
                }
                Ok(true)
            }
            _ => {
                let size = header.size.ok_or_else(|| {
                    MkvError::invalid(format!("element {:#x} of unknown size", header.id))
                })?;
                self.buf.advance(header.len);
                self.consume_segment(header.len as u64)?;
                self.state = State::Skip(size);
                Ok(true)
            }
        }
    }

    fn skip(&mut self, left: u64) -> Result<bool, MkvError> {
        let n = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        self.buf.advance(n);
        self.consume_segment(n as u64)?;
        let left = left - n as u64;
        if left == 0 {
            self.state = State::Segment;
            return Ok(true);
        }
        self.state = State::Skip(left);
        Ok(false)
    }

    fn begin_cluster(
        &mut self,
        header: vint::ElementHeader,
        events: &mut Vec<Event>,
    ) -> Result<bool, MkvError> {
        let max = self.config.max_fragment_bytes;
        if header
            .size
            .is_some_and(|s| s.saturating_add(header.len as u64) > max as u64)
        {
            return Err(MkvError::FragmentTooLarge { max });
        }
        if self.header.is_none() {
            let (Some(ebml), Some(info), Some(tracks)) = (&self.ebml, &self.info, &self.tracks)
            else {
                return Err(MkvError::invalid("Cluster before Info and Tracks"));
            };
            let header = MediaHeader::parse(ebml.clone(), info.clone(), tracks.clone())?;
            events.push(Event::Header(header.clone()));
            self.header = Some(header);
        }
        self.state = State::Cluster {
            size: header.size,
            header_len: header.len,
            scan: header.len,
            children: ClusterScan::default(),
        };
        Ok(true)
    }

    fn cluster(
        &mut self,
        size: Option<u64>,
        header_len: usize,
        mut scan: usize,
        mut children: ClusterScan,
        events: &mut Vec<Event>,
    ) -> Result<bool, MkvError> {
        let max = self.config.max_fragment_bytes;
        // Known size: the cluster's end offset in `buf` (checked against `max` at its start).
        let end = size.map(|s| header_len + s as usize);
        loop {
            if Some(scan) == end {
                self.end_cluster(scan, children, events)?;
                return Ok(true);
            }
            let header = match vint::read_header(&self.buf[scan..])? {
                Some(header) => header,
                None => {
                    if self.buf.len() > max {
                        return Err(MkvError::FragmentTooLarge { max });
                    }
                    self.state = State::Cluster {
                        size,
                        header_len,
                        scan,
                        children,
                    };
                    return Ok(false);
                }
            };
            if size.is_none() && ids::ends_unknown_cluster(header.id) {
                self.end_cluster(scan, children, events)?;
                return Ok(true);
            }
            let child_end = header
                .total_len()
                .and_then(|t| t.checked_add(scan))
                .ok_or_else(|| {
                    MkvError::invalid(format!("Cluster child {:#x} of unknown size", header.id))
                })?;
            if end.is_some_and(|e| child_end > e) {
                return Err(MkvError::invalid("Cluster child overruns its Cluster"));
            }
            if child_end > max {
                return Err(MkvError::FragmentTooLarge { max });
            }
            if self.buf.len() < child_end {
                self.state = State::Cluster {
                    size,
                    header_len,
                    scan,
                    children,
                };
                return Ok(false);
            }
            let child = Child {
                header,
                start: scan,
                data_start: scan + header.len,
                end: child_end,
            };
            if let Some(timecode) = children.child(&self.buf, child)? {
                events.push(Event::ClusterStart { timecode });
            }
            scan = child_end;
        }
    }

    /// The cluster occupies `buf[..len]`: takes it off, validates it and emits it.
    fn end_cluster(
        &mut self,
        len: usize,
        scan: ClusterScan,
        events: &mut Vec<Event>,
    ) -> Result<(), MkvError> {
        let data = self.buf.split_to(len).freeze();
        self.consume_segment(len as u64)?;
        let cluster = RawCluster::from_scan(data, scan)?;
        let header = self
            .header
            .as_ref()
            .ok_or_else(|| MkvError::invalid("Cluster without a header"))?;
        cluster.validate(header, self.config.max_fragment_duration_ms)?;
        events.push(Event::ClusterEnd(cluster));
        self.state = State::Segment;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::tests::cluster_body;
    use crate::ebml;
    use crate::header::tests::{ebml_header, info, tracks};
    use crate::tags;

    /// Feeds `input` in slices of the given sizes (cycled), then finishes.
    pub(crate) fn split_sliced(
        config: &SplitterConfig,
        input: &[u8],
        sizes: &mut dyn FnMut() -> usize,
    ) -> (Vec<Event>, Result<(), MkvError>) {
        let mut splitter = Splitter::new(config.clone());
        let mut events = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            let n = sizes().clamp(1, rest.len());
            let (now, later) = rest.split_at(n);
            rest = later;
            if let Err(err) = splitter.push(now, &mut events) {
                return (events, Err(err));
            }
        }
        let result = splitter.finish(&mut events);
        (events, result)
    }

    /// Splits in one slice, one byte at a time and in pseudo-random slices; all must agree.
    pub(crate) fn split_all_ways(
        config: &SplitterConfig,
        input: &[u8],
    ) -> (Vec<Event>, Result<(), MkvError>) {
        let whole = split_sliced(config, input, &mut || usize::MAX);
        assert_eq!(
            split_sliced(config, input, &mut || 1),
            whole,
            "one byte at a time"
        );
        for seed in 1..=8u64 {
            let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut random = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 97) as usize + 1
            };
            assert_eq!(
                split_sliced(config, input, &mut random),
                whole,
                "random slices, seed {seed}"
            );
        }
        whole
    }

    fn element(id: u32, data: &[u8]) -> BytesMut {
        let mut out = BytesMut::new();
        ebml::write_element(&mut out, id, data);
        out
    }

    fn unknown_size(id: u32, data: &[u8]) -> BytesMut {
        let mut out = BytesMut::new();
        vint::write_id(&mut out, id);
        out.extend_from_slice(&vint::UNKNOWN_SIZE);
        out.extend_from_slice(data);
        out
    }

    /// What the KVS producer SDK sends: unknown-size Segment, unknown-size Clusters, a Tags
    /// element after the second cluster.
    pub(crate) fn producer_sdk_input(
        track_list: &[(u64, u64, &str)],
        clusters: &[BytesMut],
    ) -> Vec<u8> {
        let mut segment = BytesMut::new();
        segment.extend_from_slice(&info(1_000_000));
        segment.extend_from_slice(&tracks(track_list));
        for (i, body) in clusters.iter().enumerate() {
            segment.extend_from_slice(&unknown_size(ids::CLUSTER, body));
            if i == 1 {
                tags::write_tags(&mut segment, &[("EVENT", "motion")]);
            }
        }
        let mut out = ebml_header().to_vec();
        out.extend_from_slice(&unknown_size(ids::SEGMENT, &segment));
        out
    }

    const AV: &[(u64, u64, &str)] = &[(1, 1, "V_MPEG/ISO/AVC"), (2, 2, "A_AAC")];

    fn kinds(events: &[Event]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| match e {
                Event::Header(_) => "header",
                Event::ClusterStart { .. } => "start",
                Event::ClusterEnd(_) => "end",
                Event::Tags(_) => "tags",
                Event::End => "eof",
            })
            .collect()
    }

    fn error_id(input: &[u8], config: &SplitterConfig) -> u32 {
        let (_, result) = split_all_ways(config, input);
        result.expect_err("input must be refused").ack_error().id()
    }

    #[test]
    fn producer_sdk_shape_splits_at_unknown_size_clusters() {
        let clusters: Vec<BytesMut> = (0..3)
            .map(|i| cluster_body(i * 1000, &[(1, 0, true), (2, 3, true), (1, 40, false)]))
            .collect();
        let input = producer_sdk_input(AV, &clusters);
        let (events, result) = split_all_ways(&SplitterConfig::default(), &input);
        result.expect("valid input");
        assert_eq!(
            kinds(&events),
            [
                "header", "start", "end", "start", "end", "tags", "start", "end", "eof"
            ]
        );
        let timecodes: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                Event::ClusterStart { timecode } => Some(*timecode),
                _ => None,
            })
            .collect();
        assert_eq!(timecodes, [0, 1000, 2000]);
        let Some(Event::ClusterEnd(first)) = events.get(2) else {
            panic!("third event is a cluster end");
        };
        assert_eq!(first.blocks.len(), 3);
        assert_eq!(first.data.len(), 12 + clusters[0].len());
        let Some(Event::Tags(t)) = events.get(5) else {
            panic!("sixth event is tags");
        };
        assert_eq!(tags::read_tags(t).expect("tags")[0].1, "motion");
    }

    #[test]
    fn known_sizes_and_skipped_elements() {
        let mut segment = BytesMut::new();
        segment.extend_from_slice(&element(ids::SEEK_HEAD, &[0xEC, 0x81, 0]));
        segment.extend_from_slice(&element(ids::VOID, &[0; 20]));
        segment.extend_from_slice(&info(1_000_000));
        segment.extend_from_slice(&tracks(&AV[..1]));
        segment.extend_from_slice(&element(ids::CLUSTER, &cluster_body(0, &[(1, 0, true)])));
        segment.extend_from_slice(&element(ids::CUES, &[0; 300]));
        let mut input = ebml_header().to_vec();
        input.extend_from_slice(&element(ids::SEGMENT, &segment));
        let (events, result) = split_all_ways(&SplitterConfig::default(), &input);
        result.expect("valid");
        assert_eq!(kinds(&events), ["header", "start", "end", "eof"]);
    }

    #[test]
    fn multiple_segments_only_when_allowed() {
        let one = producer_sdk_input(&AV[..1], &[cluster_body(0, &[(1, 0, true)])]);
        let two = [one.clone(), one].concat();
        let config = SplitterConfig {
            multiple_segments: true,
            ..SplitterConfig::default()
        };
        let (events, result) = split_all_ways(&config, &two);
        result.expect("valid");
        assert_eq!(
            kinds(&events),
            ["header", "start", "end", "header", "start", "end", "eof"]
        );
        assert_eq!(error_id(&two, &SplitterConfig::default()), 4006);
    }

    #[test]
    fn events_before_an_error_are_kept() {
        let mut input = producer_sdk_input(&AV[..1], &[cluster_body(0, &[(1, 0, true)])]);
        input.extend_from_slice(&unknown_size(ids::CLUSTER, &[0x00, 0x00]));
        let (events, result) = split_sliced(&SplitterConfig::default(), &input, &mut || usize::MAX);
        assert_eq!(kinds(&events), ["header", "start", "end"]);
        assert_eq!(result.expect_err("garbage").ack_error().id(), 4006);
    }

    #[test]
    fn invalid_mkv_data_4006() {
        let config = SplitterConfig::default();
        let good = producer_sdk_input(AV, &[cluster_body(0, &[(1, 0, true), (2, 0, true)])]);
        // Garbage, a truncated body, a Segment first, a Cluster before Tracks.
        assert_eq!(error_id(b"GET / HTTP/1.1\r\n", &config), 4006);
        assert_eq!(error_id(&good[..good.len() - 2], &config), 4006);
        assert_eq!(error_id(&unknown_size(ids::SEGMENT, &[]), &config), 4006);
        let mut no_tracks = ebml_header().to_vec();
        no_tracks.extend_from_slice(&unknown_size(
            ids::SEGMENT,
            &[
                info(1_000_000).to_vec(),
                unknown_size(ids::CLUSTER, &cluster_body(0, &[])).to_vec(),
            ]
            .concat(),
        ));
        assert_eq!(error_id(&no_tracks, &config), 4006);
        // A bad size vint inside a cluster.
        let mut bad_vint = good.clone();
        bad_vint.extend_from_slice(&unknown_size(ids::CLUSTER, &[0xE7, 0x00]));
        assert_eq!(error_id(&bad_vint, &config), 4006);
        // An EBML header in the middle of a known-size element is still refused.
        let header_again = [good.clone(), ebml_header().to_vec()].concat();
        assert_eq!(error_id(&header_again, &config), 4006);
        // An oversized header element.
        let small = SplitterConfig {
            max_header_bytes: 8,
            ..SplitterConfig::default()
        };
        assert_eq!(error_id(&good, &small), 4006);
    }

    #[test]
    fn track_errors_4012_4010_4011() {
        let config = SplitterConfig::default();
        let four = [(1, 1, "V"), (2, 2, "A"), (3, 2, "A"), (4, 2, "A")];
        assert_eq!(
            error_id(
                &producer_sdk_input(&four, &[cluster_body(0, &[(1, 0, true)])]),
                &config
            ),
            4012
        );
        let wrong_track = producer_sdk_input(AV, &[cluster_body(0, &[(1, 0, true), (3, 0, true)])]);
        assert_eq!(error_id(&wrong_track, &config), 4010);
        let no_audio = producer_sdk_input(AV, &[cluster_body(0, &[(1, 0, true), (1, 40, false)])]);
        assert_eq!(error_id(&no_audio, &config), 4011);
    }

    #[test]
    fn limits_4001_4002() {
        let blocks: Vec<(u8, i16, bool)> = (0..200).map(|i| (1, i * 10, i == 0)).collect();
        let input = producer_sdk_input(&AV[..1], &[cluster_body(0, &blocks)]);
        let small = SplitterConfig {
            max_fragment_bytes: 1000,
            ..SplitterConfig::default()
        };
        assert_eq!(error_id(&input, &small), 4001);
        let known = [
            ebml_header().to_vec(),
            unknown_size(
                ids::SEGMENT,
                &[
                    info(1_000_000).to_vec(),
                    tracks(&AV[..1]).to_vec(),
                    element(ids::CLUSTER, &[0; 2000]).to_vec(),
                ]
                .concat(),
            )
            .to_vec(),
        ]
        .concat();
        assert_eq!(error_id(&known[..known.len() - 1500], &small), 4001);
        let short = SplitterConfig {
            max_fragment_duration_ms: 1000,
            ..SplitterConfig::default()
        };
        assert_eq!(error_id(&input, &short), 4002);
        assert!(split_all_ways(&SplitterConfig::default(), &input).1.is_ok());
    }

    #[test]
    fn tiny_elements_cost_no_memory_and_blocks_are_capped() {
        let config = SplitterConfig::default();
        let mut voids = cluster_body(0, &[(1, 0, true)]);
        for _ in 0..100_000 {
            voids.extend_from_slice(&[0xEC, 0x80]);
        }
        let input = producer_sdk_input(&AV[..1], &[voids]);
        let (events, result) = split_sliced(&config, &input, &mut || 65_536);
        result.expect("voids are fine");
        let Some(Event::ClusterEnd(cluster)) = events.get(2) else {
            panic!("a cluster");
        };
        assert_eq!(cluster.children.len(), 2, "Timecode and the block only");

        let blocks: Vec<(u8, i16, bool)> = (0..=crate::cluster::MAX_BLOCKS)
            .map(|_| (1, 0, true))
            .collect();
        let input = producer_sdk_input(&AV[..1], &[cluster_body(0, &blocks)]);
        let (_, result) = split_sliced(&config, &input, &mut || 65_536);
        assert_eq!(result.expect_err("too many blocks").ack_error().id(), 4001);
    }

    #[test]
    fn refuses_input_after_error_and_accepts_empty_body() {
        let mut splitter = Splitter::new(SplitterConfig::default());
        let mut events = Vec::new();
        assert!(splitter.push(b"\x00", &mut events).is_err());
        assert!(splitter.push(b"", &mut events).is_err());
        let (events, result) = split_sliced(&SplitterConfig::default(), &[], &mut || 1);
        result.expect("empty body");
        assert_eq!(events, [Event::End]);
    }
}
