"""Reading video back, end to end: ListFragments (both selectors, pages), GetMedia from each
StartSelector type with the AWS_KINESISVIDEO_* tags, GetMedia following a live feed,
GetMediaForFragmentList, and `spate video get` writing one playable MKV that ffprobe reads
frame for frame."""

import datetime as dt
import subprocess
import threading
import time

import pytest

import harness
import video_media
import video_mkv
from video_putmedia import put_media
from video_streams import EVER, VideoClients, persisted


@pytest.fixture(scope="module")
def clients(endpoint):
    return VideoClients(endpoint)


@pytest.fixture(scope="module")
def av10(endpoint, clients):
    """A stream holding av10 (10 fragments), and the PERSISTED numbers."""
    name = harness.unique_name("av10")
    clients.active_stream(name)
    before = time.time()
    result = put_media(endpoint, name, video_media.producer_media("av10.mkv",
                                                                  harness.spate_binary()),
                       producer_start=1_700_000_000.0)
    numbers = persisted(result.acks)
    assert len(numbers) == 10, result
    return {"name": name, "numbers": numbers, "before": before, "after": time.time()}


def chunks_of(payload: bytes) -> list[video_mkv.Segment]:
    segments = video_mkv.parse(payload)
    assert segments, "no chunk"
    return segments


def test_list_fragments_by_each_axis_in_pages(clients, av10):
    archived = clients.archived(av10["name"])
    by_producer = {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {
        "StartTimestamp": dt.datetime.fromtimestamp(1_700_000_002, dt.timezone.utc),
        "EndTimestamp": dt.datetime.fromtimestamp(1_700_000_005, dt.timezone.utc)}}
    # Inclusive on the fragments' starts: producer times 2 s to 5 s are fragments 2..5.
    pages, token = [], None
    while True:
        page = archived.list_fragments(StreamName=av10["name"], FragmentSelector=by_producer,
                                       MaxResults=3, **({"NextToken": token} if token else {}))
        pages.append(page["Fragments"])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(page) for page in pages] == [3, 1]
    listed = [f["FragmentNumber"] for page in pages for f in page]
    assert listed == av10["numbers"][2:6]
    for fragment in (f for page in pages for f in page):
        assert fragment["FragmentLengthInMilliseconds"] in range(900, 1001)
        assert av10["before"] - 1 <= fragment["ServerTimestamp"].timestamp() <= av10["after"] + 1

    by_server = clients.fragments(av10["name"], "SERVER_TIMESTAMP")
    assert [f["FragmentNumber"] for f in by_server] == av10["numbers"]
    producer_starts = [f["ProducerTimestamp"].timestamp() for f in by_server]
    assert producer_starts == [1_700_000_000.0 + i for i in range(10)]


def test_get_media_from_each_selector_tags_every_chunk(clients, av10):
    media = clients.media(av10["name"])
    numbers = av10["numbers"]
    selectors = [
        ({"StartSelectorType": "EARLIEST"}, 0),
        ({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": numbers[3]}, 4),
        ({"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": numbers[6]}, 7),
        ({"StartSelectorType": "PRODUCER_TIMESTAMP",
          "StartTimestamp": dt.datetime.fromtimestamp(1_700_000_008, dt.timezone.utc)}, 8),
    ]
    for selector, first in selectors:
        answer = media.get_media(StreamName=av10["name"], StartSelector=selector)
        assert answer["ContentType"] == "video/webm"
        chunks = chunks_of(answer["Payload"].read())
        assert len(chunks) == 10 - first, selector
        for index, chunk in enumerate(chunks, start=first):
            tags = chunk.all_tags()
            assert tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == numbers[index]
            assert tags["AWS_KINESISVIDEO_CONTINUATION_TOKEN"] == numbers[index]
            assert float(tags["AWS_KINESISVIDEO_PRODUCER_TIMESTAMP"]) == 1_700_000_000 + index
            assert int(tags["AWS_KINESISVIDEO_MILLIS_BEHIND_NOW"]) >= 0
            assert len(chunk.clusters) == 1
            assert chunk.clusters[0].blocks[0].key


def test_get_media_follows_a_live_feed(endpoint, clients):
    name = harness.unique_name("live")
    clients.active_stream(name)
    media = clients.media(name)
    answer = media.get_media(StreamName=name, StartSelector={"StartSelectorType": "NOW"})
    received = []

    def read():
        received.append(answer["Payload"].read())

    reader = threading.Thread(target=read)
    reader.start()
    with video_media.live_feed(seconds=4) as feed:
        put = subprocess.run([str(harness.spate_binary()), "video", "put", name, "-",
                              "--endpoint", endpoint], stdin=feed.stdout, capture_output=True,
                             timeout=60)
    assert put.returncode == 0, put.stderr.decode()
    reader.join(timeout=30)
    chunks = chunks_of(received[0])
    sent = [line for line in put.stdout.decode().splitlines() if "PERSISTED" in line]
    assert len(chunks) == len(sent) >= 3


def test_get_media_for_fragment_list_keeps_the_order_and_flags_unknown_numbers(clients, av10):
    archived = clients.archived(av10["name"])
    numbers = av10["numbers"]
    unknown = str(int(numbers[0]) + (1 << 80))
    answer = archived.get_media_for_fragment_list(
        StreamName=av10["name"], Fragments=[numbers[5], unknown, numbers[1]])
    chunks = chunks_of(answer["Payload"].read())
    # Every Tags element in stream order: a fragment's come with its chunk; the unknown
    # number's error tags follow in its place.
    tags = [dict(pairs) for chunk in chunks for pairs in chunk.tags]
    named = [t["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for t in tags
             if "AWS_KINESISVIDEO_FRAGMENT_NUMBER" in t]
    assert named == [numbers[5], unknown, numbers[1]]
    failed = next(t for t in tags if t.get("AWS_KINESISVIDEO_FRAGMENT_NUMBER") == unknown)
    assert any("ERROR" in name for name in failed), failed
    assert [len(chunk.clusters) for chunk in chunks] == [1, 1]


@pytest.mark.parametrize("name", ["av10.mkv", "av10-bframes.mkv"])
def test_spate_video_get_writes_one_playable_mkv(endpoint, clients, tmp_path, name):
    stream = harness.unique_name(name.removesuffix(".mkv"))
    clients.active_stream(stream)
    put = subprocess.run([str(harness.spate_binary()), "video", "put", stream,
                          str(video_media.media_path(name)), "--endpoint", endpoint],
                         capture_output=True, timeout=120)
    assert put.returncode == 0, put.stderr.decode()
    output = tmp_path / "out.mkv"
    got = subprocess.run([str(harness.spate_binary()), "video", "get", stream, "--endpoint",
                          endpoint, "--output", str(output)], capture_output=True, timeout=120)
    assert got.returncode == 0, got.stderr.decode()
    probe = video_media.ffprobe(output)
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert int(streams["video"]["nb_read_frames"]) == 250
    assert streams["audio"]["codec_name"] == "aac"
    # ffmpeg's 10 s of AAC is 469 or 470 frames (its priming samples).
    assert int(streams["audio"]["nb_read_frames"]) in (469, 470)
    assert abs(float(probe["format"]["duration"]) - 10.0) < 0.1
