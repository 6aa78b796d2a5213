"""Stream lifecycle: CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary, ListStreams."""

from datetime import datetime, timedelta, timezone

import pytest

from harness import (
    SEQUENCE_NUMBER_RE,
    SHARD_ID_RE,
    aws_error,
    create_active_stream,
    expected_hash_ranges,
    kinesis_client,
    not_found_message,
    shard_id,
    stream_arn,
    wait_for_status,
    wait_until_gone,
)


def assert_recent(timestamp: datetime) -> None:
    assert isinstance(timestamp, datetime)
    assert timestamp.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - timestamp) < timedelta(minutes=5), timestamp


def test_create_provisioned_stream_and_describe_it(kinesis, new_stream):
    name = new_stream(shard_count=3)

    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]

    assert description["StreamName"] == name
    assert description["StreamARN"] == stream_arn(name)
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert description["RetentionPeriodHours"] == 24
    assert description["HasMoreShards"] is False
    assert isinstance(description["EnhancedMonitoring"], list)
    assert description.get("EncryptionType", "NONE") == "NONE"
    assert_recent(description["StreamCreationTimestamp"])
    assert [shard["ShardId"] for shard in description["Shards"]] == [shard_id(i) for i in range(3)]
    for shard in description["Shards"]:
        assert "ParentShardId" not in shard
        assert "AdjacentParentShardId" not in shard
        sequence_range = shard["SequenceNumberRange"]
        assert SEQUENCE_NUMBER_RE.match(sequence_range["StartingSequenceNumber"]), sequence_range
        assert "EndingSequenceNumber" not in sequence_range, "a new shard is open"


@pytest.mark.parametrize("shard_count", [1, 3, 4, 7])
def test_hash_key_ranges_split_evenly(kinesis, new_stream, shard_count):
    name = new_stream(shard_count=shard_count)

    shards = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"]

    assert [shard["ShardId"] for shard in shards] == [shard_id(i) for i in range(shard_count)]
    for shard in shards:
        assert SHARD_ID_RE.match(shard["ShardId"])
    ranges = [(int(shard["HashKeyRange"]["StartingHashKey"]),
               int(shard["HashKeyRange"]["EndingHashKey"])) for shard in shards]
    assert ranges == expected_hash_ranges(shard_count)
    for shard in shards:  # decimal strings without leading zeros, as AWS writes them
        for key in shard["HashKeyRange"].values():
            assert key == str(int(key))


def test_describe_stream_summary(kinesis, new_stream):
    name = new_stream(shard_count=2)

    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

    assert "StreamId" not in summary, "StreamId would make botocore route requests to AWS"
    assert summary["StreamName"] == name
    assert summary["StreamARN"] == stream_arn(name)
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summary["RetentionPeriodHours"] == 24
    assert summary["OpenShardCount"] == 2
    assert summary.get("ConsumerCount", 0) == 0
    assert summary.get("EncryptionType", "NONE") == "NONE"
    assert isinstance(summary["EnhancedMonitoring"], list)
    assert_recent(summary["StreamCreationTimestamp"])


def test_on_demand_stream_gets_four_shards_by_default(kinesis, new_stream):
    name = new_stream(shard_count=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})

    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    description = kinesis.describe_stream(StreamName=name)["StreamDescription"]

    assert summary["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert summary["OpenShardCount"] == 4
    assert description["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    ranges = [(int(shard["HashKeyRange"]["StartingHashKey"]),
               int(shard["HashKeyRange"]["EndingHashKey"])) for shard in description["Shards"]]
    assert ranges == expected_hash_ranges(4)


def test_explicit_provisioned_mode(kinesis, new_stream):
    name = new_stream(shard_count=2, StreamModeDetails={"StreamMode": "PROVISIONED"})

    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]

    assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert summary["OpenShardCount"] == 2


def test_create_stream_with_tags(kinesis, new_stream):
    name = new_stream(shard_count=1, Tags={"team": "data", "env": "test"})

    tags = kinesis.list_tags_for_stream(StreamName=name)["Tags"]

    assert sorted((tag["Key"], tag["Value"]) for tag in tags) == [("env", "test"), ("team", "data")]


def test_create_existing_stream_is_resource_in_use(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ResourceInUseException",
                   f"Stream {name} under account 000000000000 already exists."):
        kinesis.create_stream(StreamName=name, ShardCount=2)

    assert kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["OpenShardCount"] == 1, "the existing stream is unchanged"


