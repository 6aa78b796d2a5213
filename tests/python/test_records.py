"""Writing and reading records: PutRecord, PutRecords, GetShardIterator, GetRecords."""

import math
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from harness import (
    MAX_HASH_KEY,
    SEQUENCE_NUMBER_RE,
    all_shards,
    aws_error,
    hash_key_of,
    read_shard,
    read_stream,
    read_to_end,
    shard_holding,
    shard_id,
    validation_message,
)

ONE_MIB = 1024 * 1024


def iterator_for(kinesis, stream, shard, iterator_type="TRIM_HORIZON", **extra) -> str:
    return kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                      ShardIteratorType=iterator_type, **extra)["ShardIterator"]


# --- PutRecord -----------------------------------------------------------------------------------


def test_partition_key_routes_to_the_shard_holding_its_md5(kinesis, new_stream):
    name = new_stream(shard_count=4)
    shards = all_shards(kinesis, name)
    keys = [f"key-{i}" for i in range(40)] + ["ключ-✓", "🙂 emoji", "x" * 256]

    for key in keys:
        result = kinesis.put_record(StreamName=name, Data=key.encode(), PartitionKey=key)
        assert result["ShardId"] == shard_holding(shards, hash_key_of(key)), key

    stored = read_stream(kinesis, name)
    for shard, records in stored.items():
        for record in records:
            assert shard_holding(shards, hash_key_of(record["PartitionKey"])) == shard
    assert sorted(r["PartitionKey"] for records in stored.values() for r in records) == sorted(keys)


def test_explicit_hash_key_overrides_the_partition_key(kinesis, new_stream):
    name = new_stream(shard_count=4)
    shards = all_shards(kinesis, name)

    for shard in shards:
        for key in (shard["HashKeyRange"]["StartingHashKey"], shard["HashKeyRange"]["EndingHashKey"]):
            result = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="same-key",
                                        ExplicitHashKey=key)
            assert result["ShardId"] == shard["ShardId"], key

    zero = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey="0")
    top = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k",
                             ExplicitHashKey=str(MAX_HASH_KEY))
    assert zero["ShardId"] == shard_id(0)
    assert top["ShardId"] == shard_id(3)


def test_explicit_hash_key_above_the_hash_space_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("InvalidArgumentException"):
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k",
                           ExplicitHashKey=str(MAX_HASH_KEY + 1))


def test_explicit_hash_key_must_be_decimal(kinesis, new_stream):
    name = new_stream(shard_count=1)

    with aws_error("ValidationException", validation_message(
            ("abc", "explicitHashKey",
             r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})"))):
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey="abc")


def test_sequence_numbers_are_56_digits_and_increase_per_shard(kinesis, new_stream):
    name = new_stream(shard_count=2)
    starting = {s["ShardId"]: int(s["SequenceNumberRange"]["StartingSequenceNumber"])
                for s in all_shards(kinesis, name)}

    by_shard: dict[str, list[str]] = {}
    for i in range(30):
        result = kinesis.put_record(StreamName=name, Data=b"%d" % i, PartitionKey=f"pk-{i}")
        by_shard.setdefault(result["ShardId"], []).append(result["SequenceNumber"])

    assert len(by_shard) == 2, "30 keys spread over both shards"
    every_number = [n for numbers in by_shard.values() for n in numbers]
    assert len(set(every_number)) == len(every_number), "unique within the stream"
    for shard, numbers in by_shard.items():
        for number in numbers:
            assert SEQUENCE_NUMBER_RE.match(number), number
        values = [int(n) for n in numbers]
        assert values == sorted(values) and len(set(values)) == len(values), shard
        assert values[0] >= starting[shard]


def test_sequence_number_for_ordering_gives_a_larger_number(kinesis, new_stream):
    name = new_stream(shard_count=1)

    first = kinesis.put_record(StreamName=name, Data=b"1", PartitionKey="k")
    second = kinesis.put_record(StreamName=name, Data=b"2", PartitionKey="k",
                                SequenceNumberForOrdering=first["SequenceNumber"])
    third = kinesis.put_record(StreamName=name, Data=b"3", PartitionKey="k",
                               SequenceNumberForOrdering=second["SequenceNumber"])

    assert int(first["SequenceNumber"]) < int(second["SequenceNumber"]) < int(third["SequenceNumber"])
    assert [r["Data"] for r in read_shard(kinesis, name, shard_id(0))] == [b"1", b"2", b"3"]


