//! UpdateImageGenerationConfiguration: stores (or, without one, removes) a stream's image
//! generation configuration. Spate delivers no images in the background, so a configuration
//! with `Status: ENABLED` is refused by name; GetImages serves images on request.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::ImageGenerationConfiguration;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub image_generation_configuration: Option<ImageGenerationConfiguration>,
}

pub const STATUSES: &[&str] = &["ENABLED", "DISABLED"];
pub const DESTINATION_REGION_PATTERN: &str = "^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$";

fn validate_configuration(v: &mut Violations, path: &str, config: &ImageGenerationConfiguration) {
    super::one_of(v, &format!("{path}.status"), &config.status, true, STATUSES);
    super::one_of(
        v,
        &format!("{path}.imageSelectorType"),
        &config.image_selector_type,
        true,
        &["SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"],
    );
    let destination_path = format!("{path}.destinationConfig");
    match &config.destination_config {
        None => v.required(&destination_path, &config.destination_config),
        Some(destination) => {
            super::string(
                v,
                &format!("{destination_path}.uri"),
                &destination.uri,
                true,
                (1, 255),
                Some(super::DESTINATION_URI_PATTERN),
            );
            super::string(
                v,
                &format!("{destination_path}.destinationRegion"),
                &destination.destination_region,
                true,
                (9, 14),
                Some(DESTINATION_REGION_PATTERN),
            );
        }
    }
    v.required(
        &format!("{path}.samplingInterval"),
        &config.sampling_interval,
    );
    super::one_of(
        v,
        &format!("{path}.format"),
        &config.format,
        true,
        &["JPEG", "PNG"],
    );
    if let Some(format_config) = &config.format_config {
        let format_path = format!("{path}.formatConfig");
        v.collection_length(
            &format_path,
            &format!("{format_config:?}"),
            format_config.len(),
            1,
            1,
        );
        for (key, value) in format_config {
            v.one_of(&format!("{format_path}.{key}.key"), key, &["JPEGQuality"]);
            super::string(
                v,
                &format!("{format_path}.{key}.value"),
                &Some(value.clone()),
                true,
                (0, 256),
                Some("^[a-zA-Z_0-9]+"),
            );
        }
    }
    super::range(
        v,
        &format!("{path}.widthPixels"),
        config.width_pixels,
        Some(1),
        Some(3840),
    );
    super::range(
        v,
        &format!("{path}.heightPixels"),
        config.height_pixels,
        Some(1),
        Some(2160),
    );
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        if let Some(config) = &self.image_generation_configuration {
            validate_configuration(v, "imageGenerationConfiguration", config);
        }
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    super::refuse_enabled(
        "UpdateImageGenerationConfiguration",
        request
            .image_generation_configuration
            .as_ref()
            .and_then(|config| config.status.as_deref()),
        "it delivers no images in the background (use GetImages)",
    )?;
    service
        .update_stream(
            request.stream_name.as_deref(),
            request.stream_arn.as_deref(),
            &None,
            |stream| {
                stream.image_generation = request.image_generation_configuration;
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
    fn configuration_members_are_checked() {
        let request: Request = serde_json::from_str(
            r#"{"StreamName":"s","ImageGenerationConfiguration":{"Status":"DISABLED",
                "ImageSelectorType":"SERVER_TIMESTAMP","SamplingInterval":3000,"Format":"GIF",
                "DestinationConfig":{"Uri":"s3://b/p","DestinationRegion":"us-east-1"},
                "WidthPixels":4000}}"#,
        )
        .expect("json");
        let mut v = Violations::new();
        request.validate(&mut v);
        let message = v.finish().expect_err("invalid").message();
        assert!(message.starts_with("2 validation errors"), "{message}");
        assert!(message.contains("imageGenerationConfiguration.format"));
        assert!(message.contains("imageGenerationConfiguration.widthPixels"));
    }
}
