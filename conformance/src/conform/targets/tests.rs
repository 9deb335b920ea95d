//! One test body for every in-process target, driven through `&mut dyn Target` with frames
//! built by the codec: ARP, a passive and an active TCP open (with the SYN retransmitted at
//! the profile's initial RTO, to the microsecond), a UDP echo, and the FIN of a close.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation};
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption, TcpOptions};
use wirecheck_codec::udp::UdpHeader;
use wirecheck_stack::testing::{arp_frame, ipv4_frame, udp};

use crate::conform::target::{
    CallOk, CallOutcome, Errno, Network, PollEvents, PollRequest, SentFrame, SocketCall,
    SocketKind, SocketOption, Target,
};

/// A TCP segment as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seg {
    at: Duration,
    eth_destination: MacAddr,
    source: SocketAddrV4,
    destination: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    mss: Option<u16>,
    window_scale: Option<u8>,
    timestamps: bool,
    payload: Vec<u8>,
}

fn tcp_of(f: &SentFrame) -> Option<Seg> {
    let (eth, rest) = EthernetHeader::parse(&f.bytes).ok()?;
    if eth.ether_type != EtherType::IPV4 {
        return None;
    }
    let (ip, rest) = Ipv4Header::parse(rest).ok()?;
    if ip.protocol != IpProtocol::TCP {
        return None;
    }
    let (tcp, payload) = TcpHeader::parse(rest).ok()?;
    Some(Seg {
        at: f.at,
        eth_destination: eth.destination,
        source: SocketAddrV4::new(ip.source, tcp.source_port),
        destination: SocketAddrV4::new(ip.destination, tcp.destination_port),
        seq: tcp.sequence_number,
        ack: tcp.acknowledgment_number,
        flags: tcp.flags,
        window: tcp.window,
        mss: tcp.options.maximum_segment_size(),
        window_scale: tcp.options.window_scale(),
        timestamps: tcp.options.timestamps().is_some(),
        payload: payload.to_vec(),
    })
}

fn arp_of(f: &SentFrame) -> Option<(MacAddr, MacAddr, ArpEthernetIpv4)> {
    let (eth, rest) = EthernetHeader::parse(&f.bytes).ok()?;
    if eth.ether_type != EtherType::ARP {
        return None;
    }
    let (arp, _) = ArpEthernetIpv4::parse(rest).ok()?;
    Some((eth.destination, eth.source, arp))
}

/// The peer's side: the remote host behind the gateway, as the runner plays it.
struct Peer {
    net: Network,
    target_mac: MacAddr,
}

impl Peer {
    fn target_ip(&self) -> Ipv4Addr {
        self.net.interfaces[0].address
    }

    fn tcp(
        &self,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        data: &[u8],
    ) -> Vec<u8> {
        let mut opts = [0u8; 4];
        let mut h = TcpHeader::new(sport, dport, seq, ack, flags, 65_535);
        if flags.contains(TcpFlags::SYN) {
            let n = TcpOption::write_all(&[TcpOption::MaximumSegmentSize(1460)], &mut opts)
                .expect("MSS option fits");
            h.options = TcpOptions::new(&opts[..n]).expect("valid options");
        }
        let mut seg = vec![0u8; h.options.len() + 20 + data.len()];
        let n = h
            .emit(self.net.remote_ip, self.target_ip(), data, &mut seg)
            .expect("segment fits");
        seg.truncate(n);
        ipv4_frame(
            self.target_mac,
            self.net.peer_mac,
            self.net.remote_ip,
            self.target_ip(),
            IpProtocol::TCP,
            64,
            &[],
            &seg,
        )
    }

    fn udp(&self, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
        let d = udp(self.net.remote_ip, self.target_ip(), sport, dport, data);
        ipv4_frame(
            self.target_mac,
            self.net.peer_mac,
            self.net.remote_ip,
            self.target_ip(),
            IpProtocol::UDP,
            64,
            &[],
            &d,
        )
    }

    /// "Who has the target's address? Tell the gateway."
    fn arp_request(&self) -> Vec<u8> {
        arp_frame(
            MacAddr::BROADCAST,
            ArpOperation::REQUEST,
            self.net.peer_mac,
            self.net.gateway_ip,
            MacAddr::ZERO,
            self.target_ip(),
        )
    }
}

