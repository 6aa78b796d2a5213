//! S3 object keys of delivered batches, and the prefix expressions that shape them.
//!
//! Pure: no clock, no randomness of its own, no I/O. The caller passes the arrival time of the
//! batch's oldest record, the partition key values, and a source of UUIDs.
//!
//! # What AWS documents, and where
//!
//! - *Amazon S3 object name format* (`firehose/latest/dev/s3-object-name.html`, earlier
//!   `basic-deliver.html#s3-object-name`): a key is `<evaluated prefix><suffix>`, the suffix being
//!   `<stream name>-<stream version>-<year>-<month>-<day>-<hour>-<minute>-<second>-<uuid><file
//!   extension>`; the stream version "begins with 1 and increases by 1 for every configuration
//!   change"; without a custom prefix Firehose adds the time prefix `YYYY/MM/dd/HH`; times are in
//!   UTC unless `CustomTimeZone` says otherwise.
//! - *Custom prefixes for Amazon S3 objects* (`firehose/latest/dev/s3-prefixes.html`; the
//!   archived `awsdocs/amazon-kinesis-data-firehose-developer-guide`, `doc_source/s3-prefixes.md`):
//!   the expressions `!{namespace:value}` with the namespaces `timestamp`, `firehose`,
//!   `partitionKeyFromQuery` and `partitionKeyFromLambda`, and the "Semantic rules" that
//!   [`validate_prefixes`] enforces. Each rule below cites the sentence it comes from.
//! - *Dynamic partitioning* (`firehose/latest/dev/dynamic-partitioning.html` and its
//!   sub-pages `dynamic-partitioning-s3bucketprefix.html`, `dynamic-partitioning-error-handling.html`):
//!   with dynamic partitioning a Prefix and an error prefix are required.
//!
//! # What is not verified against AWS
//!
//! Marked `Unverified:` where it occurs. In short: AWS's exact error messages (only one appears
//! in the docs), the alphabet of `random-string`, whether the suffix's time is the same instant
//! as the prefix's, the `partitioning-failed` folder name (seen only in an AWS CDK integration
//! test), and the rules about `partitionKeyFrom*` that the docs imply but do not state.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use uuid::Uuid;

use self::timestamp::TimestampPattern;

mod timestamp;

/// The longest an evaluated prefix may be. *Custom prefixes*, semantic rules: "Neither `Prefix`
/// nor `ErrorOutputPrefix` can be greater than 512 characters after they're evaluated."
pub const MAX_EVALUATED_PREFIX_CHARS: usize = 512;

/// How many characters `!{firehose:random-string}` evaluates to. *Custom prefixes*, `firehose`
/// namespace: "Evaluates to a random string of 11 characters."
pub const RANDOM_STRING_CHARS: usize = 11;

/// Which field of the destination a prefix came from; the two accept different expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixRole {
    /// `Prefix`: where delivered batches go.
    Prefix,
    /// `ErrorOutputPrefix`: where failed records go.
    ErrorOutputPrefix,
}

impl PrefixRole {
    fn field_name(self) -> &'static str {
        match self {
            PrefixRole::Prefix => "Prefix",
            PrefixRole::ErrorOutputPrefix => "ErrorOutputPrefix",
        }
    }
}

/// Where a dynamic partitioning key's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PartitionKeySource {
    /// `!{partitionKeyFromQuery:KEY}`: inline parsing with a jq query.
    Query,
    /// `!{partitionKeyFromLambda:KEY}`: the `partitionKeys` metadata a Lambda processor returns.
    Lambda,
}

impl PartitionKeySource {
    fn namespace(self) -> &'static str {
        match self {
            PartitionKeySource::Query => "partitionKeyFromQuery",
            PartitionKeySource::Lambda => "partitionKeyFromLambda",
        }
    }
}

/// Why a batch went to the error output; the value of `!{firehose:error-output-type}` and the
/// folder of the default error path.
///
/// *Custom prefixes*, `firehose` namespace: error-output-type "evaluates to one of the following
/// strings, depending on the configuration of your Firehose stream, and the reason of failure:
/// {processing-failed, AmazonOpenSearchService-failed, splunk-failed, format-conversion-failed,
/// http-endpoint-failed}". The 2020 edition of the page lists `elasticsearch-failed` in place of
/// `AmazonOpenSearchService-failed` (the Elasticsearch destination, before its rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorOutputType {
    /// A processor (Lambda) failed or returned `ProcessingFailed` for the record.
    ProcessingFailed,
    /// Record format conversion (JSON to Parquet/ORC) failed for the record.
    FormatConversionFailed,
    /// Delivery to an HTTP endpoint destination failed past its retry duration.
    HttpEndpointFailed,
    /// Delivery to an Amazon OpenSearch Service destination failed.
    AmazonOpenSearchServiceFailed,
    /// Delivery to a legacy Amazon Elasticsearch Service destination failed.
    ElasticsearchFailed,
    /// Delivery to Splunk failed.
    SplunkFailed,
    /// Dynamic partitioning could not extract a record's keys or evaluate the prefix.
    ///
    /// Unverified: the docs say such records are "organized based on the error type" without
    /// naming it; `partitioning-failed` is the folder the AWS CDK integration test
    /// `integ.dynamic-partitioning-lambda` expects from a real stream.
    PartitioningFailed,
}

impl ErrorOutputType {
    /// The string AWS substitutes, e.g. `processing-failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorOutputType::ProcessingFailed => "processing-failed",
            ErrorOutputType::FormatConversionFailed => "format-conversion-failed",
            ErrorOutputType::HttpEndpointFailed => "http-endpoint-failed",
            ErrorOutputType::AmazonOpenSearchServiceFailed => "AmazonOpenSearchService-failed",
            ErrorOutputType::ElasticsearchFailed => "elasticsearch-failed",
            ErrorOutputType::SplunkFailed => "splunk-failed",
            ErrorOutputType::PartitioningFailed => "partitioning-failed",
        }
    }
}

