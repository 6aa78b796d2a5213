//! The HTTP surface: one listener, requests routed to a service by `X-Amz-Target`, and the
//! Kinesis Video rest-json APIs by path ([`crate::video`]).
//!
//! The request's `Content-Type` picks the body encoding: CBOR (`application/x-amz-cbor-1.1`, the
//! Java SDKs' default for Kinesis) or awsJson 1.1 (everything else). The response, error or not,
//! is in the same encoding. Every response carries `x-amzn-RequestId` (and `x-amz-id-2`, which
//! the Java SDK reads for Kinesis); errors carry the AWS error type both in the body (`__type`,
//! which botocore reads) and in `x-amzn-ErrorType` (which other SDKs read). Targets of services
//! Spate does not serve yet answer `UnknownOperationException` naming the operation, never a
//! silent success.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use spate_streams::StreamsService;

use crate::accounts::Accounts;
use spate_wire::sigv4::RequestParts;
use spate_wire::{AwsError, Codec, MAX_JSON_BODY_BYTES, Target};

use crate::auth::{self, Authenticator, Caller};
use tracing::{Instrument, debug, debug_span, error, info};

use crate::limits;
use crate::video;

/// What request handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The Data Streams service of each hosted account.
    pub accounts: Arc<Accounts>,
    pub auth: Arc<Authenticator>,
}

/// The router of every path Spate serves.
pub fn router(state: AppState) -> Router {
    let router = Router::new().route(
        "/",
        post(aws_json).layer(axum::middleware::from_fn(limits::check_request_body)),
    );
    video::routes(router)
        .route("/health", get(health))
        .fallback(unknown_path)
        .with_state(state)
}

async fn health() -> &'static str {
    "ok"
}

async fn unknown_path(headers: HeaderMap) -> Response {
    let error = AwsError::client("UnknownOperationException", "Spate serves no such path.");
    let mut response = error_response(&error, request_codec(&headers), &request_id());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// The SigV4 signing name of Kinesis Data Streams.
const KINESIS_SIGNING_NAME: &str = "kinesis";

/// What authentication needs of a request besides its body.
pub(crate) struct RequestHead<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
}

impl RequestHead<'_> {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method.as_str(),
            path: self.uri.path(),
            query: self.uri.query().unwrap_or(""),
            headers: self.headers,
            authority: self.uri.authority().map(|authority| authority.as_str()),
        }
    }
}

/// Checks the request's signature for the service `signing_name`.
pub(crate) fn authenticate(
    state: &AppState,
    head: &RequestHead<'_>,
    signing_name: &str,
    body: &[u8],
) -> Result<Caller, AwsError> {
    state
        .auth
        .authenticate(&head.parts(), signing_name, body)
        .map_err(|failure| {
            debug!(code = failure.code(), "authentication failed");
            failure.to_aws()
        })
}

/// The service of the account a Data Streams call goes to (see [`Accounts::for_call`]), once
/// the caller is authorized for it (strict mode only: without a configured key there is no
/// identity to authorize).
fn kinesis_service<'a>(
    state: &'a AppState,
    caller: &Caller,
    operation: &str,
    body: &[u8],
    codec: Codec,
) -> Result<&'a Arc<StreamsService>, AwsError> {
    let caller_account = caller
        .principal
        .as_ref()
        .map(|principal| principal.account_id.as_str());
    let routed = state.accounts.for_call(caller_account, body, codec);
    let streams = routed.streams;
    let Some(principal) = &caller.principal else {
        return Ok(streams);
    };
    // A key without a policy may do everything in its own account, so unless some resource
    // may have a policy of its own, the body need not be read for the resource it names.
    if principal.policy.is_none()
        && principal.account_id == streams.account_id()
        && !streams.may_have_resource_policies()
    {
        return Ok(streams);
    }
    let action = format!("kinesis:{operation}");
    let resource = routed
        .resource
        .unwrap_or_else(|| streams.resource_arn_of_request(body, codec));
    let resource_policy = streams.resource_policy(&resource);
    caller.authorize(&auth::Target {
        action: &action,
        resource: &resource,
        // The account that owns the resource: the one whose service holds it.
        resource_account: streams.account_id(),
        resource_policy: resource_policy.as_deref(),
    })?;
    Ok(streams)
}

