//! Packet-level tests in the spirit of smoltcp's socket tests: a connection is brought into a
//! state by real segments, a segment is injected, and the exact segments sent and the state
//! after are checked. The peer is 10.0.0.2 (port 4000 unless said), we are 10.0.0.1.

use core::net::SocketAddrV4;

use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::tcp::option::{SackBlock, SackBlocks, TcpOption};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOptions};
use wirecheck_codec::time::{Duration, Instant};

use super::*;
use crate::iface::InterfaceId;
use crate::testing::{self, Decoded, HOST, PEER, PEER_MAC};
use crate::{Config, Event, Stack};
use wirecheck_codec::ethernet::MacAddr;

mod long_run;
mod pair;

const IF0: InterfaceId = InterfaceId(0);
const PEER_PORT: u16 = 4000;
const PORT: u16 = 80;
const FIN: TcpFlags = TcpFlags::FIN;
const SYN: TcpFlags = TcpFlags::SYN;
const RST: TcpFlags = TcpFlags::RST;
const ACK: TcpFlags = TcpFlags::ACK;
const PSH: TcpFlags = TcpFlags::PSH;

fn fl(list: &[TcpFlags]) -> TcpFlags {
    TcpFlags(list.iter().fold(0, |a, f| a | f.0))
}

/// A segment as sent or received in a test.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct S {
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u16,
    window: u16,
    mss: Option<u16>,
    ws: Option<u8>,
    sack_permitted: bool,
    ts: Option<(u32, u32)>,
    sack: Vec<(u32, u32)>,
    urgent: u16,
    payload: Vec<u8>,
}

impl S {
    fn new(seq: u32, ack: u32, flags: TcpFlags) -> S {
        S {
            sport: PEER_PORT,
            dport: PORT,
            seq,
            ack,
            flags: flags.0,
            window: 65535,
            ..S::default()
        }
    }
    fn data(mut self, d: &[u8]) -> S {
        self.payload = d.to_vec();
        self
    }
    fn win(mut self, w: u16) -> S {
        self.window = w;
        self
    }
    fn mss(mut self, m: u16) -> S {
        self.mss = Some(m);
        self
    }
    fn ts(mut self, v: u32, e: u32) -> S {
        self.ts = Some((v, e));
        self
    }
    fn ws(mut self, w: u8) -> S {
        self.ws = Some(w);
        self
    }
    fn sack_ok(mut self) -> S {
        self.sack_permitted = true;
        self
    }
    fn urg(mut self, pointer: u16) -> S {
        self.flags |= TcpFlags::URG.0;
        self.urgent = pointer;
        self
    }
    fn sacks(mut self, b: &[(u32, u32)]) -> S {
        self.sack = b.to_vec();
        self
    }
    fn frame(&self) -> Vec<u8> {
        testing::from_peer(HOST, IpProtocol::TCP, &self.segment())
    }
    /// The TCP segment (header with checksum, and data), from PEER to HOST.
    fn segment(&self) -> Vec<u8> {
        let mut opts = Vec::new();
        if let Some(m) = self.mss {
            opts.push(TcpOption::MaximumSegmentSize(m));
        }
        if let Some(w) = self.ws {
            opts.push(TcpOption::WindowScale(w));
        }
        if self.sack_permitted {
            opts.push(TcpOption::SackPermitted);
        }
        if let Some((value, echo_reply)) = self.ts {
            opts.push(TcpOption::Timestamps { value, echo_reply });
        }
        let mut sb = [0u8; 32];
        let blocks: Vec<SackBlock> = self
            .sack
            .iter()
            .map(|&(left, right)| SackBlock { left, right })
            .collect();
        if !blocks.is_empty() {
            opts.push(TcpOption::Sack(
                SackBlocks::encode(&blocks, &mut sb).unwrap(),
            ));
        }
        let mut ob = [0u8; 40];
        let olen = TcpOption::write_all(&opts, &mut ob).unwrap();
        let h = TcpHeader {
            options: TcpOptions::raw(&ob[..olen]),
            urgent_pointer: self.urgent,
            ..TcpHeader::new(
                self.sport,
                self.dport,
                self.seq,
                self.ack,
                TcpFlags(self.flags),
                self.window,
            )
        };
        let mut buf = vec![0u8; 20 + olen + self.payload.len()];
        h.emit(PEER, HOST, &self.payload, &mut buf).unwrap();
        buf
    }
}

fn decode_tcp(payload: &[u8]) -> S {
    let (h, data) = TcpHeader::parse(payload).expect("TCP parses");
    let mut s = S {
        sport: h.source_port,
        dport: h.destination_port,
        seq: h.sequence_number,
        ack: h.acknowledgment_number,
        flags: h.flags.0,
        window: h.window,
        urgent: h.urgent_pointer,
        payload: data.to_vec(),
        ..S::default()
    };
    s.mss = h.options.maximum_segment_size();
    s.ws = h.options.window_scale();
    s.sack_permitted = h.options.sack_permitted();
    s.ts = h.options.timestamps();
    if let Some(b) = h.options.sack() {
        s.sack = b.iter().map(|b| (b.left, b.right)).collect();
    }
    s
}

/// The TCP segments the stack sent (checksums verified).
fn sent_tcp(s: &mut Stack) -> Vec<S> {
    testing::sent(s)
        .into_iter()
        .filter_map(|d| match d {
            Decoded::Ipv4 {
                protocol: IpProtocol::TCP,
                source,
                destination,
                payload,
                ..
            } => {
                assert_eq!(
                    TcpHeader::verify_checksum(source, destination, &payload),
                    wirecheck_codec::ChecksumStatus::Good
                );
                Some(decode_tcp(&payload))
            }
            _ => None,
        })
        .collect()
}

/// The test bench: our stack and the clock.
struct T {
    s: Stack,
    now: Instant,
}

fn plain() -> Config {
    let mut c = Config::default();
    c.tcp.timestamps = false;
    c.tcp.window_scaling = false;
    c.tcp.sack = false;
    c
}

impl T {
    fn new(config: Config) -> T {
        let mut s = testing::host(config);
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        T {
            s,
            now: Instant::from_secs(10),
        }
    }
    fn send(&mut self, seg: S) -> Vec<S> {
        self.s.handle_frame(self.now, IF0, &seg.frame());
        self.s.check_invariants();
        sent_tcp(&mut self.s)
    }
    fn advance(&mut self, d: Duration) -> Vec<S> {
        let until = self.now + d;
        let mut out = Vec::new();
        while let Some(t) = self.s.poll_timeout().filter(|&t| t <= until) {
            self.now = t.max(self.now);
            self.s.handle_timeout(self.now);
            out.extend(sent_tcp(&mut self.s));
        }
        self.now = until;
        self.s.check_invariants();
        out
    }
    fn events(&mut self) -> Vec<Event> {
        testing::events(&mut self.s)
    }
    fn state(&self, h: TcpHandle) -> Option<TcpState> {
        self.s.tcp_state(h)
    }

    /// A listener on :80 and a connection from the peer with ISN `irs`, established.
    /// Returns (listener, connection, our ISS).
    fn accepted(&mut self, irs: u32, syn: S) -> (TcpHandle, TcpHandle, u32) {
        let l = self.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
        let syn_ts = syn.ts;
        let out = self.send(syn);
        assert_eq!(out.len(), 1, "{out:?}");
        let synack = &out[0];
        assert_eq!(synack.flags, fl(&[SYN, ACK]).0);
        assert_eq!(synack.ack, irs.wrapping_add(1));
        let iss = synack.seq;
        let mut ack = S::new(irs.wrapping_add(1), iss.wrapping_add(1), ACK);
        // Once both SYNs carried timestamps, every segment must [RFC 7323 § 3.2].
        if let (Some((tsval, _)), Some((echo, _))) = (syn_ts, synack.ts) {
            ack = ack.ts(tsval, echo);
        }
        let out = self.send(ack);
        assert!(out.is_empty(), "{out:?}");
        assert!(self.events().contains(&Event::TcpIncoming(l)));
        let (h, remote) = self.s.tcp_accept(l).unwrap().unwrap();
        assert_eq!(remote, SocketAddrV4::new(PEER, PEER_PORT));
        assert_eq!(self.state(h), Some(TcpState::Established));
        (l, h, iss)
    }

    /// An established connection (plain config: no options) with the peer at `irs`.
    fn established(&mut self, irs: u32) -> (TcpHandle, u32) {
        let (_, h, iss) = self.accepted(irs, S::new(irs, 0, SYN).mss(1460));
        (h, iss)
    }
}

// ------------------------------------------------------------------ CLOSED and LISTEN

#[test]
fn closed_port_answers_with_reset() {
    let mut t = T::new(plain());
    // No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    let out = t.send(S::new(100, 0, SYN).data(b"abc"));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (0, 104, fl(&[RST, ACK]).0)
    );
    assert_eq!((out[0].sport, out[0].dport), (PORT, PEER_PORT));
    // ACK: <SEQ=SEG.ACK><CTL=RST>.
    let out = t.send(S::new(100, 5555, ACK));
    assert_eq!((out[0].seq, out[0].flags), (5555, RST.0));
    // A reset is never answered.
    assert!(t.send(S::new(100, 5555, RST)).is_empty());
    assert_eq!(t.s.tcp_stats().resets_sent, 2);
}

#[test]
fn bad_checksum_and_broadcast_segments_are_dropped() {
    let mut t = T::new(plain());
    let mut f = S::new(100, 0, SYN).frame();
    let n = f.len();
    f[n - 1] ^= 0xff; // in the padding? no: make sure it hits the TCP header
    f[14 + 20 + 4] ^= 0x01;
    t.s.handle_frame(t.now, IF0, &f);
    assert!(sent_tcp(&mut t.s).is_empty());
    assert_eq!(t.s.tcp_stats().bad_checksum, 1);
}

#[test]
fn listener_answers_syn_and_resets_stray_ack() {
    let mut t = T::new(Config::default());
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    assert_eq!(t.state(l), Some(TcpState::Listen));
    // ACK to a listener: reset.
    let out = t.send(S::new(1, 777, ACK));
    assert_eq!((out[0].seq, out[0].flags), (777, RST.0));
    // RST to a listener: ignored.
    assert!(t.send(S::new(1, 0, RST)).is_empty());
    // SYN with every option: SYN-ACK with MSS, SACK-permitted, timestamps, window scale.
    let out = t.send(S::new(1000, 0, SYN).mss(1400).ws(7).sack_ok().ts(5, 0));
    assert_eq!(out.len(), 1);
    let sa = &out[0];
    assert_eq!(sa.flags, fl(&[SYN, ACK]).0);
    assert_eq!(sa.ack, 1001);
    assert_eq!(sa.mss, Some(1460));
    assert_eq!(sa.ws, Some(1), "64 KiB buffer needs a shift of 1");
    assert!(sa.sack_permitted);
    assert_eq!(sa.ts.map(|t| t.1), Some(5), "TSecr echoes the SYN's TSval");
    assert_eq!(sa.window, 65535);
    // The same SYN again (retransmitted): the SYN-ACK again, same ISS.
    let again = t.send(S::new(1000, 0, SYN).mss(1400).ws(7).sack_ok().ts(6, 0));
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].seq, again[0].flags), (sa.seq, sa.flags));
}

#[test]
fn accept_ready_says_whether_an_established_connection_waits() {
    let mut t = T::new(plain());
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    assert_eq!(t.s.tcp_accept_ready(l), Some(false));
    let out = t.send(S::new(1000, 0, SYN));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        t.s.tcp_accept_ready(l),
        Some(false),
        "half-open: nothing to accept yet"
    );
    t.send(S::new(1001, out[0].seq.wrapping_add(1), ACK));
    assert_eq!(t.s.tcp_accept_ready(l), Some(true));
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(t.s.tcp_accept_ready(l), Some(false), "taken");
    assert_eq!(t.s.tcp_accept_ready(h), None, "not a listener");
}

#[test]
fn options_are_only_used_when_both_sides_offer_them() {
    let mut t = T::new(Config::default());
    t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    // A SYN with none of them (and no MSS: 536 is assumed).
    let out = t.send(S::new(1000, 0, SYN));
    let sa = &out[0];
    assert_eq!((sa.ws, sa.sack_permitted, sa.ts), (None, false, None));
    assert_eq!(sa.mss, Some(1460));
    t.send(S::new(1001, sa.seq + 1, ACK));
    let l = TcpHandle(0);
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!(info.send_mss, 536, "default MSS [RFC 9293 § 3.7.1]");
    assert!(!info.window_scaling && !info.sack && !info.timestamps);
    // Sending 2000 bytes: segments of at most 536.
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[7u8; 2000]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert!(out.iter().all(|s| s.payload.len() <= 536));
    assert_eq!(out[0].payload.len(), 536);
}

/// RFC 9293 § 3.1 (MUST-68): an option of unknown kind is skipped by its length, and the
/// options after it are still read: here an MSS of 1000 placed after an unknown kind 99. The
/// connection sends segments of at most 1000 octets.
#[test]
fn unknown_options_are_ignored() {
    let mut t = T::new(plain());
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    let opts = [
        TcpOption::Unknown {
            kind: 99,
            data: &[1, 2, 3],
        },
        TcpOption::MaximumSegmentSize(1000),
    ];
    let mut ob = [0u8; 40];
    let olen = TcpOption::write_all(&opts, &mut ob).unwrap();
    let h = TcpHeader {
        options: TcpOptions::raw(&ob[..olen]),
        ..TcpHeader::new(PEER_PORT, PORT, 1000, 0, SYN, 65535)
    };
    let mut buf = vec![0u8; 20 + olen];
    h.emit(PEER, HOST, &[], &mut buf).unwrap();
    t.s.handle_frame(t.now, IF0, &testing::from_peer(HOST, IpProtocol::TCP, &buf));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].flags), (1001, fl(&[SYN, ACK]).0));
    let iss = out[0].seq;
    assert!(t.send(S::new(1001, iss + 1, ACK)).is_empty());
    let (c, _) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(t.s.tcp_info(c).unwrap().send_mss, 1000);
    t.s.tcp_set_nodelay(c, true).unwrap();
    t.s.tcp_send(t.now, c, &[7u8; 2500]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        out.iter().map(|s| s.payload.len()).collect::<Vec<_>>(),
        [1000, 1000, 500]
    );
}

#[test]
fn syn_flood_costs_bounded_memory_and_evicts_the_oldest() {
    let mut c = plain();
    c.tcp.max_syn_backlog = 4;
    let mut t = T::new(c);
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    let from = |port: u16, seg: S| S { sport: port, ..seg };
    // 100 SYNs from ports 10000..10099, the SYN-ACK of each remembered (its ISS).
    let mut iss = Vec::new();
    for i in 0..100u16 {
        let out = t.send(from(10_000 + i, S::new(u32::from(i) * 1000, 0, SYN)));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].flags, fl(&[SYN, ACK]).0);
        iss.push(out[0].seq);
    }
    assert_eq!(t.s.tcp_connection_count(), 4);
    assert_eq!(t.s.tcp_stats().syn_queue_evictions, 96);
    // The final ACK of the handshake from port 10000 + i.
    let ack = |i: u16| {
        let seq = u32::from(i) * 1000 + 1;
        from(10_000 + i, S::new(seq, iss[usize::from(i)] + 1, ACK))
    };
    // The oldest half-open connections were evicted: their (correct) ACKs find only the
    // listener, which answers an ACK with a reset <SEQ=SEG.ACK><CTL=RST>.
    for i in [0u16, 1, 95] {
        let out = t.send(ack(i));
        assert_eq!(out.len(), 1, "port {}: {out:?}", 10_000 + i);
        assert_eq!(
            (out[0].dport, out[0].seq, out[0].flags),
            (10_000 + i, iss[usize::from(i)] + 1, RST.0)
        );
    }
    assert!(t.s.tcp_accept(l).unwrap().is_none());
    // The four newest survived: each handshake completes and is accepted.
    for i in 96..100u16 {
        assert!(t.send(ack(i)).is_empty());
        let (h, remote) = t.s.tcp_accept(l).unwrap().unwrap();
        assert_eq!(remote.port(), 10_000 + i);
        assert_eq!(t.state(h), Some(TcpState::Established));
    }
    assert_eq!(t.s.tcp_stats().syn_queue_evictions, 96);
}

/// While the accept queue is full, new SYNs are dropped and the ACK completing a handshake
/// already under way is ignored (counted in `syn_dropped`): the connection stays in
/// SYN-RECEIVED, retransmits its SYN-ACK, and completes once the application has accepted
/// (see the module docs).
#[test]
fn full_accept_queue_holds_the_handshake() {
    let mut t = T::new(plain());
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 1).unwrap();
    let from = |port: u16, seg: S| S { sport: port, ..seg };
    // Two handshakes under way; the first completes and fills the queue (backlog 1).
    let sa1 = t.send(from(1111, S::new(1, 0, SYN)))[0].clone();
    let sa2 = t.send(from(2222, S::new(500, 0, SYN)))[0].clone();
    assert_eq!(
        (sa1.flags, sa2.flags),
        (fl(&[SYN, ACK]).0, fl(&[SYN, ACK]).0)
    );
    assert!(t.send(from(1111, S::new(2, sa1.seq + 1, ACK))).is_empty());
    assert_eq!(t.events(), vec![Event::TcpIncoming(l)]);
    // A new SYN is dropped.
    assert!(t.send(from(3333, S::new(50, 0, SYN))).is_empty());
    assert_eq!(t.s.tcp_stats().syn_dropped, 1);
    // The second handshake's ACK is held: no answer, the connection stays half-open.
    let second =
        *t.s.tcp
            .by_tuple
            .get(&(SocketAddrV4::new(HOST, PORT), SocketAddrV4::new(PEER, 2222)))
            .unwrap();
    assert!(t.send(from(2222, S::new(501, sa2.seq + 1, ACK))).is_empty());
    assert_eq!(t.s.tcp_stats().syn_dropped, 2);
    assert_eq!(t.state(second), Some(TcpState::SynReceived));
    assert!(t.events().is_empty());
    // The application accepts the first: the queue has room again.
    let (first, remote) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(
        (remote.port(), t.state(first)),
        (1111, Some(TcpState::Established))
    );
    assert!(t.s.tcp_accept(l).unwrap().is_none());
    // The second connection's SYN-ACK is retransmitted after its RTO (1 s); the peer's ACK
    // for it completes the handshake.
    let out = t.advance(Duration::from_millis(1001));
    assert_eq!(
        out.iter()
            .map(|s| (s.dport, s.seq, s.flags))
            .collect::<Vec<_>>(),
        [(2222, sa2.seq, fl(&[SYN, ACK]).0)]
    );
    assert!(t.send(from(2222, S::new(501, sa2.seq + 1, ACK))).is_empty());
    assert_eq!(t.state(second), Some(TcpState::Established));
    assert_eq!(t.events(), vec![Event::TcpIncoming(l)]);
    assert_eq!(
        t.s.tcp_accept(l).unwrap(),
        Some((second, SocketAddrV4::new(PEER, 2222)))
    );
    assert_eq!(t.s.tcp_stats().syn_dropped, 2);
}

/// The half-open connection of a listener on :80 for the peer's SYN at 1000 (plain config):
/// (listener, connection, ISS).
fn half_open(t: &mut T) -> (TcpHandle, TcpHandle, u32) {
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
    let out = t.send(S::new(1000, 0, SYN).mss(1460));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].flags), (1001, fl(&[SYN, ACK]).0));
    let h =
        *t.s.tcp
            .by_tuple
            .get(&(
                SocketAddrV4::new(HOST, PORT),
                SocketAddrV4::new(PEER, PEER_PORT),
            ))
            .unwrap();
    assert_eq!(t.state(h), Some(TcpState::SynReceived));
    (l, h, out[0].seq)
}

/// RFC 9293 § 3.10.7.4, fifth check, SYN-RECEIVED: an ACK outside SND.UNA < SEG.ACK =<
/// SND.NXT (here SND.UNA = ISS, SND.NXT = ISS + 1) is answered with <SEQ=SEG.ACK><CTL=RST>
/// and the connection stays in SYN-RECEIVED; the right ACK still completes the handshake.
#[test]
fn syn_received_answers_an_unacceptable_ack_with_a_reset() {
    let mut t = T::new(plain());
    let (l, h, iss) = half_open(&mut t);
    for bad in [
        iss,
        iss.wrapping_add(2),
        iss.wrapping_sub(1000),
        iss.wrapping_add(70_000),
    ] {
        let out = t.send(S::new(1001, bad, ACK));
        assert_eq!(out.len(), 1, "ACK {bad}: {out:?}");
        assert_eq!(
            (out[0].seq, out[0].flags, out[0].sport, out[0].dport),
            (bad, RST.0, PORT, PEER_PORT),
            "ACK {bad}"
        );
        assert_eq!(t.state(h), Some(TcpState::SynReceived), "ACK {bad}");
    }
    assert_eq!(t.s.tcp_stats().resets_sent, 4);
    assert!(t.events().is_empty());
    assert!(t.s.tcp_accept(l).unwrap().is_none());
    assert!(t.send(S::new(1001, iss + 1, ACK)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::Established));
    assert_eq!(t.events(), vec![Event::TcpIncoming(l)]);
}

/// A passive open whose SYN-ACK is never answered: retransmitted after the RTO, 1 s at first
/// [RFC 6298 § 2.1] and doubled each time [§ 5.5], so at 1, 3 and 7 s; with `syn_retries` = 3
/// the next expiry (15 s) drops the half-open connection. Nothing is reported (the
/// application never saw it), nothing is left, and the listener goes on: the peer's late ACK
/// finds no connection and is answered by the listener with <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn a_half_open_connection_is_dropped_when_its_syn_ack_retries_run_out() {
    let mut c = plain();
    c.tcp.syn_retries = 3;
    let mut t = T::new(c);
    let t0 = t.now;
    let (l, h, iss) = half_open(&mut t);
    let mut at = Vec::new();
    while let Some(deadline) = t.s.poll_timeout() {
        if deadline.saturating_duration_since(t0) > Duration::from_secs(3600) {
            break;
        }
        t.now = deadline;
        t.s.handle_timeout(deadline);
        for s in sent_tcp(&mut t.s) {
            assert_eq!((s.seq, s.ack, s.flags), (iss, 1001, fl(&[SYN, ACK]).0));
            at.push(t.now.saturating_duration_since(t0));
        }
        if t.state(h).is_none() {
            break;
        }
    }
    let secs = Duration::from_secs;
    assert_eq!(at, vec![secs(1), secs(3), secs(7)]);
    assert_eq!(t.now.saturating_duration_since(t0), secs(15));
    assert_eq!(t.state(h), None);
    assert_eq!(t.s.tcp_connection_count(), 0);
    assert!(t.events().is_empty());
    assert_eq!(t.state(l), Some(TcpState::Listen));
    assert!(t.s.tcp_accept(l).unwrap().is_none());
    let out = t.send(S::new(1001, iss + 1, ACK));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].seq, out[0].flags), (iss + 1, RST.0));
    // A new SYN on the same tuple starts a new handshake.
    let out = t.send(S::new(5000, 0, SYN));
    assert_eq!((out[0].ack, out[0].flags), (5001, fl(&[SYN, ACK]).0));
}

