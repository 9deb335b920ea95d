//! The interpreter against a small fake target: a passive TCP open with knobs for the ways a
//! stack can get it wrong (window, flags, timing, an extra packet, a bad checksum).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use wirecheck_codec::arp::ArpOperation;
use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption, TcpOptions};

use super::super::script::{
    CallEvent, Direction, Event, EventKind, Expr, IpSpec, PacketBody, PacketEvent, Script,
    TcpFlagsSpec, TcpOptionSpec, TcpOptionsSpec, TcpSpec, TimeSpec, Times,
};
use super::super::target::{
    CallOk, CallOutcome, Errno, Network, Profile, SentFrame, SocketCall, Target, TargetError,
};
use super::super::Verdict;
use super::frames::{arp_frame, ethernet};
use super::{run_script, RunOptions};

const FAKE_ISN: u32 = 1000;

/// A target that does a passive TCP open, sending through the gateway (after ARP).
struct Fake {
    profile: Profile,
    now: Duration,
    network: Network,
    mac: MacAddr,
    sent: Vec<SentFrame>,
    /// Datagrams due at a time (sent once the gateway's MAC is known).
    scheduled: Vec<(Duration, Vec<u8>)>,
    held: Vec<Vec<u8>>,
    gateway_mac: Option<MacAddr>,
    arp_asked: bool,
    listening: Option<u16>,
    established: bool,
    accepted: bool,
    // Knobs.
    synack_window: u16,
    synack_flags: TcpFlags,
    synack_delay: Duration,
    extra_packet: bool,
    bad_checksum: bool,
}

fn profile() -> Profile {
    Profile {
        name: "fake".into(),
        features: BTreeSet::from(["tcp", "mss"]),
        initial_window_segments: 10,
        initial_rto: Duration::from_secs(1),
        min_rto: Duration::from_millis(200),
        delayed_ack: Duration::from_millis(40),
        msl: Duration::from_secs(30),
        time_wait: Duration::from_secs(60),
        syn_backlog: 16,
        accept_backlog: 16,
        initial_receive_window: 65535,
        window_scale: None,
        mss: 1460,
        timing_tolerance: Duration::ZERO,
        real_time: false,
        check_window: true,
        check_option_order: true,
    }
}

impl Fake {
    fn new() -> Fake {
        Fake {
            profile: profile(),
            now: Duration::ZERO,
            network: Network::default(),
            mac: MacAddr([0x02, 0, 0, 0, 0, 0x11]),
            sent: Vec::new(),
            scheduled: Vec::new(),
            held: Vec::new(),
            gateway_mac: None,
            arp_asked: false,
            listening: None,
            established: false,
            accepted: false,
            synack_window: 65535,
            synack_flags: TcpFlags::SYN | TcpFlags::ACK,
            synack_delay: Duration::ZERO,
            extra_packet: false,
            bad_checksum: false,
        }
    }

    fn local(&self) -> Ipv4Addr {
        self.network.interfaces[0].address
    }

