//! The two body encodings of AWS's JSON protocol family, and which one a request asked for.
//!
//! botocore, the CLI and most SDKs send awsJson 1.1 (`application/x-amz-json-1.1`); the Java SDKs
//! (and so the KCL and KPL) send Kinesis requests as CBOR (`application/x-amz-cbor-1.1`). Both carry
//! the same shapes with the same member names, so one typed request or response serves both: the
//! member encodings that differ (timestamps, blobs) are chosen by [`crate::codec`] from the format.
//! A response, error or not, goes back in the encoding of its request.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AwsError;
use crate::{AWS_CBOR_1_1, AWS_JSON_1_1};

/// How a request body is encoded, and so how its response must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// awsJson 1.1: epoch-second timestamps, base64 blobs.
    Json,
    /// AWS CBOR 1.1: tag-1 epoch-millisecond timestamps, byte-string blobs.
    Cbor,
}

/// Why a request body does not decode; answered as `SerializationException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a JSON or CBOR document at all (or have bytes after it).
    #[error("The request body is not valid {codec}: {detail}")]
    Syntax { codec: Codec, detail: String },
    /// A well-formed document that does not fit the operation's input shape.
    #[error("The request does not match the operation's input shape: {detail}")]
    Shape { detail: String },
}

/// A response shape that does not encode, which is Spate's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the response does not encode as {codec}: {detail}")]
pub struct EncodeError {
    pub codec: Codec,
    pub detail: String,
}

impl Codec {
    /// The encoding a request's `Content-Type` names. Anything but a CBOR type (including no
    /// header at all) is taken as JSON, as Spate has always done, since some clients send awsJson
    /// bodies under other JSON content types.
    pub fn from_content_type(content_type: Option<&str>) -> Codec {
        let media_type = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let cbor_prefix = "application/x-amz-cbor";
        let is_cbor = media_type
            .get(..cbor_prefix.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(cbor_prefix));
        if is_cbor { Codec::Cbor } else { Codec::Json }
    }

    /// The `Content-Type` of responses in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Codec::Json => AWS_JSON_1_1,
            Codec::Cbor => AWS_CBOR_1_1,
        }
    }

    /// Decodes a request body. An empty body (all whitespace, for JSON) is the empty structure,
    /// as clients send nothing at all for operations without input members.
    pub fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, DecodeError> {
        match self {
            Codec::Json => decode_json(body),
            Codec::Cbor => decode_cbor(body),
        }
    }

    /// [`Codec::decode`] with the blobs and texts of the body decoded into one buffer (see
    /// [`crate::arena`]): for request shapes whose blobs are kept, such as records to store.
    pub fn decode_in_arena<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, DecodeError> {
        crate::arena::with_arena(body.len(), || self.decode(body))
    }

    /// Encodes a response shape.
    pub fn encode<T: Serialize>(self, value: &T) -> Result<Vec<u8>, EncodeError> {
        let encoded = match self {
            Codec::Json => serde_json::to_vec(value).map_err(|err| err.to_string()),
            Codec::Cbor => {
                let mut buffer = Vec::new();
                ciborium::ser::into_writer(value, &mut buffer)
                    .map(|()| buffer)
                    .map_err(|err| err.to_string())
            }
        };
        encoded.map_err(|detail| EncodeError {
            codec: self,
            detail,
        })
    }

    /// The error body AWS clients parse, `{"__type": ..., "message": ...}`, in this encoding.
    pub fn error_body(self, error: &AwsError) -> Vec<u8> {
        #[derive(Serialize)]
        struct ErrorBody<'a> {
            #[serde(rename = "__type")]
            code: &'a str,
            message: &'a str,
        }
        let body = ErrorBody {
            code: error.code,
            message: &error.message,
        };
        self.encode(&body)
            .expect("a struct of two strings always encodes")
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Codec::Json => "JSON",
            Codec::Cbor => "CBOR",
        })
    }
}

fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => DecodeError::Shape {
            detail: err.to_string(),
        },
        _ => DecodeError::Syntax {
            codec: Codec::Json,
            detail: err.to_string(),
        },
    })
}

/// The CBOR empty map, decoded in place of an empty body.
const CBOR_EMPTY_MAP: &[u8] = &[0xa0];

/// How deeply CBOR containers may nest. Kinesis requests nest three levels at most (PutRecords:
/// a map of an array of maps); the limit keeps hostile input from exhausting the stack.
const CBOR_RECURSION_LIMIT: usize = 32;