/// The Firehose service of the caller's account, once the caller is authorized for the
/// operation on the delivery stream the body names (strict mode only). Delivery streams have
/// no resource policies; a call is authorized by the key's own policy.
fn firehose_service<'a>(
    state: &'a AppState,
    caller: &Caller,
    operation: &str,
    body: &[u8],
    codec: Codec,
) -> Result<&'a Arc<spate_firehose::FirehoseService>, AwsError> {
    let firehose = state.accounts.firehose(caller.account()).ok_or_else(|| {
        AwsError::client(
            "UnknownOperationException",
            format!("Operation Firehose_20150804.{operation} is not served by this server."),
        )
    })?;
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "DeliveryStreamName")]
        name: Option<String>,
    }
    let action = format!("firehose:{operation}");
    caller.authorize_by_key_policy(&action, firehose.account_id(), || {
        codec
            .decode::<Named>(body)
            .ok()
            .and_then(|named| named.name)
            .map_or_else(
                || "*".to_owned(),
                |name| firehose.config().delivery_stream_arn(&name),
            )
    })?;
    Ok(firehose)
}

/// The Kinesis Data Analytics service of the caller's account, once the caller is authorized
/// for the operation on the application the body names (strict mode only). Applications have
/// no resource policies; a call is authorized by the key's own policy.
fn analytics_service<'a>(
    state: &'a AppState,
    caller: &Caller,
    operation: &str,
    body: &[u8],
    codec: Codec,
) -> Result<&'a Arc<spate_analytics::AnalyticsService>, AwsError> {
    let analytics = state.accounts.analytics(caller.account()).ok_or_else(|| {
        AwsError::client(
            "UnknownOperationException",
            format!(
                "Operation {}.{operation} is not served by this server.",
                spate_analytics::TARGET_PREFIX
            ),
        )
    })?;
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(rename = "ApplicationName")]
        name: Option<String>,
        #[serde(rename = "ResourceARN")]
        arn: Option<String>,
    }
    let action = format!("kinesisanalytics:{operation}");
    caller.authorize_by_key_policy(&action, analytics.account_id(), || {
        match codec.decode::<Named>(body).ok() {
            Some(Named { arn: Some(arn), .. }) => arn,
            Some(Named {
                name: Some(name), ..
            }) => analytics.application_arn(&name),
            _ => "*".to_owned(),
        }
    })?;
    Ok(analytics)
}

async fn aws_json(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = request_id();
    let target_header = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let codec = request_codec(&headers);
    // A debug span: at the default level it costs nothing per request (an enabled span is an
    // allocation in the subscriber's registry plus formatting its fields), and the events
    // worth seeing at info level carry the request id and target themselves.
    let span = debug_span!(
        "request",
        request_id = %request_id,
        target = target_header.as_deref().unwrap_or("-"),
        encoding = %codec
    );
    let head = RequestHead {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    async move {
        if target_header.as_deref() == Some(SUBSCRIBE_TO_SHARD) {
            return subscribe_to_shard(&state, &head, version, codec, body, &request_id).await;
        }
        let result = dispatch(&state, &head, target_header.as_deref(), codec, body).await;
        match result {
            Ok(body) => body_response(StatusCode::OK, body, codec, &request_id),
            Err(error) => {
                let target = target_header.as_deref().unwrap_or("-");
                if error.status >= 500 {
                    error!(
                        request_id = %request_id,
                        target,
                        code = error.code,
                        message = %error.message,
                        "request failed"
                    );
                } else {
                    debug!(code = error.code, message = %error.message, "request refused");
                }
                error_response(&error, codec, &request_id)
            }
        }
    }
    .instrument(span)
    .await
}

/// The body encoding a request's `Content-Type` names.
pub(crate) fn request_codec(headers: &HeaderMap) -> Codec {
    Codec::from_content_type(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok()),
    )
}

