//! The server side: what a request presents as its signature (an `Authorization` header, or the
//! `X-Amz-*` parameters of a presigned URL), the checks AWS makes on that before the access key is
//! even looked up, and the signature recomputed from the request and compared in constant time.
//!
//! The checks and their error types follow AWS's: no signature at all is
//! `MissingAuthenticationTokenException`; a header or query missing parts of a signature is
//! `IncompleteSignatureException`; a signature that is complete but wrong (bad scope, stale date,
//! no match) is `InvalidSignatureException`. An unknown key (`UnrecognizedClientException`) is the
//! caller's to decide, since only it knows the keys.

use http::HeaderMap;

use super::canonical::CanonicalRequest;
use super::{ALGORITHM, AmzDate, SigningKey, UNSIGNED_PAYLOAD, credential_scope, hex_str};

/// How far a request's date may be from the server's clock: five minutes, as AWS allows.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Why a request's signature is refused, in AWS's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Missing Authentication Token")]
    MissingToken,
    /// A signature with parts missing or malformed.
    #[error("{0}")]
    Incomplete(String),
    /// A complete signature that is wrong: scope, date, signed headers or the signature itself.
    #[error("{0}")]
    InvalidSignature(String),
    /// The access key (or its session token) is not one the server knows.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
}

impl AuthFailure {
    /// The AWS error type.
    pub fn code(&self) -> &'static str {
        match self {
            AuthFailure::MissingToken => "MissingAuthenticationTokenException",
            AuthFailure::Incomplete(_) => "IncompleteSignatureException",
            AuthFailure::InvalidSignature(_) => "InvalidSignatureException",
            AuthFailure::UnrecognizedClient => "UnrecognizedClientException",
        }
    }

    /// As the error response AWS gives: all of these are client errors with HTTP 400.
    pub fn to_aws(&self) -> crate::AwsError {
        crate::AwsError::client(self.code(), self.to_string())
    }
}

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Still percent-encoded, as in the request line.
    pub path: &'a str,
    /// Without the `?`, still percent-encoded; empty for none.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// The request target's authority (`host:port`): an HTTP/2 request carries its host as the
    /// `:authority` pseudo-header, not a `Host` header, and signers sign it as `host`.
    pub authority: Option<&'a str>,
}

/// Where a request carried its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureForm {
    /// The `Authorization` header.
    Header,
    /// `X-Amz-Algorithm`, `X-Amz-Signature` and the rest in the query string (a presigned URL).
    Query,
}

/// A well-formed signature, as a request presents it.
#[derive(Debug, Clone)]
pub struct Presented {
    pub form: SignatureForm,
    pub access_key_id: String,
    /// The credential scope's parts.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// Lowercase header names, as listed (`content-type;host;x-amz-date`).
    pub signed_headers: Vec<String>,
    pub signature: String,
    pub date: AmzDate,
    /// `X-Amz-Security-Token`, from the header or the query.
    pub security_token: Option<String>,
    /// A presigned URL's lifetime in seconds (`X-Amz-Expires`).
    pub expires_secs: Option<i64>,
}

impl Presented {
    /// `20150830/us-east-1/kinesis/aws4_request`.
    pub fn scope(&self) -> String {
        credential_scope(&self.scope_date, &self.region, &self.service)
    }
}

/// Reads and checks the signature a request presents, without knowing any secret: its form, its
/// credential scope (service `service`), its date, and with `now_epoch_seconds`, that the date is
/// within five minutes of the server's clock (or, presigned, that the URL has not expired).
pub fn read_signature(
    request: &RequestParts<'_>,
    service: &str,
    now_epoch_seconds: Option<i64>,
) -> Result<Presented, AuthFailure> {
    let header = request
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or(""));
    let query = QueryParams::new(request.query);
    let presigned = query.has("X-Amz-Algorithm");
    let presented = match (header, presigned) {
        (Some(_), true) => {
            return Err(AuthFailure::InvalidSignature(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                    .to_owned(),
            ));
        }
        (None, false) => return Err(AuthFailure::MissingToken),
        (Some(header), false) => from_header(header, request.headers)?,
        (None, true) => from_query(&query)?,
    };
    check_scope(&presented, service)?;
    if let Some(now) = now_epoch_seconds {
        check_date(&presented, now)?;
    }
    Ok(presented)
}

