//! Matching what the target sent against an outbound line, field by field, and rendering
//! both in the script's own notation (sequence numbers relative, as the script wrote them).
//!
//! Every checksum of an outbound frame is verified (IPv4 header, TCP, UDP, ICMP, IGMP): a bad
//! checksum is a mismatch like any other field.

use std::fmt;
use std::net::Ipv4Addr;

use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation};
use wirecheck_codec::ethernet::{EtherType, EthernetHeader};
use wirecheck_codec::igmp::{IgmpMessage, QueryBody, QueryVersion};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption};
use wirecheck_codec::udp::UdpHeader;
use wirecheck_codec::{icmp, igmp, ChecksumStatus};

use super::super::script::{
    ArpSpec, Direction, EcnSpec, IcmpSpec, IgmpSpec, IpSpec, PacketBody, PacketEvent, TcpFlagsSpec,
    TcpOptionSpec, TcpOptionsSpec, TcpSpec, UdpSpec,
};
use super::super::target::SentFrame;
use super::frames::{ecn_bits, ethernet_destination, igmp_destination, protocol_of, tcp_flags};
use super::Session;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mismatch {
    pub field: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.field, self.expected, self.got
        )
    }
}

/// The result of matching one frame against one line.
#[derive(Debug, Clone)]
pub(super) struct Comparison {
    /// Empty when the frame matches.
    pub mismatches: Vec<Mismatch>,
    /// The frame in script notation.
    pub got: String,
}

struct Diff(Vec<Mismatch>);

impl Diff {
    fn field(&mut self, field: &str, expected: impl fmt::Display, got: impl fmt::Display) {
        self.0.push(Mismatch {
            field: field.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        });
    }

    fn check<T: PartialEq + fmt::Display>(&mut self, field: &str, expected: T, got: T) {
        if expected != got {
            self.field(field, expected, got);
        }
    }

    fn checksum(&mut self, layer: &str, status: ChecksumStatus) {
        match status {
            ChecksumStatus::Good | ChecksumStatus::Absent => {}
            ChecksumStatus::Bad { expected, found } => self.field(
                &format!("{layer} checksum"),
                format!("{expected:#06x}"),
                format!("{found:#06x}"),
            ),
            ChecksumStatus::Partial => self.field(
                &format!("{layer} checksum"),
                "a complete checksum",
                "only the pseudo-header sum (offload not finished)",
            ),
        }
    }
}

/// Flags in packetdrill's letters, in a fixed order.
fn render_flags_spec(f: TcpFlagsSpec) -> String {
    render_flags(tcp_flags(f))
}

fn render_flags(f: TcpFlags) -> String {
    let mut s = String::new();
    for (flag, letter) in [
        (TcpFlags::FIN, 'F'),
        (TcpFlags::SYN, 'S'),
        (TcpFlags::RST, 'R'),
        (TcpFlags::PSH, 'P'),
        (TcpFlags::ACK, '.'),
        (TcpFlags::URG, 'U'),
        (TcpFlags::ECE, 'E'),
        (TcpFlags::CWR, 'W'),
    ] {
        if f.contains(flag) {
            s.push(letter);
        }
    }
    if s.is_empty() {
        s.push_str("(none)");
    }
    s
}

fn render_option_spec(o: &TcpOptionSpec) -> String {
    match o {
        TcpOptionSpec::Nop => "nop".into(),
        TcpOptionSpec::Eol => "eol".into(),
        TcpOptionSpec::Mss(v) => format!("mss {v}"),
        TcpOptionSpec::WindowScale(v) => format!("wscale {v}"),
        TcpOptionSpec::SackPermitted => "sackOK".into(),
        TcpOptionSpec::Sack(blocks) => {
            let b: Vec<String> = blocks.iter().map(|(l, r)| format!("{l}:{r}")).collect();
            format!("sack {}", b.join(" "))
        }
        TcpOptionSpec::Timestamp { value, echo } => format!("TS val {value} ecr {echo}"),
        TcpOptionSpec::Other { kind, data } => format!("kind {kind} {}", hex(data)),
        TcpOptionSpec::Raw(bytes) => format!("bytes {}", hex(bytes)),
    }
}

/// The 12 octets of a timestamp reply [RFC 792]: the originate timestamp is the one the
/// runner's request carried (its data is the filler, octets 0, 1, 2, …, so 0x00010203), and
/// the receive and transmit timestamps are milliseconds since midnight UT (below 86 400 000)
/// or, the RFC's escape, any value with the high-order bit set [RFC 1122 § 3.2.2.8]. Their
/// values are the target's clock and are not compared.
fn compare_timestamps(data: &[u8], diff: &mut Diff) {
    let word = |i: usize| {
        data.get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(originate), Some(receive), Some(transmit)) = (word(0), word(4), word(8)) else {
        diff.field("timestamps", "12 octets", format!("{} octets", data.len()));
        return;
    };
    let request = super::frames::filler(4);
    let expected = u32::from_be_bytes([request[0], request[1], request[2], request[3]]);
    diff.check("originate timestamp", expected, originate);
    for (name, value) in [
        ("receive timestamp", receive),
        ("transmit timestamp", transmit),
    ] {
        if value >= 86_400_000 && value & 0x8000_0000 == 0 {
            diff.field(
                name,
                "ms since midnight UT (< 86400000) or the high-order bit set",
                value,
            );
        }
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn render_options_spec(o: &TcpOptionsSpec) -> String {
    match o {
        TcpOptionsSpec::None => "none".into(),
        TcpOptionsSpec::Any => "<...>".into(),
        TcpOptionsSpec::List(list) => {
            let parts: Vec<String> = list.iter().map(render_option_spec).collect();
            format!("<{}>", parts.join(","))
        }
    }
}

fn render_ecn(ecn: EcnSpec) -> &'static str {
    match ecn {
        EcnSpec::NotEct => "noecn",
        EcnSpec::Ect0 => "ect0",
        EcnSpec::Ect1 => "ect1",
        EcnSpec::Ect0Or1 => "ect01",
        EcnSpec::Ce => "ce",
    }
}

fn render_ecn_bits(bits: u8) -> &'static str {
    match bits & 0b11 {
        0b00 => "noecn",
        0b01 => "ect1",
        0b10 => "ect0",
        _ => "ce",
    }
}

