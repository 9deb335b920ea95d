//! Decoding a capture on every core while keeping output in packet order and memory flat.
//!
//! Worker threads take turns reading a batch of records from the capture and turn each batch
//! into output text (and whatever per-batch result the caller wants); the calling thread takes
//! the batches back in order. Each worker holds one batch, and the channel of finished ones is
//! bounded, so only a few batches are in flight whatever the file size.

use crate::capture::{CaptureError, CaptureReader, Record, Timestamp};
use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Mutex, OnceLock};

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
/// Finished batches queued for the sink.
const QUEUE_BATCHES: usize = 4;
/// A record's data buffer above this capacity is freed rather than reused, so that one huge
/// record does not keep its memory for the rest of the file.
const KEEP_RECORD_BYTES: usize = 64 * 1024;

/// The workers to use: the machine's cores, at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The reader and where reading stands, shared by the workers (behind a lock).
struct Reading {
    reader: CaptureReader,
    /// The index of the next batch read.
    next_index: u64,
    /// Reading has stopped: the end of the capture, or `error`.
    done: bool,
    error: Option<CaptureError>,
}

/// Reads up to [`BATCH_RECORDS`] records into `batch` (reusing its records' buffers) and
/// returns how many; marks `reading` done at the end of the capture or on an error.
fn read_batch(
    reading: &mut Reading,
    batch: &mut Vec<Record>,
    first: &OnceLock<Timestamp>,
) -> usize {
    let mut filled = 0;
    while filled < BATCH_RECORDS {
        if filled == batch.len() {
            batch.push(Record::default());
        }
        let record = &mut batch[filled];
        if record.data.capacity() > KEEP_RECORD_BYTES {
            record.data = Vec::new();
        }
        match reading.reader.read_into(record) {
            Ok(true) => {
                // Set before the first batch is worked on, so every worker sees it.
                first.get_or_init(|| record.timestamp);
                filled += 1;
            }
            Ok(false) => {
                reading.done = true;
                break;
            }
            Err(e) => {
                reading.done = true;
                reading.error = Some(e);
                break;
            }
        }
    }
    filled
}

/// Reads every record of `reader`, applies `work` to each batch on `workers` threads, and hands
/// the results to `sink` in file order. `work` also gets the timestamp of the capture's first
/// record (for relative times). `progress` is called with the file offset reached.
/// Returns the capture error that stopped reading, if any (records before it are processed).
///
/// Each worker reads its own batches, taking turns on the reader: the records it copies out
/// are then in its own core's cache when it decodes them (with a separate reading thread,
/// decoding began with a cache miss on nearly every record, the data having just been
/// written on the other core). Each worker reuses one batch of records, so their data
/// buffers are allocated once, not per record.
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
    let (done_tx, done_rx) = sync_channel::<(u64, T, u64)>(QUEUE_BATCHES + workers);
    let reading = Mutex::new(Reading {
        reader,
        next_index: 0,
        done: false,
        error: None,
    });
    let reading = &reading;
    let first: OnceLock<Timestamp> = OnceLock::new();
    let first = &first;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = done_tx.clone();
            let work = &work;
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(BATCH_RECORDS);
                loop {
                    let (index, filled) = {
                        let Ok(mut state) = reading.lock() else {
                            return;
                        };
                        if state.done {
                            return;
                        }
                        let filled = read_batch(&mut state, &mut batch, first);
                        if filled == 0 {
                            return;
                        }
                        state.next_index += 1;
                        (state.next_index - 1, filled)
                    };
                    let records = &batch[..filled];
                    let offset = records.last().map_or(0, |r| r.file_offset);
                    let result = work(records, first.get().copied().unwrap_or_default());
                    if tx.send((index, result, offset)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
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
        let error = match reading.lock() {
            Ok(mut state) => state.error.take(),
            Err(poisoned) => poisoned.into_inner().error.take(),
        };
        error
    })
}