fn configured(t: &mut dyn Target) -> Peer {
    let net = Network::default();
    t.configure(&net).expect("configure");
    let target_mac = t.interface_mac(0);
    assert_eq!(target_mac, net.interfaces[0].mac);
    // Whatever the target announced while coming up (gratuitous ARP) is ARP and nothing else.
    for f in t.take_sent() {
        assert!(
            arp_of(&f).is_some(),
            "{}: unexpected frame at start-up",
            t.name()
        );
    }
    Peer { net, target_mac }
}

fn call(t: &mut dyn Target, c: SocketCall) -> CallOutcome {
    t.call(&c)
}

fn ok(t: &mut dyn Target, c: SocketCall) -> CallOk {
    match t.call(&c) {
        CallOutcome::Ok(ok) => ok,
        other => panic!("{}: {c:?} gave {other:?}", t.name()),
    }
}

fn segments(t: &mut dyn Target) -> Vec<Seg> {
    t.take_sent().iter().filter_map(tcp_of).collect()
}

/// ARP: a request for the target's address is answered at once, to the asker.
pub(super) fn arp_is_answered(t: &mut dyn Target) {
    let p = configured(t);
    t.advance_to(Duration::from_millis(10));
    t.inject(0, &p.arp_request());
    let sent = t.take_sent();
    assert_eq!(sent.len(), 1, "{}: {sent:?}", t.name());
    assert_eq!(sent[0].at, Duration::from_millis(10));
    assert_eq!(sent[0].interface, 0);
    let (eth_dst, eth_src, arp) = arp_of(&sent[0]).expect("an ARP frame");
    assert_eq!((eth_dst, eth_src), (p.net.peer_mac, p.target_mac));
    assert_eq!(
        arp,
        ArpEthernetIpv4 {
            operation: ArpOperation::REPLY,
            sender_mac: p.target_mac,
            sender_ip: p.target_ip(),
            target_mac: p.net.peer_mac,
            target_ip: p.net.gateway_ip,
        }
    );
}

/// Makes the target learn the gateway's MAC (from the request it answers), so TCP replies
/// need no ARP round of their own.
fn prime_arp(t: &mut dyn Target, p: &Peer) {
    t.inject(0, &p.arp_request());
    let _ = t.take_sent();
}

