"""The Video Streams suite's own tools, checked without a PutMedia server: scripts/video-tools-bin,
the ffmpeg-made media (clusters, tracks, frame counts, durations, by ffprobe and by the EBML
walker), the producer-shaped re-clustering of `spate video put --output-mkv`, the live feed, the
walker's tag reading and timecode rewriting. The PutMedia client and `spate video put` are
tested against Spate itself (test_video_putmedia.py).
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

import harness
import video_media
import video_mkv

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
    binary = harness.spate_binary()
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
