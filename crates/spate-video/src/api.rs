//! The operation table of the `kinesisvideo` rest-json API: every path Spate answers, the
//! operation it is, and its handler (a JSON body in, a JSON body out).
//!
//! The media, archived-media, signaling and WebRTC-storage paths are listed too, so that they
//! answer an error naming the operation rather than "no such path", until they are built.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::{AwsError, Codec};

use crate::error::VideoError;
use crate::ops;
use crate::service::{Call, VideoService};

/// The signing name of every Kinesis Video API in SigV4 credential scopes.
pub const SIGNING_NAME: &str = "kinesisvideo";

pub use spate_wire::validate::Validate;

/// Every `POST` path of the Kinesis Video APIs and its operation name.
pub const PATHS: &[(&str, &str)] = &[
    ("/createSignalingChannel", "CreateSignalingChannel"),
    ("/createStream", "CreateStream"),
    ("/deleteEdgeConfiguration", "DeleteEdgeConfiguration"),
    ("/deleteSignalingChannel", "DeleteSignalingChannel"),
    ("/deleteStream", "DeleteStream"),
    ("/describeEdgeConfiguration", "DescribeEdgeConfiguration"),
    (
        "/describeImageGenerationConfiguration",
        "DescribeImageGenerationConfiguration",
    ),
    (
        "/describeMappedResourceConfiguration",
        "DescribeMappedResourceConfiguration",
    ),
    (
        "/describeMediaStorageConfiguration",
        "DescribeMediaStorageConfiguration",
    ),
    (
        "/describeNotificationConfiguration",
        "DescribeNotificationConfiguration",
    ),
    ("/describeSignalingChannel", "DescribeSignalingChannel"),
    ("/describeStream", "DescribeStream"),
    (
        "/describeStreamStorageConfiguration",
        "DescribeStreamStorageConfiguration",
    ),
    ("/getDataEndpoint", "GetDataEndpoint"),
    (
        "/getSignalingChannelEndpoint",
        "GetSignalingChannelEndpoint",
    ),
    (
        "/listEdgeAgentConfigurations",
        "ListEdgeAgentConfigurations",
    ),
    ("/listSignalingChannels", "ListSignalingChannels"),
    ("/listStreams", "ListStreams"),
    ("/ListTagsForResource", "ListTagsForResource"),
    ("/listTagsForStream", "ListTagsForStream"),
    (
        "/startEdgeConfigurationUpdate",
        "StartEdgeConfigurationUpdate",
    ),
    ("/TagResource", "TagResource"),
    ("/tagStream", "TagStream"),
    ("/UntagResource", "UntagResource"),
    ("/untagStream", "UntagStream"),
    ("/updateDataRetention", "UpdateDataRetention"),
    (
        "/updateImageGenerationConfiguration",
        "UpdateImageGenerationConfiguration",
    ),
    (
        "/updateMediaStorageConfiguration",
        "UpdateMediaStorageConfiguration",
    ),
    (
        "/updateNotificationConfiguration",
        "UpdateNotificationConfiguration",
    ),
    ("/updateSignalingChannel", "UpdateSignalingChannel"),
    ("/updateStream", "UpdateStream"),
    (
        "/updateStreamStorageConfiguration",
        "UpdateStreamStorageConfiguration",
    ),
    // kinesis-video-media and kinesis-video-archived-media.
    ("/putMedia", "PutMedia"),
    ("/getMedia", "GetMedia"),
    ("/listFragments", "ListFragments"),
    ("/getMediaForFragmentList", "GetMediaForFragmentList"),
    ("/getHLSStreamingSessionURL", "GetHLSStreamingSessionURL"),
    ("/getDASHStreamingSessionURL", "GetDASHStreamingSessionURL"),
    ("/getClip", "GetClip"),
    ("/getImages", "GetImages"),
    // kinesis-video-signaling and kinesis-video-webrtc-storage: the WebRTC media path.
    ("/v1/get-ice-server-config", "GetIceServerConfig"),
    ("/v1/send-alexa-offer-to-master", "SendAlexaOfferToMaster"),
    ("/joinStorageSession", "JoinStorageSession"),
    ("/joinStorageSessionAsViewer", "JoinStorageSessionAsViewer"),
];

/// Operations of the WebRTC media path, refused by name.
const WEBRTC: &[&str] = &[
    "GetIceServerConfig",
    "SendAlexaOfferToMaster",
    "JoinStorageSession",
    "JoinStorageSessionAsViewer",
];

/// The error an operation Spate does not serve yet answers, before its body is read or its
/// signature checked; `None` for the control plane.
pub fn refusal(operation: &str) -> Option<AwsError> {
    WEBRTC.contains(&operation).then(|| {
        VideoError::NotSupported(format!(
            "{operation} (WebRTC media) is not supported by Spate yet."
        ))
        .to_aws()
    })
}

