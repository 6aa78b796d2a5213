"""Kinesis Data Analytics for SQL, the application runtime over the wire with boto3:
DiscoverInputSchema sampling a Kinesis data stream of JSON or CSV records or an S3 object, and
the checks StartApplication and StopApplication make before anything runs (reference data
included). Runs end to end are in test_analytics_sql.py."""

from __future__ import annotations

import json
import time

import botocore
import pytest

import harness
from test_analytics_api import (CODE, ROLE, analytics_client, detail, error_of,
                                firehose_output, stream_input)


@pytest.fixture(scope="module")
def analytics(spate):
    return analytics_client(spate.endpoint)


def put_all(kinesis, stream: str, texts: list[str]) -> None:
    kinesis.put_records(StreamName=stream, Records=[
        {"Data": text.encode(), "PartitionKey": str(index)} for index, text in enumerate(texts)])


def discover(analytics, stream: str, position: str = "TRIM_HORIZON") -> dict:
    return analytics.discover_input_schema(
        ResourceARN=harness.stream_arn(stream), RoleARN=ROLE,
        InputStartingPositionConfiguration={"InputStartingPosition": position})


def test_discovery_infers_the_columns_of_json_records(analytics, kinesis, new_stream):
    stream = new_stream(shard_count=2)
    records = [json.dumps({"ticker": t, "price": p, "volume": v, "at": "2017-09-27 09:51:21"})
               for t, p, v in [("AMZN", 10.5, 100), ("GOOG", 7.25, 20), ("MSFT", 3.0, 7)]]
    put_all(kinesis, stream, records)
    answer = discover(analytics, stream)
    schema = answer["InputSchema"]
    assert schema["RecordFormat"]["RecordFormatType"] == "JSON"
    assert schema["RecordFormat"]["MappingParameters"]["JSONMappingParameters"][
        "RecordRowPath"] == "$"
    columns = {column["Name"]: column for column in schema["RecordColumns"]}
    # AT is a reserved word: discovery renames it, as AWS does.
    assert set(columns) == {"ticker", "price", "volume", "COL_at"}
    assert columns["ticker"]["Mapping"] == "$.ticker"
    assert columns["ticker"]["SqlType"].startswith("VARCHAR(")
    assert columns["price"]["SqlType"] in ("DOUBLE", "REAL") or columns["price"][
        "SqlType"].startswith("DECIMAL")
    assert columns["volume"]["SqlType"] in ("INTEGER", "SMALLINT", "TINYINT", "BIGINT")
    assert columns["COL_at"]["SqlType"] == "TIMESTAMP"
    assert sorted(answer["RawInputRecords"]) == sorted(records)
    assert sorted(answer["ProcessedInputRecords"]) == sorted(records)
    assert len(answer["ParsedInputRecords"]) == 3
    assert all(len(row) == 4 for row in answer["ParsedInputRecords"])


def test_discovery_infers_the_columns_of_csv_records(analytics, kinesis, new_stream):
    stream = new_stream()
    records = ["AMZN,10.5,100", "GOOG,7.25,20", "MSFT,3.5,7"]
    put_all(kinesis, stream, records)
    answer = discover(analytics, stream)
    schema = answer["InputSchema"]
    assert schema["RecordFormat"]["RecordFormatType"] == "CSV"
    csv = schema["RecordFormat"]["MappingParameters"]["CSVMappingParameters"]
    assert csv["RecordColumnDelimiter"] == ","
    types = [column["SqlType"] for column in schema["RecordColumns"]]
    assert len(types) == 3
    assert types[0].startswith("VARCHAR(")
    assert types[1] in ("DOUBLE", "REAL") or types[1].startswith("DECIMAL")
    assert types[2] in ("INTEGER", "SMALLINT", "TINYINT", "BIGINT")
    assert answer["RawInputRecords"] == records
    assert answer["ParsedInputRecords"][0] == ["AMZN", "10.5", "100"]


