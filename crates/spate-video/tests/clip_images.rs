//! GetClip and GetImages in process: the ffmpeg-made fixtures ingested through PutMedia, then
//! the clip read back with mp4-atom (an independent parser) and the images decoded with the
//! `image` crate. GetImages needs ffmpeg at run time (installed by scripts/video-tools-bin).

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use mp4_atom::{Decode, Ftyp, Mdat, Moov};
use serde_json::{Value, json};
use spate_log::Clock;
use spate_mkv::{Event, RawCluster, Splitter, SplitterConfig};
use spate_video::api::Reply;
use spate_video::ingest::{MediaBody, PutMediaParams};
use spate_video::{Call, VideoConfig, VideoService};
use spate_wire::AwsError;
use support::{AV2, Fixture, START_MS};

/// The producer start timestamp sent with the media, and the same in ms.
const PRODUCER_START: &str = "1700000100.250";
const PRODUCER_START_MS: i64 = 1_700_000_100_250;
const VIDEO_TRACK: u64 = 1;
const AUDIO_TRACK: u64 = 2;

async fn fixture() -> Fixture {
    support::fixture(VideoConfig::default()).await
}

async fn call(service: &Arc<VideoService>, path: &str, body: &Value) -> Result<Reply, AwsError> {
    let body = serde_json::to_vec(body).expect("json");
    service.handle(path, &body, &Call::default()).await
}

async fn json_call(service: &Arc<VideoService>, path: &str, body: &Value) -> Value {
    match call(service, path, body).await {
        Ok(Reply::Json(answer)) => serde_json::from_slice(&answer).expect("json answer"),
        other => panic!("{path}: {other:?}"),
    }
}

async fn error_of(service: &Arc<VideoService>, path: &str, body: &Value) -> AwsError {
    match call(service, path, body).await {
        Err(err) => err,
        Ok(reply) => panic!("{path} should fail: {reply:?}"),
    }
}

/// Creates a stream with `retention_hours` and ingests `media` into it through PutMedia.
async fn stream_with(fixture: &Fixture, name: &str, retention_hours: i64, media: &[u8]) {
    json_call(
        &fixture.service,
        "/createStream",
        &json!({"StreamName": name, "DataRetentionInHours": retention_hours}),
    )
    .await;
    fixture.clock.advance(1_000);
    ingest(fixture, name, PRODUCER_START, media).await;
}

/// One PutMedia session of `media` with the producer start time `producer_start` (seconds).
async fn ingest(fixture: &Fixture, name: &str, producer_start: &str, media: &[u8]) {
    let params = PutMediaParams {
        stream_name: Some(name.to_owned()),
        stream_arn: None,
        timecode_type: Some("RELATIVE".to_owned()),
        producer_start: Some(producer_start.to_owned()),
    };
    let pieces: Vec<Result<Bytes, std::io::Error>> = media
        .chunks(4096)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    let body: MediaBody = futures::stream::iter(pieces).boxed();
    let acks = fixture
        .service
        .put_media(params, body)
        .await
        .expect("PutMedia accepted");
    let acks: Vec<Bytes> = tokio::time::timeout(Duration::from_secs(20), acks.collect())
        .await
        .expect("PutMedia ends");
    assert!(
        acks.iter()
            .all(|ack| !String::from_utf8_lossy(ack).contains("ERROR")),
        "{acks:?}"
    );
    fixture.clock.advance(1_000);
}

/// The fixture's clusters (fragments) as the MKV has them.
fn clusters(media: &[u8]) -> Vec<RawCluster> {
    let mut splitter = Splitter::new(SplitterConfig::default());
    let mut events = Vec::new();
    splitter.push(media, &mut events).expect("fixture splits");
    splitter.finish(&mut events).expect("fixture ends");
    events
        .into_iter()
        .filter_map(|event| match event {
            Event::ClusterEnd(cluster) => Some(cluster),
            _ => None,
        })
        .collect()
}

