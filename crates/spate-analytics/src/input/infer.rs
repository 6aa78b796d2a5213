//! Inferring one column's SQL type from the values the samples hold for it.
//!
//! Unverified, all of it: the rules are reconstructed from the developer guide's examples and
//! the console's demo stream, not from a stated algorithm. Integers are INTEGER when every one
//! fits 32 bits, else BIGINT; numbers with a fraction (or beyond 64 bits) make the column DOUBLE;
//! JSON booleans (and CSV `true`/`false`) BOOLEAN; strings that all read as timestamps TIMESTAMP;
//! anything else, including a mixture of kinds, is VARCHAR(n), n the longest value's length
//! rounded up to a power of two and at least 4 (the guide's CSV example, as remembered, gives
//! VARCHAR(4) for `AK`, VARCHAR(16) for `ShortTons`, VARCHAR(64) for a 35-character value). A
//! column with only nulls or empty fields is VARCHAR(4).

use super::datetime;
use super::json::{Json, JsonNumber};
use super::types::{MAX_LENGTH, SqlType};

/// Smallest VARCHAR length discovery proposes.
const MIN_VARCHAR: u32 = 4;

/// What the samples held for one column so far.
#[derive(Debug, Clone, Default)]
pub struct TypeGuess {
    booleans: usize,
    integers: usize,
    fractions: usize,
    strings: usize,
    timestamps: usize,
    smallest: i64,
    largest: i64,
    /// The longest value, in characters of its text form.
    longest: usize,
}

impl TypeGuess {
    /// Counts a JSON value (a leaf: objects and arrays are flattened before).
    pub fn observe_json(&mut self, value: &Json) {
        match value {
            Json::Null => {}
            Json::Bool(flag) => self.observe_boolean(&flag.to_string()),
            Json::Number(JsonNumber::Int(number)) => self.observe_integer(*number),
            Json::Number(number) => self.observe_fraction(&number.to_string()),
            Json::String(text) => self.observe_string(text),
            Json::Array(_) | Json::Object(_) => self.observe_string(&value.to_string()),
        }
    }

    /// Counts a CSV field; an empty field says nothing of the type.
    pub fn observe_text(&mut self, text: &str) {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.longest = self.longest.max(text.chars().count());
        } else if trimmed.eq_ignore_ascii_case("true") || trimmed.eq_ignore_ascii_case("false") {
            self.observe_boolean(text);
        } else if let Ok(number) = trimmed.parse::<i64>() {
            self.longest = self.longest.max(text.chars().count());
            self.observe_integer(number);
        } else if looks_numeric(trimmed) {
            self.observe_fraction(text);
        } else {
            self.observe_string(text);
        }
    }

    fn observe_boolean(&mut self, text: &str) {
        self.booleans += 1;
        self.longest = self.longest.max(text.chars().count());
    }

    fn observe_integer(&mut self, number: i64) {
        if self.integers == 0 {
            (self.smallest, self.largest) = (number, number);
        }
        self.integers += 1;
        self.smallest = self.smallest.min(number);
        self.largest = self.largest.max(number);
        self.longest = self.longest.max(number.to_string().len());
    }

    fn observe_fraction(&mut self, text: &str) {
        self.fractions += 1;
        self.longest = self.longest.max(text.chars().count());
    }

    fn observe_string(&mut self, text: &str) {
        self.strings += 1;
        if datetime::parse_timestamp(text.trim()).is_some() {
            self.timestamps += 1;
        }
        self.longest = self.longest.max(text.chars().count());
    }

    /// The type that holds every value seen.
    pub fn sql_type(&self) -> SqlType {
        let numbers = self.integers + self.fractions;
        let seen = self.booleans + numbers + self.strings;
        if seen == 0 {
            return SqlType::Varchar(MIN_VARCHAR);
        }
        if self.strings == seen && self.timestamps == seen {
            return SqlType::Timestamp;
        }
        if self.booleans == seen {
            return SqlType::Boolean;
        }
        if numbers == seen && self.fractions > 0 {
            return SqlType::Double;
        }
        if self.integers == seen {
            let fits_integer =
                i32::try_from(self.smallest).is_ok() && i32::try_from(self.largest).is_ok();
            return if fits_integer {
                SqlType::Integer
            } else {
                SqlType::BigInt
            };
        }
        SqlType::Varchar(varchar_length(self.longest))
    }
}

