"""HLS and DASH playback end to end: sessions from GetHLSStreamingSessionURL and
GetDASHStreamingSessionURL read by ffprobe (codec and frame counts through the session URL),
their playlists checked line by line, a LIVE playlist sliding while ffmpeg feeds the stream in
real time, and the session played by hls.js in headless Chromium (its clock advances and a frame
with the test pattern's colours is on screen)."""

import datetime as dt
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import harness
import video_media
from video_putmedia import put_media
from video_streams import VideoClients

JS_DIR = Path(__file__).resolve().parent.parent / "js"
START = 1_700_000_000


@pytest.fixture(scope="module")
def clients(endpoint):
    return VideoClients(endpoint)


@pytest.fixture(scope="module")
def av10(endpoint, clients):
    """A stream holding av10 with producer timestamps from START."""
    name = harness.unique_name("hls")
    clients.active_stream(name)
    result = put_media(endpoint, name, video_media.producer_media("av10.mkv",
                                                                  harness.spate_binary()),
                       producer_start=float(START))
    assert sum(ack["EventType"] == "PERSISTED" for ack in result.acks) == 10, result
    return name


@pytest.fixture(scope="module")
def chromium():
    """Chromium (scripts/video-tools-bin) and the npm packages of tests/js (hls.js,
    puppeteer-core)."""
    found = subprocess.run([str(video_media.VIDEO_TOOLS_BIN)], check=True, capture_output=True,
                           text=True, timeout=900).stdout.strip()
    npm = shutil.which("npm")
    assert npm and shutil.which("node"), "node and npm are needed to play HLS in Chromium"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                   check=True, timeout=300)
    return found


def on_demand_range() -> dict:
    return {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": {
        "StartTimestamp": dt.datetime.fromtimestamp(START, dt.timezone.utc),
        "EndTimestamp": dt.datetime.fromtimestamp(START + 60, dt.timezone.utc)}}


