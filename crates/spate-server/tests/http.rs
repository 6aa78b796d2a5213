//! The HTTP surface: routing, AWS error envelopes and headers in process (no socket), and
//! HTTP/1.1 and HTTP/2 cleartext (prior knowledge) served on the same real port, including the
//! SubscribeToShard event stream over both.

mod common;

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use hyper::Request;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use spate_log::{Clock, Log, LogConfig, SystemClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_server::accounts::Accounts;
use spate_server::auth::{AuthMode, Authenticator, CredentialSettings};
use spate_server::http::{AppState, router};
use spate_streams::{StreamsConfig, StreamsService};
use tower::ServiceExt;

async fn state(dir: &std::path::Path) -> AppState {
    state_with(dir, AuthMode::AnySignature, &[]).await
}

async fn state_with(
    dir: &std::path::Path,
    mode: AuthMode,
    credentials: &[CredentialSettings],
) -> AppState {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let log = Log::open(dir, LogConfig::default(), clock.clone()).expect("log");
    let engine = log.clone();
    let meta: Arc<dyn MetaStore> = Arc::new(MemoryStore::new());
    let config = StreamsConfig {
        create_delay_ms: 0,
        consumer_create_delay_ms: 0,
        ..StreamsConfig::default()
    };
    let streams = StreamsService::open(config, log, meta, clock)
        .await
        .expect("service");
    let auth = Arc::new(Authenticator::new(mode, credentials, "000000000000").expect("valid"));
    AppState {
        accounts: Arc::new(Accounts::single(streams, engine)),
        auth,
    }
}

/// A signed Kinesis call.
fn kinesis(operation: &str, body: &str) -> Request<Body> {
    let mut request = kinesis_unsigned(operation, body);
    common::sign(&mut request, body.as_bytes());
    request
}

fn kinesis_unsigned(operation: &str, body: &str) -> Request<Body> {
    Request::post("/")
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn send(state: &AppState, request: Request<Body>) -> (u16, hyper::HeaderMap, Value) {
    let response = router(state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    (status, headers, body)
}

#[tokio::test]
async fn errors_carry_the_type_in_body_and_header_and_a_request_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let (status, headers, body) = send(
        &state,
        kinesis("DescribeStreamSummary", r#"{"StreamName":"nope"}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ResourceNotFoundException");
    assert_eq!(
        body["message"],
        "Stream nope under account 000000000000 not found."
    );
    assert_eq!(headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    assert_eq!(headers["x-amzn-requestid"].len(), 36);
}

#[tokio::test]
async fn operations_spate_does_not_serve_are_named_not_silently_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let (status, _, body) = send(&state, kinesis("PutRecordz", "{}")).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("Kinesis_20131202.PutRecordz")
    );

    let mut firehose = Request::post("/")
        .header("x-amz-target", "Firehose_20150804.CreateDeliveryStream")
        .header("content-type", "application/x-amz-json-1.1")
        .body(Body::from("{}"))
        .expect("request");
    common::sign_as(
        &mut firehose,
        b"{}",
        common::ACCESS_KEY_ID,
        common::SECRET_ACCESS_KEY,
        std::time::SystemTime::now(),
        "firehose",
    );
    let (status, _, body) = send(&state, firehose).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("CreateDeliveryStream")
    );

    let no_target = Request::post("/").body(Body::from("{}")).expect("request");
    let (status, _, body) = send(&state, no_target).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
}

fn kinesis_cbor(operation: &str, body: &ciborium::Value) -> Request<Body> {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(body, &mut bytes).expect("cbor");
    let mut request = Request::post("/")
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-cbor-1.1")
        .body(Body::from(bytes.clone()))
        .expect("request");
    common::sign(&mut request, &bytes);
    request
}

/// Sends a request and decodes the answer as CBOR, which it must be.
async fn send_cbor(
    state: &AppState,
    request: Request<Body>,
) -> (u16, hyper::HeaderMap, ciborium::Value) {
    let response = router(state.clone())
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = ciborium::de::from_reader(&bytes[..]).expect("the answer is CBOR");
    (status, headers, body)
}

fn text_member<'a>(map: &'a ciborium::Value, key: &str) -> Option<&'a str> {
    map.as_map()?
        .iter()
        .find(|(name, _)| name.as_text() == Some(key))
        .and_then(|(_, value)| value.as_text())
}

