//! Track descriptions: what an MKV track becomes in MP4. For each supported codec the sample
//! entry (`avc1`+`avcC`, `hvc1`+`hvcC`, `mp4a`+`esds`), the media timescale, the RFC 6381 codec
//! string (HLS `CODECS`, DASH `codecs`) and the video resolution.
//!
//! The configuration records are parsed from CodecPrivate with `mp4-atom` (which validates them);
//! an `avcC`/`hvcC` written back is CodecPrivate re-encoded field by field, and the AAC
//! AudioSpecificConfig is copied verbatim into the `esds` DecoderSpecificInfo.

use bytes::Bytes;
use mp4_atom::Esds;
use mp4_atom::esds::{DecoderConfig, DecoderSpecific, EsDescriptor, SLConfig};
use mp4_atom::{Atom, Audio, Avc1, Avcc, Codec, Compressor, Hvc1, Hvcc, Mp4a, Visual};
use spate_mkv::{MediaHeader, TrackInfo, TrackKind};

use crate::error::Mp4Error;

/// Matroska codec id of H.264.
pub const CODEC_H264: &str = "V_MPEG4/ISO/AVC";
/// Unverified: AWS's documentation spells the H.264 codec id `V_MPEG/ISO/AVC` (Matroska's is
/// `V_MPEG4/ISO/AVC`); both are accepted.
pub const CODEC_H264_AWS_DOCS: &str = "V_MPEG/ISO/AVC";
/// Matroska codec id of H.265.
pub const CODEC_H265: &str = "V_MPEGH/ISO/HEVC";
/// Matroska codec id of AAC with an AudioSpecificConfig in CodecPrivate.
pub const CODEC_AAC: &str = "A_AAC";

/// Timescale of video tracks (ticks per second), the MPEG-TS/HLS convention.
pub const VIDEO_TIMESCALE: u32 = 90_000;

/// Unverified: the duration given to the only sample of a video track in a fragment when there
/// is nothing to measure it from (no next fragment, no DefaultDuration): 1/30 s.
const FALLBACK_VIDEO_SAMPLE_TICKS: u32 = VIDEO_TIMESCALE / 30;

/// The codecs this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecKind {
    H264,
    H265,
    Aac,
}

/// The parsed configuration record of a track.
#[derive(Debug, Clone, PartialEq)]
enum Config {
    Avc(Avcc),
    Hevc(Hvcc),
    Aac(AudioSpecificConfig),
}

/// What one MKV track is in MP4; built by [`TrackDescription::from_track`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrackDescription {
    track_id: u32,
    codec_id: String,
    codec_private: Bytes,
    config: Config,
    timescale: u32,
    width: u16,
    height: u16,
    channels: u16,
    default_sample_ticks: u32,
    codec_string: String,
}

