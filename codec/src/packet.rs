//! Whole-frame lax decoding: [`Packet::parse`] decodes an Ethernet frame as deep as its bytes
//! allow and never fails. What it could not decode, or found wrong or odd, is a list of
//! [`Finding`]s beside the layers it did decode.
//!
//! This is the decoder for analysis tools (`wirecheck decode` and `verify`). A stack uses the
//! strict per-protocol parsers instead.
//!
//! Rules, chosen to match what Wireshark shows with reassembly off:
//! - an IPv4 datagram cut short by the capture (snaplen) is decoded as far as it goes, and its
//!   transport checksum is not verified (there is not enough to verify);
//! - a fragment with a non-zero offset carries no transport header; a first fragment (offset
//!   0, MF set) has its transport header decoded but its checksum not verified;
//! - the datagram quoted in an ICMP error is itself decoded, laxly, one level deep; findings
//!   inside the quote are not reported (quotes are short by design);
//! - bytes after the IPv4 total length are Ethernet padding (up to the 60-byte minimum frame)
//!   or a trailer (an FCS or anything else), reported as such.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::arp::ArpPacket;
use crate::checksum::ChecksumStatus;
use crate::error::{Error, Layer};
use crate::ethernet::{EtherType, EthernetHeader};
use crate::icmp::{self, IcmpMessage};
use crate::igmp::{self, IgmpMessage};
use crate::ipv4::{self, IpProtocol, Ipv4Header};
use crate::tcp::{TcpFlags, TcpHeader};
use crate::udp::{self, UdpHeader};

/// The smallest Ethernet frame without its FCS: shorter frames are padded up to this.
pub const MIN_ETHERNET_FRAME: usize = 60;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Normal but worth knowing (Ethernet padding, a checksum left to the network card).
    Info,
    /// Allowed but suspicious (DF with MF, TTL 0, SYN with FIN, port 0, a trailer, a
    /// reassembly anomaly).
    Warning,
    /// Wrong: malformed, truncated, bad checksum.
    Error,
}

/// Something odd about a packet that is not a decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anomaly {
    /// IPv4 Don't Fragment and More Fragments both set.
    DontFragmentWithMoreFragments,
    /// The IPv4 reserved ("evil") flag is set [RFC 791, RFC 3514].
    ReservedFlagSet,
    /// IPv4 time to live 0 on the wire.
    TtlZero,
    /// IPv4 total length 0 (TCP segmentation offload or BIG TCP captured on the sender).
    TotalLengthZero,
    /// TCP SYN and FIN together.
    SynAndFin,
    /// TCP SYN and RST together.
    SynAndRst,
    /// A TCP segment with no flag set (a "null scan").
    NoTcpFlags,
    /// A TCP or UDP port 0.
    PortZero,
    /// The UDP length is shorter than the IPv4 payload: bytes after it are not part of the
    /// datagram.
    UdpLengthShorterThanPayload,
    /// An Ethernet type field below 0x0600 that is not a length (1501–1535).
    InvalidEtherType,
}

impl Anomaly {
    /// A short description.
    pub const fn description(self) -> &'static str {
        match self {
            Anomaly::DontFragmentWithMoreFragments => "Don't Fragment and More Fragments both set",
            Anomaly::ReservedFlagSet => "reserved flag set",
            Anomaly::TtlZero => "time to live is 0",
            Anomaly::TotalLengthZero => "total length 0 (segmentation offload capture)",
            Anomaly::SynAndFin => "SYN and FIN both set",
            Anomaly::SynAndRst => "SYN and RST both set",
            Anomaly::NoTcpFlags => "no flags set",
            Anomaly::PortZero => "port 0",
            Anomaly::UdpLengthShorterThanPayload => "UDP length shorter than the IP payload",
            Anomaly::InvalidEtherType => "type field is neither a length nor an EtherType",
        }
    }
}