// ------------------------------------------------------------------ SYN-SENT

fn connect(t: &mut T) -> (TcpHandle, S) {
    let h =
        t.s.tcp_connect_from(
            t.now,
            SocketAddrV4::new(HOST, PORT),
            SocketAddrV4::new(PEER, PEER_PORT),
        )
        .unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].flags, SYN.0);
    assert_eq!(t.state(h), Some(TcpState::SynSent));
    (h, out[0].clone())
}

#[test]
fn active_open() {
    let mut t = T::new(Config::default());
    let (h, syn) = connect(&mut t);
    assert_eq!(syn.mss, Some(1460));
    assert_eq!(syn.ws, Some(1));
    assert!(syn.sack_permitted);
    assert_eq!(syn.ts.map(|t| t.1), Some(0));
    let out = t.send(
        S::new(9000, syn.seq + 1, fl(&[SYN, ACK]))
            .mss(1000)
            .ws(2)
            .sack_ok()
            .ts(77, syn.ts.unwrap().0),
    );
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (syn.seq + 1, 9001, ACK.0)
    );
    assert_eq!(out[0].ts.map(|t| t.1), Some(77));
    assert_eq!(t.state(h), Some(TcpState::Established));
    assert_eq!(t.events(), vec![Event::TcpConnected(h)]);
    let info = t.s.tcp_info(h).unwrap();
    assert!(info.window_scaling && info.sack && info.timestamps);
    assert_eq!(info.send_mss, 1000 - 12);
    assert_eq!(
        info.send_window, 65535,
        "the SYN-ACK's window is not scaled"
    );
}

#[test]
fn syn_sent_rejects_bad_acks_and_takes_resets_only_with_a_good_ack() {
    let mut t = T::new(plain());
    let (h, syn) = connect(&mut t);
    // Unacceptable ACK: reset <SEQ=SEG.ACK>, stay.
    let out = t.send(S::new(5, syn.seq.wrapping_add(100), fl(&[SYN, ACK])));
    assert_eq!(
        (out[0].seq, out[0].flags),
        (syn.seq.wrapping_add(100), RST.0)
    );
    assert_eq!(t.state(h), Some(TcpState::SynSent));
    // RST without ACK: ignored.
    assert!(t.send(S::new(5, 0, RST)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::SynSent));
    // RST acknowledging the SYN: refused.
    t.send(S::new(0, syn.seq + 1, fl(&[RST, ACK])));
    assert_eq!(t.state(h), Some(TcpState::Closed));
    let ev = t.events();
    assert!(ev.contains(&Event::TcpError {
        handle: h,
        error: TcpError::Refused
    }));
    assert!(ev.contains(&Event::TcpClosed(h)));
    t.s.tcp_close(t.now, h).unwrap();
    assert_eq!(t.s.tcp_connection_count(), 0);
}

/// With a retry count of 3 the SYN still goes on for 3 minutes (MUST-23): the RTO starts at
/// 1 s [RFC 6298 § 2.1] and doubles at each expiry [§ 5.5] up to the 60 s bound [§ 2.5], so
/// SYNs go at 1, 3, 7, 15, 31, 63 and 123 s, and the open fails at the first expiry past
/// 3 minutes (183 s), sending nothing then.
#[test]
fn syn_is_retransmitted_with_backoff_then_times_out() {
    let mut c = plain();
    c.tcp.syn_retries = 3;
    let mut t = T::new(c);
    let (h, syn) = connect(&mut t);
    let start = t.now;
    let mut times = Vec::new();
    while t.state(h) == Some(TcpState::SynSent) {
        let deadline = t.s.poll_timeout().unwrap();
        assert!(deadline.saturating_duration_since(start) < Duration::from_secs(600));
        t.now = deadline;
        t.s.handle_timeout(deadline);
        for s in sent_tcp(&mut t.s) {
            assert_eq!((s.seq, s.flags), (syn.seq, SYN.0));
            times.push(t.now.saturating_duration_since(start).as_micros() / 1_000_000);
        }
    }
    assert_eq!(times, vec![1, 3, 7, 15, 31, 63, 123]);
    assert_eq!(
        t.now.saturating_duration_since(start),
        Duration::from_secs(183)
    );
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

/// RFC 9293 § 3.8.3 MUST-23 / RFC 1122 § 4.2.3.5: a SYN is retransmitted for at least three
/// minutes before the open is given up; with the default configuration it used to give up
/// after 6 retransmissions, at 123 s.
#[test]
fn syn_sent_lasts_at_least_three_minutes_then_times_out() {
    let mut t = T::new(plain());
    let (h, syn) = connect(&mut t);
    let start = t.now;
    let mut last_syn = start;
    while t.now.saturating_duration_since(start) < Duration::from_secs(179) {
        for s in t.advance(Duration::from_secs(1)) {
            assert_eq!((s.seq, s.flags), (syn.seq, SYN.0));
            last_syn = t.now;
        }
        assert_eq!(
            t.state(h),
            Some(TcpState::SynSent),
            "gave up before 3 minutes"
        );
    }
    assert!(
        last_syn.saturating_duration_since(start) >= Duration::from_secs(120),
        "SYNs stopped early"
    );
    assert!(!t
        .events()
        .iter()
        .any(|e| matches!(e, Event::TcpError { .. })));
    let _ = t.advance(Duration::from_secs(60));
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

#[test]
fn syn_retransmission_times_follow_the_backoff() {
    let mut t = T::new(plain());
    let (_h, _) = connect(&mut t);
    let t0 = t.now;
    let mut at = Vec::new();
    for _ in 0..3 {
        let deadline = t.s.poll_timeout().unwrap();
        t.now = deadline;
        t.s.handle_timeout(deadline);
        assert_eq!(sent_tcp(&mut t.s).len(), 1);
        at.push((deadline.as_micros() - t0.as_micros()) / 1000);
    }
    assert_eq!(
        at,
        vec![1000, 3000, 7000],
        "1 s, then doubled [RFC 6298 § 5.5]"
    );
}

/// RFC 6528 § 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), the key
/// drawn from the configuration seed. Two stacks with the same seed give the same tuple at the
/// same instant the same ISN (the stack is deterministic); another seed, another key, another
/// ISN, for the SYN of an active open and the SYN-ACK of a passive one alike.
#[test]
fn the_isn_is_keyed_from_the_configuration_seed() {
    let active = |seed: u64| {
        let mut t = T::new(plain().with_seed(seed));
        connect(&mut t).1.seq
    };
    let passive = |seed: u64| {
        let mut t = T::new(plain().with_seed(seed));
        t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 4).unwrap();
        let out = t.send(S::new(1000, 0, SYN));
        assert_eq!(out[0].flags, fl(&[SYN, ACK]).0);
        out[0].seq
    };
    for isn in [active, passive] {
        assert_eq!(isn(1), isn(1), "same seed, tuple and time");
        assert_eq!(isn(0x5eed), isn(0x5eed));
        let (a, b, c) = (isn(1), isn(2), isn(0x5eed));
        assert!(
            a != b && b != c && a != c,
            "{a} {b} {c}: the key ignores the seed"
        );
    }
}

#[test]
fn simultaneous_open() {
    // RFC 9293 figure 7, with the target on the left.
    let mut t = T::new(plain());
    let (h, syn) = connect(&mut t);
    // Line 3: the peer's SYN crosses ours; line 5: our SYN,ACK, with our ISN again.
    let out = t.send(S::new(3000, 0, SYN).mss(1460));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (syn.seq, 3001, fl(&[SYN, ACK]).0)
    );
    assert_eq!(t.state(h), Some(TcpState::SynReceived));
    assert_eq!(t.events(), vec![]);
    // Line 6: the peer's SYN,ACK for our SYN. Its SYN is old, its ACK completes the
    // handshake: ESTABLISHED, and the old SYN acknowledged once (not a challenge ACK).
    let out = t.send(S::new(3000, syn.seq + 1, fl(&[SYN, ACK])).mss(1460));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (syn.seq + 1, 3001, ACK.0)
    );
    assert_eq!(t.state(h), Some(TcpState::Established));
    assert!(t.events().contains(&Event::TcpConnected(h)));
    let stats = t.s.tcp_stats();
    assert_eq!(stats.challenge_acks + stats.challenge_acks_suppressed, 0);
    // Line 7 crosses: our SYN,ACK reaches the peer, which is ESTABLISHED and sends data.
    let out = t.send(S::new(3001, syn.seq + 1, fl(&[ACK, PSH])).data(b"hi"));
    assert!(out.iter().all(|s| s.flags == ACK.0), "{out:?}");
    let mut buf = [0u8; 8];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(2));
    // And ours flows.
    t.s.tcp_send(t.now, h, b"ok").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].payload.as_slice()),
        (syn.seq + 1, &b"ok"[..])
    );
}

/// Not the crossing SYN,ACK: in SYN-RECEIVED, a SYN,ACK at the IRS whose ACK is not ISS + 1
/// stays unacceptable (RFC 9293 § 3.10.7.4) and completes nothing.
#[test]
fn simultaneous_open_takes_only_the_exact_crossing_syn_ack() {
    for ack_off in [2u32, 0] {
        let mut t = T::new(plain());
        let (h, syn) = connect(&mut t);
        t.send(S::new(3000, 0, SYN).mss(1460));
        let out = t.send(S::new(3000, syn.seq + ack_off, fl(&[SYN, ACK])));
        assert_eq!(t.state(h), Some(TcpState::SynReceived), "ack +{ack_off}");
        assert!(!out.is_empty(), "ack +{ack_off}: answered");
        assert!(!t.events().contains(&Event::TcpConnected(h)));
    }
}

// ------------------------------------------------------------------ ESTABLISHED: data

#[test]
fn data_is_delivered_and_acked_every_second_segment_or_after_the_delay() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let out = t.send(S::new(1001, iss + 1, ACK).data(&[1u8; 1460]));
    assert!(out.is_empty(), "one full segment: the ACK is delayed");
    assert_eq!(t.events(), vec![Event::TcpReadable(h)]);
    let out = t.send(S::new(2461, iss + 1, ACK).data(&[2u8; 1460]));
    assert_eq!(out.len(), 1, "the second full segment is ACKed at once");
    assert_eq!((out[0].ack, out[0].flags), (3921, ACK.0));
    let out = t.send(S::new(3921, iss + 1, fl(&[ACK, PSH])).data(b"xyz"));
    assert!(out.is_empty());
    let out = t.advance(Duration::from_millis(199));
    assert!(out.is_empty());
    let out = t.advance(Duration::from_millis(2));
    assert_eq!(out.len(), 1, "delayed ACK after 200 ms");
    assert_eq!(out[0].ack, 3924);
    let mut buf = vec![0u8; 5000];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(2923));
    assert_eq!(&buf[2920..2923], b"xyz");
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut buf),
        Err(StackError::WouldBlock)
    );
}

/// RFC 9293 § 3.8.6.3 MUST-40: the ACK delay must be less than 0.5 s. A configured delay
/// of 2 s is cut below it.
#[test]
fn a_long_ack_delay_is_cut_below_half_a_second() {
    let mut c = plain();
    c.tcp.ack_delay = Duration::from_secs(2);
    let mut t = T::new(c);
    assert!(t.s.config().tcp.ack_delay < Duration::from_millis(500));
    let (h, iss) = t.established(1000);
    let out = t.send(S::new(1001, iss + 1, fl(&[ACK, PSH])).data(b"abc"));
    assert!(out.is_empty(), "a small segment: the ACK is delayed");
    assert_eq!(t.events(), vec![Event::TcpReadable(h)]);
    let out = t.advance(Duration::from_micros(499_999));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].flags), (1004, ACK.0));
}

#[test]
fn the_input_fast_path_checks_what_the_general_path_checks() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    // In-order data on the connection (the fast path once the addresses were seen).
    assert!(t.send(S::new(1001, iss + 1, ACK).data(b"ab")).is_empty());
    assert!(t.send(S::new(1003, iss + 1, ACK).data(b"cd")).is_empty());
    // A bad TCP checksum is still counted and dropped.
    let mut f = S::new(1005, iss + 1, ACK).data(b"ef").frame();
    f[14 + 20 + 16] ^= 0x01;
    t.s.handle_frame(t.now, IF0, &f);
    assert_eq!(t.s.tcp_stats().bad_checksum, 1);
    // A bad IP header checksum too.
    let mut f = S::new(1005, iss + 1, ACK).data(b"ef").frame();
    f[14 + 10] ^= 0x01;
    t.s.handle_frame(t.now, IF0, &f);
    assert_eq!(t.s.stats().ip_checksum_errors, 1);
    let mut buf = [0u8; 16];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"abcd");
    // Our address changes to the peer's: its datagrams now carry our own address as the
    // source, spoofed, and are discarded [RFC 1122 § 3.2.1.3] — not delivered from what
    // the fast path remembered of the old addresses.
    let martians = t.s.stats().ip_martians;
    assert!(t.send(S::new(1005, iss + 1, ACK).data(b"ef")).is_empty());
    t.s.set_address(t.now, IF0, crate::Ipv4Cidr::new(PEER, 24))
        .unwrap();
    assert!(t.send(S::new(1007, iss + 1, ACK).data(b"gh")).is_empty());
    assert_eq!(t.s.stats().ip_martians, martians + 1);
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(2));
    assert_eq!(&buf[..2], b"ef");
}

#[test]
fn the_link_layer_fast_path_takes_only_what_the_general_dispatch_would_deliver() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    assert!(t.send(S::new(1001, iss + 1, ACK).data(b"ab")).is_empty());
    let dropped = t.s.stats().frames_dropped;
    // From a group source address [IEEE 802.3 § 3.2.3 (b)]: dropped.
    let mut f = S::new(1003, iss + 1, ACK).data(b"xx").frame();
    f[6] |= 0x01;
    t.s.handle_frame(t.now, IF0, &f);
    // To another station's address: dropped.
    let mut f = S::new(1003, iss + 1, ACK).data(b"xx").frame();
    f[5] ^= 0x01;
    t.s.handle_frame(t.now, IF0, &f);
    // With an 802.1Q tag between the addresses and the IPv4 type: dropped (VLANs are not
    // modelled).
    let f = S::new(1003, iss + 1, ACK).data(b"xx").frame();
    let tagged = [&f[..12], &[0x81, 0x00, 0x00, 0x05], &f[12..]].concat();
    t.s.handle_frame(t.now, IF0, &tagged);
    assert_eq!(t.s.stats().frames_dropped, dropped + 3);
    // To the broadcast address: the general dispatch takes it to IP, which does not hand a
    // link-layer broadcast to TCP [RFC 1122 § 3.3.6].
    let mut f = S::new(1003, iss + 1, ACK).data(b"xx").frame();
    f[..6].fill(0xff);
    t.s.handle_frame(t.now, IF0, &f);
    assert!(t.send(S::new(1003, iss + 1, ACK).data(b"cd")).is_empty());
    let mut buf = [0u8; 16];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"abcd");
}

#[test]
fn after_the_quick_acks_a_batch_of_segments_handed_in_before_a_poll_gets_one_ack() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let mut buf = vec![0u8; 64 * 1024];
    assert_eq!(t.s.config().tcp.receive_buffer, 64 * 1024);
    let mut seq = 1001u32;
    // Hands in `count` full segments from `seq` on without polling; returns the next seq.
    let batch = |t: &mut T, seq: &mut u32, count: u32| {
        for i in 0..count {
            let frame = S::new(*seq, iss + 1, ACK).data(&[i as u8; 1460]).frame();
            t.s.handle_frame(t.now, IF0, &frame);
            *seq += 1460;
        }
        *seq
    };
    // Reads everything; the window update that follows is an ACK of nothing new.
    let read_all = |t: &mut T, buf: &mut [u8], n: u32| {
        assert_eq!(t.s.tcp_recv(t.now, h, buf), Ok(n as usize * 1460));
        let update = sent_tcp(&mut t.s);
        assert_eq!(update.len(), 1, "a window update: {update:?}");
    };
    // The start of the connection: every second segment is ACKed at once, 16 times.
    for n in 0..16 {
        batch(&mut t, &mut seq, 1);
        assert!(
            sent_tcp(&mut t.s).is_empty(),
            "quick ACK {n}: the first of two"
        );
        let end = batch(&mut t, &mut seq, 1);
        let out = sent_tcp(&mut t.s);
        assert_eq!(out.len(), 1, "quick ACK {n}: {out:?}");
        assert_eq!(out[0].ack, end);
    }
    read_all(&mut t, &mut buf, 32);
    // Then a batch gets one ACK, when the driver polls, and one readable event.
    t.events();
    let end = batch(&mut t, &mut seq, 40);
    assert_eq!(t.events(), vec![Event::TcpReadable(h)]);
    // The ACK is due now: a driver that only looks at timeouts is told to come back at once.
    assert_eq!(t.s.poll_timeout(), Some(t.now));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "one ACK for the batch: {out:?}");
    assert_eq!((out[0].ack, out[0].flags), (end, ACK.0));
    assert!(sent_tcp(&mut t.s).is_empty(), "and nothing more");
    assert_ne!(t.s.poll_timeout(), Some(t.now));
    read_all(&mut t, &mut buf, 40);
    // The same through the timeout path.
    let end = batch(&mut t, &mut seq, 40);
    t.s.handle_timeout(t.now);
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].ack, end);
    read_all(&mut t, &mut buf, 40);
    // A small batch (a small flight): its ACK, then quick ACKs again.
    batch(&mut t, &mut seq, 4);
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    batch(&mut t, &mut seq, 4);
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 2, "quick ACKs after a small batch: {out:?}");
    read_all(&mut t, &mut buf, 8);
    // Out-of-order data is ACKed at once (and quick ACKs start again).
    let hole = seq;
    seq += 1460;
    batch(&mut t, &mut seq, 1);
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "duplicate ACK at once");
    assert_eq!(out[0].ack, hole);
    let frame = S::new(hole, iss + 1, ACK).data(&[9u8; 1460]).frame();
    t.s.handle_frame(t.now, IF0, &frame);
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "the hole filled: ACK at once");
    assert_eq!(out[0].ack, seq);
}

#[test]
fn out_of_order_data_is_acked_at_once_and_reassembled() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let out = t.send(S::new(1011, iss + 1, ACK).data(b"klmnopqrst"));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, 1001, "duplicate ACK for the hole");
    let out = t.send(S::new(1001, iss + 1, ACK).data(b"abcdefghij"));
    assert_eq!(out[0].ack, 1021, "filling the hole is ACKed at once");
    let mut buf = [0u8; 64];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(20));
    assert_eq!(&buf[..20], b"abcdefghijklmnopqrst");
}

#[test]
fn acceptability_across_sequence_wraparound() {
    let mut t = T::new(plain());
    let irs = u32::MAX - 5;
    let (h, iss) = t.established(irs);
    // Data from 2³² − 4 to 5, across the wrap.
    let data: Vec<u8> = (0..10).collect();
    t.send(S::new(irs.wrapping_add(1), iss + 1, ACK).data(&data));
    t.send(S::new(irs.wrapping_add(11), iss + 1, ACK).data(&data));
    let mut buf = [0u8; 64];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(20));
    // Old data (before RCV.NXT, across the wrap): duplicate, ACKed, not delivered.
    let out = t.send(S::new(irs.wrapping_add(1), iss + 1, ACK).data(&data));
    assert_eq!(out[0].ack, irs.wrapping_add(21));
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut buf),
        Err(StackError::WouldBlock)
    );
    // Beyond the window: not acceptable, ACKed.
    let out = t.send(S::new(irs.wrapping_add(21 + 70_000), iss + 1, ACK).data(b"x"));
    assert_eq!(out[0].ack, irs.wrapping_add(21));
    assert_eq!(t.s.tcp_stats().out_of_window, 2);
    // Overlapping the left edge: the new part is taken.
    t.send(S::new(irs.wrapping_add(16), iss + 1, ACK).data(&data));
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(5));
    assert_eq!(&buf[..5], &data[5..]);
}

#[test]
fn sending_data_and_retransmission_with_karn_and_backoff() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    assert_eq!(t.s.tcp_send(t.now, h, b"hello"), Ok(5));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].flags, &out[0].payload[..]),
        (iss + 1, fl(&[ACK, PSH]).0, &b"hello"[..])
    );
    // RTO 1 s (no sample yet beyond the handshake's... the handshake gave one of 0 s).
    let rto = t.s.tcp_info(h).unwrap().rto;
    assert_eq!(rto, Duration::from_secs(1), "min RTO");
    let out = t.advance(Duration::from_millis(1001));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, b"hello");
    assert_eq!(t.s.tcp_info(h).unwrap().rto, Duration::from_secs(2));
    let out = t.advance(Duration::from_millis(2001));
    assert_eq!(out.len(), 1);
    // ACK: retransmission stops.
    t.send(S::new(1001, iss + 6, ACK));
    assert!(t.advance(Duration::from_secs(10)).is_empty());
    assert_eq!(t.s.tcp_stats().timeouts, 2);
}

/// Karn's rule [RFC 6298 § 3]: the ACK of a retransmitted segment gives no RTT sample (it is
/// ambiguous which transmission it answers), and the backed-off RTO is kept until a segment
/// sent once is acknowledged [§ 5, note after (5.7)]; that one gives a sample (§ 2.3) and the
/// RTO collapses. Timestamps are off, so only the timed segment can give samples. The
/// expected values are those of the RFC 6298 § 2 formulas (G of 1 ms, RTO floor 200 ms
/// here).
#[test]
fn karn_no_rtt_sample_from_a_retransmitted_segment() {
    let ms = Duration::from_millis;
    let mut c = plain();
    c.tcp.min_rto = ms(200);
    let mut t = T::new(c);
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
    // The handshake takes 100 ms: R = 100 ms, SRTT = R, RTTVAR = R/2 (2.2), RTO =
    // SRTT + 4·RTTVAR = 300 ms.
    let out = t.send(S::new(1000, 0, SYN).mss(1460));
    let iss = out[0].seq;
    t.now += ms(100);
    assert!(t.send(S::new(1001, iss + 1, ACK)).is_empty());
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!((info.srtt, info.rto), (Some(ms(100)), ms(300)));
    // "hello" is lost: retransmitted after one RTO, and the RTO doubles (5.5).
    t.s.tcp_send(t.now, h, b"hello").unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    let out = t.advance(ms(300));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].seq, &out[0].payload[..]), (iss + 1, &b"hello"[..]));
    assert_eq!(t.s.tcp_info(h).unwrap().rto, ms(600));
    // Its ACK 150 ms later (450 ms after the first transmission): no sample, SRTT is still
    // 100 ms and the RTO stays backed off.
    assert!(t.advance(ms(150)).is_empty());
    assert!(t.send(S::new(1001, iss + 6, ACK)).is_empty());
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!((info.srtt, info.rto), (Some(ms(100)), ms(600)), "{info:?}");
    // A fresh segment acknowledged after 300 ms is a sample R = 300 ms (2.3):
    // RTTVAR = 3/4·50 + 1/4·|100 − 300| = 87.5 ms, SRTT = 7/8·100 + 1/8·300 = 125 ms,
    // RTO = 125 + 4·87.5 = 475 ms.
    t.s.tcp_send(t.now, h, b"world").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out.len(), out[0].seq), (1, iss + 6), "{out:?}");
    t.now += ms(300);
    assert!(t.send(S::new(1001, iss + 11, ACK)).is_empty());
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!(
        (info.srtt, info.rto),
        (Some(ms(125)), Duration::from_micros(475_000))
    );
}

