//! Streaming capture-file reading: pcap (both byte orders, micro- and nanosecond) and pcapng
//! (several sections and interfaces), through the `pcap-parser` crate's circular-buffer readers.
//!
//! Memory stays flat whatever the file size: one buffer that grows only as far as the largest
//! record, up to [`MAX_RECORD_BYTES`]. Every error names the file, the record number and the
//! byte offset of the record in the file.

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::fmt;
use std::fs::File;
use std::io::Read;

/// Initial size of the reading buffer.
const INITIAL_BUFFER_BYTES: usize = 256 * 1024;

/// The largest record accepted. Linux's largest snapshot length is 262144 bytes, and BIG TCP
/// captures hold frames of a few hundred kilobytes; anything past this is a corrupt length field,
/// not a packet, and is reported rather than allocated.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// A link-layer header type, as numbered in the tcpdump.org LINKTYPE registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP [RFC 1661].
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing [RFC 1662].
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Raw IP as some systems numbered it in old pcap files (DLT_RAW 12 and 14).
    pub const RAW_LEGACY_12: LinkType = LinkType(12);
    /// Raw IP, second historical number.
    pub const RAW_LEGACY_14: LinkType = LinkType(14);
    /// Raw IPv4 or IPv6, no link header.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4, no link header.
    pub const IPV4: LinkType = LinkType(228);
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// A short name for messages.
    pub fn name(self) -> String {
        match self {
            LinkType::NULL => "NULL (BSD loopback)".into(),
            LinkType::ETHERNET => "ETHERNET".into(),
            LinkType::PPP => "PPP".into(),
            LinkType::PPP_HDLC => "PPP_HDLC".into(),
            LinkType::RAW | LinkType::RAW_LEGACY_12 | LinkType::RAW_LEGACY_14 => "RAW".into(),
            LinkType::LOOP => "LOOP (OpenBSD loopback)".into(),
            LinkType::LINUX_SLL => "LINUX_SLL".into(),
            LinkType::IPV4 => "IPV4".into(),
            LinkType::LINUX_SLL2 => "LINUX_SLL2".into(),
            LinkType(n) => format!("link type {n}"),
        }
    }
}

/// A capture timestamp: seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Whole seconds.
    pub seconds: i64,
    /// Nanoseconds, normally below 10^9; files with invalid fractions keep them as stored.
    pub nanoseconds: u64,
}

impl Timestamp {
    /// Seconds as a float, like Wireshark's `frame.time_epoch`.
    pub fn as_f64(self) -> f64 {
        self.seconds as f64 + self.nanoseconds as f64 / 1e9
    }

    /// Text with nine decimals, folding an out-of-range fraction into the seconds.
    pub fn to_epoch_string(self) -> String {
        let total = self.seconds as i128 * 1_000_000_000 + self.nanoseconds as i128;
        let sign = if total < 0 { "-" } else { "" };
        let t = total.abs();
        format!("{sign}{}.{:09}", t / 1_000_000_000, t % 1_000_000_000)
    }
}

/// One packet record read from a capture, with its bytes copied out of the reading buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// 1-based packet number in the file (as Wireshark's `frame.number`).
    pub number: u64,
    /// Byte offset of the record in the file.
    pub file_offset: u64,
    /// When it was captured.
    pub timestamp: Timestamp,
    /// The link type of the interface it was captured on.
    pub link_type: LinkType,
    /// The length of the packet on the wire (may exceed the bytes captured).
    pub original_length: u32,
    /// pcapng interface index (0 for pcap).
    pub interface: u32,
    /// The bytes captured.
    pub data: Vec<u8>,
}

/// A capture file that cannot be read on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    /// The file, as named by the user (`-` for standard input).
    pub file: String,
    /// The record the error is in, when records had begun (1-based).
    pub record: Option<u64>,
    /// Byte offset in the file where the bad data starts.
    pub offset: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(r) => write!(
                f,
                "{}: record {} at byte offset {}: {}",
                self.file, r, self.offset, self.message
            ),
            None => write!(
                f,
                "{}: at byte offset {}: {}",
                self.file, self.offset, self.message
            ),
        }
    }
}

