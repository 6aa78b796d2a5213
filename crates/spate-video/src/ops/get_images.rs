//! GetImages (kinesis-video-archived-media): images of a stream's video at sampled times.
//!
//! Times: `StartTimestamp`, then every `SamplingInterval` ms up to `EndTimestamp` (inclusive);
//! without an interval, or with a range shorter than it, the one image at the start. The
//! range may span at most 300 s and the interval is at least 200 ms (the model's docs). Pages
//! hold at most 25 images ("Providing a MaxResults greater than this value will result in a
//! page size of 25"); `NextToken` is a sealed [`PageToken`] whose cursor is the index of the
//! next time.
//!
//! Each image: the video frame showing at the time, decoded by ffmpeg (`crate::images`), as
//! JPEG (`JPEGQuality` 1..100, default 80) or PNG, at the requested size; `NO_MEDIA` where
//! no frame shows, `MEDIA_ERROR` where the media cannot be decoded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::fragment_selector::{SELECTOR_TYPES, axis_of};
use crate::api::Validate;
use crate::error::VideoError;
use crate::images::{ImageFormat, ImageJob, ImageOutcome, SizeRequest, images_at};
use crate::service::{Call, VideoService};
use crate::tokens::{PageToken, TokenSealer, request_digest};

/// The longest time range (the model's docs: "more than 300 seconds" is refused).
pub const MAX_RANGE_MS: i64 = 300_000;
/// The shortest sampling interval (the model's docs).
pub const MIN_SAMPLING_INTERVAL_MS: i64 = 200;
/// The most images in one response (the model's docs).
pub const PAGE_SIZE: usize = 25;
/// JPEG quality without `FormatConfig`.
pub const DEFAULT_JPEG_QUALITY: u8 = 80;
/// Unverified: AWS documents no NextToken lifetime; an hour.
const TOKEN_MAX_AGE_MS: i64 = 3_600_000;
/// How much longer than the longest fragment a fragment is looked for before a time.
const LOOKBACK_SLACK_MS: i64 = 1_000;

const FORMATS: &[&str] = &["JPEG", "PNG"];
const FORMAT_CONFIG_KEYS: &[&str] = &["JPEGQuality"];
const GET_IMAGES_TOKEN_PATTERN: &str = "[a-zA-Z0-9+/]+={0,2}";
const FORMAT_CONFIG_VALUE_PATTERN: &str = "^[a-zA-Z_0-9]+";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub image_selector_type: Option<String>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub start_timestamp: Option<i64>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub end_timestamp: Option<i64>,
    pub sampling_interval: Option<i64>,
    pub format: Option<String>,
    pub format_config: Option<BTreeMap<String, String>>,
    pub width_pixels: Option<i64>,
    pub height_pixels: Option<i64>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::one_of(
            v,
            "imageSelectorType",
            &self.image_selector_type,
            true,
            SELECTOR_TYPES,
        );
        v.required("startTimestamp", &self.start_timestamp);
        v.required("endTimestamp", &self.end_timestamp);
        super::one_of(v, "format", &self.format, true, FORMATS);
        if let Some(config) = &self.format_config {
            v.collection_length("formatConfig", &format!("{config:?}"), config.len(), 1, 1);
            for (key, value) in config {
                v.one_of(&format!("formatConfig.{key}.key"), key, FORMAT_CONFIG_KEYS);
                super::string(
                    v,
                    &format!("formatConfig.{key}.value"),
                    &Some(value.clone()),
                    true,
                    (0, 256),
                    Some(FORMAT_CONFIG_VALUE_PATTERN),
                );
            }
        }
        super::range(v, "widthPixels", self.width_pixels, Some(1), Some(3840));
        super::range(v, "heightPixels", self.height_pixels, Some(1), Some(2160));
        super::range(v, "maxResults", self.max_results, Some(1), Some(100));
        super::string(
            v,
            "nextToken",
            &self.next_token,
            false,
            (1, 4096),
            Some(GET_IMAGES_TOKEN_PATTERN),
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub images: Vec<Image>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    /// Epoch seconds.
    pub time_stamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_content: Option<String>,
}