def test_discovery_of_an_empty_stream_cannot_detect_a_schema(analytics, new_stream):
    stream = new_stream()
    for position in ("TRIM_HORIZON", "NOW"):
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            discover(analytics, stream, position)
        code, message = error_of(excinfo)
        assert code == "UnableToDetectSchemaException"
        assert stream in message


def test_discovery_refuses_what_it_cannot_read(analytics):
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.discover_input_schema(S3Configuration={
            "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::b", "FileKey": "k"})
    code, message = error_of(excinfo)
    # The shared server has no S3 endpoint.
    assert code == "InvalidArgumentException" and "s3://b/k" in message
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        discover(analytics, harness.unique_name("missing"))
    assert error_of(excinfo)[0] == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.discover_input_schema(
            ResourceARN=harness.stream_arn("s"), RoleARN=ROLE,
            InputStartingPositionConfiguration={"InputStartingPosition": "SOMETIME"})
    assert error_of(excinfo)[0] == "ValidationException"


def start(analytics, name: str, *configurations: tuple[str, str]):
    return analytics.start_application(ApplicationName=name, InputConfigurations=[
        {"Id": input_id, "InputStartingPositionConfiguration": {"InputStartingPosition": position}}
        for input_id, position in configurations])


def test_start_checks_the_configuration_before_anything_runs(analytics):
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        start(analytics, harness.unique_name("missing"), ("1.1", "NOW"))

    no_code = harness.unique_name("nocode")
    analytics.create_application(ApplicationName=no_code, Inputs=[stream_input()])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, no_code, ("1.1", "NOW"))
    assert error_of(excinfo)[0] == "InvalidApplicationConfigurationException"

    no_input = harness.unique_name("noinput")
    analytics.create_application(ApplicationName=no_input, ApplicationCode=CODE)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, no_input, ("1.1", "NOW"))
    assert error_of(excinfo)[0] == "InvalidApplicationConfigurationException"

    name = harness.unique_name("app")
    analytics.create_application(ApplicationName=name, ApplicationCode=CODE,
                                 Inputs=[stream_input()], Outputs=[firehose_output()])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name, ("7.1", "NOW"))
    code, message = error_of(excinfo)
    assert code == "InvalidArgumentException" and "7.1" in message
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name)
    code, message = error_of(excinfo)
    assert code == "InvalidArgumentException" and "1.1" in message
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name, ("1.1", "YESTERDAY"))
    assert error_of(excinfo)[0] == "ValidationException"
    # The configuration passes; the code does not compile against the input's columns:
    # names are case-sensitive, and the schema's columns are lower-case ("ticker").
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name, ("1.1", "TRIM_HORIZON"))
    code, message = error_of(excinfo)
    assert code == "InvalidApplicationConfigurationException"
    assert "column TICKER not found" in message
    assert detail(analytics, name)["ApplicationStatus"] == "READY"


def test_start_names_the_inputs_and_outputs_spate_cannot_serve(analytics):
    name = harness.unique_name("firehosein")
    firehose_input = {"NamePrefix": "SOURCE_SQL_STREAM",
                      "KinesisFirehoseInput": {
                          "ResourceARN": "arn:aws:firehose:us-east-1:000000000000:stream/d",
                          "RoleARN": ROLE},
                      "InputSchema": stream_input()["InputSchema"]}
    analytics.create_application(ApplicationName=name, ApplicationCode=CODE,
                                 Inputs=[firehose_input])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name, ("1.1", "NOW"))
    code, message = error_of(excinfo)
    assert code == "InvalidApplicationConfigurationException"
    assert "not the ARN of a Firehose delivery stream" in message

    name = harness.unique_name("lambdaout")
    lambda_output = {"Name": "DEST",
                     "LambdaOutput": {"ResourceARN": "arn:aws:lambda:us-east-1:000000000000:function:f",
                                      "RoleARN": ROLE},
                     "DestinationSchema": {"RecordFormatType": "JSON"}}
    analytics.create_application(ApplicationName=name, ApplicationCode=CODE,
                                 Inputs=[stream_input()], Outputs=[lambda_output])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, name, ("1.1", "NOW"))
    # A Lambda output invokes the function its ARN is mapped to in [firehose.lambda]; this
    # server maps none (test_analytics_sql.py runs one).
    code, message = error_of(excinfo)
    assert code == "InvalidApplicationConfigurationException"
    assert "is not mapped in Spate's configuration" in message


