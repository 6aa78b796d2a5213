//! `spate video put STREAM [FILE|-]`: reads MKV incrementally (a file, or stdin: an endless
//! `ffmpeg ... -f matroska -` pipe works), re-clusters it as the producer SDK does
//! (`recluster`), and sends it as one chunked PutMedia while printing each acknowledgement line
//! to stdout as it arrives, exactly as the server sent it.
//!
//! A thread reads the input and feeds the request body through a bounded channel (so a slow
//! server slows the reading); the async side sends the request and reads the acks. The exit
//! status is non-zero on an error answer (its type and message on stderr), an ERROR ack, bad
//! input, or an answer that ends before the input did.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use super::acks::{AckLine, AckLines};
use super::client::{BodyAbort, ChannelBody, ClientArgs, PutMediaParams, StreamRef, VideoClient};
use super::input::{InputEvent, MkvInput};
use super::recluster::{Reclusterer, TimecodeMode};

/// Bytes read from the input at a time.
const READ_BYTES: usize = 64 * 1024;
/// Body pieces queued for the connection at most.
const BODY_DEPTH: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimecodeTypeArg {
    /// Cluster timecodes count from the producer start timestamp.
    Relative,
    /// Cluster timecodes are epoch milliseconds (producer start + media time).
    Absolute,
}

#[derive(Debug, clap::Args)]
pub struct PutArgs {
    /// The stream's name (or ARN).
    pub stream: String,
    /// The MKV to send; `-` or none reads stdin.
    pub file: Option<PathBuf>,
    /// How cluster timecodes are sent (x-amzn-fragment-timecode-type).
    #[arg(long, value_enum, default_value = "relative")]
    pub timecode_type: TimecodeTypeArg,
    /// The producer start time, epoch seconds (x-amzn-producer-start-timestamp) [default: now].
    #[arg(long, value_name = "SECONDS")]
    pub producer_start: Option<f64>,
    /// Write the re-clustered MKV (what PutMedia would carry) to this file, `-` for stdout,
    /// instead of sending it.
    #[arg(long, value_name = "FILE")]
    pub output_mkv: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: PutArgs) -> anyhow::Result<ExitCode> {
    let producer_start_ms = match args.producer_start {
        Some(seconds) if seconds.is_finite() && (0.0..1e13).contains(&seconds) => {
            (seconds * 1000.0).round() as i64
        }
        Some(seconds) => anyhow::bail!("--producer-start {seconds} is not an epoch time"),
        None => now_ms(),
    };
    let (timecode_type, mode) = match args.timecode_type {
        TimecodeTypeArg::Relative => ("RELATIVE", TimecodeMode::Relative),
        TimecodeTypeArg::Absolute => (
            "ABSOLUTE",
            TimecodeMode::Absolute {
                start_ms: producer_start_ms,
            },
        ),
    };
    let source: Box<dyn Read + Send> = match &args.file {
        None => Box::new(std::io::stdin()),
        Some(path) if path.as_os_str() == "-" => Box::new(std::io::stdin()),
        Some(path) => Box::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ),
    };
    if let Some(path) = &args.output_mkv {
        return write_mkv(source, mode, path);
    }
    let client = VideoClient::new(&args.client)?;
    let params = PutMediaParams {
        stream: StreamRef::parse(&args.stream),
        timecode_type,
        producer_start_ms,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut stdout = std::io::stdout();
    let outcome = runtime.block_on(put(&client, &params, mode, source, &mut |line| {
        writeln!(stdout, "{}", line.text)?;
        stdout.flush()
    }))?;
    Ok(report(&outcome))
}

