"""Firehose record processing and dynamic partitioning over the wire with boto3: a Lambda
processor mapped to an HTTP endpoint the test serves and to a local command, MetadataExtraction
(jq) with dynamic partitioning into one object per customer, AppendDelimiterToRecord,
RecordDeAggregation of KPL-aggregated and concatenated JSON records, and the error output of
records that fail. Delivery goes to the shared s3s-fs server (conftest.py)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import json
import sys
import threading

import pytest

from firehose_helpers import (create_active_s3, delivering_server, error_code, objects, read,
                              s3_destination, wait_for_objects)

HTTP_LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:transform"
COMMAND_LAMBDA = "arn:aws:lambda:us-east-1:000000000000:function:local"
ERRORS = "errors/!{firehose:error-output-type}/"


def lambda_processor(arn: str) -> dict:
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": arn},
        {"ParameterName": "NumberOfRetries", "ParameterValue": "1"}]}]}


def transform(event: dict) -> dict:
    """The test's Lambda: upper-cases records, drops "drop", fails "fail"."""
    out = []
    for record in event["records"]:
        data = base64.b64decode(record["data"])
        if data == b"drop":
            out.append({"recordId": record["recordId"], "result": "Dropped"})
        elif data == b"fail":
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed",
                        "data": record["data"]})
        else:
            out.append({"recordId": record["recordId"], "result": "Ok",
                        "data": base64.b64encode(data.upper() + b"\n").decode()})
    return {"records": out}


