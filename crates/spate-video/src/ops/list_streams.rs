//! ListStreams: streams in name order, filtered by `StreamNameCondition`, paged by
//! `MaxResults` and `NextToken`.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::describe_stream::StreamInfo;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

/// `StreamNameCondition` / `ChannelNameCondition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameCondition {
    pub comparison_operator: Option<String>,
    pub comparison_value: Option<String>,
}

impl NameCondition {
    pub fn validate(&self, v: &mut Violations, path: &str) {
        super::one_of(
            v,
            &format!("{path}.comparisonOperator"),
            &self.comparison_operator,
            false,
            &["BEGINS_WITH"],
        );
        super::name(
            v,
            &format!("{path}.comparisonValue"),
            &self.comparison_value,
            false,
        );
    }

    /// Whether `name` satisfies the condition (no value: every name).
    pub fn admits(condition: &Option<NameCondition>, name: &str) -> bool {
        condition
            .as_ref()
            .and_then(|condition| condition.comparison_value.as_deref())
            .is_none_or(|prefix| name.starts_with(prefix))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub stream_name_condition: Option<NameCondition>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::range(v, "maxResults", self.max_results, Some(1), Some(10_000));
        super::next_token(v, "nextToken", &self.next_token);
        if let Some(condition) = &self.stream_name_condition {
            condition.validate(v, "streamNameCondition");
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_info_list: Vec<StreamInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One page of `items` (in name order) after the token's name: the page and the next token.
pub fn page<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
    max_results: Option<i64>,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), VideoError> {
    let after = super::page_start(token)?;
    let limit = usize::try_from(max_results.unwrap_or(10_000)).unwrap_or(10_000);
    let mut remaining = items
        .into_iter()
        .filter(|item| after.as_deref().is_none_or(|after| name(item) > after));
    let page: Vec<T> = remaining.by_ref().take(limit).collect();
    let next_token = match (remaining.next(), page.last()) {
        (Some(_), Some(last)) => Some(super::page_token(name(last))),
        _ => None,
    };
    Ok((page, next_token))
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let streams: Vec<_> = service
        .live_streams()
        .into_iter()
        .filter(|(stream, _)| NameCondition::admits(&request.stream_name_condition, &stream.name))
        .collect();
    let (streams, next_token) = page(
        streams,
        |(stream, _)| stream.name.as_str(),
        request.max_results,
        request.next_token.as_deref(),
    )?;
    Ok(Response {
        stream_info_list: streams
            .into_iter()
            .map(|(stream, status)| StreamInfo::of(stream, status))
            .collect(),
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_without_overlap() {
        let names = vec!["a", "b", "c", "d", "e"];
        let (first, token) = page(names.clone(), |n| n, Some(2), None).expect("page");
        assert_eq!(first, vec!["a", "b"]);
        let (second, token) = page(names.clone(), |n| n, Some(2), token.as_deref()).expect("page");
        assert_eq!(second, vec!["c", "d"]);
        let (third, token) = page(names, |n| n, Some(2), token.as_deref()).expect("page");
        assert_eq!((third, token), (vec!["e"], None));
    }

    #[test]
    fn limits_and_operators_are_checked() {
        let request: Request = serde_json::from_str(
            r#"{"MaxResults":0,"StreamNameCondition":{"ComparisonOperator":"ENDS_WITH"}}"#,
        )
        .expect("json");
        let mut v = Violations::new();
        request.validate(&mut v);
        let message = v.finish().expect_err("invalid").message();
        assert!(
            message.contains("'maxResults'") && message.contains("[BEGINS_WITH]"),
            "{message}"
        );
    }
}
