//! Two stacks wired by the simulator: bulk transfers under seeded loss, duplication and
//! reordering deliver every byte exactly once and in order; connection churn leaves nothing
//! behind after TIME-WAIT.

use core::net::{Ipv4Addr, SocketAddrV4};

use proptest::prelude::*;

use crate::sim::{Impairment, Network, NodeId};
use crate::tcp::{TcpHandle, TcpState};
use crate::{Config, Duration, Event, InterfaceConfig, Ipv4Cidr, MacAddr, Stack, StackError};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn pair(seed: u64, config: Config, impairment: Impairment) -> (Network, NodeId, NodeId) {
    pair_seeded(seed, seed, config, impairment)
}

/// Two stacks, a (10.0.0.1) and b (10.0.0.2), on one segment with `impairment`: the network
/// drawn from `seed`, the stacks from `stack_seed` and `stack_seed + 1`.
pub(super) fn pair_seeded(
    seed: u64,
    stack_seed: u64,
    config: Config,
    impairment: Impairment,
) -> (Network, NodeId, NodeId) {
    let mut net = Network::new(seed);
    net.max_capture = 1;
    let seg = net.add_segment("lan", impairment);
    let mut nodes = Vec::new();
    for (i, addr) in [A, B].into_iter().enumerate() {
        let mut s = Stack::new(config.clone().with_seed(stack_seed + i as u64));
        let mac = MacAddr([2, 0, 0, 0, 0, i as u8 + 1]);
        let iface = s
            .add_interface(
                net.now(),
                InterfaceConfig::ethernet(mac, Ipv4Cidr::new(addr, 24)),
            )
            .unwrap();
        let n = net.add_node(if i == 0 { "a" } else { "b" }, s);
        net.attach(n, iface, seg);
        nodes.push(n);
    }
    (net, nodes[0], nodes[1])
}

/// b listens on port 5001 with `backlog`, a connects to it: the listener and a's connection.
pub(super) fn listen_and_connect(
    net: &mut Network,
    a: NodeId,
    b: NodeId,
    backlog: usize,
) -> (TcpHandle, TcpHandle) {
    let l = net
        .stack_mut(b)
        .tcp_listen(SocketAddrV4::new(B, 5001), backlog)
        .unwrap();
    let now = net.now();
    let c = net
        .stack_mut(a)
        .tcp_connect(now, SocketAddrV4::new(B, 5001))
        .unwrap();
    (l, c)
}

/// Sends `total` bytes from a to b over one connection; returns what b read and the
/// virtual time it took.
fn transfer(
    net: &mut Network,
    a: NodeId,
    b: NodeId,
    total: usize,
    close: bool,
) -> (Vec<u8>, Duration) {
    let start = net.now();
    let (l, c) = listen_and_connect(net, a, b, 4);
    let data: Vec<u8> = (0..total)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect();
    let mut sent = 0usize;
    let mut received = Vec::with_capacity(total);
    let mut server: Option<TcpHandle> = None;
    let mut buf = vec![0u8; 65536];
    let mut shut = false;
    let mut eof = false;
    for _ in 0..2_000_000 {
        net.run_for(Duration::from_millis(1));
        let now = net.now();
        while net.stack_mut(a).poll_event().is_some() {}
        if sent < total {
            match net.stack_mut(a).tcp_send(now, c, &data[sent..]) {
                Ok(n) => sent += n,
                Err(e) => panic!("send: {e:?}"),
            }
        } else if close && !shut {
            net.stack_mut(a).tcp_shutdown(now, c).unwrap();
            shut = true;
        }
        while let Some(e) = net.stack_mut(b).poll_event() {
            if let Event::TcpIncoming(_) = e {
                server = net.stack_mut(b).tcp_accept(l).unwrap().map(|x| x.0);
            }
        }
        if let Some(h) = server {
            loop {
                match net.stack_mut(b).tcp_recv(now, h, &mut buf) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => received.extend_from_slice(&buf[..n]),
                    Err(StackError::WouldBlock) => break,
                    Err(e) => panic!("recv: {e:?}"),
                }
            }
        }
        if received.len() >= total && (!close || eof) {
            break;
        }
    }
    assert_eq!(received.len(), data.len(), "every byte arrives");
    assert!(received == data, "in order, exactly once");
    let took = Duration::from_micros(net.now().as_micros() - start.as_micros());
    if let Some(h) = server {
        if close {
            let now = net.now();
            net.stack_mut(b).tcp_close(now, h).unwrap();
        }
    }
    (received, took)
}

