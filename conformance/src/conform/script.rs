//! A parsed scenario: the syntax tree that [`parse`](super::parse) builds from packetdrill
//! syntax and [`run`](super::run) executes. The grammar, with wirecheck's extensions, is
//! documented in `conformance/scenarios/SYNTAX.md`.
//!
//! Numbers in packet lines are kept as written: sequence numbers, acknowledgments and
//! timestamps are *script-relative*, as in packetdrill, and the interpreter maps them to the
//! live values.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

/// One scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Where it was read from (None for a script parsed from a string).
    pub path: Option<PathBuf>,
    /// The comment block at the top, without comment markers: what the scenario checks.
    pub description: String,
    /// `--name=value` option lines, in order (`--tolerance_usecs=75000`, `--ip_version=ipv4`).
    pub options: Vec<(String, String)>,
    /// Requirement IDs it checks (`--requirements=RFC9293-MUST-8,RFC5961-3.2`).
    pub requirements: Vec<String>,
    /// Features it needs (`--requires=sack,timestamps`; see [`FEATURES`]).
    ///
    /// [`FEATURES`]: super::target::FEATURES
    pub requires: Vec<String>,
    /// The events, in file order.
    pub events: Vec<Event>,
}

impl Script {
    /// The value of option `name`, if given.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One line (or `%{ }%` block) of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// 1-based line number in the file.
    pub line: usize,
    /// When it happens.
    pub time: TimeSpec,
    /// What happens.
    pub kind: EventKind,
    /// The `#ifdef NAME` / `#ifndef NAME` block the event is in (None: unconditional). The
    /// FreeBSD suite brackets OS-specific expectations this way (`#ifdef FreeBSD`,
    /// `#ifdef STANDARD`); which symbols are defined is the runner's choice.
    pub condition: Option<Condition>,
}

/// A preprocessor condition around events: `#ifdef NAME` (or `#ifndef NAME`, or the `#else`
/// branch of either).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The symbol tested.
    pub symbol: String,
    /// Whether the events apply when the symbol is defined (`#ifdef`) or when it is not
    /// (`#ifndef`, or `#else` after `#ifdef`).
    pub when_defined: bool,
}

impl Condition {
    /// Whether events under this condition apply, given the set of defined symbols.
    pub fn holds(&self, is_defined: impl Fn(&str) -> bool) -> bool {
        is_defined(&self.symbol) == self.when_defined
    }
}

/// When an event happens, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// `0.100`: seconds since the start of the script.
    Absolute(Duration),
    /// `+0.100`: seconds after the previous event.
    Relative(Duration),
    /// `0.1~0.2` or `+0.1~+0.2`: any time in the window (the start is absolute or relative as
    /// written, the end of the same kind).
    Range {
        /// Start of the window.
        start: Duration,
        /// End of the window.
        end: Duration,
        /// Whether both ends are relative to the previous event.
        relative: bool,
    },
    /// `*`: any time (outbound packets only).
    Any,
    /// `0.1...0.2 call(...)` (or `+0.1...+0.2`): a blocking call that starts at `start`
    /// and must return at `end`.
    Blocking {
        /// When the call is made.
        start: Duration,
        /// When it must return.
        end: Duration,
        /// Whether both ends are relative to the previous event.
        relative: bool,
    },
}

/// What an event does.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// `<` or `>` line.
    Packet(PacketEvent),
    /// A socket call with its expected result.
    Call(CallEvent),
    /// `` `command` ``: a shell command (packetdrill runs it; wirecheck records it and, for
    /// `sysctl` lines, lets the profile decide whether to ignore it).
    Shell(String),
    /// `%{ ... }%`: a Python snippet packetdrill runs after the script (wirecheck does not run
    /// Python; the interpreter notes it as not checked).
    Code(String),
    /// Extension: an inbound line followed by lines starting `&` instead of a time
    /// (`& < P. 1001:2001(1000) ack 1`): the packets are handed to the target as one batch, all
    /// before it runs its output. Every packet is inbound; at least two.
    Batch(Vec<PacketEvent>),
}