fn render_ip_spec(ip: &IpSpec) -> String {
    let mut parts = Vec::new();
    if let Some(ecn) = ip.ecn {
        parts.push(render_ecn(ecn).to_string());
    }
    if let Some(a) = ip.src {
        parts.push(format!("src={a}"));
    }
    if let Some(a) = ip.dst {
        parts.push(format!("dst={a}"));
    }
    if let Some(v) = ip.ttl {
        parts.push(format!("ttl={v}"));
    }
    if let Some(v) = ip.tos {
        parts.push(format!("tos={v}"));
    }
    if let Some(v) = ip.id {
        parts.push(format!("id={v}"));
    }
    if ip.dont_fragment == Some(true) {
        parts.push("df".into());
    }
    if let Some(f) = ip.fragment {
        parts.push(format!("off={}", f.offset));
        if f.more {
            parts.push("mf".into());
        }
    }
    match &ip.options {
        Some(o) if o.is_empty() => parts.push("opts=none".into()),
        Some(o) => parts.push(format!("opts={}", hex(o))),
        None => {}
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("ip[{}] ", parts.join(" "))
    }
}

fn render_tcp_spec(t: &TcpSpec) -> String {
    let mut s = String::new();
    if let (Some(a), Some(b)) = (t.src_port, t.dst_port) {
        s.push_str(&format!(":{a} > :{b} "));
    }
    s.push_str(&format!(
        "{} {}:{}({})",
        render_flags_spec(t.flags),
        t.seq,
        t.end,
        t.len
    ));
    if let Some(a) = t.ack {
        s.push_str(&format!(" ack {a}"));
    }
    if let Some(w) = t.window {
        s.push_str(&format!(" win {w}"));
    }
    if let Some(u) = t.urgent {
        s.push_str(&format!(" urg {u}"));
    }
    if !matches!(t.options, TcpOptionsSpec::None) {
        s.push(' ');
        s.push_str(&render_options_spec(&t.options));
    }
    s
}

fn render_udp_spec(u: &UdpSpec) -> String {
    match (u.src_port, u.dst_port) {
        (Some(a), Some(b)) => format!(":{a} > :{b} udp ({})", u.len),
        _ => format!("udp ({})", u.len),
    }
}

fn render_icmp_spec(i: &IcmpSpec) -> String {
    let mut s = format!("icmp type {}", i.icmp_type);
    if let Some(c) = i.code {
        s.push_str(&format!(" code {c}"));
    }
    if let Some(m) = i.mtu {
        s.push_str(&format!(" mtu {m}"));
    }
    if let Some((id, seq)) = i.echo {
        s.push_str(&format!(" id {id} seq {seq}"));
    }
    if let Some(p) = i.pointer {
        s.push_str(&format!(" pointer {p}"));
    }
    if let Some(l) = i.len {
        s.push_str(&format!(" ({l})"));
    }
    if let Some(q) = &i.quoted {
        s.push_str(&format!(" [{}]", render_body(&q.body, &q.ip)));
    }
    s
}

fn render_igmp_spec(g: &IgmpSpec) -> String {
    match g {
        IgmpSpec::Query {
            version,
            group,
            max_resp,
            sources,
        } => {
            let mut s = format!("igmp v{version} query group {group} max_resp {max_resp}");
            if *version == 3 {
                let list: Vec<String> = sources.iter().map(|a| a.to_string()).collect();
                s.push_str(&format!(" sources [{}]", list.join(" ")));
            }
            s
        }
        IgmpSpec::Report { version, group } => format!("igmp v{version} report {group}"),
        IgmpSpec::Leave { group } => format!("igmp leave {group}"),
        IgmpSpec::V3Report { records } => format!("igmp v3 report [{}]", render_records(records)),
    }
}

fn record_type_name(t: u8) -> String {
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

fn render_records(records: &[(u8, Ipv4Addr, Vec<Ipv4Addr>)]) -> String {
    let parts: Vec<String> = records
        .iter()
        .map(|(t, g, s)| {
            let list: Vec<String> = s.iter().map(|a| a.to_string()).collect();
            format!("{} {g} [{}]", record_type_name(*t), list.join(" "))
        })
        .collect();
    parts.join(", ")
}

fn render_arp_spec(a: &ArpSpec) -> String {
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
            let mut s = format!("arp reply {sender_ip} is-at {mac}");
            if let Some(t) = target_ip {
                s.push_str(&format!(" to {t}"));
            }
            s
        }
    }
}

fn render_body(body: &PacketBody, ip: &IpSpec) -> String {
    let body_text = match body {
        PacketBody::Tcp(t) => render_tcp_spec(t),
        PacketBody::Udp(u) => render_udp_spec(u),
        PacketBody::Icmp(i) => render_icmp_spec(i),
        PacketBody::Arp(a) => render_arp_spec(a),
        PacketBody::Igmp(g) => render_igmp_spec(g),
        PacketBody::RawIp { protocol, len } => format!("raw {protocol} ({len})"),
    };
    format!("{}{body_text}", render_ip_spec(ip))
}

/// An outbound line as the script would write it: `> S. 0:0(0) ack 1 win 65535 <mss 1460>`.
pub(super) fn render_expected(packet: &PacketEvent) -> String {
    let arrow = match packet.direction {
        Direction::Inbound => "<",
        Direction::Outbound => ">",
    };
    let interface = if packet.interface == 0 {
        String::new()
    } else {
        format!("eth{} ", packet.interface)
    };
    format!(
        "{interface}{arrow} {}",
        render_body(&packet.body, &packet.ip)
    )
}

/// A parsed TCP option, owned, for comparing and rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Opt {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(Vec<(u32, u32)>),
    Timestamp(u32, u32),
    Other(u8, Vec<u8>),
    /// `bytes HEX` (inbound only; the parser refuses it on outbound lines).
    Raw(Vec<u8>),
}

impl Opt {
    fn from_codec(o: &TcpOption<'_>) -> Opt {
        match o {
            TcpOption::EndOfList => Opt::Eol,
            TcpOption::NoOperation => Opt::Nop,
            TcpOption::MaximumSegmentSize(v) => Opt::Mss(*v),
            TcpOption::WindowScale(v) => Opt::WindowScale(*v),
            TcpOption::SackPermitted => Opt::SackPermitted,
            TcpOption::Sack(blocks) => {
                Opt::Sack(blocks.iter().map(|b| (b.left, b.right)).collect())
            }
            TcpOption::Timestamps { value, echo_reply } => Opt::Timestamp(*value, *echo_reply),
            other => {
                let mut buf = [0u8; 40];
                let n = other.write(&mut buf).unwrap_or(0);
                Opt::Other(other.kind(), buf.get(2..n).unwrap_or_default().to_vec())
            }
        }
    }

