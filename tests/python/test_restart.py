"""Stopping and starting the server on the same data directory: streams, tags, retention and
records all come back as they were, and state transitions in flight are completed, not lost."""

import pytest

from harness import (
    MAX_HASH_KEY,
    aws_error,
    create_active_stream,
    kinesis_client,
    read_stream,
    shard_id,
    wait_for_status,
    wait_until_gone,
)

pytestmark = pytest.mark.restart


def without_metadata(response: dict) -> dict:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


def snapshot(kinesis, names):
    """Everything a client can see of these streams."""
    state = {}
    for name in names:
        state[name] = {
            "description": without_metadata(kinesis.describe_stream(StreamName=name)),
            "summary": without_metadata(kinesis.describe_stream_summary(StreamName=name)),
            "tags": kinesis.list_tags_for_stream(StreamName=name)["Tags"],
            "records": read_stream(kinesis, name),
        }
    return state


def test_graceful_restart_keeps_streams_tags_retention_and_records(spate_factory):
    server = spate_factory()
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, "orders", 3, Tags={"team": "data"})
    kinesis.add_tags_to_stream(StreamName="orders", Tags={"env": "test"})
    kinesis.increase_stream_retention_period(StreamName="orders", RetentionPeriodHours=72)
    wait_for_status(kinesis, "orders")
    create_active_stream(kinesis, "clicks", None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    create_active_stream(kinesis, "dropped", 1)
    kinesis.delete_stream(StreamName="dropped")
    wait_until_gone(kinesis, "dropped")
    kinesis.put_records(StreamName="orders", Records=[
        {"Data": bytes([i]) * (i + 1), "PartitionKey": f"pk-{i}"} for i in range(60)])
    kinesis.put_record(StreamName="clicks", Data=b"\x00click\xff", PartitionKey="c")
    before = snapshot(kinesis, ["orders", "clicks"])

    assert server.stop() == 0, "SIGTERM is a clean shutdown"
    server.start()
    kinesis = kinesis_client(server.endpoint)

    assert kinesis.list_streams()["StreamNames"] == ["clicks", "orders"]
    assert snapshot(kinesis, ["orders", "clicks"]) == before
    assert before["orders"]["description"]["StreamDescription"]["RetentionPeriodHours"] == 72
    with aws_error("ResourceNotFoundException"):
        kinesis.describe_stream_summary(StreamName="dropped")


def test_new_records_after_restart_follow_the_old_ones(spate_factory):
    server = spate_factory()
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, "s", 2)
    old = [kinesis.put_record(StreamName="s", Data=b"old", PartitionKey="k",
                              ExplicitHashKey=str(MAX_HASH_KEY)) for _ in range(5)]

    server.restart()
    kinesis = kinesis_client(server.endpoint)
    new = kinesis.put_record(StreamName="s", Data=b"new", PartitionKey="k",
                             ExplicitHashKey=str(MAX_HASH_KEY))

    assert new["ShardId"] == shard_id(1)
    assert int(new["SequenceNumber"]) > max(int(r["SequenceNumber"]) for r in old)
    records = read_stream(kinesis, "s")[shard_id(1)]
    assert [r["Data"] for r in records] == [b"old"] * 5 + [b"new"]


def test_shard_iterator_issued_before_a_restart_still_works(spate_factory):
    # Iterators are valid for 5 minutes from issue; a consumer holding one across a server
    # restart must not be told that it is invalid.
    server = spate_factory()
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, "s", 1)
    kinesis.put_record(StreamName="s", Data=b"before", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=shard_id(0),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    server.restart()
    kinesis = kinesis_client(server.endpoint)

    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [
        b"before"]


def test_stream_being_created_when_killed_becomes_active(spate_factory, tmp_path):
    slow = {"SPATE_STREAM_CREATE_DELAY_MS": "1000"}
    server = spate_factory(env=slow)
    kinesis = kinesis_client(server.endpoint)
    kinesis.create_stream(StreamName="half-made", ShardCount=2)
    assert kinesis.describe_stream_summary(StreamName="half-made")[
        "StreamDescriptionSummary"]["StreamStatus"] == "CREATING"

    server.kill()
    server.start()
    kinesis = kinesis_client(server.endpoint)

    summary = wait_for_status(kinesis, "half-made", "ACTIVE", interval=0.05)
    assert summary["OpenShardCount"] == 2
    kinesis.put_record(StreamName="half-made", Data=b"x", PartitionKey="k")


def test_stream_being_deleted_when_killed_stays_deleted(spate_factory):
    slow = {"SPATE_STREAM_DELETE_DELAY_MS": "1000"}
    server = spate_factory(env=slow)
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, "doomed", 1)
    kinesis.delete_stream(StreamName="doomed")

    server.kill()
    server.start()
    kinesis = kinesis_client(server.endpoint)

    wait_until_gone(kinesis, "doomed", interval=0.05)
    assert kinesis.list_streams()["StreamNames"] == []
    create_active_stream(kinesis, "doomed", 1)  # the name is free again
