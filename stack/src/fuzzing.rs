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
use wirecheck_codec::tcp::TcpFlags;
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
    let flags = TcpFlags(u16::from(r.u8()) | (u16::from(r.u8() & 1) << 8));
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
    run(data, |_| {});
}

/// [`drive`], calling `observe` with the stack after every step (after the step's frames are
/// drained, when they are) and once at the end; `drive`'s no-op observer compiles away.
fn run(data: &[u8], mut observe: impl FnMut(&Stack)) {
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
        observe(&stack);
    }
    drain_tcp(&mut stack, &mut last);
    stack.check_invariants();
    observe(&stack);
}

/// Builds [`drive`] inputs that play a scripted TCP session between the stack (10.0.0.1 on
/// its first interface) and a peer at 10.0.0.2, so that fuzzing starts from inputs that reach
/// every connection state, not only the RST for a closed port.
///
/// Each method appends one of `drive`'s steps, followed by a byte that makes `drive` drain
/// the stack's frames (which is where it learns the last TCP segment sent). The peer's
/// segments after the first SYN are [`reply`](TcpScript::reply)s: `drive` numbers them from
/// the last segment the stack sent (sequence number its acknowledgment number, acknowledging
/// all it carried), so a script needs no knowledge of the stack's initial sequence number.
/// That makes a script depend on the stack having sent what the script expects: a mutation
/// (or a change in the stack) that adds or drops a segment makes the rest of it out of step.
///
/// Handles are `drive`'s: indices into the list of the listeners and connections that
/// succeeded, in order; the builder assumes every listen, connect and accept does. (`drive`
/// reads a second octet after the index, the fallback handle when the list is empty.)
#[derive(Debug, Clone)]
pub struct TcpScript {
    data: Vec<u8>,
    handles: u8,
}

impl TcpScript {
    /// A script for a stack built by `drive` from `config` (its first input byte: bit 0 a
    /// router, 0x10 timestamps, 0x20 SACK, …; see `build`).
    pub fn new(config: u8) -> TcpScript {
        TcpScript {
            data: vec![config],
            handles: 0,
        }
    }

    /// The input for [`drive`].
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// One step, then a drain.
    fn step(&mut self, bytes: &[u8]) -> &mut TcpScript {
        self.data.extend_from_slice(bytes);
        self.data.push(0);
        self
    }

    fn handle(&mut self) -> u8 {
        let h = self.handles;
        self.handles += 1;
        h
    }

    /// The peer asks for 10.0.0.1's MAC with a broadcast ARP request, which teaches the stack
    /// the peer's (RFC 826), so that its segments go out at once.
    pub fn arp(&mut self) -> &mut TcpScript {
        // ARP, interface 0, request, from 10.0.0.2 for 10.0.0.1, the peer's MAC, broadcast.
        self.step(&[3, 0, 1, 2, 0, 1, 2])
    }

    /// `tcp_listen` on 0.0.0.0:80, backlog 2; returns the listener's handle.
    pub fn listen(&mut self) -> u8 {
        self.step(&[12, 0, 0, 0, 2]);
        self.handle()
    }

    /// `tcp_connect` to 10.0.0.2:80; returns the connection's handle.
    pub fn connect(&mut self) -> u8 {
        self.step(&[12, 1, 2, 0, 0, 0]);
        self.handle()
    }

    /// `tcp_accept` on a listener; returns the connection's handle.
    pub fn accept(&mut self, listener: u8) -> u8 {
        self.step(&[12, 6, listener, 0]);
        self.handle()
    }

    /// `tcp_send` of `len` octets.
    pub fn send(&mut self, h: u8, len: u16) -> &mut TcpScript {
        let [a, b] = len.to_be_bytes();
        self.step(&[12, 2, h, 0, a, b])
    }

    /// `tcp_recv` into a buffer of `len` octets.
    pub fn recv(&mut self, h: u8, len: u16) -> &mut TcpScript {
        let [a, b] = len.to_be_bytes();
        self.step(&[12, 4, h, 0, a, b])
    }

    /// `tcp_shutdown` (a FIN; receiving goes on).
    pub fn shutdown(&mut self, h: u8) -> &mut TcpScript {
        self.step(&[12, 7, h, 0])
    }

    /// `tcp_close`.
    pub fn close(&mut self, h: u8) -> &mut TcpScript {
        self.step(&[12, 8, h, 0, 2])
    }

    /// `tcp_abort`.
    pub fn abort(&mut self, h: u8) -> &mut TcpScript {
        self.step(&[12, 8, h, 0, 0])
    }

    /// `tcp_set_keepalive(h, true)`.
    pub fn keepalive(&mut self, h: u8) -> &mut TcpScript {
        self.step(&[12, 8, h, 0, 1, 1, 0])
    }

