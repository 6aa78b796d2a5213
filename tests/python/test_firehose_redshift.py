"""Firehose's Redshift destination over the wire with boto3, with a real PostgreSQL server
standing in for the Redshift cluster: the batch lands in the intermediate bucket (s3s-fs) with
its manifest, then is loaded with COPY; rows are read back from PostgreSQL. A load that keeps
failing past RetryOptions leaves the batch's manifest under errors/ and delivery goes on."""

from __future__ import annotations

import contextlib
import gzip
import json
import time
import uuid

import pytest

import harness
from firehose_helpers import (ROLE, create_active, delivering_server, error_code, objects, put,
                              read, wait_for_objects)


@pytest.fixture
def redshift(spate_factory, s3_server, postgres_server):
    """A Spate server of the test's own, delivering through the shared S3 server into the shared
    PostgreSQL server, and its Firehose client."""
    return delivering_server(spate_factory, s3_server)


@pytest.fixture
def table(postgres_server):
    """`table(columns_sql)` creates a table of the test's own and returns its name."""
    created: list[str] = []

    def create(columns_sql: str) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with contextlib.closing(postgres_server.connect()) as connection:
            connection.run(f"CREATE TABLE {name} ({columns_sql})")
        created.append(name)
        return name

    yield create
    with contextlib.closing(postgres_server.connect()) as connection:
        for name in created:
            connection.run(f"DROP TABLE IF EXISTS {name}")


def rows(postgres_server, sql: str) -> list[list]:
    with contextlib.closing(postgres_server.connect()) as connection:
        return connection.run(sql)


def wait_for_rows(postgres_server, sql: str, count: int, timeout: float = 30) -> list[list]:
    deadline = time.monotonic() + timeout
    while True:
        found = rows(postgres_server, sql)
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} rows of {count} after {timeout}s"
        time.sleep(0.2)


def redshift_destination(postgres_server, bucket: str, table: str, copy_options: str,
                         columns: str | None = None, password: str = harness.PG_PASSWORD,
                         prefix: str = "rs/", retry_s: int | None = None, **s3_extra) -> dict:
    copy = {"DataTableName": table, "CopyOptions": copy_options}
    if columns is not None:
        copy["DataTableColumns"] = columns
    destination = {
        "RoleARN": ROLE,
        "ClusterJDBCURL": postgres_server.jdbc_url(),
        "CopyCommand": copy,
        "Username": harness.PG_USER,
        "Password": password,
        "S3Configuration": {
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": prefix,
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}, **s3_extra,
        },
    }
    if retry_s is not None:
        destination["RetryOptions"] = {"DurationInSeconds": retry_s}
    return destination


# Stream names here are short: s3s-fs keeps each object's attributes in one file named after the
# base64 of bucket and key together, which must fit in 255 bytes, and the error manifests' keys
# (`rs/errors/manifests/YYYY/MM/DD/HH/<stream>-1-<time>-<uuid>`) are long already.


