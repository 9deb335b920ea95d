//! What `wirecheck decode` and `wirecheck verify` make of each record: a tshark-like summary
//! line, the Wireshark-named fields (JSON Lines), and findings.

use crate::capture::{LinkType, Record, Timestamp};
use crate::fields::{FieldSink, Fields, JsonObject};
use crate::link::{self, LinkPayload};
use crate::reassembly::CaptureReassembler;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use wirecheck_codec::ethernet::{EtherType, MacAddr};
use wirecheck_codec::icmp::IcmpBody;
use wirecheck_codec::igmp::IgmpMessage;
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::packet::{Finding, Ipv4Layer, Link, Packet, Severity, Transport};
use wirecheck_codec::tcp::option::TcpOption;
use wirecheck_codec::ChecksumStatus;

/// Decodes a record according to its link type. Link-level problems that the codec cannot see
/// (a record shorter than its cooked-capture header, a link type not decoded) come back as a
/// message beside the (empty) packet.
pub fn decode_record(record: &Record) -> (Packet<'_>, Option<String>) {
    // A record holding fewer bytes than were on the wire was cut by the capture's snaplen.
    let whole = record.data.len() >= record.original_length as usize;
    let empty = || Packet::parse_ether_type(&[], 0, 0);
    match link::split(record.link_type, &record.data) {
        LinkPayload::Ethernet(frame) => (Packet::decode(frame, Link::Ethernet, whole), None),
        LinkPayload::EtherType {
            ether_type,
            header_len,
            ..
        } => (
            Packet::decode(
                &record.data,
                Link::EtherType {
                    ether_type,
                    offset: header_len,
                },
                whole,
            ),
            None,
        ),
        LinkPayload::Truncated { needed, got } => (
            empty(),
            Some(format!(
                "{} header truncated: needs {needed} bytes, record has {got}",
                record.link_type.name()
            )),
        ),
        LinkPayload::OtherFamily(family) => (
            empty(),
            Some(format!("link-layer protocol {family} not decoded")),
        ),
        LinkPayload::Unsupported(link) => (
            empty(),
            Some(format!("unsupported link type {}", link.name())),
        ),
    }
}

/// IPv4 option types Wireshark 4.0 dissects (EOL, NOP, the security family, source routes,
/// record route, timestamps, router alert, quick-start, experiments and the rest of IANA's
/// list); an option of any other type is shown as "Unknown" without an `ip.opt.type`.
const WIRESHARK_IP_OPTION_TYPES: &[u8] = &[
    0, 1, 7, 10, 11, 12, 15, 25, 30, 68, 82, 94, 130, 131, 133, 134, 136, 137, 142, 144, 145, 147,
    148, 149, 150, 151, 152, 158, 205, 222,
];

fn checksum_status(status: Option<ChecksumStatus>) -> u64 {
    status.map_or(2, |s| u64::from(s.wireshark_status()))
}

/// The record's fields under Wireshark display-filter names (the first occurrence of each, as
/// `tshark -E occurrence=f` prints them).
pub fn fields(record: &Record, packet: &Packet<'_>) -> Fields {
    let mut f = Fields::with_capacity(64);
    fields_into(record, packet, &mut f);
    f
}

