//! Building the frames of inbound lines: Ethernet, IPv4 (fragments included), TCP, UDP, ICMP,
//! IGMP and ARP, with the codec's emitters, so lengths and checksums are right unless a line
//! says otherwise.
//!
//! Payload octets are a deterministic filler (octet `i` is `i mod 256`). A fragmented datagram
//! is built whole once, from its first fragment's line and the extent of all its fragments in
//! the script, and every fragment line carries its slice, so the reassembled datagram has a
//! right transport checksum.

use std::net::Ipv4Addr;

use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation};
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::icmp::{IcmpBody, IcmpMessage, IcmpType, Unknown};
use wirecheck_codec::igmp::{
    GroupMessage, GroupRecords, IgmpMessage, Query, QueryBody, QueryV3, SourceList, V3Report,
};
use wirecheck_codec::ipv4::{Ecn, IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::tcp::option::{SackBlock, SackBlocks};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption, TcpOptions};
use wirecheck_codec::udp::UdpHeader;

use super::super::script::{
    ArpSpec, ChecksumSpec, Direction, EcnSpec, EthernetSpec, EventKind, IcmpSpec, IgmpSpec,
    PacketBody, PacketEvent, Script, TcpFlagsSpec, TcpOptionSpec, TcpOptionsSpec, TcpSpec,
};
use super::{Session, DEFAULT_SERVICE_PORT};

/// All-hosts group, where general queries go [RFC 1112 § 4].
pub(super) const ALL_HOSTS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 1);
/// All-routers group, where IGMPv2 leaves go [RFC 2236 § 3].
pub(super) const ALL_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 2);
/// Where IGMPv3 reports go [RFC 3376 § 4.2.14].
pub(super) const IGMPV3_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 22);
/// IP Router Alert option [RFC 2113], carried by IGMP messages [RFC 2236 § 2, RFC 3376 § 4].
const ROUTER_ALERT: [u8; 4] = [148, 4, 0, 0];
/// Most octets an ICMP error quotes: the whole message fits in 576 octets [RFC 1812 § 4.3.2.3].
const MAX_QUOTE: usize = 576 - 20 - 8;

/// A fragmented inbound datagram: its whole transport payload, built on first use.
#[derive(Debug, Clone)]
pub(super) struct FragmentPlan {
    /// Transport octets the fragments cover together.
    total: usize,
    /// The line of the fragment at offset 0, which gives the transport header.
    head: Option<PacketEvent>,
    /// The whole transport octets, once built.
    bytes: Option<Vec<u8>>,
}

/// `len` octets of filler: octet `i` is `i mod 256`.
pub(super) fn filler(len: usize) -> Vec<u8> {
    (0..len).map(|i| i as u8).collect()
}

/// An Ethernet frame around `payload`, padded to the 60-octet minimum.
pub(super) fn ethernet(
    destination: MacAddr,
    source: MacAddr,
    ether_type: EtherType,
    payload: &[u8],
) -> Vec<u8> {
    let header = EthernetHeader::new(destination, source, ether_type);
    let mut out = vec![0u8; (EthernetHeader::MIN_LEN + payload.len()).max(60)];
    let n = header.emit(&mut out).unwrap_or(EthernetHeader::MIN_LEN);
    if let Some(dst) = out.get_mut(n..n + payload.len()) {
        dst.copy_from_slice(payload);
    }
    out
}

/// An Ethernet/IPv4 ARP packet in a frame from `sender_mac` to `frame_destination`.
pub(super) fn arp_frame(
    frame_destination: MacAddr,
    operation: ArpOperation,
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let arp = ArpEthernetIpv4 {
        operation,
        sender_mac,
        sender_ip,
        target_mac,
        target_ip,
    };
    let mut buf = [0u8; ArpEthernetIpv4::LEN];
    let _ = arp.emit(&mut buf);
    ethernet(frame_destination, sender_mac, EtherType::ARP, &buf)
}

