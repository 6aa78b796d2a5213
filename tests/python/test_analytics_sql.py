"""Kinesis Data Analytics for SQL, end to end with boto3: applications created on a Spate
stream and started run their SQL; rows reach a Kinesis output stream and, through a delivery
stream, objects in S3; a window survives a stop and a LAST_STOPPED_POINT restart in its
middle, and a kill -9, counting every row once; a reference table from S3 joins the stream;
a Lambda output's function gets the rows (failed ones again); the v2 API starts the same
engine; web log lines parsed by W3C_LOG_PARSE are counted per status with the statistics
aggregates; a delivery stream is an application's input, its records kept for a stopped
application and still delivered to S3."""

from __future__ import annotations

import base64
import json
import time

import pytest

import harness
from firehose_helpers import (create_active_s3, delivering_server, s3_destination,
                              wait_for_objects)
from firehose_helpers import put as firehose_put
from firehose_receivers import Receiver
from test_analytics_api import ROLE, analytics_client, detail
from test_analytics_v2 import v2_client

INPUT_SCHEMA = {
    "RecordFormat": {"RecordFormatType": "JSON",
                     "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
    "RecordEncoding": "UTF-8",
    "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"},
                      {"Name": "PRICE", "SqlType": "DOUBLE", "Mapping": "$.price"}],
}

COUNTING = """
CREATE OR REPLACE STREAM "COUNTS" (ticker VARCHAR(4), trades BIGINT, total DOUBLE);
CREATE OR REPLACE PUMP "COUNT_PUMP" AS INSERT INTO "COUNTS"
    SELECT STREAM ticker, COUNT(*), SUM(price)
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY ticker, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '{seconds}' SECOND);
"""

FILTERING = """
CREATE OR REPLACE STREAM "BIG" (ticker VARCHAR(4), price DOUBLE, band VARCHAR(8));
CREATE OR REPLACE PUMP "BIG_PUMP" AS INSERT INTO "BIG"
    SELECT STREAM ticker, price, CASE WHEN price > 100 THEN 'HIGH' ELSE 'MID' END
    FROM "SOURCE_SQL_STREAM_001" WHERE price > 10;
"""


def put(kinesis, stream: str, rows: list[dict]) -> None:
    answer = kinesis.put_records(StreamName=stream, Records=[
        {"Data": json.dumps(row).encode(), "PartitionKey": str(index)}
        for index, row in enumerate(rows)])
    assert answer.get("FailedRecordCount", 0) == 0, answer


def create_streams(kinesis, *names: str) -> None:
    """Creates one-shard streams and waits until they are ACTIVE."""
    for name in names:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    deadline = time.monotonic() + 10
    for name in names:
        while kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
                "StreamStatus"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.05)


def stream_input() -> dict:
    return {"NamePrefix": "SOURCE_SQL_STREAM", "InputSchema": INPUT_SCHEMA}


def create_and_start(analytics, kinesis, code: str, source: str, outputs: list[dict],
                     position: str = "TRIM_HORIZON") -> str:
    name = harness.unique_name("sqlapp")
    analytics.create_application(
        ApplicationName=name, ApplicationCode=code,
        Inputs=[{**stream_input(), "KinesisStreamsInput": {
            "ResourceARN": harness.stream_arn(source), "RoleARN": ROLE}}],
        Outputs=outputs)
    start(analytics, name, position)
    return name


def start(analytics, name: str, position: str) -> None:
    input_id = detail(analytics, name)["InputDescriptions"][0]["InputId"]
    analytics.start_application(ApplicationName=name, InputConfigurations=[{
        "Id": input_id, "InputStartingPositionConfiguration": {"InputStartingPosition": position}}])
    wait_status(analytics, name, "RUNNING")


