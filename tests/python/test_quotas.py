"""Throughput quotas through boto3, on a server with quotas on (the default; the shared test
server runs with SPATE_QUOTAS=off): per-record failures in PutRecords, throttled PutRecord and
GetRecords, control-plane LimitExceededException."""

from __future__ import annotations

import concurrent.futures

import pytest
from botocore.exceptions import ClientError

import harness


@pytest.fixture
def throttled_kinesis(spate_factory):
    server = spate_factory(env={"SPATE_QUOTAS": "on"})
    return harness.kinesis_client(server.endpoint, max_pool_connections=20)


def test_put_records_beyond_a_shards_write_quota_fail_per_record(throttled_kinesis, stream_name):
    kinesis = throttled_kinesis
    harness.create_active_stream(kinesis, stream_name, 1)
    records = [{"PartitionKey": f"k{i}", "Data": b"x"} for i in range(500)]
    # 1,000 records a second per shard: 2,000 sent at once cannot all pass.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda _: kinesis.put_records(StreamName=stream_name, Records=records), range(4)))
    failed = sum(r["FailedRecordCount"] for r in results)
    assert 0 < failed < 2000
    entries = [entry for r in results for entry in r["Records"]]
    assert len(entries) == 2000
    errors = [e for e in entries if "ErrorCode" in e]
    assert len(errors) == failed
    assert all(e["ErrorCode"] == "ProvisionedThroughputExceededException" for e in errors)
    assert all("SequenceNumber" not in e and "ShardId" not in e for e in errors)
    assert errors[0]["ErrorMessage"] == (
        f"Rate exceeded for shard {harness.shard_id(0)} in stream {stream_name} "
        f"under account 000000000000.")
    stored = harness.read_shard(kinesis, stream_name, harness.shard_id(0))
    assert len(stored) == 2000 - failed, "failed entries are not stored"


def test_write_bytes_are_limited_per_shard(throttled_kinesis, stream_name):
    kinesis = throttled_kinesis
    harness.create_active_stream(kinesis, stream_name, 1)
    # 1 MiB a second per shard: of two 700 KB records in one call, the second is refused.
    big = [{"PartitionKey": "k", "Data": b"x" * 700_000} for _ in range(2)]
    result = kinesis.put_records(StreamName=stream_name, Records=big)
    assert result["FailedRecordCount"] == 1
    assert "SequenceNumber" in result["Records"][0]
    assert result["Records"][1]["ErrorCode"] == "ProvisionedThroughputExceededException"


def test_get_records_beyond_five_calls_a_second_is_throttled(spate_factory, stream_name):
    server = spate_factory(env={"SPATE_QUOTAS": "on"})
    kinesis = harness.kinesis_client(server.endpoint, max_pool_connections=20)
    harness.create_active_stream(kinesis, stream_name, 1)
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=harness.shard_id(0),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def call(_):
        try:
            kinesis.get_records(ShardIterator=iterator)
            return "ok"
        except ClientError as err:
            return err.response["Error"]["Code"]

    # Twenty calls at once: five a second per shard pass (plus what refills meanwhile).
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(call, range(20)))
    assert codes.count("ok") >= 5
    assert codes.count("ProvisionedThroughputExceededException") >= 5, codes
    assert set(codes) <= {"ok", "ProvisionedThroughputExceededException"}


def test_control_plane_rates_answer_limit_exceeded(throttled_kinesis):
    def call(_):
        try:
            throttled_kinesis.describe_limits()
            return "ok"
        except ClientError as err:
            return err.response["Error"]["Code"]

    # DescribeLimits: one call a second per account.
    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(call, range(6)))
    assert "ok" in codes
    assert codes.count("LimitExceededException") >= 3, codes