/// Hands the record's fields to `f`, in the order of [`fields`].
pub fn fields_into<S: FieldSink>(record: &Record, packet: &Packet<'_>, f: &mut S) {
    f.int("frame.number", record.number);
    f.epoch(
        "frame.time_epoch",
        record.timestamp.seconds,
        record.timestamp.nanoseconds,
    );
    f.int("frame.len", record.original_length);
    f.int("frame.cap_len", record.data.len() as u64);
    if let Some(eth) = &packet.ethernet {
        f.mac("eth.dst", eth.destination);
        f.mac("eth.src", eth.source);
        let first_type = eth.vlan.outer().map_or(eth.ether_type, |tag| tag.tpid);
        // A value up to 1500 is a length (eth.len in Wireshark), not a type.
        if !first_type.is_length_field() {
            f.int("eth.type", first_type.0);
        }
        // Wireshark names 802.1ad (0x88a8) tags ieee8021ad.*; vlan.* is the first 802.1Q
        // (0x8100) or old-QinQ (0x9100) tag, and vlan.etype the type after it.
        let mut tags = eth.vlan.iter();
        let first_q = tags
            .by_ref()
            .find(|t| t.tpid == EtherType::VLAN || t.tpid == EtherType::QINQ_OLD);
        if let Some(tag) = first_q {
            f.int("vlan.priority", tag.pcp);
            f.int("vlan.id", tag.vid);
            let next = tags.next().map_or(eth.ether_type, |t| t.tpid);
            if !next.is_length_field() {
                f.int("vlan.etype", next.0);
            }
        }
    }
    if let Some(arp) = &packet.arp {
        f.int("arp.hw.type", arp.hardware_type.0);
        f.int("arp.proto.type", arp.protocol_type.0);
        f.int("arp.hw.size", arp.hardware_len);
        f.int("arp.proto.size", arp.protocol_len);
        f.int("arp.opcode", arp.operation.0);
        // Wireshark names the addresses by type and size — each whenever it is whole, whatever
        // the other is.
        // (Ethernet or IEEE 802 hardware with 6-byte addresses; IPv4 or AX.25's IP number with
        // 4-byte addresses.)
        let ether = matches!(arp.hardware_type.0, 1 | 6) && arp.hardware_len == 6;
        let ip = matches!(arp.protocol_type.0, 0x0800 | 0x00cc) && arp.protocol_len == 4;
        let mac = |b: &[u8]| MacAddr::from_slice(b).filter(|_| ether);
        let ipv4 = |b: &[u8]| {
            b.first_chunk::<4>()
                .filter(|_| ip && b.len() == 4)
                .map(|a| std::net::Ipv4Addr::from(*a))
        };
        if let Some(m) = mac(arp.sender_hardware_addr) {
            f.mac("arp.src.hw_mac", m);
        }
        if let Some(a) = ipv4(arp.sender_protocol_addr) {
            f.ipv4("arp.src.proto_ipv4", a);
        }
        if let Some(m) = mac(arp.target_hardware_addr) {
            f.mac("arp.dst.hw_mac", m);
        }
        if let Some(a) = ipv4(arp.target_protocol_addr) {
            f.ipv4("arp.dst.proto_ipv4", a);
        }
    }
    if let Some(ip) = &packet.ipv4 {
        datagram_fields(f, ip, packet.transport.as_ref());
    }
}