/// A prefix that breaks AWS's rules. Every variant is an `InvalidArgumentException` at
/// `CreateDeliveryStream` and `UpdateDestination`; its `Display` is the message.
///
/// Unverified: AWS's exact wording, except for [`PrefixError::ErrorOutputPrefixRequired`], whose
/// text is the one the *Custom prefixes* examples table shows for that input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// "The sequence `!{` can only appear in `!{namespace:value}` expressions."
    #[error(
        "{field} is invalid: the sequence '!{{' at position {position} does not start a complete '!{{namespace:value}}' expression"
    )]
    MalformedExpression {
        field: &'static str,
        position: usize,
    },
    /// A namespace other than the four the docs list.
    #[error(
        "{field} is invalid: unknown namespace '{namespace}' in expression '!{{{expression}}}'; namespaces are timestamp, firehose, partitionKeyFromQuery and partitionKeyFromLambda"
    )]
    UnknownNamespace {
        field: &'static str,
        namespace: String,
        expression: String,
    },
    /// `!{namespace:}`.
    #[error("{field} is invalid: expression '!{{{expression}}}' has an empty value")]
    EmptyValue {
        field: &'static str,
        expression: String,
    },
    /// `firehose` has two values: "There are two values that you can use with this namespace:
    /// `error-output-type` and `random-string`."
    #[error(
        "{field} is invalid: unknown value '{value}' for the firehose namespace; values are error-output-type and random-string"
    )]
    UnknownFirehoseValue { field: &'static str, value: String },
    /// A `timestamp` value that is not a Java `DateTimeFormatter` pattern Spate can evaluate.
    #[error("{field} is invalid: '{pattern}' is not a supported timestamp pattern: {reason}")]
    InvalidTimestampPattern {
        field: &'static str,
        pattern: String,
        reason: String,
    },
    /// "`Prefix` can't contain `!{firehose:error-output-type}`."
    #[error("Prefix can't contain !{{firehose:error-output-type}}")]
    ErrorOutputTypeInPrefix,
    /// Unverified: not stated by the docs. Records reach the error output because their keys
    /// could not be extracted, so the error prefix cannot depend on them.
    #[error(
        "ErrorOutputPrefix can't contain partitionKeyFromQuery or partitionKeyFromLambda expressions"
    )]
    PartitionKeyInErrorOutputPrefix,
    /// "`ErrorOutputPrefix` can be null only if `Prefix` contains no expressions." The message is
    /// the one the docs' examples table gives for `Prefix: !{timestamp:yyyy/MM/dd}` alone.
    #[error("ErrorOutputPrefix can't be null when Prefix contains expressions")]
    ErrorOutputPrefixRequired,
    /// "If you specify an expression for `ErrorOutputPrefix`, you must include at least one
    /// instance of `!{firehose:error-output-type}`."
    #[error(
        "ErrorOutputPrefix must contain at least one instance of !{{firehose:error-output-type}} when it contains expressions"
    )]
    ErrorOutputTypeRequired,
    /// Unverified: implied, not stated. The partitionKeyFrom* values exist only when dynamic
    /// partitioning extracts them.
    #[error(
        "Prefix can contain partitionKeyFromQuery or partitionKeyFromLambda expressions only when dynamic partitioning is enabled"
    )]
    PartitionKeyWithoutDynamicPartitioning,
    /// *Dynamic partitioning*, S3 bucket prefix: "if you choose to enable dynamic partitioning,
    /// you must specify the S3 bucket prefixes", and "In every Firehose stream where you enable
    /// dynamic partitioning, the S3 bucket prefix value consists of expressions based on the
    /// specified partitioning keys". Unverified: that a prefix with no partitionKeyFrom*
    /// expression is refused rather than merely useless.
    #[error(
        "Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression when dynamic partitioning is enabled"
    )]
    PartitionKeyRequired,
    /// *Dynamic partitioning*, error handling: "You must specify an S3 error bucket prefix for a
    /// Firehose stream if you want to enable dynamic partitioning for this Firehose stream."
    #[error("ErrorOutputPrefix is required when dynamic partitioning is enabled")]
    ErrorOutputPrefixRequiredForDynamicPartitioning,
}

/// Why a key could not be made for a batch. The caller sends such a batch to the error output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The batch carries no value for a key its prefix uses.
    #[error("no value for partition key '{key}' of {}", key_source.namespace())]
    MissingPartitionKey {
        key_source: PartitionKeySource,
        key: String,
    },
    /// "Neither `Prefix` nor `ErrorOutputPrefix` can be greater than 512 characters after they're
    /// evaluated." Unverified: what AWS does with such a batch at run time.
    #[error("evaluated prefix has {chars} characters, more than 512")]
    PrefixTooLong { chars: usize },
    /// The arrival time is outside the range of representable timestamps.
    #[error("arrival time {millis} ms is out of range")]
    TimeOutOfRange { millis: i64 },
}

/// A parsed `Prefix` or `ErrorOutputPrefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    role: PrefixRole,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Timestamp(TimestampPattern),
    RandomString,
    ErrorOutputType,
    PartitionKey {
        source: PartitionKeySource,
        key: String,
    },
}

