//! Delivery to OpenSearch Service and Elasticsearch through the `_bulk` API: `POST
//! <cluster>/_bulk` with `Content-Type: application/x-ndjson`, for each record an action line
//! `{"index": {"_index": <rotated index>, "_type": <TypeName, when given>, "_id": <id>}}` and the
//! document (the record's JSON, compacted to one line). The `_id` is Firehose's own per record
//! (stable across retries, so a retried document overwrites rather than duplicates) unless
//! `DocumentIdOptions` says `NO_DOCUMENT_ID`.
//!
//! A bulk answer can fail per document (`errors: true`, an item with `status` >= 300 or an
//! `error`): only those documents are retried, and what still fails after the retry duration goes
//! to the error output with the document's `esDocumentId`, `esIndexName` and `esTypeName`. A
//! record that is not JSON is never sent and fails as `InvalidJson` (Spate's code).
//!
//! The cluster is `ClusterEndpoint`, or the URL `[firehose.opensearch_domains."<DomainARN>"]`
//! maps the domain to.

use serde_json::{Map, Value, json};

use super::DeliveryError;
use super::client::{excerpt, read_body};
use super::retry::{self, Failure, Plan, Sender};
use crate::delivery::{Batch, BatchRecord};
use crate::keys::ErrorOutputType;
use crate::service::{FirehoseService, record_id};
use crate::settings::opensearch::{OpenSearchDestination, rotated_index};

/// A bulk answer for a batch can be large (one item per document); beyond this it is cut.
const RESPONSE_LIMIT: usize = 64 << 20;

pub(crate) async fn deliver(
    service: &FirehoseService,
    settings: &OpenSearchDestination,
    elasticsearch: bool,
    batch: &Batch,
) -> Result<(), DeliveryError> {
    let base = match (&settings.cluster_endpoint, &settings.domain_arn) {
        (Some(endpoint), _) => endpoint.clone(),
        (None, Some(arn)) => service
            .config
            .opensearch_domains
            .get(arn)
            .map(|domain| domain.url.clone())
            .ok_or_else(|| {
                DeliveryError::Configuration(format!("no server is configured for domain {arn}"))
            })?,
        (None, None) => {
            return Err(DeliveryError::Configuration(
                "the destination has neither DomainARN nor ClusterEndpoint".into(),
            ));
        }
    };
    let plan = Plan {
        retry_secs: settings.retry_secs(),
        s3: &settings.s3,
        error_type: if elasticsearch {
            ErrorOutputType::ElasticsearchFailed
        } else {
            ErrorOutputType::AmazonOpenSearchServiceFailed
        },
        back_up_all: settings.all_documents(),
    };
    let mut sender = BulkSender {
        service,
        settings,
        url: format!("{}/_bulk", base.trim_end_matches('/')),
        log: batch.stream.log.0,
    };
    retry::deliver(service, batch, plan, &mut sender).await
}

struct BulkSender<'a> {
    service: &'a FirehoseService,
    settings: &'a OpenSearchDestination,
    url: String,
    log: u64,
}

impl BulkSender<'_> {
    fn index_of(&self, record: &BatchRecord) -> String {
        rotated_index(
            self.settings.index_name.as_deref().unwrap_or_default(),
            self.settings.rotation(),
            record.arrival_ms,
        )
    }

    fn id_of(&self, record: &BatchRecord) -> Option<String> {
        self.settings
            .document_ids()
            .then(|| record_id(spate_log::LogId(self.log), record.offset, record.arrival_ms))
    }

    fn type_name(&self) -> Option<&str> {
        self.settings
            .type_name
            .as_deref()
            .filter(|name| !name.is_empty())
    }
}

