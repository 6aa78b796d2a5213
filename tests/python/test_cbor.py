"""The CBOR encoding of the Kinesis protocol (`application/x-amz-cbor-1.1`), which the Java SDKs
(and so the KCL and KPL) send by default, seen below any client.

No Python client speaks it, so the bodies are built here the way the Java SDK builds them
(aws-cbor-protocol's SdkCborGenerator on Jackson's CBORGenerator): maps and arrays of
indefinite length, blobs as byte strings, timestamps as CBOR tag 1 around an integer of epoch
*milliseconds* (not seconds, whatever RFC 8949 says of tag 1; reference/aws-api.md 1.1). They are
sent SigV4-signed through harness.raw_call, like test_wire.py's awsJson requests.

Spate answers timestamps in the same form, tag 1 + integer milliseconds. A standard CBOR decoder
reads tag 1 as seconds (cbor2 refuses such large values), so responses are decoded with tag 1
mapped to `TaggedMillis`, which also lets the tests check the tag is there.
"""

from __future__ import annotations

import datetime
import time

import urllib.request

import cbor2
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer

import harness
from harness import CBOR_1_1, not_found_message, raw_call, shard_id

JAVA_CBOR_BREAK = b"\xff"


class Millis(int):
    """A timestamp to send: epoch milliseconds, written as tag 1 + integer like the Java SDK."""


class TaggedMillis(int):
    """A timestamp received as tag 1 + integer: epoch milliseconds."""


def java_cbor(value) -> bytes:
    """value encoded as the Java SDK encodes a request."""
    if isinstance(value, dict):
        members = b"".join(java_cbor(key) + java_cbor(item) for key, item in value.items())
        return b"\xbf" + members + JAVA_CBOR_BREAK
    if isinstance(value, list):
        return b"\x9f" + b"".join(java_cbor(item) for item in value) + JAVA_CBOR_BREAK
    if isinstance(value, Millis):
        return cbor2.dumps(cbor2.CBORTag(1, int(value)))
    return cbor2.dumps(value)


def decode(body: bytes):
    return cbor2.loads(body, semantic_decoders={1: lambda value, _immutable: TaggedMillis(value)})


def cbor_call(endpoint: str, operation: str, request: dict) -> tuple[int, dict, object]:
    """Sends request as a Java SDK CBOR body; returns (status, headers, decoded CBOR answer)."""
    status, headers, body = raw_call(endpoint, operation, java_cbor(request),
                                     content_type=CBOR_1_1)
    assert headers["content-type"] == CBOR_1_1, (operation, status, body)
    return status, headers, decode(body)


def cbor_ok(endpoint: str, operation: str, request: dict):
    status, _, answer = cbor_call(endpoint, operation, request)
    assert status == 200, (operation, answer)
    return answer


def now_millis() -> int:
    return int(time.time() * 1000)


def assert_recent_millis(value, slack_ms: int = 120_000) -> None:
    assert isinstance(value, TaggedMillis), f"expected tag 1 + integer millis, got {value!r}"
    assert abs(value - now_millis()) < slack_ms, f"{value} is not epoch millis close to now"


def boto_millis(timestamp: datetime.datetime) -> int:
    return round(timestamp.timestamp() * 1000)


@pytest.fixture
def cbor_stream(endpoint, kinesis, stream_name):
    """`cbor_stream(shard_count)`: CreateStream over CBOR, waited ACTIVE; deleted at teardown."""
    created = []

    def create(shard_count: int = 1) -> str:
        cbor_ok(endpoint, "CreateStream", {"StreamName": stream_name, "ShardCount": shard_count})
        created.append(stream_name)
        harness.wait_for_status(kinesis, stream_name, "ACTIVE")
        return stream_name

    yield create
    for name in created:
        try:
            kinesis.delete_stream(StreamName=name)
        except Exception:  # already deleted, or the server is gone
            pass


def read_cbor(endpoint: str, name: str, shard: str) -> list[dict]:
    """Every record of a shard from TRIM_HORIZON, read over CBOR."""
    iterator = cbor_ok(endpoint, "GetShardIterator", {
        "StreamName": name, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON",
    })["ShardIterator"]
    records = []
    while True:
        page = cbor_ok(endpoint, "GetRecords", {"ShardIterator": iterator})
        records.extend(page["Records"])
        if not page["Records"] and page["MillisBehindLatest"] == 0:
            return records
        iterator = page["NextShardIterator"]


