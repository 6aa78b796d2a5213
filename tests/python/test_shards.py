"""ListShards: paging with MaxResults and NextToken, ExclusiveStartShardId, ShardFilter."""

import math
import time
from datetime import datetime, timedelta, timezone

import pytest

from harness import aws_error, expected_hash_ranges, shard_id, stream_arn


def ids(shards):
    return [shard["ShardId"] for shard in shards]


def test_list_shards_returns_every_shard(kinesis, new_stream):
    name = new_stream(shard_count=4)

    response = kinesis.list_shards(StreamName=name)

    assert ids(response["Shards"]) == [shard_id(i) for i in range(4)]
    assert "NextToken" not in response
    ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
              for s in response["Shards"]]
    assert ranges == expected_hash_ranges(4)
    described = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]
    assert response["Shards"] == described, "ListShards and DescribeStream agree"


def test_list_shards_pages_with_next_token(kinesis, new_stream):
    name = new_stream(shard_count=5)

    first = kinesis.list_shards(StreamName=name, MaxResults=2)
    second = kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
    third = kinesis.list_shards(NextToken=second["NextToken"], MaxResults=2)

    assert ids(first["Shards"]) == [shard_id(0), shard_id(1)]
    assert ids(second["Shards"]) == [shard_id(2), shard_id(3)]
    assert ids(third["Shards"]) == [shard_id(4)]
    assert "NextToken" not in third


def test_list_shards_next_token_without_max_results_returns_the_rest(kinesis, new_stream):
    name = new_stream(shard_count=3)

    first = kinesis.list_shards(StreamName=name, MaxResults=1)
    rest = kinesis.list_shards(NextToken=first["NextToken"])

    assert ids(first["Shards"]) == [shard_id(0)]
    assert ids(rest["Shards"]) == [shard_id(1), shard_id(2)]
    assert "NextToken" not in rest


def test_list_shards_next_token_with_stream_name_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=3)
    token = kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]

    with aws_error("InvalidArgumentException"):
        kinesis.list_shards(StreamName=name, NextToken=token)


def test_list_shards_paginator_with_stream_name_meets_the_next_token_rule(kinesis, new_stream):
    # botocore's ListShards paginator repeats StreamName beside NextToken, which AWS refuses
    # (boto/botocore#2009); a faithful server refuses it too, on the second page.
    name = new_stream(shard_count=2)
    pages = kinesis.get_paginator("list_shards").paginate(
        StreamName=name, PaginationConfig={"PageSize": 1})

    with aws_error("InvalidArgumentException"):
        list(pages)


def test_list_shards_exclusive_start_shard_id(kinesis, new_stream):
    name = new_stream(shard_count=4)

    after_first = kinesis.list_shards(StreamName=name, ExclusiveStartShardId=shard_id(1))
    after_last = kinesis.list_shards(StreamName=name, ExclusiveStartShardId=shard_id(3))
    limited = kinesis.list_shards(StreamName=name, ExclusiveStartShardId=shard_id(0), MaxResults=2)

    assert ids(after_first["Shards"]) == [shard_id(2), shard_id(3)]
    assert ids(after_last["Shards"]) == []
    assert ids(limited["Shards"]) == [shard_id(1), shard_id(2)]
    assert "NextToken" in limited


@pytest.mark.parametrize("shard_filter", [
    {"Type": "AT_TRIM_HORIZON"},
    {"Type": "FROM_TRIM_HORIZON"},
    {"Type": "AT_LATEST"},
    {"Type": "AT_TIMESTAMP"},
    {"Type": "FROM_TIMESTAMP"},
])
def test_shard_filters_keep_every_open_shard(kinesis, new_stream, shard_filter):
    name = new_stream(shard_count=3)
    if shard_filter["Type"].endswith("_TIMESTAMP"):
        # A moment when every shard was open. botocore sends whole seconds, so take the first
        # whole second after the stream was created and wait (at most a second) until it passed.
        created = kinesis.describe_stream_summary(StreamName=name)[
            "StreamDescriptionSummary"]["StreamCreationTimestamp"].timestamp()
        moment = math.floor(created) + 1
        while time.time() < moment + 0.05:
            time.sleep(0.01)
        shard_filter = {**shard_filter, "Timestamp": datetime.fromtimestamp(moment, timezone.utc)}

    response = kinesis.list_shards(StreamName=name, ShardFilter=shard_filter)

    assert ids(response["Shards"]) == [shard_id(i) for i in range(3)]


def test_shard_filter_after_shard_id(kinesis, new_stream):
    name = new_stream(shard_count=4)

    response = kinesis.list_shards(
        StreamName=name, ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(1)})

    assert ids(response["Shards"]) == [shard_id(2), shard_id(3)]


def test_list_shards_by_stream_arn(kinesis, new_stream):
    name = new_stream(shard_count=2)

    response = kinesis.list_shards(StreamARN=stream_arn(name))

    assert ids(response["Shards"]) == [shard_id(0), shard_id(1)]


def test_list_shards_by_stream_creation_timestamp(kinesis, new_stream):
    # StreamCreationTimestamp tells apart streams that had the same name; the right one lists.
    name = new_stream(shard_count=2)
    created = kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["StreamCreationTimestamp"]

    response = kinesis.list_shards(StreamName=name, StreamCreationTimestamp=created)

    assert ids(response["Shards"]) == [shard_id(0), shard_id(1)]
    assert created > datetime.now(timezone.utc) - timedelta(minutes=5)
