//! Frame builders and readers for tests, scenarios and the fuzz driver: whole Ethernet frames
//! carrying ARP, IPv4 with ICMP, IGMP or UDP, built with the codec, and small readers that pull
//! the fields a test checks out of a captured frame. Not part of the stable API.

use core::net::Ipv4Addr;

use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation, ArpPacket, HardwareType};
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::icmp::{Echo, IcmpBody, IcmpMessage};
use wirecheck_codec::igmp::{GroupMessage, IgmpMessage, Query, QueryBody, QueryV3, SourceList};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::udp::UdpHeader;

/// An Ethernet frame around `payload`, padded to 60 octets.
pub fn ethernet(
    destination: MacAddr,
    source: MacAddr,
    ether_type: EtherType,
    payload: &[u8],
) -> Vec<u8> {
    let header = EthernetHeader::new(destination, source, ether_type);
    let mut out = vec![0u8; (14 + payload.len()).max(60)];
    let n = header.emit(&mut out).unwrap_or(14);
    if let Some(dst) = out.get_mut(n..n + payload.len()) {
        dst.copy_from_slice(payload);
    }
    out
}

/// An Ethernet/IPv4 ARP packet in a frame.
pub fn arp_frame(
    frame_destination: MacAddr,
    operation: ArpOperation,
    sender_mac: MacAddr,
    sender_ip: Ipv4Addr,
    target_mac: MacAddr,
    target_ip: Ipv4Addr,
) -> Vec<u8> {
    let (sha, spa, tha, tpa) = (
        sender_mac.octets(),
        sender_ip.octets(),
        target_mac.octets(),
        target_ip.octets(),
    );
    let mut buf = [0u8; 28];
    if let Ok(p) = ArpPacket::new(
        HardwareType::ETHERNET,
        EtherType::IPV4,
        operation,
        &sha,
        &spa,
        &tha,
        &tpa,
    ) {
        let _ = p.emit(&mut buf);
    }
    ethernet(frame_destination, sender_mac, EtherType::ARP, &buf)
}

/// A whole IPv4 datagram (header with computed lengths and checksum, then `payload`).
pub fn ipv4_datagram(header: &Ipv4Header<'_>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; header.len() + payload.len()];
    let n = header.emit(payload.len(), &mut out).unwrap_or(20);
    if let Some(dst) = out.get_mut(n..n + payload.len()) {
        dst.copy_from_slice(payload);
    }
    out.truncate(n + payload.len());
    out
}

/// A header from `source` to `destination` with this protocol and TTL (no options).
pub fn ipv4_header(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: IpProtocol,
    ttl: u8,
) -> Ipv4Header<'static> {
    let mut h = Ipv4Header::new(source, destination, protocol);
    h.ttl = ttl;
    h
}

/// An ICMP echo request message.
pub fn icmp_echo_request(identifier: u16, sequence: u16, data: &[u8]) -> Vec<u8> {
    icmp(IcmpBody::EchoRequest(Echo {
        code: 0,
        identifier,
        sequence,
        data,
    }))
}

/// An ICMP message with its checksum.
pub fn icmp(body: IcmpBody<'_>) -> Vec<u8> {
    let m = IcmpMessage::new(body);
    let mut out = vec![0u8; m.len()];
    let n = m.emit(&mut out).unwrap_or(0);
    out.truncate(n);
    out
}

/// A UDP datagram (header and payload) with its checksum.
pub fn udp(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    source_port: u16,
    destination_port: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = vec![0u8; 8 + payload.len()];
    let _ =
        UdpHeader::new(source_port, destination_port).emit(source, destination, payload, &mut out);
    out
}

/// An IGMPv1 (`max_resp_tenths` 0) or v2 query for `group` (0.0.0.0: general).
pub fn igmp_query_v1v2(max_resp_tenths: u8, group: Ipv4Addr) -> Vec<u8> {
    igmp(IgmpMessage::Query(Query {
        max_resp_code: max_resp_tenths,
        checksum: 0,
        group,
        body: QueryBody::V1OrV2,
    }))
}

/// An IGMPv3 query (`sources` empty unless group-and-source-specific).
pub fn igmp_query_v3(max_resp_code: u8, group: Ipv4Addr, sources: &[Ipv4Addr]) -> Vec<u8> {
    let mut b = vec![0u8; sources.len() * 4];
    let _ = SourceList::write(sources, &mut b);
    igmp(IgmpMessage::Query(Query {
        max_resp_code,
        checksum: 0,
        group,
        body: QueryBody::V3(QueryV3 {
            resv: 0,
            s_flag: false,
            qrv: 2,
            qqic: 125,
            number_of_sources: sources.len() as u16,
            sources: SourceList::new(&b).unwrap_or_default(),
            additional_data: &[],
        }),
    }))
}

/// An IGMPv2 report for `group`.
pub fn igmp_v2_report(group: Ipv4Addr) -> Vec<u8> {
    igmp(IgmpMessage::V2Report(GroupMessage {
        code: 0,
        checksum: 0,
        group,
        additional_data: &[],
    }))
}