/// The sampled times of a request: start, start + interval, ... ≤ end; just the start
/// without an interval.
pub fn sample_times(start_ms: i64, end_ms: i64, interval_ms: Option<i64>) -> Vec<i64> {
    let Some(interval) = interval_ms.filter(|interval| *interval > 0) else {
        return vec![start_ms];
    };
    let mut times = Vec::new();
    let mut time = start_ms;
    while time <= end_ms {
        times.push(time);
        let Some(next) = time.checked_add(interval) else {
            break;
        };
        time = next;
    }
    times
}

/// The checks the model's docs describe beyond its shapes; the JPEG quality and range.
fn checked(request: &Request) -> Result<(ImageFormat, i64, i64), VideoError> {
    let (Some(start), Some(end)) = (request.start_timestamp, request.end_timestamp) else {
        return Err(VideoError::Internal("validated timestamps missing".into()));
    };
    // Unverified: AWS's wording of these refusals.
    if end < start {
        return Err(VideoError::InvalidArgument(
            "EndTimestamp must not be earlier than StartTimestamp.".into(),
        ));
    }
    if end - start > MAX_RANGE_MS {
        return Err(VideoError::InvalidArgument(
            "The range between StartTimestamp and EndTimestamp must not exceed 300 seconds.".into(),
        ));
    }
    if let Some(interval) = request.sampling_interval
        && interval < MIN_SAMPLING_INTERVAL_MS
    {
        return Err(VideoError::InvalidArgument(format!(
            "SamplingInterval must be at least {MIN_SAMPLING_INTERVAL_MS} milliseconds."
        )));
    }
    let format = match request.format.as_deref() {
        Some("PNG") => ImageFormat::Png,
        _ => {
            let quality = match request
                .format_config
                .as_ref()
                .and_then(|config| config.get("JPEGQuality"))
            {
                None => DEFAULT_JPEG_QUALITY,
                Some(text) => text
                    .parse::<u8>()
                    .ok()
                    .filter(|quality| (1..=100).contains(quality))
                    .ok_or_else(|| {
                        VideoError::InvalidArgument(format!(
                            "JPEGQuality {text:?} must be an integer from 1 to 100."
                        ))
                    })?,
            };
            ImageFormat::Jpeg { quality }
        }
    };
    Ok((format, start, end))
}

/// The request's members other than NextToken, for the token's digest.
fn canonical(request: &Request) -> Vec<u8> {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        request.stream_name,
        request.stream_arn,
        request.image_selector_type,
        request.start_timestamp,
        request.end_timestamp,
        request.sampling_interval,
        request.format,
        request.format_config,
        request.width_pixels,
        request.height_pixels,
        request.max_results,
    )
    .into_bytes()
}

/// The key NextTokens are sealed with.
pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    page(service, &service.sealer, request).await
}

