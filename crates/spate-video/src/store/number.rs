//! Fragment numbers: the 47-digit decimals AWS hands out, `2^156 + (log << 64) + offset`.
//!
//! AWS's numbers are all `2^156 + x` (plan §3); Spate's `x` is the stream's media log id
//! times `2^64` plus the fragment's media offset, so a number decodes to its log in O(1) and
//! numbers of a recreated stream (a new log) never name the old one's fragments. The value is
//! kept as two `u64`s and formatted/parsed with a small base-10 routine over five `u32` limbs
//! (160 bits, least significant first); no bignum crate. Since `log·2^64 + offset < 2^128`,
//! the top limb is always exactly `2^28` (bit 156), and every number has 47 digits.

use std::fmt;
use std::str::FromStr;

/// The top limb (bits 128..160) of every fragment number: bit 156 set, nothing else.
const TOP_LIMB: u32 = 1 << 28;
/// The longest text `FromStr` accepts (the model's `FragmentNumberString` length).
const MAX_TEXT_LEN: usize = 128;

/// One fragment of one stream: its media log and its offset there. Ordered like the decimal
/// value (log first, then offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FragmentNumber {
    /// The stream's media log id.
    pub log: u64,
    /// The fragment's offset in the media log.
    pub offset: u64,
}

/// Why a string is not a fragment number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseFragmentNumberError {
    #[error("a fragment number has 1 to {MAX_TEXT_LEN} characters")]
    Length,
    #[error("a fragment number has only decimal digits")]
    NotDigits,
    #[error("not a fragment number of this service")]
    OutOfRange,
}

impl FragmentNumber {
    /// The value as five little-endian `u32` limbs.
    fn limbs(self) -> [u32; 5] {
        [
            self.offset as u32,
            (self.offset >> 32) as u32,
            self.log as u32,
            (self.log >> 32) as u32,
            TOP_LIMB,
        ]
    }
}

/// Divides the limbs by `divisor` in place and returns the remainder.
fn div_rem(limbs: &mut [u32; 5], divisor: u32) -> u32 {
    let mut remainder: u64 = 0;
    for limb in limbs.iter_mut().rev() {
        let current = (remainder << 32) | u64::from(*limb);
        *limb = (current / u64::from(divisor)) as u32;
        remainder = current % u64::from(divisor);
    }
    remainder as u32
}

/// `limbs = limbs * 10 + digit`; `false` when the result does not fit 160 bits.
fn mul_add(limbs: &mut [u32; 5], digit: u32) -> bool {
    let mut carry = u64::from(digit);
    for limb in limbs.iter_mut() {
        let current = u64::from(*limb) * 10 + carry;
        *limb = current as u32;
        carry = current >> 32;
    }
    carry == 0
}

impl fmt::Display for FragmentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut limbs = self.limbs();
        let mut digits = [0u8; 49]; // 2^160 < 10^49
        let mut len = 0;
        while limbs.iter().any(|&limb| limb != 0) {
            let digit = div_rem(&mut limbs, 10);
            digits[len] = b'0' + digit as u8;
            len += 1;
        }
        digits[..len].reverse();
        let text = std::str::from_utf8(&digits[..len]).map_err(|_| fmt::Error)?;
        f.write_str(text)
    }
}

impl FromStr for FragmentNumber {
    type Err = ParseFragmentNumberError;

    fn from_str(text: &str) -> Result<FragmentNumber, ParseFragmentNumberError> {
        if text.is_empty() || text.len() > MAX_TEXT_LEN {
            return Err(ParseFragmentNumberError::Length);
        }
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ParseFragmentNumberError::NotDigits);
        }
        let mut limbs = [0u32; 5];
        for byte in text.bytes() {
            if !mul_add(&mut limbs, u32::from(byte - b'0')) {
                return Err(ParseFragmentNumberError::OutOfRange);
            }
        }
        if limbs[4] != TOP_LIMB {
            return Err(ParseFragmentNumberError::OutOfRange);
        }
        Ok(FragmentNumber {
            offset: u64::from(limbs[0]) | (u64::from(limbs[1]) << 32),
            log: u64::from(limbs[2]) | (u64::from(limbs[3]) << 32),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_POW_156: &str = "91343852333181432387730302044767688728495783936";

    fn number(log: u64, offset: u64) -> FragmentNumber {
        FragmentNumber { log, offset }
    }

    #[test]
    fn formats_the_plan_examples() {
        assert_eq!(number(0, 0).to_string(), TWO_POW_156);
        assert_eq!(
            number(1, 0).to_string(),
            "91343852333181432387730302063214432802205335552"
        );
    }

    #[test]
    fn round_trips_with_47_digits() {
        let cases = [
            (0, 0),
            (1, 0),
            (1, 1),
            (7, 123_456_789),
            (u64::MAX, u64::MAX),
            (u64::MAX, 0),
            (0, u64::MAX),
        ];
        for (log, offset) in cases {
            let text = number(log, offset).to_string();
            assert_eq!(text.len(), 47, "{text}");
            let parsed: FragmentNumber = text.parse().expect("own output parses");
            assert_eq!(parsed, number(log, offset));
        }
    }

    #[test]
    fn ordering_matches_offsets_and_text() {
        let numbers = [number(1, 0), number(1, 1), number(1, 1 << 40), number(2, 0)];
        for pair in numbers.windows(2) {
            assert!(pair[0] < pair[1]);
            // Same length, so text order is numeric order.
            assert!(pair[0].to_string() < pair[1].to_string());
        }
    }

    #[test]
    fn rejects_what_is_not_ours() {
        assert_eq!(
            "".parse::<FragmentNumber>(),
            Err(ParseFragmentNumberError::Length)
        );
        assert_eq!(
            "1".repeat(129).parse::<FragmentNumber>(),
            Err(ParseFragmentNumberError::Length)
        );
        assert_eq!(
            "12a".parse::<FragmentNumber>(),
            Err(ParseFragmentNumberError::NotDigits)
        );
        assert_eq!(
            "-1".parse::<FragmentNumber>(),
            Err(ParseFragmentNumberError::NotDigits)
        );
        // Below 2^156, at or past 2^156 + 2^128, and far past 2^160.
        for text in [
            "12",
            "91343852333181432387730302044767688728495783935",
            "91343852673463799308668765508142296160263995392",
            &"9".repeat(128),
        ] {
            assert_eq!(
                text.parse::<FragmentNumber>(),
                Err(ParseFragmentNumberError::OutOfRange),
                "{text}"
            );
        }
        // Leading zeros do not change the value.
        let padded = format!("000{TWO_POW_156}");
        assert_eq!(padded.parse::<FragmentNumber>(), Ok(number(0, 0)));
    }
}
