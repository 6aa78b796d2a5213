//! Frame decoding with an `ffmpeg` subprocess (plan §5.4): one stored fragment written as a
//! self-contained MKV (EBML header, unknown-size Segment, Info, Tracks, Cluster) to its stdin,
//! the frames asked for (by display index) read back from its stdout as raw RGB, scaled.
//!
//! At most one process per CPU runs at a time (a semaphore), each is given
//! [`DECODE_TIMEOUT`], and a process whose request is dropped or times out is killed
//! (`kill_on_drop`).

use std::process::Stdio;
use std::sync::LazyLock;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use spate_mkv::{StoredChunk, ebml, ids, vint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

/// How long one fragment's decoding may take.
pub const DECODE_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of ffmpeg's stderr is kept for the error message.
const STDERR_KEPT: usize = 4096;

/// Decoding processes running at once: one per CPU.
static DECODERS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    Semaphore::new(cpus)
});

/// Why frames could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The configured program does not exist.
    #[error("ffmpeg was not found at {program:?}")]
    NotFound { program: String },
    /// The stored chunk could not be written as an MKV.
    #[error("the fragment cannot be written as MKV: {0}")]
    Mkv(#[from] spate_mkv::MkvError),
    #[error("ffmpeg could not be run: {0}")]
    Io(#[from] std::io::Error),
    /// ffmpeg failed, or gave fewer or more bytes than the frames asked for.
    #[error("ffmpeg failed: {0}")]
    Failed(String),
    #[error("ffmpeg took longer than {} s", DECODE_TIMEOUT.as_secs())]
    Timeout,
}

/// The fragment as a playable MKV: the stored header's EBML header, an unknown-size Segment
/// holding the stored Info and Tracks, then the cluster.
pub fn self_contained_mkv(chunk: &StoredChunk) -> Result<Bytes, spate_mkv::MkvError> {
    let ebml_header = ebml::child_at(&chunk.header, 0)?;
    if ebml_header.header.id != ids::EBML {
        return Err(spate_mkv::MkvError::Invalid(
            "stored header does not start with an EBML header".into(),
        ));
    }
    let mut out = BytesMut::with_capacity(chunk.header.len() + 12 + chunk.cluster.len());
    out.extend_from_slice(&chunk.header[..ebml_header.end]);
    vint::write_id(&mut out, ids::SEGMENT);
    out.extend_from_slice(&vint::UNKNOWN_SIZE);
    out.extend_from_slice(&chunk.header[ebml_header.end..]);
    out.extend_from_slice(&chunk.cluster);
    Ok(out.freeze())
}

/// The `-vf` filter: the frames at `picks` (display indices, increasing, distinct), scaled.
fn filter(picks: &[usize], (width, height): (u32, u32)) -> String {
    let chosen: Vec<String> = picks.iter().map(|n| format!("eq(n,{n})")).collect();
    format!("select='{}',scale={width}:{height}", chosen.join("+"))
}

/// Reads `reader` to its end (so the writer never blocks on it), keeping its first `keep`
/// bytes.
async fn read_kept(mut reader: impl tokio::io::AsyncRead + Unpin, keep: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read @ 1..) = reader.read(&mut buffer).await {
        let room = keep.saturating_sub(kept.len()).min(read);
        kept.extend_from_slice(&buffer[..room]);
    }
    kept
}

/// Decodes the first video track of `mkv` and returns the frames at `picks` (display
/// indices, increasing and distinct) as packed RGB of `size`, one buffer per pick.
pub async fn decode_frames(
    program: &str,
    mkv: Bytes,
    picks: &[usize],
    size: (u32, u32),
) -> Result<Vec<Vec<u8>>, DecodeError> {
    let frame_len = usize::try_from(u64::from(size.0) * u64::from(size.1) * 3)
        .map_err(|_| DecodeError::Failed("frame size out of range".into()))?;
    let expected = frame_len
        .checked_mul(picks.len())
        .ok_or_else(|| DecodeError::Failed("frames out of range".into()))?;
    let _permit = DECODERS
        .acquire()
        .await
        .map_err(|_| DecodeError::Failed("decoder pool closed".into()))?;
    let mut child = Command::new(program)
        .args(["-hide_banner", "-loglevel", "error", "-f", "matroska"])
        .args(["-i", "pipe:0", "-map", "0:v:0", "-vf"])
        .arg(filter(picks, size))
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
        ])
        .arg("pipe:1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => DecodeError::NotFound {
                program: program.to_owned(),
            },
            _ => DecodeError::Io(err),
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(DecodeError::Failed("ffmpeg's pipes are missing".into()));
    };
    let run = async {
        let write = async {
            // ffmpeg may exit before reading everything (a broken pipe): its status and
            // output say what happened.
            let _ = stdin.write_all(&mkv).await;
            drop(stdin);
        };
        let mut output = Vec::with_capacity(expected);
        let limit = u64::try_from(expected)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut stdout = stdout.take(limit);
        let read = stdout.read_to_end(&mut output);
        let ((), read, errors) = tokio::join!(write, read, read_kept(stderr, STDERR_KEPT));
        read?;
        if output.len() > expected {
            // More than asked for: no need to wait for the rest (the process is killed).
            return Err(DecodeError::Failed("more frames than asked for".into()));
        }
        let status = child.wait().await?;
        Ok::<_, DecodeError>((status, output, errors))
    };
    let (status, output, errors) = tokio::time::timeout(DECODE_TIMEOUT, run)
        .await
        .map_err(|_| DecodeError::Timeout)??;
    if !status.success() {
        return Err(DecodeError::Failed(format!(
            "{status}: {}",
            String::from_utf8_lossy(&errors).trim()
        )));
    }
    if output.len() != expected {
        return Err(DecodeError::Failed(format!(
            "{} bytes of frames instead of {expected}",
            output.len()
        )));
    }
    Ok(output
        .chunks_exact(frame_len.max(1))
        .map(<[u8]>::to_vec)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_selects_display_indices_then_scales() {
        assert_eq!(
            filter(&[0, 12, 37], (160, 90)),
            "select='eq(n,0)+eq(n,12)+eq(n,37)',scale=160:90"
        );
    }
}