impl EventKind {
    /// The packets of a packet line or a batch (none for other events).
    pub fn packets(&self) -> &[PacketEvent] {
        match self {
            EventKind::Packet(p) => std::slice::from_ref(p),
            EventKind::Batch(list) => list,
            _ => &[],
        }
    }
}

/// Which way a packet crosses the wire, seen from the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `<`: the runner injects it.
    Inbound,
    /// `>`: the target must send it.
    Outbound,
}

/// A packet line.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketEvent {
    /// `<` or `>`.
    pub direction: Direction,
    /// Interface index (extension: a leading `eth1` names interface 1; default 0).
    pub interface: usize,
    /// Ethernet addresses given in the extension's `ether[...]` block.
    pub ethernet: EthernetSpec,
    /// IP-level fields given in the extension's `[...]` block or as addresses.
    pub ip: IpSpec,
    /// The packet itself.
    pub body: PacketBody,
    /// How many times the packet comes (extension: a trailing `repeated` or `optional` on an
    /// outbound line).
    pub times: Times,
}

/// How many times an outbound line's packet is sent (extension).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Times {
    /// No suffix: once.
    #[default]
    Once,
    /// `repeated`: one or more times within the line's time window (retransmissions whose
    /// number and spacing are the target's choice). The runner waits for the first; later
    /// copies are accepted until the next outbound line's packet matches or the window ends.
    Repeated,
    /// `optional`: zero or more times within the window (a reaction the RFC leaves to the
    /// target, e.g. an ACK or a reset). The runner does not wait for it; copies are accepted
    /// until the next outbound line's packet matches or the window ends.
    Optional,
}

/// Extension `ether[src=MAC dst=MAC]`: Ethernet addresses a line sets (inbound) or constrains
/// (outbound). `None` means the default: inbound frames come from the runner's peer MAC to the
/// target's MAC (broadcast for broadcast and multicast IP destinations); outbound frames must
/// come from the target's MAC and go to the address their IP destination implies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EthernetSpec {
    /// Source MAC.
    pub src: Option<wirecheck_codec::ethernet::MacAddr>,
    /// Destination MAC.
    pub dst: Option<wirecheck_codec::ethernet::MacAddr>,
}

/// IPv4 fields a line may set (inbound) or constrain (outbound). `None` means the default
/// (inbound) or "anything" (outbound).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpSpec {
    /// Source address (default: the remote end for inbound, the target for outbound).
    pub src: Option<Ipv4Addr>,
    /// Destination address (default: the target for inbound, the remote end for outbound).
    pub dst: Option<Ipv4Addr>,
    /// Time to live.
    pub ttl: Option<u8>,
    /// Type of service / DSCP+ECN octet.
    pub tos: Option<u8>,
    /// Identification.
    pub id: Option<u16>,
    /// Don't Fragment.
    pub dont_fragment: Option<bool>,
    /// This packet is a fragment: offset in octets and More Fragments.
    pub fragment: Option<FragmentSpec>,
    /// Raw option bytes (inbound only).
    pub options: Option<Vec<u8>>,
    /// Extension `csum=bad` (inbound only): the IPv4 header checksum is sent wrong.
    pub bad_header_checksum: bool,
    /// Extension `l4csum=bad` / `l4csum=0` (inbound only): the TCP, UDP or ICMP checksum is
    /// sent wrong, or as zero (for UDP, "no checksum" [RFC 768]).
    pub transport_checksum: Option<ChecksumSpec>,
    /// The ECN field (RFC 3168 §5), packetdrill's `[noecn]`, `[ect0]`, `[ect1]`, `[ect01]`,
    /// `[ce]` after the direction. Only the two low bits of the TOS octet.
    pub ecn: Option<EcnSpec>,
}

/// How an inbound line's transport checksum is to be corrupted (extension `l4csum=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumSpec {
    /// `l4csum=bad`: a value that does not verify.
    Bad,
    /// `l4csum=0`: the field is zero.
    Zero,
}

/// The ECN codepoint of a packet (RFC 3168 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcnSpec {
    /// `noecn`: Not-ECT (00).
    NotEct,
    /// `ect0`: ECT(0) (10).
    Ect0,
    /// `ect1`: ECT(1) (01).
    Ect1,
    /// `ect01`: either ECT(0) or ECT(1) (outbound lines).
    Ect0Or1,
    /// `ce`: Congestion Experienced (11).
    Ce,
}