/// Passive open driven by hand-built segments, data in, and the FIN of close.
pub(super) fn tcp_passive_open(t: &mut dyn Target) {
    let p = configured(t);
    prime_arp(t, &p);
    let profile = t.profile().clone();
    let lfd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    )
    .value;
    assert_eq!(lfd, 3);
    let local = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080);
    ok(t, SocketCall::Bind { fd: 3, addr: local });
    ok(t, SocketCall::Listen { fd: 3, backlog: 1 });
    assert_eq!(
        call(t, SocketCall::Accept { fd: 3 }),
        CallOutcome::Err(Errno::EWOULDBLOCK)
    );

    let syn_at = Duration::from_millis(100);
    t.advance_to(syn_at);
    t.inject(0, &p.tcp(40_000, 8080, 1000, 0, TcpFlags::SYN, &[]));
    let sent = segments(t);
    assert_eq!(sent.len(), 1, "{}: {sent:?}", t.name());
    let syn_ack = &sent[0];
    assert_eq!(syn_ack.at, syn_at);
    assert_eq!(syn_ack.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(syn_ack.ack, 1001);
    assert_eq!(syn_ack.eth_destination, p.net.peer_mac);
    assert_eq!(syn_ack.source, SocketAddrV4::new(p.target_ip(), 8080));
    assert_eq!(
        syn_ack.destination,
        SocketAddrV4::new(p.net.remote_ip, 40_000)
    );
    assert_eq!(syn_ack.mss, Some(profile.mss));
    assert!(syn_ack.payload.is_empty());
    assert_eq!(u32::from(syn_ack.window), profile.initial_receive_window);
    let iss = syn_ack.seq;

    t.advance_to(syn_at + Duration::from_millis(20));
    t.inject(
        0,
        &p.tcp(40_000, 8080, 1001, iss.wrapping_add(1), TcpFlags::ACK, &[]),
    );
    assert!(segments(t).is_empty());
    let accepted = ok(t, SocketCall::Accept { fd: 3 });
    assert_eq!(accepted.value, 4);
    assert_eq!(
        accepted.peer,
        Some(SocketAddrV4::new(p.net.remote_ip, 40_000))
    );
    assert_eq!(
        call(t, SocketCall::Read { fd: 4, len: 100 }),
        CallOutcome::Err(Errno::EWOULDBLOCK)
    );

    t.inject(
        0,
        &p.tcp(
            40_000,
            8080,
            1001,
            iss.wrapping_add(1),
            TcpFlags::ACK | TcpFlags::PSH,
            b"hello",
        ),
    );
    let read = ok(t, SocketCall::Read { fd: 4, len: 100 });
    assert_eq!((read.value, read.data.as_slice()), (5, &b"hello"[..]));
    // The data is acknowledged, now or within the delayed-ACK bound.
    t.advance_to(t.now() + profile.delayed_ack);
    let acks = segments(t);
    assert!(
        acks.iter()
            .any(|s| s.ack == 1006 && s.flags.contains(TcpFlags::ACK)),
        "{}: no ACK of the data in {acks:?}",
        t.name()
    );

    ok(t, SocketCall::Close { fd: 4 });
    t.advance_to(t.now());
    let fin = segments(t);
    assert!(
        fin.iter().any(|s| s.flags == TcpFlags::FIN | TcpFlags::ACK
            && s.seq == iss.wrapping_add(1)
            && s.ack == 1006),
        "{}: no FIN in {fin:?}",
        t.name()
    );
    // The descriptor is free again, and the listener still listens: a second SYN is
    // answered too.
    assert_eq!(
        ok(
            t,
            SocketCall::Socket {
                kind: SocketKind::Datagram
            }
        )
        .value,
        4
    );
    t.inject(0, &p.tcp(40_001, 8080, 7000, 0, TcpFlags::SYN, &[]));
    let second = segments(t);
    assert!(
        second
            .iter()
            .any(|s| s.flags == TcpFlags::SYN | TcpFlags::ACK && s.ack == 7001),
        "{}: the listener did not answer a second SYN: {second:?}",
        t.name()
    );
}

/// Active open: EINPROGRESS, the SYN, its retransmission at exactly the initial RTO, then the
/// handshake's outcome through SO_ERROR and a second connect.
pub(super) fn tcp_active_open(t: &mut dyn Target) {
    let p = configured(t);
    prime_arp(t, &p);
    let profile = t.profile().clone();
    let fd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    )
    .value as i32;
    let start = Duration::from_millis(250);
    t.advance_to(start);
    let remote = SocketAddrV4::new(p.net.remote_ip, 80);
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EINPROGRESS)
    );
    let syn = segments(t);
    assert_eq!(syn.len(), 1, "{}: {syn:?}", t.name());
    assert_eq!(syn[0].flags, TcpFlags::SYN);
    assert_eq!(syn[0].at, start);
    assert_eq!(syn[0].destination, remote);
    assert_eq!(syn[0].source.ip(), &p.target_ip());
    assert_eq!(syn[0].mss, Some(profile.mss));
    if profile.features.contains("window-scaling") {
        assert_eq!(syn[0].window_scale, profile.window_scale);
    }
    assert_eq!(u32::from(syn[0].window), profile.initial_receive_window);
    assert_eq!(
        syn[0].timestamps,
        profile.features.contains("timestamps"),
        "{}: timestamps offered vs the profile",
        t.name()
    );
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EALREADY)
    );
    assert_eq!(
        call(
            t,
            SocketCall::Write {
                fd,
                data: b"early".to_vec()
            }
        ),
        CallOutcome::Err(Errno::EWOULDBLOCK),
        "{}: a write before the handshake completes",
        t.name()
    );

    // Nothing before the RTO runs out; the retransmission exactly when it does.
    t.advance_to(start + profile.initial_rto - Duration::from_micros(1));
    assert!(segments(t).is_empty());
    t.advance_to(start + profile.initial_rto + Duration::from_millis(1));
    let again = segments(t);
    assert_eq!(again.len(), 1, "{}: {again:?}", t.name());
    assert_eq!(again[0].at, start + profile.initial_rto);
    assert_eq!((again[0].flags, again[0].seq), (TcpFlags::SYN, syn[0].seq));

    let port = syn[0].source.port();
    let iss = syn[0].seq;
    t.inject(
        0,
        &p.tcp(
            80,
            port,
            5000,
            iss.wrapping_add(1),
            TcpFlags::SYN | TcpFlags::ACK,
            &[],
        ),
    );
    let ack = segments(t);
    assert!(
        ack.iter()
            .any(|s| s.flags == TcpFlags::ACK && s.ack == 5001 && s.seq == iss.wrapping_add(1)),
        "{}: no ACK of the SYN-ACK in {ack:?}",
        t.name()
    );
    assert_eq!(
        ok(
            t,
            SocketCall::GetOption {
                fd,
                option: SocketOption::Error
            }
        )
        .value,
        0
    );
    assert_eq!(ok(t, SocketCall::Connect { fd, addr: remote }).value, 0);
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EISCONN)
    );
    assert_eq!(
        ok(
            t,
            SocketCall::Write {
                fd,
                data: b"abc".to_vec()
            }
        )
        .value,
        3
    );
    let data = segments(t);
    assert!(
        data.iter()
            .any(|s| s.payload == b"abc" && s.seq == iss.wrapping_add(1)),
        "{}: {data:?}",
        t.name()
    );
}