/// One thing the lax decoder noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Finding {
    /// A layer's bytes end before the layer does. The error's offset is from the frame start.
    Truncated(Error),
    /// A field holds a value its protocol does not allow. The offset is from the frame start.
    Malformed(Error),
    /// A checksum is wrong.
    BadChecksum {
        /// The layer whose checksum it is.
        layer: Layer,
        /// Offset of the layer in the frame.
        offset: usize,
        /// The right value.
        expected: u16,
        /// The value in the packet.
        found: u16,
    },
    /// A UDP or TCP checksum holds only the pseudo-header sum: the capture was taken on a
    /// sender that offloads checksums to its network card.
    PartialChecksum {
        /// The layer whose checksum it is.
        layer: Layer,
        /// Offset of the layer in the frame.
        offset: usize,
    },
    /// Bytes after the IPv4 datagram. `padding` is true when they only bring a short frame up
    /// to the 60-byte Ethernet minimum.
    Trailer {
        /// Offset of the first byte after the datagram.
        offset: usize,
        /// How many bytes follow it.
        length: usize,
        /// Whether they are just minimum-size padding.
        padding: bool,
    },
    /// A protocol the decoder does not go into.
    Unsupported {
        /// The layer that names it.
        layer: Layer,
        /// The EtherType or IP protocol number.
        value: u16,
        /// Offset of the payload that was not decoded.
        offset: usize,
    },
    /// An odd but decodable packet.
    Anomaly {
        /// The layer it is in.
        layer: Layer,
        /// Offset of that layer in the frame.
        offset: usize,
        /// What is odd.
        kind: Anomaly,
    },
}

impl Finding {
    /// How much it matters.
    pub const fn severity(&self) -> Severity {
        match self {
            Finding::Truncated(_) | Finding::Malformed(_) | Finding::BadChecksum { .. } => {
                Severity::Error
            }
            // A partial checksum is an artefact of capturing on a sender that offloads
            // checksums to its card, not a defect of the packet on the wire.
            Finding::Trailer { padding: true, .. }
            | Finding::Unsupported { .. }
            | Finding::PartialChecksum { .. } => Severity::Info,
            Finding::Trailer { .. } | Finding::Anomaly { .. } => Severity::Warning,
        }
    }

    /// The layer the finding is about.
    pub const fn layer(&self) -> Layer {
        match self {
            Finding::Truncated(e) | Finding::Malformed(e) => e.layer,
            Finding::BadChecksum { layer, .. }
            | Finding::PartialChecksum { layer, .. }
            | Finding::Unsupported { layer, .. }
            | Finding::Anomaly { layer, .. } => *layer,
            Finding::Trailer { .. } => Layer::Ethernet,
        }
    }

    /// A short name for the kind of finding, for counting ("malformed", "bad checksum", …).
    pub const fn category(&self) -> &'static str {
        match self {
            Finding::Truncated(_) => "truncated",
            Finding::Malformed(_) => "malformed",
            Finding::BadChecksum { .. } => "bad checksum",
            Finding::PartialChecksum { .. } => "partial checksum",
            Finding::Trailer { padding: true, .. } => "padding",
            Finding::Trailer { .. } => "trailer",
            Finding::Unsupported { .. } => "unsupported",
            Finding::Anomaly { .. } => "anomaly",
        }
    }

    fn from_error(e: Error) -> Finding {
        if e.is_truncation() {
            Finding::Truncated(e)
        } else {
            Finding::Malformed(e)
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Truncated(e) | Finding::Malformed(e) => write!(f, "{e}"),
            Finding::BadChecksum {
                layer,
                offset,
                expected,
                found,
            } => write!(
                f,
                "{layer} at byte {offset}: bad checksum 0x{found:04x}, should be 0x{expected:04x}"
            ),
            Finding::PartialChecksum { layer, offset } => write!(
                f,
                "{layer} at byte {offset}: partial checksum (pseudo-header only: sender offloads \
                 checksums)"
            ),
            Finding::Trailer {
                offset,
                length,
                padding,
            } => {
                if *padding {
                    write!(f, "Ethernet padding: {length} bytes at byte {offset}")
                } else {
                    write!(
                        f,
                        "trailer: {length} bytes after the IPv4 datagram at byte {offset}"
                    )
                }
            }
            Finding::Unsupported {
                layer,
                value,
                offset,
            } => write!(
                f,
                "{layer} at byte {offset}: payload type 0x{value:04x} not decoded"
            ),
            Finding::Anomaly {
                layer,
                offset,
                kind,
            } => write!(f, "{layer} at byte {offset}: {}", kind.description()),
        }
    }
}

