//! What the put workloads send: partition keys (random or fixed) and a record's data, encoded
//! once as base64, since every record of a run carries the same bytes. Pure: no I/O.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::options::KeyMode;

/// The key every record gets with `--keys fixed`.
const FIXED_KEY: &str = "spate-bench";

/// Partition keys for one worker: a cheap generator (splitmix64) is plenty to spread records
/// over shards by MD5.
#[derive(Debug, Clone)]
pub struct Keys {
    mode: KeyMode,
    state: u64,
}

impl Keys {
    pub fn new(mode: KeyMode, seed: u64) -> Self {
        Self { mode, state: seed }
    }

    /// Appends the next key to `out` (no JSON escaping needed: hex digits or [`FIXED_KEY`]).
    pub fn push_next(&mut self, out: &mut String) {
        match self.mode {
            KeyMode::Fixed => out.push_str(FIXED_KEY),
            KeyMode::Random => {
                self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                push_hex16(out, z);
            }
        }
    }
}

/// Appends `value` as 16 lowercase hex digits (what `format!("{value:016x}")` gives, without
/// the allocation: this runs once per record sent).
fn push_hex16(out: &mut String, value: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(char::from(HEX[((value >> (shift * 4)) & 0xf) as usize]));
    }
}

/// `size` bytes of record data, base64-encoded for the JSON body.
pub fn encoded_data(size: usize) -> String {
    let data: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    STANDARD.encode(data)
}

/// A stream name as a JSON string literal, quotes included.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_match_the_formatter() {
        for value in [0, 1, 0xdead_beef, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mut out = String::new();
            push_hex16(&mut out, value);
            assert_eq!(out, format!("{value:016x}"));
        }
    }

    #[test]
    fn random_keys_differ_and_fixed_keys_do_not() {
        let mut keys = Keys::new(KeyMode::Random, 7);
        let (mut first, mut second) = (String::new(), String::new());
        keys.push_next(&mut first);
        keys.push_next(&mut second);
        assert_eq!(first.len(), 16);
        assert_ne!(first, second);

        let mut fixed = Keys::new(KeyMode::Fixed, 7);
        let (mut a, mut b) = (String::new(), String::new());
        fixed.push_next(&mut a);
        fixed.push_next(&mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn data_has_the_requested_size() {
        let encoded = encoded_data(100);
        let decoded = STANDARD.decode(encoded).expect("valid base64");
        assert_eq!(decoded.len(), 100);
    }
}
