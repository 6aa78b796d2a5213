//! Access policies in IAM's JSON grammar, the subset Spate evaluates: `Version`, `Statement`
//! (one or a list), each with `Sid`, `Effect` (`Allow` or `Deny`), `Action` or `NotAction`,
//! `Resource` or `NotResource`, and in resource policies `Principal` (`"*"` or `{"AWS": ...}`
//! with account ids, account root ARNs or user ARNs). `*` and `?` are wildcards in actions
//! (matched without regard to case, as IAM does) and in resources. A policy using anything else,
//! `Condition` above all, is refused when it is configured or put, never silently ignored.
//!
//! [`Policy::evaluate`] gives one policy's verdict on one request; how the verdicts of the
//! caller's identity policy and the resource's policy combine is [`decide`]'s: an explicit deny
//! anywhere wins, then an allow from either policy (within one account), otherwise a deny.

use serde_json::Value;

/// Why a policy document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(String);

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    effect: Effect,
    actions: Matcher,
    resources: Matcher,
    /// Resource policies only: who the statement is about; None in identity policies.
    principals: Option<Principals>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// `Action` / `Resource` (the patterns that match) or `NotAction` / `NotResource` (everything
/// but them).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    patterns: Vec<String>,
    negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Principals {
    Anyone,
    /// Account ids, `arn:aws:iam::<account>:root` or user ARNs.
    Aws(Vec<String>),
}

/// One policy's verdict on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A statement denies it.
    Deny,
    /// A statement allows it and none denies it.
    Allow,
    /// No statement applies.
    NotMentioned,
}

/// The request being authorized.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `kinesis:PutRecord`.
    pub action: &'a str,
    /// The resource's ARN, or `*` for operations on no particular resource.
    pub resource: &'a str,
    /// The caller's ARN (`arn:aws:iam::<account>:user/<name>`) and account id.
    pub caller_arn: &'a str,
    pub caller_account: &'a str,
}

impl Policy {
    /// Parses a policy document. `resource_policy` documents must name a `Principal` in each
    /// statement; identity policies must not.
    pub fn parse(document: &str, resource_policy: bool) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(document)
            .map_err(|err| PolicyError(format!("the policy is not valid JSON: {err}")))?;
        let Value::Object(mut root) = value else {
            return Err(PolicyError("a policy must be a JSON object".into()));
        };
        if let Some(version) = root.remove("Version") {
            match version.as_str() {
                Some("2012-10-17" | "2008-10-17") => {}
                _ => {
                    return Err(PolicyError(format!(
                        "unsupported policy Version {version}: use \"2012-10-17\""
                    )));
                }
            }
        }
        root.remove("Id");
        let statements = match root.remove("Statement") {
            Some(Value::Array(items)) => items,
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => return Err(PolicyError("Statement must be an object or a list".into())),
            // An empty document (`{}`, as GetResourcePolicy answers for none) says nothing.
            None => Vec::new(),
        };
        if let Some(key) = root.keys().next() {
            return Err(PolicyError(format!("unsupported policy element {key:?}")));
        }
        let statements = statements
            .into_iter()
            .map(|statement| Statement::parse(statement, resource_policy))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { statements })
    }

    /// This policy's verdict on `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Verdict {
        let mut verdict = Verdict::NotMentioned;
        for statement in &self.statements {
            if !statement.applies(request) {
                continue;
            }
            match statement.effect {
                Effect::Deny => return Verdict::Deny,
                Effect::Allow => verdict = Verdict::Allow,
            }
        }
        verdict
    }
}

impl Statement {
    fn parse(value: Value, resource_policy: bool) -> Result<Statement, PolicyError> {
        let Value::Object(mut fields) = value else {
            return Err(PolicyError("each Statement must be a JSON object".into()));
        };
        fields.remove("Sid");
        let effect = match fields.remove("Effect").as_ref().and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => {
                return Err(PolicyError(format!(
                    "Effect must be \"Allow\" or \"Deny\", not {}",
                    other.unwrap_or("missing")
                )));
            }
        };
        let actions = Matcher::take(&mut fields, "Action", "NotAction")?;
        let resources = Matcher::take(&mut fields, "Resource", "NotResource")?;
        let principals = match fields.remove("Principal") {
            None if resource_policy => {
                return Err(PolicyError(
                    "each statement of a resource policy needs a Principal".into(),
                ));
            }
            None => None,
            Some(_) if !resource_policy => {
                return Err(PolicyError(
                    "Principal belongs in resource policies, not in a key's policy".into(),
                ));
            }
            Some(value) => Some(Principals::parse(value)?),
        };
        if let Some(key) = fields.keys().next() {
            return Err(PolicyError(format!(
                "unsupported statement element {key:?} (Spate evaluates Effect, Action, \
                 NotAction, Resource, NotResource and Principal)"
            )));
        }
        Ok(Statement {
            effect,
            actions,
            resources,
            principals,
        })
    }

    fn applies(&self, request: &Request<'_>) -> bool {
        let principal_matches = match &self.principals {
            None | Some(Principals::Anyone) => true,
            Some(Principals::Aws(names)) => names.iter().any(|name| {
                name == request.caller_arn
                    || name == request.caller_account
                    || *name == format!("arn:aws:iam::{}:root", request.caller_account)
            }),
        };
        principal_matches
            && self.actions.matches(request.action, true)
            && self.resources.matches(request.resource, false)
    }
}

