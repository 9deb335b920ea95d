//! System tier: the Linux conformance target against the real kernel. Each test configures a
//! namespace with one TAP device, plays the peer with frames built by the codec, and checks
//! what the kernel answers: ARP, a passive open up to reading data, an active open (with the
//! ARP for the gateway answered here), and that the namespace is gone afterwards.
//!
//! It needs root and `/dev/net/tun` (and iproute2's `ip`); without them each test passes and
//! says on the terminal that it did nothing, unless `WIRECHECK_REQUIRE_SYSTEM_TIER` is set (as
//! `.ci/run` does), when that is a failure.

#![cfg(target_os = "linux")]

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use wirecheck_codec::arp::ArpOperation;
use wirecheck_codec::ethernet::MacAddr;
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::tcp::{TcpFlags, TcpHeader, TcpOption, TcpOptions};
use wirecheck_conformance::conform::target::{
    CallOk, CallOutcome, Errno, InterfaceSetup, Network, SentFrame, SocketCall, SocketKind, Target,
};
use wirecheck_conformance::conform::targets::linux::LinuxTarget;
use wirecheck_stack::testing::{arp_frame, decode, ipv4_frame, udp, Decoded};

/// A configured target, or `None` (after saying why) when this machine cannot run one.
fn configured() -> Option<(LinuxTarget, Network)> {
    let mut target = match LinuxTarget::new() {
        Ok(t) => t,
        Err(e) => {
            if std::env::var_os("WIRECHECK_REQUIRE_SYSTEM_TIER").is_some() {
                panic!("system tier required but not run: {e}");
            }
            // Straight to the terminal: libtest captures only the print macros.
            let _ = writeln!(std::io::stderr(), "\nlinux target tests not run: {e}");
            return None;
        }
    };
    let network = Network::default();
    target.configure(&network).expect("configure the namespace");
    Some((target, network))
}