/// What an operation answers with a 200.
pub enum Reply {
    /// A JSON body.
    Json(Vec<u8>),
    /// A body streamed as it is produced (GetMedia and GetMediaForFragmentList: `video/webm`);
    /// a failure after the 200 is written into the stream itself (error tags), so the stream
    /// yields bytes only.
    Media {
        content_type: &'static str,
        body: BoxStream<'static, Bytes>,
    },
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Json(body) => f.debug_tuple("Json").field(&body.len()).finish(),
            Reply::Media { content_type, .. } => f
                .debug_struct("Media")
                .field("content_type", content_type)
                .finish_non_exhaustive(),
        }
    }
}

/// The operation a path is, if Spate answers it.
pub fn operation_of(path: &str) -> Option<&'static str> {
    PATHS
        .iter()
        .find(|(candidate, _)| *candidate == path)
        .map(|(_, operation)| *operation)
}

/// The member of an error body that carries the message: `message` for the WebRTC-storage
/// API's errors, `Message` for every other Kinesis Video error the model defines.
pub fn message_member(operation: &str) -> &'static str {
    if operation.starts_with("JoinStorageSession") {
        "message"
    } else {
        "Message"
    }
}

/// The HTTP status the `kinesisvideo` model gives an error raised outside this crate (by
/// authentication or authorization at the edge), if it differs from the awsJson default.
pub fn modeled_status(code: &str) -> Option<u16> {
    match code {
        "AccessDeniedException" | "NotAuthorizedException" => Some(401),
        _ => None,
    }
}

fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, VideoError> {
    // botocore sends no body at all for a call without members.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    Ok(spate_wire::validate::decode_request(Codec::Json, body)?)
}

fn encode<T: Serialize>(response: &T) -> Result<Vec<u8>, VideoError> {
    serde_json::to_vec(response).map_err(|err| VideoError::Internal(err.to_string()))
}

/// A streamed `video/webm` answer (GetMedia, GetMediaForFragmentList).
fn media_reply(body: BoxStream<'static, Bytes>) -> Reply {
    Reply::Media {
        content_type: crate::media::MEDIA_CONTENT_TYPE,
        body,
    }
}

macro_rules! operations {
    ($service:expr, $call:expr, $operation:expr, $body:expr,
     { $($name:literal => $module:ident),* $(,)? }) => {
        match $operation {
            $($name => Some(async {
                let request: ops::$module::Request = decode($body)?;
                let response = ops::$module::handle($service, $call, request).await?;
                encode(&response)
            }.await),)*
            _ => None,
        }
    };
}

impl VideoService {
    /// The ARN of the stream or channel a request body names (by ARN or by name), for
    /// authorization; `*` when it names none that exists.
    pub fn resource_arn_of_request(&self, body: &[u8]) -> String {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Named {
            #[serde(rename = "StreamARN")]
            stream_arn: Option<String>,
            #[serde(rename = "ChannelARN")]
            channel_arn: Option<String>,
            #[serde(rename = "ResourceARN")]
            resource_arn: Option<String>,
            stream_name: Option<String>,
            channel_name: Option<String>,
        }
        let Ok(named) = serde_json::from_slice::<Named>(body) else {
            return "*".to_owned();
        };
        if let Some(arn) = named
            .stream_arn
            .or(named.channel_arn)
            .or(named.resource_arn)
        {
            return arn;
        }
        let stream = named
            .stream_name
            .and_then(|name| self.stream(Some(&name), None).ok())
            .map(|(stream, _)| stream.arn);
        let channel = named
            .channel_name
            .and_then(|name| self.channel(Some(&name), None).ok())
            .map(|(channel, _)| channel.arn);
        stream.or(channel).unwrap_or_else(|| "*".to_owned())
    }

    /// The ARN of the stream named by `name` or `arn`, for authorization; `*` when none
    /// exists.
    pub fn stream_arn_or_any(&self, name: Option<&str>, arn: Option<&str>) -> String {
        match (name, arn) {
            (_, Some(arn)) => arn.to_owned(),
            (Some(name), None) => self
                .stream(Some(name), None)
                .map_or_else(|_| "*".to_owned(), |(stream, _)| stream.arn),
            (None, None) => "*".to_owned(),
        }
    }