impl Prefix {
    /// Parses `text` as a prefix of `role`, checking each expression on its own. Rules that
    /// relate the two prefixes, or dynamic partitioning, are [`validate_prefixes`]'s.
    pub fn parse(text: &str, role: PrefixRole) -> Result<Prefix, PrefixError> {
        let field = role.field_name();
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(start) = rest.find("!{") {
            literal.push_str(&rest[..start]);
            let position = consumed + start;
            let after_open = &rest[start + 2..];
            let Some(end) = after_open.find('}') else {
                return Err(PrefixError::MalformedExpression { field, position });
            };
            let expression = &after_open[..end];
            if expression.contains("!{") {
                return Err(PrefixError::MalformedExpression { field, position });
            }
            let Some((namespace, value)) = expression.split_once(':') else {
                return Err(PrefixError::MalformedExpression { field, position });
            };
            if value.is_empty() {
                return Err(PrefixError::EmptyValue {
                    field,
                    expression: expression.to_owned(),
                });
            }
            let segment = match namespace {
                "timestamp" => {
                    let pattern = TimestampPattern::parse(value).map_err(|reason| {
                        PrefixError::InvalidTimestampPattern {
                            field,
                            pattern: value.to_owned(),
                            reason,
                        }
                    })?;
                    Segment::Timestamp(pattern)
                }
                "firehose" => match value {
                    "random-string" => Segment::RandomString,
                    "error-output-type" => {
                        if role == PrefixRole::Prefix {
                            return Err(PrefixError::ErrorOutputTypeInPrefix);
                        }
                        Segment::ErrorOutputType
                    }
                    _ => {
                        return Err(PrefixError::UnknownFirehoseValue {
                            field,
                            value: value.to_owned(),
                        });
                    }
                },
                "partitionKeyFromQuery" | "partitionKeyFromLambda" => {
                    if role == PrefixRole::ErrorOutputPrefix {
                        return Err(PrefixError::PartitionKeyInErrorOutputPrefix);
                    }
                    let source = if namespace == "partitionKeyFromQuery" {
                        PartitionKeySource::Query
                    } else {
                        PartitionKeySource::Lambda
                    };
                    Segment::PartitionKey {
                        source,
                        key: value.to_owned(),
                    }
                }
                _ => {
                    return Err(PrefixError::UnknownNamespace {
                        field,
                        namespace: namespace.to_owned(),
                        expression: expression.to_owned(),
                    });
                }
            };
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal)));
            }
            segments.push(segment);
            let expression_len = 2 + end + 1;
            consumed += start + expression_len;
            rest = &rest[start + expression_len..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Prefix { role, segments })
    }

    /// Which field this prefix came from.
    pub fn role(&self) -> PrefixRole {
        self.role
    }

    /// Whether the prefix has any `!{...}` expression.
    pub fn has_expressions(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| !matches!(segment, Segment::Literal(_)))
    }

    /// Whether the prefix has a `!{timestamp:...}` expression.
    pub fn has_timestamp(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Timestamp(_)))
    }

    /// Whether the prefix has `!{firehose:error-output-type}`.
    pub fn has_error_output_type(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::ErrorOutputType))
    }

    /// The partition keys the prefix uses, each once, in order of source then name.
    pub fn partition_keys(&self) -> Vec<(PartitionKeySource, &str)> {
        let mut keys = Vec::new();
        for segment in &self.segments {
            if let Segment::PartitionKey { source, key } = segment {
                keys.push((*source, key.as_str()));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether Firehose appends the default time path `yyyy/MM/dd/HH/` to this prefix.
    ///
    /// *Custom prefixes*, semantic rules: "If you specify a prefix that doesn't contain a
    /// timestamp namespace expression, Firehose appends the expression
    /// `!{timestamp:yyyy/MM/dd/HH/}` to the value in the `Prefix` field." Only the `Prefix` field:
    /// the examples table evaluates `ErrorOutputPrefix: myFirehoseFailures/!{firehose:error-output-type}/`
    /// to `myFirehoseFailures/processing-failed/`, with no time.
    ///
    /// A prefix with partitionKeyFrom* expressions gets none either: the *dynamic partitioning*
    /// page delivers `customer_id=!{partitionKeyFromQuery:customer_id}/.../hour=!{...:hour}/` to
    /// `customer_id=1234567890/.../hour=20/my-delivery-stream-2019-08-09-23-55-09-<uuid>`.
    fn appends_default_time_path(&self) -> bool {
        self.role == PrefixRole::Prefix
            && !self.segments.iter().any(|segment| {
                matches!(
                    segment,
                    Segment::Timestamp(_) | Segment::PartitionKey { .. }
                )
            })
    }

    /// The literal text before the first expression, or the whole prefix if it has none.
    fn literal_text(&self) -> String {
        let mut text = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => text.push_str(literal),
                _ => break,
            }
        }
        text
    }
}

/// `Prefix` and `ErrorOutputPrefix` of an S3 destination, checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPrefixes {
    /// `Prefix`, absent when not given or empty.
    pub prefix: Option<Prefix>,
    /// `ErrorOutputPrefix`, absent when not given or empty.
    pub error_output_prefix: Option<Prefix>,
}

