"""StreamARN in place of StreamName, on every operation of this issue whose model allows it.

botocore sends ARN-bearing requests to the configured endpoint unchanged (reference 1.3), so
these also check that nothing in the ARN path makes the client leave the local server.
"""

from harness import (
    MAX_HASH_KEY,
    aws_error,
    create_active_stream,
    not_found_message,
    read_to_end,
    shard_id,
    stream_arn,
    wait_for_status,
    wait_until_gone,
)


def test_a_stream_can_be_driven_by_arn_alone(kinesis, stream_name):
    create_active_stream(kinesis, stream_name, 2)
    arn = stream_arn(stream_name)

    described = kinesis.describe_stream(StreamARN=arn, Limit=1)["StreamDescription"]
    summary = kinesis.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]
    shards = kinesis.list_shards(StreamARN=arn)["Shards"]
    single = kinesis.put_record(StreamARN=arn, Data=b"one", PartitionKey="k",
                                ExplicitHashKey=str(MAX_HASH_KEY))
    batch = kinesis.put_records(StreamARN=arn, Records=[
        {"Data": b"two", "PartitionKey": "k", "ExplicitHashKey": str(MAX_HASH_KEY)}])
    iterator = kinesis.get_shard_iterator(StreamARN=arn, ShardId=shard_id(1),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first_page = kinesis.get_records(StreamARN=arn, ShardIterator=iterator)
    kinesis.add_tags_to_stream(StreamARN=arn, Tags={"via": "arn"})
    tags = kinesis.list_tags_for_stream(StreamARN=arn)["Tags"]
    kinesis.remove_tags_from_stream(StreamARN=arn, TagKeys=["via"])
    tags_after = kinesis.list_tags_for_stream(StreamARN=arn)["Tags"]
    kinesis.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=30)
    wait_for_status(kinesis, stream_name)
    kinesis.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=26)
    wait_for_status(kinesis, stream_name)
    retention = kinesis.describe_stream_summary(StreamARN=arn)[
        "StreamDescriptionSummary"]["RetentionPeriodHours"]

    assert described["StreamName"] == stream_name
    assert [s["ShardId"] for s in described["Shards"]] == [shard_id(0)]
    assert described["HasMoreShards"] is True
    assert summary["StreamARN"] == arn and summary["OpenShardCount"] == 2
    assert [s["ShardId"] for s in shards] == [shard_id(0), shard_id(1)]
    assert single["ShardId"] == shard_id(1)
    assert batch["Records"][0]["ShardId"] == shard_id(1)
    assert [r["Data"] for r in first_page["Records"]] == [b"one", b"two"]
    assert tags == [{"Key": "via", "Value": "arn"}]
    assert tags_after == []
    assert retention == 26

    kinesis.delete_stream(StreamARN=arn)
    wait_until_gone(kinesis, stream_name)


def test_get_records_with_stream_arn_reads_to_the_end(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.put_records(StreamName=name, Records=[{"Data": b"%d" % i, "PartitionKey": "k"}
                                                  for i in range(5)])
    iterator = kinesis.get_shard_iterator(StreamARN=stream_arn(name), ShardId=shard_id(0),
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    records, _ = read_to_end(kinesis, iterator, limit=2)

    assert [r["Data"] for r in records] == [b"0", b"1", b"2", b"3", b"4"]


def test_arn_of_a_missing_stream_is_resource_not_found(kinesis, stream_name):
    arn = stream_arn(stream_name)

    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.describe_stream_summary(StreamARN=arn)
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.put_record(StreamARN=arn, Data=b"x", PartitionKey="k")
    with aws_error("ResourceNotFoundException", not_found_message(stream_name)):
        kinesis.delete_stream(StreamARN=arn)
