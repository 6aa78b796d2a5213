"""Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
ListStreamConsumers, DeregisterStreamConsumer (by ARN and by stream ARN + name), their limits,
DeleteStream with consumers, ConsumerCount, and tags on consumer ARNs."""

import re
import time

from botocore.exceptions import ClientError

import harness
from harness import aws_error, register_active_consumer, stream_arn, wait_for_consumer


def test_consumer_lifecycle_by_arn(kinesis, new_stream):
    name = new_stream(shard_count=1)
    before = time.time()

    registered = kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName="app")
    consumer = registered["Consumer"]
    arn = consumer["ConsumerARN"]
    active = wait_for_consumer(kinesis, arn)
    kinesis.deregister_stream_consumer(ConsumerARN=arn)
    deleting = kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]
    deadline = time.monotonic() + 20
    while True:
        try:
            kinesis.describe_stream_consumer(ConsumerARN=arn)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        assert time.monotonic() < deadline, "consumer never went away"
        time.sleep(0.02)

    assert consumer["ConsumerName"] == "app"
    assert consumer["ConsumerStatus"] == "CREATING"
    assert re.fullmatch(re.escape(stream_arn(name)) + r"/consumer/app:\d+", arn)
    assert abs(int(arn.rsplit(":", 1)[1]) - before) < 5
    assert abs(consumer["ConsumerCreationTimestamp"].timestamp() - before) < 5
    assert active["StreamARN"] == stream_arn(name)
    assert active["ConsumerARN"] == arn
    assert deleting["ConsumerStatus"] == "DELETING"
    assert kinesis.list_stream_consumers(StreamARN=stream_arn(name))["Consumers"] == []


def test_describe_and_deregister_by_stream_arn_and_name(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arn = register_active_consumer(kinesis, name, "by-name")

    by_name = kinesis.describe_stream_consumer(StreamARN=stream_arn(name),
                                               ConsumerName="by-name")
    by_all = kinesis.describe_stream_consumer(StreamARN=stream_arn(name), ConsumerName="by-name",
                                              ConsumerARN=arn)
    kinesis.deregister_stream_consumer(StreamARN=stream_arn(name), ConsumerName="by-name")

    assert by_name["ConsumerDescription"]["ConsumerARN"] == arn
    assert by_all["ConsumerDescription"]["ConsumerARN"] == arn
    assert kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"][
        "ConsumerStatus"] == "DELETING"


def test_consumer_errors(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arn = register_active_consumer(kinesis, name, "one")

    with aws_error("ResourceInUseException"):
        kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName="one")
    with aws_error("ResourceNotFoundException"):
        kinesis.register_stream_consumer(StreamARN=stream_arn(name + "-missing"),
                                         ConsumerName="x")
    with aws_error("ResourceNotFoundException"):
        kinesis.describe_stream_consumer(StreamARN=stream_arn(name), ConsumerName="nobody")
    # The same name with another creation time is another consumer.
    with aws_error("ResourceNotFoundException"):
        kinesis.describe_stream_consumer(ConsumerARN=arn.rsplit(":", 1)[0] + ":1")
    with aws_error("InvalidArgumentException"):
        kinesis.describe_stream_consumer(StreamARN=stream_arn(name))
    with aws_error("InvalidArgumentException"):
        kinesis.describe_stream_consumer(ConsumerARN=arn, ConsumerName="other")
    with aws_error("ValidationException"):
        kinesis.describe_stream_consumer(ConsumerARN="arn:aws:kinesis:us-east-1:000000000000:x")
    with aws_error("ValidationException"):
        kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName="bad name")
    with aws_error("ResourceNotFoundException"):
        kinesis.deregister_stream_consumer(StreamARN=stream_arn(name), ConsumerName="nobody")


def test_consumer_limits(spate_factory):
    # Consumers stay CREATING for a minute here, so the CREATING limit is reached for sure.
    server = spate_factory(env={"SPATE_CONSUMER_CREATE_DELAY_MS": "60000"})
    client = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(client, "limits", 1)
    arn = stream_arn("limits")

    for index in range(5):
        client.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{index}")
    with aws_error("LimitExceededException"):
        client.register_stream_consumer(StreamARN=arn, ConsumerName="c5")

    statuses = {c["ConsumerStatus"]
                for c in client.list_stream_consumers(StreamARN=arn)["Consumers"]}
    assert statuses == {"CREATING"}
    assert client.describe_stream_summary(StreamName="limits")[
        "StreamDescriptionSummary"]["ConsumerCount"] == 5