    fn emit_datagram(&mut self, at: Duration, datagram: Vec<u8>) {
        match self.gateway_mac {
            Some(mac) => self.sent.push(SentFrame {
                at,
                interface: 0,
                bytes: ethernet(mac, self.mac, EtherType::IPV4, &datagram),
            }),
            None => {
                self.held.push(datagram);
                if !self.arp_asked {
                    self.arp_asked = true;
                    let request = arp_frame(
                        MacAddr::BROADCAST,
                        ArpOperation::REQUEST,
                        self.mac,
                        self.local(),
                        MacAddr::ZERO,
                        self.network.gateway_ip,
                    );
                    self.sent.push(SentFrame {
                        at,
                        interface: 0,
                        bytes: request,
                    });
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn segment(
        &self,
        to: (Ipv4Addr, u16),
        from_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        options: &[TcpOption<'_>],
    ) -> Vec<u8> {
        let mut option_bytes = [0u8; 40];
        let n = TcpOption::write_all(options, &mut option_bytes).unwrap();
        let mut header = TcpHeader::new(from_port, to.1, seq, ack, flags, window);
        header.options = TcpOptions::raw(&option_bytes[..n]);
        let mut tcp = vec![0u8; header.len()];
        header.emit(self.local(), to.0, &[], &mut tcp).unwrap();
        if self.bad_checksum {
            tcp[16] ^= 0xff;
        }
        let ip = Ipv4Header::new(self.local(), to.0, IpProtocol::TCP);
        let mut datagram = vec![0u8; 20 + tcp.len()];
        ip.emit(tcp.len(), &mut datagram).unwrap();
        datagram[20..].copy_from_slice(&tcp);
        datagram
    }
}

impl Target for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    fn profile(&self) -> &Profile {
        &self.profile
    }
    fn configure(&mut self, network: &Network) -> Result<(), TargetError> {
        self.network = network.clone();
        Ok(())
    }
    fn interface_mac(&self, _index: usize) -> MacAddr {
        self.mac
    }
    fn now(&self) -> Duration {
        self.now
    }
    fn advance_to(&mut self, at: Duration) {
        self.now = self.now.max(at);
        let due: Vec<(Duration, Vec<u8>)> = {
            let (due, later) = self.scheduled.drain(..).partition(|(t, _)| *t <= self.now);
            self.scheduled = later;
            due
        };
        for (t, datagram) in due {
            self.emit_datagram(t, datagram);
        }
    }
    fn inject(&mut self, _interface: usize, frame: &[u8]) {
        let (eth, payload) = EthernetHeader::parse(frame).unwrap();
        if eth.ether_type == EtherType::ARP {
            let (arp, _) = wirecheck_codec::arp::ArpEthernetIpv4::parse(payload).unwrap();
            if arp.operation == ArpOperation::REPLY && arp.sender_ip == self.network.gateway_ip {
                self.gateway_mac = Some(arp.sender_mac);
                let now = self.now;
                for datagram in std::mem::take(&mut self.held) {
                    self.emit_datagram(now, datagram);
                }
            }
            return;
        }
        let (ip, l4) = Ipv4Header::parse(payload).unwrap();
        let (tcp, _) = TcpHeader::parse(l4).unwrap();
        if Some(tcp.destination_port) != self.listening {
            return;
        }
        if tcp.flags.contains(TcpFlags::SYN) {
            let synack = self.segment(
                (ip.source, tcp.source_port),
                tcp.destination_port,
                FAKE_ISN,
                tcp.sequence_number.wrapping_add(1),
                self.synack_flags,
                self.synack_window,
                &[TcpOption::MaximumSegmentSize(1460)],
            );
            self.scheduled.push((self.now + self.synack_delay, synack));
            if self.extra_packet {
                let stray = self.segment(
                    (ip.source, tcp.source_port),
                    tcp.destination_port,
                    FAKE_ISN + 1,
                    tcp.sequence_number.wrapping_add(1),
                    TcpFlags::ACK,
                    self.synack_window,
                    &[],
                );
                self.scheduled.push((self.now + self.synack_delay, stray));
            }
            let now = self.now;
            self.advance_to(now);
        } else if tcp.flags.contains(TcpFlags::ACK) && tcp.acknowledgment_number == FAKE_ISN + 1 {
            self.established = true;
        }
    }
    fn take_sent(&mut self) -> Vec<SentFrame> {
        std::mem::take(&mut self.sent)
    }
    fn call(&mut self, call: &SocketCall) -> CallOutcome {
        match call {
            SocketCall::Socket { .. } => CallOutcome::Ok(CallOk::value(3)),
            SocketCall::Bind { addr, .. } => {
                self.listening = Some(addr.port());
                CallOutcome::Ok(CallOk::value(0))
            }
            SocketCall::Listen { .. } | SocketCall::SetOption { .. } | SocketCall::Close { .. } => {
                CallOutcome::Ok(CallOk::value(0))
            }
            SocketCall::Accept { .. } => {
                if self.established && !self.accepted {
                    self.accepted = true;
                    CallOutcome::Ok(CallOk::value(4))
                } else {
                    CallOutcome::Err(Errno::EAGAIN)
                }
            }
            other => CallOutcome::Unsupported(format!("fake target: {other:?}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building scripts as trees.

fn flags(s: &str) -> TcpFlagsSpec {
    let mut f = TcpFlagsSpec::default();
    for c in s.chars() {
        match c {
            'S' => f.syn = true,
            'F' => f.fin = true,
            'R' => f.rst = true,
            'P' => f.psh = true,
            '.' => f.ack = true,
            'U' => f.urg = true,
            'E' => f.ece = true,
            'W' => f.cwr = true,
            _ => panic!("flag {c}"),
        }
    }
    f
}

fn tcp(
    direction: Direction,
    f: &str,
    seq: u32,
    len: u32,
    ack: Option<u32>,
    win: Option<u32>,
    options: TcpOptionsSpec,
) -> EventKind {
    EventKind::Packet(PacketEvent {
        direction,
        interface: 0,
        ethernet: Default::default(),
        ip: IpSpec::default(),
        times: Times::Once,
        body: PacketBody::Tcp(TcpSpec {
            src_port: None,
            dst_port: None,
            flags: flags(f),
            seq,
            any_seq: false,
            max_len: None,
            end: seq + len,
            len,
            ack,
            window: win,
            urgent: None,
            options,
        }),
    })
}

fn sym(s: &str) -> Expr {
    Expr::Symbol(s.into())
}

fn call(name: &str, args: Vec<Expr>, result: i64) -> EventKind {
    EventKind::Call(CallEvent {
        name: name.into(),
        args,
        result: Expr::Int(result),
        errno: None,
    })
}

fn at(line: usize, time: TimeSpec, kind: EventKind) -> Event {
    Event {
        line,
        time,
        kind,
        condition: None,
    }
}

fn rel(ms: u64) -> TimeSpec {
    TimeSpec::Relative(Duration::from_millis(ms))
}

fn script(events: Vec<Event>) -> Script {
    Script {
        path: None,
        description: String::new(),
        options: Vec::new(),
        requirements: Vec::new(),
        requires: Vec::new(),
        events,
    }
}

fn mss(v: u16) -> TcpOptionsSpec {
    TcpOptionsSpec::List(vec![TcpOptionSpec::Mss(v)])
}

/// The passive open of packetdrill's examples; the SYN-ACK line says `win {synack_win}`.
fn handshake(synack_flags: &str, synack_win: u32) -> Vec<Event> {
    vec![
        at(
            1,
            TimeSpec::Absolute(Duration::ZERO),
            call(
                "socket",
                vec![Expr::Ellipsis, sym("SOCK_STREAM"), sym("IPPROTO_TCP")],
                3,
            ),
        ),
        at(
            2,
            rel(0),
            call(
                "setsockopt",
                vec![
                    Expr::Int(3),
                    sym("SOL_SOCKET"),
                    sym("SO_REUSEADDR"),
                    Expr::List(vec![Expr::Int(1)]),
                    Expr::Int(4),
                ],
                0,
            ),
        ),
        at(
            3,
            rel(0),
            call(
                "bind",
                vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
                0,
            ),
        ),
        at(
            4,
            rel(0),
            call("listen", vec![Expr::Int(3), Expr::Int(1)], 0),
        ),
        at(
            5,
            rel(0),
            tcp(Direction::Inbound, "S", 0, 0, None, Some(32792), mss(1000)),
        ),
        at(
            6,
            rel(0),
            tcp(
                Direction::Outbound,
                synack_flags,
                0,
                0,
                Some(1),
                Some(synack_win),
                mss(1460),
            ),
        ),
        at(
            7,
            rel(100),
            tcp(
                Direction::Inbound,
                ".",
                1,
                0,
                Some(1),
                Some(257),
                TcpOptionsSpec::None,
            ),
        ),
        at(
            8,
            rel(0),
            call(
                "accept",
                vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
                4,
            ),
        ),
    ]
}

fn run(script: &Script, target: &mut Fake) -> super::ScenarioOutcome {
    run_script(
        script,
        target,
        &RunOptions {
            keep_wire: true,
            ..RunOptions::default()
        },
    )
}

#[test]
fn handshake_passes_with_arp_answered_and_isn_mapped() {
    let mut fake = Fake::new();
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    // socket, setsockopt, bind, listen, SYN-ACK, accept.
    assert_eq!(outcome.checked, 6);
    // The inbound ack 1 reached the fake as its ISN + 1 (else accept would have failed).
    assert!(fake.accepted);
    // The runner answered the fake's ARP request for the gateway from the peer MAC.
    let arp_replies = outcome
        .wire
        .iter()
        .filter(|r| r.direction == Direction::Inbound)
        .filter_map(|r| {
            let (eth, payload) = EthernetHeader::parse(&r.bytes).ok()?;
            (eth.ether_type == EtherType::ARP).then(|| {
                wirecheck_codec::arp::ArpEthernetIpv4::parse(payload)
                    .unwrap()
                    .0
            })
        })
        .collect::<Vec<_>>();
    // First the gateway introduces itself (a request for the target's address), then it
    // answers the target's request.
    assert_eq!(arp_replies.len(), 2);
    assert_eq!(arp_replies[0].operation, ArpOperation::REQUEST);
    assert_eq!(arp_replies[0].sender_ip, Network::default().gateway_ip);
    assert_eq!(
        arp_replies[0].target_ip,
        Network::default().interfaces[0].address
    );
    assert_eq!(arp_replies[1].operation, ArpOperation::REPLY);
    assert_eq!(arp_replies[1].sender_ip, Network::default().gateway_ip);
    assert_eq!(arp_replies[1].sender_mac, Network::default().peer_mac);
    // ARP request, SYN, ARP reply, ACK in; ARP request, SYN-ACK out.
    assert_eq!(outcome.wire.len(), 6);
}

#[test]
fn wrong_window_fails_with_expected_and_actual_values() {
    let mut fake = Fake::new();
    fake.synack_window = 64240;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(outcome.reason, "line 6: outbound packet differs in window");
    let first = &outcome.detail[0];
    assert!(
        first.starts_with(
            "line 6: expected > S. 0:0(0) ack 1 win 65535 <mss 1460>  \
             got S. 0:0(0) ack 1 win 64240 <mss 1460>: "
        ),
        "{first}"
    );
    assert!(
        first.ends_with("window: expected 65535, got 64240"),
        "{first}"
    );
    // The next line (the ACK) was never injected.
    assert!(!fake.established);
}

#[test]
fn window_is_not_compared_when_the_profile_says_so() {
    let mut fake = Fake::new();
    fake.synack_window = 64240;
    fake.profile.check_window = false;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

#[test]
fn check_window_option_overrides_the_profile() {
    let with = |value: &str| {
        let mut s = script(handshake("S.", 65535));
        s.options = vec![("check_window".to_string(), value.to_string())];
        s
    };
    // The profile does not compare windows; the script asks for it.
    let mut fake = Fake::new();
    fake.synack_window = 64240;
    fake.profile.check_window = false;
    let outcome = run(&with("true"), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:#?}");
    assert!(
        outcome.detail[0].ends_with("window: expected 65535, got 64240"),
        "{:?}",
        outcome.detail
    );
    // And the other way round.
    let mut fake = Fake::new();
    fake.synack_window = 64240;
    let outcome = run(&with("false"), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    let outcome = run(&with("maybe"), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.reason.contains("--check_window=maybe"),
        "{outcome:#?}"
    );
}

#[test]
fn wrong_flags_fail_naming_both() {
    let mut fake = Fake::new();
    fake.synack_flags = TcpFlags::SYN | TcpFlags::ACK | TcpFlags::ECE;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].contains("flags: expected S., got S.E"),
        "{:?}",
        outcome.detail
    );
    // And a script expecting the wrong flags fails the same way.
    let outcome = run(&script(handshake("R.", 65535)), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].contains("flags: expected R., got S."),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn bad_checksum_fails() {
    let mut fake = Fake::new();
    fake.bad_checksum = true;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].contains("TCP checksum: expected 0x"),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn unexpected_packet_fails() {
    let mut fake = Fake::new();
    fake.extra_packet = true;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome
            .reason
            .starts_with("line 7: unexpected packet before injecting it: "),
        "{}",
        outcome.reason
    );
    assert!(
        outcome.reason.contains(". 1:1(0) ack 1 win 65535"),
        "{}",
        outcome.reason
    );
}

#[test]
fn late_packet_fails_in_virtual_time_and_is_inconclusive_in_real_time() {
    let mut fake = Fake::new();
    fake.synack_delay = Duration::from_millis(50);
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:#?}");
    assert_eq!(
        outcome.reason,
        "line 6: packet sent too late: at 0.050000, expected at 0.000000 (±0.004000)"
    );

    let mut fake = Fake::new();
    fake.synack_delay = Duration::from_millis(50);
    fake.profile.real_time = true;
    let outcome = run(&script(handshake("S.", 65535)), &mut fake);
    assert_eq!(outcome.verdict, Verdict::Inconclusive, "{outcome:#?}");

    // Within --tolerance_usecs it passes.
    let mut fake = Fake::new();
    fake.synack_delay = Duration::from_millis(50);
    let mut s = script(handshake("S.", 65535));
    s.options.push(("tolerance_usecs".into(), "60000".into()));
    let outcome = run(&s, &mut fake);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

#[test]
fn missing_packet_fails() {
    let mut events = handshake("S.", 65535);
    events.push(at(
        9,
        rel(0),
        tcp(
            Direction::Outbound,
            "F.",
            1,
            0,
            Some(1),
            None,
            TcpOptionsSpec::Any,
        ),
    ));
    let outcome = run(&script(events), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(
        outcome.reason,
        "line 9: expected packet not sent: > F. 1:1(0) ack 1 <...>"
    );
}

#[test]
fn ipv6_and_missing_features_are_not_applicable() {
    let mut s = script(handshake("S.", 65535));
    s.options.push(("ip_version".into(), "ipv6".into()));
    let outcome = run(&s, &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert!(outcome.reason.contains("ipv6"), "{}", outcome.reason);

    let mut s = script(handshake("S.", 65535));
    s.requires = vec!["tcp".into(), "sack".into()];
    let outcome = run(&s, &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert_eq!(outcome.reason, "profile fake lacks required feature sack");
}

#[test]
fn blocking_accept_returns_after_the_handshake() {
    let mut events = handshake("S.", 65535);
    // Line 7 (the ACK) moves after a blocking accept that starts at once and returns 0.1 s
    // later, when the ACK arrives.
    let ack = events.remove(6);
    events.pop();
    events.push(at(
        8,
        TimeSpec::Blocking {
            start: Duration::ZERO,
            end: Duration::from_millis(100),
            relative: true,
        },
        call(
            "accept",
            vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
            4,
        ),
    ));
    events.push(ack);
    let outcome = run(&script(events.clone()), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    assert_eq!(outcome.checked, 6);

    // The ACK 0.2 s later: accept returns 0.1 s after the script said.
    let last = events.len() - 1;
    events[last].time = rel(200);
    let outcome = run(&script(events), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:#?}");
    assert!(
        outcome.reason.contains("did not return by 0.100000"),
        "{}",
        outcome.reason
    );
}

#[test]
fn call_that_blocks_without_a_blocking_time_fails() {
    let mut events = handshake("S.", 65535);
    // accept before the final ACK, written as if it returned at once.
    events.swap(6, 7);
    let outcome = run(&script(events), &mut Fake::new());
    assert_fails_with(&outcome, "accept(3, ..., ...) = 4 blocked");
}

#[test]
fn wrong_return_value_fails() {
    let mut events = handshake("S.", 65535);
    events[3] = at(
        4,
        rel(0),
        call("listen", vec![Expr::Int(3), Expr::Int(1)], -1),
    );
    let outcome = run(&script(events), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(
        outcome.detail,
        ["line 4: listen(3, 1) = -1: expected -1, got 0"]
    );
}

#[test]
fn shell_lines_are_not_applicable_unless_ignored_and_sysctl_is_noted() {
    let mut events = handshake("S.", 65535);
    events.insert(
        0,
        at(1, rel(0), EventKind::Shell("../common/defaults.sh".into())),
    );
    let outcome = run(&script(events.clone()), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert!(
        outcome.reason.contains("shell command"),
        "{}",
        outcome.reason
    );

    let outcome = run_script(
        &script(events),
        &mut Fake::new(),
        &RunOptions {
            ignore_shell: true,
            ..RunOptions::default()
        },
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    assert_eq!(outcome.notes.len(), 1);

    let mut events = handshake("S.", 65535);
    events.insert(
        0,
        at(
            1,
            rel(0),
            EventKind::Shell("sysctl -q net.ipv4.tcp_sack=0".into()),
        ),
    );
    let outcome = run(&script(events), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    assert!(outcome.notes[0].contains("sysctl"), "{:?}", outcome.notes);
}

#[test]
fn unsupported_call_is_not_applicable() {
    let mut events = handshake("S.", 65535);
    events.push(at(
        9,
        rel(0),
        call(
            "ioctl",
            vec![Expr::Int(4), sym("SIOCINQ"), Expr::List(vec![Expr::Int(0)])],
            0,
        ),
    ));
    let outcome = run(&script(events), &mut Fake::new());
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert!(outcome.reason.contains("ioctl"), "{}", outcome.reason);
}

// ---- extensions: `repeated` / `optional` lines, `&` batches, `bytes`, EOL padding ----------
//
// These run parsed scripts against wirecheck's own stack (a real TCP), through a wrapper that
// can tamper with what it sends and say whether it takes batches at once.

use super::super::parse::parse_script;
use super::super::targets::BuiltinTarget;

/// The builtin target, with knobs.
struct Wrapped {
    inner: BuiltinTarget,
    /// Applied to every frame the target sends.
    tamper: Option<fn(&mut Vec<u8>)>,
    /// What `takes_batches_at_once` says (false: batches are injected frame by frame).
    at_once: bool,
    /// Sizes of the batches handed over.
    batches: Vec<usize>,
}

impl Wrapped {
    fn new() -> Wrapped {
        Wrapped {
            inner: BuiltinTarget::new(),
            tamper: None,
            at_once: true,
            batches: Vec::new(),
        }
    }
}

impl Target for Wrapped {
    fn name(&self) -> &str {
        "wrapped"
    }
    fn profile(&self) -> &Profile {
        self.inner.profile()
    }
    fn configure(&mut self, network: &Network) -> Result<(), TargetError> {
        self.inner.configure(network)
    }
    fn interface_mac(&self, index: usize) -> MacAddr {
        self.inner.interface_mac(index)
    }
    fn now(&self) -> Duration {
        self.inner.now()
    }
    fn advance_to(&mut self, at: Duration) {
        self.inner.advance_to(at)
    }
    fn inject(&mut self, interface: usize, frame: &[u8]) {
        self.inner.inject(interface, frame)
    }
    fn inject_batch(&mut self, frames: &[(usize, Vec<u8>)]) {
        self.batches.push(frames.len());
        if self.at_once {
            self.inner.inject_batch(frames);
        } else {
            for (interface, frame) in frames {
                self.inner.inject(*interface, frame);
            }
        }
    }
    fn takes_batches_at_once(&self) -> bool {
        self.at_once
    }
    fn take_sent(&mut self) -> Vec<SentFrame> {
        let mut sent = self.inner.take_sent();
        if let Some(tamper) = self.tamper {
            for frame in &mut sent {
                tamper(&mut frame.bytes);
            }
        }
        sent
    }
    fn call(&mut self, call: &SocketCall) -> CallOutcome {
        self.inner.call(call)
    }
    fn shutdown(&mut self) {
        self.inner.shutdown()
    }
}

/// Asserts that a run failed, with `needle` in its reason.
fn assert_fails_with(outcome: &super::ScenarioOutcome, needle: &str) {
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:?}");
    assert!(outcome.reason.contains(needle), "{}", outcome.reason);
}

fn run_text(text: &str, target: &mut Wrapped) -> super::ScenarioOutcome {
    let script = parse_script(text, None).unwrap();
    run_script(
        &script,
        target,
        &RunOptions {
            keep_wire: true,
            ..RunOptions::default()
        },
    )
}

/// A passive open, then 100 octets written and sent once at 0.01 s; wirecheck's stack
/// retransmits them at 1.01 s and 3.01 s (RTO 1 s, doubling) until the ACK at 5 s.
const WRITE_UNACKED: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1000>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 65535
+0    accept(3, ..., ...) = 4
+0    write(4, ..., 100) = 100
+0    > P. 1:101(100) ack 1
";

#[test]
fn repeated_line_takes_every_copy_in_its_window() {
    let text = format!(
        "{WRITE_UNACKED}+0.5~+4 > P. 1:101(100) ack 1 repeated\n5 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("line 11: the packet came 2 times, from 1.010000 to 3.010000")),
        "{:?}",
        outcome.notes
    );
    // Without `repeated`, the second copy is a packet the script does not expect.
    let text =
        format!("{WRITE_UNACKED}+0.5~+4 > P. 1:101(100) ack 1\n5 < . 1:1(0) ack 101 win 65535\n");
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_fails_with(&outcome, "unexpected packet");
}

#[test]
fn repeated_line_fails_on_a_copy_after_its_window_or_none_in_it() {
    // The copy at 3.01 s is past the window (ends at 2.01 s).
    let text = format!(
        "{WRITE_UNACKED}+0.5~+2 > P. 1:101(100) ack 1 repeated\n5 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_fails_with(&outcome, "line 12: unexpected packet");
    // One or more: a window with no copy at all fails (the first comes at 1.01 s).
    let text = format!(
        "{WRITE_UNACKED}+0.2~+0.5 > P. 1:101(100) ack 1 repeated\n0.9 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_fails_with(&outcome, "line 11: packet sent too late");
}

#[test]
fn repeated_line_ends_when_the_next_line_matches() {
    // The next line expects the same packet: it takes the copy at 3.01 s, and the line
    // after it the one at 7.01 s.
    let text = format!(
        "{WRITE_UNACKED}+0.5~+10 > P. 1:101(100) ack 1 repeated\n\
         +1.5~+2.5 > P. 1:101(100) ack 1\n\
         +3.5~+4.5 > P. 1:101(100) ack 1\n\
         +0.1 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("line 11: the packet came 1 time")),
        "{:?}",
        outcome.notes
    );
}

#[test]
fn optional_line_accepts_zero_or_more_copies_and_nothing_else() {
    // Zero copies: the ACK comes before any retransmission.
    let text = format!(
        "{WRITE_UNACKED}*     > P. 1:101(100) ack 1 optional\n+0.5 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    assert!(outcome
        .notes
        .iter()
        .any(|n| n.contains("line 11: the optional packet did not come")));
    // Two copies (1.01 s, 3.01 s) before the ACK at 4 s.
    let text = format!(
        "{WRITE_UNACKED}*     > P. 1:101(100) ack 1 optional\n4 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    // A copy before the window (1.01 s; the window opens at 3.51 s) is unexpected.
    let text = format!(
        "{WRITE_UNACKED}+3.5~+5 > P. 1:101(100) ack 1 optional\n4 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_fails_with(&outcome, "unexpected packet");
    // A packet that differs from the optional one is still unexpected.
    let text = format!(
        "{WRITE_UNACKED}*     > P. 1:101(100) ack 2 optional\n4 < . 1:1(0) ack 101 win 65535\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_fails_with(&outcome, "unexpected packet");
}

/// An established connection; a hole at 1:1001, then two segments in one batch.
const BATCH: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1000>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 65535
+0    accept(3, ..., ...) = 4
+0.1  < . 1001:2001(1000) ack 1 win 65535
+0    > . 1:1(0) ack 1
+0.1  < . 1:501(500) ack 1 win 65535
&     < . 501:1001(500) ack 1 win 65535
+0    > . 1:1(0) ack 2001
";

#[test]
fn a_batch_is_handed_over_at_once_and_gets_one_ack() {
    let mut target = Wrapped::new();
    let outcome = run_text(BATCH, &mut target);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    assert_eq!(target.batches, vec![2]);
    // Both frames of the batch are in the wire log, at the same time, before the ACK.
    let inbound: Vec<Duration> = outcome
        .wire
        .iter()
        .filter(|r| r.direction == Direction::Inbound)
        .map(|r| r.at)
        .collect();
    let n = inbound.len();
    assert!(n >= 2 && inbound[n - 1] == inbound[n - 2]);
}

#[test]
fn a_failed_batch_on_a_target_that_takes_frames_one_by_one_is_inconclusive() {
    // Frame by frame, wirecheck's stack acknowledges the first half at once (ack 501): a
    // failure, but not the target's fault when it cannot take a batch.
    let mut target = Wrapped::new();
    target.at_once = false;
    let outcome = run_text(BATCH, &mut target);
    assert_eq!(outcome.verdict, Verdict::Inconclusive, "{outcome:?}");
    assert!(outcome.reason.contains("one by one"), "{}", outcome.reason);
    // The same script without a batch fails outright.
    let text = BATCH.replace("&     <", "+0    <");
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:?}");
}

/// The TCP options area of an Ethernet frame.
fn tcp_options_of(frame: &[u8]) -> Option<Vec<u8>> {
    let (_, rest) = EthernetHeader::parse(frame).ok()?;
    let (ip, rest) = Ipv4Header::parse(rest).ok()?;
    if ip.protocol != IpProtocol::TCP {
        return None;
    }
    let offset = usize::from(rest.get(12)? >> 4) * 4;
    rest.get(20..offset).map(<[u8]>::to_vec)
}

#[test]
fn raw_option_bytes_go_out_verbatim_padded_with_zeros() {
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <nop,bytes 0200>
+0.1  < S 0:0(0) win 65535 <mss 1000,bytes fd0a01>
";
    let outcome = run_text(text, &mut Wrapped::new());
    let options: Vec<Vec<u8>> = outcome
        .wire
        .iter()
        .filter(|r| r.direction == Direction::Inbound)
        .filter_map(|r| tcp_options_of(&r.bytes))
        .collect();
    assert_eq!(
        options,
        vec![
            vec![0x01, 0x02, 0x00, 0x00],
            vec![0x02, 0x04, 0x03, 0xe8, 0xfd, 0x0a, 0x01, 0x00]
        ]
    );
}

/// Rewrites the last four octets of a SYN-ACK's options as End of Option List followed by
/// `tail`, fixing the TCP checksum.
fn eol_then(frame: &mut [u8], tail: [u8; 3]) {
    // An untagged IPv4 frame: the IP header at 14.
    let ip_start = 14;
    if frame.len() < 34 || frame[12..14] != [0x08, 0x00] || frame[ip_start + 9] != 6 {
        return;
    }
    let (source, destination) = (
        Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]),
        Ipv4Addr::new(frame[30], frame[31], frame[32], frame[33]),
    );
    let l4 = ip_start + usize::from(frame[ip_start] & 0x0f) * 4;
    let total = ip_start
        + usize::from(u16::from_be_bytes([
            frame[ip_start + 2],
            frame[ip_start + 3],
        ]));
    if frame[l4 + 13] & 0x12 != 0x12 {
        return;
    }
    let offset = usize::from(frame[l4 + 12] >> 4) * 4;
    if offset < 24 {
        return;
    }
    frame[l4 + offset - 4] = 0;
    frame[l4 + offset - 3..l4 + offset].copy_from_slice(&tail);
    frame[l4 + 16] = 0;
    frame[l4 + 17] = 0;
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&source.octets());
    pseudo.extend_from_slice(&destination.octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&((total - l4) as u16).to_be_bytes());
    pseudo.extend_from_slice(&frame[l4..total]);
    let sum = wirecheck_codec::checksum::internet_checksum(&pseudo);
    frame[l4 + 16..l4 + 18].copy_from_slice(&sum.to_be_bytes());
}

const SYN_ACK: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
";

#[test]
fn octets_after_end_of_option_list_must_be_zero() {
    let mut target = Wrapped::new();
    target.tamper = Some(|f| eol_then(f, [0, 0, 0]));
    let outcome = run_text(SYN_ACK, &mut target);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    let mut target = Wrapped::new();
    target.tamper = Some(|f| eol_then(f, [0, 0x01, 0]));
    let outcome = run_text(SYN_ACK, &mut target);
    assert_fails_with(&outcome, "MUST-69");
    assert!(
        outcome.reason.contains("then 01 at octet"),
        "{}",
        outcome.reason
    );
}

#[test]
fn length_range_accepts_lengths_inside_it_and_fails_outside() {
    let with = |line: &str| {
        WRITE_UNACKED.replace("+0    > P. 1:101(100) ack 1\n", &format!("{line}\n"))
            + "+.1   < . 1:1(0) ack 101 win 65535\n"
    };
    let outcome = run_text(&with("+0    > P. ...(50~150) ack 1"), &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
    let outcome = run_text(&with("+0    > P. ...(10~99) ack 1"), &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:?}");
    let detail = outcome.detail.join("\n");
    assert!(
        detail.contains("payload length: expected 10~99, got 100"),
        "{detail}"
    );
}

// ---- poll --------------------------------------------------------------------------------

/// A passive open; 10 octets arrive with the urgent pointer 3 (the urgent data ends with
/// octet 3) and are acknowledged; nothing is read.
const URGENT_ARRIVED: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    poll([{fd=3, events=POLLIN, revents=0}], 1, 0) = 0
+0    < S 0:0(0) win 65535 <mss 1000>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 65535
+0    poll([{fd=3, events=POLLIN, revents=POLLIN}], 1, 0) = 1
+0    accept(3, ..., ...) = 4
+0    setsockopt(4, SOL_SOCKET, SO_OOBINLINE, [1], 4) = 0
+0    < P.U 1:11(10) ack 1 win 65535 urg 3
+0~+0.5 > . 1:1(0) ack 11
";

#[test]
fn poll_reports_readable_urgent_and_writable_until_the_urgent_octet_is_read() {
    let text = format!(
        "{URGENT_ARRIVED}\
         +0 poll([{{fd=4, events=POLLIN|POLLPRI|POLLOUT, revents=POLLIN|POLLPRI|POLLOUT}}], 1, 0) = 1\n\
         +0 poll([{{fd=4, events=POLLOUT, revents=POLLOUT}}, {{fd=9, events=POLLIN, revents=POLLNVAL}}], 2, 0) = 2\n\
         +0 read(4, ..., 2) = 2\n\
         +0 poll([{{fd=4, events=POLLPRI, revents=POLLPRI}}], 1, 0) = 1\n\
         +0 read(4, ..., 1) = 1\n\
         +0 poll([{{fd=4, events=POLLIN|POLLPRI, revents=POLLIN}}], 1, 0) = 1\n\
         +0 read(4, ..., 7) = 7\n\
         +0 poll([{{fd=4, events=POLLIN|POLLPRI, revents=...}}], 1, 0) = 0\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:?}");
}

#[test]
fn a_wrong_poll_expectation_fails_with_expected_and_actual_events() {
    // The urgent octet is read: POLLPRI is expected but no longer holds.
    let text = format!(
        "{URGENT_ARRIVED}+0 read(4, ..., 3) = 3\n\
         +0 poll([{{fd=4, events=POLLIN|POLLPRI, revents=POLLIN|POLLPRI}}], 1, 0) = 1\n"
    );
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:?}");
    assert_eq!(
        outcome.detail,
        [
            "line 15: poll([{fd=4, events=POLLIN|POLLPRI, revents=POLLIN|POLLPRI}], 1, 0) = 1: \
          fd 4: expected revents=POLLIN|POLLPRI, got revents=POLLIN (events=POLLIN|POLLPRI)"
        ]
    );
    assert!(
        outcome.reason.contains("returned 1 ([revents=POLLIN])"),
        "{}",
        outcome.reason
    );
    // Right events, wrong count.
    let text =
        format!("{URGENT_ARRIVED}+0 poll([{{fd=4, events=POLLIN, revents=POLLIN}}], 1, 0) = 0\n");
    let outcome = run_text(&text, &mut Wrapped::new());
    assert_eq!(outcome.verdict, Verdict::Fail, "{outcome:?}");
    assert!(
        outcome.detail[0].ends_with("expected 0, got 1"),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn poll_with_a_timeout_is_not_applicable_and_a_malformed_poll_fails() {
    let with = |line: &str| format!("{URGENT_ARRIVED}{line}\n");
    let outcome = run_text(
        &with("+0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 1000) = 1"),
        &mut Wrapped::new(),
    );
    assert_eq!(outcome.verdict, Verdict::NotApplicable, "{outcome:?}");
    assert!(
        outcome.reason.contains("timeout of 1000 ms"),
        "{}",
        outcome.reason
    );
    for (line, why) in [
        (
            "+0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 2, 0) = 1",
            "poll's count 2 is not the number of entries (1)",
        ),
        (
            "+0 poll([{fd=4, events=POLLIN}], 1, 0) = 1",
            "poll entry needs revents=",
        ),
        (
            "+0 poll([{fd=4, events=POLLSOON, revents=0}], 1, 0) = 0",
            "poll events POLLSOON is not a set of POLLIN, POLLPRI",
        ),
    ] {
        let outcome = run_text(&with(line), &mut Wrapped::new());
        assert_eq!(outcome.verdict, Verdict::Fail, "{line}: {outcome:?}");
        assert!(outcome.reason.contains(why), "{line}: {}", outcome.reason);
    }
}