/// The Ethernet destination for an IPv4 destination: the mapped group MAC for multicast
/// [RFC 1112 § 6.4], broadcast for the limited or a directed broadcast, else `unicast`.
pub(super) fn ethernet_destination(
    destination: Ipv4Addr,
    directed_broadcasts: &[Ipv4Addr],
    unicast: MacAddr,
) -> MacAddr {
    if destination.is_multicast() {
        MacAddr::from_ipv4_multicast(destination)
    } else if destination.is_broadcast() || directed_broadcasts.contains(&destination) {
        MacAddr::BROADCAST
    } else {
        unicast
    }
}

/// Codec TCP flags for a line's flags.
pub(super) fn tcp_flags(spec: TcpFlagsSpec) -> TcpFlags {
    let mut f = TcpFlags::NONE;
    for (set, flag) in [
        (spec.fin, TcpFlags::FIN),
        (spec.syn, TcpFlags::SYN),
        (spec.rst, TcpFlags::RST),
        (spec.psh, TcpFlags::PSH),
        (spec.ack, TcpFlags::ACK),
        (spec.urg, TcpFlags::URG),
        (spec.ece, TcpFlags::ECE),
        (spec.cwr, TcpFlags::CWR),
    ] {
        if set {
            f |= flag;
        }
    }
    f
}

/// Transport octets a line takes on its own (header and payload), for fragment planning.
fn own_transport_len(body: &PacketBody) -> usize {
    match body {
        PacketBody::Tcp(t) => {
            let options = match &t.options {
                TcpOptionsSpec::List(list) => {
                    list.iter().map(option_len).sum::<usize>().div_ceil(4) * 4
                }
                _ => 0,
            };
            20 + options + t.len as usize
        }
        PacketBody::Udp(u) => 8 + u.len,
        PacketBody::Icmp(i) => 8 + i.len.unwrap_or(0),
        PacketBody::Igmp(_) => 8,
        PacketBody::RawIp { len, .. } => *len,
        PacketBody::Arp(_) => 0,
    }
}

fn option_len(o: &TcpOptionSpec) -> usize {
    match o {
        TcpOptionSpec::Nop | TcpOptionSpec::Eol => 1,
        TcpOptionSpec::Mss(_) => 4,
        TcpOptionSpec::WindowScale(_) => 3,
        TcpOptionSpec::SackPermitted => 2,
        TcpOptionSpec::Sack(blocks) => 2 + 8 * blocks.len(),
        TcpOptionSpec::Timestamp { .. } => 10,
        TcpOptionSpec::Other { data, .. } => 2 + data.len(),
        TcpOptionSpec::Raw(bytes) => bytes.len(),
    }
}

impl Session {
    /// Finds the fragmented inbound datagrams of the script (lines with `ip[id=N off=…]`).
    pub(super) fn plan_fragments(&mut self, script: &Script) {
        for event in &script.events {
            let EventKind::Packet(p) = &event.kind else {
                continue;
            };
            let (Direction::Inbound, Some(fragment), Some(id)) =
                (p.direction, p.ip.fragment, p.ip.id)
            else {
                continue;
            };
            let end = usize::from(fragment.offset) + own_transport_len(&p.body);
            let plan = self.fragment_plans.entry(id).or_insert(FragmentPlan {
                total: 0,
                head: None,
                bytes: None,
            });
            plan.total = plan.total.max(end);
            if fragment.offset == 0 && plan.head.is_none() {
                plan.head = Some(p.clone());
            }
        }
    }

