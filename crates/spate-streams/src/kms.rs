//! Spate's own key store, standing in for AWS KMS in server-side encryption.
//!
//! A key is a UUID with 256 bits of random key material. Callers name a key the four ways KMS
//! accepts: the key id (`1234abcd-12ab-34cd-56ef-1234567890ab`), the key ARN
//! (`arn:aws:kms:<region>:<account>:key/<id>`), an alias name (`alias/<name>`) or an alias ARN
//! (`arn:aws:kms:<region>:<account>:alias/<name>`). The AWS-managed alias `alias/aws/kinesis`
//! always exists; its key id is made on first start. Further keys and their aliases come from the
//! `[kms]` configuration section ([`KmsConfig`]); a key configured with `enabled = false` answers
//! `KMSDisabledException`, an unknown one `KMSNotFoundException`.
//!
//! Key material is generated on first use and kept in the metadata store under
//! `kms/material/<key id>` (32 raw bytes), so records stay readable across restarts; the id of the
//! AWS-managed key is kept under `kms/aws-managed/kinesis`. Material never leaves the server.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes256Gcm, Key};
use parking_lot::RwLock;
use serde::Deserialize;
use spate_meta::{Check, MetaStore, Outcome, Txn};

use crate::error::StreamsError;

/// The alias of the AWS-managed key for Kinesis, which every account has.
pub const AWS_MANAGED_ALIAS: &str = "alias/aws/kinesis";
const AWS_MANAGED_ID_KEY: &str = "kms/aws-managed/kinesis";
const MATERIAL_PREFIX: &str = "kms/material/";

/// The `[kms]` configuration section: keys besides the AWS-managed one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct KmsConfig {
    /// Customer-managed keys that StartStreamEncryption may name.
    pub keys: Vec<KeyConfig>,
}

/// One configured key.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The key id: a UUID such as `1234abcd-12ab-34cd-56ef-1234567890ab`.
    pub id: String,
    /// Alias names of the key, each `alias/<name>` (the `alias/aws/` prefix is AWS's own).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A disabled key cannot encrypt or decrypt (`KMSDisabledException`).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl KmsConfig {
    /// Checks ids and aliases once, at configuration load.
    pub fn validate(&self) -> Result<(), String> {
        let mut ids = std::collections::BTreeSet::new();
        let mut aliases = std::collections::BTreeSet::new();
        for key in &self.keys {
            if parse_key_id(&key.id).is_none() {
                return Err(format!(
                    "kms key id {:?} is not a UUID like 1234abcd-12ab-34cd-56ef-1234567890ab",
                    key.id
                ));
            }
            if !ids.insert(key.id.to_ascii_lowercase()) {
                return Err(format!("kms key id {} is configured twice", key.id));
            }
            for alias in &key.aliases {
                let name = alias.strip_prefix("alias/").unwrap_or_default();
                let valid = !name.is_empty()
                    && name.len() <= 250
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b));
                if !valid {
                    return Err(format!(
                        "kms alias {alias:?} must be alias/ followed by letters, digits, / _ -"
                    ));
                }
                if name.starts_with("aws/") {
                    return Err(format!(
                        "kms alias {alias} uses the reserved prefix alias/aws/"
                    ));
                }
                if !aliases.insert(alias.clone()) {
                    return Err(format!("kms alias {alias} is configured twice"));
                }
            }
        }
        Ok(())
    }
}

/// A key id as 16 bytes, the form records carry.
pub type KeyId = [u8; 16];

/// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, any case).
pub fn parse_key_id(text: &str) -> Option<KeyId> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    if lengths != [8, 4, 4, 4, 12] {
        return None;
    }
    let hex: String = groups.concat();
    let mut id = [0u8; 16];
    for (index, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(index * 2..index * 2 + 2)?, 16).ok()?;
    }
    Some(id)
}

/// The canonical lowercase text of a key id.
pub fn format_key_id(id: &KeyId) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A random version-4 UUID.
fn new_key_id() -> KeyId {
    let mut id: KeyId = rand::random();
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    id
}

#[derive(Debug, Clone, Copy)]
struct KeyState {
    enabled: bool,
}