/// A decoded IPv4 header with where it is and what came with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Layer<'a> {
    /// Offset of the header in the frame.
    pub offset: usize,
    /// The header.
    pub header: Ipv4Header<'a>,
    /// The payload present: up to the total length, or less when the capture cut it.
    pub payload: &'a [u8],
    /// Whether the whole payload the total length describes is present.
    pub complete: bool,
    /// The header checksum, when the whole header is present.
    pub checksum: Option<ChecksumStatus>,
}

/// A decoded ICMP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcmpLayer<'a> {
    /// Offset in the frame.
    pub offset: usize,
    /// The message.
    pub message: IcmpMessage<'a>,
    /// The checksum, when the whole message is present.
    pub checksum: Option<ChecksumStatus>,
    /// For error messages: the quoted datagram, decoded laxly.
    pub quoted: Option<Box<Datagram<'a>>>,
}

/// A decoded IGMP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IgmpLayer<'a> {
    /// Offset in the frame.
    pub offset: usize,
    /// The message.
    pub message: IgmpMessage<'a>,
    /// The checksum, when the whole message is present.
    pub checksum: Option<ChecksumStatus>,
}

/// A decoded UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpLayer<'a> {
    /// Offset in the frame.
    pub offset: usize,
    /// The header.
    pub header: UdpHeader,
    /// The payload present.
    pub payload: &'a [u8],
    /// The checksum, when the whole datagram is present.
    pub checksum: Option<ChecksumStatus>,
}

/// A decoded TCP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLayer<'a> {
    /// Offset in the frame.
    pub offset: usize,
    /// The header.
    pub header: TcpHeader<'a>,
    /// The payload present.
    pub payload: &'a [u8],
    /// The length of the payload the IP header describes (may exceed `payload.len()` in a
    /// truncated capture).
    pub payload_len: usize,
    /// The checksum, when the whole segment is present.
    pub checksum: Option<ChecksumStatus>,
    /// Whether the segment the IP header describes is long enough for the header the data
    /// offset describes (false for a malformed data offset; true for a header that was only
    /// cut short by the capture).
    pub header_complete: bool,
}

/// The ports (and, in an ICMP quote, the TCP sequence number) of a UDP or TCP header too short
/// to decode whole: a capture cut short, a quote, a malformed datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportPrefix {
    /// Offset in the frame.
    pub offset: usize,
    /// UDP or TCP.
    pub protocol: IpProtocol,
    /// Source port.
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// TCP sequence number, for the first eight bytes of a TCP header quoted in an ICMP error.
    pub sequence_number: Option<u32>,
}

