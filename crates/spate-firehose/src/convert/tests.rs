use std::collections::BTreeMap;

use arrow::array::{
    Array, BooleanArray, Date32Array, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use bytes::Bytes;
use serde_json::json;

use super::*;
use crate::config::{FirehoseConfig, GlueColumn, GlueTable};
use crate::settings::S3Destination;

const ALL_TYPES: [(&str, &str); 11] = [
    ("s", "string"),
    ("t8", "tinyint"),
    ("i16", "smallint"),
    ("i32", "int"),
    ("i64", "bigint"),
    ("f", "float"),
    ("d", "double"),
    ("b", "boolean"),
    ("ts", "timestamp"),
    ("day", "date"),
    ("v", "varchar(5)"),
];

fn config() -> FirehoseConfig {
    let columns = ALL_TYPES
        .iter()
        .map(|(name, type_name)| GlueColumn {
            name: (*name).into(),
            type_name: (*type_name).into(),
        })
        .collect();
    FirehoseConfig {
        glue_tables: BTreeMap::from([("db.all".to_owned(), GlueTable { columns })]),
        ..FirehoseConfig::default()
    }
}

fn destination(serializer: serde_json::Value, deserializer: serde_json::Value) -> S3Destination {
    serde_json::from_value(json!({
        "RoleARN": "arn:aws:iam::123456789012:role/r",
        "BucketARN": "arn:aws:s3:::b",
        "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
        "DataFormatConversionConfiguration": {
            "SchemaConfiguration": {
                "RoleARN": "arn:aws:iam::123456789012:role/r",
                "DatabaseName": "db",
                "TableName": "all"
            },
            "InputFormatConfiguration": {"Deserializer": deserializer},
            "OutputFormatConfiguration": {"Serializer": serializer}
        }
    }))
    .expect("parses")
}

fn conversion(serializer: serde_json::Value, deserializer: serde_json::Value) -> Conversion {
    Conversion::from_settings(&destination(serializer, deserializer), &config())
        .expect("valid")
        .expect("enabled")
}

fn records(data: &[&str]) -> Vec<BatchRecord> {
    data.iter()
        .enumerate()
        .map(|(index, data)| BatchRecord {
            offset: index as u64,
            arrival_ms: 1_700_000_000_000 + index as i64,
            data: Bytes::copy_from_slice(data.as_bytes()),
        })
        .collect()
}

const FULL_ROW: &str = r#"{"S":"hello","t8":-8,"i16":300,"i32":70000,"i64":5000000000,
    "f":1.5,"d":2.25,"b":true,"ts":"2017-02-07T15:13:01.39256Z","day":"2024-02-29","v":"x"}"#;

fn batch_of(conversion: &Conversion, data: &[&str]) -> (RecordBatch, Vec<FailedRecord>) {
    let mut reader = json::RowReader::new(&conversion.schema, &conversion.input);
    let mut failed = Vec::new();
    for (index, record) in records(data).iter().enumerate() {
        if let Err(message) = reader.add_record(&record.data) {
            failed.push(FailedRecord { index, message });
        }
    }
    (reader.finish().expect("columns"), failed)
}

fn openx() -> serde_json::Value {
    json!({"OpenXJsonSerDe": {}})
}

fn parquet() -> serde_json::Value {
    json!({"ParquetSerDe": {}})
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .expect("column")
        .as_any()
        .downcast_ref::<T>()
        .expect("type")
}

fn check_full_row(batch: &RecordBatch, row: usize) {
    assert_eq!(column::<StringArray>(batch, "s").value(row), "hello");
    assert_eq!(column::<Int8Array>(batch, "t8").value(row), -8);
    assert_eq!(column::<Int16Array>(batch, "i16").value(row), 300);
    assert_eq!(column::<Int32Array>(batch, "i32").value(row), 70000);
    assert_eq!(column::<Int64Array>(batch, "i64").value(row), 5_000_000_000);
    assert_eq!(column::<Float32Array>(batch, "f").value(row), 1.5);
    assert_eq!(column::<Float64Array>(batch, "d").value(row), 2.25);
    assert!(column::<BooleanArray>(batch, "b").value(row));
    assert_eq!(
        column::<TimestampNanosecondArray>(batch, "ts").value(row),
        1_486_480_381_392_560_000
    );
    assert_eq!(column::<Date32Array>(batch, "day").value(row), 19_782);
    assert_eq!(column::<StringArray>(batch, "v").value(row), "x");
}

