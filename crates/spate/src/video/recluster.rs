//! Re-clustering MKV the way the Kinesis Video producer SDK sends it: one segment (EBML header,
//! Segment of unknown size, the input's Info and Tracks) and one Cluster of unknown size per
//! fragment, a fragment starting at each key frame of the video track. Pure: blocks in, bytes
//! out, streamed block by block (a fragment is never held whole; [`Reclusterer::finish`] writes
//! the few blocks held at the end).
//!
//! Rules, in the input's TimecodeScale units:
//! - With a video track: a new fragment at each of its key frames. Other tracks' blocks timed
//!   before that key frame still go into the previous fragment, even when they come after it in
//!   the input (ffmpeg interleaves by decode time and buffers an audio packet into the next
//!   cluster), so that no fragment's blocks start before the previous fragment's end (Spate's
//!   4004 rule); the new fragment is held (at most [`NEXT_HOLD_MS`]) until they are past.
//!   Video non-key frames before the first key frame are dropped (undecodable); other tracks'
//!   blocks before it are written into the first fragment, after the key frame (their relative
//!   timecodes negative).
//! - Without one (audio only): a new fragment every [`NO_VIDEO_FRAGMENT_MS`].
//! - Either way a fragment is cut early, at whatever block comes, when taking the block would
//!   make it last longer than [`MAX_FRAGMENT_MS`] or put the block's relative timecode out of
//!   the i16 range.
//! - Cluster timecodes: RELATIVE counts from the first fragment's start (so the first is 0);
//!   ABSOLUTE is the producer start time plus that offset. Block bytes are copied unchanged but
//!   for their 2-byte relative timecode.
//! - Producer `Tags`, Cues, SeekHead and the like are not sent.

use bytes::{BufMut, BytesMut};
use spate_mkv::{MediaHeader, RawCluster, TrackKind, ebml, ids, vint};

use super::input::block_elements;

/// Longest fragment (last block − first block), as the service allows.
pub const MAX_FRAGMENT_MS: u64 = 10_000;
/// Fragment length when no video track decides where fragments start.
/// Unverified: 2 s is the producer SDK's default fragment duration; how it cuts a stream without
/// video was not checked.
pub const NO_VIDEO_FRAGMENT_MS: u64 = 2_000;
/// Blocks held while waiting for the first video key frame, or in a held next fragment, at most.
const MAX_HELD_BLOCKS: usize = 4096;
/// Longest a next fragment is held waiting for the other tracks to pass its key frame.
const NEXT_HOLD_MS: u64 = 1_000;

/// PutMedia's `x-amzn-fragment-timecode-type`, with what ABSOLUTE times count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimecodeMode {
    /// Cluster timecodes count from the producer start timestamp header.
    Relative,
    /// Cluster timecodes are epoch times: `start_ms` + the offset from the first fragment.
    Absolute { start_ms: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum ReclusterError {
    #[error("block times go backwards past the first fragment's start")]
    TimeBeforeStart,
    #[error("timecode arithmetic overflows (TimecodeScale {0} ns)")]
    Overflow(u64),
    #[error("a block before the header")]
    NoHeader,
}

/// The fragment being written.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// Its Cluster's time (input units).
    start: i64,
    first: i64,
    last: i64,
}

/// A fragment started at a video key frame, held until the other tracks' blocks are past it.
#[derive(Debug)]
struct Next {
    start: i64,
    blocks: Vec<Held>,
}

/// A block held (until the first video key frame, or in [`Next`]).
#[derive(Debug)]
struct Held {
    time: i64,
    element: Vec<u8>,
    timecode_at: usize,
}

/// A fragment started: its cluster timecode as sent, in ms (the acks' `FragmentTimecode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentStarted {
    pub timecode_ms: i64,
}

/// Streaming re-clusterer; see the module docs.
#[derive(Debug)]
pub struct Reclusterer {
    mode: TimecodeMode,
    scale_ns: u64,
    video_track: Option<u64>,
    /// Input time of the first fragment's start.
    base: Option<i64>,
    /// ABSOLUTE: the producer start in input units.
    start_units: i64,
    open: Option<Open>,
    next: Option<Next>,
    /// Tracks besides the video one are declared.
    has_other_tracks: bool,
    held: Vec<Held>,
    dropped: usize,
    fragments: Vec<FragmentStarted>,
}