/// The transport layer of a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    /// ICMP.
    Icmp(IcmpLayer<'a>),
    /// IGMP.
    Igmp(IgmpLayer<'a>),
    /// UDP.
    Udp(UdpLayer<'a>),
    /// TCP.
    Tcp(TcpLayer<'a>),
    /// The ports of a UDP or TCP header that is cut short.
    Prefix(TransportPrefix),
}

/// An IPv4 datagram and what it carries (used for the datagram quoted in ICMP errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The IPv4 layer.
    pub ipv4: Ipv4Layer<'a>,
    /// Its transport layer, when decoded.
    pub transport: Option<Transport<'a>>,
}

/// How a frame starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// With an Ethernet II header.
    Ethernet,
    /// With `offset` bytes of some other link header, then a payload of `ether_type`.
    EtherType {
        /// The payload's EtherType.
        ether_type: u16,
        /// Bytes before the payload.
        offset: usize,
    },
}

/// A whole frame, decoded laxly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The frame's bytes.
    pub frame: &'a [u8],
    /// The Ethernet header (absent for raw-IP link types or a frame shorter than a header).
    pub ethernet: Option<EthernetHeader<'a>>,
    /// The ARP or RARP packet.
    pub arp: Option<ArpPacket<'a>>,
    /// The IPv4 datagram.
    pub ipv4: Option<Ipv4Layer<'a>>,
    /// The transport layer.
    pub transport: Option<Transport<'a>>,
    /// What the decoder noticed, outermost layer first.
    pub findings: Vec<Finding>,
}

