//! UpdateNotificationConfiguration: stores (or, without one, removes) a stream's notification
//! configuration. Spate sends no notifications, so `Status: ENABLED` is refused by name.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::NotificationConfiguration;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub notification_configuration: Option<NotificationConfiguration>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        if let Some(config) = &self.notification_configuration {
            let path = "notificationConfiguration";
            super::one_of(
                v,
                &format!("{path}.status"),
                &config.status,
                true,
                super::update_image_generation_configuration::STATUSES,
            );
            match &config.destination_config {
                None => v.required(
                    &format!("{path}.destinationConfig"),
                    &config.destination_config,
                ),
                Some(destination) => super::string(
                    v,
                    &format!("{path}.destinationConfig.uri"),
                    &destination.uri,
                    true,
                    (1, 255),
                    Some(super::DESTINATION_URI_PATTERN),
                ),
            }
        }
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    super::refuse_enabled(
        "UpdateNotificationConfiguration",
        request
            .notification_configuration
            .as_ref()
            .and_then(|config| config.status.as_deref()),
        "it sends no notifications",
    )?;
    service
        .update_stream(
            request.stream_name.as_deref(),
            request.stream_arn.as_deref(),
            &None,
            |stream| {
                stream.notification = request.notification_configuration;
                Ok(())
            },
        )
        .await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_uri_is_required_and_checked() {
        let message = crate::ops::violations::<Request>(
            r#"{"StreamName":"s","NotificationConfiguration":{"Status":"DISABLED"}}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'notificationConfiguration.destinationConfig' failed to satisfy constraint: Member must not be null"#), "{message}");
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s","NotificationConfiguration":{"Status":"OFF","DestinationConfig":{"Uri":"no-scheme"}}}"#).expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"StreamName":"s","NotificationConfiguration":{"Status":"DISABLED","DestinationConfig":{"Uri":"sns://topic"}}}"#
            ),
            None
        );
    }
}
