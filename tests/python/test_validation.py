"""Constraint violations that botocore leaves to the server (maximum lengths and values,
patterns, list maxima), answered with AWS's exact ValidationException text:

    N validation error(s) detected: Value '<v>' at '<memberPath>' failed to satisfy constraint: ...

botocore itself rejects missing required members, wrong types and values under a minimum, so
those never reach the server and are not tested here.
"""

import uuid

import pytest

from harness import STREAM_NAME_PATTERN, aws_error, read_shard, shard_id, validation_message

TOO_LONG = "Member must have length less than or equal to 128"


@pytest.mark.parametrize("call", [
    lambda k, n: k.create_stream(StreamName=n, ShardCount=1),
    lambda k, n: k.describe_stream(StreamName=n),
    lambda k, n: k.describe_stream_summary(StreamName=n),
    lambda k, n: k.delete_stream(StreamName=n),
    lambda k, n: k.put_record(StreamName=n, Data=b"x", PartitionKey="k"),
    lambda k, n: k.list_tags_for_stream(StreamName=n),
], ids=["CreateStream", "DescribeStream", "DescribeStreamSummary", "DeleteStream", "PutRecord",
        "ListTagsForStream"])
def test_stream_name_must_match_its_pattern(kinesis, call):
    with aws_error("ValidationException", validation_message(
            ("bad name!", "streamName", STREAM_NAME_PATTERN))):
        call(kinesis, "bad name!")


def test_stream_name_longer_than_128_characters(kinesis):
    name = "a" * 129

    with aws_error("ValidationException", validation_message((name, "streamName", TOO_LONG))):
        kinesis.create_stream(StreamName=name, ShardCount=1)


def test_stream_name_of_128_characters_is_fine(kinesis, new_stream):
    name = f"n128-{uuid.uuid4().hex}".ljust(128, "z")

    new_stream(shard_count=1, name=name)

    assert kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["StreamName"] == name


def test_two_violations_of_one_member_are_both_reported(kinesis):
    name = "x y" * 50  # 150 characters with spaces: both too long and off-pattern

    with aws_error("ValidationException") as error:
        kinesis.create_stream(StreamName=name, ShardCount=1)

    message = error.value.response["Error"]["Message"]
    prefix = "2 validation errors detected: "
    assert message.startswith(prefix)
    assert sorted(message[len(prefix):].split("; ")) == sorted([
        f"Value '{name}' at 'streamName' failed to satisfy constraint: {STREAM_NAME_PATTERN}",
        f"Value '{name}' at 'streamName' failed to satisfy constraint: {TOO_LONG}",
    ])


def test_violations_of_two_members_are_both_reported(kinesis):
    with aws_error("ValidationException") as error:
        kinesis.list_streams(Limit=10001, ExclusiveStartStreamName="bad name")

    message = error.value.response["Error"]["Message"]
    prefix = "2 validation errors detected: "
    assert message.startswith(prefix)
    assert sorted(message[len(prefix):].split("; ")) == sorted([
        "Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
        f"Value 'bad name' at 'exclusiveStartStreamName' failed to satisfy constraint: "
        f"{STREAM_NAME_PATTERN}",
    ])


def test_describe_stream_limit_above_10000(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException", validation_message(
            ("10001", "limit", "Member must have value less than or equal to 10000"))):
        kinesis.describe_stream(StreamName=name, Limit=10001)


def test_list_streams_limit_above_10000(kinesis):
    with aws_error("ValidationException", validation_message(
            ("10001", "limit", "Member must have value less than or equal to 10000"))):
        kinesis.list_streams(Limit=10001)


def test_list_shards_max_results_above_10000(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException", validation_message(
            ("10001", "maxResults", "Member must have value less than or equal to 10000"))):
        kinesis.list_shards(StreamName=name, MaxResults=10001)


def test_list_tags_limit_above_50(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException", validation_message(
            ("51", "limit", "Member must have value less than or equal to 50"))):
        kinesis.list_tags_for_stream(StreamName=name, Limit=51)


def test_partition_key_longer_than_256_in_put_records_names_its_entry(kinesis, new_stream):
    name = new_stream(shard_count=1)
    long_key = "p" * 257

    with aws_error("ValidationException", validation_message(
            (long_key, "records.2.member.partitionKey",
             "Member must have length less than or equal to 256"))):
        kinesis.put_records(StreamName=name, Records=[
            {"Data": b"fine", "PartitionKey": "k"},
            {"Data": b"too long a key", "PartitionKey": long_key},
        ])

    assert read_shard(kinesis, name, shard_id(0)) == [], "nothing of a rejected request is stored"


def test_partition_key_longer_than_256_in_put_record(kinesis, new_stream):
    name = new_stream(shard_count=1)
    long_key = "q" * 257

    with aws_error("ValidationException", validation_message(
            (long_key, "partitionKey", "Member must have length less than or equal to 256"))):
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey=long_key)


def test_partition_key_of_256_unicode_characters_is_fine(kinesis, new_stream):
    # The limit counts characters, not UTF-8 bytes (this key is 768 bytes long).
    name = new_stream(shard_count=1)
    key = "✓" * 256

    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey=key)

    assert [r["PartitionKey"] for r in read_shard(kinesis, name, shard_id(0))] == [key]
