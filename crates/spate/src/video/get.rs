//! `spate video get STREAM`: GetMedia from a start selector, written to stdout or a file: by
//! default merged into one playable MKV (`spate_mkv::Merger`: one header, the AWS tags dropped,
//! as AWS's OutputSegmentMerger does), or with `--raw` the chunk stream exactly as the service
//! sent it (one segment per fragment, wrapped in `AWS_KINESISVIDEO_*` tags). The service ends
//! the answer a few seconds after the last fragment, or after error tags
//! (`AWS_KINESISVIDEO_ERROR_CODE`): then the output so far is kept and the exit status is
//! non-zero.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use bytes::BytesMut;
use http_body_util::BodyExt;
use spate_mkv::{Event, Merger, Splitter, SplitterConfig, tags};

use super::client::{ClientArgs, StreamRef, VideoClient};

/// GetMedia's `StartSelectorType` values.
const SELECTOR_TYPES: [&str; 6] = [
    "EARLIEST",
    "NOW",
    "FRAGMENT_NUMBER",
    "SERVER_TIMESTAMP",
    "PRODUCER_TIMESTAMP",
    "CONTINUATION_TOKEN",
];

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The stream's name (or ARN).
    pub stream: String,
    /// Where to start: EARLIEST, NOW, FRAGMENT_NUMBER, SERVER_TIMESTAMP, PRODUCER_TIMESTAMP or
    /// CONTINUATION_TOKEN.
    #[arg(long, default_value = "EARLIEST", value_name = "TYPE")]
    pub start_selector: String,
    /// With FRAGMENT_NUMBER: start after this fragment.
    #[arg(long, value_name = "N")]
    pub after_fragment_number: Option<String>,
    /// With SERVER_TIMESTAMP or PRODUCER_TIMESTAMP: epoch seconds.
    #[arg(long, value_name = "SECONDS")]
    pub start_timestamp: Option<f64>,
    /// With CONTINUATION_TOKEN: the token (a chunk's AWS_KINESISVIDEO_CONTINUATION_TOKEN).
    #[arg(long, value_name = "T")]
    pub continuation_token: Option<String>,
    /// Write the chunks as the service sent them instead of one merged MKV.
    #[arg(long)]
    pub raw: bool,
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// GetMedia's request body.
pub fn request_body(args: &GetArgs) -> anyhow::Result<serde_json::Value> {
    let kind = args.start_selector.to_ascii_uppercase();
    if !SELECTOR_TYPES.contains(&kind.as_str()) {
        bail!(
            "--start-selector {:?} is not one of {}",
            args.start_selector,
            SELECTOR_TYPES.join(", ")
        );
    }
    let mut selector = serde_json::json!({ "StartSelectorType": kind });
    let needs = |flag: &str, given: bool| -> anyhow::Result<()> {
        if !given {
            bail!("--start-selector {kind} needs {flag}");
        }
        Ok(())
    };
    match kind.as_str() {
        "FRAGMENT_NUMBER" => needs(
            "--after-fragment-number",
            args.after_fragment_number.is_some(),
        )?,
        "SERVER_TIMESTAMP" | "PRODUCER_TIMESTAMP" => {
            needs("--start-timestamp", args.start_timestamp.is_some())?;
        }
        "CONTINUATION_TOKEN" => needs("--continuation-token", args.continuation_token.is_some())?,
        _ => {}
    }
    if let Some(number) = &args.after_fragment_number {
        selector["AfterFragmentNumber"] = number.clone().into();
    }
    if let Some(seconds) = args.start_timestamp {
        // Unverified: fractional epoch seconds are taken as such (botocore sends whole ones).
        selector["StartTimestamp"] = seconds.into();
    }
    if let Some(token) = &args.continuation_token {
        selector["ContinuationToken"] = token.clone().into();
    }
    let mut body = serde_json::json!({ "StartSelector": selector });
    match StreamRef::parse(&args.stream) {
        StreamRef::Name(name) => body["StreamName"] = name.into(),
        StreamRef::Arn(arn) => body["StreamARN"] = arn.into(),
    }
    Ok(body)
}

