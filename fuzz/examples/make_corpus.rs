//! Writes the seed corpus in `fuzz/corpus/<target>/`: real inputs of each decoder, made by
//! Spate's own encoders and signer (and request bodies as clients send them), laid out as each
//! target reads its input. Run from the repository root after changing a target's layout:
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example make_corpus
//! ```
//!
//! Seeds are written under fixed names (over the previous ones); crash inputs added by hand
//! (`regression-*`) are left alone. Shard iterators carry a random nonce, so their files change
//! on every run.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use ciborium::Value as Cbor;
use serde_json::{Value as Json, json};
use spate_fuzz::{
    ITERATOR_KEY, NOW_EPOCH_SECONDS, SECRET_ACCESS_KEY, SignedRequest, join_fields,
    seal_iterator_plaintext, selector,
};
use spate_streams::api::decode_request;
use spate_streams::iterator::{IteratorCodec, IteratorState};
use spate_streams::sequence::SequenceNumber;
use spate_wire::Codec;
use spate_wire::codec::decode_blob;
use spate_wire::eventstream;
use spate_wire::sigv4::verify::{check_signature, read_signature};
use spate_wire::sigv4::{AmzDate, Credentials, Signer, SigningKey};

fn main() -> std::io::Result<()> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let iterator = IteratorCodec::new(&ITERATOR_KEY).seal(&iterator_state());
    request_bodies(&corpus, &iterator)?;
    event_streams(&corpus)?;
    shard_iterators(&corpus)?;
    sequence_numbers(&corpus)?;
    sigv4(&corpus)?;
    analytics_sql(&corpus)?;
    Ok(())
}

