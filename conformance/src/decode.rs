//! What `wirecheck decode` and `wirecheck verify` make of each record: a tshark-like summary
//! line, the Wireshark-named fields (JSON Lines), and findings.

use crate::capture::{LinkType, Record, Timestamp};
use crate::fields::{FieldValue, Fields};
use crate::link::{self, LinkPayload};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use wirecheck_codec::ethernet::EtherType;
use wirecheck_codec::icmp::IcmpBody;
use wirecheck_codec::igmp::IgmpMessage;
use wirecheck_codec::packet::{Datagram, Finding, Packet, Severity, Transport};
use wirecheck_codec::tcp::option::TcpOption;
use wirecheck_codec::ChecksumStatus;

/// Decodes a record according to its link type. Link-level problems that the codec cannot see
/// (a record shorter than its cooked-capture header, a link type not decoded) come back as a
/// message beside the (empty) packet.
pub fn decode_record(record: &Record) -> (Packet<'_>, Option<String>) {
    match link::split(record.link_type, &record.data) {
        LinkPayload::Ethernet(frame) => (Packet::parse(frame), None),
        LinkPayload::EtherType {
            ether_type,
            header_len,
            ..
        } => (
            Packet::parse_ether_type(&record.data, ether_type, header_len),
            None,
        ),
        LinkPayload::Truncated { needed, got } => (
            Packet::parse_ether_type(&[], 0, 0),
            Some(format!(
                "{} header truncated: needs {needed} bytes, record has {got}",
                record.link_type.name()
            )),
        ),
        LinkPayload::OtherFamily(family) => (
            Packet::parse_ether_type(&[], 0, 0),
            Some(format!("loopback address family {family} not decoded")),
        ),
        LinkPayload::Unsupported(link) => (
            Packet::parse_ether_type(&[], 0, 0),
            Some(format!("unsupported link type {}", link.name())),
        ),
    }
}

fn checksum_status(status: Option<ChecksumStatus>) -> u64 {
    status.map_or(2, |s| u64::from(s.wireshark_status()))
}

/// The record's fields under Wireshark display-filter names (the first occurrence of each, as
/// `tshark -E occurrence=f` prints them).
pub fn fields(record: &Record, packet: &Packet<'_>) -> Fields {
    let mut f = Fields::default();
    f.int("frame.number", record.number);
    f.push(
        "frame.time_epoch",
        FieldValue::Float(record.timestamp.as_f64()),
    );
    f.int("frame.len", record.original_length);
    f.int("frame.cap_len", record.data.len() as u64);
    if let Some(eth) = &packet.ethernet {
        f.text("eth.dst", eth.destination);
        f.text("eth.src", eth.source);
        let first_type = eth
            .vlan
            .outer()
            .map_or(eth.ether_type, |tag| tag.tpid);
        f.int("eth.type", first_type.0);
        let tags: Vec<_> = eth.vlan.iter().collect();
        if let Some(tag) = tags.first() {
            f.int("vlan.priority", tag.pcp);
            f.int("vlan.id", tag.vid);
            let next = tags.get(1).map_or(eth.ether_type, |t| t.tpid);
            f.int("vlan.etype", next.0);
        }
    }
    if let Some(arp) = &packet.arp {
        f.int("arp.hw.type", arp.hardware_type.0);
        f.int("arp.proto.type", arp.protocol_type.0);
        f.int("arp.hw.size", arp.hardware_len);
        f.int("arp.proto.size", arp.protocol_len);
        f.int("arp.opcode", arp.operation.0);
        if let Some(v) = arp.as_ethernet_ipv4() {
            f.text("arp.src.hw_mac", v.sender_mac);
            f.text("arp.src.proto_ipv4", v.sender_ip);
            f.text("arp.dst.hw_mac", v.target_mac);
            f.text("arp.dst.proto_ipv4", v.target_ip);
        }
    }
    if let Some(ip) = &packet.ipv4 {
        let datagram = Datagram {
            ipv4: *ip,
            transport: packet.transport.clone(),
        };
        datagram_fields(&mut f, &datagram);
    }
    f
}