impl Matcher {
    fn take(
        fields: &mut serde_json::Map<String, Value>,
        name: &str,
        negated_name: &str,
    ) -> Result<Matcher, PolicyError> {
        match (fields.remove(name), fields.remove(negated_name)) {
            (Some(value), None) => Ok(Matcher {
                patterns: strings(value, name)?,
                negated: false,
            }),
            (None, Some(value)) => Ok(Matcher {
                patterns: strings(value, negated_name)?,
                negated: true,
            }),
            (Some(_), Some(_)) => Err(PolicyError(format!(
                "a statement has {name} or {negated_name}, not both"
            ))),
            (None, None) => Err(PolicyError(format!(
                "each statement needs {name} or {negated_name}"
            ))),
        }
    }

    fn matches(&self, text: &str, ignore_case: bool) -> bool {
        let any = self
            .patterns
            .iter()
            .any(|pattern| wildcard_match(pattern, text, ignore_case));
        any != self.negated
    }
}

impl Principals {
    fn parse(value: Value) -> Result<Principals, PolicyError> {
        match value {
            Value::String(star) if star == "*" => Ok(Principals::Anyone),
            Value::Object(mut map) => {
                let aws = map
                    .remove("AWS")
                    .ok_or_else(|| PolicyError("Principal must name \"AWS\" principals".into()))?;
                if let Some(key) = map.keys().next() {
                    return Err(PolicyError(format!("unsupported Principal type {key:?}")));
                }
                let names = strings(aws, "Principal.AWS")?;
                if names.iter().any(|name| name == "*") {
                    return Ok(Principals::Anyone);
                }
                Ok(Principals::Aws(names))
            }
            other => Err(PolicyError(format!(
                "Principal must be \"*\" or {{\"AWS\": ...}}, not {other}"
            ))),
        }
    }
}

/// A string or a non-empty list of strings.
fn strings(value: Value, element: &str) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::String(text) => vec![text],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Ok(text),
                other => Err(PolicyError(format!(
                    "{element} must hold strings, not {other}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(PolicyError(format!(
                "{element} must be a string or a list of strings, not {other}"
            )));
        }
    };
    if list.is_empty() {
        return Err(PolicyError(format!("{element} must not be empty")));
    }
    Ok(list)
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let fold = |c: char| {
        if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let pattern: Vec<char> = pattern.chars().map(fold).collect();
    let text: Vec<char> = text.chars().map(fold).collect();
    // Iterative matching with backtracking to the last star: linear in practice, no recursion.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Where a refusal came from, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ExplicitDenyInIdentityPolicy,
    ExplicitDenyInResourcePolicy,
    NoIdentityPolicyAllows,
    NoResourcePolicyAllows,
}

/// Combines the verdicts: `identity` of the caller's policy (Allow when the key has none: a key
/// without a policy may do everything in its account), `resource` of the resource's policy, if
/// it has one. `same_account`: the caller's account owns the resource; across accounts, both
/// must allow.
pub fn decide(
    identity: Verdict,
    resource: Option<Verdict>,
    same_account: bool,
) -> Result<(), Refusal> {
    if identity == Verdict::Deny {
        return Err(Refusal::ExplicitDenyInIdentityPolicy);
    }
    if resource == Some(Verdict::Deny) {
        return Err(Refusal::ExplicitDenyInResourcePolicy);
    }
    let identity_allows = identity == Verdict::Allow;
    let resource_allows = resource == Some(Verdict::Allow);
    if same_account {
        if identity_allows || resource_allows {
            return Ok(());
        }
        return Err(Refusal::NoIdentityPolicyAllows);
    }
    if !resource_allows {
        return Err(Refusal::NoResourcePolicyAllows);
    }
    if !identity_allows {
        return Err(Refusal::NoIdentityPolicyAllows);
    }
    Ok(())
}