    fn from_spec(o: &TcpOptionSpec) -> Opt {
        match o {
            TcpOptionSpec::Nop => Opt::Nop,
            TcpOptionSpec::Eol => Opt::Eol,
            TcpOptionSpec::Mss(v) => Opt::Mss(*v),
            TcpOptionSpec::WindowScale(v) => Opt::WindowScale(*v),
            TcpOptionSpec::SackPermitted => Opt::SackPermitted,
            TcpOptionSpec::Sack(b) => Opt::Sack(b.clone()),
            TcpOptionSpec::Timestamp { value, echo } => Opt::Timestamp(*value, *echo),
            TcpOptionSpec::Other { kind, data } => Opt::Other(*kind, data.clone()),
            TcpOptionSpec::Raw(bytes) => Opt::Raw(bytes.clone()),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Opt::Eol => 0,
            Opt::Nop => 1,
            Opt::Mss(_) => 2,
            Opt::WindowScale(_) => 3,
            Opt::SackPermitted => 4,
            Opt::Sack(_) => 5,
            Opt::Timestamp(..) => 8,
            Opt::Other(k, _) => *k,
            Opt::Raw(b) => b.first().copied().unwrap_or(0),
        }
    }

    fn name(&self) -> String {
        match self {
            Opt::Eol => "eol".into(),
            Opt::Nop => "nop".into(),
            Opt::Mss(_) => "mss".into(),
            Opt::WindowScale(_) => "wscale".into(),
            Opt::SackPermitted => "sackOK".into(),
            Opt::Sack(_) => "sack".into(),
            Opt::Timestamp(..) => "TS".into(),
            Opt::Other(k, _) => format!("option kind {k}"),
            Opt::Raw(_) => "bytes".into(),
        }
    }

    fn render(&self) -> String {
        match self {
            Opt::Eol => "eol".into(),
            Opt::Nop => "nop".into(),
            Opt::Mss(v) => format!("mss {v}"),
            Opt::WindowScale(v) => format!("wscale {v}"),
            Opt::SackPermitted => "sackOK".into(),
            Opt::Sack(b) => {
                let parts: Vec<String> = b.iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {}", parts.join(" "))
            }
            Opt::Timestamp(v, e) => format!("TS val {v} ecr {e}"),
            Opt::Other(k, d) => format!("kind {k} {}", hex(d)),
            Opt::Raw(b) => format!("bytes {}", hex(b)),
        }
    }
}

fn render_opts(list: &[Opt]) -> String {
    let parts: Vec<String> = list.iter().map(Opt::render).collect();
    format!("<{}>", parts.join(","))
}

/// Compares one expected option with the actual one of the same kind; TS val is learnt, not
/// compared. Returns the differences.
fn compare_option(expected: &Opt, actual: &Opt, diff: &mut Diff) {
    match (expected, actual) {
        (Opt::Mss(e), Opt::Mss(a)) => diff.check("mss", *e, *a),
        (Opt::WindowScale(e), Opt::WindowScale(a)) => diff.check("wscale", *e, *a),
        (Opt::Timestamp(_, e), Opt::Timestamp(_, a)) => diff.check("TS ecr", *e, *a),
        (Opt::Sack(e), Opt::Sack(a)) if e != a => diff.field(
            "sack blocks",
            Opt::Sack(e.clone()).render(),
            Opt::Sack(a.clone()).render(),
        ),
        (Opt::Other(_, e), Opt::Other(_, a)) if e != a => {
            diff.field(&expected.name(), hex(e), hex(a))
        }
        _ => {}
    }
}

fn options_equal(expected: &Opt, actual: &Opt) -> bool {
    match (expected, actual) {
        (Opt::Timestamp(_, e), Opt::Timestamp(_, a)) => e == a,
        (e, a) => e == a,
    }
}

impl Session {
    /// A one-line description of a frame for "unexpected packet" messages.
    pub(super) fn describe(&self, frame: &SentFrame) -> String {
        let Ok((eth, payload)) = EthernetHeader::parse(&frame.bytes) else {
            return format!(
                "{} octets that are not an Ethernet frame",
                frame.bytes.len()
            );
        };
        match eth.ether_type {
            EtherType::ARP => match ArpEthernetIpv4::parse(payload) {
                Ok((arp, _)) => render_arp(&arp),
                Err(e) => format!("malformed ARP: {e}"),
            },
            EtherType::IPV4 => match Ipv4Header::parse(payload) {
                Ok((ip, l4)) => format!(
                    "{} > {} {}",
                    ip.source,
                    ip.destination,
                    self.render_l4(&ip, l4)
                ),
                Err(e) => format!("malformed IPv4: {e}"),
            },
            other => format!("EtherType {other}"),
        }
    }

    fn flow_for_ports(&self, local: u16, remote: u16) -> Option<&super::TcpFlow> {
        self.flows
            .iter()
            .rev()
            .find(|f| f.remote_port == remote && f.local_port.is_none_or(|p| p == local))
    }

    fn render_l4(&self, ip: &Ipv4Header<'_>, l4: &[u8]) -> String {
        self.render_l4_as(ip, l4, true)
    }

    fn render_l4_as(&self, ip: &Ipv4Header<'_>, l4: &[u8], with_ports: bool) -> String {
        let ports = |s: u16, d: u16| {
            if with_ports {
                format!(":{s} > :{d} ")
            } else {
                String::new()
            }
        };
        if ip.is_fragment() && ip.fragment_offset != 0 {
            return format!(
                "raw {} ({}) fragment off={}",
                ip.protocol.0,
                l4.len(),
                ip.fragment_offset_bytes()
            );
        }
        match ip.protocol {
            IpProtocol::TCP => match TcpHeader::parse(l4) {
                Ok((tcp, payload)) => {
                    let flow = self.flow_for_ports(tcp.source_port, tcp.destination_port);
                    let offset = flow.and_then(|f| f.seq_offset).unwrap_or(0);
                    format!(
                        "{}{}",
                        ports(tcp.source_port, tcp.destination_port),
                        render_tcp(&tcp, payload.len(), offset)
                    )
                }
                Err(e) => format!("malformed TCP: {e}"),
            },
            IpProtocol::UDP => match UdpHeader::parse(l4) {
                Ok((udp, payload)) => format!(
                    "{}udp ({})",
                    ports(udp.source_port, udp.destination_port),
                    payload.len()
                ),
                Err(_) => format!("udp ({} octets)", l4.len()),
            },
            IpProtocol::ICMP => render_icmp(l4),
            IpProtocol::IGMP => render_igmp(l4),
            other => format!("raw {} ({})", other.0, l4.len()),
        }
    }