fn datagram_fields(f: &mut Fields, d: &Datagram<'_>) {
    let h = &d.ipv4.header;
    f.int("ip.version", h.version);
    f.int("ip.hdr_len", h.header_len() as u64);
    f.int("ip.dsfield", (h.dscp << 2) | h.ecn.bits());
    f.int("ip.len", h.total_length);
    f.int("ip.id", h.identification);
    f.flag("ip.flags.rb", h.reserved_flag);
    f.flag("ip.flags.df", h.dont_fragment);
    f.flag("ip.flags.mf", h.more_fragments);
    f.int("ip.frag_offset", h.fragment_offset);
    f.int("ip.ttl", h.ttl);
    f.int("ip.proto", h.protocol.0);
    f.int("ip.checksum", h.header_checksum);
    f.int("ip.checksum.status", checksum_status(Some(d.ipv4.checksum)));
    f.text("ip.src", h.source);
    f.text("ip.dst", h.destination);
    if let Some(first) = h.options.as_bytes().first() {
        f.int("ip.opt.type", *first);
    }
    match &d.transport {
        None => {}
        Some(Transport::Icmp(icmp)) => {
            let m = &icmp.message;
            f.int("icmp.type", m.body.icmp_type().0);
            f.int("icmp.code", m.body.code());
            f.int("icmp.checksum", m.checksum);
            f.int("icmp.checksum.status", checksum_status(icmp.checksum));
            match &m.body {
                IcmpBody::EchoReply(b) | IcmpBody::EchoRequest(b) => {
                    f.int("icmp.ident", b.identifier);
                    f.int("icmp.seq", b.sequence);
                }
                IcmpBody::Timestamp(b) | IcmpBody::TimestampReply(b) => {
                    f.int("icmp.ident", b.identifier);
                    f.int("icmp.seq", b.sequence);
                }
                IcmpBody::InformationRequest(b) | IcmpBody::InformationReply(b) => {
                    f.int("icmp.ident", b.identifier);
                    f.int("icmp.seq", b.sequence);
                }
                IcmpBody::AddressMaskRequest(b) | IcmpBody::AddressMaskReply(b) => {
                    f.int("icmp.ident", b.identifier);
                    f.int("icmp.seq", b.sequence);
                    f.text("icmp.address_mask", b.mask);
                }
                IcmpBody::Redirect(b) => f.text("icmp.redir_gw", b.gateway),
                IcmpBody::DestinationUnreachable(b) if b.code.0 == 4 => {
                    f.int("icmp.mtu", b.next_hop_mtu)
                }
                IcmpBody::ParameterProblem(b) => f.int("icmp.pointer", b.pointer),
                _ => {}
            }
            if let Some(quoted) = &icmp.quoted {
                datagram_fields(f, quoted);
            }
        }
        Some(Transport::Igmp(igmp)) => {
            let m = &igmp.message;
            if let Some(v) = m.version() {
                f.int("igmp.version", v);
            }
            f.int("igmp.type", m.igmp_type().0);
            if let Some(r) = m.max_resp() {
                f.int("igmp.max_resp", r);
            }
            f.int("igmp.checksum", m.checksum());
            f.int("igmp.checksum.status", checksum_status(igmp.checksum));
            if let Some(g) = m.group() {
                f.text("igmp.maddr", g);
            }
            if let IgmpMessage::V3Report(r) = m {
                f.int("igmp.num_grp_recs", r.number_of_group_records);
            }
        }
        Some(Transport::Udp(udp)) => {
            let u = &udp.header;
            f.int("udp.srcport", u.source_port);
            f.int("udp.dstport", u.destination_port);
            f.int("udp.length", u.length);
            f.int("udp.checksum", u.checksum);
            f.int("udp.checksum.status", checksum_status(udp.checksum));
        }
        Some(Transport::Tcp(tcp)) => {
            let t = &tcp.header;
            f.int("tcp.srcport", t.source_port);
            f.int("tcp.dstport", t.destination_port);
            f.int("tcp.seq", t.sequence_number);
            f.int("tcp.ack", t.acknowledgment_number);
            f.int("tcp.hdr_len", t.header_len() as u64);
            f.int(
                "tcp.flags",
                (u64::from(t.reserved) << 9) | u64::from(t.flags.bits()),
            );
            f.int("tcp.window_size_value", t.window);
            f.int("tcp.checksum", t.checksum);
            f.int("tcp.checksum.status", checksum_status(tcp.checksum));
            f.int("tcp.urgent_pointer", t.urgent_pointer);
            f.int("tcp.len", tcp.payload_len as u64);
            for option in t.options.iter() {
                match option {
                    TcpOption::MaximumSegmentSize(mss) => f.int("tcp.options.mss_val", mss),
                    TcpOption::WindowScale(shift) => f.int("tcp.options.wscale.shift", shift),
                    TcpOption::SackPermitted => f.flag("tcp.options.sack_perm", true),
                    TcpOption::Timestamps { value, echo_reply } => {
                        f.int("tcp.options.timestamp.tsval", value);
                        f.int("tcp.options.timestamp.tsecr", echo_reply);
                    }
                    TcpOption::Sack(blocks) => {
                        if let Some(first) = blocks.iter().next() {
                            f.int("tcp.options.sack_le", first.left);
                            f.int("tcp.options.sack_re", first.right);
                        }
                    }
                    _ => {}
                }
            }
        }
        Some(Transport::TcpPrefix(p)) => {
            f.int("tcp.srcport", p.source_port);
            f.int("tcp.dstport", p.destination_port);
            if let Some(seq) = p.sequence_number {
                f.int("tcp.seq", seq);
            }
        }
    }
}

