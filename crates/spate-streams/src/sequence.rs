//! Sequence numbers: 56-digit decimals in the "version 2" layout real clients validate.
//!
//! A sequence number is a 186-bit integer written in decimal. From the most significant end, in
//! hex digits: `2` (version, bits 184-187) · 9 digits of shard creation epoch seconds · the low
//! nibble of the shard index · 16 digits of the record's position in its shard · one zero byte ·
//! 9 digits of the record's arrival epoch seconds · 8 digits of shard index (bits 4-35) · `2`.
//! The KCL's validator recognises this layout by its bit length and checks the embedded shard
//! index, so it must be right; the position makes numbers strictly increase within a shard, and
//! decoding gives back the shard and the position for AT/AFTER_SEQUENCE_NUMBER.

/// What a Spate sequence number encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceNumber {
    pub shard_created_secs: u64,
    pub shard_index: u32,
    /// The record's offset in its shard log.
    pub position: u64,
    pub arrival_secs: u64,
}

const SECS_MASK: u64 = (1 << 36) - 1;

/// A 192-bit unsigned integer as three little-endian 64-bit limbs.
type Limbs = [u64; 3];

impl SequenceNumber {
    /// The 56-digit decimal form.
    pub fn encode(&self) -> String {
        self.text().as_str().to_string()
    }

    /// The 56-digit decimal form, without allocating: for responses that carry one per record.
    pub fn text(&self) -> SequenceText {
        let shard_index = u128::from(self.shard_index);
        let position = u128::from(self.position);
        let low: u128 = 0x2
            | (shard_index << 4)
            | (u128::from(self.arrival_secs & SECS_MASK) << 36)
            | ((position & ((1 << 48) - 1)) << 80);
        let high: u64 = (self.position >> 48)
            | (u64::from(self.shard_index & 0xf) << 16)
            | ((self.shard_created_secs & SECS_MASK) << 20)
            | (0x2 << 56);
        SequenceText::from_limbs([low as u64, (low >> 64) as u64, high])
    }

    /// Decodes a decimal sequence number; `None` when it is not in Spate's layout.
    pub fn decode(text: &str) -> Option<SequenceNumber> {
        let limbs = from_decimal(text)?;
        let high = limbs[2];
        let low = u128::from(limbs[0]) | (u128::from(limbs[1]) << 64);
        if high >> 56 != 0x2 || low & 0xf != 0x2 {
            return None;
        }
        let shard_index = ((low >> 4) & 0xffff_ffff) as u32;
        if (high >> 16) & 0xf != u64::from(shard_index & 0xf) {
            return None;
        }
        Some(SequenceNumber {
            shard_created_secs: (high >> 20) & SECS_MASK,
            shard_index,
            position: ((low >> 80) as u64) | ((high & 0xffff) << 48),
            arrival_secs: ((low >> 36) as u64) & SECS_MASK,
        })
    }
}

/// Whether `text` has the modeled sequence number form `0|([1-9]\d{0,128})`.
pub fn is_sequence_number_syntax(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes {
        [b'0'] => true,
        [first, rest @ ..] => {
            (b'1'..=b'9').contains(first)
                && rest.len() <= 128
                && rest.iter().all(|b| b.is_ascii_digit())
        }
        [] => false,
    }
}

/// Digits in one chunk of a decimal conversion: 10^9 fits in 32 bits, so every step of the long
/// division below is a 64-by-constant division the compiler turns into a multiplication (u128
/// division is a slow library call).
const CHUNK_DIGITS: usize = 9;
/// Room for the decimal digits of any 192-bit number (58 digits), in whole chunks.
const TEXT_CAPACITY: usize = 7 * CHUNK_DIGITS;

/// Writes `value` (below 10^9) as exactly nine digits, two at a time from a table.
fn write_chunk(out: &mut [u8], mut value: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
                                2021222324252627282930313233343536373839\
                                4041424344454647484950515253545556575859\
                                6061626364656667686970717273747576777879\
                                8081828384858687888990919293949596979899";
    let mut at = out.len();
    while at >= 2 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        out[at - 2..at].copy_from_slice(&PAIRS[pair..pair + 2]);
        at -= 2;
    }
    if at == 1 {
        out[0] = b'0' + (value % 10) as u8;
    }
}

/// A sequence number in decimal, held inline: serialises as a string without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SequenceText {
    digits: [u8; TEXT_CAPACITY],
    start: usize,
}

