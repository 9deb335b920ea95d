//! IPv4 reassembly across a capture: the codec's [`Reassembler`] fed in capture order, with
//! capture timestamps as its clock. Gives the reassembly anomalies `verify` reports (overlaps,
//! conflicting duplicates, teardrop pieces, tiny first fragments, datagrams that never
//! completed) and the reassembled datagrams that `--reassemble` decodes.

use crate::capture::{Record, Timestamp};
use crate::decode::decode_record;
use wirecheck_codec::fragment::{Datagram, Reassembler, ReassemblerConfig};
use wirecheck_codec::packet::Severity;
use wirecheck_codec::time::Instant;

/// A finding about reassembly: severity, category and message.
pub type ReassemblyNote = (Severity, &'static str, String);

/// What one record contributed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Anomalies noticed (about this fragment, or datagrams that expired before it).
    pub notes: Vec<ReassemblyNote>,
    /// The datagram this fragment completed (header and payload, as one IPv4 datagram).
    pub datagram: Option<Vec<u8>>,
    /// How many fragments made it.
    pub fragments: usize,
}

/// Feeds a capture's fragments to a reassembler.
pub struct CaptureReassembler {
    inner: Reassembler,
    origin: Option<Timestamp>,
    last: Instant,
}

impl Default for CaptureReassembler {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureReassembler {
    /// With the codec's default limits (64 datagrams, 4 MiB, 30 s).
    pub fn new() -> Self {
        CaptureReassembler {
            inner: Reassembler::new(ReassemblerConfig::default()),
            origin: None,
            last: Instant::ZERO,
        }
    }

    /// The capture time as a reassembler clock (microseconds since the first record; it never
    /// goes backwards, whatever the file's timestamps do).
    fn clock(&mut self, t: Timestamp) -> Instant {
        let origin = *self.origin.get_or_insert(t);
        let micros = (t.seconds - origin.seconds) as i128 * 1_000_000
            + (t.nanoseconds as i128 - origin.nanoseconds as i128) / 1_000;
        let now = Instant(micros.clamp(0, u64::MAX as i128) as u64).max(self.last);
        self.last = now;
        now
    }

    fn expired_notes(&mut self, now: Instant, notes: &mut Vec<ReassemblyNote>) {
        while let Some(e) = self.inner.poll_expired(now) {
            notes.push(expired_note(&e));
        }
    }

    /// Feeds one record: only IPv4 fragments whose bytes were all captured take part.
    pub fn push(&mut self, record: &Record) -> Outcome {
        let mut out = Outcome::default();
        let now = self.clock(record.timestamp);
        self.expired_notes(now, &mut out.notes);
        let (packet, _) = decode_record(record);
        let Some(ip) = packet.ipv4 else {
            return out;
        };
        if !ip.header.is_fragment() || !ip.complete {
            return out;
        }
        let push = self.inner.push(now, &ip.header, ip.payload);
        if let Some(e) = &push.expired {
            out.notes.push(expired_note(e));
        }
        for f in push.findings.iter() {
            let severity = if f.discards_datagram() {
                Severity::Error
            } else {
                Severity::Warning
            };
            out.notes.push((severity, "reassembly", format!("{f}")));
        }
        if let Some(Datagram::Reassembled(r)) = push.datagram {
            out.fragments = usize::from(r.fragments());
            out.datagram = Some(r.as_bytes().to_vec());
        }
        out
    }

    /// At the end of the capture: datagrams still incomplete.
    pub fn finish(&mut self) -> Vec<ReassemblyNote> {
        let mut notes = Vec::new();
        // Everything still held is past any deadline once time runs out.
        while let Some(e) = self.inner.poll_expired(Instant(u64::MAX)) {
            let key = e.key;
            notes.push((
                Severity::Warning,
                "reassembly",
                format!("datagram {key} incomplete at the end of the capture"),
            ));
        }
        notes
    }
}

fn expired_note(e: &wirecheck_codec::fragment::Expired) -> ReassemblyNote {
    let first = if e.first_fragment.is_some() {
        "its first fragment arrived: a host sends ICMP Time Exceeded, code 1"
    } else {
        "its first fragment never arrived"
    };
    (
        Severity::Warning,
        "reassembly",
        format!(
            "datagram {} timed out incomplete (since {}; {first})",
            e.key, e.since
        ),
    )
}