def wait_status(analytics, name: str, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while (current := detail(analytics, name)["ApplicationStatus"]) != status:
        assert time.monotonic() < deadline, f"{name} is {current}, not {status}"
        time.sleep(0.1)


def kinesis_output(name: str, stream: str, format_type: str = "JSON") -> dict:
    return {"Name": name, "KinesisStreamsOutput": {
        "ResourceARN": harness.stream_arn(stream), "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": format_type}}


class Reader:
    """Reads every record of a one-shard stream from its start, as they come."""

    def __init__(self, kinesis, stream: str):
        self.kinesis = kinesis
        shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
        self.iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def read(self, count: int, timeout: float = 30) -> list[bytes]:
        records: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(records) < count:
            assert time.monotonic() < deadline, f"{len(records)} of {count} records: {records}"
            answer = self.kinesis.get_records(ShardIterator=self.iterator)
            self.iterator = answer["NextShardIterator"]
            records.extend(record["Data"] for record in answer["Records"])
            if not answer["Records"]:
                time.sleep(0.1)
        return records

    def nothing_more(self, wait: float = 1.5) -> None:
        time.sleep(wait)
        answer = self.kinesis.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        assert answer["Records"] == []


def until_window_start(seconds: int, margin: float = 0.3) -> None:
    """Waits until just after a multiple of `seconds` (a STEP window's start), so a test has the
    window's whole length before it closes."""
    now = time.time()
    time.sleep(seconds - now % seconds + margin)


@pytest.fixture(scope="module")
def analytics(spate):
    return analytics_client(spate.endpoint)


def test_filter_and_tumbling_window_rows_reach_kinesis_output_streams(analytics, kinesis,
                                                                        new_stream):
    source, big, counts = new_stream(), new_stream(), new_stream()
    name = create_and_start(
        analytics, kinesis, FILTERING + COUNTING.format(seconds=2), source,
        [kinesis_output("BIG", big), kinesis_output("COUNTS", counts, "CSV")])
    big_reader, counts_reader = Reader(kinesis, big), Reader(kinesis, counts)
    until_window_start(2)
    put(kinesis, source, [{"ticker": "AMZN", "price": 150.5}, {"ticker": "MSFT", "price": 5},
                          {"ticker": "AMZN", "price": 20}, {"ticker": "IBM", "price": 11}])

    filtered = [json.loads(data) for data in big_reader.read(3)]
    assert sorted(filtered, key=lambda row: row["PRICE"]) == [
        {"TICKER": "IBM", "PRICE": 11.0, "BAND": "MID"},
        {"TICKER": "AMZN", "PRICE": 20.0, "BAND": "MID"},
        {"TICKER": "AMZN", "PRICE": 150.5, "BAND": "HIGH"}]

    rows = sorted(data.decode().strip() for data in counts_reader.read(3))
    assert rows == ["AMZN,2,170.5", "IBM,1,11.0", "MSFT,1,5.0"]
    counts_reader.nothing_more()
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")


def test_rows_reach_s3_through_a_delivery_stream(spate_factory, s3_server, s3, s3_bucket):
    server, firehose = delivering_server(spate_factory, s3_server)
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    source = harness.unique_name("src")
    create_streams(kinesis, source)
    delivery = create_active_s3(firehose, harness.unique_name("fh"),
                                **s3_destination(s3_bucket, prefix="analytics/"))
    name = create_and_start(analytics, kinesis, FILTERING, source, [{
        "Name": "BIG", "KinesisFirehoseOutput": {"ResourceARN": delivery["DeliveryStreamARN"],
                                                 "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"}}])
    put(kinesis, source, [{"ticker": "AMZN", "price": 150.5}, {"ticker": "MSFT", "price": 5},
                          {"ticker": "IBM", "price": 11}])
    found = wait_for_objects(s3, s3_bucket, 1, prefix="analytics/", timeout=30)
    body = b"".join(s3.get_object(Bucket=s3_bucket, Key=item["Key"])["Body"].read()
                    for item in found)
    # Records are JSON objects without a separator between them, as Firehose writes records
    # that do not end with a newline.
    rows, text, decoder = [], body.decode(), json.JSONDecoder()
    while text.strip():
        row, end = decoder.raw_decode(text.strip())
        rows.append(row)
        text = text.strip()[end:]
    assert sorted(rows, key=lambda row: row["PRICE"]) == [
        {"TICKER": "IBM", "PRICE": 11.0, "BAND": "MID"},
        {"TICKER": "AMZN", "PRICE": 150.5, "BAND": "HIGH"}]
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")


def test_a_window_survives_a_stop_and_restart_in_its_middle(analytics, kinesis, new_stream):
    source, counts = new_stream(), new_stream()
    until_window_start(10)
    name = create_and_start(analytics, kinesis, COUNTING.format(seconds=10), source,
                            [kinesis_output("COUNTS", counts, "CSV")], position="NOW")
    reader = Reader(kinesis, counts)
    put(kinesis, source, [{"ticker": "AMZN", "price": 1}, {"ticker": "AMZN", "price": 2}])
    time.sleep(1)
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
    # Put while stopped: read on restart from where the application stopped.
    put(kinesis, source, [{"ticker": "AMZN", "price": 4}])
    start(analytics, name, "LAST_STOPPED_POINT")
    put(kinesis, source, [{"ticker": "AMZN", "price": 8}])
    rows = [data.decode().strip() for data in reader.read(1, timeout=20)]
    assert rows == ["AMZN,4,15.0"]
    reader.nothing_more()
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")


def test_a_kill_9_in_the_middle_of_a_window_neither_loses_nor_double_counts(spate_factory):
    server = spate_factory()
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    source, counts = harness.unique_name("src"), harness.unique_name("counts")
    create_streams(kinesis, source, counts)
    until_window_start(10)
    name = create_and_start(analytics, kinesis, COUNTING.format(seconds=10), source,
                            [kinesis_output("COUNTS", counts, "CSV")], position="NOW")
    put(kinesis, source, [{"ticker": "AMZN", "price": 1}, {"ticker": "MSFT", "price": 2}])
    time.sleep(1.5)
    server.kill()
    server.start()
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    wait_status(analytics, name, "RUNNING")
    put(kinesis, source, [{"ticker": "AMZN", "price": 4}])
    reader = Reader(kinesis, counts)
    rows = sorted(data.decode().strip() for data in reader.read(2, timeout=20))
    assert rows == ["AMZN,2,5.0", "MSFT,1,2.0"]
    reader.nothing_more()


def test_a_v2_sql_application_runs_on_the_same_engine(spate, kinesis, new_stream):
    v2 = v2_client(spate.endpoint)
    source, big = new_stream(), new_stream()
    name = harness.unique_name("v2run")
    v2.create_application(
        ApplicationName=name, RuntimeEnvironment="SQL-1_0", ServiceExecutionRole=ROLE,
        ApplicationConfiguration={
            "SqlApplicationConfiguration": {
                "Inputs": [{**stream_input(),
                            "KinesisStreamsInput": {"ResourceARN": harness.stream_arn(source)}}],
                "Outputs": [{"Name": "BIG",
                             "KinesisStreamsOutput": {"ResourceARN": harness.stream_arn(big)},
                             "DestinationSchema": {"RecordFormatType": "JSON"}}]},
            "ApplicationCodeConfiguration": {"CodeContent": {"TextContent": FILTERING},
                                             "CodeContentType": "PLAINTEXT"}})
    input_id = v2.describe_application(ApplicationName=name)["ApplicationDetail"][
        "ApplicationConfigurationDescription"]["SqlApplicationConfigurationDescription"][
        "InputDescriptions"][0]["InputId"]
    v2.start_application(ApplicationName=name, RunConfiguration={"SqlRunConfigurations": [{
        "InputId": input_id,
        "InputStartingPositionConfiguration": {"InputStartingPosition": "TRIM_HORIZON"}}]})
    put(kinesis, source, [{"ticker": "AMZN", "price": 150.5}])
    assert [json.loads(data) for data in Reader(kinesis, big).read(1)] == [
        {"TICKER": "AMZN", "PRICE": 150.5, "BAND": "HIGH"}]
    v2.stop_application(ApplicationName=name)


def test_a_reference_table_from_s3_joins_the_stream(spate_factory, s3_server, s3, s3_bucket):
    server = spate_factory(env=s3_server.credentials_env,
                           args=["--s3-endpoint", s3_server.endpoint])
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    s3.put_object(Bucket=s3_bucket, Key="companies.csv",
                  Body=b"AMZN,Amazon\nGOOG,Alphabet\n")
    source, named = harness.unique_name("src"), harness.unique_name("named")
    create_streams(kinesis, source, named)
    code = """
    CREATE OR REPLACE STREAM "NAMED" (ticker VARCHAR(4), company VARCHAR(16), price DOUBLE);
    CREATE OR REPLACE PUMP "NAME_PUMP" AS INSERT INTO "NAMED"
        SELECT STREAM s.ticker, c.company, s.price
        FROM "SOURCE_SQL_STREAM_001" AS s
        LEFT JOIN "COMPANIES" AS c ON s.ticker = c.ticker;
    """
    name = harness.unique_name("refjoin")
    analytics.create_application(
        ApplicationName=name, ApplicationCode=code,
        Inputs=[{**stream_input(), "KinesisStreamsInput": {
            "ResourceARN": harness.stream_arn(source), "RoleARN": ROLE}}],
        Outputs=[kinesis_output("NAMED", named)])
    analytics.add_application_reference_data_source(
        ApplicationName=name, CurrentApplicationVersionId=1, ReferenceDataSource={
            "TableName": "COMPANIES",
            "S3ReferenceDataSource": {"BucketARN": f"arn:aws:s3:::{s3_bucket}",
                                      "FileKey": "companies.csv", "ReferenceRoleARN": ROLE},
            "ReferenceSchema": {
                "RecordFormat": {"RecordFormatType": "CSV", "MappingParameters": {
                    "CSVMappingParameters": {"RecordRowDelimiter": "\n",
                                             "RecordColumnDelimiter": ","}}},
                "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)"},
                                  {"Name": "COMPANY", "SqlType": "VARCHAR(16)"}]}})
    start(analytics, name, "TRIM_HORIZON")
    put(kinesis, source, [{"ticker": "AMZN", "price": 1.5}, {"ticker": "IBM", "price": 2}])
    rows = [json.loads(data) for data in Reader(kinesis, named).read(2)]
    assert rows == [{"TICKER": "AMZN", "COMPANY": "Amazon", "PRICE": 1.5},
                    {"TICKER": "IBM", "COMPANY": None, "PRICE": 2.0}]


