"""PutMedia end to end: ffmpeg-made media sent as a SigV4-signed chunked request (signed as the
producer SDK signs it) and through `spate video put`; every acknowledgement checked, the refusals
AWS defines, the one-connection rule, IDLE while the producer pauses."""

import json
import subprocess
import time

import pytest

import harness
import video_media
import video_mkv
from video_putmedia import PutMediaSession, put_media
from video_streams import VideoClients, acks_by_fragment, persisted


@pytest.fixture(scope="module")
def clients(endpoint):
    return VideoClients(endpoint)


@pytest.fixture
def stream(clients, request) -> str:
    name = harness.unique_name(request.node.name.removeprefix("test_")[:40])
    clients.active_stream(name)
    return name


def test_each_fragment_is_buffering_received_persisted_with_its_timecode(endpoint, clients,
                                                                          stream):
    media = video_media.producer_media("av10.mkv", harness.spate_binary())
    result = put_media(endpoint, stream, media)
    assert result.status == 200, result.error
    assert result.headers["content-type"] == "application/json"
    grouped = acks_by_fragment(result.acks)
    assert len(grouped) == 10
    numbers = list(grouped)
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    for index, (number, acks) in enumerate(grouped.items()):
        assert len(number) == 47 and number.isdigit()
        assert [ack["EventType"] for ack in acks] == ["BUFFERING", "RECEIVED", "PERSISTED"]
        assert {ack["FragmentTimecode"] for ack in acks} == {index * 1000}
    assert not [ack for ack in result.acks if ack["EventType"] == "ERROR"]

    listed = clients.fragments(stream)
    assert [f["FragmentNumber"] for f in listed] == numbers
    sizes = [c.end - c.start for c in video_mkv.parse(media)[0].clusters]
    assert [f["FragmentSizeInBytes"] for f in listed] == sizes
    starts = [f["ProducerTimestamp"].timestamp() for f in listed]
    assert [round(b - a, 3) for a, b in zip(starts, starts[1:])] == [1.0] * 9


def test_signatures_are_checked_before_any_media(spate_factory):
    key, secret = "AKIDVIDEOTEST", "video-test-secret"
    server = spate_factory(args=["--access-key-id", key, "--secret-access-key", secret])
    control = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                     access_key_id=key, secret_access_key=secret)
    control.create_stream(StreamName="cam", DataRetentionInHours=1)
    media = video_media.producer_media("av10.mkv", harness.spate_binary())
    refused = put_media(server.endpoint, "cam", media, credentials=(key, "not-the-secret"))
    # The verifier's answer to a wrong signature, as for every other Spate API.
    assert (refused.status, refused.error["type"]) == (400, "InvalidSignatureException"), refused
    assert not refused.acks
    # The producer SDK's signature (over the empty payload, transfer-encoding signed) passes.
    for _ in range(100):
        if control.describe_stream(StreamName="cam")["StreamInfo"]["Status"] == "ACTIVE":
            break
        time.sleep(0.02)
    accepted = put_media(server.endpoint, "cam", media, credentials=(key, secret))
    assert accepted.status == 200, accepted.error
    assert len(persisted(accepted.acks)) == 10
    # So does `spate video put`'s, and a wrong secret makes it fail with the error type.
    put = [str(harness.spate_binary()), "video", "put", "cam",
           str(video_media.media_path("av10.mkv")), "--endpoint", server.endpoint,
           "--access-key-id", key]
    done = subprocess.run(put + ["--secret-access-key", secret], capture_output=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert len(persisted([json.loads(l) for l in done.stdout.decode().splitlines()])) == 10
    wrong = subprocess.run(put + ["--secret-access-key", "wrong"], capture_output=True,
                           timeout=120)
    assert wrong.returncode != 0
    assert "InvalidSignatureException" in wrong.stderr.decode()


def test_unknown_stream_and_bad_headers_are_rest_json_errors(endpoint, stream):
    missing = put_media(endpoint, harness.unique_name("missing"), b"")
    assert (missing.status, missing.error["type"]) == (404, "ResourceNotFoundException")
    bad_type = put_media(endpoint, stream, b"", timecode_type="SOMETIMES")
    assert (bad_type.status, bad_type.error["type"]) == (400, "InvalidArgumentException")


def test_a_stream_takes_one_putmedia_connection_at_a_time(endpoint, stream):
    media = video_media.producer_media("av10.mkv", harness.spate_binary())
    # The first connection sends one fragment, then holds the connection open.
    with PutMediaSession(endpoint, stream, media, pauses=[(64 * 1024, 3.0)]) as first:
        status, _ = first.response_head()
        assert status == 200
        acks = first.acks()
        assert next(acks)["EventType"] == "BUFFERING"
        second = put_media(endpoint, stream, media)
        assert (second.status, second.error["type"]) == (400, "ConnectionLimitExceededException")
        rest = list(acks)
    assert len(persisted(rest)) == 10


@pytest.mark.parametrize("damage, error_id, error_code", [
    ("timecode", 4004, "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"),
    ("garbage", 4006, "INVALID_MKV_DATA"),
])
def test_bad_media_ends_the_session_with_an_error_acknowledgement(endpoint, stream, damage,
                                                                   error_id, error_code):
    media = video_media.producer_media("av10.mkv", harness.spate_binary())
    if damage == "timecode":
        media = video_mkv.rewrite_cluster_timecode(media, 3, 500)
    else:
        media = b"this is not matroska" + media
    result = put_media(endpoint, stream, media)
    assert result.status == 200
    last = result.acks[-1]
    assert (last["EventType"], last["ErrorId"], last["ErrorCode"]) == ("ERROR", error_id,
                                                                       error_code)
    if damage == "timecode":
        # Fragments 0-2 were stored before fragment 3 was refused.
        assert len(persisted(result.acks)) == 3
        assert last["FragmentTimecode"] == 500


def test_a_pause_in_the_body_brings_idle_acknowledgements(endpoint, stream):
    media = video_media.producer_media("av10.mkv", harness.spate_binary())
    result = put_media(endpoint, stream, media, pauses=[(len(media) // 2, 3.6)])
    kinds = [ack["EventType"] for ack in result.acks]
    assert "IDLE" in kinds
    assert kinds.count("PERSISTED") == 10


def test_spate_video_put_prints_the_acknowledgements_of_a_file_and_a_pipe(endpoint, clients,
                                                                         stream):
    path = video_media.media_path("av10.mkv")
    done = subprocess.run([str(harness.spate_binary()), "video", "put", stream, str(path),
                           "--endpoint", endpoint], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    acks = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(persisted(acks)) == 10
    with open(path, "rb") as source:
        piped = subprocess.run([str(harness.spate_binary()), "video", "put", stream, "-",
                                "--endpoint", endpoint], stdin=source, capture_output=True,
                               timeout=120)
    assert piped.returncode == 0, piped.stderr.decode()
    assert len(persisted([json.loads(l) for l in piped.stdout.decode().splitlines()])) == 10
    assert len(clients.fragments(stream)) == 20
