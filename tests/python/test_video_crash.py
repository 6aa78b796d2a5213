"""Crash test for Video Streams: a producer streams 60 s of media through PutMedia at four times
real time, the server is killed with SIGKILL once at least five fragments are PERSISTED, and after
a restart on the same data directory every PERSISTED fragment is there: listed by ListFragments
with its number and size, returned by GetMediaForFragmentList whole, and GetMedia from EARLIEST
reads the stream end to end. Fragments acknowledged only as RECEIVED may or may not be there."""

import threading
import time

import pytest

import harness
import video_media
import video_mkv
from video_putmedia import PutMediaSession
from video_streams import VideoClients, persisted

pytestmark = pytest.mark.restart


def test_persisted_fragments_survive_sigkill(spate_factory):
    server = spate_factory()
    clients = VideoClients(server.endpoint)
    clients.active_stream("cam")
    media = video_media.producer_media("av60.mkv", harness.spate_binary())
    sizes = [c.end - c.start for c in video_mkv.parse(media)[0].clusters]
    bytes_per_second = len(media) / 60 * 4
    acks: list[dict] = []
    enough = threading.Event()

    def produce():
        try:
            with PutMediaSession(server.endpoint, "cam", media, rate=bytes_per_second) as session:
                session.response_head()
                for ack in session.acks():
                    acks.append(ack)
                    if len(persisted(acks)) >= 5:
                        enough.set()
        except OSError:
            pass  # the server went away mid-answer
        finally:
            enough.set()

    producer = threading.Thread(target=produce)
    producer.start()
    assert enough.wait(timeout=60)
    time.sleep(0.3)  # a little more in flight at the kill
    server.kill()
    producer.join(timeout=30)
    acked = persisted(acks)
    assert 5 <= len(acked) < 60, f"{len(acked)} PERSISTED before the kill"

    server.start()
    clients = VideoClients(server.endpoint)  # a new port
    listed = {f["FragmentNumber"]: f for f in clients.fragments("cam")}
    for index, number in enumerate(acked):
        assert number in listed, f"PERSISTED fragment {index} ({number}) lost"
        assert listed[number]["FragmentSizeInBytes"] == sizes[index]
    archived = clients.archived("cam")
    payload = archived.get_media_for_fragment_list(StreamName="cam",
                                                   Fragments=acked)["Payload"].read()
    chunks = video_mkv.parse(payload)
    assert [c.all_tags()["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] for c in chunks] == acked
    assert all(len(c.clusters) == 1 and c.clusters[0].blocks for c in chunks)
    earliest = clients.media("cam").get_media(StreamName="cam",
                                              StartSelector={"StartSelectorType": "EARLIEST"})
    chunks = video_mkv.parse(earliest["Payload"].read())
    assert len(chunks) == len(listed) >= len(acked)
