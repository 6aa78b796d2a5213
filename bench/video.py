"""Kinesis Video ingest: how many MB/s of media PutMedia takes in and makes durable (PERSISTED),
and how long after a fragment's last byte is sent it appears in a LIVE HLS media playlist.

Run by bench/video.sh, which builds what is needed. Each run starts a fresh `spate serve`
(release, fsync durability) and:

- **Ingest**: `--streams` streams, each fed one PutMedia (the raw chunked client of
  tests/python/video_putmedia.py, signed as the producer SDK signs) of `--fragments`
  synthetic fragments of `--fragment-mb` MB (one video track with the header of an ffmpeg-made
  H.264 file, 25 blocks per one-second fragment, random payload: PutMedia never decodes).
  Ingest MB/s = bytes sent / time from the first byte to the last PERSISTED acknowledgement.
  The baseline measured in the same run is the disk itself: the same bytes written in
  fragment-sized pieces, each followed by fsync (what one durable append at least costs), in
  the same directory.
- **PutMedia to LIVE HLS**: one stream fed one fragment a second (small fragments); a poller
  reads the LIVE session's media playlist every 20 ms; the delay of a fragment is from its last
  byte sent to the first playlist that lists its number.

Medians over --runs runs are printed, and with --write appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "python"))
from benchlib import free_port, report, runs, wait_http  # noqa: E402
import video_mkv  # noqa: E402
from video_putmedia import PutMediaSession  # noqa: E402

KEY, SECRET = "spate-bench", "spate-bench-secret"
FIXTURE = BENCH.parent / "crates" / "spate-mkv" / "tests" / "fixtures" / "av2.mkv"
BLOCKS_PER_FRAGMENT = 25
TRACK_ENTRY = 0xAE  # the fixture's first TrackEntry is its video track


def video_header() -> bytes:
    """EBML header, an unknown-size Segment, Info and a Tracks element holding only the
    fixture's video track (so every fragment needs only video blocks)."""
    data = FIXTURE.read_bytes()
    _, size, start = video_mkv.header_at(data, 0)
    out = data[:start + size] + bytes([0x18, 0x53, 0x80, 0x67, 0x01]) + b"\xff" * 7
    _, _, pos = video_mkv.header_at(data, start + size)
    while True:
        element_id, size, body = video_mkv.header_at(data, pos)
        if element_id == video_mkv.CLUSTER:
            return out
        if element_id == video_mkv.INFO:
            out += data[pos:body + size]
        if element_id == video_mkv.TRACKS:
            entries = [e for e in video_mkv.children(data, body, body + size)
                       if e.id == TRACK_ENTRY]
            out += video_mkv.element(video_mkv.TRACKS, data[entries[0].start:entries[0].end])
        pos = body + size