#[tokio::test]
async fn cbor_requests_are_answered_in_cbor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let create = ciborium::Value::Map(vec![
        ("StreamName".into(), "c".into()),
        ("ShardCount".into(), 1.into()),
    ]);
    let (status, headers, _) = send_cbor(&state, kinesis_cbor("CreateStream", &create)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-amz-cbor-1.1");
    assert_eq!(headers["x-amzn-requestid"].len(), 36);

    // An operation without input members, with the empty body some clients send.
    let mut list = kinesis_cbor("ListStreams", &ciborium::Value::Map(vec![]));
    *list.body_mut() = Body::empty();
    let (status, _, body) = send_cbor(&state, list).await;
    assert_eq!(status, 200);
    let names = body.as_map().expect("map").iter().find_map(|(key, value)| {
        (key.as_text() == Some("StreamNames")).then(|| value.as_array().expect("array").clone())
    });
    assert_eq!(names, Some(vec!["c".into()]));
}

#[tokio::test]
async fn cbor_errors_are_cbor_with_the_type_in_body_and_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let missing = ciborium::Value::Map(vec![("StreamName".into(), "nope".into())]);
    let (status, headers, body) =
        send_cbor(&state, kinesis_cbor("DescribeStreamSummary", &missing)).await;
    assert_eq!(status, 400);
    assert_eq!(headers["content-type"], "application/x-amz-cbor-1.1");
    assert_eq!(headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(
        text_member(&body, "__type"),
        Some("ResourceNotFoundException")
    );
    assert_eq!(
        text_member(&body, "message"),
        Some("Stream nope under account 000000000000 not found.")
    );

    // A body that is not CBOR.
    let mut garbage = kinesis_cbor("DescribeStreamSummary", &missing);
    *garbage.body_mut() = Body::from(&b"\xa1\x6aStream"[..]);
    let (status, headers, body) = send_cbor(&state, garbage).await;
    assert_eq!(status, 400);
    assert_eq!(headers["x-amzn-errortype"], "SerializationException");
    assert_eq!(text_member(&body, "__type"), Some("SerializationException"));

    // Errors raised before the service is reached follow the request's encoding too.
    let (status, _, body) = send_cbor(&state, kinesis_cbor("PutRecordz", &missing)).await;
    assert_eq!(status, 400);
    assert_eq!(
        text_member(&body, "__type"),
        Some("UnknownOperationException")
    );
}

#[tokio::test]
async fn health_answers_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let response = router(state)
        .oneshot(
            Request::get("/health")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn http2_prior_knowledge_and_http1_share_one_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let http2 = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Body>();
    let http1 =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Body>();
    let uri = format!("http://{address}/");
    for (client, version, name) in [
        (&http2, hyper::Version::HTTP_2, "h2"),
        (&http1, hyper::Version::HTTP_11, "h1"),
    ] {
        let mut request = kinesis(
            "CreateStream",
            &format!(r#"{{"StreamName":"{name}","ShardCount":1}}"#),
        );
        *request.uri_mut() = uri.parse().expect("uri");
        let response = client.request(request).await.expect("response");
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
    }
    let mut request = kinesis("ListStreams", "{}");
    *request.uri_mut() = uri.parse().expect("uri");
    let response = http2.request(request).await.expect("response");
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(body["StreamNames"], serde_json::json!(["h1", "h2"]));
    server.abort();
}

/// Reads event-stream messages from a response body until `count` have arrived.
async fn messages(
    body: &mut hyper::body::Incoming,
    count: usize,
) -> Vec<spate_wire::eventstream::Message> {
    let mut buffer = Vec::new();
    let mut out = Vec::new();
    while out.len() < count {
        loop {
            match spate_wire::eventstream::decode(&buffer) {
                Ok((message, used)) => {
                    buffer.drain(..used);
                    out.push(message);
                    if out.len() == count {
                        return out;
                    }
                }
                Err(spate_wire::eventstream::FrameError::Incomplete) => break,
                Err(err) => panic!("bad frame: {err}"),
            }
        }
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("a frame within 5 s")
            .expect("body open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
        }
    }
    out
}

#[tokio::test]
async fn subscribe_to_shard_streams_events_over_http2_and_http1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let http2 = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Body>();
    let http1 =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http::<Body>();
    let uri: hyper::Uri = format!("http://{address}/").parse().expect("uri");
    let call = |operation: &str, body: String| {
        let mut request = kinesis(operation, &body);
        *request.uri_mut() = uri.clone();
        request
    };
    let created = http1
        .request(call(
            "CreateStream",
            r#"{"StreamName":"fan","ShardCount":1}"#.into(),
        ))
        .await
        .expect("create");
    assert_eq!(created.status(), 200);
    let stream_arn = StreamsConfig::default().stream_arn("fan");

    for (client, version, name) in [
        (&http2, hyper::Version::HTTP_2, "h2"),
        (&http1, hyper::Version::HTTP_11, "h1"),
    ] {
        let registered = http1
            .request(call(
                "RegisterStreamConsumer",
                format!(r#"{{"StreamARN":"{stream_arn}","ConsumerName":"{name}"}}"#),
            ))
            .await
            .expect("register");
        let bytes = registered
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let out: Value = serde_json::from_slice(&bytes).expect("json");
        let consumer = out["Consumer"]["ConsumerARN"]
            .as_str()
            .expect("arn")
            .to_string();
        let response = client
            .request(call(
                "SubscribeToShard",
                format!(
                    r#"{{"ConsumerARN":"{consumer}","ShardId":"shardId-000000000000","StartingPosition":{{"Type":"LATEST"}}}}"#
                ),
            ))
            .await
            .expect("subscribe");
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.amazon.eventstream"
        );
        let mut body = response.into_body();
        let initial = messages(&mut body, 1).await;
        assert_eq!(
            initial[0].string_header(":event-type"),
            Some("initial-response")
        );

        let put = http1
            .request(call(
                "PutRecord",
                format!(
                    r#"{{"StreamName":"fan","PartitionKey":"k","Data":"{}"}}"#,
                    "AQI="
                ),
            ))
            .await
            .expect("put");
        assert_eq!(put.status(), 200);
        let event = messages(&mut body, 1).await;
        let payload: Value = serde_json::from_slice(&event[0].payload).expect("json");
        assert_eq!(payload["Records"][0]["Data"], "AQI=", "{name}");
        assert!(payload["ContinuationSequenceNumber"].is_string());
    }
    server.abort();
}

