//! The `[video]` section: timings and limits of the Kinesis Video control plane.

use serde::Deserialize;

/// How the Video service behaves; defaults mirror AWS where AWS defines a value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VideoConfig {
    /// Region named in ARNs; filled by the server from `[streams]`.
    #[serde(skip)]
    pub region: String,
    /// Twelve-digit account id named in ARNs; filled by the server.
    #[serde(skip)]
    pub account_id: String,
    /// Whether the listener speaks TLS, for the scheme of data endpoints; filled by the server.
    #[serde(skip)]
    pub tls: bool,
    /// Whether AWS's per-stream rate quotas apply (PutMedia calls and data rate); filled by
    /// the server from `[streams.quotas] enabled` (`--quotas off`).
    #[serde(skip)]
    pub quotas: bool,
    /// How long a new stream or channel stays CREATING before it becomes ACTIVE.
    pub create_delay_ms: u64,
    /// How long a deleted stream or channel stays DELETING before it is gone.
    pub delete_delay_ms: u64,
    /// Video streams an account may have.
    pub stream_limit: usize,
    /// Signaling channels an account may have.
    pub channel_limit: usize,
    /// The base URL `GetDataEndpoint` answers (e.g. `https://video.example.com:4567`); empty:
    /// the scheme of the listener and the request's `Host`.
    pub data_endpoint: String,
    /// The largest fragment (cluster) PutMedia accepts, in bytes (error 4001 beyond).
    pub max_fragment_bytes: usize,
    /// The longest fragment PutMedia accepts, last block − first block (error 4002 beyond).
    pub max_fragment_duration_ms: u64,
    /// How often PutMedia sends an IDLE acknowledgement while no bytes arrive.
    pub idle_ack_interval_ms: u64,
    /// The ffmpeg program GetImages decodes frames with: a path, or a name looked up in `PATH`.
    pub ffmpeg: String,
}

impl Default for VideoConfig {
    fn default() -> VideoConfig {
        VideoConfig {
            region: "us-east-1".to_owned(),
            account_id: "000000000000".to_owned(),
            tls: false,
            quotas: true,
            create_delay_ms: 500,
            delete_delay_ms: 500,
            stream_limit: 10_000,
            channel_limit: 10_000,
            data_endpoint: String::new(),
            // AWS's documented limits: fragments of at most 50 MiB and (Unverified: the
            // documentation names both 10 s and 20 s) 10 seconds.
            max_fragment_bytes: 50 * 1024 * 1024,
            max_fragment_duration_ms: 10_000,
            // Unverified: AWS names no interval for IDLE acknowledgements.
            idle_ack_interval_ms: 3_000,
            ffmpeg: "ffmpeg".to_owned(),
        }
    }
}

impl VideoConfig {
    /// The base URL of the data endpoints, for a request that came with `host`.
    pub fn base_url(&self, host: Option<&str>) -> String {
        if !self.data_endpoint.is_empty() {
            return self.data_endpoint.trim_end_matches('/').to_owned();
        }
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", host.unwrap_or("127.0.0.1:4567"))
    }

    /// The ARN of a stream or channel (`kind` `stream` or `channel`) created at `created_ms`.
    pub fn arn(&self, kind: &str, name: &str, created_ms: i64) -> String {
        format!(
            "arn:aws:kinesisvideo:{}:{}:{kind}/{name}/{created_ms}",
            self.region, self.account_id
        )
    }

    /// The AWS-managed key streams are said to be encrypted with when no key is named.
    pub fn default_kms_key(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:alias/aws/kinesisvideo",
            self.region, self.account_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_prefers_the_configured_endpoint() {
        let mut config = VideoConfig::default();
        assert_eq!(config.base_url(Some("h:1")), "http://h:1");
        config.tls = true;
        assert_eq!(config.base_url(Some("h:1")), "https://h:1");
        config.data_endpoint = "https://video.example/".into();
        assert_eq!(config.base_url(Some("h:1")), "https://video.example");
    }
}
