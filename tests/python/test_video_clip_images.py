"""GetClip and GetImages end to end: MP4 clips of ffmpeg-made media read by ffprobe (codecs,
frame counts, duration; moov before mdat), with and without B-frames and over part of the
stream; images sampled at an interval as JPEG and PNG of the requested size, paged."""

import base64
import datetime as dt
import struct

import pytest

import harness
import video_media
from video_putmedia import put_media
from video_streams import VideoClients

START = 1_700_000_000


@pytest.fixture(scope="module")
def clients(endpoint):
    return VideoClients(endpoint)


def ingested(endpoint, clients, media: str) -> str:
    name = harness.unique_name(media.removesuffix(".mkv"))
    clients.active_stream(name)
    result = put_media(endpoint, name, video_media.producer_media(media, harness.spate_binary()),
                       producer_start=float(START))
    assert sum(ack["EventType"] == "PERSISTED" for ack in result.acks) == 10, result
    return name


@pytest.fixture(scope="module")
def av10(endpoint, clients):
    return ingested(endpoint, clients, "av10.mkv")


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(START + seconds, dt.timezone.utc)


def clip(clients, stream: str, start: float, end: float, tmp_path) -> dict:
    answer = clients.archived(stream).get_clip(StreamName=stream, ClipFragmentSelector={
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": at(start), "EndTimestamp": at(end)}})
    assert answer["ContentType"] == "video/mp4"
    data = answer["Payload"].read()
    assert data.index(b"moov") < data.index(b"mdat"), "moov must come first"
    path = tmp_path / f"clip-{start}-{end}.mp4"
    path.write_bytes(data)
    probe = video_media.ffprobe(path)
    return {s["codec_type"]: s for s in probe["streams"]} | {"duration": float(
        probe["format"]["duration"])}


@pytest.mark.parametrize("media", ["av10.mkv", "av10-bframes.mkv"])
def test_a_clip_of_the_whole_stream_has_every_frame(endpoint, clients, media, tmp_path):
    stream = ingested(endpoint, clients, media)
    probed = clip(clients, stream, -1, 60, tmp_path)
    assert probed["video"]["codec_name"] == "h264"
    assert int(probed["video"]["nb_read_frames"]) == 250
    assert probed["audio"]["codec_name"] == "aac"
    assert int(probed["audio"]["nb_read_frames"]) in (469, 470)
    assert abs(probed["duration"] - 10.0) < 0.1


def test_a_clip_of_three_seconds_has_three_fragments(clients, av10, tmp_path):
    # Fragments starting at 2, 3 and 4 s (inclusive on their starts).
    probed = clip(clients, av10, 2, 4, tmp_path)
    assert int(probed["video"]["nb_read_frames"]) == 75
    assert abs(probed["duration"] - 3.0) < 0.1


def image_size(data: bytes) -> tuple[str, int, int]:
    """Format and width x height from a JPEG's SOF or a PNG's IHDR."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = struct.unpack(">II", data[16:24])
        return "PNG", width, height
    assert data.startswith(b"\xff\xd8"), data[:4]
    pos = 2
    while pos < len(data):
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return "JPEG", width, height
        pos += 2 + length
    raise AssertionError("no SOF in the JPEG")


@pytest.mark.parametrize("image_format, width, height", [("JPEG", 320, 180), ("PNG", 160, 90)])
def test_images_are_sampled_at_the_interval_in_the_size_asked(clients, av10, image_format,
                                                              width, height):
    archived = clients.archived(av10)
    images, token = [], None
    while True:
        page = archived.get_images(
            StreamName=av10, ImageSelectorType="PRODUCER_TIMESTAMP", StartTimestamp=at(1),
            EndTimestamp=at(5), SamplingInterval=1000, Format=image_format, WidthPixels=width,
            HeightPixels=height, MaxResults=4, **({"NextToken": token} if token else {}))
        images += page["Images"]
        token = page.get("NextToken")
        if not token:
            break
    assert len(images) == 4  # MaxResults caps the images of the whole request
    for image in images:
        assert "Error" not in image, image
        data = base64.b64decode(image["ImageContent"])
        assert image_size(data) == (image_format, width, height)
    assert [image["TimeStamp"].timestamp() for image in images] == [START + s for s in (1, 2, 3, 4)]


def test_times_without_media_are_no_media(clients, av10):
    images = clients.archived(av10).get_images(
        StreamName=av10, ImageSelectorType="PRODUCER_TIMESTAMP", StartTimestamp=at(20),
        EndTimestamp=at(22), SamplingInterval=1000, Format="JPEG")["Images"]
    assert images and all(image.get("Error") == "NO_MEDIA" for image in images), images