impl SequenceText {
    fn from_limbs(limbs: Limbs) -> SequenceText {
        const CHUNK: u64 = 1_000_000_000;
        // The number as six 32-bit limbs, most significant first.
        let mut words = [0u32; 6];
        for (i, limb) in limbs.iter().rev().enumerate() {
            words[2 * i] = (limb >> 32) as u32;
            words[2 * i + 1] = *limb as u32;
        }
        // Leading zero words need no division: the number shrinks by a word every chunk or so.
        let mut first = words
            .iter()
            .position(|word| *word != 0)
            .unwrap_or(words.len());
        let mut digits = [b'0'; TEXT_CAPACITY];
        let mut end = TEXT_CAPACITY;
        while first < words.len() && end >= CHUNK_DIGITS {
            let mut remainder: u64 = 0;
            for word in &mut words[first..] {
                let current = (remainder << 32) | u64::from(*word);
                *word = (current / CHUNK) as u32;
                remainder = current % CHUNK;
            }
            if words[first] == 0 {
                first += 1;
            }
            write_chunk(&mut digits[end - CHUNK_DIGITS..end], remainder as u32);
            end -= CHUNK_DIGITS;
        }
        // No leading zeros; zero itself keeps its last digit.
        let start = digits
            .iter()
            .position(|digit| *digit != b'0')
            .unwrap_or(TEXT_CAPACITY - 1);
        SequenceText { digits, start }
    }

    /// The decimal digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever written, so this never falls back.
        std::str::from_utf8(&self.digits[self.start..]).unwrap_or("0")
    }
}

impl std::fmt::Display for SequenceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for SequenceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl serde::Serialize for SequenceText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

fn from_decimal(text: &str) -> Option<Limbs> {
    if text.is_empty() || text.len() > 60 {
        return None;
    }
    let mut limbs: Limbs = [0, 0, 0];
    for byte in text.bytes() {
        let digit = u64::from(byte.checked_sub(b'0').filter(|d| *d <= 9)?);
        let mut carry = u128::from(digit);
        for limb in limbs.iter_mut() {
            let current = u128::from(*limb) * 10 + carry;
            *limb = current as u64;
            carry = current >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(limbs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(position: u64, shard_index: u32) -> SequenceNumber {
        SequenceNumber {
            shard_created_secs: 1_700_000_000,
            shard_index,
            position,
            arrival_secs: 1_700_000_123,
        }
    }

    #[test]
    fn encodes_56_digits_and_round_trips() {
        for (position, shard) in [(0, 0), (1, 1), (u64::MAX, 4_000_000_000), (123_456, 17)] {
            let number = sample(position, shard);
            let text = number.encode();
            assert_eq!(text.len(), 56, "{text}");
            assert_eq!(SequenceNumber::decode(&text), Some(number));
        }
    }

    #[test]
    fn decimal_text_matches_big_integer_arithmetic() {
        assert_eq!(SequenceText::from_limbs([0, 0, 0]).as_str(), "0");
        assert_eq!(SequenceText::from_limbs([7, 0, 0]).as_str(), "7");
        assert_eq!(
            SequenceText::from_limbs([u64::MAX, 0, 0]).as_str(),
            u64::MAX.to_string()
        );
        assert_eq!(
            SequenceText::from_limbs([u64::MAX, u64::MAX, 0]).as_str(),
            u128::MAX.to_string()
        );
        // 2^192 - 1, the largest three limbs hold.
        assert_eq!(
            SequenceText::from_limbs([u64::MAX; 3]).as_str(),
            "6277101735386680763835789423207666416102355444464034512895"
        );
        for text in [
            "10000000000000000000",
            "49546986683135544286507457936321625675700192471156785154",
        ] {
            let limbs = from_decimal(text).expect("decimal");
            assert_eq!(SequenceText::from_limbs(limbs).as_str(), text);
        }
    }

    #[test]
    fn kcl_v2_rule_holds() {
        // Bit length 186, version 2 at bits 184..188, shard index at bits 4..36.
        let text = sample(42, 7).encode();
        let limbs = from_decimal(&text).expect("decimal");
        assert_eq!(64 * 2 + (64 - limbs[2].leading_zeros()), 186);
        assert_eq!(limbs[2] >> 56, 2);
        assert_eq!((limbs[0] >> 4) & 0xffff_ffff, 7);
    }

    #[test]
    fn numbers_increase_with_position() {
        let mut previous = String::new();
        for position in [0u64, 1, 2, 255, 256, 1 << 48, (1 << 48) + 1, u64::MAX] {
            let text = sample(position, 3).encode();
            assert!(previous.is_empty() || (text.len(), &text) > (previous.len(), &previous));
            previous = text;
        }
    }

    #[test]
    fn decodes_a_real_2015_number_and_rejects_foreign_ones() {
        let real =
            SequenceNumber::decode("49546986683135544286507457936321625675700192471156785154")
                .expect("v2 layout");
        assert_eq!(real.shard_index, 0);
        assert_eq!(real.shard_created_secs, 1_421_279_230);
        assert_eq!(SequenceNumber::decode("1"), None);
        assert_eq!(
            SequenceNumber::decode("47898854266005913857422065123575799283833479007471403058"),
            None
        );
        assert_eq!(SequenceNumber::decode(&"9".repeat(100)), None);
    }

    #[test]
    fn syntax_follows_the_model_pattern() {
        assert!(is_sequence_number_syntax("0"));
        assert!(is_sequence_number_syntax("12"));
        assert!(!is_sequence_number_syntax("012"));
        assert!(!is_sequence_number_syntax("abc"));
        assert!(!is_sequence_number_syntax(""));
    }
}
