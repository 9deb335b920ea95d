//! Long-lived connections: two stacks on a lossy simulated link keep one connection open
//! for ten minutes of virtual time, data flowing both ways at a modest pace, while the
//! applications stop reading for long stretches (the windows close and the senders probe
//! them), the interfaces' MTUs go down and up, the route from one end to the other is
//! removed for short spans and put back (sometimes with the MTU lowered meanwhile), and in
//! some runs ARP bindings expire under the transfer. None of this is a reason to give up on
//! the peer: window probes are answered throughout [RFC 1122 § 4.2.2.17], and the outages
//! are short and far apart, so that retransmissions get through well within the user
//! timeout [RFC 9293 § 3.8.3]. The connection must stay ESTABLISHED and deliver every octet
//! exactly once, in order.
//!
//! How far the outages are kept apart matters: with the retransmission timer backed off to
//! its 60 s ceiling, two timers that fire together at both ends can fall into outages (of
//! either end) five times in a row if outages take a third of the time, and then five
//! minutes without an acknowledgment end the connection, rightly. Here one route at a time
//! is away, for at most 20 s, with at least 45 s between outages.
//!
//! These runs found three ways a connection ended although its peer answered: an MTU
//! lowered while the route was away (every later segment refused by IP as too long),
//! ACKs sent at a pulled-back SND.NXT after a timeout (dropped as old by the peer: both
//! ends then timed out), and a window shut with data outstanding for longer than the user
//! timeout (which counted the shut spell). Over 150 seeds of five variants of these lives
//! (750 lives, run once in release mode, not kept), 147 failed without the first fix and 51
//! without the other two; none with all three.

use core::net::Ipv4Addr;

use super::pair::{listen_and_connect, pair_seeded};
use crate::ip::route::Route;
use crate::rng::Rng;
use crate::sim::{Impairment, Network, NodeId};
use crate::tcp::{KeepAlive, TcpHandle, TcpState};
use crate::{Config, Duration, Event, Instant, InterfaceId, Ipv4Cidr, StackError};

const ADDRS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
const LAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 0);
const IF0: InterfaceId = InterfaceId(0);
/// The applications' pace: they write, read and meet the next disturbance this often.
const STEP: Duration = Duration::from_millis(20);
/// The MTUs an interface is set to (the smallest gives an MSS of 256).
const MTUS: [u16; 5] = [296, 576, 1006, 1280, 1500];

/// The `i`-th octet of stream `s` (0: a to b, 1: b to a): a pattern whose period is far
/// longer than any window, so that an octet delivered twice or out of place shows.
fn octet(s: usize, i: u64) -> u8 {
    (i % 251) as u8 ^ (i >> 11) as u8 ^ (s as u8).wrapping_mul(0x5d)
}

/// One run's parameters. Ranges are uniform, in seconds unless said.
#[derive(Debug, Clone, Copy)]
struct Life {
    seed: u64,
    /// Virtual time of disturbed life, after which everything is put right and the
    /// connection only has to deliver what is left (within 5 minutes).
    secs: u64,
    loss: f64,
    /// Duplication and reordering, each with this probability.
    shuffle: f64,
    /// Octets per second each application writes: a to b, b to a.
    rate: [u64; 2],
    /// Each end's receive and send buffer.
    buffer: usize,
    /// ARP binding lifetime (the default, 20 minutes, outlasts a run).
    arp_lifetime: Option<Duration>,
    /// Each end's user timeout.
    user_timeout: Duration,
    /// Reading stops for this long at a time, and goes on `stall_gap` between stalls.
    stall: (u64, u64),
    stall_gap: (u64, u64),
    /// One end's route to the other is away this long (milliseconds), with `outage_gap`
    /// between outages.
    outage_ms: (u64, u64),
    outage_gap: (u64, u64),
    /// An end's MTU changes every `mtu_gap`, and with this chance also while its route is
    /// away (lowered then, unheard of by the connection until the route is back).
    mtu_gap: (u64, u64),
    mtu_down_in_outage: f64,
    /// No timestamps, SACK or window scaling.
    plain: bool,
    keepalive: Option<KeepAlive>,
}

