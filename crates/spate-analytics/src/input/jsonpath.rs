//! The subset of JSONPath that Kinesis Data Analytics accepts in `RecordRowPath` and in column
//! mappings ("Working with JSONPath" in the developer guide): the root `$`, members `.name`,
//! array elements `[n]`, and all elements from an index on, `[n:]` (the guide's `[0:]`).
//!
//! Unverified: a bracketed quoted member (`['a b']`, `["a b"]`) is accepted for names that
//! cannot be written after a dot. Everything else of JSONPath (`..`, `*`, filters, unions,
//! slices with an end or a step, negative indexes) is rejected with a `JsonPathError`.

use std::fmt;

use super::json::Json;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Member(String),
    Index(usize),
    /// Every element from this index on.
    From(usize),
}

/// A parsed path, `$` followed by steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub steps: Vec<Step>,
}

/// Why a path is not in the supported subset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported JSONPath {path:?} at character {position}: {reason}")]
pub struct JsonPathError {
    pub path: String,
    /// 0-based character offset of the problem.
    pub position: usize,
    pub reason: &'static str,
}

impl JsonPath {
    pub fn parse(path: &str) -> Result<JsonPath, JsonPathError> {
        let chars: Vec<char> = path.chars().collect();
        let fail = |position: usize, reason: &'static str| JsonPathError {
            path: path.to_string(),
            position,
            reason,
        };
        if chars.first() != Some(&'$') {
            return Err(fail(0, "a path starts with $"));
        }
        let mut steps = Vec::new();
        let mut at = 1;
        while at < chars.len() {
            match chars[at] {
                '.' => {
                    at += 1;
                    let start = at;
                    while at < chars.len() && chars[at] != '.' && chars[at] != '[' {
                        at += 1;
                    }
                    let name: String = chars[start..at].iter().collect();
                    if name.is_empty() {
                        let reason = if chars.get(start) == Some(&'.') {
                            "recursive descent (..) is not supported"
                        } else {
                            "a member name is missing"
                        };
                        return Err(fail(start, reason));
                    }
                    if name == "*" {
                        return Err(fail(start, "wildcards are not supported; use [0:]"));
                    }
                    steps.push(Step::Member(name));
                }
                '[' if matches!(chars.get(at + 1), Some('\'' | '"')) => {
                    // A quoted member: the name runs to the same quote followed by `]`, so it may
                    // hold `.`, `[` and `]`.
                    let quote = chars[at + 1];
                    let start = at + 2;
                    let Some(length) = (start..chars.len())
                        .position(|i| chars[i] == quote && chars.get(i + 1) == Some(&']'))
                    else {
                        return Err(fail(at, "unclosed ["));
                    };
                    if length == 0 {
                        return Err(fail(start, "a member name is missing"));
                    }
                    steps.push(Step::Member(chars[start..start + length].iter().collect()));
                    at = start + length + 2;
                }
                '[' => {
                    let start = at + 1;
                    let Some(close) = chars[start..].iter().position(|&c| c == ']') else {
                        return Err(fail(at, "unclosed ["));
                    };
                    let inside: String = chars[start..start + close].iter().collect();
                    steps.push(parse_bracket(&inside).map_err(|reason| fail(start, reason))?);
                    at = start + close + 1;
                }
                _ => return Err(fail(at, "expected . or [")),
            }
        }
        Ok(JsonPath { steps })
    }

    /// Whether `self` begins with all of `prefix`'s steps.
    pub fn starts_with(&self, prefix: &JsonPath) -> bool {
        self.steps.starts_with(&prefix.steps)
    }

    /// The path without its first `count` steps (`$` followed by the rest).
    pub fn skip(&self, count: usize) -> JsonPath {
        JsonPath {
            steps: self.steps.iter().skip(count).cloned().collect(),
        }
    }

    /// Every value the path selects in `root`, in document order; empty when nothing matches.
    pub fn select<'a>(&self, root: &'a Json) -> Vec<&'a Json> {
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for value in current {
                match (step, value) {
                    (Step::Member(name), _) => next.extend(value.member(name)),
                    (Step::Index(index), Json::Array(items)) => next.extend(items.get(*index)),
                    (Step::From(start), Json::Array(items)) => {
                        next.extend(items.iter().skip(*start));
                    }
                    (Step::Index(_) | Step::From(_), _) => {}
                }
            }
            current = next;
        }
        current
    }
}

