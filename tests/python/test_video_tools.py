"""The Video Streams suite's own tools, checked without a PutMedia server: scripts/video-tools-bin,
the ffmpeg-made media (clusters, tracks, frame counts, durations, by ffprobe and by the EBML
walker), the producer-shaped re-clustering of `spate video put --output-mkv`, the live feed, the
walker's tag reading and timecode rewriting, and the raw PutMedia client against a tiny local
HTTP/1.1 server (signature recomputed independently, acks streamed while the body arrives).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import harness
import video_media
import video_mkv
import video_putmedia

AV_MEDIA = ["av10.mkv", "av10-bframes.mkv"]


@pytest.fixture(scope="module", autouse=True)
def tools():
    video_media.ensure_tools()


def test_video_tools_bin_prints_an_executable_chromium():
    result = subprocess.run([str(video_media.VIDEO_TOOLS_BIN)], check=True, capture_output=True,
                            text=True, timeout=600)
    path = result.stdout.strip()
    assert "\n" not in path and os.access(path, os.X_OK), result
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    assert "Chromium" in version.stdout, version
    for tool in ("ffmpeg", "ffprobe"):
        assert subprocess.run([tool, "-version"], capture_output=True).returncode == 0


@pytest.mark.parametrize("name", ["av10.mkv", "av10-bframes.mkv", "v10.mkv"])
def test_ten_second_media_have_one_cluster_per_gop(name):
    segments = video_mkv.parse_file(video_media.media_path(name))
    assert len(segments) == 1
    segment = segments[0]
    assert segment.timecode_scale == 1_000_000
    audio = video_media.MEDIA[name].audio
    assert [(t["number"], t["type"], t["codec"]) for t in segment.tracks] == (
        [(1, "video", "V_MPEG4/ISO/AVC")] + ([(2, "audio", "A_AAC")] if audio else []))
    clusters = segment.clusters
    assert len(clusters) == 10
    for index, cluster in enumerate(clusters):
        video = [b for b in cluster.blocks if b.track == 1]
        assert len(video) == 25, index
        assert video[0].key and not any(b.key for b in video[1:]), index
        # The first video key frame is at 21 ms when audio primes the AAC encoder.
        assert video[0].timecode == index * 1000 + (21 if audio else 0)
        if audio:
            assert cluster.count(2) >= 40, index
            # ffmpeg puts the audio packet it buffered before the key frame first in the
            # cluster (all but the first of av10-bframes): the cluster starts up to ~100 ms
            # (B-frames) before its key frame.
            assert cluster.blocks[0].key
            assert cluster.blocks[0].track == 2 or (index, name) == (0, "av10-bframes.mkv")
            assert 0 <= video[0].timecode - cluster.timecode <= 120, index
        else:
            assert cluster.blocks[0] is video[0]

    probe = video_media.ffprobe(video_media.media_path(name))
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert (streams["video"]["width"], streams["video"]["height"]) == (640, 360)
    assert int(streams["video"]["nb_read_frames"]) == 250
    assert streams["video"]["has_b_frames"] == video_media.MEDIA[name].bframes
    if audio:
        assert streams["audio"]["codec_name"] == "aac"
        assert streams["audio"]["sample_rate"] == "48000" and streams["audio"]["channels"] == 2
        # 10 s at 48 kHz in 1024-sample frames is 468.75, plus the encoder's priming frame.
        assert 468 <= int(streams["audio"]["nb_read_frames"]) <= 471
        assert sum(c.count(2) for c in clusters) == int(streams["audio"]["nb_read_frames"])
    else:
        assert "audio" not in streams
    assert abs(float(probe["format"]["duration"]) - 10.0) <= 0.05


def test_sixty_second_media_has_sixty_clusters():
    path = video_media.media_path("av60.mkv")
    clusters = video_mkv.parse_file(path)[0].clusters
    assert len(clusters) == 60
    assert all(c.first_of(1).key for c in clusters)
    probe = video_media.ffprobe(path, count_frames=False)
    assert abs(float(probe["format"]["duration"]) - 60.0) <= 0.05


def test_media_are_cached_by_their_command(tmp_path, monkeypatch):
    first = video_media.media_path("v10.mkv")
    assert first.parent == video_media.cache_dir()
    before = first.stat().st_mtime_ns
    assert video_media.media_path("v10.mkv") == first
    assert first.stat().st_mtime_ns == before, "made again"
    monkeypatch.setenv("SPATE_TOOLS_CACHE", str(tmp_path))
    assert video_media.cache_dir() == tmp_path / "video-media"


@pytest.mark.parametrize("name", AV_MEDIA + ["v10.mkv"])
def test_producer_media_fragments_start_at_key_frames(name):
    binary = _spate_binary()
    original = video_mkv.parse_file(video_media.media_path(name))[0]
    data = video_media.producer_media(name, binary)
    segments = video_mkv.parse(data)
    assert len(segments) == 1
    clusters = segments[0].clusters
    # RELATIVE timecodes from the first key frame (21 ms in the original when there is audio).
    assert [c.timecode for c in clusters] == [i * 1000 for i in range(10)]
    offset = original.clusters[0].first_of(1).timecode
    previous_end = None
    for cluster in clusters:
        assert (cluster.blocks[0].track, cluster.blocks[0].key) == (1, True)
        assert cluster.blocks[0].timecode == cluster.timecode
        times = [b.timecode for b in cluster.blocks]
        if previous_end is not None:
            assert min(times) >= previous_end, "a fragment starts before the previous one ends"
        previous_end = max(times)
    blocks = sorted((b.track, b.timecode + offset, b.size) for c in clusters for b in c.blocks)
    assert blocks == sorted((b.track, b.timecode, b.size)
                            for c in original.clusters for b in c.blocks)
    path = video_media.cache_dir() / f"test-producer-{os.getpid()}-{name}"
    try:
        path.write_bytes(data)
        probe = video_media.ffprobe(path)
    finally:
        path.unlink()
    frames = {s["codec_type"]: int(s["nb_read_frames"]) for s in probe["streams"]}
    assert frames["video"] == 250


def test_live_feed_streams_key_frame_clusters_in_real_time():
    started = time.monotonic()
    with video_media.live_feed(seconds=3) as feed:
        data = feed.stdout.read()
        assert feed.wait(timeout=30) == 0
    assert time.monotonic() - started >= 2.5, "not paced in real time (-re)"
    clusters = video_mkv.parse(data)[0].clusters
    assert len(clusters) == 3
    assert all(c.first_of(1).key and c.count(1) == 25 for c in clusters)


def test_walker_reads_getmedia_style_chunks_and_rewrites_timecodes():
    original = video_media.media_bytes("av10.mkv")
    # ffmpeg's own Tags (ENCODER) come before the first cluster.
    assert "ENCODER" in video_mkv.parse(original)[0].all_tags()

    rewritten = video_mkv.rewrite_cluster_timecode(original, 3, 1500)
    assert len(rewritten) == len(original)
    before = video_mkv.parse(original)[0].clusters
    after = video_mkv.parse(rewritten)[0].clusters
    assert [c.timecode for c in after] == [c.timecode if i != 3 else 1500
                                           for i, c in enumerate(before)]
    assert [b.timecode - 1500 for b in after[3].blocks] == [
        b.timecode - before[3].timecode for b in before[3].blocks]
    with pytest.raises(video_mkv.MkvError):
        video_mkv.rewrite_cluster_timecode(original, 3, 1 << 40)

    # Two GetMedia-shaped chunks: EBML header, unknown-size Segment, Info, Tracks, AWS tags,
    # a cluster, trailing AWS tags.
    segment = video_mkv.parse(original)[0]
    header_end, info_tracks = _header_elements(original)
    chunks = b""
    for number, cluster in enumerate(segment.clusters[:2]):
        cluster_bytes = original[cluster.start:cluster.end]
        chunks += (original[:header_end]
                   + video_mkv.element(video_mkv.SEGMENT, unknown_size=True) + info_tracks
                   + video_mkv.tags_element([("AWS_KINESISVIDEO_FRAGMENT_NUMBER", f"913{number}"),
                                             ("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1.000")])
                   + cluster_bytes
                   + video_mkv.tags_element([("AWS_KINESISVIDEO_CONTINUATION_TOKEN",
                                              f"913{number}")]))
    parsed = video_mkv.parse(chunks)
    assert len(parsed) == 2
    for number, chunk in enumerate(parsed):
        kinds = [kind for kind, _ in chunk.items]
        assert kinds == ["tags", "cluster", "tags"]
        tags = chunk.all_tags()
        assert tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == f"913{number}"
        assert tags["AWS_KINESISVIDEO_CONTINUATION_TOKEN"] == f"913{number}"
        assert chunk.clusters[0].timecode == segment.clusters[number].timecode
        assert chunk.track_number("audio") == 2


def _header_elements(data: bytes) -> tuple[int, bytes]:
    """Where the EBML header ends, and the Info and Tracks elements of the first segment."""
    _, size, data_start = video_mkv.header_at(data, 0)
    header_end = data_start + size
    _, _, segment_start = video_mkv.header_at(data, header_end)
    kept = b""
    pos = segment_start
    while True:
        element_id, size, start = video_mkv.header_at(data, pos)
        if element_id == video_mkv.CLUSTER:
            break
        if element_id in (video_mkv.INFO, video_mkv.TRACKS):
            kept += data[pos:start + size]
        pos = start + size
    return header_end, kept


# --- the raw PutMedia client against a tiny HTTP/1.1 server -------------------------------------

def _sigv4_signature(method: str, path: str, headers: dict[str, str], signed: list[str],
                     secret: str, amz_date: str, region: str) -> str:
    """SigV4 recomputed from the spec (not botocore): empty payload, the listed headers."""
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    canonical = "\n".join([method, path, "", canonical_headers, ";".join(signed),
                           hashlib.sha256(b"").hexdigest()])
    scope = f"{amz_date[:8]}/{region}/kinesisvideo/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (amz_date[:8], region, "kinesisvideo", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class TinyPutMediaServer:
    """Accepts one PutMedia: checks nothing, records the head and body; answers 200 and one ack
    line per body chunk (each line split over two HTTP chunks), PERSISTED at the end; or a
    rest-json 404."""

    def __init__(self, not_found: bool = False):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.not_found = not_found
        self.head: dict[str, str] = {}
        self.request_line = ""
        self.body = b""
        self.body_ended = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn:
            reader = video_putmedia._SocketReader(conn)
            self.request_line = reader.readline().decode()
            while line := reader.readline():
                name, _, value = line.decode().partition(":")
                self.head[name.strip().lower()] = value.strip()
            if self.not_found:
                body = b'{"Message":"The requested stream is not found or not active."}'
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nx-amzn-ErrorType: "
                             b"ResourceNotFoundException:http://internal/\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                # Reads the body before closing, as hyper does: closing a socket with unread
                # data resets the connection, and the client may lose the answer. The client
                # may stop sending and close first.
                with contextlib.suppress(OSError):
                    for _ in reader.body_pieces({"transfer-encoding": "chunked"}):
                        pass
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            count = 0
            for piece in reader.body_pieces({"transfer-encoding": "chunked"}):
                self.body += piece
                line = json.dumps({"EventType": "RECEIVED", "FragmentTimecode": count}).encode()
                line += b"\n"
                for part in (line[:7], line[7:]):
                    conn.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
                count += 1
            self.body_ended.set()
            last = b'{"EventType":"PERSISTED"}\n'
            conn.sendall(b"%x\r\n" % len(last) + last + b"\r\n0\r\n\r\n")


def test_raw_putmedia_is_signed_like_the_producer_sdk_and_reads_acks_while_sending():
    server = TinyPutMediaServer()
    data = bytes(range(256)) * 1024  # 256 KiB: four 64 KiB chunks
    start = 1_726_677_688.724
    with video_putmedia.PutMediaSession(server.endpoint, "cam1", data, producer_start=start,
                                        pauses=[(64 * 1024, 1.0)]) as session:
        status, _ = session.response_head()
        assert status == 200
        acks = session.acks()
        first = next(acks)
        # The writer pauses after the first chunk: this ack came while the body was open.
        assert first == {"EventType": "RECEIVED", "FragmentTimecode": 0}
        assert not session.writer_done.is_set() and not server.body_ended.is_set()
        rest = list(acks)
    assert rest[-1] == {"EventType": "PERSISTED"}
    assert [a["FragmentTimecode"] for a in rest[:-1]] == [1, 2, 3]
    assert server.body == data
    assert server.request_line == "POST /putMedia HTTP/1.1"

    head = server.head
    assert head["x-amzn-stream-name"] == "cam1"
    assert head["x-amzn-producer-start-timestamp"] == "1726677688.724"
    assert head["x-amzn-fragment-timecode-type"] == "RELATIVE"
    assert head["transfer-encoding"] == "chunked"
    assert head["host"] == server.endpoint.removeprefix("http://")
    authorization = head["authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "transfer-encoding", "connection", "user-agent",
            "x-amzn-stream-name", "x-amzn-producer-start-timestamp"} <= set(signed)
    assert "x-amz-content-sha256" not in head
    signature = authorization.split("Signature=")[1]
    assert signature == _sigv4_signature("POST", "/putMedia", head, signed, "test",
                                         head["x-amz-date"], "us-east-1")


def test_raw_putmedia_reports_an_error_answer():
    server = TinyPutMediaServer(not_found=True)
    result = video_putmedia.put_media(server.endpoint, "nope", b"\x1a\x45\xdf\xa3" * 10)
    assert result.status == 404
    assert result.error == {"type": "ResourceNotFoundException",
                            "message": "The requested stream is not found or not active."}
    assert result.acks == []


def _spate_binary():
    binary = harness.spate_binary()
    assert binary.is_file(), f"build the spate binary first (cargo build -p spate): {binary}"
    return binary


def test_spate_video_put_prints_each_ack_line_and_signs_like_the_producer_sdk():
    server = TinyPutMediaServer()
    media = video_media.media_path("av10.mkv")
    with open(media, "rb") as stdin:
        result = subprocess.run(
            [str(_spate_binary()), "video", "put", "cam1", "-", "--endpoint", server.endpoint,
             "--producer-start", "1726677688.724"],
            stdin=stdin, capture_output=True, text=True, timeout=120,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                 "AWS_SECRET_ACCESS_KEY": "spate-secret"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    received = [json.loads(line) for line in lines[:-1]]
    assert [a["FragmentTimecode"] for a in received] == list(range(len(received)))
    assert lines[-1] == '{"EventType":"PERSISTED"}'
    # The body is the producer-shaped re-clustering of the input.
    assert server.body == video_media.producer_media("av10.mkv", _spate_binary())

    head = server.head
    assert head["x-amzn-stream-name"] == "cam1"
    assert head["x-amzn-producer-start-timestamp"] == "1726677688.724"
    assert head["x-amzn-fragment-timecode-type"] == "RELATIVE"
    assert head["x-amzn-fragment-acknowledgment-required"] == "1"
    assert head["transfer-encoding"] == "chunked"
    authorization = head["authorization"]
    assert "Credential=AKIDEXAMPLE/" in authorization
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "transfer-encoding", "user-agent",
            "x-amzn-stream-name"} <= set(signed)
    signature = authorization.split("Signature=")[1]
    assert signature == _sigv4_signature("POST", "/putMedia", head, signed, "spate-secret",
                                         head["x-amz-date"], "us-east-1")


def test_spate_video_put_fails_on_an_error_answer():
    server = TinyPutMediaServer(not_found=True)
    result = subprocess.run(
        [str(_spate_binary()), "video", "put", "nope", str(video_media.media_path("v10.mkv")),
         "--endpoint", server.endpoint], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert ("PutMedia failed: ResourceNotFoundException (HTTP 404): The requested stream is not "
            "found or not active.") in result.stderr


def test_spate_video_put_streams_a_live_pipe_and_prints_acks_as_they_come():
    server = TinyPutMediaServer()
    put = subprocess.Popen([str(_spate_binary()), "video", "put", "cam1", "-", "--endpoint",
                            server.endpoint], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    started = time.monotonic()
    with video_media.live_feed(seconds=4, stdout=put.stdin) as feed:
        put.stdin.close()  # ffmpeg holds its own copy; the put ends when ffmpeg does
        first_line = put.stdout.readline()
        first_at = time.monotonic() - started
        assert feed.wait(timeout=30) == 0
    rest = put.stdout.read()
    assert put.wait(timeout=30) == 0, put.stderr.read()
    assert json.loads(first_line)["EventType"] == "RECEIVED"
    # The feed runs in real time for 4 s: the first ack came while it was still running.
    assert first_at < 3, f"first ack after {first_at:.1f} s"
    assert rest.decode().splitlines()[-1] == '{"EventType":"PERSISTED"}'
    clusters = video_mkv.parse(server.body)[0].clusters
    assert [c.timecode for c in clusters] == [0, 1000, 2000, 3000]
    assert all((c.blocks[0].track, c.blocks[0].key) == (1, True) for c in clusters)
