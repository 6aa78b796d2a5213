//! The AWS event-stream encoding (`application/vnd.amazon.eventstream`), which SubscribeToShard
//! uses to push events on one long-lived response.
//!
//! A message is, all integers big-endian:
//!
//! ```text
//! +--------------+---------------+--------------+---------+---------+-------------+
//! | total len u32| headers len u32| prelude CRC32| headers | payload | message CRC32|
//! +--------------+---------------+--------------+---------+---------+-------------+
//!  <-------- prelude (12 bytes) --------------->
//! ```
//!
//! `total len` counts the whole message (prelude, headers, payload and the trailing CRC). The
//! prelude CRC covers the first 8 bytes; the message CRC covers everything before it, prelude CRC
//! included. Both are the standard CRC-32 (IEEE 802.3, as in zlib). A header is
//! `name len u8 | name | value type u8 | value`; Kinesis only needs strings (type 7:
//! `len u16 | UTF-8`), which is all the encoder writes. The decoder reads every value type, so
//! it can check what clients may send, and is used by tests and fuzzing.

use bytes::{BufMut, Bytes, BytesMut};

/// Bytes in the prelude: total length, headers length, prelude CRC.
pub const PRELUDE_LEN: usize = 12;
/// Largest header block clients accept (aws-sdk-go's limit).
pub const MAX_HEADERS_LEN: usize = 128 * 1024;
/// Largest payload clients accept (aws-sdk-go's limit).
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024 * 1024;
/// Content type of an event-stream response.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

const STRING_TYPE: u8 = 7;

/// A header value as the decoder reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Bytes(Bytes),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Bytes,
}

impl Message {
    /// The value of a string header, if the message has it.
    pub fn string_header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, value)| match value {
            HeaderValue::String(text) if n == name => Some(text.as_str()),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("need more bytes")]
    Incomplete,
    #[error("prelude CRC mismatch")]
    PreludeCrc,
    #[error("message CRC mismatch")]
    MessageCrc,
    #[error("lengths are inconsistent: {0}")]
    Length(String),
    #[error("malformed header: {0}")]
    Header(String),
}

/// Encodes one message with string headers. Panics only if a header name is longer than 255
/// bytes or a value longer than 65,535 bytes, which the callers' fixed names cannot be.
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut header_block = BytesMut::new();
    for (name, value) in headers {
        let name_len = u8::try_from(name.len()).expect("header names are short constants");
        let value_len = u16::try_from(value.len()).expect("header values are short");
        header_block.put_u8(name_len);
        header_block.put_slice(name.as_bytes());
        header_block.put_u8(STRING_TYPE);
        header_block.put_u16(value_len);
        header_block.put_slice(value.as_bytes());
    }
    let total = PRELUDE_LEN + header_block.len() + payload.len() + 4;
    let mut out = BytesMut::with_capacity(total);
    out.put_u32(u32::try_from(total).expect("event messages stay far below 4 GiB"));
    out.put_u32(u32::try_from(header_block.len()).expect("header block is small"));
    let prelude_crc = crc32fast::hash(&out[..8]);
    out.put_u32(prelude_crc);
    out.put_slice(&header_block);
    out.put_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.put_u32(message_crc);
    out.freeze()
}

/// An `:message-type event` message of `event_type` with a JSON payload.
pub fn json_event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    encode(
        &[
            (":message-type", "event"),
            (":event-type", event_type),
            (":content-type", content_type),
        ],
        payload,
    )
}

