//! Capture replay, the conversion half: one recorded conversation of a pcap/pcapng file turned
//! into a scenario [`Script`] that the interpreter runs against a target, tcpliveplay-style.
//!
//! The target plays the recorded *server*: what the recorded client sent becomes inbound (`<`)
//! lines the runner injects, what the recorded server sent becomes outbound (`>`) expectations,
//! and socket calls are placed so that the target's application behaves like the recorded one
//! (listen at the start, accept after the handshake, write just before the server sent data,
//! read after client data arrived, close when the server sent its FIN). Sequence numbers,
//! acknowledgments, SACK blocks and timestamps are written script-relative, as in packetdrill,
//! so the interpreter can map them onto the target's live values.
//!
//! This module owns: listing a capture's conversations ([`conversations`]), building the
//! script ([`script_from_capture`]) and rendering any script as packetdrill text
//! ([`script_to_text`]). Running the script is the interpreter's business.
//!
//! Numbering: each side's ISN is 0 and each side's first TSval is 0; acknowledgments, SACK
//! blocks and TSecr are relative to the other side's base. Inbound lines are at their recorded
//! time since the conversation's first packet; outbound lines get a window from the event
//! before them to [`OUTBOUND_WINDOW_SLACK`] after their recorded time.
//!
//! Limits: at most [`MAX_CONVERSATIONS`] conversations are tracked per capture and a replayed
//! conversation holds at most [`MAX_REPLAY_PACKETS`] packets. IPv4 fragments are reassembled
//! and a fragmented datagram becomes one line (at the time its last fragment was captured).
//! A TCP 4-tuple reused for a second connection in one capture is one conversation (its
//! second SYN is numbered against the first ISN).

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::Duration;

use wirecheck_codec::icmp::IcmpBody;
use wirecheck_codec::packet::{Datagram, Packet, Transport};
use wirecheck_codec::tcp::option::TcpOption;
use wirecheck_codec::tcp::TcpFlags;

use super::script::{
    ArpSpec, CallEvent, ChecksumSpec, Condition, Direction, EcnSpec, EthernetSpec, Event,
    EventKind, Expr, IcmpSpec, IgmpSpec, IpSpec, PacketBody, PacketEvent, Script, TcpFlagsSpec,
    TcpOptionSpec, TcpOptionsSpec, TcpSpec, TimeSpec, Times, UdpSpec,
};
use crate::capture::{CaptureError, CaptureReader, LinkType, Record, Timestamp};
use crate::decode::decode_record;
use crate::link::{self, LinkPayload};
use crate::reassembly::CaptureReassembler;

/// Conversations tracked per capture; later ones are not listed (and cannot be replayed).
pub const MAX_CONVERSATIONS: usize = 100_000;

/// Packets a replayed conversation may hold.
pub const MAX_REPLAY_PACKETS: usize = 100_000;

/// How long after its recorded time an outbound packet may still arrive: a live target's
/// timers (delayed ACK, RTO) differ from the recorded server's.
pub const OUTBOUND_WINDOW_SLACK: Duration = Duration::from_secs(1);

/// Which conversation to replay, and which side the target plays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Index among the conversations [`conversations`] lists; default the first TCP one, else
    /// the first UDP one, else the first ICMP echo one.
    pub conversation: Option<usize>,
    /// The endpoint the target plays; default: TCP, the side that received the first SYN;
    /// UDP, the side that received the first datagram; ICMP echo, the side that received the
    /// first request. For ICMP echo only the address counts.
    pub server: Option<SocketAddrV4>,
}

/// The protocol of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConversationProtocol {
    /// A TCP connection (one pair of endpoints).
    Tcp,
    /// UDP datagrams between one pair of endpoints.
    Udp,
    /// ICMP echo requests and replies between two hosts with one identifier.
    IcmpEcho,
}

impl ConversationProtocol {
    /// Name for messages: `TCP`, `UDP`, `ICMP echo`.
    pub fn name(self) -> &'static str {
        match self {
            ConversationProtocol::Tcp => "TCP",
            ConversationProtocol::Udp => "UDP",
            ConversationProtocol::IcmpEcho => "ICMP echo",
        }
    }
}

/// One conversation found in a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Its index in the list, as [`ReplayOptions::conversation`] takes it.
    pub index: usize,
    /// TCP, UDP or ICMP echo.
    pub protocol: ConversationProtocol,
    /// The endpoint that sent the conversation's first packet (port 0 for ICMP echo).
    pub initiator: SocketAddrV4,
    /// The other endpoint.
    pub responder: SocketAddrV4,
    /// ICMP echo: the identifier.
    pub echo_identifier: Option<u16>,
    /// The endpoint the target plays unless told otherwise (see [`ReplayOptions::server`]).
    pub default_server: SocketAddrV4,
    /// Packets in the conversation, ICMP errors about it included (a fragmented datagram
    /// counts once).
    pub packets: u64,
    /// Record number of its first packet (of a fragmented datagram: its last fragment).
    pub first_record: u64,
    /// Record number of its last packet.
    pub last_record: u64,
    /// When its first packet was captured.
    pub first_time: Timestamp,
    /// When its last packet was captured.
    pub last_time: Timestamp,
}

impl fmt::Display for Conversation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} ", self.index, self.protocol.name())?;
        match self.echo_identifier {
            Some(id) => write!(
                f,
                "{} > {} id {id}",
                self.initiator.ip(),
                self.responder.ip()
            )?,
            None => write!(f, "{} > {}", self.initiator, self.responder)?,
        }
        write!(
            f,
            ", {} packet{}, records {}-{}",
            self.packets,
            if self.packets == 1 { "" } else { "s" },
            self.first_record,
            self.last_record,
        )
    }
}

/// Why a capture cannot be turned into a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayProblem {
    /// The capture itself cannot be read (not a capture, truncated, corrupt).
    Capture {
        /// Byte offset in the file.
        offset: u64,
        /// What the reader found.
        message: String,
    },
    /// No record had a link type wirecheck decodes.
    UnsupportedLink(LinkType),
    /// The capture holds IPv6 traffic only; wirecheck is IPv4 only.
    Ipv6Only {
        /// Records read.
        records: u64,
    },
    /// No TCP, UDP or ICMP echo conversation in the capture.
    NoConversation {
        /// Records read.
        records: u64,
    },
    /// [`ReplayOptions::conversation`] is past the end of the list.
    ConversationOutOfRange {
        /// The index asked for.
        index: usize,
        /// How many conversations there are.
        count: usize,
    },
    /// [`ReplayOptions::server`] is neither end of the conversation.
    ServerNotInConversation {
        /// The address asked for.
        server: SocketAddrV4,
        /// The conversation.
        conversation: String,
    },
    /// A TCP conversation in which the peer never sent a SYN (the capture starts mid-stream):
    /// the target cannot be brought into the recorded state.
    NoHandshake {
        /// The endpoint the runner would play.
        peer: SocketAddrV4,
    },
    /// The target would have to send echo requests, which no socket call makes it do.
    TargetSendsEchoRequests {
        /// The address asked to play the requester.
        server: Ipv4Addr,
    },
    /// The conversation is longer than [`MAX_REPLAY_PACKETS`].
    TooManyPackets {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for ReplayProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayProblem::Capture { offset, message } => {
                write!(f, "at byte offset {offset}: {message}")
            }
            ReplayProblem::UnsupportedLink(link) => write!(
                f,
                "unsupported link type {}: nothing to replay",
                link.name()
            ),
            ReplayProblem::Ipv6Only { records } => write!(
                f,
                "no IPv4 conversation in {records} records, only IPv6 (wirecheck replays IPv4 only)"
            ),
            ReplayProblem::NoConversation { records } => write!(
                f,
                "no TCP, UDP or ICMP echo conversation found in {records} records"
            ),
            ReplayProblem::ConversationOutOfRange { index, count } => write!(
                f,
                "conversation index {index} is out of range: the capture has {count} \
                 conversation{} (0 to {})",
                if *count == 1 { "" } else { "s" },
                count.saturating_sub(1)
            ),
            ReplayProblem::ServerNotInConversation {
                server,
                conversation,
            } => write!(
                f,
                "server {server} is not an endpoint of conversation {conversation}"
            ),
            ReplayProblem::NoHandshake { peer } => write!(
                f,
                "{peer} never sent a SYN in this conversation (the capture starts mid-stream): \
                 replay needs the connection's opening handshake"
            ),
            ReplayProblem::TargetSendsEchoRequests { server } => write!(
                f,
                "{server} sent echo requests: the target can only play the echo responder"
            ),
            ReplayProblem::TooManyPackets { limit } => write!(
                f,
                "the conversation has more than {limit} packets, the most replay handles"
            ),
        }
    }
}