    /// The whole frame for an inbound line.
    pub(super) fn build_inbound(&mut self, packet: &PacketEvent) -> Result<Vec<u8>, String> {
        let interface = packet.interface;
        if let PacketBody::Arp(spec) = &packet.body {
            let mut frame = self.arp_inbound(interface, spec);
            override_ethernet(&mut frame, packet.ethernet);
            return Ok(frame);
        }
        let (source, destination) = self.inbound_addresses(packet);
        // The TCP/UDP pseudo-header names the final destination: the last address of a
        // source route with hops still to visit [RFC 9293 § 3.1].
        let end = match &packet.ip.options {
            Some(options) => {
                let mut h = Ipv4Header::new(source, destination, IpProtocol(0));
                h.options = Ipv4Options::raw(options);
                h.final_destination()
            }
            None => destination,
        };
        let transport = match (packet.ip.fragment, packet.ip.id) {
            (Some(fragment), Some(id)) => {
                let whole = self.planned_transport(id, source, end)?;
                let start = usize::from(fragment.offset);
                let len = own_transport_len(&packet.body);
                let mut part = whole.get(start..).unwrap_or_default().to_vec();
                part.truncate(len);
                part.resize(len, 0);
                part
            }
            _ => self.transport(packet, source, end, None)?,
        };
        let mut transport = transport;
        let carries_transport_header = packet.ip.fragment.is_none_or(|f| f.offset == 0);
        if let (Some(spec), true) = (packet.ip.transport_checksum, carries_transport_header) {
            let at = match packet.body {
                PacketBody::Tcp(_) => Some(16),
                PacketBody::Udp(_) => Some(6),
                PacketBody::Icmp(_) | PacketBody::Igmp(_) => Some(2),
                PacketBody::Arp(_) | PacketBody::RawIp { .. } => None,
            };
            match at {
                Some(at) if transport.len() >= at + 2 => {
                    corrupt_checksum(&mut transport[at..at + 2], spec)
                }
                _ => {
                    return Err(
                        "l4csum= needs a TCP, UDP, ICMP or IGMP header in the packet".to_string(),
                    )
                }
            }
        }
        let protocol = protocol_of(&packet.body);
        let mut header = Ipv4Header::new(source, destination, protocol);
        header.ttl = packet
            .ip
            .ttl
            .unwrap_or(if matches!(packet.body, PacketBody::Igmp(_)) {
                1
            } else {
                64
            });
        if let Some(tos) = packet.ip.tos {
            header.dscp = tos >> 2;
            header.ecn = Ecn::from_bits(tos & 0b11);
        }
        if let Some(ecn) = packet.ip.ecn {
            header.ecn = Ecn::from_bits(ecn_bits(ecn));
        }
        header.identification = match packet.ip.id {
            Some(id) => id,
            None => {
                let id = self.next_ip_id;
                self.next_ip_id = self.next_ip_id.wrapping_add(1);
                id
            }
        };
        header.dont_fragment = packet.ip.dont_fragment.unwrap_or(false);
        if let Some(fragment) = packet.ip.fragment {
            if fragment.offset % 8 != 0 {
                return Err(format!(
                    "fragment offset {} is not a multiple of 8",
                    fragment.offset
                ));
            }
            header.fragment_offset = fragment.offset / 8;
            header.more_fragments = fragment.more;
        }
        let igmp_alert = matches!(packet.body, PacketBody::Igmp(_)).then_some(&ROUTER_ALERT[..]);
        let options = packet
            .ip
            .options
            .as_deref()
            .or(igmp_alert)
            .unwrap_or_default();
        if options.len() > 40 {
            return Err(format!(
                "{} octets of IP options (at most 40)",
                options.len()
            ));
        }
        header.options = Ipv4Options::raw(options);
        let mut datagram = vec![0u8; header.len() + transport.len()];
        let n = header
            .emit(transport.len(), &mut datagram)
            .map_err(|e| format!("IPv4 header: {e}"))?;
        datagram[n..].copy_from_slice(&transport);
        if packet.ip.bad_header_checksum {
            // The header checksum is octets 10–11 [RFC 791 § 3.1].
            corrupt_checksum(&mut datagram[10..12], ChecksumSpec::Bad);
        }
        let broadcasts = self.directed_broadcasts();
        let eth_destination =
            ethernet_destination(destination, &broadcasts, self.target_mac(interface));
        Ok(ethernet(
            packet.ethernet.dst.unwrap_or(eth_destination),
            packet.ethernet.src.unwrap_or(self.network.peer_mac),
            EtherType::IPV4,
            &datagram,
        ))
    }