def test_twenty_consumers_per_stream(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arns = []
    for index in range(20):
        arns.append(register_active_consumer(kinesis, name, f"c{index:02}"))

    with aws_error("LimitExceededException"):
        kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName="c20")
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    first = kinesis.list_stream_consumers(StreamARN=stream_arn(name), MaxResults=8)
    second = kinesis.list_stream_consumers(StreamARN=stream_arn(name),
                                           NextToken=first["NextToken"], MaxResults=8)
    third = kinesis.list_stream_consumers(StreamARN=stream_arn(name),
                                          NextToken=second["NextToken"], MaxResults=8)
    paginated = [c["ConsumerARN"] for page in
                 kinesis.get_paginator("list_stream_consumers").paginate(
                     StreamARN=stream_arn(name), PaginationConfig={"PageSize": 6})
                 for c in page["Consumers"]]
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)

    assert summary["ConsumerCount"] == 20
    listed = [c["ConsumerARN"] for page in (first, second, third) for c in page["Consumers"]]
    assert listed == arns
    assert "NextToken" not in third
    assert paginated == arns


def test_list_stream_consumers_with_creation_timestamp(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arn = register_active_consumer(kinesis, name, "ts")
    created = kinesis.describe_stream_summary(StreamName=name)[
        "StreamDescriptionSummary"]["StreamCreationTimestamp"]

    listed = kinesis.list_stream_consumers(StreamARN=stream_arn(name),
                                           StreamCreationTimestamp=created)
    with aws_error("ResourceNotFoundException"):
        kinesis.list_stream_consumers(StreamARN=stream_arn(name),
                                      StreamCreationTimestamp=created.timestamp() - 3600)

    assert [c["ConsumerARN"] for c in listed["Consumers"]] == [arn]
    assert listed["Consumers"][0]["ConsumerStatus"] == "ACTIVE"


def test_delete_stream_with_consumers(kinesis, new_stream):
    name = new_stream(shard_count=1)
    arn = register_active_consumer(kinesis, name, "blocker")

    with aws_error("ResourceInUseException"):
        kinesis.delete_stream(StreamName=name)
    kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    harness.wait_until_gone(kinesis, name)
    harness.create_active_stream(kinesis, name, 1)
    after = kinesis.list_stream_consumers(StreamARN=stream_arn(name))

    assert after["Consumers"] == []
    with aws_error("ResourceNotFoundException"):
        kinesis.describe_stream_consumer(ConsumerARN=arn)


def test_tags_on_consumer_arns(kinesis, new_stream):
    name = new_stream(shard_count=1)
    registered = kinesis.register_stream_consumer(StreamARN=stream_arn(name),
                                                  ConsumerName="tagged", Tags={"team": "a"})
    arn = registered["Consumer"]["ConsumerARN"]
    wait_for_consumer(kinesis, arn)

    kinesis.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    both = kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]
    kinesis.untag_resource(ResourceARN=arn, TagKeys=["team"])
    after = kinesis.list_tags_for_resource(ResourceARN=arn)["Tags"]
    stream_tags = kinesis.list_tags_for_resource(ResourceARN=stream_arn(name))["Tags"]
    kinesis.deregister_stream_consumer(ConsumerARN=arn)

    assert {t["Key"]: t["Value"] for t in both} == {"team": "a", "env": "test"}
    assert {t["Key"]: t["Value"] for t in after} == {"env": "test"}
    assert stream_tags == []
    with aws_error("ResourceNotFoundException"):
        kinesis.list_tags_for_resource(ResourceARN=arn.rsplit(":", 1)[0] + ":1")


def test_register_on_a_creating_stream_is_refused(spate_factory):
    server = spate_factory(env={"SPATE_STREAM_CREATE_DELAY_MS": "60000"})
    client = harness.kinesis_client(server.endpoint)
    client.create_stream(StreamName="slow", ShardCount=1)

    with aws_error("ResourceInUseException"):
        client.register_stream_consumer(StreamARN=stream_arn("slow"), ConsumerName="c")