    /// Matches `frame` against the outbound line `packet`, learning the target's ISN, local
    /// port and TS values on the way.
    pub(super) fn compare(&mut self, packet: &PacketEvent, frame: &SentFrame) -> Comparison {
        let mut diff = Diff(Vec::new());
        if frame.interface != packet.interface {
            diff.field(
                "interface",
                format!("eth{}", packet.interface),
                format!("eth{}", frame.interface),
            );
        }
        let Ok((eth, payload)) = EthernetHeader::parse(&frame.bytes) else {
            diff.field(
                "frame",
                "an Ethernet frame",
                format!("{} octets", frame.bytes.len()),
            );
            return Comparison {
                mismatches: diff.0,
                got: "a runt frame".into(),
            };
        };
        let own_mac = self.target_mac(frame.interface);
        let expected_source = packet.ethernet.src.unwrap_or(own_mac);
        if eth.source != expected_source {
            diff.field("ethernet source", expected_source, eth.source);
        }
        if let Some(dst) = packet.ethernet.dst {
            if eth.destination != dst {
                diff.field("ethernet destination", dst, eth.destination);
            }
        }
        if let PacketBody::Arp(spec) = &packet.body {
            if eth.ether_type != EtherType::ARP {
                diff.field("EtherType", "ARP", eth.ether_type);
                let got = self.describe(frame);
                return Comparison {
                    mismatches: diff.0,
                    got,
                };
            }
            let got = match ArpEthernetIpv4::parse(payload) {
                Ok((arp, _)) => {
                    compare_arp(spec, &arp, &mut diff);
                    render_arp(&arp)
                }
                Err(e) => {
                    diff.field("ARP", "an Ethernet/IPv4 ARP packet", e);
                    "malformed ARP".into()
                }
            };
            return Comparison {
                mismatches: diff.0,
                got,
            };
        }
        if eth.ether_type != EtherType::IPV4 {
            diff.field("EtherType", "IPv4", eth.ether_type);
            let got = self.describe(frame);
            return Comparison {
                mismatches: diff.0,
                got,
            };
        }
        let (ip, l4) = match Ipv4Header::parse(payload) {
            Ok(parsed) => parsed,
            Err(e) => {
                diff.field("IPv4 header", "a valid header", e);
                return Comparison {
                    mismatches: diff.0,
                    got: "malformed IPv4".into(),
                };
            }
        };
        diff.checksum("IPv4 header", ip.checksum_status());
        self.compare_ip(packet, &ip, &mut diff);
        let broadcasts = self.directed_broadcasts();
        let eth_expected = ethernet_destination(ip.destination, &broadcasts, self.network.peer_mac);
        if packet.ethernet.dst.is_none() && eth.destination != eth_expected {
            diff.field("ethernet destination", eth_expected, eth.destination);
        }
        let protocol = protocol_of(&packet.body);
        if ip.protocol != protocol {
            diff.field("protocol", protocol, ip.protocol);
            let got = format!(
                "{} > {} {}",
                ip.source,
                ip.destination,
                self.render_l4(&ip, l4)
            );
            return Comparison {
                mismatches: diff.0,
                got,
            };
        }
        // A later fragment carries no transport header: only its size is compared.
        if ip.fragment_offset != 0 {
            let expected_len = match &packet.body {
                PacketBody::RawIp { len, .. } => Some(*len),
                _ => None,
            };
            match expected_len {
                Some(len) => diff.check("payload length", len, l4.len()),
                None => diff.field(
                    "fragment",
                    "a first fragment or whole datagram",
                    format!("off={}", ip.fragment_offset_bytes()),
                ),
            }
            let got = self.render_l4(&ip, l4);
            return Comparison {
                mismatches: diff.0,
                got,
            };
        }
        let first_fragment = ip.more_fragments;
        match &packet.body {
            PacketBody::Tcp(spec) => self.compare_tcp(spec, &ip, l4, &mut diff),
            PacketBody::Udp(spec) => self.compare_udp(spec, &ip, l4, first_fragment, &mut diff),
            PacketBody::Icmp(spec) => self.compare_icmp(spec, &ip, l4, &mut diff),
            PacketBody::Igmp(spec) => compare_igmp(spec, l4, &mut diff),
            PacketBody::RawIp { len, .. } => diff.check("payload length", *len, l4.len()),
            PacketBody::Arp(_) => {}
        }
        // The actual packet in the line's terms: IP fields only when the line constrains them,
        // ports only when they differ from what the line expects.
        let ip_part = if packet.ip == IpSpec::default() {
            String::new()
        } else {
            render_ip_actual(&ip)
        };
        let ports_differ = diff.0.iter().any(|m| m.field.ends_with(" port"));
        let got = format!("{ip_part}{}", self.render_l4_as(&ip, l4, ports_differ));
        Comparison {
            mismatches: diff.0,
            got,
        }
    }