impl std::error::Error for CaptureError {}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    /// Timestamp units per second.
    resolution: u64,
    /// Seconds added to every timestamp.
    offset_seconds: i64,
}

/// Reads the packet records of one pcap or pcapng stream in order.
pub struct CaptureReader {
    inner: Box<dyn PcapReaderIterator + Send>,
    file: String,
    /// Bytes consumed so far (the offset of the next block).
    consumed: u64,
    /// Packet records returned so far.
    records: u64,
    /// Legacy pcap: the one link type and time resolution.
    legacy: Option<Interface>,
    /// pcapng: interfaces of the current section.
    interfaces: Vec<Interface>,
    buffer_bytes: usize,
    finished: bool,
}

/// Most interfaces a pcapng section may declare before the file is treated as corrupt.
const MAX_INTERFACES: usize = 65_536;

impl CaptureReader {
    /// Opens a file by path, or standard input for `-`.
    pub fn open(path: &str) -> Result<CaptureReader, CaptureError> {
        if path == "-" {
            return Self::from_reader(path, std::io::stdin());
        }
        let file = File::open(path).map_err(|e| CaptureError {
            file: path.to_string(),
            record: None,
            offset: 0,
            message: format!("cannot open: {e}"),
        })?;
        Self::from_reader(path, file)
    }