/// Checks an S3 destination's prefixes as `CreateDeliveryStream` and `UpdateDestination` do; an
/// error is an `InvalidArgumentException` with the error's `Display` as message.
///
/// An empty string counts as absent (unverified: AWS may keep `""`; it evaluates the same).
///
/// "If the destination is Amazon Redshift, `Prefix` must not contain expressions and
/// `ErrorOutputPrefix` must be null" is checked with the Redshift destination's settings
/// (`settings::redshift`).
pub fn validate_prefixes(
    prefix: Option<&str>,
    error_output_prefix: Option<&str>,
    dynamic_partitioning: bool,
) -> Result<ValidatedPrefixes, PrefixError> {
    let prefix = match prefix.filter(|text| !text.is_empty()) {
        Some(text) => Some(Prefix::parse(text, PrefixRole::Prefix)?),
        None => None,
    };
    let error_output_prefix = match error_output_prefix.filter(|text| !text.is_empty()) {
        Some(text) => Some(Prefix::parse(text, PrefixRole::ErrorOutputPrefix)?),
        None => None,
    };
    let prefix_has_expressions = prefix.as_ref().is_some_and(Prefix::has_expressions);
    let prefix_has_partition_keys = prefix
        .as_ref()
        .is_some_and(|prefix| !prefix.partition_keys().is_empty());

    if dynamic_partitioning {
        if !prefix_has_partition_keys {
            return Err(PrefixError::PartitionKeyRequired);
        }
        if error_output_prefix.is_none() {
            return Err(PrefixError::ErrorOutputPrefixRequiredForDynamicPartitioning);
        }
    } else if prefix_has_partition_keys {
        return Err(PrefixError::PartitionKeyWithoutDynamicPartitioning);
    }
    if prefix_has_expressions && error_output_prefix.is_none() {
        return Err(PrefixError::ErrorOutputPrefixRequired);
    }
    if let Some(error_output_prefix) = &error_output_prefix
        && error_output_prefix.has_expressions()
        && !error_output_prefix.has_error_output_type()
    {
        return Err(PrefixError::ErrorOutputTypeRequired);
    }
    Ok(ValidatedPrefixes {
        prefix,
        error_output_prefix,
    })
}

/// What a batch's key is made of, apart from randomness.
#[derive(Debug, Clone, Copy)]
pub struct KeyInputs<'a> {
    /// The delivery stream's name, first part of the object name.
    pub stream_name: &'a str,
    /// The delivery stream's version: "begins with 1 and increases by 1 for every configuration
    /// change" (*S3 object name format*).
    pub stream_version: u64,
    /// Approximate arrival time, in Unix milliseconds, of the oldest record in the batch: "When
    /// evaluating timestamps, Firehose uses the approximate arrival timestamp of the oldest
    /// record that's contained in the Amazon S3 object being written." Unverified: that the
    /// suffix's date and time are this same instant.
    pub oldest_arrival_ms: i64,
    /// `CustomTimeZone`; UTC by default.
    pub time_zone: &'a TimeZone,
    /// Values of `partitionKeyFromQuery` keys for the batch.
    pub query_keys: &'a BTreeMap<String, String>,
    /// Values of `partitionKeyFromLambda` keys for the batch.
    pub lambda_keys: &'a BTreeMap<String, String>,
    /// Appended after the UUID, e.g. `.gz`, or empty.
    pub extension: &'a str,
}

/// A fresh random UUID for production; tests pass their own source.
pub fn random_uuid() -> Uuid {
    Uuid::new_v4()
}

/// The key of a delivered batch: the evaluated `Prefix` (with the default time path when it
/// applies) followed by the object name.
///
/// `new_uuid` gives the object name's UUID and, one per `!{firehose:random-string}`, the random
/// strings ("If you use it more than once in the same expression, every instance evaluates to a
/// new random string").
pub fn object_key(
    prefix: Option<&Prefix>,
    inputs: &KeyInputs<'_>,
    new_uuid: &mut dyn FnMut() -> Uuid,
) -> Result<String, KeyError> {
    let time = local_time(inputs)?;
    let mut key = String::new();
    if let Some(prefix) = prefix {
        debug_assert_eq!(prefix.role, PrefixRole::Prefix, "object_key takes a Prefix");
        evaluate(prefix, &time, None, inputs, new_uuid, &mut key)?;
    }
    if prefix.is_none_or(Prefix::appends_default_time_path) {
        push_default_time_path(&time, &mut key);
    }
    check_prefix_length(&key)?;
    push_object_name(&time, inputs, new_uuid(), &mut key);
    Ok(key)
}

/// The key of a batch of failed records.
///
/// With an `ErrorOutputPrefix`, that prefix evaluated with `error_type` as
/// `!{firehose:error-output-type}` and no time path added. Without one, *Custom prefixes*,
/// semantic rules: "`Prefix` evaluates to `<specified-prefix>YYYY/MM/DD/HH/` and
/// `ErrorOutputPrefix` evaluates to `<specified-prefix><error-output-type>YYYY/MM/DD/HH/`".
/// The examples table shows `myFirehosePrefix/processing-failed/2018/08/27/`, a `/` after the
/// error type, which this follows. Unverified: the rule's text has no `/` there, and a later
/// edition says `DDD` (day of year) where the examples show the day of the month, as here.
pub fn error_object_key(
    error_output_prefix: Option<&Prefix>,
    prefix: Option<&Prefix>,
    error_type: ErrorOutputType,
    inputs: &KeyInputs<'_>,
    new_uuid: &mut dyn FnMut() -> Uuid,
) -> Result<String, KeyError> {
    let time = local_time(inputs)?;
    let mut key = String::new();
    match error_output_prefix {
        Some(error_output_prefix) => {
            debug_assert_eq!(error_output_prefix.role, PrefixRole::ErrorOutputPrefix);
            evaluate(
                error_output_prefix,
                &time,
                Some(error_type),
                inputs,
                new_uuid,
                &mut key,
            )?;
        }
        None => {
            debug_assert!(
                !prefix.is_some_and(Prefix::has_expressions),
                "validate_prefixes requires an ErrorOutputPrefix when Prefix has expressions"
            );
            if let Some(prefix) = prefix {
                key.push_str(&prefix.literal_text());
            }
            key.push_str(error_type.as_str());
            key.push('/');
            push_default_time_path(&time, &mut key);
        }
    }
    check_prefix_length(&key)?;
    push_object_name(&time, inputs, new_uuid(), &mut key);
    Ok(key)
}

