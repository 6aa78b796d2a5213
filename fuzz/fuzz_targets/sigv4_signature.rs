//! SigV4 as a server reads it (`spate_wire::sigv4::verify::read_signature`, then
//! `check_signature` for a signature that reads well). The input is seven fields split at NUL,
//! read by [`spate_fuzz::SignedRequest::parse`]: `Authorization`, `X-Amz-Date`, `Date`, the query
//! string, the path, more headers as `name:value` lines, and the body. The server's clock is
//! `spate_fuzz::NOW_EPOCH_SECONDS`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_fuzz::{NOW_EPOCH_SECONDS, SECRET_ACCESS_KEY, SignedRequest};
use spate_wire::sigv4::SigningKey;
use spate_wire::sigv4::verify::{check_signature, read_signature};

fuzz_target!(|data: &[u8]| {
    let signed = SignedRequest::parse(data);
    let request = signed.parts();
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
    let _ = check_signature(&request, &presented, signed.body, &key);
});