    /// Reads from any byte stream; `name` is used in error messages.
    pub fn from_reader<R: Read + Send + 'static>(
        name: &str,
        reader: R,
    ) -> Result<CaptureReader, CaptureError> {
        let inner = pcap_parser::create_reader(INITIAL_BUFFER_BYTES, reader).map_err(|e| {
            let message = match e {
                PcapError::Eof => "empty file: no pcap or pcapng header".to_string(),
                PcapError::HeaderNotRecognized => {
                    "not a pcap or pcapng file (unrecognised magic number)".to_string()
                }
                PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                    "file ends inside the file header".to_string()
                }
                PcapError::ReadError => "read error".to_string(),
                other => format!("bad file header: {other:?}"),
            };
            CaptureError {
                file: name.to_string(),
                record: None,
                offset: 0,
                message,
            }
        })?;
        Ok(CaptureReader {
            inner,
            file: name.to_string(),
            consumed: 0,
            records: 0,
            legacy: None,
            interfaces: Vec::new(),
            buffer_bytes: INITIAL_BUFFER_BYTES,
            finished: false,
        })
    }

    /// The name given when opening.
    pub fn file_name(&self) -> &str {
        &self.file
    }

    fn error(&self, message: String) -> CaptureError {
        CaptureError {
            file: self.file.clone(),
            record: Some(self.records + 1),
            offset: self.consumed,
            message,
        }
    }

    /// The length the next block claims, read from its header, for error messages.
    fn claimed_length(&self) -> Option<u64> {
        let data = self.inner.data();
        let field = if self.legacy.is_some() {
            data.get(8..12)
        } else {
            data.get(4..8)
        }?;
        let le = u32::from_le_bytes([field[0], field[1], field[2], field[3]]);
        let be = u32::from_be_bytes([field[0], field[1], field[2], field[3]]);
        Some(le.min(be) as u64)
    }

    /// The next packet record, or `None` at the end of the stream.
    pub fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        let mut record = Record::default();
        Ok(self.read_into(&mut record)?.then_some(record))
    }

    /// Reads the next packet record into `record`, reusing its data buffer (no allocation
    /// once the buffer is as large as the records). Returns `false` at the end of the stream
    /// (`record` then holds stale contents).
    pub fn read_into(&mut self, record: &mut Record) -> Result<bool, CaptureError> {
        if self.finished {
            return Ok(false);
        }
        // Fills `record` from a packet block: its header fields and a copy of its bytes.
        let mut fill = |number: u64,
                        file_offset: u64,
                        timestamp: Timestamp,
                        link_type: LinkType,
                        original_length: u32,
                        interface: u32,
                        data: &[u8]| {
            record.number = number;
            record.file_offset = file_offset;
            record.timestamp = timestamp;
            record.link_type = link_type;
            record.original_length = original_length;
            record.interface = interface;
            record.data.clear();
            record.data.extend_from_slice(data);
        };
        loop {
            enum Step {
                Packet,
                Skip,
                Legacy(Interface),
                Section,
                BadVersion(&'static str, u16, u16),
                Interface(Interface),
                BadInterface(u32),
            }
            let consumed = self.consumed;
            let number = self.records + 1;
            let step = match self.inner.next() {
                Ok((length, block)) => {
                    let step = match block {
                        PcapBlockOwned::LegacyHeader(h) if h.version_major != 2 => {
                            Step::BadVersion("pcap", h.version_major, h.version_minor)
                        }
                        PcapBlockOwned::LegacyHeader(h) => Step::Legacy(Interface {
                            // The upper 16 bits carry FCS information, not the type.
                            link_type: LinkType(h.network.0 as u32 & 0xffff),
                            resolution: if h.is_nanosecond_precision() {
                                1_000_000_000
                            } else {
                                1_000_000
                            },
                            offset_seconds: 0,
                        }),
                        PcapBlockOwned::Legacy(b) => {
                            let iface = self.legacy.unwrap_or(Interface {
                                link_type: LinkType::ETHERNET,
                                resolution: 1_000_000,
                                offset_seconds: 0,
                            });
                            let scale = 1_000_000_000 / iface.resolution.max(1);
                            fill(
                                number,
                                consumed,
                                Timestamp {
                                    seconds: b.ts_sec as i64,
                                    nanoseconds: b.ts_usec as u64 * scale,
                                },
                                iface.link_type,
                                b.origlen,
                                0,
                                b.data,
                            );
                            Step::Packet
                        }
                        PcapBlockOwned::NG(Block::SectionHeader(shb))
                            if (shb.major_version, shb.minor_version) != (1, 0) =>
                        {
                            Step::BadVersion("pcapng", shb.major_version, shb.minor_version)
                        }
                        PcapBlockOwned::NG(Block::SectionHeader(_)) => Step::Section,
                        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                            Step::Interface(Interface {
                                link_type: LinkType(idb.linktype.0 as u32 & 0xffff),
                                resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                                offset_seconds: idb.ts_offset(),
                            })
                        }
                        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                            match self.interfaces.get(epb.if_id as usize) {
                                None => Step::BadInterface(epb.if_id),
                                Some(iface) => {
                                    let units = ((epb.ts_high as u64) << 32) | epb.ts_low as u64;
                                    let res = iface.resolution;
                                    // Saturating: a 64-bit count of 1 s units or a huge
                                    // if_tsoffset must not overflow (found by fuzzing).
                                    let seconds = i64::try_from(units / res)
                                        .unwrap_or(i64::MAX)
                                        .saturating_add(iface.offset_seconds);
                                    let frac = units % res;
                                    let nanoseconds =
                                        (frac as u128 * 1_000_000_000 / res as u128) as u64;
                                    let caplen = (epb.caplen as usize).min(epb.data.len());
                                    fill(
                                        number,
                                        consumed,
                                        Timestamp {
                                            seconds,
                                            nanoseconds,
                                        },
                                        iface.link_type,
                                        epb.origlen,
                                        epb.if_id,
                                        epb.data.get(..caplen).unwrap_or(&[]),
                                    );
                                    Step::Packet
                                }
                            }
                        }
                        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                            match self.interfaces.first() {
                                None => Step::BadInterface(0),
                                Some(iface) => {
                                    fill(
                                        number,
                                        consumed,
                                        Timestamp::default(),
                                        iface.link_type,
                                        spb.origlen,
                                        0,
                                        // The block's data is padded to 32 bits; the packet
                                        // is at most its original length.
                                        spb.data
                                            .get(..(spb.origlen as usize).min(spb.data.len()))
                                            .unwrap_or(spb.data),
                                    );
                                    Step::Packet
                                }
                            }
                        }
                        PcapBlockOwned::NG(_) => Step::Skip,
                    };
                    // Without shifting the rest of the buffer to its start: `refill` does
                    // that when the buffer runs out, moving only the partial block left.
                    self.inner.consume_noshift(length);
                    self.consumed += length as u64;
                    step
                }
                Err(PcapError::Eof) => {
                    self.finished = true;
                    return Ok(false);
                }
                Err(PcapError::Incomplete(_)) => {
                    if let Err(e) = self.inner.refill() {
                        let msg = format!("read error: {e:?}");
                        return Err(self.error(msg));
                    }
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    let claimed = self.claimed_length().unwrap_or(0);
                    if self.buffer_bytes < MAX_RECORD_BYTES && claimed <= MAX_RECORD_BYTES as u64 {
                        self.buffer_bytes = (self.buffer_bytes * 4).min(MAX_RECORD_BYTES);
                        self.inner.grow(self.buffer_bytes);
                        if let Err(e) = self.inner.refill() {
                            let msg = format!("read error: {e:?}");
                            return Err(self.error(msg));
                        }
                        continue;
                    }
                    self.finished = true;
                    return Err(self.error(format!(
                        "record length {claimed} is absurd (more than {MAX_RECORD_BYTES} bytes): \
                         the file is corrupt"
                    )));
                }
                Err(PcapError::UnexpectedEof) => {
                    self.finished = true;
                    let claimed = self.claimed_length();
                    let available = self.inner.data().len();
                    let msg = match claimed {
                        Some(c) => format!(
                            "file ends inside a record: it claims {c} bytes, \
                             only {available} bytes remain"
                        ),
                        None => {
                            format!("file ends inside a record header ({available} bytes remain)")
                        }
                    };
                    return Err(self.error(msg));
                }
                Err(e) => {
                    self.finished = true;
                    let msg = match e {
                        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
                            format!("malformed block ({})", kind.description())
                        }
                        PcapError::ReadError => "read error".to_string(),
                        other => format!("{other:?}"),
                    };
                    return Err(self.error(msg));
                }
            };
            match step {
                Step::Packet => {
                    self.records += 1;
                    return Ok(true);
                }
                Step::Skip => {}
                Step::Legacy(iface) => self.legacy = Some(iface),
                Step::Section => self.interfaces.clear(),
                Step::BadVersion(format, major, minor) => {
                    self.finished = true;
                    let supported = if format == "pcap" { "2.x" } else { "1.0" };
                    return Err(CaptureError {
                        file: self.file.clone(),
                        record: None,
                        offset: consumed,
                        message: format!(
                            "unsupported {format} version {major}.{minor} (supported: {supported})"
                        ),
                    });
                }
                Step::Interface(iface) => {
                    if self.interfaces.len() >= MAX_INTERFACES {
                        self.finished = true;
                        return Err(CaptureError {
                            file: self.file.clone(),
                            record: None,
                            offset: consumed,
                            message: format!(
                                "more than {MAX_INTERFACES} interfaces in one section"
                            ),
                        });
                    }
                    self.interfaces.push(iface)
                }
                Step::BadInterface(id) => {
                    self.finished = true;
                    return Err(CaptureError {
                        file: self.file.clone(),
                        record: Some(number),
                        offset: consumed,
                        message: format!(
                            "packet names interface {id}, but the section declares only {}",
                            self.interfaces.len()
                        ),
                    });
                }
            }
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Record, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
