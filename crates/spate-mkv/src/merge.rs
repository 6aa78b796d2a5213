//! Merging GetMedia output (one self-contained segment per chunk, wrapped in
//! `AWS_KINESISVIDEO_*` tags) into one playable MKV, as AWS's parser library's
//! OutputSegmentMerger does: the EBML header, Segment, Info and Tracks are written once and again
//! only when the tracks change; the AWS tags are dropped; clusters and producer Tags are kept.

use bytes::BytesMut;

use crate::error::MkvError;
use crate::header::MediaHeader;
use crate::splitter::{Event, Splitter, SplitterConfig};
use crate::{tags, vint};

/// Push-based merger; see the module docs.
#[derive(Debug)]
pub struct Merger {
    splitter: Splitter,
    /// Timecode scale and Tracks of the segment being written.
    current: Option<(u64, bytes::Bytes)>,
    /// Producer Tags seen before their segment's header was written.
    pending_tags: Vec<bytes::Bytes>,
    events: Vec<Event>,
}

impl Merger {
    pub fn new(config: SplitterConfig) -> Self {
        let config = SplitterConfig {
            multiple_segments: true,
            ..config
        };
        Merger {
            splitter: Splitter::new(config),
            current: None,
            pending_tags: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Feeds GetMedia output; appends merged MKV to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), MkvError> {
        let result = self.splitter.push(data, &mut self.events);
        self.write_events(out)?;
        result
    }

    /// The GetMedia output ended.
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), MkvError> {
        let result = self.splitter.finish(&mut self.events);
        self.write_events(out)?;
        result
    }

    fn write_events(&mut self, out: &mut BytesMut) -> Result<(), MkvError> {
        for event in std::mem::take(&mut self.events) {
            match event {
                Event::Header(header) => self.header(&header, out),
                Event::Tags(element) => {
                    let is_aws = tags::read_tags(&element)?
                        .iter()
                        .any(|(name, _)| name.starts_with("AWS_KINESISVIDEO_"));
                    if is_aws {
                        continue;
                    }
                    if self.current.is_some() {
                        out.extend_from_slice(&element);
                    } else {
                        self.pending_tags.push(element);
                    }
                }
                Event::ClusterEnd(cluster) => out.extend_from_slice(&cluster.data),
                Event::ClusterStart { .. } | Event::End => {}
            }
        }
        Ok(())
    }

    /// Starts a new output segment unless the tracks are the same as the current one's.
    fn header(&mut self, header: &MediaHeader, out: &mut BytesMut) {
        let key = (header.timecode_scale_ns, header.tracks.clone());
        if self.current.as_ref() == Some(&key) {
            return;
        }
        out.extend_from_slice(&header.ebml);
        vint::write_id(out, crate::ids::SEGMENT);
        out.extend_from_slice(&vint::UNKNOWN_SIZE);
        out.extend_from_slice(&header.info);
        out.extend_from_slice(&header.tracks);
        for element in self.pending_tags.drain(..) {
            out.extend_from_slice(&element);
        }
        self.current = Some(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::StoredChunk;
    use crate::cluster::tests::cluster_body;
    use crate::emit::{ChunkTags, emit_chunk};
    use crate::header::tests::{ebml_header, info, tracks};
    use crate::{ebml, ids};

    fn chunk(header: &MediaHeader, timecode: u64, producer_tags: &[bytes::Bytes]) -> StoredChunk {
        let mut cluster = BytesMut::new();
        ebml::write_element(
            &mut cluster,
            ids::CLUSTER,
            &cluster_body(timecode, &[(1, 0, true)]),
        );
        StoredChunk::new(header, cluster.freeze(), producer_tags)
    }

    fn chunk_tags(n: u64) -> ChunkTags {
        ChunkTags {
            fragment_number: n.to_string(),
            server_timestamp_ms: 0,
            producer_timestamp_ms: 0,
            millis_behind_now: Some(0),
            continuation_token: Some(n.to_string()),
        }
    }

    #[test]
    fn merges_chunks_into_one_segment_and_drops_aws_tags() {
        let header = MediaHeader::parse(ebml_header(), info(1_000_000), tracks(&[(1, 1, "V")]))
            .expect("header");
        let other = MediaHeader::parse(ebml_header(), info(1_000_000), tracks(&[(1, 1, "W")]))
            .expect("header");
        let mut producer = BytesMut::new();
        tags::write_tags(&mut producer, &[("EVENT", "motion")]);
        let mut input = BytesMut::new();
        emit_chunk(
            &mut input,
            &chunk(&header, 0, &[producer.freeze()]),
            &chunk_tags(1),
        )
        .expect("emit");
        emit_chunk(&mut input, &chunk(&header, 1000, &[]), &chunk_tags(2)).expect("emit");
        emit_chunk(&mut input, &chunk(&other, 2000, &[]), &chunk_tags(3)).expect("emit");

        let mut merger = Merger::new(SplitterConfig::default());
        let mut out = BytesMut::new();
        for byte in input.chunks(7) {
            merger.push(byte, &mut out).expect("push");
        }
        merger.finish(&mut out).expect("finish");

        let mut splitter = Splitter::new(SplitterConfig {
            multiple_segments: true,
            ..SplitterConfig::default()
        });
        let mut events = Vec::new();
        splitter
            .push(&out, &mut events)
            .expect("merged output parses");
        splitter.finish(&mut events).expect("clean end");
        let headers = events
            .iter()
            .filter(|e| matches!(e, Event::Header(_)))
            .count();
        let clusters = events
            .iter()
            .filter(|e| matches!(e, Event::ClusterEnd(_)))
            .count();
        let all_tags: Vec<Vec<(String, String)>> = events
            .iter()
            .filter_map(|e| match e {
                Event::Tags(t) => Some(tags::read_tags(t).expect("tags")),
                _ => None,
            })
            .collect();
        assert_eq!(
            (headers, clusters),
            (2, 3),
            "new segment only when the tracks change"
        );
        assert_eq!(all_tags, [vec![("EVENT".to_owned(), "motion".to_owned())]]);
    }
}