/// A connection with timestamps (no SACK, no window scaling, RTO floor 200 ms) whose
/// handshake took 100 ms, the peer's final ACK echoing our SYN-ACK's TSval: R = 100 ms,
/// SRTT = 100 ms, RTTVAR = 50 ms, RTO = 300 ms [RFC 6298 § 2.2]. Returns (connection, ISS,
/// the peer's next TSval).
fn timestamped_100ms() -> (T, TcpHandle, u32, u32) {
    let ms = Duration::from_millis;
    let mut c = Config::default();
    c.tcp.sack = false;
    c.tcp.window_scaling = false;
    c.tcp.min_rto = ms(200);
    let mut t = T::new(c);
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
    let out = t.send(S::new(1000, 0, SYN).mss(1460).ts(500, 0));
    let (iss, tsval) = (out[0].seq, out[0].ts.unwrap().0);
    t.now += ms(100);
    assert!(t.send(S::new(1001, iss + 1, ACK).ts(600, tsval)).is_empty());
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    let info = t.s.tcp_info(h).unwrap();
    assert!(info.timestamps);
    assert_eq!((info.srtt, info.rto), (Some(ms(100)), ms(300)));
    t.s.tcp_set_nodelay(h, true).unwrap();
    (t, h, iss, 700)
}

/// RFC 7323 § 4.1: every ACK that advances the left edge of the window gives an RTT sample,
/// now − TSecr, not just one timed segment per round trip. Two segments 40 ms apart; the
/// first is acknowledged 100 ms after it went, the second 120 ms after it went, each ACK
/// echoing that segment's TSval. RFC 6298 § 2.3 with R = 100 ms then R' = 120 ms:
/// RTTVAR = 3/4·50 + 1/4·0 = 37.5 ms, SRTT = 100 ms (RTO 250 ms); then RTTVAR =
/// 3/4·37.5 + 1/4·20 = 33.125 ms, SRTT = 7/8·100 + 1/8·120 = 102.5 ms, RTO = 102.5 +
/// 4·33.125 = 235 ms. (Timing one segment at a time, the second segment, sent while the
/// first was being timed, would give no sample: SRTT 100 ms, RTO 250 ms.)
#[test]
fn timestamps_give_an_rtt_sample_for_every_acknowledged_segment() {
    let ms = Duration::from_millis;
    let (mut t, h, iss, peer_ts) = timestamped_100ms();
    t.s.tcp_send(t.now, h, b"a").unwrap();
    let first = sent_tcp(&mut t.s);
    assert_eq!((first.len(), first[0].seq), (1, iss + 1), "{first:?}");
    t.now += ms(40);
    t.s.tcp_send(t.now, h, b"b").unwrap();
    let second = sent_tcp(&mut t.s);
    assert_eq!((second.len(), second[0].seq), (1, iss + 2), "{second:?}");
    let (v1, v2) = (first[0].ts.unwrap().0, second[0].ts.unwrap().0);
    t.now += ms(60);
    assert!(t
        .send(S::new(1001, iss + 2, ACK).ts(peer_ts, v1))
        .is_empty());
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!((info.srtt, info.rto), (Some(ms(100)), ms(250)));
    t.now += ms(60);
    assert!(t
        .send(S::new(1001, iss + 3, ACK).ts(peer_ts + 1, v2))
        .is_empty());
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!(
        (info.srtt, info.rto),
        (Some(Duration::from_micros(102_500)), ms(235)),
        "{info:?}"
    );
}

/// RFC 6298 § 3: samples may be taken from retransmitted segments when the timestamp option
/// is used, since it removes the ambiguity Karn's rule guards against (the ACK echoes the
/// TSval of the transmission that reached the peer). "hello" is lost, retransmitted after
/// the 300 ms RTO (backed off to 600 ms); the ACK, 150 ms after the retransmission, echoes
/// the retransmission's TSval: R = 150 ms, RTTVAR = 3/4·50 + 1/4·50 = 50 ms, SRTT = 7/8·100 +
/// 1/8·150 = 106.25 ms, RTO = 106.25 + 200 = 306.25 ms (§ 2.3: the backed-off value is
/// replaced). Without timestamps (`karn_no_rtt_sample_from_a_retransmitted_segment`)
/// the same ACK gives no sample and the RTO stays at 600 ms.
#[test]
fn timestamps_give_an_rtt_sample_for_a_retransmitted_segment() {
    let ms = Duration::from_millis;
    let (mut t, h, iss, peer_ts) = timestamped_100ms();
    t.s.tcp_send(t.now, h, b"hello").unwrap();
    let first = sent_tcp(&mut t.s);
    assert_eq!(first.len(), 1, "{first:?}");
    let out = t.advance(ms(300));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].seq, &out[0].payload[..]), (iss + 1, &b"hello"[..]));
    assert_eq!(t.s.tcp_info(h).unwrap().rto, ms(600));
    let resent_ts = out[0].ts.unwrap().0;
    assert_ne!(resent_ts, first[0].ts.unwrap().0);
    assert!(t.advance(ms(150)).is_empty());
    assert!(t
        .send(S::new(1001, iss + 6, ACK).ts(peer_ts, resent_ts))
        .is_empty());
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!(
        (info.srtt, info.rto),
        (
            Some(Duration::from_micros(106_250)),
            Duration::from_micros(306_250)
        ),
        "{info:?}"
    );
}

#[test]
fn nagle_holds_small_segments_until_the_ack() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, b"a").unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    t.s.tcp_send(t.now, h, b"b").unwrap();
    t.s.tcp_send(t.now, h, b"c").unwrap();
    assert!(
        sent_tcp(&mut t.s).is_empty(),
        "Nagle: held while data is unacknowledged"
    );
    let out = t.send(S::new(1001, iss + 2, ACK));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, b"bc");
    // No-delay: sent at once.
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, b"d").unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
}

#[test]
fn zero_window_probes_back_off_and_never_time_out_while_answered() {
    let mut c = plain();
    c.tcp.user_timeout = Duration::from_secs(30);
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    t.s.tcp_send(t.now, h, b"blocked").unwrap();
    assert!(sent_tcp(&mut t.s).is_empty(), "zero window: nothing sent");
    let mut probe_times = Vec::new();
    let start = t.now;
    for _ in 0..8 {
        let deadline = t.s.poll_timeout().unwrap();
        t.now = deadline;
        t.s.handle_timeout(deadline);
        let out = sent_tcp(&mut t.s);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].seq, iss + 1, "the probe carries the next new octet");
        assert_eq!(
            out[0].payload, b"b",
            "one octet of new data [RFC 9293 § 3.8.6.1]"
        );
        probe_times.push((t.now.as_micros() - start.as_micros()) / 1_000_000);
        // Answered, window still zero.
        t.send(S::new(1001, iss + 1, ACK).win(0));
    }
    assert_eq!(&probe_times[..5], &[1, 3, 7, 15, 31], "exponential backoff");
    assert!(t.now.as_micros() - start.as_micros() > 60_000_000);
    assert_eq!(
        t.state(h),
        Some(TcpState::Established),
        "no timeout while answered"
    );
    // The window opens: the data goes.
    let out = t.send(S::new(1001, iss + 1, ACK).win(1000));
    assert_eq!(out[0].payload, b"blocked");
}

#[test]
fn a_zero_window_probe_octet_taken_by_the_receiver_is_not_sent_twice() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    t.s.tcp_send(t.now, h, b"blocked").unwrap();
    let deadline = t.s.poll_timeout().unwrap();
    t.now = deadline;
    t.s.handle_timeout(deadline);
    let probe = sent_tcp(&mut t.s);
    assert_eq!(
        (probe[0].seq, probe[0].payload.as_slice()),
        (iss + 1, &b"b"[..])
    );
    // The receiver's window had opened: it takes the octet and acknowledges it.
    let out = t.send(S::new(1001, iss + 2, ACK).win(1000));
    assert_eq!(out.len(), 1, "the rest goes at once: {out:?}");
    assert_eq!(out[0].seq, iss + 2);
    assert_eq!(out[0].payload, b"locked");
    let out = t.send(S::new(1001, iss + 8, ACK).win(1000));
    assert!(out.is_empty());
    assert_eq!(t.state(h), Some(TcpState::Established));
}

/// After a retransmission timeout SND.NXT goes back to SND.UNA to resend; an ACK without
/// data sent meanwhile goes at SND.MAX, where a peer that holds everything sent can take it.
/// (It went at SND.NXT, below the peer's window: the peer dropped it, ACK field and all, and
/// two ends resending after a timeout at the same time never heard each other's ACKs, their
/// resent data being old to the other too, until the user timeout ended both.)
#[test]
fn an_ack_sent_while_resending_after_a_timeout_goes_at_snd_max() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[5u8; 2000]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 1460), (iss + 1461, 540)]
    );
    t.send(S::new(1001, iss + 1, ACK).data(b"hello"));
    // The peer's ACKs are lost: the timer resends the first segment, SND.NXT after it.
    let out = t.advance(Duration::from_millis(1100));
    assert_eq!(
        out.iter()
            .filter(|s| !s.payload.is_empty())
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 1460)]
    );
    // The peer, holding all 2000 octets, resends its own data, old to us: dropped, ACK
    // field and all, and answered with an ACK the peer can take.
    let out = t.send(S::new(1001, iss + 2001, ACK).data(b"hello"));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.ack, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 2001, 1006, 0)]
    );
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 2000);
    // The peer's ACK, at our RCV.NXT, is taken.
    t.send(S::new(1006, iss + 2001, ACK));
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 0);
}

/// A window shut with data outstanding (the peer shrank it to zero), probed for longer than
/// the user timeout with every probe answered, then opened: the data goes again at once,
/// and the user timeout counts from the opening. The time the window was shut is no failure
/// to deliver [RFC 9293 § 3.8.6, SHLD-17: no timeout for data beyond the right window edge;
/// RFC 1122 § 4.2.2.17]. (The octets waited for the backed-off retransmission timer, and the
/// user timeout counted from the last advance of SND.UNA, before the window shut: the first
/// retransmission timeout after the opening ended the connection.)
#[test]
fn a_window_shut_longer_than_the_user_timeout_with_data_outstanding_then_opened() {
    let mut c = plain();
    c.tcp.user_timeout = Duration::from_secs(90);
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, &[7u8; 1000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    // The peer takes nothing and shuts its window: the octets lie beyond its right edge.
    t.send(S::new(1001, iss + 1, ACK).win(0));
    let start = t.now;
    let mut probes = 0;
    while t.now.as_micros() - start.as_micros() < 200_000_000 {
        let deadline = t.s.poll_timeout().unwrap();
        t.now = deadline;
        t.s.handle_timeout(deadline);
        for probe in sent_tcp(&mut t.s) {
            assert_eq!((probe.seq, probe.payload.len()), (iss + 1, 1), "a probe");
            probes += 1;
            t.send(S::new(1001, iss + 1, ACK).win(0));
        }
    }
    assert!(probes >= 7, "{probes}");
    assert_eq!(t.state(h), Some(TcpState::Established));
    // Data from the peer meanwhile is acknowledged at SND.UNA, the peer's RCV.NXT, the
    // only place its shut window takes an ACK (SND.MAX lies beyond the octets it dropped).
    let out = t.send(S::new(1001, iss + 1, ACK).win(0).data(b"x"));
    let out = [out, t.advance(Duration::from_millis(300))].concat();
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.ack, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 1002, 0)]
    );
    // The window opens: the octets go again at once.
    let out = t.send(S::new(1002, iss + 1, ACK).win(5000));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 1000)]
    );
    // Lost: the retransmission timer (backed off to 60 s) sends them again, the connection
    // having waited less than its user timeout since the window opened.
    let out = t.advance(Duration::from_secs(61));
    assert_eq!(t.state(h), Some(TcpState::Established), "{:?}", t.events());
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 1000)]
    );
    t.send(S::new(1002, iss + 1001, ACK).win(5000));
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 0);
}

#[test]
fn unanswered_probes_hit_the_user_timeout() {
    let mut c = plain();
    c.tcp.user_timeout = Duration::from_secs(30);
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    t.s.tcp_send(t.now, h, b"blocked").unwrap();
    t.advance(Duration::from_secs(200));
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

#[test]
fn user_timeout_on_unacknowledged_data() {
    let mut c = plain();
    c.tcp.user_timeout = Duration::from_secs(20);
    let mut t = T::new(c);
    let (h, _) = t.established(1000);
    t.s.tcp_send(t.now, h, b"lost").unwrap();
    sent_tcp(&mut t.s);
    let out = t.advance(Duration::from_secs(100));
    assert!(out.len() >= 3, "retransmitted meanwhile: {}", out.len());
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

/// `tcp_set_user_timeout` shortens one connection's user timeout (the stack's is 5 min).
#[test]
fn user_timeout_set_on_a_connection() {
    let mut t = T::new(plain());
    let (h, _) = t.established(1000);
    t.s.tcp_set_user_timeout(h, Duration::from_secs(20))
        .unwrap();
    t.s.tcp_send(t.now, h, b"lost").unwrap();
    sent_tcp(&mut t.s);
    t.advance(Duration::from_secs(19));
    assert_eq!(t.state(h), Some(TcpState::Established));
    // Given up at the first retransmission timeout after 20 s (backoff: 1, 3, 7, 15, 31 s).
    t.advance(Duration::from_secs(21));
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

#[test]
fn sender_sws_avoidance_waits_for_a_useful_window() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[1u8; 3000]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.iter().map(|s| s.payload.len()).sum::<usize>(), 3000);
    // Everything ACKed, but the window shrinks to 10 bytes (max window seen 65535).
    t.send(S::new(1001, iss + 3001, ACK).win(10));
    t.s.tcp_send(t.now, h, &[2u8; 100]).unwrap();
    assert!(
        sent_tcp(&mut t.s).is_empty(),
        "10 bytes < MSS and < max window / 2"
    );
    // The override (persist) timer sends what fits.
    let out = t.advance(Duration::from_millis(1001));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload.len(), 10);
}

#[test]
fn receiver_sws_avoidance_and_window_updates() {
    let mut c = plain();
    c.tcp.receive_buffer = 4000;
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    // Fill the window completely.
    t.send(S::new(1001, iss + 1, ACK).data(&[1u8; 1460]));
    let out = t.send(S::new(2461, iss + 1, ACK).data(&[1u8; 1460]));
    assert_eq!(out[0].window, 4000 - 2920);
    let out = t.send(S::new(3921, iss + 1, ACK).data(&[1u8; 1080]));
    assert!(out.is_empty());
    let out = t.advance(Duration::from_millis(300));
    assert_eq!(out[0].window, 0);
    // Reading a little: the window stays closed (SWS), no update.
    let mut buf = [0u8; 100];
    t.s.tcp_recv(t.now, h, &mut buf).unwrap();
    assert!(sent_tcp(&mut t.s).is_empty());
    // Reading half the buffer: a window update.
    let mut big = [0u8; 2000];
    t.s.tcp_recv(t.now, h, &mut big).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].window, 2100);
    // Reading the other 1900: the space not yet offered, RCV.BUFF − RCV.USER − RCV.WND =
    // 4000 − 0 − 2100, reaches min(RCV.BUFF / 2, Eff.snd.MSS) = 1460, so RCV.WND is set to
    // RCV.BUFF − RCV.USER [RFC 9293 § 3.8.6.2.2]. When that goes out is the delayed-ACK
    // algorithm's (§ 3.8.6.3): at the latest with the ACK of the peer's next segment,
    // 100 octets, which offers 4000 − 100 = 3900.
    assert_eq!(t.s.tcp_recv(t.now, h, &mut big), Ok(1900));
    let mut out = sent_tcp(&mut t.s);
    out.extend(t.send(S::new(5001, iss + 1, ACK).data(&[3u8; 100])));
    out.extend(t.advance(Duration::from_millis(500)));
    let last = out.last().unwrap();
    assert_eq!(
        (last.seq, last.ack, last.flags, last.window),
        (iss + 1, 5101, ACK.0, 3900),
        "{out:?}"
    );
}

#[test]
fn receiver_sws_threshold_is_the_effective_send_mss() {
    // RFC 9293 § 3.8.6.2.2: the right edge moves once the space not yet advertised reaches
    // min(RCV.BUFF / 2, Eff.snd.MSS), Eff.snd.MSS being the peer's MSS (1000 here), not
    // ours (1460).
    let mut c = plain();
    c.tcp.receive_buffer = 4000;
    let mut t = T::new(c);
    let (_, h, iss) = t.accepted(1000, S::new(1000, 0, SYN).mss(1000));
    for i in 0..4u32 {
        t.send(S::new(1001 + 1000 * i, iss + 1, ACK).data(&[1u8; 1000]));
    }
    t.advance(Duration::from_millis(300));
    let probe = |t: &mut T| {
        let out = t.send(S::new(5001, iss + 1, ACK).data(&[2u8]));
        assert_eq!(out.len(), 1, "{out:?}");
        (out[0].ack, out[0].window)
    };
    assert_eq!(probe(&mut t), (5001, 0));
    let mut buf = [0u8; 1000];
    for n in [100, 300, 500, 99] {
        assert_eq!(t.s.tcp_recv(t.now, h, &mut buf[..n]), Ok(n));
        assert!(
            sent_tcp(&mut t.s).is_empty(),
            "update after {n} more octets read"
        );
        assert_eq!(probe(&mut t), (5001, 0), "the window stays shut");
    }
    // 999 octets free: one more makes Eff.snd.MSS, and the update offers all of it.
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf[..1]), Ok(1));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].window), (5001, 1000));
}

#[test]
fn with_the_window_shut_probes_are_acknowledged_and_urg_and_rst_processed() {
    let mut c = plain();
    c.tcp.receive_buffer = 2000;
    let mut t = T::new(c);
    let (_, h, iss) = t.accepted(1000, S::new(1000, 0, SYN).mss(1000));
    t.send(S::new(1001, iss + 1, ACK).data(&[1u8; 1000]));
    t.send(S::new(2001, iss + 1, ACK).data(&[1u8; 1000]));
    t.advance(Duration::from_millis(300));
    t.events();
    // A probe at RCV.NXT is not acceptable (RFC 9293 § 3.10.7.4): its octet is not taken,
    // and the ACK tells the window.
    let out = t.send(S::new(3001, iss + 1, ACK).data(b"p"));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].ack, out[0].window, out[0].flags), (3001, 0, ACK.0));
    assert_eq!(t.s.tcp_info(h).map(|i| i.readable), Some(2000));
    // URG is processed (MUST-66): the urgent pointer moves beyond the data held.
    let out = t.send(S::new(3001, iss + 1, ACK).data(b"u").urg(1));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(t.events().contains(&Event::TcpUrgent(h)));
    assert_eq!(t.s.tcp_urgent_mark(h), Some(2001));
    // So is RST (MUST-66): at RCV.NXT it resets the connection.
    let out = t.send(S::new(3001, iss + 1, RST));
    assert!(out.is_empty(), "{out:?}");
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::Reset
    }));
    assert_eq!(t.state(h), Some(TcpState::Closed));
}

#[test]
fn a_listener_s_receive_buffer_sizes_the_window_and_scale_of_its_connections() {
    let mut t = T::new(Config::default());
    let syn = |port: u16| {
        let mut s = S::new(1000, 0, SYN).mss(1460).ws(7);
        s.dport = port;
        s
    };
    // Given at listen: a small buffer is the whole window, with no need of a shift.
    let small = TcpSocketOptions {
        receive_buffer: Some(4000),
    };
    let l =
        t.s.tcp_listen_with(SocketAddrV4::new(HOST, 81), 8, small)
            .unwrap();
    assert_eq!(t.s.tcp_receive_buffer(l), Some(4000));
    let out = t.send(syn(81));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].window, out[0].ws), (4000, Some(0)));
    // Set on a listener after listen: 1 MiB needs a shift of 5 (2^20 >> 4 is over 65535).
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, 82), 8).unwrap();
    assert_eq!(t.s.tcp_set_receive_buffer(l, 1 << 20), Ok(1 << 20));
    let out = t.send(syn(82));
    assert_eq!((out[0].window, out[0].ws), (65535, Some(5)));
    let iss = out[0].seq;
    let mut ack = S::new(1001, iss + 1, ACK);
    ack.dport = 82;
    t.send(ack);
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(t.s.tcp_receive_buffer(h), Some(1 << 20));
    assert_eq!(t.s.tcp_info(h).map(|i| i.receive_buffer), Some(1 << 20));
    // A connection's buffer is fixed: only listeners take the call.
    assert_eq!(
        t.s.tcp_set_receive_buffer(h, 1000),
        Err(StackError::InvalidHandle)
    );
    // Without the option: the stack's buffer (64 KiB, shift 1).
    t.s.tcp_listen(SocketAddrV4::new(HOST, 83), 8).unwrap();
    let out = t.send(syn(83));
    assert_eq!((out[0].window, out[0].ws), (65535, Some(1)));
    // Sizes are cut to 1..=MAX_RECEIVE_BUFFER.
    assert_eq!(
        t.s.tcp_set_receive_buffer(l, usize::MAX),
        Ok(MAX_RECEIVE_BUFFER)
    );
    assert_eq!(t.s.tcp_set_receive_buffer(l, 0), Ok(1));
}

#[test]
fn an_active_open_s_receive_buffer_sizes_the_window_and_scale_of_its_syn() {
    let mut t = T::new(Config::default());
    let open = |t: &mut T, port: u16, octets: usize| {
        let h =
            t.s.tcp_connect_with(
                t.now,
                SocketAddrV4::new(HOST, port),
                SocketAddrV4::new(PEER, PEER_PORT),
                TcpSocketOptions {
                    receive_buffer: Some(octets),
                },
            )
            .unwrap();
        let out = sent_tcp(&mut t.s);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(
            t.s.tcp_receive_buffer(h),
            Some(octets.min(MAX_RECEIVE_BUFFER))
        );
        (out[0].window, out[0].ws)
    };
    assert_eq!(open(&mut t, 1001, 1000), (1000, Some(0)));
    // 200 000 >> 2 = 50 000 fits 16 bits, >> 1 does not.
    assert_eq!(open(&mut t, 1002, 200_000), (65535, Some(2)));
    // The largest buffer: 4 MiB >> 7 = 32 768.
    assert_eq!(open(&mut t, 1003, usize::MAX), (65535, Some(7)));
    // The window after the handshake is scaled by the shift offered.
    let h =
        t.s.tcp_connect_with(
            t.now,
            SocketAddrV4::new(HOST, 1004),
            SocketAddrV4::new(PEER, PEER_PORT),
            TcpSocketOptions {
                receive_buffer: Some(200_000),
            },
        )
        .unwrap();
    let syn = sent_tcp(&mut t.s).remove(0);
    let mut synack = S::new(9000, syn.seq + 1, fl(&[SYN, ACK])).mss(1460).ws(0);
    synack.dport = 1004;
    let out = t.send(synack);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].window, (200_000 >> 2) as u16);
    assert_eq!(t.state(h), Some(TcpState::Established));
}

