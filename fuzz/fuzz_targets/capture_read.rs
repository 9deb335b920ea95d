//! The streaming pcap/pcapng reader and the `decode`/`verify` renderings on arbitrary file bytes.
//!
//! A bad file must give an error naming the file, never a panic, a loop or an unbounded
//! allocation; a reader that has finished stays finished; every record it returns holds at most
//! the bytes of the file, and there cannot be more records than the file has room for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use wirecheck_conformance::capture::CaptureReader;
use wirecheck_conformance::decode::{
    decode_record, fields, json_lines, summary_lines, verify_batch,
};

/// The smallest record on disk: a pcapng Simple Packet Block (12 bytes + data) and a legacy pcap
/// record header (16 bytes) are the smallest.
const MIN_RECORD: usize = 12;

fuzz_target!(|data: &[u8]| {
    let mut reader = match CaptureReader::from_reader("fuzz.pcap", Cursor::new(data.to_vec())) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.file, "fuzz.pcap");
            let _ = e.to_string();
            return;
        }
    };
    let most_records = data.len() / MIN_RECORD + 1;
    let mut batch = Vec::new();
    loop {
        match reader.next_record() {
            Ok(Some(record)) => {
                assert!(
                    record.data.len() <= data.len(),
                    "a record of {} bytes from a {}-byte file",
                    record.data.len(),
                    data.len()
                );
                assert!(
                    record.file_offset < data.len() as u64,
                    "record offset past the end"
                );
                assert_eq!(
                    record.number,
                    batch.len() as u64 + 1,
                    "records numbered in order"
                );
                batch.push(record);
                assert!(
                    batch.len() <= most_records,
                    "more than {most_records} records from a {}-byte file",
                    data.len()
                );
            }
            Ok(None) => {
                // Finished readers stay finished.
                assert!(
                    matches!(reader.next_record(), Ok(None)),
                    "record after the end"
                );
                break;
            }
            Err(e) => {
                assert_eq!(e.file, "fuzz.pcap");
                assert!(
                    e.offset <= data.len() as u64,
                    "error offset past the end: {e}"
                );
                let _ = e.to_string();
                break;
            }
        }
    }
    for record in &batch {
        let (packet, _note) = decode_record(record);
        let _ = fields(record, &packet).to_json().to_string();
    }
    if let Some(first) = batch.first() {
        let _ = summary_lines(&batch, first.timestamp);
        let _ = json_lines(&batch);
        let _ = verify_batch(&batch);
    }
});