/// AWS's message for a refused request.
pub fn denial_message(request: &Request<'_>, refusal: Refusal) -> String {
    let reason = match refusal {
        Refusal::ExplicitDenyInIdentityPolicy => {
            "with an explicit deny in an identity-based policy".to_owned()
        }
        Refusal::ExplicitDenyInResourcePolicy => {
            "with an explicit deny in a resource-based policy".to_owned()
        }
        Refusal::NoIdentityPolicyAllows => format!(
            "because no identity-based policy allows the {} action",
            request.action
        ),
        Refusal::NoResourcePolicyAllows => format!(
            "because no resource-based policy allows the {} action",
            request.action
        ),
    };
    format!(
        "User: {} is not authorized to perform: {} on resource: {} {reason}",
        request.caller_arn, request.action, request.resource
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/orders";

    fn request<'a>(action: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            action,
            resource,
            caller_arn: "arn:aws:iam::111122223333:user/alice",
            caller_account: "111122223333",
        }
    }

    #[test]
    fn wildcards_match_as_iam_does() {
        assert!(wildcard_match("kinesis:*", "kinesis:PutRecord", true));
        assert!(wildcard_match("kinesis:put*", "kinesis:PutRecords", true));
        assert!(!wildcard_match("kinesis:put*", "kinesis:PutRecords", false));
        assert!(wildcard_match(
            "kinesis:Get?ecords",
            "kinesis:GetRecords",
            false
        ));
        assert!(wildcard_match("*", "", false));
        assert!(wildcard_match(
            "arn:aws:kinesis:*:*:stream/ord*",
            STREAM,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:kinesis:*:*:stream/o",
            STREAM,
            false
        ));
        assert!(wildcard_match("a*b*c", "aXXbYYbZc", false));
        assert!(!wildcard_match("a*b*c", "aXXbYYbZ", false));
    }

    #[test]
    fn an_empty_document_mentions_nothing() {
        let policy = Policy::parse("{}", true).expect("valid");
        assert_eq!(
            policy.evaluate(&request("kinesis:PutRecord", STREAM)),
            Verdict::NotMentioned
        );
    }

    #[test]
    fn explicit_deny_wins_over_allow() {
        let policy = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"kinesis:*","Resource":"*"},
                {"Effect":"Deny","Action":"kinesis:PutRecord","Resource":"arn:aws:kinesis:*:*:stream/orders"}
            ]}"#,
            false,
        )
        .expect("valid");
        assert_eq!(
            policy.evaluate(&request("kinesis:PutRecord", STREAM)),
            Verdict::Deny
        );
        assert_eq!(
            policy.evaluate(&request("kinesis:PutRecords", STREAM)),
            Verdict::Allow
        );
        let other = "arn:aws:kinesis:us-east-1:111122223333:stream/other";
        assert_eq!(
            policy.evaluate(&request("kinesis:PutRecord", other)),
            Verdict::Allow
        );
    }

    #[test]
    fn not_action_and_not_resource_invert() {
        let policy = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","NotResource":"arn:aws:kinesis:*:*:stream/secret"}}"#,
            false,
        )
        .expect("valid");
        assert_eq!(
            policy.evaluate(&request("kinesis:ListShards", STREAM)),
            Verdict::Allow
        );
        assert_eq!(
            policy.evaluate(&request("kinesis:DeleteStream", STREAM)),
            Verdict::NotMentioned
        );
        let secret = "arn:aws:kinesis:us-east-1:111122223333:stream/secret";
        assert_eq!(
            policy.evaluate(&request("kinesis:ListShards", secret)),
            Verdict::NotMentioned
        );
    }

    #[test]
    fn resource_policy_principals() {
        let policy = Policy::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root"]},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"*"}]}"#,
            true,
        )
        .expect("valid");
        let mut outsider = request("kinesis:GetRecords", STREAM);
        assert_eq!(policy.evaluate(&outsider), Verdict::NotMentioned);
        outsider.caller_account = "444455556666";
        outsider.caller_arn = "arn:aws:iam::444455556666:user/bob";
        assert_eq!(policy.evaluate(&outsider), Verdict::Allow);
    }

    #[test]
    fn what_is_not_evaluated_is_refused() {
        for (document, resource_policy, expected) in [
            ("[]", false, "JSON object"),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}]}"#,
                false,
                "\"Condition\"",
            ),
            (
                r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
                false,
                "Effect",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
                false,
                "needs Action or NotAction",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}]}"#,
                false,
                "not both",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                true,
                "needs a Principal",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
                false,
                "belongs in resource policies",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                false,
                "Version",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
                false,
                "must not be empty",
            ),
        ] {
            let err = Policy::parse(document, resource_policy).expect_err(document);
            assert!(err.to_string().contains(expected), "{document}: {err}");
        }
    }

    #[test]
    fn decisions_and_messages() {
        use Verdict::*;
        assert_eq!(decide(Allow, None, true), Ok(()));
        assert_eq!(decide(NotMentioned, Some(Allow), true), Ok(()));
        assert_eq!(
            decide(NotMentioned, None, true),
            Err(Refusal::NoIdentityPolicyAllows)
        );
        assert_eq!(
            decide(Allow, Some(Deny), true),
            Err(Refusal::ExplicitDenyInResourcePolicy)
        );
        assert_eq!(
            decide(Deny, Some(Allow), true),
            Err(Refusal::ExplicitDenyInIdentityPolicy)
        );
        assert_eq!(
            decide(Allow, None, false),
            Err(Refusal::NoResourcePolicyAllows)
        );
        assert_eq!(decide(Allow, Some(Allow), false), Ok(()));
        let message = denial_message(
            &request("kinesis:PutRecord", STREAM),
            Refusal::ExplicitDenyInIdentityPolicy,
        );
        assert_eq!(
            message,
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: \
             kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:111122223333:stream/orders \
             with an explicit deny in an identity-based policy"
        );
    }
}
