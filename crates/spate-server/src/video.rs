//! The Kinesis Video rest-json APIs: `POST /<operation>` paths (`/createStream`,
//! `/TagResource`, ...), authenticated with the signing name `kinesisvideo`, authorized as
//! `kinesisvideo:<Operation>` on the stream or channel the body names, answered with JSON or
//! with a rest-json error (`x-amzn-ErrorType` header, `{"Message": ...}` body, the model's
//! status). The data-plane and WebRTC paths answer an error naming their operation, before
//! their body is read, until they are built.

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use futures::stream::BoxStream;
use spate_video::api::Reply;
use spate_video::ingest::PutMediaParams;
use spate_video::{Call, VideoService};
use spate_wire::AwsError;
use std::sync::Arc;
use tracing::{Instrument, debug, debug_span, error};

use crate::auth::Caller;
use crate::http::{AppState, RequestHead, authenticate, read_body, request_id};
use crate::limits;

/// PutMedia's path: its body is a media stream, not a JSON document.
const PUT_MEDIA_PATH: &str = "/putMedia";

/// Adds a route for every Kinesis Video path.
pub(crate) fn routes(mut router: Router<AppState>) -> Router<AppState> {
    for (path, _) in spate_video::api::PATHS {
        if *path == PUT_MEDIA_PATH {
            // No body bound: PutMedia streams media for as long as the producer sends it.
            router = router.route(path, post(put_media));
            continue;
        }
        router = router.route(
            path,
            post(video).layer(axum::middleware::from_fn(limits::check_request_body)),
        );
    }
    // HLS and DASH players fetch playlists and segments with plain GETs that carry the
    // session token, and no signature.
    router
        .route("/hls/v1/{file}", get(playback))
        .route("/dash/v1/{file}", get(playback))
}

/// A player's GET of a playlist, manifest or segment; readable from any origin (browser
/// players run on pages of their own). The request names no account: the session's account
/// is the one whose key sealed its token (the server's own when none did, which refuses it).
async fn playback(State(state): State<AppState>, uri: Uri) -> Response {
    let query = uri.query().unwrap_or_default();
    let owner = state
        .accounts
        .all_video()
        .find(|video| video.seals_session_of(query))
        .or_else(|| state.accounts.video(None));
    let Some(video) = owner else {
        return (StatusCode::NOT_FOUND, "Video is not served here.\n").into_response();
    };
    let answer = video.playback(uri.path(), query).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The Video service of the caller's account, once the caller is authorized for the
/// operation on the resource the body names (strict mode with a key policy only).
fn video_service<'a>(
    state: &'a AppState,
    caller: &Caller,
    operation: &str,
    body: &[u8],
) -> Result<&'a Arc<VideoService>, AwsError> {
    let video = video_of_account(state, caller, operation)?;
    let action = format!("kinesisvideo:{operation}");
    caller.authorize_by_key_policy(&action, video.account_id(), || {
        video.resource_arn_of_request(body)
    })?;
    Ok(video)
}

/// The Video service of the caller's account.
fn video_of_account<'a>(
    state: &'a AppState,
    caller: &Caller,
    operation: &str,
) -> Result<&'a Arc<VideoService>, AwsError> {
    state.accounts.video(caller.account()).ok_or_else(|| {
        AwsError::client(
            "UnknownOperationException",
            format!("Operation {operation} is not served by this server."),
        )
    })
}

async fn video(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = request_id();
    let path = uri.path().to_owned();
    let operation = spate_video::api::operation_of(&path).unwrap_or("-");
    let span = debug_span!("request", request_id = %request_id, operation);
    let head = RequestHead {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    let result = async {
        if let Some(refusal) = spate_video::api::refusal(operation) {
            return Err(refusal);
        }
        let body = read_body(body).await?;
        let caller = authenticate(&state, &head, spate_video::SIGNING_NAME, &body)?;
        let video = video_service(&state, &caller, operation, &body)?;
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| uri.authority().map(|authority| authority.as_str()))
            .map(str::to_owned);
        video.handle(&path, &body, &Call { host }).await
    }
    .instrument(span)
    .await;
    match result {
        Ok(Reply::Json(body)) => json_response(StatusCode::OK, body, &request_id),
        Ok(Reply::Media { content_type, body }) => {
            streamed_response(content_type, body, &request_id)
        }
        Err(error) => error_response(operation, &error, &request_id),
    }
}

/// PutMedia: authenticated as the producer SDK signs it (the payload hash of the empty
/// string, or `UNSIGNED-PAYLOAD`: the body is still to come), then answered with a 200 whose
/// body streams acknowledgements while the media body arrives.
async fn put_media(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    const OPERATION: &str = "PutMedia";
    let request_id = request_id();
    let span = debug_span!("request", request_id = %request_id, operation = OPERATION);
    let head = RequestHead {
        method: &method,
        uri: &uri,
        headers: &headers,
    };
    let result = async {
        let caller = authenticate(&state, &head, spate_video::SIGNING_NAME, b"")?;
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let params = PutMediaParams {
            stream_name: text("x-amzn-stream-name"),
            stream_arn: text("x-amzn-stream-arn"),
            timecode_type: text("x-amzn-fragment-timecode-type"),
            producer_start: text("x-amzn-producer-start-timestamp"),
        };
        let video = video_of_account(&state, &caller, OPERATION)?;
        caller.authorize_by_key_policy("kinesisvideo:PutMedia", video.account_id(), || {
            video.stream_arn_or_any(params.stream_name.as_deref(), params.stream_arn.as_deref())
        })?;
        let body = body
            .into_data_stream()
            .map(|piece| piece.map_err(std::io::Error::other))
            .boxed();
        video
            .put_media(params, body)
            .await
            .map_err(|err| err.to_aws())
    }
    .instrument(span)
    .await;
    match result {
        Ok(acks) => streamed_response("application/json", acks, &request_id),
        Err(error) => error_response(OPERATION, &error, &request_id),
    }
}

/// A 200 whose body is sent as `body` produces it.
fn streamed_response(
    content_type: &'static str,
    body: BoxStream<'static, Bytes>,
    request_id: &str,
) -> Response {
    let mut response = Response::new(Body::from_stream(
        body.map(Ok::<_, std::convert::Infallible>),
    ));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}

/// A rest-json error: `x-amzn-ErrorType`, the model's status, the operation's message member.
fn error_response(operation: &str, error: &AwsError, request_id: &str) -> Response {
    if error.status >= 500 {
        error!(request_id = %request_id, operation, code = error.code, message = %error.message, "request failed");
    } else {
        debug!(request_id = %request_id, operation, code = error.code, message = %error.message, "request refused");
    }
    let member = spate_video::api::message_member(operation);
    let status = spate_video::api::modeled_status(error.code).unwrap_or(error.status);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, error.to_rest_json_body(member), request_id);
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error.code));
    response
}

fn json_response(status: StatusCode, body: Vec<u8>, request_id: &str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    response
}