#[test]
fn every_scalar_type_converts_from_json() {
    let conversion = conversion(parquet(), openx());
    let (batch, failed) = batch_of(&conversion, &[FULL_ROW, r#"{"s": null}"#]);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(batch.num_rows(), 2);
    check_full_row(&batch, 0);
    for index in 0..batch.num_columns() {
        assert!(batch.column(index).is_null(1), "column {index}");
    }
}

#[test]
fn concatenated_objects_are_rows_and_bad_records_fail_whole() {
    let conversion = conversion(parquet(), openx());
    let (batch, failed) = batch_of(
        &conversion,
        &[
            r#"{"i32":1}{"i32":2} {"i32":3}"#,
            r#"{"i32":4}{"i32":"many"}"#,
            "not json",
            r#"[{"i32":5}]"#,
            r#"{"i32":1.5}"#,
            r#"{"t8":300}"#,
            "",
        ],
    );
    let values: Vec<i32> = column::<Int32Array>(&batch, "i32").values().to_vec();
    assert_eq!(values, [1, 2, 3]);
    let indexes: Vec<usize> = failed.iter().map(|f| f.index).collect();
    assert_eq!(indexes, [1, 2, 3, 4, 5, 6]);
    assert!(failed[0].message.contains("column i32"), "{:?}", failed[0]);
    assert!(failed[2].message.contains("array"), "{:?}", failed[2]);
}

#[test]
fn openx_options_rename_keys() {
    let conversion = conversion(
        parquet(),
        json!({"OpenXJsonSerDe": {
            "ConvertDotsInJsonKeysToUnderscores": true,
            "ColumnToJsonKeyMappings": {"s": "timestamp"}
        }}),
    );
    let (batch, failed) = batch_of(
        &conversion,
        &[r#"{"T8":1,"timestamp":"from-mapping","s":"ignored","i.64":7}"#],
    );
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(column::<StringArray>(&batch, "s").value(0), "from-mapping");
    assert_eq!(column::<Int8Array>(&batch, "t8").value(0), 1);
    // `i.64` becomes `i_64`, which is no column.
    assert!(column::<Int64Array>(&batch, "i64").is_null(0));

    let exact = conversion_with_case(false);
    let (batch, _) = batch_of(&exact, &[r#"{"T8":1,"t8":2}"#]);
    assert_eq!(column::<Int8Array>(&batch, "t8").value(0), 2);
}

fn conversion_with_case(case_insensitive: bool) -> Conversion {
    conversion(
        parquet(),
        json!({"OpenXJsonSerDe": {"CaseInsensitive": case_insensitive}}),
    )
}

#[test]
fn openx_reads_strings_and_epoch_timestamps() {
    let conversion = conversion(parquet(), openx());
    let (batch, failed) = batch_of(
        &conversion,
        &[
            r#"{"i32":"12","d":"0.5","b":"FALSE","ts":1518033528}"#,
            r#"{"ts":1518033528123}"#,
            r#"{"ts":1518033528.5}"#,
            r#"{"ts":"2017-2-7 15:13:01.14"}"#,
            r#"{"s":{"nested":[1]}}"#,
        ],
    );
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(column::<Int32Array>(&batch, "i32").value(0), 12);
    assert!(!column::<BooleanArray>(&batch, "b").value(0));
    let ts = column::<TimestampNanosecondArray>(&batch, "ts");
    assert_eq!(ts.value(0), 1_518_033_528_000_000_000);
    assert_eq!(ts.value(1), 1_518_033_528_123_000_000);
    assert_eq!(ts.value(2), 1_518_033_528_500_000_000);
    assert_eq!(ts.value(3), 1_486_480_381_140_000_000);
    assert_eq!(
        column::<StringArray>(&batch, "s").value(4),
        r#"{"nested":[1]}"#
    );
}

#[test]
fn hive_refuses_strings_in_numeric_columns_and_reads_its_formats() {
    let conversion = conversion(
        parquet(),
        json!({"HiveJsonSerDe": {"TimestampFormats": ["yyyy/MM/dd HH:mm:ss.SSS", "millis"]}}),
    );
    let (batch, failed) = batch_of(
        &conversion,
        &[
            r#"{"i32":"12"}"#,
            r#"{"ts":"2017/02/07 15:13:01.392"}"#,
            r#"{"ts":1518033528123}"#,
            r#"{"ts":"2017-02-07 15:13:01"}"#,
        ],
    );
    let indexes: Vec<usize> = failed.iter().map(|f| f.index).collect();
    assert_eq!(indexes, [0, 3]);
    let ts = column::<TimestampNanosecondArray>(&batch, "ts");
    assert_eq!(ts.value(0), 1_486_480_381_392_000_000);
    assert_eq!(ts.value(1), 1_518_033_528_123_000_000);

    let default = conversion_hive_default();
    let (batch, failed) = batch_of(&default, &[r#"{"ts":"2017-02-07 15:13:01.5"}"#]);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(
        column::<TimestampNanosecondArray>(&batch, "ts").value(0),
        1_486_480_381_500_000_000
    );
}

fn conversion_hive_default() -> Conversion {
    conversion(parquet(), json!({"HiveJsonSerDe": {}}))
}

#[test]
fn joda_patterns_translate_or_are_refused() {
    assert_eq!(
        TimestampFormat::parse("yyyy-MM-dd'T'HH:mm:ss.SSSZ"),
        Ok(TimestampFormat::Pattern {
            joda: "yyyy-MM-dd'T'HH:mm:ss.SSSZ".into(),
            strptime: "%Y-%m-%dT%H:%M:%S.%f%z".into(),
        })
    );
    assert_eq!(
        TimestampFormat::parse("millis"),
        Ok(TimestampFormat::Millis)
    );
    assert!(TimestampFormat::parse("yyyy-ww").is_err());
    assert!(TimestampFormat::parse("'open").is_err());
}

#[test]
fn parquet_reads_back_with_the_parquet_reader() {
    for compression in ["SNAPPY", "GZIP", "UNCOMPRESSED"] {
        let conversion = conversion(
            json!({"ParquetSerDe": {"Compression": compression, "WriterVersion": "V2"}}),
            openx(),
        );
        let converted =
            convert(&conversion, &records(&[FULL_ROW, "bad", FULL_ROW])).expect("converts");
        assert_eq!(converted.rows, 2);
        assert_eq!(converted.failed.len(), 1);
        let object = Bytes::from(converted.object.expect("a file"));
        let reader =
            ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(object)
                .expect("a Parquet file");
        let codec = reader.metadata().row_group(0).column(0).compression();
        assert_eq!(codec.to_string().split('(').next(), Some(compression));
        let batches: Vec<RecordBatch> = reader
            .build()
            .expect("reader")
            .collect::<Result<_, _>>()
            .expect("batches");
        assert_eq!(batches.len(), 1);
        check_full_row(&batches[0], 0);
        check_full_row(&batches[0], 1);
    }
}

#[test]
fn orc_reads_back_with_the_orc_reader() {
    for compression in ["SNAPPY", "ZLIB", "NONE"] {
        let conversion = conversion(json!({"OrcSerDe": {"Compression": compression}}), openx());
        let converted = convert(&conversion, &records(&[FULL_ROW, FULL_ROW])).expect("converts");
        let object = Bytes::from(converted.object.expect("a file"));
        let reader = orc_rust::ArrowReaderBuilder::try_new(object)
            .expect("an ORC file")
            .build();
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("batches");
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, 2);
        check_full_row(&batches[0], 0);
    }
}

#[test]
fn a_batch_of_only_bad_records_makes_no_object() {
    let conversion = conversion(parquet(), openx());
    let batch = records(&["{", "[]"]);
    let converted = convert(&conversion, &batch).expect("converts");
    assert!(converted.object.is_none());
    let errors = error_records(&conversion, &batch, &converted.failed, 42);
    let lines: Vec<serde_json::Value> = errors
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["rawData"], "ew==");
    assert_eq!(lines[0]["arrivalTimestamp"], 1_700_000_000_000i64);
    assert_eq!(lines[0]["attemptEndingTimestamp"], 42);
    assert_eq!(lines[0]["lastErrorCode"], MALFORMED_DATA);
    assert_eq!(lines[1]["dataCatalogTable"]["tableName"], "all");
    assert_eq!(lines[1]["dataCatalogTable"]["versionId"], "LATEST");
    assert_eq!(
        lines[1]["dataCatalogTable"]["catalogArn"],
        "arn:aws:glue:us-east-1:000000000000:catalog"
    );
}

#[test]
fn aws_rules_are_checked_at_configuration() {
    let check = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(destination(parquet(), openx())).expect("value");
        edit(&mut value);
        let settings: S3Destination = serde_json::from_value(value).expect("parses");
        Conversion::from_settings(&settings, &config()).map(|c| c.is_some())
    };
    assert!(check(&|_| {}).expect("valid"));
    let refused = |edit: &dyn Fn(&mut serde_json::Value), words: &str| {
        let err = check(edit).expect_err(words);
        assert!(err.to_string().contains(words), "{err}");
    };
    refused(
        &|v| v["CompressionFormat"] = json!("GZIP"),
        "CompressionFormat must be UNCOMPRESSED",
    );
    refused(
        &|v| v["BufferingHints"]["SizeInMBs"] = json!(5),
        "SizeInMBs must be at least 64",
    );
    refused(
        &|v| {
            v["DataFormatConversionConfiguration"]["SchemaConfiguration"]["TableName"] =
                json!("missing")
        },
        "Glue table db.missing",
    );
    refused(
        &|v| {
            v["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"]["OrcSerDe"] =
                json!({})
        },
        "exactly one of ParquetSerDe and OrcSerDe",
    );
    refused(
        &|v| {
            v["DataFormatConversionConfiguration"]["InputFormatConfiguration"]["Deserializer"] =
                json!({})
        },
        "one of OpenXJsonSerDe and HiveJsonSerDe",
    );
    refused(
        &|v| {
            v["DataFormatConversionConfiguration"]
                .as_object_mut()
                .expect("object")
                .remove("SchemaConfiguration");
        },
        "SchemaConfiguration is required",
    );
    refused(
        &|v| {
            v["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"] =
                json!({"OrcSerDe": {"BloomFilterColumns": ["s"]}})
        },
        "BloomFilterColumns",
    );
    // Disabled conversion keeps its configuration and converts nothing.
    assert!(
        !check(&|v| v["DataFormatConversionConfiguration"]["Enabled"] = json!(false))
            .expect("valid")
    );
    // Without hints, the buffer is 128 MiB.
    let mut settings = destination(parquet(), openx());
    settings.buffering_hints = None;
    assert_eq!(settings.buffer_limits().0, 128 << 20);
}

#[test]
fn model_constraints_are_validation_errors() {
    let mut v = spate_wire::Violations::new();
    let value = json!({
        "SchemaConfiguration": {"DatabaseName": "has space"},
        "OutputFormatConfiguration": {"Serializer": {
            "ParquetSerDe": {"PageSizeBytes": 10, "Compression": "LZO"},
            "OrcSerDe": {"PaddingTolerance": 2.0, "RowIndexStride": 5}
        }}
    });
    validate_model(&mut v, "c", &value);
    let message = v.finish().expect_err("violations").message();
    for member in [
        "c.schemaConfiguration.databaseName",
        "c.outputFormatConfiguration.serializer.parquetSerDe.pageSizeBytes",
        "c.outputFormatConfiguration.serializer.parquetSerDe.compression",
        "c.outputFormatConfiguration.serializer.orcSerDe.paddingTolerance",
        "c.outputFormatConfiguration.serializer.orcSerDe.rowIndexStride",
    ] {
        assert!(message.contains(member), "{member}: {message}");
    }
}