class LambdaOutputFunction(Receiver):
    """Stands for the AWS Lambda function of a Lambda output: keeps every event, answers Ok for
    each record but the first one it ever sees, which it fails once (DeliveryFailed)."""

    def __init__(self):
        super().__init__()
        self.events: list[dict] = []
        self.failed_one = False

    def handle(self, method, path, headers, body):
        event = json.loads(body)
        answers = []
        with self.lock:
            self.events.append(event)
            for record in event["records"]:
                result = "Ok"
                if not self.failed_one:
                    self.failed_one, result = True, "DeliveryFailed"
                answers.append({"recordId": record["recordId"], "result": result})
        return 200, {"records": answers}


def test_rows_reach_a_lambda_output_and_failed_records_are_sent_again(spate_factory, tmp_path):
    function = LambdaOutputFunction()
    arn = "arn:aws:lambda:us-east-1:000000000000:function:sink"
    config = tmp_path / "spate.toml"
    config.write_text(f'[firehose.lambda."{arn}"]\nurl = "{function.url}"\n')
    server = spate_factory(args=["--config", str(config)])
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    source = harness.unique_name("src")
    create_streams(kinesis, source)
    name = create_and_start(analytics, kinesis, FILTERING, source, [{
        "Name": "BIG", "LambdaOutput": {"ResourceARN": arn, "RoleARN": ROLE},
        "DestinationSchema": {"RecordFormatType": "JSON"}}])
    put(kinesis, source, [{"ticker": "AMZN", "price": 150.5}, {"ticker": "MSFT", "price": 5}])

    deadline = time.monotonic() + 20
    while True:
        with function.lock:
            events = list(function.events)
        delivered = [json.loads(base64.b64decode(record["data"]))
                     for event in events for record in event["records"]]
        if len(events) >= 2:
            break
        assert time.monotonic() < deadline, events
        time.sleep(0.1)
    first, second = events[0], events[1]
    assert first["applicationArn"].endswith(f":application/{name}")
    assert first["records"][0]["lambdaDeliveryRecordMetadata"]["retryHint"] == 0
    # The failed record comes again, with a higher retry hint.
    assert second["records"][0]["lambdaDeliveryRecordMetadata"]["retryHint"] == 1
    assert second["records"][0]["data"] == first["records"][0]["data"]
    assert delivered[0] == {"TICKER": "AMZN", "PRICE": 150.5, "BAND": "HIGH"}
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
    function.stop()


