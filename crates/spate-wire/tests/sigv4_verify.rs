//! The verifier accepts what the official `aws-sigv4` crate signs (header and presigned forms)
//! and refuses, with AWS's error types, what is missing, malformed, stale or tampered with.

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use spate_wire::sigv4::verify::{check_signature, read_signature};
use spate_wire::sigv4::{AuthFailure, RequestParts, SignatureForm, SigningKey};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SIGNED_AT: u64 = 1_795_000_000;

struct Signed {
    method: &'static str,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Signed {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            authority: None,
        }
    }
}

/// A request signed by aws-sigv4 for service `kinesis` at SIGNED_AT.
fn signed_by_official(location: SignatureLocation, path_and_query: &str, body: &[u8]) -> Signed {
    let credentials =
        aws_credential_types::Credentials::new("AKIDEXAMPLE", SECRET, None, None, "test");
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(600));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("kinesis")
        .time(UNIX_EPOCH + Duration::from_secs(SIGNED_AT))
        .settings(settings)
        .build()
        .expect("valid parameters")
        .into();
    let uri = format!("http://127.0.0.1:4567{path_and_query}");
    let headers = [
        ("host", "127.0.0.1:4567"),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "Kinesis_20131202.ListStreams"),
    ];
    let signable = SignableRequest::new(
        "POST",
        &uri,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
    let mut request = http::Request::builder().method("POST").uri(&uri);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut request = request.body(()).expect("request");
    instructions.apply_to_request_http1x(&mut request);
    Signed {
        method: "POST",
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or("").to_owned(),
        headers: request.headers().clone(),
        body: body.to_vec(),
    }
}

/// An unsigned or hand-made request on `/`.
fn bare<'a>(method: &'a str, query: &'a str, headers: &'a HeaderMap) -> RequestParts<'a> {
    RequestParts {
        method,
        path: "/",
        query,
        headers,
        authority: None,
    }
}

fn key() -> SigningKey {
    let date = spate_wire::sigv4::AmzDate::from_epoch_seconds(SIGNED_AT as i64);
    SigningKey::derive(SECRET, date.date(), "us-east-1", "kinesis")
}

fn now() -> Option<i64> {
    Some(SIGNED_AT as i64 + 10)
}

#[test]
fn accepts_a_header_signature_by_the_official_crate() {
    let request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    let presented = read_signature(&request.parts(), "kinesis", now()).expect("well formed");
    assert_eq!(presented.form, SignatureForm::Header);
    assert_eq!(presented.access_key_id, "AKIDEXAMPLE");
    assert_eq!(presented.region, "us-east-1");
    check_signature(&request.parts(), &presented, &request.body, &key()).expect("valid");
}

#[test]
fn accepts_a_presigned_url_by_the_official_crate() {
    let request = signed_by_official(
        SignatureLocation::QueryParams,
        "/hls?a=1&b=two%20words",
        b"",
    );
    let presented = read_signature(&request.parts(), "kinesis", now()).expect("well formed");
    assert_eq!(presented.form, SignatureForm::Query);
    assert_eq!(presented.expires_secs, Some(600));
    check_signature(&request.parts(), &presented, &request.body, &key()).expect("valid");
    // Past its lifetime, the URL is refused.
    let late = Some(SIGNED_AT as i64 + 601);
    let err = read_signature(&request.parts(), "kinesis", late).expect_err("expired");
    assert!(
        matches!(&err, AuthFailure::InvalidSignature(m) if m.starts_with("Signature expired")),
        "{err}"
    );
}

#[test]
fn an_http2_request_signs_its_authority_as_host() {
    let mut request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    request.headers.remove("host");
    let parts = RequestParts {
        authority: Some("127.0.0.1:4567"),
        ..request.parts()
    };
    let presented = read_signature(&parts, "kinesis", now()).expect("well formed");
    check_signature(&parts, &presented, &request.body, &key()).expect("valid");
    let without = request.parts();
    let err = check_signature(&without, &presented, &request.body, &key()).expect_err("no host");
    assert_eq!(err.code(), "InvalidSignatureException");
}

