"""Resharding through boto3 and the aws CLI: SplitShard, MergeShards, UpdateShardCount, the
lineage ListShards and GetRecords report, and the errors AWS gives."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import harness

HALF = 2**127


def split(kinesis, stream: str, shard: str, key: int) -> None:
    kinesis.split_shard(StreamName=stream, ShardToSplit=shard, NewStartingHashKey=str(key))


def read_closed_shard(kinesis, stream: str, shard: str) -> tuple[list[dict], dict]:
    """Every record of a closed shard; returns them and the last GetRecords response, which
    must carry ChildShards and no NextShardIterator."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records: list[dict] = []
    for _ in range(1000):
        response = kinesis.get_records(ShardIterator=iterator)
        records.extend(response["Records"])
        if response.get("NextShardIterator") is None:
            return records, response
        iterator = response["NextShardIterator"]
    raise AssertionError(f"closed shard {shard} never ended")


def test_split_shard_lineage_and_routing(kinesis, new_stream):
    stream = new_stream(1)
    before = [kinesis.put_record(StreamName=stream, PartitionKey=f"k{i}", Data=b"before")
              for i in range(5)]
    split(kinesis, stream, harness.shard_id(0), HALF)
    assert kinesis.describe_stream_summary(StreamName=stream)[
        "StreamDescriptionSummary"]["StreamStatus"] == "UPDATING"
    harness.wait_for_status(kinesis, stream)

    shards = harness.all_shards(kinesis, stream)
    assert [s["ShardId"] for s in shards] == [harness.shard_id(i) for i in range(3)]
    parent, low, high = shards
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert low["ParentShardId"] == high["ParentShardId"] == parent["ShardId"]
    assert "AdjacentParentShardId" not in low
    assert (int(low["HashKeyRange"]["StartingHashKey"]), int(low["HashKeyRange"]["EndingHashKey"])) \
        == (0, HALF - 1)
    assert (int(high["HashKeyRange"]["StartingHashKey"]), int(high["HashKeyRange"]["EndingHashKey"])) \
        == (HALF, 2**128 - 1)
    assert int(low["SequenceNumberRange"]["StartingSequenceNumber"]) > \
        int(parent["SequenceNumberRange"]["StartingSequenceNumber"])

    after = {}
    for key in ("a", "b", "c", "d", "e", "f"):
        result = kinesis.put_record(StreamName=stream, PartitionKey=key, Data=b"after")
        assert result["ShardId"] == harness.shard_holding(shards[1:], harness.hash_key_of(key))
        after[key] = result

    records, last = read_closed_shard(kinesis, stream, parent["ShardId"])
    assert [r["SequenceNumber"] for r in records] == [b["SequenceNumber"] for b in before]
    assert "NextShardIterator" not in last or last["NextShardIterator"] is None
    assert last["MillisBehindLatest"] == 0
    children = last["ChildShards"]
    assert [c["ShardId"] for c in children] == [low["ShardId"], high["ShardId"]]
    assert all(c["ParentShards"] == [parent["ShardId"]] for c in children)
    assert children[0]["HashKeyRange"] == low["HashKeyRange"]
    ending = int(parent["SequenceNumberRange"]["EndingSequenceNumber"])
    assert ending >= int(records[-1]["SequenceNumber"])

    latest = kinesis.list_shards(StreamName=stream, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [s["ShardId"] for s in latest] == [low["ShardId"], high["ShardId"]]
    horizon = kinesis.list_shards(StreamName=stream,
                                  ShardFilter={"Type": "AT_TRIM_HORIZON"})["Shards"]
    assert [s["ShardId"] for s in horizon] == [parent["ShardId"]]
    assert kinesis.describe_stream_summary(StreamName=stream)[
        "StreamDescriptionSummary"]["OpenShardCount"] == 2


def test_merge_shards_lineage(kinesis, new_stream):
    stream = new_stream(3)
    kinesis.merge_shards(StreamName=stream, ShardToMerge=harness.shard_id(1),
                         AdjacentShardToMerge=harness.shard_id(2))
    harness.wait_for_status(kinesis, stream)
    shards = harness.all_shards(kinesis, stream)
    child = shards[-1]
    assert child["ShardId"] == harness.shard_id(3)
    assert child["ParentShardId"] == harness.shard_id(1)
    assert child["AdjacentParentShardId"] == harness.shard_id(2)
    assert child["HashKeyRange"]["StartingHashKey"] == shards[1]["HashKeyRange"]["StartingHashKey"]
    assert int(child["HashKeyRange"]["EndingHashKey"]) == 2**128 - 1
    _, last = read_closed_shard(kinesis, stream, harness.shard_id(2))
    assert last["ChildShards"] == [{
        "ShardId": child["ShardId"],
        "ParentShards": [harness.shard_id(1), harness.shard_id(2)],
        "HashKeyRange": child["HashKeyRange"],
    }]


@pytest.mark.parametrize("args, code", [
    ({"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000002"},
     "InvalidArgumentException"),
    ({"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000000"},
     "InvalidArgumentException"),
    ({"ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000099"},
     "ResourceNotFoundException"),
])
def test_merge_shards_refusals(kinesis, new_stream, args, code):
    stream = new_stream(3)
    with pytest.raises(ClientError) as raised:
        kinesis.merge_shards(StreamName=stream, **args)
    assert raised.value.response["Error"]["Code"] == code


def test_split_shard_refusals(kinesis, new_stream):
    stream = new_stream(1)
    for key in (0, 1, 2**128 - 1):
        with pytest.raises(ClientError) as raised:
            split(kinesis, stream, harness.shard_id(0), key)
        assert raised.value.response["Error"]["Code"] == "InvalidArgumentException"
    with pytest.raises(ClientError) as raised:
        split(kinesis, stream, harness.shard_id(5), HALF)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"

    split(kinesis, stream, harness.shard_id(0), HALF)
    with pytest.raises(ClientError) as raised:  # a second reshard while UPDATING
        split(kinesis, stream, harness.shard_id(1), HALF // 2)
    assert raised.value.response["Error"]["Code"] == "ResourceInUseException"
    harness.wait_for_status(kinesis, stream)
    with pytest.raises(ClientError) as raised:  # the parent is closed
        split(kinesis, stream, harness.shard_id(0), HALF // 2)
    assert raised.value.response["Error"]["Code"] == "ResourceInUseException"
    assert "already been merged or split" in raised.value.response["Error"]["Message"]


def test_resharding_an_on_demand_stream_is_a_validation_error(kinesis, new_stream):
    stream = new_stream(None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    with pytest.raises(ClientError) as raised:
        split(kinesis, stream, harness.shard_id(0), HALF)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as raised:
        kinesis.update_shard_count(StreamName=stream, TargetShardCount=5,
                                   ScalingType="UNIFORM_SCALING")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_update_shard_count_scales_uniformly(kinesis, new_stream):
    stream = new_stream(4)
    data = {f"key-{i}": f"value-{i}".encode() for i in range(40)}
    for key, value in data.items():
        kinesis.put_record(StreamName=stream, PartitionKey=key, Data=value)
    result = kinesis.update_shard_count(StreamName=stream, TargetShardCount=6,
                                        ScalingType="UNIFORM_SCALING")
    assert (result["CurrentShardCount"], result["TargetShardCount"]) == (4, 6)
    assert result["StreamName"] == stream
    assert result["StreamARN"] == harness.stream_arn(stream)
    harness.wait_for_status(kinesis, stream)
    shards = harness.all_shards(kinesis, stream)
    open_shards = [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    ranges = sorted((int(s["HashKeyRange"]["StartingHashKey"]),
                     int(s["HashKeyRange"]["EndingHashKey"])) for s in open_shards)
    assert ranges == harness.expected_hash_ranges(6)
    by_id = {s["ShardId"]: s for s in shards}
    for shard in shards:
        for link in ("ParentShardId", "AdjacentParentShardId"):
            if link in shard:
                assert "EndingSequenceNumber" in by_id[shard[link]]["SequenceNumberRange"]
    # Every record written before scaling is still readable from the closed originals.
    seen = {}
    for shard_id in (harness.shard_id(i) for i in range(4)):
        records, _ = read_closed_shard(kinesis, stream, shard_id)
        seen.update({r["PartitionKey"]: r["Data"] for r in records})
    assert seen == data


@pytest.mark.parametrize("target", [9, 1])
def test_update_shard_count_limits(kinesis, new_stream, target):
    stream = new_stream(4)
    with pytest.raises(ClientError) as raised:
        kinesis.update_shard_count(StreamName=stream, TargetShardCount=target,
                                   ScalingType="UNIFORM_SCALING")
    assert raised.value.response["Error"]["Code"] == "LimitExceededException"


def test_cli_split_and_merge(endpoint, kinesis, new_stream):
    stream = new_stream(1)
    harness.run_aws(endpoint, "split-shard", "--stream-name", stream,
                    "--shard-to-split", harness.shard_id(0), "--new-starting-hash-key", str(HALF))
    harness.wait_for_status(kinesis, stream)
    harness.run_aws(endpoint, "merge-shards", "--stream-name", stream,
                    "--shard-to-merge", harness.shard_id(1),
                    "--adjacent-shard-to-merge", harness.shard_id(2))
    harness.wait_for_status(kinesis, stream)
    listed, _ = harness.run_aws(endpoint, "list-shards", "--stream-name", stream,
                                "--shard-filter", "Type=AT_LATEST")
    assert [s["ShardId"] for s in listed["Shards"]] == [harness.shard_id(3)]
    assert listed["Shards"][0]["HashKeyRange"] == {"StartingHashKey": "0",
                                                   "EndingHashKey": str(2**128 - 1)}
