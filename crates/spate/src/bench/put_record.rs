//! The `put-record` workload: one PutRecord call per record.

use super::records::Keys;
use super::report::Tally;
use super::runner::Workload;

/// PutRecord with a fixed record payload.
#[derive(Debug)]
pub struct PutRecord {
    /// `"StreamName":"..."` ready to paste.
    pub stream_member: String,
    /// The record data, base64.
    pub data: String,
}

impl Workload for PutRecord {
    fn name(&self) -> &'static str {
        "put-record"
    }

    fn operation(&self) -> &'static str {
        "PutRecord"
    }

    fn body(&self, keys: &mut Keys, _records: u64) -> Vec<u8> {
        let mut body = String::with_capacity(self.data.len() + 96);
        body.push('{');
        body.push_str(&self.stream_member);
        body.push_str(",\"Data\":\"");
        body.push_str(&self.data);
        body.push_str("\",\"PartitionKey\":\"");
        keys.push_next(&mut body);
        body.push_str("\"}");
        body.into_bytes()
    }

    fn stored(&self, _response: &[u8], records: u64, _tally: &mut Tally) -> u64 {
        // A successful PutRecord answer stored its one record.
        records
    }
}

#[cfg(test)]
mod tests {
    use super::super::options::KeyMode;
    use super::*;

    #[test]
    fn the_body_is_a_put_record_request() {
        let workload = PutRecord {
            stream_member: "\"StreamName\":\"s\"".to_owned(),
            data: "YWJj".to_owned(),
        };
        let body = workload.body(&mut Keys::new(KeyMode::Random, 1), 1);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(json["StreamName"], "s");
        assert_eq!(json["Data"], "YWJj");
        assert_eq!(json["PartitionKey"].as_str().map(str::len), Some(16));
    }
}