fn namespaces() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A frame from the remote end (through the gateway's MAC) to the target.
#[allow(clippy::too_many_arguments)]
fn tcp_from_remote(
    network: &Network,
    target_mac: MacAddr,
    source_port: u16,
    destination_port: u16,
    sequence: u32,
    acknowledgment: u32,
    flags: TcpFlags,
    options: &[TcpOption<'_>],
    payload: &[u8],
) -> Vec<u8> {
    let mut option_bytes = [0u8; 40];
    let options_len = TcpOption::write_all(options, &mut option_bytes).expect("options");
    let mut header = TcpHeader::new(
        source_port,
        destination_port,
        sequence,
        acknowledgment,
        flags,
        65_535,
    );
    header.options = TcpOptions::new(&option_bytes[..options_len]).expect("options");
    let local = network.interfaces[0].address;
    let mut segment = vec![0u8; header.len() + payload.len()];
    let n = header
        .emit(network.remote_ip, local, payload, &mut segment)
        .expect("emit TCP");
    segment.truncate(n);
    ipv4_frame(
        target_mac,
        network.peer_mac,
        network.remote_ip,
        local,
        IpProtocol::TCP,
        64,
        &[],
        &segment,
    )
}

/// A TCP segment the target sent, with the time it left.
struct Segment {
    at: Duration,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    eth_source: MacAddr,
    eth_destination: MacAddr,
    source_port: u16,
    destination_port: u16,
    sequence: u32,
    acknowledgment: u32,
    flags: TcpFlags,
    options: Vec<(u8, Vec<u8>)>,
}

fn as_tcp(at: Duration, frame: &[u8]) -> Option<Segment> {
    let Decoded::Ipv4 {
        eth_source,
        eth_destination,
        source,
        destination,
        protocol: IpProtocol::TCP,
        payload,
        ..
    } = decode(frame)
    else {
        return None;
    };
    let (h, _) = TcpHeader::parse(&payload).ok()?;
    let options = h
        .options
        .iter()
        .map(|o| {
            let mut bytes = [0u8; 40];
            let n = TcpOption::write_all(&[o], &mut bytes).unwrap_or(0);
            (bytes[0], bytes[..n].to_vec())
        })
        .collect();
    Some(Segment {
        at,
        source,
        destination,
        eth_source,
        eth_destination,
        source_port: h.source_port,
        destination_port: h.destination_port,
        sequence: h.sequence_number,
        acknowledgment: h.acknowledgment_number,
        flags: h.flags,
        options,
    })
}

/// Lets time pass in steps until the target sends a frame `wanted` accepts or `within` has
/// passed, answering the target's ARP requests for the gateway as the runner does. Returns the
/// frame and whether the gateway was asked for.
fn next_frame(
    target: &mut LinuxTarget,
    network: &Network,
    within: Duration,
    wanted: impl Fn(&SentFrame) -> bool,
) -> (Option<SentFrame>, bool) {
    let deadline = target.now() + within;
    let mut asked_for_gateway = false;
    while target.now() < deadline {
        let step = (target.now() + Duration::from_millis(2)).min(deadline);
        target.advance_to(step);
        for frame in target.take_sent() {
            let arp = match decode(&frame.bytes) {
                Decoded::Arp { arp, .. }
                    if arp.operation == ArpOperation::REQUEST
                        && arp.target_ip == network.gateway_ip =>
                {
                    Some(arp)
                }
                _ => None,
            };
            if let Some(arp) = arp {
                asked_for_gateway = true;
                let reply = arp_frame(
                    arp.sender_mac,
                    ArpOperation::REPLY,
                    network.peer_mac,
                    network.gateway_ip,
                    arp.sender_mac,
                    arp.sender_ip,
                );
                target.inject(0, &reply);
                continue;
            }
            if wanted(&frame) {
                return (Some(frame), asked_for_gateway);
            }
        }
    }
    (None, asked_for_gateway)
}

/// The next TCP segment the target sends within `within` (see [`next_frame`]).
fn next_segment(
    target: &mut LinuxTarget,
    network: &Network,
    within: Duration,
) -> (Option<Segment>, bool) {
    let (frame, asked) = next_frame(target, network, within, |f| {
        as_tcp(f.at, &f.bytes).is_some()
    });
    (frame.and_then(|f| as_tcp(f.at, &f.bytes)), asked)
}

fn ok(outcome: CallOutcome) -> CallOk {
    match outcome {
        CallOutcome::Ok(ok) => ok,
        other => panic!("call failed: {other:?}"),
    }
}

/// Retries a call that may say EAGAIN until it does something else, letting time pass.
fn until_ready(target: &mut LinuxTarget, call: &SocketCall) -> CallOutcome {
    for _ in 0..100 {
        match target.call(call) {
            CallOutcome::Err(Errno::EAGAIN) => {
                let at = target.now() + Duration::from_millis(2);
                target.advance_to(at);
            }
            other => return other,
        }
    }
    panic!("{call:?} still would block after 200 ms");
}

#[test]
fn the_kernel_answers_arp_for_its_address() {
    let Some((mut target, network)) = configured() else {
        return;
    };
    let local = network.interfaces[0].address;
    let target_mac = target.interface_mac(0);
    assert_eq!(target_mac, network.interfaces[0].mac);
    let request = arp_frame(
        MacAddr::BROADCAST,
        ArpOperation::REQUEST,
        network.peer_mac,
        network.gateway_ip,
        MacAddr::ZERO,
        local,
    );
    let sent_at = target.now();
    target.inject(0, &request);
    target.advance_to(sent_at + Duration::from_millis(50));
    let frames = target.take_sent();
    let reply = frames
        .iter()
        .find_map(|f| match decode(&f.bytes) {
            Decoded::Arp {
                eth_source,
                eth_destination,
                arp,
            } if arp.operation == ArpOperation::REPLY => {
                Some((f.at, eth_source, eth_destination, arp))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ARP reply among {} frames", frames.len()));
    let (at, eth_source, eth_destination, arp) = reply;
    assert_eq!(eth_source, target_mac);
    assert_eq!(eth_destination, network.peer_mac);
    assert_eq!(arp.sender_mac, target_mac);
    assert_eq!(arp.sender_ip, local);
    assert_eq!(arp.target_mac, network.peer_mac);
    assert_eq!(arp.target_ip, network.gateway_ip);
    assert!(at >= sent_at && at - sent_at < Duration::from_millis(50));
    // Nothing else: no IPv6 noise, no gratuitous ARP.
    assert_eq!(frames.len(), 1, "unexpected frames besides the ARP reply");
    assert!(target.warnings().is_empty(), "{:?}", target.warnings());
}

#[test]
fn passive_open_accept_and_read() {
    let Some((mut target, network)) = configured() else {
        return;
    };
    let local = network.interfaces[0].address;
    let target_mac = target.interface_mac(0);
    let listener = ok(target.call(&SocketCall::Socket {
        kind: SocketKind::Stream,
    }))
    .value as i32;
    assert_eq!(listener, 3, "the first descriptor is 3");
    ok(target.call(&SocketCall::Bind {
        fd: listener,
        addr: SocketAddrV4::new(local, 8080),
    }));
    ok(target.call(&SocketCall::Listen {
        fd: listener,
        backlog: 1,
    }));
    assert_eq!(
        target.call(&SocketCall::Accept { fd: listener }),
        CallOutcome::Err(Errno::EAGAIN)
    );

    let isn = 1_000_000u32;
    let syn = tcp_from_remote(
        &network,
        target_mac,
        40_000,
        8080,
        isn,
        0,
        TcpFlags::SYN,
        &[
            TcpOption::MaximumSegmentSize(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                value: 100,
                echo_reply: 0,
            },
            TcpOption::NoOperation,
            TcpOption::WindowScale(7),
        ],
        &[],
    );
    let sent_at = target.now();
    target.inject(0, &syn);
    let (syn_ack, _) = next_segment(&mut target, &network, Duration::from_millis(200));
    let syn_ack = syn_ack.expect("a SYN-ACK within 200 ms");
    assert!(syn_ack.at - sent_at < Duration::from_millis(200));
    assert_eq!(syn_ack.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(syn_ack.acknowledgment, isn + 1);
    assert_eq!(
        (syn_ack.source, syn_ack.destination),
        (local, network.remote_ip)
    );
    assert_eq!(
        (syn_ack.source_port, syn_ack.destination_port),
        (8080, 40_000)
    );
    assert_eq!(syn_ack.eth_source, target_mac);
    assert_eq!(syn_ack.eth_destination, network.peer_mac);
    let kinds: Vec<u8> = syn_ack.options.iter().map(|(kind, _)| *kind).collect();
    // Linux's order: MSS, SACK permitted, timestamps, NOP, window scale.
    assert_eq!(kinds, [2, 4, 8, 1, 3], "{:?}", syn_ack.options);
    assert_eq!(syn_ack.options[0].1, [2, 4, 0x05, 0xb4], "MSS 1460");
    let profile = target.profile().clone();
    assert_eq!(
        Some(syn_ack.options[4].1[2]),
        profile.window_scale,
        "window scale as the profile says"
    );

    let ack = tcp_from_remote(
        &network,
        target_mac,
        40_000,
        8080,
        isn + 1,
        syn_ack.sequence.wrapping_add(1),
        TcpFlags::ACK,
        &[],
        &[],
    );
    target.inject(0, &ack);
    let accepted = ok(until_ready(
        &mut target,
        &SocketCall::Accept { fd: listener },
    ));
    assert_eq!(accepted.value, 4);
    assert_eq!(
        accepted.peer,
        Some(SocketAddrV4::new(network.remote_ip, 40_000))
    );
    let connection = accepted.value as i32;

    let data = tcp_from_remote(
        &network,
        target_mac,
        40_000,
        8080,
        isn + 1,
        syn_ack.sequence.wrapping_add(1),
        TcpFlags::ACK | TcpFlags::PSH,
        &[],
        b"hello",
    );
    target.inject(0, &data);
    let read = ok(until_ready(
        &mut target,
        &SocketCall::Read {
            fd: connection,
            len: 100,
        },
    ));
    assert_eq!(read.data, b"hello");
    assert_eq!(read.value, 5);
    // The kernel acknowledges the five octets.
    let (ack, _) = next_segment(&mut target, &network, Duration::from_millis(300));
    let ack = ack.expect("an ACK for the data");
    assert_eq!(ack.acknowledgment, isn + 1 + 5);

    ok(target.call(&SocketCall::Close { fd: connection }));
    assert_eq!(
        target.call(&SocketCall::Close { fd: connection }),
        CallOutcome::Err(Errno::EBADF)
    );
    assert!(target.warnings().is_empty(), "{:?}", target.warnings());
}

#[test]
fn active_open_arps_for_the_gateway_then_sends_syn() {
    let Some((mut target, network)) = configured() else {
        return;
    };
    let fd = ok(target.call(&SocketCall::Socket {
        kind: SocketKind::Stream,
    }))
    .value as i32;
    let started = target.now();
    assert_eq!(
        target.call(&SocketCall::Connect {
            fd,
            addr: SocketAddrV4::new(network.remote_ip, 8080),
        }),
        CallOutcome::Err(Errno::EINPROGRESS)
    );
    let (syn, asked_for_gateway) = next_segment(&mut target, &network, Duration::from_millis(500));
    assert!(asked_for_gateway, "the kernel resolves the gateway first");
    let syn = syn.expect("a SYN within 500 ms");
    assert!(syn.at - started < Duration::from_millis(500));
    assert_eq!(syn.flags, TcpFlags::SYN);
    assert_eq!(syn.destination, network.remote_ip);
    assert_eq!(syn.destination_port, 8080);
    assert_eq!(syn.eth_destination, network.peer_mac);
    assert_eq!(syn.options[0].1, [2, 4, 0x05, 0xb4], "MSS 1460");
    // Still connecting: SO_ERROR is clear and a second connect says so.
    assert_eq!(
        ok(target.call(&SocketCall::GetOption {
            fd,
            option: wirecheck_conformance::conform::target::SocketOption::Error,
        }))
        .value,
        0
    );
    assert_eq!(
        target.call(&SocketCall::Connect {
            fd,
            addr: SocketAddrV4::new(network.remote_ip, 8080),
        }),
        CallOutcome::Err(Errno::EALREADY)
    );
}

#[test]
fn shutdown_and_drop_remove_the_namespace() {
    let Some((mut target, _)) = configured() else {
        return;
    };
    let name = target.namespace_name().expect("configured").to_string();
    assert!(name.starts_with(&format!("wcconf-{}-", std::process::id())));
    assert!(namespaces().contains(&name));
    target.shutdown();
    assert!(!namespaces().contains(&name), "{name} left behind");
    target.shutdown(); // twice is fine

    let Some((target, _)) = configured() else {
        return;
    };
    let name = target.namespace_name().expect("configured").to_string();
    assert!(namespaces().contains(&name));
    drop(target);
    assert!(!namespaces().contains(&name), "{name} left behind by drop");
}

fn sysctl_in(namespace: Option<&str>, path: &str) -> String {
    let file = format!("/proc/sys/{path}");
    let out = match namespace {
        Some(ns) => Command::new("ip")
            .args(["netns", "exec", ns, "cat", &file])
            .output(),
        None => Command::new("cat").arg(&file).output(),
    }
    .expect("read a sysctl");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn settings_land_in_the_namespace_and_not_on_the_host() {
    let host_metrics = sysctl_in(None, "net/ipv4/tcp_no_metrics_save");
    let Some((target, _)) = configured() else {
        return;
    };
    let ns = target.namespace_name();
    assert_eq!(sysctl_in(ns, "net/ipv4/tcp_rmem"), "4096 131072 6291456");
    assert_eq!(sysctl_in(ns, "net/ipv4/tcp_no_metrics_save"), "1");
    if std::path::Path::new("/proc/sys/net/ipv6").exists() {
        assert_eq!(sysctl_in(ns, "net/ipv6/conf/wc0/disable_ipv6"), "1");
    }
    assert_eq!(sysctl_in(ns, "net/ipv4/ip_forward"), "0");
    assert_eq!(
        sysctl_in(None, "net/ipv4/tcp_no_metrics_save"),
        host_metrics
    );
}

#[test]
fn namespaces_left_by_dead_processes_are_swept() {
    if LinuxTarget::new().is_err() {
        // configured() says why (or fails when the system tier is required).
        assert!(configured().is_none());
        return;
    }
    let mut child = Command::new("true").spawn().expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("wait");
    let stale = format!("wcconf-{dead_pid}-0");
    let status = Command::new("ip")
        .args(["netns", "add", &stale])
        .status()
        .expect("ip netns add");
    // Another test's `new()` running in parallel may sweep it first; either way it must be
    // gone once ours has run.
    assert!(status.success());
    let _target = LinuxTarget::new().expect("new");
    assert!(!namespaces().contains(&stale), "{stale} not swept");
}

#[test]
fn datagrams_both_ways() {
    let Some((mut target, network)) = configured() else {
        return;
    };
    let local = network.interfaces[0].address;
    let fd = ok(target.call(&SocketCall::Socket {
        kind: SocketKind::Datagram,
    }))
    .value as i32;
    ok(target.call(&SocketCall::Bind {
        fd,
        addr: SocketAddrV4::new(local, 5353),
    }));
    assert_eq!(
        target.call(&SocketCall::RecvFrom { fd, len: 100 }),
        CallOutcome::Err(Errno::EAGAIN)
    );
    let datagram = ipv4_frame(
        target.interface_mac(0),
        network.peer_mac,
        network.remote_ip,
        local,
        IpProtocol::UDP,
        64,
        &[],
        &udp(network.remote_ip, local, 7000, 5353, b"ping"),
    );
    target.inject(0, &datagram);
    let got = ok(until_ready(
        &mut target,
        &SocketCall::RecvFrom { fd, len: 100 },
    ));
    assert_eq!(got.data, b"ping");
    assert_eq!(got.peer, Some(SocketAddrV4::new(network.remote_ip, 7000)));

    let sent = ok(target.call(&SocketCall::SendTo {
        fd,
        data: b"pong".to_vec(),
        addr: SocketAddrV4::new(network.remote_ip, 7000),
    }));
    assert_eq!(sent.value, 4);
    let (frame, _) = next_frame(&mut target, &network, Duration::from_millis(300), |f| {
        matches!(
            decode(&f.bytes),
            Decoded::Ipv4 {
                protocol: IpProtocol::UDP,
                ..
            }
        )
    });
    let Decoded::Ipv4 {
        source,
        destination,
        payload,
        ..
    } = decode(&frame.expect("the datagram within 300 ms").bytes)
    else {
        unreachable!("matched as IPv4 above");
    };
    assert_eq!((source, destination), (local, network.remote_ip));
    assert_eq!(
        &payload[0..4],
        [5353u16.to_be_bytes(), 7000u16.to_be_bytes()].concat()
    );
    assert_eq!(&payload[8..], b"pong");
}

#[test]
fn a_second_interface_gets_its_own_tap_device() {
    if LinuxTarget::new().is_err() {
        assert!(configured().is_none());
        return;
    }
    let mut network = Network::default();
    let second = InterfaceSetup {
        mac: MacAddr([0x02, 0, 0, 0, 1, 1]),
        address: Ipv4Addr::new(10, 1, 0, 1),
        prefix_len: 24,
        mtu: 1400,
    };
    network.interfaces.push(second.clone());
    let mut target = LinuxTarget::new().expect("new");
    target
        .configure(&network)
        .expect("configure two interfaces");
    assert_eq!(target.interface_mac(1), second.mac);
    let ns = target.namespace_name();
    assert_eq!(sysctl_in(ns, "net/ipv4/ip_forward"), "1");
    let out = Command::new("ip")
        .args(["-n", ns.expect("configured"), "-o", "link", "show", "wc1"])
        .output()
        .expect("ip link show");
    assert!(String::from_utf8_lossy(&out.stdout).contains("mtu 1400"));

    let peer = Ipv4Addr::new(10, 1, 0, 2);
    let request = arp_frame(
        MacAddr::BROADCAST,
        ArpOperation::REQUEST,
        network.peer_mac,
        peer,
        MacAddr::ZERO,
        second.address,
    );
    target.inject(1, &request);
    let at = target.now() + Duration::from_millis(50);
    target.advance_to(at);
    let frames = target.take_sent();
    assert_eq!(
        frames.len(),
        1,
        "one ARP reply, on the second interface only"
    );
    assert_eq!(frames[0].interface, 1);
    let Decoded::Arp { arp, .. } = decode(&frames[0].bytes) else {
        panic!("not ARP");
    };
    assert_eq!(arp.operation, ArpOperation::REPLY);
    assert_eq!(
        (arp.sender_mac, arp.sender_ip),
        (second.mac, second.address)
    );
}

/// The runner drives the kernel through whole scenarios: the bundled passive open and a
/// selection of wirecheck's scenarios that only the RFCs' requirements decide (no window
/// values or timings the kernel chooses differently) pass against Linux, and a wrong
/// expectation fails there too.
#[test]
fn scenarios_run_against_the_kernel() {
    use wirecheck_conformance::conform::parse::parse_file;
    use wirecheck_conformance::conform::run::{run_script, RunOptions};
    use wirecheck_conformance::conform::Verdict;
    if configured().is_none() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        ("tests/data/conform/passive-open.pkt", Verdict::Pass),
        ("tests/data/conform/wrong-window.pkt", Verdict::Fail),
        ("scenarios/tcp/closed-port-rst.pkt", Verdict::Pass),
        ("scenarios/tcp/rfc5961-rst-in-window.pkt", Verdict::Pass),
        // poll(2) and SO_OOBINLINE on real sockets.
        ("scenarios/tcp/urgent-receive-mark.pkt", Verdict::Pass),
        ("scenarios/udp/port-unreachable.pkt", Verdict::Pass),
        ("scenarios/ip/echo-reply.pkt", Verdict::Pass),
        ("scenarios/arp/resolve-one.pkt", Verdict::Pass),
    ];
    let mut passed = 0;
    for (path, expected) in cases {
        let script = parse_file(&root.join(path)).expect("scenario parses");
        let mut target = LinuxTarget::new().expect("linux target");
        let outcome = run_script(&script, &mut target, &RunOptions::default());
        target.shutdown();
        // The kernel runs in real time: on a loaded machine a packet may miss its timing
        // window, which the runner reports as inconclusive, never as a failure.
        let acceptable = outcome.verdict == expected
            || (expected == Verdict::Pass && outcome.verdict == Verdict::Inconclusive);
        assert!(
            acceptable,
            "{path}: expected {expected}, got {}: {} {:#?}",
            outcome.verdict, outcome.reason, outcome.detail
        );
        passed += usize::from(outcome.verdict == Verdict::Pass);
    }
    assert!(
        passed >= 4,
        "only {passed} of 7 scenarios passed against the kernel"
    );
}