/// A refused connection: the RST becomes SO_ERROR (read once) and the connect's result.
pub(super) fn tcp_refused(t: &mut dyn Target) {
    let p = configured(t);
    prime_arp(t, &p);
    let fd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    )
    .value as i32;
    let remote = SocketAddrV4::new(p.net.remote_ip, 81);
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EINPROGRESS)
    );
    let syn = segments(t);
    assert_eq!(syn.len(), 1, "{}: {syn:?}", t.name());
    let (port, iss) = (syn[0].source.port(), syn[0].seq);
    t.advance_to(Duration::from_millis(5));
    t.inject(
        0,
        &p.tcp(
            81,
            port,
            0,
            iss.wrapping_add(1),
            TcpFlags::RST | TcpFlags::ACK,
            &[],
        ),
    );
    assert_eq!(
        ok(
            t,
            SocketCall::GetOption {
                fd,
                option: SocketOption::Error
            }
        )
        .value,
        i64::from(Errno::ECONNREFUSED.number())
    );
    assert_eq!(
        ok(
            t,
            SocketCall::GetOption {
                fd,
                option: SocketOption::Error
            }
        )
        .value,
        0,
        "SO_ERROR clears on reading"
    );
    assert_eq!(ok(t, SocketCall::Close { fd }).value, 0);
    assert_eq!(
        call(t, SocketCall::Close { fd }),
        CallOutcome::Err(Errno::EBADF)
    );
}

/// UDP: a datagram in is read with its sender; the same bytes go back with sendto.
pub(super) fn udp_echo(t: &mut dyn Target) {
    let p = configured(t);
    prime_arp(t, &p);
    let fd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Datagram,
        },
    )
    .value as i32;
    assert_eq!(fd, 3);
    ok(
        t,
        SocketCall::Bind {
            fd,
            addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7),
        },
    );
    assert_eq!(
        call(t, SocketCall::RecvFrom { fd, len: 100 }),
        CallOutcome::Err(Errno::EWOULDBLOCK)
    );
    t.advance_to(Duration::from_millis(3));
    t.inject(0, &p.udp(5000, 7, b"ping"));
    let got = ok(t, SocketCall::RecvFrom { fd, len: 100 });
    let peer = SocketAddrV4::new(p.net.remote_ip, 5000);
    assert_eq!((got.data.as_slice(), got.peer), (&b"ping"[..], Some(peer)));
    let n = ok(
        t,
        SocketCall::SendTo {
            fd,
            data: got.data.clone(),
            addr: peer,
        },
    );
    assert_eq!(n.value, 4);
    let sent = t.take_sent();
    assert_eq!(sent.len(), 1, "{}: {sent:?}", t.name());
    assert_eq!(sent[0].at, Duration::from_millis(3));
    let (eth, rest) = EthernetHeader::parse(&sent[0].bytes).expect("ethernet");
    assert_eq!(
        (eth.destination, eth.source),
        (p.net.peer_mac, p.target_mac)
    );
    let (ip, rest) = Ipv4Header::parse(rest).expect("ipv4");
    assert_eq!(
        (ip.source, ip.destination),
        (p.target_ip(), p.net.remote_ip)
    );
    let (udp, payload) = UdpHeader::parse(rest).expect("udp");
    assert_eq!((udp.source_port, udp.destination_port), (7, 5000));
    assert_eq!(&payload[..4], b"ping");
}