    fn compare_ip(&self, packet: &PacketEvent, ip: &Ipv4Header<'_>, diff: &mut Diff) {
        let spec = &packet.ip;
        // Addresses: as given; otherwise, on a single-interface host, a TCP, UDP or ICMP line
        // goes from the target's address to the remote end, and IGMP to its group address.
        let single = self.network.interfaces.len() == 1;
        let default_source = match packet.body {
            PacketBody::Tcp(_) | PacketBody::Udp(_) | PacketBody::Icmp(_) if single => {
                Some(self.local_ip(packet.interface))
            }
            PacketBody::Igmp(_) => Some(self.local_ip(packet.interface)),
            _ => None,
        };
        let default_destination = match &packet.body {
            PacketBody::Tcp(_) | PacketBody::Udp(_) | PacketBody::Icmp(_) if single => {
                Some(self.network.remote_ip)
            }
            PacketBody::Igmp(g) => Some(igmp_destination(g)),
            _ => None,
        };
        if let Some(src) = spec.src.or(default_source) {
            diff.check("IP source", src, ip.source);
        }
        if let Some(dst) = spec.dst.or(default_destination) {
            diff.check("IP destination", dst, ip.destination);
        }
        if let Some(ttl) = spec.ttl {
            diff.check("TTL", ttl, ip.ttl);
        }
        if let Some(tos) = spec.tos {
            diff.check("TOS", tos, ip.dscp << 2 | ip.ecn.bits());
        }
        if let Some(id) = spec.id {
            diff.check("IP id", id, ip.identification);
        }
        if let Some(ecn) = spec.ecn {
            let actual = ip.ecn.bits();
            let ok = match ecn {
                EcnSpec::Ect0Or1 => actual == 0b01 || actual == 0b10,
                other => actual == ecn_bits(other),
            };
            if !ok {
                diff.field("ECN", render_ecn(ecn), render_ecn_bits(actual));
            }
        }
        if let Some(df) = spec.dont_fragment {
            diff.check("DF", df, ip.dont_fragment);
        }
        if let Some(expected) = &spec.options {
            // Trailing End of Option List octets are padding to the 32-bit boundary.
            let trim = |o: &[u8]| -> Vec<u8> {
                let end = o.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                o[..end].to_vec()
            };
            let actual = trim(ip.options.as_bytes());
            if trim(expected) != actual {
                diff.field("IP options", hex(expected), hex(&actual));
            }
        }
        match spec.fragment {
            Some(f) => {
                diff.check(
                    "fragment offset",
                    usize::from(f.offset),
                    ip.fragment_offset_bytes(),
                );
                diff.check("MF", f.more, ip.more_fragments);
            }
            None => {
                if ip.is_fragment() {
                    diff.field(
                        "fragment",
                        "a whole datagram",
                        format!(
                            "off={}{}",
                            ip.fragment_offset_bytes(),
                            if ip.more_fragments { " mf" } else { "" }
                        ),
                    );
                }
            }
        }
    }

    fn compare_tcp(&mut self, spec: &TcpSpec, ip: &Ipv4Header<'_>, l4: &[u8], diff: &mut Diff) {
        let (tcp, payload) = match TcpHeader::parse(l4) {
            Ok(parsed) => parsed,
            Err(e) => {
                diff.field("TCP header", "a valid header", e);
                return;
            }
        };
        // The pseudo-header names the final destination: with a source route still to
        // follow, its last address, not the first hop in the header [RFC 9293 § 3.1].
        diff.checksum(
            "TCP",
            TcpHeader::verify_checksum(ip.source, ip.final_destination(), l4),
        );
        // Ports: outbound, the source is the target's.
        let local = spec.src_port.or(self.tcp_local_port);
        let remote = spec.dst_port.unwrap_or(self.tcp_remote_port);
        if let Some(local) = local {
            diff.check("source port", local, tcp.source_port);
        }
        diff.check("destination port", remote, tcp.destination_port);
        let index = self.flow_index(Some(local.unwrap_or(tcp.source_port)), remote);
        if self.tcp_local_port.is_none() && spec.src_port.is_none() {
            self.tcp_local_port = Some(tcp.source_port);
        }
        let mut expected_flags = tcp_flags(spec.flags);
        let mut actual_flags = tcp.flags & !TcpFlags::AE;
        if !self.check_push {
            expected_flags = expected_flags & !TcpFlags::PSH;
            actual_flags = actual_flags & !TcpFlags::PSH;
        }
        if expected_flags != actual_flags {
            diff.field(
                "flags",
                render_flags(expected_flags),
                render_flags(actual_flags),
            );
        }
        let flow = &mut self.flows[index];
        if tcp.flags.contains(TcpFlags::SYN) && flow.seq_offset.is_none() {
            flow.seq_offset = Some(tcp.sequence_number.wrapping_sub(spec.seq));
        }
        if !spec.any_seq {
            let seq = flow.script_local_seq(tcp.sequence_number);
            diff.check("seq", spec.seq, seq);
        }
        match spec.max_len {
            Some(max) => {
                let n = payload.len();
                if n < spec.len as usize || n > max as usize {
                    diff.field(
                        "payload length",
                        format!("{}~{max}", spec.len),
                        n.to_string(),
                    );
                }
            }
            None => diff.check("payload length", spec.len as usize, payload.len()),
        }
        if let Some(ack) = spec.ack {
            if tcp.flags.contains(TcpFlags::ACK) {
                diff.check("ack", ack, tcp.acknowledgment_number);
            }
        }
        if let Some(window) = spec.window {
            if self.check_window {
                diff.check("window", window, u32::from(tcp.window));
            }
        }
        if let Some(urgent) = spec.urgent {
            diff.check("urgent pointer", urgent, tcp.urgent_pointer);
        }
        let actual: Vec<Opt> = match tcp.options.iter_checked().collect::<Result<Vec<_>, _>>() {
            Ok(list) => list.iter().map(Opt::from_codec).collect(),
            Err(e) => {
                diff.field("options", "well-formed options", e);
                return;
            }
        };
        // Learn TS val whatever the line says.
        let flow = &mut self.flows[index];
        let expected_ts = match &spec.options {
            TcpOptionsSpec::List(list) => list.iter().find_map(|o| match o {
                TcpOptionSpec::Timestamp { value, .. } => Some(*value),
                _ => None,
            }),
            _ => None,
        };
        for o in &actual {
            if let Opt::Timestamp(value, _) = o {
                match expected_ts {
                    Some(script) => flow.learn_ts(script, *value),
                    None => flow.last_ts_val = Some(*value),
                }
            }
        }
        let order = self.check_option_order;
        compare_options(&spec.options, &actual, order, self.check_window, diff);
    }