impl Sender for BulkSender<'_> {
    async fn send(&mut self, records: &[&BatchRecord]) -> Vec<(usize, Failure)> {
        let mut failures = Vec::new();
        let mut sent = Vec::new();
        let mut body = Vec::new();
        for (position, record) in records.iter().enumerate() {
            let Ok(document) = serde_json::from_slice::<Value>(&record.data) else {
                failures.push((
                    position,
                    Failure::new("InvalidJson", "The record is not a JSON document."),
                ));
                continue;
            };
            let action = action_line(&self.index_of(record), self.type_name(), self.id_of(record));
            body.extend_from_slice(action.to_string().as_bytes());
            body.push(b'\n');
            body.extend_from_slice(document.to_string().as_bytes());
            body.push(b'\n');
            sent.push(position);
        }
        if sent.is_empty() {
            return failures;
        }
        let client = match self.service.http.get() {
            Ok(client) => client,
            Err(err) => {
                let failure = Failure::new("OS.ConnectionFailed", err);
                failures.extend(sent.iter().map(|&p| (p, failure.clone())));
                return failures;
            }
        };
        let result = client
            .post(&self.url)
            .header("Content-Type", "application/x-ndjson")
            .body(body)
            .send()
            .await;
        let whole = |failure: Failure| sent.iter().map(move |&p| (p, failure.clone()));
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                failures.extend(whole(Failure::new(
                    "OS.ConnectionFailed",
                    format!("Could not reach the cluster: {err}"),
                )));
                return failures;
            }
        };
        let status = response.status().as_u16();
        let body = match read_body(response, RESPONSE_LIMIT).await {
            Ok(body) => body,
            Err(err) => {
                failures.extend(whole(Failure::new(
                    "OS.ConnectionFailed",
                    format!("Reading the bulk answer: {err}"),
                )));
                return failures;
            }
        };
        match item_failures(status, &body, sent.len()) {
            Err(failure) => failures.extend(whole(failure)),
            Ok(items) => {
                for (item, failure) in items {
                    failures.push((sent[item], failure));
                }
            }
        }
        failures
    }

    fn error_fields(&self, record: &BatchRecord) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("esDocumentId".into(), json!(self.id_of(record)));
        fields.insert("esIndexName".into(), json!(self.index_of(record)));
        fields.insert("esTypeName".into(), json!(self.type_name().unwrap_or("")));
        fields
    }
}

/// The bulk action line of one document.
pub(crate) fn action_line(index: &str, type_name: Option<&str>, id: Option<String>) -> Value {
    let mut target = json!({ "_index": index });
    if let Some(type_name) = type_name {
        target["_type"] = json!(type_name);
    }
    if let Some(id) = id {
        target["_id"] = json!(id);
    }
    json!({ "index": target })
}

/// The documents a bulk answer reports failed, by their position in the request; `Err` when
/// the request failed as a whole.
pub(crate) fn item_failures(
    status: u16,
    body: &[u8],
    sent: usize,
) -> Result<Vec<(usize, Failure)>, Failure> {
    if !(200..300).contains(&status) {
        return Err(Failure::new(
            format!("OS.Http{status}"),
            format!("The cluster answered {status}: {}", excerpt(body)),
        ));
    }
    let answer: Value = serde_json::from_slice(body).map_err(|_| {
        Failure::new(
            "OS.InvalidResponse",
            format!("Not a bulk answer: {}", excerpt(body)),
        )
    })?;
    if answer.get("errors").and_then(Value::as_bool) == Some(false) {
        return Ok(Vec::new());
    }
    let items = answer
        .get("items")
        .and_then(Value::as_array)
        .filter(|items| items.len() == sent)
        .ok_or_else(|| {
            Failure::new(
                "OS.InvalidResponse",
                format!("The bulk answer does not list {sent} items"),
            )
        })?;
    let mut failures = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let Some(result) = item.as_object().and_then(|item| item.values().next()) else {
            continue;
        };
        let status = result.get("status").and_then(Value::as_u64).unwrap_or(0);
        let error = result.get("error");
        if status < 300 && error.is_none_or(Value::is_null) {
            continue;
        }
        let code = error
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("OS.DocumentFailed")
            .to_owned();
        let message = error
            .and_then(|e| e.get("reason"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("status {status}"));
        failures.push((position, Failure::new(code, message)));
    }
    Ok(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_lines_name_index_type_and_id() {
        assert_eq!(
            action_line("logs-2016-02-25", Some("doc"), Some("id1".into())),
            json!({"index": {"_index": "logs-2016-02-25", "_type": "doc", "_id": "id1"}})
        );
        assert_eq!(
            action_line("logs", None, None),
            json!({"index": {"_index": "logs"}})
        );
    }

    #[test]
    fn bulk_answers_report_the_documents_that_failed() {
        let answer = json!({
            "took": 3, "errors": true,
            "items": [
                {"index": {"_index": "i", "_id": "a", "status": 201}},
                {"index": {"_index": "i", "_id": "b", "status": 400,
                           "error": {"type": "mapper_parsing_exception", "reason": "bad"}}},
                {"index": {"_index": "i", "_id": "c", "status": 429,
                           "error": {"type": "es_rejected_execution_exception", "reason": "busy"}}}
            ]
        });
        let failures = item_failures(200, answer.to_string().as_bytes(), 3).expect("parsed");
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].0, 1);
        assert_eq!(failures[0].1.code, "mapper_parsing_exception");
        assert_eq!(failures[1].0, 2);
        let ok = json!({"took": 1, "errors": false, "items": []});
        assert!(
            item_failures(200, ok.to_string().as_bytes(), 3)
                .expect("ok")
                .is_empty()
        );
        assert!(item_failures(503, b"busy", 3).is_err());
        let short = json!({"errors": true, "items": []});
        assert!(item_failures(200, short.to_string().as_bytes(), 1).is_err());
    }
}
