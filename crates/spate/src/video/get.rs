//! `spate video get STREAM`: GetMedia from a start selector, written to stdout or a file: by
//! default merged into one playable MKV (`spate_mkv::Merger`: one header, the AWS tags dropped,
//! as AWS's OutputSegmentMerger does), or with `--raw` the chunk stream exactly as the service
//! sent it (one segment per fragment, wrapped in `AWS_KINESISVIDEO_*` tags). The service ends
//! the answer a few seconds after the last fragment.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, bail};
use bytes::BytesMut;
use http_body_util::BodyExt;
use spate_mkv::{Merger, SplitterConfig};

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
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(get(&client, body, args.raw, &mut output));
    output.flush().context("writing the output")?;
    match result? {
        None => Ok(ExitCode::SUCCESS),
        Some(message) => {
            eprintln!("spate video get: GetMedia failed: {message}");
            Ok(ExitCode::FAILURE)
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
    let mut body = response.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.context("reading GetMedia's answer")?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
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
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
