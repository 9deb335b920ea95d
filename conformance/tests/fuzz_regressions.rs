//! Inputs that crashed the `capture_read` fuzz target (fuzz/fuzz_targets/capture_read.rs), as
//! hex, each with what it found. Reading them and rendering their records must not panic.

use std::io::Cursor;
use wirecheck_conformance::capture::{CaptureReader, Record};
use wirecheck_conformance::decode::{json_lines, summary_lines, verify_batch};

fn read_all(hex_bytes: &str) -> Vec<Record> {
    let bytes = hex::decode(hex_bytes).expect("hex");
    let reader = CaptureReader::from_reader("regression.pcapng", Cursor::new(bytes))
        .expect("a pcapng section header");
    reader.map(|r| r.expect("readable records")).collect()
}

fn render(batch: &[Record]) {
    let first = batch.first().expect("records").timestamp;
    let summary = summary_lines(batch, first);
    assert_eq!(summary.lines().count(), batch.len());
    assert_eq!(json_lines(batch).lines().count(), batch.len());
    let _ = verify_batch(batch);
}

/// pcapng: an interface with `if_tsresol` 0 (1 s units) and `if_tsoffset` i64::MAX, and one
/// packet at 16 units. Adding the offset to the seconds overflowed (capture.rs, "attempt to add
/// with overflow"); the seconds now saturate.
#[test]
fn timestamp_offset_overflow() {
    let batch = read_all(
        "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000010000002c0000000100000000000000\
         09000100000000000e000800ffffffffffffff7f000000002c00000006000000300000000000000000000000\
         100000000e0000000e0000000000000000000000000000000000000030000000",
    );
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].timestamp.seconds, i64::MAX);
    render(&batch);
}

/// pcapng: two interfaces in 1 s units, the first with `if_tsoffset` i64::MIN; a packet on each,
/// at i64::MIN and i64::MAX seconds. The summary's time relative to the first packet overflowed
/// (decode.rs, "attempt to subtract with overflow").
#[test]
fn relative_time_overflow() {
    let batch = read_all(
        "0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000010000002c0000000100000000000000\
         09000100000000000e0008000000000000000080000000002c00000001000000200000000100000000000000\
         0900010000000000000000002000000006000000300000000000000000000000000000000e0000000e000000\
         0000000000000000000000000000000030000000060000003000000001000000ffffff7fffffffff0e000000\
         0e0000000000000000000000000000000000000030000000",
    );
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0].timestamp.seconds, i64::MIN);
    assert_eq!(batch[1].timestamp.seconds, i64::MAX);
    render(&batch);
}