#[test]
fn fast_retransmit_and_newreno_recovery() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    // Grow cwnd: initial window is 3 segments of 1460.
    t.s.tcp_send(t.now, h, &[0u8; 60_000]).unwrap();
    let first = sent_tcp(&mut t.s);
    assert_eq!(first.len(), 3, "IW = 3 × 1460 [RFC 5681 § 3.1]");
    let mut next = iss + 1;
    let mut all = first;
    for _ in 0..3 {
        next += 1460;
        all.extend(t.send(S::new(1001, next, ACK)));
    }
    // Now 6 more segments are in flight; lose the first of them: 3 duplicate ACKs.
    let hole = next;
    let out1 = t.send(S::new(1001, hole, ACK));
    let out2 = t.send(S::new(1001, hole, ACK));
    // Limited Transmit [RFC 3042]: each of the first two duplicates sends one new segment.
    assert_eq!((out1.len(), out2.len()), (1, 1), "{out1:?} {out2:?}");
    assert!(
        out1[0].seq > hole && out1[0].payload.len() == 1460,
        "{out1:?}"
    );
    assert_eq!(out2[0].seq, out1[0].seq + 1460);
    let out3 = t.send(S::new(1001, hole, ACK));
    assert_eq!(out3.len(), 1, "fast retransmit on the third duplicate");
    assert_eq!(out3[0].seq, hole);
    assert!(t.s.tcp_info(h).unwrap().in_recovery);
    assert_eq!(t.s.tcp_stats().fast_retransmits, 1);
    // ssthresh = FlightSize / 2 with FlightSize the 6 segments sent before the duplicates:
    // the two Limited Transmit sent are left out [RFC 5681 § 3.2 step 2].
    assert_eq!(t.s.tcp_info(h).unwrap().ssthresh, 6 * 1460 / 2);
    // Partial ACK: the next hole is retransmitted at once [RFC 6582].
    let out = t.send(S::new(1001, hole + 1460, ACK));
    assert!(out.iter().any(|s| s.seq == hole + 1460), "{out:?}");
    // Full ACK (everything sent, past `recover`): recovery ends.
    let info = t.s.tcp_info(h).unwrap();
    t.send(S::new(1001, hole + 1460 + info.unacknowledged as u32, ACK));
    assert!(!t.s.tcp_info(h).unwrap().in_recovery);
}

/// NewReno's window through a recovery [RFC 6582 § 3.2; RFC 5681 § 3.1, 3.2], without SACK,
/// every value from the RFCs' formulas: SMSS 1460, IW 3·SMSS; slow start grows cwnd by SMSS
/// per ACK of a full segment; on the third duplicate ACK ssthresh = max(FlightSize / 2,
/// 2·SMSS) and cwnd = ssthresh + 3·SMSS; each further duplicate adds SMSS; a partial ACK
/// deflates cwnd by the octets it acknowledges and adds SMSS back when they are at least one
/// SMSS (step 4).
#[test]
fn newreno_partial_acks_deflate_the_window() {
    const MSS: u32 = 1460;
    const SMSS: usize = MSS as usize;
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    let cwnd = |t: &T| t.s.tcp_info(h).unwrap().cwnd;
    // Nine segments in all, so that no new data is left for Limited Transmit.
    t.s.tcp_send(t.now, h, &[0u8; 9 * SMSS]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 3);
    assert_eq!(cwnd(&t), 3 * SMSS);
    for i in 1..=3 {
        assert_eq!(t.send(S::new(1001, iss + 1 + i * MSS, ACK)).len(), 2);
    }
    assert_eq!(cwnd(&t), 6 * SMSS);
    // Segments 3..9 are in flight (FlightSize 6·SMSS); segment 3 is lost.
    let seg = |i: u32| iss + 1 + i * MSS;
    let dup = || S::new(1001, seg(3), ACK);
    assert!(t.send(dup()).is_empty());
    assert!(t.send(dup()).is_empty());
    let out = t.send(dup());
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        [(seg(3), SMSS)]
    );
    let info = t.s.tcp_info(h).unwrap();
    assert!(info.in_recovery);
    assert_eq!((info.ssthresh, info.cwnd), (3 * SMSS, 3 * SMSS + 3 * SMSS));
    // A fourth duplicate inflates cwnd by SMSS (step 3).
    assert!(t.send(dup()).is_empty());
    assert_eq!(cwnd(&t), 7 * SMSS);
    // A partial ACK of three segments (6 is lost too): segment 6 is resent, cwnd =
    // 7·SMSS − 3·SMSS + SMSS.
    let out = t.send(S::new(1001, seg(6), ACK));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        [(seg(6), SMSS)]
    );
    assert_eq!(cwnd(&t), 5 * SMSS);
    assert!(t.s.tcp_info(h).unwrap().in_recovery);
    // A partial ACK of 500 octets, less than SMSS: nothing is added back.
    let out = t.send(S::new(1001, seg(6) + 500, ACK));
    assert_eq!(out.first().map(|s| s.seq), Some(seg(6) + 500), "{out:?}");
    assert_eq!(cwnd(&t), 5 * SMSS - 500);
    assert!(t.s.tcp_info(h).unwrap().in_recovery);
    // The full ACK ends the recovery.
    t.send(S::new(1001, seg(9), ACK));
    let info = t.s.tcp_info(h).unwrap();
    assert!(!info.in_recovery);
    assert_eq!(info.ssthresh, 3 * SMSS);
}

/// RFC 6582 § 4.1, the ACK heuristic: a loss of the first segment after `recover`, right
/// after a recovery ended, is repaired by fast retransmit (its duplicate ACKs do not cover
/// more than `recover`, but the full ACK before them advanced by at most 4·SMSS and cwnd is
/// above one SMSS), not by waiting for the retransmission timer.
#[test]
fn fast_retransmit_right_after_a_recovery_by_the_ack_heuristic() {
    const MSS: u32 = 1460;
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[0u8; 60_000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 3);
    // Slow start to 10 segments in flight: [hole, hole + 10 MSS).
    let mut hole = iss + 1;
    for _ in 0..7 {
        hole += MSS;
        t.send(S::new(1001, hole, ACK));
    }
    let seg = |i: u32| hole + i * MSS;
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 10 * MSS as usize);
    // Segments 0 and 8 are lost: 8 duplicate ACKs. The first two send segments 10 and 11
    // (Limited Transmit, RFC 3042), so `recover` is the end of segment 11; the third
    // retransmits segment 0; the inflation of the last ones sends new data (12, 13).
    let mut out = Vec::new();
    for i in 1..=8 {
        let o = t.send(S::new(1001, hole, ACK));
        if i == 3 {
            assert_eq!(o.len(), 1, "fast retransmit on the third duplicate: {o:?}");
            assert_eq!(o[0].seq, hole);
        }
        out.extend(o);
    }
    assert!(t.s.tcp_info(h).unwrap().in_recovery);
    assert!(out.iter().any(|s| s.seq == seg(10)), "{out:?}");
    assert!(out.iter().any(|s| s.seq == seg(12)), "{out:?}");
    // The retransmission arrives: a partial ACK, segment 8 is retransmitted.
    let out = t.send(S::new(1001, seg(8), ACK));
    assert!(out.iter().any(|s| s.seq == seg(8)), "{out:?}");
    // Segment 12, the first after `recover`, is lost; 13 and later bring duplicate ACKs.
    t.send(S::new(1001, seg(8), ACK));
    t.send(S::new(1001, seg(8), ACK));
    // Segment 8 arrives: the full ACK (an advance of 4 MSS) ends the recovery.
    t.send(S::new(1001, seg(12), ACK));
    let info = t.s.tcp_info(h).unwrap();
    assert!(!info.in_recovery);
    assert!(info.cwnd > MSS as usize, "{info:?}");
    assert!(info.unacknowledged >= MSS as usize, "{info:?}");
    // Later segments bring duplicate ACKs at `recover`: the third retransmits segment 12
    // (the first two only let new data go, by Limited Transmit).
    for _ in 0..2 {
        let o = t.send(S::new(1001, seg(12), ACK));
        assert!(o.iter().all(|s| s.seq != seg(12)), "{o:?}");
    }
    let out = t.send(S::new(1001, seg(12), ACK));
    assert_eq!(
        out.len(),
        1,
        "fast retransmit, not a wait for the RTO: {out:?}"
    );
    assert_eq!(out[0].seq, seg(12));
    assert_eq!(t.s.tcp_stats().fast_retransmits, 2);
    assert_eq!(t.s.tcp_stats().timeouts, 0);
}

/// RFC 6582 § 4.1: right after a retransmission timeout (cwnd of one SMSS), duplicate ACKs
/// that do not cover `recover` come from the go-back-N retransmission of segments the peer
/// already had: no fast retransmit.
#[test]
fn no_fast_retransmit_from_duplicates_below_recover_after_a_timeout() {
    const MSS: u32 = 1460;
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[0u8; 60_000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 3);
    // Nothing is acknowledged: the timer retransmits the first segment, cwnd is one SMSS.
    let out = t.advance(Duration::from_millis(1500));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].seq, iss + 1);
    assert_eq!(t.s.tcp_stats().timeouts, 1);
    assert_eq!(t.s.tcp_info(h).unwrap().cwnd, MSS as usize);
    // Three duplicate ACKs below `recover` (the end of the first flight).
    for _ in 0..3 {
        assert!(t.send(S::new(1001, iss + 1, ACK)).is_empty());
    }
    assert_eq!(t.s.tcp_stats().fast_retransmits, 0);
    assert!(!t.s.tcp_info(h).unwrap().in_recovery);
}

/// The next hop remembered for output (`Stack::tcp_emit`) follows the ARP cache: a new
/// binding for the peer is used at once, and an expired one is resolved again rather than
/// reused.
#[test]
fn remembered_next_hop_follows_arp_changes_and_expiry() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    let tcp_destinations = |out: &[Decoded]| -> Vec<MacAddr> {
        out.iter()
            .filter_map(|d| match d {
                Decoded::Ipv4 {
                    eth_destination,
                    protocol: IpProtocol::TCP,
                    ..
                } => Some(*eth_destination),
                _ => None,
            })
            .collect()
    };
    t.s.tcp_send(t.now, h, &[1u8; 100]).unwrap();
    assert_eq!(tcp_destinations(&testing::sent(&mut t.s)), [PEER_MAC]);
    // The peer moves to another MAC: the next segment follows.
    let moved = MacAddr([0x02, 0, 0, 0, 0, 9]);
    t.s.arp_insert(t.now, IF0, PEER, moved);
    t.send(S::new(1001, iss + 101, ACK));
    t.s.tcp_send(t.now, h, &[2u8; 100]).unwrap();
    assert_eq!(tcp_destinations(&testing::sent(&mut t.s)), [moved]);
    // The binding expires (20 minutes): the peer is asked for again, nothing goes to the
    // stale MAC.
    t.send(S::new(1001, iss + 201, ACK));
    t.now += Duration::from_secs(21 * 60);
    t.s.tcp_send(t.now, h, &[3u8; 100]).unwrap();
    let out = testing::sent(&mut t.s);
    assert!(
        out.iter().any(|d| testing::is_arp_request_for(d, PEER)),
        "{out:?}"
    );
    assert!(tcp_destinations(&out).is_empty(), "{out:?}");
}

// ------------------------------------------------------------------ RFC 5961

#[test]
fn rfc5961_blind_reset_attacks() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    // Out of window: silently dropped.
    assert!(t.send(S::new(1000 + 200_000, 0, RST)).is_empty());
    // In the window but not RCV.NXT: challenge ACK.
    let out = t.send(S::new(1500, 0, RST));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (iss + 1, 1001, ACK.0)
    );
    assert_eq!(t.state(h), Some(TcpState::Established));
    // Exactly RCV.NXT: reset.
    assert!(t.send(S::new(1001, 0, RST)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::Reset
    }));
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut [0u8; 4]),
        Err(StackError::Tcp(TcpError::Reset))
    );
}

#[test]
fn rfc5961_blind_syn_gets_a_challenge_ack_and_rate_limit() {
    let mut c = plain();
    c.tcp.challenge_ack_limit = 4;
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    // A SYN in or out of the window draws a challenge ACK and changes nothing.
    for seq in [1500u32, 900] {
        let out = t.send(S::new(seq, 0, SYN));
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].seq, out[0].ack, out[0].flags),
            (iss + 1, 1001, ACK.0)
        );
    }
    assert_eq!(t.state(h), Some(TcpState::Established));
    // Ten blind SYNs a second for 40 seconds: each second's challenge ACKs are within the
    // budget, drawn from limit / 2 to limit / 2 + limit - 1 (2 to 5), and the budget varies,
    // so that an attacker cannot count what is left of it [RFC 5961 § 7; CVE-2016-5696].
    let mut per_second = Vec::new();
    for _ in 0..40 {
        t.now += Duration::from_secs(1);
        let sent: usize = (0..10)
            .map(|i| t.send(S::new(5_000_000 + i, 0, SYN)).len())
            .sum();
        per_second.push(sent);
    }
    assert!(
        per_second.iter().all(|n| (2..=5).contains(n)),
        "{per_second:?}"
    );
    let distinct: std::collections::BTreeSet<_> = per_second.iter().collect();
    assert!(distinct.len() > 1, "a fixed budget: {per_second:?}");
    assert_eq!(t.state(h), Some(TcpState::Established));
    let stats = t.s.tcp_stats();
    assert_eq!(
        stats.challenge_acks + stats.challenge_acks_suppressed,
        2 + 400,
        "every SYN counted"
    );
}

#[test]
fn rfc5961_data_injection_with_bad_ack_is_dropped() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    // ACK of data never sent: ACK and drop.
    let out = t.send(S::new(1001, iss + 5000, ACK).data(b"evil"));
    assert_eq!((out.len(), out[0].ack), (1, 1001));
    assert_eq!(t.s.tcp_stats().ack_of_unsent, 1);
    // ACK far too old (below SND.UNA − MAX.SND.WND): ACK and drop.
    let out = t.send(S::new(1001, iss.wrapping_sub(200_000), ACK).data(b"evil"));
    assert_eq!((out.len(), out[0].ack), (1, 1001));
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut [0u8; 8]),
        Err(StackError::WouldBlock)
    );
    // A segment without ACK: dropped.
    assert!(t.send(S::new(1001, 0, PSH).data(b"evil")).is_empty());
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut [0u8; 8]),
        Err(StackError::WouldBlock)
    );
}

// ------------------------------------------------------------------ closing

#[test]
fn active_close_through_time_wait() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_close(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out[0].seq, out[0].flags), (iss + 1, fl(&[FIN, ACK]).0));
    assert_eq!(t.state(h), Some(TcpState::FinWait1));
    t.send(S::new(1001, iss + 2, ACK));
    assert_eq!(t.state(h), Some(TcpState::FinWait2));
    let out = t.send(S::new(1001, iss + 2, fl(&[FIN, ACK])));
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (iss + 2, 1002, ACK.0)
    );
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    // A retransmitted FIN is ACKed again and restarts 2·MSL.
    t.now += Duration::from_secs(100);
    let out = t.send(S::new(1001, iss + 2, fl(&[FIN, ACK])));
    assert_eq!((out[0].ack, out[0].flags), (1002, ACK.0));
    t.advance(Duration::from_secs(119));
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    t.advance(Duration::from_secs(2));
    assert_eq!(t.state(h), None, "freed after 2·MSL");
    assert_eq!(t.s.tcp_connection_count(), 0);
}

#[test]
fn passive_close() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let out = t.send(S::new(1001, iss + 1, fl(&[FIN, ACK])));
    assert_eq!((out[0].ack, out[0].flags), (1002, ACK.0));
    assert_eq!(t.state(h), Some(TcpState::CloseWait));
    assert!(t.events().contains(&Event::TcpReadable(h)));
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut [0u8; 8]),
        Ok(0),
        "end of stream"
    );
    // Still able to send (half-close).
    t.s.tcp_send(t.now, h, b"bye").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out[0].payload, b"bye");
    t.s.tcp_close(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out[0].seq, out[0].flags), (iss + 4, fl(&[FIN, ACK]).0));
    assert_eq!(t.state(h), Some(TcpState::LastAck));
    t.send(S::new(1002, iss + 5, ACK));
    assert_eq!(t.state(h), None);
}

#[test]
fn simultaneous_close() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_shutdown(t.now, h).unwrap();
    sent_tcp(&mut t.s);
    // The peer's FIN crosses ours (it has not seen our FIN).
    let out = t.send(S::new(1001, iss + 1, fl(&[FIN, ACK])));
    assert_eq!(out[0].ack, 1002);
    assert_eq!(t.state(h), Some(TcpState::Closing));
    t.send(S::new(1002, iss + 2, ACK));
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
}

/// RFC 9293 § 3.10.7.4: in FIN-WAIT-1, a FIN whose segment also acknowledges our FIN: the
/// fifth check (ACK) comes first, then the eighth (FIN): "If our FIN has been ACKed (perhaps
/// in this segment), then enter TIME-WAIT" — not CLOSING. The FIN is acknowledged
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, and 2·MSL later the connection is gone.
#[test]
fn fin_wait_1_goes_to_time_wait_on_a_fin_that_acknowledges_ours() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_close(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out[0].seq, out[0].flags), (iss + 1, fl(&[FIN, ACK]).0));
    assert_eq!(t.state(h), Some(TcpState::FinWait1));
    let out = t.send(S::new(1001, iss + 2, fl(&[FIN, ACK])));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (iss + 2, 1002, ACK.0)
    );
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    assert!(t.advance(Duration::from_secs(119)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    assert!(t.advance(Duration::from_secs(2)).is_empty());
    assert_eq!(t.state(h), None, "freed after 2·MSL (MSL 60 s)");
}

/// RFC 9293 § 3.10.7.4, seventh check: in CLOSE-WAIT and LAST-ACK, text "should not occur
/// since a FIN has been received from the remote side. Ignore the segment text." The rest of
/// the segment is still processed: its ACK (fifth check) acknowledges our data, and in
/// LAST-ACK, our FIN, which closes the connection.
#[test]
fn text_after_the_peer_s_fin_is_ignored() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let out = t.send(S::new(1001, iss + 1, fl(&[FIN, ACK])));
    assert_eq!(out[0].ack, 1002);
    assert_eq!(t.state(h), Some(TcpState::CloseWait));
    t.events();
    // CLOSE-WAIT: text at RCV.NXT, acknowledging the 3 octets we sent.
    t.s.tcp_send(t.now, h, b"abc").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out[0].seq, out[0].ack), (iss + 1, 1002));
    let out = t.send(S::new(1002, iss + 4, ACK).data(b"late"));
    assert!(out.is_empty(), "ignored: {out:?}");
    assert_eq!(t.state(h), Some(TcpState::CloseWait));
    assert!(t.events().is_empty(), "nothing to read");
    let info = t.s.tcp_info(h).unwrap();
    assert_eq!((info.readable, info.unacknowledged), (0, 0));
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut [0u8; 8]),
        Ok(0),
        "end of stream"
    );
    // LAST-ACK: text that does not acknowledge our FIN: ignored, still LAST-ACK.
    t.s.tcp_shutdown(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        (out[0].seq, out[0].ack, out[0].flags),
        (iss + 4, 1002, fl(&[FIN, ACK]).0)
    );
    assert_eq!(t.state(h), Some(TcpState::LastAck));
    let out = t.send(S::new(1002, iss + 4, ACK).data(b"later"));
    assert!(out.is_empty(), "ignored: {out:?}");
    assert_eq!(t.state(h), Some(TcpState::LastAck));
    assert!(t.events().is_empty());
    assert_eq!(t.s.tcp_info(h).unwrap().readable, 0);
    // Text that does: the connection closes; the text is still not delivered.
    let out = t.send(S::new(1002, iss + 5, ACK).data(b"last"));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert_eq!(t.events(), vec![Event::TcpClosed(h)]);
    assert_eq!(t.s.tcp_recv(t.now, h, &mut [0u8; 8]), Ok(0));
}

#[test]
fn half_close_keeps_receiving() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_shutdown(t.now, h).unwrap();
    sent_tcp(&mut t.s);
    t.send(S::new(1001, iss + 2, ACK));
    assert_eq!(t.state(h), Some(TcpState::FinWait2));
    assert_eq!(t.s.tcp_send(t.now, h, b"x"), Err(StackError::NotConnected));
    t.send(S::new(1001, iss + 2, ACK).data(b"more"));
    let mut buf = [0u8; 8];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(4));
}

#[test]
fn abort_sends_reset_and_close_with_unread_data_resets() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_abort(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out[0].seq, out[0].flags), (iss + 1, RST.0));
    assert_eq!(t.s.tcp_connection_count(), 0);
    let mut t = T::new(plain());
    let (h, iss2) = t.established(2000);
    t.send(S::new(2001, iss2 + 1, ACK).data(b"unread"));
    t.s.tcp_close(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.last().unwrap().flags, RST.0, "RFC 1122 § 4.2.2.13");
}