/// Resolves key names and holds the ciphers of keys in use.
pub struct KeyStore {
    region: String,
    account_id: String,
    keys: BTreeMap<KeyId, KeyState>,
    aliases: BTreeMap<String, KeyId>,
    meta: Arc<dyn MetaStore>,
    ciphers: RwLock<HashMap<KeyId, Arc<Aes256Gcm>>>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.keys.len())
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// The configured keys plus the AWS-managed one (its id made on first start).
    pub async fn open(
        meta: Arc<dyn MetaStore>,
        config: &KmsConfig,
        region: &str,
        account_id: &str,
    ) -> Result<KeyStore, StreamsError> {
        config.validate().map_err(StreamsError::Internal)?;
        let managed = load_or_create(meta.as_ref(), AWS_MANAGED_ID_KEY, || {
            format_key_id(&new_key_id()).into_bytes()
        })
        .await?;
        let managed = std::str::from_utf8(&managed)
            .ok()
            .and_then(parse_key_id)
            .ok_or_else(|| {
                StreamsError::Internal("stored AWS-managed key id is unreadable".into())
            })?;
        let mut keys = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        keys.insert(managed, KeyState { enabled: true });
        aliases.insert(AWS_MANAGED_ALIAS.to_string(), managed);
        for key in &config.keys {
            let id = parse_key_id(&key.id).expect("validated above");
            keys.insert(
                id,
                KeyState {
                    enabled: key.enabled,
                },
            );
            for alias in &key.aliases {
                aliases.insert(alias.clone(), id);
            }
        }
        Ok(KeyStore {
            region: region.to_string(),
            account_id: account_id.to_string(),
            keys,
            aliases,
            meta,
            ciphers: RwLock::new(HashMap::new()),
        })
    }

    /// The ARN of a key of this store.
    pub fn key_arn(&self, id: &KeyId) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region,
            self.account_id,
            format_key_id(id)
        )
    }

    fn alias_arn(&self, alias: &str) -> String {
        format!("arn:aws:kms:{}:{}:{alias}", self.region, self.account_id)
    }

    /// The key a caller's `KeyId` names, if it exists and is enabled.
    pub fn resolve(&self, text: &str) -> Result<KeyId, StreamsError> {
        let local_prefix = format!("arn:aws:kms:{}:{}:", self.region, self.account_id);
        let (id, shown) = if let Some(resource) = text.strip_prefix(&local_prefix) {
            if let Some(key) = resource.strip_prefix("key/") {
                (parse_key_id(key), text.to_string())
            } else if resource.starts_with("alias/") {
                (self.aliases.get(resource).copied(), text.to_string())
            } else {
                (None, text.to_string())
            }
        } else if text.starts_with("alias/") {
            (self.aliases.get(text).copied(), self.alias_arn(text))
        } else if text.starts_with("arn:") {
            (None, text.to_string())
        } else {
            let id = parse_key_id(text);
            let shown = match id {
                Some(id) => self.key_arn(&id),
                None => text.to_string(),
            };
            (id, shown)
        };
        let is_alias =
            text.starts_with("alias/") || text.starts_with(&format!("{local_prefix}alias/"));
        let state = id.and_then(|id| self.keys.get(&id).map(|state| (id, *state)));
        match state {
            Some((id, state)) if state.enabled => Ok(id),
            Some((id, _)) => Err(StreamsError::KmsDisabled(format!(
                "{} is disabled.",
                self.key_arn(&id)
            ))),
            None if is_alias => Err(StreamsError::KmsNotFound(format!(
                "Alias {shown} is not found."
            ))),
            None => Err(StreamsError::KmsNotFound(format!(
                "Key '{shown}' does not exist"
            ))),
        }
    }

    /// Whether a key is known and enabled now (configuration may change across restarts).
    pub fn check_enabled(&self, id: &KeyId) -> Result<(), StreamsError> {
        match self.keys.get(id) {
            Some(state) if !state.enabled => Err(StreamsError::KmsDisabled(format!(
                "{} is disabled.",
                self.key_arn(id)
            ))),
            // A key removed from the configuration still decrypts what it encrypted: its
            // material stays in the metadata store.
            _ => Ok(()),
        }
    }

    /// The cipher of a key, its material loaded from or first made in the metadata store.
    pub async fn cipher(&self, id: &KeyId) -> Result<Arc<Aes256Gcm>, StreamsError> {
        if let Some(cipher) = self.ciphers.read().get(id) {
            return Ok(cipher.clone());
        }
        let meta_key = format!("{MATERIAL_PREFIX}{}", format_key_id(id));
        let material = load_or_create(self.meta.as_ref(), &meta_key, || {
            let material: [u8; 32] = rand::random();
            material.to_vec()
        })
        .await?;
        let material: [u8; 32] = material.as_slice().try_into().map_err(|_| {
            StreamsError::Internal(format!("stored material of key {meta_key} is not 32 bytes"))
        })?;
        let cipher = Arc::new(Aes256Gcm::new(&Key::<Aes256Gcm>::from(material)));
        self.ciphers.write().insert(*id, cipher.clone());
        Ok(cipher)
    }
}