impl Reclusterer {
    pub fn new(mode: TimecodeMode) -> Self {
        Reclusterer {
            mode,
            scale_ns: 1_000_000,
            video_track: None,
            base: None,
            start_units: 0,
            open: None,
            next: None,
            has_other_tracks: false,
            held: Vec::new(),
            dropped: 0,
            fragments: Vec::new(),
        }
    }

    /// Blocks dropped so far (video before the first key frame, or held too long).
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The fragments started since the last call.
    pub fn take_started(&mut self) -> Vec<FragmentStarted> {
        std::mem::take(&mut self.fragments)
    }

    /// Writes the segment's start: EBML header, Segment (unknown size), Info, Tracks.
    pub fn header(
        &mut self,
        header: &MediaHeader,
        out: &mut BytesMut,
    ) -> Result<(), ReclusterError> {
        self.scale_ns = header.timecode_scale_ns;
        self.video_track = header
            .tracks_info
            .iter()
            .find(|track| track.kind == TrackKind::Video)
            .map(|track| track.number);
        self.has_other_tracks = header.tracks_info.len() > 1;
        if let TimecodeMode::Absolute { start_ms } = self.mode {
            let units = i128::from(start_ms) * 1_000_000 / i128::from(self.scale_ns);
            self.start_units =
                i64::try_from(units).map_err(|_| ReclusterError::Overflow(self.scale_ns))?;
        }
        out.extend_from_slice(&header.ebml);
        vint::write_id(out, ids::SEGMENT);
        out.extend_from_slice(&vint::UNKNOWN_SIZE);
        out.extend_from_slice(&header.info);
        out.extend_from_slice(&header.tracks);
        Ok(())
    }

    /// Writes the blocks of one input cluster.
    pub fn cluster(
        &mut self,
        cluster: &RawCluster,
        out: &mut BytesMut,
    ) -> Result<(), ReclusterError> {
        for (element, timecode_at, block) in block_elements(cluster) {
            self.block(
                block.track,
                block.timecode,
                block.key,
                element,
                timecode_at,
                out,
            )?;
        }
        Ok(())
    }

    fn block(
        &mut self,
        track: u64,
        time: i64,
        key: bool,
        element: &[u8],
        timecode_at: usize,
        out: &mut BytesMut,
    ) -> Result<(), ReclusterError> {
        let is_video = self.video_track == Some(track);
        let Some(open) = self.open else {
            return self.before_first_fragment(time, key, is_video, element, timecode_at, out);
        };
        if let Some(next) = &self.next {
            let next_start = next.start;
            if !is_video && time < next_start && self.fits(&open, time) {
                // Still before the key frame that starts the next fragment: this one's.
                self.append(time, element, timecode_at, out);
                return Ok(());
            }
            if is_video && !key && self.next_takes(next_start, time) {
                self.hold_next(time, element, timecode_at);
                return Ok(());
            }
            self.commit_next(out)?;
            return self.block(track, time, key, element, timecode_at, out);
        }
        if is_video && key {
            if self.has_other_tracks {
                // Other tracks' blocks timed before this key frame may still come (ffmpeg
                // interleaves by decode time): hold the new fragment until they are past it.
                self.next = Some(Next {
                    start: time,
                    blocks: Vec::new(),
                });
                self.hold_next(time, element, timecode_at);
            } else {
                self.start_fragment(time, out)?;
                self.append(time, element, timecode_at, out);
            }
            return Ok(());
        }
        let by_time = self.video_track.is_none()
            && self.units_to_ms(time.saturating_sub(open.start)) >= NO_VIDEO_FRAGMENT_MS as i128;
        if by_time || !self.fits(&open, time) {
            self.start_fragment(time, out)?;
        }
        self.append(time, element, timecode_at, out);
        Ok(())
    }

    /// Whether the open fragment can take a block at `time`: at most [`MAX_FRAGMENT_MS`] long
    /// and its relative timecode within the i16 range.
    fn fits(&self, open: &Open, time: i64) -> bool {
        let first = open.first.min(time);
        let last = open.last.max(time);
        self.units_to_ms(last.saturating_sub(first)) <= MAX_FRAGMENT_MS as i128
            && i16::try_from(time.saturating_sub(open.start)).is_ok()
    }

    /// Whether the held next fragment takes a video block at `time`.
    fn next_takes(&self, next_start: i64, time: i64) -> bool {
        let held = self.next.as_ref().map_or(0, |next| next.blocks.len());
        held < MAX_HELD_BLOCKS
            && i16::try_from(time.saturating_sub(next_start)).is_ok()
            && self.units_to_ms(i64::try_from(time.abs_diff(next_start)).unwrap_or(i64::MAX))
                <= NEXT_HOLD_MS as i128
    }