    /// Directed broadcast addresses of the target's subnets.
    pub(super) fn directed_broadcasts(&self) -> Vec<Ipv4Addr> {
        self.network
            .interfaces
            .iter()
            .filter(|i| i.prefix_len < 31)
            .map(|i| {
                let host_bits = u32::MAX.checked_shr(u32::from(i.prefix_len)).unwrap_or(0);
                Ipv4Addr::from(u32::from(i.address) | host_bits)
            })
            .collect()
    }

    /// Source and destination of an inbound line: as given, else the remote end (an on-link
    /// router for IGMP) to the target (the group's address for IGMP).
    fn inbound_addresses(&self, packet: &PacketEvent) -> (Ipv4Addr, Ipv4Addr) {
        let local = self.local_ip(packet.interface);
        let (default_source, default_destination) = match &packet.body {
            PacketBody::Igmp(spec) => (self.network.gateway_ip, igmp_destination(spec)),
            _ => (self.network.remote_ip, local),
        };
        (
            packet.ip.src.unwrap_or(default_source),
            packet.ip.dst.unwrap_or(default_destination),
        )
    }

    /// The whole transport octets of fragmented datagram `id`.
    fn planned_transport(
        &mut self,
        id: u16,
        source: Ipv4Addr,
        destination: Ipv4Addr,
    ) -> Result<Vec<u8>, String> {
        let Some(plan) = self.fragment_plans.get(&id).cloned() else {
            return Err(format!("fragment with id {id} was not planned"));
        };
        if let Some(bytes) = plan.bytes {
            return Ok(bytes);
        }
        let bytes = match &plan.head {
            Some(head) => {
                let own_header =
                    own_transport_len(&head.body).saturating_sub(payload_len_of(&head.body));
                let payload = plan.total.saturating_sub(own_header);
                let mut bytes = self.transport(head, source, destination, Some(payload))?;
                bytes.resize(plan.total, 0);
                bytes
            }
            // No first fragment in the script: the others carry zeros.
            None => vec![0u8; plan.total],
        };
        if let Some(p) = self.fragment_plans.get_mut(&id) {
            p.bytes = Some(bytes.clone());
        }
        Ok(bytes)
    }

    /// The transport octets (header and payload) of a line; `payload_len` overrides the
    /// line's own payload length (the whole payload of a fragmented datagram).
    fn transport(
        &mut self,
        packet: &PacketEvent,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        payload_len: Option<usize>,
    ) -> Result<Vec<u8>, String> {
        match &packet.body {
            PacketBody::Tcp(spec) => self.tcp_inbound(spec, source, destination, payload_len),
            PacketBody::Udp(spec) => {
                let local = spec
                    .dst_port
                    .or(self.udp_local_port)
                    .unwrap_or(DEFAULT_SERVICE_PORT);
                let remote = spec.src_port.unwrap_or(self.udp_remote_port);
                let payload = filler(payload_len.unwrap_or(spec.len));
                let mut out = vec![0u8; 8 + payload.len()];
                UdpHeader::new(remote, local)
                    .emit(source, destination, &payload, &mut out)
                    .map_err(|e| format!("UDP: {e}"))?;
                Ok(out)
            }
            PacketBody::Icmp(spec) => self.icmp_inbound(spec, packet.interface, payload_len),
            PacketBody::Igmp(spec) => igmp_inbound(spec),
            PacketBody::RawIp { len, .. } => Ok(vec![0u8; payload_len.unwrap_or(*len)]),
            PacketBody::Arp(_) => Err("an ARP line has no IP payload".to_string()),
        }
    }