/// Sets up an accepted connection on fd 4 (listener on fd 3, port 8080) from port `sport`;
/// returns the target's ISS.
fn established(t: &mut dyn Target, p: &Peer, sport: u16) -> u32 {
    prime_arp(t, p);
    ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    );
    ok(
        t,
        SocketCall::Bind {
            fd: 3,
            addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080),
        },
    );
    ok(t, SocketCall::Listen { fd: 3, backlog: 1 });
    t.inject(0, &p.tcp(sport, 8080, 1000, 0, TcpFlags::SYN, &[]));
    let syn_ack = segments(t);
    let iss = syn_ack.first().map(|s| s.seq).expect("a SYN-ACK");
    t.inject(
        0,
        &p.tcp(sport, 8080, 1001, iss.wrapping_add(1), TcpFlags::ACK, &[]),
    );
    assert_eq!(ok(t, SocketCall::Accept { fd: 3 }).value, 4);
    let _ = t.take_sent();
    iss
}

/// SO_LINGER with a zero timeout turns close into an abort: a RST, no FIN.
pub(super) fn linger_zero_close_resets(t: &mut dyn Target) {
    let p = configured(t);
    assert!(t.profile().features.contains("linger"));
    let iss = established(t, &p, 41_000);
    ok(
        t,
        SocketCall::SetOption {
            fd: 4,
            option: SocketOption::Linger,
            value: 0,
        },
    );
    ok(t, SocketCall::Close { fd: 4 });
    t.advance_to(t.now() + Duration::from_millis(1));
    let sent = segments(t);
    assert!(
        sent.iter()
            .any(|s| s.flags.contains(TcpFlags::RST) && s.seq == iss.wrapping_add(1)),
        "{}: no RST in {sent:?}",
        t.name()
    );
    assert!(!sent.iter().any(|s| s.flags.contains(TcpFlags::FIN)));
}

/// shutdown(SHUT_WR) sends a FIN and leaves the receiving side open.
pub(super) fn half_close_keeps_receiving(t: &mut dyn Target) {
    let p = configured(t);
    assert!(t.profile().features.contains("half-close"));
    let iss = established(t, &p, 42_000);
    ok(
        t,
        SocketCall::Shutdown {
            fd: 4,
            how: crate::conform::target::ShutdownHow::Write,
        },
    );
    let fin = segments(t);
    assert!(
        fin.iter()
            .any(|s| s.flags.contains(TcpFlags::FIN) && s.seq == iss.wrapping_add(1)),
        "{}: no FIN in {fin:?}",
        t.name()
    );
    assert_eq!(
        call(
            t,
            SocketCall::Write {
                fd: 4,
                data: b"late".to_vec()
            }
        ),
        CallOutcome::Err(Errno::EPIPE)
    );
    t.inject(
        0,
        &p.tcp(
            42_000,
            8080,
            1001,
            iss.wrapping_add(2),
            TcpFlags::ACK | TcpFlags::PSH,
            b"more",
        ),
    );
    let read = ok(t, SocketCall::Read { fd: 4, len: 10 });
    assert_eq!(read.data, b"more");
}

/// A RST on an established connection: the next read fails with ECONNRESET, once; then
/// end of stream.
pub(super) fn reset_is_reported_on_read(t: &mut dyn Target) {
    let p = configured(t);
    let iss = established(t, &p, 43_000);
    t.inject(
        0,
        &p.tcp(43_000, 8080, 1001, iss.wrapping_add(1), TcpFlags::RST, &[]),
    );
    assert_eq!(
        call(t, SocketCall::Read { fd: 4, len: 10 }),
        CallOutcome::Err(Errno::ECONNRESET)
    );
    assert_eq!(ok(t, SocketCall::Read { fd: 4, len: 10 }).value, 0);
    assert_eq!(
        call(
            t,
            SocketCall::Write {
                fd: 4,
                data: b"x".to_vec()
            }
        ),
        CallOutcome::Err(Errno::EPIPE)
    );
}

