//! Reference data: each `ReferenceDataSource` (`S3ReferenceDataSource`: `BucketARN`,
//! `FileKey`) is read whole from the object store when the application starts (and after a
//! restart or a change, since tables are not part of a checkpoint) and parsed by its
//! `ReferenceSchema` into the rows of its table (`TableName`).
//!
//! Unverified: how AWS splits a JSON reference object into records (here, one JSON document
//! per non-empty line; a CSV object goes through its row delimiter as one record), and what it
//! does with a row it cannot read (here, skipped and counted in a warning).

use std::sync::Arc;

use tracing::warn;

use crate::input::Row;
use crate::model::{Application, Piece};

use super::RuntimeError;
use super::apis::ObjectsApi;
use super::reader::parser_of_schema;

/// A loaded reference table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub rows: Vec<Row>,
}

/// The bucket an `arn:aws:s3:::bucket` ARN names.
pub fn bucket_of(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:s3:::")
        .filter(|bucket| !bucket.is_empty() && !bucket.contains('/'))
}

/// The records of an object: each non-empty line of a JSON object, or the whole object.
pub fn records_of(object: &[u8], json: bool) -> Vec<&[u8]> {
    if !json {
        return vec![object];
    }
    object
        .split(|byte| *byte == b'\n')
        .filter(|line| line.iter().any(|byte| !byte.is_ascii_whitespace()))
        .collect()
}

/// Reads every reference data source of `application`.
pub async fn load(
    objects: Option<&Arc<dyn ObjectsApi>>,
    application: &Application,
) -> Result<Vec<Table>, RuntimeError> {
    let mut tables = Vec::new();
    for piece in &application.references {
        tables.push(load_one(objects, piece).await?);
    }
    Ok(tables)
}

async fn load_one(
    objects: Option<&Arc<dyn ObjectsApi>>,
    piece: &Piece,
) -> Result<Table, RuntimeError> {
    let name = piece.body["TableName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let source = &piece.body["S3ReferenceDataSource"];
    let bucket_arn = source["BucketARN"].as_str().unwrap_or_default();
    let key = source["FileKey"].as_str().unwrap_or_default();
    let Some(bucket) = bucket_of(bucket_arn) else {
        return Err(RuntimeError::Configuration(format!(
            "Reference data source {} has BucketARN {bucket_arn:?}, which names no S3 bucket.",
            piece.id
        )));
    };
    let Some(objects) = objects else {
        return Err(RuntimeError::Unsupported(format!(
            "Reference data source {} reads s3://{bucket}/{key}, but no S3 endpoint is configured here.",
            piece.id
        )));
    };
    let parser = parser_of_schema(
        &piece.body["ReferenceSchema"],
        &format!("Reference data source {}", piece.id),
        "ReferenceSchema",
    )?;
    let object = objects.get_object(bucket, key).await.map_err(|err| {
        RuntimeError::Configuration(format!(
            "Reference data source {} cannot read s3://{bucket}/{key}: {}",
            piece.id, err.message
        ))
    })?;
    let json = piece.body["ReferenceSchema"]["RecordFormat"]["RecordFormatType"] == "JSON";
    let mut rows = Vec::new();
    let mut unreadable = 0usize;
    for record in records_of(&object, json) {
        for row in parser.parse_record(record) {
            match row {
                Ok(row) => rows.push(row),
                Err(_) => unreadable += 1,
            }
        }
    }
    if unreadable > 0 {
        warn!(table = %name, bucket, key, unreadable, "rows of a reference data source could not be read and were skipped");
    }
    Ok(Table { name, rows })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use spate_wire::AwsError;

    use super::*;
    use crate::input::Value;
    use crate::model::PieceKind;

    #[derive(Debug)]
    struct OneObject;

    #[async_trait::async_trait]
    impl ObjectsApi for OneObject {
        async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError> {
            match (bucket, key) {
                ("ref", "companies.csv") => Ok(b"AMZN,Amazon\nGOOG,Alphabet\nbad\n".to_vec()),
                ("ref", "companies.json") => Ok(
                    b"{\"t\":\"AMZN\",\"n\":\"Amazon\"}\n\n{\"t\":\"GOOG\",\"n\":\"Alphabet\"}\n"
                        .to_vec(),
                ),
                _ => Err(AwsError::client(
                    "NoSuchKey",
                    "The specified key does not exist.",
                )),
            }
        }
    }

    fn application(key: &str, format: serde_json::Value) -> Application {
        let mut application = Application::new("a".into(), 0);
        application.add_piece(
            PieceKind::Reference,
            json!({
                "TableName": "COMPANIES",
                "S3ReferenceDataSource": {"BucketARN": "arn:aws:s3:::ref", "FileKey": key,
                                          "ReferenceRoleARN": "arn:aws:iam::000000000000:role/r"},
                "ReferenceSchema": {
                    "RecordFormat": format,
                    "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)", "Mapping": "$.t"},
                                      {"Name": "NAME", "SqlType": "VARCHAR(16)", "Mapping": "$.n"}],
                },
            }),
        );
        application
    }

    fn names(table: &Table) -> Vec<Value> {
        table.rows.iter().map(|row| row[1].clone()).collect()
    }

    #[tokio::test]
    async fn csv_and_json_objects_load_into_their_tables() {
        let objects: Arc<dyn ObjectsApi> = Arc::new(OneObject);
        let csv = json!({"RecordFormatType": "CSV", "MappingParameters": {"CSVMappingParameters":
            {"RecordRowDelimiter": "\n", "RecordColumnDelimiter": ","}}});
        let tables = load(Some(&objects), &application("companies.csv", csv))
            .await
            .expect("loaded");
        assert_eq!(tables[0].name, "COMPANIES");
        // The row without its second field reads with a NULL there.
        assert_eq!(tables[0].rows.len(), 3);
        assert_eq!(
            names(&tables[0])[..2],
            [
                Value::Varchar("Amazon".into()),
                Value::Varchar("Alphabet".into())
            ]
        );

        let json_format = json!({"RecordFormatType": "JSON", "MappingParameters":
            {"JSONMappingParameters": {"RecordRowPath": "$"}}});
        let tables = load(
            Some(&objects),
            &application("companies.json", json_format.clone()),
        )
        .await
        .expect("loaded");
        assert_eq!(
            names(&tables[0]),
            [
                Value::Varchar("Amazon".into()),
                Value::Varchar("Alphabet".into())
            ]
        );

        let err = load(
            Some(&objects),
            &application("missing.json", json_format.clone()),
        )
        .await
        .expect_err("refused");
        assert!(err.to_string().contains("s3://ref/missing.json"), "{err}");
        let err = load(None, &application("companies.json", json_format))
            .await
            .expect_err("refused");
        assert!(matches!(err, RuntimeError::Unsupported(_)), "{err}");
    }

    #[test]
    fn buckets_come_from_their_arns() {
        assert_eq!(bucket_of("arn:aws:s3:::ref"), Some("ref"));
        assert_eq!(bucket_of("arn:aws:s3:::"), None);
        assert_eq!(bucket_of("arn:aws:kinesis:us-east-1:1:stream/s"), None);
    }
}