    fn tcp_inbound(
        &mut self,
        spec: &TcpSpec,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        payload_len: Option<usize>,
    ) -> Result<Vec<u8>, String> {
        let local = spec
            .dst_port
            .or(self.tcp_local_port)
            .unwrap_or(DEFAULT_SERVICE_PORT);
        let remote = spec.src_port.unwrap_or(self.tcp_remote_port);
        let index = self.flow_index(Some(local), remote);
        let flow = &self.flows[index];
        let window = spec.window.unwrap_or(65535);
        let window = u16::try_from(window)
            .map_err(|_| format!("win {window} does not fit the 16-bit window field"))?;
        let mut header = TcpHeader::new(
            remote,
            local,
            spec.seq,
            spec.ack.map_or(0, |a| flow.live_local_seq(a)),
            tcp_flags(spec.flags),
            window,
        );
        header.urgent_pointer = spec.urgent.unwrap_or(0);
        // SACK blocks and TS ecr are mapped to the target's live values.
        let mut sack_buffers: Vec<[u8; 32]> = Vec::new();
        let list: &[TcpOptionSpec] = match &spec.options {
            TcpOptionsSpec::List(list) => list,
            TcpOptionsSpec::None | TcpOptionsSpec::Any => &[],
        };
        for option in list {
            if let TcpOptionSpec::Sack(blocks) = option {
                if blocks.is_empty() || blocks.len() > 4 {
                    return Err(format!("sack with {} blocks (1 to 4 fit)", blocks.len()));
                }
                sack_buffers.push([0u8; 32]);
            }
        }
        let mut sack_iter = sack_buffers.iter_mut();
        // Octets of the options area, written option by option (so that `bytes HEX` goes in
        // verbatim), then padded with zeros to a multiple of 4 [RFC 9293 § 3.1].
        let mut area: Vec<u8> = Vec::with_capacity(40);
        for option in list {
            if let TcpOptionSpec::Raw(bytes) = option {
                area.extend_from_slice(bytes);
                continue;
            }
            let encoded = match option {
                TcpOptionSpec::Nop => TcpOption::NoOperation,
                TcpOptionSpec::Eol => TcpOption::EndOfList,
                TcpOptionSpec::Mss(v) => TcpOption::MaximumSegmentSize(*v),
                TcpOptionSpec::WindowScale(v) => TcpOption::WindowScale(*v),
                TcpOptionSpec::SackPermitted => TcpOption::SackPermitted,
                TcpOptionSpec::Sack(blocks) => {
                    let mapped: Vec<SackBlock> = blocks
                        .iter()
                        .map(|(l, r)| SackBlock {
                            left: flow.live_local_seq(*l),
                            right: flow.live_local_seq(*r),
                        })
                        .collect();
                    let Some(buffer) = sack_iter.next() else {
                        return Err("internal: SACK buffer".to_string());
                    };
                    TcpOption::Sack(
                        SackBlocks::encode(&mapped, buffer).map_err(|e| format!("sack: {e}"))?,
                    )
                }
                TcpOptionSpec::Timestamp { value, echo } => TcpOption::Timestamps {
                    value: *value,
                    echo_reply: flow.live_echo(*echo),
                },
                TcpOptionSpec::Other { kind, data } => TcpOption::Unknown { kind: *kind, data },
                TcpOptionSpec::Raw(_) => continue,
            };
            let mut buffer = [0u8; 40];
            let n = encoded
                .write(&mut buffer)
                .map_err(|e| format!("TCP option {encoded}: {e}"))?;
            area.extend_from_slice(&buffer[..n]);
        }
        area.resize(area.len().div_ceil(4) * 4, 0);
        if area.len() > 40 {
            return Err(format!(
                "{} octets of TCP options once padded (at most 40)",
                area.len()
            ));
        }
        header.options = TcpOptions::raw(&area);
        let payload = filler(payload_len.unwrap_or(spec.len as usize));
        let mut out = vec![0u8; header.len() + payload.len()];
        let written = header
            .emit(source, destination, &payload, &mut out)
            .map_err(|e| format!("TCP: {e}"))?;
        out.truncate(written);
        Ok(out)
    }