def get(url: str) -> tuple[int, dict, bytes]:
    """Status, headers (lowercase names) and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            headers = {name.lower(): value for name, value in answer.headers.items()}
            return answer.status, headers, answer.read()
    except urllib.error.HTTPError as err:
        return err.code, {name.lower(): value for name, value in err.headers.items()}, err.read()


def play(chromium: str, url: str, screenshot: Path, seconds: float = 3) -> dict:
    run = subprocess.run([shutil.which("node"), "hls_play.mjs", chromium, url, str(screenshot),
                          str(seconds)], cwd=JS_DIR, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_an_on_demand_session_is_read_by_ffprobe_frame_for_frame(clients, av10):
    url = clients.archived(av10).get_hls_streaming_session_url(
        StreamName=av10, PlaybackMode="ON_DEMAND",
        HLSFragmentSelector=on_demand_range())["HLSStreamingSessionURL"]
    assert "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=" in url
    status, headers, master = get(url)
    assert status == 200
    assert headers["content-type"] == "application/vnd.apple.mpegurl"
    assert headers["access-control-allow-origin"] == "*"
    assert 'CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=640x360' in master.decode()

    _, _, playlist = get(url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist"))
    lines = playlist.decode().splitlines()
    durations = [float(line[8:].rstrip(",")) for line in lines if line.startswith("#EXTINF:")]
    assert len(durations) == 10
    assert abs(sum(durations) - 10.0) < 0.1
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"

    probe = video_media.ffprobe(url)
    streams = {s["codec_type"]: s for s in probe["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert int(streams["video"]["nb_read_frames"]) == 250
    assert (streams["video"]["width"], streams["video"]["height"]) == (640, 360)
    assert streams["audio"]["codec_name"] == "aac"
    assert int(streams["audio"]["nb_read_frames"]) in (469, 470)


def test_a_dash_session_is_read_by_ffprobe(clients, av10):
    url = clients.archived(av10).get_dash_streaming_session_url(
        StreamName=av10, PlaybackMode="ON_DEMAND",
        DASHFragmentSelector=on_demand_range())["DASHStreamingSessionURL"]
    status, headers, manifest = get(url)
    assert status == 200 and headers["content-type"] == "application/dash+xml"
    assert manifest.decode().count("<SegmentURL ") == 10
    probe = video_media.ffprobe(url)
    codecs = sorted(s["codec_name"] for s in probe["streams"])
    assert codecs == ["aac", "h264"]
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == 250


def test_a_tampered_or_missing_token_is_refused(clients, av10):
    url = clients.archived(av10).get_hls_streaming_session_url(
        StreamName=av10, PlaybackMode="ON_DEMAND",
        HLSFragmentSelector=on_demand_range())["HLSStreamingSessionURL"]
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert get(tampered)[0] == 403
    assert get(url.split("?")[0])[0] == 400


def test_an_on_demand_session_plays_in_chromium_with_hls_js(clients, av10, chromium, tmp_path):
    url = clients.archived(av10).get_hls_streaming_session_url(
        StreamName=av10, PlaybackMode="ON_DEMAND",
        HLSFragmentSelector=on_demand_range())["HLSStreamingSessionURL"]
    shot = tmp_path / "on-demand.png"
    seen = play(chromium, url, shot)
    assert seen["supported"], "this Chromium cannot play H.264 through MSE"
    assert seen["errors"] == []
    assert seen["currentTime"] >= 3 and seen["advanced"], seen
    # testsrc2's colour bars and gradients: a black or frozen frame has a handful of colours.
    assert seen["colours"] > 50, seen
    assert shot.stat().st_size > 10_000


def test_a_live_session_slides_and_plays_while_ffmpeg_feeds_the_stream(endpoint, clients,
                                                                         chromium, tmp_path):
    name = harness.unique_name("hls-live")
    clients.active_stream(name)
    with video_media.live_feed(seconds=14) as feed:
        put = subprocess.Popen([str(harness.spate_binary()), "video", "put", name, "-",
                                "--endpoint", endpoint], stdin=feed.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            archived = clients.archived(name)
            deadline = time.monotonic() + 20
            while True:
                try:
                    url = archived.get_hls_streaming_session_url(
                        StreamName=name, PlaybackMode="LIVE",
                        MaxMediaPlaylistFragmentResults=3)["HLSStreamingSessionURL"]
                    break
                except archived.exceptions.ResourceNotFoundException:
                    assert time.monotonic() < deadline, "no fragment to play"
                    time.sleep(0.2)
            media_playlist = url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist")
            sequences = []
            played = {}
            player = threading.Thread(target=lambda: played.update(
                play(chromium, url, tmp_path / "live.png", seconds=2)))
            player.start()
            for _ in range(6):
                lines = get(media_playlist)[2].decode().splitlines()
                assert "#EXT-X-ENDLIST" not in lines
                sequence = next(l for l in lines if l.startswith("#EXT-X-MEDIA-SEQUENCE:"))
                sequences.append(int(sequence.split(":")[1]))
                time.sleep(1)
            player.join(timeout=120)
        finally:
            put.wait(timeout=60)
    assert put.returncode == 0, put.stderr.read().decode()
    assert sequences == sorted(sequences) and sequences[-1] > sequences[0], sequences
    assert played["errors"] == [] and played["advanced"], played
    assert played["colours"] > 50, played


def test_a_session_of_another_account_plays_on_the_same_endpoint(spate_factory, tmp_path):
    home, away = ("AKIDHOME", "home-secret"), ("AKIDAWAY", "away-secret")
    config = harness.write_credentials_config(
        tmp_path / "spate.toml",
        {"access_key_id": home[0], "secret_access_key": home[1]},
        {"access_key_id": away[0], "secret_access_key": away[1], "account_id": "444455556666",
         "user_name": "away"})
    server = spate_factory(env={"SPATE_CONFIG": str(config)})
    control = harness.kinesis_client(server.endpoint, service="kinesisvideo",
                                     access_key_id=away[0], secret_access_key=away[1])
    control.create_stream(StreamName="cam", DataRetentionInHours=1)
    while control.describe_stream(StreamName="cam")["StreamInfo"]["Status"] != "ACTIVE":
        time.sleep(0.02)
    result = put_media(server.endpoint, "cam",
                       video_media.producer_media("av10.mkv", harness.spate_binary()),
                       producer_start=float(START), credentials=away)
    assert sum(ack["EventType"] == "PERSISTED" for ack in result.acks) == 10, result
    archived = harness.kinesis_client(server.endpoint, service="kinesis-video-archived-media",
                                      access_key_id=away[0], secret_access_key=away[1])
    url = archived.get_hls_streaming_session_url(
        StreamName="cam", PlaybackMode="ON_DEMAND",
        HLSFragmentSelector=on_demand_range())["HLSStreamingSessionURL"]
    status, _, playlist = get(url.replace("getHLSMasterPlaylist", "getHLSMediaPlaylist"))
    assert status == 200
    assert playlist.decode().count("#EXTINF:") == 10
