//! Tests of the resolution of calls by name, across the function families.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};

use super::*;

#[test]
fn unknown_functions_name_their_signature() {
    let error = resolve("LEFT", &[SqlType::Varchar(4), SqlType::Integer]).expect_err("unknown");
    assert_eq!(
        error.to_string(),
        "No match found for function signature LEFT(<VARCHAR(4)>, <INTEGER>)"
    );
    let error = resolve("NOW", &[]).expect_err("unknown");
    assert_eq!(
        error.to_string(),
        "No match found for function signature NOW()"
    );
}

#[test]
fn every_listed_function_resolves_with_its_return_type() {
    let text = SqlType::Varchar(10);
    let cases = [
        ("ABS", vec![SqlType::SmallInt], SqlType::SmallInt),
        ("CEIL", vec![SqlType::Double], SqlType::Double),
        ("CEILING", vec![SqlType::Integer], SqlType::Integer),
        ("FLOOR", vec![SqlType::Real], SqlType::Real),
        ("EXP", vec![SqlType::Integer], SqlType::Double),
        ("LN", vec![SqlType::Double], SqlType::Double),
        ("LOG10", vec![SqlType::Double], SqlType::Double),
        ("SQRT", vec![SqlType::Double], SqlType::Double),
        (
            "POWER",
            vec![SqlType::Integer, SqlType::Integer],
            SqlType::Double,
        ),
        (
            "MOD",
            vec![SqlType::BigInt, SqlType::SmallInt],
            SqlType::SmallInt,
        ),
        ("CHAR_LENGTH", vec![text], SqlType::Integer),
        ("LOWER", vec![SqlType::Char(3)], SqlType::Char(3)),
        ("UPPER", vec![text], text),
        ("INITCAP", vec![text], text),
        ("SUBSTRING", vec![text, SqlType::Integer], text),
        (
            "TSDIFF",
            vec![SqlType::Timestamp, SqlType::Timestamp],
            SqlType::BigInt,
        ),
        ("TO_TIMESTAMP", vec![SqlType::BigInt], SqlType::Timestamp),
        ("UNIX_TIMESTAMP", vec![SqlType::Timestamp], SqlType::BigInt),
        ("CHAR_TO_TIMESTAMP", vec![text, text], SqlType::Timestamp),
        ("CHAR_TO_DATE", vec![text, text], SqlType::Date),
        ("CHAR_TO_TIME", vec![text, text], SqlType::Time),
        (
            "TIMESTAMP_TO_CHAR",
            vec![text, SqlType::Timestamp],
            WIDEST_VARCHAR,
        ),
        ("DATE_TO_CHAR", vec![text, SqlType::Date], WIDEST_VARCHAR),
        ("TIME_TO_CHAR", vec![text, SqlType::Time], WIDEST_VARCHAR),
        (
            "COALESCE",
            vec![SqlType::Date, SqlType::Date],
            SqlType::Date,
        ),
        (
            "NULLIF",
            vec![SqlType::Integer, SqlType::BigInt],
            SqlType::Integer,
        ),
    ];
    for (name, args, expected) in cases {
        let function = resolve(name, &args).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(function.return_type(), expected, "{name}");
    }
    assert_eq!(
        resolve("CEILING", &[SqlType::Double])
            .expect("alias")
            .name(),
        "CEIL"
    );
}

#[test]
fn evaluation_checks_the_argument_arrays() {
    let function = resolve("ABS", &[SqlType::Integer]).expect("resolves");
    let short: ArrayRef = Arc::new(Int64Array::from(vec![1]));
    let error = function
        .evaluate(std::slice::from_ref(&short), 2)
        .expect_err("wrong length");
    assert_eq!(error.function, "ABS");
    function.evaluate(&[], 0).expect_err("missing argument");
    let strings_for_ints: ArrayRef = Arc::new(arrow::array::StringArray::from(vec!["1"]));
    let error = function
        .evaluate(&[strings_for_ints], 1)
        .expect_err("wrong physical type");
    assert!(error.message.contains("Utf8"), "{error}");
    let empty: ArrayRef = Arc::new(Int64Array::from(Vec::<i64>::new()));
    let result = function.evaluate(&[empty], 0).expect("an empty batch");
    assert_eq!(result.len(), 0);
}