class PreprocessingFunction(Receiver):
    """Stands for an input's Lambda preprocessor: turns `TICKER:PRICE` text into the JSON the
    schema reads, drops `skip`, fails anything else."""

    def __init__(self):
        super().__init__()
        self.events: list[dict] = []

    def handle(self, method, path, headers, body):
        event = json.loads(body)
        with self.lock:
            self.events.append(event)
        answers = []
        for record in event["records"]:
            text = base64.b64decode(record["data"]).decode()
            if text == "skip":
                answers.append({"recordId": record["recordId"], "result": "Dropped"})
            elif ":" in text:
                ticker, price = text.split(":")
                data = json.dumps({"ticker": ticker, "price": float(price)}).encode()
                answers.append({"recordId": record["recordId"], "result": "Ok",
                                "data": base64.b64encode(data).decode()})
            else:
                answers.append({"recordId": record["recordId"], "result": "ProcessingFailed"})
        return 200, {"records": answers}


def test_a_lambda_preprocessor_transforms_drops_and_fails_input_records(spate_factory, tmp_path):
    function = PreprocessingFunction()
    arn = "arn:aws:lambda:us-east-1:000000000000:function:pre"
    config = tmp_path / "spate.toml"
    config.write_text(f'[firehose.lambda."{arn}"]\nurl = "{function.url}"\n')
    server = spate_factory(args=["--config", str(config)])
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    source, big, errors = (harness.unique_name(prefix) for prefix in ("src", "big", "err"))
    create_streams(kinesis, source, big, errors)
    name = harness.unique_name("pre")
    analytics.create_application(
        ApplicationName=name, ApplicationCode=FILTERING,
        Inputs=[{**stream_input(),
                 "KinesisStreamsInput": {"ResourceARN": harness.stream_arn(source),
                                         "RoleARN": ROLE},
                 "InputProcessingConfiguration": {"InputLambdaProcessor": {
                     "ResourceARN": arn, "RoleARN": ROLE}}}],
        Outputs=[kinesis_output("BIG", big), kinesis_output("error_stream", errors)])
    start(analytics, name, "TRIM_HORIZON")
    kinesis.put_records(StreamName=source, Records=[
        {"Data": text.encode(), "PartitionKey": "k"}
        for text in ["AMZN:150.5", "skip", "garbage", "IBM:20"]])
    rows = [json.loads(data) for data in Reader(kinesis, big).read(2)]
    assert rows == [{"TICKER": "AMZN", "PRICE": 150.5, "BAND": "HIGH"},
                    {"TICKER": "IBM", "PRICE": 20.0, "BAND": "MID"}]
    (error,) = [json.loads(data) for data in Reader(kinesis, errors).read(1)]
    assert "failed the record" in error["MESSAGE"]
    assert error["DATA_ROW"] == "garbage"
    event = function.events[0]
    assert event["applicationArn"].endswith(f":application/{name}")
    assert event["streamArn"] == harness.stream_arn(source)
    assert event["records"][0]["kinesisStreamRecordMetadata"]["partitionKey"] == "k"
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
    function.stop()