/// The fields of an IPv4 layer and what it carries (by reference: no copy of the layers).
fn datagram_fields<S: FieldSink>(
    f: &mut S,
    ipv4: &Ipv4Layer<'_>,
    transport: Option<&Transport<'_>>,
) {
    let h = &ipv4.header;
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
    f.int("ip.checksum.status", checksum_status(ipv4.checksum));
    f.ipv4("ip.src", h.source);
    f.ipv4("ip.dst", h.destination);
    if let Some(&first) = h.options.as_bytes().first() {
        // Wireshark fills ip.opt.type only for the option types it has a dissector for.
        // (and none when the header itself is cut short).
        if WIRESHARK_IP_OPTION_TYPES.contains(&first) && ipv4.checksum.is_some() {
            f.int("ip.opt.type", first);
        }
    }
    match transport {
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
                    f.ipv4("icmp.address_mask", b.mask);
                }
                IcmpBody::Redirect(b) => f.ipv4("icmp.redir_gw", b.gateway),
                IcmpBody::DestinationUnreachable(b) if b.code.0 == 4 => {
                    f.int("icmp.mtu", b.next_hop_mtu)
                }
                IcmpBody::ParameterProblem(b) => f.int("icmp.pointer", b.pointer),
                IcmpBody::ExtendedEchoRequest(b) => f.int("icmp.ident", b.identifier),
                IcmpBody::ExtendedEchoReply(b) => f.int("icmp.ident", b.identifier),
                _ => {}
            }
            if let Some(quoted) = &icmp.quoted {
                f.begin_nested();
                datagram_fields(f, &quoted.ipv4, quoted.transport.as_ref());
            }
        }
        Some(Transport::Igmp(igmp)) => {
            let m = &igmp.message;
            // RGMP (RFC 3488) rides on IGMP's protocol number with types 0xfc–0xff to
            // 224.0.0.25; Wireshark files it under rgmp.*, so there are no igmp.* fields.
            let rgmp =
                h.destination == std::net::Ipv4Addr::new(224, 0, 0, 25) && m.igmp_type().0 >= 0xfc;
            // DVMRP (type 0x13) likewise has a dissector, and field names, of its own.
            let dvmrp = m.igmp_type().0 == 0x13;
            if !rgmp && !dvmrp {
                igmp_fields(f, igmp);
            }
        }
        Some(Transport::Udp(udp)) => {
            let u = &udp.header;
            f.int("udp.srcport", u.source_port);
            f.int("udp.dstport", u.destination_port);
            f.int("udp.length", u.length);
            // Wireshark stops at a length below the header's own 8 bytes.
            if u.length >= 8 {
                f.int("udp.checksum", u.checksum);
                f.int("udp.checksum.status", checksum_status(udp.checksum));
            }
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
            // In a first fragment the segment's length is not known until reassembly.
            // and a header longer than the segment leaves none to count.
            if !h.more_fragments && tcp.header_complete {
                f.int("tcp.len", tcp.payload_len as u64);
            }
            if !t.options.as_bytes().is_empty() {
                // An option may appear twice: the first one is the field's value.
                f.begin_nested();
            }
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
        Some(Transport::Prefix(p)) if p.protocol == IpProtocol::UDP => {
            f.int("udp.srcport", p.source_port);
            f.int("udp.dstport", p.destination_port);
        }
        Some(Transport::Prefix(p)) => {
            f.int("tcp.srcport", p.source_port);
            f.int("tcp.dstport", p.destination_port);
            if let Some(seq) = p.sequence_number {
                f.int("tcp.seq", seq);
            }
        }
    }
}

