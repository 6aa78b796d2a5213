"""Firehose delivery throughput to S3 with GZIP: how many MB/s of records Spate takes in,
buffers durably, compresses and writes to an S3-compatible server (s3s-fs), end to end.

Run by bench/firehose.sh, which builds what is needed. Each run starts a fresh s3s-fs and a
fresh `spate serve` (release, fsync durability), creates a bucket and a delivery stream
(ExtendedS3, GZIP, 64 MiB / 1 s buffering), drives it with `spate bench firehose-put`
(PutRecordBatch of 500 JSON log lines), and polls the bucket until every byte sent is in a
delivered object (uncompressed size from each gzip trailer). Delivered MB/s is the bytes sent
divided by the time from the first put to the moment the last byte was delivered. The baseline
measured in the same run is single-core `gzip` at the same level (`--gzip-level`, Spate's
default 1, set through `[firehose] gzip_level`) of the same bytes.
Medians of --runs runs are printed, and with --write appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import cpu_seconds, free_port, report, runs, wait_http  # noqa: E402

KEY, SECRET = "spate-bench", "spate-bench-secret"


def gzip_trailer_size(path: Path) -> int:
    """The uncompressed size a gzip member records in its last four bytes (mod 2^32)."""
    with open(path, "rb") as file:
        file.seek(-4, os.SEEK_END)
        return int.from_bytes(file.read(4), "little")


def one_run(args, s3s_fs: str, spate: str, work: Path) -> dict:
    s3_port, spate_port = free_port(), free_port()
    s3_root = work / "s3"
    s3_root.mkdir(parents=True)
    s3_log = open(work / "s3s-fs.log", "wb")
    spate_log = open(work / "spate.log", "wb")
    s3 = subprocess.Popen([s3s_fs, "--host", "127.0.0.1", "--port", str(s3_port),
                           "--access-key", KEY, "--secret-key", SECRET, str(s3_root)],
                          stdout=s3_log, stderr=subprocess.STDOUT)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
           "SPATE_LOG": "warn"}
    config_file = work / "spate.toml"
    config_file.write_text(f"[firehose]\ngzip_level = {args.gzip_level}\n")
    server = subprocess.Popen([spate, "serve", "--listen", f"127.0.0.1:{spate_port}",
                               "--data-dir", str(work / "data"), "--config", str(config_file),
                               "--s3-endpoint", f"http://127.0.0.1:{s3_port}"],
                              stdout=spate_log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_http(f"http://127.0.0.1:{s3_port}/")
        wait_http(f"http://127.0.0.1:{spate_port}/health")
        config = Config(retries={"max_attempts": 2})
        s3_client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}",
                                 region_name="us-east-1", aws_access_key_id=KEY,
                                 aws_secret_access_key=SECRET, config=config)
        s3_client.create_bucket(Bucket="bench")
        firehose = boto3.client("firehose", endpoint_url=f"http://127.0.0.1:{spate_port}",
                                region_name="us-east-1", aws_access_key_id="test",
                                aws_secret_access_key="test", config=config)
        firehose.create_delivery_stream(
            DeliveryStreamName="bench",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/bench",
                "BucketARN": "arn:aws:s3:::bench",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
                "CompressionFormat": "GZIP"})
        while firehose.describe_delivery_stream(DeliveryStreamName="bench")[
                "DeliveryStreamDescription"]["DeliveryStreamStatus"] != "ACTIVE":
            time.sleep(0.05)
        expected = args.records * args.record_size
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        load = subprocess.run(
            [spate, "bench", "firehose-put", "--endpoint", f"http://127.0.0.1:{spate_port}",
             "--stream", "bench", "--records-per-call", "500",
             "--record-size", str(args.record_size), "--connections", str(args.connections),
             "--count", str(args.records), "--json"],
            capture_output=True, text=True, check=True)
        put_seconds = time.monotonic() - started
        delivered = 0
        deadline = time.monotonic() + 300
        while delivered < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {delivered} of {expected} bytes delivered")
            time.sleep(0.1)
            delivered = sum(gzip_trailer_size(p) for p in (s3_root / "bench").rglob("*.gz")
                            if p.is_file())
        seconds = time.monotonic() - started
        cpu = cpu_seconds(server.pid) - cpu_before
        objects = [p for p in (s3_root / "bench").rglob("*.gz") if p.is_file()]
        compressed = sum(p.stat().st_size for p in objects)
        if delivered != expected:
            raise RuntimeError(f"delivered {delivered} bytes, sent {expected}")
        return {"delivered_mb_s": expected / seconds / 1e6,
                "put_mb_s": expected / put_seconds / 1e6,
                "server_cpu_s_per_gb": cpu / (expected / 1e9),
                "objects": len(objects), "ratio": expected / compressed,
                "load": load.stdout}
    finally:
        for process in (server, s3):
            process.kill()
            process.wait()
        s3_log.close()
        spate_log.close()


def gzip_baseline(s3_root: Path, level: int) -> float:
    """Single-core `gzip -LEVEL` MB/s over the records of one delivered object (the same data)."""
    objects = sorted(p for p in s3_root.rglob("*.gz") if p.is_file())
    data = subprocess.run(["gzip", "-dc", str(objects[0])], capture_output=True,
                          check=True).stdout
    started = time.monotonic()
    subprocess.run(["gzip", f"-{level}", "-c"], input=data, stdout=subprocess.DEVNULL, check=True)
    return len(data) / (time.monotonic() - started) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4_000_000)
    parser.add_argument("--record-size", type=int, default=1024)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gzip-level", type=int, default=1, choices=range(1, 10))
    parser.add_argument("--spate", required=True)
    parser.add_argument("--s3s-fs", required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    results, baselines = [], []

    def one(run: int, work: Path) -> None:
        result = one_run(args, args.s3s_fs, args.spate, work / "run")
        baselines.append(gzip_baseline(work / "run" / "s3", args.gzip_level))
        results.append(result)
        print(f"run {run}: delivered {result['delivered_mb_s']:.1f} MB/s "
              f"(puts {result['put_mb_s']:.1f} MB/s), {result['objects']} objects, "
              f"gzip ratio {result['ratio']:.1f}, server CPU "
              f"{result['server_cpu_s_per_gb']:.2f} s/GB; gzip -{args.gzip_level} one core "
              f"{baselines[-1]:.1f} MB/s", flush=True)

    runs(args.runs, "spate-firehose-bench-", one)
    delivered = statistics.median(r["delivered_mb_s"] for r in results)
    puts = statistics.median(r["put_mb_s"] for r in results)
    cpu = statistics.median(r["server_cpu_s_per_gb"] for r in results)
    baseline = statistics.median(baselines)
    ratio = statistics.median(r["ratio"] for r in results)
    report(
        "Firehose delivery to S3 with GZIP",
        f"Load generator, Spate and s3s-fs on the same machine. {args.records:,} records of "
        f"{args.record_size} bytes ({args.records * args.record_size / 1e9:.2f} GB), "
        f"PutRecordBatch of 500, {args.connections} connections; delivery stream 64 MiB / 1 s "
        f"buffering, GZIP at level {args.gzip_level}. Medians of {args.runs} runs.",
        [
            ("Delivered to S3 (first put to last byte delivered)", f"{delivered:.1f} MB/s"),
            ("Accepted by PutRecordBatch", f"{puts:.1f} MB/s"),
            ("Server CPU per GB delivered", f"{cpu:.2f} s"),
            ("Compression ratio", f"{ratio:.2f}"),
            (f"Baseline: `gzip -{args.gzip_level}` on one core, same data", f"{baseline:.1f} MB/s"),
            ("Delivered / baseline", f"{delivered / baseline:.2f}x"),
        ],
        args.write,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
