"""The `aws` command line (awscli v1, as pinned) against Spate with --endpoint-url, as a user
following the README would drive it. One process per call, so the scenarios are few and long.
"""

import base64
import json

import pytest

from harness import (
    MAX_HASH_KEY,
    hash_key_of,
    run_aws,
    shard_holding,
    shard_id,
    stream_arn,
    wait_for_status,
    wait_until_gone,
)

pytestmark = pytest.mark.cli


def test_cli_stream_lifecycle_and_records(endpoint, kinesis, stream_name):
    created, _ = run_aws(endpoint, "create-stream", "--stream-name", stream_name,
                         "--shard-count", "4")
    wait_for_status(kinesis, stream_name)  # the CLI's waiter polls every 10 s

    summary, _ = run_aws(endpoint, "describe-stream-summary", "--stream-name", stream_name)
    put, _ = run_aws(endpoint, "put-record", "--stream-name", stream_name,
                     "--partition-key", "user-1", "--data", "hello from the cli")
    batch, _ = run_aws(endpoint, "put-records", "--stream-name", stream_name, "--records",
                       json.dumps([{"Data": "first", "PartitionKey": "user-1"},
                                   {"Data": "second", "PartitionKey": "user-1"},
                                   {"Data": "last", "PartitionKey": "p",
                                    "ExplicitHashKey": str(MAX_HASH_KEY)}]))
    shards, _ = run_aws(endpoint, "list-shards", "--stream-name", stream_name)
    iterator, _ = run_aws(endpoint, "get-shard-iterator", "--stream-name", stream_name,
                          "--shard-id", put["ShardId"], "--shard-iterator-type", "TRIM_HORIZON")
    records, _ = run_aws(endpoint, "get-records", "--shard-iterator", iterator["ShardIterator"])
    listed, _ = run_aws(endpoint, "list-streams")

    assert created is None, "CreateStream has no output"
    description = summary["StreamDescriptionSummary"]
    assert description["StreamName"] == stream_name
    assert description["StreamARN"] == stream_arn(stream_name)
    assert description["StreamStatus"] == "ACTIVE"
    assert description["OpenShardCount"] == 4
    assert "StreamId" not in description
    assert [s["ShardId"] for s in shards["Shards"]] == [shard_id(i) for i in range(4)]
    assert put["ShardId"] == shard_holding(shards["Shards"], hash_key_of("user-1"))
    assert batch.get("FailedRecordCount", 0) == 0
    assert [r["ShardId"] for r in batch["Records"]] == [put["ShardId"], put["ShardId"], shard_id(3)]
    # awscli v1 sends --data and the JSON "Data" text as raw bytes; output Data is base64.
    sent = [(b"hello from the cli", put)] + list(zip([b"first", b"second", b"last"],
                                                     batch["Records"]))
    on_shard = [(data, result) for data, result in sent if result["ShardId"] == put["ShardId"]]
    assert [base64.b64decode(r["Data"]) for r in records["Records"]] == [
        data for data, _ in on_shard]
    assert [r["SequenceNumber"] for r in records["Records"]] == [
        result["SequenceNumber"] for _, result in on_shard]
    assert records["MillisBehindLatest"] == 0
    assert records["NextShardIterator"]
    assert stream_name in listed["StreamNames"]

    run_aws(endpoint, "delete-stream", "--stream-name", stream_name)
    wait_until_gone(kinesis, stream_name)


def test_cli_tags_and_retention(endpoint, kinesis, new_stream):
    name = new_stream(shard_count=1)

    run_aws(endpoint, "add-tags-to-stream", "--stream-name", name, "--tags", "env=test,team=data")
    tags, _ = run_aws(endpoint, "list-tags-for-stream", "--stream-name", name)
    run_aws(endpoint, "increase-stream-retention-period", "--stream-name", name,
            "--retention-period-hours", "72")
    wait_for_status(kinesis, name)
    described, _ = run_aws(endpoint, "describe-stream", "--stream-name", name)

    assert sorted((t["Key"], t["Value"]) for t in tags["Tags"]) == [("env", "test"),
                                                                   ("team", "data")]
    assert tags["HasMoreTags"] is False
    assert described["StreamDescription"]["RetentionPeriodHours"] == 72


def test_cli_reports_service_errors(endpoint, stream_name):
    _, missing = run_aws(endpoint, "describe-stream-summary", "--stream-name", stream_name,
                         check=False)
    _, bad_iterator = run_aws(endpoint, "get-records", "--shard-iterator", "garbage",
                              check=False)

    assert missing.returncode != 0, missing.stderr  # awscli v1 exits 255 on any error
    assert "(ResourceNotFoundException)" in missing.stderr
    assert f"Stream {stream_name} under account 000000000000 not found." in missing.stderr
    assert bad_iterator.returncode != 0, bad_iterator.stderr
    assert "(InvalidArgumentException)" in bad_iterator.stderr