fn local_time(inputs: &KeyInputs<'_>) -> Result<DateTime, KeyError> {
    let millis = inputs.oldest_arrival_ms;
    let timestamp =
        Timestamp::from_millisecond(millis).map_err(|_| KeyError::TimeOutOfRange { millis })?;
    Ok(timestamp.to_zoned(inputs.time_zone.clone()).datetime())
}

fn evaluate(
    prefix: &Prefix,
    time: &DateTime,
    error_type: Option<ErrorOutputType>,
    inputs: &KeyInputs<'_>,
    new_uuid: &mut dyn FnMut() -> Uuid,
    out: &mut String,
) -> Result<(), KeyError> {
    for segment in &prefix.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Timestamp(pattern) => pattern.format(time, out),
            Segment::RandomString => out.push_str(&random_string(new_uuid())),
            Segment::ErrorOutputType => {
                let error_type =
                    error_type.expect("error-output-type parses only in an ErrorOutputPrefix");
                out.push_str(error_type.as_str());
            }
            Segment::PartitionKey { source, key } => {
                let values = match source {
                    PartitionKeySource::Query => inputs.query_keys,
                    PartitionKeySource::Lambda => inputs.lambda_keys,
                };
                let Some(value) = values.get(key) else {
                    return Err(KeyError::MissingPartitionKey {
                        key_source: *source,
                        key: key.clone(),
                    });
                };
                out.push_str(value);
            }
        }
    }
    Ok(())
}

/// Eleven lowercase hexadecimal characters from a random UUID.
///
/// Unverified: the docs give two example outputs, `046b6c7f-0b` (the first 11 characters of a
/// hyphenated UUID) and `5abf82daaa5`. This takes the first 11 of the UUID's 32 hex digits,
/// which matches the second and, for a v4 UUID, are all random (the version digit is the 13th).
fn random_string(uuid: Uuid) -> String {
    let mut hex = uuid.simple().to_string();
    hex.truncate(RANDOM_STRING_CHARS);
    hex
}

fn push_default_time_path(time: &DateTime, out: &mut String) {
    let _ = write!(
        out,
        "{:04}/{:02}/{:02}/{:02}/",
        time.year(),
        time.month(),
        time.day(),
        time.hour()
    );
}

fn check_prefix_length(evaluated_prefix: &str) -> Result<(), KeyError> {
    let chars = evaluated_prefix.chars().count();
    if chars > MAX_EVALUATED_PREFIX_CHARS {
        return Err(KeyError::PrefixTooLong { chars });
    }
    Ok(())
}