/// `--output-mkv`: the re-clustered MKV to a file (or stdout), nothing sent.
fn write_mkv(
    mut source: Box<dyn Read + Send>,
    mode: TimecodeMode,
    path: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let mut output: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))
    };
    let result = produce_inner(&mut *source, mode, &mut |piece| {
        output
            .write_all(&piece)
            .map(|()| true)
            .map_err(|err| format!("writing the output: {err}"))
    });
    output.flush().context("writing the output")?;
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(message) => {
            eprintln!("spate video put: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// How a PutMedia ended.
#[derive(Debug)]
pub enum PutOutcome {
    /// The whole input was sent and every ack read; no ERROR.
    Done,
    /// An error answer before the 200.
    Refused(String),
    /// An ERROR ack: its id and code.
    AckError(String, String),
    /// The input could not be read or sent.
    Input(String),
    /// The answer ended (or broke) before the input was sent.
    CutShort(String),
}

fn report(outcome: &PutOutcome) -> ExitCode {
    let message = match outcome {
        PutOutcome::Done => return ExitCode::SUCCESS,
        PutOutcome::Refused(message) => format!("PutMedia failed: {message}"),
        PutOutcome::AckError(id, code) => {
            format!("the service refused a fragment: ErrorId {id}, ErrorCode {code}")
        }
        PutOutcome::Input(message) => message.clone(),
        PutOutcome::CutShort(message) => message.clone(),
    };
    eprintln!("spate video put: {message}");
    ExitCode::FAILURE
}

/// Sends `source` as one PutMedia; `on_ack` gets each ack line as it arrives.
pub async fn put(
    client: &VideoClient,
    params: &PutMediaParams,
    mode: TimecodeMode,
    source: Box<dyn Read + Send>,
    on_ack: &mut dyn FnMut(&AckLine) -> std::io::Result<()>,
) -> anyhow::Result<PutOutcome> {
    let (sender, body) = ChannelBody::new(BODY_DEPTH);
    let reader = std::thread::Builder::new()
        .name("video-put-input".into())
        .spawn(move || produce(source, mode, &sender))
        .context("starting the input thread")?;
    let input_error = |reader: std::thread::JoinHandle<Result<usize, String>>| {
        if !reader.is_finished() {
            return None;
        }
        match reader.join() {
            Ok(Ok(_)) => None,
            Ok(Err(message)) => Some(message),
            Err(_) => Some("the input thread panicked".to_owned()),
        }
    };

    let request = client.put_media_request(SystemTime::now(), params, body)?;
    let response = match client.send(request).await {
        Ok(response) => response,
        Err(err) => {
            return Ok(match input_error(reader) {
                Some(message) => PutOutcome::Input(message),
                None => PutOutcome::CutShort(format!("{err:#}")),
            });
        }
    };
    if !response.status().is_success() {
        return Ok(PutOutcome::Refused(
            super::client::error_message(response).await,
        ));
    }
    let mut lines = AckLines::default();
    let mut first_error = None;
    let mut body = response.into_body();
    let mut handle = |line: AckLine| -> std::io::Result<()> {
        if first_error.is_none()
            && let Some((id, code)) = &line.error
        {
            first_error = Some((id.clone(), code.clone()));
        }
        on_ack(&line)
    };
    let mut broken = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    for line in lines.push(&data) {
                        handle(line).context("writing an acknowledgement")?;
                    }
                }
            }
            Err(err) => {
                broken = Some(format!("reading the acknowledgements: {err}"));
                break;
            }
        }
    }
    for line in lines.finish() {
        handle(line).context("writing an acknowledgement")?;
    }
    if let Some((id, code)) = first_error {
        return Ok(PutOutcome::AckError(id, code));
    }
    let finished = reader.is_finished();
    if let Some(message) = input_error(reader) {
        return Ok(PutOutcome::Input(message));
    }
    if let Some(message) = broken {
        return Ok(PutOutcome::CutShort(message));
    }
    if !finished {
        return Ok(PutOutcome::CutShort(
            "the service ended its answer before the whole input was sent".to_owned(),
        ));
    }
    Ok(PutOutcome::Done)
}

/// The input thread: reads, re-clusters and queues the body; ends the body at the input's end,
/// or aborts it with the error. Answers the fragments sent, or why it stopped.
fn produce(
    mut source: Box<dyn Read + Send>,
    mode: TimecodeMode,
    sender: &mpsc::Sender<Result<Bytes, BodyAbort>>,
) -> Result<usize, String> {
    let result = produce_inner(&mut *source, mode, &mut |piece| {
        Ok(sender.blocking_send(Ok(piece)).is_ok())
    });
    match result {
        Ok(Produced::Sent(fragments)) => Ok(fragments),
        // The request is over (the answer ended): nothing more to say here.
        Ok(Produced::Stopped) => Ok(0),
        Err(message) => {
            // Aborts the request, so the service does not take a cut input as complete.
            let _ = sender.blocking_send(Err(BodyAbort(message.clone())));
            Err(message)
        }
    }
}

enum Produced {
    Sent(usize),
    Stopped,
}

/// Reads `source`, re-clusters it and hands the output to `emit` piece by piece; `emit`
/// answers whether to go on.
fn produce_inner(
    source: &mut dyn Read,
    mode: TimecodeMode,
    emit: &mut dyn FnMut(Bytes) -> Result<bool, String>,
) -> Result<Produced, String> {
    let mut input = MkvInput::new();
    let mut recluster = Reclusterer::new(mode);
    let mut events = Vec::new();
    let mut buf = vec![0u8; READ_BYTES];
    let mut fragments = 0;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(format!("reading the input: {err}")),
        };
        input
            .push(&buf[..n], &mut events)
            .map_err(|err| err.to_string())?;
        let out = reclustered(&mut recluster, &mut events)?;
        fragments += recluster.take_started().len();
        if !out.is_empty() && !emit(out.freeze())? {
            return Ok(Produced::Stopped);
        }
    }
    input.finish(&mut events).map_err(|err| err.to_string())?;
    let mut out = reclustered(&mut recluster, &mut events)?;
    recluster
        .finish(&mut out)
        .map_err(|err| format!("re-clustering the input: {err}"))?;
    fragments += recluster.take_started().len();
    if !out.is_empty() && !emit(out.freeze())? {
        return Ok(Produced::Stopped);
    }
    if fragments == 0 {
        return Err("the input holds no frames to send".to_owned());
    }
    if recluster.dropped() > 0 {
        eprintln!(
            "spate video put: {} blocks before the first video key frame were not sent",
            recluster.dropped()
        );
    }
    Ok(Produced::Sent(fragments))
}

