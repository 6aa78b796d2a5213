//! PutMedia's acknowledgements: the response body carries one JSON object per line
//! (`{"EventType":"PERSISTED","FragmentTimecode":0,"FragmentNumber":"9134..."}`), arriving in
//! HTTP chunks cut anywhere. [`AckLines`] reassembles the lines, keeping each one's text exactly
//! as the server sent it, and reads what the command acts on (the event type and an ERROR's id
//! and code).

use serde::Deserialize;

/// One acknowledgement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLine {
    /// The line as sent, without its line feed.
    pub text: String,
    /// `EventType`, when the line is JSON with one.
    pub event_type: Option<String>,
    /// `ErrorId` and `ErrorCode` of an ERROR ack.
    pub error: Option<(String, String)>,
}

impl AckLine {
    fn parse(text: String) -> Self {
        #[derive(Deserialize)]
        struct Fields {
            #[serde(rename = "EventType")]
            event_type: Option<String>,
            #[serde(rename = "ErrorId")]
            error_id: Option<serde_json::Value>,
            #[serde(rename = "ErrorCode")]
            error_code: Option<String>,
        }
        let fields: Option<Fields> = serde_json::from_str(&text).ok();
        let (event_type, error) = match fields {
            Some(fields) => {
                let is_error = fields.event_type.as_deref() == Some("ERROR");
                // The C SDK's parser accepts ErrorId as a number or a string.
                let id = fields.error_id.map(|id| match id {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
                let error = is_error.then(|| {
                    (
                        id.unwrap_or_default(),
                        fields.error_code.unwrap_or_default(),
                    )
                });
                (fields.event_type, error)
            }
            None => (None, None),
        };
        AckLine {
            text,
            event_type,
            error,
        }
    }
}

/// Longest line kept (an ack is about 150 bytes); a longer one is cut to this length.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Reassembles lines from body pieces.
#[derive(Debug, Default)]
pub struct AckLines {
    partial: Vec<u8>,
}

impl AckLines {
    /// The lines completed by `data` (blank lines skipped; `\r\n` accepted).
    pub fn push(&mut self, data: &[u8]) -> Vec<AckLine> {
        let mut lines = Vec::new();
        for &byte in data {
            if byte == b'\n' {
                self.complete(&mut lines);
            } else if self.partial.len() < MAX_LINE_BYTES {
                self.partial.push(byte);
            }
        }
        lines
    }

    /// The body ended: a last line without a line feed.
    pub fn finish(&mut self) -> Vec<AckLine> {
        let mut lines = Vec::new();
        self.complete(&mut lines);
        lines
    }

    fn complete(&mut self, lines: &mut Vec<AckLine>) {
        let mut line = std::mem::take(&mut self.partial);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        lines.push(AckLine::parse(String::from_utf8_lossy(&line).into_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = concat!(
        r#"{"EventType":"BUFFERING","FragmentTimecode":0,"FragmentNumber":"91343852333181432387730302063214432802205335552"}"#,
        "\n",
        r#"{"EventType":"RECEIVED","FragmentTimecode":0,"FragmentNumber":"91343852333181432387730302063214432802205335552"}"#,
        "\n\n",
        r#"{"EventType":"IDLE"}"#,
        "\r\n",
        r#"{"EventType":"ERROR","FragmentTimecode":3000,"FragmentNumber":"91343852333181432387730302063214432802205335555","ErrorId":4004,"ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"}"#,
        "\n",
    );

    fn read(pieces: &[&[u8]]) -> Vec<AckLine> {
        let mut reader = AckLines::default();
        let mut lines = Vec::new();
        for piece in pieces {
            lines.extend(reader.push(piece));
        }
        lines.extend(reader.finish());
        lines
    }

    #[test]
    fn lines_survive_any_split_of_the_body() {
        let body = BODY.as_bytes();
        let whole = read(&[body]);
        let texts: Vec<&str> = whole.iter().map(|l| l.text.as_str()).collect();
        let expected: Vec<&str> = BODY.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(texts, expected);
        assert_eq!(whole[2].event_type.as_deref(), Some("IDLE"));
        assert_eq!(
            whole[3].error,
            Some((
                "4004".to_owned(),
                "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS".to_owned()
            ))
        );
        assert_eq!(whole[0].error, None);
        for cut in 0..=body.len() {
            assert_eq!(read(&[&body[..cut], &body[cut..]]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(read(&bytes), whole);
    }

    #[test]
    fn a_last_line_without_line_feed_and_a_string_error_id_are_read() {
        let lines =
            read(&[br#"{"EventType":"ERROR","ErrorId":"5000","ErrorCode":"INTERNAL_ERROR"}"#]);
        assert_eq!(
            lines[0].error,
            Some(("5000".to_owned(), "INTERNAL_ERROR".to_owned()))
        );
        let lines = read(&[b"not json\n"]);
        assert_eq!(
            (lines[0].text.as_str(), lines[0].event_type.as_deref()),
            ("not json", None)
        );
    }
}