/// An echo request to the target is answered with the same identifier, sequence and data.
pub(super) fn ping_is_answered(t: &mut dyn Target) {
    let p = configured(t);
    assert!(t.profile().features.contains("icmp"));
    prime_arp(t, &p);
    let request = wirecheck_stack::testing::icmp_echo_request(0x1234, 7, b"abcdefgh");
    t.inject(
        0,
        &ipv4_frame(
            p.target_mac,
            p.net.peer_mac,
            p.net.remote_ip,
            p.target_ip(),
            IpProtocol::ICMP,
            64,
            &[],
            &request,
        ),
    );
    let sent = t.take_sent();
    assert_eq!(sent.len(), 1, "{}: {sent:?}", t.name());
    let (_, rest) = EthernetHeader::parse(&sent[0].bytes).expect("ethernet");
    let (ip, icmp) = Ipv4Header::parse(rest).expect("ipv4");
    assert_eq!(
        (ip.source, ip.destination),
        (p.target_ip(), p.net.remote_ip)
    );
    let (reply, _) = wirecheck_codec::icmp::IcmpMessage::parse(icmp).expect("icmp");
    match reply.body {
        wirecheck_codec::icmp::IcmpBody::EchoReply(e) => {
            assert_eq!(
                (e.identifier, e.sequence, e.data),
                (0x1234, 7, &b"abcdefgh"[..])
            )
        }
        other => panic!("{}: not an echo reply: {other:?}", t.name()),
    }
}

/// A connection reset before `accept` takes it leaves the listener listening.
pub(super) fn reset_before_accept_keeps_listening(t: &mut dyn Target) {
    let p = configured(t);
    prime_arp(t, &p);
    ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    );
    ok(
        t,
        SocketCall::Bind {
            fd: 3,
            addr: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080),
        },
    );
    ok(t, SocketCall::Listen { fd: 3, backlog: 1 });
    t.inject(0, &p.tcp(44_000, 8080, 1000, 0, TcpFlags::SYN, &[]));
    let iss = segments(t).first().map(|s| s.seq).expect("a SYN-ACK");
    t.inject(
        0,
        &p.tcp(44_000, 8080, 1001, iss.wrapping_add(1), TcpFlags::ACK, &[]),
    );
    t.inject(
        0,
        &p.tcp(44_000, 8080, 1001, iss.wrapping_add(1), TcpFlags::RST, &[]),
    );
    let _ = t.take_sent();
    t.inject(0, &p.tcp(44_001, 8080, 3000, 0, TcpFlags::SYN, &[]));
    let answer = segments(t);
    assert!(
        answer
            .iter()
            .any(|s| s.flags == TcpFlags::SYN | TcpFlags::ACK && s.ack == 3001),
        "{}: no SYN-ACK after the reset: {answer:?}",
        t.name()
    );
}

/// A user timeout gives up an unanswered SYN: SO_ERROR says ETIMEDOUT.
pub(super) fn user_timeout_gives_up(t: &mut dyn Target) {
    let p = configured(t);
    assert!(t.profile().features.contains("user-timeout"));
    prime_arp(t, &p);
    let fd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    )
    .value as i32;
    ok(
        t,
        SocketCall::SetOption {
            fd,
            option: SocketOption::UserTimeout,
            value: 5000,
        },
    );
    let remote = SocketAddrV4::new(p.net.remote_ip, 82);
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EINPROGRESS)
    );
    t.advance_to(Duration::from_secs(4));
    assert_eq!(
        ok(
            t,
            SocketCall::GetOption {
                fd,
                option: SocketOption::Error
            }
        )
        .value,
        0,
        "{}: gave up before the user timeout",
        t.name()
    );
    t.advance_to(Duration::from_secs(60));
    assert_eq!(
        ok(
            t,
            SocketCall::GetOption {
                fd,
                option: SocketOption::Error
            }
        )
        .value,
        i64::from(Errno::ETIMEDOUT.number()),
        "{}",
        t.name()
    );
}

