//! Group commit: the queue appenders push onto and the single writer thread that drains it.
//!
//! Appenders assign offsets and timestamps and push a [`Pending`] entry while holding the
//! queue lock, so the queue order is the offset order of every log. The writer thread takes
//! everything queued at once, encodes it into one buffer, writes it with one `write()` and (with
//! `Durability::Fsync`) one fdatasync, then publishes the records to the logs' in-memory tails,
//! moves each log's watched `end`, and completes every waiter. Records are therefore visible to
//! readers only once durable. If a write or fsync fails, the engine is poisoned: the failed
//! group and every later append get [`LogError::Poisoned`]; nothing is acknowledged that might
//! not be on disk.
//!
//! The queue is bounded by an admission semaphore counted in bytes (see `engine`), so a writer
//! slower than its appenders turns into back-pressure rather than memory growth.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{OwnedSemaphorePermit, oneshot};

use crate::engine::Shared;
use crate::journal::{JournalWriter, encode_frame};
use crate::state::LogState;
use crate::{Durability, LogError, StoredRecord};

/// Buffers above this capacity are given back after a commit.
const KEEP_BUFFER_BYTES: usize = 8 << 20;

/// One `append` call waiting for its records to become durable.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Records with offsets and timestamps assigned, per log, in call order.
    pub(crate) batches: Vec<(Arc<LogState>, Vec<StoredRecord>)>,
    /// Told the outcome once the group is durable (or failed).
    pub(crate) done: oneshot::Sender<Result<(), LogError>>,
    /// Queue space held until the records are written; released on drop.
    pub(crate) _permit: OwnedSemaphorePermit,
}

/// The commit queue, guarded by `Shared::queue`.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    pub(crate) items: Vec<Pending>,
    /// Set by `close`; the writer drains what is queued and exits.
    pub(crate) closed: bool,
}

/// The writer thread's body: commit groups until the queue is closed and drained.
pub(crate) fn run(shared: Arc<Shared>, mut journal: JournalWriter) {
    let mut buf = Vec::new();
    loop {
        let group = {
            let mut queue = shared.queue.lock();
            while queue.items.is_empty() && !queue.closed {
                shared.queue_ready.wait(&mut queue);
            }
            if queue.items.is_empty() {
                break;
            }
            std::mem::take(&mut queue.items)
        };
        commit(&shared, &mut journal, &mut buf, group);
    }
    if shared.config.durability == Durability::Os
        && shared.poison_reason().is_none()
        && let Err(err) = journal.sync()
    {
        tracing::error!(error = %err, "final journal fsync at close failed");
    }
}

/// Writes one group durably, then publishes it; or poisons the engine and fails it.
fn commit(shared: &Shared, journal: &mut JournalWriter, buf: &mut Vec<u8>, group: Vec<Pending>) {
    if let Some(reason) = shared.poison_reason() {
        fail(group, &reason);
        return;
    }
    let written = write_group(shared, journal, buf, &group);
    if buf.capacity() > KEEP_BUFFER_BYTES {
        *buf = Vec::new();
    }
    let record_count = match written {
        Ok(count) => count,
        Err(err) => {
            tracing::error!(error = %err, "journal write failed; refusing further appends");
            let reason = err.to_string();
            shared.poison(reason.clone());
            fail(group, &reason);
            return;
        }
    };
    shared.counters.groups.fetch_add(1, Ordering::Relaxed);
    shared
        .counters
        .records
        .fetch_add(record_count, Ordering::Relaxed);

    let seq = journal.seq();
    let seal_bytes = shared.config.seal_bytes;
    let mut tail_full = false;
    for pending in group {
        for (state, records) in pending.batches {
            let end = {
                let mut inner = state.inner.lock();
                if inner.deleted {
                    continue;
                }
                let before = inner.tail_bytes;
                inner.push_tail(records, seq);
                // Counted before the log's lock is released: the sealer and delete_log take
                // bytes out of the count as they find them in a tail, so bytes must never be in
                // a tail without being in the count (the count would go below zero).
                shared.add_unsealed(inner.tail_bytes - before);
                tail_full |= inner.tail_bytes >= seal_bytes;
                inner.end()
            };
            state.publish_end(end);
        }
        // The appender may have gone away (a cancelled future); its records stay durable.
        let _ = pending.done.send(Ok(()));
    }
    if tail_full || shared.over_unsealed_limit() {
        shared.wake_sealer();
    }
}

/// Encodes and writes a group (rolling the journal first if full); returns its record count.
fn write_group(
    shared: &Shared,
    journal: &mut JournalWriter,
    buf: &mut Vec<u8>,
    group: &[Pending],
) -> Result<u64, LogError> {
    #[cfg(test)]
    if shared.fail_writes.load(Ordering::SeqCst) {
        return Err(LogError::Io {
            context: "writing the journal (injected failure)".to_owned(),
            source: std::io::Error::other("injected"),
        });
    }
    if let Some(seq) = journal.roll_if_full()? {
        // Everything in older files is already published to the tails, so the sealer may now
        // consider them for deletion.
        shared.journal_files.lock().insert(seq);
        shared.current_journal.store(seq, Ordering::Release);
    }
    buf.clear();
    let mut count = 0u64;
    for pending in group {
        for (state, records) in &pending.batches {
            for record in records {
                encode_frame(buf, state.id, record);
            }
            count += records.len() as u64;
        }
    }
    if journal.write(buf)? {
        shared.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
    }
    Ok(count)
}

fn fail(group: Vec<Pending>, reason: &str) {
    for pending in group {
        let _ = pending.done.send(Err(LogError::Poisoned {
            reason: reason.to_owned(),
        }));
    }
}
