//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), the signing every AWS API call carries: the
//! canonical request ([`canonical`]), the string to sign, the per-day signing key derived from the
//! secret, and the signature. The client side ([`Signer`]) signs requests for `spate bench`; the
//! server side verifies with the same pieces, so both ends agree by construction, and the tests
//! check both against the official `aws-sigv4` crate and AWS's published examples.
//!
//! SHA-256 and HMAC come from `ring`, whose constant-time tag comparison verification uses.

pub mod canonical;
mod signer;
mod time;
pub mod verify;

pub use canonical::{CanonicalRequest, Sink};
pub use signer::{Credentials, SignedHeaders, Signer};
pub use time::AmzDate;
pub use verify::{AuthFailure, Presented, RequestParts, SignatureForm};

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The payload hash of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The key that signs one day's requests for one secret, region and service.
#[derive(Clone)]
pub struct SigningKey(ring::hmac::Key);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    /// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`, with
    /// `date` as `YYYYMMDD`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut seed = Vec::with_capacity(4 + secret.len());
        seed.extend_from_slice(b"AWS4");
        seed.extend_from_slice(secret.as_bytes());
        let mut key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &seed);
        for part in [date, region, service, "aws4_request"] {
            let tag = ring::hmac::sign(&key, part.as_bytes());
            key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, tag.as_ref());
        }
        Self(key)
    }

    /// The signature of `string_to_sign`, in lowercase hex.
    pub fn sign(&self, string_to_sign: &[u8]) -> [u8; 64] {
        hex_lower(ring::hmac::sign(&self.0, string_to_sign).as_ref())
    }

    /// Whether `signature_hex` is the signature of `string_to_sign`, compared in constant time.
    pub fn verify(&self, string_to_sign: &[u8], signature_hex: &str) -> bool {
        let Some(tag) = decode_hex_32(signature_hex) else {
            return false;
        };
        ring::hmac::verify(&self.0, string_to_sign, &tag).is_ok()
    }
}

/// `20150830/us-east-1/iam/aws4_request`.
pub fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

/// The string to sign: algorithm, timestamp, scope and the canonical request's hash, one per line.
pub fn string_to_sign(amz_date: &AmzDate, scope: &str, canonical_hash_hex: &[u8; 64]) -> Vec<u8> {
    let mut text = Vec::with_capacity(ALGORITHM.len() + 16 + scope.len() + 64 + 3);
    text.extend_from_slice(ALGORITHM.as_bytes());
    text.push(b'\n');
    text.extend_from_slice(amz_date.as_str().as_bytes());
    text.push(b'\n');
    text.extend_from_slice(scope.as_bytes());
    text.push(b'\n');
    text.extend_from_slice(canonical_hash_hex);
    text
}

/// Hex SHA-256 of a payload.
pub fn payload_hash_hex(payload: &[u8]) -> [u8; 64] {
    hex_lower(ring::digest::digest(&ring::digest::SHA256, payload).as_ref())
}

/// The 32 bytes of a SHA-256 digest as 64 lowercase hex digits.
fn hex_lower(digest: &[u8]) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (index, byte) in digest.iter().take(32).enumerate() {
        out[2 * index] = HEX[usize::from(byte >> 4)];
        out[2 * index + 1] = HEX[usize::from(byte & 0xF)];
    }
    out
}

/// 64 hex digits (either case) as 32 bytes; None for anything else.
fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |byte: u8| -> Option<u8> { (byte as char).to_digit(16).map(|value| value as u8) };
    let mut out = [0u8; 32];
    for (index, pair) in bytes.chunks_exact(2).enumerate() {
        out[index] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Hex text as `&str`: the hex helpers only write ASCII.
pub fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of AWS's "Create a signed AWS API request" guide (IAM ListUsers, 2015-08-30).
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derives_the_signing_key_of_aws_example() {
        let key = SigningKey::derive(EXAMPLE_SECRET, "20150830", "us-east-1", "iam");
        // The guide gives the key itself; signing the empty string with it is what this can
        // check from outside, so compare against an HMAC computed with the published key bytes.
        let published =
            decode_hex_32("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
                .expect("valid hex");
        let expected = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &published);
        let expected = hex_lower(ring::hmac::sign(&expected, b"probe").as_ref());
        assert_eq!(key.sign(b"probe"), expected);
    }

    #[test]
    fn signs_aws_example_request() {
        let headers = [
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("host", "iam.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ];
        let empty_hash = payload_hash_hex(b"");
        let request = CanonicalRequest {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: &headers,
            payload_hash: hex_str(&empty_hash),
        };
        assert_eq!(
            hex_str(&request.hash_hex()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let date = AmzDate::parse("20150830T123600Z").expect("valid date");
        let scope = credential_scope("20150830", "us-east-1", "iam");
        let to_sign = string_to_sign(&date, &scope, &request.hash_hex());
        let key = SigningKey::derive(EXAMPLE_SECRET, "20150830", "us-east-1", "iam");
        let signature = key.sign(&to_sign);
        assert_eq!(
            hex_str(&signature),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        assert!(key.verify(&to_sign, hex_str(&signature)));
        assert!(key.verify(&to_sign, &hex_str(&signature).to_uppercase()));
        let mut wrong = signature;
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        assert!(!key.verify(&to_sign, hex_str(&wrong)));
        assert!(!key.verify(&to_sign, "5d67"));
    }
}