def fragment(index: int, size: int) -> bytes:
    """One known-size cluster at `index` seconds: 25 SimpleBlocks, the first a key frame."""
    block_bytes = max(size // BLOCKS_PER_FRAGMENT, 16)
    payload = os.urandom(block_bytes)
    blocks = b"".join(
        video_mkv.element(0xA3, bytes([0x81]) + (i * 40).to_bytes(2, "big")
                          + bytes([0x80 if i == 0 else 0x00]) + payload)
        for i in range(BLOCKS_PER_FRAGMENT))
    return video_mkv.element(video_mkv.CLUSTER,
                             video_mkv.uint_element(0xE7, index * 1000) + blocks)


class Server:
    def __init__(self, spate: str, work: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "spate.log", "wb")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
               "SPATE_LOG": "warn", "SPATE_VIDEO_CREATE_DELAY_MS": "10"}
        self.process = subprocess.Popen(
            [spate, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
             str(work / "data"), "--quotas", "off"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_http(f"{self.endpoint}/health")
        self.video = boto3.client("kinesisvideo", endpoint_url=self.endpoint,
                                  region_name="us-east-1", aws_access_key_id=KEY,
                                  aws_secret_access_key=SECRET,
                                  config=Config(retries={"max_attempts": 1}))

    def stream(self, name: str) -> None:
        self.video.create_stream(StreamName=name, DataRetentionInHours=24)
        while self.video.describe_stream(StreamName=name)["StreamInfo"]["Status"] != "ACTIVE":
            time.sleep(0.01)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.log.close()


def ingest(server: Server, args) -> tuple[float, int]:
    """MB/s from the first byte to the last PERSISTED, and the bytes sent."""
    header = video_header()
    size = int(args.fragment_mb * 1e6)
    bodies = []
    for s in range(args.streams):
        server.stream(f"ingest-{s}")
        bodies.append([header] + [fragment(i, size) for i in range(args.fragments)])
    total = sum(len(piece) for body in bodies for piece in body)
    counts = [0] * args.streams

    def send(s: int) -> None:
        with PutMediaSession(server.endpoint, f"ingest-{s}", bodies[s], chunk_bytes=256 * 1024,
                             credentials=(KEY, SECRET)) as session:
            status, _ = session.response_head()
            assert status == 200, status
            for ack in session.acks():
                if ack["EventType"] == "PERSISTED":
                    counts[s] += 1
                assert ack["EventType"] != "ERROR", ack

    started = time.monotonic()
    threads = [threading.Thread(target=send, args=(s,)) for s in range(args.streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    assert counts == [args.fragments] * args.streams, counts
    return total / seconds / 1e6, total


def disk_baseline(work: Path, total: int, fragment_bytes: int) -> float:
    """MB/s of writing `total` bytes in fragment-sized pieces, fsync after each."""
    piece = os.urandom(fragment_bytes)
    path = work / "baseline.bin"
    started = time.monotonic()
    with open(path, "wb") as file:
        written = 0
        while written < total:
            file.write(piece)
            file.flush()
            os.fsync(file.fileno())
            written += len(piece)
    seconds = time.monotonic() - started
    path.unlink()
    return written / seconds / 1e6


def live_delay(server: Server, args) -> list[float]:
    """Seconds from each fragment's last byte to its first listing in a LIVE playlist."""
    server.stream("live")
    header = video_header()
    sent_at: dict[int, float] = {}
    numbers: dict[int, str] = {}
    listed_at: dict[str, float] = {}
    done = threading.Event()

    def body():
        yield header
        for i in range(args.live_fragments):
            yield fragment(i, 50_000)
            sent_at[i] = time.monotonic()
            time.sleep(1.0)

    def produce():
        with PutMediaSession(server.endpoint, "live", body(), credentials=(KEY, SECRET),
                             chunk_bytes=1 << 20) as session:
            session.response_head()
            for ack in session.acks():
                if ack["EventType"] == "BUFFERING":
                    numbers[ack["FragmentTimecode"] // 1000] = ack["FragmentNumber"]
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    archived = boto3.client(
        "kinesis-video-archived-media", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}))
    while True:
        try:
            url = archived.get_hls_streaming_session_url(
                StreamName="live", PlaybackMode="LIVE",
                MaxMediaPlaylistFragmentResults=5)["HLSStreamingSessionURL"]
            break
        except archived.exceptions.ResourceNotFoundException:
            time.sleep(0.02)
    playlist = url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist")
    while not done.is_set():
        text = urllib.request.urlopen(playlist, timeout=5).read().decode()
        now = time.monotonic()
        for line in text.splitlines():
            if "&FragmentNumber=" in line:
                listed_at.setdefault(line.rsplit("=", 1)[1], now)
        time.sleep(0.02)
    producer.join()
    # The first fragment was listed before the session existed; leave it out.
    return [listed_at[numbers[i]] - sent_at[i] for i in range(1, args.live_fragments)
            if numbers.get(i) in listed_at]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--fragments", type=int, default=60)
    parser.add_argument("--fragment-mb", type=float, default=2.0)
    parser.add_argument("--live-fragments", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spate", required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    rates, baselines, p50s, p99s = [], [], [], []

    def one(run: int, work: Path) -> None:
        server = Server(args.spate, work)
        try:
            rate, total = ingest(server, args)
            delays = sorted(live_delay(server, args))
        finally:
            server.close()
        baselines.append(disk_baseline(work, total, int(args.fragment_mb * 1e6)))
        rates.append(rate)
        p50s.append(statistics.median(delays))
        p99s.append(delays[min(len(delays) - 1, int(len(delays) * 0.99))])
        print(f"run {run}: ingest {rate:.1f} MB/s, disk {baselines[-1]:.1f} MB/s, "
              f"LIVE HLS delay p50 {p50s[-1] * 1000:.0f} ms max {delays[-1] * 1000:.0f} ms",
              flush=True)

    runs(args.runs, "spate-video-bench-", one)
    rate, baseline = statistics.median(rates), statistics.median(baselines)
    report(
        "Kinesis Video ingest and PutMedia-to-LIVE-HLS delay",
        f"Producer and Spate (release, fsync durability) on the same machine. Ingest: "
        f"{args.streams} streams, each one PutMedia of {args.fragments} fragments of "
        f"{args.fragment_mb} MB. LIVE: one fragment a second, playlist polled every 20 ms. "
        f"Medians of {args.runs} runs.",
        [
            ("Ingest, first byte to last PERSISTED", f"{rate:.1f} MB/s"),
            ("Baseline: same bytes written with fsync per fragment", f"{baseline:.1f} MB/s"),
            ("Ingest / baseline", f"{rate / baseline:.2f}x"),
            ("PutMedia last byte to LIVE playlist, p50", f"{statistics.median(p50s) * 1000:.0f} ms"),
            ("PutMedia last byte to LIVE playlist, p99", f"{statistics.median(p99s) * 1000:.0f} ms"),
        ],
        args.write,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