def test_json_auto_loads_records_by_column_name(redshift, postgres_server, table, s3,
                                                s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-json")
    events = table("id integer, name text, score double precision, extra text")
    create_active(firehose, name, RedshiftDestinationConfiguration=redshift_destination(
        postgres_server, s3_bucket, events, "JSON 'auto'", columns="id,name,score"))
    records = [json.dumps({"id": 1, "name": "ada", "score": 1.5}).encode(),
               json.dumps({"score": 2, "id": 2, "name": None}).encode() + b"\n",
               json.dumps({"id": 3, "name": 'quote " and, comma', "ignored": [1]}).encode()]
    put(firehose, name, records)

    loaded = wait_for_rows(postgres_server, f"SELECT id, name, score, extra FROM {events} "
                                            "ORDER BY id", 3)
    assert loaded == [[1, "ada", 1.5, None], [2, None, 2.0, None],
                      [3, 'quote " and, comma', None, None]]

    # The intermediate object and its manifest, as Firehose leaves them in the bucket.
    manifests = wait_for_objects(s3, s3_bucket, 1, prefix="rs/manifests/")
    assert len(manifests) == 1
    manifest = json.loads(read(s3, s3_bucket, manifests[0]["Key"]))
    entries = manifest["entries"]
    assert len(entries) == 1 and entries[0]["mandatory"] is True
    url = entries[0]["url"]
    assert url.startswith(f"s3://{s3_bucket}/rs/")
    data_key = url.removeprefix(f"s3://{s3_bucket}/")
    assert read(s3, s3_bucket, data_key) == b"".join(records)
    assert data_key.split("/")[-1] == manifests[0]["Key"].split("/")[-1]
    assert not objects(s3, s3_bucket, "rs/errors/")


def test_json_auto_without_columns_loads_every_column(redshift, postgres_server, table,
                                                      s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-cols")
    events = table("id integer, payload text, at timestamp")
    create_active(firehose, name, RedshiftDestinationConfiguration=redshift_destination(
        postgres_server, s3_bucket, events, "FORMAT AS JSON 'auto ignorecase' TIMEFORMAT 'auto'"))
    put(firehose, name, [b'{"ID": 7, "Payload": {"a": 1}, "at": "2026-01-02 03:04:05"}'])
    loaded = wait_for_rows(postgres_server, f"SELECT id, payload, at::text FROM {events}", 1)
    assert loaded == [[7, '{"a":1}', "2026-01-02 03:04:05"]]


def test_csv_with_gzip_in_the_intermediate_bucket(redshift, postgres_server, table, s3,
                                                  s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-csv")
    cities = table("id integer, city text, note text")
    create_active(firehose, name, RedshiftDestinationConfiguration=redshift_destination(
        postgres_server, s3_bucket, cities, "CSV DELIMITER ';' IGNOREHEADER 1 GZIP",
        columns="id, city, note", CompressionFormat="GZIP"))
    records = [b"id;city;note\n", b'1;Paris;\\N\n', b'2;"Saint-Denis; Nord";"say ""hi"""\n']
    put(firehose, name, records)
    loaded = wait_for_rows(postgres_server, f"SELECT id, city, note FROM {cities} ORDER BY id",
                           2)
    assert loaded == [[1, "Paris", None], [2, "Saint-Denis; Nord", 'say "hi"']]

    data = [item for item in wait_for_objects(s3, s3_bucket, 2, prefix="rs/")
            if not item["Key"].startswith("rs/manifests/")]
    assert len(data) == 1 and data[0]["Key"].endswith(".gz")
    assert gzip.decompress(read(s3, s3_bucket, data[0]["Key"])) == b"".join(records)


def test_pipe_delimited_text_by_default(redshift, postgres_server, table, s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-text")
    words = table("id integer, word text")
    create_active(firehose, name, RedshiftDestinationConfiguration=redshift_destination(
        postgres_server, s3_bucket, words, "", columns="id,word"))
    put(firehose, name, [b"1|one\n", b"2|\\N\n"])
    loaded = wait_for_rows(postgres_server, f"SELECT id, word FROM {words} ORDER BY id", 2)
    assert loaded == [[1, "one"], [2, None]]


def test_s3_backup_enabled_keeps_the_source_records(redshift, postgres_server, table, s3,
                                                    s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-bk")
    ids = table("id integer")
    destination = redshift_destination(postgres_server, s3_bucket, ids, "JSON 'auto'")
    destination["S3BackupMode"] = "Enabled"
    destination["S3BackupConfiguration"] = {
        "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{s3_bucket}", "Prefix": "bk/",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}}
    description = create_active(firehose, name, RedshiftDestinationConfiguration=destination)
    described = description["Destinations"][0]["RedshiftDestinationDescription"]
    assert described["S3BackupMode"] == "Enabled"
    assert described["S3BackupDescription"]["Prefix"] == "bk/"
    put(firehose, name, [b'{"id": 5}', b'{"id": 6}'])
    assert wait_for_rows(postgres_server, f"SELECT id FROM {ids} ORDER BY id", 2) == [[5], [6]]
    [backup] = wait_for_objects(s3, s3_bucket, 1, prefix="bk/")
    assert read(s3, s3_bucket, backup["Key"]) == b'{"id": 5}{"id": 6}'

    with pytest.raises(firehose.exceptions.InvalidArgumentException):
        firehose.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            RedshiftDestinationUpdate={"S3BackupMode": "Disabled"})


def test_a_load_failing_past_the_retry_duration_goes_to_errors(redshift, postgres_server, table,
                                                              s3, s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-pw")
    events = table("id integer")
    create_active(firehose, name, RedshiftDestinationConfiguration=redshift_destination(
        postgres_server, s3_bucket, events, "JSON 'auto'", password="not-the-password",
        retry_s=2))
    put(firehose, name, [b'{"id": 1}'])

    errors = wait_for_objects(s3, s3_bucket, 1, prefix="rs/errors/manifests/", timeout=30)
    assert len(errors) == 1
    failed = json.loads(read(s3, s3_bucket, errors[0]["Key"]))
    manifests = objects(s3, s3_bucket, "rs/manifests/")
    assert [json.loads(read(s3, s3_bucket, m["Key"])) for m in manifests] == [failed]
    data_key = failed["entries"][0]["url"].removeprefix(f"s3://{s3_bucket}/")
    assert read(s3, s3_bucket, data_key) == b'{"id": 1}'
    assert rows(postgres_server, f"SELECT id FROM {events}") == []

    # The batch was skipped: with the password fixed, only later records load.
    version = firehose.describe_delivery_stream(
        DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"]
    firehose.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId=version,
                                DestinationId="destinationId-000000000001",
                                RedshiftDestinationUpdate={"Password": harness.PG_PASSWORD})
    put(firehose, name, [b'{"id": 2}'])
    assert wait_for_rows(postgres_server, f"SELECT id FROM {events}", 1) == [[2]]
    time.sleep(1.5)
    assert rows(postgres_server, f"SELECT id FROM {events}") == [[2]]


def test_describe_hides_the_password_and_updates_merge(redshift, postgres_server, s3_bucket):
    _, firehose = redshift
    name = harness.unique_name("rs-desc")
    destination = redshift_destination(postgres_server, s3_bucket, "some_table", "JSON 'auto'")
    description = create_active(firehose, name, RedshiftDestinationConfiguration=destination)
    [described] = description["Destinations"]
    assert described["DestinationId"] == "destinationId-000000000001"
    redshift = described["RedshiftDestinationDescription"]
    assert "Password" not in redshift
    assert harness.PG_PASSWORD not in json.dumps(description, default=str)
    assert redshift["Username"] == harness.PG_USER
    assert redshift["ClusterJDBCURL"] == postgres_server.jdbc_url()
    assert redshift["CopyCommand"] == {"DataTableName": "some_table", "CopyOptions": "JSON 'auto'"}
    assert redshift["RetryOptions"] == {"DurationInSeconds": 3600}
    assert redshift["S3BackupMode"] == "Disabled"
    s3_description = redshift["S3DestinationDescription"]
    assert s3_description["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"
    assert s3_description["CompressionFormat"] == "UNCOMPRESSED"
    assert s3_description["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 1}

    firehose.update_destination(
        DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
        DestinationId="destinationId-000000000001",
        RedshiftDestinationUpdate={"CopyCommand": {"DataTableName": "other_table"},
                                   "RetryOptions": {"DurationInSeconds": 60},
                                   "S3Update": {"Prefix": "new/"}})
    description = firehose.describe_delivery_stream(
        DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert description["VersionId"] == "2"
    redshift = description["Destinations"][0]["RedshiftDestinationDescription"]
    assert redshift["CopyCommand"] == {"DataTableName": "other_table"}
    assert redshift["RetryOptions"] == {"DurationInSeconds": 60}
    assert redshift["Username"] == harness.PG_USER
    assert redshift["S3DestinationDescription"]["Prefix"] == "new/"
    assert redshift["S3DestinationDescription"]["BucketARN"] == f"arn:aws:s3:::{s3_bucket}"

    with pytest.raises(firehose.exceptions.InvalidArgumentException):
        firehose.update_destination(
            DeliveryStreamName=name, CurrentDeliveryStreamVersionId="2",
            DestinationId="destinationId-000000000001",
            RedshiftDestinationUpdate={"S3Update": {"CompressionFormat": "ZIP"}})


@pytest.mark.parametrize("change, code, words", [
    ({"S3Configuration": {"CompressionFormat": "Snappy"}}, "InvalidArgumentException",
     "Snappy"),
    ({"S3Configuration": {"CompressionFormat": "HADOOP_SNAPPY"}}, "InvalidArgumentException",
     "HADOOP_SNAPPY"),
    ({"S3Configuration": {"ErrorOutputPrefix": "errors/"}}, "InvalidArgumentException",
     "ErrorOutputPrefix"),
    ({"S3Configuration": {"Prefix": "!{timestamp:yyyy}/"}}, "InvalidArgumentException",
     "Prefix"),
    ({"CopyCommand": {"DataTableName": "t", "CopyOptions": "JSON 'auto' MAXERROR 10"}},
     "InvalidArgumentException", "MAXERROR"),
    ({"CopyCommand": {"DataTableName": "t; drop table t"}}, "InvalidArgumentException",
     "DataTableName"),
    ({"ProcessingConfiguration": {"Enabled": True, "Processors": []}},
     "InvalidArgumentException", "ProcessingConfiguration"),
    ({"S3BackupMode": "Enabled"}, "InvalidArgumentException", "S3BackupConfiguration"),
    ({"RetryOptions": {"DurationInSeconds": 7201}}, "ValidationException",
     "durationInSeconds"),
    ({"ClusterJDBCURL": "jdbc:mysql://127.0.0.1:3306/db"}, "ValidationException",
     "clusterJDBCURL"),
])
def test_bad_redshift_configurations_are_refused(redshift, postgres_server, s3_bucket, change,
                                                 code, words):
    _, firehose = redshift
    destination = redshift_destination(postgres_server, s3_bucket, "t", "JSON 'auto'")
    for member, value in change.items():
        if member == "S3Configuration":
            destination["S3Configuration"] = {**destination["S3Configuration"], **value}
        else:
            destination[member] = value
    with pytest.raises(firehose.exceptions.ClientError) as excinfo:
        firehose.create_delivery_stream(DeliveryStreamName=harness.unique_name("bad"),
                                        RedshiftDestinationConfiguration=destination)
    assert error_code(excinfo) == code
    assert words in excinfo.value.response["Error"]["Message"]
