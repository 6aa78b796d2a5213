//! PutMedia's acknowledgements: one JSON object per line, as the producer SDKs parse them.
//!
//! ```text
//! {"EventType":"BUFFERING","FragmentTimecode":0,"FragmentNumber":"9134…"}
//! {"EventType":"ERROR","FragmentTimecode":3000,"FragmentNumber":"9134…","ErrorId":4004,"ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"}
//! {"EventType":"IDLE"}
//! ```
//! `FragmentNumber` is a quoted string and `ErrorId` a number: the shapes of field captures and
//! of the SDKs' parsers (the C producer's `AckParser`, the Java `AckEvent`), not of a spec.

use bytes::Bytes;
use serde::Serialize;
use spate_mkv::AckError;

use crate::store::FragmentNumber;

/// The kinds of acknowledgement, in the order a fragment gets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// The fragment's first bytes arrived.
    Buffering,
    /// The whole fragment arrived and is valid.
    Received,
    /// The fragment is durable.
    Persisted,
    /// The session failed; the response ends after this.
    Error,
    /// No media arrived for a while; the connection is still open.
    Idle,
}

/// One acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ack {
    pub event_type: EventType,
    /// The fragment's cluster timecode as the producer sent it, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_timecode: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

impl Ack {
    /// An acknowledgement of one fragment.
    pub fn fragment(event_type: EventType, timecode_ms: u64, number: FragmentNumber) -> Ack {
        Ack {
            event_type,
            fragment_timecode: Some(timecode_ms),
            fragment_number: Some(number.to_string()),
            error_id: None,
            error_code: None,
        }
    }

    /// An ERROR, about a fragment when the failure concerns one.
    pub fn error(error: AckError, fragment: Option<(u64, FragmentNumber)>) -> Ack {
        Ack {
            event_type: EventType::Error,
            fragment_timecode: fragment.map(|(timecode, _)| timecode),
            fragment_number: fragment.map(|(_, number)| number.to_string()),
            error_id: Some(error.id()),
            error_code: Some(error.code()),
        }
    }

    pub fn idle() -> Ack {
        Ack {
            event_type: EventType::Idle,
            fragment_timecode: None,
            fragment_number: None,
            error_id: None,
            error_code: None,
        }
    }

    /// The acknowledgement as one line of the response.
    pub fn line(&self) -> Bytes {
        // Serializing a struct of strings and integers cannot fail; keep the line well formed
        // regardless.
        let mut line = serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec());
        line.push(b'\n');
        Bytes::from(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_sdk_shapes() {
        let number = FragmentNumber { log: 1, offset: 0 };
        assert_eq!(
            Ack::fragment(EventType::Buffering, 1000, number).line(),
            Bytes::from(
                "{\"EventType\":\"BUFFERING\",\"FragmentTimecode\":1000,\
                 \"FragmentNumber\":\"91343852333181432387730302063214432802205335552\"}\n"
            )
        );
        let error = Ack::error(
            AckError::FragmentTimecodeLesserThanPrevious,
            Some((3000, number)),
        );
        let text = String::from_utf8(error.line().to_vec()).expect("utf-8");
        assert!(
            text.ends_with(
                "\"ErrorId\":4004,\"ErrorCode\":\"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS\"}\n"
            ),
            "{text}"
        );
        assert_eq!(
            Ack::idle().line(),
            Bytes::from("{\"EventType\":\"IDLE\"}\n")
        );
    }
}