pub fn run(args: GetArgs) -> anyhow::Result<ExitCode> {
    let client = VideoClient::new(&args.client)?;
    let body = serde_json::to_vec(&request_body(&args)?).context("encoding the request")?;
    let mut output: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(LazyFile {
            path: path.clone(),
            file: None,
        }),
        None => Box::new(std::io::stdout()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(get(&client, body, args.raw, &mut output));
    output.flush().context("writing the output")?;
    if let (Ok(None), Some(path)) = (&result, &args.output)
        && !path.exists()
    {
        // An answer without fragments still makes its (empty) file.
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    }
    match result? {
        None => Ok(ExitCode::SUCCESS),
        Some(message) => {
            eprintln!("spate video get: GetMedia failed: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `--output FILE`, created at the first write: a refused call leaves no file behind.
#[derive(Debug)]
struct LazyFile {
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl Write for LazyFile {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let file = std::fs::File::create(&self.path).map_err(|err| {
                    std::io::Error::new(
                        err.kind(),
                        format!("creating {}: {err}", self.path.display()),
                    )
                })?;
                self.file.insert(std::io::BufWriter::new(file))
            }
        };
        file.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

/// Streams GetMedia's answer into `output`; answers the error of a refused call.
async fn get(
    client: &VideoClient,
    body: Vec<u8>,
    raw: bool,
    output: &mut dyn Write,
) -> anyhow::Result<Option<String>> {
    let request = client.get_media_request(SystemTime::now(), body)?;
    let response = client.send(request).await?;
    if !response.status().is_success() {
        return Ok(Some(super::client::error_message(response).await));
    }
    let mut merger = (!raw).then(|| Merger::new(SplitterConfig::default()));
    let mut merged = BytesMut::new();
    let mut watch = ErrorWatch::default();
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading GetMedia's answer")?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        watch.push(&data);
        match &mut merger {
            None => output.write_all(&data),
            Some(merger) => {
                merger
                    .push(&data, &mut merged)
                    .context("GetMedia's answer is not valid MKV")?;
                output.write_all(&merged.split())
            }
        }
        .context("writing the output")?;
    }
    if let Some(merger) = &mut merger {
        merger
            .finish(&mut merged)
            .context("GetMedia's answer ends inside an element")?;
        output.write_all(&merged).context("writing the output")?;
    }
    Ok(watch
        .error
        .map(|error| format!("the stream ended with an error: {error}")))
}

/// Watches the chunk stream for the Tags that end it on a failure
/// (`AWS_KINESISVIDEO_ERROR_CODE`, `AWS_KINESISVIDEO_ERROR_ID`), which the merged output drops
/// with the other AWS tags. Stops watching (silently) at data it cannot split.
#[derive(Debug)]
struct ErrorWatch {
    splitter: Option<Splitter>,
    events: Vec<Event>,
    error: Option<String>,
}

impl Default for ErrorWatch {
    fn default() -> Self {
        let config = SplitterConfig {
            multiple_segments: true,
            ..SplitterConfig::default()
        };
        ErrorWatch {
            splitter: Some(Splitter::new(config)),
            events: Vec::new(),
            error: None,
        }
    }
}

impl ErrorWatch {
    fn push(&mut self, data: &[u8]) {
        let Some(splitter) = &mut self.splitter else {
            return;
        };
        if splitter.push(data, &mut self.events).is_err() {
            self.splitter = None;
        }
        for event in self.events.drain(..) {
            let Event::Tags(element) = event else {
                continue;
            };
            let Ok(pairs) = tags::read_tags(&element) else {
                continue;
            };
            let value = |name: &str| {
                pairs
                    .iter()
                    .find(|(tag, _)| tag == name)
                    .map(|(_, value)| value.clone())
            };
            if let Some(code) = value(tags::ERROR_CODE) {
                let id = value(tags::ERROR_ID).unwrap_or_default();
                self.error.get_or_insert(format!("{code} (ErrorId {id})"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::client::SIGNING_NAME;
    use crate::video::testdata::{AV2, answer_once};
    use clap::Parser;
    use spate_mkv::{ChunkTags, StoredChunk, emit_chunk, emit_error};
    use spate_wire::sigv4::{Credentials, Signer};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        get: GetArgs,
    }

    fn body(args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let cli = Cli::try_parse_from(std::iter::once("get").chain(args.iter().copied()))
            .expect("arguments parse");
        request_body(&cli.get)
    }

    /// GetMedia output of the two fragments of `AV2`, as the service emits it, and the
    /// re-split fixture's clusters.
    fn getmedia_output(error_at_end: bool) -> (Vec<u8>, Vec<spate_mkv::RawCluster>) {
        let mut splitter = Splitter::new(SplitterConfig::default());
        let mut events = Vec::new();
        splitter.push(AV2, &mut events).expect("fixture");
        splitter.finish(&mut events).expect("fixture");
        let header = events
            .iter()
            .find_map(|e| match e {
                Event::Header(h) => Some(h.clone()),
                _ => None,
            })
            .expect("header");
        let clusters: Vec<spate_mkv::RawCluster> = events
            .into_iter()
            .filter_map(|e| match e {
                Event::ClusterEnd(c) => Some(c),
                _ => None,
            })
            .collect();
        let mut out = BytesMut::new();
        for (index, cluster) in clusters.iter().enumerate() {
            let chunk = StoredChunk::new(&header, cluster.rewrite(cluster.timecode), &[]);
            let number = format!("9134385233318143238773030206321443280220533555{index}");
            let chunk_tags = ChunkTags {
                fragment_number: number.clone(),
                server_timestamp_ms: 1_726_677_688_000,
                producer_timestamp_ms: 1_726_677_688_000 + index as i64 * 1000,
                millis_behind_now: Some(0),
                continuation_token: Some(number),
            };
            emit_chunk(&mut out, &chunk, &chunk_tags).expect("emit");
        }
        if error_at_end {
            emit_error(&mut out, "MISSING_FRAGMENT", 4000);
        }
        (out.to_vec(), clusters)
    }

    async fn get_from(body: Vec<u8>, raw: bool) -> (Vec<u8>, Option<String>) {
        let address = answer_once(200, &[("content-type", "video/webm")], body).await;
        let credentials = Credentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
        };
        let client = VideoClient::with(
            &format!("http://{address}"),
            Signer::new(credentials, "us-east-1", SIGNING_NAME),
        )
        .expect("client");
        let mut output = Vec::new();
        let error = get(&client, b"{}".to_vec(), raw, &mut output)
            .await
            .expect("get");
        (output, error)
    }

    #[tokio::test]
    async fn merged_output_is_one_segment_with_every_cluster_and_raw_is_untouched() {
        let (body, clusters) = getmedia_output(false);
        let (raw, error) = get_from(body.clone(), true).await;
        assert_eq!((raw, error), (body.clone(), None));

        let (merged, error) = get_from(body, false).await;
        assert_eq!(error, None);
        let mut splitter = Splitter::new(SplitterConfig::default());
        let mut events = Vec::new();
        splitter.push(&merged, &mut events).expect("one segment");
        splitter.finish(&mut events).expect("clean end");
        let merged_clusters: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::ClusterEnd(c) => Some(c),
                _ => None,
            })
            .collect();
        assert_eq!(merged_clusters.len(), clusters.len());
        for (merged, original) in merged_clusters.iter().zip(&clusters) {
            assert_eq!(merged.timecode, original.timecode);
            let frames = |c: &spate_mkv::RawCluster| -> Vec<_> {
                c.blocks
                    .iter()
                    .map(|b| (b.track, b.timecode, c.frame(b)))
                    .collect()
            };
            assert_eq!(frames(merged), frames(original));
        }
        assert!(
            !events.iter().any(|e| matches!(e, Event::Tags(_))),
            "the AWS tags are dropped"
        );
    }

    #[tokio::test]
    async fn error_tags_at_the_end_fail_the_command_and_keep_the_output() {
        let (body, _) = getmedia_output(true);
        let (raw, error) = get_from(body.clone(), true).await;
        assert_eq!(raw, body);
        assert_eq!(
            error.as_deref(),
            Some("the stream ended with an error: MISSING_FRAGMENT (ErrorId 4000)")
        );
        let (merged, error) = get_from(body, false).await;
        assert!(!merged.is_empty());
        assert!(error.is_some());
    }

    #[test]
    fn selectors_carry_their_fields() {
        assert_eq!(
            body(&["cam1"]).expect("earliest"),
            serde_json::json!({"StreamName": "cam1", "StartSelector": {"StartSelectorType": "EARLIEST"}})
        );
        assert_eq!(
            body(&[
                "cam1",
                "--start-selector",
                "fragment_number",
                "--after-fragment-number",
                "913"
            ])
            .expect("number"),
            serde_json::json!({"StreamName": "cam1", "StartSelector": {
                "StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": "913"}})
        );
        assert_eq!(
            body(&[
                "arn:aws:kinesisvideo:us-east-1:0:stream/cam1/1",
                "--start-selector",
                "PRODUCER_TIMESTAMP",
                "--start-timestamp",
                "1726677688.5"
            ])
            .expect("timestamp"),
            serde_json::json!({"StreamARN": "arn:aws:kinesisvideo:us-east-1:0:stream/cam1/1",
                "StartSelector": {"StartSelectorType": "PRODUCER_TIMESTAMP",
                "StartTimestamp": 1726677688.5}})
        );
        let err = body(&["cam1", "--start-selector", "CONTINUATION_TOKEN"]).expect_err("no token");
        assert!(err.to_string().contains("--continuation-token"), "{err}");
        assert!(body(&["cam1", "--start-selector", "LATEST"]).is_err());
    }
}