    fn compare_udp(
        &mut self,
        spec: &UdpSpec,
        ip: &Ipv4Header<'_>,
        l4: &[u8],
        first_fragment: bool,
        diff: &mut Diff,
    ) {
        let (source_port, destination_port, payload_len) = if first_fragment {
            // The header's length and checksum cover the whole datagram; only the ports and
            // this fragment's share can be compared.
            match l4.get(..4) {
                Some(h) => (
                    u16::from_be_bytes([h[0], h[1]]),
                    u16::from_be_bytes([h[2], h[3]]),
                    l4.len().saturating_sub(8),
                ),
                None => {
                    diff.field("UDP header", "8 octets", format!("{} octets", l4.len()));
                    return;
                }
            }
        } else {
            match UdpHeader::parse(l4) {
                Ok((udp, payload)) => {
                    diff.checksum(
                        "UDP",
                        UdpHeader::verify_checksum(ip.source, ip.final_destination(), l4),
                    );
                    (udp.source_port, udp.destination_port, payload.len())
                }
                Err(e) => {
                    diff.field("UDP header", "a valid header", e);
                    return;
                }
            }
        };
        match spec.src_port.or(self.udp_local_port) {
            Some(local) => diff.check("source port", local, source_port),
            None => self.udp_local_port = Some(source_port),
        }
        diff.check(
            "destination port",
            spec.dst_port.unwrap_or(self.udp_remote_port),
            destination_port,
        );
        diff.check("UDP payload length", spec.len, payload_len);
    }

    fn compare_icmp(&mut self, spec: &IcmpSpec, ip: &Ipv4Header<'_>, l4: &[u8], diff: &mut Diff) {
        let (Some(&icmp_type), Some(&code), Some(rest), Some(data)) =
            (l4.first(), l4.get(1), l4.get(4..8), l4.get(8..))
        else {
            diff.field("ICMP header", "8 octets", format!("{} octets", l4.len()));
            return;
        };
        diff.checksum("ICMP", icmp::verify_checksum(l4));
        diff.check("ICMP type", spec.icmp_type, icmp_type);
        if let Some(c) = spec.code {
            diff.check("ICMP code", c, code);
        }
        let word = |i: usize| u16::from_be_bytes([rest[i], rest[i + 1]]);
        if let Some(mtu) = spec.mtu {
            diff.check("next-hop MTU", mtu, word(2));
        }
        if let Some((id, seq)) = spec.echo {
            diff.check("echo id", id, word(0));
            diff.check("echo seq", seq, word(2));
        }
        if let Some(pointer) = spec.pointer {
            diff.check("pointer", pointer, rest[0]);
        }
        if let Some(len) = spec.len {
            diff.check("ICMP data length", len, data.len());
        }
        if spec.icmp_type == icmp::IcmpType::TIMESTAMP_REPLY.0 && spec.quoted.is_none() {
            compare_timestamps(data, diff);
        }
        if let Some(quoted) = &spec.quoted {
            self.compare_quote(quoted, ip, data, diff);
        }
    }