def test_delete_stream_then_it_is_not_found(kinesis, stream_name):
    create_active_stream(kinesis, stream_name, 2)

    kinesis.delete_stream(StreamName=stream_name)
    wait_until_gone(kinesis, stream_name)

    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.describe_stream(StreamName=stream_name)
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.delete_stream(StreamName=stream_name)
    listed = [name for page in kinesis.get_paginator("list_streams").paginate()
              for name in page["StreamNames"]]
    assert stream_name not in listed


def test_stream_name_can_be_reused_after_delete(kinesis, stream_name):
    create_active_stream(kinesis, stream_name, 1)
    kinesis.put_record(StreamName=stream_name, Data=b"old", PartitionKey="k")
    kinesis.delete_stream(StreamName=stream_name)
    wait_until_gone(kinesis, stream_name)

    create_active_stream(kinesis, stream_name, 2)

    try:
        assert kinesis.describe_stream_summary(StreamName=stream_name)[
            "StreamDescriptionSummary"]["OpenShardCount"] == 2
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            iterator = kinesis.get_shard_iterator(
                StreamName=stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            assert kinesis.get_records(ShardIterator=iterator)["Records"] == [], \
                "records of the deleted stream must not reappear"
    finally:
        kinesis.delete_stream(StreamName=stream_name)


@pytest.mark.parametrize("call", [
    lambda k, n: k.describe_stream(StreamName=n),
    lambda k, n: k.describe_stream_summary(StreamName=n),
    lambda k, n: k.delete_stream(StreamName=n),
    lambda k, n: k.list_shards(StreamName=n),
    lambda k, n: k.put_record(StreamName=n, Data=b"x", PartitionKey="k"),
    lambda k, n: k.put_records(StreamName=n, Records=[{"Data": b"x", "PartitionKey": "k"}]),
    lambda k, n: k.get_shard_iterator(StreamName=n, ShardId="shardId-000000000000",
                                      ShardIteratorType="TRIM_HORIZON"),
    lambda k, n: k.add_tags_to_stream(StreamName=n, Tags={"a": "b"}),
    lambda k, n: k.remove_tags_from_stream(StreamName=n, TagKeys=["a"]),
    lambda k, n: k.list_tags_for_stream(StreamName=n),
    lambda k, n: k.increase_stream_retention_period(StreamName=n, RetentionPeriodHours=48),
    lambda k, n: k.decrease_stream_retention_period(StreamName=n, RetentionPeriodHours=24),
], ids=["DescribeStream", "DescribeStreamSummary", "DeleteStream", "ListShards", "PutRecord",
        "PutRecords", "GetShardIterator", "AddTagsToStream", "RemoveTagsFromStream",
        "ListTagsForStream", "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod"])
def test_missing_stream_is_resource_not_found(kinesis, stream_name, call, request):
    # GetShardIterator names the shard it looked for (kinesalite: "Shard shardId-... in stream
    # ... does not exist"); the wording there is not pinned down, only the error type.
    exact = "GetShardIterator" not in request.node.name
    with aws_error("ResourceNotFoundException",
                   not_found_message(stream_name) if exact else None):
        call(kinesis, stream_name)


def test_describe_stream_pages_shards(kinesis, new_stream):
    name = new_stream(shard_count=5)

    first = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    second = kinesis.describe_stream(StreamName=name, Limit=2,
                                     ExclusiveStartShardId=shard_id(1))["StreamDescription"]
    last = kinesis.describe_stream(StreamName=name, Limit=2,
                                   ExclusiveStartShardId=shard_id(3))["StreamDescription"]

    assert [s["ShardId"] for s in first["Shards"]] == [shard_id(0), shard_id(1)]
    assert first["HasMoreShards"] is True
    assert [s["ShardId"] for s in second["Shards"]] == [shard_id(2), shard_id(3)]
    assert second["HasMoreShards"] is True
    assert [s["ShardId"] for s in last["Shards"]] == [shard_id(4)]
    assert last["HasMoreShards"] is False


def test_describe_stream_paginator(kinesis, new_stream):
    name = new_stream(shard_count=5)

    pages = list(kinesis.get_paginator("describe_stream").paginate(
        StreamName=name, PaginationConfig={"PageSize": 2}))

    shard_ids = [s["ShardId"] for page in pages for s in page["StreamDescription"]["Shards"]]
    assert shard_ids == [shard_id(i) for i in range(5)]
    assert len(pages) == 3


def test_stream_is_creating_then_active_then_deleting(spate_factory, stream_name):
    # Slow transitions, so the intermediate states can be observed without racing the server.
    server = spate_factory(env={"SPATE_STREAM_CREATE_DELAY_MS": "1000",
                                "SPATE_STREAM_DELETE_DELAY_MS": "1000"})
    kinesis = kinesis_client(server.endpoint)

    kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    summary = kinesis.describe_stream_summary(StreamName=stream_name)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "CREATING"
    # Configuration changes wait for ACTIVE (ResourceInUseException). Data calls on a CREATING
    # stream are answered as if it did not exist yet, as kinesalite reproduces from AWS.
    with aws_error("ResourceInUseException"):
        kinesis.add_tags_to_stream(StreamName=stream_name, Tags={"too": "early"})
    with aws_error("ResourceInUseException"):
        kinesis.increase_stream_retention_period(StreamName=stream_name, RetentionPeriodHours=48)
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.put_record(StreamName=stream_name, Data=b"too early", PartitionKey="k")
    listed = kinesis.list_streams()
    assert stream_name in listed["StreamNames"]
    assert {s["StreamName"]: s["StreamStatus"] for s in listed["StreamSummaries"]}[
        stream_name] == "CREATING"

    wait_for_status(kinesis, stream_name, "ACTIVE", interval=0.05)
    kinesis.put_record(StreamName=stream_name, Data=b"on time", PartitionKey="k")

    kinesis.delete_stream(StreamName=stream_name)
    description = kinesis.describe_stream(StreamName=stream_name)["StreamDescription"]
    assert description["StreamStatus"] == "DELETING"
    wait_until_gone(kinesis, stream_name, interval=0.05)


def test_list_streams_names_and_summaries(kinesis, new_stream):
    names = sorted([new_stream(shard_count=1), new_stream(shard_count=1)])

    pages = list(kinesis.get_paginator("list_streams").paginate())

    listed_names = [name for page in pages for name in page["StreamNames"]]
    summaries = [summary for page in pages for summary in page["StreamSummaries"]]
    assert set(names) <= set(listed_names)
    assert listed_names == sorted(listed_names), "listed in name order"
    assert len(set(listed_names)) == len(listed_names)
    assert [s["StreamName"] for s in summaries] == listed_names
    by_name = {s["StreamName"]: s for s in summaries}
    for name in names:
        summary = by_name[name]
        assert summary["StreamARN"] == stream_arn(name)
        assert summary["StreamStatus"] == "ACTIVE"
        assert summary["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
        assert_recent(summary["StreamCreationTimestamp"])


def test_list_streams_pagination(spate_factory):
    # A server of its own, so that the pages hold exactly these streams.
    kinesis = kinesis_client(spate_factory().endpoint)
    names = [f"page-{letter}" for letter in "abcde"]
    for name in reversed(names):
        kinesis.create_stream(StreamName=name, ShardCount=1)
    for name in names:
        wait_for_status(kinesis, name)

    first = kinesis.list_streams(Limit=2)
    second = kinesis.list_streams(Limit=2, NextToken=first["NextToken"])
    third = kinesis.list_streams(Limit=2, NextToken=second["NextToken"])
    after_b = kinesis.list_streams(Limit=2, ExclusiveStartStreamName="page-b")
    after_d = kinesis.list_streams(ExclusiveStartStreamName="page-d")

    assert first["StreamNames"] == ["page-a", "page-b"]
    assert first["HasMoreStreams"] is True
    assert [s["StreamName"] for s in first["StreamSummaries"]] == ["page-a", "page-b"]
    assert second["StreamNames"] == ["page-c", "page-d"]
    assert second["HasMoreStreams"] is True
    assert third["StreamNames"] == ["page-e"]
    assert third["HasMoreStreams"] is False
    assert "NextToken" not in third
    assert after_b["StreamNames"] == ["page-c", "page-d"]
    assert after_b["HasMoreStreams"] is True
    assert after_d["StreamNames"] == ["page-e"]
    assert after_d["HasMoreStreams"] is False

    pages = list(kinesis.get_paginator("list_streams").paginate(PaginationConfig={"PageSize": 2}))
    assert [name for page in pages for name in page["StreamNames"]] == names
    assert [s["StreamName"] for page in pages for s in page["StreamSummaries"]] == names
    assert len(pages) == 3


def test_list_streams_on_an_empty_server(spate_factory):
    kinesis = kinesis_client(spate_factory().endpoint)

    listed = kinesis.list_streams()

    assert listed["StreamNames"] == []
    assert listed["HasMoreStreams"] is False
    assert listed.get("StreamSummaries", []) == []