    fn icmp_inbound(
        &mut self,
        spec: &IcmpSpec,
        interface: usize,
        payload_len: Option<usize>,
    ) -> Result<Vec<u8>, String> {
        let mut rest = [0u8; 4];
        if let Some((id, seq)) = spec.echo {
            rest[..2].copy_from_slice(&id.to_be_bytes());
            rest[2..].copy_from_slice(&seq.to_be_bytes());
        }
        if let Some(mtu) = spec.mtu {
            rest[2..].copy_from_slice(&mtu.to_be_bytes());
        }
        if let Some(pointer) = spec.pointer {
            rest[0] = pointer;
        }
        let data = match &spec.quoted {
            Some(quoted) => self.quote(quoted, interface)?,
            None => filler(payload_len.or(spec.len).unwrap_or(0)),
        };
        let message = IcmpMessage::new(IcmpBody::Unknown(Unknown {
            icmp_type: IcmpType(spec.icmp_type),
            code: spec.code.unwrap_or(0),
            rest_of_header: rest,
            data: &data,
        }));
        let mut out = vec![0u8; message.len()];
        let n = message.emit(&mut out).map_err(|e| format!("ICMP: {e}"))?;
        out.truncate(n);
        Ok(out)
    }

    /// The datagram an inbound ICMP error quotes: by default one the target sent to the
    /// remote end (its TCP sequence numbers mapped to the live ones), at most 548 octets.
    fn quote(&mut self, quoted: &PacketEvent, interface: usize) -> Result<Vec<u8>, String> {
        let source = quoted.ip.src.unwrap_or(self.local_ip(interface));
        let destination = quoted.ip.dst.unwrap_or(self.network.remote_ip);
        let transport = match &quoted.body {
            PacketBody::Tcp(spec) => {
                let local = spec
                    .src_port
                    .or(self.tcp_local_port)
                    .unwrap_or(DEFAULT_SERVICE_PORT);
                let remote = spec.dst_port.unwrap_or(self.tcp_remote_port);
                let index = self.flow_index(Some(local), remote);
                let flow = &self.flows[index];
                let header = TcpHeader::new(
                    local,
                    remote,
                    flow.live_local_seq(spec.seq),
                    spec.ack.unwrap_or(0),
                    tcp_flags(spec.flags),
                    u16::try_from(spec.window.unwrap_or(65535)).unwrap_or(u16::MAX),
                );
                let payload = filler(spec.len as usize);
                let mut out = vec![0u8; header.len() + payload.len()];
                header
                    .emit(source, destination, &payload, &mut out)
                    .map_err(|e| format!("quoted TCP: {e}"))?;
                out
            }
            PacketBody::Udp(spec) => {
                let local = spec
                    .src_port
                    .or(self.udp_local_port)
                    .unwrap_or(DEFAULT_SERVICE_PORT);
                let remote = spec.dst_port.unwrap_or(self.udp_remote_port);
                let payload = filler(spec.len);
                let mut out = vec![0u8; 8 + payload.len()];
                UdpHeader::new(local, remote)
                    .emit(source, destination, &payload, &mut out)
                    .map_err(|e| format!("quoted UDP: {e}"))?;
                out
            }
            PacketBody::Icmp(spec) => self.icmp_inbound(spec, interface, None)?,
            PacketBody::RawIp { len, .. } => vec![0u8; *len],
            PacketBody::Igmp(spec) => igmp_inbound(spec)?,
            PacketBody::Arp(_) => {
                return Err("an ICMP error cannot quote an ARP packet".to_string())
            }
        };
        let mut header = Ipv4Header::new(source, destination, protocol_of(&quoted.body));
        if let Some(ttl) = quoted.ip.ttl {
            header.ttl = ttl;
        }
        header.dont_fragment = quoted.ip.dont_fragment.unwrap_or(false);
        header.identification = quoted.ip.id.unwrap_or(0);
        let mut datagram = vec![0u8; header.len() + transport.len()];
        let n = header
            .emit(transport.len(), &mut datagram)
            .map_err(|e| format!("quoted IPv4: {e}"))?;
        datagram[n..].copy_from_slice(&transport);
        datagram.truncate(MAX_QUOTE);
        Ok(datagram)
    }

