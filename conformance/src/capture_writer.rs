//! Writing Ethernet frames to a pcap file (`wirecheck host --pcap`), with pcap-parser's
//! serializer: a classic pcap header (LINKTYPE_ETHERNET, microsecond timestamps), then one
//! record per frame.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use pcap_parser::{LegacyPcapBlock, Linktype, PcapHeader, ToVec};

/// Largest frame recorded whole; longer ones are cut (the record keeps the original length).
const SNAPLEN: u32 = 262_144;

/// A pcap file being written.
#[derive(Debug)]
pub struct CaptureWriter {
    out: BufWriter<File>,
    records: u64,
}

impl CaptureWriter {
    /// Creates (or truncates) `path` and writes the file header.
    pub fn create(path: &Path) -> io::Result<CaptureWriter> {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(path)?);
        let mut header = PcapHeader::new();
        header.snaplen = SNAPLEN;
        header.network = Linktype::ETHERNET;
        out.write_all(&header.to_vec().map_err(serialize_error)?)?;
        Ok(CaptureWriter { out, records: 0 })
    }

    /// Appends one frame seen at `time`.
    pub fn write(&mut self, time: SystemTime, frame: &[u8]) -> io::Result<()> {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let data = frame.get(..SNAPLEN as usize).unwrap_or(frame);
        let record = LegacyPcapBlock {
            // Classic pcap's seconds are 32 bits; they last until 2106.
            ts_sec: since.as_secs() as u32,
            ts_usec: since.subsec_micros(),
            caplen: data.len() as u32,
            origlen: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            data,
        };
        self.out
            .write_all(&record.to_vec_raw().map_err(serialize_error)?)?;
        self.records += 1;
        Ok(())
    }

    /// Frames written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn serialize_error(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("pcap serialization: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;
    use std::time::Duration;

    #[test]
    fn written_frames_read_back_with_their_times() {
        let dir = std::env::temp_dir().join(format!("wirecheck-cw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.pcap");
        let mut w = CaptureWriter::create(&path).unwrap();
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        w.write(t, &[0xff; 60]).unwrap();
        w.write(t + Duration::from_millis(1), &[1, 2, 3]).unwrap();
        assert_eq!(w.records(), 2);
        w.flush().unwrap();
        drop(w);
        let mut r = CaptureReader::open(path.to_str().unwrap()).unwrap();
        let a = r.next_record().unwrap().unwrap();
        assert_eq!(a.data, vec![0xff; 60]);
        assert_eq!(a.timestamp.seconds, 1_700_000_000);
        assert_eq!(a.timestamp.nanoseconds, 123_456_000);
        assert_eq!(a.link_type.0, 1);
        let b = r.next_record().unwrap().unwrap();
        assert_eq!(b.data, vec![1, 2, 3]);
        assert_eq!(b.timestamp.nanoseconds, 124_456_000);
        assert!(r.next_record().unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
