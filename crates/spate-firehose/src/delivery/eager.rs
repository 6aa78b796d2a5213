//! Compression ahead of the cut. For a stream whose buffers become one GZIP object each, as
//! they are (an S3 destination without processors, conversion, dynamic partitioning or
//! backup), the worker compresses each piece of the buffer (`compress::gzip_pieces`) as soon
//! as its records have arrived, on blocking threads, up to one piece per core at a time. When
//! the buffer is cut only its last piece is left to compress, and the object is the one the
//! ordinary path would have made from the same records.
//!
//! Anything unusual (a sealed record, the stream updated meanwhile, a failed delivery) drops
//! the work done ahead and the buffer takes the ordinary path, which reads it again.

use std::collections::VecDeque;
use std::sync::Arc;

use spate_log::StoredRecord;
use tokio::task::JoinHandle;

use crate::compress::gzip_pieces::{self, PIECE_BYTES, Piece};
use crate::compress::{self, CompressError, Compression};
use crate::config::FirehoseConfig;
use crate::crypto;
use crate::model::{DeliveryStreamMeta, Destination};

/// A buffer's GZIP object, compressed as its records arrive.
pub(crate) struct EagerGzip {
    /// The stream as it was when the buffer started; another version means other settings.
    stream: Arc<DeliveryStreamMeta>,
    level: u32,
    /// The buffer's first offset, and the first offset not taken in yet.
    from: u64,
    to: u64,
    /// Input not yet handed to a thread, shorter than a piece between calls.
    pending: Vec<u8>,
    /// Pieces being compressed, in input order, then those done.
    in_flight: VecDeque<JoinHandle<Result<Piece, CompressError>>>,
    done: Vec<Piece>,
    max_in_flight: usize,
}

impl EagerGzip {
    /// Work ahead for a buffer starting at `from`, if `stream`'s buffers are plain GZIP
    /// objects.
    pub(crate) fn for_stream(
        stream: &Arc<DeliveryStreamMeta>,
        config: &FirehoseConfig,
        from: u64,
    ) -> Option<EagerGzip> {
        let Destination::S3 { settings, .. } = &stream.destination else {
            return None;
        };
        let plain = settings.compression() == Compression::Gzip
            && !settings.converts()
            && !settings.dynamic_partitioning()
            && settings.s3_backup_mode.as_deref() != Some("Enabled")
            && matches!(settings.pipeline(config), Ok(None));
        plain.then(|| EagerGzip {
            stream: Arc::clone(stream),
            level: config.gzip_level,
            from,
            to: from,
            pending: Vec::with_capacity(PIECE_BYTES),
            in_flight: VecDeque::new(),
            done: Vec::new(),
            max_in_flight: compress::threads(),
        })
    }

    /// Takes in the next records of the buffer (consecutive from the last taken). `false`: they
    /// cannot be compressed ahead (a sealed record, a gap), and this work should be dropped.
    pub(crate) async fn take(&mut self, records: &[StoredRecord]) -> Result<bool, CompressError> {
        for record in records {
            if record.offset != self.to || crypto::is_sealed(&record.key) {
                return Ok(false);
            }
            let mut data = &record.value[..];
            while !data.is_empty() {
                let room = PIECE_BYTES - self.pending.len();
                let (now, rest) = data.split_at(room.min(data.len()));
                self.pending.extend_from_slice(now);
                data = rest;
                if self.pending.len() == PIECE_BYTES {
                    self.start_piece().await?;
                }
            }
            self.to = record.offset + 1;
        }
        Ok(true)
    }

    /// Whether this work is the buffer `[from, upto)` of `stream` as it is now.
    pub(crate) fn covers(&self, stream: &DeliveryStreamMeta, from: u64, upto: u64) -> bool {
        self.stream.version == stream.version && self.from == from && self.to == upto
    }

    /// The object: the last piece compressed, every piece joined.
    pub(crate) async fn finish(mut self) -> Result<Vec<u8>, CompressError> {
        if !self.pending.is_empty() {
            self.start_piece().await?;
        }
        while let Some(piece) = self.in_flight.pop_front() {
            self.done.push(joined(piece).await?);
        }
        Ok(gzip_pieces::assemble(std::mem::take(&mut self.done)))
    }

    /// Hands the pending input to a blocking thread, first waiting for the oldest piece when
    /// every core already has one.
    async fn start_piece(&mut self) -> Result<(), CompressError> {
        while self.in_flight.len() >= self.max_in_flight {
            if let Some(oldest) = self.in_flight.pop_front() {
                self.done.push(joined(oldest).await?);
            }
        }
        let input = std::mem::replace(&mut self.pending, Vec::with_capacity(PIECE_BYTES));
        let level = self.level;
        self.in_flight
            .push_back(tokio::task::spawn_blocking(move || {
                Piece::deflate(&input, level)
            }));
        Ok(())
    }
}

impl Drop for EagerGzip {
    fn drop(&mut self) {
        // Pieces not started are abandoned; one already compressing ends and is dropped.
        for piece in self.in_flight.drain(..) {
            piece.abort();
        }
    }
}

async fn joined(piece: JoinHandle<Result<Piece, CompressError>>) -> Result<Piece, CompressError> {
    piece.await.map_err(|err| {
        CompressError::Gzip(std::io::Error::other(format!(
            "a compression thread failed: {err}"
        )))
    })?
}