/// RFC 9293 § 3.10.7.4, second check, with a RST at exactly RCV.NXT (RFC 5961 § 3.2): in
/// FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT the user gets a "connection reset" signal and the
/// connection goes to CLOSED; in CLOSING, LAST-ACK and TIME-WAIT it just goes to CLOSED ("enter
/// the CLOSED state, delete the TCB, and return"), no reset reported. Either way the TCB is
/// gone: the next ACK on the tuple finds only the listener, which answers <SEQ=SEG.ACK>
/// <CTL=RST>. Each state is reached by real segments, the application still holding the
/// handle (a half close, `tcp_shutdown`).
#[test]
fn reset_in_time_wait_and_last_ack_closes() {
    #[derive(Debug, Clone, Copy)]
    enum How {
        FinWait1,
        FinWait2,
        Closing,
        CloseWait,
        LastAck,
        TimeWait,
    }
    for how in [
        How::FinWait1,
        How::FinWait2,
        How::Closing,
        How::CloseWait,
        How::LastAck,
        How::TimeWait,
    ] {
        let mut t = T::new(plain());
        let (h, iss) = t.established(1000);
        let shutdown = |t: &mut T| {
            t.s.tcp_shutdown(t.now, h).unwrap();
            let out = sent_tcp(&mut t.s);
            assert_eq!((out[0].seq, out[0].flags), (iss + 1, fl(&[FIN, ACK]).0));
        };
        let peer_fin = |t: &mut T, ack: u32| {
            let out = t.send(S::new(1001, ack, fl(&[FIN, ACK])));
            assert_eq!(out[0].ack, 1002, "{how:?}: {out:?}");
        };
        let (state, rcv_nxt, reported) = match how {
            How::FinWait1 => {
                shutdown(&mut t);
                (TcpState::FinWait1, 1001, true)
            }
            How::FinWait2 => {
                shutdown(&mut t);
                assert!(t.send(S::new(1001, iss + 2, ACK)).is_empty());
                (TcpState::FinWait2, 1001, true)
            }
            How::Closing => {
                shutdown(&mut t);
                peer_fin(&mut t, iss + 1);
                (TcpState::Closing, 1002, false)
            }
            How::CloseWait => {
                peer_fin(&mut t, iss + 1);
                (TcpState::CloseWait, 1002, true)
            }
            How::LastAck => {
                peer_fin(&mut t, iss + 1);
                shutdown(&mut t);
                (TcpState::LastAck, 1002, false)
            }
            How::TimeWait => {
                shutdown(&mut t);
                assert!(t.send(S::new(1001, iss + 2, ACK)).is_empty());
                peer_fin(&mut t, iss + 2);
                (TcpState::TimeWait, 1002, false)
            }
        };
        assert_eq!(t.state(h), Some(state), "{how:?}");
        t.events();
        let out = t.send(S::new(rcv_nxt, 0, RST));
        assert!(
            out.is_empty(),
            "{how:?}: a reset is never answered: {out:?}"
        );
        assert_eq!(t.state(h), Some(TcpState::Closed), "{how:?}");
        let mut expected = Vec::new();
        if reported {
            expected.push(Event::TcpError {
                handle: h,
                error: TcpError::Reset,
            });
        }
        expected.push(Event::TcpClosed(h));
        assert_eq!(t.events(), expected, "{how:?}");
        assert_eq!(t.s.tcp_stats().resets_received, 1, "{how:?}");
        // The TCB is deleted: an ACK the connection would have taken quietly is answered
        // by the listener with a reset.
        let out = t.send(S::new(rcv_nxt, iss + 2, ACK));
        assert_eq!(out.len(), 1, "{how:?}: {out:?}");
        assert_eq!((out[0].seq, out[0].flags), (iss + 2, RST.0), "{how:?}");
        t.s.tcp_close(t.now, h).unwrap();
        assert_eq!(t.s.tcp_connection_count(), 0, "{how:?}");
    }
}

/// The same in TIME-WAIT after the application closed the connection (no handle left): the
/// RST deletes the TCB at once instead of at the end of 2·MSL, and nothing is reported.
#[test]
fn reset_in_time_wait_frees_a_closed_connection() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    into_time_wait(&mut t, h, iss, 1001, None);
    assert_eq!(t.s.tcp_connection_count(), 1);
    sent_tcp(&mut t.s);
    t.events();
    assert!(t.send(S::new(1002, 0, RST)).is_empty());
    assert_eq!(t.state(h), None);
    assert_eq!(t.s.tcp_connection_count(), 0);
    assert!(t.events().is_empty());
    assert_eq!(t.s.poll_timeout(), None, "no 2·MSL timer left");
}

/// Closes `h` actively through to TIME-WAIT, the peer's FIN at `fin_seq` (after our FIN,
/// sent at `iss + 1`, is acknowledged); `ts` gives the peer's segments that TSval. Returns
/// SND.MAX (our FIN's sequence number plus one).
fn into_time_wait(t: &mut T, h: TcpHandle, iss: u32, fin_seq: u32, ts: Option<u32>) -> u32 {
    t.s.tcp_close(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out[0].flags, fl(&[FIN, ACK]).0);
    let with_ts = |s: S| match ts {
        Some(v) => s.ts(v, 0),
        None => s,
    };
    t.send(with_ts(S::new(fin_seq, iss + 2, ACK)));
    t.send(with_ts(S::new(fin_seq, iss + 2, fl(&[FIN, ACK]))));
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    iss.wrapping_add(2)
}

/// RFC 9293 § 3.6.1 MAY-2 without timestamps: a SYN beyond RCV.NXT reopens the connection from TIME-WAIT with an ISS above the old SND.MAX (here the
/// clock-based ISN alone would not be: same tuple, same instant); an older one is answered
/// as TIME-WAIT answers a SYN, with an ACK.
#[test]
fn syn_beyond_the_last_sequence_reopens_time_wait() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let snd_max = into_time_wait(&mut t, h, iss, 1001, None);
    // Old duplicates: below RCV.NXT (1002), at it, or a SYN with FIN.
    for syn in [
        S::new(900, 0, SYN),
        S::new(1002, 0, SYN),
        S::new(50_000, 0, fl(&[SYN, FIN])),
    ] {
        let out = t.send(syn.mss(1460));
        assert_eq!((out.len(), out[0].flags, out[0].ack), (1, ACK.0, 1002));
        assert_eq!(t.state(h), Some(TcpState::TimeWait));
    }
    let out = t.send(S::new(50_000, 0, SYN).mss(1460));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].flags, out[0].ack),
        (fl(&[SYN, ACK]).0, 50_001),
        "answered as a new connection"
    );
    let new_iss = out[0].seq;
    assert!(
        (new_iss.wrapping_sub(snd_max) as i32) > 0,
        "ISS {new_iss} is above the old SND.MAX {snd_max}"
    );
    assert_eq!(t.state(h), None, "the old incarnation is gone");
    assert_eq!(t.s.tcp_stats().time_wait_reopened, 1);
    t.send(S::new(50_001, new_iss.wrapping_add(1), ACK));
    let l = t
        .events()
        .iter()
        .find_map(|e| match e {
            Event::TcpIncoming(l) => Some(*l),
            _ => None,
        })
        .expect("the listener has a new connection");
    let (c, _) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(t.state(c), Some(TcpState::Established));
}

/// A connection with timestamps, closed by the application and in TIME-WAIT, its peer's last
/// TSval 200. Returns the bench, the listener and the connection.
fn time_wait_with_timestamps() -> (T, TcpHandle, TcpHandle) {
    let mut t = T::new(Config::default());
    let (l, h, iss) = t.accepted(
        1000,
        S::new(1000, 0, SYN).mss(1460).ts(100, 0).ws(0).sack_ok(),
    );
    into_time_wait(&mut t, h, iss, 1001, Some(200));
    (t, l, h)
}

/// RFC 6191 § 2 with timestamps on both incarnations: the SYN's TSval decides, whatever its
/// sequence number.
#[test]
fn syn_with_a_newer_timestamp_reopens_time_wait() {
    let (mut t, _, h) = time_wait_with_timestamps();
    let syn = |seq: u32, tsval: u32| S::new(seq, 0, SYN).mss(1460).ts(tsval, 0).sack_ok();
    // An old duplicate: an older TSval, though its sequence number is beyond.
    let out = t.send(syn(60_000, 150));
    assert_eq!((out.len(), out[0].flags), (1, ACK.0), "{out:?}");
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    // A newer TSval: reopened, though its sequence number is below RCV.NXT.
    let out = t.send(syn(500, 300));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].flags, out[0].ack), (fl(&[SYN, ACK]).0, 501));
    assert_eq!(
        out[0].ts.map(|t| t.1),
        Some(300),
        "a new connection echoing the SYN"
    );
    assert_eq!(t.state(h), None);
}

/// A connection in TIME-WAIT whose handle the application still holds (it shut the
/// connection down rather than closing it), in a table of `max_connections`.
fn held_time_wait(max_connections: usize) -> (T, TcpHandle) {
    let mut config = plain();
    config.tcp.max_connections = max_connections;
    let mut t = T::new(config);
    let (h, iss) = t.established(1000);
    t.s.tcp_shutdown(t.now, h).unwrap();
    sent_tcp(&mut t.s);
    t.send(S::new(1001, iss + 2, ACK));
    t.send(S::new(1001, iss + 2, fl(&[FIN, ACK])));
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    (t, h)
}

/// A SYN from the peer's port `port` (not [`PEER_PORT`]).
fn syn_from(port: u16, seq: u32) -> S {
    S {
        sport: port,
        ..S::new(seq, 0, SYN).mss(1460)
    }
}

/// A full table: a connection closed by the application and in TIME-WAIT gives its slot to a
/// new one (its wait cut short), unless recycling is off; one whose handle the application
/// still holds (shut down, not closed) never does, since its slot would not be freed.
#[test]
fn a_full_table_recycles_the_time_wait_of_a_closed_connection() {
    for recycling in [true, false] {
        let mut config = plain();
        config.tcp.max_connections = 2;
        config.tcp.time_wait_recycling = recycling;
        let mut t = T::new(config);
        let (h, iss) = t.established(1000);
        into_time_wait(&mut t, h, iss, 1001, None);
        let out = t.send(syn_from(4001, 7000));
        assert_eq!(out[0].flags, fl(&[SYN, ACK]).0, "a second connection fits");
        let out = t.send(syn_from(4002, 9000));
        if recycling {
            assert_eq!((out.len(), out[0].flags), (1, fl(&[SYN, ACK]).0), "{out:?}");
            assert_eq!(t.state(h), None, "TIME-WAIT ended early");
            assert_eq!(t.s.tcp_stats().time_wait_recycled, 1);
        } else {
            assert!(out.is_empty(), "{out:?}");
            assert_eq!(t.state(h), Some(TcpState::TimeWait));
            assert_eq!(t.s.tcp_stats().syn_dropped, 1);
        }
    }
    let (mut t, h) = held_time_wait(2);
    t.send(syn_from(4001, 7000));
    assert!(t.send(syn_from(4002, 9000)).is_empty());
    assert_eq!(
        t.state(h),
        Some(TcpState::TimeWait),
        "still the application's"
    );
}

/// Data arriving after the application closed the connection (close is a half-duplex close:
/// it reads no more) draws a RST at SND.NXT and ends the connection [RFC 9293 § 3.6.1
/// SHLD-3]; after a shutdown (the application still reads) the same data is taken.
#[test]
fn data_after_close_is_answered_with_a_reset() {
    for close in [true, false] {
        let mut t = T::new(plain());
        let (h, iss) = t.established(1000);
        if close {
            t.s.tcp_close(t.now, h).unwrap();
        } else {
            t.s.tcp_shutdown(t.now, h).unwrap();
        }
        sent_tcp(&mut t.s);
        t.send(S::new(1001, iss + 2, ACK));
        assert_eq!(t.state(h), Some(TcpState::FinWait2));
        let out = t.send(S::new(1001, iss + 2, fl(&[PSH, ACK])).data(b"late"));
        if close {
            assert_eq!((out.len(), out[0].flags, out[0].seq), (1, RST.0, iss + 2));
            assert_eq!(t.state(h), None, "gone");
            assert_eq!(t.s.tcp_stats().data_after_close, 1);
        } else {
            assert!(out.iter().all(|s| s.flags & RST.0 == 0), "{out:?}");
            assert_eq!(t.s.tcp_recv(t.now, h, &mut [0u8; 8]), Ok(4));
        }
    }
}

/// A connection in TIME-WAIT keeps no buffer memory once what it received has been read.
#[test]
fn time_wait_holds_no_buffers_once_read() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, b"request").unwrap();
    sent_tcp(&mut t.s);
    t.send(S::new(1001, iss + 8, ACK).data(b"reply"));
    let allocation = |t: &T| t.s.tcp.conns.get(&h).map(|e| e.tcb.buffer_allocation());
    assert!(allocation(&t) > Some(0));
    t.s.tcp_shutdown(t.now, h).unwrap();
    assert_eq!(sent_tcp(&mut t.s)[0].flags, fl(&[FIN, ACK]).0);
    t.send(S::new(1006, iss + 9, ACK));
    t.send(S::new(1006, iss + 9, fl(&[FIN, ACK])));
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    assert!(allocation(&t) > Some(0), "five octets still unread");
    let mut buf = [0u8; 16];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(5));
    assert_eq!(allocation(&t), Some(0));
}

/// MAY-2 (2): the new incarnation fails in SYN-RECEIVED (the peer resets our SYN,ACK: the
/// SYN was an old duplicate), and the old connection is back in TIME-WAIT, answering a
/// retransmission of its peer's FIN as before. A connection whose handle the application
/// still holds (shut down, not closed) is reopened too, the application told it closed, but
/// only if the table has room for the new one beside it.
#[test]
fn a_failed_reopening_goes_back_to_time_wait() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let snd_max = into_time_wait(&mut t, h, iss, 1001, None);
    let out = t.send(syn_from(PEER_PORT, 50_000));
    assert_eq!(out[0].flags, fl(&[SYN, ACK]).0);
    t.send(S::new(50_001, 0, RST));
    assert_eq!(t.s.tcp_stats().time_wait_restored, 1);
    let out = t.send(S::new(1001, iss + 2, fl(&[FIN, ACK])));
    assert_eq!(
        (out.len(), out[0].flags, out[0].seq, out[0].ack),
        (1, ACK.0, snd_max, 1002),
        "the old connection's numbers"
    );
    assert_eq!(t.s.tcp_connection_count(), 1);
    // Its 2·MSL still ends it (the retransmitted FIN restarted the wait).
    t.advance(Duration::from_secs(121));
    assert_eq!(t.s.tcp_connection_count(), 0);

    for max_connections in [2, 1] {
        let (mut t, h) = held_time_wait(max_connections);
        t.events();
        let out = t.send(syn_from(PEER_PORT, 50_000));
        if max_connections == 2 {
            assert_eq!(out[0].flags, fl(&[SYN, ACK]).0, "{out:?}");
            assert_eq!(t.state(h), Some(TcpState::Closed));
            assert!(t.events().contains(&Event::TcpClosed(h)));
        } else {
            assert_eq!((out.len(), out[0].flags), (1, ACK.0), "no room: {out:?}");
            assert_eq!(t.state(h), Some(TcpState::TimeWait));
        }
    }
}

/// A SYN that would reopen TIME-WAIT but finds no listener only draws TIME-WAIT's ACK.
#[test]
fn time_wait_is_not_reopened_without_a_listener() {
    let (mut t, l, h) = time_wait_with_timestamps();
    t.s.tcp_close(t.now, l).unwrap();
    let out = t.send(S::new(50_000, 0, SYN).mss(1460).ts(300, 0).sack_ok());
    assert_eq!((out.len(), out[0].flags), (1, ACK.0), "{out:?}");
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    assert_eq!(t.s.tcp_stats().time_wait_reopened, 0);
}

// ------------------------------------------------------------------ RFC 7323

#[test]
fn paws_drops_old_timestamps() {
    let mut t = T::new(Config::default());
    let (_, h, iss) = t.accepted(
        1000,
        S::new(1000, 0, SYN).mss(1460).ts(100, 0).ws(0).sack_ok(),
    );
    t.send(S::new(1001, iss + 1, ACK).ts(200, 0).data(b"new"));
    // An old duplicate (TSval 150 < TS.Recent 200) with fresh-looking sequence numbers.
    let out = t.send(S::new(1004, iss + 1, ACK).ts(150, 0).data(b"old"));
    assert_eq!(out.len(), 1, "dropped and ACKed");
    assert_eq!(out[0].ack, 1004);
    assert_eq!(out[0].ts.map(|t| t.1), Some(200), "TSecr is TS.Recent");
    assert_eq!(t.s.tcp_stats().paws_rejected, 1);
    let mut buf = [0u8; 8];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(3));
}

/// Once both SYNs carried timestamps, a segment without the option is dropped silently, data
/// and all, and the connection goes on; a RST without it still counts [RFC 7323 § 3.2].
#[test]
fn a_segment_without_timestamps_is_dropped_once_they_are_negotiated() {
    let mut t = T::new(Config::default());
    let (_, h, iss) = t.accepted(1000, S::new(1000, 0, SYN).mss(1460).ts(100, 0));
    let out = t.send(S::new(1001, iss + 1, ACK).data(b"bare"));
    assert!(out.is_empty(), "silently: {out:?}");
    assert_eq!(t.s.tcp_stats().timestamp_missing, 1);
    let mut buf = [0u8; 8];
    assert_eq!(
        t.s.tcp_recv(t.now, h, &mut buf),
        Err(StackError::WouldBlock)
    );
    // The same octets with the option are taken.
    let out = t.advance(Duration::from_millis(300));
    let echo = out.iter().find_map(|s| s.ts).map_or(0, |t| t.0);
    t.send(S::new(1001, iss + 1, ACK).ts(101, echo).data(b"bare"));
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(4));
    assert_eq!(t.state(h), Some(TcpState::Established));
    t.send(S::new(1005, 0, RST));
    assert_eq!(
        t.state(h),
        Some(TcpState::Closed),
        "a RST needs no timestamp"
    );
}

#[test]
fn window_scale_applies_after_the_handshake() {
    let mut t = T::new(Config::default());
    let (_, h, iss) = t.accepted(1000, S::new(1000, 0, SYN).mss(1460).ws(3));
    // Our window: 65536 >> 1.
    let out = t.send(S::new(1001, iss + 1, ACK).data(b"x").win(100));
    let _ = out;
    let out = t.advance(Duration::from_millis(300));
    assert_eq!(out[0].window, ((65536 - 1) >> 1) as u16);
    // The peer's window 100 << 3.
    t.send(S::new(1002, iss + 1, ACK).win(100));
    assert_eq!(t.s.tcp_info(h).unwrap().send_window, 800);
}

// ------------------------------------------------------------------ RFC 2018

/// RFC 2018 § 5, case 2 and 3: a receiver with left window edge 5000 and 500-octet
/// segments. Here with timestamps off so that four blocks could fit.
fn sack_receiver() -> (T, TcpHandle, u32) {
    let mut c = Config::default();
    c.tcp.timestamps = false;
    let mut t = T::new(c);
    let (_, h, iss) = t.accepted(4999, S::new(4999, 0, SYN).mss(500).sack_ok());
    (t, h, iss)
}

/// Case 1: the first four segments (5000–6999) arrive, the last four are lost. The receiver
/// returns "a normal TCP ACK segment acknowledging sequence number 7000, with no SACK
/// option": in-order data, so ACKs may be delayed (by less than 0.5 s, RFC 9293 § 3.8.6.3
/// MUST-40), but each is a plain cumulative ACK at a segment boundary, the last for 7000.
#[test]
fn rfc2018_case_1_last_segments_lost() {
    let (mut t, _h, iss) = sack_receiver();
    let mut out = Vec::new();
    for seq in (5000..7000).step_by(500) {
        out.extend(t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500])));
    }
    out.extend(t.advance(Duration::from_millis(500)));
    assert!(!out.is_empty());
    for s in &out {
        assert_eq!(
            (s.seq, s.flags, s.payload.len()),
            (iss + 1, ACK.0, 0),
            "{s:?}"
        );
        assert!(s.sack.is_empty(), "no SACK option: {s:?}");
        assert!([5500, 6000, 6500, 7000].contains(&s.ack), "{s:?}");
    }
    assert_eq!(out.last().unwrap().ack, 7000);
    assert!(t.advance(Duration::from_secs(10)).is_empty());
}

#[test]
fn rfc2018_case_2_first_segment_lost() {
    let (mut t, _h, iss) = sack_receiver();
    let mut expected_right = 6000;
    for seq in (5500..9000).step_by(500) {
        let out = t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500]));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].ack, 5000);
        assert_eq!(out[0].sack, vec![(5500, expected_right)]);
        expected_right += 500;
    }
}

#[test]
fn rfc2018_case_3_every_other_segment_lost() {
    let (mut t, _h, iss) = sack_receiver();
    let seg = |t: &mut T, seq: u32| t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500]));
    assert!(seg(&mut t, 5000).is_empty(), "in order: delayed ACK");
    let out = seg(&mut t, 6000);
    assert_eq!((out[0].ack, &out[0].sack[..]), (5500, &[(6000, 6500)][..]));
    let out = seg(&mut t, 7000);
    assert_eq!(out[0].sack, vec![(7000, 7500), (6000, 6500)]);
    let out = seg(&mut t, 8000);
    assert_eq!(out[0].sack, vec![(8000, 8500), (7000, 7500), (6000, 6500)]);
    // The 4th segment (6500) arrives: its block first.
    let out = seg(&mut t, 6500);
    assert_eq!(out[0].ack, 5500);
    assert_eq!(out[0].sack, vec![(6000, 7500), (8000, 8500)]);
    // The 2nd (5500): ACK 7500, one block left.
    let out = seg(&mut t, 5500);
    assert_eq!((out[0].ack, &out[0].sack[..]), (7500, &[(8000, 8500)][..]));
}

/// RFC 2883 § 4.1's receiver: left window edge 3000, 500-octet segments, no timestamps.
fn dsack_receiver() -> (T, u32) {
    let mut c = Config::default();
    c.tcp.timestamps = false;
    let mut t = T::new(c);
    let (_, _, iss) = t.accepted(2999, S::new(2999, 0, SYN).mss(500).sack_ok());
    (t, iss)
}

/// RFC 2883 § 4.1.1 and § 4.1.2: a duplicate segment is reported in a D-SACK block, the
/// first, ahead of the blocks of data held out of order; once, and never without SACK.
#[test]
fn rfc2883_duplicate_segment_reported_first_and_once() {
    let (mut t, iss) = dsack_receiver();
    let seg = |t: &mut T, seq: u32| t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500]));
    seg(&mut t, 3000);
    seg(&mut t, 3500);
    let out = t.advance(Duration::from_millis(250));
    assert_eq!(
        (out[0].ack, out[0].sack.len()),
        (4000, 0),
        "the delayed ACK"
    );
    // § 4.1.1: 3000-3499 again.
    let out = seg(&mut t, 3000);
    assert_eq!((out[0].ack, &out[0].sack[..]), (4000, &[(3000, 3500)][..]));
    // § 4.1.2: 4000-4499 lost, 4500-4999 arrives, then 3000-3499 once more.
    let out = seg(&mut t, 4500);
    assert_eq!((out[0].ack, &out[0].sack[..]), (4000, &[(4500, 5000)][..]));
    let out = seg(&mut t, 3000);
    assert_eq!(out[0].sack, vec![(3000, 3500), (4500, 5000)]);
    // Reported once: the ACK of the next segment carries the usual blocks only.
    let out = seg(&mut t, 5000);
    assert_eq!(out[0].sack, vec![(4500, 5500)]);
    // A segment partly old: its old part is reported, its new part taken.
    let out = t.send(S::new(3800, iss + 1, ACK).data(&[0u8; 400]));
    assert_eq!(
        (out[0].ack, &out[0].sack[..]),
        (4200, &[(3800, 4000), (4500, 5500)][..])
    );
    // Without SACK, no blocks at all.
    let mut t = T::new(plain());
    let (_, iss) = t.established(2999);
    t.send(S::new(3000, iss + 1, ACK).data(&[0u8; 500]));
    t.advance(Duration::from_millis(250));
    let out = t.send(S::new(3000, iss + 1, ACK).data(&[0u8; 500]));
    assert_eq!((out[0].ack, out[0].sack.len()), (3500, 0));
}