/// Source, destination, protocol and info for the summary line.
fn summary_parts(packet: &Packet<'_>, link_note: Option<&str>) -> (String, String, String, String) {
    if let Some(note) = link_note {
        return (String::new(), String::new(), "?".into(), note.to_string());
    }
    let protocol = packet.protocol_name().to_string();
    if let Some(ip) = &packet.ipv4 {
        let h = &ip.header;
        let mut info = match &packet.transport {
            Some(Transport::Icmp(i)) => i.message.to_string(),
            Some(Transport::Igmp(i)) => i.message.to_string(),
            Some(Transport::Udp(u)) => format!(
                "{} → {} Len={}",
                u.header.source_port,
                u.header.destination_port,
                u.header.payload_len()
            ),
            Some(Transport::Tcp(t)) => format!("{} Len={}", t.header, t.payload_len),
            Some(Transport::TcpPrefix(p)) => {
                format!("{} → {} [header cut short]", p.source_port, p.destination_port)
            }
            None if h.fragment_offset != 0 || h.more_fragments => format!(
                "Fragmented IP protocol (proto={} {}, off={}, ID={:04x})",
                h.protocol,
                h.protocol.0,
                h.fragment_offset_bytes(),
                h.identification
            ),
            None => format!("{}", h.protocol),
        };
        if let Some(Transport::Icmp(i)) = &packet.transport {
            if let Some(q) = &i.quoted {
                let _ = write!(
                    info,
                    " (quoting {} → {} {})",
                    q.ipv4.header.source, q.ipv4.header.destination, q.ipv4.header.protocol
                );
            }
        }
        return (
            h.source.to_string(),
            h.destination.to_string(),
            protocol,
            info,
        );
    }
    if let Some(arp) = &packet.arp {
        let (src, dst) = match &packet.ethernet {
            Some(e) => (e.source.to_string(), e.destination.to_string()),
            None => (String::new(), String::new()),
        };
        let info = match arp.as_ethernet_ipv4() {
            Some(v) => v.to_string(),
            None => arp.to_string(),
        };
        return (src, dst, protocol, info);
    }
    match &packet.ethernet {
        Some(e) => {
            let info = if e.is_length_field() {
                format!("IEEE 802.3, length {}", e.ether_type.0)
            } else {
                match e.ether_type {
                    EtherType::IPV6 => "IPv6 (not decoded)".to_string(),
                    t => format!("EtherType {t} (not decoded)"),
                }
            };
            (e.source.to_string(), e.destination.to_string(), protocol, info)
        }
        None => (String::new(), String::new(), protocol, String::new()),
    }
}

/// One summary line per record of the batch; `first` is the capture's first timestamp (times
/// are shown relative to it, as tshark does).
pub fn summary_lines(batch: &[Record], first: Timestamp) -> String {
    let mut out = String::with_capacity(batch.len() * 100);
    for record in batch {
        let (packet, note) = decode_record(record);
        let (src, dst, protocol, info) = summary_parts(&packet, note.as_deref());
        // In i128: timestamps may span all of i64 (found by fuzzing).
        let relative = (i128::from(record.timestamp.seconds) - i128::from(first.seconds)) as f64
            + (record.timestamp.nanoseconds as f64 - first.nanoseconds as f64) / 1e9;
        let _ = write!(
            out,
            "{:>5} {:>12.6} {} → {} {} {} {}",
            record.number,
            relative,
            src,
            dst,
            protocol,
            record.original_length,
            info
        );
        let errors = packet
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .count();
        if errors > 0 {
            let _ = write!(out, " [{errors} finding{}]", if errors == 1 { "" } else { "s" });
        }
        out.push('\n');
    }
    out
}