/// A decimal number Rust's float parser reads, excluding its `inf` and `NaN` spellings.
fn looks_numeric(text: &str) -> bool {
    text.bytes().any(|byte| byte.is_ascii_digit())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || b"+-.eE".contains(&byte))
        && text.parse::<f64>().is_ok_and(f64::is_finite)
}

/// The VARCHAR length proposed for values up to `longest` characters.
pub fn varchar_length(longest: usize) -> u32 {
    let rounded = longest.max(1).next_power_of_two();
    let length = u32::try_from(rounded).unwrap_or(u32::MAX);
    length.clamp(MIN_VARCHAR, MAX_LENGTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_texts(texts: &[&str]) -> SqlType {
        let mut guess = TypeGuess::default();
        for text in texts {
            guess.observe_text(text);
        }
        guess.sql_type()
    }

    fn from_json(values: &[&str]) -> SqlType {
        let mut guess = TypeGuess::default();
        for value in values {
            guess.observe_json(&Json::parse(value.as_bytes()).expect("valid JSON"));
        }
        guess.sql_type()
    }

    #[test]
    fn csv_fields_infer_their_narrowest_type() {
        assert_eq!(from_texts(&["2001", "-5", ""]), SqlType::Integer);
        assert_eq!(from_texts(&["2147483648", "1"]), SqlType::BigInt);
        assert_eq!(from_texts(&["1.5", "2"]), SqlType::Double);
        assert_eq!(from_texts(&["99999999999999999999"]), SqlType::Double);
        assert_eq!(from_texts(&["true", "FALSE"]), SqlType::Boolean);
        assert_eq!(
            from_texts(&["2024-01-01 10:00:00", "2024-01-02T11:00:00.5Z"]),
            SqlType::Timestamp
        );
        assert_eq!(
            from_texts(&["2024-01-01 10:00:00", "soon"]),
            SqlType::Varchar(32)
        );
        assert_eq!(from_texts(&["AK", "AL"]), SqlType::Varchar(4));
        assert_eq!(from_texts(&["ShortTons"]), SqlType::Varchar(16));
        assert_eq!(
            from_texts(&["ElectricGeneratorsElectricUtilities"]),
            SqlType::Varchar(64)
        );
        assert_eq!(from_texts(&["12", "x"]), SqlType::Varchar(4));
        assert_eq!(from_texts(&["inf", "NaN"]), SqlType::Varchar(4));
        assert_eq!(from_texts(&["", ""]), SqlType::Varchar(4));
    }

    #[test]
    fn json_values_infer_their_narrowest_type() {
        assert_eq!(from_json(&["1", "null", "-2147483648"]), SqlType::Integer);
        assert_eq!(from_json(&["1", "5000000000"]), SqlType::BigInt);
        assert_eq!(from_json(&["1", "84.51"]), SqlType::Double);
        assert_eq!(from_json(&["18446744073709551615"]), SqlType::Double);
        assert_eq!(from_json(&["true", "false"]), SqlType::Boolean);
        assert_eq!(from_json(&["true", "1"]), SqlType::Varchar(4));
        // A number written as a JSON string stays a string.
        assert_eq!(from_json(&["\"123\""]), SqlType::Varchar(4));
        assert_eq!(
            from_json(&["\"TECHNOLOGY\"", "\"MANUFACTURING\""]),
            SqlType::Varchar(16)
        );
        assert_eq!(from_json(&["null"]), SqlType::Varchar(4));
    }

    #[test]
    fn varchar_lengths_round_up_to_a_power_of_two() {
        assert_eq!(varchar_length(0), 4);
        assert_eq!(varchar_length(5), 8);
        assert_eq!(varchar_length(16), 16);
        assert_eq!(varchar_length(17), 32);
        assert_eq!(varchar_length(40_000), MAX_LENGTH);
    }
}
