"""Throughput quotas through boto3, on a server with quotas on (the default; the shared test
server runs with SPATE_QUOTAS=off): per-record failures in PutRecords, throttled PutRecord and
GetRecords, control-plane LimitExceededException."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import harness


@pytest.fixture
def throttled_kinesis(spate_factory):
    server = spate_factory(env={"SPATE_QUOTAS": "on"})
    return harness.kinesis_client(server.endpoint)


def test_put_records_beyond_a_shards_write_quota_fail_per_record(throttled_kinesis, stream_name):
    kinesis = throttled_kinesis
    harness.create_active_stream(kinesis, stream_name, 1)
    records = [{"PartitionKey": f"k{i}", "Data": b"x"} for i in range(500)]
    results = [kinesis.put_records(StreamName=stream_name, Records=records) for _ in range(3)]
    failed = sum(r["FailedRecordCount"] for r in results)
    # 1,000 records a second per shard: 1,500 sent well within a second cannot all pass.
    assert 200 <= failed < 1500
    entries = [entry for r in results for entry in r["Records"]]
    assert len(entries) == 1500
    errors = [e for e in entries if "ErrorCode" in e]
    assert len(errors) == failed
    assert all(e["ErrorCode"] == "ProvisionedThroughputExceededException" for e in errors)
    assert all("SequenceNumber" not in e and "ShardId" not in e for e in errors)
    assert errors[0]["ErrorMessage"] == (
        f"Rate exceeded for shard {harness.shard_id(0)} in stream {stream_name} "
        f"under account 000000000000.")
    stored = harness.read_shard(kinesis, stream_name, harness.shard_id(0))
    assert len(stored) == 1500 - failed, "failed entries are not stored"


def test_write_bytes_are_limited_per_shard(throttled_kinesis, stream_name):
    kinesis = throttled_kinesis
    harness.create_active_stream(kinesis, stream_name, 1)
    # 1 MiB a second per shard: of two 700 KB records in one call, the second is refused.
    big = [{"PartitionKey": "k", "Data": b"x" * 700_000} for _ in range(2)]
    result = kinesis.put_records(StreamName=stream_name, Records=big)
    assert result["FailedRecordCount"] == 1
    assert "SequenceNumber" in result["Records"][0]
    assert result["Records"][1]["ErrorCode"] == "ProvisionedThroughputExceededException"


def test_get_records_beyond_five_calls_a_second_is_throttled(throttled_kinesis, stream_name):
    kinesis = throttled_kinesis
    harness.create_active_stream(kinesis, stream_name, 1)
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=harness.shard_id(0),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    codes = []
    for _ in range(12):
        try:
            kinesis.get_records(ShardIterator=iterator)
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    assert codes[:5] == ["ok"] * 5
    assert "ProvisionedThroughputExceededException" in codes[5:]


def test_control_plane_rates_answer_limit_exceeded(throttled_kinesis):
    codes = []
    for _ in range(4):  # DescribeLimits: one call a second
        try:
            throttled_kinesis.describe_limits()
            codes.append("ok")
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    assert codes[0] == "ok"
    assert "LimitExceededException" in codes[1:]
