//! Decoding a capture on every core while keeping output in packet order and memory flat.
//!
//! One thread reads records in batches; worker threads turn each batch into output text (and
//! whatever per-batch result the caller wants); the calling thread takes the batches back in
//! order. Channels are bounded, so at most a few batches are in flight whatever the file size.
//! Workers hand each batch's records back to the reader, which reads the next records into
//! them: their data buffers are allocated once, not once per record.

use crate::capture::{CaptureError, CaptureReader, Record, Timestamp};
use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex, OnceLock};

/// Output buffers passed back from the sink to the workers, so that each batch's text is
/// written into memory already mapped rather than a fresh allocation. Keeps at most `limit`
/// buffers; a buffer that has grown past `max_bytes` is dropped instead.
#[derive(Debug)]
pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    limit: usize,
    max_bytes: usize,
}

impl BufferPool {
    /// A pool keeping up to `limit` buffers of at most `max_bytes` capacity each.
    pub fn new(limit: usize, max_bytes: usize) -> BufferPool {
        BufferPool {
            free: Mutex::new(Vec::with_capacity(limit)),
            limit,
            max_bytes,
        }
    }

    /// An empty buffer: a returned one if any, else a new one with room for `capacity` bytes.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut free| free.pop());
        match reused {
            Some(mut buffer) => {
                buffer.clear();
                buffer
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Hands a buffer back (dropped when the pool is full or the buffer too large).
    pub fn give(&self, buffer: Vec<u8>) {
        if buffer.capacity() > self.max_bytes {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.limit {
                free.push(buffer);
            }
        }
    }
}

/// Records per batch: large enough to amortise channel costs, small enough to keep memory low.
pub const BATCH_RECORDS: usize = 512;
/// Batches queued between stages.
const QUEUE_BATCHES: usize = 4;
/// A record's data buffer above this capacity is freed rather than reused, so that one huge
/// record does not keep its memory for the rest of the file.
const KEEP_RECORD_BYTES: usize = 64 * 1024;

/// The workers to use: the machine's cores, at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Reads every record of `reader`, applies `work` to each batch on `workers` threads, and hands
/// the results to `sink` in file order. `work` also gets the timestamp of the capture's first
/// record (for relative times). `progress` is called with the file offset reached.
/// Returns the capture error that stopped reading, if any (records before it are processed).
pub fn run<T, W, S, P>(
    reader: CaptureReader,
    workers: usize,
    work: W,
    mut sink: S,
    mut progress: P,
) -> Option<CaptureError>
where
    T: Send,
    W: Fn(&[Record], Timestamp) -> T + Sync,
    S: FnMut(T),
    P: FnMut(u64),
{
    let workers = workers.max(1);
    let (batch_tx, batch_rx) = sync_channel::<(u64, Vec<Record>)>(QUEUE_BATCHES);
    let (done_tx, done_rx) = sync_channel::<(u64, T, u64)>(QUEUE_BATCHES + workers);
    // Used batches on their way back to the reader (dropped when the channel is full). Room
    // for every batch in flight, so that none is dropped and reallocated in steady state.
    let (recycle_tx, recycle_rx) = sync_channel::<Vec<Record>>(QUEUE_BATCHES + workers);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let first: OnceLock<Timestamp> = OnceLock::new();
    let first = &first;
    std::thread::scope(|scope| {
        let reading = scope.spawn(move || {
            let mut reader = reader;
            let mut index = 0u64;
            // A used batch if one has come back, else a new one.
            let next_batch = || {
                recycle_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH_RECORDS))
            };
            let mut batch = next_batch();
            // Records of `batch` read so far; those past it are left over from earlier use.
            let mut filled = 0;
            loop {
                if filled == batch.len() {
                    batch.push(Record::default());
                }
                let record = &mut batch[filled];
                if record.data.capacity() > KEEP_RECORD_BYTES {
                    record.data = Vec::new();
                }
                match reader.read_into(record) {
                    Ok(true) => {
                        // Set before the first batch is sent, so every worker sees it.
                        first.get_or_init(|| record.timestamp);
                        filled += 1;
                        if filled == BATCH_RECORDS {
                            let full = std::mem::replace(&mut batch, next_batch());
                            filled = 0;
                            if batch_tx.send((index, full)).is_err() {
                                return None;
                            }
                            index += 1;
                        }
                    }
                    Ok(false) => {
                        batch.truncate(filled);
                        if !batch.is_empty() {
                            let _ = batch_tx.send((index, batch));
                        }
                        return None;
                    }
                    Err(e) => {
                        batch.truncate(filled);
                        if !batch.is_empty() {
                            let _ = batch_tx.send((index, batch));
                        }
                        return Some(e);
                    }
                }
            }
        });
        for _ in 0..workers {
            let rx = Arc::clone(&batch_rx);
            let tx = done_tx.clone();
            let recycle = recycle_tx.clone();
            let work = &work;
            scope.spawn(move || loop {
                let next = match rx.lock() {
                    Ok(guard) => guard.recv(),
                    Err(_) => return,
                };
                let Ok((index, batch)) = next else { return };
                let offset = batch.last().map_or(0, |r| r.file_offset);
                let result = work(&batch, first.get().copied().unwrap_or_default());
                let _ = recycle.try_send(batch);
                if tx.send((index, result, offset)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        drop(recycle_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        for (index, result, offset) in done_rx {
            pending.insert(index, (result, offset));
            while let Some((result, offset)) = pending.remove(&next) {
                sink(result);
                progress(offset);
                next += 1;
            }
        }
        reading.join().unwrap_or(None)
    })
}