#[test]
fn bulk_transfer_on_a_perfect_link() {
    let (mut net, a, b) = pair(1, Config::default(), Impairment::PERFECT);
    let (_, took) = transfer(&mut net, a, b, 4 << 20, true);
    // 4 MiB in well under a virtual second on a 100 µs link.
    assert!(took < Duration::from_secs(2), "{took:?}");
    net.run_for(Duration::from_secs(130));
    assert_eq!(
        net.stack(a).tcp_connection_count(),
        1,
        "a's handle is still open"
    );
    for n in [a, b] {
        net.stack(n).check_invariants();
    }
    assert_eq!(net.stack(a).tcp_stats().retransmits, 0);
}

#[test]
fn bulk_transfer_with_loss_and_every_option_combination() {
    let lossy = Impairment {
        loss: 0.02,
        duplicate: 0.01,
        reorder: 0.02,
        ..Impairment::PERFECT
    };
    for (sack, ts, ws) in [
        (true, true, true),
        (false, false, false),
        (true, false, true),
        (false, true, false),
    ] {
        let mut c = Config::default();
        c.tcp.sack = sack;
        c.tcp.timestamps = ts;
        c.tcp.window_scaling = ws;
        let (mut net, a, b) = pair(7, c, lossy);
        transfer(&mut net, a, b, 300_000, true);
    }
}

#[test]
fn connection_churn_leaves_no_state_behind() {
    let mut c = Config::default();
    c.tcp.msl = Duration::from_millis(200);
    let (mut net, a, b) = pair(3, c, Impairment::PERFECT);
    let l = net
        .stack_mut(b)
        .tcp_listen(SocketAddrV4::new(B, 7), 64)
        .unwrap();
    let mut done = 0;
    for round in 0..250 {
        let now = net.now();
        let mut clients = Vec::new();
        for _ in 0..8 {
            let h = net
                .stack_mut(a)
                .tcp_connect(now, SocketAddrV4::new(B, 7))
                .unwrap();
            net.stack_mut(a).tcp_send(now, h, b"ping").unwrap();
            net.stack_mut(a).tcp_close(now, h).unwrap();
            clients.push(h);
        }
        net.run_for(Duration::from_millis(5));
        let now = net.now();
        while let Some(e) = net.stack_mut(b).poll_event() {
            if let Event::TcpIncoming(_) = e {
                while let Ok(Some((h, _))) = net.stack_mut(b).tcp_accept(l) {
                    let mut buf = [0u8; 16];
                    let mut got = Vec::new();
                    loop {
                        match net.stack_mut(b).tcp_recv(now, h, &mut buf) {
                            Ok(0) => break,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                            Err(StackError::WouldBlock) => break,
                            Err(e) => panic!("{e:?} in round {round}"),
                        }
                    }
                    assert_eq!(got, b"ping");
                    net.stack_mut(b).tcp_close(now, h).unwrap();
                    done += 1;
                }
            }
        }
        while net.stack_mut(a).poll_event().is_some() {}
        net.run_for(Duration::from_millis(5));
    }
    assert_eq!(done, 2000);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.stack(a).tcp_connection_count(), 0, "TIME-WAIT ended");
    assert_eq!(net.stack(b).tcp_connection_count(), 0);
    assert_eq!(net.stack(b).tcp_state(l), Some(TcpState::Listen));
    // No timer is left either (no TCP timer, nor any other: ARP is resolved).
    for n in [a, b] {
        assert_eq!(net.stack(n).tcp_next_deadline(), None);
        assert_eq!(net.stack(n).poll_timeout(), None);
        net.stack(n).check_invariants();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Any seed, loss up to 5 %, any buffer sizes: every byte once, in order.
    #[test]
    fn bulk_transfer_under_impairment(
        seed in any::<u64>(),
        loss in 0.0f64..0.05,
        dup in 0.0f64..0.03,
        reorder in 0.0f64..0.05,
        send_buffer in 2_000usize..100_000,
        receive_buffer in 2_000usize..100_000,
        total in 1usize..200_000,
    ) {
        let mut c = Config::default();
        c.tcp.send_buffer = send_buffer;
        c.tcp.receive_buffer = receive_buffer;
        c.tcp.sack = seed % 2 == 0;
        c.tcp.timestamps = seed % 3 != 0;
        let imp = Impairment { loss, duplicate: dup, reorder, ..Impairment::PERFECT };
        let (mut net, a, b) = pair(seed, c, imp);
        transfer(&mut net, a, b, total, true);
        for n in [a, b] {
            net.stack(n).check_invariants();
        }
    }
}