    /// The clock goes `ms` milliseconds on, and timers that fell due run.
    pub fn wait_ms(&mut self, ms: u16) -> &mut TcpScript {
        let [a, b] = ms.to_be_bytes();
        self.step(&[4, a, b, 1])
    }

    /// The clock goes `s` seconds on, and timers that fell due run.
    pub fn wait_s(&mut self, s: u16) -> &mut TcpScript {
        let [a, b] = s.to_be_bytes();
        self.step(&[4, a, b, 2])
    }

    /// The peer's first SYN, from 10.0.0.2:40000 to 10.0.0.1:80, sequence number `seq`, with
    /// `options` (padded with zeros to a multiple of four octets, at most 40).
    pub fn syn(&mut self, seq: u32, options: &[u8]) -> &mut TcpScript {
        // TCP from given addresses: 10.0.0.2 to 10.0.0.1 on interface 0.
        let mut b = vec![11, 3, 2, 0, 0];
        // Ports: the fourth choice is 40000; source that, destination 80.
        b.extend_from_slice(&40000u16.to_be_bytes());
        b.extend_from_slice(&[3, 0]);
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0]);
        // Not an answer to the last segment; SYN; window 65535.
        b.push(0);
        Self::flags(&mut b, TcpFlags::SYN);
        b.extend_from_slice(&[0xff, 0xff]);
        Self::options(&mut b, options);
        // No data, urgent pointer 0.
        b.extend_from_slice(&[0, 0, 0, 0]);
        self.step(&b)
    }

    /// A segment from the peer answering the last one the stack sent: sequence number that
    /// segment's acknowledgment number plus `seq_offset` (-4..=3), acknowledgment number the
    /// end of that segment less `ack_back` (0..=2), `flags`, `window`, `options` and `data`
    /// octets of data (at most 1599).
    #[allow(clippy::too_many_arguments)]
    pub fn reply_with(
        &mut self,
        flags: TcpFlags,
        window: u16,
        seq_offset: i8,
        ack_back: u8,
        options: &[u8],
        data: u16,
    ) -> &mut TcpScript {
        debug_assert!((-4..=3).contains(&seq_offset) && ack_back <= 2 && data < 1600);
        // TCP from the peer of the last segment.
        let mut b = vec![11, 0];
        // Ports, sequence and acknowledgment numbers: replaced by the answer's.
        b.extend_from_slice(&[0; 12]);
        // An answer; its offsets.
        b.extend_from_slice(&[1, (seq_offset + 4) as u8, ack_back]);
        Self::flags(&mut b, flags);
        b.extend_from_slice(&window.to_be_bytes());
        Self::options(&mut b, options);
        b.extend_from_slice(&data.to_be_bytes());
        b.extend((0..data).map(|i| b'a' + (i % 26) as u8));
        b.extend_from_slice(&[0, 0]);
        self.step(&b)
    }

    /// [`reply_with`](TcpScript::reply_with) in sequence, acknowledging everything, window
    /// 65535, no options.
    pub fn reply(&mut self, flags: TcpFlags, data: u16) -> &mut TcpScript {
        self.reply_with(flags, 0xffff, 0, 0, &[], data)
    }

    /// The flags as `drive` reads them: the low eight bits, then the ninth (AE) in an octet.
    fn flags(b: &mut Vec<u8>, flags: TcpFlags) {
        let [high, low] = flags.0.to_be_bytes();
        b.extend_from_slice(&[low, high & 1]);
    }

    fn options(b: &mut Vec<u8>, options: &[u8]) {
        let words = options.len().div_ceil(4).min(10);
        b.push(words as u8);
        b.extend((0..words * 4).map(|i| options.get(i).copied().unwrap_or(0)));
    }
}