/// A fragment's place in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentSpec {
    /// Fragment offset in octets (a multiple of 8).
    pub offset: u16,
    /// More Fragments flag.
    pub more: bool,
}

/// The layer-4 (or link-layer) content of a packet line.
#[derive(Debug, Clone, PartialEq)]
pub enum PacketBody {
    /// A TCP segment.
    Tcp(TcpSpec),
    /// `udp (LEN)`: a UDP datagram with LEN payload octets.
    Udp(UdpSpec),
    /// `icmp TYPE [CODE] ...`.
    Icmp(IcmpSpec),
    /// Extension: `arp ...`.
    Arp(ArpSpec),
    /// Extension: `igmp ...`.
    Igmp(IgmpSpec),
    /// Extension: `raw PROTO (LEN)`: an IP datagram of protocol PROTO with LEN zero octets.
    RawIp {
        /// IP protocol number.
        protocol: u8,
        /// Payload length.
        len: usize,
    },
}

/// A TCP segment line: `S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 7>`.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpSpec {
    /// Ports, when the line gives them (extension `src:port > dst:port` prefix); default
    /// the script's connection.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Flags as letters: `S` SYN, `F` FIN, `R` RST, `P` PSH, `.` ACK, `U` URG, `E` ECE, `W` CWR.
    pub flags: TcpFlagsSpec,
    /// Script-relative first sequence number.
    pub seq: u32,
    /// `...(LEN)` instead of `seq:end(len)`: any sequence number (outbound; `seq` and `end`
    /// are then 0 and `len`).
    pub any_seq: bool,
    /// Script-relative end sequence number (`seq + len`).
    pub end: u32,
    /// Payload length in octets (with `max_len`, the least length allowed).
    pub len: u32,
    /// `...(MIN~MAX)` (outbound only): any payload length from `len` to this, both included,
    /// for what the RFCs leave to the target (how far a segment is cut down).
    pub max_len: Option<u32>,
    /// Script-relative acknowledgment number (`ack N`).
    pub ack: Option<u32>,
    /// Window field as sent (`win N`), before scaling.
    pub window: Option<u32>,
    /// Urgent pointer (`urg N`).
    pub urgent: Option<u16>,
    /// The options.
    pub options: TcpOptionsSpec,
}

/// TCP flags of a line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TcpFlagsSpec {
    /// SYN.
    pub syn: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
    /// PSH.
    pub psh: bool,
    /// ACK (`.`).
    pub ack: bool,
    /// URG.
    pub urg: bool,
    /// ECE.
    pub ece: bool,
    /// CWR.
    pub cwr: bool,
}

/// The option list of a TCP line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptionsSpec {
    /// No `<...>` at all: the segment has no options.
    None,
    /// `<...>`: any options (outbound), none (inbound).
    Any,
    /// An explicit list.
    List(Vec<TcpOptionSpec>),
}

/// One TCP option as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpOptionSpec {
    /// `nop`
    Nop,
    /// `eol`
    Eol,
    /// `mss N`
    Mss(u16),
    /// `wscale N`
    WindowScale(u8),
    /// `sackOK`
    SackPermitted,
    /// `sack a:b c:d` (script-relative sequence numbers).
    Sack(Vec<(u32, u32)>),
    /// `TS val A ecr B` (script-relative timestamps).
    Timestamp {
        /// TSval.
        value: u32,
        /// TSecr.
        echo: u32,
    },
    /// `FO` options and anything else: kind and data octets.
    Other {
        /// Option kind.
        kind: u8,
        /// Option data (without kind and length).
        data: Vec<u8>,
    },
    /// Extension `bytes HEX` (inbound only): octets written verbatim, so a script can send an
    /// option with an illegal length (`bytes 0200`: MSS with length 0).
    Raw(Vec<u8>),
}

/// `udp (LEN)`, optionally with ports (extension `src:port > dst:port udp (LEN)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSpec {
    /// Source port (default: the script's UDP flow).
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Payload length.
    pub len: usize,
}

