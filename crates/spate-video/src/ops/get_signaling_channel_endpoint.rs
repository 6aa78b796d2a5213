//! GetSignalingChannelEndpoint: one endpoint per requested protocol, all Spate's own base URL
//! (`WSS` as `ws://` or `wss://`). The WebRTC media path behind them is not built yet: its
//! operations answer an error naming them.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

/// `SingleMasterChannelEndpointConfiguration`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    pub protocols: Option<Vec<String>>,
    pub role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ChannelARN")]
    pub channel_arn: Option<String>,
    pub single_master_channel_endpoint_configuration: Option<EndpointConfiguration>,
}

const PROTOCOLS: &[&str] = &["WSS", "HTTPS", "WEBRTC"];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "channelARN", &self.channel_arn, true);
        if let Some(config) = &self.single_master_channel_endpoint_configuration {
            let path = "singleMasterChannelEndpointConfiguration";
            if let Some(protocols) = &config.protocols {
                let rendered = format!("{protocols:?}");
                v.collection_length(
                    &format!("{path}.protocols"),
                    &rendered,
                    protocols.len(),
                    1,
                    5,
                );
                for (index, protocol) in protocols.iter().enumerate() {
                    v.one_of(
                        &format!("{path}.protocols.{}.member", index + 1),
                        protocol,
                        PROTOCOLS,
                    );
                }
            }
            super::one_of(
                v,
                &format!("{path}.role"),
                &config.role,
                false,
                &["MASTER", "VIEWER"],
            );
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    pub protocol: String,
    pub resource_endpoint: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub resource_endpoint_list: Vec<Endpoint>,
}

/// The endpoint of `protocol` on the base URL `base`.
pub fn endpoint_of(protocol: &str, base: &str) -> String {
    if protocol == "WSS" {
        if let Some(rest) = base.strip_prefix("https://") {
            return format!("wss://{rest}");
        }
        if let Some(rest) = base.strip_prefix("http://") {
            return format!("ws://{rest}");
        }
    }
    base.to_owned()
}

pub async fn handle(
    service: &VideoService,
    call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    service.active_channel(None, request.channel_arn.as_deref())?;
    let protocols = request
        .single_master_channel_endpoint_configuration
        .and_then(|config| config.protocols)
        // Unverified: what AWS answers when no protocol is requested.
        .unwrap_or_else(|| vec!["WSS".to_owned(), "HTTPS".to_owned()]);
    let base = service.config.base_url(call.host.as_deref());
    Ok(Response {
        resource_endpoint_list: protocols
            .into_iter()
            .map(|protocol| Endpoint {
                resource_endpoint: endpoint_of(&protocol, &base),
                protocol,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_endpoints_follow_the_scheme() {
        assert_eq!(endpoint_of("WSS", "http://h:1"), "ws://h:1");
        assert_eq!(endpoint_of("WSS", "https://h:1"), "wss://h:1");
        assert_eq!(endpoint_of("HTTPS", "https://h:1"), "https://h:1");
    }
}