#[test]
fn a_changed_body_or_secret_does_not_match() {
    let request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    let presented = read_signature(&request.parts(), "kinesis", now()).expect("well formed");
    let err = check_signature(&request.parts(), &presented, b"{ }", &key()).expect_err("tampered");
    assert_eq!(err.code(), "InvalidSignatureException");
    let message = err.to_string();
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    assert!(message.contains("The Canonical String for this request should have been\n'POST\n/\n"));
    let other = SigningKey::derive(
        "another secret",
        presented.date.date(),
        "us-east-1",
        "kinesis",
    );
    let err = check_signature(&request.parts(), &presented, &request.body, &other)
        .expect_err("wrong secret");
    assert_eq!(err.code(), "InvalidSignatureException");
}

#[test]
fn no_signature_at_all_is_a_missing_token() {
    let headers = HeaderMap::new();
    let parts = bare("POST", "", &headers);
    let err = read_signature(&parts, "kinesis", now()).expect_err("unsigned");
    assert_eq!(err, AuthFailure::MissingToken);
    assert_eq!(err.code(), "MissingAuthenticationTokenException");
    assert_eq!(err.to_string(), "Missing Authentication Token");
}

#[test]
fn an_incomplete_header_lists_what_is_missing() {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "X".parse().expect("header"));
    let parts = bare("POST", "", &headers);
    let err = read_signature(&parts, "kinesis", now()).expect_err("incomplete");
    assert_eq!(
        err,
        AuthFailure::Incomplete(
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. Authorization=X"
                .to_owned()
        )
    );
    assert_eq!(err.code(), "IncompleteSignatureException");

    headers.insert(
        "authorization",
        "AWS4- Signature=b Credential=a".parse().expect("header"),
    );
    headers.insert("date", "a".parse().expect("header"));
    let parts = bare("POST", "", &headers);
    let err = read_signature(&parts, "kinesis", now()).expect_err("incomplete");
    assert_eq!(
        err,
        AuthFailure::Incomplete(
            "Authorization header requires 'SignedHeaders' parameter. \
             Authorization=AWS4- Signature=b Credential=a"
                .to_owned()
        )
    );
}

#[test]
fn header_and_query_signatures_together_are_refused() {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "X".parse().expect("header"));
    let parts = bare("POST", "X-Amz-Algorithm", &headers);
    let err = read_signature(&parts, "kinesis", now()).expect_err("both");
    assert_eq!(err.code(), "InvalidSignatureException");
    assert!(err.to_string().starts_with("Found both 'X-Amz-Algorithm'"));
}

#[test]
fn an_incomplete_query_lists_what_is_missing() {
    let headers = HeaderMap::new();
    let parts = bare(
        "GET",
        "X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d",
        &headers,
    );
    let err = read_signature(&parts, "kinesis", now()).expect_err("incomplete");
    assert_eq!(
        err,
        AuthFailure::Incomplete(
            "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the \
             query-string parameters."
                .to_owned()
        )
    );
}

#[test]
fn scope_and_date_are_checked() {
    let request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    let err = read_signature(&request.parts(), "firehose", now()).expect_err("wrong service");
    assert_eq!(
        err,
        AuthFailure::InvalidSignature(
            "Credential should be scoped to correct service: 'firehose'. ".to_owned()
        )
    );
    let ten_minutes_later = Some(SIGNED_AT as i64 + 600);
    let err = read_signature(&request.parts(), "kinesis", ten_minutes_later).expect_err("stale");
    let expected_date = spate_wire::sigv4::AmzDate::from_epoch_seconds(SIGNED_AT as i64);
    let floor = spate_wire::sigv4::AmzDate::from_epoch_seconds(SIGNED_AT as i64 + 300);
    let now_text = spate_wire::sigv4::AmzDate::from_epoch_seconds(SIGNED_AT as i64 + 600);
    assert_eq!(
        err,
        AuthFailure::InvalidSignature(format!(
            "Signature expired: {expected_date} is now earlier than {floor} ({now_text} - 5 min.)"
        ))
    );
    let ten_minutes_earlier = Some(SIGNED_AT as i64 - 600);
    let err = read_signature(&request.parts(), "kinesis", ten_minutes_earlier).expect_err("future");
    assert!(
        err.to_string().starts_with("Signature not yet current"),
        "{err}"
    );
    // Without a clock (the permissive local mode), the date is not compared.
    read_signature(&request.parts(), "kinesis", None).expect("no clock check");
}