impl TrackDescription {
    /// The MP4 description of an MKV track; the track ID is the MKV track number.
    ///
    /// Errors: [`Mp4Error::UnsupportedCodec`] (not H.264/H.265/AAC),
    /// [`Mp4Error::MissingCodecPrivate`], [`Mp4Error::InvalidCodecPrivate`] and
    /// [`Mp4Error::InvalidTrack`] (sizes beyond MP4's fields, AAC without a sampling rate).
    pub fn from_track(track: &TrackInfo) -> Result<Self, Mp4Error> {
        let kind = codec_kind(track)?;
        if track.codec_private.is_empty() {
            return Err(Mp4Error::MissingCodecPrivate {
                track: track.number,
                codec_id: track.codec_id.clone(),
            });
        }
        let invalid = |reason: String| Mp4Error::InvalidCodecPrivate {
            track: track.number,
            codec_id: track.codec_id.clone(),
            reason,
        };
        let bad_track = |reason: &str| Mp4Error::InvalidTrack {
            track: track.number,
            reason: reason.to_owned(),
        };
        let track_id =
            u32::try_from(track.number).map_err(|_| bad_track("track number beyond 32 bits"))?;
        let private: &[u8] = &track.codec_private;
        let (config, codec_string) = match kind {
            CodecKind::H264 => {
                let avcc = decode_whole::<Avcc>(private).map_err(invalid)?;
                let string = avc_codec_string(&avcc);
                (Config::Avc(avcc), string)
            }
            CodecKind::H265 => {
                let hvcc = decode_whole::<Hvcc>(private).map_err(invalid)?;
                let string = hevc_codec_string(&hvcc);
                (Config::Hevc(hvcc), string)
            }
            CodecKind::Aac => {
                let asc = AudioSpecificConfig::parse(private).map_err(invalid)?;
                let string = format!("mp4a.40.{}", asc.object_type);
                (Config::Aac(asc), string)
            }
        };
        let mut description = TrackDescription {
            track_id,
            codec_id: track.codec_id.clone(),
            codec_private: track.codec_private.clone(),
            config,
            timescale: VIDEO_TIMESCALE,
            width: 0,
            height: 0,
            channels: 0,
            default_sample_ticks: FALLBACK_VIDEO_SAMPLE_TICKS,
            codec_string,
        };
        match &description.config {
            Config::Avc(_) | Config::Hevc(_) => {
                let dimension = |value: Option<u64>, what: &str| {
                    u16::try_from(value.unwrap_or(0))
                        .map_err(|_| bad_track(&format!("{what} beyond 65535")))
                };
                description.width = dimension(track.width, "width")?;
                description.height = dimension(track.height, "height")?;
                if let Some(ns) = track.default_duration_ns {
                    let ticks = u128::from(ns) * u128::from(VIDEO_TIMESCALE) / 1_000_000_000;
                    if let Ok(ticks) = u32::try_from(ticks)
                        && ticks > 0
                    {
                        description.default_sample_ticks = ticks;
                    }
                }
            }
            Config::Aac(asc) => {
                // The MKV rate is what `spate_mkv::samples` times AAC frames with; the ASC's
                // rate stands in when Tracks has none.
                let rate = match track.sampling_rate {
                    Some(rate) if (1.0..4_294_967_296.0).contains(&rate) => rate.round() as u32,
                    _ => asc.sampling_rate,
                };
                if rate == 0 {
                    return Err(bad_track("no sampling rate"));
                }
                description.timescale = rate;
                description.channels = track
                    .channels
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(u16::from(asc.channel_configuration));
                description.default_sample_ticks = asc.frame_samples;
            }
        }
        Ok(description)
    }

    /// The descriptions of every track of a segment header, in Tracks order (GetClip, HLS
    /// sessions); the first unsupported track is the error.
    pub fn all(header: &MediaHeader) -> Result<Vec<Self>, Mp4Error> {
        header.tracks_info.iter().map(Self::from_track).collect()
    }

    /// The MP4 track ID (= MKV track number).
    pub fn track_id(&self) -> u32 {
        self.track_id
    }

    pub fn codec(&self) -> CodecKind {
        match self.config {
            Config::Avc(_) => CodecKind::H264,
            Config::Hevc(_) => CodecKind::H265,
            Config::Aac(_) => CodecKind::Aac,
        }
    }

