//! SigV4 as a server reads it (`spate_wire::sigv4::verify::read_signature`, then
//! `check_signature` for a signature that reads well). The input is seven fields split at NUL
//! (`spate_fuzz::split_fields`): `Authorization`, `X-Amz-Date`, `Date`, the query string, the
//! path, more headers as `name:value` lines, and the body. An empty or invalid header value
//! leaves that header out. The server's clock is `spate_fuzz::NOW_EPOCH_SECONDS`.

#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use spate_fuzz::{NOW_EPOCH_SECONDS, SECRET_ACCESS_KEY, split_fields};
use spate_wire::sigv4::SigningKey;
use spate_wire::sigv4::verify::{RequestParts, check_signature, read_signature};

fuzz_target!(|data: &[u8]| {
    let [
        authorization,
        amz_date,
        date,
        query,
        path,
        more_headers,
        body,
    ] = split_fields::<7>(data);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (http::header::AUTHORIZATION, authorization),
        (HeaderName::from_static("x-amz-date"), amz_date),
        (http::header::DATE, date),
    ] {
        let value = value.filter(|value| !value.is_empty());
        if let Some(Ok(value)) = value.map(HeaderValue::from_bytes) {
            headers.append(name, value);
        }
    }
    for line in more_headers
        .unwrap_or_default()
        .split(|byte| *byte == b'\n')
    {
        let Some(colon) = line.iter().position(|byte| *byte == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(&line[..colon]);
        let value = HeaderValue::from_bytes(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    let query = String::from_utf8_lossy(query.unwrap_or_default());
    let path = String::from_utf8_lossy(path.unwrap_or(b"/"));
    let request = RequestParts {
        method: "POST",
        path: &path,
        query: &query,
        headers: &headers,
    };
    let _ = read_signature(&request, "kinesis", None);
    let Ok(presented) = read_signature(&request, "kinesis", Some(NOW_EPOCH_SECONDS)) else {
        return;
    };
    let key = SigningKey::derive(
        SECRET_ACCESS_KEY,
        &presented.scope_date,
        &presented.region,
        &presented.service,
    );
    let _ = check_signature(&request, &presented, body.unwrap_or_default(), &key);
});