/// Writes `bytes` as `corpus/<target>/<name>`.
fn write(corpus: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir: PathBuf = corpus.join(target);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn iterator_state() -> IteratorState {
    IteratorState {
        stream_name: "orders".to_owned(),
        stream_created_ms: 1_700_000_000_000,
        shard_index: 3,
        position: 42,
        issued_ms: 1_700_000_100_000,
    }
}

/// Request bodies of several operations, as botocore would send them in JSON.
fn requests(iterator: &str) -> Vec<(&'static str, Json)> {
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
    let consumer = format!("{arn}/consumer/app:1700000000");
    let sequence = sample_sequence().encode();
    vec![
        (
            "PutRecords",
            json!({"StreamName": "orders", "Records": [
                {"Data": "aGVsbG8=", "PartitionKey": "user-1"},
                {"Data": "d29ybGQ=", "PartitionKey": "user-2",
                 "ExplicitHashKey": "170141183460469231731687303715884105728"}]}),
        ),
        (
            "PutRecord",
            json!({"StreamARN": arn, "Data": "eyJrIjoxfQ==", "PartitionKey": "k",
                   "SequenceNumberForOrdering": sequence}),
        ),
        (
            "CreateStream",
            json!({"StreamName": "orders", "ShardCount": 2,
                   "StreamModeDetails": {"StreamMode": "PROVISIONED"},
                   "Tags": {"team": "data"}}),
        ),
        (
            "GetShardIterator",
            json!({"StreamName": "orders", "ShardId": "shardId-000000000003",
                   "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1_700_000_000.5}),
        ),
        (
            "GetShardIterator",
            json!({"StreamName": "orders", "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                   "StartingSequenceNumber": sequence}),
        ),
        (
            "GetRecords",
            json!({"ShardIterator": iterator, "Limit": 100}),
        ),
        (
            "ListShards",
            json!({"StreamName": "orders", "MaxResults": 10,
                   "ShardFilter": {"Type": "AT_TIMESTAMP", "Timestamp": 1_700_000_000}}),
        ),
        (
            "SubscribeToShard",
            json!({"ConsumerARN": consumer, "ShardId": "shardId-000000000001",
                   "StartingPosition": {"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": sequence}}),
        ),
        (
            "SplitShard",
            json!({"StreamName": "orders", "ShardToSplit": "shardId-000000000000",
                   "NewStartingHashKey": "85070591730234615865843651857942052864"}),
        ),
        (
            "AddTagsToStream",
            json!({"StreamName": "orders", "Tags": {"env": "prod", "owner": "me"}}),
        ),
        (
            "RegisterStreamConsumer",
            json!({"StreamARN": arn, "ConsumerName": "app"}),
        ),
        (
            "StartStreamEncryption",
            json!({"StreamName": "orders", "EncryptionType": "KMS",
                   "KeyId": "alias/aws/kinesis"}),
        ),
        (
            "UpdateShardCount",
            json!({"StreamName": "orders", "TargetShardCount": 4,
                   "ScalingType": "UNIFORM_SCALING"}),
        ),
        (
            "ListStreams",
            json!({"Limit": 5, "ExclusiveStartStreamName": "a"}),
        ),
        ("DescribeStreamSummary", json!({"StreamName": "orders"})),
        ("DescribeLimits", json!({})),
    ]
}

/// The JSON request as the Java SDK sends it in CBOR: blobs as byte strings, timestamps as tag 1
/// around epoch milliseconds, integral numbers as integers.
fn to_cbor(name: &str, value: &Json) -> Cbor {
    match value {
        Json::Null => Cbor::Null,
        Json::Bool(flag) => Cbor::Bool(*flag),
        Json::Number(number) if name == "Timestamp" => {
            let millis = (number.as_f64().unwrap_or_default() * 1000.0).round() as i64;
            Cbor::Tag(1, Box::new(Cbor::from(millis)))
        }
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Cbor::from(integer),
            None => Cbor::Float(number.as_f64().unwrap_or_default()),
        },
        Json::String(text) if name == "Data" => {
            Cbor::Bytes(decode_blob(text).expect("seed blobs are base64"))
        }
        Json::String(text) => Cbor::Text(text.clone()),
        Json::Array(items) => Cbor::Array(items.iter().map(|item| to_cbor(name, item)).collect()),
        Json::Object(members) => Cbor::Map(
            members
                .iter()
                .map(|(key, member)| (Cbor::Text(key.clone()), to_cbor(key, member)))
                .collect(),
        ),
    }
}

fn request_bodies(corpus: &Path, iterator: &str) -> std::io::Result<()> {
    for (index, (operation, body)) in requests(iterator).iter().enumerate() {
        let selector = selector(operation).expect("seed operations are listed");
        let name = format!("{index:02}-{operation}");
        let json = serde_json::to_vec(body).expect("a JSON value encodes");
        let mut cbor = Vec::new();
        ciborium::ser::into_writer(&to_cbor("", body), &mut cbor).expect("a CBOR value encodes");
        // Seeds are valid requests: they reach past decoding into validation.
        for (codec, bytes) in [(Codec::Json, &json), (Codec::Cbor, &cbor)] {
            let outcome = decode_request(operation, codec, bytes);
            assert!(
                matches!(outcome, Some(Ok(()))),
                "{name} {codec}: {outcome:?}"
            );
        }
        write(
            corpus,
            "aws_json",
            &name,
            &[&[selector][..], &json].concat(),
        )?;
        let cbor = [&[selector][..], &cbor].concat();
        write(corpus, "aws_cbor", &name, &cbor)?;
    }
    Ok(())
}

fn event_streams(corpus: &Path) -> std::io::Result<()> {
    let initial = eventstream::json_event("initial-response", "application/x-amz-json-1.1", b"{}");
    let event = eventstream::json_event(
        "SubscribeToShardEvent",
        "application/x-amz-json-1.1",
        br#"{"ContinuationSequenceNumber":"1","MillisBehindLatest":0,"Records":[{"Data":"aGk=","PartitionKey":"k","SequenceNumber":"1","ApproximateArrivalTimestamp":1700000000.0}]}"#,
    );
    let exception = eventstream::exception(
        "ResourceInUseException",
        "application/x-amz-json-1.1",
        br#"{"message":"Another active subscription exists for this consumer"}"#,
    );
    let cbor_event = eventstream::json_event(
        "SubscribeToShardEvent",
        "application/x-amz-cbor-1.1",
        &[0xa1, 0x62, b'M', b'B', 0x00],
    );
    write(corpus, "event_stream", "initial-response", &initial)?;
    write(corpus, "event_stream", "event", &event)?;
    write(corpus, "event_stream", "exception", &exception)?;
    write(corpus, "event_stream", "cbor-event", &cbor_event)?;
    write(
        corpus,
        "event_stream",
        "empty",
        &eventstream::encode(&[], b""),
    )?;
    write(
        corpus,
        "event_stream",
        "stream-of-three",
        &[&initial[..], &event[..], &exception[..]].concat(),
    )
}

fn shard_iterators(corpus: &Path) -> std::io::Result<()> {
    let codec = IteratorCodec::new(&ITERATOR_KEY);
    let long_name = IteratorState {
        stream_name: "s".repeat(128),
        shard_index: u32::MAX,
        position: u64::MAX,
        ..iterator_state()
    };
    for (name, state) in [("token", iterator_state()), ("token-long-name", long_name)] {
        let token = codec.seal(&state);
        write(
            corpus,
            "shard_iterator",
            name,
            &[b"\0", token.as_bytes()].concat(),
        )?;
        // The same state as plaintext, in the layout the iterator module documents.
        let mut plain = vec![1u8];
        plain.extend_from_slice(&state.stream_created_ms.to_be_bytes());
        plain.extend_from_slice(&state.shard_index.to_be_bytes());
        plain.extend_from_slice(&state.position.to_be_bytes());
        plain.extend_from_slice(&state.issued_ms.to_be_bytes());
        plain.extend_from_slice(state.stream_name.as_bytes());
        debug_assert!(codec.open(&seal_iterator_plaintext(&plain)).is_some());
        write(
            corpus,
            "shard_iterator",
            &format!("plain-{name}"),
            &[&[1u8][..], &plain].concat(),
        )?;
    }
    // An iterator sealed under another key, as another server would issue it.
    let foreign = IteratorCodec::new(&[1; 32]).seal(&iterator_state());
    write(
        corpus,
        "shard_iterator",
        "foreign-token",
        &[b"\0", foreign.as_bytes()].concat(),
    )
}

fn sample_sequence() -> SequenceNumber {
    SequenceNumber {
        shard_created_secs: 1_700_000_000,
        shard_index: 1,
        position: 123_456,
        arrival_secs: 1_700_000_123,
    }
}

fn sequence_numbers(corpus: &Path) -> std::io::Result<()> {
    let numbers = [
        sample_sequence(),
        SequenceNumber {
            shard_created_secs: 0,
            shard_index: 0,
            position: 0,
            arrival_secs: 0,
        },
        SequenceNumber {
            shard_created_secs: (1 << 36) - 1,
            shard_index: u32::MAX,
            position: u64::MAX,
            arrival_secs: (1 << 36) - 1,
        },
    ];
    for (index, number) in numbers.iter().enumerate() {
        write(
            corpus,
            "sequence_number",
            &format!("spate-{index}"),
            number.encode().as_bytes(),
        )?;
    }
    // A number AWS issued in 2015.
    write(
        corpus,
        "sequence_number",
        "aws-2015",
        b"49546986683135544286507457936321625675700192471156785154",
    )
}

/// Requests signed by Spate's signer at [`NOW_EPOCH_SECONDS`], as the two SigV4 targets read
/// them.
fn sigv4(corpus: &Path) -> std::io::Result<()> {
    let now = UNIX_EPOCH + Duration::from_secs(NOW_EPOCH_SECONDS as u64);
    let amz_date = AmzDate::from_epoch_seconds(NOW_EPOCH_SECONDS);
    let body = br#"{"StreamName":"orders"}"#;
    let cases = [
        ("plain", None, "", "/"),
        ("session-token", Some("FwoGZXIvYXdzEXAMPLETOKEN"), "", "/"),
        ("query-and-path", None, "b=2&a=1&a=%20x", "/some path/../x/"),
    ];
    for (name, token, query, path) in cases {
        let signer = Signer::new(
            Credentials {
                access_key_id: "AKIDEXAMPLE".to_owned(),
                secret_access_key: SECRET_ACCESS_KEY.to_owned(),
                session_token: token.map(str::to_owned),
            },
            "us-east-1",
            "kinesis",
        );
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("host", "kinesis.us-east-1.amazonaws.com"),
            ("x-amz-target", "Kinesis_20131202.DescribeStreamSummary"),
        ];
        let signed = signer.sign(now, "POST", path, query, &headers, body);
        let mut more_headers: Vec<String> = headers
            .iter()
            .map(|(name, value)| format!("{name}:{value}"))
            .collect();
        if let Some(token) = signed.x_amz_security_token {
            more_headers.push(format!("x-amz-security-token:{token}"));
        }
        let more_headers = more_headers.join("\n");
        let input = join_fields(&[
            signed.authorization.as_bytes(),
            signed.x_amz_date.as_str().as_bytes(),
            b"",
            query.as_bytes(),
            path.as_bytes(),
            more_headers.as_bytes(),
            body,
        ]);
        // Seeds are requests the server accepts: they reach past reading into checking.
        expect_verified(&input, true);
        write(corpus, "sigv4_signature", name, &input)?;

        let date_header = format!("x-amz-date:{amz_date}");
        let mut sorted: Vec<&str> = more_headers.split('\n').collect();
        sorted.push(&date_header);
        sorted.sort_unstable();
        let canonical = join_fields(&[
            b"POST",
            path.as_bytes(),
            query.as_bytes(),
            sorted.join("\n").as_bytes(),
            spate_wire::sigv4::hex_str(&spate_wire::sigv4::payload_hash_hex(body)).as_bytes(),
            amz_date.as_str().as_bytes(),
        ]);
        write(corpus, "sigv4_canonical", name, &canonical)?;
    }
    // The same signature sent with an HTTP `Date` header instead of `X-Amz-Date`.
    let signer = Signer::new(
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.to_owned(),
            session_token: None,
        },
        "us-east-1",
        "kinesis",
    );
    let signed = signer.sign(now, "POST", "/", "", &[("host", "localhost:4567")], body);
    let http_date = join_fields(&[
        signed.authorization.as_bytes(),
        b"",
        b"Sun, 30 Aug 2015 12:36:00 GMT",
        b"",
        b"/",
        b"host:localhost:4567",
        body,
    ]);
    // Read well, but refused: the signer signed `x-amz-date`, which this request lacks.
    expect_verified(&http_date, false);
    write(corpus, "sigv4_signature", "http-date", &http_date)?;
    // A presigned URL: the signature's parts in the query string.
    let presigned_query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F{}%2Fus-east-1%2Fkinesis%2Faws4_request\
         &X-Amz-Date={}&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        amz_date.date(),
        amz_date.as_str(),
        "0".repeat(64)
    );
    let presigned = join_fields(&[
        b"",
        b"",
        b"",
        presigned_query.as_bytes(),
        b"/",
        b"host:localhost:4567",
        b"",
    ]);
    // Read well, but refused: the signature is zeros.
    expect_verified(&presigned, false);
    write(corpus, "sigv4_signature", "presigned", &presigned)
}

/// Checks that a `sigv4_signature` input reads well and that its signature is accepted (or,
/// with `accepted` false, refused), as the target does it.
fn expect_verified(input: &[u8], accepted: bool) {
    let signed = SignedRequest::parse(input);
    let request = signed.parts();
    let presented = read_signature(&request, "kinesis", Some(NOW_EPOCH_SECONDS))
        .expect("the seed's signature reads well");
    let key = SigningKey::derive(
        SECRET_ACCESS_KEY,
        &presented.scope_date,
        &presented.region,
        &presented.service,
    );
    let outcome = check_signature(&request, &presented, signed.body, &key);
    assert_eq!(outcome.is_ok(), accepted, "{outcome:?}");
}

/// Application code in the shapes of the Kinesis Data Analytics developer guide: a tumbling
/// window, a sliding window, a stagger window, a reference join, and an analytics function.
fn analytics_sql(corpus: &Path) -> std::io::Result<()> {
    let samples = [
        (
            "tumbling",
            "CREATE OR REPLACE STREAM \"DESTINATION_SQL_STREAM\" (ticker VARCHAR(4), n INTEGER);\n\
             CREATE OR REPLACE PUMP \"STREAM_PUMP\" AS INSERT INTO \"DESTINATION_SQL_STREAM\"\n\
             SELECT STREAM ticker, COUNT(*) AS n FROM \"SOURCE_SQL_STREAM_001\"\n\
             GROUP BY ticker, STEP(\"SOURCE_SQL_STREAM_001\".ROWTIME BY INTERVAL '10' SECOND);",
        ),
        (
            "sliding",
            "SELECT STREAM ticker, AVG(price) OVER w AS avg_price\n\
             FROM \"SOURCE_SQL_STREAM_001\"\n\
             WINDOW w AS (PARTITION BY ticker RANGE INTERVAL '1' MINUTE PRECEDING);",
        ),
        (
            "stagger",
            "SELECT STREAM ticker, FLOOR(EVENT_TIME TO MINUTE) AS t, COUNT(*) AS n\n\
             FROM \"SOURCE_SQL_STREAM_001\"\n\
             WINDOWED BY STAGGER (PARTITION BY FLOOR(EVENT_TIME TO MINUTE), ticker\n\
             RANGE INTERVAL '1' MINUTE);",
        ),
        (
            "reference-join",
            "SELECT STREAM s.ticker, c.name, CASE WHEN s.price > 100 THEN 'high' ELSE 'low' END\n\
             FROM \"SOURCE_SQL_STREAM_001\" AS s LEFT JOIN \"companies\" AS c\n\
             ON s.ticker = c.ticker WHERE CAST(s.qty AS BIGINT) BETWEEN 1 AND 10;",
        ),
        (
            "random-cut-forest",
            "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(\n\
             CURSOR(SELECT STREAM price FROM \"SOURCE_SQL_STREAM_001\"), 100, 256, 100000, 1));",
        ),
    ];
    for (name, code) in samples {
        write(corpus, "analytics_sql", name, code.as_bytes())?;
    }
    Ok(())
}