fn decode_cbor<T: DeserializeOwned>(body: &[u8]) -> Result<T, DecodeError> {
    let mut rest: &[u8] = if body.is_empty() {
        CBOR_EMPTY_MAP
    } else {
        body
    };
    let syntax = |detail: String| DecodeError::Syntax {
        codec: Codec::Cbor,
        detail,
    };
    let value = ciborium::de::from_reader_with_recursion_limit(&mut rest, CBOR_RECURSION_LIMIT)
        .map_err(|err| match err {
            ciborium::de::Error::Semantic(_, detail) => DecodeError::Shape { detail },
            ciborium::de::Error::Io(err) => syntax(format!("the body ends early ({err})")),
            ciborium::de::Error::Syntax(offset) => {
                syntax(format!("malformed data item at byte {offset}"))
            }
            ciborium::de::Error::RecursionLimitExceeded => syntax(format!(
                "data items nest more than {CBOR_RECURSION_LIMIT} levels deep"
            )),
        })?;
    if !rest.is_empty() {
        let offset = body.len() - rest.len();
        return Err(syntax(format!(
            "{} unexpected bytes after the data item, from byte {offset}",
            rest.len()
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_pick_the_codec() {
        let cases = [
            (Some("application/x-amz-cbor-1.1"), Codec::Cbor),
            (
                Some("Application/X-Amz-Cbor-1.1; charset=binary"),
                Codec::Cbor,
            ),
            (Some("application/x-amz-json-1.1"), Codec::Json),
            (Some("application/json"), Codec::Json),
            (Some("cbor"), Codec::Json),
            (Some(""), Codec::Json),
            (None, Codec::Json),
        ];
        for (content_type, codec) in cases {
            assert_eq!(
                Codec::from_content_type(content_type),
                codec,
                "{content_type:?}"
            );
        }
        assert_eq!(Codec::Cbor.content_type(), "application/x-amz-cbor-1.1");
        assert_eq!(Codec::Json.content_type(), "application/x-amz-json-1.1");
    }

    #[derive(Debug, PartialEq, serde::Deserialize, Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        stream_name: Option<String>,
        limit: Option<i64>,
    }

    #[test]
    fn empty_bodies_are_the_empty_structure() {
        let empty = Request {
            stream_name: None,
            limit: None,
        };
        assert_eq!(Codec::Cbor.decode::<Request>(b"").expect("empty"), empty);
        assert_eq!(Codec::Json.decode::<Request>(b" \n").expect("blank"), empty);
        // What the Java SDK sends for a request without members: an empty indefinite map.
        assert_eq!(
            Codec::Cbor.decode::<Request>(&[0xbf, 0xff]).expect("{_ }"),
            empty
        );
    }

    #[test]
    fn cbor_requests_decode_and_unknown_members_are_ignored() {
        // {_ "StreamName": "s", "Limit": 5, "Other": 1(1000)}, indefinite-length as Jackson writes.
        let mut body = vec![0xbf, 0x6a];
        body.extend_from_slice(b"StreamName");
        body.extend_from_slice(&[0x61, b's', 0x65]);
        body.extend_from_slice(b"Limit");
        body.extend_from_slice(&[0x05, 0x65]);
        body.extend_from_slice(b"Other");
        body.extend_from_slice(&[0xc1, 0x19, 0x03, 0xe8, 0xff]);
        let request: Request = Codec::Cbor.decode(&body).expect("valid");
        assert_eq!(
            request,
            Request {
                stream_name: Some("s".into()),
                limit: Some(5),
            }
        );
        let encoded = Codec::Cbor.encode(&request).expect("encodes");
        assert_eq!(
            Codec::Cbor.decode::<Request>(&encoded).expect("round trip"),
            request
        );
    }

    #[test]
    fn garbage_cbor_is_a_decode_error() {
        // Not well-formed: each is answered as "not valid CBOR".
        let malformed: [&[u8]; 4] = [
            &[0x1c],                   // reserved additional information
            &[0xa1, 0x6a, b'S', b't'], // cut off inside a key
            &[0xa0, 0x00],             // bytes after the data item
            &[0xa1, 0x61, 0xff, 0x00], // a key that is not UTF-8
        ];
        for body in malformed {
            let err = Codec::Cbor.decode::<Request>(body).expect_err("garbage");
            assert!(
                matches!(
                    err,
                    DecodeError::Syntax {
                        codec: Codec::Cbor,
                        ..
                    }
                ),
                "{body:02x?}: {err}"
            );
            assert!(
                err.to_string()
                    .starts_with("The request body is not valid CBOR")
            );
        }
        // An unknown member holding 100 nested arrays.
        let deep = [vec![0xa1, 0x61, b'X'], vec![0x81; 100], vec![0x00]].concat();
        assert!(matches!(
            Codec::Cbor.decode::<Request>(&deep),
            Err(DecodeError::Syntax { .. })
        ));
        // ciborium reports a lone break, and JSON text read as CBOR, as an unexpected item rather
        // than as malformed; either way the request is refused.
        for body in [&[0xff][..], br#"{"StreamName":"s"}"#] {
            assert!(Codec::Cbor.decode::<Request>(body).is_err(), "{body:02x?}");
        }
    }

    #[test]
    fn well_formed_cbor_of_the_wrong_shape_is_a_shape_error() {
        // {"Limit": "five"} and a top-level array.
        let mut body = vec![0xa1, 0x65];
        body.extend_from_slice(b"Limit");
        body.extend_from_slice(&[0x64]);
        body.extend_from_slice(b"five");
        for body in [&body[..], &[0x80]] {
            let err = Codec::Cbor
                .decode::<Request>(body)
                .expect_err("wrong shape");
            assert!(matches!(err, DecodeError::Shape { .. }), "{err}");
        }
        let err = Codec::Json
            .decode::<Request>(br#"{"Limit":"five"}"#)
            .expect_err("wrong shape");
        assert!(matches!(err, DecodeError::Shape { .. }), "{err}");
        let err = Codec::Json.decode::<Request>(b"{").expect_err("not json");
        assert!(
            err.to_string()
                .starts_with("The request body is not valid JSON")
        );
    }

    #[test]
    fn error_bodies_follow_the_codec() {
        let error = AwsError::client("ResourceNotFoundException", "Stream s not found.");
        let json: serde_json::Value =
            serde_json::from_slice(&Codec::Json.error_body(&error)).expect("json");
        assert_eq!(json["__type"], "ResourceNotFoundException");
        assert_eq!(json["message"], "Stream s not found.");

        let cbor = Codec::Cbor.error_body(&error);
        let value: ciborium::Value = ciborium::de::from_reader(&cbor[..]).expect("cbor");
        let expected = ciborium::Value::Map(vec![
            ("__type".into(), "ResourceNotFoundException".into()),
            ("message".into(), "Stream s not found.".into()),
        ]);
        assert_eq!(value, expected);
        assert_eq!(cbor[0], 0xa2, "a definite-length map of two members");
    }

    mod properties {
        use bytes::Bytes;
        use proptest::prelude::*;
        use serde::Deserialize;

        use super::*;

        /// A PutRecords-like shape: nested structs, blobs, strings and a timestamp.
        #[derive(Debug, PartialEq, Deserialize, Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Batch {
            stream_name: Option<String>,
            #[serde(default, with = "crate::codec::opt_timestamp")]
            at: Option<i64>,
            records: Option<Vec<Entry>>,
        }

        #[derive(Debug, PartialEq, Deserialize, Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry {
            #[serde(default, with = "crate::codec::opt_blob")]
            data: Option<Bytes>,
            partition_key: Option<String>,
        }

        fn batch() -> impl Strategy<Value = Batch> {
            let entry = (
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
                proptest::option::of(".{0,8}"),
            )
                .prop_map(|(data, partition_key)| Entry {
                    data: data.map(Bytes::from),
                    partition_key,
                });
            (
                proptest::option::of("[a-z]{0,8}"),
                // Up to about the year 5000: beyond that, JSON's fractional epoch seconds run
                // out of f64 digits for the milliseconds (CBOR's integers would not).
                proptest::option::of(-100_000_000_000_000_i64..100_000_000_000_000),
                proptest::option::of(proptest::collection::vec(entry, 0..4)),
            )
                .prop_map(|(stream_name, at, records)| Batch {
                    stream_name,
                    at,
                    records,
                })
        }

        proptest! {
            #[test]
            fn both_codecs_round_trip(batch in batch()) {
                for codec in [Codec::Json, Codec::Cbor] {
                    let bytes = codec.encode(&batch).expect("encodes");
                    prop_assert_eq!(&codec.decode::<Batch>(&bytes).expect("decodes"), &batch);
                }
            }

            #[test]
            fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = Codec::Cbor.decode::<Batch>(&body);
            }

            #[test]
            fn corrupted_bodies_never_panic(
                batch in batch(),
                flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
                cut in any::<usize>(),
            ) {
                let mut bytes = Codec::Cbor.encode(&batch).expect("encodes");
                for (at, value) in flips {
                    let at = at % bytes.len();
                    bytes[at] = value;
                }
                bytes.truncate(cut % (bytes.len() + 1));
                let _ = Codec::Cbor.decode::<Batch>(&bytes);
            }
        }
    }
}
