//! StartDeliveryStreamEncryption: records put from now on are stored sealed with AES-256-GCM
//! (see `crypto`). Only DirectPut streams, as on AWS. The status goes to ENABLED at once.

use std::sync::Arc;

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::{DeliveryStreamMeta, Encryption, StreamType};
use crate::service::FirehoseService;

const KEY_ARN_PATTERN: &str =
    "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+";

/// `DeliveryStreamEncryptionConfigurationInput`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionInput {
    #[serde(rename = "KeyARN")]
    pub key_arn: Option<String>,
    pub key_type: Option<String>,
}

fn is_key_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:") else {
        return false;
    };
    let Some((_, rest)) = rest.split_once(":kms:") else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(region), Some(account), Some(resource)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let name = resource
        .strip_prefix("key/")
        .or_else(|| resource.strip_prefix("alias/"));
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name.is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
        })
}

impl EncryptionInput {
    pub fn validate(&self, v: &mut Violations, path: &str) {
        if let Some(arn) = &self.key_arn {
            let member = format!("{path}.keyARN");
            v.string_length(&member, arn, 1, 512);
            v.pattern(&member, arn, KEY_ARN_PATTERN, is_key_arn(arn));
        }
        let member = format!("{path}.keyType");
        match &self.key_type {
            None => v.required(&member, &self.key_type),
            Some(kind) => v.one_of(&member, kind, &["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
        }
    }

    /// The encryption settings it asks for, with AWS's rules on KeyARN and KeyType.
    pub fn to_encryption(&self, _service: &FirehoseService) -> Result<Encryption, FirehoseError> {
        match (self.key_type.as_deref(), &self.key_arn) {
            (Some("CUSTOMER_MANAGED_CMK"), None) => Err(FirehoseError::InvalidArgument(
                "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.".into(),
            )),
            (Some("AWS_OWNED_CMK"), Some(_)) => Err(FirehoseError::InvalidArgument(
                "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.".into(),
            )),
            (key_type, key_arn) => Ok(Encryption {
                enabled: true,
                key_type: key_type.map(str::to_owned),
                key_arn: key_arn.clone(),
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub delivery_stream_encryption_configuration_input: Option<EncryptionInput>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        if let Some(input) = &self.delivery_stream_encryption_configuration_input {
            input.validate(v, "deliveryStreamEncryptionConfigurationInput");
        }
    }
}

pub async fn handle(
    service: &Arc<FirehoseService>,
    request: Request,
) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let input = request
        .delivery_stream_encryption_configuration_input
        .unwrap_or(EncryptionInput {
            key_arn: None,
            key_type: Some("AWS_OWNED_CMK".into()),
        });
    let encryption = input.to_encryption(service)?;
    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    if stream.stream_type != StreamType::DirectPut {
        return Err(FirehoseError::InvalidArgument(format!(
            "Firehose {name} has source type {}; server-side encryption applies to DirectPut streams only.",
            stream.stream_type.model_name()
        )));
    }
    service.data_key(name, true).await?;
    service
        .store(DeliveryStreamMeta {
            encryption,
            ..(*stream).clone()
        })
        .await?;
    Ok(Empty {})
}