async fn dispatch(
    state: &AppState,
    head: &RequestHead<'_>,
    target_header: Option<&str>,
    codec: Codec,
    body: Body,
) -> Result<Vec<u8>, AwsError> {
    let target = Target::parse(target_header).map_err(|err| {
        AwsError::client(
            "UnknownOperationException",
            format!("Cannot route the request: {err}."),
        )
    })?;
    if target.prefix == spate_streams::TARGET_PREFIX {
        let body = read_body(body).await?;
        let caller = authenticate(state, head, KINESIS_SIGNING_NAME, &body)?;
        let streams = kinesis_service(state, &caller, target.operation, &body, codec)?;
        return match streams.handle(target.operation, &body, codec).await {
            Some(Ok(body)) => Ok(body),
            Some(Err(err)) => Err(err.to_aws()),
            None => Err(AwsError::unknown_operation(&format!(
                "{}.{}",
                target.prefix, target.operation
            ))),
        };
    }
    if target.prefix == spate_firehose::TARGET_PREFIX {
        let body = read_body(body).await?;
        let caller = authenticate(state, head, spate_firehose::SIGNING_NAME, &body)?;
        let firehose = firehose_service(state, &caller, target.operation, &body, codec)?;
        return firehose.handle(target.operation, &body, codec).await;
    }
    if target.prefix == spate_analytics::TARGET_PREFIX {
        let body = read_body(body).await?;
        let caller = authenticate(state, head, spate_analytics::SIGNING_NAME, &body)?;
        let analytics = analytics_service(state, &caller, target.operation, &body, codec)?;
        return analytics.handle(target.operation, &body, codec).await;
    }
    if target.prefix == spate_analytics::v2::TARGET_PREFIX {
        let body = read_body(body).await?;
        let caller = authenticate(state, head, spate_analytics::SIGNING_NAME, &body)?;
        let analytics = analytics_service(state, &caller, target.operation, &body, codec)?;
        return analytics.handle_v2(target.operation, &body, codec).await;
    }
    Err(AwsError::unknown_operation(&format!(
        "{}.{}",
        target.prefix, target.operation
    )))
}

/// The one operation whose response is an event stream rather than one JSON body.
const SUBSCRIBE_TO_SHARD: &str = "Kinesis_20131202.SubscribeToShard";

/// SubscribeToShard: errors before the stream starts are ordinary error responses; then a 200
/// whose body is the event-stream messages as the service produces them (HTTP/1.1 chunked or
/// HTTP/2 DATA frames, whichever the connection speaks).
async fn subscribe_to_shard(
    state: &AppState,
    head: &RequestHead<'_>,
    version: Version,
    codec: Codec,
    body: Body,
    request_id: &str,
) -> Response {
    let started = async {
        let body = read_body(body).await?;
        let caller = authenticate(state, head, KINESIS_SIGNING_NAME, &body)?;
        kinesis_service(state, &caller, "SubscribeToShard", &body, codec)?
            .subscribe(&body, codec)
            .await
            .map_err(|err| err.to_aws())
    }
    .await;
    let subscription = match started {
        Ok(subscription) => subscription,
        Err(error) => {
            debug!(code = error.code, message = %error.message, "subscription refused");
            return error_response(&error, codec, request_id);
        }
    };
    info!(http_version = ?version, "subscription started");
    let events = futures::stream::unfold(subscription, |mut subscription| async move {
        let message = subscription.next().await?;
        Some((Ok::<Bytes, std::convert::Infallible>(message), subscription))
    });
    let mut response = Response::new(Body::from_stream(events));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(spate_wire::eventstream::CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value.clone());
        headers.insert("x-amz-id-2", value);
    }
    response
}

pub(crate) async fn read_body(body: Body) -> Result<Bytes, AwsError> {
    axum::body::to_bytes(body, MAX_JSON_BODY_BYTES)
        .await
        .map_err(|err| {
            AwsError::serialization(format!(
                "The request body could not be read or exceeds {MAX_JSON_BODY_BYTES} bytes: {err}"
            ))
        })
}

pub(crate) fn body_response(
    status: StatusCode,
    body: Vec<u8>,
    codec: Codec,
    request_id: &str,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value.clone());
        headers.insert("x-amz-id-2", value);
    }
    response
}

pub(crate) fn error_response(error: &AwsError, codec: Codec, request_id: &str) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = body_response(status, error.to_body(codec), codec, request_id);
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error.code));
    response
}

/// A random request id in the UUID form AWS uses (8-4-4-4-12 hex digits), built in place: this
/// runs for every request.
pub(crate) fn request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let random: [u8; 16] = rand::random();
    let mut id = String::with_capacity(36);
    for (index, byte) in random.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        let groups: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        assert_ne!(id, request_id());
    }
}
