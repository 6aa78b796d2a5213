"""SubscribeToShard through boto3 (HTTP/1.1 chunked): the initial response, records pushed as
soon as they are put, ContinuationSequenceNumber on every event, heartbeats, the end of the
subscription after its lifetime, starting positions, and the errors given before any stream."""

import threading
import time

import pytest
from botocore.exceptions import EventStreamError

import harness
from harness import aws_error, register_active_consumer, shard_id

SHARD = shard_id(0)


def subscribe(client, consumer_arn, kind="LATEST", **position):
    response = client.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=SHARD,
                                         StartingPosition={"Type": kind, **position})
    return response["EventStream"]


def put(client, stream, data: bytes) -> dict:
    return client.put_record(StreamName=stream, Data=data, PartitionKey="k", ExplicitHashKey="0")


def test_records_put_after_subscribing_are_pushed(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "push")
    stream = subscribe(kinesis, consumer)
    put_at: dict[bytes, float] = {}

    def producer():
        time.sleep(0.3)
        for index in range(3):
            # From the start of the PutRecord call: the latency includes its fsync.
            put_at[f"r{index}".encode()] = time.monotonic()
            put_record = put(kinesis, name, f"r{index}".encode())
            assert put_record["ShardId"] == SHARD
            time.sleep(0.2)

    thread = threading.Thread(target=producer)
    thread.start()
    events, latencies, received = [], [], []
    deadline = time.monotonic() + 10
    for event in stream:
        events.append(event["SubscribeToShardEvent"])
        for record in event["SubscribeToShardEvent"]["Records"]:
            received.append(record["Data"])
            latencies.append(time.monotonic() - put_at[record["Data"]])
        if len(received) == 3 or time.monotonic() > deadline:
            break
    stream.close()
    thread.join()

    assert received == [b"r0", b"r1", b"r2"]
    # Pushed by the write path: well within a second of the put returning.
    assert max(latencies) < 1.0, latencies
    print(f"put-to-push latency (ms): {[round(x * 1000, 1) for x in latencies]}")
    for event in events:
        assert event["ContinuationSequenceNumber"]
        assert event["MillisBehindLatest"] >= 0
    last = events[-1]
    assert last["ContinuationSequenceNumber"] == last["Records"][-1]["SequenceNumber"]


def test_starting_positions(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumers = [register_active_consumer(kinesis, name, f"positions{i}") for i in range(3)]
    sequence = [put(kinesis, name, f"old{index}".encode())["SequenceNumber"] for index in range(3)]

    def first_records(consumer, kind, **position):
        stream = subscribe(kinesis, consumer, kind, **position)
        try:
            for event in stream:
                records = event["SubscribeToShardEvent"]["Records"]
                if records:
                    return [r["Data"] for r in records]
        finally:
            stream.close()

    from_horizon = first_records(consumers[0], "TRIM_HORIZON")
    at_second = first_records(consumers[1], "AT_SEQUENCE_NUMBER", SequenceNumber=sequence[1])
    after_second = first_records(consumers[2], "AFTER_SEQUENCE_NUMBER",
                                 SequenceNumber=sequence[1])

    assert from_horizon == [b"old0", b"old1", b"old2"]
    assert at_second == [b"old1", b"old2"]
    assert after_second == [b"old2"]


def test_heartbeats_and_lifetime(spate_factory):
    server = spate_factory(env={"SPATE_SUBSCRIPTION_HEARTBEAT_MS": "200",
                                "SPATE_SUBSCRIPTION_LIFETIME_MS": "2000"})
    client = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(client, "beats", 1)
    put(client, "beats", b"before")
    consumer = register_active_consumer(client, "beats", "hb")
    started = time.monotonic()

    events = [event["SubscribeToShardEvent"] for event in subscribe(client, consumer)]
    lasted = time.monotonic() - started

    # LATEST: no records, only heartbeats, each continuing after the record put before.
    assert 5 <= len(events) <= 15, len(events)
    assert all(event["Records"] == [] for event in events)
    continuation = {event["ContinuationSequenceNumber"] for event in events}
    assert len(continuation) == 1
    assert 1.5 < lasted < 5, lasted


def test_second_subscription_is_refused(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "twice")
    first = subscribe(kinesis, consumer)

    with aws_error("ResourceInUseException"):
        subscribe(kinesis, consumer)
    first.close()


def test_a_subscription_after_five_seconds_takes_over(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "takeover")
    first = subscribe(kinesis, consumer)  # returns once the initial response has arrived

    time.sleep(5.2)
    second = subscribe(kinesis, consumer)
    with pytest.raises(EventStreamError) as ended:
        for _ in first:
            pass
    second.close()

    assert ended.value.response["Error"]["Code"] == "ResourceInUseException"


def test_deregistering_the_consumer_ends_its_subscription(spate_factory):
    server = spate_factory(env={"SPATE_SUBSCRIPTION_HEARTBEAT_MS": "200"})
    client = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(client, "gone", 1)
    consumer = register_active_consumer(client, "gone", "leaver")
    stream = subscribe(client, consumer)

    client.deregister_stream_consumer(ConsumerARN=consumer)
    with pytest.raises(EventStreamError) as ended:
        for _ in stream:
            pass

    assert ended.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_shutdown_ends_open_subscriptions(spate_factory):
    server = spate_factory()
    client = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(client, "open", 1)
    consumer = register_active_consumer(client, "open", "held")
    stream = subscribe(client, consumer)
    started = time.monotonic()

    assert server.stop() == 0
    leftover = list(stream)

    assert time.monotonic() - started < 5
    assert all(event["SubscribeToShardEvent"]["Records"] == [] for event in leftover)


def test_subscribing_a_creating_consumer_is_refused(spate_factory):
    server = spate_factory(env={"SPATE_CONSUMER_CREATE_DELAY_MS": "60000"})
    client = harness.kinesis_client(server.endpoint)
    harness.create_active_stream(client, "errs", 1)
    creating = client.register_stream_consumer(StreamARN=harness.stream_arn("errs"),
                                               ConsumerName="creating")["Consumer"]["ConsumerARN"]

    with aws_error("ResourceInUseException"):
        subscribe(client, creating)


def test_errors_before_the_stream(kinesis, new_stream):
    name = new_stream(shard_count=1)
    consumer = register_active_consumer(kinesis, name, "errs")

    with aws_error("ResourceNotFoundException"):
        subscribe(kinesis, consumer.replace("/consumer/errs:", "/consumer/nobody:"))
    with aws_error("ResourceNotFoundException"):
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard_id(7),
                                   StartingPosition={"Type": "LATEST"})
    with aws_error("ValidationException"):
        kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId=SHARD,
                                   StartingPosition={"Type": "SOMETIME"})
    with aws_error("InvalidArgumentException"):
        subscribe(kinesis, consumer, "AT_SEQUENCE_NUMBER")
    kinesis.deregister_stream_consumer(ConsumerARN=consumer)