/// One page of images, with NextTokens sealed by `sealer`.
pub async fn page(
    service: &VideoService,
    sealer: &TokenSealer,
    request: Request,
) -> Result<Response, VideoError> {
    let (format, start, end) = checked(&request)?;
    let (stream, logs) = crate::media::retained_stream(
        service,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let digest = request_digest(&canonical(&request));
    let now = service.now_ms();
    let first = match request.next_token.as_deref() {
        None => 0,
        Some(token) => {
            let invalid = || {
                VideoError::InvalidArgument(format!(
                    "NextToken {token} is not valid for this request."
                ))
            };
            let page =
                PageToken::open(sealer, token, now, TOKEN_MAX_AGE_MS).map_err(|_| invalid())?;
            if page.stream_created_ms != stream.created_ms || page.request_digest != digest {
                return Err(invalid());
            }
            usize::try_from(page.cursor).map_err(|_| invalid())?
        }
    };
    let mut times = sample_times(start, end, request.sampling_interval);
    // Unverified: MaxResults caps the images of the whole request ("the maximum number of
    // images to be returned by the API"), served in pages of at most 25.
    if let Some(max) = request
        .max_results
        .and_then(|max| usize::try_from(max).ok())
    {
        times.truncate(max);
    }
    let page_end = first.saturating_add(PAGE_SIZE).min(times.len());
    let page_times = times.get(first..page_end).unwrap_or_default();
    let dimension = |value: Option<i64>| value.and_then(|value| u32::try_from(value).ok());
    let job = ImageJob {
        ffmpeg: service.config().ffmpeg.clone(),
        axis: axis_of(request.image_selector_type.as_deref()),
        format,
        size: SizeRequest {
            width: dimension(request.width_pixels),
            height: dimension(request.height_pixels),
        },
        lookback_ms: i64::try_from(service.config().max_fragment_duration_ms)
            .unwrap_or(i64::MAX)
            .saturating_add(LOOKBACK_SLACK_MS),
    };
    let outcomes = images_at(&service.store, logs, &job, page_times).await?;
    let images = page_times
        .iter()
        .zip(outcomes)
        .map(|(&time, outcome)| {
            let (error, image_content) = match outcome {
                ImageOutcome::Image(content) => (None, Some(content)),
                ImageOutcome::NoMedia => (Some("NO_MEDIA"), None),
                ImageOutcome::MediaError => (Some("MEDIA_ERROR"), None),
            };
            Image {
                time_stamp: crate::model::epoch_seconds(time),
                error,
                image_content,
            }
        })
        .collect();
    let next_token = (page_end < times.len()).then(|| {
        PageToken {
            stream_created_ms: stream.created_ms,
            cursor: page_end as u64,
            request_digest: digest,
            issued_ms: now,
            range: None,
        }
        .seal(sealer)
    });
    Ok(Response { images, next_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_sampled_from_the_start_through_the_end() {
        assert_eq!(sample_times(1_000, 2_000, Some(400)), [1_000, 1_400, 1_800]);
        assert_eq!(sample_times(1_000, 1_800, Some(400)), [1_000, 1_400, 1_800]);
        assert_eq!(sample_times(1_000, 1_100, Some(400)), [1_000]);
        assert_eq!(sample_times(1_000, 9_000, None), [1_000]);
        assert_eq!(
            sample_times(i64::MAX - 1, i64::MAX, Some(200)),
            [i64::MAX - 1]
        );
    }

    #[test]
    fn members_follow_the_model() {
        let message = super::super::violations::<Request>(
            r#"{"StreamName":"cam","ImageSelectorType":"LOCAL","StartTimestamp":1,"Format":"GIF","MaxResults":101,"WidthPixels":0,"FormatConfig":{"Quality":"9"}}"#,
        )
        .expect("violations");
        for member in [
            "imageSelectorType",
            "endTimestamp",
            "format",
            "maxResults",
            "widthPixels",
            "formatConfig.Quality.key",
        ] {
            assert!(message.contains(member), "{member}: {message}");
        }
        assert!(
            super::super::violations::<Request>(
                r#"{"StreamName":"cam","ImageSelectorType":"PRODUCER_TIMESTAMP","StartTimestamp":1,"EndTimestamp":2,"Format":"JPEG","FormatConfig":{"JPEGQuality":"50"}}"#,
            )
            .is_none()
        );
    }

    fn request(body: &str) -> Request {
        serde_json::from_str(body).expect("request")
    }

    #[test]
    fn ranges_intervals_and_qualities_are_checked() {
        let base = r#""ImageSelectorType":"PRODUCER_TIMESTAMP","Format":"JPEG""#;
        let ok = request(&format!(
            r#"{{{base},"StartTimestamp":1,"EndTimestamp":301}}"#
        ));
        assert_eq!(
            checked(&ok).expect("300 s").0,
            ImageFormat::Jpeg {
                quality: DEFAULT_JPEG_QUALITY
            }
        );
        let long = request(&format!(
            r#"{{{base},"StartTimestamp":1,"EndTimestamp":301.001}}"#
        ));
        assert!(checked(&long).is_err());
        let backwards = request(&format!(
            r#"{{{base},"StartTimestamp":2,"EndTimestamp":1}}"#
        ));
        assert!(checked(&backwards).is_err());
        let fast = request(&format!(
            r#"{{{base},"StartTimestamp":1,"EndTimestamp":2,"SamplingInterval":199}}"#
        ));
        assert!(checked(&fast).is_err());
        for (quality, valid) in [("1", true), ("100", true), ("0", false), ("x", false)] {
            let body = format!(
                r#"{{{base},"StartTimestamp":1,"EndTimestamp":2,"FormatConfig":{{"JPEGQuality":"{quality}"}}}}"#
            );
            assert_eq!(checked(&request(&body)).is_ok(), valid, "{quality}");
        }
    }
}
