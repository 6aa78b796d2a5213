//! awsJson member encodings: timestamps as epoch seconds, blobs as base64.
//!
//! Timestamps travel as JSON numbers of epoch seconds, with up to millisecond fractions
//! (`1441215410.867`); botocore sends whole seconds, other SDKs fractions or exponent forms, so all
//! three are accepted. Inside Spate they are `i64` epoch milliseconds. Blobs travel as standard
//! base64 with padding and are `bytes::Bytes` inside.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serializer, de};

/// Epoch milliseconds as an awsJson timestamp number.
pub fn millis_to_epoch_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

/// An awsJson timestamp number as epoch milliseconds, rounded to the nearest millisecond.
pub fn epoch_seconds_to_millis(seconds: f64) -> Option<i64> {
    let millis = (seconds * 1000.0).round();
    if millis.is_finite() && millis.abs() < 9.0e15 {
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

/// `#[serde(with = "spate_wire::codec::timestamp")]` for `i64` epoch milliseconds.
pub mod timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(millis: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(millis_to_epoch_seconds(*millis))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        epoch_seconds_to_millis(seconds)
            .ok_or_else(|| de::Error::custom(format!("timestamp {seconds} is out of range")))
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
            Some(millis) => serializer.serialize_f64(millis_to_epoch_seconds(*millis)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<i64>, D::Error> {
        match Option::<f64>::deserialize(deserializer)? {
            None => Ok(None),
            Some(seconds) => epoch_seconds_to_millis(seconds)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("timestamp {seconds} is out of range"))),
        }
    }
}

/// `#[serde(with = "spate_wire::codec::blob")]` for `Bytes`.
pub mod blob {
    use super::*;

    pub fn serialize<S: Serializer>(data: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode_blob(data))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        decode_blob(&text)
            .map(Bytes::from)
            .map_err(|err| de::Error::custom(format!("blob is not valid base64: {err}")))
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
            Some(data) => serializer.serialize_str(&encode_blob(data)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Bytes>, D::Error> {
        match Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => decode_blob(&text)
                .map(|data| Some(Bytes::from(data)))
                .map_err(|err| de::Error::custom(format!("blob is not valid base64: {err}"))),
        }
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
}
