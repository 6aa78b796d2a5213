//! HLS and DASH sessions in process: the fixture ingested through PutMedia, sessions opened
//! through the operations, then the player's files fetched from `VideoService::playback` and
//! read back: playlists list the fragments PutMedia acknowledged, segments decode (mp4-atom)
//! to the fragments' frames, and tokens are refused once tampered with or expired.

mod support;

use std::io::Cursor;

use serde_json::{Value, json};
use spate_video::VideoConfig;
use support::{AV2, Fixture, PRODUCER_START_MS, create_stream, fixture, json_call, put_media};

/// Opens an ON_DEMAND HLS session over the whole fixture; its master playlist URL.
async fn hls_session(fixture: &Fixture, extra: Value) -> Result<String, String> {
    let mut request = json!({
        "StreamName": "cam",
        "PlaybackMode": "ON_DEMAND",
        "HLSFragmentSelector": {
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {
                "StartTimestamp": PRODUCER_START_MS / 1000 - 1,
                "EndTimestamp": PRODUCER_START_MS / 1000 + 60,
            }
        }
    });
    if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
        request.extend(extra.clone());
    }
    let answer = json_call(&fixture.service, "/getHLSStreamingSessionURL", request).await?;
    Ok(answer["HLSStreamingSessionURL"]
        .as_str()
        .expect("a URL")
        .to_owned())
}

/// The path and query of a session URL.
fn path_and_query(url: &str) -> (String, String) {
    let path_start = url
        .find("/hls/")
        .or_else(|| url.find("/dash/"))
        .expect("a playback path");
    let (path, query) = url[path_start..].split_once('?').expect("a query");
    (path.to_owned(), query.to_owned())
}

async fn fetch(fixture: &Fixture, path: &str, query: &str) -> (u16, Vec<u8>) {
    let answer = fixture.service.playback(path, query).await;
    (answer.status, answer.body.to_vec())
}

async fn ingested() -> (Fixture, Vec<String>) {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let acks = put_media(&fixture, "cam", AV2).await;
    let persisted: Vec<String> = acks
        .iter()
        .filter(|ack| ack["EventType"] == "PERSISTED")
        .map(|ack| ack["FragmentNumber"].as_str().expect("number").to_owned())
        .collect();
    assert_eq!(persisted.len(), 2, "{acks:?}");
    (fixture, persisted)
}

#[tokio::test]
async fn an_on_demand_hls_session_lists_and_serves_every_fragment() {
    let (fixture, persisted) = ingested().await;
    let url = hls_session(&fixture, json!({})).await.expect("session");
    assert!(
        url.starts_with("http://127.0.0.1:4567/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=")
    );
    let (path, query) = path_and_query(&url);
    let (status, master) = fetch(&fixture, &path, &query).await;
    assert_eq!(status, 200);
    let master = String::from_utf8(master).expect("text");
    assert!(
        master.contains("CODECS=\"avc1.4d400b,mp4a.40.2\",RESOLUTION=160x90"),
        "{master}"
    );

    let (status, media) = fetch(&fixture, "/hls/v1/getHLSMediaPlaylist.m3u8", &query).await;
    assert_eq!(status, 200);
    let media = String::from_utf8(media).expect("text");
    let listed: Vec<&str> = media
        .lines()
        .filter_map(|line| {
            line.split_once("&FragmentNumber=")
                .map(|(_, number)| number)
        })
        .collect();
    assert_eq!(listed, persisted);
    assert!(media.contains("#EXT-X-PLAYLIST-TYPE:VOD\n") && media.ends_with("#EXT-X-ENDLIST\n"));
    // PRODUCER_TIMESTAMP sessions default to no discontinuity markers.
    assert!(!media.contains("#EXT-X-DISCONTINUITY\n"));

    let (status, init) = fetch(&fixture, "/hls/v1/getMP4InitFragment.mp4", &query).await;
    assert_eq!(status, 200);
    let mut reader = Cursor::new(init);
    let ftyp = <mp4_atom::Ftyp as mp4_atom::ReadFrom>::read_from(&mut reader).expect("ftyp");
    assert!(!ftyp.compatible_brands.is_empty());
    let moov = <mp4_atom::Moov as mp4_atom::ReadFrom>::read_from(&mut reader).expect("moov");
    assert_eq!(moov.trak.len(), 2);

    let mut samples = 0;
    for number in &persisted {
        let (status, segment) = fetch(
            &fixture,
            "/hls/v1/getMP4MediaFragment.mp4",
            &format!("{query}&FragmentNumber={number}"),
        )
        .await;
        assert_eq!(status, 200);
        let mut reader = Cursor::new(segment);
        let moof = <mp4_atom::Moof as mp4_atom::ReadFrom>::read_from(&mut reader).expect("moof");
        samples += moof
            .traf
            .iter()
            .flat_map(|traf| &traf.trun)
            .map(|trun| trun.samples.iter().count())
            .sum::<usize>();
    }
    // 50 video frames and 95 AAC frames in the fixture (ffprobe -count_frames).
    assert_eq!(samples, 50 + 95);
}

#[tokio::test]
async fn tokens_are_refused_when_tampered_with_expired_or_of_the_other_protocol() {
    let (fixture, _) = ingested().await;
    let url = hls_session(&fixture, json!({"Expires": 300}))
        .await
        .expect("session");
    let (_, query) = path_and_query(&url);
    let master = "/hls/v1/getHLSMasterPlaylist.m3u8";
    let mut tampered = query.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert_eq!(fetch(&fixture, master, &tampered).await.0, 403);
    assert_eq!(fetch(&fixture, master, "").await.0, 400);
    assert_eq!(
        fetch(&fixture, "/dash/v1/getDASHManifest.mpd", &query)
            .await
            .0,
        404
    );
    assert_eq!(fetch(&fixture, master, &query).await.0, 200);
    fixture.clock.advance(300_000);
    assert_eq!(fetch(&fixture, master, &query).await.0, 403);
}