    /// Runs the operation at `path`; a path that is no operation is `UnknownOperationException`.
    pub async fn handle(
        self: &Arc<Self>,
        path: &str,
        body: &[u8],
        call: &Call,
    ) -> Result<Reply, AwsError> {
        let Some(operation) = operation_of(path) else {
            return Err(AwsError::unknown_operation(path));
        };
        match self.run(operation, body, call).await {
            Ok(bytes) => Ok(bytes),
            Err(err) => {
                if err.is_server_fault() {
                    tracing::error!(operation, error = %err, "Video operation failed");
                }
                Err(err.to_aws())
            }
        }
    }

    async fn run(
        self: &Arc<Self>,
        operation: &'static str,
        body: &[u8],
        call: &Call,
    ) -> Result<Reply, VideoError> {
        if operation == "GetClip" {
            let request: ops::get_clip::Request = decode(body)?;
            return ops::get_clip::handle(self, call, request).await;
        }
        let served = operations!(self, call, operation, body, {
            "CreateSignalingChannel" => create_signaling_channel,
            "CreateStream" => create_stream,
            "DeleteSignalingChannel" => delete_signaling_channel,
            "DeleteStream" => delete_stream,
            "DescribeImageGenerationConfiguration" => describe_image_generation_configuration,
            "DescribeMappedResourceConfiguration" => describe_mapped_resource_configuration,
            "DescribeMediaStorageConfiguration" => describe_media_storage_configuration,
            "DescribeNotificationConfiguration" => describe_notification_configuration,
            "DescribeSignalingChannel" => describe_signaling_channel,
            "DescribeStream" => describe_stream,
            "DescribeStreamStorageConfiguration" => describe_stream_storage_configuration,
            "GetDASHStreamingSessionURL" => get_dash_streaming_session_url,
            "GetDataEndpoint" => get_data_endpoint,
            "GetHLSStreamingSessionURL" => get_hls_streaming_session_url,
            "GetImages" => get_images,
            "GetSignalingChannelEndpoint" => get_signaling_channel_endpoint,
            "ListFragments" => list_fragments,
            "ListSignalingChannels" => list_signaling_channels,
            "ListStreams" => list_streams,
            "ListTagsForResource" => list_tags_for_resource,
            "ListTagsForStream" => list_tags_for_stream,
            "TagResource" => tag_resource,
            "TagStream" => tag_stream,
            "UntagResource" => untag_resource,
            "UntagStream" => untag_stream,
            "UpdateDataRetention" => update_data_retention,
            "UpdateImageGenerationConfiguration" => update_image_generation_configuration,
            "UpdateMediaStorageConfiguration" => update_media_storage_configuration,
            "UpdateNotificationConfiguration" => update_notification_configuration,
            "UpdateSignalingChannel" => update_signaling_channel,
            "UpdateStream" => update_stream,
            "UpdateStreamStorageConfiguration" => update_stream_storage_configuration,
        });
        if let Some(result) = served {
            return result.map(Reply::Json);
        }
        match operation {
            "DescribeEdgeConfiguration" | "DeleteEdgeConfiguration" => {
                let request: ops::edge::Request = decode(body)?;
                Err(ops::edge::not_found(self, operation, &request))
            }
            "GetMedia" => {
                let request: ops::get_media::Request = decode(body)?;
                let body = ops::get_media::handle(self, call, request).await?;
                Ok(media_reply(body))
            }
            "GetMediaForFragmentList" => {
                let request: ops::get_media_for_fragment_list::Request = decode(body)?;
                let body = ops::get_media_for_fragment_list::handle(self, call, request).await?;
                Ok(media_reply(body))
            }
            "ListEdgeAgentConfigurations" => {
                let _: ops::edge::ListRequest = decode(body)?;
                Err(ops::edge::unsupported(operation))
            }
            "StartEdgeConfigurationUpdate" => Err(ops::edge::unsupported(operation)),
            operation => Err(VideoError::NotSupported(format!(
                "{operation} is not supported by Spate yet."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_one_operation() {
        let mut paths: Vec<&str> = PATHS.iter().map(|(path, _)| *path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), PATHS.len());
        assert_eq!(operation_of("/TagResource"), Some("TagResource"));
        assert_eq!(operation_of("/tagResource"), None);
        assert_eq!(message_member("JoinStorageSession"), "message");
        assert_eq!(message_member("CreateStream"), "Message");
        let refused = refusal("JoinStorageSession").expect("refused");
        assert_eq!(refused.code, "InvalidArgumentException");
        assert!(
            refused
                .message
                .contains("JoinStorageSession (WebRTC media) is not supported by Spate yet")
        );
        for served in [
            "CreateStream",
            "PutMedia",
            "ListFragments",
            "GetMedia",
            "GetMediaForFragmentList",
            "GetHLSStreamingSessionURL",
            "GetDASHStreamingSessionURL",
            "GetClip",
            "GetImages",
        ] {
            assert!(refusal(served).is_none(), "{served}");
        }
    }
}