/// A capture that cannot be replayed: the file, the record (when one is to blame) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayError {
    /// The file as named.
    pub file: String,
    /// 1-based record number, when one record is to blame.
    pub record: Option<u64>,
    /// What is wrong.
    pub problem: ReplayProblem,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.record {
            Some(r) => write!(f, "{}: record {r}: {}", self.file, self.problem),
            None => write!(f, "{}: {}", self.file, self.problem),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<CaptureError> for ReplayError {
    fn from(e: CaptureError) -> ReplayError {
        ReplayError {
            file: e.file,
            record: e.record,
            problem: ReplayProblem::Capture {
                offset: e.offset,
                message: e.message,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What one packet of a capture says, owned and reduced to what replay needs.

/// A TCP option as recorded (absolute numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
enum SeenOption {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamp(u32, u32),
    Other(u8, Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SeenTcp {
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    urgent: u16,
    /// Payload octets the IP header describes.
    len: u32,
    options: Vec<SeenOption>,
}

/// The datagram an ICMP error quotes, as far as replay uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SeenQuote {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    what: QuotedTransport,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum QuotedTransport {
    /// A whole TCP header.
    Tcp(SeenTcp),
    /// Just the ports (and sequence number) of a TCP header cut short.
    TcpPorts {
        src_port: u16,
        dst_port: u16,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        len: usize,
    },
    Echo {
        identifier: u16,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SeenIcmpError {
    icmp_type: u8,
    code: u8,
    mtu: Option<u16>,
    pointer: Option<u8>,
    quote: SeenQuote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SeenKind {
    Tcp(SeenTcp),
    Udp {
        src_port: u16,
        dst_port: u16,
        len: usize,
    },
    Echo {
        request: bool,
        identifier: u16,
        sequence: u16,
        len: usize,
    },
    IcmpError(SeenIcmpError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    record: u64,
    time: Timestamp,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    tos: u8,
    kind: SeenKind,
}

/// A conversation's identity: protocol and its two ends in a fixed order (ICMP echo: the
/// identifier stands in for both ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    protocol: ConversationProtocol,
    low: SocketAddrV4,
    high: SocketAddrV4,
}

impl Key {
    fn new(protocol: ConversationProtocol, a: SocketAddrV4, b: SocketAddrV4) -> Key {
        let (low, high) = if (a.ip(), a.port()) <= (b.ip(), b.port()) {
            (a, b)
        } else {
            (b, a)
        };
        Key {
            protocol,
            low,
            high,
        }
    }
}

impl Seen {
    /// The conversation this packet belongs to; an ICMP error belongs to the conversation of
    /// the datagram it quotes.
    fn key(&self) -> Option<Key> {
        let ends = |sp, dp| {
            (
                SocketAddrV4::new(self.src, sp),
                SocketAddrV4::new(self.dst, dp),
            )
        };
        match &self.kind {
            SeenKind::Tcp(t) => {
                let (a, b) = ends(t.src_port, t.dst_port);
                Some(Key::new(ConversationProtocol::Tcp, a, b))
            }
            SeenKind::Udp {
                src_port, dst_port, ..
            } => {
                let (a, b) = ends(*src_port, *dst_port);
                Some(Key::new(ConversationProtocol::Udp, a, b))
            }
            SeenKind::Echo { identifier, .. } => {
                let (a, b) = ends(*identifier, *identifier);
                Some(Key::new(ConversationProtocol::IcmpEcho, a, b))
            }
            SeenKind::IcmpError(e) => {
                let q = &e.quote;
                let ends = |sp, dp| (SocketAddrV4::new(q.src, sp), SocketAddrV4::new(q.dst, dp));
                let (protocol, (a, b)) = match &q.what {
                    QuotedTransport::Tcp(t) => {
                        (ConversationProtocol::Tcp, ends(t.src_port, t.dst_port))
                    }
                    QuotedTransport::TcpPorts { src_port, dst_port } => {
                        (ConversationProtocol::Tcp, ends(*src_port, *dst_port))
                    }
                    QuotedTransport::Udp {
                        src_port, dst_port, ..
                    } => (ConversationProtocol::Udp, ends(*src_port, *dst_port)),
                    QuotedTransport::Echo { identifier } => (
                        ConversationProtocol::IcmpEcho,
                        ends(*identifier, *identifier),
                    ),
                    QuotedTransport::Other => return None,
                };
                Some(Key::new(protocol, a, b))
            }
        }
    }

    fn is_icmp_error(&self) -> bool {
        matches!(self.kind, SeenKind::IcmpError(_))
    }
}

fn seen_tcp(header: &wirecheck_codec::tcp::TcpHeader<'_>, len: usize) -> SeenTcp {
    let mut options = Vec::new();
    let mut raw = [0u8; 64];
    for option in header.options.iter() {
        options.push(match option {
            TcpOption::EndOfList => SeenOption::Eol,
            TcpOption::NoOperation => SeenOption::Nop,
            TcpOption::MaximumSegmentSize(m) => SeenOption::Mss(m),
            TcpOption::WindowScale(s) => SeenOption::WindowScale(s),
            TcpOption::SackPermitted => SeenOption::SackPermitted,
            TcpOption::Sack(blocks) => {
                SeenOption::Sack(blocks.iter().map(|b| (b.left, b.right)).collect())
            }
            TcpOption::Timestamps { value, echo_reply } => SeenOption::Timestamp(value, echo_reply),
            other => {
                // Kept as kind and value octets, as written on the wire.
                let written = other.write(&mut raw).unwrap_or(0);
                let data = raw.get(2..written).unwrap_or(&[]).to_vec();
                SeenOption::Other(other.kind(), data)
            }
        });
    }
    SeenTcp {
        src_port: header.source_port,
        dst_port: header.destination_port,
        seq: header.sequence_number,
        ack: header.acknowledgment_number,
        flags: header.flags,
        window: header.window,
        urgent: header.urgent_pointer,
        len: u32::try_from(len).unwrap_or(u32::MAX),
        options,
    }
}

fn seen_quote(quoted: &Datagram<'_>) -> SeenQuote {
    let h = &quoted.ipv4.header;
    let what = match &quoted.transport {
        Some(Transport::Tcp(t)) => {
            let payload = usize::from(h.total_length)
                .saturating_sub(h.header_len())
                .saturating_sub(t.header.header_len());
            QuotedTransport::Tcp(seen_tcp(&t.header, payload))
        }
        Some(Transport::Prefix(p)) if p.protocol.0 == 6 => QuotedTransport::TcpPorts {
            src_port: p.source_port,
            dst_port: p.destination_port,
        },
        Some(Transport::Prefix(p)) if p.protocol.0 == 17 => QuotedTransport::Udp {
            src_port: p.source_port,
            dst_port: p.destination_port,
            len: usize::from(h.total_length)
                .saturating_sub(h.header_len())
                .saturating_sub(8),
        },
        Some(Transport::Udp(u)) => QuotedTransport::Udp {
            src_port: u.header.source_port,
            dst_port: u.header.destination_port,
            len: usize::from(u.header.length).saturating_sub(8),
        },
        Some(Transport::Icmp(i)) => match &i.message.body {
            IcmpBody::EchoRequest(e) | IcmpBody::EchoReply(e) => QuotedTransport::Echo {
                identifier: e.identifier,
            },
            _ => QuotedTransport::Other,
        },
        _ => QuotedTransport::Other,
    };
    SeenQuote {
        src: h.source,
        dst: h.destination,
        what,
    }
}

/// What replay makes of one decoded packet (None: not part of any conversation).
fn seen_from(packet: &Packet<'_>, record: u64, time: Timestamp) -> Option<Seen> {
    let ip = packet.ipv4.as_ref()?;
    let h = &ip.header;
    // Octets after the IP header as the header describes them (not as captured).
    let ip_payload = usize::from(h.total_length).saturating_sub(h.header_len());
    let kind = match packet.transport.as_ref()? {
        Transport::Tcp(t) => SeenKind::Tcp(seen_tcp(&t.header, t.payload_len)),
        Transport::Udp(u) => SeenKind::Udp {
            src_port: u.header.source_port,
            dst_port: u.header.destination_port,
            len: usize::from(u.header.length)
                .saturating_sub(8)
                .min(ip_payload.saturating_sub(8)),
        },
        Transport::Icmp(icmp) => {
            let body = &icmp.message.body;
            let len = ip_payload.saturating_sub(8);
            match body {
                IcmpBody::EchoRequest(e) | IcmpBody::EchoReply(e) => SeenKind::Echo {
                    request: matches!(body, IcmpBody::EchoRequest(_)),
                    identifier: e.identifier,
                    sequence: e.sequence,
                    len,
                },
                IcmpBody::DestinationUnreachable(_)
                | IcmpBody::SourceQuench(_)
                | IcmpBody::Redirect(_)
                | IcmpBody::TimeExceeded(_)
                | IcmpBody::ParameterProblem(_) => {
                    let quote = seen_quote(icmp.quoted.as_deref()?);
                    SeenKind::IcmpError(SeenIcmpError {
                        icmp_type: body.icmp_type().0,
                        code: body.code(),
                        mtu: match body {
                            IcmpBody::DestinationUnreachable(d) if body.code() == 4 => {
                                Some(d.next_hop_mtu)
                            }
                            _ => None,
                        },
                        pointer: match body {
                            IcmpBody::ParameterProblem(p) => Some(p.pointer),
                            _ => None,
                        },
                        quote,
                    })
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Seen {
        record,
        time,
        src: h.source,
        dst: h.destination,
        tos: (h.dscp << 2) | h.ecn.bits(),
        kind,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading a capture as a stream of `Seen` packets.

/// What a scan noticed besides conversations, to explain an empty result.
#[derive(Debug, Default)]
struct ScanStats {
    records: u64,
    ipv4: u64,
    ipv6: u64,
    /// The first link type that could not be decoded, and its record.
    unsupported_link: Option<(LinkType, u64)>,
}

struct Source {
    reader: CaptureReader,
    reassembler: CaptureReassembler,
    stats: ScanStats,
}

/// BSD `AF_INET6` values (FreeBSD, OpenBSD/NetBSD, Darwin) in loopback headers.
const BSD_AF_INET6: [u32; 3] = [28, 24, 30];
const ETHERTYPE_IPV6: u16 = 0x86dd;

fn is_ipv6(record: &Record, packet: &Packet<'_>) -> bool {
    match link::split(record.link_type, &record.data) {
        LinkPayload::Ethernet(_) => packet
            .ethernet
            .as_ref()
            .is_some_and(|e| e.ether_type.0 == ETHERTYPE_IPV6),
        LinkPayload::EtherType { ether_type, .. } => ether_type == ETHERTYPE_IPV6,
        LinkPayload::OtherFamily(family) => BSD_AF_INET6.contains(&family),
        _ => false,
    }
}

impl Source {
    fn open(path: &Path) -> Result<Source, ReplayError> {
        let name = path.to_string_lossy();
        Ok(Source {
            reader: CaptureReader::open(&name)?,
            reassembler: CaptureReassembler::new(),
            stats: ScanStats::default(),
        })
    }

    /// The next packet replay can use, reassembling fragments on the way.
    fn next_seen(&mut self) -> Result<Option<Seen>, ReplayError> {
        while let Some(record) = self.reader.next_record()? {
            self.stats.records += 1;
            let (packet, _) = decode_record(&record);
            let Some(ip) = packet.ipv4.as_ref() else {
                if is_ipv6(&record, &packet) {
                    self.stats.ipv6 += 1;
                } else if let LinkPayload::Unsupported(link) =
                    link::split(record.link_type, &record.data)
                {
                    self.stats
                        .unsupported_link
                        .get_or_insert((link, record.number));
                }
                continue;
            };
            self.stats.ipv4 += 1;
            if ip.header.is_fragment() {
                let outcome = self.reassembler.push(&record);
                let Some(datagram) = outcome.datagram else {
                    continue;
                };
                let whole = Packet::parse_ipv4(&datagram);
                if let Some(seen) = seen_from(&whole, record.number, record.timestamp) {
                    return Ok(Some(seen));
                }
                continue;
            }
            if let Some(seen) = seen_from(&packet, record.number, record.timestamp) {
                return Ok(Some(seen));
            }
        }
        Ok(None)
    }
}

/// Conversations in order of first appearance, with their keys.
#[derive(Default)]
struct ConversationTable {
    list: Vec<Conversation>,
    keys: Vec<Key>,
    index: HashMap<Key, usize>,
    /// Whether the default server is settled (TCP: a SYN seen; ICMP: a request seen).
    settled: Vec<bool>,
}

impl ConversationTable {
    fn note(&mut self, seen: &Seen) {
        let Some(key) = seen.key() else {
            return;
        };
        let index = match self.index.get(&key) {
            Some(&i) => i,
            // An ICMP error about a conversation not seen is not a conversation of its own.
            None if seen.is_icmp_error() => return,
            None if self.list.len() >= MAX_CONVERSATIONS => return,
            None => {
                let i = self.list.len();
                let (initiator, responder, identifier) = match &seen.kind {
                    SeenKind::Echo { identifier, .. } => (
                        SocketAddrV4::new(seen.src, 0),
                        SocketAddrV4::new(seen.dst, 0),
                        Some(*identifier),
                    ),
                    SeenKind::Tcp(t) => (
                        SocketAddrV4::new(seen.src, t.src_port),
                        SocketAddrV4::new(seen.dst, t.dst_port),
                        None,
                    ),
                    SeenKind::Udp {
                        src_port, dst_port, ..
                    } => (
                        SocketAddrV4::new(seen.src, *src_port),
                        SocketAddrV4::new(seen.dst, *dst_port),
                        None,
                    ),
                    SeenKind::IcmpError(_) => return,
                };
                self.list.push(Conversation {
                    index: i,
                    protocol: key.protocol,
                    initiator,
                    responder,
                    echo_identifier: identifier,
                    default_server: responder,
                    packets: 0,
                    first_record: seen.record,
                    last_record: seen.record,
                    first_time: seen.time,
                    last_time: seen.time,
                });
                self.keys.push(key);
                self.settled.push(key.protocol == ConversationProtocol::Udp);
                self.index.insert(key, i);
                i
            }
        };
        let conversation = &mut self.list[index];
        conversation.packets += 1;
        conversation.last_record = seen.record;
        conversation.last_time = seen.time;
        if !self.settled[index] {
            match &seen.kind {
                SeenKind::Tcp(t)
                    if t.flags.contains(TcpFlags::SYN) && !t.flags.contains(TcpFlags::ACK) =>
                {
                    conversation.default_server = SocketAddrV4::new(seen.dst, t.dst_port);
                    self.settled[index] = true;
                }
                SeenKind::Echo { request, .. } => {
                    let receiver = if *request { seen.dst } else { seen.src };
                    conversation.default_server = SocketAddrV4::new(receiver, 0);
                    self.settled[index] = *request;
                }
                _ => {}
            }
        }
    }
}

fn scan(path: &Path) -> Result<(ConversationTable, ScanStats), ReplayError> {
    let mut source = Source::open(path)?;
    let mut table = ConversationTable::default();
    while let Some(seen) = source.next_seen()? {
        table.note(&seen);
    }
    Ok((table, source.stats))
}

/// The TCP, UDP and ICMP echo conversations of a capture, in order of first appearance.
pub fn conversations(path: &Path) -> Result<Vec<Conversation>, ReplayError> {
    Ok(scan(path)?.0.list)
}

// ---------------------------------------------------------------------------------------------
// Building the script.

/// The recorded conversation as a scenario in which the target plays the recorded server.
pub fn script_from_capture(path: &Path, options: &ReplayOptions) -> Result<Script, ReplayError> {
    let file = path.to_string_lossy().into_owned();
    let error = |record, problem| ReplayError {
        file: file.clone(),
        record,
        problem,
    };
    let (table, stats) = scan(path)?;
    if table.list.is_empty() {
        let problem = if stats.ipv4 == 0 && stats.ipv6 > 0 {
            ReplayProblem::Ipv6Only {
                records: stats.records,
            }
        } else if let (0, Some((link, record))) = (stats.ipv4, stats.unsupported_link) {
            return Err(error(Some(record), ReplayProblem::UnsupportedLink(link)));
        } else {
            ReplayProblem::NoConversation {
                records: stats.records,
            }
        };
        return Err(error(None, problem));
    }
    let index = match options.conversation {
        Some(i) if i >= table.list.len() => {
            return Err(error(
                None,
                ReplayProblem::ConversationOutOfRange {
                    index: i,
                    count: table.list.len(),
                },
            ))
        }
        Some(i) => i,
        None => [
            ConversationProtocol::Tcp,
            ConversationProtocol::Udp,
            ConversationProtocol::IcmpEcho,
        ]
        .iter()
        .find_map(|p| table.list.iter().position(|c| c.protocol == *p))
        .unwrap_or(0),
    };
    let conversation = table.list[index].clone();
    let key = table.keys[index];
    let echo = conversation.protocol == ConversationProtocol::IcmpEcho;
    let server = match options.server {
        None => conversation.default_server,
        Some(s) => {
            let ends = [conversation.initiator, conversation.responder];
            let found = ends
                .iter()
                .find(|e| if echo { e.ip() == s.ip() } else { **e == s });
            match found {
                Some(e) => *e,
                None => {
                    return Err(error(
                        None,
                        ReplayProblem::ServerNotInConversation {
                            server: s,
                            conversation: conversation.to_string(),
                        },
                    ))
                }
            }
        }
    };
    let peer = if server == conversation.initiator {
        conversation.responder
    } else {
        conversation.initiator
    };

    // Second pass: the conversation's packets.
    let mut source = Source::open(path)?;
    let mut packets = Vec::new();
    while let Some(seen) = source.next_seen()? {
        if seen.key() != Some(key) {
            continue;
        }
        if packets.len() >= MAX_REPLAY_PACKETS {
            return Err(error(
                Some(seen.record),
                ReplayProblem::TooManyPackets {
                    limit: MAX_REPLAY_PACKETS,
                },
            ));
        }
        packets.push(seen);
    }

    let ends = Ends { server, peer };
    let mut builder = Builder::new(conversation.first_time);
    match conversation.protocol {
        ConversationProtocol::Tcp => tcp_events(&mut builder, &ends, &packets)
            .map_err(|(record, problem)| error(Some(record), problem))?,
        ConversationProtocol::Udp => udp_events(&mut builder, &ends, &packets),
        ConversationProtocol::IcmpEcho => echo_events(&mut builder, &ends, &packets)
            .map_err(|(record, problem)| error(Some(record), problem))?,
    }

    let mut script = Script {
        path: None,
        description: format!(
            "Replay of {file}, conversation {conversation}.\n\
             The target plays {server_text}; the runner plays {peer_text}.",
            server_text = endpoint_text(server, echo),
            peer_text = endpoint_text(peer, echo),
        ),
        options: network_options(*server.ip(), *peer.ip()),
        requirements: Vec::new(),
        requires: Vec::new(),
        events: builder.events,
    };
    number_lines(&mut script);
    Ok(script)
}

fn endpoint_text(end: SocketAddrV4, echo: bool) -> String {
    if echo {
        end.ip().to_string()
    } else {
        end.to_string()
    }
}

/// `--local_ip`, `--remote_ip`, `--gateway_ip`, `--prefix_len` for a target at `server`
/// talking to `peer`: a /24 around the server; the peer is its own gateway when it is on
/// that /24, else a gateway at .254 (or .253 when the server holds .254) plays the router.
fn network_options(server: Ipv4Addr, peer: Ipv4Addr) -> Vec<(String, String)> {
    const PREFIX_LEN: u32 = 24;
    let mask = u32::MAX << (32 - PREFIX_LEN);
    let subnet = u32::from(server) & mask;
    let gateway = if u32::from(peer) & mask == subnet && peer != server {
        peer
    } else {
        let candidate = Ipv4Addr::from(subnet | 254);
        if candidate == server {
            Ipv4Addr::from(subnet | 253)
        } else {
            candidate
        }
    };
    vec![
        ("local_ip".into(), server.to_string()),
        ("remote_ip".into(), peer.to_string()),
        ("gateway_ip".into(), gateway.to_string()),
        ("prefix_len".into(), PREFIX_LEN.to_string()),
    ]
}

/// The two ends of the replayed conversation.
struct Ends {
    /// Played by the target.
    server: SocketAddrV4,
    /// Played by the runner.
    peer: SocketAddrV4,
}

/// Appends events, turning capture times into script times.
struct Builder {
    origin: Timestamp,
    /// Script time of the last event (times never go backwards, whatever the file says).
    last: Duration,
    events: Vec<Event>,
}

impl Builder {
    fn new(origin: Timestamp) -> Builder {
        Builder {
            origin,
            last: Duration::ZERO,
            events: Vec::new(),
        }
    }

    /// Capture time as script time: microseconds since the conversation's first packet.
    fn at(&self, t: Timestamp) -> Duration {
        let nanos = (i128::from(t.seconds) - i128::from(self.origin.seconds)) * 1_000_000_000
            + (i128::from(t.nanoseconds as i64) - i128::from(self.origin.nanoseconds as i64));
        let micros = (nanos / 1000).clamp(0, i128::from(u64::MAX)) as u64;
        Duration::from_micros(micros).max(self.last)
    }

    fn push(&mut self, time: TimeSpec, at: Duration, kind: EventKind) {
        self.last = at;
        self.events.push(Event {
            line: 0,
            time,
            kind,
            condition: None,
        });
    }

    fn packet(&mut self, t: Timestamp, packet: PacketEvent) {
        let at = self.at(t);
        let time = match packet.direction {
            Direction::Inbound => TimeSpec::Absolute(at),
            // Not before what precedes it in the script, and within the slack after the
            // recorded time.
            Direction::Outbound => TimeSpec::Range {
                start: self.last,
                end: at.saturating_add(OUTBOUND_WINDOW_SLACK),
                relative: false,
            },
        };
        self.push(time, at, EventKind::Packet(packet));
    }

    fn call(&mut self, t: Timestamp, name: &str, args: Vec<Expr>, result: i64) {
        self.call_errno(t, name, args, result, None)
    }

    fn call_errno(
        &mut self,
        t: Timestamp,
        name: &str,
        args: Vec<Expr>,
        result: i64,
        errno: Option<&str>,
    ) {
        let at = self.at(t);
        self.push(
            TimeSpec::Absolute(at),
            at,
            EventKind::Call(CallEvent {
                name: name.to_string(),
                args,
                result: Expr::Int(result),
                errno: errno.map(str::to_string),
            }),
        );
    }
}

fn sym(s: &str) -> Expr {
    Expr::Symbol(s.to_string())
}

fn int(n: impl Into<i64>) -> Expr {
    Expr::Int(n.into())
}

/// Sequence-number and timestamp bases of a TCP conversation: each side's ISN and first TSval.
#[derive(Debug, Default, Clone, Copy)]
struct TcpBases {
    peer_isn: u32,
    server_isn: u32,
    peer_ts: Option<u32>,
    server_ts: Option<u32>,
}

impl TcpBases {
    /// Base for sequence numbers of the side that sent (`from_server`).
    fn seq_base(&self, from_server: bool) -> u32 {
        if from_server {
            self.server_isn
        } else {
            self.peer_isn
        }
    }

    fn ts_base(&self, from_server: bool) -> Option<u32> {
        if from_server {
            self.server_ts
        } else {
            self.peer_ts
        }
    }

    /// The script form of a segment sent by the server (`from_server`) or the peer.
    fn spec(&self, t: &SeenTcp, from_server: bool) -> TcpSpec {
        let own = self.seq_base(from_server);
        let other = self.seq_base(!from_server);
        let ack_flag = t.flags.contains(TcpFlags::ACK);
        let seq = t.seq.wrapping_sub(own);
        let options = t
            .options
            .iter()
            .map(|o| match o {
                SeenOption::Nop => TcpOptionSpec::Nop,
                SeenOption::Eol => TcpOptionSpec::Eol,
                SeenOption::Mss(m) => TcpOptionSpec::Mss(*m),
                SeenOption::WindowScale(s) => TcpOptionSpec::WindowScale(*s),
                SeenOption::SackPermitted => TcpOptionSpec::SackPermitted,
                SeenOption::Sack(blocks) => TcpOptionSpec::Sack(
                    blocks
                        .iter()
                        .map(|(l, r)| (l.wrapping_sub(other), r.wrapping_sub(other)))
                        .collect(),
                ),
                SeenOption::Timestamp(value, echo) => TcpOptionSpec::Timestamp {
                    value: value.wrapping_sub(self.ts_base(from_server).unwrap_or(0)),
                    // A zero TSecr without ACK means "nothing echoed" [RFC 7323 § 3.2].
                    echo: if *echo == 0 && !ack_flag {
                        0
                    } else {
                        echo.wrapping_sub(self.ts_base(!from_server).unwrap_or(0))
                    },
                },
                SeenOption::Other(kind, data) => TcpOptionSpec::Other {
                    kind: *kind,
                    data: data.clone(),
                },
            })
            .collect::<Vec<_>>();
        let f = t.flags;
        TcpSpec {
            src_port: Some(t.src_port),
            dst_port: Some(t.dst_port),
            flags: TcpFlagsSpec {
                syn: f.contains(TcpFlags::SYN),
                fin: f.contains(TcpFlags::FIN),
                rst: f.contains(TcpFlags::RST),
                psh: f.contains(TcpFlags::PSH),
                ack: ack_flag,
                urg: f.contains(TcpFlags::URG),
                ece: f.contains(TcpFlags::ECE),
                cwr: f.contains(TcpFlags::CWR),
            },
            seq,
            any_seq: false,
            max_len: None,
            end: seq.wrapping_add(t.len),
            len: t.len,
            ack: ack_flag.then(|| t.ack.wrapping_sub(other)),
            window: Some(u32::from(t.window)),
            urgent: f.contains(TcpFlags::URG).then_some(t.urgent),
            options: if options.is_empty() {
                TcpOptionsSpec::None
            } else {
                TcpOptionsSpec::List(options)
            },
        }
    }
}

/// The direction of a packet seen from the target, or None when the target never saw it
/// (e.g. an ICMP error a router sent to the peer).
fn direction_of(seen: &Seen, ends: &Ends) -> Option<Direction> {
    if seen.is_icmp_error() {
        if seen.dst == *ends.server.ip() {
            Some(Direction::Inbound)
        } else if seen.src == *ends.server.ip() && seen.dst == *ends.peer.ip() {
            Some(Direction::Outbound)
        } else {
            None
        }
    } else if from_server(seen, ends) {
        Some(Direction::Outbound)
    } else {
        Some(Direction::Inbound)
    }
}

fn ip_spec(seen: &Seen, direction: Direction, ends: &Ends, with_addresses: bool) -> IpSpec {
    // A third party's source (a router's ICMP error) must be given; the ends are given when
    // the line names ports.
    let default_src = match direction {
        Direction::Inbound => *ends.peer.ip(),
        Direction::Outbound => *ends.server.ip(),
    };
    IpSpec {
        src: (with_addresses || seen.src != default_src).then_some(seen.src),
        dst: with_addresses.then_some(seen.dst),
        // ECN and DSCP the peer sent matter to the target; the target's own are its choice.
        tos: (direction == Direction::Inbound && seen.tos != 0).then_some(seen.tos),
        ..IpSpec::default()
    }
}

fn packet_event(direction: Direction, ip: IpSpec, body: PacketBody) -> PacketEvent {
    PacketEvent {
        direction,
        interface: 0,
        ethernet: EthernetSpec::default(),
        ip,
        body,
        times: Times::Once,
    }
}

/// An ICMP error line; quoted TCP sequence numbers go through `bases` when given.
fn icmp_error_event(
    seen: &Seen,
    error: &SeenIcmpError,
    direction: Direction,
    ends: &Ends,
    bases: Option<&TcpBases>,
) -> PacketEvent {
    let quote = &error.quote;
    let quoted_direction = if quote.src == *ends.server.ip() {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let quoted_ip = IpSpec {
        src: Some(quote.src),
        dst: Some(quote.dst),
        ..IpSpec::default()
    };
    let quoted_body = match &quote.what {
        QuotedTransport::Tcp(t) => bases.map(|b| {
            let mut spec = b.spec(t, quoted_direction == Direction::Outbound);
            // Only what identifies the segment; the rest of a quote is not compared.
            spec.window = None;
            spec.urgent = None;
            spec.options = TcpOptionsSpec::Any;
            PacketBody::Tcp(spec)
        }),
        QuotedTransport::Udp {
            src_port,
            dst_port,
            len,
        } => Some(PacketBody::Udp(UdpSpec {
            src_port: Some(*src_port),
            dst_port: Some(*dst_port),
            len: *len,
        })),
        _ => None,
    };
    let quoted = quoted_body.map(|body| Box::new(packet_event(quoted_direction, quoted_ip, body)));
    let body = PacketBody::Icmp(IcmpSpec {
        icmp_type: error.icmp_type,
        code: Some(error.code),
        mtu: error.mtu,
        echo: None,
        pointer: error.pointer,
        len: None,
        quoted,
    });
    packet_event(direction, ip_spec(seen, direction, ends, false), body)
}

/// In-order data a receiver has accumulated, from relative sequence numbers of segments:
/// how much each new segment makes readable.
struct ReceiveOrder {
    next: u32,
    /// Out-of-order ranges held (bounded; beyond the bound, the oldest is forgotten).
    held: Vec<(u32, u32)>,
}

const MAX_HELD_RANGES: usize = 256;

/// `a` is before `b` in sequence space [RFC 9293 § 3.4].
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl ReceiveOrder {
    fn new(next: u32) -> ReceiveOrder {
        ReceiveOrder {
            next,
            held: Vec::new(),
        }
    }

    /// Octets a segment `[start, end)` makes readable.
    fn arrive(&mut self, start: u32, end: u32) -> u32 {
        if !seq_lt(start, end) {
            return 0;
        }
        if seq_lt(self.next, start) {
            if self.held.len() >= MAX_HELD_RANGES {
                self.held.remove(0);
            }
            self.held.push((start, end));
            return 0;
        }
        let before = self.next;
        if seq_lt(self.next, end) {
            self.next = end;
        }
        // Held ranges the new data reaches.
        loop {
            let mut advanced = false;
            self.held.retain(|&(s, e)| {
                if seq_lt(self.next, s) {
                    return true;
                }
                if seq_lt(self.next, e) {
                    self.next = e;
                    advanced = true;
                }
                false
            });
            if !advanced {
                break;
            }
        }
        self.next.wrapping_sub(before)
    }
}

fn from_server(seen: &Seen, ends: &Ends) -> bool {
    seen.src == *ends.server.ip()
        && match &seen.kind {
            SeenKind::Tcp(t) => t.src_port == ends.server.port(),
            SeenKind::Udp { src_port, .. } => *src_port == ends.server.port(),
            _ => true,
        }
}

type BuildError = (u64, ReplayProblem);

/// TCP: the handshake, data and close, with the socket calls that make the target's
/// application act as the recorded server's did.
fn tcp_events(builder: &mut Builder, ends: &Ends, packets: &[Seen]) -> Result<(), BuildError> {
    let segments = || {
        packets.iter().filter_map(|p| match &p.kind {
            SeenKind::Tcp(t) => Some((p, t)),
            _ => None,
        })
    };
    let is_syn = |t: &SeenTcp| t.flags.contains(TcpFlags::SYN);
    let mut bases = TcpBases::default();
    let peer_syn = segments().find(|(p, t)| !from_server(p, ends) && is_syn(t));
    let Some((_, peer_syn)) = peer_syn else {
        return Err((
            packets.first().map_or(0, |p| p.record),
            ReplayProblem::NoHandshake { peer: ends.peer },
        ));
    };
    bases.peer_isn = peer_syn.seq;
    let server_syn = segments().find(|(p, t)| from_server(p, ends) && is_syn(t));
    bases.server_isn = server_syn.map_or(0, |(_, t)| t.seq);
    let first_ts = |server: bool| {
        segments()
            .filter(|(p, _)| from_server(p, ends) == server)
            .find_map(|(_, t)| {
                t.options.iter().find_map(|o| match o {
                    SeenOption::Timestamp(value, _) => Some(*value),
                    _ => None,
                })
            })
    };
    bases.peer_ts = first_ts(false);
    bases.server_ts = first_ts(true);

    // Who opened: the first SYN of the conversation.
    let active = segments()
        .find(|(_, t)| is_syn(t))
        .is_some_and(|(p, _)| from_server(p, ends));
    let passive_listen = !active && server_syn.is_some();
    // Data from the peer after the server's FIN: the server only shut its sending side.
    let server_fin_at = packets.iter().position(|p| {
        matches!(&p.kind, SeenKind::Tcp(t) if from_server(p, ends) && t.flags.contains(TcpFlags::FIN))
    });
    let half_close = server_fin_at.is_some_and(|at| {
        packets[at..]
            .iter()
            .any(|p| matches!(&p.kind, SeenKind::Tcp(t) if !from_server(p, ends) && t.len > 0))
    });

    let start = packets.first().map_or(builder.origin, |p| p.time);
    let listener = 3;
    let connection: i64 = if active { 3 } else { 4 };
    let server_addr = Expr::Address(ends.server);
    if passive_listen {
        builder.call(
            start,
            "socket",
            vec![Expr::Ellipsis, sym("SOCK_STREAM"), sym("IPPROTO_TCP")],
            listener,
        );
        builder.call(
            start,
            "bind",
            vec![int(listener), server_addr.clone(), Expr::Ellipsis],
            0,
        );
        builder.call(start, "listen", vec![int(listener), int(1)], 0);
    } else if active {
        builder.call(
            start,
            "socket",
            vec![Expr::Ellipsis, sym("SOCK_STREAM"), sym("IPPROTO_TCP")],
            connection,
        );
        builder.call(
            start,
            "bind",
            vec![int(connection), server_addr, Expr::Ellipsis],
            0,
        );
        builder.call(
            start,
            "fcntl",
            vec![
                int(connection),
                sym("F_SETFL"),
                Expr::Or(vec![sym("O_RDWR"), sym("O_NONBLOCK")]),
            ],
            0,
        );
        builder.call_errno(
            start,
            "connect",
            vec![int(connection), Expr::Address(ends.peer), Expr::Ellipsis],
            -1,
            Some("EINPROGRESS"),
        );
    }

    // The application's view of the connection.
    let mut open = active; // the descriptor exists (connected, or accepted)
    let mut closed = false; // the application closed (or shut down) its side
    let mut unread: u32 = 0; // data that arrived before accept
    let mut received = ReceiveOrder::new(1);
    let mut sent_end: u32 = 1; // relative end of the data the application has written
    for seen in packets {
        let Some(direction) = direction_of(seen, ends) else {
            continue;
        };
        let t = match &seen.kind {
            SeenKind::Tcp(t) => t,
            SeenKind::IcmpError(e) => {
                let event = icmp_error_event(seen, e, direction, ends, Some(&bases));
                builder.packet(seen.time, event);
                continue;
            }
            _ => continue,
        };
        let outbound = direction == Direction::Outbound;
        let spec = bases.spec(t, outbound);
        let data_start = spec.seq.wrapping_add(u32::from(spec.flags.syn));
        let data_end = data_start.wrapping_add(t.len);
        let line = packet_event(
            direction,
            ip_spec(seen, direction, ends, true),
            PacketBody::Tcp(spec.clone()),
        );
        if outbound {
            if open && !closed && t.len > 0 && seq_lt(sent_end, data_end) {
                let start = if seq_lt(sent_end, data_start) {
                    data_start
                } else {
                    sent_end
                };
                let new = data_end.wrapping_sub(start);
                builder.call(
                    seen.time,
                    "write",
                    vec![int(connection), Expr::Ellipsis, int(new)],
                    i64::from(new),
                );
                sent_end = data_end;
            }
            if open && !closed && spec.flags.fin {
                if half_close {
                    builder.call(
                        seen.time,
                        "shutdown",
                        vec![int(connection), sym("SHUT_WR")],
                        0,
                    );
                } else {
                    builder.call(seen.time, "close", vec![int(connection)], 0);
                }
                closed = true;
            } else if open && !closed && spec.flags.rst {
                // An abortive close: SO_LINGER with a zero timeout, then close
                // [RFC 9293 § 3.10.5, ABORT].
                builder.call(
                    seen.time,
                    "setsockopt",
                    vec![
                        int(connection),
                        sym("SOL_SOCKET"),
                        sym("SO_LINGER"),
                        Expr::Struct(vec![
                            ("l_onoff".into(), int(1)),
                            ("l_linger".into(), int(0)),
                        ]),
                        int(8),
                    ],
                    0,
                );
                builder.call(seen.time, "close", vec![int(connection)], 0);
                closed = true;
            }
            builder.packet(seen.time, line);
            continue;
        }
        builder.packet(seen.time, line);
        let readable = if spec.flags.rst {
            0
        } else {
            received.arrive(data_start, data_end)
        };
        if passive_listen
            && !open
            && !spec.flags.syn
            && !spec.flags.rst
            && spec.ack.is_some_and(|a| a != 0)
        {
            // The handshake is complete: the connection can be accepted.
            builder.call(
                seen.time,
                "accept",
                vec![int(listener), Expr::Ellipsis, Expr::Ellipsis],
                connection,
            );
            open = true;
        }
        unread = unread.saturating_add(readable);
        if open && unread > 0 && (!closed || half_close) {
            builder.call(
                seen.time,
                "read",
                vec![int(connection), Expr::Ellipsis, int(unread)],
                i64::from(unread),
            );
            unread = 0;
        }
    }
    Ok(())
}

/// UDP: a socket bound to the server's port receives what the peer sent and sends what the
/// server sent. No socket when the server answered with port unreachable and never sent.
fn udp_events(builder: &mut Builder, ends: &Ends, packets: &[Seen]) {
    let server_sends = packets
        .iter()
        .any(|p| matches!(p.kind, SeenKind::Udp { .. }) && from_server(p, ends));
    let server_refuses = packets.iter().any(|p| {
        matches!(&p.kind, SeenKind::IcmpError(e) if e.icmp_type == 3 && e.code == 3)
            && p.src == *ends.server.ip()
    });
    let bound = server_sends || !server_refuses;
    let fd = 3;
    if bound {
        let start = packets.first().map_or(builder.origin, |p| p.time);
        builder.call(
            start,
            "socket",
            vec![Expr::Ellipsis, sym("SOCK_DGRAM"), sym("IPPROTO_UDP")],
            fd,
        );
        builder.call(
            start,
            "bind",
            vec![int(fd), Expr::Address(ends.server), Expr::Ellipsis],
            0,
        );
    }
    for seen in packets {
        let Some(direction) = direction_of(seen, ends) else {
            continue;
        };
        match &seen.kind {
            SeenKind::Udp {
                src_port,
                dst_port,
                len,
            } => {
                let body = PacketBody::Udp(UdpSpec {
                    src_port: Some(*src_port),
                    dst_port: Some(*dst_port),
                    len: *len,
                });
                let line = packet_event(direction, ip_spec(seen, direction, ends, true), body);
                let len = i64::try_from(*len).unwrap_or(i64::MAX);
                if direction == Direction::Outbound {
                    if bound {
                        builder.call(
                            seen.time,
                            "sendto",
                            vec![
                                int(fd),
                                Expr::Ellipsis,
                                int(len),
                                int(0),
                                Expr::Address(ends.peer),
                            ],
                            len,
                        );
                    }
                    builder.packet(seen.time, line);
                } else {
                    builder.packet(seen.time, line);
                    if bound {
                        builder.call(
                            seen.time,
                            "recvfrom",
                            vec![int(fd), Expr::Ellipsis, int(len), int(0), Expr::Ellipsis],
                            len,
                        );
                    }
                }
            }
            SeenKind::IcmpError(e) => {
                let event = icmp_error_event(seen, e, direction, ends, None);
                builder.packet(seen.time, event);
            }
            _ => {}
        }
    }
}

/// ICMP echo: requests in, replies expected; the target's stack answers by itself.
fn echo_events(builder: &mut Builder, ends: &Ends, packets: &[Seen]) -> Result<(), BuildError> {
    for seen in packets {
        let Some(direction) = direction_of(seen, ends) else {
            continue;
        };
        match &seen.kind {
            SeenKind::Echo {
                request,
                identifier,
                sequence,
                len,
            } => {
                if *request && direction == Direction::Outbound {
                    return Err((
                        seen.record,
                        ReplayProblem::TargetSendsEchoRequests {
                            server: *ends.server.ip(),
                        },
                    ));
                }
                let body = PacketBody::Icmp(IcmpSpec {
                    icmp_type: if *request { 8 } else { 0 },
                    // Echo has code 0 [RFC 792]; left to the default, as scenarios write it.
                    code: None,
                    mtu: None,
                    echo: Some((*identifier, *sequence)),
                    pointer: None,
                    len: Some(*len),
                    quoted: None,
                });
                let line = packet_event(direction, ip_spec(seen, direction, ends, false), body);
                builder.packet(seen.time, line);
            }
            SeenKind::IcmpError(e) => {
                let event = icmp_error_event(seen, e, direction, ends, None);
                builder.packet(seen.time, event);
            }
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rendering a script as packetdrill text.

/// Sets each event's line number to the line [`script_to_text`] puts it on.
fn number_lines(script: &mut Script) {
    let (_, lines) = render(script);
    for (event, line) in script.events.iter_mut().zip(lines) {
        event.line = line;
    }
}

/// A script as packetdrill text (with wirecheck's extensions), such that parsing the text
/// gives the script back: the description as a comment block, option lines, then one line per
/// event.
pub fn script_to_text(script: &Script) -> String {
    render(script).0
}

/// The text and the 1-based line of each event.
fn render(script: &Script) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut line = 1;
    let mut push_line = |out: &mut String, text: &str| {
        out.push_str(text);
        out.push('\n');
        line += 1 + text.matches('\n').count();
        line
    };
    for text in script.description.lines() {
        let comment = if text.is_empty() {
            "//".to_string()
        } else {
            format!("// {text}")
        };
        push_line(&mut out, &comment);
    }
    if !script.description.is_empty() {
        push_line(&mut out, "");
    }
    let mut any_option = false;
    for (name, value) in &script.options {
        push_line(&mut out, &format!("--{name}={value}"));
        any_option = true;
    }
    // A script built in code may list requirements without the option line a parser keeps.
    let has_option = |name: &str| script.options.iter().any(|(n, _)| n == name);
    if !script.requirements.is_empty() && !has_option("requirements") {
        push_line(
            &mut out,
            &format!("--requirements={}", script.requirements.join(",")),
        );
        any_option = true;
    }
    if !script.requires.is_empty() && !has_option("requires") {
        push_line(
            &mut out,
            &format!("--requires={}", script.requires.join(",")),
        );
        any_option = true;
    }
    if any_option {
        push_line(&mut out, "");
    }
    let mut lines = Vec::with_capacity(script.events.len());
    // Runs of events under one `#ifdef`/`#ifndef` condition are bracketed by the directive
    // and `#endif`.
    let mut open: Option<&Condition> = None;
    for event in &script.events {
        if open != event.condition.as_ref() {
            if open.is_some() {
                push_line(&mut out, "#endif");
            }
            if let Some(c) = &event.condition {
                let directive = if c.when_defined { "ifdef" } else { "ifndef" };
                push_line(&mut out, &format!("#{directive} {}", c.symbol));
            }
            open = event.condition.as_ref();
        }
        let text = format!("{} {}", time_text(&event.time), event_text(&event.kind));
        // The line the event starts on is the current one.
        let next = push_line(&mut out, &text);
        lines.push(next - 1 - text.matches('\n').count());
    }
    if open.is_some() {
        push_line(&mut out, "#endif");
    }
    (out, lines)
}

/// Seconds with six decimals (nine when the time is not whole microseconds).
fn seconds_text(d: Duration) -> String {
    if d.subsec_nanos() % 1000 == 0 {
        format!("{}.{:06}", d.as_secs(), d.subsec_micros())
    } else {
        format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
    }
}

fn time_text(time: &TimeSpec) -> String {
    let sign = |relative: bool| if relative { "+" } else { "" };
    match *time {
        TimeSpec::Absolute(d) => seconds_text(d),
        TimeSpec::Relative(d) => format!("+{}", seconds_text(d)),
        TimeSpec::Range {
            start,
            end,
            relative,
        } => format!(
            "{s}{}~{s}{}",
            seconds_text(start),
            seconds_text(end),
            s = sign(relative)
        ),
        TimeSpec::Any => "*".to_string(),
        TimeSpec::Blocking {
            start,
            end,
            relative,
        } => format!(
            "{s}{}...{s}{}",
            seconds_text(start),
            seconds_text(end),
            s = sign(relative)
        ),
    }
}

fn event_text(kind: &EventKind) -> String {
    match kind {
        EventKind::Packet(p) => packet_text(p),
        EventKind::Call(c) => call_text(c),
        EventKind::Shell(command) => format!("`{command}`"),
        EventKind::Code(code) => format!("%{{ {code} }}%"),
        EventKind::Batch(packets) => {
            let lines: Vec<String> = packets.iter().map(packet_text).collect();
            lines.join("\n& ")
        }
    }
}

fn call_text(call: &CallEvent) -> String {
    let args: Vec<String> = call.args.iter().map(expr_text).collect();
    let mut text = format!(
        "{}({}) = {}",
        call.name,
        args.join(", "),
        expr_text(&call.result)
    );
    if let Some(errno) = &call.errno {
        text.push(' ');
        text.push_str(errno);
    }
    text
}

fn expr_text(expr: &Expr) -> String {
    match expr {
        Expr::Ellipsis => "...".to_string(),
        Expr::Int(n) => n.to_string(),
        Expr::Symbol(s) => s.clone(),
        Expr::Or(items) => items.iter().map(expr_text).collect::<Vec<_>>().join("|"),
        Expr::List(items) => format!(
            "[{}]",
            items.iter().map(expr_text).collect::<Vec<_>>().join(", ")
        ),
        Expr::Struct(fields) => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(name, value)| match value {
                    // A bare `...` among the fields (see `struct_fields`), not `...=...`.
                    Expr::Ellipsis if name == "..." => "...".to_string(),
                    _ => format!("{name}={}", expr_text(value)),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::String(s) => {
            let mut text = String::from('"');
            for c in s.chars() {
                match c {
                    '\\' => text.push_str("\\\\"),
                    '"' => text.push_str("\\\""),
                    '\n' => text.push_str("\\n"),
                    '\t' => text.push_str("\\t"),
                    '\r' => text.push_str("\\r"),
                    '\0' => text.push_str("\\0"),
                    c => text.push(c),
                }
            }
            text.push('"');
            text
        }
        Expr::Address(a) => a.to_string(),
        Expr::Ip(ip) => ip.to_string(),
    }
}

/// `ip[...]` for the fields other than addresses shown as `A:port > B:port`.
fn ip_block(ip: &IpSpec, addresses_shown: bool) -> Option<String> {
    let mut parts = Vec::new();
    if !addresses_shown {
        if let Some(src) = ip.src {
            parts.push(format!("src={src}"));
        }
        if let Some(dst) = ip.dst {
            parts.push(format!("dst={dst}"));
        }
    }
    if let Some(ttl) = ip.ttl {
        parts.push(format!("ttl={ttl}"));
    }
    if let Some(tos) = ip.tos {
        parts.push(format!("tos={tos}"));
    }
    if let Some(id) = ip.id {
        parts.push(format!("id={id}"));
    }
    if ip.dont_fragment == Some(true) {
        parts.push("df".to_string());
    }
    if let Some(fragment) = ip.fragment {
        parts.push(format!("off={}", fragment.offset));
        if fragment.more {
            parts.push("mf".to_string());
        }
    }
    match &ip.options {
        Some(options) if options.is_empty() => parts.push("opts=none".to_string()),
        Some(options) => {
            let hex: String = options.iter().map(|b| format!("{b:02x}")).collect();
            parts.push(format!("opts={hex}"));
        }
        None => {}
    }
    if ip.bad_header_checksum {
        parts.push("csum=bad".to_string());
    }
    match ip.transport_checksum {
        Some(ChecksumSpec::Bad) => parts.push("l4csum=bad".to_string()),
        Some(ChecksumSpec::Zero) => parts.push("l4csum=0".to_string()),
        None => {}
    }
    (!parts.is_empty()).then(|| format!("ip[{}]", parts.join(" ")))
}

/// `A:p > B:q ` when the line gives both ends.
fn ends_text(ip: &IpSpec, src_port: Option<u16>, dst_port: Option<u16>) -> Option<String> {
    match (ip.src, src_port, ip.dst, dst_port) {
        (Some(s), Some(sp), Some(d), Some(dp)) => Some(format!("{s}:{sp} > {d}:{dp}")),
        _ => None,
    }
}

fn packet_text(p: &PacketEvent) -> String {
    let mut parts = Vec::new();
    if p.interface != 0 {
        parts.push(format!("eth{}", p.interface));
    }
    parts.push(
        match p.direction {
            Direction::Inbound => "<",
            Direction::Outbound => ">",
        }
        .to_string(),
    );
    if let Some(ecn) = p.ip.ecn {
        parts.push(
            match ecn {
                EcnSpec::NotEct => "[noecn]",
                EcnSpec::Ect0 => "[ect0]",
                EcnSpec::Ect1 => "[ect1]",
                EcnSpec::Ect0Or1 => "[ect01]",
                EcnSpec::Ce => "[ce]",
            }
            .to_string(),
        );
    }
    let mut ether = Vec::new();
    if let Some(src) = p.ethernet.src {
        ether.push(format!("src={src}"));
    }
    if let Some(dst) = p.ethernet.dst {
        ether.push(format!("dst={dst}"));
    }
    if !ether.is_empty() {
        parts.push(format!("ether[{}]", ether.join(" ")));
    }
    parts.push(packet_body_text(&p.ip, &p.body));
    match p.times {
        Times::Once => {}
        Times::Repeated => parts.push("repeated".to_string()),
        Times::Optional => parts.push("optional".to_string()),
    }
    parts.join(" ")
}

/// A packet without its direction (also used inside an ICMP error's `[...]`).
fn packet_body_text(ip: &IpSpec, body: &PacketBody) -> String {
    let (src_port, dst_port) = match body {
        PacketBody::Tcp(t) => (t.src_port, t.dst_port),
        PacketBody::Udp(u) => (u.src_port, u.dst_port),
        _ => (None, None),
    };
    let ends = ends_text(ip, src_port, dst_port);
    let mut parts = Vec::new();
    // As the parser reads them: `ip[...]`, then the ends, then the body.
    if let Some(block) = ip_block(ip, ends.is_some()) {
        parts.push(block);
    }
    if let Some(ends) = ends {
        parts.push(ends);
    }
    parts.push(match body {
        PacketBody::Tcp(t) => tcp_text(t),
        PacketBody::Udp(u) => format!("udp ({})", u.len),
        PacketBody::Icmp(i) => icmp_text(i),
        PacketBody::Arp(a) => arp_text(a),
        PacketBody::Igmp(g) => igmp_text(g),
        PacketBody::RawIp { protocol, len } => format!("raw {protocol} ({len})"),
    });
    parts.join(" ")
}

fn tcp_flags_text(f: &TcpFlagsSpec) -> String {
    let mut s = String::new();
    for (on, letter) in [
        (f.syn, 'S'),
        (f.fin, 'F'),
        (f.rst, 'R'),
        (f.psh, 'P'),
        (f.urg, 'U'),
        (f.ece, 'E'),
        (f.cwr, 'W'),
        (f.ack, '.'),
    ] {
        if on {
            s.push(letter);
        }
    }
    s
}

fn tcp_text(t: &TcpSpec) -> String {
    let mut s = String::new();
    let flags = tcp_flags_text(&t.flags);
    if !flags.is_empty() {
        s.push_str(&flags);
        s.push(' ');
    }
    if t.any_seq {
        match t.max_len {
            Some(max) => s.push_str(&format!("...({}~{max})", t.len)),
            None => s.push_str(&format!("...({})", t.len)),
        }
    } else {
        s.push_str(&format!("{}:{}({})", t.seq, t.end, t.len));
    }
    if let Some(ack) = t.ack {
        s.push_str(&format!(" ack {ack}"));
    }
    if let Some(window) = t.window {
        s.push_str(&format!(" win {window}"));
    }
    if let Some(urgent) = t.urgent {
        s.push_str(&format!(" urg {urgent}"));
    }
    match &t.options {
        TcpOptionsSpec::None => {}
        TcpOptionsSpec::Any => s.push_str(" <...>"),
        TcpOptionsSpec::List(options) => {
            let items: Vec<String> = options.iter().map(tcp_option_text).collect();
            s.push_str(&format!(" <{}>", items.join(",")));
        }
    }
    s
}

fn tcp_option_text(o: &TcpOptionSpec) -> String {
    match o {
        TcpOptionSpec::Nop => "nop".into(),
        TcpOptionSpec::Eol => "eol".into(),
        TcpOptionSpec::Mss(m) => format!("mss {m}"),
        TcpOptionSpec::WindowScale(s) => format!("wscale {s}"),
        TcpOptionSpec::SackPermitted => "sackOK".into(),
        TcpOptionSpec::Sack(blocks) => {
            let blocks: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}:{r}")).collect();
            format!("sack {}", blocks.join(" "))
        }
        TcpOptionSpec::Timestamp { value, echo } => format!("TS val {value} ecr {echo}"),
        TcpOptionSpec::Other { kind, data } => {
            let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
            if hex.is_empty() {
                format!("opt {kind}")
            } else {
                format!("opt {kind} {hex}")
            }
        }
        TcpOptionSpec::Raw(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("bytes {hex}")
        }
    }
}

fn icmp_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "echo_reply",
        3 => "unreachable",
        4 => "source_quench",
        5 => "redirect",
        8 => "echo_request",
        11 => "time_exceeded",
        12 => "parameter_problem",
        13 => "timestamp_request",
        14 => "timestamp_reply",
        _ => return None,
    })
}

fn icmp_code_name(t: u8, code: u8) -> Option<&'static str> {
    Some(match (t, code) {
        (3, 0) => "net_unreachable",
        (3, 1) => "host_unreachable",
        (3, 2) => "protocol_unreachable",
        (3, 3) => "port_unreachable",
        (3, 4) => "frag_needed",
        (11, 0) => "ttl_exceeded",
        (11, 1) => "reassembly_timeout",
        _ => return None,
    })
}

fn icmp_text(i: &IcmpSpec) -> String {
    let mut s = String::from("icmp ");
    match icmp_type_name(i.icmp_type) {
        Some(name) => s.push_str(name),
        None => s.push_str(&format!("type {}", i.icmp_type)),
    }
    if let Some(code) = i.code {
        match icmp_code_name(i.icmp_type, code) {
            Some(name) => s.push_str(&format!(" {name}")),
            None => s.push_str(&format!(" code {code}")),
        }
    }
    if let Some(mtu) = i.mtu {
        s.push_str(&format!(" mtu {mtu}"));
    }
    if let Some((id, seq)) = i.echo {
        s.push_str(&format!(" id {id} seq {seq}"));
    }
    if let Some(pointer) = i.pointer {
        s.push_str(&format!(" pointer {pointer}"));
    }
    if let Some(len) = i.len {
        s.push_str(&format!(" ({len})"));
    }
    if let Some(quoted) = &i.quoted {
        s.push_str(&format!(
            " [{}]",
            packet_body_text(&quoted.ip, &quoted.body)
        ));
    }
    s
}

fn arp_text(a: &ArpSpec) -> String {
    match a {
        ArpSpec::Request {
            target_ip,
            sender_ip,
        } => format!("arp who-has {target_ip} tell {sender_ip}"),
        ArpSpec::Reply {
            sender_ip,
            sender_mac,
            target_ip,
        } => {
            let mac = sender_mac.map_or("*".to_string(), |m| m.to_string());
            match target_ip {
                Some(t) => format!("arp reply {sender_ip} is-at {mac} to {t}"),
                None => format!("arp reply {sender_ip} is-at {mac}"),
            }
        }
    }
}

fn igmp_record_type_name(t: u8) -> String {
    match t {
        1 => "mode_is_include".into(),
        2 => "mode_is_exclude".into(),
        3 => "change_to_include".into(),
        4 => "change_to_exclude".into(),
        5 => "allow_new_sources".into(),
        6 => "block_old_sources".into(),
        other => format!("type_{other}"),
    }
}

fn address_list(addresses: &[Ipv4Addr]) -> String {
    let items: Vec<String> = addresses.iter().map(Ipv4Addr::to_string).collect();
    format!("[{}]", items.join(" "))
}

fn igmp_text(g: &IgmpSpec) -> String {
    match g {
        IgmpSpec::Query {
            version: 1,
            group,
            max_resp: 0,
            sources,
        } if group.is_unspecified() && sources.is_empty() => "igmp v1 query".into(),
        IgmpSpec::Query {
            version,
            group,
            max_resp,
            sources,
        } => {
            let mut s = format!("igmp v{version} query group {group} max_resp {max_resp}");
            if *version == 3 {
                s.push_str(&format!(" sources {}", address_list(sources)));
            }
            s
        }
        IgmpSpec::Report { version, group } => format!("igmp v{version} report {group}"),
        IgmpSpec::Leave { group } => format!("igmp leave {group}"),
        IgmpSpec::V3Report { records } => {
            let records: Vec<String> = records
                .iter()
                .map(|(t, group, sources)| {
                    format!(
                        "{} {group} {}",
                        igmp_record_type_name(*t),
                        address_list(sources)
                    )
                })
                .collect();
            format!("igmp v3 report [{}]", records.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn recorded(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../captures/recorded")
            .join(name)
    }

    fn script(name: &str, options: ReplayOptions) -> Script {
        script_from_capture(&recorded(name), &options).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn error(path: &Path, options: ReplayOptions) -> ReplayError {
        match script_from_capture(path, &options) {
            Ok(s) => panic!(
                "{}: expected an error, got\n{}",
                path.display(),
                script_to_text(&s)
            ),
            Err(e) => e,
        }
    }

    /// One short line per event, written from the syntax tree's fields (not the renderer):
    /// `< S 0:0(0)`, `> . 1:1(0) ack 1449`, `accept(3)=4`, `read(4,1448)=1448`.
    fn summary(script: &Script) -> Vec<String> {
        script
            .events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Packet(p) => {
                    let dir = match p.direction {
                        Direction::Inbound => "<",
                        Direction::Outbound => ">",
                    };
                    match &p.body {
                        PacketBody::Tcp(t) => {
                            let f = t.flags;
                            let mut flags = String::new();
                            for (on, c) in [
                                (f.syn, 'S'),
                                (f.fin, 'F'),
                                (f.rst, 'R'),
                                (f.psh, 'P'),
                                (f.ack, '.'),
                            ] {
                                if on {
                                    flags.push(c);
                                }
                            }
                            let ack = t.ack.map(|a| format!(" ack {a}")).unwrap_or_default();
                            format!("{dir} {flags} {}:{}({}){ack}", t.seq, t.end, t.len)
                        }
                        PacketBody::Udp(u) => format!("{dir} udp ({})", u.len),
                        PacketBody::Icmp(i) => format!(
                            "{dir} icmp {}/{:?} echo {:?} len {:?}",
                            i.icmp_type, i.code, i.echo, i.len
                        ),
                        other => format!("{dir} {other:?}"),
                    }
                }
                EventKind::Call(c) => {
                    let args: Vec<String> = c
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            Expr::Int(n) => Some(n.to_string()),
                            Expr::Address(a) => Some(a.to_string()),
                            _ => None,
                        })
                        .collect();
                    let errno = c
                        .errno
                        .as_deref()
                        .map(|e| format!(" {e}"))
                        .unwrap_or_default();
                    let result = match c.result {
                        Expr::Int(n) => n.to_string(),
                        ref other => format!("{other:?}"),
                    };
                    format!("{}({})={result}{errno}", c.name, args.join(","))
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    // tcp-transfer.pcap (see `wirecheck decode`): client 10.1.0.2:40001, ISN 3250587133;
    // server 10.2.0.2:5001, ISN 294131166. The client sends 1448 * 3 + 1032 = 5376 octets
    // (seq 3250587134 .. 3250592510), the server acknowledges each segment, the client closes
    // first (FIN at client seq 3250592510, relative 5377), the server answers FIN with
    // ack 3250592511 (relative 5378) and the client's last ACK acknowledges server seq
    // 294131168 (relative 2).
    #[test]
    fn tcp_transfer_becomes_handshake_reads_and_close_with_relative_numbers() {
        let s = script("tcp-transfer.pcap", ReplayOptions::default());
        let got: Vec<String> = summary(&s);
        let expected = strs(&[
            "socket()=3",
            "bind(3,10.2.0.2:5001)=0",
            "listen(3,1)=0",
            "< S 0:0(0)",
            "> S. 0:0(0) ack 1",
            "< . 1:1(0) ack 1",
            "accept(3)=4",
            "< . 1:1449(1448) ack 1",
            "read(4,1448)=1448",
            "< . 1449:2897(1448) ack 1",
            "read(4,1448)=1448",
            "< . 2897:4345(1448) ack 1",
            "read(4,1448)=1448",
            "< P. 4345:5377(1032) ack 1",
            "read(4,1032)=1032",
            "> . 1:1(0) ack 1449",
            "> . 1:1(0) ack 2897",
            "> . 1:1(0) ack 4345",
            "> . 1:1(0) ack 5377",
            "< F. 5377:5377(0) ack 1",
            "close(4)=0",
            "> F. 1:1(0) ack 5378",
            "< . 5378:5378(0) ack 2",
        ]);
        assert_eq!(got, expected);
    }

    fn tcp_spec(s: &Script, index: usize) -> (&PacketEvent, &TcpSpec) {
        let packets: Vec<&PacketEvent> = s
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Packet(p) => Some(p),
                _ => None,
            })
            .collect();
        match &packets[index].body {
            PacketBody::Tcp(t) => (packets[index], t),
            other => panic!("packet {index} is {other:?}"),
        }
    }

    #[test]
    fn tcp_transfer_keeps_windows_ports_options_and_relative_timestamps() {
        let s = script("tcp-transfer.pcap", ReplayOptions::default());
        let (syn_event, syn) = tcp_spec(&s, 0);
        assert_eq!(syn_event.ip.src, Some(Ipv4Addr::new(10, 1, 0, 2)));
        assert_eq!(syn_event.ip.dst, Some(Ipv4Addr::new(10, 2, 0, 2)));
        assert_eq!((syn.src_port, syn.dst_port), (Some(40001), Some(5001)));
        assert_eq!(syn.window, Some(64240));
        // Linux's SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 10.
        assert_eq!(
            syn.options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Mss(1460),
                TcpOptionSpec::SackPermitted,
                TcpOptionSpec::Timestamp { value: 0, echo: 0 },
                TcpOptionSpec::Nop,
                TcpOptionSpec::WindowScale(10),
            ])
        );
        let (_, syn_ack) = tcp_spec(&s, 1);
        assert_eq!(syn_ack.window, Some(65160));
        // The server's first ACK of data (record 8): TSval 1802794800 is one tick after its
        // first (1802794799); TSecr 2186376815 is one tick after the client's first.
        let (ack_event, ack) = tcp_spec(&s, 7);
        assert_eq!(ack_event.direction, Direction::Outbound);
        assert_eq!(ack.window, Some(67));
        assert_eq!(
            ack.options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Nop,
                TcpOptionSpec::Nop,
                TcpOptionSpec::Timestamp { value: 1, echo: 1 },
            ])
        );
        // The client's handshake ACK echoes the server's first TSval: relative 0.
        let (_, third) = tcp_spec(&s, 2);
        assert!(matches!(
            &third.options,
            TcpOptionsSpec::List(o) if o[2] == TcpOptionSpec::Timestamp { value: 1, echo: 0 }
        ));
    }

    #[test]
    fn times_are_relative_to_the_first_packet_and_outbound_lines_get_a_window() {
        let s = script("tcp-transfer.pcap", ReplayOptions::default());
        let times: Vec<TimeSpec> = s
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Packet(_)))
            .map(|e| e.time)
            .collect();
        // Record 4 was captured 377 µs after record 1.
        assert_eq!(times[3], TimeSpec::Absolute(Duration::from_micros(377)));
        // Record 8 (the first ACK, 414 µs) may come after record 7 (392 µs), the event before
        // it, and up to the slack after its recorded time.
        assert_eq!(
            times[7],
            TimeSpec::Range {
                start: Duration::from_micros(392),
                end: Duration::from_micros(414) + OUTBOUND_WINDOW_SLACK,
                relative: false,
            }
        );
        assert_eq!(s.option("local_ip"), Some("10.2.0.2"));
        assert_eq!(s.option("remote_ip"), Some("10.1.0.2"));
        // 10.1.0.2 is not on 10.2.0.0/24: a synthetic gateway plays the router.
        assert_eq!(s.option("gateway_ip"), Some("10.2.0.254"));
        assert_eq!(s.option("prefix_len"), Some("24"));
        assert!(
            s.description.contains("tcp-transfer.pcap"),
            "{}",
            s.description
        );
        assert!(s.description.contains("#0 TCP"), "{}", s.description);
    }

    #[test]
    fn gateway_is_the_peer_when_on_link_else_a_synthetic_254() {
        let gateway = |server: [u8; 4], peer: [u8; 4]| {
            network_options(Ipv4Addr::from(server), Ipv4Addr::from(peer))
                .into_iter()
                .find(|(n, _)| n == "gateway_ip")
                .map(|(_, v)| v)
                .unwrap()
        };
        assert_eq!(
            gateway([192, 168, 1, 10], [192, 168, 1, 20]),
            "192.168.1.20"
        );
        assert_eq!(
            gateway([192, 168, 1, 10], [192, 168, 2, 20]),
            "192.168.1.254"
        );
        assert_eq!(gateway([192, 168, 1, 254], [8, 8, 8, 8]), "192.168.1.253");
        // arp.pcap: a ping between 10.1.0.2 and 10.1.0.1, on one link.
        let s = script("arp.pcap", ReplayOptions::default());
        assert_eq!(s.option("local_ip"), Some("10.1.0.1"));
        assert_eq!(s.option("gateway_ip"), Some("10.1.0.2"));
    }

    #[test]
    fn the_active_opener_as_server_connects_writes_and_closes() {
        let s = script(
            "tcp-transfer.pcap",
            ReplayOptions {
                conversation: None,
                server: Some("10.1.0.2:40001".parse().unwrap()),
            },
        );
        let got = summary(&s);
        let expected = strs(&[
            "socket()=3",
            "bind(3,10.1.0.2:40001)=0",
            "fcntl(3)=0",
            "connect(3,10.2.0.2:5001)=-1 EINPROGRESS",
            "> S 0:0(0)",
            "< S. 0:0(0) ack 1",
            "> . 1:1(0) ack 1",
            "write(3,1448)=1448",
            "> . 1:1449(1448) ack 1",
            "write(3,1448)=1448",
            "> . 1449:2897(1448) ack 1",
            "write(3,1448)=1448",
            "> . 2897:4345(1448) ack 1",
            "write(3,1032)=1032",
            "> P. 4345:5377(1032) ack 1",
            "< . 1:1(0) ack 1449",
            "< . 1:1(0) ack 2897",
            "< . 1:1(0) ack 4345",
            "< . 1:1(0) ack 5377",
            "close(3)=0",
            "> F. 5377:5377(0) ack 1",
            "< F. 1:1(0) ack 5378",
            "> . 5378:5378(0) ack 2",
        ]);
        assert_eq!(got, expected);
        assert_eq!(s.option("local_ip"), Some("10.1.0.2"));
        assert_eq!(s.option("remote_ip"), Some("10.2.0.2"));
    }

    #[test]
    fn a_refused_connection_has_no_listener_and_expects_the_reset() {
        // tcp-refused.pcap: SYN to port 5002, answered RST+ACK seq 0 ack ISN+1.
        let s = script("tcp-refused.pcap", ReplayOptions::default());
        assert_eq!(summary(&s), strs(&["< S 0:0(0)", "> R. 0:0(0) ack 1"]));
    }

    #[test]
    fn udp_datagrams_are_received_on_a_bound_socket() {
        // udp.pcap: two datagrams from different client ports, so two conversations.
        let list = conversations(&recorded("udp.pcap")).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].initiator, "10.1.0.2:40001".parse().unwrap());
        assert_eq!(list[1].default_server, "10.2.0.2:5000".parse().unwrap());
        let s = script(
            "udp.pcap",
            ReplayOptions {
                conversation: Some(1),
                server: None,
            },
        );
        assert_eq!(
            summary(&s),
            strs(&[
                "socket()=3",
                "bind(3,10.2.0.2:5000)=0",
                "< udp (26)",
                "recvfrom(3,26,0)=26",
            ])
        );
    }

    #[test]
    fn the_server_side_of_udp_sends_what_the_recorded_one_sent() {
        // Playing the sender: the target must send the 29-octet datagram to 10.2.0.2:5000.
        let s = script(
            "udp.pcap",
            ReplayOptions {
                conversation: Some(0),
                server: Some("10.1.0.2:40000".parse().unwrap()),
            },
        );
        assert_eq!(
            summary(&s),
            strs(&[
                "socket()=3",
                "bind(3,10.1.0.2:40000)=0",
                "sendto(3,29,0,10.2.0.2:5000)=29",
                "> udp (29)",
            ])
        );
    }

    #[test]
    fn a_port_unreachable_answer_means_no_socket_and_an_expected_icmp_error() {
        let s = script("udp-port-unreachable.pcap", ReplayOptions::default());
        assert_eq!(
            summary(&s),
            strs(&["< udp (31)", "> icmp 3/Some(3) echo None len None"])
        );
        let EventKind::Packet(p) = &s.events[1].kind else {
            panic!("{:?}", s.events[1]);
        };
        let PacketBody::Icmp(icmp) = &p.body else {
            panic!("{p:?}");
        };
        let quoted = icmp.quoted.as_ref().expect("the quoted datagram");
        assert_eq!(
            quoted.body,
            PacketBody::Udp(UdpSpec {
                src_port: Some(40000),
                dst_port: Some(9),
                len: 31,
            })
        );
    }

    #[test]
    fn ping_becomes_requests_in_and_replies_out() {
        // ping.pcap: id 0x084b = 2123, sequence 1 and 2, 56 octets of data (98 - 14 - 20 - 8).
        let s = script("ping.pcap", ReplayOptions::default());
        assert_eq!(
            summary(&s),
            strs(&[
                "< icmp 8/None echo Some((2123, 1)) len Some(56)",
                "> icmp 0/None echo Some((2123, 1)) len Some(56)",
                "< icmp 8/None echo Some((2123, 2)) len Some(56)",
                "> icmp 0/None echo Some((2123, 2)) len Some(56)",
            ])
        );
        assert!(s
            .events
            .iter()
            .all(|e| !matches!(e.kind, EventKind::Call(_))));
    }

    #[test]
    fn fragmented_echo_is_reassembled_into_one_line() {
        // Fragments of 1480 + 1480 + 1048 octets = 4008 octets of ICMP: 8 of header, 4000 data.
        let s = script("ping-fragmented.pcap", ReplayOptions::default());
        assert_eq!(
            summary(&s),
            strs(&[
                "< icmp 8/None echo Some((2187, 1)) len Some(4000)",
                "> icmp 0/None echo Some((2187, 1)) len Some(4000)",
            ])
        );
    }

    #[test]
    fn the_target_cannot_play_the_echo_requester() {
        let e = error(
            &recorded("ping.pcap"),
            ReplayOptions {
                conversation: None,
                server: Some("10.1.0.2:0".parse().unwrap()),
            },
        );
        assert!(matches!(
            e.problem,
            ReplayProblem::TargetSendsEchoRequests { .. }
        ));
        assert_eq!(e.record, Some(1));
        assert!(e.to_string().contains("ping.pcap: record 1:"), "{e}");
    }

    #[test]
    fn errors_name_the_file_and_what_is_wrong() {
        let not_capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let e = error(&not_capture, ReplayOptions::default());
        let text = e.to_string();
        assert!(text.contains("Cargo.toml"), "{text}");
        assert!(text.contains("not a pcap or pcapng file"), "{text}");

        let missing = recorded("no-such-file.pcap");
        let e = error(&missing, ReplayOptions::default());
        assert!(e.to_string().contains("no-such-file.pcap"), "{e}");

        // ARP only, and IGMP only: nothing to replay.
        for (name, records) in [("arp-gratuitous.pcap", 2), ("igmpv2-join.pcap", 3)] {
            let e = error(&recorded(name), ReplayOptions::default());
            assert_eq!(e.problem, ReplayProblem::NoConversation { records }, "{e}");
            assert_eq!(
                e.to_string(),
                format!(
                    "{}: no TCP, UDP or ICMP echo conversation found in {records} records",
                    recorded(name).display()
                )
            );
        }

        let e = error(
            &recorded("udp.pcap"),
            ReplayOptions {
                conversation: Some(2),
                server: None,
            },
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{}: conversation index 2 is out of range: the capture has 2 conversations \
                 (0 to 1)",
                recorded("udp.pcap").display()
            )
        );

        let e = error(
            &recorded("tcp-transfer.pcap"),
            ReplayOptions {
                conversation: None,
                server: Some("10.2.0.2:80".parse().unwrap()),
            },
        );
        assert!(
            matches!(e.problem, ReplayProblem::ServerNotInConversation { .. }),
            "{e}"
        );
    }

    /// A pcap file with the given link type and records, written to a fresh temporary path.
    fn pcap_file(name: &str, link_type: u32, records: &[&[u8]]) -> PathBuf {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&link_type.to_le_bytes());
        for (i, data) in records.iter().enumerate() {
            bytes.extend_from_slice(&(i as u32).to_le_bytes());
            bytes.extend_from_slice(&0u32.to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(data.len() as u32).to_le_bytes());
            bytes.extend_from_slice(data);
        }
        let path =
            std::env::temp_dir().join(format!("wirecheck-replay-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn ipv6_only_and_unsupported_link_types_are_named() {
        // An Ethernet frame carrying IPv6 (EtherType 0x86dd) with a minimal header.
        let mut frame = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd, 0x60];
        frame.resize(14 + 40, 0);
        let path = pcap_file("ipv6.pcap", 1, &[&frame]);
        let e = error(&path, ReplayOptions::default());
        std::fs::remove_file(&path).ok();
        assert_eq!(e.problem, ReplayProblem::Ipv6Only { records: 1 });
        assert!(e.to_string().contains("only IPv6"), "{e}");

        let path = pcap_file("link147.pcap", 147, &[&[1, 2, 3]]);
        let e = error(&path, ReplayOptions::default());
        std::fs::remove_file(&path).ok();
        assert_eq!(e.problem, ReplayProblem::UnsupportedLink(LinkType(147)));
        assert_eq!(e.record, Some(1));
        assert!(e.to_string().contains("unsupported link type"), "{e}");
    }

    #[test]
    fn a_capture_starting_mid_stream_is_refused() {
        // tcp-transfer without its first two records: the client's SYN is missing.
        let bytes = std::fs::read(recorded("tcp-transfer.pcap")).unwrap();
        let mut records = Vec::new();
        let mut at = 24;
        while at + 16 <= bytes.len() {
            let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
            records.push(&bytes[at + 16..at + 16 + len]);
            at += 16 + len;
        }
        assert_eq!(records.len(), 14);
        let path = pcap_file("midstream.pcap", 1, &records[2..]);
        let e = error(&path, ReplayOptions::default());
        std::fs::remove_file(&path).ok();
        assert_eq!(
            e.problem,
            ReplayProblem::NoHandshake {
                peer: "10.1.0.2:40001".parse().unwrap()
            }
        );
    }

    #[test]
    fn receive_order_reads_only_in_order_data() {
        let mut r = ReceiveOrder::new(1);
        assert_eq!(r.arrive(1, 101), 100);
        // A hole at 101..201: nothing readable until it is filled.
        assert_eq!(r.arrive(201, 301), 0);
        assert_eq!(r.arrive(301, 401), 0);
        assert_eq!(r.arrive(101, 201), 300);
        // A retransmission of data already read.
        assert_eq!(r.arrive(1, 101), 0);
        // Partly new.
        assert_eq!(r.arrive(351, 451), 50);
    }

    #[test]
    fn event_lines_match_the_rendered_text() {
        for name in [
            "tcp-transfer.pcap",
            "udp-port-unreachable.pcap",
            "ping.pcap",
        ] {
            let s = script(name, ReplayOptions::default());
            let text = script_to_text(&s);
            let lines: Vec<&str> = text.lines().collect();
            for event in &s.events {
                let line = lines[event.line - 1];
                assert!(
                    line.starts_with(&time_text(&event.time)),
                    "{name}: event at line {} is rendered as {line:?}",
                    event.line
                );
            }
            assert!(text.starts_with("// Replay of "), "{text}");
            assert!(text.contains("\n--local_ip="), "{text}");
        }
    }

    #[test]
    fn rendering_covers_the_packetdrill_forms() {
        let s = script("tcp-transfer.pcap", ReplayOptions::default());
        let text = script_to_text(&s);
        assert!(text.contains(
            "0.000000 < 10.1.0.2:40001 > 10.2.0.2:5001 S 0:0(0) win 64240 \
             <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 10>\n"
        ));
        assert!(
            text.contains("0.000077 accept(3, ..., ...) = 4\n"),
            "{text}"
        );
        assert!(text.contains(
            "0.000755~1.000755 > 10.2.0.2:5001 > 10.1.0.2:40001 F. 1:1(0) ack 5378 win 75 \
             <nop,nop,TS val 1 ecr 1>\n"
        ));
        let s = script("udp-port-unreachable.pcap", ReplayOptions::default());
        assert!(script_to_text(&s).contains(
            "> icmp unreachable port_unreachable [10.1.0.2:40000 > 10.2.0.2:9 udp (31)]\n"
        ));
        let connect = CallEvent {
            name: "connect".into(),
            args: vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
            result: Expr::Int(-1),
            errno: Some("EINPROGRESS".into()),
        };
        assert_eq!(call_text(&connect), "connect(3, ..., ...) = -1 EINPROGRESS");
        let linger = Expr::Struct(vec![
            ("l_onoff".into(), Expr::Int(1)),
            ("l_linger".into(), Expr::Int(0)),
        ]);
        assert_eq!(expr_text(&linger), "{l_onoff=1, l_linger=0}");
        assert_eq!(
            time_text(&TimeSpec::Range {
                start: Duration::from_millis(100),
                end: Duration::from_millis(200),
                relative: true
            }),
            "+0.100000~+0.200000"
        );
    }

    /// Every capture in the repository: conversations listed, each (up to a few) converted or
    /// refused with an error, never a panic.
    #[test]
    fn every_capture_in_the_repository_converts_or_errs_without_panicking() {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
                {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures"),
            &mut files,
        );
        assert!(files.len() > 100, "{} captures", files.len());
        let mut converted = 0;
        for file in &files {
            let Ok(list) = conversations(file) else {
                continue;
            };
            for c in list.iter().take(3) {
                let options = ReplayOptions {
                    conversation: Some(c.index),
                    server: None,
                };
                if let Ok(s) = script_from_capture(file, &options) {
                    converted += 1;
                    assert!(!s.events.is_empty(), "{}", file.display());
                    let _ = script_to_text(&s);
                }
            }
        }
        assert!(converted > 20, "only {converted} conversations converted");
    }

    /// Corrupted copies of a capture: errors or scripts, never a panic.
    #[test]
    fn corrupted_captures_never_panic() {
        let original = std::fs::read(recorded("tcp-transfer.pcap")).unwrap();
        let path = std::env::temp_dir().join(format!(
            "wirecheck-replay-{}-corrupt.pcap",
            std::process::id()
        ));
        // A small deterministic generator (xorshift) picks the positions and values.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..200 {
            let mut bytes = original.clone();
            for _ in 0..1 + round % 8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if round % 10 == 0 {
                bytes.truncate((next() % bytes.len() as u64) as usize);
            }
            std::fs::write(&path, &bytes).unwrap();
            let _ = conversations(&path);
            let _ =
                script_from_capture(&path, &ReplayOptions::default()).map(|s| script_to_text(&s));
        }
        std::fs::remove_file(&path).ok();
    }

    // ---- round trips through the parser -------------------------------------------------

    use crate::conform::parse::parse_script;

    #[test]
    fn replayed_scripts_parse_back_to_the_same_script() {
        let cases = [
            ("tcp-transfer.pcap", ReplayOptions::default()),
            (
                "tcp-transfer.pcap",
                ReplayOptions {
                    conversation: None,
                    server: Some("10.1.0.2:40001".parse().unwrap()),
                },
            ),
            ("tcp-transfer-offloaded.pcap", ReplayOptions::default()),
            ("tcp-refused.pcap", ReplayOptions::default()),
            ("udp.pcap", ReplayOptions::default()),
            ("udp-port-unreachable.pcap", ReplayOptions::default()),
            ("ping.pcap", ReplayOptions::default()),
            ("ping-fragmented.pcap", ReplayOptions::default()),
            ("arp.pcap", ReplayOptions::default()),
        ];
        for (name, options) in cases {
            let script = script(name, options);
            let text = script_to_text(&script);
            let parsed =
                parse_script(&text, None).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            assert_eq!(parsed, script, "{name}:\n{text}");
        }
    }

    /// Everything but where it was read from and the line numbers.
    fn without_lines(mut script: Script) -> Script {
        script.path = None;
        for event in &mut script.events {
            event.line = 0;
        }
        script
    }

    #[test]
    fn every_form_of_the_syntax_renders_and_parses_back() {
        let text = "\
// Covers every form.

--tolerance_usecs=10000
--requirements=RFC9293-MUST-8,RFC5961-3.2
--requires=sack

0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 write(3, \"a \\\"quoted\\\"\\n\", 12) = 12
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
0.1~0.2 > S 0:0(0) <...>
+0.1~+0.2 < [ect0] S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,nop,TS val 100 ecr 0,wscale 7,sack 1:2 3:4,FO abcd,opt 30 0102>
* > [ect01] . ...(0) ack 1
0.5...0.6 read(3, ..., 10) = 10
#ifdef FreeBSD
+0 > F. 1:1(0) ack 1 urg 3
+0 < UEW. 1:1(0) ack 2 win 100
#endif
#ifndef STANDARD
+0 `sysctl -w net.inet.tcp.foo=1`
#endif
+0 %{ print(1) }%
+0 < ether[src=02:00:00:00:00:09 dst=ff:ff:ff:ff:ff:ff] ip[ttl=3 tos=4 id=7 df off=8 mf opts=01010000 csum=bad l4csum=0] 192.0.2.1:5000 > 192.168.0.1:7 udp (10)
+0 eth1 > ip[ttl=63] raw 17 (528)
+0 > icmp unreachable port_unreachable [192.0.2.1:5000 > 192.168.0.1:9 udp (10)]
+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
+0 > icmp echo_reply id 1 seq 2 (56)
+0 > icmp type 40 code 3
+0 > icmp parameter_problem pointer 20
+0 > arp who-has 192.168.0.2 tell 192.168.0.1
+0 < arp reply 192.168.0.2 is-at 02:00:00:00:00:02
+0 > arp reply 192.168.0.1 is-at *
+0 < igmp v1 query
+0 < igmp v2 query group 0.0.0.0 max_resp 100
+0 < igmp v3 query group 239.1.2.3 max_resp 100 sources [10.0.0.1 10.0.0.2]
+0 > igmp v2 report 239.1.2.3
+0 > igmp leave 239.1.2.3
+0 > igmp v3 report [mode_is_include 239.1.2.3 [10.0.0.1], change_to_exclude 239.1.2.4 []]
+0 join_group(3, 239.1.2.3, 0) = 0
+0 sendto(3, ..., 10, 0, 192.0.2.1:5000) = 10
";
        let original = parse_script(text, None).unwrap_or_else(|e| panic!("{e}"));
        let rendered = script_to_text(&original);
        let again = parse_script(&rendered, None).unwrap_or_else(|e| panic!("{e}\n{rendered}"));
        assert_eq!(without_lines(again), without_lines(original), "{rendered}");
    }

    /// FreeBSD's tcp-testsuite (`../shared` beside the repository): every script that parses
    /// renders to text that parses to the same script.
    #[test]
    fn freebsd_suite_scripts_render_and_parse_back() {
        let dir = crate::conform::suite::freebsd_default_dir();
        let suite = crate::conform::suite::from_dir(
            "freebsd",
            crate::conform::suite::SuiteKind::FreeBsd,
            &dir,
        )
        .unwrap_or_else(|e| panic!("the FreeBSD suite is missing: {e}"));
        assert!(suite.scenarios.len() >= 600, "{}", suite.scenarios.len());
        let mut compared = 0;
        for scenario in &suite.scenarios {
            let Ok(original) = parse_script(&scenario.text, None) else {
                continue;
            };
            assert_renders_back(&scenario.name, original);
            compared += 1;
        }
        assert!(compared >= 600, "only {compared} scripts compared");
    }

    /// The bundled scenarios render to text that parses to the same script (the
    /// `scenario_parse` fuzz target's property, on the inputs it is seeded with).
    #[test]
    fn bundled_scenarios_render_and_parse_back() {
        let suite = crate::conform::suite::bundled();
        assert!(suite.scenarios.len() >= 100, "{}", suite.scenarios.len());
        for scenario in &suite.scenarios {
            let original = parse_script(&scenario.text, None)
                .unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
            assert_renders_back(&scenario.name, original);
        }
    }

    /// A bare `...` among a structure's fields renders as `...`, not `...=...` (found by the
    /// `scenario_parse` fuzz target on a `poll` line).
    #[test]
    fn an_ellipsis_among_struct_fields_renders_back() {
        let text = "0 poll([{fd=4, ..., events=POLLIN|POLLPRI, revents=0}], 1, 0) = 0\n";
        let original = parse_script(text, None).unwrap();
        assert!(script_to_text(&original).contains("{fd=4, ..., events=POLLIN|POLLPRI"));
        assert_renders_back("ellipsis field", original);
    }

    /// `original`, rendered to text, parses back to the same script (line numbers aside).
    fn assert_renders_back(name: &str, original: Script) {
        let rendered = script_to_text(&original);
        let again =
            parse_script(&rendered, None).unwrap_or_else(|e| panic!("{name}: {e}\n{rendered}"));
        assert_eq!(
            without_lines(again),
            without_lines(original),
            "{name}:\n{rendered}"
        );
    }
}
