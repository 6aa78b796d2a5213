//! The media header of a segment: the raw EBML header, Info and Tracks elements as received, and
//! what the rest of the video service needs from them (timecode scale, tracks and codecs).

use bytes::{Bytes, BytesMut};

use crate::ebml::{self, Child};
use crate::error::MkvError;
use crate::ids;

/// At most this many tracks per stream (AWS's limit; more is error 4012).
pub const MAX_TRACKS: usize = 3;

/// Matroska's default TimecodeScale: 1 ms.
pub const DEFAULT_TIMECODE_SCALE_NS: u64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Video,
    Audio,
    Other,
}

/// One TrackEntry.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackInfo {
    pub number: u64,
    pub uid: u64,
    pub kind: TrackKind,
    pub codec_id: String,
    pub codec_private: Bytes,
    pub width: Option<u64>,
    pub height: Option<u64>,
    pub sampling_rate: Option<f64>,
    pub channels: Option<u64>,
    pub default_duration_ns: Option<u64>,
}

/// A segment's header: raw elements (each a complete element, header included) plus the parsed
/// fields.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaHeader {
    pub ebml: Bytes,
    pub info: Bytes,
    pub tracks: Bytes,
    pub timecode_scale_ns: u64,
    pub tracks_info: Vec<TrackInfo>,
}

impl MediaHeader {
    /// Parses Info and Tracks (complete elements).
    pub fn parse(ebml: Bytes, info: Bytes, tracks: Bytes) -> Result<Self, MkvError> {
        let timecode_scale_ns = parse_info(&info)?;
        let tracks_info = parse_tracks(&tracks)?;
        Ok(MediaHeader {
            ebml,
            info,
            tracks,
            timecode_scale_ns,
            tracks_info,
        })
    }

    /// Parses the concatenation `EBML header | Info | Tracks` kept in a stored chunk.
    pub fn parse_stored(header: &Bytes) -> Result<Self, MkvError> {
        let kids = ebml::children(header)?;
        let [ebml, info, tracks] = kids.as_slice() else {
            return Err(MkvError::invalid("stored header is not EBML, Info, Tracks"));
        };
        if (ebml.header.id, info.header.id, tracks.header.id) != (ids::EBML, ids::INFO, ids::TRACKS)
        {
            return Err(MkvError::invalid("stored header is not EBML, Info, Tracks"));
        }
        let slice = |c: &Child| header.slice(c.start..c.end);
        Self::parse(slice(ebml), slice(info), slice(tracks))
    }

    /// The concatenation `EBML header | Info | Tracks`, as a stored chunk keeps it.
    pub fn stored(&self) -> Bytes {
        let mut out =
            BytesMut::with_capacity(self.ebml.len() + self.info.len() + self.tracks.len());
        out.extend_from_slice(&self.ebml);
        out.extend_from_slice(&self.info);
        out.extend_from_slice(&self.tracks);
        out.freeze()
    }

    pub fn track(&self, number: u64) -> Option<&TrackInfo> {
        self.tracks_info.iter().find(|t| t.number == number)
    }
}

/// The data of a complete element whose ID must be `id`.
fn element_data(element: &[u8], id: u32) -> Result<&[u8], MkvError> {
    let child = ebml::child_at(element, 0)?;
    if child.header.id != id || child.end != element.len() {
        return Err(MkvError::invalid(format!("expected one element {id:#x}")));
    }
    Ok(&element[child.data_start..child.end])
}

fn parse_info(info: &[u8]) -> Result<u64, MkvError> {
    let data = element_data(info, ids::INFO)?;
    let mut scale = DEFAULT_TIMECODE_SCALE_NS;
    for child in ebml::iter_children(data) {
        let child = child?;
        if child.header.id == ids::TIMECODE_SCALE {
            scale = ebml::read_uint(&data[child.data_start..child.end])?;
        }
    }
    if scale == 0 {
        return Err(MkvError::invalid("TimecodeScale 0"));
    }
    Ok(scale)
}

fn parse_tracks(tracks: &[u8]) -> Result<Vec<TrackInfo>, MkvError> {
    let data = element_data(tracks, ids::TRACKS)?;
    let mut entries: Vec<Child> = Vec::new();
    let mut found = 0;
    for child in ebml::iter_children(data) {
        let child = child?;
        if child.header.id == ids::TRACK_ENTRY {
            found += 1;
            if entries.len() < MAX_TRACKS {
                entries.push(child);
            }
        }
    }
    if found > MAX_TRACKS {
        return Err(MkvError::TooManyTracks {
            found,
            max: MAX_TRACKS,
        });
    }
    if entries.is_empty() {
        return Err(MkvError::invalid("Tracks declares no track"));
    }
    let mut out: Vec<TrackInfo> = Vec::with_capacity(entries.len());
    for entry in entries {
        let track = parse_track_entry(&data[entry.data_start..entry.end])?;
        if track.number == 0 || out.iter().any(|t| t.number == track.number) {
            return Err(MkvError::invalid(format!(
                "bad or repeated track number {}",
                track.number
            )));
        }
        out.push(track);
    }
    Ok(out)
}