#[test]
fn host_must_be_signed_and_the_credential_well_formed() {
    let request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    let authorization = request.headers["authorization"]
        .to_str()
        .expect("ascii")
        .to_owned();

    let mut headers = request.headers.clone();
    let unsigned_host = authorization.replace(
        "SignedHeaders=content-type;host;",
        "SignedHeaders=content-type;",
    );
    headers.insert("authorization", unsigned_host.parse().expect("header"));
    let parts = RequestParts {
        headers: &headers,
        ..request.parts()
    };
    let err = read_signature(&parts, "kinesis", now()).expect_err("host unsigned");
    assert_eq!(err.code(), "InvalidSignatureException");
    assert!(
        err.to_string()
            .contains("'Host' or ':authority' must be a 'SignedHeader'")
    );

    let short = authorization.replace("/us-east-1/kinesis/aws4_request", "/us-east-1");
    headers.insert("authorization", short.parse().expect("header"));
    let parts = RequestParts {
        headers: &headers,
        ..request.parts()
    };
    let err = read_signature(&parts, "kinesis", now()).expect_err("short credential");
    assert_eq!(err.code(), "IncompleteSignatureException");
    assert!(
        err.to_string()
            .starts_with("Credential must have exactly 5 slash-delimited elements")
    );
}

#[test]
fn the_date_header_may_replace_x_amz_date() {
    let mut request = signed_by_official(SignatureLocation::Headers, "/", b"{}");
    request.headers.remove("x-amz-date");
    request.headers.insert(
        "date",
        "Wed, 18 Nov 2026 09:06:40 GMT".parse().expect("header"),
    );
    let presented = read_signature(&request.parts(), "kinesis", None).expect("same day");
    assert_eq!(presented.date.as_str(), "20261118T090640Z");
    // A Date of another day than the credential scope's is refused as such.
    request.headers.insert(
        "date",
        "Thu, 19 Nov 2026 09:06:40 GMT".parse().expect("header"),
    );
    let err = read_signature(&request.parts(), "kinesis", None).expect_err("scope date");
    assert!(
        err.to_string()
            .starts_with("Date in Credential scope does not match"),
        "{err}"
    );
}

#[test]
fn an_authority_pseudo_header_may_be_signed_by_its_own_name() {
    // The AWS SDK for JavaScript signs an HTTP/2 request's `:authority` under that name.
    use spate_wire::sigv4::{Credentials, Signer};
    let signer = Signer::new(
        Credentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: SECRET.to_owned(),
            session_token: None,
        },
        "us-east-1",
        "kinesis",
    );
    let time = UNIX_EPOCH + Duration::from_secs(SIGNED_AT);
    let signed = signer.sign(
        time,
        "POST",
        "/",
        "",
        &[
            (":authority", "127.0.0.1:4567"),
            ("content-type", "application/x-amz-json-1.1"),
        ],
        b"{}",
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.1".parse().expect("header"),
    );
    headers.insert(
        "x-amz-date",
        signed.x_amz_date.as_str().parse().expect("header"),
    );
    headers.insert(
        "authorization",
        signed.authorization.parse().expect("header"),
    );
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        authority: Some("127.0.0.1:4567"),
    };
    let presented = read_signature(&parts, "kinesis", now()).expect("well formed");
    assert_eq!(presented.signed_headers[0], ":authority");
    check_signature(&parts, &presented, b"{}", &key()).expect("valid");
}
