//! Event-stream frames (`spate_wire::eventstream::decode`): the input is read as a stream of
//! messages until one does not decode. Each decoded message must claim no more bytes than it was
//! given, and one with only string headers (all the encoder writes) must re-encode to exactly the
//! bytes it was decoded from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_wire::eventstream::{self, HeaderValue, PRELUDE_LEN};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((message, used)) = eventstream::decode(rest) {
        assert!(used >= PRELUDE_LEN + 4 && used <= rest.len(), "used {used}");
        let string_headers: Option<Vec<(&str, &str)>> = message
            .headers
            .iter()
            .map(|(name, value)| match value {
                HeaderValue::String(text) => Some((name.as_str(), text.as_str())),
                _ => None,
            })
            .collect();
        if let Some(headers) = string_headers {
            let encoded = eventstream::encode(&headers, &message.payload);
            assert_eq!(&encoded[..], &rest[..used], "re-encodes to the same bytes");
        }
        rest = &rest[used..];
    }
});