    /// The datagram quoted in an outbound ICMP error: by default one the runner sent (the
    /// remote end to the target).
    fn compare_quote(
        &mut self,
        quoted: &PacketEvent,
        _outer: &Ipv4Header<'_>,
        data: &[u8],
        diff: &mut Diff,
    ) {
        let (ip, l4) = match Ipv4Header::parse_header(data) {
            Ok(parsed) => parsed,
            Err(e) => {
                diff.field("quoted IPv4 header", "a valid header", e);
                return;
            }
        };
        let interface = 0;
        diff.check(
            "quoted IP source",
            quoted.ip.src.unwrap_or(self.network.remote_ip),
            ip.source,
        );
        diff.check(
            "quoted IP destination",
            quoted.ip.dst.unwrap_or(self.local_ip(interface)),
            ip.destination,
        );
        diff.check("quoted protocol", protocol_of(&quoted.body), ip.protocol);
        if let Some(ttl) = quoted.ip.ttl {
            diff.check("quoted TTL", ttl, ip.ttl);
        }
        if let Some(id) = quoted.ip.id {
            diff.check("quoted IP id", id, ip.identification);
        }
        let ports = l4.get(..4).map(|p| {
            (
                u16::from_be_bytes([p[0], p[1]]),
                u16::from_be_bytes([p[2], p[3]]),
            )
        });
        match &quoted.body {
            PacketBody::Tcp(spec) => {
                let Some((sport, dport)) = ports else {
                    diff.field("quoted TCP ports", "present", "cut off");
                    return;
                };
                diff.check(
                    "quoted source port",
                    spec.src_port.unwrap_or(self.tcp_remote_port),
                    sport,
                );
                if let Some(local) = spec.dst_port.or(self.tcp_local_port) {
                    diff.check("quoted destination port", local, dport);
                }
                if let Some(seq) = l4.get(4..8) {
                    diff.check(
                        "quoted seq",
                        spec.seq,
                        u32::from_be_bytes([seq[0], seq[1], seq[2], seq[3]]),
                    );
                }
            }
            PacketBody::Udp(spec) => {
                let Some((sport, dport)) = ports else {
                    diff.field("quoted UDP ports", "present", "cut off");
                    return;
                };
                diff.check(
                    "quoted source port",
                    spec.src_port.unwrap_or(self.udp_remote_port),
                    sport,
                );
                if let Some(local) = spec.dst_port.or(self.udp_local_port) {
                    diff.check("quoted destination port", local, dport);
                }
                if let Some(len) = l4.get(4..6) {
                    diff.check(
                        "quoted UDP length",
                        spec.len + 8,
                        usize::from(u16::from_be_bytes([len[0], len[1]])),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Compares option lists. Without `check_window` the window-scale shift is not compared
/// (only its presence): like the window itself, it follows from the receive buffer, which is
/// the implementation's choice.
fn compare_options(
    expected: &TcpOptionsSpec,
    actual: &[Opt],
    order: bool,
    check_window: bool,
    diff: &mut Diff,
) {
    let actual_shift = actual.iter().find_map(|o| match o {
        Opt::WindowScale(v) => Some(*v),
        _ => None,
    });
    // Trailing End of Option List is padding, not an option the script writes.
    let mut actual_trimmed: Vec<Opt> = actual.to_vec();
    while actual_trimmed.last() == Some(&Opt::Eol) {
        actual_trimmed.pop();
    }
    let meaningful = |list: &[Opt]| -> Vec<Opt> {
        list.iter()
            .filter(|o| !matches!(o, Opt::Nop | Opt::Eol))
            .cloned()
            .collect()
    };
    match expected {
        TcpOptionsSpec::Any => {}
        TcpOptionsSpec::None => {
            if !meaningful(&actual_trimmed).is_empty() {
                diff.field("options", "none", render_opts(&actual_trimmed));
            }
        }
        TcpOptionsSpec::List(list) => {
            let mut expected_list: Vec<Opt> = list.iter().map(Opt::from_spec).collect();
            if let (false, Some(shift)) = (check_window, actual_shift) {
                for o in &mut expected_list {
                    if let Opt::WindowScale(v) = o {
                        *v = shift;
                    }
                }
            }
            while expected_list.last() == Some(&Opt::Eol) {
                expected_list.pop();
            }
            let mut sub = Diff(Vec::new());
            let equal = if order {
                let same = expected_list.len() == actual_trimmed.len()
                    && expected_list
                        .iter()
                        .zip(&actual_trimmed)
                        .all(|(e, a)| options_equal(e, a));
                for (e, a) in expected_list.iter().zip(&actual_trimmed) {
                    if e.kind() == a.kind() {
                        compare_option(e, a, &mut sub);
                    }
                }
                same
            } else {
                let wanted = meaningful(&expected_list);
                let mut available = meaningful(&actual_trimmed);
                let mut same = true;
                for e in &wanted {
                    match available.iter().position(|a| a.kind() == e.kind()) {
                        Some(i) => {
                            let a = available.remove(i);
                            if !options_equal(e, &a) {
                                same = false;
                                compare_option(e, &a, &mut sub);
                            }
                        }
                        None => {
                            same = false;
                            sub.field(&e.name(), "present", "absent");
                        }
                    }
                }
                for a in available {
                    same = false;
                    sub.field(&a.name(), "absent", a.render());
                }
                same
            };
            if !equal {
                diff.field(
                    if order {
                        "options"
                    } else {
                        "options (any order)"
                    },
                    render_opts(&expected_list),
                    render_opts(&actual_trimmed),
                );
                diff.0.extend(sub.0);
            }
        }
    }
}

fn compare_arp(spec: &ArpSpec, arp: &ArpEthernetIpv4, diff: &mut Diff) {
    match spec {
        ArpSpec::Request {
            target_ip,
            sender_ip,
        } => {
            diff.check("ARP operation", ArpOperation::REQUEST.0, arp.operation.0);
            diff.check("ARP target address", *target_ip, arp.target_ip);
            diff.check("ARP sender address", *sender_ip, arp.sender_ip);
        }
        ArpSpec::Reply {
            sender_ip,
            sender_mac,
            target_ip,
        } => {
            diff.check("ARP operation", ArpOperation::REPLY.0, arp.operation.0);
            diff.check("ARP sender address", *sender_ip, arp.sender_ip);
            if let Some(mac) = sender_mac {
                diff.check("ARP sender MAC", *mac, arp.sender_mac);
            }
            if let Some(t) = target_ip {
                diff.check("ARP target address", *t, arp.target_ip);
            }
        }
    }
}

fn render_arp(arp: &ArpEthernetIpv4) -> String {
    match arp.operation {
        ArpOperation::REQUEST => format!("arp who-has {} tell {}", arp.target_ip, arp.sender_ip),
        ArpOperation::REPLY => format!(
            "arp reply {} is-at {} to {}",
            arp.sender_ip, arp.sender_mac, arp.target_ip
        ),
        other => format!(
            "arp operation {} {} > {}",
            other.0, arp.sender_ip, arp.target_ip
        ),
    }
}

fn compare_igmp(spec: &IgmpSpec, l4: &[u8], diff: &mut Diff) {
    diff.checksum("IGMP", igmp::verify_checksum(l4));
    let message = match IgmpMessage::parse(l4) {
        Ok(m) => m,
        Err(e) => {
            diff.field("IGMP message", "a valid message", e);
            return;
        }
    };
    let got = render_igmp(l4);
    match (spec, &message) {
        (IgmpSpec::Report { version: 1, group }, IgmpMessage::V1Report(m))
        | (IgmpSpec::Report { version: 2, group }, IgmpMessage::V2Report(m))
        | (IgmpSpec::Leave { group }, IgmpMessage::V2Leave(m)) => {
            diff.check("IGMP group", *group, m.group)
        }
        (IgmpSpec::V3Report { records }, IgmpMessage::V3Report(r)) => {
            let actual: Vec<(u8, Ipv4Addr, Vec<Ipv4Addr>)> = r
                .records
                .iter()
                .map(|rec| {
                    (
                        rec.record_type.0,
                        rec.multicast_address,
                        rec.sources.iter().collect(),
                    )
                })
                .collect();
            if &actual != records {
                diff.field(
                    "IGMPv3 group records",
                    render_records(records),
                    render_records(&actual),
                );
            }
        }
        (
            IgmpSpec::Query {
                version,
                group,
                max_resp,
                sources,
            },
            IgmpMessage::Query(q),
        ) => {
            let actual_version = match q.version() {
                QueryVersion::V1 => 1,
                QueryVersion::V2 => 2,
                QueryVersion::V3 => 3,
                QueryVersion::OtherLength(_) => 0,
            };
            diff.check("IGMP query version", *version, actual_version);
            diff.check("IGMP group", *group, q.group);
            if *version != 1 {
                diff.check("max response", *max_resp, q.max_resp_code);
            }
            if let QueryBody::V3(v3) = &q.body {
                let actual: Vec<Ipv4Addr> = v3.sources.iter().collect();
                if &actual != sources {
                    diff.field(
                        "IGMP query sources",
                        format!("{sources:?}"),
                        format!("{actual:?}"),
                    );
                }
            }
        }
        _ => diff.field("IGMP message", render_igmp_spec(spec), got),
    }
}

fn render_igmp(l4: &[u8]) -> String {
    match IgmpMessage::parse(l4) {
        Ok(IgmpMessage::V1Report(m)) => format!("igmp v1 report {}", m.group),
        Ok(IgmpMessage::V2Report(m)) => format!("igmp v2 report {}", m.group),
        Ok(IgmpMessage::V2Leave(m)) => format!("igmp leave {}", m.group),
        Ok(IgmpMessage::V3Report(r)) => {
            let records: Vec<(u8, Ipv4Addr, Vec<Ipv4Addr>)> = r
                .records
                .iter()
                .map(|rec| {
                    (
                        rec.record_type.0,
                        rec.multicast_address,
                        rec.sources.iter().collect(),
                    )
                })
                .collect();
            format!("igmp v3 report [{}]", render_records(&records))
        }
        Ok(IgmpMessage::Query(q)) => {
            let version = match q.version() {
                QueryVersion::V1 => "v1".to_string(),
                QueryVersion::V2 => "v2".to_string(),
                QueryVersion::V3 => "v3".to_string(),
                QueryVersion::OtherLength(n) => format!("({n}-octet)"),
            };
            format!(
                "igmp {version} query group {} max_resp {}",
                q.group, q.max_resp_code
            )
        }
        Ok(IgmpMessage::Unknown { igmp_type, .. }) => format!("igmp type {}", igmp_type.0),
        Err(e) => format!("malformed IGMP: {e}"),
    }
}

fn render_icmp(l4: &[u8]) -> String {
    let (Some(&t), Some(&c), Some(rest), Some(data)) =
        (l4.first(), l4.get(1), l4.get(4..8), l4.get(8..))
    else {
        return format!("icmp ({} octets)", l4.len());
    };
    let mut s = format!("icmp type {t} code {c}");
    match t {
        0 | 8 => s.push_str(&format!(
            " id {} seq {} ({})",
            u16::from_be_bytes([rest[0], rest[1]]),
            u16::from_be_bytes([rest[2], rest[3]]),
            data.len()
        )),
        3 if c == 4 => s.push_str(&format!(" mtu {}", u16::from_be_bytes([rest[2], rest[3]]))),
        12 => s.push_str(&format!(" pointer {}", rest[0])),
        _ => {}
    }
    if matches!(t, 3 | 4 | 5 | 11 | 12) {
        if let Ok((ip, inner)) = Ipv4Header::parse_header(data) {
            let ports = inner
                .get(..4)
                .map(|p| {
                    format!(
                        ":{} > :{}",
                        u16::from_be_bytes([p[0], p[1]]),
                        u16::from_be_bytes([p[2], p[3]])
                    )
                })
                .unwrap_or_default();
            s.push_str(&format!(
                " [{} > {} proto {}{ports}]",
                ip.source, ip.destination, ip.protocol.0
            ));
        }
    }
    s
}

fn render_tcp(tcp: &TcpHeader<'_>, payload_len: usize, seq_offset: u32) -> String {
    let seq = tcp.sequence_number.wrapping_sub(seq_offset);
    let mut s = format!(
        "{} {}:{}({})",
        render_flags(tcp.flags),
        seq,
        seq.wrapping_add(payload_len as u32),
        payload_len
    );
    if tcp.flags.contains(TcpFlags::ACK) {
        s.push_str(&format!(" ack {}", tcp.acknowledgment_number));
    }
    s.push_str(&format!(" win {}", tcp.window));
    if tcp.flags.contains(TcpFlags::URG) || tcp.urgent_pointer != 0 {
        s.push_str(&format!(" urg {}", tcp.urgent_pointer));
    }
    let options: Vec<Opt> = tcp.options.iter().map(|o| Opt::from_codec(&o)).collect();
    if !options.is_empty() {
        s.push(' ');
        s.push_str(&render_opts(&options));
    }
    s
}

/// IP fields worth showing beside a mismatch: TTL, TOS, DF, fragment.
fn render_ip_actual(ip: &Ipv4Header<'_>) -> String {
    let mut parts = vec![format!("ttl={}", ip.ttl)];
    let tos = ip.dscp << 2 | ip.ecn.bits();
    if tos != 0 {
        parts.push(format!("tos={tos}"));
    }
    parts.push(format!("id={}", ip.identification));
    if ip.dont_fragment {
        parts.push("df".into());
    }
    if ip.is_fragment() {
        parts.push(format!("off={}", ip.fragment_offset_bytes()));
        if ip.more_fragments {
            parts.push("mf".into());
        }
    }
    parts.push(format!("src={}", ip.source));
    parts.push(format!("dst={}", ip.destination));
    format!("ip[{}] ", parts.join(" "))
}

/// The problem with a TCP segment in `frame` whose header octets after an End of Option List
/// option are not all zero [RFC 9293 § 3.1, MUST-69: "The content of the header beyond the End
/// of Option List Option MUST be header padding of zeros"]; None for any other frame. Applied
/// to every frame the target sends, whatever the script expects.
pub(super) fn eol_padding_problem(frame: &[u8]) -> Option<String> {
    let (eth, payload) = EthernetHeader::parse(frame).ok()?;
    if eth.ether_type != EtherType::IPV4 {
        return None;
    }
    let (ip, l4) = Ipv4Header::parse(payload).ok()?;
    if ip.protocol != IpProtocol::TCP || ip.fragment_offset != 0 {
        return None;
    }
    let (tcp, _) = TcpHeader::parse(l4).ok()?;
    let options = tcp.options.as_bytes();
    let padding = tcp.options.padding();
    let first = padding.iter().position(|&b| b != 0)?;
    let eol_at = options.len() - padding.len() - 1;
    Some(format!(
        "End of Option List at option octet {eol_at}, then {} at octet {} \
         (options area {})",
        hex(&padding[first..first + 1]),
        options.len() - padding.len() + first,
        hex(options)
    ))
}

#[cfg(test)]
mod timestamp_tests {
    use super::*;

    fn mismatches(originate: u32, receive: u32, transmit: u32) -> Vec<String> {
        let mut data = Vec::new();
        for w in [originate, receive, transmit] {
            data.extend_from_slice(&w.to_be_bytes());
        }
        let mut diff = Diff(Vec::new());
        compare_timestamps(&data, &mut diff);
        diff.0.into_iter().map(|m| m.field).collect()
    }

    #[test]
    fn timestamp_reply_must_echo_the_originate_and_use_either_form() {
        // The runner's request carries 00 01 02 03 as its originate timestamp.
        assert!(mismatches(0x0001_0203, 86_399_999, 0).is_empty());
        assert!(mismatches(0x0001_0203, 0x8000_0000 | 5, 0xffff_ffff).is_empty());
        assert_eq!(mismatches(0, 1, 1), ["originate timestamp"]);
        // Neither below a day's milliseconds nor flagged non-standard.
        assert_eq!(
            mismatches(0x0001_0203, 86_400_000, 0x7fff_ffff),
            ["receive timestamp", "transmit timestamp"]
        );
        let mut diff = Diff(Vec::new());
        compare_timestamps(&[0; 8], &mut diff);
        assert_eq!(diff.0.len(), 1, "short data");
    }
}