fn strict_credentials() -> Vec<CredentialSettings> {
    let file = format!(
        "access_key_id = \"{}\"\nsecret_access_key = \"{}\"\n",
        common::ACCESS_KEY_ID,
        common::SECRET_ACCESS_KEY
    );
    vec![toml::from_str(&file).expect("valid credential")]
}

/// Strict mode: the right key and secret work; an unsigned request, an unknown key, a wrong
/// secret and a request dated ten minutes ago each get AWS's error.
#[tokio::test]
async fn strict_mode_checks_key_secret_and_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_with(dir.path(), AuthMode::Strict, &strict_credentials()).await;
    let body = "{}";
    let signed_as = |key: &str, secret: &str, time: std::time::SystemTime| {
        let mut request = kinesis_unsigned("ListStreams", body);
        common::sign_as(&mut request, body.as_bytes(), key, secret, time, "kinesis");
        request
    };
    let now = std::time::SystemTime::now();

    let (status, _, answer) = send(&state, kinesis("ListStreams", body)).await;
    assert_eq!(
        (status, &answer["StreamNames"]),
        (200, &serde_json::json!([]))
    );

    let cases = [
        (
            kinesis_unsigned("ListStreams", body),
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
        (
            signed_as("AKIDUNKNOWN", common::SECRET_ACCESS_KEY, now),
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            signed_as(common::ACCESS_KEY_ID, "not the secret", now),
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        ),
        (
            signed_as(
                common::ACCESS_KEY_ID,
                common::SECRET_ACCESS_KEY,
                now - std::time::Duration::from_secs(600),
            ),
            "InvalidSignatureException",
            "Signature expired: ",
        ),
    ];
    for (request, code, message) in cases {
        let (status, headers, answer) = send(&state, request).await;
        assert_eq!(status, 400, "{code}");
        assert_eq!(answer["__type"], code);
        assert_eq!(headers["x-amzn-errortype"], code);
        let text = answer["message"].as_str().expect("message");
        assert!(text.starts_with(message), "{code}: {text}");
    }

    // A body changed after signing no longer matches its signature.
    let mut tampered = kinesis("ListStreams", body);
    *tampered.body_mut() = Body::from("{\"Limit\":1}");
    let (status, _, answer) = send(&state, tampered).await;
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
}

/// Any-signature mode (loopback, no credentials) still wants a well-formed signature.
#[tokio::test]
async fn any_signature_mode_still_requires_a_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state(dir.path()).await;
    let (status, _, answer) = send(&state, kinesis_unsigned("ListStreams", "{}")).await;
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException"))
    );
    let mut other_key = kinesis_unsigned("ListStreams", "{}");
    common::sign_as(
        &mut other_key,
        b"{}",
        "AKIDANY",
        "any secret",
        std::time::SystemTime::now() - std::time::Duration::from_secs(3600),
        "kinesis",
    );
    let (status, _, _) = send(&state, other_key).await;
    assert_eq!(status, 200);
}
