"""Features that meet: enhanced fan-out on an encrypted stream and across a split, and resource
policies on consumers."""

from __future__ import annotations

import json

import harness
from harness import aws_error, register_active_consumer, shard_id

HALF = 2**127


def test_subscribers_of_an_encrypted_stream_get_plaintext(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS",
                                    KeyId="alias/aws/kinesis")
    harness.wait_for_status(kinesis, name)
    consumer = register_active_consumer(kinesis, name, "plain")
    kinesis.put_record(StreamName=name, PartitionKey="secret-key", Data=b"secret-data")
    stream = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard_id(0),
                                        StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
    records = []
    for event in stream:
        records.extend(event["SubscribeToShardEvent"]["Records"])
        if records:
            break
    stream.close()
    assert records[0]["Data"] == b"secret-data"
    assert records[0]["PartitionKey"] == "secret-key"
    assert records[0]["EncryptionType"] == "KMS"


def test_a_subscription_ends_with_the_children_when_its_shard_is_split(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "lineage")
    kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"before")
    stream = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard_id(0),
                                        StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
    events = []
    for event in stream:
        events.append(event["SubscribeToShardEvent"])
        if len(events) == 1:
            kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0),
                                NewStartingHashKey=str(HALF))
        if events[-1].get("ChildShards"):
            break
    stream.close()
    assert [r["Data"] for e in events for r in e["Records"]] == [b"before"]
    last = events[-1]
    assert "ContinuationSequenceNumber" not in last or last["ContinuationSequenceNumber"] is None
    assert [c["ShardId"] for c in last["ChildShards"]] == [shard_id(1), shard_id(2)]
    assert all(c["ParentShards"] == [shard_id(0)] for c in last["ChildShards"])


def test_resource_policies_on_consumers(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "governed")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
        "Action": "kinesis:SubscribeToShard", "Resource": consumer}]})
    assert kinesis.get_resource_policy(ResourceARN=consumer)["Policy"] == "{}"
    kinesis.put_resource_policy(ResourceARN=consumer, Policy=policy)
    assert kinesis.get_resource_policy(ResourceARN=consumer)["Policy"] == policy
    stream_arn = harness.stream_arn(name)
    assert kinesis.get_resource_policy(ResourceARN=stream_arn)["Policy"] == "{}"
    kinesis.delete_resource_policy(ResourceARN=consumer)
    assert kinesis.get_resource_policy(ResourceARN=consumer)["Policy"] == "{}"
    with aws_error("ResourceNotFoundException"):
        kinesis.delete_resource_policy(ResourceARN=consumer)