def test_stop_needs_a_running_application(analytics):
    with pytest.raises(analytics.exceptions.ResourceNotFoundException):
        analytics.stop_application(ApplicationName=harness.unique_name("missing"))
    name = harness.unique_name("ready")
    analytics.create_application(ApplicationName=name, ApplicationCode=CODE,
                                 Inputs=[stream_input()])
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.stop_application(ApplicationName=name)
    code, message = error_of(excinfo)
    assert code == "ResourceInUseException" and "READY" in message


COMPANIES = "AMZN,Amazon\nGOOG,Alphabet\n"


def reference(bucket: str, key: str) -> dict:
    return {"TableName": "COMPANIES",
            "S3ReferenceDataSource": {"BucketARN": f"arn:aws:s3:::{bucket}", "FileKey": key,
                                      "ReferenceRoleARN": ROLE},
            "ReferenceSchema": {
                "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {
                    "CSVMappingParameters": {"RecordRowDelimiter": "\n",
                                             "RecordColumnDelimiter": ","}}},
                "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)"},
                                  {"Name": "NAME", "SqlType": "VARCHAR(16)"}]}}


# CODE with the input schema's lower-case column names quoted, so it compiles.
QUOTED_CODE = CODE.replace("SELECT STREAM ticker, price", 'SELECT STREAM "ticker", "price"')


def test_s3_objects_are_discovered_and_reference_data_is_read_at_start(
        spate_factory, s3_server, s3, s3_bucket):
    server = spate_factory(env=s3_server.credentials_env,
                           args=["--s3-endpoint", s3_server.endpoint])
    analytics = analytics_client(server.endpoint)
    s3.put_object(Bucket=s3_bucket, Key="companies.csv", Body=COMPANIES.encode())

    answer = analytics.discover_input_schema(S3Configuration={
        "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{s3_bucket}", "FileKey": "companies.csv"})
    assert answer["InputSchema"]["RecordFormat"]["RecordFormatType"] == "CSV"
    assert len(answer["InputSchema"]["RecordColumns"]) == 2
    assert answer["RawInputRecords"] == ["AMZN,Amazon", "GOOG,Alphabet"]
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        analytics.discover_input_schema(S3Configuration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{s3_bucket}", "FileKey": "missing.csv"})
    assert error_of(excinfo)[0] == "InvalidArgumentException"

    missing = harness.unique_name("missingref")
    analytics.create_application(ApplicationName=missing, ApplicationCode=CODE,
                                 Inputs=[stream_input()])
    analytics.add_application_reference_data_source(
        ApplicationName=missing, CurrentApplicationVersionId=1,
        ReferenceDataSource=reference(s3_bucket, "missing.csv"))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        start(analytics, missing, ("1.1", "NOW"))
    code, message = error_of(excinfo)
    assert code == "InvalidApplicationConfigurationException"
    assert f"s3://{s3_bucket}/missing.csv" in message

    name = harness.unique_name("withref")
    analytics.create_application(ApplicationName=name, ApplicationCode=QUOTED_CODE,
                                 Inputs=[stream_input()])
    analytics.add_application_reference_data_source(
        ApplicationName=name, CurrentApplicationVersionId=1,
        ReferenceDataSource=reference(s3_bucket, "companies.csv"))
    # The reference data is read, and the application runs.
    start(analytics, name, ("1.1", "NOW"))
    deadline = time.monotonic() + 10
    while detail(analytics, name)["ApplicationStatus"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    analytics.stop_application(ApplicationName=name)