/// RFC 2883 § 4.2.1: a duplicate of a segment held out of order is reported in a D-SACK
/// block followed by the (larger) block holding it.
#[test]
fn rfc2883_duplicate_of_an_out_of_order_segment() {
    let (mut t, iss) = dsack_receiver();
    let seg = |t: &mut T, seq: u32| t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500]));
    seg(&mut t, 3000);
    seg(&mut t, 3500);
    assert_eq!(seg(&mut t, 4500)[0].sack, vec![(4500, 5000)]);
    assert_eq!(seg(&mut t, 5000)[0].sack, vec![(4500, 5500)]);
    let out = seg(&mut t, 5000);
    assert_eq!(
        (out[0].ack, &out[0].sack[..]),
        (4000, &[(5000, 5500), (4500, 5500)][..])
    );
}

/// A D-SACK due when data goes out: a full-sized segment has no room for the block within
/// the peer's MSS [RFC 6691], so the data goes without it and a bare ACK carrying it follows.
#[test]
fn a_dsack_that_does_not_fit_a_data_segment_follows_in_a_bare_ack() {
    let mut c = Config::default();
    c.tcp.timestamps = false;
    let mut t = T::new(c);
    let (_, h, iss) = t.accepted(2999, S::new(2999, 0, SYN).mss(500).sack_ok());
    t.send(S::new(3000, iss + 1, ACK).data(&[0u8; 500]).win(0));
    t.s.tcp_send(t.now, h, &[5u8; 1000]).unwrap();
    assert!(sent_tcp(&mut t.s).iter().all(|s| s.payload.is_empty()));
    // Partly the same octets again (3200-3499), its ACK opening the window.
    let out = t.send(S::new(3200, iss + 1, ACK).data(&[0u8; 500]));
    let (data, bare): (Vec<_>, Vec<_>) = out.iter().partition(|s| !s.payload.is_empty());
    assert_eq!(data.len(), 2, "{out:?}");
    assert!(data
        .iter()
        .all(|s| s.payload.len() == 500 && s.sack.is_empty()));
    assert_eq!(bare.len(), 1, "{out:?}");
    assert_eq!(
        (bare[0].ack, &bare[0].sack[..]),
        (3700, &[(3200, 3500)][..])
    );
}

/// With timestamps a SACK option holds 3 blocks: the D-SACK block and the two most recent.
#[test]
fn a_dsack_with_timestamps_leaves_room_for_two_blocks() {
    let mut t = T::new(Config::default());
    let (_, _, iss) = t.accepted(2999, S::new(2999, 0, SYN).mss(500).ts(100, 0).sack_ok());
    let seg = |t: &mut T, seq: u32| t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 100]).ts(200, 0));
    for seq in [3200, 3400, 3600] {
        seg(&mut t, seq);
    }
    let out = seg(&mut t, 3400);
    assert_eq!(
        out[0].sack,
        vec![(3400, 3500), (3400, 3500), (3600, 3700)],
        "{out:?}"
    );
}

/// RFC 2018 § 4: the receiver sends as many SACK blocks as fit, the one holding the segment
/// that drew the ACK first, then the most recently reported ones. Without timestamps, 40
/// octets of options hold 4 blocks (2 + 4·8 = 34 octets).
#[test]
fn sack_blocks_fill_the_option_space_most_recent_first() {
    let (mut t, _h, iss) = sack_receiver();
    let seg = |t: &mut T, seq: u32| {
        let out = t.send(S::new(seq, iss + 1, ACK).data(&[0u8; 500]));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].ack, 5000);
        out[0].sack.clone()
    };
    // Five islands above the hole at 5000..5500, each its own range.
    let mut expected: Vec<(u32, u32)> = Vec::new();
    for seq in [5500, 6500, 7500, 8500, 9500] {
        expected.insert(0, (seq, seq + 500));
        expected.truncate(4);
        assert_eq!(seg(&mut t, seq), expected, "after {seq}");
    }
    assert_eq!(
        expected,
        [(9500, 10_000), (8500, 9000), (7500, 8000), (6500, 7000)]
    );
    // 6000..6500 joins the two oldest islands: that block first, then the three most
    // recently reported.
    assert_eq!(
        seg(&mut t, 6000),
        [(5500, 7000), (9500, 10_000), (8500, 9000), (7500, 8000)]
    );
}

/// With timestamps (12 octets with their padding), 3 blocks fit (12 + 2 + 3·8 = 38 ≤ 40),
/// and 3 are sent once there are 3 ranges or more.
#[test]
fn sack_blocks_are_limited_to_what_fits_with_timestamps() {
    let mut t = T::new(Config::default());
    let (_, _h, iss) = t.accepted(999, S::new(999, 0, SYN).mss(500).sack_ok().ts(1, 0));
    let mut expected: Vec<(u32, u32)> = Vec::new();
    for (i, seq) in [1500u32, 2500, 3500, 4500, 5500].into_iter().enumerate() {
        let out = t.send(
            S::new(seq, iss + 1, ACK)
                .ts(10 + i as u32, 0)
                .data(&[0u8; 100]),
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].ts.is_some());
        expected.insert(0, (seq, seq + 100));
        expected.truncate(3);
        assert_eq!(out[0].sack, expected, "after {seq}");
    }
    assert_eq!(expected, [(5500, 5600), (4500, 4600), (3500, 3600)]);
}

/// A connection that offered SACK and MSS 1000 (no timestamps, IW10, no Nagle) and has
/// just been given `data` to send; `iss` is its initial sequence number.
fn sack_sender(data: &[u8]) -> (T, u32, TcpHandle) {
    let mut c = Config::default();
    c.tcp.timestamps = false;
    c.tcp.initial_window_10 = true;
    let mut t = T::new(c);
    let (_, h, iss) = t.accepted(999, S::new(999, 0, SYN).mss(1000).sack_ok());
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, data).unwrap();
    (t, iss, h)
}

#[test]
fn sack_based_recovery_retransmits_only_the_holes() {
    let (mut t, iss, _) = sack_sender(&[5u8; 10_000]);
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 10, "IW10");
    let base = iss + 1;
    // Segments 0 and 3 lost; the others SACKed.
    let sacks = [
        (base + 1000, base + 2000),
        (base + 1000, base + 3000),
        (base + 4000, base + 5000),
    ];
    let mut retransmitted = Vec::new();
    let mut blocks: Vec<(u32, u32)> = Vec::new();
    for (i, b) in sacks.iter().enumerate() {
        blocks = if i < 2 { vec![*b] } else { vec![*b, sacks[1]] };
        retransmitted.extend(t.send(S::new(1000, base, ACK).sacks(&blocks)));
    }
    for right in [6000, 7000, 8000] {
        let b = vec![(base + 4000, base + right), sacks[1]];
        retransmitted.extend(t.send(S::new(1000, base, ACK).sacks(&b)));
    }
    let _ = blocks;
    let seqs: Vec<u32> = retransmitted.iter().map(|s| s.seq - base).collect();
    assert!(seqs.contains(&0), "{seqs:?}");
    assert!(seqs.contains(&3000), "{seqs:?}");
    assert!(
        !seqs.contains(&1000) && !seqs.contains(&4000),
        "no SACKed segment resent: {seqs:?}"
    );
}

/// A receiver that reneges on what it SACKed (RFC 2018 § 8) gets it again: the ACK of the
/// retransmitted first segment carries no SACK block, the timer fires, and the sender resends
/// from SND.UNA instead of treating the once-SACKed data as delivered (it stalled before).
#[test]
fn reneged_sack_data_is_resent_after_a_timeout() {
    let (mut t, iss, _) = sack_sender(&[7u8; 4000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 4);
    // The first segment is lost; one ACK SACKs the other three: IsLost draws the resend.
    let out = t.send(S::new(1000, base, ACK).sacks(&[(base + 1000, base + 4000)]));
    assert_eq!(out.iter().map(|s| s.seq).collect::<Vec<_>>(), [base]);
    // Reneging: the resend is acknowledged without any SACK block.
    assert!(t.send(S::new(1000, base + 1000, ACK)).is_empty());
    let out = t.advance(Duration::from_secs(3));
    assert!(!out.is_empty(), "the sender stalled");
    assert_eq!(out[0].seq, base + 1000, "{out:?}");
    assert_eq!(out[0].payload.len(), 1000);
    let out = t.send(S::new(1000, base + 2000, ACK));
    assert_eq!(
        out.iter().map(|s| s.seq - base).collect::<Vec<_>>(),
        [2000, 3000],
        "slow start resends the rest"
    );
}

/// Entering SACK recovery resends the first lost segment at once even when pipe already
/// fills cwnd [RFC 6675 § 5 step (4.3)]: eight segments out, two lost, and the SACKed data
/// leaves pipe (5000) above the halved cwnd (4000). It used to wait for the timer.
#[test]
fn sack_recovery_resends_the_first_hole_even_with_a_full_pipe() {
    let (mut t, iss, _) = sack_sender(&[3u8; 8000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 8);
    let dup = |blocks: &[(u32, u32)]| {
        let b: Vec<(u32, u32)> = blocks.iter().map(|&(l, r)| (base + l, base + r)).collect();
        S::new(1000, base, ACK).sacks(&b)
    };
    assert!(t.send(dup(&[(1000, 2000)])).is_empty());
    assert!(t.send(dup(&[(3000, 4000), (1000, 2000)])).is_empty());
    let out = t.send(dup(&[(3000, 5000), (1000, 2000)]));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq - base, s.payload.len()))
            .collect::<Vec<_>>(),
        [(0, 1000)],
        "the first hole, alone"
    );
    assert_eq!(t.s.tcp_stats().timeouts, 0);
}

/// With SACK, a duplicate ACK is one that SACKs new data, whatever its window [RFC 6675
/// § 2]: a receiver holding out-of-order data may shrink its window on each ACK, and those
/// ACKs used to be ignored, leaving the loss to the retransmission timer.
#[test]
fn sack_duplicates_count_even_when_the_window_changes() {
    let (mut t, iss, _) = sack_sender(&[3u8; 8000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 8);
    let mut window = 60_000u16;
    let mut retransmitted = Vec::new();
    for right in [2000u32, 3000, 4000] {
        window -= 1000;
        let ack = S::new(1000, base, ACK)
            .win(window)
            .sacks(&[(base + 1000, base + right)]);
        retransmitted.extend(t.send(ack).into_iter().filter(|s| s.seq == base));
    }
    assert_eq!(retransmitted.len(), 1, "{retransmitted:?}");
    assert_eq!(t.s.tcp_stats().fast_retransmits, 1);
    // An ACK that SACKs nothing new is no duplicate.
    let before = t.s.tcp_stats().duplicate_acks;
    t.send(
        S::new(1000, base, ACK)
            .win(window)
            .sacks(&[(base + 1000, base + 4000)]),
    );
    assert_eq!(t.s.tcp_stats().duplicate_acks, before);
}

/// A duplicate ACK from a SACK receiver, its blocks given relative to `base`.
fn sack_ack(ack: u32, base: u32, blocks: &[(u32, u32)]) -> S {
    let b: Vec<(u32, u32)> = blocks.iter().map(|&(l, r)| (base + l, base + r)).collect();
    S::new(1000, ack, ACK).sacks(&b)
}

fn offsets(out: &[S], base: u32) -> Vec<(u32, usize)> {
    out.iter()
        .map(|s| (s.seq.wrapping_sub(base), s.payload.len()))
        .collect()
}

/// A retransmission lost in recovery is resent as soon as more than 2·SMSS of data first
/// sent after it is SACKed (not after the retransmission timer), and cwnd is halved again.
#[test]
fn a_lost_retransmission_is_resent_once_later_data_is_sacked() {
    let (mut t, iss, h) = sack_sender(&[9u8; 30_000]);
    let base = iss + 1;
    let mut sent = offsets(&sent_tcp(&mut t.s), base);
    assert_eq!(sent.len(), 10, "IW10: octets 0 to 10000");
    // Segment 0 lost; three duplicate ACKs SACK 1000..4000: fast retransmit (Limited
    // Transmit sends new data on the first two).
    for right in [2000, 3000, 4000] {
        sent.extend(offsets(
            &t.send(sack_ack(base, base, &[(1000, right)])),
            base,
        ));
    }
    assert_eq!(
        sent.iter().filter(|&&s| s == (0, 1000)).count(),
        2,
        "fast retransmit"
    );
    let resent_at = sent.iter().rposition(|&s| s == (0, 1000)).unwrap();
    // Everything from here on left after the retransmission.
    let sent_before = sent[..resent_at]
        .iter()
        .map(|&(o, n)| o + n as u32)
        .max()
        .unwrap();
    let cwnd_in_recovery = t.s.tcp_info(h).unwrap().cwnd;
    // The rest of the first flight is SACKed: the pipe lets more new data go.
    sent.extend(offsets(
        &t.send(sack_ack(base, base, &[(1000, 10_000)])),
        base,
    ));
    // 2·SMSS of the data sent after the retransmission SACKed: no proof of its loss yet.
    let out = offsets(
        &t.send(sack_ack(base, base, &[(1000, sent_before + 2000)])),
        base,
    );
    assert!(!out.contains(&(0, 1000)), "{out:?}");
    assert_eq!(t.s.tcp_stats().lost_retransmissions, 0);
    sent.extend(out);
    let highest = sent.iter().map(|&(o, n)| o + n as u32).max().unwrap();
    assert!(highest >= sent_before + 3000, "{sent:?}");
    // More than 2·SMSS: segment 0 goes again, at once.
    let out = t.send(sack_ack(base, base, &[(1000, sent_before + 3000)]));
    assert_eq!(offsets(&out, base).first(), Some(&(0, 1000)));
    let stats = t.s.tcp_stats();
    assert_eq!((stats.lost_retransmissions, stats.timeouts), (1, 0));
    assert_eq!(
        t.s.tcp_info(h).unwrap().cwnd,
        (cwnd_in_recovery / 2).max(2000)
    );
}

/// Two retransmissions of one round lost together: both go again, and cwnd is halved once,
/// not twice (one reduction per round trip).
#[test]
fn retransmissions_lost_in_one_round_halve_cwnd_once() {
    let (mut t, iss, h) = sack_sender(&[9u8; 60_000]);
    let base = iss + 1;
    let mut sent = offsets(&sent_tcp(&mut t.s), base);
    let end_of = |sent: &[(u32, usize)]| sent.iter().map(|&(o, n)| o + n as u32).max().unwrap();
    // Segments 0 and 2 (octets 0..1000 and 2000..3000) lost; the peer SACKs everything else
    // it gets, one duplicate ACK per new segment, until both holes have been resent.
    let mut resent_at = Vec::new();
    for _ in 0..40 {
        let high = end_of(&sent);
        let out = offsets(
            &t.send(sack_ack(base, base, &[(3000, high), (1000, 2000)])),
            base,
        );
        for &seg in &out {
            if seg.0 < 3000 && sent.contains(&seg) {
                resent_at.push((seg.0, end_of(&sent)));
            }
            sent.push(seg);
        }
        if resent_at.len() == 2 && end_of(&sent) >= resent_at[1].1 + 3000 {
            break;
        }
    }
    let holes: Vec<u32> = resent_at.iter().map(|r| r.0).collect();
    assert_eq!(holes, [0, 2000], "{sent:?}");
    assert_eq!(t.s.tcp_stats().lost_retransmissions, 0);
    let cwnd_before = t.s.tcp_info(h).unwrap().cwnd;
    // Both retransmissions lost: data sent after the later one is SACKed.
    let high = resent_at[1].1 + 3000;
    let out = offsets(
        &t.send(sack_ack(base, base, &[(3000, high), (1000, 2000)])),
        base,
    );
    assert!(
        out.contains(&(0, 1000)) && out.contains(&(2000, 1000)),
        "{out:?}"
    );
    assert_eq!(t.s.tcp_stats().lost_retransmissions, 2);
    assert_eq!(t.s.tcp_info(h).unwrap().cwnd, (cwnd_before / 2).max(2000));
}

/// A SACK sender whose first two segments of five were ACKed 5 ms after they left and whose
/// other three are lost, acknowledgements and all. Returns the connection, its ISS + 1, the
/// probe timeout RFC 8985 § 7.2 gives for its SRTT then (2·SRTT, at least 10 ms) and every
/// segment sent after that ACK until `until` has passed, with its time since the ACK.
fn tail_loss(
    mut config: Config,
    until: Duration,
) -> (T, TcpHandle, u32, Duration, Vec<(Duration, S)>) {
    config.tcp.initial_window_10 = true;
    config.tcp.timestamps = false;
    let mut t = T::new(config);
    let (_, h, iss) = t.accepted(999, S::new(999, 0, SYN).mss(1000).sack_ok());
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[6u8; 5000]).unwrap();
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 5);
    assert!(t.advance(Duration::from_millis(5)).is_empty());
    assert!(t.send(S::new(1000, base + 2000, ACK)).is_empty());
    let srtt = t.s.tcp_info(h).unwrap().srtt.unwrap();
    let pto = (srtt + srtt).max(Duration::from_millis(10));
    let acked_at = t.now;
    let mut later = Vec::new();
    while t.now.saturating_duration_since(acked_at) < until {
        for seg in t.advance(Duration::from_micros(100)) {
            later.push((t.now.saturating_duration_since(acked_at), seg));
        }
    }
    (t, h, base, pto, later)
}

/// RFC 8985 § 7: with SACK, a lost tail is probed a PTO after the last ACK by resending the
/// last segment, since no new data waits; the next resend is the retransmission timeout's,
/// a full RTO (1 s at least) after the probe. Without SACK, the timeout is the first resend.
#[test]
fn a_lost_tail_is_probed_after_two_round_trips() {
    let (t, _, base, pto, later) = tail_loss(Config::default(), Duration::from_millis(1500));
    let resends: Vec<(Duration, u32, usize)> = later
        .iter()
        .map(|(at, s)| (*at, s.seq - base, s.payload.len()))
        .collect();
    let (probe_at, seq, len) = resends[0];
    assert_eq!((seq, len), (4000, 1000), "the last segment: {resends:?}");
    assert!(
        probe_at >= pto && probe_at <= pto + Duration::from_micros(100),
        "{resends:?}"
    );
    let (rto_at, seq, _) = resends[1];
    assert_eq!(seq, 2000, "SND.UNA: {resends:?}");
    assert!(rto_at >= probe_at + Duration::from_secs(1), "{resends:?}");
    assert_eq!(t.s.tcp_stats().tail_loss_probes, 1);
    let mut c = Config::default();
    c.tcp.sack = false;
    let (t, _, base, _, later) = tail_loss(c, Duration::from_millis(1500));
    let first = later.first().map(|(at, s)| (*at, s.seq - base));
    assert!(
        first.is_some_and(|(at, seq)| at >= Duration::from_millis(995) && seq == 2000),
        "{first:?}"
    );
    assert_eq!(t.s.tcp_stats().tail_loss_probes, 0);
}

/// A probe that resent a segment: an ACK exactly at TLP.end_seq gives no verdict (the
/// originals may only have been late); an ACK beyond it with no sign that both copies arrived
/// says the probe repaired a loss, and cwnd is halved (RFC 8985 § 7.4.2), no lower than
/// 2·SMSS. A D-SACK of the probe [RFC 2883], or a bare duplicate ACK at TLP.end_seq, says
/// both copies arrived: no reduction.
#[test]
fn a_probe_retransmission_halves_cwnd_only_if_it_repaired_a_loss() {
    for answer in ["none", "dsack", "duplicate"] {
        let (mut t, h, base, _, later) = tail_loss(Config::default(), Duration::from_millis(100));
        assert_eq!(later.len(), 1, "the probe: {later:?}");
        let ssthresh = t.s.tcp_info(h).unwrap().ssthresh;
        t.send(S::new(1000, base + 5000, ACK));
        assert_eq!(
            t.s.tcp_info(h).unwrap().ssthresh,
            ssthresh,
            "no verdict at end_seq"
        );
        if answer == "duplicate" {
            t.send(S::new(1000, base + 5000, ACK));
        }
        let cwnd = t.s.tcp_info(h).unwrap().cwnd;
        t.s.tcp_send(t.now, h, &[1u8; 1000]).unwrap();
        assert_eq!(sent_tcp(&mut t.s).len(), 1);
        // New data acknowledged: beyond TLP.end_seq (with a D-SACK of the probe's octets, a
        // first block below the cumulative ACK, in the "dsack" case).
        let ack = S::new(1000, base + 6000, ACK);
        t.send(if answer == "dsack" {
            ack.sacks(&[(base + 4000, base + 5000)])
        } else {
            ack
        });
        let info = t.s.tcp_info(h).unwrap();
        if answer == "none" {
            assert_eq!(info.cwnd, (cwnd / 2).max(2000), "{answer}");
        } else {
            assert_eq!(info.ssthresh, ssthresh, "{answer}: no congestion event");
        }
    }
}