def test_discovery_infers_the_schema_of_preprocessed_records(spate_factory, tmp_path):
    function = PreprocessingFunction()
    arn = "arn:aws:lambda:us-east-1:000000000000:function:pre"
    config = tmp_path / "spate.toml"
    config.write_text(f'[firehose.lambda."{arn}"]\nurl = "{function.url}"\n')
    server = spate_factory(args=["--config", str(config)])
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    source = harness.unique_name("src")
    create_streams(kinesis, source)
    kinesis.put_records(StreamName=source, Records=[
        {"Data": text.encode(), "PartitionKey": "k"} for text in ["AMZN:1.5", "IBM:20", "skip"]])
    answer = analytics.discover_input_schema(
        ResourceARN=harness.stream_arn(source), RoleARN=ROLE,
        InputStartingPositionConfiguration={"InputStartingPosition": "TRIM_HORIZON"},
        InputProcessingConfiguration={"InputLambdaProcessor": {"ResourceARN": arn,
                                                               "RoleARN": ROLE}})
    assert answer["RawInputRecords"] == ["AMZN:1.5", "IBM:20", "skip"]
    assert [json.loads(text) for text in answer["ProcessedInputRecords"]] == [
        {"ticker": "AMZN", "price": 1.5}, {"ticker": "IBM", "price": 20.0}]
    columns = [column["Name"] for column in answer["InputSchema"]["RecordColumns"]]
    assert columns == ["ticker", "price"]
    function.stop()


