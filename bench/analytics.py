"""Kinesis Data Analytics: a tumbling-window COUNT/SUM GROUP BY key over 1,000 keys, end to end
through a running application (targets: >= 1,000,000 events/s per core; p99 <= 100 ms from a
window's close to its row on the output stream, default settings).

Run by bench/analytics.sh, which builds what is needed. Each run starts a fresh `spate serve`
(release, fsync durability) and creates an input stream, an output stream and an application:

    SELECT STREAM k, COUNT(*), SUM(v) ... GROUP BY k, STEP(ROWTIME BY INTERVAL '1' SECOND)

Records carry 1,000 events each (`{"events":[{"k":..,"v":..},...]}`, row path
`$.events[0:]`), put 100 to a PutRecords call.

The server runs with `--quotas off` (the load is far above the shards' write quotas).

- Throughput: --events events are put as fast as boto3 can; the run ends when the output's
  COUNTs add up to them. Events per second per core = events / the server's CPU seconds over
  that time (ingest, storage, reading, parsing, the engine, output), and events/s of wall time.
- Latency: then a steady --rate events/s for --seconds; for every window row on the output
  stream, the delay is its record's ApproximateArrivalTimestamp minus the window's end (the
  row's ROWTIME, selected into the output), both on the server's clock.

The baseline measured in the same run is the same aggregation in plain Python (json.loads and a
dict) over the same records on one core. Medians of --runs runs are printed, and with --write
appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import cpu_seconds, free_port, report, runs, wait_http  # noqa: E402

KEYS = 1000
EVENTS_PER_RECORD = 1000
RECORDS_PER_CALL = 100
ROLE = "arn:aws:iam::123456789012:role/bench"
CODE = """
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (
    window_end TIMESTAMP, k VARCHAR(16), events BIGINT, total BIGINT);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
    SELECT STREAM ROWTIME, k, COUNT(*), SUM(v)
    FROM "SOURCE_SQL_STREAM_001"
    GROUP BY k, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' SECOND);
"""


def record(index: int) -> bytes:
    events = [{"k": f"key-{(index * EVENTS_PER_RECORD + n) * 7919 % KEYS:04d}", "v": n % 100}
              for n in range(EVENTS_PER_RECORD)]
    return json.dumps({"events": events}, separators=(",", ":")).encode()


def calls(count: int) -> list[list[dict]]:
    """`count` PutRecords batches of records (the same records reused; their content does
    not matter to the engine's cost, only their shape)."""
    records = [record(i) for i in range(RECORDS_PER_CALL)]
    batch = [{"Data": data, "PartitionKey": str(i)} for i, data in enumerate(records)]
    return [batch] * count


def clients(endpoint: str):
    config = Config(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=16)
    kwargs = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                  aws_secret_access_key="test", config=config)
    return boto3.client("kinesis", **kwargs), boto3.client("kinesisanalytics", **kwargs)


def wait_active(kinesis, name: str) -> str:
    while True:
        description = kinesis.describe_stream(StreamName=name)["StreamDescription"]
        if description["StreamStatus"] == "ACTIVE":
            return description["StreamARN"]
        time.sleep(0.05)


