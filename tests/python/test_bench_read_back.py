"""`spate bench read-back`: every shard read from TRIM_HORIZON to its end; the JSON report's totals
must equal what was written, including a closed shard read through to its end."""

import json
import subprocess

import pytest

import harness


def run_bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(harness.spate_binary()), "bench", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def server(spate_factory):
    return spate_factory(env={"SPATE_QUOTAS": "off"})


def put(client, records: list[tuple[str, bytes]]):
    answer = client.put_records(StreamName="s", Records=[
        {"PartitionKey": key, "Data": data} for key, data in records])
    assert answer["FailedRecordCount"] == 0


def read_back(server, *extra: str) -> dict:
    result = run_bench("read-back", "--endpoint", server.endpoint, "--stream", "s", "--json",
                       *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_read_back_counts_every_record_and_byte(server):
    client = harness.kinesis_client(server.endpoint)
    client.create_stream(StreamName="s", ShardCount=3)
    client.get_waiter("stream_exists").wait(StreamName="s",
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    written = [(f"key-{i}", bytes([i % 256]) * (1 + i * 7)) for i in range(300)]
    for start in range(0, len(written), 100):
        put(client, written[start:start + 100])

    # A Limit smaller than a shard's share makes each reader follow NextShardIterator.
    report = read_back(server, "--connections", "2", "--limit", "7")
    assert report["workload"] == "read-back"
    assert report["stream"] == "s"
    assert report["records"] == len(written)
    assert report["bytes_read"] == sum(len(data) for _, data in written)
    assert report["shards"] == 3
    assert report["shards_abandoned"] == 0
    assert report["requests_failed"] == 0
    assert report["errors"] == {}
    assert report["records_per_call"] == 7
    assert report["requests"] >= len(written) // 7
    assert report["records_per_sec"] > 0 and report["mb_per_sec"] > 0
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]


def test_read_back_reads_closed_shards_to_their_end(server):
    client = harness.kinesis_client(server.endpoint)
    client.create_stream(StreamName="s", ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName="s",
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    put(client, [(f"before-{i}", b"x" * 10) for i in range(20)])
    parent = client.list_shards(StreamName="s")["Shards"][0]
    client.split_shard(StreamName="s", ShardToSplit=parent["ShardId"],
                       NewStartingHashKey=str(2**127))
    client.get_waiter("stream_exists").wait(StreamName="s",
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    put(client, [(f"after-{i}", b"y" * 5) for i in range(30)])

    report = read_back(server)
    assert report["shards"] == 3
    assert report["records"] == 50
    assert report["bytes_read"] == 20 * 10 + 30 * 5
    assert report["shards_abandoned"] == 0


def test_an_empty_stream_reads_nothing_and_fails(server):
    client = harness.kinesis_client(server.endpoint)
    client.create_stream(StreamName="s", ShardCount=2)
    client.get_waiter("stream_exists").wait(StreamName="s",
                                            WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    result = run_bench("read-back", "--endpoint", server.endpoint, "--stream", "s", "--json")
    assert result.returncode != 0
    report = json.loads(result.stdout)
    assert report["records"] == 0
    assert report["shards"] == 2
