//! The `put-records` workload: PutRecords calls of `--records-per-call` records each; records
//! that a successful answer fails one by one are counted by their `ErrorCode`.

use serde::Deserialize;

use super::records::Keys;
use super::report::Tally;
use super::runner::Workload;

/// PutRecords with a fixed record payload.
#[derive(Debug)]
pub struct PutRecords {
    /// `"StreamName":"..."` ready to paste.
    pub stream_member: String,
    /// The record data, base64.
    pub data: String,
}

impl Workload for PutRecords {
    fn name(&self) -> &'static str {
        "put-records"
    }

    fn operation(&self) -> &'static str {
        "PutRecords"
    }

    fn body(&self, keys: &mut Keys, records: u64) -> Vec<u8> {
        let mut body = String::with_capacity(64 + records as usize * (self.data.len() + 48));
        body.push('{');
        body.push_str(&self.stream_member);
        body.push_str(",\"Records\":[");
        for index in 0..records {
            if index > 0 {
                body.push(',');
            }
            body.push_str("{\"Data\":\"");
            body.push_str(&self.data);
            body.push_str("\",\"PartitionKey\":\"");
            keys.push_next(&mut body);
            body.push_str("\"}");
        }
        body.push_str("]}");
        body.into_bytes()
    }

    fn stored(&self, response: &[u8], records: u64, tally: &mut Tally) -> u64 {
        count_stored(response, records, tally)
    }
}

/// Of `records` sent, how many a PutRecords answer stored; the failed ones go to the tally by
/// `ErrorCode`. An answer that cannot be read counts every record as failed ("Unreadable").
fn count_stored(response: &[u8], records: u64, tally: &mut Tally) -> u64 {
    /// The answer's count alone: the entries are skipped without being collected, which is all
    /// a fully stored call needs (most of them).
    #[derive(Deserialize)]
    struct Count {
        #[serde(rename = "FailedRecordCount", default)]
        failed: u64,
    }
    #[derive(Deserialize)]
    struct Output {
        #[serde(rename = "FailedRecordCount", default)]
        failed: u64,
        #[serde(rename = "Records", default)]
        records: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "ErrorCode")]
        error_code: Option<String>,
    }
    if let Ok(Count { failed: 0 }) = serde_json::from_slice(response) {
        return records;
    }
    let output: Output = match serde_json::from_slice(response) {
        Ok(output) => output,
        Err(_) => {
            for _ in 0..records {
                tally.record_error("Unreadable");
            }
            return 0;
        }
    };
    if output.failed == 0 {
        return records;
    }
    let mut failed = 0;
    for entry in &output.records {
        if let Some(code) = &entry.error_code {
            tally.record_error(code);
            failed += 1;
        }
    }
    records.saturating_sub(failed)
}

#[cfg(test)]
mod tests {
    use super::super::options::KeyMode;
    use super::*;

    #[test]
    fn the_body_is_a_put_records_request() {
        let workload = PutRecords {
            stream_member: "\"StreamName\":\"s\"".to_owned(),
            data: "YWJj".to_owned(),
        };
        let body = workload.body(&mut Keys::new(KeyMode::Fixed, 0), 3);
        let json: serde_json::Value = serde_json::from_slice(&body).expect("valid JSON");
        assert_eq!(json["StreamName"], "s");
        let records = json["Records"].as_array().expect("records");
        assert_eq!(records.len(), 3);
        assert_eq!(records[2]["Data"], "YWJj");
        assert_eq!(records[2]["PartitionKey"], "spate-bench");
    }

    #[test]
    fn partial_failures_are_counted_by_error_code() {
        let mut tally = Tally::default();
        let answer = br#"{"FailedRecordCount":2,"Records":[
            {"SequenceNumber":"1","ShardId":"shardId-000000000000"},
            {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"},
            {"ErrorCode":"InternalFailure","ErrorMessage":"oops"}]}"#;
        assert_eq!(count_stored(answer, 3, &mut tally), 1);
        assert_eq!(tally.records_failed, 2);
        assert_eq!(tally.record_errors["InternalFailure"], 1);

        let ok = br#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"1","ShardId":"s"}]}"#;
        assert_eq!(count_stored(ok, 1, &mut tally), 1);
    }
}