impl Life {
    fn new(seed: u64) -> Life {
        Life {
            seed,
            secs: 600,
            loss: 0.05,
            shuffle: 0.0,
            rate: [16_000, 4_000],
            buffer: 16 * 1024,
            arp_lifetime: None,
            user_timeout: Duration::from_secs(300),
            stall: (20, 120),
            stall_gap: (5, 60),
            outage_ms: (500, 20_000),
            outage_gap: (45, 150),
            mtu_gap: (15, 90),
            mtu_down_in_outage: 0.5,
            plain: false,
            keepalive: None,
        }
    }
}

/// One end: the node, its connection, and the application's state.
#[derive(Debug)]
struct End {
    node: NodeId,
    conn: TcpHandle,
    /// Octets of our stream handed to `tcp_send`.
    written: u64,
    /// Octets of the peer's stream read (and checked).
    read: u64,
    /// What the write pace allows and was not written yet.
    allowance: u64,
    /// Reading stops until then; the next stall starts at `next_stall`.
    stalled_until: Option<Instant>,
    next_stall: Instant,
    next_mtu: Instant,
}

/// An outage: which end lost its route, and when it comes back.
#[derive(Debug, Clone, Copy)]
struct Outage {
    end: usize,
    until: Instant,
}

/// What happened lately, for a failure's message.
#[derive(Debug, Default)]
struct Log {
    lines: Vec<String>,
}

impl Log {
    fn note(&mut self, now: Instant, what: String) {
        if self.lines.len() >= 64 {
            self.lines.remove(0);
        }
        self.lines.push(format!("{now}: {what}"));
    }
}

fn later(now: Instant, secs: u64) -> Instant {
    now + Duration::from_secs(secs)
}

fn pick(rng: &mut Rng, (lo, hi): (u64, u64)) -> u64 {
    lo + rng.below_or_equal(hi - lo)
}

/// What a life met, for the caller to check that it met what it was meant to.
#[derive(Debug, Default)]
struct Outcome {
    /// Octets delivered a to b and b to a, in all and in the second half of the life.
    delivered: [u64; 2],
    delivered_late: [u64; 2],
    /// Window probes and keep-alive probes sent by either end.
    window_probes: u64,
    keepalives: u64,
    /// Segments refused by IP (no route, too long) at either end.
    segments_not_sent: u64,
    outages: u64,
    mtu_changes: u64,
    /// MTUs lowered while the end's route was away.
    mtu_lowered_in_outage: u64,
    stalls: u64,
}

/// Two stacks on one lossy segment, one connection between them (a to b), established.
fn wire(life: &Life) -> Result<(Network, [End; 2]), String> {
    let mut config = Config::default();
    config.tcp.send_buffer = life.buffer;
    config.tcp.receive_buffer = life.buffer;
    config.tcp.user_timeout = life.user_timeout;
    config.tcp.keepalive = life.keepalive;
    if life.plain {
        config.tcp.timestamps = false;
        config.tcp.sack = false;
        config.tcp.window_scaling = false;
    }
    if let Some(l) = life.arp_lifetime {
        config.arp.entry_lifetime = l;
    }
    let impairment = Impairment {
        loss: life.loss,
        duplicate: life.shuffle,
        reorder: life.shuffle,
        delay: Duration::from_millis(2),
        ..Impairment::PERFECT
    };
    let (mut net, a, b) = pair_seeded(life.seed, life.seed * 2, config, impairment);
    let (l, ca) = listen_and_connect(&mut net, a, b, 1);
    for _ in 0..3000 {
        net.run_for(STEP);
        if let Some((cb, _)) = net.stack_mut(b).tcp_accept(l).unwrap() {
            let ends = [(a, ca), (b, cb)].map(|(node, conn)| End {
                node,
                conn,
                written: 0,
                read: 0,
                allowance: 0,
                stalled_until: None,
                next_stall: Instant::ZERO,
                next_mtu: Instant::ZERO,
            });
            return Ok((net, ends));
        }
    }
    Err("the connection did not open".into())
}