/// `SO_RCVBUF` (on a target with `exact-receive-buffer`): set on a listening socket before
/// the SYN, it is the window of the SYN-ACK and the buffer of the accepted connection; set
/// before connect, the window of the SYN.
pub(super) fn receive_buffer_sets_the_window(t: &mut dyn Target) {
    assert!(t.profile().features.contains("exact-receive-buffer"));
    let p = configured(t);
    prime_arp(t, &p);
    let stream = SocketCall::Socket {
        kind: SocketKind::Stream,
    };
    let set = |fd: i32, value: i64| SocketCall::SetOption {
        fd,
        option: SocketOption::ReceiveBuffer,
        value,
    };
    let get = |fd: i32| SocketCall::GetOption {
        fd,
        option: SocketOption::ReceiveBuffer,
    };
    let lfd = ok(t, stream.clone()).value as i32;
    ok(t, set(lfd, 3000));
    assert_eq!(ok(t, get(lfd)).value, 3000, "{}", t.name());
    let local = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080);
    ok(
        t,
        SocketCall::Bind {
            fd: lfd,
            addr: local,
        },
    );
    ok(
        t,
        SocketCall::Listen {
            fd: lfd,
            backlog: 1,
        },
    );
    t.advance_to(Duration::from_millis(100));
    t.inject(0, &p.tcp(40_000, 8080, 1000, 0, TcpFlags::SYN, &[]));
    let sent = segments(t);
    assert_eq!(sent.len(), 1, "{}: {sent:?}", t.name());
    assert_eq!(sent[0].window, 3000, "{}", t.name());
    let iss = sent[0].seq;
    t.inject(
        0,
        &p.tcp(40_000, 8080, 1001, iss.wrapping_add(1), TcpFlags::ACK, &[]),
    );
    let cfd = ok(t, SocketCall::Accept { fd: lfd }).value as i32;
    assert_eq!(ok(t, get(cfd)).value, 3000, "{}", t.name());

    let fd = ok(t, stream).value as i32;
    ok(t, set(fd, 1000));
    let remote = SocketAddrV4::new(p.net.remote_ip, 80);
    assert_eq!(
        call(t, SocketCall::Connect { fd, addr: remote }),
        CallOutcome::Err(Errno::EINPROGRESS)
    );
    let syn = segments(t);
    assert_eq!(syn.len(), 1, "{}: {syn:?}", t.name());
    assert_eq!(syn[0].window, 1000, "{}", t.name());
    assert_eq!(ok(t, get(fd)).value, 1000, "{}", t.name());
}

/// `poll(fd, IN|PRI|OUT)`: what it reports.
fn polled(t: &mut dyn Target, fd: i32) -> PollEvents {
    let events = PollEvents::IN | PollEvents::PRI | PollEvents::OUT;
    let result = ok(
        t,
        SocketCall::Poll {
            fds: vec![PollRequest { fd, events }],
        },
    );
    assert_eq!(result.revents.len(), 1, "{}: {result:?}", t.name());
    assert_eq!(
        result.value,
        i64::from(result.revents[0].0 != 0),
        "{}: the count is the entries with events",
        t.name()
    );
    result.revents[0]
}

/// poll follows a connection: a socket never connected is writable and hung up, an
/// established one writable, readable while data waits, and after the peer's FIN readable
/// (end of stream); an unknown descriptor is POLLNVAL.
pub(super) fn poll_tracks_the_connection(t: &mut dyn Target) {
    let p = configured(t);
    let iss = established(t, &p, 44_000);
    let fresh = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Stream,
        },
    )
    .value as i32;
    assert_eq!(
        polled(t, fresh),
        PollEvents::OUT | PollEvents::HUP,
        "{}",
        t.name()
    );
    assert_eq!(polled(t, 99), PollEvents::NVAL, "{}", t.name());
    assert_eq!(polled(t, 4), PollEvents::OUT, "{}", t.name());
    let ack = iss.wrapping_add(1);
    let flags = TcpFlags::ACK | TcpFlags::PSH;
    t.inject(0, &p.tcp(44_000, 8080, 1001, ack, flags, b"data"));
    assert_eq!(
        polled(t, 4),
        PollEvents::IN | PollEvents::OUT,
        "{}",
        t.name()
    );
    assert_eq!(ok(t, SocketCall::Read { fd: 4, len: 10 }).value, 4);
    assert_eq!(polled(t, 4), PollEvents::OUT, "{}", t.name());
    let fin = TcpFlags::ACK | TcpFlags::FIN;
    t.inject(0, &p.tcp(44_000, 8080, 1005, ack, fin, &[]));
    let after_fin = PollEvents::IN | PollEvents::OUT;
    assert_eq!(polled(t, 4), after_fin, "{}", t.name());
    assert_eq!(ok(t, SocketCall::Read { fd: 4, len: 10 }).value, 0);
    assert_eq!(polled(t, 4), after_fin, "{}: still at the end", t.name());
}

