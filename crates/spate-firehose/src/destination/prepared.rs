//! What a batch for an S3 destination needs built from the destination's settings: its
//! processors (a compiled jq query, the Lambda mapping) and its record format conversion (a
//! parsed Glue schema). Built on the first batch of a stream's settings and kept while those
//! settings last, so that a stream with short buffers does not compile its query for every
//! buffer.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::DeliveryError;
use crate::config::FirehoseConfig;
use crate::convert::Conversion;
use crate::processing::Pipeline;
use crate::settings::S3Destination;

/// The processors and conversion of one S3 destination's settings.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) pipeline: Option<Pipeline>,
    pub(crate) conversion: Option<Conversion>,
}

/// Settings a stream had (its destination, its backup, older versions) and what was built
/// from them, a few per stream.
#[derive(Debug, Default)]
pub(crate) struct PreparedCache {
    by_stream: Mutex<BTreeMap<String, Vec<Kept>>>,
}

/// Settings and what was built from them.
type Kept = (S3Destination, Arc<Prepared>);

/// Settings kept per stream: a destination and its backup, and a version being replaced.
const KEPT_PER_STREAM: usize = 4;

impl PreparedCache {
    /// What `settings` of stream `name` need, built now if these settings are new.
    pub(crate) fn get(
        &self,
        name: &str,
        settings: &S3Destination,
        config: &FirehoseConfig,
    ) -> Result<Arc<Prepared>, DeliveryError> {
        if let Some(kept) = self.by_stream.lock().get(name)
            && let Some((_, prepared)) = kept.iter().find(|(seen, _)| seen == settings)
        {
            return Ok(Arc::clone(prepared));
        }
        let configuration =
            |err: crate::error::FirehoseError| DeliveryError::Configuration(err.to_string());
        let prepared = Arc::new(Prepared {
            pipeline: settings.pipeline(config).map_err(configuration)?,
            conversion: Conversion::from_settings(settings, config).map_err(configuration)?,
        });
        let mut by_stream = self.by_stream.lock();
        let kept = by_stream.entry(name.to_owned()).or_default();
        if kept.len() >= KEPT_PER_STREAM {
            kept.remove(0);
        }
        kept.push((settings.clone(), Arc::clone(&prepared)));
        Ok(prepared)
    }

    /// Forgets a deleted stream's settings.
    pub(crate) fn forget(&self, name: &str) {
        self.by_stream.lock().remove(name);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn with_prefix(prefix: &str) -> S3Destination {
        S3Destination {
            prefix: Some(prefix.to_owned()),
            ..S3Destination::default()
        }
    }

    #[test]
    fn settings_are_built_once_and_kept_while_they_last() {
        let cache = PreparedCache::default();
        let config = FirehoseConfig::default();
        let first = cache.get("s", &with_prefix("a/"), &config).expect("builds");
        let again = cache.get("s", &with_prefix("a/"), &config).expect("builds");
        assert!(
            Arc::ptr_eq(&first, &again),
            "equal settings share one build"
        );
        let other = cache.get("s", &with_prefix("b/"), &config).expect("builds");
        assert!(!Arc::ptr_eq(&first, &other));
        let elsewhere = cache.get("t", &with_prefix("a/"), &config).expect("builds");
        assert!(!Arc::ptr_eq(&first, &elsewhere), "per stream");
        for index in 0..KEPT_PER_STREAM {
            cache
                .get("s", &with_prefix(&format!("c{index}/")), &config)
                .expect("builds");
        }
        let rebuilt = cache.get("s", &with_prefix("a/"), &config).expect("builds");
        assert!(
            !Arc::ptr_eq(&first, &rebuilt),
            "only the latest few are kept"
        );
        cache.forget("s");
        assert!(!cache.by_stream.lock().contains_key("s"));
    }

    #[test]
    fn settings_that_cannot_be_built_are_a_configuration_error() {
        let cache = PreparedCache::default();
        let settings = S3Destination {
            processing_configuration: Some(json!({
                "Enabled": true,
                "Processors": [{"Type": "Lambda", "Parameters": [{
                    "ParameterName": "LambdaArn",
                    "ParameterValue": "arn:aws:lambda:us-east-1:123456789012:function:unmapped"
                }]}]
            })),
            ..S3Destination::default()
        };
        let err = cache
            .get("s", &settings, &FirehoseConfig::default())
            .expect_err("an unmapped function");
        assert!(
            matches!(&err, DeliveryError::Configuration(message) if message.contains("not mapped")),
            "{err}"
        );
    }
}
