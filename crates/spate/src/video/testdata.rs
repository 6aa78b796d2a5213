//! Test inputs shared by the video command's unit tests: spate-mkv's ffmpeg-made fixtures
//! (160x90 H.264 + AAC, 2 s, two clusters; `crates/spate-mkv/tests/fixtures/README.md`).

use spate_mkv::{ebml, ids, vint};

pub const AV2: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2.mkv");
pub const AV2_BFRAMES: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2-bframes.mkv");

/// `input` cut into slices whose sizes `size` gives (at least 1 byte each).
pub fn pieces<'a>(input: &'a [u8], size: &mut dyn FnMut() -> usize) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = size().clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        out.push(now);
        rest = later;
    }
    out
}

/// The same MKV with the Segment and every Cluster of unknown size, as the producer SDK writes.
pub fn with_unknown_sizes(input: &[u8]) -> Vec<u8> {
    let ebml_header = ebml::child_at(input, 0).expect("EBML header");
    let segment = vint::read_header(&input[ebml_header.end..])
        .expect("segment header")
        .expect("complete");
    let mut out = bytes::BytesMut::new();
    out.extend_from_slice(&input[..ebml_header.end]);
    vint::write_id(&mut out, ids::SEGMENT);
    out.extend_from_slice(&vint::UNKNOWN_SIZE);
    let data = &input[ebml_header.end + segment.len..];
    for child in ebml::iter_children(data) {
        let child = child.expect("segment child");
        if child.header.id == ids::CLUSTER {
            vint::write_id(&mut out, ids::CLUSTER);
            out.extend_from_slice(&vint::UNKNOWN_SIZE);
            out.extend_from_slice(&data[child.data_start..child.end]);
        } else {
            out.extend_from_slice(&data[child.start..child.end]);
        }
    }
    out.to_vec()
}

/// A synthetic MKV: TimecodeScale `scale_ns`, tracks `(number, TrackType)` (1 video, 2 audio),
/// blocks `(track, time in TimecodeScale units, key)` as SimpleBlocks with a 4-byte payload
/// (their index), `per_cluster` blocks to a known-size Cluster timed at its first block.
pub fn synthetic(
    scale_ns: u64,
    tracks: &[(u64, u64)],
    blocks: &[(u64, i64, bool)],
    per_cluster: usize,
) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    let mut header = bytes::BytesMut::new();
    ebml::write_element(&mut header, 0x4282, b"matroska");
    ebml::write_element(&mut out, ids::EBML, &header);
    let mut segment = bytes::BytesMut::new();
    let mut info = bytes::BytesMut::new();
    ebml::write_uint(&mut info, ids::TIMECODE_SCALE, scale_ns);
    ebml::write_element(&mut segment, ids::INFO, &info);
    let mut entries = bytes::BytesMut::new();
    for &(number, kind) in tracks {
        let mut entry = bytes::BytesMut::new();
        ebml::write_uint(&mut entry, ids::TRACK_NUMBER, number);
        ebml::write_uint(&mut entry, ids::TRACK_UID, number);
        ebml::write_uint(&mut entry, ids::TRACK_TYPE, kind);
        let codec: &[u8] = if kind == 1 {
            b"V_MPEG4/ISO/AVC"
        } else {
            b"A_AAC"
        };
        ebml::write_element(&mut entry, ids::CODEC_ID, codec);
        ebml::write_element(&mut entries, ids::TRACK_ENTRY, &entry);
    }
    ebml::write_element(&mut segment, ids::TRACKS, &entries);
    for (index, group) in blocks.chunks(per_cluster).enumerate() {
        let start = group[0].1;
        let mut cluster = bytes::BytesMut::new();
        ebml::write_uint(&mut cluster, ids::TIMECODE, start.unsigned_abs());
        for (i, &(track, time, key)) in group.iter().enumerate() {
            let relative = i16::try_from(time - start).expect("a test block fits its cluster");
            let mut block = vec![0x80 | track as u8];
            block.extend_from_slice(&relative.to_be_bytes());
            block.push(if key { 0x80 } else { 0 });
            block.extend_from_slice(&((index * per_cluster + i) as u32).to_be_bytes());
            ebml::write_element(&mut cluster, ids::SIMPLE_BLOCK, &block);
        }
        ebml::write_element(&mut segment, ids::CLUSTER, &cluster);
    }
    ebml::write_element(&mut out, ids::SEGMENT, &segment);
    out.to_vec()
}

/// A one-connection HTTP/1.1 server on a free port answering every request with `status`,
/// `headers` and `body`; answers its address.
pub async fn answer_once(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: Vec<u8>,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let headers = headers.to_vec();
    let body = bytes::Bytes::from(body);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let service = hyper::service::service_fn(move |_request| {
            let mut response = http::Response::builder().status(status);
            for (name, value) in &headers {
                response = response.header(*name, *value);
            }
            let response = response
                .body(http_body_util::Full::new(body.clone()))
                .expect("response");
            async move { Ok::<_, std::convert::Infallible>(response) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
    address
}