impl<'a> Packet<'a> {
    /// Decodes an Ethernet II frame (without FCS, as captures hold them), taken to be whole.
    pub fn parse(frame: &'a [u8]) -> Packet<'a> {
        Self::decode(frame, Link::Ethernet, true)
    }

    /// Decodes a payload of the given EtherType that starts at `offset` of `frame` (for link
    /// types other than Ethernet: Linux cooked capture, loopback, raw IP).
    pub fn parse_ether_type(frame: &'a [u8], ether_type: u16, offset: usize) -> Packet<'a> {
        Self::decode(frame, Link::EtherType { ether_type, offset }, true)
    }

    /// Decodes a bare IPv4 datagram (raw-IP link types).
    pub fn parse_ipv4(datagram: &'a [u8]) -> Packet<'a> {
        Self::parse_ether_type(datagram, EtherType::IPV4.0, 0)
    }

    /// Decodes a frame with the given link framing. `whole`: the frame is all that was on the
    /// wire (a capture's captured length equals its original length). When it is, an IPv4
    /// total length past the end of the frame is a malformed datagram and what is there is
    /// decoded and checksummed as the datagram (as Wireshark does); when it is not, the capture
    /// cut the datagram short and its transport checksum is not verified.
    pub fn decode(frame: &'a [u8], link: Link, whole: bool) -> Packet<'a> {
        let mut packet = Packet::empty(frame);
        match link {
            Link::EtherType { ether_type, offset } => {
                let payload = frame.get(offset..).unwrap_or_default();
                packet.decode_ether_payload(EtherType(ether_type), payload, offset, whole);
                return packet;
            }
            Link::Ethernet => {}
        }
        match EthernetHeader::parse(frame) {
            Err(e) => packet.findings.push(Finding::from_error(e)),
            Ok((eth, payload)) => {
                packet.ethernet = Some(eth);
                let offset = eth.len();
                if eth.is_length_field() {
                    // 802.3 with an LLC header: not decoded further.
                    packet.findings.push(Finding::Unsupported {
                        layer: Layer::Ethernet,
                        value: eth.ether_type.0,
                        offset,
                    });
                } else if !eth.ether_type.is_type() {
                    packet.findings.push(Finding::Anomaly {
                        layer: Layer::Ethernet,
                        offset: 12,
                        kind: Anomaly::InvalidEtherType,
                    });
                } else {
                    packet.decode_ether_payload(eth.ether_type, payload, offset, whole);
                }
            }
        }
        packet
    }

    fn empty(frame: &'a [u8]) -> Packet<'a> {
        Packet {
            frame,
            ethernet: None,
            arp: None,
            ipv4: None,
            transport: None,
            findings: Vec::new(),
        }
    }

    /// The worst severity among the findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(Finding::severity).max()
    }

    /// The innermost protocol decoded, as Wireshark names it in its Protocol column.
    pub fn protocol_name(&self) -> &'static str {
        match (&self.transport, &self.ipv4, &self.arp) {
            (Some(Transport::Icmp(_)), _, _) => "ICMP",
            (Some(Transport::Igmp(m)), _, _) => match m.message.version() {
                Some(1) => "IGMPv1",
                Some(2) => "IGMPv2",
                Some(3) => "IGMPv3",
                _ => "IGMP",
            },
            (Some(Transport::Udp(_)), _, _) => "UDP",
            (Some(Transport::Prefix(p)), _, _) if p.protocol == IpProtocol::UDP => "UDP",
            (Some(Transport::Tcp(_)) | Some(Transport::Prefix(_)), _, _) => "TCP",
            (None, Some(_), _) => "IPv4",
            (None, None, Some(a)) if a.operation.is_rarp() => "RARP",
            (None, None, Some(_)) => "ARP",
            _ if self.ethernet.is_some() => "Ethernet",
            _ => "unknown",
        }
    }

    fn decode_ether_payload(
        &mut self,
        ether_type: EtherType,
        payload: &'a [u8],
        offset: usize,
        whole: bool,
    ) {
        match ether_type {
            EtherType::IPV4 => {
                if let Some((datagram, used)) =
                    decode_ipv4(payload, offset, whole, &mut self.findings)
                {
                    self.note_trailer(offset + used);
                    self.ipv4 = Some(datagram.ipv4);
                    self.transport = datagram.transport;
                }
            }
            EtherType::ARP | EtherType::RARP => match ArpPacket::parse(payload) {
                Ok((arp, _rest)) => self.arp = Some(arp),
                Err(e) => {
                    self.findings.push(Finding::from_error(e.shifted(offset)));
                    self.arp = arp_prefix(payload);
                }
            },
            other => self.findings.push(Finding::Unsupported {
                layer: Layer::Ethernet,
                value: other.0,
                offset,
            }),
        }
    }

    /// Reports bytes after the end of the IPv4 datagram at `end`.
    fn note_trailer(&mut self, end: usize) {
        let length = self.frame.len().saturating_sub(end);
        if length == 0 {
            return;
        }
        let padding = self.ethernet.is_some()
            && self.frame.len() <= MIN_ETHERNET_FRAME
            && self
                .frame
                .get(end..)
                .is_some_and(|t| t.iter().all(|&b| b == 0));
        self.findings.push(Finding::Trailer {
            offset: end,
            length,
            padding,
        });
    }
}

/// Decodes an IPv4 datagram at frame offset `offset`. Returns the datagram and the bytes of
/// `bytes` it spans (header + payload present), or `None` when not even the header decodes.
fn decode_ipv4<'a>(
    bytes: &'a [u8],
    offset: usize,
    frame_whole: bool,
    findings: &mut Vec<Finding>,
) -> Option<(Datagram<'a>, usize)> {
    let (header, rest, option_error) = match Ipv4Header::parse_header_lax(bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            findings.push(Finding::from_error(e.shifted(offset)));
            return None;
        }
    };
    if let Some(e) = option_error {
        findings.push(Finding::from_error(e.shifted(offset)));
    }
    let header_len = header.header_len();
    let total = usize::from(header.total_length);
    let (payload, complete) = if total == 0 {
        findings.push(Finding::Anomaly {
            layer: Layer::Ipv4,
            offset,
            kind: Anomaly::TotalLengthZero,
        });
        (rest, true)
    } else if total < header_len {
        findings.push(Finding::Malformed(
            Error::bad_value(
                Layer::Ipv4,
                "total length",
                offset + 2,
                "≥ the header length (IHL × 4)",
                u64::from(header.total_length),
            )
            .with_pointer(2),
        ));
        (&rest[..0], false)
    } else {
        let wanted = total - header_len;
        match rest.get(..wanted) {
            Some(p) => (p, true),
            None if frame_whole => {
                // Nothing was cut: the sender wrote a total length past its own frame.
                findings.push(Finding::Malformed(Error::bad_value(
                    Layer::Ipv4,
                    "total length",
                    offset + 2,
                    "≤ the bytes in the frame",
                    u64::from(header.total_length),
                )));
                (rest, true)
            }
            None => {
                findings.push(Finding::Truncated(Error::truncated(
                    Layer::Ipv4,
                    "total length",
                    offset + 2,
                    total,
                    bytes.len(),
                )));
                (rest, false)
            }
        }
    };
    let checksum = bytes.get(..header_len).map(ipv4::verify_checksum);
    if let Some(ChecksumStatus::Bad { expected, found }) = checksum {
        findings.push(Finding::BadChecksum {
            layer: Layer::Ipv4,
            offset,
            expected,
            found,
        });
    }
    let anomaly = |kind| Finding::Anomaly {
        layer: Layer::Ipv4,
        offset,
        kind,
    };
    if header.dont_fragment && header.more_fragments {
        findings.push(anomaly(Anomaly::DontFragmentWithMoreFragments));
    }
    if header.reserved_flag {
        findings.push(anomaly(Anomaly::ReservedFlagSet));
    }
    if header.ttl == 0 {
        findings.push(anomaly(Anomaly::TtlZero));
    }
    let ipv4 = Ipv4Layer {
        offset,
        header,
        payload,
        complete,
        checksum,
    };
    let used = header_len + payload.len();
    let transport = if header.fragment_offset != 0 {
        None
    } else {
        // A first fragment's transport checksum covers bytes in later fragments.
        let whole = complete && !header.more_fragments;
        decode_transport(&ipv4, whole, offset + header_len, findings)
    };
    Some((Datagram { ipv4, transport }, used))
}

/// Decodes the transport layer of `ip`'s payload, at frame offset `offset`. `whole`: the
/// payload is all there, so checksums can be verified.
fn decode_transport<'a>(
    ip: &Ipv4Layer<'a>,
    whole: bool,
    offset: usize,
    findings: &mut Vec<Finding>,
) -> Option<Transport<'a>> {
    let payload = ip.payload;
    let header = &ip.header;
    let checked = |status: ChecksumStatus, layer: Layer, findings: &mut Vec<Finding>| {
        match status {
            ChecksumStatus::Bad { expected, found } => findings.push(Finding::BadChecksum {
                layer,
                offset,
                expected,
                found,
            }),
            ChecksumStatus::Partial => findings.push(Finding::PartialChecksum { layer, offset }),
            ChecksumStatus::Good | ChecksumStatus::Absent => {}
        }
        status
    };
    let port_zero = |source: u16, destination: u16, layer: Layer, findings: &mut Vec<Finding>| {
        if source == 0 || destination == 0 {
            findings.push(Finding::Anomaly {
                layer,
                offset,
                kind: Anomaly::PortZero,
            });
        }
    };
    match header.protocol {
        IpProtocol::ICMP => match IcmpMessage::parse(payload) {
            Err(e) => {
                findings.push(Finding::from_error(e.shifted(offset)));
                None
            }
            Ok((message, _)) => {
                let checksum =
                    whole.then(|| checked(icmp::verify_checksum(payload), Layer::Icmp, findings));
                let quoted = message.body.quoted().and_then(|q| {
                    let quote_offset = offset + (payload.len() - q.len().min(payload.len()));
                    decode_quoted(q, quote_offset)
                });
                Some(Transport::Icmp(IcmpLayer {
                    offset,
                    message,
                    checksum,
                    quoted: quoted.map(Box::new),
                }))
            }
        },
        IpProtocol::IGMP => match IgmpMessage::parse(payload) {
            Err(e) => {
                findings.push(Finding::from_error(e.shifted(offset)));
                None
            }
            Ok(message) => {
                let checksum =
                    whole.then(|| checked(igmp::verify_checksum(payload), Layer::Igmp, findings));
                Some(Transport::Igmp(IgmpLayer {
                    offset,
                    message,
                    checksum,
                }))
            }
        },
        IpProtocol::UDP => {
            let (udp, udp_payload, fits) = match UdpHeader::parse(payload) {
                Ok((h, p)) => (h, p, true),
                Err(e) => {
                    // A capture cut short is reported by the IPv4 layer already, and a first
                    // fragment holds only the start of the datagram.
                    if whole || !e.is_truncation() {
                        findings.push(Finding::from_error(e.shifted(offset)));
                    }
                    match udp_prefix(payload) {
                        Some(h) => (h, payload.get(udp::HEADER_LEN..).unwrap_or_default(), false),
                        None => {
                            return ports_prefix(payload, offset, IpProtocol::UDP, false)
                                .map(Transport::Prefix)
                        }
                    }
                }
            };
            port_zero(udp.source_port, udp.destination_port, Layer::Udp, findings);
            if fits && usize::from(udp.length) < payload.len() {
                findings.push(Finding::Anomaly {
                    layer: Layer::Udp,
                    offset,
                    kind: Anomaly::UdpLengthShorterThanPayload,
                });
            }
            let checksum = (whole && fits).then(|| {
                let datagram = payload.get(..usize::from(udp.length)).unwrap_or(payload);
                checked(
                    UdpHeader::verify_checksum(header.source, header.final_destination(), datagram),
                    Layer::Udp,
                    findings,
                )
            });
            Some(Transport::Udp(UdpLayer {
                offset,
                header: udp,
                payload: udp_payload,
                checksum,
            }))
        }
        IpProtocol::TCP => {
            let (tcp, segment_payload, error) = match TcpHeader::parse_lax(payload) {
                Ok(parsed) => parsed,
                Err(e) => {
                    if whole || !e.is_truncation() {
                        findings.push(Finding::from_error(e.shifted(offset)));
                    }
                    return ports_prefix(payload, offset, IpProtocol::TCP, false)
                        .map(Transport::Prefix);
                }
            };
            if let Some(e) = error {
                if whole || !e.is_truncation() {
                    findings.push(Finding::from_error(e.shifted(offset)));
                }
            }
            let flags = tcp.flags;
            let anomaly = |kind| Finding::Anomaly {
                layer: Layer::Tcp,
                offset,
                kind,
            };
            if flags.contains(TcpFlags::SYN) && flags.contains(TcpFlags::FIN) {
                findings.push(anomaly(Anomaly::SynAndFin));
            }
            if flags.contains(TcpFlags::SYN) && flags.contains(TcpFlags::RST) {
                findings.push(anomaly(Anomaly::SynAndRst));
            }
            if flags.0 & 0x1ff == 0 {
                findings.push(anomaly(Anomaly::NoTcpFlags));
            }
            port_zero(tcp.source_port, tcp.destination_port, Layer::Tcp, findings);
            let checksum = whole.then(|| {
                checked(
                    TcpHeader::verify_checksum(header.source, header.final_destination(), payload),
                    Layer::Tcp,
                    findings,
                )
            });
            // The segment length the IP header describes (what was on the wire).
            let ip_payload_len = if header.total_length == 0 {
                payload.len()
            } else {
                usize::from(header.total_length).saturating_sub(header.header_len())
            };
            let described = ip_payload_len.saturating_sub(tcp.header_len());
            let payload_len = if header.total_length == 0 {
                segment_payload.len()
            } else {
                described
            };
            Some(Transport::Tcp(TcpLayer {
                offset,
                header: tcp,
                payload: segment_payload,
                payload_len,
                checksum,
                header_complete: tcp.header_len() <= ip_payload_len,
            }))
        }
        other => {
            findings.push(Finding::Unsupported {
                layer: Layer::Ipv4,
                value: u16::from(other.0),
                offset,
            });
            None
        }
    }
}