def test_a_delivery_stream_is_an_input_and_keeps_records_for_a_stopped_application(
        spate_factory, s3_server, s3, s3_bucket):
    server, firehose = delivering_server(spate_factory, s3_server)
    kinesis = harness.kinesis_client(server.endpoint)
    analytics = analytics_client(server.endpoint)
    big = harness.unique_name("big")
    create_streams(kinesis, big)
    delivery = create_active_s3(firehose, harness.unique_name("fh"),
                                **s3_destination(s3_bucket, prefix="fhin/"))
    name = harness.unique_name("sqlapp")
    analytics.create_application(
        ApplicationName=name, ApplicationCode=FILTERING,
        Inputs=[{**stream_input(), "KinesisFirehoseInput": {
            "ResourceARN": delivery["DeliveryStreamARN"], "RoleARN": ROLE}}],
        Outputs=[kinesis_output("BIG", big)])
    start(analytics, name, "TRIM_HORIZON")
    reader = Reader(kinesis, big)
    rows = [{"ticker": "AMZN", "price": 150.5}, {"ticker": "MSFT", "price": 5},
            {"ticker": "IBM", "price": 11}]
    firehose_put(firehose, delivery["DeliveryStreamName"],
                 [json.dumps(row).encode() for row in rows])
    got = sorted(json.loads(data)["PRICE"] for data in reader.read(2))
    assert got == [11.0, 150.5]

    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
    later = [{"ticker": "ORCL", "price": 42}, {"ticker": "SAP", "price": 1}]
    firehose_put(firehose, delivery["DeliveryStreamName"],
                 [json.dumps(row).encode() for row in later])
    # The delivery stream delivers every record to S3 while the application is stopped...
    deadline = time.monotonic() + 30
    while True:
        body = b"".join(s3.get_object(Bucket=s3_bucket, Key=item["Key"])["Body"].read()
                        for item in wait_for_objects(s3, s3_bucket, 1, prefix="fhin/"))
        if all(json.dumps(row).encode() in body for row in rows + later):
            break
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    # ... and keeps those the application has not read for it.
    start(analytics, name, "LAST_STOPPED_POINT")
    assert [json.loads(data) for data in reader.read(1)] == [
        {"TICKER": "ORCL", "PRICE": 42.0, "BAND": "MID"}]
    reader.nothing_more()
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
    analytics.delete_application(
        ApplicationName=name,
        CreateTimestamp=detail(analytics, name)["CreateTimestamp"])


