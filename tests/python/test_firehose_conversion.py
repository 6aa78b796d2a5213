"""Firehose record format conversion over the wire with boto3: JSON records delivered as Parquet
and as ORC with the columns of a Glue table from Spate's configuration, read back with pyarrow
and compared row by row; records that do not convert land under format-conversion-failed in
AWS's error record format; AWS's configuration rules answered as InvalidArgumentException."""

from __future__ import annotations

import base64
import datetime
import json

import botocore
import pyarrow.orc
import pyarrow.parquet
import pytest

from firehose_helpers import (ROLE, create_active_s3, delivering_server, error_code, objects,
                              read, wait_for_objects)

CONFIG = """
[firehose.glue_tables."weblogs.requests"]
columns = [
  { name = "id", type = "bigint" },
  { name = "path", type = "string" },
  { name = "status", type = "int" },
  { name = "small", type = "smallint" },
  { name = "tiny", type = "tinyint" },
  { name = "latency", type = "double" },
  { name = "ratio", type = "float" },
  { name = "ok", type = "boolean" },
  { name = "at", type = "timestamp" },
  { name = "day", type = "date" },
]
"""

RECORDS = [
    {"id": 1, "path": "/", "status": 200, "small": 7, "tiny": -1, "latency": 1.25,
     "ratio": 0.5, "ok": True, "at": "2024-05-01T12:00:00.123Z", "day": "2024-05-01"},
    {"ID": 2, "Path": "/a", "status": 404, "latency": 3.5, "ok": False,
     "at": "2024-05-01 12:00:01", "day": "2024-05-02", "unknown": "ignored"},
    {"id": 3, "path": None, "at": 1714564802},
]

EXPECTED = [
    {"id": 1, "path": "/", "status": 200, "small": 7, "tiny": -1, "latency": 1.25, "ratio": 0.5,
     "ok": True, "at": datetime.datetime(2024, 5, 1, 12, 0, 0, 123000),
     "day": datetime.date(2024, 5, 1)},
    {"id": 2, "path": "/a", "status": 404, "small": None, "tiny": None, "latency": 3.5,
     "ratio": None, "ok": False, "at": datetime.datetime(2024, 5, 1, 12, 0, 1),
     "day": datetime.date(2024, 5, 2)},
    {"id": 3, "path": None, "status": None, "small": None, "tiny": None, "latency": None,
     "ratio": None, "ok": None, "at": datetime.datetime(2024, 5, 1, 12, 0, 2), "day": None},
]

BAD_RECORDS = [b"this is not JSON", b'{"id": "not a number at all"}', b'[{"id": 4}]']


@pytest.fixture
def converting(spate_factory, s3_server, tmp_path):
    """A Spate server whose configuration describes the Glue table weblogs.requests."""
    path = tmp_path / "spate.toml"
    path.write_text(CONFIG)
    return delivering_server(spate_factory, s3_server, config=path)


def conversion(serializer: dict, deserializer: dict | None = None, table: str = "requests"):
    return {
        "SchemaConfiguration": {"RoleARN": ROLE, "DatabaseName": "weblogs", "TableName": table},
        "InputFormatConfiguration": {"Deserializer": deserializer or {"OpenXJsonSerDe": {}}},
        "OutputFormatConfiguration": {"Serializer": serializer},
    }


def destination(bucket: str, prefix: str, serializer: dict, **extra) -> dict:
    return {"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": prefix,
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
            "DataFormatConversionConfiguration": conversion(serializer), **extra}


def put_all(firehose, name: str, records: list[bytes]):
    response = firehose.put_record_batch(DeliveryStreamName=name,
                                         Records=[{"Data": data} for data in records])
    assert response["FailedPutCount"] == 0, response


def rows_of(table) -> list[dict]:
    return table.to_pylist()