fn igmp_fields<S: FieldSink>(f: &mut S, igmp: &wirecheck_codec::packet::IgmpLayer<'_>) {
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
    match m {
        IgmpMessage::V3Report(r) => {
            // Wireshark's first igmp.maddr of a v3 report is its first record's group.
            if let Some(record) = r.records.iter().next() {
                f.ipv4("igmp.maddr", record.multicast_address);
            }
            f.int("igmp.num_grp_recs", r.number_of_group_records);
        }
        IgmpMessage::Unknown {
            igmp_type, data, ..
        } if igmp_type.0 == 0x1e || igmp_type.0 == 0x1f => {
            // Multicast traceroute query/response: the group follows the header.
            if let Some(g) = data.first_chunk::<4>() {
                f.ipv4("igmp.maddr", std::net::Ipv4Addr::from(*g));
            }
        }
        _ => {
            if let Some(g) = m.group() {
                f.ipv4("igmp.maddr", g);
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
            Some(Transport::Prefix(p)) => {
                format!(
                    "{} → {} [header cut short]",
                    p.source_port, p.destination_port
                )
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
            (
                e.source.to_string(),
                e.destination.to_string(),
                protocol,
                info,
            )
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
            record.number, relative, src, dst, protocol, record.original_length, info
        );
        let errors = packet
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .count();
        if errors > 0 {
            let _ = write!(
                out,
                " [{errors} finding{}]",
                if errors == 1 { "" } else { "s" }
            );
        }
        out.push('\n');
    }
    out
}

/// Like [`summary_lines`] / [`json_lines`], with IPv4 reassembly across the capture (run in
/// capture order): the record that completes a datagram also shows the reassembled datagram
/// (in JSON, its transport fields, as tshark does with reassembly on).
pub fn reassembling_lines(
    batch: &[Record],
    first: Timestamp,
    json: bool,
    reassembler: &mut CaptureReassembler,
) -> String {
    let mut out = String::new();
    for record in batch {
        let outcome = reassembler.push(record);
        let Some(bytes) = outcome.datagram else {
            out.push_str(&if json {
                json_lines(std::slice::from_ref(record))
            } else {
                summary_lines(std::slice::from_ref(record), first)
            });
            continue;
        };
        let (packet, _) = decode_record(record);
        if json {
            let mut bytes_out = Vec::new();
            let mut names = Vec::new();
            let mut object = JsonObject::begin(&mut bytes_out, &mut names);
            reassembled_fields_into(record, &packet, Some(&bytes), &mut object);
            object.finish();
            bytes_out.push(b'\n');
            out.push_str(&String::from_utf8_lossy(&bytes_out));
        } else {
            let line = summary_lines(std::slice::from_ref(record), first);
            let whole = Packet::parse_ipv4(&bytes);
            let (_, _, protocol, info) = summary_parts(&whole, None);
            let _ = writeln!(
                out,
                "{} [reassembled {} fragments, {} bytes: {protocol} {info}]",
                line.trim_end(),
                outcome.fragments,
                bytes.len()
            );
        }
    }
    out
}

/// One JSON object per record of the batch, one per line.
pub fn json_lines(batch: &[Record]) -> String {
    let mut out = Vec::with_capacity(batch.len() * 600);
    write_json_lines(batch, &mut out);
    // Field names are ASCII literals; values are ASCII or their own UTF-8 text.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Appends one JSON object per record of the batch, one per line, to `out` (as
/// [`json_lines`], without building a `String`).
pub fn write_json_lines(batch: &[Record], out: &mut Vec<u8>) {
    let mut names = Vec::with_capacity(64);
    for record in batch {
        let (packet, _) = decode_record(record);
        let mut object = JsonObject::begin(out, &mut names);
        fields_into(record, &packet, &mut object);
        object.finish();
        out.push(b'\n');
    }
}

/// Findings of one packet, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketFindings {
    /// Packet number.
    pub number: u64,
    /// (severity, category, message) per finding.
    pub findings: Vec<(Severity, &'static str, String)>,
}

/// What `verify` learns from one batch of records.
#[derive(Debug, Default)]
pub struct VerifiedBatch {
    /// Records in the batch.
    pub count: usize,
    /// Findings of the packets that have some, in packet order.
    pub findings: Vec<PacketFindings>,
    /// The IPv4 fragments of the batch, for the (sequential) reassembly pass.
    pub fragments: Vec<Record>,
}

/// The findings of a batch: only packets with something to say.
pub fn verify_batch(batch: &[Record]) -> VerifiedBatch {
    let mut out = VerifiedBatch {
        count: batch.len(),
        ..VerifiedBatch::default()
    };
    for record in batch {
        let (packet, note) = decode_record(record);
        if packet.ipv4.is_some_and(|ip| ip.header.is_fragment()) {
            out.fragments.push(record.clone());
        }
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
        findings.extend(rendered_findings(&packet, cut_by_snaplen));
        if !findings.is_empty() {
            out.findings.push(PacketFindings {
                number: record.number,
                findings,
            });
        }
    }
    out
}

fn rendered_findings(
    packet: &Packet<'_>,
    cut_by_snaplen: bool,
) -> Vec<(Severity, &'static str, String)> {
    packet
        .findings
        .iter()
        .map(|f| {
            if cut_by_snaplen && matches!(f, Finding::Truncated(_)) {
                // The capture kept fewer bytes than were on the wire: expected, not an error.
                (Severity::Info, "snaplen", f.to_string())
            } else {
                (f.severity(), f.category(), f.to_string())
            }
        })
        .collect()
}

/// Runs a batch's fragments through the capture's reassembler (in capture order) and adds what
/// it noticed to the batch's findings; with `decode_reassembled`, each reassembled datagram is
/// decoded too (an info line with its summary, and its own findings).
pub fn reassemble_batch(
    batch: &mut VerifiedBatch,
    reassembler: &mut CaptureReassembler,
    decode_reassembled: bool,
) {
    for record in std::mem::take(&mut batch.fragments) {
        let outcome = reassembler.push(&record);
        let mut notes = outcome.notes;
        if let (true, Some(bytes)) = (decode_reassembled, &outcome.datagram) {
            let packet = Packet::parse_ipv4(bytes);
            let (src, dst, protocol, info) = summary_parts(&packet, None);
            notes.push((
                Severity::Info,
                "reassembled",
                format!(
                    "reassembled datagram ({} fragments, {} bytes): {src} → {dst} {protocol} {info}",
                    outcome.fragments,
                    bytes.len()
                ),
            ));
            notes.extend(
                rendered_findings(&packet, false)
                    .into_iter()
                    .map(|(sev, cat, msg)| {
                        (sev, cat, format!("in the reassembled datagram: {msg}"))
                    }),
            );
        }
        if notes.is_empty() {
            continue;
        }
        match batch
            .findings
            .binary_search_by_key(&record.number, |p| p.number)
        {
            Ok(i) => batch.findings[i].findings.extend(notes),
            Err(i) => batch.findings.insert(
                i,
                PacketFindings {
                    number: record.number,
                    findings: notes,
                },
            ),
        }
    }
}

/// The record's fields with, when `reassembled` holds the datagram this fragment completed,
/// the reassembled datagram's transport fields too (as tshark shows them with reassembly on).
pub fn fields_with_reassembled(
    record: &Record,
    packet: &Packet<'_>,
    reassembled: Option<&[u8]>,
) -> Fields {
    let mut f = Fields::with_capacity(64);
    reassembled_fields_into(record, packet, reassembled, &mut f);
    f
}

/// Hands the fields of [`fields_with_reassembled`] to `f`.
pub fn reassembled_fields_into<S: FieldSink>(
    record: &Record,
    packet: &Packet<'_>,
    reassembled: Option<&[u8]>,
    f: &mut S,
) {
    fields_into(record, packet, f);
    if let Some(bytes) = reassembled {
        let whole = Packet::parse_ipv4(bytes);
        if let Some(ip) = &whole.ipv4 {
            f.begin_nested();
            datagram_fields(f, ip, whole.transport.as_ref());
        }
    }
}

/// Running totals of a `verify` over one file.
#[derive(Debug, Clone)]
pub struct Summary {
    file: String,
    packets: u64,
    packets_with_findings: u64,
    capture_findings: u64,
    by_category: BTreeMap<&'static str, u64>,
}

impl Summary {
    /// A summary for one file.
    pub fn new(file: &str) -> Summary {
        Summary {
            file: file.to_string(),
            packets: 0,
            packets_with_findings: 0,
            capture_findings: 0,
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
                let label = severity_label(*severity);
                let _ = writeln!(out, "{}:{}: {label}: {message}", self.file, p.number);
            }
            if counted {
                self.packets_with_findings += 1;
            }
        }
        out
    }

    /// Counts and renders notes that belong to no packet (datagrams left incomplete at the
    /// end of the capture).
    pub fn absorb_capture_notes(
        &mut self,
        notes: &[(Severity, &'static str, String)],
        all: bool,
    ) -> String {
        let mut out = String::new();
        for (severity, category, message) in notes {
            if *severity == Severity::Info && !all {
                continue;
            }
            *self.by_category.entry(category).or_default() += 1;
            if *severity > Severity::Info {
                self.capture_findings += 1;
            }
            let _ = writeln!(
                out,
                "{}: {}: {message}",
                self.file,
                severity_label(*severity)
            );
        }
        out
    }

    /// Whether any packet had a warning or error.
    pub fn has_findings(&self) -> bool {
        self.packets_with_findings > 0 || self.capture_findings > 0
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

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// The link types `decode` understands.
pub fn supported_link(link: LinkType) -> bool {
    !matches!(link::split(link, &[0u8; 64]), LinkPayload::Unsupported(_))
}