/// The producer time of the fixture's first video frame, ms.
fn first_video_ms() -> i64 {
    let first = clusters(AV2)
        .iter()
        .flat_map(|cluster| cluster.blocks.clone())
        .filter(|block| block.track == VIDEO_TRACK)
        .map(|block| block.timecode)
        .min()
        .expect("video frames");
    PRODUCER_START_MS + first
}

/// Frames of `track` in `clusters`, counted from the MKV.
fn frame_count(clusters: &[RawCluster], track: u64) -> usize {
    clusters
        .iter()
        .flat_map(|cluster| &cluster.blocks)
        .filter(|block| block.track == track)
        .count()
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn clip_request(stream: &str, selector: &str, start_ms: i64, end_ms: i64) -> Value {
    json!({
        "StreamName": stream,
        "ClipFragmentSelector": {
            "FragmentSelectorType": selector,
            "TimestampRange": {"StartTimestamp": seconds(start_ms), "EndTimestamp": seconds(end_ms)},
        },
    })
}

/// The clip's bytes, checking its content type.
async fn clip(service: &Arc<VideoService>, request: &Value) -> Vec<u8> {
    match call(service, "/getClip", request).await {
        Ok(Reply::Media { content_type, body }) => {
            assert_eq!(content_type, "video/mp4");
            let body: BoxStream<'static, Bytes> = body;
            let pieces: Vec<Bytes> = body.collect().await;
            pieces.concat()
        }
        other => panic!("GetClip: {other:?}"),
    }
}

/// Decodes the clip (ftyp, moov, mdat in that order, nothing after) and returns the number of
/// samples per track id.
fn samples_per_track(file: &[u8]) -> Vec<(u32, usize)> {
    let mut buf = file;
    let ftyp = Ftyp::decode(&mut buf).expect("ftyp first");
    assert_eq!(ftyp.major_brand, b"isom".into());
    let moov = Moov::decode(&mut buf).expect("moov before mdat");
    let mdat = Mdat::decode(&mut buf).expect("mdat last");
    assert!(buf.is_empty(), "nothing after the mdat");
    let mut media = 0usize;
    let counts = moov
        .trak
        .iter()
        .map(|trak| {
            let stsz = &trak.mdia.minf.stbl.stsz;
            let sizes = match &stsz.samples {
                mp4_atom::StszSamples::Identical { count, size } => {
                    vec![*size as usize; *count as usize]
                }
                mp4_atom::StszSamples::Different { sizes } => {
                    sizes.iter().map(|&size| size as usize).collect()
                }
            };
            media += sizes.iter().sum::<usize>();
            (trak.tkhd.track_id, sizes.len())
        })
        .collect();
    assert_eq!(media, mdat.data.len(), "the mdat holds exactly the samples");
    counts
}

#[tokio::test]
async fn a_clip_of_the_whole_range_holds_every_frame_of_every_track() {
    let fixture = fixture().await;
    // Only av2.mkv: PutMedia refuses av2-bframes.mkv's second cluster (4004: its first audio
    // block starts before the first cluster's last, B-frame-delayed, video block), so it
    // cannot be ingested yet; spate-mp4's own tests cover B-frame clips.
    for (name, media) in [("cam", AV2)] {
        stream_with(&fixture, name, 24, media).await;
        let clusters = clusters(media);
        let request = clip_request(
            name,
            "PRODUCER_TIMESTAMP",
            PRODUCER_START_MS - 60_000,
            PRODUCER_START_MS + 60_000,
        );
        let file = clip(&fixture.service, &request).await;
        let expected = [
            (1, frame_count(&clusters, VIDEO_TRACK)),
            (2, frame_count(&clusters, AUDIO_TRACK)),
        ];
        assert_eq!(samples_per_track(&file), expected, "{name}");
        assert_eq!(expected[0].1, 50, "the fixture's 50 video frames");
    }
    // The same clip selected by arrival time (both fragments arrived within the last seconds).
    let now = START_MS + 10_000;
    fixture.clock.advance(now - fixture.clock.now_ms());
    let request = clip_request("cam", "SERVER_TIMESTAMP", START_MS, now);
    let file = clip(&fixture.service, &request).await;
    let all = clusters(AV2);
    assert_eq!(
        samples_per_track(&file),
        [
            (1, frame_count(&all, VIDEO_TRACK)),
            (2, frame_count(&all, AUDIO_TRACK))
        ]
    );
}

#[tokio::test]
async fn a_partial_range_holds_the_fragments_starting_in_it() {
    let fixture = fixture().await;
    stream_with(&fixture, "cam", 24, AV2).await;
    let all = clusters(AV2);
    assert_eq!(all.len(), 2);
    let second_ms = PRODUCER_START_MS + i64::try_from(all[1].timecode).expect("small");
    // From the second fragment's start: only it (the first starts before the range).
    let request = clip_request("cam", "PRODUCER_TIMESTAMP", second_ms, second_ms + 60_000);
    let file = clip(&fixture.service, &request).await;
    let second = &all[1..];
    assert_eq!(
        samples_per_track(&file),
        [
            (1, frame_count(second, VIDEO_TRACK)),
            (2, frame_count(second, AUDIO_TRACK))
        ]
    );
    // Up to the second fragment's start, inclusive: both.
    let request = clip_request("cam", "PRODUCER_TIMESTAMP", PRODUCER_START_MS, second_ms);
    let both = samples_per_track(&clip(&fixture.service, &request).await);
    assert_eq!(both[0].1, frame_count(&all, VIDEO_TRACK));
    // Up to just before it: the first only.
    let request = clip_request(
        "cam",
        "PRODUCER_TIMESTAMP",
        PRODUCER_START_MS,
        second_ms - 1,
    );
    let first = samples_per_track(&clip(&fixture.service, &request).await);
    assert_eq!(first[0].1, frame_count(&all[..1], VIDEO_TRACK));
    assert!(first[0].1 < both[0].1);
}

#[tokio::test]
async fn a_clip_stops_at_the_first_200_fragments() {
    // 101 PutMedia calls in a row: without the calls-per-second quota.
    let fixture = support::fixture(VideoConfig {
        quotas: false,
        ..VideoConfig::default()
    })
    .await;
    stream_with(&fixture, "cam", 24, AV2).await;
    // 101 sessions of the 2-fragment fixture, 3 s apart: 202 fragments in the range.
    for session in 1..=100 {
        let start = format!("{}.250", 1_700_000_100 + 3 * session);
        ingest(&fixture, "cam", &start, AV2).await;
    }
    let request = clip_request(
        "cam",
        "PRODUCER_TIMESTAMP",
        PRODUCER_START_MS - 1_000,
        PRODUCER_START_MS + 3_600_000,
    );
    let counts = samples_per_track(&clip(&fixture.service, &request).await);
    let all = clusters(AV2);
    assert_eq!(all.len(), 2);
    // The first 200 fragments: 100 whole sessions.
    assert_eq!(
        counts,
        [
            (1, 100 * frame_count(&all, VIDEO_TRACK)),
            (2, 100 * frame_count(&all, AUDIO_TRACK))
        ]
    );
}

#[tokio::test]
async fn clip_refusals_name_their_exception() {
    let fixture = fixture().await;
    stream_with(&fixture, "cam", 24, AV2).await;
    stream_with(&fixture, "fleeting", 0, AV2).await;
    let range = |stream: &str, start_ms: i64, end_ms: i64| {
        clip_request(stream, "PRODUCER_TIMESTAMP", start_ms, end_ms)
    };
    let cases = [
        (
            range("nobody", PRODUCER_START_MS, PRODUCER_START_MS + 5_000),
            "ResourceNotFoundException",
            404,
        ),
        (
            range("cam", PRODUCER_START_MS - 9_000, PRODUCER_START_MS - 1),
            "ResourceNotFoundException",
            404,
        ),
        (
            range("fleeting", PRODUCER_START_MS, PRODUCER_START_MS + 5_000),
            "NoDataRetentionException",
            400,
        ),
        (
            range("cam", PRODUCER_START_MS, PRODUCER_START_MS),
            "InvalidArgumentException",
            400,
        ),
        (
            range(
                "cam",
                PRODUCER_START_MS,
                PRODUCER_START_MS + 24 * 3_600_000 + 1,
            ),
            "InvalidArgumentException",
            400,
        ),
        (
            clip_request("cam", "SERVER_TIMESTAMP", START_MS, START_MS + 3_600_000),
            "InvalidArgumentException",
            400,
        ),
        (
            json!({"StreamName": "cam"}),
            "InvalidArgumentException",
            400,
        ),
    ];
    for (request, code, status) in cases {
        let err = error_of(&fixture.service, "/getClip", &request).await;
        assert_eq!(
            (err.code, err.status),
            (code, status),
            "{request}: {}",
            err.message
        );
    }
}

// --- GetImages ----------------------------------------------------------------------------

/// Fails the test with the way out when ffmpeg is missing.
fn require_ffmpeg() {
    let found = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(found, "ffmpeg not found: run scripts/video-tools-bin");
}

fn images_request(stream: &str, start_ms: i64, end_ms: i64, extra: Value) -> Value {
    let mut request = json!({
        "StreamName": stream,
        "ImageSelectorType": "PRODUCER_TIMESTAMP",
        "StartTimestamp": seconds(start_ms),
        "EndTimestamp": seconds(end_ms),
        "Format": "JPEG",
    });
    let (Value::Object(fields), Value::Object(more)) = (&mut request, extra) else {
        panic!("objects");
    };
    fields.extend(more);
    request
}

/// Each image's error or decoded picture.
fn decoded(images: &Value, format: image::ImageFormat) -> Vec<Result<image::RgbImage, String>> {
    images["Images"]
        .as_array()
        .expect("Images")
        .iter()
        .map(|entry| {
            if let Some(error) = entry["Error"].as_str() {
                assert!(entry.get("ImageContent").is_none());
                return Err(error.to_owned());
            }
            let content = entry["ImageContent"].as_str().expect("ImageContent");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(content)
                .expect("base64");
            Ok(image::load_from_memory_with_format(&bytes, format)
                .expect("the image decodes")
                .to_rgb8())
        })
        .collect()
}

/// ffmpeg's own decoding of the fixture's video frame `n` (display order), RGB.
fn frame_by_ffmpeg(path: &str, n: usize) -> Vec<u8> {
    let output = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            path,
            "-map",
            "0:v:0",
        ])
        .args(["-vf", &format!("select=eq(n\\,{n})"), "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

#[tokio::test]
async fn images_are_the_frames_at_the_sampled_times_in_the_requested_format_and_size() {
    require_ffmpeg();
    let fixture = fixture().await;
    stream_with(&fixture, "cam", 24, AV2).await;
    let first_ms = first_video_ms();
    // JPEG at 80x45, every 400 ms over the fixture's 2 s (the last time is past the media).
    let request = images_request(
        "cam",
        first_ms,
        first_ms + 2_400,
        json!({"SamplingInterval": 400, "WidthPixels": 80, "HeightPixels": 45,
               "FormatConfig": {"JPEGQuality": "90"}}),
    );
    let answer = json_call(&fixture.service, "/getImages", &request).await;
    assert!(answer.get("NextToken").is_none(), "{answer}");
    let times: Vec<f64> = answer["Images"]
        .as_array()
        .expect("Images")
        .iter()
        .map(|entry| entry["TimeStamp"].as_f64().expect("TimeStamp"))
        .collect();
    let expected: Vec<f64> = (0..7).map(|k| seconds(first_ms + 400 * k)).collect();
    assert_eq!(times, expected);
    let images = decoded(&answer, image::ImageFormat::Jpeg);
    // 50 frames at 25 per second: the last one shows until 2 s after the first.
    for image in &images[..5] {
        let image = image.as_ref().expect("media at the first five times");
        assert_eq!(image.dimensions(), (80, 45));
    }
    for image in &images[5..] {
        assert_eq!(*image, Err("NO_MEDIA".to_owned()), "past the 2 s of video");
    }
    let first = images[0].as_ref().expect("first");
    let later = images[3].as_ref().expect("later");
    assert_ne!(
        first.as_raw(),
        later.as_raw(),
        "testsrc2 moves: the frames differ"
    );

    // PNG at the source size, every 400 ms (10 frames at 25 per second), across both
    // fragments: each image is exactly ffmpeg's own decoding of that frame of the file.
    let request = images_request(
        "cam",
        first_ms,
        first_ms + 1_600,
        json!({"Format": "PNG", "SamplingInterval": 400}),
    );
    let answer = json_call(&fixture.service, "/getImages", &request).await;
    let images = decoded(&answer, image::ImageFormat::Png);
    assert_eq!(images.len(), 5);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spate-mkv/tests/fixtures/av2.mkv"
    );
    for (k, image) in images.iter().enumerate() {
        let png = image.as_ref().expect("a frame");
        assert_eq!(png.dimensions(), (160, 90));
        let reference = frame_by_ffmpeg(path, 10 * k);
        assert_eq!(&reference, png.as_raw(), "frame {}", 10 * k);
    }

    // Only a height: the width follows the 16:9 source.
    let request = images_request(
        "cam",
        first_ms + 500,
        first_ms + 500,
        json!({"HeightPixels": 45}),
    );
    // (Before the first frame there is nothing to show.)
    let before = images_request("cam", first_ms - 1, first_ms - 1, json!({}));
    let answer = json_call(&fixture.service, "/getImages", &before).await;
    assert_eq!(answer["Images"][0]["Error"], "NO_MEDIA");

    // By arrival time: the fragments arrived at START_MS + 1 s (the clock after creation);
    // nothing shows before, the first fragment's frames after.
    let arrival = START_MS + 1_000;
    let mut by_server = images_request(
        "cam",
        arrival - 400,
        arrival + 400,
        json!({"SamplingInterval": 400}),
    );
    by_server["ImageSelectorType"] = json!("SERVER_TIMESTAMP");
    let answer = json_call(&fixture.service, "/getImages", &by_server).await;
    let images = decoded(&answer, image::ImageFormat::Jpeg);
    assert_eq!(images[0], Err("NO_MEDIA".to_owned()));
    assert_eq!(images[2].as_ref().expect("media").dimensions(), (160, 90));
    let answer = json_call(&fixture.service, "/getImages", &request).await;
    let images = decoded(&answer, image::ImageFormat::Jpeg);
    assert_eq!(images[0].as_ref().expect("image").dimensions(), (80, 45));
}

#[tokio::test]
async fn times_without_media_are_no_media_and_pages_follow_next_tokens() {
    require_ffmpeg();
    let fixture = fixture().await;
    stream_with(&fixture, "cam", 24, AV2).await;
    // 10 s before the first frame to 0.2 s after it, every 200 ms: 52 times in pages of 25.
    let first_ms = first_video_ms();
    let start = first_ms - 10_000;
    let end = first_ms + 200;
    let base = images_request("cam", start, end, json!({"SamplingInterval": 200}));
    let mut request = base.clone();
    let mut pages = Vec::new();
    loop {
        let answer = json_call(&fixture.service, "/getImages", &request).await;
        pages.push(decoded(&answer, image::ImageFormat::Jpeg));
        let Some(token) = answer.get("NextToken").and_then(Value::as_str) else {
            break;
        };
        request = base.clone();
        request["NextToken"] = json!(token);
    }
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [25, 25, 2]);
    let all: Vec<&Result<image::RgbImage, String>> = pages.iter().flatten().collect();
    assert!(
        all[..50]
            .iter()
            .all(|image| **image == Err("NO_MEDIA".to_owned())),
        "before the media"
    );
    for image in &all[50..] {
        assert!(image.is_ok(), "in the media: {:?}", image.as_ref().err());
    }

    // MaxResults caps the images; a token is only good for the request that made it.
    let capped = images_request(
        "cam",
        start,
        end,
        json!({"SamplingInterval": 200, "MaxResults": 30}),
    );
    let answer = json_call(&fixture.service, "/getImages", &capped).await;
    let token = answer["NextToken"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let mut next = capped.clone();
    next["NextToken"] = json!(token);
    let answer = json_call(&fixture.service, "/getImages", &next).await;
    assert_eq!(answer["Images"].as_array().expect("Images").len(), 5);
    assert!(answer.get("NextToken").is_none());
    let mut other = base.clone();
    other["NextToken"] = json!(token);
    let err = error_of(&fixture.service, "/getImages", &other).await;
    assert_eq!(err.code, "InvalidArgumentException", "{}", err.message);
}

#[tokio::test]
async fn image_refusals_name_their_exception() {
    let fixture = fixture().await;
    stream_with(&fixture, "cam", 24, AV2).await;
    stream_with(&fixture, "fleeting", 0, AV2).await;
    let at = PRODUCER_START_MS;
    let cases = [
        (
            images_request("nobody", at, at, json!({})),
            "ResourceNotFoundException",
        ),
        (
            images_request("fleeting", at, at, json!({})),
            "NoDataRetentionException",
        ),
        (
            images_request("cam", at, at + 300_001, json!({})),
            "InvalidArgumentException",
        ),
        (
            images_request("cam", at, at + 1_000, json!({"SamplingInterval": 100})),
            "InvalidArgumentException",
        ),
        (
            images_request("cam", at, at - 1, json!({})),
            "InvalidArgumentException",
        ),
        (
            images_request(
                "cam",
                at,
                at,
                json!({"FormatConfig": {"JPEGQuality": "101"}}),
            ),
            "InvalidArgumentException",
        ),
    ];
    for (request, code) in cases {
        let err = error_of(&fixture.service, "/getImages", &request).await;
        assert_eq!(err.code, code, "{request}: {}", err.message);
    }
}

/// A fixture whose `[video] ffmpeg` is `program`.
async fn fixture_with_ffmpeg(program: &str) -> Fixture {
    support::fixture(VideoConfig {
        ffmpeg: program.to_owned(),
        ..VideoConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_missing_ffmpeg_is_named_in_the_error() {
    let fixture = fixture_with_ffmpeg("/nonexistent/ffmpeg").await;
    stream_with(&fixture, "cam", 24, AV2).await;
    let at = first_video_ms();
    let request = images_request("cam", at, at, json!({}));
    let err = error_of(&fixture.service, "/getImages", &request).await;
    assert_eq!(err.code, "InvalidArgumentException");
    assert!(err.message.contains("[video] ffmpeg"), "{}", err.message);
    assert!(
        err.message.contains("/nonexistent/ffmpeg"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_failing_decoder_is_a_media_error_per_image() {
    // `false` reads nothing and exits 1, as ffmpeg does on media it cannot decode.
    let fixture = fixture_with_ffmpeg("false").await;
    stream_with(&fixture, "cam", 24, AV2).await;
    let at = first_video_ms();
    let request = images_request("cam", at - 400, at, json!({"SamplingInterval": 400}));
    let answer = json_call(&fixture.service, "/getImages", &request).await;
    assert_eq!(answer["Images"][0]["Error"], "NO_MEDIA");
    assert_eq!(answer["Images"][1]["Error"], "MEDIA_ERROR");
    assert!(answer["Images"][1].get("ImageContent").is_none());
}