/// Lives a connection's life; `Err` (with what happened last) if it ends before its time
/// or loses, duplicates or reorders data.
fn live(life: Life) -> Result<Outcome, String> {
    let (mut net, mut ends) = wire(&life)?;
    let mut rng = Rng::new(life.seed ^ 0x4c49_4645);
    let start = net.now();
    let end_of_life = later(start, life.secs);
    let half_life = later(start, life.secs / 2);
    for e in &mut ends {
        e.next_stall = later(start, pick(&mut rng, life.stall_gap));
        e.next_mtu = later(start, pick(&mut rng, life.mtu_gap));
    }
    let mut outage: Option<Outage> = None;
    let mut next_outage = later(start, pick(&mut rng, life.outage_gap));
    let mut readd_by_address = false;
    let mut read_at_half_life = None;
    let mut log = Log::default();
    let mut out = Outcome::default();
    let mut chunk = Vec::new();
    let mut buf = vec![0u8; 8192];
    let fail = |net: &Network, log: &Log, ends: &[End; 2], why: String| -> String {
        let mut s = format!("{why}\n{life:?}\n");
        for (i, e) in ends.iter().enumerate() {
            let stack = net.stack(e.node);
            s += &format!(
                "end {i}: written {} read {}, {:?}\n  {:?}\n",
                e.written,
                e.read,
                stack.tcp_info(e.conn),
                stack.tcp_stats()
            );
        }
        s + &log.lines.join("\n")
    };
    // Disturbed life, then up to 5 minutes for what is still queued to arrive.
    while net.now() < later(end_of_life, 300) {
        net.run_for(STEP);
        let now = net.now();
        let living = now < end_of_life;
        if now >= half_life && read_at_half_life.is_none() {
            read_at_half_life = Some([ends[1].read, ends[0].read]);
        }
        for i in 0..2 {
            let (node, conn) = (ends[i].node, ends[i].conn);
            while let Some(ev) = net.stack_mut(node).poll_event() {
                match ev {
                    Event::TcpError { .. } | Event::TcpClosed(_) => {
                        let why = format!("end {i} at {now}: {ev:?}");
                        return Err(fail(&net, &log, &ends, why));
                    }
                    Event::TcpNetworkError { error, .. } => {
                        log.note(now, format!("end {i}: soft error {error:?}"));
                    }
                    _ => {}
                }
            }
            // Write at the application's pace (while the disturbances last).
            if living {
                let e = &mut ends[i];
                e.allowance = (e.allowance + life.rate[i] * STEP.as_micros() / 1_000_000)
                    .min(4 * life.buffer as u64);
                let room = net.stack(node).tcp_send_capacity(conn).unwrap_or(0) as u64;
                chunk.clear();
                chunk.extend((0..e.allowance.min(room)).map(|k| octet(i, e.written + k)));
                match net.stack_mut(node).tcp_send(now, conn, &chunk) {
                    Ok(n) => {
                        ends[i].written += n as u64;
                        ends[i].allowance -= n as u64;
                    }
                    Err(err) => {
                        let why = format!("end {i} at {now}: send: {err:?}");
                        return Err(fail(&net, &log, &ends, why));
                    }
                }
            }
            // Stop reading for a while, or read (and check) everything there is.
            let e = &mut ends[i];
            if e.stalled_until.is_some_and(|t| now >= t || !living) {
                e.stalled_until = None;
                e.next_stall = later(now, pick(&mut rng, life.stall_gap));
                log.note(now, format!("end {i} reads again"));
            }
            if living && e.stalled_until.is_none() && now >= e.next_stall {
                let secs = pick(&mut rng, life.stall);
                e.stalled_until = Some(later(now, secs));
                out.stalls += 1;
                log.note(now, format!("end {i} stops reading for {secs} s"));
            }
            while ends[i].stalled_until.is_none() {
                let from = ends[i].read;
                match net.stack_mut(node).tcp_recv(now, conn, &mut buf) {
                    Ok(0) => {
                        let why = format!("end {i} at {now}: end of stream");
                        return Err(fail(&net, &log, &ends, why));
                    }
                    Ok(n) => {
                        let wrong = (0..n).find(|&k| buf[k] != octet(1 - i, from + k as u64));
                        if let Some(k) = wrong {
                            let at = from + k as u64;
                            let why = format!(
                                "end {i}: octet {at} of the stream is {}, expected {}",
                                buf[k],
                                octet(1 - i, at)
                            );
                            return Err(fail(&net, &log, &ends, why));
                        }
                        ends[i].read += n as u64;
                    }
                    Err(StackError::WouldBlock) => break,
                    Err(err) => {
                        let why = format!("end {i} at {now}: recv: {err:?}");
                        return Err(fail(&net, &log, &ends, why));
                    }
                }
            }
            // The interface's MTU: any of a few, down or up.
            let e = &mut ends[i];
            if living && now >= e.next_mtu {
                let mtu = MTUS[rng.below_or_equal(MTUS.len() as u64 - 1) as usize];
                e.next_mtu = later(now, pick(&mut rng, life.mtu_gap));
                net.stack_mut(node).set_mtu(IF0, mtu).unwrap();
                out.mtu_changes += 1;
                log.note(now, format!("end {i}: MTU {mtu}"));
            }
        }
        // One end's route to the other: away for a short span, then back, with
        // `set_address` (the connected route again) or `add_route` (a static route for the
        // same prefix) by turns.
        if let Some(o) = outage.filter(|o| now >= o.until || !living) {
            outage = None;
            readd_by_address = !readd_by_address;
            let s = net.stack_mut(ends[o.end].node);
            let how = if readd_by_address {
                s.set_address(now, IF0, Ipv4Cidr::new(ADDRS[o.end], 24))
                    .unwrap();
                "set_address"
            } else {
                s.add_route(Route::direct(LAN, 24, IF0)).unwrap();
                "add_route"
            };
            next_outage = later(now, pick(&mut rng, life.outage_gap));
            log.note(now, format!("end {}: route back ({how})", o.end));
        }
        if living && outage.is_none() && now >= next_outage {
            let end = rng.below_or_equal(1) as usize;
            let node = ends[end].node;
            assert_eq!(net.stack_mut(node).remove_route(LAN, 24), 1);
            let ms = pick(&mut rng, life.outage_ms);
            outage = Some(Outage {
                end,
                until: now + Duration::from_millis(ms),
            });
            out.outages += 1;
            log.note(now, format!("end {end}: route removed for {ms} ms"));
            let mtu = net.stack(node).mtu(IF0).unwrap();
            let lower: Vec<u16> = MTUS.into_iter().filter(|&m| m < mtu).collect();
            if !lower.is_empty() && rng.chance(life.mtu_down_in_outage) {
                let m = lower[rng.below_or_equal(lower.len() as u64 - 1) as usize];
                net.stack_mut(node).set_mtu(IF0, m).unwrap();
                out.mtu_changes += 1;
                out.mtu_lowered_in_outage += 1;
                log.note(now, format!("end {end}: MTU {m}, the route away"));
            }
        }
        if !living && ends[0].read == ends[1].written && ends[1].read == ends[0].written {
            break;
        }
    }
    for i in 0..2 {
        let (e, peer) = (&ends[i], &ends[1 - i]);
        if e.read != peer.written {
            let why = format!(
                "end {i} read {} of the {} octets sent",
                e.read, peer.written
            );
            return Err(fail(&net, &log, &ends, why));
        }
        let stack = net.stack(e.node);
        if stack.tcp_state(e.conn) != Some(TcpState::Established) {
            let why = format!("end {i} is no longer established");
            return Err(fail(&net, &log, &ends, why));
        }
        stack.check_invariants();
        out.delivered[1 - i] = e.read;
        out.window_probes += stack.tcp_stats().window_probes;
        out.keepalives += stack.tcp_stats().keepalives_sent;
        out.segments_not_sent += stack.tcp_stats().segments_not_sent;
    }
    let half = read_at_half_life.unwrap_or_default();
    out.delivered_late = [0, 1].map(|i| out.delivered[i] - half[i]);
    Ok(out)
}