/// Decodes the datagram quoted in an ICMP error, one level deep, discarding findings.
fn decode_quoted(quote: &[u8], offset: usize) -> Option<Datagram<'_>> {
    let mut ignored = Vec::new();
    let (header, rest, _) = Ipv4Header::parse_header_lax(quote).ok()?;
    let header_len = header.header_len();
    let total = usize::from(header.total_length).saturating_sub(header_len);
    let payload = rest.get(..total).unwrap_or(rest);
    let ipv4 = Ipv4Layer {
        offset,
        header,
        payload,
        complete: payload.len() == total,
        checksum: quote.get(..header_len).map(ipv4::verify_checksum),
    };
    let transport = if header.fragment_offset != 0 {
        None
    } else {
        match header.protocol {
            // An ICMP error is never sent about an ICMP error [RFC 1122 § 3.2.2]: a quoted
            // ICMP message is decoded for its header, not for a further quote.
            IpProtocol::ICMP => IcmpMessage::parse(payload).ok().map(|(message, _)| {
                Transport::Icmp(IcmpLayer {
                    offset: offset + header_len,
                    message,
                    checksum: None,
                    quoted: None,
                })
            }),
            // A whole quoted datagram (Linux quotes up to 576 bytes) can be checksummed.
            IpProtocol::TCP if payload.len() < crate::tcp::HEADER_LEN => {
                // Routers quote only 8 bytes: ports and sequence number.
                ports_prefix(payload, offset + header_len, IpProtocol::TCP, true)
                    .map(Transport::Prefix)
            }
            // A quoted UDP datagram is checksummed when its own length fits in the quote.
            _ => decode_transport(
                &ipv4,
                (ipv4.complete || header.protocol == IpProtocol::UDP) && !header.more_fragments,
                offset + header_len,
                &mut ignored,
            ),
        }
    };
    Some(Datagram { ipv4, transport })
}