def test_discovery_samples_a_delivery_stream(spate_factory, s3_server, s3_bucket):
    server, firehose = delivering_server(spate_factory, s3_server)
    analytics = analytics_client(server.endpoint)
    # A long buffering interval: the records wait in the delivery stream.
    delivery = create_active_s3(firehose, harness.unique_name("fh"),
                                **s3_destination(s3_bucket, prefix="disc/", interval_s=600))
    records = [json.dumps({"ticker": t, "price": p}) for t, p in [("AMZN", 10.5), ("IBM", 3.25)]]
    firehose_put(firehose, delivery["DeliveryStreamName"], [r.encode() for r in records])
    answer = analytics.discover_input_schema(
        ResourceARN=delivery["DeliveryStreamARN"], RoleARN=ROLE,
        InputStartingPositionConfiguration={"InputStartingPosition": "TRIM_HORIZON"})
    assert answer["RawInputRecords"] == records
    columns = {column["Name"]: column["Mapping"] for column in answer["InputSchema"]["RecordColumns"]}
    assert columns == {"ticker": "$.ticker", "price": "$.price"}


WEB_LOGS = """
CREATE OR REPLACE STREAM "REQUESTS" (host VARCHAR(16), status INTEGER, bytes INTEGER);
CREATE OR REPLACE PUMP "PARSE_PUMP" AS INSERT INTO "REQUESTS"
    SELECT STREAM l.r.COLUMN1, CAST(l.r.COLUMN6 AS INTEGER), CAST(l.r.COLUMN7 AS INTEGER)
    FROM (SELECT STREAM W3C_LOG_PARSE("log", 'COMMON') FROM "SOURCE_SQL_STREAM_001") AS l(r);
CREATE OR REPLACE STREAM "BY_STATUS" (status INTEGER, hits BIGINT, hosts BIGINT,
                                      mean_bytes DOUBLE, spread DOUBLE, first_host VARCHAR(16));
CREATE OR REPLACE PUMP "COUNT_PUMP" AS INSERT INTO "BY_STATUS"
    SELECT STREAM status, COUNT(*), COUNT(DISTINCT host), AVG(CAST(bytes AS DOUBLE)),
                  STDDEV_POP(bytes), FIRST_VALUE(host)
    FROM "REQUESTS"
    GROUP BY status, STEP("REQUESTS".ROWTIME BY INTERVAL '2' SECOND);
"""


def test_web_log_lines_are_parsed_and_counted_per_status(analytics, kinesis, new_stream):
    source, counts = new_stream(), new_stream()
    name = harness.unique_name("weblogs")
    analytics.create_application(
        ApplicationName=name, ApplicationCode=WEB_LOGS,
        Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM", "KinesisStreamsInput": {
            "ResourceARN": harness.stream_arn(source), "RoleARN": ROLE},
            "InputSchema": {
                "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {
                    "JSONMappingParameters": {"RecordRowPath": "$"}}},
                "RecordColumns": [{"Name": "log", "SqlType": "VARCHAR(256)",
                                   "Mapping": "$.log"}]}}],
        Outputs=[kinesis_output("BY_STATUS", counts, "CSV")])
    start(analytics, name, "TRIM_HORIZON")
    reader = Reader(kinesis, counts)
    until_window_start(2)
    lines = [
        '10.0.0.1 - alice [24/May/2004:22:01:02 -0700] "GET /a HTTP/1.1" 200 100',
        '10.0.0.2 - bob [24/May/2004:22:01:03 -0700] "GET /b HTTP/1.1" 200 300',
        '10.0.0.1 - alice [24/May/2004:22:01:04 -0700] "GET /c HTTP/1.1" 200 200',
        '10.0.0.3 - carol [24/May/2004:22:01:05 -0700] "GET /d HTTP/1.1" 404 0',
    ]
    put(kinesis, source, [{"log": line} for line in lines])
    rows = sorted(data.decode().strip() for data in reader.read(2))
    # 200: three hits from two hosts, mean 200 bytes, population deviation sqrt(20000/3).
    assert rows == ["200,3,2,200.0,81.64965809277261,10.0.0.1", "404,1,1,0.0,0.0,10.0.0.3"]
    reader.nothing_more()
    analytics.stop_application(ApplicationName=name)
    wait_status(analytics, name, "READY")
