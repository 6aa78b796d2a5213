//! Spate's SigV4 signer produces, header for header, what the official `aws-sigv4` crate does for
//! the same request, credentials and instant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use spate_wire::sigv4::{Credentials, Signer};

struct Case {
    method: &'static str,
    path_and_query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    session_token: Option<&'static str>,
}

/// The Authorization (and security token) headers `aws-sigv4` computes.
fn official(case: &Case, time: SystemTime) -> (String, String, Option<String>) {
    let credentials = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        case.session_token.map(str::to_owned),
        None,
        "test",
    );
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("kinesis")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("valid signing parameters")
        .into();
    let uri = format!("http://kinesis.example.com{}", case.path_and_query);
    let signable = SignableRequest::new(
        case.method,
        &uri,
        case.headers.iter().copied(),
        SignableBody::Bytes(case.body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    let mut request = http::Request::builder()
        .method(case.method)
        .uri(&uri)
        .body(())
        .expect("valid request");
    instructions.apply_to_request_http1x(&mut request);
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ASCII").to_owned())
    };
    (
        header("authorization").expect("signed"),
        header("x-amz-date").expect("dated"),
        header("x-amz-security-token"),
    )
}

fn ours(case: &Case, time: SystemTime) -> (String, String, Option<String>) {
    let signer = Signer::new(
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: case.session_token.map(str::to_owned),
        },
        "eu-west-1",
        "kinesis",
    );
    let (path, query) = case
        .path_and_query
        .split_once('?')
        .unwrap_or((case.path_and_query, ""));
    let signed = signer.sign(time, case.method, path, query, case.headers, case.body);
    (
        signed.authorization,
        signed.x_amz_date.to_string(),
        signed.x_amz_security_token.map(str::to_owned),
    )
}

#[test]
fn signatures_match_the_official_crate() {
    let cases = [
        Case {
            method: "POST",
            path_and_query: "/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("host", "kinesis.example.com"),
                ("x-amz-target", "Kinesis_20131202.PutRecord"),
            ],
            body: br#"{"StreamName":"s","Data":"YWJj","PartitionKey":"k"}"#,
            session_token: None,
        },
        Case {
            method: "POST",
            path_and_query: "/",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("host", "kinesis.example.com"),
                ("x-amz-target", "Kinesis_20131202.ListStreams"),
            ],
            body: b"{}",
            session_token: Some("FwoGZXIvYXdzEXAMPLETOKEN"),
        },
        Case {
            method: "GET",
            path_and_query: "/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=a%2Fb%3D&Z=1&A=two%20words",
            headers: &[("host", "kinesis.example.com")],
            body: b"",
            session_token: None,
        },
        Case {
            method: "POST",
            path_and_query: "/a%20b/./c/",
            headers: &[
                ("host", "kinesis.example.com"),
                ("x-amz-meta", "  spaced    out  "),
            ],
            body: b"\x00\x01binary",
            session_token: None,
        },
    ];
    let instants = [
        UNIX_EPOCH + Duration::from_secs(1_440_938_160),
        UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        SystemTime::now(),
    ];
    for case in &cases {
        for &time in &instants {
            assert_eq!(
                ours(case, time),
                official(case, time),
                "{} {}",
                case.method,
                case.path_and_query
            );
        }
    }
}