@pytest.mark.parametrize("output", ["parquet", "orc"])
def test_json_records_become_parquet_or_orc(converting, s3, s3_bucket, output):
    _, firehose = converting
    name = f"convert-{output}"
    serializer = ({"ParquetSerDe": {"Compression": "GZIP"}} if output == "parquet"
                  else {"OrcSerDe": {"Compression": "ZLIB"}})
    description = create_active_s3(firehose, name,
                                   **destination(s3_bucket, "data/", serializer))
    s3_description = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3_description["DataFormatConversionConfiguration"]["OutputFormatConfiguration"] == {
        "Serializer": serializer}

    # Two JSON objects in one record are two rows; the bad records fail alone.
    good = [json.dumps(RECORDS[0]).encode() + json.dumps(RECORDS[1]).encode(),
            json.dumps(RECORDS[2]).encode()]
    put_all(firehose, name, [good[0], BAD_RECORDS[0], BAD_RECORDS[1], good[1], BAD_RECORDS[2]])

    [data] = wait_for_objects(s3, s3_bucket, 1, prefix="data/")
    assert data["Key"].endswith(f".{output}"), data["Key"]
    head = s3.head_object(Bucket=s3_bucket, Key=data["Key"])
    assert "ContentEncoding" not in head, head
    path = pyarrow.BufferReader(read(s3, s3_bucket, data["Key"]))
    table = (pyarrow.parquet.read_table(path) if output == "parquet"
             else pyarrow.orc.read_table(path))
    assert table.column_names == list(EXPECTED[0])
    assert rows_of(table) == EXPECTED

    [errors] = wait_for_objects(s3, s3_bucket, 1, prefix="errors/format-conversion-failed/")
    lines = read(s3, s3_bucket, errors["Key"]).decode().splitlines()
    documents = [json.loads(line) for line in lines]
    assert [base64.b64decode(doc["rawData"]) for doc in documents] == BAD_RECORDS
    for doc in documents:
        assert doc["lastErrorCode"].startswith("DataFormatConversion."), doc
        assert doc["lastErrorMessage"], doc
        assert isinstance(doc["arrivalTimestamp"], int), doc
        assert doc["attemptEndingTimestamp"] >= doc["arrivalTimestamp"], doc
        assert doc["dataCatalogTable"]["databaseName"] == "weblogs", doc
        assert doc["dataCatalogTable"]["tableName"] == "requests", doc
    assert len(objects(s3, s3_bucket)) == 2


def test_aws_rules_are_invalid_arguments(converting, s3_bucket):
    _, firehose = converting
    parquet = {"ParquetSerDe": {}}

    def refused(name: str, words: str, **destination_args):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            firehose.create_delivery_stream(DeliveryStreamName=name,
                                            ExtendedS3DestinationConfiguration=destination_args)
        assert error_code(excinfo) == "InvalidArgumentException", excinfo.value.response
        assert words in excinfo.value.response["Error"]["Message"]

    base = destination(s3_bucket, "", parquet)
    refused("small-buffer", "SizeInMBs must be at least 64",
            **{**base, "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}})
    refused("compressed", "CompressionFormat must be UNCOMPRESSED",
            **{**base, "CompressionFormat": "GZIP"})
    refused("unknown-table", "weblogs.nowhere",
            **{**base, "DataFormatConversionConfiguration": conversion(parquet, table="nowhere")})
    refused("two-serializers", "exactly one",
            **{**base, "DataFormatConversionConfiguration": conversion(
                {"ParquetSerDe": {}, "OrcSerDe": {}})})

    # Model constraints are checked by the server (botocore checks minimums itself, not
    # patterns): a database name with a space is a ValidationException.
    bad_schema = conversion(parquet)
    bad_schema["SchemaConfiguration"]["DatabaseName"] = "has space"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(
            DeliveryStreamName="bad-schema", ExtendedS3DestinationConfiguration={
                **base, "DataFormatConversionConfiguration": bad_schema})
    assert error_code(excinfo) == "ValidationException"
    assert "schemaConfiguration.databaseName" in excinfo.value.response["Error"]["Message"]

    # A stream without conversion takes it on by UpdateDestination, under the same rules.
    name = "later"
    plain = {k: v for k, v in base.items() if k != "DataFormatConversionConfiguration"}
    description = create_active_s3(firehose, name, **{
        **plain, "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
    update = {"DataFormatConversionConfiguration": conversion(parquet, table="nowhere"),
              "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60}}
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        firehose.update_destination(
            DeliveryStreamName=name, DestinationId="destinationId-000000000001",
            CurrentDeliveryStreamVersionId=description["VersionId"],
            ExtendedS3DestinationUpdate=update)
    assert error_code(excinfo) == "InvalidArgumentException"
    assert "weblogs.nowhere" in excinfo.value.response["Error"]["Message"]
    update["DataFormatConversionConfiguration"] = conversion(parquet)
    firehose.update_destination(
        DeliveryStreamName=name, DestinationId="destinationId-000000000001",
        CurrentDeliveryStreamVersionId=description["VersionId"],
        ExtendedS3DestinationUpdate=update)
