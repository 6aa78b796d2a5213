//! Member encodings of timestamps and blobs, for both body encodings of the protocol.
//!
//! awsJson: timestamps travel as JSON numbers of epoch seconds, with up to millisecond fractions
//! (`1441215410.867`); botocore sends whole seconds, other SDKs fractions or exponent forms, so all
//! three are accepted. Blobs travel as standard base64 with padding.
//!
//! CBOR (`application/x-amz-cbor-1.1`, the Java SDKs' default for Kinesis): blobs are byte
//! strings (major type 2). Timestamps are CBOR tag 1 followed by an integer of epoch
//! **milliseconds** - not seconds as RFC 8949 says for tag 1, but what the Java SDK's
//! `SdkCborGenerator` writes and its unmarshallers read (they ignore the tag and take the number
//! as milliseconds). Spate accepts tag 1 or no tag around an integer or a float, all read as
//! milliseconds, and writes tag 1 + integer milliseconds, the same form the Java SDK sends.
//!
//! Inside Spate timestamps are `i64` epoch milliseconds and blobs are `bytes::Bytes`. The
//! `#[serde(with = ...)]` modules below pick the encoding from the format itself:
//! `is_human_readable()` is true for serde_json and false for ciborium. They must therefore be
//! used on members of the request or response struct, not inside a `#[serde(flatten)]`ed struct:
//! serde buffers flattened members in a form that always reports itself human-readable.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serializer, de};

use crate::arena;

/// Largest timestamp magnitude accepted, in epoch milliseconds (about the year 287,000): far
/// beyond any real instant, small enough that no arithmetic on it overflows an `i64`.
const MAX_TIMESTAMP_MILLIS: f64 = 9.0e15;

/// Epoch milliseconds as an awsJson timestamp number.
pub fn millis_to_epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// An awsJson timestamp number as epoch milliseconds, rounded to the nearest millisecond.
pub fn epoch_seconds_to_millis(seconds: f64) -> Option<i64> {
    let millis = (seconds * 1000.0).round();
    if millis.is_finite() && millis.abs() < MAX_TIMESTAMP_MILLIS {
        Some(millis as i64)
    } else {
        None
    }
}

/// Standard base64 with padding, as AWS sends blobs.
pub fn encode_blob(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes a base64 blob.
pub fn decode_blob(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// A CBOR timestamp number (epoch milliseconds, integer or float) as whole milliseconds.
fn cbor_millis(millis: f64) -> Option<i64> {
    let millis = millis.round();
    if millis.is_finite() && millis.abs() < MAX_TIMESTAMP_MILLIS {
        Some(millis as i64)
    } else {
        None
    }
}

/// The CBOR tag (RFC 8949 "epoch-based date/time") that the Java SDK puts before its
/// epoch-millisecond timestamps.
pub const CBOR_EPOCH_TAG: u64 = 1;

/// A timestamp member as it travels in either encoding; `i64` epoch milliseconds inside.
struct WireTimestamp(i64);

impl serde::Serialize for WireTimestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_f64(millis_to_epoch_seconds(self.0))
        } else {
            ciborium::tag::Required::<i64, CBOR_EPOCH_TAG>(self.0).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for WireTimestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let seconds = f64::deserialize(deserializer)?;
            return epoch_seconds_to_millis(seconds)
                .map(WireTimestamp)
                // `{:e}`: 1e300 is shown as such, not as 301 digits.
                .ok_or_else(|| {
                    de::Error::custom(format!("timestamp {seconds:e} is out of range"))
                });
        }
        let ciborium::tag::Captured(tag, CborMillis(millis)) =
            Deserialize::deserialize(deserializer)?;
        match tag {
            None | Some(CBOR_EPOCH_TAG) => Ok(WireTimestamp(millis)),
            Some(other) => Err(de::Error::custom(format!(
                "timestamp carries CBOR tag {other}; expected tag {CBOR_EPOCH_TAG} \
                 (epoch milliseconds) or none"
            ))),
        }
    }
}