@pytest.fixture
def lambda_endpoint():
    """An HTTP endpoint serving `transform`; yields (url, the events it received)."""
    events: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            events.append(event)
            body = json.dumps(transform(event)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", events
    server.shutdown()


def start(spate_factory, s3_server, tmp_path, config: str = ""):
    path = tmp_path / "spate.toml"
    path.write_text(config)
    _, firehose = delivering_server(spate_factory, s3_server, config=path)
    return firehose


def error_lines(s3, bucket: str, prefix: str) -> list[dict]:
    [found] = wait_for_objects(s3, bucket, 1, prefix)
    return [json.loads(line) for line in read(s3, bucket, found["Key"]).splitlines()]


def test_http_lambda_transforms_drops_and_fails_records(spate_factory, s3_server, s3, s3_bucket,
                                                         tmp_path, lambda_endpoint):
    url, events = lambda_endpoint
    firehose = start(spate_factory, s3_server, tmp_path,
                     f'[firehose.lambda."{HTTP_LAMBDA}"]\nurl = "{url}"\n')
    processing = lambda_processor(HTTP_LAMBDA)
    description = create_active_s3(firehose, "lambda-http", **s3_destination(
        s3_bucket, prefix="out/", ErrorOutputPrefix=ERRORS, ProcessingConfiguration=processing))
    described = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert described["ProcessingConfiguration"] == processing

    firehose.put_record_batch(DeliveryStreamName="lambda-http", Records=[
        {"Data": b"a"}, {"Data": b"drop"}, {"Data": b"fail"}, {"Data": b"b"}])
    [delivered] = wait_for_objects(s3, s3_bucket, 1, "out/")
    assert read(s3, s3_bucket, delivered["Key"]) == b"A\nB\n"
    [failed] = error_lines(s3, s3_bucket, "errors/processing-failed/")
    assert base64.b64decode(failed["rawData"]) == b"fail"
    assert failed["lambdaArn"] == HTTP_LAMBDA
    assert failed["errorCode"] == "Lambda.ProcessingFailed"
    assert {"attemptsMade", "arrivalTimestamp", "errorMessage",
            "attemptEndingTimestamp"} <= failed.keys()

    [event] = events
    assert event["deliveryStreamArn"].endswith(":deliverystream/lambda-http")
    assert event["region"] == "us-east-1"
    assert [base64.b64decode(r["data"]) for r in event["records"]] == [b"a", b"drop", b"fail", b"b"]
    assert all({"recordId", "approximateArrivalTimestamp"} <= r.keys() for r in event["records"])


def test_command_lambda_and_a_failing_invocation(spate_factory, s3_server, s3, s3_bucket,
                                                 tmp_path):
    script = tmp_path / "transform.py"
    script.write_text(
        "import base64, json, sys\n"
        "event = json.load(sys.stdin)\n"
        "if any(base64.b64decode(r['data']) == b'crash' for r in event['records']):\n"
        "    sys.exit(3)\n"
        "print(json.dumps({'records': [{'recordId': r['recordId'], 'result': 'Ok',\n"
        "    'data': base64.b64encode(base64.b64decode(r['data'])[::-1]).decode()}\n"
        "    for r in event['records']]}))\n")
    firehose = start(spate_factory, s3_server, tmp_path,
                     f'[firehose.lambda."{COMMAND_LAMBDA}"]\n'
                     f'command = {json.dumps([sys.executable, str(script)])}\n')
    create_active_s3(firehose, "lambda-cmd", **s3_destination(
        s3_bucket, prefix="out/", ErrorOutputPrefix=ERRORS,
        ProcessingConfiguration=lambda_processor(COMMAND_LAMBDA)))
    firehose.put_record(DeliveryStreamName="lambda-cmd", Record={"Data": b"abc"})
    [delivered] = wait_for_objects(s3, s3_bucket, 1, "out/")
    assert read(s3, s3_bucket, delivered["Key"]) == b"cba"

    firehose.put_record(DeliveryStreamName="lambda-cmd", Record={"Data": b"crash"})
    [failed] = error_lines(s3, s3_bucket, "errors/processing-failed/")
    assert base64.b64decode(failed["rawData"]) == b"crash"
    assert failed["attemptsMade"] == 2  # the invocation and NumberOfRetries=1 more
    assert failed["lambdaArn"] == COMMAND_LAMBDA
    assert len(objects(s3, s3_bucket, "out/")) == 1


def test_dynamic_partitioning_writes_one_object_per_customer(spate_factory, s3_server, s3,
                                                            s3_bucket, tmp_path):
    firehose = start(spate_factory, s3_server, tmp_path)
    create_active_s3(firehose, "partitioned", **s3_destination(
        s3_bucket, prefix="customer=!{partitionKeyFromQuery:customer}/",
        ErrorOutputPrefix=ERRORS,
        DynamicPartitioningConfiguration={"Enabled": True,
                                          "RetryOptions": {"DurationInSeconds": 300}},
        ProcessingConfiguration={"Enabled": True, "Processors": [
            {"Type": "MetadataExtraction", "Parameters": [
                {"ParameterName": "MetadataExtractionQuery",
                 "ParameterValue": "{customer: .customer_id}"},
                {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
            {"Type": "AppendDelimiterToRecord"}]}))
    records = [{"customer_id": "a", "n": 1}, {"customer_id": "b", "n": 2},
               {"customer_id": "a", "n": 3}, {"n": 4}]
    firehose.put_record_batch(DeliveryStreamName="partitioned",
                              Records=[{"Data": json.dumps(r).encode()} for r in records])
    [a] = wait_for_objects(s3, s3_bucket, 1, "customer=a/")
    [b] = wait_for_objects(s3, s3_bucket, 1, "customer=b/")
    lines = [json.loads(line) for line in read(s3, s3_bucket, a["Key"]).splitlines()]
    assert [line["n"] for line in lines] == [1, 3]
    assert read(s3, s3_bucket, b["Key"]).endswith(b"\n")
    [failed] = error_lines(s3, s3_bucket, "errors/partitioning-failed/")
    assert json.loads(base64.b64decode(failed["rawData"])) == {"n": 4}


def kpl_aggregate(datas: list[bytes]) -> bytes:
    """A KPL-aggregated record (amazon-kinesis-producer aggregation-format.md)."""
    def varint(value: int) -> bytes:
        out = bytearray()
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
        return bytes(out)

    def field(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    body = field(1, b"pk")
    for data in datas:
        body += field(3, varint(1 << 3) + varint(0) + field(3, data))
    return b"\xf3\x89\x9a\xc2" + body + hashlib.md5(body).digest()


def test_record_deaggregation_of_kpl_and_json_records(spate_factory, s3_server, s3, s3_bucket,
                                                      tmp_path):
    firehose = start(spate_factory, s3_server, tmp_path)
    create_active_s3(firehose, "deaggregated", **s3_destination(
        s3_bucket, prefix="out/", ProcessingConfiguration={"Enabled": True, "Processors": [
            {"Type": "RecordDeAggregation",
             "Parameters": [{"ParameterName": "SubRecordType", "ParameterValue": "JSON"}]},
            {"Type": "AppendDelimiterToRecord"}]}))
    firehose.put_record_batch(DeliveryStreamName="deaggregated", Records=[
        {"Data": kpl_aggregate([b'{"a":1}', b'{"a":2}'])}, {"Data": b'{"a":3}{"a":4}'}])
    [delivered] = wait_for_objects(s3, s3_bucket, 1, "out/")
    assert read(s3, s3_bucket, delivered["Key"]) == b'{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n'


def test_cloudwatch_logs_records_are_decompressed_and_their_messages_extracted(
        spate_factory, s3_server, s3, s3_bucket, tmp_path):
    firehose = start(spate_factory, s3_server, tmp_path)
    create_active_s3(firehose, "logs", **s3_destination(
        s3_bucket, prefix="out/", ProcessingConfiguration={"Enabled": True, "Processors": [
            {"Type": "Decompression",
             "Parameters": [{"ParameterName": "CompressionFormat", "ParameterValue": "GZIP"}]},
            {"Type": "CloudWatchLogProcessing",
             "Parameters": [{"ParameterName": "DataMessageExtraction", "ParameterValue": "true"}]},
            {"Type": "AppendDelimiterToRecord"}]}))
    data = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "g",
            "logStream": "s", "subscriptionFilters": ["f"],
            "logEvents": [{"id": "1", "timestamp": 1, "message": "one"},
                          {"id": "2", "timestamp": 2, "message": "two"}]}
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": []}
    firehose.put_record_batch(DeliveryStreamName="logs", Records=[
        {"Data": gzip.compress(json.dumps(data).encode())},
        {"Data": gzip.compress(json.dumps(control).encode())}])
    [delivered] = wait_for_objects(s3, s3_bucket, 1, "out/")
    assert read(s3, s3_bucket, delivered["Key"]) == b"one\ntwo\n"


def test_processing_configurations_spate_cannot_run_are_refused(spate_factory, s3_server,
                                                                s3_bucket, tmp_path):
    firehose = start(spate_factory, s3_server, tmp_path)

    def refused(name: str, **extra) -> str:
        with pytest.raises(firehose.exceptions.InvalidArgumentException) as excinfo:
            firehose.create_delivery_stream(
                DeliveryStreamName=name,
                ExtendedS3DestinationConfiguration=s3_destination(s3_bucket, **extra))
        assert error_code(excinfo) == "InvalidArgumentException"
        return excinfo.value.response["Error"]["Message"]

    unmapped = "arn:aws:lambda:us-east-1:000000000000:function:nowhere"
    assert unmapped in refused("unmapped", ProcessingConfiguration=lambda_processor(unmapped))
    assert "Decompression" in refused("logs-alone", ProcessingConfiguration={
        "Enabled": True, "Processors": [{"Type": "CloudWatchLogProcessing"}]})
    assert "dynamic partitioning" in refused("no-dp", ProcessingConfiguration={
        "Enabled": True, "Processors": [{"Type": "MetadataExtraction", "Parameters": [
            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{c: .c}"},
            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]})
    refused("dp-without-keys", prefix="plain/", ErrorOutputPrefix=ERRORS,
            DynamicPartitioningConfiguration={"Enabled": True})

    description = create_active_s3(firehose, "plain", **s3_destination(s3_bucket, prefix="p/"))
    with pytest.raises(firehose.exceptions.InvalidArgumentException):
        firehose.update_destination(
            DeliveryStreamName="plain",
            CurrentDeliveryStreamVersionId=description["VersionId"],
            DestinationId=description["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate={
                "Prefix": "c=!{partitionKeyFromQuery:c}/", "ErrorOutputPrefix": ERRORS,
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [
                    {"Type": "MetadataExtraction", "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery",
                         "ParameterValue": "{c: .c}"},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}})
