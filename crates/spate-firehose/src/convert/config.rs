//! `DataFormatConversionConfiguration` read from a stream's settings: its modeled constraints
//! ([`validate_model`], `ValidationException`) and AWS's rules plus Spate's limits
//! ([`Conversion::from_settings`], `InvalidArgumentException`), checked into a [`Conversion`] the
//! converter takes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use spate_wire::Violations;

use super::json::{Deserializer, TimestampFormat};
use super::schema::TableSchema;
use crate::config::FirehoseConfig;
use crate::error::FirehoseError;
use crate::settings::S3Destination;

/// Smallest `BufferingHints.SizeInMBs` AWS accepts with conversion enabled.
pub const MIN_SIZE_MIB_WITH_CONVERSION: i64 = 64;
/// Buffer size when conversion is on and no hints are given: the console's default with
/// conversion. Unverified for the API, which documents only the general default of 5, below
/// the 64 minimum.
pub const DEFAULT_SIZE_MIB_WITH_CONVERSION: i64 = 128;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Shape {
    schema_configuration: Option<SchemaShape>,
    input_format_configuration: Option<InputShape>,
    output_format_configuration: Option<OutputShape>,
    enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SchemaShape {
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
    catalog_id: Option<String>,
    database_name: Option<String>,
    table_name: Option<String>,
    region: Option<String>,
    version_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InputShape {
    deserializer: Option<DeserializerShape>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct DeserializerShape {
    #[serde(rename = "OpenXJsonSerDe")]
    openx: Option<OpenXShape>,
    #[serde(rename = "HiveJsonSerDe")]
    hive: Option<HiveShape>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OpenXShape {
    convert_dots_in_json_keys_to_underscores: Option<bool>,
    case_insensitive: Option<bool>,
    column_to_json_key_mappings: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HiveShape {
    timestamp_formats: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OutputShape {
    serializer: Option<SerializerShape>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct SerializerShape {
    #[serde(rename = "ParquetSerDe")]
    parquet: Option<ParquetShape>,
    #[serde(rename = "OrcSerDe")]
    orc: Option<OrcShape>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParquetShape {
    block_size_bytes: Option<i64>,
    page_size_bytes: Option<i64>,
    compression: Option<String>,
    enable_dictionary_compression: Option<bool>,
    max_padding_bytes: Option<i64>,
    writer_version: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrcShape {
    stripe_size_bytes: Option<i64>,
    block_size_bytes: Option<i64>,
    row_index_stride: Option<i64>,
    // EnablePadding has no constraint to check and no effect (see `serializer`).
    padding_tolerance: Option<f64>,
    compression: Option<String>,
    bloom_filter_columns: Option<Vec<String>>,
    bloom_filter_false_positive_probability: Option<f64>,
    dictionary_key_threshold: Option<f64>,
    format_version: Option<String>,
}

/// The Glue table a stream converts with, its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlueTableRef {
    pub database: String,
    pub table: String,
    /// `CatalogId`, else the account's id.
    pub catalog_id: String,
    /// `Region`, else Spate's.
    pub region: String,
    /// `VersionId`, else `LATEST`. Spate keeps one version of each table.
    pub version_id: String,
}

/// Parquet writer settings (`ParquetSerDe`), AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetOptions {
    /// `SNAPPY` (default), `GZIP` or `UNCOMPRESSED`.
    pub compression: String,
    /// Page size in bytes; default 1 MiB.
    pub page_size_bytes: usize,
    /// `BlockSizeBytes`, default 256 MiB: the row group size in bytes, as parquet-mr's
    /// `parquet.block.size` uses it.
    pub block_size_bytes: usize,
    pub dictionary: bool,
    /// `V1` (default) or `V2`.
    pub writer_version_2: bool,
}

/// ORC writer settings (`OrcSerDe`), AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct OrcOptions {
    /// `SNAPPY` (default), `ZLIB` or `NONE`.
    pub compression: String,
    /// Stripe size in bytes; default 64 MiB.
    pub stripe_size_bytes: usize,
}

/// The output format.
#[derive(Debug, Clone, PartialEq)]
pub enum Serializer {
    Parquet(ParquetOptions),
    Orc(OrcOptions),
}

impl Serializer {
    /// The extension of converted objects when `FileExtension` is not given. Unverified: AWS's
    /// documents do not show a converted object's name.
    pub fn file_extension(&self) -> &'static str {
        match self {
            Serializer::Parquet(_) => ".parquet",
            Serializer::Orc(_) => ".orc",
        }
    }
}

/// A checked conversion: what [`super::convert`] takes.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub table: GlueTableRef,
    pub schema: TableSchema,
    pub input: Deserializer,
    pub output: Serializer,
}

fn invalid(message: impl Into<String>) -> FirehoseError {
    FirehoseError::InvalidArgument(message.into())
}

fn parse_shape(value: &Value) -> Result<Shape, String> {
    serde_json::from_value(value.clone())
        .map_err(|err| format!("DataFormatConversionConfiguration: {err}"))
}

/// Whether a conversion block is present and switched on (`Enabled` defaults to true).
pub fn is_enabled(block: Option<&Value>) -> bool {
    match block {
        None | Some(Value::Null) => false,
        Some(value) => value
            .get("Enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}

impl Conversion {
    /// The conversion a destination asks for: `Ok(None)` when it asks for none.
    pub fn from_settings(
        settings: &S3Destination,
        config: &FirehoseConfig,
    ) -> Result<Option<Conversion>, FirehoseError> {
        let block = settings.data_format_conversion_configuration.as_ref();
        if !is_enabled(block) {
            return Ok(None);
        }
        let shape = parse_shape(block.expect("enabled implies present")).map_err(invalid)?;
        debug_assert!(shape.enabled != Some(false));
        let schema = shape.schema_configuration.ok_or_else(|| {
            invalid("SchemaConfiguration is required when DataFormatConversionConfiguration is enabled.")
        })?;
        let input = shape
            .input_format_configuration
            .and_then(|input| input.deserializer)
            .ok_or_else(|| {
                invalid("InputFormatConfiguration.Deserializer is required when DataFormatConversionConfiguration is enabled.")
            })?;
        let output = shape
            .output_format_configuration
            .and_then(|output| output.serializer)
            .ok_or_else(|| {
                invalid("OutputFormatConfiguration.Serializer is required when DataFormatConversionConfiguration is enabled.")
            })?;

        let compression = settings
            .compression_format
            .as_deref()
            .unwrap_or("UNCOMPRESSED");
        if compression != "UNCOMPRESSED" {
            return Err(invalid(format!(
                "CompressionFormat must be UNCOMPRESSED when DataFormatConversionConfiguration is enabled (the serializer compresses), not {compression}."
            )));
        }
        if let Some(size) = settings.buffering_hints.and_then(|hints| hints.size_in_mbs)
            && size < MIN_SIZE_MIB_WITH_CONVERSION
        {
            return Err(invalid(format!(
                "BufferingHints.SizeInMBs must be at least {MIN_SIZE_MIB_WITH_CONVERSION} when data format conversion is enabled."
            )));
        }

        let table = glue_table_ref(&schema, config)?;
        let name = format!("{}.{}", table.database, table.table);
        let configured = config.glue_tables.get(&name).ok_or_else(|| {
            invalid(format!(
                "Glue table {name} is not known to Spate: describe its columns in [firehose.glue_tables.\"{name}\"] of Spate's configuration."
            ))
        })?;
        let schema = TableSchema::parse(&name, &configured.columns).map_err(invalid)?;
        let input = deserializer(input, &schema)?;
        let output = serializer(output)?;
        Ok(Some(Conversion {
            table,
            schema,
            input,
            output,
        }))
    }
}

fn glue_table_ref(
    schema: &SchemaShape,
    config: &FirehoseConfig,
) -> Result<GlueTableRef, FirehoseError> {
    let required = |value: &Option<String>, member: &str| {
        value.clone().ok_or_else(|| {
            invalid(format!(
                "SchemaConfiguration.{member} is required when DataFormatConversionConfiguration is enabled."
            ))
        })
    };
    required(&schema.role_arn, "RoleARN")?;
    Ok(GlueTableRef {
        database: required(&schema.database_name, "DatabaseName")?,
        table: required(&schema.table_name, "TableName")?,
        catalog_id: schema
            .catalog_id
            .clone()
            .unwrap_or_else(|| config.account_id.clone()),
        region: schema
            .region
            .clone()
            .unwrap_or_else(|| config.region.clone()),
        version_id: schema
            .version_id
            .clone()
            .unwrap_or_else(|| "LATEST".to_owned()),
    })
}

fn deserializer(
    shape: DeserializerShape,
    schema: &TableSchema,
) -> Result<Deserializer, FirehoseError> {
    match (shape.openx, shape.hive) {
        (Some(_), Some(_)) => Err(invalid(
            "Deserializer must specify exactly one of OpenXJsonSerDe and HiveJsonSerDe.",
        )),
        (None, None) => Err(invalid(
            "Deserializer must specify one of OpenXJsonSerDe and HiveJsonSerDe.",
        )),
        (Some(openx), None) => {
            let mappings = openx.column_to_json_key_mappings.unwrap_or_default();
            for column in mappings.keys() {
                if !schema
                    .columns
                    .iter()
                    .any(|known| known.name.eq_ignore_ascii_case(column))
                {
                    return Err(invalid(format!(
                        "OpenXJsonSerDe.ColumnToJsonKeyMappings names column {column}, which the table does not have."
                    )));
                }
            }
            Ok(Deserializer::OpenX {
                dots_to_underscores: openx
                    .convert_dots_in_json_keys_to_underscores
                    .unwrap_or(false),
                case_insensitive: openx.case_insensitive.unwrap_or(true),
                mappings,
            })
        }
        (None, Some(hive)) => {
            let mut formats = Vec::new();
            for pattern in hive.timestamp_formats.unwrap_or_default() {
                let format = TimestampFormat::parse(&pattern).map_err(|err| {
                    invalid(format!("HiveJsonSerDe.TimestampFormats {pattern:?}: {err}"))
                })?;
                formats.push(format);
            }
            for column in &schema.columns {
                if column.name.contains('.') {
                    return Err(invalid(format!(
                        "HiveJsonSerDe does not allow dots in column names ({}).",
                        column.name
                    )));
                }
            }
            Ok(Deserializer::Hive {
                timestamp_formats: formats,
            })
        }
    }
}

fn serializer(shape: SerializerShape) -> Result<Serializer, FirehoseError> {
    const MIB: i64 = 1 << 20;
    let bytes = |value: Option<i64>, default: i64| value.unwrap_or(default).max(1) as usize;
    match (shape.parquet, shape.orc) {
        (Some(_), Some(_)) => Err(invalid(
            "Serializer must specify exactly one of ParquetSerDe and OrcSerDe.",
        )),
        (None, None) => Err(invalid(
            "Serializer must specify one of ParquetSerDe and OrcSerDe.",
        )),
        // MaxPaddingBytes only pads row groups to HDFS block boundaries: accepted, no effect
        // on a single S3 object.
        (Some(parquet), None) => Ok(Serializer::Parquet(ParquetOptions {
            compression: parquet.compression.unwrap_or_else(|| "SNAPPY".to_owned()),
            page_size_bytes: bytes(parquet.page_size_bytes, MIB),
            block_size_bytes: bytes(parquet.block_size_bytes, 256 * MIB),
            dictionary: parquet.enable_dictionary_compression.unwrap_or(true),
            writer_version_2: parquet.writer_version.as_deref() == Some("V2"),
        })),
        // BlockSizeBytes, EnablePadding and PaddingTolerance align stripes to HDFS blocks, and
        // RowIndexStride and DictionaryKeyThreshold tune the encoding: accepted, with the
        // writer's own choices (one object; readers need neither).
        (None, Some(orc)) => {
            if orc.format_version.as_deref() == Some("V0_11") {
                return Err(invalid(
                    "OrcSerDe.FormatVersion V0_11 is not supported by Spate (its ORC writer writes V0_12); remove it or use V0_12.",
                ));
            }
            if orc
                .bloom_filter_columns
                .as_ref()
                .is_some_and(|columns| !columns.is_empty())
            {
                return Err(invalid(
                    "OrcSerDe.BloomFilterColumns is not supported by Spate (its ORC writer writes no bloom filters); remove it.",
                ));
            }
            Ok(Serializer::Orc(OrcOptions {
                compression: orc.compression.unwrap_or_else(|| "SNAPPY".to_owned()),
                stripe_size_bytes: bytes(orc.stripe_size_bytes, 64 * MIB),
            }))
        }
    }
}

/// The modeled constraints of a `DataFormatConversionConfiguration` (`path` is its own member
/// path, e.g. `extendedS3DestinationConfiguration.dataFormatConversionConfiguration`).
pub fn validate_model(v: &mut Violations, path: &str, value: &Value) {
    let Ok(shape) = parse_shape(value) else {
        // A block of the wrong shape is refused by `from_settings` with the parse error.
        return;
    };
    if let Some(schema) = &shape.schema_configuration {
        let schema_path = format!("{path}.schemaConfiguration");
        for (member, value) in [
            ("roleARN", &schema.role_arn),
            ("catalogId", &schema.catalog_id),
            ("databaseName", &schema.database_name),
            ("tableName", &schema.table_name),
            ("region", &schema.region),
            ("versionId", &schema.version_id),
        ] {
            if let Some(value) = value {
                non_empty_without_whitespace(v, &format!("{schema_path}.{member}"), value);
            }
        }
    }
    let deserializer = shape
        .input_format_configuration
        .as_ref()
        .and_then(|input| input.deserializer.as_ref());
    if let Some(openx) = deserializer.and_then(|d| d.openx.as_ref())
        && let Some(mappings) = &openx.column_to_json_key_mappings
    {
        let member = format!(
            "{path}.inputFormatConfiguration.deserializer.openXJsonSerDe.columnToJsonKeyMappings"
        );
        for (column, key) in mappings {
            non_empty_without_whitespace(v, &format!("{member}.key"), column);
            v.string_length(&format!("{member}.value"), key, 1, 1024);
        }
    }
    if let Some(hive) = deserializer.and_then(|d| d.hive.as_ref()) {
        for (index, format) in hive.timestamp_formats.iter().flatten().enumerate() {
            let member = format!(
                "{path}.inputFormatConfiguration.deserializer.hiveJsonSerDe.timestampFormats.{}.member",
                index + 1
            );
            v.string_length(&member, format, 1, 1024);
        }
    }
    let serializer = shape
        .output_format_configuration
        .as_ref()
        .and_then(|output| output.serializer.as_ref());
    let serde_path = format!("{path}.outputFormatConfiguration.serializer");
    if let Some(parquet) = serializer.and_then(|s| s.parquet.as_ref()) {
        let p = format!("{serde_path}.parquetSerDe");
        min(
            v,
            &format!("{p}.blockSizeBytes"),
            parquet.block_size_bytes,
            67_108_864,
        );
        min(
            v,
            &format!("{p}.pageSizeBytes"),
            parquet.page_size_bytes,
            65_536,
        );
        min(
            v,
            &format!("{p}.maxPaddingBytes"),
            parquet.max_padding_bytes,
            0,
        );
        if let Some(compression) = &parquet.compression {
            v.one_of(
                &format!("{p}.compression"),
                compression,
                &["UNCOMPRESSED", "GZIP", "SNAPPY"],
            );
        }
        if let Some(version) = &parquet.writer_version {
            v.one_of(&format!("{p}.writerVersion"), version, &["V1", "V2"]);
        }
    }
    if let Some(orc) = serializer.and_then(|s| s.orc.as_ref()) {
        let p = format!("{serde_path}.orcSerDe");
        min(
            v,
            &format!("{p}.stripeSizeBytes"),
            orc.stripe_size_bytes,
            8_388_608,
        );
        min(
            v,
            &format!("{p}.blockSizeBytes"),
            orc.block_size_bytes,
            67_108_864,
        );
        min(
            v,
            &format!("{p}.rowIndexStride"),
            orc.row_index_stride,
            1000,
        );
        proportion(v, &format!("{p}.paddingTolerance"), orc.padding_tolerance);
        proportion(
            v,
            &format!("{p}.bloomFilterFalsePositiveProbability"),
            orc.bloom_filter_false_positive_probability,
        );
        proportion(
            v,
            &format!("{p}.dictionaryKeyThreshold"),
            orc.dictionary_key_threshold,
        );
        if let Some(compression) = &orc.compression {
            v.one_of(
                &format!("{p}.compression"),
                compression,
                &["NONE", "ZLIB", "SNAPPY"],
            );
        }
        if let Some(version) = &orc.format_version {
            v.one_of(&format!("{p}.formatVersion"), version, &["V0_11", "V0_12"]);
        }
        for (index, column) in orc.bloom_filter_columns.iter().flatten().enumerate() {
            non_empty_without_whitespace(
                v,
                &format!("{p}.bloomFilterColumns.{}.member", index + 1),
                column,
            );
        }
    }
}

fn min(v: &mut Violations, path: &str, value: Option<i64>, min: i64) {
    if let Some(value) = value {
        v.range(path, value, Some(min), None);
    }
}

fn proportion(v: &mut Violations, path: &str, value: Option<f64>) {
    let Some(value) = value else { return };
    if value < 0.0 {
        v.push(
            &format!("'{value}'"),
            path,
            "Member must have value greater than or equal to 0",
        );
    } else if value > 1.0 {
        v.push(
            &format!("'{value}'"),
            path,
            "Member must have value less than or equal to 1",
        );
    }
}

fn non_empty_without_whitespace(v: &mut Violations, path: &str, value: &str) {
    v.string_length(path, value, 1, 1024);
    v.pattern(
        path,
        value,
        "^\\S+$",
        !value.is_empty() && !value.chars().any(char::is_whitespace),
    );
}