/// An `:message-type exception` message, how a modeled error ends a stream.
pub fn exception(exception_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    encode(
        &[
            (":message-type", "exception"),
            (":exception-type", exception_type),
            (":content-type", content_type),
        ],
        payload,
    )
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Decodes the first message of `input`; returns it and how many bytes it took.
/// [`FrameError::Incomplete`] means `input` holds only the start of a message.
pub fn decode(input: &[u8]) -> Result<(Message, usize), FrameError> {
    if input.len() < PRELUDE_LEN {
        return Err(FrameError::Incomplete);
    }
    let total = u32_at(input, 0) as usize;
    let headers_len = u32_at(input, 4) as usize;
    if crc32fast::hash(&input[..8]) != u32_at(input, 8) {
        return Err(FrameError::PreludeCrc);
    }
    if headers_len > MAX_HEADERS_LEN {
        return Err(FrameError::Length(format!(
            "headers of {headers_len} bytes"
        )));
    }
    let payload_len = total
        .checked_sub(PRELUDE_LEN + 4 + headers_len)
        .ok_or_else(|| FrameError::Length(format!("total {total} < headers {headers_len}")))?;
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(FrameError::Length(format!(
            "payload of {payload_len} bytes"
        )));
    }
    if input.len() < total {
        return Err(FrameError::Incomplete);
    }
    if crc32fast::hash(&input[..total - 4]) != u32_at(input, total - 4) {
        return Err(FrameError::MessageCrc);
    }
    let headers = decode_headers(&input[PRELUDE_LEN..PRELUDE_LEN + headers_len])?;
    let payload = Bytes::copy_from_slice(&input[PRELUDE_LEN + headers_len..total - 4]);
    Ok((Message { headers, payload }, total))
}

fn take<'a>(block: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
    if block.len() < n {
        return Err(FrameError::Header("truncated".to_string()));
    }
    let (head, rest) = block.split_at(n);
    *block = rest;
    Ok(head)
}

fn fixed<const N: usize>(block: &mut &[u8]) -> Result<[u8; N], FrameError> {
    let bytes = take(block, N)?;
    Ok(bytes.try_into().expect("take returned N bytes"))
}

