"""Crash test: writers run PutRecords in a loop, the server is killed with SIGKILL at a random
moment, restarted on the same data directory, and every acknowledged record must be read back
with the same shard, sequence number, partition key and data; nothing duplicated, per-shard order
by sequence number, and the stream itself (shards, retention, tags) intact. Three rounds.

Records whose request was in flight at the kill may or may not be there; if they are, they must
be whole, and once seen after a restart they must stay. Set SPATE_CRASH_SEED to replay a run's
choices (kill moments, keys, sizes); the seed is printed on failure.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from harness import (
    create_active_stream,
    kinesis_client,
    read_stream,
    wait_for_status,
)

pytestmark = pytest.mark.restart

STREAM = "crash"
SHARDS = 4
WRITERS = 4
ROUNDS = 3
TAGS = {"purpose": "crash-test", "owner": "tests"}
RETENTION_HOURS = 48


@dataclass(frozen=True)
class Sent:
    partition_key: str
    data: bytes


@dataclass(frozen=True)
class Acked:
    shard_id: str
    sequence_number: str
    sent: Sent


class Ledger:
    """What the writers sent and what the server acknowledged, keyed by a 16-byte record id that
    starts every record's data."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempted: dict[bytes, Sent] = {}
        self.acked: dict[bytes, Acked] = {}
        self.acked_in_round: list[set[bytes]] = []
        self.failed_entries = 0
        self.errors_before_kill: list[BaseException] = []


def writer(endpoint: str, ledger: Ledger, round_index: int, killed: threading.Event,
           seed: int) -> None:
    rng = random.Random(seed)
    client = kinesis_client(endpoint, read_timeout=10, max_pool_connections=1)
    while True:
        batch = []
        for _ in range(rng.randint(1, 25)):
            record_id = rng.randbytes(16)
            key = rng.choice([f"user-{rng.randint(0, 999)}", f"ключ-{rng.randint(0, 99)}",
                              rng.randbytes(8).hex()])
            batch.append((record_id, Sent(key, record_id + rng.randbytes(rng.randint(100, 500)))))
        with ledger.lock:
            ledger.attempted.update(batch)
        try:
            response = client.put_records(StreamName=STREAM, Records=[
                {"Data": sent.data, "PartitionKey": sent.partition_key} for _, sent in batch])
        except (BotoCoreError, ClientError) as err:
            if not killed.is_set():
                with ledger.lock:
                    ledger.errors_before_kill.append(err)
            return
        with ledger.lock:
            for (record_id, sent), result in zip(batch, response["Records"], strict=True):
                if "ErrorCode" in result:
                    ledger.failed_entries += 1
                    continue
                ledger.acked[record_id] = Acked(result["ShardId"], result["SequenceNumber"], sent)
                ledger.acked_in_round[round_index].add(record_id)


def stream_state(kinesis) -> dict:
    description = kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]
    tags = kinesis.list_tags_for_stream(StreamName=STREAM)["Tags"]
    return {
        "shards": description["Shards"],
        "status": description["StreamStatus"],
        "retention": description["RetentionPeriodHours"],
        "mode": description.get("StreamModeDetails"),
        "arn": description["StreamARN"],
        "tags": sorted((tag["Key"], tag.get("Value")) for tag in tags),
    }