    fn arp_inbound(&self, interface: usize, spec: &ArpSpec) -> Vec<u8> {
        let peer = self.network.peer_mac;
        let target_mac = self.target_mac(interface);
        match spec {
            ArpSpec::Request {
                target_ip,
                sender_ip,
            } => arp_frame(
                MacAddr::BROADCAST,
                ArpOperation::REQUEST,
                peer,
                *sender_ip,
                MacAddr::ZERO,
                *target_ip,
            ),
            ArpSpec::Reply {
                sender_ip,
                sender_mac,
                target_ip,
            } => arp_frame(
                target_mac,
                ArpOperation::REPLY,
                sender_mac.unwrap_or(peer),
                *sender_ip,
                target_mac,
                target_ip.unwrap_or(self.local_ip(interface)),
            ),
        }
    }
}

/// The two ECN bits of a codepoint [RFC 3168 § 5] (`ect01` is sent as ECT(0)).
/// Applies an `ether[...]` block to a built frame: destination octets 0–5, source 6–11.
fn override_ethernet(frame: &mut [u8], spec: EthernetSpec) {
    if let (Some(dst), Some(field)) = (spec.dst, frame.get_mut(0..6)) {
        field.copy_from_slice(&dst.0);
    }
    if let (Some(src), Some(field)) = (spec.src, frame.get_mut(6..12)) {
        field.copy_from_slice(&src.0);
    }
}

/// Overwrites a checksum field as `csum=bad` / `l4csum=bad|0` ask: `Zero` writes 0 (for UDP,
/// "no checksum" [RFC 768]); `Bad` writes a value that differs from the correct one and from
/// its ones'-complement twin (0x0000 / 0xFFFF), so no receiver can take it as right.
fn corrupt_checksum(field: &mut [u8], spec: ChecksumSpec) {
    let value = match spec {
        ChecksumSpec::Zero => 0,
        ChecksumSpec::Bad => {
            let correct = u16::from_be_bytes([field[0], field[1]]);
            if correct == 0x1234 {
                0x4321
            } else {
                0x1234
            }
        }
    };
    field.copy_from_slice(&u16::to_be_bytes(value));
}

pub(super) fn ecn_bits(ecn: EcnSpec) -> u8 {
    match ecn {
        EcnSpec::NotEct => 0b00,
        EcnSpec::Ect1 => 0b01,
        EcnSpec::Ect0 | EcnSpec::Ect0Or1 => 0b10,
        EcnSpec::Ce => 0b11,
    }
}

/// The IP protocol a line's body travels in.
pub(super) fn protocol_of(body: &PacketBody) -> IpProtocol {
    match body {
        PacketBody::Tcp(_) => IpProtocol::TCP,
        PacketBody::Udp(_) => IpProtocol::UDP,
        PacketBody::Icmp(_) => IpProtocol::ICMP,
        PacketBody::Igmp(_) => IpProtocol::IGMP,
        PacketBody::RawIp { protocol, .. } => IpProtocol(*protocol),
        PacketBody::Arp(_) => IpProtocol(0),
    }
}