macro_rules! for_target {
    ($module:ident, $make:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn arp_request_for_the_target_is_answered() {
                arp_is_answered(&mut $make);
            }

            #[test]
            fn tcp_passive_open_accept_read_and_close() {
                tcp_passive_open(&mut $make);
            }

            #[test]
            fn tcp_active_open_retransmits_the_syn_at_the_initial_rto() {
                tcp_active_open(&mut $make);
            }

            #[test]
            fn tcp_refused_connect_reports_econnrefused_once() {
                tcp_refused(&mut $make);
            }

            #[test]
            fn udp_echo_with_recvfrom_and_sendto() {
                udp_echo(&mut $make);
            }

            #[test]
            fn linger_zero_close_sends_a_reset() {
                linger_zero_close_resets(&mut $make);
            }

            #[test]
            fn shutdown_write_sends_fin_and_keeps_receiving() {
                half_close_keeps_receiving(&mut $make);
            }

            #[test]
            fn reset_reports_econnreset_once_then_end_of_stream() {
                reset_is_reported_on_read(&mut $make);
            }

            #[test]
            fn user_timeout_gives_up_an_unanswered_connect() {
                user_timeout_gives_up(&mut $make);
            }

            #[test]
            fn reset_before_accept_leaves_the_listener_listening() {
                reset_before_accept_keeps_listening(&mut $make);
            }

            #[test]
            fn echo_request_is_answered() {
                ping_is_answered(&mut $make);
            }

            #[test]
            fn so_rcvbuf_sets_the_window() {
                receive_buffer_sets_the_window(&mut $make);
            }

            #[test]
            fn poll_follows_the_connection() {
                poll_tracks_the_connection(&mut $make);
            }
        }
    };
}

for_target!(builtin, super::super::BuiltinTarget::new());
for_target!(smoltcp, super::super::SmoltcpTarget::new());

/// Joining a group (the builtin stack's profile has `igmp`) sends a membership report to
/// it; leaving with the last socket sends a leave or a state change.
#[test]
fn builtin_join_group_reports_membership() {
    let mut target = super::BuiltinTarget::new();
    let t: &mut dyn Target = &mut target;
    assert!(t.profile().features.contains("igmp"));
    let _ = configured(t);
    let group = Ipv4Addr::new(239, 1, 2, 3);
    let fd = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Datagram,
        },
    )
    .value as i32;
    let other = ok(
        t,
        SocketCall::Socket {
            kind: SocketKind::Datagram,
        },
    )
    .value as i32;
    ok(
        t,
        SocketCall::JoinGroup {
            fd,
            group,
            interface: 0,
        },
    );
    let reports = |t: &mut dyn Target| -> Vec<Ipv4Addr> {
        t.take_sent()
            .iter()
            .filter_map(|f| {
                let (_, rest) = EthernetHeader::parse(&f.bytes).ok()?;
                let (ip, _) = Ipv4Header::parse(rest).ok()?;
                (ip.protocol == IpProtocol::IGMP).then_some(ip.destination)
            })
            .collect()
    };
    let first = reports(t);
    assert!(!first.is_empty(), "no IGMP report on join");
    // A second socket joining the same group changes nothing on the wire.
    ok(
        t,
        SocketCall::JoinGroup {
            fd: other,
            group,
            interface: 0,
        },
    );
    assert!(reports(t).is_empty());
    assert_eq!(
        call(
            t,
            SocketCall::JoinGroup {
                fd,
                group,
                interface: 0
            }
        ),
        CallOutcome::Err(Errno::EADDRINUSE)
    );
    ok(t, SocketCall::Close { fd });
    assert!(
        reports(t).is_empty(),
        "left while another socket is a member"
    );
    ok(
        t,
        SocketCall::LeaveGroup {
            fd: other,
            group,
            interface: 0,
        },
    );
    assert!(!reports(t).is_empty(), "no IGMP message on the last leave");
}
