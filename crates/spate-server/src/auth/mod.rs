//! Who is calling: every request's SigV4 signature checked against the configured credentials,
//! before any service sees the request.
//!
//! Two modes, chosen at start from the configuration (see [`AuthMode::for_listener`]):
//! - **strict** whenever credentials are configured: the access key must be one of them (with
//!   its session token, if it has one), the signature must match its secret, and the request's
//!   date must be within five minutes of the server's clock;
//! - **any signature**, only on a loopback listener with no credentials configured (the local
//!   development default): a request must still carry a well-formed SigV4 signature, as every AWS
//!   client sends, but any key and secret are accepted.
//!
//! A listener that is not on loopback with no credentials configured is refused at start: it
//! would let anyone on the network write. The signature primitives live in `spate_wire::sigv4`;
//! this module owns the credentials and the mode.
//!
//! Authorization follows in strict mode ([`Caller::authorize`]): the key's policy and the
//! resource's policy (PutResourcePolicy) are evaluated with `spate_wire::policy`; an explicit
//! deny in either wins, and a request neither allows is refused with `AccessDeniedException`
//! in AWS's message shape. In any-signature mode there is no identity to authorize.

mod credentials;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use spate_wire::AwsError;
use spate_wire::policy::{self, Policy, Verdict};
use spate_wire::sigv4::verify::{check_signature, read_signature};
use spate_wire::sigv4::{AuthFailure, RequestParts};

pub use credentials::{CredentialSettings, Principal};

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Signatures are verified against the configured credentials.
    Strict,
    /// Any well-formed signature is accepted (loopback listener, no credentials configured).
    AnySignature,
}

impl AuthMode {
    /// The mode for a listener on `listen` with `credentials` configured; an error for a
    /// listener reachable from the network with no credentials.
    pub fn for_listener(
        listen: SocketAddr,
        credentials: &[CredentialSettings],
    ) -> Result<AuthMode, String> {
        if !credentials.is_empty() {
            return Ok(AuthMode::Strict);
        }
        if listen.ip().is_loopback() {
            return Ok(AuthMode::AnySignature);
        }
        Err(format!(
            "the listener {listen} is reachable from other machines, so requests must be \
             authenticated: configure credentials ([[auth.credentials]] in the configuration \
             file, or --access-key-id and --secret-access-key)"
        ))
    }
}

/// The caller a request was authenticated as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// The configured principal in strict mode; None when any signature is accepted.
    pub principal: Option<Arc<Principal>>,
}

/// The resource a request acts on, as authorization sees it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// `kinesis:PutRecord`.
    pub action: &'a str,
    /// The resource's ARN, or `*`.
    pub resource: &'a str,
    /// The account that owns the resource.
    pub resource_account: &'a str,
    /// The resource's own policy document, if it has one.
    pub resource_policy: Option<&'a str>,
}

impl Caller {
    /// The account of the caller's key; `None` without an identity (the server's account).
    pub fn account(&self) -> Option<&str> {
        self.principal
            .as_ref()
            .map(|principal| principal.account_id.as_str())
    }

    /// Authorizes `action` on a resource of `resource_account` that has no policy of its own:
    /// only a key with a policy has anything to check, so `resource` (which may read the
    /// request body for the ARN) runs only then.
    pub fn authorize_by_key_policy(
        &self,
        action: &str,
        resource_account: &str,
        resource: impl FnOnce() -> String,
    ) -> Result<(), AwsError> {
        let has_policy = self
            .principal
            .as_ref()
            .is_some_and(|principal| principal.policy.is_some());
        if !has_policy {
            return Ok(());
        }
        let resource = resource();
        self.authorize(&Target {
            action,
            resource: &resource,
            resource_account,
            resource_policy: None,
        })
    }

    /// Whether the caller may do `target`: always in any-signature mode; in strict mode as the
    /// key's policy and the resource's policy decide.
    pub fn authorize(&self, target: &Target<'_>) -> Result<(), AwsError> {
        let Some(principal) = &self.principal else {
            return Ok(());
        };
        let request = policy::Request {
            action: target.action,
            resource: target.resource,
            caller_arn: &principal.arn,
            caller_account: &principal.account_id,
        };
        let identity = principal
            .policy
            .as_ref()
            .map_or(Verdict::Allow, |policy| policy.evaluate(&request));
        let resource = match target.resource_policy {
            None => None,
            Some(document) => Some(
                Policy::parse(document, true)
                    .map_err(|err| {
                        AwsError::client(
                            "AccessDeniedException",
                            format!(
                                "The resource policy of {} cannot be evaluated: {err}",
                                target.resource
                            ),
                        )
                    })?
                    .evaluate(&request),
            ),
        };
        let same_account = principal.account_id == target.resource_account;
        policy::decide(identity, resource, same_account).map_err(|refusal| {
            AwsError::client(
                "AccessDeniedException",
                policy::denial_message(&request, refusal),
            )
        })
    }
}

/// Checks requests' signatures; shared by every request handler.
#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    principals: std::collections::HashMap<String, Arc<Principal>>,
}

impl Authenticator {
    /// An authenticator in `mode` knowing `credentials` (each given the account id
    /// `default_account_id` unless it names its own).
    pub fn new(
        mode: AuthMode,
        credentials: &[CredentialSettings],
        default_account_id: &str,
    ) -> Result<Authenticator, String> {
        let mut principals = std::collections::HashMap::new();
        for settings in credentials {
            let principal = Principal::from_settings(settings, default_account_id)?;
            if principals
                .insert(settings.access_key_id.clone(), Arc::new(principal))
                .is_some()
            {
                return Err(format!(
                    "access key {} is configured twice",
                    settings.access_key_id
                ));
            }
        }
        Ok(Authenticator { mode, principals })
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Authenticates a request to `service` (the SigV4 signing name, `kinesis`) whose body is
    /// `body`.
    pub fn authenticate(
        &self,
        request: &RequestParts<'_>,
        service: &str,
        body: &[u8],
    ) -> Result<Caller, AuthFailure> {
        let now = match self.mode {
            AuthMode::Strict => Some(now_epoch_seconds()),
            AuthMode::AnySignature => None,
        };
        let presented = read_signature(request, service, now)?;
        if self.mode == AuthMode::AnySignature {
            return Ok(Caller {
                access_key_id: presented.access_key_id,
                principal: None,
            });
        }
        let principal = self
            .principals
            .get(&presented.access_key_id)
            .ok_or(AuthFailure::UnrecognizedClient)?;
        if !principal.accepts_token(presented.security_token.as_deref()) {
            return Err(AuthFailure::UnrecognizedClient);
        }
        let key = principal.signing_key(&presented.scope_date, &presented.region, service);
        check_signature(request, &presented, body, &key)?;
        Ok(Caller {
            access_key_id: presented.access_key_id,
            principal: Some(Arc::clone(principal)),
        })
    }
}

fn now_epoch_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}