/// The value under `key`, or `make()` stored there if it is absent (first writer wins).
async fn load_or_create(
    meta: &dyn MetaStore,
    key: &str,
    make: impl Fn() -> Vec<u8>,
) -> Result<Vec<u8>, StreamsError> {
    loop {
        if let Some(entry) = meta.get(key).await? {
            return Ok(entry.value);
        }
        let value = make();
        let txn = Txn::new()
            .check(Check::Absent(key.to_string()))
            .put(key, value.clone());
        match meta.commit(txn).await? {
            Outcome::Committed { .. } => return Ok(value),
            // Another node made it first: read theirs.
            Outcome::Conflict => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_meta::MemoryStore;

    const CUSTOMER: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const DISABLED: &str = "0000abcd-12ab-34cd-56ef-1234567890ab";

    fn config() -> KmsConfig {
        KmsConfig {
            keys: vec![
                KeyConfig {
                    id: CUSTOMER.into(),
                    aliases: vec!["alias/orders".into()],
                    enabled: true,
                },
                KeyConfig {
                    id: DISABLED.into(),
                    aliases: vec!["alias/old".into()],
                    enabled: false,
                },
            ],
        }
    }

    async fn store(meta: Arc<dyn MetaStore>) -> KeyStore {
        KeyStore::open(meta, &config(), "us-east-1", "000000000000")
            .await
            .expect("opens")
    }

    #[test]
    fn key_ids_round_trip() {
        let id = parse_key_id(CUSTOMER).expect("uuid");
        assert_eq!(format_key_id(&id), CUSTOMER);
        assert_eq!(parse_key_id(&CUSTOMER.to_uppercase()), Some(id));
        assert_eq!(parse_key_id("1234abcd12ab34cd56ef1234567890ab"), None);
        assert_eq!(parse_key_id("1234abcd-12ab-34cd-56ef-1234567890ag"), None);
        let fresh = format_key_id(&new_key_id());
        assert_eq!(
            parse_key_id(&fresh).map(|id| format_key_id(&id)),
            Some(fresh)
        );
    }

    #[tokio::test]
    async fn resolves_ids_arns_and_aliases() {
        let store = store(Arc::new(MemoryStore::new())).await;
        let id = parse_key_id(CUSTOMER).expect("uuid");
        let arn = format!("arn:aws:kms:us-east-1:000000000000:key/{CUSTOMER}");
        for name in [
            CUSTOMER,
            arn.as_str(),
            "alias/orders",
            "arn:aws:kms:us-east-1:000000000000:alias/orders",
        ] {
            assert_eq!(store.resolve(name).expect(name), id);
        }
        let managed = store.resolve(AWS_MANAGED_ALIAS).expect("always exists");
        assert_eq!(
            store
                .resolve(&format!(
                    "arn:aws:kms:us-east-1:000000000000:{AWS_MANAGED_ALIAS}"
                ))
                .expect("alias arn"),
            managed
        );
    }

    #[tokio::test]
    async fn unknown_and_disabled_keys_are_kms_errors() {
        let store = store(Arc::new(MemoryStore::new())).await;
        let missing = "ffffffff-12ab-34cd-56ef-1234567890ab";
        match store.resolve(missing) {
            Err(StreamsError::KmsNotFound(message)) => assert_eq!(
                message,
                format!("Key 'arn:aws:kms:us-east-1:000000000000:key/{missing}' does not exist")
            ),
            other => panic!("{other:?}"),
        }
        match store.resolve("alias/nope") {
            Err(StreamsError::KmsNotFound(message)) => assert_eq!(
                message,
                "Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found."
            ),
            other => panic!("{other:?}"),
        }
        for name in [
            "not-a-key",
            "arn:aws:kms:eu-west-1:000000000000:alias/orders",
            "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ] {
            assert!(
                matches!(store.resolve(name), Err(StreamsError::KmsNotFound(_))),
                "{name}"
            );
        }
        assert!(matches!(
            store.resolve("alias/old"),
            Err(StreamsError::KmsDisabled(_))
        ));
    }

    #[tokio::test]
    async fn material_and_managed_id_survive_a_reopen() {
        use aes_gcm::aead::Aead;
        let meta: Arc<dyn MetaStore> = Arc::new(MemoryStore::new());
        let first = store(meta.clone()).await;
        let managed = first.resolve(AWS_MANAGED_ALIAS).expect("exists");
        let nonce = aes_gcm::Nonce::from([0u8; 12]);
        let sealed = first
            .cipher(&managed)
            .await
            .expect("made")
            .encrypt(&nonce, b"hello".as_slice())
            .expect("encrypts");

        let second = store(meta).await;
        assert_eq!(second.resolve(AWS_MANAGED_ALIAS).expect("exists"), managed);
        let opened = second
            .cipher(&managed)
            .await
            .expect("loaded")
            .decrypt(&nonce, sealed.as_slice())
            .expect("same material");
        assert_eq!(opened, b"hello");
    }

    #[test]
    fn configuration_is_checked() {
        assert!(config().validate().is_ok());
        let bad = |id: &str, alias: &str| KmsConfig {
            keys: vec![KeyConfig {
                id: id.into(),
                aliases: vec![alias.into()],
                enabled: true,
            }],
        };
        assert!(bad("nope", "alias/a").validate().is_err());
        assert!(bad(CUSTOMER, "orders").validate().is_err());
        assert!(bad(CUSTOMER, "alias/aws/kinesis").validate().is_err());
        let mut twice = config();
        twice.keys[1].aliases = vec!["alias/orders".into()];
        assert!(twice.validate().is_err());
    }
}