fn reclustered(
    recluster: &mut Reclusterer,
    events: &mut Vec<InputEvent>,
) -> Result<BytesMut, String> {
    let mut out = BytesMut::new();
    for event in events.drain(..) {
        match event {
            InputEvent::Header(header) => recluster.header(&header, &mut out),
            InputEvent::Cluster(cluster) => recluster.cluster(&cluster, &mut out),
        }
        .map_err(|err| format!("re-clustering the input: {err}"))?;
    }
    Ok(out)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use hyper::body::Incoming;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use spate_wire::sigv4::{Credentials, Signer};

    use super::*;
    use crate::video::client::SIGNING_NAME;
    use crate::video::testdata::AV2;

    /// What the test server saw of the request.
    #[derive(Debug, Default)]
    struct Seen {
        headers: http::HeaderMap,
        body: Vec<u8>,
        body_ended: bool,
    }

    /// How the test server answers.
    #[derive(Debug, Clone, Copy)]
    enum Answer {
        /// 200, a RECEIVED line per body piece while the body arrives, PERSISTED at its end.
        Acks,
        /// 200, an ERROR line after the first piece, then the end of the answer.
        ErrorAck,
        /// 404 rest-json error before reading the body.
        NotFound,
    }

    /// A one-connection HTTP/1.1 server on a free port; answers its address.
    async fn server(answer: Answer, seen: Arc<Mutex<Seen>>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            let service = service_fn(move |request: http::Request<Incoming>| {
                let seen = seen.clone();
                async move { Ok::<_, std::convert::Infallible>(answer_request(answer, seen, request)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        address
    }

    fn answer_request(
        answer: Answer,
        seen: Arc<Mutex<Seen>>,
        request: http::Request<Incoming>,
    ) -> http::Response<ChannelBody> {
        let (parts, mut body) = request.into_parts();
        seen.lock().expect("lock").headers = parts.headers;
        let (sender, answer_body) = ChannelBody::new(64);
        if let Answer::NotFound = answer {
            let _ = sender.try_send(Ok(Bytes::from_static(
                br#"{"Message":"The requested stream is not found or not active."}"#,
            )));
            return http::Response::builder()
                .status(404)
                .header(
                    "x-amzn-ErrorType",
                    "ResourceNotFoundException:http://internal/",
                )
                .body(answer_body)
                .expect("response");
        }
        tokio::spawn(async move {
            let mut pieces = 0;
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                seen.lock().expect("lock").body.extend_from_slice(&data);
                let line = match answer {
                    Answer::ErrorAck => concat!(
                        r#"{"EventType":"ERROR","FragmentTimecode":0,"#,
                        r#""ErrorId":4006,"ErrorCode":"INVALID_MKV_DATA"}"#,
                        "\n"
                    )
                    .to_owned(),
                    _ => format!("{{\"EventType\":\"RECEIVED\",\"FragmentTimecode\":{pieces}}}\n"),
                };
                pieces += 1;
                if sender.send(Ok(Bytes::from(line))).await.is_err() {
                    return;
                }
                if let Answer::ErrorAck = answer {
                    return;
                }
            }
            seen.lock().expect("lock").body_ended = true;
            let _ = sender
                .send(Ok(Bytes::from_static(b"{\"EventType\":\"PERSISTED\"}\n")))
                .await;
        });
        http::Response::new(answer_body)
    }

    /// A source giving the first `split` bytes of `data`, then waiting for `gate` before the
    /// rest.
    struct GatedSource {
        data: &'static [u8],
        position: usize,
        split: usize,
        gate: std::sync::mpsc::Receiver<()>,
    }

    impl Read for GatedSource {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.position == self.split {
                self.gate
                    .recv_timeout(Duration::from_secs(20))
                    .map_err(|_| std::io::Error::other("no ack arrived while the body was open"))?;
            }
            let end = if self.position < self.split {
                self.split
            } else {
                self.data.len()
            };
            let n = buf.len().min(end - self.position).min(977);
            buf[..n].copy_from_slice(&self.data[self.position..self.position + n]);
            self.position += n;
            Ok(n)
        }
    }

    fn client(address: std::net::SocketAddr) -> VideoClient {
        let credentials = Credentials {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
        };
        VideoClient::with(
            &format!("http://{address}"),
            Signer::new(credentials, "us-east-1", SIGNING_NAME),
        )
        .expect("client")
    }

    fn params() -> PutMediaParams {
        PutMediaParams {
            stream: StreamRef::parse("cam1"),
            timecode_type: "RELATIVE",
            producer_start_ms: 1_726_677_688_724,
        }
    }

    #[tokio::test]
    async fn acks_are_printed_while_the_body_is_still_being_sent() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let address = server(Answer::Acks, seen.clone()).await;
        let (open_gate, gate) = std::sync::mpsc::channel();
        let source = GatedSource {
            data: AV2,
            position: 0,
            split: AV2.len() / 2,
            gate,
        };
        let mut printed: Vec<(String, bool)> = Vec::new();
        let seen_in_ack = seen.clone();
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            put(
                &client(address),
                &params(),
                TimecodeMode::Relative,
                Box::new(source),
                &mut |line| {
                    // The input is held back until this first ack: the body is still open.
                    let body_ended = seen_in_ack.lock().expect("lock").body_ended;
                    printed.push((line.text.clone(), body_ended));
                    let _ = open_gate.send(());
                    Ok(())
                },
            ),
        )
        .await
        .expect("no deadlock: acks flow while the body is sent")
        .expect("put");
        assert!(matches!(outcome, PutOutcome::Done), "{outcome:?}");
        assert_eq!(
            printed[0].0,
            r#"{"EventType":"RECEIVED","FragmentTimecode":0}"#
        );
        assert!(!printed[0].1, "the first ack came before the body ended");
        assert_eq!(
            printed.last().map(|p| p.0.as_str()),
            Some(r#"{"EventType":"PERSISTED"}"#)
        );

        let seen = seen.lock().expect("lock");
        assert_eq!(seen.headers["transfer-encoding"], "chunked");
        assert_eq!(seen.headers["x-amzn-fragment-timecode-type"], "RELATIVE");
        assert!(seen.body_ended);
        // The body is the re-clustered input, whole.
        let mut expected = BytesMut::new();
        let mut recluster = Reclusterer::new(TimecodeMode::Relative);
        let mut input = MkvInput::new();
        let mut events = Vec::new();
        input.push(AV2, &mut events).expect("push");
        input.finish(&mut events).expect("finish");
        expected.extend_from_slice(&reclustered(&mut recluster, &mut events).expect("recluster"));
        recluster.finish(&mut expected).expect("finish");
        assert_eq!(seen.body, expected.to_vec());
    }

    #[tokio::test]
    async fn an_error_ack_and_an_error_answer_fail_the_command() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let address = server(Answer::ErrorAck, seen.clone()).await;
        let mut printed = Vec::new();
        let outcome = put(
            &client(address),
            &params(),
            TimecodeMode::Relative,
            Box::new(std::io::Cursor::new(AV2)),
            &mut |line| {
                printed.push(line.text.clone());
                Ok(())
            },
        )
        .await
        .expect("put");
        assert!(
            matches!(&outcome, PutOutcome::AckError(id, code) if id == "4006" && code == "INVALID_MKV_DATA"),
            "{outcome:?}"
        );
        assert_eq!(printed.len(), 1);
        assert_eq!(report(&outcome), ExitCode::FAILURE);

        let address = server(Answer::NotFound, Arc::new(Mutex::new(Seen::default()))).await;
        let outcome = put(
            &client(address),
            &params(),
            TimecodeMode::Relative,
            Box::new(std::io::Cursor::new(AV2)),
            &mut |_| Ok(()),
        )
        .await
        .expect("put");
        let PutOutcome::Refused(message) = outcome else {
            panic!("expected a refusal, got {outcome:?}");
        };
        assert_eq!(
            message,
            "ResourceNotFoundException (HTTP 404): The requested stream is not found or not active."
        );
    }

    #[tokio::test]
    async fn input_that_is_not_mkv_aborts_the_body_with_its_reason() {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let address = server(Answer::Acks, seen.clone()).await;
        let outcome = put(
            &client(address),
            &params(),
            TimecodeMode::Relative,
            Box::new(std::io::Cursor::new(b"this is not matroska".to_vec())),
            &mut |_| Ok(()),
        )
        .await
        .expect("put");
        let PutOutcome::Input(message) = outcome else {
            panic!("expected an input error, got {outcome:?}");
        };
        assert!(message.contains("not valid MKV"), "{message}");
        assert!(
            !seen.lock().expect("lock").body_ended,
            "the body was aborted, not ended"
        );
    }
}