def test_create_and_describe_stream(endpoint, cbor_stream):
    before = now_millis()
    name = cbor_stream(shard_count=2)

    described = cbor_ok(endpoint, "DescribeStream", {"StreamName": name})["StreamDescription"]

    assert described["StreamName"] == name
    assert described["StreamStatus"] == "ACTIVE"
    assert [shard["ShardId"] for shard in described["Shards"]] == [shard_id(0), shard_id(1)]
    created = described["StreamCreationTimestamp"]
    assert_recent_millis(created)
    assert before - 1_000 <= created <= now_millis() + 1_000
    summary = cbor_ok(endpoint, "DescribeStreamSummary", {"StreamName": name})
    assert summary["StreamDescriptionSummary"]["StreamCreationTimestamp"] == created


def test_put_and_get_records_carry_byte_strings_and_millisecond_timestamps(endpoint, cbor_stream):
    name = cbor_stream(shard_count=1)
    single = bytes(range(256))
    batch = [b"\x00", b"\xff\xfe" * 3000, "héllo".encode()]

    put = cbor_ok(endpoint, "PutRecord",
                  {"StreamName": name, "PartitionKey": "k", "Data": single})
    put_many = cbor_ok(endpoint, "PutRecords", {"StreamName": name, "Records": [
        {"PartitionKey": f"k{index}", "Data": data} for index, data in enumerate(batch)
    ]})

    assert put["ShardId"] == shard_id(0)
    assert harness.SEQUENCE_NUMBER_RE.match(put["SequenceNumber"])
    assert put_many["FailedRecordCount"] == 0
    records = read_cbor(endpoint, name, shard_id(0))
    assert [record["Data"] for record in records] == [single, *batch]
    assert all(isinstance(record["Data"], bytes) for record in records)
    assert [record["SequenceNumber"] for record in records] == [
        put["SequenceNumber"], *(entry["SequenceNumber"] for entry in put_many["Records"])]
    assert [record["PartitionKey"] for record in records] == ["k", "k0", "k1", "k2"]
    for record in records:
        assert_recent_millis(record["ApproximateArrivalTimestamp"])


def test_at_timestamp_takes_tag_1_milliseconds(endpoint, cbor_stream):
    name = cbor_stream(shard_count=1)
    cbor_ok(endpoint, "PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": b"first"})
    arrival = read_cbor(endpoint, name, shard_id(0))[0]["ApproximateArrivalTimestamp"]

    def first_data_at(timestamp) -> bytes | None:
        iterator = cbor_ok(endpoint, "GetShardIterator", {
            "StreamName": name, "ShardId": shard_id(0), "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": timestamp,
        })["ShardIterator"]
        records = cbor_ok(endpoint, "GetRecords", {"ShardIterator": iterator})["Records"]
        return records[0]["Data"] if records else None

    # At the arrival millisecond the record is found; one millisecond later it is not. Read as
    # seconds, either value would lie tens of thousands of years ahead.
    assert first_data_at(Millis(arrival)) == b"first"
    assert first_data_at(Millis(arrival + 1)) is None
    # A bare integer and a float are milliseconds too.
    assert first_data_at(int(arrival)) == b"first"
    assert first_data_at(float(arrival)) == b"first"


def test_list_shards_matches_json(endpoint, kinesis, cbor_stream):
    name = cbor_stream(shard_count=3)

    listed = cbor_ok(endpoint, "ListShards", {"StreamName": name})["Shards"]

    via_json = kinesis.list_shards(StreamName=name)["Shards"]
    assert listed == via_json
    ranges = [(int(shard["HashKeyRange"]["StartingHashKey"]),
               int(shard["HashKeyRange"]["EndingHashKey"])) for shard in listed]
    assert ranges == harness.expected_hash_ranges(3)