    /// Audio channels (MKV Channels, else the AudioSpecificConfig's), 0 for video.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    pub fn is_video(&self) -> bool {
        !matches!(self.config, Config::Aac(_))
    }

    /// Ticks per second of the track's media time: 90000 for video, the sampling rate for
    /// audio.
    pub fn timescale(&self) -> u32 {
        self.timescale
    }

    /// The RFC 6381 codec string: `avc1.PPCCLL` (avcC bytes 1..3), `hvc1.…` (ISO/IEC 14496-15
    /// annex E), `mp4a.40.<audio object type>`.
    pub fn codec_string(&self) -> &str {
        &self.codec_string
    }

    /// Width × height of a video track (MKV PixelWidth/PixelHeight), `None` for audio or when
    /// Tracks gives none.
    pub fn resolution(&self) -> Option<(u16, u16)> {
        (self.is_video() && self.width > 0 && self.height > 0).then_some((self.width, self.height))
    }

    /// AAC: samples per frame (1024 or 960); the duration given to a track's lone sample when
    /// nothing else tells it (video: DefaultDuration or 1/30 s), in ticks.
    pub(crate) fn default_sample_ticks(&self) -> u32 {
        self.default_sample_ticks
    }

    /// AAC frames have a fixed length in ticks; decode times are counted in frames.
    pub(crate) fn fixed_frame_ticks(&self) -> Option<u32> {
        match &self.config {
            Config::Aac(asc) => Some(asc.frame_samples),
            _ => None,
        }
    }

    /// Whether `track` (from a fragment's header) is the track this description was made from.
    pub(crate) fn matches(&self, track: &TrackInfo) -> Result<(), Mp4Error> {
        let mismatch = |reason| Mp4Error::TrackMismatch {
            track: u64::from(self.track_id),
            reason,
        };
        if track.codec_id != self.codec_id {
            return Err(mismatch("another codec"));
        }
        if track.codec_private != self.codec_private {
            return Err(mismatch("other codec private data"));
        }
        Ok(())
    }

    /// The `stsd` entry.
    pub(crate) fn sample_entry(&self) -> Codec {
        let visual = || Visual {
            data_reference_index: 1,
            width: self.width,
            height: self.height,
            compressor: Compressor::default(),
            ..Visual::default()
        };
        match &self.config {
            Config::Avc(avcc) => Codec::Avc1(Avc1 {
                visual: visual(),
                avcc: avcc.clone(),
                ..Avc1::default()
            }),
            Config::Hevc(hvcc) => Codec::Hvc1(Hvc1 {
                visual: visual(),
                hvcc: hvcc.clone(),
                ..Hvc1::default()
            }),
            Config::Aac(asc) => Codec::Mp4a(Mp4a {
                audio: Audio {
                    data_reference_index: 1,
                    channel_count: self.channels,
                    sample_size: 16,
                    // 16.16 fixed point: rates above 65535 Hz do not fit; decoders read the
                    // AudioSpecificConfig.
                    sample_rate: u16::try_from(self.timescale).unwrap_or(0).into(),
                },
                esds: Esds {
                    es_desc: EsDescriptor {
                        es_id: u16::try_from(self.track_id).unwrap_or(0),
                        dec_config: DecoderConfig {
                            // 0x40: MPEG-4 Audio; stream type 5: audio.
                            object_type_indication: 0x40,
                            stream_type: 5,
                            dec_specific: Some(DecoderSpecific {
                                profile: asc.object_type,
                                freq_index: asc.frequency_index,
                                chan_conf: asc.channel_configuration,
                                raw: self.codec_private.to_vec(),
                            }),
                            ..DecoderConfig::default()
                        },
                        sl_config: SLConfig::default(),
                        ..EsDescriptor::default()
                    },
                },
                btrt: None,
                taic: None,
            }),
        }
    }
}

fn codec_kind(track: &TrackInfo) -> Result<CodecKind, Mp4Error> {
    let kind = match (track.kind, track.codec_id.as_str()) {
        (TrackKind::Video, CODEC_H264 | CODEC_H264_AWS_DOCS) => CodecKind::H264,
        (TrackKind::Video, CODEC_H265) => CodecKind::H265,
        (TrackKind::Audio, CODEC_AAC) => CodecKind::Aac,
        _ => {
            return Err(Mp4Error::UnsupportedCodec {
                track: track.number,
                codec_id: track.codec_id.clone(),
            });
        }
    };
    Ok(kind)
}

/// Decodes a box body that must use every byte.
fn decode_whole<T: Atom>(mut body: &[u8]) -> Result<T, String> {
    let value = T::decode_body(&mut body).map_err(|e| e.to_string())?;
    if !body.is_empty() {
        return Err(format!("{} trailing bytes", body.len()));
    }
    Ok(value)
}

/// `avc1.` + profile, constraint flags and level as six hex digits.
fn avc_codec_string(avcc: &Avcc) -> String {
    format!(
        "avc1.{:02x}{:02x}{:02x}",
        avcc.avc_profile_indication, avcc.profile_compatibility, avcc.avc_level_indication
    )
}