/// The number inside a CBOR timestamp: epoch milliseconds, integer or float.
struct CborMillis(i64);

impl<'de> Deserialize<'de> for CborMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CborMillisVisitor)
    }
}

struct CborMillisVisitor;

impl CborMillisVisitor {
    fn in_range<E: de::Error>(millis: i128) -> Result<CborMillis, E> {
        if millis.unsigned_abs() < MAX_TIMESTAMP_MILLIS as u128 {
            Ok(CborMillis(millis as i64))
        } else {
            Err(E::custom(format!(
                "timestamp {millis} (epoch milliseconds) is out of range"
            )))
        }
    }
}

impl de::Visitor<'_> for CborMillisVisitor {
    type Value = CborMillis;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a timestamp as a number of epoch milliseconds")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<CborMillis, E> {
        Self::in_range(i128::from(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<CborMillis, E> {
        Self::in_range(i128::from(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<CborMillis, E> {
        Self::in_range(i128::try_from(value).unwrap_or(i128::MAX))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<CborMillis, E> {
        Self::in_range(value)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<CborMillis, E> {
        cbor_millis(value).map(CborMillis).ok_or_else(|| {
            E::custom(format!(
                "timestamp {value:e} (epoch milliseconds) is out of range"
            ))
        })
    }
}

/// A blob member on its way out, in either encoding.
struct BlobRef<'a>(&'a [u8]);

impl serde::Serialize for BlobRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&encode_blob(self.0))
        } else {
            serializer.serialize_bytes(self.0)
        }
    }
}

/// A blob member on its way in, from either encoding; decoded into the request's arena when
/// there is one ([`crate::arena`]).
struct WireBlob(Bytes);

impl<'de> Deserialize<'de> for WireBlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            return deserializer.deserialize_str(Base64BlobVisitor);
        }
        // `byte_buf`, not `bytes`: ciborium's `deserialize_bytes` refuses byte strings longer than
        // its 4 KiB scratch buffer and chunked (indefinite-length) ones.
        deserializer.deserialize_byte_buf(CborBlobVisitor)
    }
}

/// A blob as base64 text: borrowed from the body when it has no JSON escapes, so the only
/// allocation is the decoded data's (none inside an arena).
struct Base64BlobVisitor;

impl de::Visitor<'_> for Base64BlobVisitor {
    type Value = WireBlob;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a blob as a base64 string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<WireBlob, E> {
        arena::decode_base64(text)
            .map(WireBlob)
            .map_err(|err| E::custom(format!("blob is not valid base64: {err}")))
    }
}

struct CborBlobVisitor;

impl de::Visitor<'_> for CborBlobVisitor {
    type Value = WireBlob;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a blob as a CBOR byte string")
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<WireBlob, E> {
        Ok(WireBlob(arena::copy(value)))
    }

    fn visit_byte_buf<E: de::Error>(self, value: Vec<u8>) -> Result<WireBlob, E> {
        Ok(WireBlob(Bytes::from(value)))
    }
}

/// A string member kept as UTF-8 bytes, for strings that end up stored as bytes (partition
/// keys): decoded into the request's arena when there is one, so no `String` is allocated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(Bytes);

impl Text {
    /// The string.
    pub fn as_str(&self) -> &str {
        // Only ever built from a `str`, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The string's UTF-8 bytes, sharing the buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The string's UTF-8 bytes, sharing the buffer.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl de::Visitor<'_> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
        Ok(Text(arena::copy(text.as_bytes())))
    }
}

/// `#[serde(with = "spate_wire::codec::timestamp")]` for `i64` epoch milliseconds.
pub mod timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(millis: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&WireTimestamp(*millis), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        WireTimestamp::deserialize(deserializer).map(|wire| wire.0)
    }
}