fn parse_track_entry(data: &[u8]) -> Result<TrackInfo, MkvError> {
    let mut track = TrackInfo {
        number: 0,
        uid: 0,
        kind: TrackKind::Other,
        codec_id: String::new(),
        codec_private: Bytes::new(),
        width: None,
        height: None,
        sampling_rate: None,
        channels: None,
        default_duration_ns: None,
    };
    for child in ebml::iter_children(data) {
        let child = child?;
        let value = &data[child.data_start..child.end];
        match child.header.id {
            ids::TRACK_NUMBER => track.number = ebml::read_uint(value)?,
            ids::TRACK_UID => track.uid = ebml::read_uint(value)?,
            ids::TRACK_TYPE => {
                track.kind = match ebml::read_uint(value)? {
                    1 => TrackKind::Video,
                    2 => TrackKind::Audio,
                    _ => TrackKind::Other,
                }
            }
            ids::CODEC_ID => track.codec_id = ebml::read_string(value),
            ids::CODEC_PRIVATE => track.codec_private = Bytes::copy_from_slice(value),
            ids::DEFAULT_DURATION => track.default_duration_ns = Some(ebml::read_uint(value)?),
            ids::VIDEO => {
                for v in ebml::iter_children(value) {
                    let v = v?;
                    let field = &value[v.data_start..v.end];
                    match v.header.id {
                        ids::PIXEL_WIDTH => track.width = Some(ebml::read_uint(field)?),
                        ids::PIXEL_HEIGHT => track.height = Some(ebml::read_uint(field)?),
                        _ => {}
                    }
                }
            }
            ids::AUDIO => {
                for a in ebml::iter_children(value) {
                    let a = a?;
                    let field = &value[a.data_start..a.end];
                    match a.header.id {
                        ids::SAMPLING_FREQUENCY => {
                            let rate = ebml::read_float(field)?;
                            if !(rate.is_finite() && rate > 0.0) {
                                return Err(MkvError::invalid(format!(
                                    "track {} has sampling frequency {rate}",
                                    track.number
                                )));
                            }
                            track.sampling_rate = Some(rate)
                        }
                        ids::CHANNELS => track.channels = Some(ebml::read_uint(field)?),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(track)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ebml::{write_element, write_uint};

    /// A minimal EBML header element.
    pub(crate) fn ebml_header() -> Bytes {
        let mut data = BytesMut::new();
        write_element(&mut data, 0x4282, b"matroska");
        let mut out = BytesMut::new();
        write_element(&mut out, ids::EBML, &data);
        out.freeze()
    }

    pub(crate) fn info(scale: u64) -> Bytes {
        let mut data = BytesMut::new();
        write_uint(&mut data, ids::TIMECODE_SCALE, scale);
        let mut out = BytesMut::new();
        write_element(&mut out, ids::INFO, &data);
        out.freeze()
    }

    /// Tracks with the given (number, type, codec) entries.
    pub(crate) fn tracks(entries: &[(u64, u64, &str)]) -> Bytes {
        let mut data = BytesMut::new();
        for &(number, kind, codec) in entries {
            let mut entry = BytesMut::new();
            write_uint(&mut entry, ids::TRACK_NUMBER, number);
            write_uint(&mut entry, ids::TRACK_UID, number);
            write_uint(&mut entry, ids::TRACK_TYPE, kind);
            write_element(&mut entry, ids::CODEC_ID, codec.as_bytes());
            if kind == 2 {
                let mut audio = BytesMut::new();
                write_element(
                    &mut audio,
                    ids::SAMPLING_FREQUENCY,
                    &48_000f64.to_be_bytes(),
                );
                write_uint(&mut audio, ids::CHANNELS, 2);
                write_element(&mut entry, ids::AUDIO, &audio);
                write_element(&mut entry, ids::CODEC_PRIVATE, &[0x11, 0x90]);
            }
            write_element(&mut data, ids::TRACK_ENTRY, &entry);
        }
        let mut out = BytesMut::new();
        write_element(&mut out, ids::TRACKS, &data);
        out.freeze()
    }

    #[test]
    fn parses_and_round_trips_stored_form() {
        let header = MediaHeader::parse(
            ebml_header(),
            info(1_000_000),
            tracks(&[(1, 1, "V_MPEG/ISO/AVC"), (2, 2, "A_AAC")]),
        )
        .expect("parse");
        assert_eq!(header.timecode_scale_ns, 1_000_000);
        assert_eq!(header.tracks_info.len(), 2);
        let audio = header.track(2).expect("audio track");
        assert_eq!(audio.kind, TrackKind::Audio);
        assert_eq!(audio.sampling_rate, Some(48_000.0));
        assert_eq!(audio.codec_private.as_ref(), &[0x11, 0x90]);
        assert_eq!(
            MediaHeader::parse_stored(&header.stored()).expect("stored"),
            header
        );
    }

    #[test]
    fn refuses_four_tracks_and_repeated_numbers() {
        let four = tracks(&[(1, 1, "V"), (2, 2, "A"), (3, 2, "A"), (4, 2, "A")]);
        let err = MediaHeader::parse(ebml_header(), info(1_000_000), four).expect_err("4 tracks");
        assert_eq!(err.ack_error().id(), 4012);
        let repeated = tracks(&[(1, 1, "V"), (1, 2, "A")]);
        let err = MediaHeader::parse(ebml_header(), info(1_000_000), repeated).expect_err("repeat");
        assert_eq!(err.ack_error().id(), 4006);
        assert!(MediaHeader::parse(ebml_header(), info(0), tracks(&[(1, 1, "V")])).is_err());
        assert!(MediaHeader::parse_stored(&ebml_header()).is_err());
    }
}