#[tokio::test]
async fn sessions_are_refused_as_the_documentation_says() {
    let (fixture, _) = ingested().await;
    let refused = |extra: Value| hls_session(&fixture, extra);
    assert_eq!(
        refused(json!({"ContainerFormat": "MPEG_TS"})).await,
        Err("InvalidArgumentException".to_owned())
    );
    assert_eq!(
        refused(json!({"PlaybackMode": "LIVE"})).await,
        Err("InvalidArgumentException".to_owned()),
        "LIVE takes no TimestampRange"
    );
    assert_eq!(
        refused(json!({"Expires": 299})).await,
        Err("InvalidArgumentException".to_owned())
    );
    let empty_range = json!({"HLSFragmentSelector": {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": 1_000, "EndTimestamp": 2_000}}});
    assert_eq!(
        refused(empty_range).await,
        Err("ResourceNotFoundException".to_owned())
    );
    // LIVE: the fragments are recent (the manual clock has not moved); 31 s later they are not.
    let live = json_call(
        &fixture.service,
        "/getHLSStreamingSessionURL",
        json!({"StreamName": "cam", "PlaybackMode": "LIVE"}),
    )
    .await;
    assert!(live.is_ok(), "{live:?}");
    fixture.clock.advance(31_000);
    let stale = json_call(
        &fixture.service,
        "/getHLSStreamingSessionURL",
        json!({"StreamName": "cam", "PlaybackMode": "LIVE"}),
    )
    .await;
    assert_eq!(stale, Err("ResourceNotFoundException".to_owned()));

    create_stream(&fixture, "nothing-kept", 0).await;
    let no_retention = json_call(
        &fixture.service,
        "/getDASHStreamingSessionURL",
        json!({"StreamName": "nothing-kept"}),
    )
    .await;
    assert_eq!(no_retention, Err("NoDataRetentionException".to_owned()));
}

#[tokio::test]
async fn a_dash_manifest_lists_the_fragments_with_their_numbers() {
    let (fixture, persisted) = ingested().await;
    let answer = json_call(
        &fixture.service,
        "/getDASHStreamingSessionURL",
        json!({
            "StreamName": "cam",
            "PlaybackMode": "ON_DEMAND",
            "DisplayFragmentNumber": "ALWAYS",
            "DASHFragmentSelector": {
                "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                "TimestampRange": {
                    "StartTimestamp": PRODUCER_START_MS / 1000 - 1,
                    "EndTimestamp": PRODUCER_START_MS / 1000 + 60,
                }
            }
        }),
    )
    .await
    .expect("session");
    let url = answer["DASHStreamingSessionURL"].as_str().expect("URL");
    let (path, query) = path_and_query(url);
    assert_eq!(path, "/dash/v1/getDASHManifest.mpd");
    let (status, manifest) = fetch(&fixture, &path, &query).await;
    assert_eq!(status, 200);
    let manifest = String::from_utf8(manifest).expect("text");
    assert!(manifest.contains("type=\"static\""));
    for number in &persisted {
        assert!(
            manifest.contains(&format!("kvs:fn=\"{number}\"")),
            "{manifest}"
        );
    }
    let (status, _) = fetch(&fixture, "/dash/v1/getMP4InitFragment.mp4", &query).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_live_replay_playlist_grows_with_the_session_clock_and_ends_at_its_end() {
    let (fixture, persisted) = ingested().await;
    // The two fragments start at PRODUCER_START_MS and about a second later.
    let start_s = PRODUCER_START_MS as f64 / 1000.0;
    let url = hls_session(
        &fixture,
        json!({"PlaybackMode": "LIVE_REPLAY", "HLSFragmentSelector": {
            "FragmentSelectorType": "PRODUCER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": start_s, "EndTimestamp": start_s + 1.5}}}),
    )
    .await
    .expect("session");
    let (_, query) = path_and_query(&url);
    let listed = |playlist: &str| -> Vec<String> {
        playlist
            .lines()
            .filter_map(|line| {
                line.split_once("&FragmentNumber=")
                    .map(|(_, n)| n.to_owned())
            })
            .collect()
    };
    let playlist = || async {
        let (status, body) = fetch(&fixture, "/hls/v1/getHLSMediaPlaylist.m3u8", &query).await;
        assert_eq!(status, 200);
        String::from_utf8(body).expect("text")
    };
    // At once: only the fragment that starts at the range's start.
    let now = playlist().await;
    assert_eq!(listed(&now), persisted[..1]);
    assert!(!now.contains("#EXT-X-ENDLIST"));
    // A second and a half later the session's clock has passed the second fragment's start
    // and the range's end: both are listed and the playlist is complete.
    fixture.clock.advance(1_500);
    let later = playlist().await;
    assert_eq!(listed(&later), persisted);
    assert!(later.ends_with("#EXT-X-ENDLIST\n"), "{later}");
}

#[tokio::test]
async fn a_token_is_known_only_to_the_account_that_sealed_it() {
    let (fixture, _) = ingested().await;
    let other = support::fixture(VideoConfig::default()).await;
    let url = hls_session(&fixture, json!({})).await.expect("session");
    let (_, query) = path_and_query(&url);
    assert!(fixture.service.seals_session_of(&query));
    assert!(!other.service.seals_session_of(&query));
    assert!(!fixture.service.seals_session_of("SessionToken=nothing"));
    assert!(!fixture.service.seals_session_of(""));
}