class OutputReader(threading.Thread):
    """Reads every shard of the output stream from TRIM_HORIZON, collecting rows with their
    records' arrival times."""

    def __init__(self, kinesis, stream: str):
        super().__init__(daemon=True)
        self.kinesis, self.stream = kinesis, stream
        self.rows: list[tuple[dict, float]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        shards = self.kinesis.list_shards(StreamName=self.stream)["Shards"]
        iterators = [self.kinesis.get_shard_iterator(
            StreamName=self.stream, ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON")["ShardIterator"] for shard in shards]
        while not self.stop.is_set():
            got = False
            for index, iterator in enumerate(iterators):
                answer = self.kinesis.get_records(ShardIterator=iterator, Limit=10000)
                iterators[index] = answer["NextShardIterator"]
                for rec in answer["Records"]:
                    got = True
                    arrival = rec["ApproximateArrivalTimestamp"].timestamp()
                    for line in rec["Data"].decode().splitlines():
                        if line.strip():
                            with self.lock:
                                self.rows.append((json.loads(line), arrival))
            if not got:
                time.sleep(0.02)

    def events(self) -> int:
        with self.lock:
            return sum(row["EVENTS"] for row, _ in self.rows)

    def take(self) -> list[tuple[dict, float]]:
        with self.lock:
            rows, self.rows = self.rows, []
        return rows


def window_end(row: dict) -> float:
    text = row["WINDOW_END"]
    parsed = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f")
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def one_run(args, spate: str, work: Path) -> dict:
    import subprocess
    port = free_port()
    log = open(work / "spate.log", "wb")
    env = {**os.environ, "SPATE_LOG": "warn"}
    # Quotas off: the load is far above a few shards' 1 MB/s; the engine is measured.
    server = subprocess.Popen([spate, "serve", "--listen", f"127.0.0.1:{port}",
                               "--data-dir", str(work / "data"), "--quotas", "off"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_http(f"{endpoint}/health")
        kinesis, analytics = clients(endpoint)
        kinesis.create_stream(StreamName="in", ShardCount=args.shards)
        kinesis.create_stream(StreamName="out", ShardCount=1)
        in_arn, out_arn = wait_active(kinesis, "in"), wait_active(kinesis, "out")
        analytics.create_application(
            ApplicationName="bench", ApplicationCode=CODE,
            Inputs=[{"NamePrefix": "SOURCE_SQL_STREAM",
                     "KinesisStreamsInput": {"ResourceARN": in_arn, "RoleARN": ROLE},
                     "InputSchema": {
                         "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {
                             "JSONMappingParameters": {"RecordRowPath": "$.events[0:]"}}},
                         "RecordEncoding": "UTF-8",
                         "RecordColumns": [
                             {"Name": "K", "SqlType": "VARCHAR(16)", "Mapping": "$.events[0:].k"},
                             {"Name": "V", "SqlType": "BIGINT", "Mapping": "$.events[0:].v"}]}}],
            Outputs=[{"Name": "DESTINATION_SQL_STREAM",
                      "KinesisStreamsOutput": {"ResourceARN": out_arn, "RoleARN": ROLE},
                      "DestinationSchema": {"RecordFormatType": "JSON"}}])
        input_id = analytics.describe_application(ApplicationName="bench")[
            "ApplicationDetail"]["InputDescriptions"][0]["InputId"]
        analytics.start_application(ApplicationName="bench", InputConfigurations=[{
            "Id": input_id,
            "InputStartingPositionConfiguration": {"InputStartingPosition": "NOW"}}])
        while analytics.describe_application(ApplicationName="bench")[
                "ApplicationDetail"]["ApplicationStatus"] != "RUNNING":
            time.sleep(0.05)
        reader = OutputReader(kinesis, "out")
        reader.start()

        # Throughput.
        batches = calls(args.events // (EVENTS_PER_RECORD * RECORDS_PER_CALL))
        sent = len(batches) * RECORDS_PER_CALL * EVENTS_PER_RECORD
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        senders = []
        chunk = (len(batches) + args.connections - 1) // args.connections
        for n in range(args.connections):
            mine = batches[n * chunk:(n + 1) * chunk]
            client, _ = clients(endpoint)

            def send(mine=mine, client=client):
                for batch in mine:
                    answer = client.put_records(StreamName="in", Records=batch)
                    if answer.get("FailedRecordCount"):
                        raise RuntimeError(f"{answer['FailedRecordCount']} records failed")
            thread = threading.Thread(target=send)
            thread.start()
            senders.append(thread)
        for thread in senders:
            thread.join()
        put_seconds = time.monotonic() - started
        deadline = time.monotonic() + 600
        while reader.events() < sent:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {reader.events()} of {sent} events counted")
            time.sleep(0.05)
        seconds = time.monotonic() - started
        cpu = cpu_seconds(server.pid) - cpu_before
        if reader.events() != sent:
            raise RuntimeError(f"counted {reader.events()} events, sent {sent}")
        reader.take()

        # Latency at a steady rate.
        per_call = RECORDS_PER_CALL * EVENTS_PER_RECORD
        interval = per_call / args.rate
        small = calls(1)[0]
        deadline = time.monotonic() + args.seconds
        next_call = time.monotonic()
        while time.monotonic() < deadline:
            kinesis.put_records(StreamName="in", Records=small)
            next_call += interval
            time.sleep(max(0.0, next_call - time.monotonic()))
        time.sleep(2.5)
        rows = reader.take()
        reader.stop.set()
        delays = sorted({(row["WINDOW_END"], row["K"]): (arrival - window_end(row)) * 1000
                         for row, arrival in rows}.values())
        if len(delays) < 10:
            raise RuntimeError(f"only {len(delays)} window rows in the latency phase")
        return {"events_per_core_s": sent / cpu, "events_per_s": sent / seconds,
                "put_events_per_s": sent / put_seconds, "cpu_s": cpu,
                "p50_ms": delays[len(delays) // 2],
                "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
                "windows": len({row["WINDOW_END"] for row, _ in rows})}
    finally:
        server.kill()
        server.wait()
        log.close()


def python_baseline(seconds: float = 3.0) -> float:
    """Events/s of the same aggregation in plain Python on one core."""
    records = [record(i) for i in range(RECORDS_PER_CALL)]
    counted = 0
    started = time.monotonic()
    groups: dict[str, list[int]] = {}
    while time.monotonic() - started < seconds:
        for data in records:
            for event in json.loads(data)["events"]:
                group = groups.setdefault(event["k"], [0, 0])
                group[0] += 1
                group[1] += event["v"]
            counted += EVENTS_PER_RECORD
    return counted / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rate", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spate", required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    results, baselines = [], []

    def one(run: int, work: Path) -> None:
        result = one_run(args, args.spate, work)
        results.append(result)
        baselines.append(python_baseline())
        print(f"run {run}: {result['events_per_core_s'] / 1e6:.2f} M events/s per core "
              f"({result['events_per_s'] / 1e6:.2f} M/s wall, puts "
              f"{result['put_events_per_s'] / 1e6:.2f} M/s, server CPU {result['cpu_s']:.1f} s)"
              f"; window close to output p50 {result['p50_ms']:.1f} ms, p99 "
              f"{result['p99_ms']:.1f} ms over {result['windows']} windows; Python baseline "
              f"{baselines[-1] / 1e6:.2f} M events/s", flush=True)

    runs(args.runs, "spate-analytics-bench-", one)
    median = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    baseline = statistics.median(baselines)
    report(
        "Analytics tumbling COUNT/SUM over 1,000 keys",
        f"Load generator (boto3) and Spate on the same machine. {args.events:,} events in "
        f"records of {EVENTS_PER_RECORD} (PutRecords of {RECORDS_PER_CALL}) over {args.shards} "
        f"shards, then {args.rate:,} events/s for {args.seconds} s for latency. 1-second "
        f"windows, JSON output to a Kinesis stream. Medians of {args.runs} runs.",
        [
            ("Events per second per core of server CPU (target 1,000,000)",
             f"{median('events_per_core_s'):,.0f}"),
            ("Events per second, wall clock (first put to last window counted)",
             f"{median('events_per_s'):,.0f}"),
            ("Window close to its row on the output stream, p50", f"{median('p50_ms'):.1f} ms"),
            ("Window close to its row on the output stream, p99 (target 100 ms)",
             f"{median('p99_ms'):.1f} ms"),
            ("Baseline: the same aggregation in plain Python, one core",
             f"{baseline:,.0f} events/s"),
            ("Per core / baseline", f"{median('events_per_core_s') / baseline:.1f}x"),
        ],
        args.write,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
