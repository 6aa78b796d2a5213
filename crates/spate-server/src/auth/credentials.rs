//! The configured credentials: an access key, its secret and optional session token, the account
//! it belongs to, and the signing keys derived from its secret, cached per day, region and
//! service so that a request costs one HMAC rather than five.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde::Deserialize;
use spate_wire::policy::Policy;
use spate_wire::sigv4::SigningKey;

/// Signing keys kept per principal before the cache is emptied (a day, region and service each).
const MAX_CACHED_KEYS: usize = 64;

/// One `[[auth.credentials]]` entry.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSettings {
    /// The access key id clients sign with (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Its secret (`AWS_SECRET_ACCESS_KEY`).
    pub secret_access_key: String,
    /// For temporary credentials: the token requests must carry (`X-Amz-Security-Token`).
    #[serde(default)]
    pub session_token: Option<String>,
    /// The 12-digit account the key belongs to; the server's `streams.account_id` if unset.
    #[serde(default)]
    pub account_id: Option<String>,
    /// The IAM user name in the caller's ARN (`arn:aws:iam::<account>:user/<name>`); the access
    /// key id if unset.
    #[serde(default)]
    pub user_name: Option<String>,
    /// The key's policy, an IAM JSON policy document (see `spate_wire::policy` for the grammar
    /// evaluated). Unset: the key may do everything in its account.
    #[serde(default)]
    pub policy: Option<String>,
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"..")
            .field("session_token", &self.session_token.as_ref().map(|_| ".."))
            .field("account_id", &self.account_id)
            .field("user_name", &self.user_name)
            .field("policy", &self.policy)
            .finish()
    }
}

/// A configured identity, ready to verify requests.
pub struct Principal {
    pub access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// The account whose resources the key acts on.
    pub account_id: String,
    /// `arn:aws:iam::<account>:user/<name>`.
    pub arn: String,
    /// What the key may do; None: everything in its account.
    pub policy: Option<Policy>,
    /// Signing keys by `date/region/service`.
    keys: Mutex<HashMap<String, SigningKey>>,
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl Principal {
    /// Checks `settings` and builds the principal.
    pub fn from_settings(
        settings: &CredentialSettings,
        default_account_id: &str,
    ) -> Result<Principal, String> {
        let key = &settings.access_key_id;
        if key.is_empty()
            || key.len() > 128
            || !key.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(format!(
                "access key id {key:?} must be 1 to 128 letters and digits"
            ));
        }
        if settings.secret_access_key.is_empty() {
            return Err(format!("access key {key} has an empty secret"));
        }
        let account_id = settings
            .account_id
            .clone()
            .unwrap_or_else(|| default_account_id.to_owned());
        if account_id.len() != 12 || !account_id.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format!(
                "account_id of access key {key} must be 12 digits, not {account_id:?}"
            ));
        }
        let user_name = settings.user_name.clone().unwrap_or_else(|| key.clone());
        let policy = settings
            .policy
            .as_deref()
            .map(|document| Policy::parse(document, false))
            .transpose()
            .map_err(|err| format!("the policy of access key {key}: {err}"))?;
        Ok(Principal {
            access_key_id: key.clone(),
            secret_access_key: settings.secret_access_key.clone(),
            session_token: settings.session_token.clone(),
            arn: format!("arn:aws:iam::{account_id}:user/{user_name}"),
            account_id,
            policy,
            keys: Mutex::new(HashMap::new()),
        })
    }

    /// Whether a request presenting `token` may use this key: a key with a session token needs
    /// exactly that token; one without accepts none.
    pub fn accepts_token(&self, token: Option<&str>) -> bool {
        match (&self.session_token, token) {
            (None, None) => true,
            // Digests compared, not the tokens: how long the comparison takes then says nothing
            // about how much of a guessed token was right.
            (Some(expected), Some(given)) => {
                let digest =
                    |text: &str| ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
                digest(expected).as_ref() == digest(given).as_ref()
            }
            _ => false,
        }
    }

    /// The signing key of one day (`YYYYMMDD`), region and service.
    pub fn signing_key(&self, date: &str, region: &str, service: &str) -> SigningKey {
        let scope = format!("{date}/{region}/{service}");
        let mut keys = self.keys.lock();
        if let Some(key) = keys.get(&scope) {
            return key.clone();
        }
        if keys.len() >= MAX_CACHED_KEYS {
            keys.clear();
        }
        let key = SigningKey::derive(&self.secret_access_key, date, region, service);
        keys.insert(scope, key.clone());
        key
    }
}