/// Recomputes the signature of `request` with `key` and compares it with the one presented.
/// `payload` is the request body (ignored when the request says its payload is unsigned).
pub fn check_signature(
    request: &RequestParts<'_>,
    presented: &Presented,
    payload: &[u8],
    key: &SigningKey,
) -> Result<(), AuthFailure> {
    let payload_hash = payload_hash_for(request, payload)?;
    let mut values: Vec<(&str, &str)> = Vec::with_capacity(presented.signed_headers.len() + 1);
    for name in &presented.signed_headers {
        let name = name.as_str();
        let all = request.headers.get_all(name);
        let mut any = false;
        for value in all {
            any = true;
            values.push((name, value.to_str().unwrap_or("")));
        }
        if !any {
            // An HTTP/2 request carries its host as the `:authority` pseudo-header, which
            // signers sign as `host` or as `:authority` (the JavaScript SDK); HTTP/1.1 the other
            // way round.
            let value = match name {
                "host" | ":authority" => request.authority.or_else(|| {
                    request
                        .headers
                        .get(http::header::HOST)
                        .and_then(|host| host.to_str().ok())
                }),
                _ => None,
            };
            values.push((name, value.unwrap_or("")));
        }
    }
    let query_without_signature;
    let query = match presented.form {
        SignatureForm::Header => request.query,
        SignatureForm::Query => {
            query_without_signature = strip_signature_param(request.query);
            &query_without_signature
        }
    };
    let scope = presented.scope();
    let signs_with = |payload_hash: &str| {
        let canonical = CanonicalRequest {
            method: request.method,
            path: request.path,
            query,
            headers: &values,
            payload_hash,
        };
        let to_sign = super::string_to_sign(&presented.date, &scope, &canonical.hash_hex());
        let matches = key.verify(&to_sign, &presented.signature);
        (matches, canonical.text(), to_sign)
    };
    let (matches, canonical_text, to_sign) = signs_with(&payload_hash);
    if matches {
        return Ok(());
    }
    // A presigned URL's payload may also be signed as unsigned (as S3's are).
    if presented.form == SignatureForm::Query && signs_with(UNSIGNED_PAYLOAD).0 {
        return Ok(());
    }
    Err(AuthFailure::InvalidSignature(format!(
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details.\n\nThe Canonical String for this request should have been\n'{}'\n\nThe \
         String-to-Sign should have been\n'{}'\n",
        canonical_text,
        String::from_utf8_lossy(&to_sign),
    )))
}

/// The payload hash the signer used: `x-amz-content-sha256` when sent (it must then be the
/// body's, or `UNSIGNED-PAYLOAD`), else the body's SHA-256.
fn payload_hash_for(request: &RequestParts<'_>, payload: &[u8]) -> Result<String, AuthFailure> {
    let declared = request
        .headers
        .get("x-amz-content-sha256")
        .and_then(|value| value.to_str().ok());
    if let Some(declared) = declared {
        if declared == UNSIGNED_PAYLOAD {
            return Ok(declared.to_owned());
        }
        let actual = super::payload_hash_hex(payload);
        if !declared.eq_ignore_ascii_case(hex_str(&actual)) {
            return Err(AuthFailure::InvalidSignature(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .to_owned(),
            ));
        }
        return Ok(declared.to_owned());
    }
    Ok(hex_str(&super::payload_hash_hex(payload)).to_owned())
}

/// Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn from_header(header: &str, headers: &HeaderMap) -> Result<Presented, AuthFailure> {
    let mut tokens = header.split([',', ' ']).filter(|token| !token.is_empty());
    let algorithm = tokens.next().unwrap_or("");
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for token in tokens {
        let Some((name, value)) = token.split_once('=') else {
            continue;
        };
        match name {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let amz_date = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE))
        .and_then(|value| value.to_str().ok());
    let mut missing = Vec::new();
    for (present, name) in [
        (credential.is_some(), "Credential"),
        (signature.is_some(), "Signature"),
        (signed_headers.is_some(), "SignedHeaders"),
    ] {
        if !present {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    if amz_date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .to_owned(),
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date), true) = (
        credential,
        signed_headers,
        signature,
        amz_date,
        missing.is_empty(),
    ) else {
        missing.push(format!("Authorization={header}"));
        return Err(AuthFailure::Incomplete(missing.join(" ")));
    };
    if algorithm != ALGORITHM {
        return Err(AuthFailure::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let security_token = headers
        .get("x-amz-security-token")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    presented(
        SignatureForm::Header,
        credential,
        signed_headers,
        signature,
        amz_date,
        security_token,
        None,
    )
}

/// Reads a presigned URL's `X-Amz-*` parameters.
fn from_query(query: &QueryParams<'_>) -> Result<Presented, AuthFailure> {
    let names = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ];
    let missing: Vec<String> = names
        .iter()
        .filter(|name| query.get(name).is_none_or(|value| value.is_empty()))
        .map(|name| format!("AWS query-string parameters must include '{name}'."))
        .collect();
    if !missing.is_empty() {
        return Err(AuthFailure::Incomplete(format!(
            "{} Re-examine the query-string parameters.",
            missing.join(" ")
        )));
    }
    let value = |name: &str| query.get_decoded(name).unwrap_or_default();
    let algorithm = value("X-Amz-Algorithm");
    if algorithm != ALGORITHM {
        return Err(AuthFailure::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    }
    let expires_secs = match query.get("X-Amz-Expires") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|secs| *secs >= 0)
                .ok_or_else(|| {
                    AuthFailure::Incomplete(format!(
                        "X-Amz-Expires must be a non-negative integer, not '{text}'."
                    ))
                })?,
        ),
    };
    presented(
        SignatureForm::Query,
        &value("X-Amz-Credential"),
        &value("X-Amz-SignedHeaders"),
        &value("X-Amz-Signature"),
        &value("X-Amz-Date"),
        query.get_decoded("X-Amz-Security-Token"),
        expires_secs,
    )
}

