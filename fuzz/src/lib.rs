//! What the fuzz targets (`fuzz_targets/`) and the seed generator (`examples/make_corpus.rs`)
//! share, so that the seeds are laid out exactly as the targets read them: the operation
//! selector of the request-body targets, the field separator of the targets that take several
//! strings, and the fixed key, secret and clock the targets decode with.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use spate_streams::api::OPERATIONS;

/// The server key the shard-iterator target opens tokens with.
pub const ITERATOR_KEY: [u8; 32] = [0x5a; 32];

/// The server's clock for the SigV4 target: 2015-08-30T12:36:00Z, the date of AWS's published
/// SigV4 examples, so seeds signed at that time pass the clock-skew check.
pub const NOW_EPOCH_SECONDS: i64 = 1_440_938_160;

/// The secret of the one access key the SigV4 target knows.
pub const SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Separates the fields of a multi-field input. NUL, since no header value or URL can hold it.
pub const FIELD_SEPARATOR: u8 = 0;

/// The operation the first byte of a request-body input selects.
pub fn operation(selector: u8) -> &'static str {
    OPERATIONS[usize::from(selector) % OPERATIONS.len()]
}

/// The selector byte of `operation`, for writing seeds.
pub fn selector(operation: &str) -> Option<u8> {
    let index = OPERATIONS.iter().position(|name| *name == operation)?;
    u8::try_from(index).ok()
}

/// The input's first `N` fields, split at [`FIELD_SEPARATOR`]; `None` for those it lacks. The
/// last field takes the rest of the input, separators and all.
pub fn split_fields<const N: usize>(data: &[u8]) -> [Option<&[u8]>; N] {
    let mut fields = [None; N];
    let mut parts = data.splitn(N, |byte| *byte == FIELD_SEPARATOR);
    for field in &mut fields {
        *field = parts.next();
    }
    fields
}

/// The inverse of [`split_fields`], for writing seeds.
pub fn join_fields(fields: &[&[u8]]) -> Vec<u8> {
    fields.join(&FIELD_SEPARATOR)
}

/// A shard-iterator token whose sealed plaintext is `plain`, as a server holding
/// [`ITERATOR_KEY`] could have issued it (the layout in `spate_streams::iterator`'s module
/// docs): so the fuzzer reaches the parsing behind the AES-GCM check, which no random token
/// passes. The nonce is fixed; these tokens never leave the fuzzer.
pub fn seal_iterator_plaintext(plain: &[u8]) -> String {
    const PREFIX: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
    const NONCE: [u8; 12] = [7; 12];
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(ITERATOR_KEY));
    let sealed = cipher
        .encrypt(&Nonce::from(NONCE), plain)
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    let mut token = Vec::with_capacity(PREFIX.len() + NONCE.len() + sealed.len());
    token.extend_from_slice(&PREFIX);
    token.extend_from_slice(&NONCE);
    token.extend_from_slice(&sealed);
    spate_wire::codec::encode_blob(&token)
}

/// The request-body targets: the first byte selects the operation ([`operation`]), the rest is
/// the body, decoded and validated in `codec`'s encoding exactly as the server does.
pub fn decode_request_body(codec: spate_wire::Codec, data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let operation = operation(selector);
    let outcome = spate_streams::api::decode_request(operation, codec, body);
    assert!(
        outcome.is_some(),
        "{operation} is listed, so it has a decoder"
    );
}

/// A request as the `sigv4_signature` target reads it: seven fields split at NUL
/// ([`split_fields`]): `Authorization`, `X-Amz-Date`, `Date`, the query string, the path, more
/// headers as `name:value` lines, and the body. An empty or invalid header value leaves that
/// header out; a missing path is `/`.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    pub headers: http::HeaderMap,
    pub query: std::borrow::Cow<'a, str>,
    pub path: std::borrow::Cow<'a, str>,
    pub body: &'a [u8],
}

impl<'a> SignedRequest<'a> {
    pub fn parse(data: &'a [u8]) -> Self {
        use http::{HeaderName, HeaderValue};
        let [
            authorization,
            amz_date,
            date,
            query,
            path,
            more_headers,
            body,
        ] = split_fields::<7>(data);
        let mut headers = http::HeaderMap::new();
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
        SignedRequest {
            headers,
            query: String::from_utf8_lossy(query.unwrap_or_default()),
            path: String::from_utf8_lossy(path.unwrap_or(b"/")),
            body: body.unwrap_or_default(),
        }
    }

    /// The parts a signature covers; the method is always `POST`, as for every Kinesis call.
    /// Without a Host header the request is taken for an HTTP/2 one, whose `:authority` stands
    /// in for it.
    pub fn parts(&self) -> spate_wire::sigv4::RequestParts<'_> {
        let authority =
            (!self.headers.contains_key(http::header::HOST)).then_some("127.0.0.1:4567");
        spate_wire::sigv4::RequestParts {
            method: "POST",
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            authority,
        }
    }
}