/// `<stream name>-<stream version>-<year>-<month>-<day>-<hour>-<minute>-<second>-<uuid><file
/// extension>` (*S3 object name format*).
fn push_object_name(time: &DateTime, inputs: &KeyInputs<'_>, uuid: Uuid, out: &mut String) {
    let _ = write!(
        out,
        "{}-{}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{}{}",
        inputs.stream_name,
        inputs.stream_version,
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        uuid.hyphenated(),
        inputs.extension,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22T10:05:03.123Z, a Sunday, day 326 of the year.
    fn arrival_ms() -> i64 {
        "2026-11-22T10:05:03.123456789Z"
            .parse::<Timestamp>()
            .expect("a valid timestamp")
            .as_millisecond()
    }

    const UUID_TEXT: &str = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";

    /// Hands out UUIDs whose first byte counts up from 0x10, so each call is told apart.
    fn counting_uuids() -> impl FnMut() -> Uuid {
        let mut next = 0x10_u8;
        move || {
            let mut bytes = *Uuid::parse_str(UUID_TEXT).expect("a valid uuid").as_bytes();
            bytes[0] = next;
            next += 1;
            Uuid::from_bytes(bytes)
        }
    }

    fn fixed_uuid() -> Uuid {
        Uuid::parse_str(UUID_TEXT).expect("a valid uuid")
    }

    struct Keys {
        query: BTreeMap<String, String>,
        lambda: BTreeMap<String, String>,
        utc: TimeZone,
    }

    impl Keys {
        fn none() -> Keys {
            Keys {
                query: BTreeMap::new(),
                lambda: BTreeMap::new(),
                utc: TimeZone::UTC,
            }
        }

        fn inputs(&self) -> KeyInputs<'_> {
            KeyInputs {
                stream_name: "stream",
                stream_version: 1,
                oldest_arrival_ms: arrival_ms(),
                time_zone: &self.utc,
                query_keys: &self.query,
                lambda_keys: &self.lambda,
                extension: ".gz",
            }
        }
    }

    fn prefix(text: &str) -> Prefix {
        Prefix::parse(text, PrefixRole::Prefix).expect("a valid prefix")
    }

    fn error_prefix(text: &str) -> Prefix {
        Prefix::parse(text, PrefixRole::ErrorOutputPrefix).expect("a valid error prefix")
    }

    fn key_of(prefix_text: Option<&str>) -> String {
        let keys = Keys::none();
        let parsed = prefix_text.map(prefix);
        object_key(parsed.as_ref(), &keys.inputs(), &mut fixed_uuid).expect("a key")
    }

    const NAME: &str = "stream-1-2026-11-22-10-05-03-0b1c2d3e-4f50-4617-8899-aabbccddeeff.gz";

    #[test]
    fn object_name_is_stream_version_time_uuid_extension() {
        assert_eq!(
            key_of(Some("logs/!{timestamp:yyyy}/")),
            format!("logs/2026/{NAME}")
        );
        let keys = Keys::none();
        let inputs = KeyInputs {
            stream_version: 7,
            extension: "",
            ..keys.inputs()
        };
        let key = object_key(
            Some(&prefix("a/!{timestamp:HH}/")),
            &inputs,
            &mut fixed_uuid,
        )
        .expect("a key");
        assert_eq!(
            key,
            format!("a/10/stream-7-2026-11-22-10-05-03-{UUID_TEXT}")
        );
    }

    #[test]
    fn default_time_path_is_appended_when_the_prefix_has_no_timestamp() {
        let cases = [
            (None, format!("2026/11/22/10/{NAME}")),
            (Some(""), format!("2026/11/22/10/{NAME}")),
            (Some("logs/"), format!("logs/2026/11/22/10/{NAME}")),
            // Appended to the value as given: no slash is inserted.
            (Some("logs"), format!("logs2026/11/22/10/{NAME}")),
            (Some("!{timestamp:yyyy}/"), format!("2026/{NAME}")),
            (
                Some("day=!{timestamp:yyyy-MM-dd}/"),
                format!("day=2026-11-22/{NAME}"),
            ),
        ];
        for (prefix_text, expected) in cases {
            assert_eq!(key_of(prefix_text), expected, "prefix {prefix_text:?}");
        }
    }

    #[test]
    fn random_string_alone_still_gets_the_default_time_path() {
        let keys = Keys::none();
        let mut uuids = counting_uuids();
        let key = object_key(
            Some(&prefix("r=!{firehose:random-string}/")),
            &keys.inputs(),
            &mut uuids,
        )
        .expect("a key");
        assert_eq!(
            key,
            "r=101c2d3e4f5/2026/11/22/10/stream-1-2026-11-22-10-05-03-111c2d3e-4f50-4617-8899-aabbccddeeff.gz"
        );
    }

    #[test]
    fn random_string_is_eleven_hex_characters_new_each_time() {
        let keys = Keys::none();
        let parsed =
            prefix("!{firehose:random-string}/!{firehose:random-string}/!{timestamp:yyyy}/");
        let mut real_uuids = random_uuid;
        let key = object_key(Some(&parsed), &keys.inputs(), &mut real_uuids).expect("a key");
        let parts: Vec<&str> = key.split('/').collect();
        for random in &parts[..2] {
            assert_eq!(random.len(), RANDOM_STRING_CHARS, "{key}");
            assert!(
                random
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{key}"
            );
        }
        assert_ne!(parts[0], parts[1], "each instance is a new random string");

        let mut uuids = counting_uuids();
        let key = object_key(Some(&parsed), &keys.inputs(), &mut uuids).expect("a key");
        assert!(
            key.starts_with("101c2d3e4f5/111c2d3e4f5/2026/stream-1-"),
            "{key}"
        );
    }

    #[test]
    fn partition_keys_are_substituted() {
        let mut keys = Keys::none();
        keys.query
            .insert("customer_id".to_owned(), "1234567890".to_owned());
        keys.lambda.insert("device".to_owned(), "mobile".to_owned());
        let parsed = prefix(
            "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromLambda:device}/",
        );
        assert_eq!(
            parsed.partition_keys(),
            vec![
                (PartitionKeySource::Query, "customer_id"),
                (PartitionKeySource::Lambda, "device")
            ]
        );
        let key = object_key(Some(&parsed), &keys.inputs(), &mut fixed_uuid).expect("a key");
        assert_eq!(key, format!("customer_id=1234567890/device=mobile/{NAME}"));
    }

    #[test]
    fn a_missing_partition_value_is_an_error() {
        let mut keys = Keys::none();
        // The value exists, but from the other source.
        keys.lambda.insert("customer_id".to_owned(), "1".to_owned());
        let parsed = prefix("c=!{partitionKeyFromQuery:customer_id}/");
        let error =
            object_key(Some(&parsed), &keys.inputs(), &mut fixed_uuid).expect_err("refused");
        assert_eq!(
            error,
            KeyError::MissingPartitionKey {
                key_source: PartitionKeySource::Query,
                key: "customer_id".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "no value for partition key 'customer_id' of partitionKeyFromQuery"
        );
    }

    #[test]
    fn an_evaluated_prefix_over_512_characters_is_an_error() {
        let keys = Keys::none();
        let long = format!("{}/!{{timestamp:yyyy}}/", "a".repeat(507));
        let error =
            object_key(Some(&prefix(&long)), &keys.inputs(), &mut fixed_uuid).expect_err("refused");
        assert_eq!(error, KeyError::PrefixTooLong { chars: 513 });
        let fits = format!("{}/!{{timestamp:yyyy}}/", "a".repeat(506));
        assert!(object_key(Some(&prefix(&fits)), &keys.inputs(), &mut fixed_uuid).is_ok());
    }

    #[test]
    fn custom_time_zone_shifts_prefix_and_name() {
        let keys = Keys::none();
        let tokyo = TimeZone::fixed(jiff::tz::offset(9));
        let inputs = KeyInputs {
            time_zone: &tokyo,
            ..keys.inputs()
        };
        let key = object_key(None, &inputs, &mut fixed_uuid).expect("a key");
        assert_eq!(
            key,
            format!("2026/11/22/19/stream-1-2026-11-22-19-05-03-{UUID_TEXT}.gz")
        );
    }

    #[test]
    fn parse_errors() {
        use PrefixError::*;
        let cases: [(&str, PrefixRole, PrefixError); 11] = [
            (
                "a/!{timestamp:yyyy",
                PrefixRole::Prefix,
                MalformedExpression {
                    field: "Prefix",
                    position: 2,
                },
            ),
            (
                "!{timestamp}",
                PrefixRole::Prefix,
                MalformedExpression {
                    field: "Prefix",
                    position: 0,
                },
            ),
            (
                "x!{a!{timestamp:yyyy}",
                PrefixRole::Prefix,
                MalformedExpression {
                    field: "Prefix",
                    position: 1,
                },
            ),
            (
                "!{}",
                PrefixRole::ErrorOutputPrefix,
                MalformedExpression {
                    field: "ErrorOutputPrefix",
                    position: 0,
                },
            ),
            (
                "!{env:HOME}",
                PrefixRole::Prefix,
                UnknownNamespace {
                    field: "Prefix",
                    namespace: "env".to_owned(),
                    expression: "env:HOME".to_owned(),
                },
            ),
            (
                "!{Timestamp:yyyy}",
                PrefixRole::Prefix,
                UnknownNamespace {
                    field: "Prefix",
                    namespace: "Timestamp".to_owned(),
                    expression: "Timestamp:yyyy".to_owned(),
                },
            ),
            (
                "!{timestamp:}",
                PrefixRole::Prefix,
                EmptyValue {
                    field: "Prefix",
                    expression: "timestamp:".to_owned(),
                },
            ),
            (
                "!{firehose:uuid}",
                PrefixRole::Prefix,
                UnknownFirehoseValue {
                    field: "Prefix",
                    value: "uuid".to_owned(),
                },
            ),
            (
                "!{timestamp:yyyy-ww}",
                PrefixRole::Prefix,
                InvalidTimestampPattern {
                    field: "Prefix",
                    pattern: "yyyy-ww".to_owned(),
                    reason: "pattern letter 'w' is not supported".to_owned(),
                },
            ),
            (
                "!{firehose:error-output-type}/",
                PrefixRole::Prefix,
                ErrorOutputTypeInPrefix,
            ),
            (
                "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}/",
                PrefixRole::ErrorOutputPrefix,
                PartitionKeyInErrorOutputPrefix,
            ),
        ];
        for (text, role, expected) in cases {
            assert_eq!(
                Prefix::parse(text, role),
                Err(expected),
                "{role:?} {text:?}"
            );
        }
    }

    #[test]
    fn parse_error_messages() {
        let cases = [
            (
                "a/!{timestamp:yyyy",
                "Prefix is invalid: the sequence '!{' at position 2 does not start a complete '!{namespace:value}' expression",
            ),
            (
                "!{env:HOME}",
                "Prefix is invalid: unknown namespace 'env' in expression '!{env:HOME}'; namespaces are timestamp, firehose, partitionKeyFromQuery and partitionKeyFromLambda",
            ),
            (
                "!{firehose:error-output-type}",
                "Prefix can't contain !{firehose:error-output-type}",
            ),
        ];
        for (text, message) in cases {
            let error = Prefix::parse(text, PrefixRole::Prefix).expect_err("refused");
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn text_that_is_not_an_expression_is_literal() {
        let parsed = prefix("a}b!c{d/!{timestamp:yyyy}/");
        assert!(parsed.has_expressions());
        assert_eq!(
            key_of(Some("a}b!c{d/!{timestamp:yyyy}/")),
            format!("a}}b!c{{d/2026/{NAME}")
        );
        assert!(!prefix("plain/").has_expressions());
    }

    #[test]
    fn validation_rules() {
        use PrefixError::*;
        let ok: Result<(), PrefixError> = Ok(());
        let cases = [
            // No expressions anywhere: both optional.
            (None, None, false, ok.clone()),
            (Some("logs/"), None, false, ok.clone()),
            (Some(""), Some(""), false, ok.clone()),
            // Docs example: Prefix unspecified, ErrorOutputPrefix with error-output-type.
            (
                None,
                Some("myFirehoseFailures/!{firehose:error-output-type}/"),
                false,
                ok.clone(),
            ),
            // Docs example: "ErrorOutputPrefix can't be null when Prefix contains expressions".
            (
                Some("!{timestamp:yyyy/MM/dd}"),
                None,
                false,
                Err(ErrorOutputPrefixRequired),
            ),
            (
                Some("r/!{firehose:random-string}/"),
                None,
                false,
                Err(ErrorOutputPrefixRequired),
            ),
            (
                Some(
                    "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
                ),
                Some(
                    "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
                ),
                false,
                ok.clone(),
            ),
            // An ErrorOutputPrefix with expressions needs error-output-type.
            (
                Some("!{timestamp:yyyy}/"),
                Some("errors/!{timestamp:yyyy}/"),
                false,
                Err(ErrorOutputTypeRequired),
            ),
            // One without expressions does not (the rule reads "If you specify an expression").
            (
                Some("!{timestamp:yyyy}/"),
                Some("errors/"),
                false,
                ok.clone(),
            ),
            // Prefix can't contain error-output-type.
            (
                Some("!{firehose:error-output-type}/"),
                Some("e/!{firehose:error-output-type}/"),
                false,
                Err(ErrorOutputTypeInPrefix),
            ),
            // partitionKeyFrom* only with dynamic partitioning.
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                Some("e/!{firehose:error-output-type}/"),
                false,
                Err(PartitionKeyWithoutDynamicPartitioning),
            ),
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                Some("e/!{firehose:error-output-type}/"),
                true,
                ok.clone(),
            ),
            (
                Some("c=!{partitionKeyFromLambda:c}/!{timestamp:yyyy}/"),
                Some("e/!{firehose:error-output-type}/"),
                true,
                ok.clone(),
            ),
            // Dynamic partitioning needs a prefix with partition keys, and an error prefix.
            (
                None,
                Some("e/!{firehose:error-output-type}/"),
                true,
                Err(PartitionKeyRequired),
            ),
            (
                Some("!{timestamp:yyyy}/"),
                Some("e/!{firehose:error-output-type}/"),
                true,
                Err(PartitionKeyRequired),
            ),
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                None,
                true,
                Err(ErrorOutputPrefixRequiredForDynamicPartitioning),
            ),
            // ErrorOutputPrefix can't use partition keys.
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                Some("e/!{firehose:error-output-type}/!{partitionKeyFromQuery:c}/"),
                true,
                Err(PartitionKeyInErrorOutputPrefix),
            ),
            // Syntax errors surface from either field.
            (
                Some("!{bogus:x}"),
                None,
                false,
                Err(UnknownNamespace {
                    field: "Prefix",
                    namespace: "bogus".to_owned(),
                    expression: "bogus:x".to_owned(),
                }),
            ),
            (
                None,
                Some("e/!{firehose:error-output-type"),
                false,
                Err(MalformedExpression {
                    field: "ErrorOutputPrefix",
                    position: 2,
                }),
            ),
        ];
        for (prefix_text, error_text, dynamic, expected) in cases {
            let result = validate_prefixes(prefix_text, error_text, dynamic).map(|_| ());
            assert_eq!(
                result, expected,
                "Prefix {prefix_text:?} ErrorOutputPrefix {error_text:?} dynamic {dynamic}"
            );
        }
    }

    #[test]
    fn validation_messages() {
        let cases = [
            (
                Some("!{timestamp:yyyy/MM/dd}"),
                None,
                false,
                "ErrorOutputPrefix can't be null when Prefix contains expressions",
            ),
            (
                Some("!{timestamp:yyyy}/"),
                Some("e/!{timestamp:yyyy}/"),
                false,
                "ErrorOutputPrefix must contain at least one instance of !{firehose:error-output-type} when it contains expressions",
            ),
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                Some("e/!{firehose:error-output-type}/"),
                false,
                "Prefix can contain partitionKeyFromQuery or partitionKeyFromLambda expressions only when dynamic partitioning is enabled",
            ),
            (
                Some("!{timestamp:yyyy}/"),
                Some("e/!{firehose:error-output-type}/"),
                true,
                "Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression when dynamic partitioning is enabled",
            ),
            (
                Some("c=!{partitionKeyFromQuery:c}/"),
                None,
                true,
                "ErrorOutputPrefix is required when dynamic partitioning is enabled",
            ),
        ];
        for (prefix_text, error_text, dynamic, message) in cases {
            let error = validate_prefixes(prefix_text, error_text, dynamic).expect_err("refused");
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn error_output_type_names() {
        let cases = [
            (ErrorOutputType::ProcessingFailed, "processing-failed"),
            (
                ErrorOutputType::FormatConversionFailed,
                "format-conversion-failed",
            ),
            (ErrorOutputType::HttpEndpointFailed, "http-endpoint-failed"),
            (
                ErrorOutputType::AmazonOpenSearchServiceFailed,
                "AmazonOpenSearchService-failed",
            ),
            (ErrorOutputType::ElasticsearchFailed, "elasticsearch-failed"),
            (ErrorOutputType::SplunkFailed, "splunk-failed"),
            (ErrorOutputType::PartitioningFailed, "partitioning-failed"),
        ];
        for (error_type, name) in cases {
            assert_eq!(error_type.as_str(), name);
        }
    }

    #[test]
    fn error_keys_with_and_without_error_output_prefix() {
        let keys = Keys::none();
        let cases = [
            // Docs examples table.
            (
                None,
                Some("myFirehoseFailures/!{firehose:error-output-type}/"),
                "myFirehoseFailures/processing-failed/",
            ),
            (
                Some("myPrefix/year=!{timestamp:yyyy}/"),
                Some(
                    "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}",
                ),
                "myErrorPrefix/year=2026/month=11/day=22/hour=10/processing-failed",
            ),
            (
                Some("myFirehosePrefix/"),
                None,
                "myFirehosePrefix/processing-failed/2026/11/22/10/",
            ),
            (None, None, "processing-failed/2026/11/22/10/"),
            // A literal ErrorOutputPrefix is used as is, with no time path.
            (Some("logs/"), Some("errors/"), "errors/"),
        ];
        for (prefix_text, error_text, expected_prefix) in cases {
            let validated =
                validate_prefixes(prefix_text, error_text, false).expect("valid prefixes");
            let key = error_object_key(
                validated.error_output_prefix.as_ref(),
                validated.prefix.as_ref(),
                ErrorOutputType::ProcessingFailed,
                &keys.inputs(),
                &mut fixed_uuid,
            )
            .expect("a key");
            assert_eq!(
                key,
                format!("{expected_prefix}{NAME}"),
                "Prefix {prefix_text:?} ErrorOutputPrefix {error_text:?}"
            );
        }
    }

    #[test]
    fn error_output_type_repeats_as_the_same_string() {
        let keys = Keys::none();
        let parsed = error_prefix("!{firehose:error-output-type}/x/!{firehose:error-output-type}/");
        let key = error_object_key(
            Some(&parsed),
            None,
            ErrorOutputType::SplunkFailed,
            &keys.inputs(),
            &mut fixed_uuid,
        )
        .expect("a key");
        assert_eq!(key, format!("splunk-failed/x/splunk-failed/{NAME}"));
    }

    #[test]
    fn arrival_time_out_of_range_is_an_error() {
        let keys = Keys::none();
        let inputs = KeyInputs {
            oldest_arrival_ms: i64::MAX,
            ..keys.inputs()
        };
        assert_eq!(
            object_key(None, &inputs, &mut fixed_uuid),
            Err(KeyError::TimeOutOfRange { millis: i64::MAX })
        );
    }
}