/// Segments sent by both stacks so far.
fn segments_out(net: &Network, a: NodeId, b: NodeId) -> u64 {
    net.stack(a).tcp_stats().segments_out + net.stack(b).tcp_stats().segments_out
}

/// Two stacks whose states have come apart: a connection from a to b, idle, and then a
/// segment forged with b's address, port and next sequence number, injected into a. a takes
/// its 8 octets, so a's RCV.NXT is past everything b sent: a's ACK acknowledges data b never
/// sent, b answers with an ACK [RFC 9293 § 3.10.7.4; RFC 5961 § 5.2] whose sequence number is
/// below a's window, a answers that, and so on: the ACK storm that injection into a TCP
/// connection sets off. Returns the network and the nodes with the forged segment sent.
fn desynchronised(config: Config) -> (Network, NodeId, NodeId) {
    use super::{decode_tcp, S};
    use crate::sim::SegmentId;
    use crate::testing::{self, Decoded};
    use wirecheck_codec::tcp::TcpFlags;

    let (mut net, a, b) = pair(11, config, Impairment::PERFECT);
    net.max_capture = 1000;
    let (l, c) = listen_and_connect(&mut net, a, b, 4);
    net.run_for(Duration::from_millis(10));
    let (server, _) = net.stack_mut(b).tcp_accept(l).unwrap().unwrap();
    let now = net.now();
    net.stack_mut(b).tcp_send(now, server, b"hello").unwrap();
    net.run_for(Duration::from_secs(1));
    let now = net.now();
    assert_eq!(net.stack_mut(a).tcp_recv(now, c, &mut [0u8; 16]), Ok(5));
    // b's last segment: its SND.NXT, what it acknowledges of a, its timestamps.
    let last = net
        .captures()
        .iter()
        .rev()
        .find_map(|f| match testing::decode(&f.bytes) {
            Decoded::Ipv4 {
                source, payload, ..
            } if f.from == b && source == B => Some(decode_tcp(&payload)),
            _ => None,
        })
        .expect("b sent segments");
    let a_port = net.stack(a).tcp_info(c).unwrap().local.port();
    let forged = S {
        sport: 5001,
        dport: a_port,
        seq: last.seq.wrapping_add(last.payload.len() as u32),
        ack: last.ack,
        flags: TcpFlags::ACK.0 | TcpFlags::PSH.0,
        window: last.window,
        ts: last.ts,
        payload: b"injected".to_vec(),
        ..S::default()
    };
    net.inject(SegmentId(0), forged.frame());
    net.run_for(Duration::from_millis(1));
    assert_eq!(
        net.stack_mut(a).tcp_recv(now, c, &mut [0u8; 16]),
        Ok(8),
        "a took the forged data"
    );
    (net, a, b)
}

/// The storm above stops: each stack answers the other's first unacceptable ACK and holds
/// back its replies for 500 ms after ([`TcpConfig::invalid_ack_interval`]), long enough for
/// the ping-pong to end. With the limit off, the same stacks exchange ACKs without end.
#[test]
fn the_ack_storm_of_two_desynchronised_stacks_stops() {
    for timestamps in [true, false] {
        let mut c = Config::default();
        c.tcp.timestamps = timestamps;
        let (mut net, a, b) = desynchronised(c.clone());
        let before = segments_out(&net, a, b);
        net.run_for(Duration::from_secs(1));
        let after = segments_out(&net, a, b);
        // a's ACK of the forged data, b's ACK of "unsent data", a's ACK of b's
        // out-of-window ACK; b does not answer that one.
        assert_eq!(after - before, 3, "timestamps {timestamps}");
        assert_eq!(net.stack(a).tcp_stats().invalid_acks_suppressed, 0);
        assert_eq!(net.stack(b).tcp_stats().invalid_acks_suppressed, 1);
        net.run_for(Duration::from_secs(60));
        assert_eq!(segments_out(&net, a, b), after, "silence after");
        for n in [a, b] {
            assert_eq!(net.stack(n).tcp_connection_count(), 1);
            net.stack(n).check_invariants();
        }

        // The control: the same with the limit off is a storm (one ACK each way every
        // 200 µs on this 100 µs link).
        c.tcp.invalid_ack_interval = Duration::ZERO;
        let (mut net, a, b) = desynchronised(c);
        let before = segments_out(&net, a, b);
        net.run_for(Duration::from_secs(1));
        let storm = segments_out(&net, a, b) - before;
        assert!(storm > 1000, "timestamps {timestamps}: {storm} segments");
    }
}