def test_json_and_cbor_clients_see_the_same_records(endpoint, kinesis, cbor_stream):
    name = cbor_stream(shard_count=2)
    for index in range(6):
        data = bytes([index, 0, 255]) * (index + 1)
        if index % 2:
            kinesis.put_record(StreamName=name, PartitionKey=f"p{index}", Data=data)
        else:
            cbor_ok(endpoint, "PutRecord",
                    {"StreamName": name, "PartitionKey": f"p{index}", "Data": data})

    via_json = harness.read_stream(kinesis, name)
    total = 0
    for shard, json_records in via_json.items():
        cbor_records = read_cbor(endpoint, name, shard)
        total += len(cbor_records)
        assert [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in cbor_records] == \
            [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in json_records]
        assert [r["ApproximateArrivalTimestamp"] for r in cbor_records] == \
            [boto_millis(r["ApproximateArrivalTimestamp"]) for r in json_records]
    assert total == 6


def test_missing_stream_is_a_cbor_error(endpoint, stream_name):
    status, headers, answer = cbor_call(endpoint, "DescribeStream", {"StreamName": stream_name})

    assert status == 400
    assert headers["x-amzn-errortype"].split(":")[0] == "ResourceNotFoundException"
    assert headers["x-amzn-requestid"]
    assert answer == {"__type": "ResourceNotFoundException",
                      "message": not_found_message(stream_name)}


def test_validation_errors_are_cbor_too(endpoint, stream_name):
    status, headers, answer = cbor_call(endpoint, "PutRecord", {"StreamName": stream_name,
                                                                "Data": b"x"})

    assert status == 400
    assert answer["__type"] == headers["x-amzn-errortype"] == "ValidationException"
    assert "partitionKey" in answer["message"]


@pytest.mark.parametrize("body", [
    pytest.param(b"\xbf\x6aStreamName", id="truncated"),
    pytest.param(b'{"StreamName": "s"}', id="json-as-cbor"),
    pytest.param(java_cbor({"StreamName": "s", "PartitionKey": "k", "Data": "AAE="}),
                 id="text-for-blob"),
])
def test_undecodable_cbor_is_a_serialization_error(endpoint, body):
    status, headers, answer = raw_call(endpoint, "PutRecord", body, content_type=CBOR_1_1)

    assert status == 400
    assert headers["content-type"] == CBOR_1_1
    assert decode(answer)["__type"] == headers["x-amzn-errortype"] == "SerializationException"


def test_subscribe_to_shard_over_cbor_streams_cbor_events(endpoint, kinesis, cbor_stream):
    """The KCL subscribes with CBOR: the event-stream payloads come back in CBOR too, with byte
    strings and tag-1 millisecond timestamps, each message saying so in :content-type."""
    name = cbor_stream(1)
    consumer = harness.register_active_consumer(kinesis, name, "kcl")
    cbor_ok(endpoint, "PutRecord", {"StreamName": name, "PartitionKey": "k",
                                    "Data": b"\x00\xffkcl"})
    body = java_cbor({"ConsumerARN": consumer, "ShardId": shard_id(0),
                      "StartingPosition": {"Type": "TRIM_HORIZON"}})
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers={
        "X-Amz-Target": "Kinesis_20131202.SubscribeToShard", "Content-Type": CBOR_1_1})
    SigV4Auth(Credentials("test", "test"), "kinesis", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(endpoint + "/", data=body, method="POST",
                                      headers=dict(request.headers.items()))
    messages = []
    with urllib.request.urlopen(prepared, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/vnd.amazon.eventstream"
        buffer = EventStreamBuffer()
        while len(messages) < 2:
            chunk = response.read1(65536)
            assert chunk, "the stream ended early"
            buffer.add_data(chunk)
            messages.extend(buffer)
    initial, first = messages[0], messages[1]
    assert initial.headers[":event-type"] == "initial-response"
    assert initial.headers[":content-type"] == CBOR_1_1
    assert decode(initial.payload) == {}
    assert first.headers[":event-type"] == "SubscribeToShardEvent"
    assert first.headers[":content-type"] == CBOR_1_1
    event = decode(first.payload)
    record = event["Records"][0]
    assert record["Data"] == b"\x00\xffkcl"
    assert_recent_millis(record["ApproximateArrivalTimestamp"])
    assert event["ContinuationSequenceNumber"] == record["SequenceNumber"]