/// A life lived in full, having met what it was meant to meet: data each way it goes until
/// the end, window probes, segments refused by IP while a route was away, MTU changes (some
/// while a route was away), outages and stalls.
fn assert_lived(life: Life) -> Outcome {
    let out = live(life).unwrap_or_else(|e| panic!("{e}"));
    let seed = life.seed;
    for (rate, late) in life.rate.iter().zip(out.delivered_late) {
        assert!(*rate == 0 || late > 0, "seed {seed}: {out:?}");
    }
    assert!(out.window_probes > 0, "seed {seed}: {out:?}");
    assert!(out.segments_not_sent > 0, "seed {seed}: {out:?}");
    assert!(
        out.outages >= 3 && out.mtu_changes >= 6 && out.stalls >= 6,
        "seed {seed}: {out:?}"
    );
    out
}

#[test]
fn a_connection_outlives_stalled_reads_mtu_changes_and_route_outages() {
    let mut lowered_in_outage = 0;
    for seed in 1..=4 {
        lowered_in_outage += assert_lived(Life::new(seed)).mtu_lowered_in_outage;
    }
    assert!(lowered_in_outage > 0);
}

/// MTUs changed seldom, so that one lowered while the route was away stays low for
/// minutes after it is back.
#[test]
fn a_connection_outlives_an_mtu_lowered_while_its_route_was_away() {
    let mut lowered_in_outage = 0;
    for seed in 21..=22 {
        let life = Life {
            mtu_gap: (200, 400),
            mtu_down_in_outage: 1.0,
            ..Life::new(seed)
        };
        let out = live(life).unwrap_or_else(|e| panic!("{e}"));
        lowered_in_outage += out.mtu_lowered_in_outage;
    }
    assert!(lowered_in_outage > 0);
}