/// An ARP packet cut short: its fixed eight bytes, with no addresses (as Wireshark shows it: a
/// packet that does not hold all four addresses gives none of them).
fn arp_prefix(bytes: &[u8]) -> Option<ArpPacket<'_>> {
    let f = bytes.first_chunk::<8>()?;
    let none = bytes.get(8..8).unwrap_or_default();
    Some(ArpPacket {
        hardware_type: crate::arp::HardwareType(u16::from_be_bytes([f[0], f[1]])),
        protocol_type: EtherType(u16::from_be_bytes([f[2], f[3]])),
        hardware_len: f[4],
        protocol_len: f[5],
        operation: crate::arp::ArpOperation(u16::from_be_bytes([f[6], f[7]])),
        // Empty, but within the frame like every other borrowed field.
        sender_hardware_addr: none,
        sender_protocol_addr: none,
        target_hardware_addr: none,
        target_protocol_addr: none,
    })
}

/// The fixed UDP fields from the first eight bytes, whatever the length field says.
fn udp_prefix(bytes: &[u8]) -> Option<UdpHeader> {
    let b = bytes.first_chunk::<8>()?;
    Some(UdpHeader {
        source_port: u16::from_be_bytes([b[0], b[1]]),
        destination_port: u16::from_be_bytes([b[2], b[3]]),
        length: u16::from_be_bytes([b[4], b[5]]),
        checksum: u16::from_be_bytes([b[6], b[7]]),
    })
}

/// The ports of a UDP or TCP header too short to parse, and for a TCP header quoted in an ICMP
/// error (`with_sequence`) its sequence number.
fn ports_prefix(
    bytes: &[u8],
    offset: usize,
    protocol: IpProtocol,
    with_sequence: bool,
) -> Option<TransportPrefix> {
    let p = bytes.first_chunk::<4>()?;
    Some(TransportPrefix {
        offset,
        protocol,
        source_port: u16::from_be_bytes([p[0], p[1]]),
        destination_port: u16::from_be_bytes([p[2], p[3]]),
        sequence_number: bytes
            .get(4..8)
            .and_then(|s| s.first_chunk::<4>())
            .filter(|_| with_sequence)
            .map(|s| u32::from_be_bytes(*s)),
    })
}