    fn hold_next(&mut self, time: i64, element: &[u8], timecode_at: usize) {
        if let Some(next) = &mut self.next {
            next.blocks.push(Held {
                time,
                element: element.to_vec(),
                timecode_at,
            });
        }
    }

    /// Writes the held next fragment; it becomes the open one.
    fn commit_next(&mut self, out: &mut BytesMut) -> Result<(), ReclusterError> {
        let Some(next) = self.next.take() else {
            return Ok(());
        };
        self.start_fragment(next.start, out)?;
        for held in next.blocks {
            self.append(held.time, &held.element, held.timecode_at, out);
        }
        Ok(())
    }

    /// The input ended: writes what is still held.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), ReclusterError> {
        self.commit_next(out)
    }

    fn before_first_fragment(
        &mut self,
        time: i64,
        key: bool,
        is_video: bool,
        element: &[u8],
        timecode_at: usize,
        out: &mut BytesMut,
    ) -> Result<(), ReclusterError> {
        if self.video_track.is_some() && !(is_video && key) {
            // Unverified: the producer SDK also drops frames until the first key frame; keeping
            // the other tracks' earlier blocks (after the key frame) is Spate's choice.
            if is_video {
                self.dropped += 1;
            } else {
                if self.held.len() == MAX_HELD_BLOCKS {
                    self.held.remove(0);
                    self.dropped += 1;
                }
                self.held.push(Held {
                    time,
                    element: element.to_vec(),
                    timecode_at,
                });
            }
            return Ok(());
        }
        self.base = Some(time);
        self.start_fragment(time, out)?;
        self.append(time, element, timecode_at, out);
        for held in std::mem::take(&mut self.held) {
            let fits = i16::try_from(held.time.saturating_sub(time)).is_ok()
                && self.units_to_ms(time.saturating_sub(held.time)) <= MAX_FRAGMENT_MS as i128;
            if !fits {
                self.dropped += 1;
                continue;
            }
            self.append(held.time, &held.element, held.timecode_at, out);
        }
        Ok(())
    }

    /// Opens a Cluster of unknown size whose time is `time` (input units).
    fn start_fragment(&mut self, time: i64, out: &mut BytesMut) -> Result<(), ReclusterError> {
        let base = self.base.ok_or(ReclusterError::NoHeader)?;
        let offset = time
            .checked_sub(base)
            .ok_or(ReclusterError::Overflow(self.scale_ns))?;
        if offset < 0 {
            return Err(ReclusterError::TimeBeforeStart);
        }
        let timecode = offset
            .checked_add(self.start_units)
            .ok_or(ReclusterError::Overflow(self.scale_ns))?;
        let timecode_ms = i64::try_from(self.units_to_ms(timecode))
            .map_err(|_| ReclusterError::Overflow(self.scale_ns))?;
        vint::write_id(out, ids::CLUSTER);
        out.extend_from_slice(&vint::UNKNOWN_SIZE);
        ebml::write_uint(out, ids::TIMECODE, timecode.unsigned_abs());
        self.open = Some(Open {
            start: time,
            first: time,
            last: time,
        });
        self.fragments.push(FragmentStarted { timecode_ms });
        Ok(())
    }

    /// Copies a block element into the open cluster, its relative timecode set against the
    /// cluster's time (the caller checked it fits an i16).
    fn append(&mut self, time: i64, element: &[u8], timecode_at: usize, out: &mut BytesMut) {
        let start = match &mut self.open {
            Some(open) => {
                open.first = open.first.min(time);
                open.last = open.last.max(time);
                open.start
            }
            None => time,
        };
        let relative = i16::try_from(time.saturating_sub(start)).unwrap_or(i16::MAX);
        out.put_slice(&element[..timecode_at]);
        out.put_slice(&relative.to_be_bytes());
        out.put_slice(&element[timecode_at + 2..]);
    }

    fn units_to_ms(&self, units: i64) -> i128 {
        i128::from(units) * i128::from(self.scale_ns) / 1_000_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::input::{InputEvent, MkvInput};
    use crate::video::testdata::{AV2, AV2_BFRAMES, pieces, synthetic};
    use spate_mkv::{Event, Splitter, SplitterConfig, TimecodeType, check_order, fragment_times};

    /// (track, absolute time, frame bytes) of every block, sorted.
    type Blocks = Vec<(u64, i64, Vec<u8>)>;

    fn recluster(
        input: &[u8],
        mode: TimecodeMode,
        piece: &mut dyn FnMut() -> usize,
    ) -> (BytesMut, Blocks) {
        let (out, blocks, dropped) = recluster_counting_drops(input, mode, piece);
        assert_eq!(dropped, 0);
        (out, blocks)
    }

    /// Reclusters `input` fed in pieces; answers the output, the input's blocks (sorted) and
    /// how many were dropped.
    fn recluster_counting_drops(
        input: &[u8],
        mode: TimecodeMode,
        piece: &mut dyn FnMut() -> usize,
    ) -> (BytesMut, Blocks, usize) {
        let mut reader = MkvInput::new();
        let mut recluster = Reclusterer::new(mode);
        let mut out = BytesMut::new();
        let mut events = Vec::new();
        let mut blocks = Vec::new();
        let mut handle = |events: &mut Vec<InputEvent>, out: &mut BytesMut| {
            for event in events.drain(..) {
                match event {
                    InputEvent::Header(header) => recluster.header(&header, out).expect("header"),
                    InputEvent::Cluster(cluster) => {
                        for block in &cluster.blocks {
                            blocks.push((
                                block.track,
                                block.timecode,
                                cluster.frame(block).to_vec(),
                            ));
                        }
                        recluster.cluster(&cluster, out).expect("cluster");
                    }
                }
            }
        };
        for slice in pieces(input, piece) {
            reader.push(slice, &mut events).expect("push");
            handle(&mut events, &mut out);
        }
        reader.finish(&mut events).expect("finish");
        handle(&mut events, &mut out);
        recluster.finish(&mut out).expect("finish");
        blocks.sort();
        (out, blocks, recluster.dropped())
    }

    /// Splits PutMedia output with the service's own splitter (its checks included).
    fn split(output: &[u8]) -> (spate_mkv::MediaHeader, Vec<RawCluster>) {
        let mut splitter = Splitter::new(SplitterConfig::default());
        let mut events = Vec::new();
        for slice in output.chunks(1000) {
            splitter.push(slice, &mut events).expect("output splits");
        }
        splitter.finish(&mut events).expect("output ends cleanly");
        let mut header = None;
        let mut clusters = Vec::new();
        for event in events {
            match event {
                Event::Header(h) => header = Some(h),
                Event::ClusterEnd(c) => clusters.push(c),
                _ => {}
            }
        }
        (header.expect("header"), clusters)
    }

    fn check(input: &[u8], mode: TimecodeMode) {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut odd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 997) as usize + 1
        };
        let (output, input_blocks) = recluster(input, mode, &mut odd);
        let (whole, _) = recluster(input, mode, &mut || usize::MAX);
        assert_eq!(
            output, whole,
            "the output does not depend on how the input is cut"
        );

        let (header, clusters) = split(&output);
        assert_eq!(clusters.len(), 2);
        let offset = match mode {
            TimecodeMode::Relative => 0,
            TimecodeMode::Absolute { start_ms } => start_ms,
        };
        // The first video key frame of both fixtures is at 21 ms (AAC priming), the second at
        // 1021 ms (ffprobe -show_packets).
        let base = 21;
        let timecodes: Vec<u64> = clusters.iter().map(|c| c.timecode).collect();
        assert_eq!(timecodes, [offset as u64, offset as u64 + 1000]);
        let (kind, start) = match mode {
            TimecodeMode::Relative => (TimecodeType::Relative, Some(1_726_677_688_724)),
            TimecodeMode::Absolute { .. } => (TimecodeType::Absolute, None),
        };
        let mut previous = None;
        for cluster in &clusters {
            let times = fragment_times(cluster, header.timecode_scale_ns, kind, start)
                .expect("fragment times");
            check_order(previous.as_ref(), &times)
                .expect("no fragment starts before the last ends");
            previous = Some(times);
        }
        let mut output_blocks = Vec::new();
        for cluster in &clusters {
            let first = cluster.blocks.first().expect("a block");
            assert_eq!(
                (first.track, first.key),
                (1, true),
                "starts with a video key frame"
            );
            assert_eq!(first.timecode, cluster.timecode as i64);
            for block in &cluster.blocks {
                let time = block.timecode - offset + base;
                output_blocks.push((block.track, time, cluster.frame(block).to_vec()));
            }
        }
        output_blocks.sort();
        assert_eq!(
            output_blocks, input_blocks,
            "every block once, same time and bytes"
        );
        assert_eq!(header.tracks_info.len(), 2);
    }

    #[test]
    fn fixtures_recluster_at_video_key_frames_in_relative_mode() {
        check(AV2, TimecodeMode::Relative);
        check(AV2_BFRAMES, TimecodeMode::Relative);
    }

    #[test]
    fn fixtures_recluster_at_video_key_frames_in_absolute_mode() {
        let start_ms = 1_726_677_688_724;
        check(AV2, TimecodeMode::Absolute { start_ms });
        check(AV2_BFRAMES, TimecodeMode::Absolute { start_ms });
    }

    /// Cluster timecodes of the output, and its blocks as (track, cluster + relative, payload).
    fn output_of(output: &[u8]) -> (Vec<u64>, Blocks, Vec<u64>) {
        let (_, clusters) = split(output);
        let timecodes = clusters.iter().map(|c| c.timecode).collect();
        let first_tracks = clusters
            .iter()
            .map(|c| c.blocks.first().expect("a block").track)
            .collect();
        let mut blocks: Blocks = clusters
            .iter()
            .flat_map(|c| {
                c.blocks
                    .iter()
                    .map(|b| (b.track, b.timecode, c.frame(b).to_vec()))
            })
            .collect();
        blocks.sort();
        (timecodes, blocks, first_tracks)
    }

    #[test]
    fn audio_only_input_is_cut_every_two_seconds() {
        let blocks: Vec<(u64, i64, bool)> = (0..50).map(|i| (1, 100 + i * 100, true)).collect();
        let input = synthetic(1_000_000, &[(1, 2)], &blocks, 7);
        let (output, input_blocks) = recluster(&input, TimecodeMode::Relative, &mut || 333);
        let (timecodes, output_blocks, _) = output_of(&output);
        assert_eq!(timecodes, [0, 2000, 4000]);
        let shifted: Blocks = output_blocks
            .into_iter()
            .map(|(t, time, bytes)| (t, time + 100, bytes))
            .collect();
        assert_eq!(shifted, input_blocks);
    }

    #[test]
    fn a_long_gop_is_cut_at_ten_seconds_and_a_fine_timecode_scale_at_the_i16_range() {
        // One key frame, then a frame every 500 ms for 25 s: cut where a fragment would pass
        // 10 s (last − first).
        let blocks: Vec<(u64, i64, bool)> = (0..50).map(|i| (1, i * 500, i == 0)).collect();
        let input = synthetic(1_000_000, &[(1, 1)], &blocks, 10);
        let (output, input_blocks) = recluster(&input, TimecodeMode::Relative, &mut || 100);
        let (timecodes, output_blocks, _) = output_of(&output);
        assert_eq!(timecodes, [0, 10_500, 21_000]);
        assert_eq!(output_blocks, input_blocks);

        // TimecodeScale 100 µs: an i16 relative timecode reaches 3.2767 s only.
        let blocks: Vec<(u64, i64, bool)> = (0..20).map(|i| (1, i * 5_000, i == 0)).collect();
        let input = synthetic(100_000, &[(1, 1)], &blocks, 5);
        let (output, input_blocks) = recluster(&input, TimecodeMode::Relative, &mut || 100);
        let (timecodes, output_blocks, _) = output_of(&output);
        assert_eq!(timecodes, [0, 35_000, 70_000]);
        assert_eq!(output_blocks, input_blocks);
    }

    #[test]
    fn blocks_before_the_first_key_frame_are_held_or_dropped() {
        // Audio at 0, 10, 20 ms and a non-key video frame at 5 ms come before the key frame at
        // 30 ms: the audio goes into the first fragment after it, the video frame is dropped.
        let blocks = [
            (2, 0, true),
            (1, 5, false),
            (2, 10, true),
            (2, 20, true),
            (1, 30, true),
            (2, 40, true),
            (1, 70, false),
        ];
        let input = synthetic(1_000_000, &[(1, 1), (2, 2)], &blocks, 3);
        let (output, input_blocks, dropped) =
            recluster_counting_drops(&input, TimecodeMode::Relative, &mut || 50);
        assert_eq!(dropped, 1);
        let (timecodes, output_blocks, first_tracks) = output_of(&output);
        assert_eq!((timecodes, first_tracks), (vec![0], vec![1]));
        let expected: Blocks = input_blocks
            .into_iter()
            .filter(|(track, time, _)| !(*track == 1 && *time == 5))
            .map(|(t, time, bytes)| (t, time - 30, bytes))
            .collect();
        assert_eq!(output_blocks, expected);
    }
}