/// A probe that resends data resends the last segment the peer has not SACKed: resending
/// the SACKed tail would bring an ACK with nothing new, not a duplicate ACK.
#[test]
fn a_probe_resends_the_last_segment_not_sacked() {
    let (mut t, iss, _) = sack_sender(&[6u8; 5000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 5);
    t.advance(Duration::from_millis(5));
    assert!(t.send(S::new(1000, base + 2000, ACK)).is_empty());
    // 2000..3000 missing, 3000..5000 SACKed: two duplicate ACKs, too few for recovery.
    t.send(sack_ack(base + 2000, base, &[(3000, 4000)]));
    t.send(sack_ack(base + 2000, base, &[(3000, 5000)]));
    assert_eq!(t.s.tcp_stats().fast_retransmits, 0);
    let out = offsets(&t.advance(Duration::from_millis(100)), base);
    assert_eq!(out, [(2000, 1000)]);
    assert_eq!(t.s.tcp_stats().tail_loss_probes, 1);
}

/// A lost tail that ends with our FIN (FIN-WAIT-1 here) is probed too: the last segment goes
/// again with the FIN, a PTO after the last ACK, not a full RTO later.
#[test]
fn a_lost_tail_with_our_fin_is_probed() {
    let (mut t, iss, h) = sack_sender(&[5u8; 3000]);
    let base = iss + 1;
    t.s.tcp_shutdown(t.now, h).unwrap();
    let out = offsets(&sent_tcp(&mut t.s), base);
    assert_eq!(
        out,
        [(0, 1000), (1000, 1000), (2000, 1000), (3000, 0)],
        "then the FIN"
    );
    t.advance(Duration::from_millis(5));
    assert!(t.send(S::new(1000, base + 1000, ACK)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::FinWait1));
    let out = t.advance(Duration::from_millis(100));
    let probe: Vec<(u32, usize, bool)> = out
        .iter()
        .map(|s| {
            (
                s.seq - base,
                s.payload.len(),
                s.flags & TcpFlags::FIN.0 != 0,
            )
        })
        .collect();
    // The highest-sequence octets again, up to SMSS of them, ending with the FIN.
    assert_eq!(probe.len(), 1, "{probe:?}");
    let (seq, len, fin) = probe[0];
    assert!(fin && seq + len as u32 == 3000 && len <= 1000, "{probe:?}");
    assert_eq!(t.s.tcp_stats().tail_loss_probes, 1);
}

/// When new data waits and the window has room, the probe is the next new segment, sent
/// whatever cwnd says [RFC 8985 § 7.3].
#[test]
fn a_probe_sends_new_data_when_there_is_some() {
    let (mut t, iss, _) = sack_sender(&[2u8; 30_000]);
    let base = iss + 1;
    let first = offsets(&sent_tcp(&mut t.s), base);
    assert_eq!(first.len(), 10, "IW10");
    t.advance(Duration::from_millis(5));
    // Two segments ACKed: slow start lets more go, up to cwnd.
    let more = offsets(&t.send(S::new(1000, base + 2000, ACK)), base);
    let high = more
        .iter()
        .chain(&first)
        .map(|&(o, n)| o + n as u32)
        .max()
        .unwrap();
    let out = offsets(&t.advance(Duration::from_millis(100)), base);
    assert_eq!(out, [(high, 1000)], "new data beyond cwnd");
    assert_eq!(t.s.tcp_stats().tail_loss_probes, 1);
    // The probe arrives; everything between the ACK and it did not. Each of those octets was
    // sent a PTO or more before the probe: lost by RACK's rule [RFC 8985 § 6.2], so
    // recovery starts with the first, on this single duplicate ACK.
    let out = offsets(
        &t.send(sack_ack(base + 2000, base, &[(high, high + 1000)])),
        base,
    );
    assert_eq!(out.first(), Some(&(2000, 1000)), "{out:?}");
    assert_eq!(t.s.tcp_stats().fast_retransmits, 1);
}

/// NextSeg rule 4 [RFC 6675 § 4]: in recovery, with no hole deemed lost, no new data and no
/// other hole to send, one "rescue" retransmission of the highest unSACKed segment (the lost
/// end of the window, which no duplicate ACK can show lost), once per recovery.
#[test]
fn sack_recovery_rescues_the_lost_end_of_the_window_once() {
    let (mut t, iss, _) = sack_sender(&[8u8; 8000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 8);
    // Segments 0 and 7 lost. Three duplicate ACKs: fast retransmit of segment 0, cwnd 4000,
    // and pipe (segment 0 resent, 4000..8000 outstanding) leaves no room.
    let mut out = Vec::new();
    for right in [2000, 3000, 4000] {
        out.extend(offsets(
            &t.send(sack_ack(base, base, &[(1000, right)])),
            base,
        ));
    }
    assert_eq!(out, [(0, 1000)]);
    // SACKed up to 5000: pipe 4000, still no room.
    assert!(t.send(sack_ack(base, base, &[(1000, 5000)])).is_empty());
    // Up to 6000: room for one segment, and nothing for rules 1 to 3 (6000..8000 is above
    // every SACKed octet, not deemed lost; no new data): the rescue, of segment 7.
    let out = offsets(&t.send(sack_ack(base, base, &[(1000, 6000)])), base);
    assert_eq!(out, [(7000, 1000)]);
    // Only once in this recovery.
    assert!(t.send(sack_ack(base, base, &[(1000, 7000)])).is_empty());
    assert_eq!(t.s.tcp_stats().timeouts, 0);
}

/// A challenge-ACK limit of 1 still allows one a second (the budget is drawn from ⌈1/2⌉ = 1
/// to 1 + 1 − 1 = 1).
#[test]
fn a_challenge_ack_limit_of_one_allows_one_a_second() {
    let mut c = plain();
    c.tcp.challenge_ack_limit = 1;
    let mut t = T::new(c);
    t.established(1000);
    for _ in 0..10 {
        t.now += Duration::from_secs(1);
        let sent: usize = (0..3)
            .map(|i| t.send(S::new(5_000_000 + i, 0, SYN)).len())
            .sum();
        assert_eq!(sent, 1);
    }
}

/// A FIN queued during recovery, once all data has gone, may first go out inside the rescue
/// retransmission: it is then sent, SND.NXT with SND.MAX, and not sent again at once when
/// the data before it is acknowledged.
#[test]
fn a_fin_first_sent_by_the_rescue_is_not_sent_twice() {
    let (mut t, iss, h) = sack_sender(&[8u8; 8000]);
    let base = iss + 1;
    assert_eq!(sent_tcp(&mut t.s).len(), 8);
    for right in [2000, 3000, 4000] {
        t.send(sack_ack(base, base, &[(1000, right)]));
    }
    assert!(t.send(sack_ack(base, base, &[(1000, 5000)])).is_empty());
    t.s.tcp_shutdown(t.now, h).unwrap();
    assert!(
        sent_tcp(&mut t.s).is_empty(),
        "the FIN waits: no room in recovery"
    );
    let fin = |out: &[S]| -> Vec<u32> {
        out.iter()
            .filter(|s| s.flags & TcpFlags::FIN.0 != 0)
            .map(|s| s.seq - base + s.payload.len() as u32)
            .collect()
    };
    let out = t.send(sack_ack(base, base, &[(1000, 6000)]));
    assert_eq!(fin(&out), [8000], "the rescue carries the FIN: {out:?}");
    // Everything up to the FIN acknowledged, the FIN still in flight: no second FIN.
    let out = t.send(S::new(1000, base + 8000, ACK));
    assert!(fin(&out).is_empty(), "{out:?}");
    assert_eq!(t.state(h), Some(TcpState::FinWait1));
}

/// An ACK that advances SND.UNA and SACKs more than 2·SMSS above it shows the next segment
/// lost, as a duplicate ACK carrying the same blocks would: recovery starts at once. A
/// receiver acknowledging a batch of segments at once may send no duplicate ACK after it.
#[test]
fn an_advancing_ack_whose_sack_blocks_show_a_loss_starts_recovery() {
    for (sacked, lost) in [(4000, false), (5000, true)] {
        let (mut t, iss, _) = sack_sender(&[4u8; 10_000]);
        let base = iss + 1;
        assert_eq!(sent_tcp(&mut t.s).len(), 10);
        // Octets 0..1000 acknowledged, 1000..2000 missing, 2000..`sacked` SACKed.
        let out = t.send(sack_ack(base + 1000, base, &[(2000, sacked)]));
        assert_eq!(
            offsets(&out, base).contains(&(1000, 1000)),
            lost,
            "SACKed up to {sacked}: {:?}",
            offsets(&out, base)
        );
        assert_eq!(t.s.tcp_stats().fast_retransmits, u64::from(lost));
    }
}

// ------------------------------------------------------------------ ICMP

fn icmp_unreachable(code: u8, quoted_tcp: &S, mtu: u16) -> Vec<u8> {
    // The datagram we sent, as quoted: our header plus the first 8 octets.
    let q = quoted_tcp.clone();
    let mut h = testing::ipv4_header(HOST, PEER, IpProtocol::TCP, 64);
    h.dont_fragment = true;
    let seg = {
        let hdr = TcpHeader::new(q.sport, q.dport, q.seq, q.ack, TcpFlags(q.flags), 0);
        let mut b = vec![0u8; 20];
        hdr.emit(HOST, PEER, &[], &mut b).unwrap();
        b
    };
    let quoted = testing::ipv4_datagram(&h, &seg[..8]);
    let mut icmp = vec![3u8, code, 0, 0, 0, 0];
    icmp.extend_from_slice(&mtu.to_be_bytes());
    icmp.extend_from_slice(&quoted);
    let sum = wirecheck_codec::checksum::internet_checksum(&icmp);
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    testing::from_peer(HOST, IpProtocol::ICMP, &icmp)
}

#[test]
fn icmp_port_unreachable_is_a_hard_error() {
    let mut t = T::new(plain());
    let (h, syn) = connect(&mut t);
    t.s.handle_frame(t.now, IF0, &icmp_unreachable(3, &syn, 0));
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().iter().any(|e| matches!(
        e,
        Event::TcpError {
            error: TcpError::Unreachable(_),
            ..
        }
    )));
}

#[test]
fn icmp_host_unreachable_is_soft_and_bad_sequence_is_ignored() {
    let mut t = T::new(plain());
    let (h, syn) = connect(&mut t);
    // A quoted sequence number outside SND.UNA..SND.NXT: ignored [RFC 5927].
    let mut wrong = syn.clone();
    wrong.seq = syn.seq.wrapping_add(1000);
    t.s.handle_frame(t.now, IF0, &icmp_unreachable(3, &wrong, 0));
    assert_eq!(t.state(h), Some(TcpState::SynSent));
    assert_eq!(t.s.tcp_stats().icmp_ignored, 1);
    t.s.handle_frame(t.now, IF0, &icmp_unreachable(1, &syn, 0));
    assert_eq!(t.state(h), Some(TcpState::SynSent));
    assert!(t
        .events()
        .iter()
        .any(|e| matches!(e, Event::TcpNetworkError { handle, .. } if *handle == h)));
}

#[test]
fn fragmentation_needed_lowers_the_mss() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[1u8; 1460]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out[0].payload.len(), 1460);
    t.s.handle_frame(t.now, IF0, &icmp_unreachable(4, &out[0], 1000));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out[0].seq, iss + 1);
    assert_eq!(
        out[0].payload.len(),
        960,
        "resent at once with MTU 1000 − 40"
    );
    assert_eq!(t.s.tcp_info(h).unwrap().send_mss, 960);
    // Slow start after the drop [RFC 1191 § 6.4]: one segment until an ACK arrives, even
    // though cwnd would allow the other 500 octets too.
    assert_eq!(out.len(), 1, "{out:?}");
    let out = t.send(S::new(1001, iss + 961, ACK));
    assert_eq!(
        out.iter()
            .map(|o| (o.seq, o.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 961, 500)]
    );
}

// ------------------------------------------------------------------ keep-alive

#[test]
fn keepalive_probes_and_gives_up() {
    let mut c = plain();
    c.tcp.keepalive = Some(KeepAlive {
        idle: Duration::from_secs(60),
        interval: Duration::from_secs(10),
        count: 3,
    });
    let mut t = T::new(c);
    let (h, iss) = t.established(1000);
    let out = t.advance(Duration::from_secs(59));
    assert!(out.is_empty());
    let out = t.advance(Duration::from_secs(2));
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].seq, out[0].payload.len()),
        (iss, 0),
        "SEG.SEQ = SND.NXT − 1"
    );
    // Answered: the idle timer restarts.
    t.send(S::new(1001, iss + 1, ACK));
    assert!(t.advance(Duration::from_secs(59)).is_empty());
    let out = t.advance(Duration::from_secs(100));
    assert_eq!(out.len(), 3);
    assert_eq!(t.state(h), Some(TcpState::Closed));
    assert!(t.events().contains(&Event::TcpError {
        handle: h,
        error: TcpError::TimedOut
    }));
}

#[test]
fn keepalive_is_off_by_default() {
    let mut t = T::new(plain());
    let (h, _) = t.established(1000);
    assert!(t.advance(Duration::from_secs(100_000)).is_empty());
    assert_eq!(t.state(h), Some(TcpState::Established));
}

/// `tcp_set_keepalive` is per connection: turning it on for one connection (the stack-wide
/// setting being off) neither turns it on for connections opened later nor for others.
#[test]
fn keepalive_set_on_one_connection_stays_with_it() {
    let mut t = T::new(plain());
    let (first, iss) = t.established(1000);
    t.s.tcp_set_keepalive(first, true).unwrap();
    // A second connection from another peer port, opened afterwards.
    let other = |seq, ack, flags| S {
        sport: PEER_PORT + 1,
        ..S::new(seq, ack, flags)
    };
    let out = t.send(other(5000, 0, SYN).mss(1460));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(t.send(other(5001, out[0].seq + 1, ACK)).is_empty());
    let l = t.events().iter().find_map(|e| match e {
        Event::TcpIncoming(l) => Some(*l),
        _ => None,
    });
    let (second, _) = t.s.tcp_accept(l.unwrap()).unwrap().unwrap();
    assert_eq!(t.state(second), Some(TcpState::Established));
    // Two hours idle (RFC 1122's default): only the first connection probes. (The peer's
    // ARP entry is renewed first: it would have expired by then.)
    assert!(t.advance(Duration::from_secs(7000)).is_empty());
    t.s.arp_insert(t.now, IF0, PEER, PEER_MAC);
    let out = t.advance(Duration::from_secs(201));
    assert_eq!(
        out.iter().map(|s| (s.dport, s.seq)).collect::<Vec<_>>(),
        [(PEER_PORT, iss)],
        "{out:?}"
    );
    // Turned off again: no more probes.
    t.s.tcp_set_keepalive(first, false).unwrap();
    assert!(t.advance(Duration::from_secs(100_000)).is_empty());
    assert_eq!(
        t.s.tcp_set_keepalive(TcpHandle(9999), true),
        Err(StackError::InvalidHandle)
    );
}

/// Keep-alive turned on for a connection idle longer than `idle + count·interval` sends one
/// probe at once and the next an interval later, not every probe at once (they counted from
/// the last segment received), and the connection lives while the probes are answered.
#[test]
fn keepalive_turned_on_after_a_long_idle_probes_one_at_a_time() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    assert!(t.advance(Duration::from_secs(3 * 3600)).is_empty());
    t.s.arp_insert(t.now, IF0, PEER, PEER_MAC);
    t.s.tcp_set_keepalive(h, true).unwrap();
    let out = t.advance(Duration::from_millis(1));
    assert_eq!(out.len(), 1, "one probe: {out:?}");
    assert!(t.s.poll_timeout().is_some_and(|d| d > t.now));
    // Unanswered: the next one 75 s later (RFC 1122's default interval), not sooner.
    assert!(t.advance(Duration::from_secs(74)).is_empty());
    assert_eq!(t.advance(Duration::from_secs(2)).len(), 1);
    // Answered: idle again for two hours before the next.
    t.send(S::new(1001, iss + 1, ACK));
    t.advance(Duration::from_secs(7199));
    assert_eq!(t.s.tcp_stats().keepalives_sent, 2);
    assert_eq!(t.state(h), Some(TcpState::Established));
    t.advance(Duration::from_secs(2));
    assert_eq!(t.s.tcp_stats().keepalives_sent, 3);
}

// ------------------------------------------------------------------ urgent data

#[test]
fn urgent_data_is_sent_with_urg_and_a_pointer_past_it_until_acknowledged() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    const URG: TcpFlags = TcpFlags::URG;
    t.s.tcp_send(t.now, h, b"ab").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!((out.len(), out[0].flags & URG.0), (1, 0), "{out:?}");
    t.s.tcp_send(t.now, h, b"cd").unwrap();
    assert!(sent_tcp(&mut t.s).is_empty(), "Nagle holds ordinary data");
    // Urgent data goes at once, with what Nagle held, and URG pointing past its last octet
    // (RFC 6093 § 4): "cd!" at iss+3, the urgent octet '!' at iss+5, the pointer 3.
    assert_eq!(t.s.tcp_send_urgent(t.now, h, b"!"), Ok(1));
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        (out[0].seq, &out[0].payload[..], out[0].flags, out[0].urgent),
        (iss + 3, &b"cd!"[..], fl(&[ACK, PSH, URG]).0, 3)
    );
    // A retransmission carries it too.
    let out = t.advance(Duration::from_millis(1001));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].seq, out[0].flags & URG.0), (iss + 1, URG.0));
    assert_eq!(
        out[0].urgent, 5,
        "from iss+1, the octet after the urgent data is 5 on"
    );
    // The pure ACK for arriving data is at SND.NXT, past the urgent data: no URG.
    let out = t.send(S::new(1001, iss + 1, fl(&[ACK, PSH])).data(b"x"));
    assert!(out.iter().all(|s| s.flags & URG.0 == 0), "{out:?}");
    // Once acknowledged, urgent mode ends: later data goes without URG.
    t.send(S::new(1002, iss + 6, ACK));
    t.s.tcp_send(t.now, h, b"e").unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].flags & URG.0, out[0].urgent), (0, 0));
}

#[test]
fn urgent_pointer_far_ahead_is_sent_as_65535() {
    let mut config = plain();
    config.tcp.send_buffer = 200_000;
    let mut t = T::new(config);
    let (h, iss) = t.established(1000);
    let data = vec![7u8; 70_000];
    assert_eq!(t.s.tcp_send_urgent(t.now, h, &data), Ok(70_000));
    let out = sent_tcp(&mut t.s);
    assert!(!out.is_empty());
    assert_eq!(out[0].seq, iss + 1);
    assert_eq!(
        (out[0].flags & TcpFlags::URG.0, out[0].urgent),
        (TcpFlags::URG.0, 65_535),
        "the urgent data ends 70000 octets on: more than 16 bits say"
    );
}

#[test]
fn received_urgent_pointer_is_reported_and_data_stays_inline() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    assert_eq!(t.s.tcp_urgent_mark(h), None);
    // "abcde" with the urgent pointer 3: the urgent data ends before 'd' (RFC 6093 § 4).
    t.send(S::new(1001, iss + 1, ACK).data(b"abcde").urg(3));
    let events = t.events();
    assert!(events.contains(&Event::TcpUrgent(h)), "{events:?}");
    assert!(events.contains(&Event::TcpReadable(h)), "{events:?}");
    assert_eq!(t.s.tcp_urgent_mark(h), Some(3));
    let mut buf = [0u8; 2];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(2));
    assert_eq!(&buf, b"ab");
    assert_eq!(t.s.tcp_urgent_mark(h), Some(1));
    // A segment whose pointer is not ahead (overlapping "de", new "f"; pointer at 1004 again)
    // leaves it alone: RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP).
    t.send(S::new(1004, iss + 1, ACK).data(b"def").urg(0));
    assert_eq!(t.s.tcp_urgent_mark(h), Some(1));
    assert!(!t.events().contains(&Event::TcpUrgent(h)));
    let mut buf = [0u8; 8];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"cdef", "urgent data is delivered inline");
    assert_eq!(t.s.tcp_urgent_mark(h), None, "read past the mark");
    // A pointer ahead of the data that has arrived.
    t.send(S::new(1007, iss + 1, ACK).data(b"gh").urg(10));
    assert_eq!(t.s.tcp_urgent_mark(h), Some(10));
}

// ------------------------------------------------------------------ IP source routes

/// A SYN arriving with a completed loose source route {G1, G2 >>}: the connection keeps the
/// reversed route, and the SYN-ACK and every later segment go to G2 (through the gateway)
/// carrying {>>G1, PEER} [RFC 1122 § 4.2.3.8; RFC 9293 MUST-53]. The TCP checksum's
/// pseudo-header names the final destination, PEER [RFC 9293 § 3.1]; the 12 octets of IP
/// options come off the send MSS, not the MSS announced [§ 3.7.1].
#[test]
fn passive_open_keeps_the_return_route_for_every_segment() {
    let gateway = Ipv4Addr::new(10, 0, 0, 254);
    let gateway_mac = MacAddr([2, 0, 0, 0, 0, 0xfe]);
    let g2 = Ipv4Addr::new(198, 51, 100, 9);
    let mut t = T::new(plain());
    t.s.add_route(crate::Route::default_via(gateway, IF0))
        .unwrap();
    t.s.arp_insert(t.now, IF0, gateway, gateway_mac);
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
    let lsrr = [131u8, 11, 12, 192, 0, 2, 7, 198, 51, 100, 9, 0];
    let syn = S::new(1000, 0, SYN).mss(1460).segment();
    let frame = testing::ipv4_frame(
        testing::HOST_MAC,
        PEER_MAC,
        PEER,
        HOST,
        IpProtocol::TCP,
        64,
        &lsrr,
        &syn,
    );
    t.s.handle_frame(t.now, IF0, &frame);
    let routed = |out: Vec<Decoded>| -> Vec<S> {
        out.into_iter()
            .map(|d| {
                let Decoded::Ipv4 {
                    source,
                    destination,
                    eth_destination,
                    options,
                    payload,
                    total_length,
                    ..
                } = d
                else {
                    panic!("{d:?}")
                };
                assert_eq!(
                    (source, destination, eth_destination),
                    (HOST, g2, gateway_mac)
                );
                assert_eq!(&options[..], &[131, 11, 4, 192, 0, 2, 7, 10, 0, 0, 2, 0]);
                assert!(usize::from(total_length) <= 1500);
                assert_eq!(
                    TcpHeader::verify_checksum(HOST, PEER, &payload),
                    wirecheck_codec::ChecksumStatus::Good
                );
                decode_tcp(&payload)
            })
            .collect()
    };
    let out = routed(testing::sent(&mut t.s));
    let [synack] = &out[..] else {
        panic!("{out:?}")
    };
    assert_eq!(synack.flags, fl(&[SYN, ACK]).0);
    assert_eq!(
        synack.mss,
        Some(1460),
        "the MSS announced ignores IP options"
    );
    let iss = synack.seq;
    // The rest of the handshake arrives without the option: the route is kept.
    assert!(t.send(S::new(1001, iss + 1, ACK)).is_empty());
    let (h, _) = t.s.tcp_accept(l).unwrap().unwrap();
    assert_eq!(t.s.tcp_send(t.now, h, &[7; 3000]).unwrap(), 3000);
    let out = routed(testing::sent(&mut t.s));
    assert!(!out.is_empty());
    assert_eq!(out[0].seq, iss + 1);
    assert_eq!(
        out[0].payload.len(),
        1448,
        "1460 less the 12 octets of IP options"
    );
    // A reply to data (an ACK) and the FIN are routed too (after a shutdown: the
    // application still reads, so the data is acknowledged, not reset).
    let out =
        t.s.tcp_shutdown(t.now, h)
            .map(|_| routed(testing::sent(&mut t.s)));
    assert!(out.is_ok());
    let d = S::new(1001, iss + 1, ACK).data(b"hi").segment();
    t.s.handle_frame(t.now, IF0, &testing::from_peer(HOST, IpProtocol::TCP, &d));
    let out = routed(testing::sent(&mut t.s));
    assert!(out.iter().all(|s| s.ack == 1003), "{out:?}");
}

/// Without a source route, nothing changes: no IP options, straight to the peer.
#[test]
fn passive_open_without_source_route_sends_no_ip_options() {
    let mut t = T::new(plain());
    t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
    t.s.handle_frame(t.now, IF0, &S::new(1, 0, SYN).mss(1460).frame());
    let out = testing::sent(&mut t.s);
    let [Decoded::Ipv4 {
        destination,
        options,
        ..
    }] = &out[..]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*destination, PEER);
    assert!(options.is_empty());
}

