//! Sequence numbers as clients send them (`spate_streams::sequence::SequenceNumber::decode`, and
//! the modeled syntax check). A number that decodes must encode to a number that decodes to the
//! same fields.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_streams::sequence::{SequenceNumber, is_sequence_number_syntax};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = is_sequence_number_syntax(&text);
    if let Some(number) = SequenceNumber::decode(&text) {
        let encoded = number.encode();
        assert_eq!(number.text().as_str(), encoded);
        assert_eq!(SequenceNumber::decode(&encoded), Some(number));
    }
});