/// Scripted TCP sessions, named, as [`drive`] inputs (see [`TcpScript`]): between them they
/// take a connection through every state of RFC 9293's diagram — active and passive opens,
/// data both ways, a close by either side first and a simultaneous one, a half close, resets
/// either way, a refused connect, a zero window and its probes, retransmission, keep-alive
/// probes answered and unanswered, SACK and timestamps negotiated. They are the seeds of the
/// `stack_drive` fuzz target.
pub fn tcp_sessions() -> Vec<(&'static str, Vec<u8>)> {
    const ACK: TcpFlags = TcpFlags::ACK;
    const FIN: TcpFlags = TcpFlags::FIN;
    const PSH: TcpFlags = TcpFlags::PSH;
    const RST: TcpFlags = TcpFlags::RST;
    const SYN: TcpFlags = TcpFlags::SYN;
    const MSS: [u8; 4] = [2, 4, 0x05, 0xb4];
    let mut out = Vec::new();

    // We open and close first: SYN-SENT, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT.
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0).send(c, 100).reply(ACK | PSH, 50);
    s.wait_ms(300).recv(c, 100).close(c);
    s.reply(ACK, 0).reply(FIN | ACK, 0).wait_s(5);
    out.push(("active_open_active_close", s.into_bytes()));

    // The peer opens and closes first: SYN-RECEIVED, ESTABLISHED, CLOSE-WAIT, LAST-ACK.
    let mut s = TcpScript::new(0);
    s.arp();
    let l = s.listen();
    s.syn(1000, &MSS).reply(ACK, 0);
    let a = s.accept(l);
    s.reply(ACK | PSH, 50)
        .wait_ms(300)
        .recv(a, 100)
        .send(a, 100);
    s.reply(FIN | ACK, 0).wait_ms(300).close(a).reply(ACK, 0);
    out.push(("passive_open_passive_close", s.into_bytes()));

    // Both close at once: FIN-WAIT-1, CLOSING (the peer's FIN does not acknowledge ours),
    // TIME-WAIT.
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0).close(c);
    s.reply_with(FIN | ACK, 0xffff, 0, 1, &[], 0);
    s.reply(ACK, 0).wait_s(5);
    out.push(("simultaneous_close", s.into_bytes()));

    // Passive open, we close first and the peer's FIN acknowledges ours: FIN-WAIT-1 to
    // TIME-WAIT at once; then a retransmitted FIN in TIME-WAIT.
    let mut s = TcpScript::new(0);
    s.arp();
    let l = s.listen();
    s.syn(7, &MSS).reply(ACK, 0);
    let a = s.accept(l);
    s.send(a, 10).close(a).reply(FIN | ACK, 0);
    s.reply_with(FIN | ACK, 0xffff, -1, 0, &[], 0).wait_s(5);
    out.push(("passive_open_fin_ack_together", s.into_bytes()));

    // A half close: we shut down sending and go on receiving in FIN-WAIT-2.
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0).send(c, 200).shutdown(c).reply(ACK, 0);
    s.reply(ACK | PSH, 300).wait_ms(300).recv(c, 1000);
    s.reply(FIN | ACK, 0).recv(c, 10).wait_s(5);
    out.push(("half_close", s.into_bytes()));

    // The peer closes first and we go on sending in CLOSE-WAIT, then shut down.
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0).reply(FIN | ACK, 0).recv(c, 10);
    s.send(c, 500).reply(ACK, 0).shutdown(c).reply(ACK, 0);
    out.push(("close_wait_sending", s.into_bytes()));

    // We abort an established connection (a RST).
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0).send(c, 100).abort(c);
    out.push(("abort", s.into_bytes()));

    // The peer resets an established connection.
    let mut s = TcpScript::new(0);
    s.arp();
    let l = s.listen();
    s.syn(99, &MSS).reply(ACK, 0);
    let a = s.accept(l);
    s.send(a, 100).reply(RST, 0).recv(a, 10);
    out.push(("peer_reset", s.into_bytes()));

    // The peer refuses the connection (RST, ACK to the SYN).
    let mut s = TcpScript::new(0);
    s.arp();
    s.connect();
    s.reply(RST | ACK, 0);
    out.push(("refused", s.into_bytes()));

    // A SYN unanswered until the connection gives up (and the ARP request before it).
    let mut s = TcpScript::new(0);
    s.connect();
    for _ in 0..9 {
        s.wait_s(30);
    }
    out.push(("syn_unanswered", s.into_bytes()));

    // The peer's window closes: window probes, then it opens and the data goes.
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply_with(SYN | ACK, 0, 0, 0, &MSS, 0)
        .send(c, 1000)
        .wait_ms(1500);
    s.reply_with(ACK, 0, 0, 0, &[], 0).wait_ms(3000);
    s.reply(ACK, 0).reply(ACK, 0).reply(ACK, 0).close(c);
    out.push(("zero_window", s.into_bytes()));

    // Data lost and retransmitted, then acknowledged.
    let mut s = TcpScript::new(0);
    s.arp();
    let l = s.listen();
    s.syn(5, &MSS).reply(ACK, 0);
    let a = s.accept(l);
    s.send(a, 1400)
        .wait_ms(1100)
        .reply(ACK, 0)
        .wait_ms(1100)
        .reply(ACK, 0);
    s.abort(a);
    out.push(("retransmission", s.into_bytes()));

    // Keep-alive: a probe answered, then probes unanswered until the connection is dropped.
    // (The peer's ARP request after two idle hours gives the stack its MAC again, the entry
    // having expired, so that the probes go out.)
    let mut s = TcpScript::new(0);
    s.arp();
    let c = s.connect();
    s.reply(SYN | ACK, 0)
        .keepalive(c)
        .wait_s(7201)
        .arp()
        .reply(ACK, 0);
    s.wait_s(7201).arp();
    for _ in 0..10 {
        s.wait_s(76);
    }
    out.push(("keepalive", s.into_bytes()));

    // SACK and timestamps negotiated by a passive open (TSecr zero throughout).
    let ts = |v: u32| {
        let mut o = vec![1, 1, 8, 10];
        o.extend_from_slice(&v.to_be_bytes());
        o.extend_from_slice(&[0, 0, 0, 0]);
        o
    };
    let mut s = TcpScript::new(0x30);
    s.arp();
    let l = s.listen();
    let mut opts = vec![2, 4, 0x05, 0xb4, 1, 1, 4, 2];
    opts.extend(ts(1));
    s.syn(1 << 31, &opts)
        .reply_with(ACK, 0xffff, 0, 0, &ts(2), 0);
    let a = s.accept(l);
    s.reply_with(ACK | PSH, 0xffff, 0, 0, &ts(3), 100)
        .wait_ms(300);
    s.recv(a, 200)
        .send(a, 1500)
        .reply_with(ACK, 0xffff, 0, 0, &ts(4), 0);
    s.close(a)
        .reply_with(FIN | ACK, 0xffff, 0, 0, &ts(5), 0)
        .wait_s(5);
    out.push(("sack_timestamps", s.into_bytes()));

    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::tcp::TcpState::{self, *};
    use std::collections::BTreeMap;

    /// Runs `data` through `drive` and gives, per TCP handle, the states it was seen in after
    /// each step, in order, repeats merged; `Closed` when it left the table.
    fn trajectories(data: &[u8]) -> BTreeMap<TcpHandle, Vec<TcpState>> {
        let mut seen: BTreeMap<TcpHandle, Vec<TcpState>> = BTreeMap::new();
        run(data, |stack| {
            let now: BTreeMap<TcpHandle, TcpState> = stack.tcp.states().collect();
            for (h, states) in &mut seen {
                if !now.contains_key(h) && states.last() != Some(&Closed) {
                    states.push(Closed);
                }
            }
            for (h, state) in now {
                let states = seen.entry(h).or_default();
                if states.last() != Some(&state) {
                    states.push(state);
                }
            }
        });
        seen
    }

    /// The scripted sessions take their connection through the states RFC 9293's diagram
    /// gives for what each plays; together they reach all eleven.
    #[test]
    fn scripted_sessions_reach_every_tcp_state() {
        let expected: &[(&str, &[&[TcpState]])] = &[
            (
                "active_open_active_close",
                &[&[SynSent, Established, FinWait1, FinWait2, TimeWait, Closed]],
            ),
            (
                "passive_open_passive_close",
                &[
                    &[Listen],
                    &[SynReceived, Established, CloseWait, LastAck, Closed],
                ],
            ),
            (
                "simultaneous_close",
                &[&[SynSent, Established, FinWait1, Closing, TimeWait, Closed]],
            ),
            (
                "passive_open_fin_ack_together",
                &[
                    &[Listen],
                    &[SynReceived, Established, FinWait1, TimeWait, Closed],
                ],
            ),
            (
                "half_close",
                &[&[SynSent, Established, FinWait1, FinWait2, TimeWait, Closed]],
            ),
            (
                "close_wait_sending",
                &[&[SynSent, Established, CloseWait, LastAck, Closed]],
            ),
            ("abort", &[&[SynSent, Established, Closed]]),
            (
                "peer_reset",
                &[&[Listen], &[SynReceived, Established, Closed]],
            ),
            ("refused", &[&[SynSent, Closed]]),
            ("syn_unanswered", &[&[SynSent, Closed]]),
            ("zero_window", &[&[SynSent, Established, FinWait1]]),
            (
                "retransmission",
                &[&[Listen], &[SynReceived, Established, Closed]],
            ),
            ("keepalive", &[&[SynSent, Established, Closed]]),
            (
                "sack_timestamps",
                &[
                    &[Listen],
                    &[SynReceived, Established, FinWait1, TimeWait, Closed],
                ],
            ),
        ];
        let sessions = tcp_sessions();
        let names: Vec<&str> = sessions.iter().map(|(n, _)| *n).collect();
        let expected_names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected_names);
        let mut reached = Vec::new();
        for ((name, data), (_, want)) in sessions.iter().zip(expected) {
            let got: Vec<Vec<TcpState>> = trajectories(data).into_values().collect();
            let want: Vec<Vec<TcpState>> = want.iter().map(|t| t.to_vec()).collect();
            assert_eq!(got, want, "session {name}");
            reached.extend(got.into_iter().flatten());
        }
        for state in [
            Closed,
            Listen,
            SynSent,
            SynReceived,
            Established,
            FinWait1,
            FinWait2,
            CloseWait,
            Closing,
            LastAck,
            TimeWait,
        ] {
            assert!(reached.contains(&state), "{state:?} not reached");
        }
    }

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