/// RFC 9293 § 3.10.7.4 MUST-58/59, RFC 1122 § 4.2.2.20: segments handed in together (one
/// batch of frames before the driver polls) are all processed before an ACK goes out, and one
/// ACK covers them, out-of-order and hole-filling segments included (those used to be
/// acknowledged one by one while the batch was being handled).
#[test]
fn a_batch_of_out_of_order_segments_gets_one_ack() {
    let (mut t, _h, iss) = sack_receiver();
    let frame = |seq: u32| S::new(seq, iss + 1, ACK).data(&[0u8; 500]).frame();
    // A hole at 5000..5500, then a batch: two segments beyond the hole, then the hole.
    for seq in [5500, 6000, 5000] {
        t.s.handle_frame(t.now, IF0, &frame(seq));
    }
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1, "one ACK for the batch: {out:?}");
    assert_eq!((out[0].ack, out[0].sack.len()), (6500, 0));
    // Alone, an out-of-order segment is still acknowledged at once.
    let out = t.send(S::new(7000, iss + 1, ACK).data(&[0u8; 500]));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].ack, &out[0].sack[..]), (6500, &[(7000, 7500)][..]));
}

/// An interface's MTU lowered under an open connection: its later segments fit the new MTU
/// (none is refused), and a segment the IP layer does refuse (here, no route any more) is
/// counted, not lost unseen.
#[test]
fn a_lowered_mtu_shrinks_segments_and_refused_ones_are_counted() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, &[1u8; 100]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    t.send(S::new(1001, iss + 101, ACK));
    t.s.set_mtu(IF0, 576).unwrap();
    t.s.tcp_send(t.now, h, &[2u8; 1400]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        out.iter().map(|s| s.payload.len()).collect::<Vec<_>>(),
        vec![536, 536],
        "576 less 40 octets of headers; the rest waits (Nagle)"
    );
    assert_eq!(t.s.tcp_stats().segments_not_sent, 0);
    let out = t.send(S::new(1001, iss + 101 + 1072, ACK));
    assert_eq!(out[0].payload.len(), 328, "the rest");
    t.send(S::new(1001, iss + 101 + 1400, ACK));
    assert_eq!(t.s.remove_route(Ipv4Addr::new(10, 0, 0, 0), 24), 1);
    t.s.tcp_send(t.now, h, &[3u8; 100]).unwrap();
    assert!(sent_tcp(&mut t.s).is_empty());
    assert!(t.s.tcp_stats().segments_not_sent > 0);
}

// ------------------------------------------------------------------ the invalid-ACK rate limit

/// `<SEQ=seq><ACK=ack><CTL=ACK>` without data, as every reply to an unacceptable segment is.
fn is_bare_ack(s: &S, seq: u32, ack: u32) -> bool {
    (s.seq, s.ack, s.flags, s.payload.len()) == (seq, ack, ACK.0, 0)
}

/// A bare ACK outside the receive window draws one ACK at once [RFC 9293 § 3.10.7.4], then no
/// other reply to a bare unacceptable segment (out of the window, acknowledging something not
/// sent or too old) for [`TcpConfig::invalid_ack_interval`], 500 ms by default, as Linux's
/// `tcp_invalid_ratelimit`. Segments with data or FIN, SYNs and RSTs are answered as before.
#[test]
fn unacceptable_bare_acks_are_answered_once_per_interval() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let stray = S::new(1001 + 100_000, iss + 1, ACK);
    let first = t.now;
    let out = t.send(stray.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
        "{out:?}"
    );
    // A burst over the next 400 ms: no reply.
    for _ in 0..10 {
        t.now += Duration::from_millis(40);
        assert_eq!(t.send(stray.clone()), vec![]);
    }
    // Bare ACKs with an unacceptable ACK field share the limit: one of data not yet sent, one
    // older than SND.UNA − MAX.SND.WND [RFC 5961 § 5.2].
    assert_eq!(t.send(S::new(1001, iss + 5000, ACK)), vec![]);
    assert_eq!(t.send(S::new(1001, iss.wrapping_sub(200_000), ACK)), vec![]);
    // Segments that occupy sequence space are still answered, each: data beyond the window,
    // old data below RCV.NXT, a FIN below it, data with an ACK of unsent data.
    for seg in [
        S::new(1001 + 100_000, iss + 1, ACK).data(b"x"),
        S::new(991, iss + 1, ACK).data(b"0123456789"),
        S::new(1000, iss + 1, fl(&[FIN, ACK])),
        S::new(1001, iss + 5000, ACK).data(b"evil"),
    ] {
        let out = t.send(seg.clone());
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
            "{seg:?}: {out:?}"
        );
    }
    // So are in-window out-of-order data, and challenge ACKs (which have their own limit).
    let out = t.send(S::new(1101, iss + 1, ACK).data(b"later"));
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
        "{out:?}"
    );
    for seg in [S::new(1500, 0, RST), S::new(1500, 0, SYN)] {
        let out = t.send(seg.clone());
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
            "{seg:?}: {out:?}"
        );
    }
    let stats = t.s.tcp_stats().clone();
    assert_eq!(stats.invalid_acks_suppressed, 12);
    assert_eq!(stats.challenge_acks, 2);
    assert_eq!(
        (stats.out_of_window, stats.ack_of_unsent, stats.ack_too_old),
        (1 + 10 + 3, 2, 1),
        "every one counted, answered or not"
    );
    // 499 ms after the first reply, still none; at 500 ms, one again, then none.
    t.now = first + Duration::from_millis(499);
    assert_eq!(t.send(stray.clone()), vec![]);
    t.now = first + Duration::from_millis(500);
    let out = t.send(stray.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
        "{out:?}"
    );
    assert_eq!(t.send(S::new(1001, iss + 5000, ACK)), vec![]);
    assert_eq!(t.s.tcp_stats().invalid_acks_suppressed, 14);
    assert_eq!(t.state(h), Some(TcpState::Established));
}

/// The limit is per connection: a second connection's first unacceptable segment is answered
/// while the first connection's replies are held back.
#[test]
fn the_invalid_ack_limit_is_per_connection() {
    let mut t = T::new(plain());
    let (_, iss) = t.established(1000);
    let mut other = S::new(7000, 0, SYN).mss(1460);
    other.sport = PEER_PORT + 1;
    let out = t.send(other);
    let iss2 = out[0].seq;
    let mut ack = S::new(7001, iss2 + 1, ACK);
    ack.sport = PEER_PORT + 1;
    assert_eq!(t.send(ack), vec![]);
    let out = t.send(S::new(1001 + 100_000, iss + 1, ACK));
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
        "{out:?}"
    );
    assert_eq!(t.send(S::new(1001 + 100_000, iss + 1, ACK)), vec![]);
    let mut stray = S::new(7001 + 100_000, iss2 + 1, ACK);
    stray.sport = PEER_PORT + 1;
    let out = t.send(stray);
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss2 + 1, 7001),
        "{out:?}"
    );
}

/// An interval of zero turns the limit off: every unacceptable bare ACK is answered.
#[test]
fn an_invalid_ack_interval_of_zero_answers_every_one() {
    let mut c = plain();
    c.tcp.invalid_ack_interval = Duration::ZERO;
    let mut t = T::new(c);
    let (_, iss) = t.established(1000);
    for seg in [
        S::new(1001 + 100_000, iss + 1, ACK),
        S::new(1001 + 100_000, iss + 1, ACK),
        S::new(1001, iss + 5000, ACK),
        S::new(1001 + 100_000, iss + 1, ACK),
    ] {
        let out = t.send(seg);
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
            "{out:?}"
        );
    }
    assert_eq!(t.s.tcp_stats().invalid_acks_suppressed, 0);
}

/// PAWS rejects [RFC 7323 § 5.3] are answered under the same limit: the first bare ACK with
/// an old TSval at once, repeats within the interval not; old data always.
#[test]
fn paws_rejected_bare_acks_are_answered_once_per_interval() {
    let mut t = T::new(Config::default());
    let (_, h, iss) = t.accepted(
        1000,
        S::new(1000, 0, SYN).mss(1460).ts(100, 0).ws(0).sack_ok(),
    );
    t.send(S::new(1001, iss + 1, ACK).ts(200, 0).data(b"new"));
    t.advance(Duration::from_millis(300)); // the delayed ACK
    let old = S::new(1004, iss + 1, ACK).ts(150, 0);
    let first = t.now;
    let out = t.send(old.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1004),
        "{out:?}"
    );
    assert_eq!(out[0].ts.map(|t| t.1), Some(200), "TSecr is TS.Recent");
    for _ in 0..5 {
        t.now += Duration::from_millis(90);
        assert_eq!(t.send(old.clone()), vec![]);
    }
    let out = t.send(old.clone().data(b"old"));
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1004),
        "{out:?}"
    );
    let stats = t.s.tcp_stats();
    assert_eq!((stats.paws_rejected, stats.invalid_acks_suppressed), (7, 5));
    t.now = first + Duration::from_millis(500);
    let out = t.send(old.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1004),
        "{out:?}"
    );
    assert_eq!(t.send(old), vec![]);
    let mut buf = [0u8; 8];
    assert_eq!(t.s.tcp_recv(t.now, h, &mut buf), Ok(3), "only the new data");
}

/// TIME-WAIT, as Linux's `tcp_timewait_state_process`: a retransmitted FIN is acknowledged
/// every time (and the 2·MSL wait restarts) [RFC 9293 § 3.10.7.4], since its sender needs the
/// ACK to close; stray bare ACKs there are answered once per interval.
#[test]
fn time_wait_acks_every_retransmitted_fin_but_limits_stray_acks() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let snd_max = into_time_wait(&mut t, h, iss, 1001, None);
    let fin = S::new(1001, snd_max, fl(&[FIN, ACK]));
    let stray = S::new(1002 + 100_000, snd_max, ACK);
    let out = t.send(stray.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], snd_max, 1002),
        "{out:?}"
    );
    for _ in 0..4 {
        t.now += Duration::from_millis(100);
        assert_eq!(t.send(stray.clone()), vec![]);
        let out = t.send(fin.clone());
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], snd_max, 1002),
            "{out:?}"
        );
    }
    assert_eq!(t.s.tcp_stats().invalid_acks_suppressed, 4);
    // The wait restarted with the last FIN: 2·MSL (120 s) from it, past the first one's end.
    let last_fin = t.now;
    assert_eq!(t.advance(Duration::from_millis(119_900)), vec![]);
    assert_eq!(t.state(h), Some(TcpState::TimeWait));
    let out = t.send(stray);
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], snd_max, 1002),
        "{out:?}"
    );
    t.advance((last_fin + Duration::from_secs(121)).saturating_duration_since(t.now));
    assert_eq!(t.state(h), None, "closed and freed");
}

/// Keep-alive probes [RFC 9293 § 3.8.4: SEG.SEQ = SND.NXT − 1] are unacceptable segments, and
/// a bare one comes under the limit as in Linux; a peer probes at intervals far longer than
/// it (75 s by default), so each is answered. A probe with one octet of garbage is answered
/// whenever it comes.
#[test]
fn keep_alive_probes_are_answered() {
    let mut t = T::new(plain());
    let (_, iss) = t.established(1000);
    let probe = S::new(1000, iss + 1, ACK);
    for _ in 0..3 {
        t.now += Duration::from_secs(75);
        let out = t.send(probe.clone());
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
            "{out:?}"
        );
        let out = t.send(probe.clone().data(b"\0"));
        assert!(
            out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
            "{out:?}"
        );
    }
    // Two bare probes within 500 ms: the second is not answered.
    assert_eq!(t.send(probe), vec![]);
    assert_eq!(t.s.tcp_stats().invalid_acks_suppressed, 1);
}

/// A clock handed in that went backwards (time is an input) does not hold replies back
/// until it has caught up again.
#[test]
fn a_clock_that_went_backwards_does_not_silence_the_replies() {
    let mut t = T::new(plain());
    let (_, iss) = t.established(1000);
    let stray = S::new(1001 + 100_000, iss + 1, ACK);
    t.now += Duration::from_secs(5);
    assert_eq!(t.send(stray.clone()).len(), 1);
    t.now = Instant::from_micros(t.now.as_micros() - 3_000_000);
    let out = t.send(stray.clone());
    assert!(
        out.len() == 1 && is_bare_ack(&out[0], iss + 1, 1001),
        "{out:?}"
    );
    assert_eq!(t.send(stray), vec![], "limited from the new instant on");
}

/// An interface's MTU lowered while the route to the peer is away (so the connection did
/// not hear of it): once the route is back, the first segment, too long for the interface
/// with DF set, is refused by IP, and the connection's segments fit from then on, starting
/// with that one at the smaller size. (Every segment used to be refused, resent at the same
/// size, until the user timeout ended the connection.)
#[test]
fn an_mtu_lowered_while_the_route_is_away_shrinks_segments_once_it_is_back() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    let lan = Ipv4Addr::new(10, 0, 0, 0);
    assert_eq!(t.s.remove_route(lan, 24), 1);
    t.s.set_mtu(IF0, 576).unwrap();
    t.s.add_route(crate::ip::route::Route::direct(lan, 24, IF0))
        .unwrap();
    t.s.tcp_send(t.now, h, &[2u8; 1400]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        t.s.tcp_stats().segments_not_sent,
        1,
        "the 1400-octet segment"
    );
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 536)],
        "576 less 40 octets of headers, one segment until an ACK comes [RFC 1191 § 6.4]"
    );
    let out = t.send(S::new(1001, iss + 1 + 536, ACK));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1 + 536, 536), (iss + 1 + 1072, 328)],
        "the rest of what was refused"
    );
    assert!(t.send(S::new(1001, iss + 1 + 1400, ACK)).is_empty());
    assert_eq!(t.s.tcp_stats().segments_not_sent, 1);
    assert_eq!(t.s.tcp_info(h).unwrap().send_mss, 536);
}

// ------------------------------------------------------------------ found in review

/// (SEG.SEQ, SEG.ACK) of the segments without data among `out`, in order.
fn bare_ack_fields(out: &[S]) -> Vec<(u32, u32)> {
    out.iter()
        .filter(|s| s.payload.is_empty())
        .map(|s| (s.seq, s.ack))
        .collect()
}

/// The crossing SYN,ACK of a simultaneous open carries a SYN, so its window is not scaled
/// [RFC 7323 § 2.2], even though both sides offered window scaling.
#[test]
fn the_crossing_syn_ack_window_is_not_scaled() {
    let mut c = plain();
    c.tcp.window_scaling = true;
    let mut t = T::new(c);
    let (h, syn) = connect(&mut t);
    let out = t.send(S::new(3000, 0, SYN).mss(1460).ws(7).win(1000));
    assert_eq!(out[0].flags, fl(&[SYN, ACK]).0);
    t.send(
        S::new(3000, syn.seq + 1, fl(&[SYN, ACK]))
            .mss(1460)
            .ws(7)
            .win(1000),
    );
    assert_eq!(t.state(h), Some(TcpState::Established));
    assert_eq!(t.s.tcp_info(h).unwrap().send_window, 1000);
}

/// A listener's half-open connection sent no SYN of its own, so a SYN,ACK "answering" its
/// SYN,ACK completes nothing: only a simultaneous open takes the crossing SYN,ACK.
#[test]
fn a_passive_open_does_not_take_a_crossing_syn_ack() {
    let mut t = T::new(plain());
    let l = t.s.tcp_listen(SocketAddrV4::new(HOST, PORT), 8).unwrap();
    let out = t.send(S::new(1000, 0, SYN).mss(1460));
    let iss = out[0].seq;
    t.send(S::new(1000, iss + 1, fl(&[SYN, ACK])).mss(1460));
    assert!(!t.events().contains(&Event::TcpIncoming(l)));
    assert_eq!(t.s.tcp_accept(l), Ok(None));
}

/// A window that reopens smaller than what is outstanding (after the first probe pulled
/// SND.NXT back): an ACK without data goes at the window's right edge, SND.UNA + SND.WND,
/// not at SND.MAX beyond it, where the peer would drop it [RFC 9293 § 3.10.7.4].
#[test]
fn a_bare_ack_stays_inside_a_window_reopened_smaller() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[7u8; 3000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 3);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    let d = t.s.poll_timeout().unwrap();
    t.now = d;
    t.s.handle_timeout(d);
    let probe = sent_tcp(&mut t.s);
    assert_eq!((probe[0].seq, probe[0].payload.len()), (iss + 1, 1));
    let out = t.send(S::new(1001, iss + 1, ACK).win(500));
    assert_eq!(
        out.iter()
            .map(|s| (s.seq, s.payload.len()))
            .collect::<Vec<_>>(),
        vec![(iss + 1, 500)]
    );
    let out = t.send(S::new(1001, iss + 1, ACK).win(500).data(b"y"));
    let out = [out, t.advance(Duration::from_millis(300))].concat();
    let acks = bare_ack_fields(&out);
    assert_eq!(acks, vec![(iss + 1 + 500, 1002)]);
}

/// A shut window, before any probe: the peer takes a segment only at its RCV.NXT, which its
/// own ACK said is SND.UNA; an ACK without data goes there, not at SND.MAX.
#[test]
fn a_bare_ack_to_a_shut_window_goes_at_snd_una() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, &[7u8; 1000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    let out = t.send(S::new(1001, iss + 1, ACK).win(0).data(b"x"));
    let out = [out, t.advance(Duration::from_millis(300))].concat();
    let acks = bare_ack_fields(&out);
    assert_eq!(acks, vec![(iss + 1, 1002)]);
}

/// A bare ACK at the right edge of our receive window, RCV.NXT + RCV.WND (where a sender
/// whose whole flight was lost puts its ACKs after a timeout), is taken and its ACK field
/// processed, as Linux and the BSDs take it; a RST there is still dropped unanswered, and
/// one octet further a bare ACK is still unacceptable.
#[test]
fn a_bare_ack_at_the_right_edge_of_the_window_is_taken() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    // Our window, from the ACK of one octet.
    t.send(S::new(1001, iss + 1, fl(&[ACK, PSH])).data(b"a"));
    let acks = t.advance(Duration::from_millis(300));
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].ack, 1002);
    let edge = 1002 + u32::from(acks[0].window);
    t.s.tcp_send(t.now, h, &[5u8; 100]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    // One octet past the edge: unacceptable, answered, its ACK field ignored.
    let out = t.send(S::new(edge + 1, iss + 101, ACK));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].seq, out[0].ack), (iss + 101, 1002));
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 100);
    // A RST at the edge: dropped, no challenge ACK.
    let out = t.send(S::new(edge, 0, RST));
    assert_eq!(out, vec![]);
    assert_eq!(t.state(h), Some(TcpState::Established));
    // At the edge: taken, our 100 octets acknowledged, nothing to answer.
    let out = t.send(S::new(edge, iss + 101, ACK));
    assert_eq!(out, vec![]);
    assert_eq!(t.s.tcp_info(h).unwrap().unacknowledged, 0);
}

/// Header prediction's ACK (in-order data acknowledging nothing new) goes where `output`'s
/// would: a segment that shuts the window while our data is outstanding has its ACK at
/// SND.UNA, the peer's RCV.NXT, not at SND.MAX beyond its shut window.
#[test]
fn the_predicted_ack_stays_inside_the_peer_window() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.s.tcp_send(t.now, h, &[7u8; 3000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 3);
    let mut out = t.send(S::new(1001, iss + 1, ACK).win(0).data(&[1u8; 1460]));
    out.extend(t.send(S::new(2461, iss + 1, ACK).win(0).data(&[2u8; 1460])));
    out.extend(t.advance(Duration::from_millis(300)));
    let acks = bare_ack_fields(&out);
    assert_eq!(acks.first(), Some(&(iss + 1, 3921)), "{acks:?}");
}

/// A bare ACK taken at the right edge of our window leaves SND.WL1 ahead of the peer's
/// RCV.NXT; the peer's next segment, at its RCV.NXT, acknowledges more and shuts its window,
/// and that window is taken (the ACK advanced SND.UNA), so nothing is sent beyond it.
#[test]
fn a_window_shut_by_an_advancing_ack_is_taken_after_an_edge_ack() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_set_nodelay(h, true).unwrap();
    t.send(S::new(1001, iss + 1, ACK).win(1000));
    t.s.tcp_send(t.now, h, &[7u8; 1000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    t.send(S::new(1001, iss + 1, fl(&[ACK, PSH])).win(1000).data(b"a"));
    let acks = t.advance(Duration::from_millis(300));
    let edge = 1002 + u32::from(acks.last().unwrap().window);
    t.send(S::new(edge, iss + 501, ACK).win(500));
    t.send(S::new(1002, iss + 1001, ACK).win(0).data(b"b"));
    t.advance(Duration::from_millis(300));
    assert_eq!(t.s.tcp_info(h).unwrap().send_window, 0);
    t.s.tcp_send(t.now, h, &[8u8; 500]).unwrap();
    let out = sent_tcp(&mut t.s);
    assert!(out.iter().all(|s| s.payload.is_empty()), "{out:?}");
}

/// An abort with the peer's window shut and data outstanding: the RST goes at SND.UNA, the
/// peer's RCV.NXT, where it is taken, not at SND.MAX beyond the window, where it is dropped
/// unseen [RFC 5961 § 3.2].
#[test]
fn an_abort_into_a_shut_window_resets_at_snd_una() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.s.tcp_send(t.now, h, &[7u8; 1000]).unwrap();
    assert_eq!(sent_tcp(&mut t.s).len(), 1);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    t.s.tcp_abort(t.now, h).unwrap();
    let out = sent_tcp(&mut t.s);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].seq, out[0].flags & RST.0), (iss + 1, RST.0));
}

/// Our FIN into a shut window: it goes once at the close (as BSD sends it), then once per
/// retransmission timeout as the window probe (not twice), and when the window opens it
/// goes again at once rather than at the next, backed-off, timeout.
#[test]
fn a_fin_beyond_a_shut_window_goes_again_as_soon_as_the_window_opens() {
    let mut t = T::new(plain());
    let (h, iss) = t.established(1000);
    t.send(S::new(1001, iss + 1, ACK).win(0));
    t.s.tcp_close(t.now, h).unwrap();
    let fin = fl(&[FIN, ACK]).0;
    let out = sent_tcp(&mut t.s);
    assert_eq!(
        out.iter().map(|s| (s.seq, s.flags)).collect::<Vec<_>>(),
        vec![(iss + 1, fin)]
    );
    assert_eq!(t.state(h), Some(TcpState::FinWait1));
    // The retransmission timeout (1 s): one FIN, the probe.
    let out = t.advance(Duration::from_millis(1100));
    assert_eq!(
        out.iter().map(|s| (s.seq, s.flags)).collect::<Vec<_>>(),
        vec![(iss + 1, fin)]
    );
    // The peer, still shut, answers; then its window opens: the FIN goes at once.
    assert_eq!(t.send(S::new(1001, iss + 1, ACK).win(0)), vec![]);
    let out = t.send(S::new(1001, iss + 1, ACK).win(1000));
    assert_eq!(
        out.iter().map(|s| (s.seq, s.flags)).collect::<Vec<_>>(),
        vec![(iss + 1, fin)]
    );
    t.send(S::new(1001, iss + 2, ACK).win(1000));
    assert_eq!(t.state(h), Some(TcpState::FinWait2));
}