/// An IGMP message with its checksum.
pub fn igmp(message: IgmpMessage<'_>) -> Vec<u8> {
    let mut out = vec![0u8; message.len()];
    let n = message.emit(&mut out).unwrap_or(0);
    out.truncate(n);
    out
}

/// An IPv4 datagram with `protocol` and `payload` in an Ethernet frame.
#[allow(clippy::too_many_arguments)]
pub fn ipv4_frame(
    destination_mac: MacAddr,
    source_mac: MacAddr,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: IpProtocol,
    ttl: u8,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let mut h = ipv4_header(source, destination, protocol, ttl);
    h.options = Ipv4Options::raw(options);
    ethernet(
        destination_mac,
        source_mac,
        EtherType::IPV4,
        &ipv4_datagram(&h, payload),
    )
}

/// What a test wants to know about a captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// An Ethernet/IPv4 ARP packet.
    Arp {
        /// The Ethernet header's addresses.
        eth_source: MacAddr,
        /// Frame destination.
        eth_destination: MacAddr,
        /// The ARP packet.
        arp: ArpEthernetIpv4,
    },
    /// An IPv4 datagram.
    Ipv4 {
        /// Frame source.
        eth_source: MacAddr,
        /// Frame destination.
        eth_destination: MacAddr,
        /// Source address.
        source: Ipv4Addr,
        /// Destination address.
        destination: Ipv4Addr,
        /// Protocol.
        protocol: IpProtocol,
        /// TTL.
        ttl: u8,
        /// Total length.
        total_length: u16,
        /// More fragments.
        more_fragments: bool,
        /// Fragment offset in octets.
        fragment_offset: usize,
        /// The option octets.
        options: Vec<u8>,
        /// Whether the header checksum is right.
        checksum_ok: bool,
        /// The payload (of this fragment).
        payload: Vec<u8>,
    },
    /// Anything else.
    Other,
}

/// Decodes a frame strictly enough for assertions.
pub fn decode(frame: &[u8]) -> Decoded {
    let Ok((eth, payload)) = EthernetHeader::parse(frame) else {
        return Decoded::Other;
    };
    match eth.ether_type {
        EtherType::ARP => match ArpPacket::parse(payload)
            .ok()
            .and_then(|(p, _)| p.as_ethernet_ipv4())
        {
            Some(arp) => Decoded::Arp {
                eth_source: eth.source,
                eth_destination: eth.destination,
                arp,
            },
            None => Decoded::Other,
        },
        EtherType::IPV4 => match Ipv4Header::parse(payload) {
            Ok((h, p)) => Decoded::Ipv4 {
                eth_source: eth.source,
                eth_destination: eth.destination,
                source: h.source,
                destination: h.destination,
                protocol: h.protocol,
                ttl: h.ttl,
                total_length: h.total_length,
                more_fragments: h.more_fragments,
                fragment_offset: h.fragment_offset_bytes(),
                options: h.options.as_bytes().to_vec(),
                checksum_ok: h.checksum_status() == wirecheck_codec::ChecksumStatus::Good,
                payload: p.to_vec(),
            },
            Err(_) => Decoded::Other,
        },
        _ => Decoded::Other,
    }
}

/// Whether a decoded frame is an ARP request for `target`.
pub fn is_arp_request_for(d: &Decoded, target: Ipv4Addr) -> bool {
    matches!(d, Decoded::Arp { arp, .. } if arp.operation == ArpOperation::REQUEST && arp.target_ip == target && arp.sender_ip != target)
}

/// Our address in the single-host fixtures.
pub const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Our MAC in the single-host fixtures.
pub const HOST_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 1]);
/// The peer's address.
pub const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The peer's MAC.
pub const PEER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 2]);

/// A host with one interface, 10.0.0.1/24, with its gratuitous ARP already taken out.
pub fn host(config: crate::Config) -> crate::Stack {
    let mut s = crate::Stack::new(config);
    let _ = s.add_interface(
        wirecheck_codec::time::Instant::ZERO,
        crate::InterfaceConfig::ethernet(HOST_MAC, crate::Ipv4Cidr::new(HOST, 24)),
    );
    while s.poll_transmit().is_some() {}
    s
}

/// Every frame the stack has queued, decoded.
pub fn sent(stack: &mut crate::Stack) -> Vec<Decoded> {
    std::iter::from_fn(|| stack.poll_transmit())
        .map(|t| decode(&t.bytes))
        .collect()
}

/// Every event the stack has queued.
pub fn events(stack: &mut crate::Stack) -> Vec<crate::Event> {
    std::iter::from_fn(|| stack.poll_event()).collect()
}

/// A frame from the peer to us carrying `payload` as `protocol`.
pub fn from_peer(destination: Ipv4Addr, protocol: IpProtocol, payload: &[u8]) -> Vec<u8> {
    ipv4_frame(
        HOST_MAC,
        PEER_MAC,
        PEER,
        destination,
        protocol,
        64,
        &[],
        payload,
    )
}