def test_record_at_the_size_limit_is_accepted_and_one_byte_more_is_not(kinesis, new_stream):
    name = new_stream(shard_count=1)
    key = "size-key"  # the limit counts the partition key's bytes with the data
    largest = os.urandom(ONE_MIB - len(key))

    result = kinesis.put_record(StreamName=name, Data=largest, PartitionKey=key)
    with aws_error("ValidationException"):
        kinesis.put_record(StreamName=name, Data=largest + b"!", PartitionKey=key)
    with aws_error("ValidationException"):
        kinesis.put_records(StreamName=name, Records=[
            {"Data": b"small", "PartitionKey": "k"},
            {"Data": largest + b"!", "PartitionKey": key},
        ])

    records = read_shard(kinesis, name, shard_id(0))
    assert [r["SequenceNumber"] for r in records] == [result["SequenceNumber"]], \
        "the rejected requests stored nothing"
    assert records[0]["Data"] == largest


def test_max_record_size_is_set_per_stream(kinesis, new_stream):
    name = new_stream(shard_count=1, MaxRecordSizeInKiB=2048)
    big = os.urandom(ONE_MIB + ONE_MIB // 2)

    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    kinesis.put_record(StreamName=name, Data=big, PartitionKey="k")
    with aws_error("ValidationException"):
        kinesis.put_record(StreamName=name, Data=os.urandom(2 * ONE_MIB), PartitionKey="k")

    assert summary["MaxRecordSizeInKiB"] == 2048
    assert [r["Data"] for r in read_shard(kinesis, name, shard_id(0))] == [big]


# --- PutRecords ----------------------------------------------------------------------------------


def test_put_records_500_results_in_request_order(kinesis, new_stream):
    name = new_stream(shard_count=3)
    shards = all_shards(kinesis, name)
    entries = [{"Data": f"record-{i}".encode(), "PartitionKey": f"pk-{i}"} for i in range(500)]

    response = kinesis.put_records(StreamName=name, Records=entries)

    assert response.get("FailedRecordCount", 0) == 0
    assert len(response["Records"]) == 500
    for entry, result in zip(entries, response["Records"]):
        assert "ErrorCode" not in result
        assert SEQUENCE_NUMBER_RE.match(result["SequenceNumber"])
        assert result["ShardId"] == shard_holding(shards, hash_key_of(entry["PartitionKey"]))
    stored = {(shard, r["SequenceNumber"]): (r["Data"], r["PartitionKey"])
              for shard, records in read_stream(kinesis, name).items() for r in records}
    assert len(stored) == 500
    for entry, result in zip(entries, response["Records"]):
        assert stored[(result["ShardId"], result["SequenceNumber"])] == (
            entry["Data"], entry["PartitionKey"]), "result i describes request entry i"


def test_put_records_with_explicit_hash_keys(kinesis, new_stream):
    name = new_stream(shard_count=2)

    response = kinesis.put_records(StreamName=name, Records=[
        {"Data": b"a", "PartitionKey": "k", "ExplicitHashKey": str(MAX_HASH_KEY)},
        {"Data": b"b", "PartitionKey": "k", "ExplicitHashKey": "0"},
        {"Data": b"c", "PartitionKey": "k", "ExplicitHashKey": str(2**127)},
    ])

    assert [r["ShardId"] for r in response["Records"]] == [shard_id(1), shard_id(0), shard_id(1)]


def test_put_records_501_entries_are_rejected(kinesis, new_stream):
    name = new_stream(shard_count=1)
    entries = [{"Data": b"x", "PartitionKey": "k"} for _ in range(501)]

    with aws_error("ValidationException") as error:
        kinesis.put_records(StreamName=name, Records=entries)

    message = error.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected: Value '")
    assert message.endswith("at 'records' failed to satisfy constraint: "
                            "Member must have length less than or equal to 500")
    assert read_shard(kinesis, name, shard_id(0)) == []


# --- GetShardIterator and GetRecords -------------------------------------------------------------


PAYLOADS = [
    b"\x00",
    bytes(range(256)),
    b"\xff" * 3000,
    "héllo wörld ✓ 🙂".encode(),
    b'\r\n\t "quoted" \\ {"json": [1, 2]} \x7f',
    os.urandom(50_000),
]


def test_data_round_trips_byte_exact_in_sequence_order(kinesis, new_stream):
    name = new_stream(shard_count=1)
    started = datetime.now(timezone.utc)

    put = [kinesis.put_record(StreamName=name, Data=data, PartitionKey=f"pk-{i}")
           for i, data in enumerate(PAYLOADS)]
    records = read_shard(kinesis, name, shard_id(0))

    assert [r["Data"] for r in records] == PAYLOADS
    assert [r["PartitionKey"] for r in records] == [f"pk-{i}" for i in range(len(PAYLOADS))]
    assert [r["SequenceNumber"] for r in records] == [p["SequenceNumber"] for p in put]
    numbers = [int(r["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers)
    for record in records:
        arrival = record["ApproximateArrivalTimestamp"]
        assert isinstance(arrival, datetime) and arrival.tzinfo is not None
        assert started - timedelta(seconds=5) < arrival < datetime.now(timezone.utc) + timedelta(
            seconds=5)
        assert record.get("EncryptionType", "NONE") == "NONE"


def test_empty_data_round_trips(kinesis, new_stream):
    name = new_stream(shard_count=1)

    kinesis.put_record(StreamName=name, Data=b"", PartitionKey="empty")
    kinesis.put_records(StreamName=name, Records=[{"Data": b"", "PartitionKey": "empty"}])

    assert [r["Data"] for r in read_shard(kinesis, name, shard_id(0))] == [b"", b""]


def test_get_records_limit_and_paging(kinesis, new_stream):
    name = new_stream(shard_count=1)
    sent = [b"r%02d" % i for i in range(10)]
    kinesis.put_records(StreamName=name, Records=[{"Data": d, "PartitionKey": "k"} for d in sent])

    first = kinesis.get_records(ShardIterator=iterator_for(kinesis, name, shard_id(0)), Limit=3)
    rest, last = read_to_end(kinesis, first["NextShardIterator"], limit=3)

    assert [r["Data"] for r in first["Records"]] == sent[:3]
    assert first["MillisBehindLatest"] >= 0
    assert [r["Data"] for r in rest] == sent[3:]
    assert last["MillisBehindLatest"] == 0
    assert last["NextShardIterator"]


def test_get_records_returns_at_most_10_mib(kinesis, new_stream):
    name = new_stream(shard_count=1)
    sent = [bytes([i]) * (ONE_MIB - 1) for i in range(12)]  # 1 MiB each with the key "k"
    for data in sent:
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")

    first = kinesis.get_records(ShardIterator=iterator_for(kinesis, name, shard_id(0)))
    rest, _ = read_to_end(kinesis, first["NextShardIterator"])

    returned = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in first["Records"])
    assert 1 <= len(first["Records"]) <= 10 and returned <= 10 * ONE_MIB
    assert first["MillisBehindLatest"] >= 0
    assert [r["Data"] for r in first["Records"] + rest] == sent


def test_empty_shard_returns_no_records_and_a_next_iterator(kinesis, new_stream):
    name = new_stream(shard_count=1)

    response = kinesis.get_records(ShardIterator=iterator_for(kinesis, name, shard_id(0)))

    assert response["Records"] == []
    assert response["MillisBehindLatest"] == 0
    assert response["NextShardIterator"]
    again = kinesis.get_records(ShardIterator=response["NextShardIterator"])
    assert again["Records"] == [] and again["NextShardIterator"]


def test_next_iterator_sees_records_written_later(kinesis, new_stream):
    name = new_stream(shard_count=1)
    caught_up = kinesis.get_records(ShardIterator=iterator_for(kinesis, name, shard_id(0)))

    kinesis.put_record(StreamName=name, Data=b"later", PartitionKey="k")
    response = kinesis.get_records(ShardIterator=caught_up["NextShardIterator"])

    assert [r["Data"] for r in response["Records"]] == [b"later"]
    assert response["MillisBehindLatest"] == 0


def test_shard_iterators_are_short_reusable_strings(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.put_records(StreamName=name, Records=[{"Data": b"a", "PartitionKey": "k"},
                                                  {"Data": b"b", "PartitionKey": "k"}])

    iterator = iterator_for(kinesis, name, shard_id(0))
    first = kinesis.get_records(ShardIterator=iterator)
    second = kinesis.get_records(ShardIterator=iterator)

    assert isinstance(iterator, str) and 1 <= len(iterator) <= 512
    assert isinstance(first["NextShardIterator"], str) and len(first["NextShardIterator"]) <= 512
    assert [r["Data"] for r in first["Records"]] == [b"a", b"b"]
    assert [r["SequenceNumber"] for r in second["Records"]] == [
        r["SequenceNumber"] for r in first["Records"]], "an iterator is a position, reusable"


def test_latest_iterator_skips_existing_records(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.put_record(StreamName=name, Data=b"before", PartitionKey="k")

    iterator = iterator_for(kinesis, name, shard_id(0), "LATEST")
    empty = kinesis.get_records(ShardIterator=iterator)
    kinesis.put_record(StreamName=name, Data=b"after", PartitionKey="k")

    assert empty["Records"] == []
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"after"]
    assert [r["Data"] for r in kinesis.get_records(
        ShardIterator=empty["NextShardIterator"])["Records"]] == [b"after"]


def test_at_and_after_sequence_number(kinesis, new_stream):
    name = new_stream(shard_count=1)
    sent = [b"s%d" % i for i in range(5)]
    numbers = [kinesis.put_record(StreamName=name, Data=d, PartitionKey="k")["SequenceNumber"]
               for d in sent]

    def read_from(iterator_type, number):
        iterator = iterator_for(kinesis, name, shard_id(0), iterator_type,
                                StartingSequenceNumber=number)
        return [r["Data"] for r in read_to_end(kinesis, iterator)[0]]

    assert read_from("AT_SEQUENCE_NUMBER", numbers[2]) == sent[2:]
    assert read_from("AFTER_SEQUENCE_NUMBER", numbers[2]) == sent[3:]
    assert read_from("AT_SEQUENCE_NUMBER", numbers[0]) == sent
    assert read_from("AFTER_SEQUENCE_NUMBER", numbers[-1]) == []


def test_at_timestamp_before_the_first_record_reads_everything(kinesis, new_stream):
    name = new_stream(shard_count=1)
    sent = [b"t%d" % i for i in range(3)]
    for data in sent:
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")

    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    iterator = iterator_for(kinesis, name, shard_id(0), "AT_TIMESTAMP", Timestamp=an_hour_ago)

    assert [r["Data"] for r in read_to_end(kinesis, iterator)[0]] == sent


def test_at_timestamp_starts_at_the_first_record_at_or_after_it(kinesis, new_stream):
    name = new_stream(shard_count=1)
    for data in (b"early-1", b"early-2"):
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")
    early = read_shard(kinesis, name, shard_id(0))
    # botocore sends AT_TIMESTAMP in whole seconds, so the boundary between the two batches is
    # the next whole second after the first batch arrived (at most a second's wait).
    boundary = math.floor(max(r["ApproximateArrivalTimestamp"].timestamp() for r in early)) + 1
    while time.time() < boundary + 0.05:
        time.sleep(0.01)
    for data in (b"late-1", b"late-2"):
        kinesis.put_record(StreamName=name, Data=data, PartitionKey="k")

    iterator = iterator_for(kinesis, name, shard_id(0), "AT_TIMESTAMP",
                            Timestamp=datetime.fromtimestamp(boundary, timezone.utc))

    assert [r["Data"] for r in read_to_end(kinesis, iterator)[0]] == [b"late-1", b"late-2"]


def test_sequence_number_of_another_shard_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=2)
    on_shard_1 = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k",
                                    ExplicitHashKey=str(MAX_HASH_KEY))
    assert on_shard_1["ShardId"] == shard_id(1)

    for iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
        with aws_error("InvalidArgumentException"):
            iterator_for(kinesis, name, shard_id(0), iterator_type,
                         StartingSequenceNumber=on_shard_1["SequenceNumber"])


@pytest.mark.parametrize("iterator_type, extra", [
    ("AT_SEQUENCE_NUMBER", {}),
    ("AFTER_SEQUENCE_NUMBER", {}),
    ("AT_TIMESTAMP", {}),
    ("TRIM_HORIZON", {"StartingSequenceNumber": "SEQ"}),
    ("LATEST", {"StartingSequenceNumber": "SEQ"}),
])
def test_iterator_type_and_arguments_must_agree(kinesis, new_stream, iterator_type, extra):
    name = new_stream(shard_count=1)
    number = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")["SequenceNumber"]
    extra = {key: number if value == "SEQ" else value for key, value in extra.items()}

    with aws_error("InvalidArgumentException"):
        iterator_for(kinesis, name, shard_id(0), iterator_type, **extra)


def test_missing_shard_is_resource_not_found(kinesis, new_stream):
    name = new_stream(shard_count=2)

    with aws_error("ResourceNotFoundException"):
        iterator_for(kinesis, name, shard_id(2))


def test_garbage_shard_iterator_is_invalid(kinesis):
    with aws_error("InvalidArgumentException"):
        kinesis.get_records(ShardIterator="this-is-not-a-shard-iterator")
    with aws_error("InvalidArgumentException"):
        kinesis.get_records(ShardIterator="AAAAAAAAAAF" + "A" * 100)


def test_tampered_shard_iterator_is_invalid(kinesis, new_stream):
    name = new_stream(shard_count=1)
    kinesis.put_record(StreamName=name, Data=b"secret", PartitionKey="k")
    iterator = iterator_for(kinesis, name, shard_id(0))

    middle = len(iterator) // 2
    replacement = "B" if iterator[middle] != "B" else "C"
    tampered = iterator[:middle] + replacement + iterator[middle + 1:]

    with aws_error("InvalidArgumentException"):
        kinesis.get_records(ShardIterator=tampered)


def test_get_records_limit_above_10000_is_rejected(kinesis, new_stream):
    name = new_stream(shard_count=1)
    iterator = iterator_for(kinesis, name, shard_id(0))

    # The model's docs say InvalidArgumentException, its constraint says ValidationException;
    # either way the call must fail.
    with pytest.raises(ClientError) as error:
        kinesis.get_records(ShardIterator=iterator, Limit=10001)
    assert error.value.response["Error"]["Code"] in (
        "ValidationException", "InvalidArgumentException")