/// One JSON object per record of the batch, one per line.
pub fn json_lines(batch: &[Record]) -> String {
    let mut out = String::with_capacity(batch.len() * 600);
    for record in batch {
        let (packet, _) = decode_record(record);
        let mut fields = fields(record, &packet);
        fields.text("frame.time_epoch_text", record.timestamp.to_epoch_string());
        out.push_str(&fields.to_json().to_string());
        out.push('\n');
    }
    out
}

/// Findings of one packet, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketFindings {
    /// Packet number.
    pub number: u64,
    /// (severity, category, message) per finding.
    pub findings: Vec<(Severity, &'static str, String)>,
}

/// The findings of a batch: only packets with something to say.
pub fn verify_batch(batch: &[Record]) -> Vec<PacketFindings> {
    let mut out = Vec::new();
    for record in batch {
        let (packet, note) = decode_record(record);
        let cut_by_snaplen = record.data.len() < record.original_length as usize;
        let mut findings: Vec<(Severity, &'static str, String)> = Vec::new();
        if let Some(n) = note {
            let category = if n.starts_with("unsupported") {
                "unsupported"
            } else {
                "truncated"
            };
            let severity = if category == "unsupported" {
                Severity::Info
            } else {
                Severity::Error
            };
            findings.push((severity, category, n));
        }
        for f in &packet.findings {
            let mut severity = f.severity();
            let mut category = f.category();
            if cut_by_snaplen && matches!(f, Finding::Truncated(_)) {
                // The capture kept fewer bytes than were on the wire: expected, not an error.
                severity = Severity::Info;
                category = "snaplen";
            }
            findings.push((severity, category, f.to_string()));
        }
        if !findings.is_empty() {
            out.push(PacketFindings {
                number: record.number,
                findings,
            });
        }
    }
    out
}

/// Running totals of a `verify` over one file.
#[derive(Debug, Clone)]
pub struct Summary {
    file: String,
    packets: u64,
    packets_with_findings: u64,
    by_category: BTreeMap<&'static str, u64>,
}

impl Summary {
    /// A summary for one file.
    pub fn new(file: &str) -> Summary {
        Summary {
            file: file.to_string(),
            packets: 0,
            packets_with_findings: 0,
            by_category: BTreeMap::new(),
        }
    }

    /// Counts a batch and renders its findings (warnings and errors; info too when `all`).
    pub fn absorb(&mut self, batch_len: usize, findings: &[PacketFindings], all: bool) -> String {
        self.packets += batch_len as u64;
        let mut out = String::new();
        for p in findings {
            let mut counted = false;
            for (severity, category, message) in &p.findings {
                if *severity == Severity::Info && !all {
                    continue;
                }
                *self.by_category.entry(category).or_default() += 1;
                if *severity > Severity::Info {
                    counted = true;
                }
                let label = match severity {
                    Severity::Info => "info",
                    Severity::Warning => "warning",
                    Severity::Error => "error",
                };
                let _ = writeln!(out, "{}:{}: {label}: {message}", self.file, p.number);
            }
            if counted {
                self.packets_with_findings += 1;
            }
        }
        out
    }

    /// Whether any packet had a warning or error.
    pub fn has_findings(&self) -> bool {
        self.packets_with_findings > 0
    }

    /// The closing summary.
    pub fn finish(&self) -> String {
        let mut out = format!(
            "{}: {} packets, {} with findings",
            self.file, self.packets, self.packets_with_findings
        );
        if !self.by_category.is_empty() {
            let parts: Vec<String> = self
                .by_category
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = write!(out, " ({})", parts.join(", "));
        }
        out.push('\n');
        out
    }
}

/// The link types `decode` understands.
pub fn supported_link(link: LinkType) -> bool {
    !matches!(
        link::split(link, &[0u8; 64]),
        LinkPayload::Unsupported(_)
    )
}