/// ISO/IEC 14496-15 annex E: `hvc1.[A-C]<profile>.<compatibility flags, bit-reversed,
/// hex>.<L|H><level>[.<constraint byte>…]` with trailing zero constraint bytes left out.
fn hevc_codec_string(hvcc: &Hvcc) -> String {
    let space = match hvcc.general_profile_space {
        1 => "A",
        2 => "B",
        3 => "C",
        _ => "",
    };
    let flags = u32::from_be_bytes(hvcc.general_profile_compatibility_flags).reverse_bits();
    let tier = if hvcc.general_tier_flag { 'H' } else { 'L' };
    let mut out = format!(
        "hvc1.{space}{}.{flags:X}.{tier}{}",
        hvcc.general_profile_idc, hvcc.general_level_idc
    );
    let constraints = &hvcc.general_constraint_indicator_flags;
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    for byte in &constraints[..used] {
        out.push_str(&format!(".{byte:X}"));
    }
    out
}

/// The fields of an AAC AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) this crate needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AudioSpecificConfig {
    object_type: u8,
    frequency_index: u8,
    sampling_rate: u32,
    channel_configuration: u8,
    frame_samples: u32,
}

/// Sampling frequencies by `samplingFrequencyIndex`.
const AAC_RATES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

impl AudioSpecificConfig {
    fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut bits = BitReader { bytes, pos: 0 };
        let mut object_type = bits.read(5)?;
        if object_type == 31 {
            object_type = 32 + bits.read(6)?;
        }
        if object_type == 0 {
            return Err("audio object type 0".to_owned());
        }
        let frequency_index = bits.read(4)?;
        let sampling_rate = match frequency_index {
            15 => bits.read(24)?,
            index => *AAC_RATES
                .get(index as usize)
                .ok_or_else(|| format!("reserved sampling frequency index {index}"))?,
        };
        let channel_configuration = bits.read(4)?;
        // GASpecificConfig's frameLengthFlag follows for the general-audio object types;
        // Unverified: HE-AAC (types 5 and 29) is timed as 1024-sample frames of the MKV rate,
        // as `spate_mkv::samples` does.
        let general_audio = matches!(object_type, 1..=4 | 6 | 7 | 17 | 19..=23);
        let frame_samples = if general_audio && bits.read(1)? == 1 {
            960
        } else {
            1024
        };
        Ok(AudioSpecificConfig {
            object_type: u8::try_from(object_type).map_err(|_| "object type".to_owned())?,
            frequency_index: u8::try_from(frequency_index).map_err(|_| "index".to_owned())?,
            sampling_rate,
            channel_configuration: u8::try_from(channel_configuration)
                .map_err(|_| "channels".to_owned())?,
            frame_samples,
        })
    }
}

