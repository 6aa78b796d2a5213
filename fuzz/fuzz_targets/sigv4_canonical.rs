//! The SigV4 canonical request (`spate_wire::sigv4::CanonicalRequest`) with an arbitrary method,
//! path, query, headers and payload hash, and `X-Amz-Date` parsing (`AmzDate::parse`). The input
//! is six fields split at NUL (`spate_fuzz::split_fields`): method, path, query, headers as
//! `name:value` lines, payload hash, date. The canonical text must hash to what `hash_hex`
//! computes, and a date that parses must print as it was read.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_fuzz::split_fields;
use spate_wire::sigv4::{AmzDate, CanonicalRequest, hex_str, payload_hash_hex};

fuzz_target!(|data: &[u8]| {
    let fields =
        split_fields::<6>(data).map(|field| String::from_utf8_lossy(field.unwrap_or_default()));
    let [method, path, query, header_lines, payload_hash, date] = &fields;
    let mut headers: Vec<(&str, &str)> = header_lines
        .split('\n')
        .filter_map(|line| line.split_once(':'))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let canonical = CanonicalRequest {
        method,
        path,
        query,
        headers: &headers,
        payload_hash,
    };
    let text = canonical.text();
    assert_eq!(
        hex_str(&payload_hash_hex(text.as_bytes())),
        hex_str(&canonical.hash_hex()),
        "the text is what is hashed"
    );
    if let Some(parsed) = AmzDate::parse(date) {
        assert_eq!(parsed.as_str(), date.as_ref());
        assert_eq!(AmzDate::from_epoch_seconds(parsed.epoch_seconds()), parsed);
    }
});
