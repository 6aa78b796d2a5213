//! The canonical request of Signature Version 4: the request's method, path, query, signed headers
//! and payload hash, each written in its one canonical form, which both ends hash and then sign.
//!
//! The text is written to a [`Sink`], so the signer and the verifier feed it straight into
//! SHA-256 without building it, and the text itself is only built for the message of a signature
//! that does not match. Paths are handled as every AWS service but S3 does: dot segments and empty
//! segments removed, then each segment percent-encoded again (a `%20` sent becomes `%2520`).

/// Where the canonical text goes: a running hash, or a buffer when the text itself is wanted.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for ring::digest::Context {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// The signed parts of one request, as they arrived (or as they will be sent).
#[derive(Debug, Clone, Copy)]
pub struct CanonicalRequest<'a> {
    /// `POST`, `GET`, ...
    pub method: &'a str,
    /// The path as it appears in the request line, still percent-encoded (`/` for awsJson).
    pub path: &'a str,
    /// The query string without its `?`, still percent-encoded; empty for none.
    pub query: &'a str,
    /// The signed headers: lowercase names in ascending order, a name repeated once per value.
    pub headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    pub payload_hash: &'a str,
}

impl CanonicalRequest<'_> {
    /// Writes the canonical request to `out`.
    pub fn write_to(&self, out: &mut impl Sink) {
        out.put(self.method.as_bytes());
        out.put(b"\n");
        write_canonical_path(self.path, out);
        out.put(b"\n");
        write_canonical_query(self.query, out);
        out.put(b"\n");
        let mut index = 0;
        while index < self.headers.len() {
            let (name, first_value) = self.headers[index];
            out.put(name.as_bytes());
            out.put(b":");
            write_header_value(first_value, out);
            index += 1;
            while index < self.headers.len() && self.headers[index].0 == name {
                out.put(b",");
                write_header_value(self.headers[index].1, out);
                index += 1;
            }
            out.put(b"\n");
        }
        out.put(b"\n");
        write_signed_headers(self.headers, out);
        out.put(b"\n");
        out.put(self.payload_hash.as_bytes());
    }

    /// The canonical request as text.
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        self.write_to(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Hex SHA-256 of the canonical request.
    pub fn hash_hex(&self) -> [u8; 64] {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        self.write_to(&mut context);
        super::hex_lower(context.finish().as_ref())
    }
}

/// `content-type;host;x-amz-date`: the distinct names of `headers`, which are sorted.
pub fn write_signed_headers(headers: &[(&str, &str)], out: &mut impl Sink) {
    let mut previous: Option<&str> = None;
    for (name, _) in headers {
        if previous == Some(*name) {
            continue;
        }
        if previous.is_some() {
            out.put(b";");
        }
        out.put(name.as_bytes());
        previous = Some(name);
    }
}

/// A header value trimmed, with each run of spaces inside it written as one space.
fn write_header_value(value: &str, out: &mut impl Sink) {
    let trimmed = value.trim_matches(|c| c == ' ' || c == '\t');
    if !trimmed.contains("  ") {
        out.put(trimmed.as_bytes());
        return;
    }
    let mut words = trimmed.split(' ').filter(|word| !word.is_empty());
    if let Some(first) = words.next() {
        out.put(first.as_bytes());
    }
    for word in words {
        out.put(b" ");
        out.put(word.as_bytes());
    }
}

/// The path with dot and empty segments removed, each segment percent-encoded again; `/` for an
/// empty path.
fn write_canonical_path(path: &str, out: &mut impl Sink) {
    if path.is_empty() || path == "/" {
        out.put(b"/");
        return;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    if path.starts_with('/') {
        out.put(b"/");
    }
    for (index, segment) in segments.iter().enumerate() {
        if index > 0 {
            out.put(b"/");
        }
        write_uri_encoded(segment.as_bytes(), out);
    }
    if path.ends_with('/') && !segments.is_empty() {
        out.put(b"/");
    }
}

/// The query's parameters decoded, encoded again in SigV4's strict form, sorted by name then
/// value, and joined with `&`; a parameter without `=` gets an empty value.
fn write_canonical_query(query: &str, out: &mut impl Sink) {
    if query.is_empty() {
        return;
    }
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let mut encoded_name = Vec::with_capacity(name.len());
            write_uri_encoded(&percent_decode(name), &mut encoded_name);
            let mut encoded_value = Vec::with_capacity(value.len());
            write_uri_encoded(&percent_decode(value), &mut encoded_value);
            (encoded_name, encoded_value)
        })
        .collect();
    pairs.sort();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.put(b"&");
        }
        out.put(name);
        out.put(b"=");
        out.put(value);
    }
}

/// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`), hex in capitals.
pub fn write_uri_encoded(bytes: &[u8], out: &mut impl Sink) {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            continue;
        }
        out.put(&bytes[start..index]);
        out.put(&[
            b'%',
            HEX_UPPER[usize::from(byte >> 4)],
            HEX_UPPER[usize::from(byte & 0xF)],
        ]);
        start = index + 1;
    }
    out.put(&bytes[start..]);
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits stays as it is.
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(index + 1).and_then(|&b| hex_value(b)),
                bytes.get(index + 2).and_then(|&b| hex_value(b)),
            )
        {
            decoded.push(high << 4 | low);
            index += 3;
            continue;
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    decoded
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(raw: &str) -> String {
        let mut out = Vec::new();
        write_canonical_path(raw, &mut out);
        String::from_utf8(out).expect("ASCII")
    }

    fn query(raw: &str) -> String {
        let mut out = Vec::new();
        write_canonical_query(raw, &mut out);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn paths_are_normalized_then_encoded_again() {
        assert_eq!(path(""), "/");
        assert_eq!(path("/"), "/");
        assert_eq!(path("/getMedia"), "/getMedia");
        assert_eq!(path("/a/./b/../c/"), "/a/c/");
        assert_eq!(path("//a//b"), "/a/b");
        assert_eq!(path("/a%20b"), "/a%2520b");
        assert_eq!(path("/a b~"), "/a%20b~");
    }

    #[test]
    fn query_parameters_are_sorted_and_strictly_encoded() {
        assert_eq!(query(""), "");
        assert_eq!(query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(query("flag&x=a%2Fb"), "flag=&x=a%2Fb");
        assert_eq!(query("x=a/b c"), "x=a%2Fb%20c");
        assert_eq!(query("x=%zz"), "x=%25zz");
    }

    #[test]
    fn header_values_are_trimmed_and_repeated_names_joined() {
        let headers = [
            ("host", "example.com"),
            ("x-amz-meta", "  a   b  "),
            ("x-amz-meta", "c"),
        ];
        let request = CanonicalRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            payload_hash: "UNSIGNED-PAYLOAD",
        };
        assert_eq!(
            request.text(),
            "GET\n/\n\nhost:example.com\nx-amz-meta:a b,c\n\nhost;x-amz-meta\nUNSIGNED-PAYLOAD"
        );
    }
}