/// Reads big-endian bit fields.
struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn read(&mut self, count: u32) -> Result<u32, String> {
        let mut value = 0u32;
        for _ in 0..count {
            let byte = self
                .bytes
                .get(self.pos / 8)
                .ok_or_else(|| "AudioSpecificConfig too short".to_owned())?;
            let bit = (byte >> (7 - self.pos % 8)) & 1;
            value = (value << 1) | u32::from(bit);
            self.pos += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn track(number: u64, kind: TrackKind, codec_id: &str, private: &[u8]) -> TrackInfo {
        TrackInfo {
            number,
            uid: number,
            kind,
            codec_id: codec_id.to_owned(),
            codec_private: Bytes::copy_from_slice(private),
            width: Some(640),
            height: Some(360),
            sampling_rate: Some(44_100.0),
            channels: Some(2),
            default_duration_ns: None,
        }
    }

    /// An avcC of Main profile level 3.0 with one SPS and one PPS.
    pub(crate) const AVCC_MAIN_30: &[u8] = &[
        0x01, 0x4d, 0x40, 0x1e, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x4d, 0x40, 0x1e, 0x01, 0x00, 0x02,
        0x68, 0xee,
    ];

    #[test]
    fn h264_codec_string_and_resolution() {
        let t = track(1, TrackKind::Video, CODEC_H264, AVCC_MAIN_30);
        let d = TrackDescription::from_track(&t).expect("valid avcC");
        assert_eq!(d.codec_string(), "avc1.4d401e");
        assert_eq!(d.resolution(), Some((640, 360)));
        assert_eq!(d.timescale(), 90_000);
        assert_eq!(d.codec(), CodecKind::H264);
    }

    #[test]
    fn aac_codec_string_timescale_and_frame_length() {
        // AAC LC (2), 44.1 kHz (index 4), stereo: 0x12 0x10.
        let d = TrackDescription::from_track(&track(2, TrackKind::Audio, CODEC_AAC, &[0x12, 0x10]))
            .expect("valid ASC");
        assert_eq!(d.codec_string(), "mp4a.40.2");
        assert_eq!(d.timescale(), 44_100);
        assert_eq!(d.fixed_frame_ticks(), Some(1024));
        assert_eq!(d.resolution(), None);
        // frameLengthFlag set: 960-sample frames.
        let d = TrackDescription::from_track(&track(2, TrackKind::Audio, CODEC_AAC, &[0x12, 0x14]))
            .expect("valid ASC");
        assert_eq!(d.fixed_frame_ticks(), Some(960));
        // HE-AAC v1 (5).
        let he = [0x2b, 0x92, 0x08, 0x00];
        let d = TrackDescription::from_track(&track(2, TrackKind::Audio, CODEC_AAC, &he))
            .expect("valid ASC");
        assert_eq!(d.codec_string(), "mp4a.40.5");
    }

    /// An hvcC of Main profile (1), compatibility flags 0x60000000 (profiles 1 and 2),
    /// constraint byte 0x90, level 93 (3.1).
    pub(crate) fn hvcc_main_31() -> Vec<u8> {
        let mut hvcc = Hvcc::new();
        hvcc.general_profile_idc = 1;
        hvcc.general_profile_compatibility_flags = [0x60, 0, 0, 0];
        hvcc.general_constraint_indicator_flags = [0x90, 0, 0, 0, 0, 0];
        hvcc.general_level_idc = 93;
        hvcc.length_size_minus_one = 3;
        let mut private = Vec::new();
        hvcc.encode_body(&mut private).expect("encode hvcC");
        private
    }

    #[test]
    fn hevc_codec_string_follows_annex_e() {
        // ISO/IEC 14496-15 annex E's own example for these fields: `hvc1.1.6.L93.90`.
        let private = hvcc_main_31();
        let d = TrackDescription::from_track(&track(1, TrackKind::Video, CODEC_H265, &private))
            .expect("valid hvcC");
        assert_eq!(d.codec_string(), "hvc1.1.6.L93.90");
        assert!(matches!(d.sample_entry(), Codec::Hvc1(_)));
    }

    #[test]
    fn refusals_name_the_problem() {
        let vp8 = track(1, TrackKind::Video, "V_VP8", &[1]);
        assert_eq!(
            TrackDescription::from_track(&vp8).expect_err("vp8"),
            Mp4Error::UnsupportedCodec {
                track: 1,
                codec_id: "V_VP8".to_owned()
            }
        );
        let empty = track(1, TrackKind::Video, CODEC_H264, &[]);
        assert!(matches!(
            TrackDescription::from_track(&empty),
            Err(Mp4Error::MissingCodecPrivate { track: 1, .. })
        ));
        for bad in [&[0x02, 0x4d][..], &AVCC_MAIN_30[..10]] {
            let broken = track(1, TrackKind::Video, CODEC_H264, bad);
            assert!(matches!(
                TrackDescription::from_track(&broken),
                Err(Mp4Error::InvalidCodecPrivate { track: 1, .. })
            ));
        }
        let reserved_rate = track(2, TrackKind::Audio, CODEC_AAC, &[0x16, 0x90]);
        assert!(matches!(
            TrackDescription::from_track(&reserved_rate),
            Err(Mp4Error::InvalidCodecPrivate { track: 2, .. })
        ));
    }
}