/// `#[serde(default, with = "spate_wire::codec::opt_timestamp")]` for `Option<i64>` milliseconds.
pub mod opt_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(
        millis: &Option<i64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match millis {
            Some(millis) => serializer.serialize_some(&WireTimestamp(*millis)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        Option::<WireTimestamp>::deserialize(deserializer).map(|wire| wire.map(|wire| wire.0))
    }
}

/// `#[serde(with = "spate_wire::codec::blob")]` for `Bytes`.
pub mod blob {
    use super::*;

    pub fn serialize<S: Serializer>(data: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&BlobRef(data), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        WireBlob::deserialize(deserializer).map(|wire| wire.0)
    }
}

/// `#[serde(default, with = "spate_wire::codec::opt_blob")]` for `Option<Bytes>`.
pub mod opt_blob {
    use super::*;

    pub fn serialize<S: Serializer>(
        data: &Option<Bytes>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match data {
            Some(data) => serializer.serialize_some(&BlobRef(data)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Bytes>, D::Error> {
        Option::<WireBlob>::deserialize(deserializer).map(|wire| wire.map(|wire| wire.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Sample {
        #[serde(with = "timestamp")]
        at: i64,
        #[serde(default, with = "opt_blob", skip_serializing_if = "Option::is_none")]
        data: Option<Bytes>,
    }

    #[test]
    fn timestamps_accept_integer_fraction_and_exponent() {
        for text in [r#"{"at":1441215410.867}"#, r#"{"at":1.441215410867E9}"#] {
            let sample: Sample = serde_json::from_str(text).expect("valid");
            assert_eq!(sample.at, 1_441_215_410_867);
        }
        let whole: Sample = serde_json::from_str(r#"{"at":1704067200}"#).expect("valid");
        assert_eq!(whole.at, 1_704_067_200_000);
    }

    #[test]
    fn timestamps_serialize_as_fractional_seconds() {
        let text = serde_json::to_string(&Sample {
            at: 1_441_215_410_867,
            data: None,
        })
        .expect("serializes");
        assert_eq!(text, r#"{"at":1441215410.867}"#);
    }

    #[test]
    fn blobs_round_trip_and_reject_garbage() {
        let sample = Sample {
            at: 0,
            data: Some(Bytes::from_static(b"\x00\xffhello")),
        };
        let text = serde_json::to_string(&sample).expect("serializes");
        assert!(text.contains("AP9oZWxsbw=="));
        assert_eq!(
            serde_json::from_str::<Sample>(&text).expect("valid"),
            sample
        );
        assert!(serde_json::from_str::<Sample>(r#"{"at":0,"data":"!!"}"#).is_err());
    }

    fn from_cbor(bytes: &[u8]) -> Result<Sample, ciborium::de::Error<std::io::Error>> {
        ciborium::de::from_reader(bytes)
    }

    fn to_cbor(sample: &Sample) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(sample, &mut out).expect("serializes");
        out
    }

    /// `{"at": <timestamp bytes>}` in CBOR.
    fn cbor_at(timestamp: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xa1, 0x62, b'a', b't'];
        bytes.extend_from_slice(timestamp);
        bytes
    }

    /// 1787036486712 as a CBOR 64-bit unsigned integer, as captured from the Java SDK v2.
    const MILLIS: [u8; 9] = [0x1b, 0x00, 0x00, 0x01, 0xa0, 0x13, 0xac, 0xcc, 0x38];

    #[test]
    fn ciborium_is_not_human_readable_and_serde_json_is() {
        struct Probe(bool);
        impl<'de> Deserialize<'de> for Probe {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Probe, D::Error> {
                let readable = deserializer.is_human_readable();
                de::IgnoredAny::deserialize(deserializer)?;
                Ok(Probe(readable))
            }
        }
        let cbor: Probe = ciborium::de::from_reader(&[0xa0][..]).expect("valid");
        let json: Probe = serde_json::from_slice(b"{}").expect("valid");
        assert!(!cbor.0);
        assert!(json.0);
    }

    #[test]
    fn cbor_timestamps_are_milliseconds_with_or_without_tag_1() {
        let tagged = [&[0xc1][..], &MILLIS].concat();
        assert_eq!(
            from_cbor(&cbor_at(&tagged)).expect("tag 1").at,
            1_787_036_486_712
        );
        assert_eq!(
            from_cbor(&cbor_at(&MILLIS)).expect("bare").at,
            1_787_036_486_712
        );

        // A float is milliseconds too, rounded: 1787036486712.4 as a double, tagged and bare.
        let float = [&[0xfb][..], &1_787_036_486_712.4_f64.to_be_bytes()].concat();
        assert_eq!(
            from_cbor(&cbor_at(&float)).expect("float").at,
            1_787_036_486_712
        );
        let tagged_float = [&[0xc1][..], &float].concat();
        assert_eq!(
            from_cbor(&cbor_at(&tagged_float)).expect("tagged float").at,
            1_787_036_486_712
        );
        // Small values stay small: never scaled as if they were seconds.
        assert_eq!(
            from_cbor(&cbor_at(&[0xc1, 0x19, 0x03, 0xe8]))
                .expect("1000")
                .at,
            1000
        );
        // Before the epoch.
        assert_eq!(
            from_cbor(&cbor_at(&[0xc1, 0x38, 0x63])).expect("-100").at,
            -100
        );
    }

    #[test]
    fn cbor_timestamps_refuse_other_tags_strings_and_absurd_values() {
        // Tag 0 (an RFC 3339 string) and tag 1 around a string.
        assert!(from_cbor(&cbor_at(&[0xc0, 0x61, b'x'])).is_err());
        assert!(from_cbor(&cbor_at(&[0xc1, 0x61, b'x'])).is_err());
        // Tag 4 (a decimal fraction) around the integer.
        assert!(from_cbor(&cbor_at(&[&[0xc4][..], &MILLIS].concat())).is_err());
        // u64::MAX milliseconds and a NaN.
        assert!(
            from_cbor(&cbor_at(&[
                0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
            ]))
            .is_err()
        );
        assert!(from_cbor(&cbor_at(&[0xf9, 0x7e, 0x00])).is_err());
    }

    #[test]
    fn cbor_timestamps_serialize_as_tag_1_and_integer_milliseconds() {
        let bytes = to_cbor(&Sample {
            at: 1_787_036_486_712,
            data: None,
        });
        assert_eq!(bytes, cbor_at(&[&[0xc1][..], &MILLIS].concat()));
        assert_eq!(from_cbor(&bytes).expect("round trip").at, 1_787_036_486_712);
    }

    #[test]
    fn cbor_blobs_are_byte_strings_both_ways() {
        let sample = Sample {
            at: 0,
            data: Some(Bytes::from_static(b"\x00\xffhello")),
        };
        let bytes = to_cbor(&sample);
        let expected_data = [&[0x64][..], b"data", &[0x47, 0x00, 0xff], b"hello"].concat();
        assert!(
            bytes.ends_with(&expected_data),
            "data is a 7-byte byte string: {bytes:02x?}"
        );
        assert_eq!(from_cbor(&bytes).expect("round trip"), sample);
    }

    #[test]
    fn cbor_blobs_may_be_large_or_chunked_but_not_text() {
        let big = Sample {
            at: 0,
            data: Some(Bytes::from(vec![7_u8; 100_000])),
        };
        assert_eq!(from_cbor(&to_cbor(&big)).expect("100 kB blob"), big);

        // {"at": 0, "data": (_ h'0001', h'02')}: an indefinite-length byte string in two chunks.
        let chunked = [
            0xa2, 0x62, b'a', b't', 0x00, 0x64, b'd', b'a', b't', b'a', 0x5f, 0x42, 0x00, 0x01,
            0x41, 0x02, 0xff,
        ];
        let sample = from_cbor(&chunked).expect("chunked");
        assert_eq!(sample.data.as_deref(), Some(&[0_u8, 1, 2][..]));

        // Base64 text where a byte string belongs.
        let text = [
            0xa2, 0x62, b'a', b't', 0x00, 0x64, b'd', b'a', b't', b'a', 0x64, b'A', b'A', b'E',
            b'C',
        ];
        assert!(from_cbor(&text).is_err());
    }
}
