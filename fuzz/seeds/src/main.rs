//! Extracts the fuzz targets' seed corpora from capture files.
//!
//! `wirecheck-fuzz-seeds CORPUS_DIR CAPTURE…` reads each capture (pcap or pcapng; files that are
//! not captures are skipped) and writes, under `CORPUS_DIR/<target>/`:
//! - `capture_read`: the file itself (cut to 64 KiB: a cut file is a good seed too);
//! - `frame_decode`: every record's bytes;
//! - `roundtrip_<protocol>`: the bytes from the start of that layer to the end of the frame (or,
//!   for transports, to the end of the IP payload), as decoded by the lax whole-frame decoder.
//!
//! - `stack_drive`: the scripted TCP sessions of `wirecheck_stack::fuzzing::tcp_sessions`
//!   (handshakes both ways, data, every way of closing, resets, zero window, keep-alive), so
//!   that fuzzing the stack starts from inputs that reach every connection state.
//!
//! Seeds are deduplicated by content and named by a hash of it, so reruns are idempotent. Each
//! capture gives at most `PER_FILE` seeds per target, so that a long TCP transfer does not drown
//! the rest.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use wirecheck_codec::packet::{Datagram, Packet, Transport};
use wirecheck_conformance::capture::CaptureReader;
use wirecheck_conformance::decode::decode_record;

const PER_FILE: usize = 40;
const MAX_CAPTURE_SEED: usize = 64 * 1024;

struct Corpus {
    root: PathBuf,
    seen: HashSet<(&'static str, Vec<u8>)>,
    written: usize,
}

impl Corpus {
    /// Adds a seed; returns whether it was new.
    fn add(&mut self, target: &'static str, bytes: &[u8]) -> bool {
        if bytes.is_empty() || !self.seen.insert((target, bytes.to_vec())) {
            return false;
        }
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("create corpus directory");
        fs::write(dir.join(format!("{:016x}", fnv1a(bytes))), bytes).expect("write seed");
        self.written += 1;
        true
    }
}

/// FNV-1a, 64 bits: stable file names without a dependency.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The offset of `inner` in `outer` (both borrowed from the same record).
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// Per-target seeds of one decoded record.
fn layer_seeds(frame: &[u8], packet: &Packet<'_>) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    if packet.ethernet.is_some() {
        out.push(("roundtrip_ethernet", frame.to_vec()));
    }
    if let Some(arp) = &packet.arp {
        let at = offset_in(frame, arp.sender_hardware_addr).saturating_sub(8);
        out.push(("roundtrip_arp", frame[at..].to_vec()));
    }
    if let Some(ip) = &packet.ipv4 {
        let datagram = Datagram {
            ipv4: *ip,
            transport: packet.transport.clone(),
        };
        datagram_seeds(frame, &datagram, &mut out);
    }
    out
}

fn datagram_seeds(frame: &[u8], d: &Datagram<'_>, out: &mut Vec<(&'static str, Vec<u8>)>) {
    let ip = &d.ipv4;
    out.push(("roundtrip_ipv4", frame[ip.offset..].to_vec()));
    let end = offset_in(frame, ip.payload) + ip.payload.len();
    let layer = |offset: usize| {
        frame
            .get(offset..end.max(offset))
            .unwrap_or_default()
            .to_vec()
    };
    match &d.transport {
        Some(Transport::Icmp(i)) => {
            out.push(("roundtrip_icmp", layer(i.offset)));
            if let Some(q) = &i.quoted {
                datagram_seeds(frame, q, out);
            }
        }
        Some(Transport::Igmp(g)) => out.push(("roundtrip_igmp", layer(g.offset))),
        Some(Transport::Udp(u)) => out.push(("roundtrip_udp", layer(u.offset))),
        Some(Transport::Tcp(t)) => out.push(("roundtrip_tcp", layer(t.offset))),
        Some(Transport::Prefix(_)) | None => {}
    }
}

fn seed_file(corpus: &mut Corpus, path: &Path) {
    let Ok(bytes) = fs::read(path) else { return };
    let name = path.display().to_string();
    let Ok(reader) = CaptureReader::open(&name) else {
        return; // not a capture (licence, reading, …)
    };
    corpus.add("capture_read", &bytes[..bytes.len().min(MAX_CAPTURE_SEED)]);
    let mut counts = std::collections::HashMap::<&'static str, usize>::new();
    for record in reader {
        let Ok(record) = record else { break };
        let (packet, _) = decode_record(&record);
        let mut seeds = vec![("frame_decode", record.data.clone())];
        seeds.extend(layer_seeds(&record.data, &packet));
        for (target, seed) in seeds {
            let n = counts.entry(target).or_default();
            if *n < PER_FILE && corpus.add(target, &seed) {
                *n += 1;
            }
        }
    }
}

fn walk(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = fs::read_dir(path) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for entry in entries {
            walk(&entry, files);
        }
    } else if matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pcap" | "pcapng" | "cap")
    ) {
        files.push(path.to_path_buf());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((root, captures)) = args.split_first() else {
        eprintln!("usage: wirecheck-fuzz-seeds CORPUS_DIR CAPTURE_FILE_OR_DIR…");
        std::process::exit(2);
    };
    let mut files = Vec::new();
    for c in captures {
        walk(Path::new(c), &mut files);
    }
    let mut corpus = Corpus {
        root: PathBuf::from(root),
        seen: HashSet::new(),
        written: 0,
    };
    for file in &files {
        seed_file(&mut corpus, file);
    }
    for (_, input) in wirecheck_stack::fuzzing::tcp_sessions() {
        corpus.add("stack_drive", &input);
    }
    let mut per_target: Vec<(&str, usize)> = Vec::new();
    for (target, _) in &corpus.seen {
        match per_target.iter_mut().find(|(t, _)| t == target) {
            Some((_, n)) => *n += 1,
            None => per_target.push((target, 1)),
        }
    }
    per_target.sort();
    println!(
        "{} captures → {} seeds in {root}: {}",
        files.len(),
        corpus.written,
        per_target
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