fn decode_headers(mut block: &[u8]) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    let mut headers = Vec::new();
    while !block.is_empty() {
        let name_len = take(&mut block, 1)?[0] as usize;
        let name = std::str::from_utf8(take(&mut block, name_len)?)
            .map_err(|_| FrameError::Header("name is not UTF-8".to_string()))?
            .to_string();
        let value = match take(&mut block, 1)?[0] {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(fixed(&mut block)?)),
            3 => HeaderValue::Int16(i16::from_be_bytes(fixed(&mut block)?)),
            4 => HeaderValue::Int32(i32::from_be_bytes(fixed(&mut block)?)),
            5 => HeaderValue::Int64(i64::from_be_bytes(fixed(&mut block)?)),
            6 => {
                let len = u16::from_be_bytes(fixed(&mut block)?) as usize;
                HeaderValue::Bytes(Bytes::copy_from_slice(take(&mut block, len)?))
            }
            7 => {
                let len = u16::from_be_bytes(fixed(&mut block)?) as usize;
                let text = std::str::from_utf8(take(&mut block, len)?)
                    .map_err(|_| FrameError::Header("string is not UTF-8".to_string()))?;
                HeaderValue::String(text.to_string())
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(fixed(&mut block)?)),
            9 => HeaderValue::Uuid(fixed(&mut block)?),
            other => return Err(FrameError::Header(format!("unknown value type {other}"))),
        };
        headers.push((name, value));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn empty_message_known_answer() {
        // 16 bytes: total 16, no headers, CRC-32 of `00000010 00000000` is 0x05c248eb, and of
        // those 12 bytes 0x7d98c8ff (computed independently with zlib.crc32).
        assert_eq!(hex(&encode(&[], b"")), "000000100000000005c248eb7d98c8ff");
    }

    #[test]
    fn initial_response_known_answer() {
        // The first message of every SubscribeToShard response, built by hand from the layout in
        // the module docs with Python's struct and zlib.crc32.
        let expected = "0000007200000060ab820d9e0d3a6d6573736167652d747970650700056576656e740b3a\
                        6576656e742d74797065070010696e697469616c2d726573706f6e73650d3a636f6e7465\
                        6e742d7479706507001a6170706c69636174696f6e2f782d616d7a2d6a736f6e2d312e31\
                        7b7de16e66e4";
        let message = json_event("initial-response", "application/x-amz-json-1.1", b"{}");
        assert_eq!(hex(&message), expected);
    }

    #[test]
    fn round_trips_and_reports_partial_input() {
        let message = exception(
            "ResourceInUseException",
            "application/json",
            b"{\"message\":\"x\"}",
        );
        let mut stream = message.to_vec();
        stream.extend_from_slice(&encode(&[("a", "b")], b"second"));
        let (first, used) = decode(&stream).expect("first decodes");
        assert_eq!(used, message.len());
        assert_eq!(first.string_header(":message-type"), Some("exception"));
        assert_eq!(
            first.string_header(":exception-type"),
            Some("ResourceInUseException")
        );
        assert_eq!(&first.payload[..], b"{\"message\":\"x\"}");
        let (second, _) = decode(&stream[used..]).expect("second decodes");
        assert_eq!(&second.payload[..], b"second");
        for cut in 0..message.len() {
            assert_eq!(
                decode(&message[..cut]),
                Err(FrameError::Incomplete),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn corruption_is_detected() {
        let message = encode(&[("k", "v")], b"payload").to_vec();
        let mut bad_prelude = message.clone();
        bad_prelude[3] ^= 1;
        assert_eq!(decode(&bad_prelude), Err(FrameError::PreludeCrc));
        let mut bad_payload = message.clone();
        let last_payload_byte = message.len() - 5;
        bad_payload[last_payload_byte] ^= 1;
        assert_eq!(decode(&bad_payload), Err(FrameError::MessageCrc));
    }

    #[test]
    fn reads_every_header_type() {
        let mut block = Vec::new();
        block.extend_from_slice(&[1, b't', 0, 1, b'f', 1, 1, b'b', 2, 0xff]);
        block.extend_from_slice(&[1, b'i', 5, 0, 0, 0, 0, 0, 0, 0, 7]);
        block.extend_from_slice(&[1, b'u', 9]);
        block.extend_from_slice(&[0u8; 16]);
        let headers = decode_headers(&block).expect("decodes");
        assert_eq!(headers[0].1, HeaderValue::Bool(true));
        assert_eq!(headers[1].1, HeaderValue::Bool(false));
        assert_eq!(headers[2].1, HeaderValue::Byte(-1));
        assert_eq!(headers[3].1, HeaderValue::Int64(7));
        assert_eq!(headers[4].1, HeaderValue::Uuid([0; 16]));
        assert!(decode_headers(&[1, b'x', 42]).is_err());
    }

    proptest::proptest! {
        /// Whatever a peer sends, the decoder answers without panicking and never claims more
        /// bytes than it was given.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            if let Ok((_, used)) = decode(&bytes) {
                proptest::prop_assert!(used <= bytes.len());
            }
        }

        /// Any one corrupted byte of a valid message is caught (CRC-32 detects every burst of up
        /// to 32 bits), whatever field it lands in.
        #[test]
        fn a_corrupted_byte_is_always_rejected(
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            at in proptest::num::usize::ANY,
            flip in 1u8..=255,
        ) {
            let mut bytes = encode(&[(":event-type", "x")], &payload).to_vec();
            let at = at % bytes.len();
            bytes[at] ^= flip;
            proptest::prop_assert!(decode(&bytes).is_err());
        }

        #[test]
        fn encoded_messages_round_trip(
            headers in proptest::collection::vec(("[a-z:-]{1,20}", "[ -~]{0,40}"), 0..5),
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
        ) {
            let borrowed: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let encoded = encode(&borrowed, &payload);
            let (message, used) = decode(&encoded).expect("decodes");
            proptest::prop_assert_eq!(used, encoded.len());
            proptest::prop_assert_eq!(&message.payload[..], &payload[..]);
            let decoded: Vec<(String, HeaderValue)> = headers
                .iter()
                .map(|(n, v)| (n.clone(), HeaderValue::String(v.clone())))
                .collect();
            proptest::prop_assert_eq!(message.headers, decoded);
        }
    }
}
