//! A fuzz driver: [`drive`] interprets arbitrary bytes as a sequence of frames (raw, or built
//! around fuzzed fields so that they pass the early checks and reach deep code), clock steps
//! and application calls against a small router, and checks invariants after every step —
//! panicking on a violation, which is what a fuzzer looks for:
//!
//! - nothing panics, whatever the input;
//! - every table and queue stays within its configured limit ([`Stack::check_invariants`]);
//! - after `handle_timeout(now)`, the next deadline is later than `now` (no busy loop);
//! - every frame sent is at least 60 octets, and an IPv4 frame carries a datagram with a right
//!   header checksum, no longer than the interface's MTU; a TCP segment has a right checksum.
//!
//! TCP is driven from both sides: listen, connect, send, receive, accept, shutdown, close and
//! abort calls, and segments with right checksums whose sequence and acknowledgment numbers
//! are, most of the time, close to what the stack last sent, so that fuzzing reaches the
//! synchronized states and not only the RST for a closed port.
//!
//! The cargo-fuzz target is a wrapper: `fuzz_target!(|data: &[u8]| wirecheck_stack::fuzzing::drive(data));`

use core::net::{Ipv4Addr, SocketAddrV4};

use wirecheck_codec::arp::ArpOperation;
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::{self, IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::time::{Duration, Instant};
use wirecheck_codec::ChecksumStatus;

use crate::icmp::EchoRequest;
use crate::iface::{InterfaceConfig, InterfaceId, Ipv4Cidr};
use crate::igmp::IgmpVersion;
use crate::ip::route::Route;
use crate::stack::{Config, Stack};
use crate::tcp::TcpHandle;
use crate::testing;
use crate::udp::UdpHandle;

/// The last TCP segment the stack sent, so that fuzzed answers can carry plausible sequence
/// and acknowledgment numbers and reach the synchronized states.
#[derive(Debug, Clone, Copy, Default)]
struct LastTcp {
    source: Option<(Ipv4Addr, u16)>,
    destination: Option<(Ipv4Addr, u16)>,
    seq: u32,
    ack: u32,
    len: u32,
}

/// A TCP segment with a right checksum around fuzzed fields.
fn tcp_segment(r: &mut Reader<'_>, src: Ipv4Addr, dst: Ipv4Addr, last: &LastTcp) -> Vec<u8> {
    let ports = [80u16, 5000, 49152, r.u16()];
    let mut sp = ports[usize::from(r.u8() % 4)];
    let mut dp = ports[usize::from(r.u8() % 4)];
    let mut seq = r.u32();
    let mut ack = r.u32();
    if let (true, Some((_, lp)), Some((_, rp))) = (r.u8() % 4 != 0, last.source, last.destination) {
        // An answer to what the stack sent, give or take.
        sp = rp;
        dp = lp;
        let delta = u32::from(r.u8() % 8);
        seq = last.ack.wrapping_add(delta).wrapping_sub(4);
        ack = last
            .seq
            .wrapping_add(last.len)
            .wrapping_sub(u32::from(r.u8() % 3));
    }
    let flags = wirecheck_codec::tcp::TcpFlags(u16::from(r.u8()) | (u16::from(r.u8() & 1) << 8));
    let window = r.u16();
    let option_len = usize::from(r.u8() % 11) * 4;
    let mut options = r.bytes(option_len).to_vec();
    options.resize(option_len, 0);
    let len = usize::from(r.u16() % 1600);
    let data = r.bytes(len).to_vec();
    let h = wirecheck_codec::tcp::TcpHeader {
        options: wirecheck_codec::tcp::TcpOptions::raw(&options),
        urgent_pointer: r.u16(),
        ..wirecheck_codec::tcp::TcpHeader::new(sp, dp, seq, ack, flags, window)
    };
    let mut out = vec![0u8; 20 + option_len + data.len()];
    match h.emit(src, dst, &data, &mut out) {
        Ok(n) => {
            out.truncate(n);
            out
        }
        Err(_) => Vec::new(),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const MACS: [MacAddr; 4] = [
    MacAddr([0x02, 0, 0, 0, 0, 1]),
    MacAddr([0x02, 0, 0, 0, 1, 1]),
    MacAddr([0x02, 0, 0, 0, 0, 2]),
    MacAddr([0x02, 0, 0, 0, 1, 2]),
];

fn address(r: &mut Reader<'_>) -> Ipv4Addr {
    match r.u8() % 14 {
        0 => Ipv4Addr::new(10, 0, 0, 1),
        1 => Ipv4Addr::new(10, 0, 1, 1),
        2 => Ipv4Addr::new(10, 0, 0, 2),
        3 => Ipv4Addr::new(10, 0, 1, 2),
        4 => Ipv4Addr::new(10, 0, 0, 255),
        5 => Ipv4Addr::BROADCAST,
        6 => Ipv4Addr::new(224, 0, 0, 1),
        7 => Ipv4Addr::new(239, 1, 1, r.u8() % 4),
        8 => Ipv4Addr::new(192, 168, 7, r.u8()),
        9 => Ipv4Addr::new(10, 0, 0, 254),
        10 => Ipv4Addr::new(127, 0, 0, 1),
        11 => Ipv4Addr::UNSPECIFIED,
        _ => Ipv4Addr::new(r.u8(), r.u8(), r.u8(), r.u8()),
    }
}

fn mac(r: &mut Reader<'_>, group: Ipv4Addr) -> MacAddr {
    match r.u8() % 5 {
        0 | 1 => MACS[usize::from(r.u8() % 2)],
        2 => MacAddr::BROADCAST,
        3 => MacAddr::from_ipv4_multicast(group),
        _ => MacAddr([r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()]),
    }
}

/// The stack `drive` runs against: a host or router (by the first byte) with interfaces
/// 10.0.0.1/24 and 10.0.1.1/24 and a default route through 10.0.0.254, with small limits so
/// that they are reached.
fn build(flags: u8) -> Stack {
    let mut config = if flags & 1 != 0 {
        Config::router()
    } else {
        Config::default()
    };
    config.seed = u64::from(flags);
    config.ip.forward_same_interface = flags & 2 != 0;
    config.ip.accept_source_route = flags & 4 != 0;
    config.icmp.echo_broadcast = flags & 8 != 0;
    config.igmp.version = match (flags >> 4) % 3 {
        0 => IgmpVersion::V1,
        1 => IgmpVersion::V2,
        _ => IgmpVersion::V3,
    };
    config.arp.max_entries = 6;
    config.arp.max_pending_per_address = 2;
    config.udp.max_sockets = 4;
    config.udp.queue_len = 2;
    config.igmp.max_groups = 3;
    config.ip.reassembly.max_datagrams = 2;
    config.ip.reassembly.max_bytes = 300_000;
    config.max_transmit_queue = 64;
    config.max_events = 16;
    config.max_loopback = 4;
    config.max_routes = 5;
    config.tcp.max_connections = 6;
    config.tcp.max_listeners = 2;
    config.tcp.max_syn_backlog = 2;
    config.tcp.max_accept_backlog = 2;
    config.tcp.send_buffer = 3000;
    config.tcp.receive_buffer = 2000 + usize::from(flags & 0x40) * 100;
    config.tcp.sack = flags & 0x20 != 0;
    config.tcp.timestamps = flags & 0x10 != 0;
    config.tcp.msl = Duration::from_secs(2);
    let mut s = Stack::new(config);
    let t = Instant::ZERO;
    let _ = s.add_interface(
        t,
        InterfaceConfig::ethernet(MACS[0], Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 24)),
    );
    let _ = s.add_interface(
        t,
        InterfaceConfig {
            mtu: if flags & 0x80 != 0 { 576 } else { 1500 },
            ..InterfaceConfig::ethernet(MACS[1], Ipv4Cidr::new(Ipv4Addr::new(10, 0, 1, 1), 24))
        },
    );
    let _ = s.add_route(Route::default_via(
        Ipv4Addr::new(10, 0, 0, 254),
        InterfaceId(0),
    ));
    s
}

/// Checks every queued frame and drains the events.
#[cfg(test)]
fn drain(stack: &mut Stack) {
    drain_tcp(stack, &mut LastTcp::default());
}

/// [`drain`], remembering the last TCP segment sent.
fn drain_tcp(stack: &mut Stack, last: &mut LastTcp) {
    while let Some(t) = stack.poll_transmit() {
        assert!(t.bytes.len() >= 60, "runt frame");
        let mtu = usize::from(stack.mtu(t.iface).expect("frame for a real interface"));
        let (eth, payload) = EthernetHeader::parse(&t.bytes).expect("frame parses");
        if eth.ether_type == EtherType::IPV4 {
            let (h, _) = Ipv4Header::parse(payload).expect("datagram parses");
            assert!(usize::from(h.total_length) <= mtu, "datagram over the MTU");
            assert_eq!(
                ipv4::verify_checksum(&payload[..h.header_len()]),
                ChecksumStatus::Good
            );
            // Our own TCP's segments (a router also forwards other hosts' segments, whatever
            // their options hold).
            let ours = stack
                .interfaces()
                .any(|i| stack.address(i).map(|c| c.address) == Some(h.source));
            if ours && h.protocol == IpProtocol::TCP && h.fragment_offset == 0 && !h.more_fragments
            {
                let (_, segment) = Ipv4Header::parse(payload).expect("datagram parses");
                assert_eq!(
                    wirecheck_codec::tcp::TcpHeader::verify_checksum(
                        h.source,
                        h.destination,
                        segment
                    ),
                    ChecksumStatus::Good,
                    "TCP checksum"
                );
                let (tcp, data) =
                    wirecheck_codec::tcp::TcpHeader::parse(segment).expect("TCP parses");
                *last = LastTcp {
                    source: Some((h.source, tcp.source_port)),
                    destination: Some((h.destination, tcp.destination_port)),
                    seq: tcp.sequence_number,
                    ack: tcp.acknowledgment_number,
                    len: tcp.sequence_len(data.len()) as u32,
                };
            }
        }
    }
    while stack.poll_event().is_some() {}
}

/// Runs the stack on `data`; panics if an invariant breaks. See the module documentation.
pub fn drive(data: &[u8]) {
    let mut r = Reader(data);
    let mut stack = build(r.u8());
    let mut now = Instant::ZERO;
    let mut handles: Vec<UdpHandle> = Vec::new();
    let mut tcp: Vec<TcpHandle> = Vec::new();
    let mut last = LastTcp::default();
    while !r.is_empty() {
        match r.u8() % 14 {
            0 => {
                let iface = InterfaceId(usize::from(r.u8() % 3));
                let len = usize::from(r.u16() % 1600);
                let frame = r.bytes(len).to_vec();
                stack.handle_frame(now, iface, &frame);
            }
            1 | 2 => {
                let iface = InterfaceId(usize::from(r.u8() % 2));
                let src = address(&mut r);
                let dst = address(&mut r);
                let dst_mac = mac(&mut r, dst);
                let protocol = match r.u8() % 6 {
                    0 => IpProtocol::ICMP,
                    1 => IpProtocol::IGMP,
                    2 => IpProtocol::TCP,
                    3 | 4 => IpProtocol::UDP,
                    _ => IpProtocol(r.u8()),
                };
                let mut h = testing::ipv4_header(src, dst, protocol, r.u8());
                let flags = r.u8();
                h.identification = u16::from(r.u8() % 4);
                h.more_fragments = flags & 1 != 0;
                h.dont_fragment = flags & 2 != 0;
                h.fragment_offset = if flags & 4 != 0 { r.u16() & 0x1fff } else { 0 };
                let option_len = usize::from(if flags & 8 != 0 { r.u8() % 41 } else { 0 });
                let options = r.bytes(option_len).to_vec();
                h.options = Ipv4Options::raw(&options);
                let len = usize::from(r.u16() % 3000);
                let body = r.bytes(len);
                let payload = match (protocol, flags & 0x30) {
                    (_, 0) => body.to_vec(),
                    (IpProtocol::ICMP, _) => match r.u8() % 3 {
                        0 => testing::icmp_echo_request(r.u16(), r.u16(), body),
                        _ => {
                            let mut m = body.to_vec();
                            if m.len() >= 4 {
                                m[2] = 0;
                                m[3] = 0;
                                let sum = wirecheck_codec::checksum::internet_checksum(&m);
                                m[2..4].copy_from_slice(&sum.to_be_bytes());
                            }
                            m
                        }
                    },
                    (IpProtocol::IGMP, _) => match r.u8() % 4 {
                        0 => testing::igmp_query_v1v2(r.u8(), address(&mut r)),
                        1 => testing::igmp_query_v3(r.u8(), address(&mut r), &[address(&mut r)]),
                        2 => testing::igmp_v2_report(address(&mut r)),
                        _ => body.to_vec(),
                    },
                    (IpProtocol::TCP, _) => tcp_segment(&mut r, src, dst, &last),
                    (IpProtocol::UDP, _) => {
                        let ports = [7, 53, 5000, r.u16()];
                        let sp = ports[usize::from(r.u8() % 4)];
                        let dp = ports[usize::from(r.u8() % 4)];
                        testing::udp(src, dst, sp, dp, body)
                    }
                    _ => body.to_vec(),
                };
                let mut datagram = testing::ipv4_datagram(&h, &payload);
                if flags & 0x40 != 0 {
                    // Damage one octet of the header after the checksum was computed.
                    let at = usize::from(r.u8()) % datagram.len().max(1);
                    if let Some(b) = datagram.get_mut(at) {
                        *b ^= r.u8() | 1;
                    }
                }
                let frame =
                    testing::ethernet(dst_mac, MACS[2 + iface.0], EtherType::IPV4, &datagram);
                stack.handle_frame(now, iface, &frame);
            }
            3 => {
                let iface = InterfaceId(usize::from(r.u8() % 2));
                let op = ArpOperation(u16::from(r.u8() % 3));
                let sender_ip = address(&mut r);
                let target_ip = address(&mut r);
                let sender_mac = if r.u8() % 4 == 0 {
                    MacAddr([r.u8(), r.u8(), r.u8(), r.u8(), r.u8(), r.u8()])
                } else {
                    MACS[2 + iface.0]
                };
                let dst = mac(&mut r, target_ip);
                let frame =
                    testing::arp_frame(dst, op, sender_mac, sender_ip, MacAddr::ZERO, target_ip);
                stack.handle_frame(now, iface, &frame);
            }
            4 | 5 => {
                let step = u64::from(r.u16());
                now += match r.u8() % 3 {
                    0 => Duration::from_micros(step),
                    1 => Duration::from_millis(step),
                    _ => Duration::from_secs(step),
                };
                if stack.poll_timeout().is_some_and(|t| t <= now) {
                    stack.handle_timeout(now);
                }
                if let Some(next) = stack.poll_timeout() {
                    assert!(
                        next > now,
                        "deadline {next} not after handle_timeout({now})"
                    );
                }
            }
            6 => {
                let port = [0, 7, 53, 5000][usize::from(r.u8() % 4)];
                if let Ok(h) = stack.udp_bind(SocketAddrV4::new(address(&mut r), port)) {
                    handles.push(h);
                }
            }
            7 => {
                let h = handles
                    .get(usize::from(r.u8()) % handles.len().max(1))
                    .copied()
                    .unwrap_or(UdpHandle(u32::from(r.u8())));
                let dst =
                    SocketAddrV4::new(address(&mut r), [7, 53, 5000, 0][usize::from(r.u8() % 4)]);
                let len = usize::from(r.u16() % 4000);
                let payload = vec![0x42; len];
                let _ = stack.udp_send_to(now, h, dst, &payload);
            }
            8 => {
                let h = handles
                    .get(usize::from(r.u8()) % handles.len().max(1))
                    .copied()
                    .unwrap_or(UdpHandle(0));
                if r.u8() % 4 == 0 {
                    let _ = stack.udp_close(h);
                } else {
                    let _ = stack.udp_recv_from(h);
                }
            }
            9 => {
                let dst = address(&mut r);
                let len = usize::from(r.u16() % 5000);
                let data = vec![0x17; len];
                let request = EchoRequest {
                    ttl: Some(r.u8()),
                    dont_fragment: r.u8() % 4 == 0,
                    ..EchoRequest::new(dst, r.u16(), r.u16(), &data)
                };
                let _ = stack.ping(now, &request);
            }
            11 => {
                // A TCP segment from the peer the stack last talked to (or a fuzzed one).
                let (src, dst, iface) = match (last.destination, last.source, r.u8() % 4) {
                    (Some((d, _)), Some((s, _)), 0..=2) => (
                        d,
                        s,
                        InterfaceId(usize::from(s == Ipv4Addr::new(10, 0, 1, 1))),
                    ),
                    _ => (
                        address(&mut r),
                        address(&mut r),
                        InterfaceId(usize::from(r.u8() % 2)),
                    ),
                };
                let segment = tcp_segment(&mut r, src, dst, &last);
                let h = testing::ipv4_header(src, dst, IpProtocol::TCP, 64);
                let datagram = testing::ipv4_datagram(&h, &segment);
                let frame =
                    testing::ethernet(MACS[iface.0], MACS[2 + iface.0], EtherType::IPV4, &datagram);
                stack.handle_frame(now, iface, &frame);
            }
            12 | 13 => {
                // The TCP application side.
                let pick = |r: &mut Reader<'_>, tcp: &[TcpHandle]| {
                    tcp.get(usize::from(r.u8()) % tcp.len().max(1))
                        .copied()
                        .unwrap_or(TcpHandle(u32::from(r.u8() % 4)))
                };
                match r.u8() % 9 {
                    0 => {
                        let port = [80, 5000, 0][usize::from(r.u8() % 3)];
                        let addr = if r.u8() % 2 == 0 {
                            Ipv4Addr::UNSPECIFIED
                        } else {
                            address(&mut r)
                        };
                        if let Ok(h) =
                            stack.tcp_listen(SocketAddrV4::new(addr, port), usize::from(r.u8() % 4))
                        {
                            tcp.push(h);
                        }
                    }
                    1 => {
                        let dst = SocketAddrV4::new(
                            address(&mut r),
                            [80, 5000, r.u16()][usize::from(r.u8() % 3)],
                        );
                        if let Ok(h) = stack.tcp_connect(now, dst) {
                            tcp.push(h);
                        }
                    }
                    2 | 3 => {
                        let h = pick(&mut r, &tcp);
                        let len = usize::from(r.u16());
                        let _ = stack.tcp_send(now, h, &vec![0x5a; len]);
                    }
                    4 | 5 => {
                        let h = pick(&mut r, &tcp);
                        let mut buf = vec![0u8; usize::from(r.u16())];
                        let _ = stack.tcp_recv(now, h, &mut buf);
                    }
                    6 => {
                        let h = pick(&mut r, &tcp);
                        if let Ok(Some((c, _))) = stack.tcp_accept(h) {
                            tcp.push(c);
                        }
                    }
                    7 => {
                        let h = pick(&mut r, &tcp);
                        let _ = stack.tcp_shutdown(now, h);
                    }
                    _ => {
                        let h = pick(&mut r, &tcp);
                        let _ = match r.u8() % 3 {
                            0 => stack.tcp_abort(now, h),
                            1 => match r.u8() % 3 {
                                0 => stack.tcp_set_nodelay(h, true),
                                1 => stack.tcp_set_keepalive(h, r.u8() % 2 == 0),
                                _ => stack.tcp_set_user_timeout(
                                    h,
                                    Duration::from_secs(u64::from(r.u8())),
                                ),
                            },
                            _ => stack.tcp_close(now, h),
                        };
                    }
                }
            }
            _ => {
                let iface = InterfaceId(usize::from(r.u8() % 3));
                let group = address(&mut r);
                if r.u8() % 3 == 0 {
                    let _ = stack.igmp_leave(now, iface, group);
                } else {
                    let _ = stack.igmp_join(now, iface, group);
                }
            }
        }
        stack.check_invariants();
        if r.u8() % 2 == 0 {
            drain_tcp(&mut stack, &mut last);
        }
    }
    drain_tcp(&mut stack, &mut last);
    stack.check_invariants();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_and_small_inputs() {
        drive(&[]);
        drive(&[0]);
        drive(&[1, 9, 1, 0, 0, 0, 0, 0]);
        drive(&[0xff; 64]);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

        /// Random operations never panic and keep every table bounded.
        #[test]
        fn drive_never_panics(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
            drive(&data);
        }

        /// TCP sessions: a listener on :80 and a connection to 10.0.0.2:80 first, then
        /// random operations (segments answering the stack's, application calls, time).
        #[test]
        fn tcp_sessions_never_panic(ops in proptest::collection::vec((11u8..14, any::<[u8; 24]>()), 0..60)) {
            let mut data = vec![0u8, 12, 0, 0, 0, 3, 1, 12, 1, 2, 0, 1];
            for (op, bytes) in ops {
                data.push(op);
                data.extend_from_slice(&bytes);
            }
            drive(&data);
        }

        /// Random frames on a router never panic and keep every table bounded.
        #[test]
        fn random_frames(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..40)) {
            let mut s = build(1);
            for (i, f) in frames.iter().enumerate() {
                s.handle_frame(Instant::from_millis(i as u64 * 100), InterfaceId(i % 2), f);
                s.handle_timeout(Instant::from_millis(i as u64 * 100));
                s.check_invariants();
            }
            drain(&mut s);
        }
    }
}
