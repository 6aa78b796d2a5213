//! TagResource, UntagResource and ListTagsForResource: an application's tags, named by its ARN
//! (`arn:aws:kinesisanalytics:<region>:<account>:application/<name>`). Tags are not part of
//! the application's configuration, so they do not change its version.

use spate_wire::Violations;

use crate::error::AnalyticsError;
use crate::model::Application;
use crate::service::AnalyticsService;

/// `KinesisAnalyticsARN`: 1-2048 characters starting with `arn:`.
pub fn resource_arn(v: &mut Violations, value: &Option<String>) {
    match value {
        None => v.required("resourceARN", value),
        Some(arn) => {
            v.string_length("resourceARN", arn, 1, 2048);
            v.pattern(
                "resourceARN",
                arn,
                "arn:aws:kinesisanalytics:[a-z]{2}-[a-z]{1,20}-[0-9]{1}:[0-9]{12}:application/.{1,128}",
                arn.starts_with("arn:aws:kinesisanalytics:"),
            );
        }
    }
}

/// The application an ARN names, if it is one of this account's.
fn application_of(
    service: &AnalyticsService,
    arn: &str,
) -> Result<std::sync::Arc<Application>, AnalyticsError> {
    let name = arn
        .strip_prefix("arn:aws:kinesisanalytics:")
        .and_then(|rest| rest.split_once(":application/"))
        .map(|(_, name)| name)
        .ok_or_else(|| {
            AnalyticsError::InvalidArgument(format!("{arn} is not an application ARN."))
        })?;
    if service.application_arn(name) != arn {
        return Err(AnalyticsError::ResourceNotFound(format!(
            "Application {arn} is not found: it is not of account {} in region {}.",
            service.config.account_id, service.config.region
        )));
    }
    service.existing(name)
}

pub mod tag_resource {
    use serde::Deserialize;
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::ops::{self, Empty, Tag};
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        #[serde(rename = "ResourceARN")]
        pub resource_arn: Option<String>,
        pub tags: Option<Vec<Tag>>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            super::resource_arn(v, &self.resource_arn);
            match &self.tags {
                None => v.required("tags", &self.tags),
                Some(tags) => ops::tags(v, "tags", tags),
            }
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        let arn = ops::required(&request.resource_arn);
        let _control = service.control.lock().await;
        let mut application = (*super::application_of(service, &arn)?).clone();
        ops::apply_tags(
            &mut application,
            request.tags.as_deref().unwrap_or_default(),
        )?;
        service.store(application).await?;
        Ok(Empty {})
    }
}

pub mod untag_resource {
    use serde::Deserialize;
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::ops::{self, Empty};
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        #[serde(rename = "ResourceARN")]
        pub resource_arn: Option<String>,
        pub tag_keys: Option<Vec<String>>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            super::resource_arn(v, &self.resource_arn);
            match &self.tag_keys {
                None => v.required("tagKeys", &self.tag_keys),
                Some(keys) => {
                    let rendered = format!("[{}]", keys.join(", "));
                    v.collection_length("tagKeys", &rendered, keys.len(), 1, 200);
                    for (index, key) in keys.iter().enumerate() {
                        v.string_length(&format!("tagKeys.{}.member", index + 1), key, 1, 128);
                    }
                }
            }
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Empty, AnalyticsError> {
        let arn = ops::required(&request.resource_arn);
        let _control = service.control.lock().await;
        let mut application = (*super::application_of(service, &arn)?).clone();
        for key in request.tag_keys.iter().flatten() {
            application.tags.remove(key);
        }
        service.store(application).await?;
        Ok(Empty {})
    }
}

pub mod list_tags_for_resource {
    use serde::Deserialize;
    use serde_json::{Value, json};
    use spate_wire::Violations;

    use crate::api::Validate;
    use crate::error::AnalyticsError;
    use crate::ops;
    use crate::service::AnalyticsService;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Request {
        #[serde(rename = "ResourceARN")]
        pub resource_arn: Option<String>,
    }

    impl Validate for Request {
        fn validate(&self, v: &mut Violations) {
            super::resource_arn(v, &self.resource_arn);
        }
    }

    pub async fn handle(
        service: &AnalyticsService,
        request: Request,
    ) -> Result<Value, AnalyticsError> {
        let arn = ops::required(&request.resource_arn);
        let application = super::application_of(service, &arn)?;
        let tags: Vec<Value> = application
            .tags
            .iter()
            .map(|(key, value)| json!({ "Key": key, "Value": value }))
            .collect();
        Ok(json!({ "Tags": tags }))
    }
}
