//! The client side: signs a request with one set of credentials for one region and service,
//! keeping the day's signing key so that a request costs two hashes and one HMAC, not five HMACs
//! more.

use std::sync::Mutex;
use std::time::SystemTime;

use super::canonical::{CanonicalRequest, write_signed_headers};
use super::{
    ALGORITHM, AmzDate, SigningKey, credential_scope, hex_str, payload_hash_hex, string_to_sign,
};

/// An access key, its secret, and the session token of temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"..")
            .field("session_token", &self.session_token.as_ref().map(|_| ".."))
            .finish()
    }
}

/// The headers a signed request adds to those it signed.
#[derive(Debug, Clone)]
pub struct SignedHeaders<'a> {
    pub x_amz_date: AmzDate,
    pub authorization: String,
    /// The session token, sent as `X-Amz-Security-Token` (and signed) when there is one.
    pub x_amz_security_token: Option<&'a str>,
}

/// Signs requests; cheap to share between tasks.
#[derive(Debug)]
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    /// The last day's date (`YYYYMMDD`) and its signing key.
    day_key: Mutex<Option<(String, SigningKey)>>,
}

impl Signer {
    pub fn new(credentials: Credentials, region: &str, service: &str) -> Self {
        Self {
            credentials,
            region: region.to_owned(),
            service: service.to_owned(),
            day_key: Mutex::new(None),
        }
    }

    /// The same credentials and region, signing for another service.
    pub fn for_service(&self, service: &str) -> Self {
        Self::new(self.credentials.clone(), &self.region, service)
    }

    /// Signs a request sent at `time`. `headers` are the headers to sign besides `x-amz-date` and
    /// `x-amz-security-token`, which the signer adds: lowercase names, `host` among them.
    pub fn sign(
        &self,
        time: SystemTime,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
    ) -> SignedHeaders<'_> {
        let amz_date = AmzDate::from_system_time(time);
        let token = self.credentials.session_token.as_deref();
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + 2);
        signed.extend_from_slice(headers);
        signed.push(("x-amz-date", amz_date.as_str()));
        if let Some(token) = token {
            signed.push(("x-amz-security-token", token));
        }
        signed.sort_by(|a, b| a.0.cmp(b.0));

        let payload_hash = payload_hash_hex(payload);
        let canonical = CanonicalRequest {
            method,
            path,
            query,
            headers: &signed,
            payload_hash: hex_str(&payload_hash),
        };
        let scope = credential_scope(amz_date.date(), &self.region, &self.service);
        let to_sign = string_to_sign(&amz_date, &scope, &canonical.hash_hex());
        let signature = self.day_key(amz_date.date()).sign(&to_sign);

        let mut signed_header_names = Vec::with_capacity(64);
        write_signed_headers(&signed, &mut signed_header_names);
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
            self.credentials.access_key_id,
            String::from_utf8_lossy(&signed_header_names),
            hex_str(&signature),
        );
        SignedHeaders {
            x_amz_date: amz_date,
            authorization,
            x_amz_security_token: token,
        }
    }

    /// The signing key of `date`, derived once per day.
    fn day_key(&self, date: &str) -> SigningKey {
        let mut cached = self
            .day_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((day, key)) = cached.as_ref()
            && day == date
        {
            return key.clone();
        }
        let key = SigningKey::derive(
            &self.credentials.secret_access_key,
            date,
            &self.region,
            &self.service,
        );
        *cached = Some((date.to_owned(), key.clone()));
        key
    }
}