/// Checks the parts common to both forms and assembles them.
fn presented(
    form: SignatureForm,
    credential: &str,
    signed_headers: &str,
    signature: &str,
    date: &str,
    security_token: Option<String>,
    expires_secs: Option<i64>,
) -> Result<Presented, AuthFailure> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, scope_date, region, service, terminator] = parts[..] else {
        return Err(AuthFailure::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if terminator != "aws4_request" {
        return Err(AuthFailure::InvalidSignature(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             '{terminator}'."
        )));
    }
    let date = AmzDate::parse(date)
        .or_else(|| parse_http_date(date))
        .ok_or_else(|| {
            AuthFailure::Incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?;
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    if !signed_headers
        .iter()
        .any(|name| name == "host" || name == ":authority")
    {
        return Err(AuthFailure::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    Ok(Presented {
        form,
        access_key_id: access_key_id.to_owned(),
        scope_date: scope_date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
        date,
        security_token,
        expires_secs,
    })
}

fn check_scope(presented: &Presented, service: &str) -> Result<(), AuthFailure> {
    if presented.service != service {
        return Err(AuthFailure::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{service}'. "
        )));
    }
    let valid_region = !presented.region.is_empty()
        && presented
            .region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if !valid_region {
        return Err(AuthFailure::InvalidSignature(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            presented.region
        )));
    }
    if presented.scope_date != presented.date.date() {
        return Err(AuthFailure::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{}', from '{}'.",
            presented.scope_date,
            presented.date.date(),
            presented.date
        )));
    }
    Ok(())
}

/// Within five minutes of `now`; a presigned URL, until its date plus `X-Amz-Expires`.
fn check_date(presented: &Presented, now: i64) -> Result<(), AuthFailure> {
    let signed_at = presented.date.epoch_seconds();
    let at = |seconds: i64| AmzDate::from_epoch_seconds(seconds);
    if let Some(expires) = presented.expires_secs {
        if now > signed_at.saturating_add(expires) {
            return Err(AuthFailure::InvalidSignature(format!(
                "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                presented.date,
                at(now - expires),
                at(now)
            )));
        }
    } else if signed_at < now - MAX_CLOCK_SKEW_SECS {
        return Err(AuthFailure::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - 5 min.)",
            presented.date,
            at(now - MAX_CLOCK_SKEW_SECS),
            at(now)
        )));
    }
    if signed_at > now + MAX_CLOCK_SKEW_SECS {
        return Err(AuthFailure::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            presented.date,
            at(now + MAX_CLOCK_SKEW_SECS),
            at(now)
        )));
    }
    Ok(())
}

/// An HTTP `Date` header in the IMF-fixdate form, `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(value: &str) -> Option<AmzDate> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut words = value.split(' ');
    let (_weekday, day, month, year, time, zone) = (
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
    );
    if zone != "GMT" || words.next().is_some() {
        return None;
    }
    let month = MONTHS.iter().position(|name| *name == month)? + 1;
    let time = time.replace(':', "");
    let text = format!("{year:0>4}{month:02}{day:0>2}T{time}Z");
    AmzDate::parse(&text)
}

/// The query string with `X-Amz-Signature` left out, as a presigned URL's canonical request
/// has it.
fn strip_signature_param(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some("X-Amz-Signature"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A query string's parameters, looked up by name (raw, still percent-encoded).
struct QueryParams<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> QueryParams<'a> {
    fn new(query: &'a str) -> Self {
        let pairs = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .collect();
        Self { pairs }
    }

    fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| *key == name)
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
    }

    /// The value percent-decoded.
    fn get_decoded(&self, name: &str) -> Option<String> {
        let raw = self.get(name)?;
        Some(String::from_utf8_lossy(&super::canonical::percent_decode(raw)).into_owned())
    }
}