/// An ICMP line: `icmp echo_request id 7 seq 1 (56)`, `icmp unreachable port_unreachable`,
/// `icmp unreachable frag_needed mtu 1200 [quoted]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IcmpSpec {
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code (None: any, outbound).
    pub code: Option<u8>,
    /// Next-hop MTU of fragmentation-needed.
    pub mtu: Option<u16>,
    /// Echo identifier and sequence number.
    pub echo: Option<(u16, u16)>,
    /// Parameter-problem pointer.
    pub pointer: Option<u8>,
    /// Payload length (echo) when given.
    pub len: Option<usize>,
    /// The quoted datagram of an error, as a TCP/UDP line inside `[...]` (inbound: what to
    /// quote; outbound: what the quote must contain).
    pub quoted: Option<Box<PacketEvent>>,
}

/// Extension: an ARP line.
///
/// `arp who-has 192.168.0.2 tell 192.168.0.1`, `arp reply 192.168.0.2 is-at 02:00:00:00:00:02`
/// (`is-at *` outbound: any MAC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArpSpec {
    /// A request.
    Request {
        /// Address asked for.
        target_ip: Ipv4Addr,
        /// Asker's address.
        sender_ip: Ipv4Addr,
    },
    /// A reply.
    Reply {
        /// The address resolved.
        sender_ip: Ipv4Addr,
        /// Its MAC (None: any).
        sender_mac: Option<wirecheck_codec::ethernet::MacAddr>,
        /// Who the reply is for (None: the target / the peer by direction).
        target_ip: Option<Ipv4Addr>,
    },
}

/// Extension: an IGMP line: `igmp v2 query group 0.0.0.0 max_resp 100`,
/// `igmp v2 report 239.1.2.3`, `igmp v3 report [mode_is_exclude 239.1.2.3]`,
/// `igmp leave 239.1.2.3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgmpSpec {
    /// A query of the given version; `max_resp` in tenths of a second (v3: the code).
    Query {
        /// 1, 2 or 3.
        version: u8,
        /// Group (0.0.0.0 for a general query).
        group: Ipv4Addr,
        /// Max response time (v2: tenths; v3: code).
        max_resp: u8,
        /// v3 sources.
        sources: Vec<Ipv4Addr>,
    },
    /// A v1/v2 membership report.
    Report {
        /// 1 or 2.
        version: u8,
        /// Group.
        group: Ipv4Addr,
    },
    /// A v2 leave group.
    Leave {
        /// Group.
        group: Ipv4Addr,
    },
    /// A v3 report; each record `(type, group, sources)`.
    V3Report {
        /// Group records.
        records: Vec<(u8, Ipv4Addr, Vec<Ipv4Addr>)>,
    },
}

/// A socket call line: `+0 accept(3, ..., ...) = 4`,
/// `+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// `socket`, `bind`, `listen`, `accept`, `connect`, `write`, `read`, `send`, `recv`,
    /// `sendto`, `recvfrom`, `close`, `shutdown`, `setsockopt`, `getsockopt`, `fcntl`, `poll`,
    /// extension `join_group` / `leave_group`, …
    pub name: String,
    /// Arguments as written.
    pub args: Vec<Expr>,
    /// The expected return value.
    pub result: Expr,
    /// The expected errno name, when the result is -1.
    pub errno: Option<String>,
}

/// An argument or result expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything / the default.
    Ellipsis,
    /// A number (decimal or `0x` hex).
    Int(i64),
    /// A symbol: `SOCK_STREAM`, `SOL_SOCKET`, `O_NONBLOCK`, …
    Symbol(String),
    /// `A | B`.
    Or(Vec<Expr>),
    /// `[1]` (a pointer-to-value argument, as packetdrill writes them).
    List(Vec<Expr>),
    /// `{l_onoff=1, l_linger=0}` or `{sa_family=AF_INET, ...}`.
    Struct(Vec<(String, Expr)>),
    /// `"text"`.
    String(String),
    /// Extension: `192.0.2.1:8080` as an address argument.
    Address(SocketAddrV4),
    /// Extension: an IPv4 address (group addresses).
    Ip(Ipv4Addr),
}