#[test]
fn a_connection_outlives_expiring_arp_bindings_duplication_and_reordering() {
    for seed in 11..=12 {
        assert_lived(Life {
            shuffle: 0.01,
            arp_lifetime: Some(Duration::from_secs(40)),
            ..Life::new(seed)
        });
    }
}

/// Windows closed for longer than the user timeout, without SACK or timestamps: the senders
/// probe them all along, and as the probes are answered the connection stays open
/// [RFC 1122 § 4.2.2.17, RFC 9293 § 3.8.6.1]. Routes stay, and the loss is lighter: the
/// probes back off to one a minute, and with a 2-minute user timeout two exchanges of probe
/// and answer lost in a row end the connection, rightly.
#[test]
fn a_connection_outlives_windows_closed_longer_than_its_user_timeout() {
    for seed in 31..=32 {
        let life = Life {
            secs: 900,
            loss: 0.01,
            user_timeout: Duration::from_secs(120),
            stall: (150, 300),
            outage_gap: (10_000, 10_000),
            plain: true,
            ..Life::new(seed)
        };
        let out = live(life).unwrap_or_else(|e| panic!("{e}"));
        assert!(out.window_probes > 0 && out.stalls >= 2, "{out:?}");
        assert!(out.delivered_late.iter().all(|&d| d > 0), "{out:?}");
    }
}

/// Without SACK or timestamps (go-back-N after a timeout, RTT samples only from segments
/// sent once), with duplication, reordering and expiring ARP bindings too.
#[test]
fn a_connection_without_options_outlives_the_same() {
    for seed in 100..=101 {
        assert_lived(Life {
            plain: true,
            shuffle: 0.01,
            arp_lifetime: Some(Duration::from_secs(30)),
            ..Life::new(seed)
        });
    }
}

/// Keep-alive on, data one way only: the receiving end probes its idle peer whenever the
/// data stops for longer than the idle time (its own window shut, the sender's route away)
/// and hears the answers, or the data again, well within the probes' count.
#[test]
fn a_connection_outlives_keepalive_probes() {
    for seed in 41..=42 {
        let life = Life {
            rate: [16_000, 0],
            keepalive: Some(KeepAlive {
                idle: Duration::from_secs(15),
                interval: Duration::from_secs(5),
                count: 9,
            }),
            ..Life::new(seed)
        };
        let out = assert_lived(life);
        assert!(out.keepalives > 0, "{out:?}");
    }
}

/// The harness sees a connection end: with a user timeout shorter than the outages, data
/// sent while a route is away goes unacknowledged past it, and the connection times out
/// [RFC 9293 § 3.8.3].
#[test]
fn a_user_timeout_shorter_than_an_outage_ends_the_connection() {
    let life = Life {
        user_timeout: Duration::from_secs(5),
        outage_ms: (10_000, 20_000),
        ..Life::new(1)
    };
    let e = live(life).expect_err("the connection should time out");
    assert!(e.contains("TimedOut"), "{e}");
}
