"""Test media for the Video Streams suite, made with ffmpeg from its lavfi test sources and
cached outside the repository (in $SPATE_TOOLS_CACHE/video-media when set, else
~/.cache/spate-test-media), each file keyed by the ffmpeg command that made it; plus a live
`ffmpeg -re` feed writing MKV to a pipe.

Media (plan §6): 640x360 25 fps H.264 main (GOP 25: a key frame every second, no scene-cut key
frames) + AAC 48 kHz stereo, as Matroska:
- av10.mkv: 10 s, no B-frames; av10-bframes.mkv: the same with -bf 2;
- v10.mkv: video only; av60.mkv: 60 s (crash test).

Debian's ffmpeg 5.1 refuses the plan's `-dash 1` with two tracks ("Could not write header");
without it the matroska muxer still starts a cluster at each video key frame once the cluster
holds more than 4 KiB (always, at this size), and the time and size limits below keep it from
cutting anywhere else: 10 clusters for av10 (test_video_tools.py checks it).

ffmpeg and ffprobe come from scripts/video-tools-bin (installs the Debian package when missing).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VIDEO_TOOLS_BIN = REPO_ROOT / "scripts" / "video-tools-bin"


@dataclass(frozen=True)
class Media:
    seconds: int
    audio: bool = True
    bframes: int = 0


MEDIA = {
    "av10.mkv": Media(10),
    "av10-bframes.mkv": Media(10, bframes=2),
    "v10.mkv": Media(10, audio=False),
    "av60.mkv": Media(60),
}

WIDTH, HEIGHT, FPS = 640, 360, 25
SAMPLE_RATE = 48_000


def cache_dir() -> Path:
    root = os.environ.get("SPATE_TOOLS_CACHE")
    path = Path(root) / "video-media" if root else Path.home() / ".cache" / "spate-test-media"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_tools() -> None:
    """Makes sure ffmpeg and ffprobe are installed (scripts/video-tools-bin)."""
    subprocess.run([str(VIDEO_TOOLS_BIN)], check=True, stdout=subprocess.DEVNULL)


def input_args(seconds: float | None, audio: bool, realtime: bool = False) -> list[str]:
    """ffmpeg's inputs and mapping: testsrc2 (+ a 440 Hz sine), `seconds` long (None: endless)."""
    args = ["-re"] if realtime else []
    args += ["-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}"]
    if audio:
        if realtime:
            args += ["-re"]
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={SAMPLE_RATE}"]
    args += ["-map", "0:v"] + (["-map", "1:a"] if audio else [])
    if seconds is not None:
        args += ["-t", str(seconds)]
    return args


def encode_args(audio: bool, bframes: int) -> list[str]:
    """Encoders and the matroska muxer, clustering at video key frames only."""
    args = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
            "-bf", str(bframes), "-g", str(FPS), "-keyint_min", str(FPS), "-sc_threshold", "0"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    return args + ["-f", "matroska", "-cluster_time_limit", "10000",
                   "-cluster_size_limit", "52428800"]


def ffmpeg_command(media: Media, output: str) -> list[str]:
    return (["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
            + input_args(media.seconds, media.audio) + encode_args(media.audio, media.bframes)
            + [output])


def media_path(name: str) -> Path:
    """The cached file `name` (a key of MEDIA), made first if missing."""
    media = MEDIA[name]
    command = ffmpeg_command(media, "OUTPUT")
    key = hashlib.sha256(json.dumps(command).encode()).hexdigest()[:16]
    path = cache_dir() / f"{key}-{name}"
    if path.is_file():
        return path
    ensure_tools()
    # Written under a temporary name and renamed, so concurrent test runs never see half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".mkv", dir=path.parent)
    os.close(fd)
    try:
        subprocess.run(ffmpeg_command(media, tmp), check=True, timeout=600)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def media_bytes(name: str) -> bytes:
    return media_path(name).read_bytes()


def ffprobe(path, count_frames: bool = True) -> dict:
    """ffprobe's streams (codec_name, codec_type, nb_read_frames, width, height, sample_rate)
    and format duration, as JSON."""
    ensure_tools()
    command = ["ffprobe", "-v", "error"]
    if count_frames:
        command.append("-count_frames")
    command += ["-show_entries",
                "stream=codec_name,codec_type,nb_read_frames,width,height,sample_rate,channels,"
                "has_b_frames:format=duration", "-of", "json", str(path)]
    result = subprocess.run(command, check=True, capture_output=True, timeout=300)
    return json.loads(result.stdout)


@contextlib.contextmanager
def live_feed(seconds: float | None = None, audio: bool = True, bframes: int = 0, stdout=None):
    """A live `ffmpeg -re` feed writing MKV to a pipe, clustered at key frames (one a second).
    Yields the Popen: read `process.stdout`, or pass `stdout=` (a file object, or another
    process's stdin) to send it there. Killed at exit if still running."""
    ensure_tools()
    command = (["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin"]
               + input_args(seconds, audio, realtime=True) + encode_args(audio, bframes)
               + ["pipe:1"])
    process = subprocess.Popen(command, stdout=subprocess.PIPE if stdout is None else stdout,
                               stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def producer_media(name: str, spate_bin) -> bytes:
    """`name` re-clustered as the producer SDK sends it (`spate video put --output-mkv -`): one
    cluster of unknown size per fragment, each starting with its video key frame, RELATIVE
    timecodes from 0. ffmpeg's own clusters start with the audio packet it buffers before each
    key frame (up to ~100 ms earlier with B-frames), so raw PutMedia tests that expect fragment
    timecodes 0, 1000, ... send this. Not cached: it follows the binary."""
    result = subprocess.run([str(spate_bin), "video", "put", "unused", str(media_path(name)),
                             "--output-mkv", "-"], check=True, capture_output=True, timeout=120)
    return result.stdout