fn parse_bracket(inside: &str) -> Result<Step, &'static str> {
    let trimmed = inside.trim();
    if trimmed == "*" {
        return Err("wildcards are not supported; use [0:]");
    }
    if trimmed.starts_with('?') || trimmed.starts_with('(') {
        return Err("filters and expressions are not supported");
    }
    if trimmed.contains(',') {
        return Err("unions are not supported");
    }
    let index = |text: &str| -> Result<usize, &'static str> {
        if text.starts_with('-') {
            return Err("negative indexes are not supported");
        }
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err("an array index is a non-negative integer");
        }
        text.parse().map_err(|_| "the array index is too large")
    };
    match trimmed.split_once(':') {
        Some((start, "")) => Ok(Step::From(index(start.trim())?)),
        Some(_) => Err("only open-ended slices [n:] are supported"),
        None => Ok(Step::Index(index(trimmed)?)),
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.steps {
            match step {
                Step::Member(name) if name.contains('\'') => write!(f, "[\"{name}\"]")?,
                Step::Member(name) if name.contains(['.', '[', ']']) => write!(f, "['{name}']")?,
                Step::Member(name) => write!(f, ".{name}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::From(start) => write!(f, "[{start}:]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> JsonPath {
        JsonPath::parse(text).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn parses_the_supported_subset() {
        assert_eq!(path("$").steps, []);
        assert_eq!(
            path("$.address.city").steps,
            [Step::Member("address".into()), Step::Member("city".into())]
        );
        assert_eq!(
            path("$.orders[0].orderId").steps,
            [
                Step::Member("orders".into()),
                Step::Index(0),
                Step::Member("orderId".into())
            ]
        );
        assert_eq!(
            path("$.orders[0:]").steps,
            [Step::Member("orders".into()), Step::From(0)]
        );
        assert_eq!(
            path("$['a.b'][2:]").steps,
            [Step::Member("a.b".into()), Step::From(2)]
        );
        assert_eq!(path("$[\"x y\"]").to_string(), "$.x y");
        assert_eq!(path("$.orders[1:].id").to_string(), "$.orders[1:].id");
        for name in ["a.b", "x]y", "it's", "[0]"] {
            let printed = JsonPath {
                steps: vec![Step::Member(name.into())],
            }
            .to_string();
            assert_eq!(
                path(&printed).steps,
                [Step::Member(name.into())],
                "{printed}"
            );
        }
    }

    #[test]
    fn rejects_the_rest_of_jsonpath() {
        let cases = [
            ("a.b", 0, "a path starts with $"),
            ("$..price", 2, "recursive descent (..) is not supported"),
            ("$.*", 2, "wildcards are not supported; use [0:]"),
            ("$.a[*]", 4, "wildcards are not supported; use [0:]"),
            (
                "$.a[?(@.x)]",
                4,
                "filters and expressions are not supported",
            ),
            ("$.a[0,1]", 4, "unions are not supported"),
            ("$.a[1:3]", 4, "only open-ended slices [n:] are supported"),
            ("$.a[-1]", 4, "negative indexes are not supported"),
            ("$.a[x]", 4, "an array index is a non-negative integer"),
            ("$.a[0", 3, "unclosed ["),
            ("$.", 2, "a member name is missing"),
            ("$['']", 3, "a member name is missing"),
            ("$['a", 1, "unclosed ["),
            ("$a", 1, "expected . or ["),
        ];
        for (text, position, reason) in cases {
            let error = JsonPath::parse(text).expect_err(text);
            assert_eq!((error.position, error.reason), (position, reason), "{text}");
        }
    }

    #[test]
    fn selects_members_elements_and_open_slices() {
        let record = Json::parse(
            br#"{"customerName":"John Doe","address":{"city":"Anytown"},
                 "orders":[{"orderId":"23284"},{"orderId":"63122"},{"other":1}]}"#,
        )
        .expect("valid JSON");
        let texts = |text: &str| -> Vec<String> {
            path(text)
                .select(&record)
                .iter()
                .map(|value| value.to_string())
                .collect()
        };
        assert_eq!(texts("$.address.city"), ["\"Anytown\""]);
        assert_eq!(texts("$.orders[1].orderId"), ["\"63122\""]);
        assert_eq!(texts("$.orders[0:].orderId"), ["\"23284\"", "\"63122\""]);
        assert_eq!(texts("$.orders[1:]").len(), 2);
        assert_eq!(texts("$.orders[7]"), Vec::<String>::new());
        assert_eq!(texts("$.customerName[0]"), Vec::<String>::new());
        assert_eq!(texts("$.missing.deeper"), Vec::<String>::new());
    }
}
