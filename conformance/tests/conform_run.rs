//! The scenario interpreter on text scripts against wirecheck's own stack (and smoltcp):
//! scenarios that must pass, and must-fail scenarios whose failure messages are asserted.

use std::time::Duration;

use wirecheck_conformance::conform::parse::parse_script;
use wirecheck_conformance::conform::run::{run_script, RunOptions, ScenarioOutcome, WireRecord};
use wirecheck_conformance::conform::script::Direction;
use wirecheck_conformance::conform::target::Target;
use wirecheck_conformance::conform::targets::{BuiltinTarget, SmoltcpTarget};
use wirecheck_conformance::conform::Verdict;

fn run_on(target: &mut dyn Target, text: &str, options: &RunOptions) -> ScenarioOutcome {
    let script = parse_script(text, None).expect("script parses");
    run_script(&script, target, options)
}

fn run_builtin(text: &str) -> ScenarioOutcome {
    run_on(&mut BuiltinTarget::new(), text, &RunOptions::default())
}

/// A passive open as packetdrill's examples write it.
const OPEN: &str = "
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 1>
+.1 < . 1:1(0) ack 1 win 257
+0 accept(3, ..., ...) = 4
";

#[test]
fn handshake_data_and_close_pass_on_the_builtin_stack() {
    let text = format!(
        "{OPEN}\
+0 < P. 1:101(100) ack 1 win 257
+0 read(4, ..., 1000) = 100
+0 write(4, ..., 50) = 50
+0 > P. 1:51(50) ack 101 <...>
+.1 < . 101:101(0) ack 51 win 257
+0 close(4) = 0
+0 > F. 51:51(0) ack 101 <...>
+.1 < F. 101:101(0) ack 52 win 257
+0 > . 52:52(0) ack 102 <...>
"
    );
    let outcome = run_on(
        &mut BuiltinTarget::new(),
        &text,
        &RunOptions {
            keep_wire: true,
            ..RunOptions::default()
        },
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    // 4 setup calls, SYN-ACK, accept, read, write, data, close, FIN, last ACK.
    assert_eq!(outcome.checked, 12);
    let inbound = outcome
        .wire
        .iter()
        .filter(|r| r.direction == Direction::Inbound)
        .count();
    let outbound = outcome.wire.len() - inbound;
    // In: SYN, ARP reply, ACK, data, ACK, FIN. Out: gratuitous ARP (at setup), ARP request,
    // SYN-ACK, data, FIN, ACK.
    assert_eq!((inbound, outbound), (6, 6), "{:#?}", outcome.wire);
    let arp = |r: &&WireRecord| r.bytes.get(12..14) == Some(&[0x08, 0x06][..]);
    assert_eq!(outcome.wire.iter().filter(arp).count(), 3);
}

#[test]
fn blocking_connect_returns_when_the_syn_ack_arrives() {
    let outcome = run_builtin(
        "
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.1 connect(3, ..., ...) = 0
+0 > S 0:0(0) <...>
+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0 > . 1:1(0) ack 1
+0 write(3, ..., 10) = 10
+0 > P. 1:11(10) ack 1
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    assert_eq!(outcome.checked, 6);
}

#[test]
fn blocking_accept_completes_after_the_handshake() {
    let outcome = run_builtin(
        "
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0...0.2 accept(3, ..., ...) = 4
+.1 < S 0:0(0) win 32792 <mss 1000>
+0 > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
+0 write(4, ..., 10) = 10
+0 > P. 1:11(10) ack 1
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

#[test]
fn must_fail_wrong_window_names_expected_and_actual() {
    // The builtin profile leaves windows unchecked (an implementation choice); a profile that
    // checks them makes the wrong expectation fail.
    let profile = BuiltinTarget::profile();
    let options = RunOptions {
        profile_override: Some(wirecheck_conformance::conform::target::Profile {
            check_window: true,
            check_option_order: true,
            ..profile
        }),
        ..RunOptions::default()
    };
    let text = OPEN.replace(
        "+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 1>",
        "+0 > S. 0:0(0) ack 1 win 1000 <mss 1400,sackOK,nop,nop,nop,wscale 1>",
    );
    let outcome = run_on(&mut BuiltinTarget::new(), &text, &options);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(
        outcome.reason,
        "line 7: outbound packet differs in window, options, mss"
    );
    assert_eq!(
        outcome.detail[0],
        "line 7: expected > S. 0:0(0) ack 1 win 1000 <mss 1400,sackOK,nop,nop,nop,wscale 1>  \
         got S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 1>: \
         window: expected 1000, got 65535; \
         options: expected <mss 1400,sackOK,nop,nop,nop,wscale 1>, got <mss 1460,nop,nop,sackOK,nop,wscale 1>; \
         mss: expected 1400, got 1460"
    );
    assert_eq!(outcome.checked, 4);
}

#[test]
fn must_fail_wrong_flags_and_ack() {
    let text = OPEN.replace("+0 > S. 0:0(0) ack 1 <mss", "+0 > S 0:0(0) ack 1 <mss");
    let outcome = run_builtin(&text);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert_eq!(outcome.reason, "line 7: outbound packet differs in flags");
    assert!(
        outcome.detail[0].ends_with(": flags: expected S, got S."),
        "{:?}",
        outcome.detail
    );

    let text = OPEN.replace("+0 > S. 0:0(0) ack 1 <mss", "+0 > S. 0:0(0) ack 7 <mss");
    let outcome = run_builtin(&text);
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].ends_with(": ack: expected 7, got 1"),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn must_fail_unexpected_packet() {
    // The data is ACKed (delayed ACK) but the script says nothing about it.
    let outcome = run_builtin(&format!(
        "{OPEN}+0 < P. 1:101(100) ack 1 win 257\n+1 close(4) = 0\n"
    ));
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.reason.starts_with("line 11: unexpected packet before the call: 192.168.0.1 > 192.0.2.1 :8080 > :54321 . 1:1(0) ack 101"),
        "{}",
        outcome.reason
    );
}

#[test]
fn must_fail_late_retransmission() {
    // The first SYN retransmission comes after the initial RTO (1 s), not 0.5 s.
    let outcome = run_builtin(
        "
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.5 > S 0:0(0) <...>
",
    );
    assert_eq!(outcome.verdict, Verdict::Fail);
    let rto = BuiltinTarget::profile().initial_rto;
    assert_eq!(
        outcome.reason,
        format!(
            "line 6: packet sent too late: at {}.{:06}, expected at 0.500000 (±0.004000)",
            rto.as_secs(),
            rto.subsec_micros()
        )
    );
    assert!(rto > Duration::from_millis(504));
}

#[test]
fn ipv6_and_missing_features_are_not_applicable() {
    let outcome = run_builtin(&format!("--ip_version=ipv6\n{OPEN}"));
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert_eq!(
        outcome.reason,
        "--ip_version=ipv6: wirecheck runs IPv4 scenarios only"
    );

    let mut profile = BuiltinTarget::profile();
    profile.features.remove("sack");
    let outcome = run_on(
        &mut BuiltinTarget::new(),
        &format!("--requires=tcp,sack\n{OPEN}"),
        &RunOptions {
            profile_override: Some(profile),
            ..RunOptions::default()
        },
    );
    assert_eq!(outcome.verdict, Verdict::NotApplicable);
    assert!(
        outcome.reason.ends_with("lacks required feature sack"),
        "{}",
        outcome.reason
    );
}

#[test]
fn udp_icmp_port_unreachable_and_echo_pass() {
    let outcome = run_builtin(
        "
0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3
+0 bind(3, ..., ...) = 0
+0 < udp (10)
+0 recvfrom(3, ..., 100, 0, ...) = 10
+0 sendto(3, ..., 20, 0, ...) = 20
+0 > udp (20)
+0 < 192.0.2.1:5000 > 192.168.0.1:9 udp (10)
+0 > icmp unreachable port_unreachable [192.0.2.1:5000 > 192.168.0.1:9 udp (10)]
+0 < icmp echo_request id 1 seq 1 (56)
+0 > icmp echo_reply id 1 seq 1 (56)
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    assert_eq!(outcome.checked, 7);

    // A wrong quote is caught.
    let outcome = run_builtin(
        "
0 < 192.0.2.1:5000 > 192.168.0.1:9 udp (10)
+0 > icmp unreachable port_unreachable [192.0.2.1:5001 > 192.168.0.1:9 udp (10)]
",
    );
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].ends_with("quoted source port: expected 5001, got 5000"),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn ifdef_blocks_follow_the_defined_symbols() {
    let text = format!(
        "{OPEN}\
#ifdef STANDARD
+0 close(4) = 0
+0 > F. 1:1(0) ack 1 <...>
#endif
#ifdef FreeBSD
+0 close(4) = 0
+0 > R. 1:1(0) ack 1 <...>
#endif
"
    );
    let outcome = run_builtin(&text);
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
    let outcome = run_on(
        &mut BuiltinTarget::new(),
        &text,
        &RunOptions {
            defines: ["FreeBSD".to_string()].into(),
            ..RunOptions::default()
        },
    );
    assert_eq!(outcome.verdict, Verdict::Fail);
    assert!(
        outcome.detail[0].ends_with("flags: expected R., got F."),
        "{:?}",
        outcome.detail
    );
}

#[test]
fn the_same_script_runs_on_smoltcp() {
    // smoltcp offers its own options; `<...>` leaves them open.
    let text = OPEN.replace("<mss 1460,nop,nop,sackOK,nop,wscale 1>", "<...>");
    let outcome = run_on(&mut SmoltcpTarget::new(), &text, &RunOptions::default());
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

/// The FreeBSD tcp-testsuite beside the repository (`../shared/peer-suites`).
fn peer_suite() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = std::path::Path::new("shared/peer-suites/freebsd-tcp-testsuite");
    manifest
        .ancestors()
        .skip(2)
        .map(|a| a.join(suite))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| panic!("{} missing beside the repository", suite.display()))
}

#[test]
fn the_peer_suite_runs_to_a_verdict_with_line_precise_failures() {
    let mut files = Vec::new();
    let mut dirs = vec![peer_suite()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).expect("suite directory readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "pkt") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 600, "{} scripts", files.len());
    let options = RunOptions {
        ignore_shell: true,
        ..RunOptions::default()
    };
    let mut passed = 0;
    for file in &files {
        let script = wirecheck_conformance::conform::parse::parse_file(file).expect("suite parses");
        let outcome = run_script(&script, &mut BuiltinTarget::new(), &options);
        let name = file.display();
        if script.option("ip_version") == Some("ipv6") {
            assert_eq!(outcome.verdict, Verdict::NotApplicable, "{name}");
            continue;
        }
        match outcome.verdict {
            Verdict::Pass => passed += 1,
            Verdict::Fail => {
                assert!(
                    outcome.reason.starts_with("line "),
                    "{name}: {}",
                    outcome.reason
                );
                assert!(!outcome.detail.is_empty(), "{name}: {}", outcome.reason);
                assert!(
                    outcome.detail.iter().all(|d| d.starts_with("line ")),
                    "{name}: {:?}",
                    outcome.detail
                );
            }
            // Only calls the runner or the stack cannot express make a script not applicable.
            Verdict::NotApplicable => assert!(
                outcome.reason.contains("setsockopt"),
                "{name}: {}",
                outcome.reason
            ),
            Verdict::Inconclusive => {
                panic!("{name}: inconclusive in virtual time: {}", outcome.reason)
            }
        }
    }
    assert!(passed > 0);
}

#[test]
fn fragments_reassemble_into_one_datagram_with_a_right_checksum() {
    // The two fragments carry one 2000-octet UDP payload; the second (sent first) is the
    // first fragment's continuation, so the UDP checksum over the whole datagram holds.
    let outcome = run_builtin(
        "
0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3
+0 bind(3, ..., ...) = 0
+0 < ip[id=7 off=1480] raw 17 (528)
+0 < ip[id=7 off=0 mf] udp (1472)
+0 recvfrom(3, ..., 4000, 0, ...) = 2000
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

#[test]
fn igmp_report_on_join_and_manual_arp() {
    let outcome = run_builtin(
        "
0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3
+0 join_group(3, 239.1.2.3, 0) = 0
+0 > igmp v3 report [change_to_exclude 239.1.2.3 []]
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");

    let outcome = run_builtin(
        "
--arp=manual
0 < arp who-has 192.168.0.1 tell 192.168.0.2
+0 > arp reply 192.168.0.1 is-at *
",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}

#[test]
fn must_fail_outbound_ip_options_are_compared() {
    // The echo reply carries no IP options; a line that expects some must fail and show both.
    let wrong = run_builtin(
        "0 < icmp echo_request id 1 seq 1 (8)\n+0 > ip[opts=01010101] icmp echo_reply id 1 seq 1 (8)\n",
    );
    assert_eq!(wrong.verdict, Verdict::Fail, "{wrong:#?}");
    let detail = wrong.detail.join("\n");
    assert!(
        detail.contains("IP options: expected 01010101, got "),
        "{detail}"
    );
    // Without opts= the same reply passes.
    let right =
        run_builtin("0 < icmp echo_request id 1 seq 1 (8)\n+0 > icmp echo_reply id 1 seq 1 (8)\n");
    assert_eq!(right.verdict, Verdict::Pass, "{right:#?}");
}

#[test]
fn must_fail_source_routed_reply_to_the_wrong_first_hop() {
    // A completed loose source route {198.51.100.1, 203.0.113.2 >>}: the builtin stack answers
    // to 203.0.113.2 with {>>198.51.100.1, 192.0.2.1}. A line expecting the reply straight to
    // the source, without options, must fail.
    let request = "0 < ip[opts=830b0cc6336401cb00710200] icmp echo_request id 1 seq 1 (8)\n";
    let wrong = run_builtin(&format!(
        "{request}+0 > ip[dst=192.0.2.1] icmp echo_reply id 1 seq 1 (8)\n"
    ));
    assert_eq!(wrong.verdict, Verdict::Fail, "{wrong:#?}");
    let detail = wrong.detail.join("\n");
    assert!(
        detail.contains("IP destination: expected 192.0.2.1, got 203.0.113.2"),
        "{detail}"
    );
    let right = run_builtin(&format!(
        "{request}+0 > ip[dst=203.0.113.2 opts=830b04c6336401c0000201] icmp echo_reply id 1 seq 1 (8)\n"
    ));
    assert_eq!(right.verdict, Verdict::Pass, "{right:#?}");
}

#[test]
fn tcp_checksum_of_a_source_routed_segment_covers_the_final_destination() {
    // The SYN-ACK goes to the route's first hop, 203.0.113.2, but its pseudo-header names
    // 192.0.2.1 (RFC 9293 § 3.1): the runner verifies it that way and the line passes (it
    // would fail with "TCP checksum" against the header's destination).
    let outcome = run_builtin(
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
         +0 bind(3, ..., ...) = 0\n\
         +0 listen(3, 1) = 0\n\
         +0 < ip[opts=830b0cc6336401cb00710200] S 0:0(0) win 65535 <mss 1000>\n\
         +0 > ip[dst=203.0.113.2 opts=830b04c6336401c0000201] S. 0:0(0) ack 1 <...>\n",
    );
    assert_eq!(outcome.verdict, Verdict::Pass, "{outcome:#?}");
}