def check_read_back(stored: dict[str, list[dict]], ledger: Ledger,
                    previous: dict[str, list[tuple[str, bytes]]] | None, context: str) -> None:
    seen: dict[bytes, tuple[str, str]] = {}
    for shard, records in stored.items():
        numbers = [int(record["SequenceNumber"]) for record in records]
        assert numbers == sorted(set(numbers)), f"{context}: {shard} not in sequence order"
        for record in records:
            record_id = record["Data"][:16]
            sent = ledger.attempted.get(record_id)
            assert sent is not None, f"{context}: {shard} holds a record nobody sent: {record}"
            assert (record["PartitionKey"], record["Data"]) == (sent.partition_key, sent.data), \
                f"{context}: record {record['SequenceNumber']} on {shard} is corrupted"
            assert record_id not in seen, (
                f"{context}: record stored twice, as {seen[record_id]} and "
                f"{(shard, record['SequenceNumber'])}")
            seen[record_id] = (shard, record["SequenceNumber"])

    missing = [(acked.shard_id, acked.sequence_number) for record_id, acked in
               ledger.acked.items() if record_id not in seen]
    assert not missing, (f"{context}: {len(missing)} of {len(ledger.acked)} acknowledged records "
                         f"are gone, e.g. {sorted(missing)[:5]}")
    for record_id, acked in ledger.acked.items():
        assert seen[record_id] == (acked.shard_id, acked.sequence_number), (
            f"{context}: acknowledged as {(acked.shard_id, acked.sequence_number)}, "
            f"read back as {seen[record_id]}")

    if previous is not None:
        for shard, old in previous.items():
            now = [(r["SequenceNumber"], r["Data"]) for r in stored[shard]]
            assert now[:len(old)] == old, \
                f"{context}: records read back after the previous restart changed on {shard}"


@pytest.fixture
def seed():
    value = int(os.environ.get("SPATE_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    print(f"SPATE_CRASH_SEED={value}")
    return value


def test_acknowledged_records_survive_sigkill(spate_factory, seed):
    rng = random.Random(seed)
    server = spate_factory()
    kinesis = kinesis_client(server.endpoint)
    create_active_stream(kinesis, STREAM, SHARDS)
    kinesis.add_tags_to_stream(StreamName=STREAM, Tags=TAGS)
    kinesis.increase_stream_retention_period(StreamName=STREAM,
                                             RetentionPeriodHours=RETENTION_HOURS)
    wait_for_status(kinesis, STREAM)
    original = stream_state(kinesis)
    assert original["retention"] == RETENTION_HOURS
    assert original["tags"] == sorted(TAGS.items())

    ledger = Ledger()
    previous: dict[str, list[tuple[str, bytes]]] | None = None
    for round_index in range(ROUNDS):
        context = f"round {round_index + 1} (SPATE_CRASH_SEED={seed})"
        ledger.acked_in_round.append(set())
        killed = threading.Event()
        threads = [
            threading.Thread(target=writer, name=f"writer-{i}",
                             args=(server.endpoint, ledger, round_index, killed,
                                   rng.randrange(2**32)), daemon=True)
            for i in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.5, 2.5))
        killed.set()
        server.kill()
        for thread in threads:
            thread.join(timeout=30)
            assert not thread.is_alive(), f"{context}: {thread.name} hangs after the kill"

        assert not ledger.errors_before_kill, \
            f"{context}: PutRecords failed before the kill: {ledger.errors_before_kill[:3]}"
        assert ledger.acked_in_round[round_index], f"{context}: nothing acknowledged before kill"

        server.start()
        kinesis = kinesis_client(server.endpoint)
        wait_for_status(kinesis, STREAM, timeout=30)
        assert stream_state(kinesis) == original, f"{context}: the stream changed"

        stored = read_stream(kinesis, STREAM)
        assert set(stored) == {shard["ShardId"] for shard in original["shards"]}
        check_read_back(stored, ledger, previous, context)
        if previous is not None:
            for shard, old in previous.items():
                if not old:
                    continue
                newest_before = int(old[-1][0])
                for record_id in ledger.acked_in_round[round_index]:
                    acked = ledger.acked[record_id]
                    if acked.shard_id == shard:
                        assert int(acked.sequence_number) > newest_before, (
                            f"{context}: {shard} handed out {acked.sequence_number} after "
                            f"the restart, not above {old[-1][0]} from before it")
        previous = {shard: [(r["SequenceNumber"], r["Data"]) for r in records]
                    for shard, records in stored.items()}
        print(f"{context}: {len(ledger.acked_in_round[round_index])} acknowledged, "
              f"{sum(len(r) for r in stored.values())} stored in all, "
              f"{ledger.failed_entries} failed entries so far")