fn payload_len_of(body: &PacketBody) -> usize {
    match body {
        PacketBody::Tcp(t) => t.len as usize,
        PacketBody::Udp(u) => u.len,
        PacketBody::Icmp(i) => i.len.unwrap_or(0),
        PacketBody::RawIp { len, .. } => *len,
        PacketBody::Igmp(_) | PacketBody::Arp(_) => 0,
    }
}

/// Where an IGMP message goes by default [RFC 2236 § 9, RFC 3376 § 4.1.12, § 4.2.14].
pub(super) fn igmp_destination(spec: &IgmpSpec) -> Ipv4Addr {
    match spec {
        IgmpSpec::Query { group, .. } if group.is_unspecified() => ALL_HOSTS,
        IgmpSpec::Query { group, .. } => *group,
        IgmpSpec::Report { group, .. } => *group,
        IgmpSpec::Leave { .. } => ALL_ROUTERS,
        IgmpSpec::V3Report { .. } => IGMPV3_ROUTERS,
    }
}

fn emit_igmp(message: &IgmpMessage<'_>) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; message.len()];
    let n = message.emit(&mut out).map_err(|e| format!("IGMP: {e}"))?;
    out.truncate(n);
    Ok(out)
}

fn igmp_inbound(spec: &IgmpSpec) -> Result<Vec<u8>, String> {
    match spec {
        IgmpSpec::Query {
            version,
            group,
            max_resp,
            sources,
        } => {
            let body_sources = {
                let mut b = vec![0u8; sources.len() * 4];
                SourceList::write(sources, &mut b).map_err(|e| format!("IGMP sources: {e}"))?;
                b
            };
            let body = match version {
                1 | 2 => QueryBody::V1OrV2,
                3 => QueryBody::V3(QueryV3 {
                    resv: 0,
                    s_flag: false,
                    qrv: 2,
                    qqic: 125,
                    number_of_sources: u16::try_from(sources.len())
                        .map_err(|_| "too many sources".to_string())?,
                    sources: SourceList::new(&body_sources)
                        .map_err(|e| format!("IGMP sources: {e}"))?,
                    additional_data: &[],
                }),
                v => return Err(format!("IGMP version {v} (1, 2 or 3)")),
            };
            emit_igmp(&IgmpMessage::Query(Query {
                max_resp_code: if *version == 1 { 0 } else { *max_resp },
                checksum: 0,
                group: *group,
                body,
            }))
        }
        IgmpSpec::Report { version, group } => {
            let message = GroupMessage {
                code: 0,
                checksum: 0,
                group: *group,
                additional_data: &[],
            };
            emit_igmp(&match version {
                1 => IgmpMessage::V1Report(message),
                _ => IgmpMessage::V2Report(message),
            })
        }
        IgmpSpec::Leave { group } => emit_igmp(&IgmpMessage::V2Leave(GroupMessage {
            code: 0,
            checksum: 0,
            group: *group,
            additional_data: &[],
        })),
        IgmpSpec::V3Report { records } => {
            // Group records [RFC 3376 § 4.2.4]: type, aux len 0, number of sources, group,
            // sources.
            let mut bytes = Vec::new();
            for (record_type, group, sources) in records {
                bytes.push(*record_type);
                bytes.push(0);
                let count =
                    u16::try_from(sources.len()).map_err(|_| "too many sources".to_string())?;
                bytes.extend_from_slice(&count.to_be_bytes());
                bytes.extend_from_slice(&group.octets());
                for s in sources {
                    bytes.extend_from_slice(&s.octets());
                }
            }
            let count =
                u16::try_from(records.len()).map_err(|_| "too many group records".to_string())?;
            let (parsed, _) =
                GroupRecords::parse(&bytes, count).map_err(|e| format!("IGMP records: {e}"))?;
            emit_igmp(&IgmpMessage::V3Report(V3Report {
                reserved1: 0,
                checksum: 0,
                reserved2: 0,
                number_of_group_records: count,
                records: parsed,
                additional_data: &[],
            }))
        }
    }
}
