"""The awsJson1.1 wire format itself, seen below boto3: error envelope, request ids, content
type, JSON number timestamps, base64 blobs, and the absence of StreamId.

Requests are signed with SigV4 like botocore's (harness.raw_call), so they stay valid once Spate
checks signatures. The CBOR encoding of the same protocol is tested in test_cbor.py.
"""

import base64
import json

import pytest

import harness
from harness import JSON_1_1, raw_call, not_found_message, shard_id


def error_type(body: bytes) -> str:
    return json.loads(body)["__type"].split("#")[-1]


def test_error_envelope(endpoint, stream_name):
    status, headers, body = raw_call(endpoint, "DescribeStreamSummary",
                                     {"StreamName": stream_name})

    assert status == 400
    document = json.loads(body)
    assert error_type(body) == "ResourceNotFoundException"
    assert document["message"] == not_found_message(stream_name)
    assert headers["x-amzn-errortype"].split(":")[0] == "ResourceNotFoundException"
    assert headers["x-amzn-requestid"]
    assert headers["content-type"].startswith(JSON_1_1)


def test_success_carries_request_id_and_content_type(endpoint, kinesis, new_stream):
    name = new_stream(shard_count=1)

    status, headers, body = raw_call(endpoint, "DescribeStreamSummary", {"StreamName": name})
    via_boto = kinesis.describe_stream_summary(StreamName=name)

    assert status == 200
    assert headers["content-type"].startswith(JSON_1_1)
    assert headers["x-amzn-requestid"]
    assert via_boto["ResponseMetadata"]["RequestId"]
    assert via_boto["ResponseMetadata"]["RequestId"] != headers["x-amzn-requestid"], \
        "a request id per request"
    assert json.loads(body)["StreamDescriptionSummary"]["StreamName"] == name


def test_summary_never_carries_stream_id(endpoint, new_stream):
    name = new_stream(shard_count=1)

    _, _, body = raw_call(endpoint, "DescribeStreamSummary", {"StreamName": name})
    _, _, described = raw_call(endpoint, "DescribeStream", {"StreamName": name})

    assert "StreamId" not in json.loads(body)["StreamDescriptionSummary"]
    assert "StreamId" not in json.loads(described)["StreamDescription"]


def test_timestamps_are_epoch_seconds_and_data_is_base64(endpoint, kinesis, new_stream):
    name = new_stream(shard_count=1)
    payload = bytes(range(256))
    kinesis.put_record(StreamName=name, Data=payload, PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    _, _, body = raw_call(endpoint, "GetRecords", {"ShardIterator": iterator})
    _, _, summary = raw_call(endpoint, "DescribeStreamSummary", {"StreamName": name})

    record = json.loads(body)["Records"][0]
    arrival = record["ApproximateArrivalTimestamp"]
    assert isinstance(arrival, (int, float)) and not isinstance(arrival, bool)
    assert 1.5e9 < arrival < 1e10, "epoch seconds, not milliseconds"
    assert base64.b64decode(record["Data"], validate=True) == payload
    created = json.loads(summary)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert isinstance(created, (int, float)) and 1.5e9 < created < 1e10


def test_fractional_and_exponent_timestamps_are_accepted(endpoint, kinesis, new_stream):
    # Other SDKs send fractional seconds, Java-based ones sometimes exponent form (reference 4.7).
    name = new_stream(shard_count=1)
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    created = kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["StreamCreationTimestamp"].timestamp()

    for timestamp in (created - 3600.5, f"{created - 3600:.6E}"):
        request = {"StreamName": name, "ShardId": shard_id(0),
                   "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": timestamp}
        body = json.dumps(request).replace(f'"{timestamp}"', str(timestamp)).encode()
        status, _, response = raw_call(endpoint, "GetShardIterator", body)
        assert status == 200, (timestamp, response)
        assert json.loads(response)["ShardIterator"]


def test_unknown_operation(endpoint):
    status, headers, body = raw_call(endpoint, "NoSuchOperation", {})

    assert status == 400
    assert error_type(body) == "UnknownOperationException"


def test_malformed_json_is_a_serialization_error(endpoint):
    status, _, body = raw_call(endpoint, "ListStreams", b'{"Limit": ')

    assert status == 400
    assert error_type(body) == "SerializationException"


def test_wrong_json_type_is_a_serialization_error(endpoint):
    status, _, body = raw_call(endpoint, "ListStreams", {"Limit": "ten"})

    assert status == 400
    assert error_type(body) == "SerializationException"


def test_health(spate):
    if isinstance(spate, harness.ExternalServer):
        pytest.skip("GET /health is Spate's own")

    assert harness.http_get(f"{spate.endpoint}/health") == 200
