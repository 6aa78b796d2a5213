//! The `firehose-put` workload: Firehose PutRecordBatch calls of `--records-per-call` records
//! (at most 500) to an existing delivery stream. The records are JSON log lines of
//! `--record-size` bytes drawn from a fixed set of varied lines, so compression sees data
//! about as compressible as real logs rather than one repeated byte pattern.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::records::Keys;
use super::report::Tally;
use super::runner::Workload;

/// Distinct record payloads the workload cycles through.
const VARIANTS: u64 = 256;

#[derive(Debug)]
pub struct FirehosePut {
    /// `"DeliveryStreamName":"..."` ready to paste.
    pub stream_member: String,
    /// Base64 of each payload variant.
    variants: Vec<String>,
    next: AtomicU64,
}

impl FirehosePut {
    pub fn new(stream_member: String, record_size: usize) -> Self {
        let variants = (0..VARIANTS)
            .map(|seed| STANDARD.encode(log_line(seed, record_size)))
            .collect();
        Self {
            stream_member,
            variants,
            next: AtomicU64::new(0),
        }
    }
}

/// A JSON log line of exactly `size` bytes (newline-terminated when there is room), varied by
/// `seed` with a small xorshift generator.
fn log_line(seed: u64, size: usize) -> Vec<u8> {
    const PATHS: [&str; 6] = [
        "/api/orders",
        "/api/users/me",
        "/static/app.js",
        "/api/search",
        "/health",
        "/api/cart/items",
    ];
    const AGENTS: [&str; 3] = [
        "Mozilla/5.0 (X11; Linux x86_64)",
        "curl/8.5.0",
        "okhttp/4.12.0",
    ];
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut line = String::with_capacity(size + 64);
    while line.len() < size {
        let r = random();
        line.push_str(&format!(
            "{{\"ts\":\"2026-11-22T10:{:02}:{:02}.{:03}Z\",\"ip\":\"10.{}.{}.{}\",\"method\":\"GET\",\"path\":\"{}\",\"status\":{},\"bytes\":{},\"ms\":{},\"agent\":\"{}\",\"req\":\"{:016x}\"}}",
            r % 60,
            (r >> 6) % 60,
            (r >> 12) % 1000,
            (r >> 22) % 256,
            (r >> 30) % 256,
            (r >> 38) % 256,
            PATHS[(r >> 46) as usize % PATHS.len()],
            [200, 200, 200, 304, 404, 500][(r >> 50) as usize % 6],
            (r >> 20) % 50_000,
            (r >> 40) % 900,
            AGENTS[(r >> 56) as usize % AGENTS.len()],
            random(),
        ));
    }
    let mut bytes = line.into_bytes();
    bytes.truncate(size);
    if let Some(last) = bytes.last_mut() {
        *last = b'\n';
    }
    bytes
}

impl Workload for FirehosePut {
    fn name(&self) -> &'static str {
        "firehose-put"
    }

    fn operation(&self) -> &'static str {
        "PutRecordBatch"
    }

    fn body(&self, _keys: &mut Keys, records: u64) -> Vec<u8> {
        let start = self.next.fetch_add(records, Ordering::Relaxed);
        let mut body = String::with_capacity(64 + records as usize * (self.variants[0].len() + 12));
        body.push('{');
        body.push_str(&self.stream_member);
        body.push_str(",\"Records\":[");
        for index in 0..records {
            if index > 0 {
                body.push(',');
            }
            body.push_str("{\"Data\":\"");
            body.push_str(&self.variants[((start + index) % VARIANTS) as usize]);
            body.push_str("\"}");
        }
        body.push_str("]}");
        body.into_bytes()
    }

    fn stored(&self, response: &[u8], records: u64, tally: &mut Tally) -> u64 {
        #[derive(Deserialize)]
        struct Output {
            #[serde(rename = "FailedPutCount", default)]
            failed: u64,
        }
        match serde_json::from_slice::<Output>(response) {
            Ok(Output { failed }) => {
                for _ in 0..failed.min(records) {
                    tally.record_error("FailedPut");
                }
                records.saturating_sub(failed)
            }
            Err(_) => {
                for _ in 0..records {
                    tally.record_error("Unreadable");
                }
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_have_the_asked_size_and_vary() {
        for size in [1, 100, 1024, 5000] {
            let line = log_line(7, size);
            assert_eq!(line.len(), size);
            assert_eq!(line.last(), Some(&b'\n'));
        }
        assert_ne!(log_line(1, 1024), log_line(2, 1024));
    }
}
