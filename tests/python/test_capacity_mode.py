"""Capacity modes through boto3: UpdateStreamMode, and an on-demand stream that really scales
itself when a skewed load makes one shard hot."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

import harness


def open_shards(kinesis, stream: str) -> list[dict]:
    return kinesis.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]


def test_update_stream_mode_round_trip(kinesis, new_stream):
    stream = new_stream(2)
    arn = harness.stream_arn(stream)
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    summary = harness.wait_for_status(kinesis, stream)
    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 2
    listed = kinesis.list_streams()["StreamSummaries"]
    assert {"StreamMode": "ON_DEMAND"} == next(
        s["StreamModeDetails"] for s in listed if s["StreamName"] == stream)
    with pytest.raises(ClientError) as raised:
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert raised.value.response["Error"]["Code"] == "InvalidArgumentException"
    kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "PROVISIONED"})
    assert harness.wait_for_status(kinesis, stream)["StreamModeDetails"] == {
        "StreamMode": "PROVISIONED"}
    with pytest.raises(ClientError) as raised:  # twice a day at most
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"


def test_on_demand_stream_splits_a_hot_shard_under_skewed_load(spate_factory, stream_name):
    server = spate_factory(env={
        "SPATE_QUOTAS": "on",
        "SPATE_ON_DEMAND_SCALE_UP_AFTER_SECS": "1",
        "SPATE_MAINTENANCE_INTERVAL_MS": "1000",
    })
    kinesis = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(kinesis, stream_name, None,
                                 StreamModeDetails={"StreamMode": "ON_DEMAND"})
    initial = open_shards(kinesis, stream_name)
    assert len(initial) == 4
    hot = initial[0]
    start = int(hot["HashKeyRange"]["StartingHashKey"])
    end = int(hot["HashKeyRange"]["EndingHashKey"])
    # Skewed: every record lands in the first shard's range, on many keys; four writers send
    # about a megabyte per call, well over the shard's 1 MiB/s even on a slow machine.
    step = (end - start) // 10_000
    stop = threading.Event()

    def write(writer: int) -> None:
        client = harness.kinesis_client(server.endpoint)
        counter = writer
        while not stop.is_set():
            records = []
            for _ in range(500):
                counter += 4
                key = start + (counter % 10_000) * step
                records.append({"PartitionKey": "p", "ExplicitHashKey": str(key),
                                "Data": b"x" * 2000})
            client.put_records(StreamName=stream_name, Records=records)

    writers = [threading.Thread(target=write, args=(i,), daemon=True) for i in range(4)]
    for thread in writers:
        thread.start()
    deadline = time.monotonic() + 30
    shards = initial
    try:
        while time.monotonic() < deadline and len(shards) <= 4:
            time.sleep(0.2)
            shards = open_shards(kinesis, stream_name)
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
    assert len(shards) > 4, "the hot shard was never split"
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == len(shards)
    children = [s for s in shards if s.get("ParentShardId") == hot["ShardId"]]
    assert len(children) == 2, shards
    assert {int(c["HashKeyRange"]["StartingHashKey"]) for c in children} >= {start}
    # The parent is closed and reading it to its end hands over to the children.
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=hot["ShardId"],
                                          ShardIteratorType="LATEST")["ShardIterator"]
    response = kinesis.get_records(ShardIterator=iterator)
    assert response.get("NextShardIterator") is None
    assert {c["ShardId"] for c in response["ChildShards"]} == {c["ShardId"] for c in children}
