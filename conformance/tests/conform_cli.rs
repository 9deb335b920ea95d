//! `wirecheck conform` and `wirecheck replay` as a user runs them: the default run, targets,
//! reports (table, JSON Lines, JUnit XML, pcap), a scenario that must fail and says why field
//! by field, the FreeBSD suite, replaying recorded captures, and errors for bad arguments.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conform")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn wirecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run wirecheck")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirecheck-conform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `(covered, total, passing, failing)` from a summary line `T: C of N MUSTs covered, P
/// passing, F failing; …`.
fn must_counts(out: &str, target: &str) -> (usize, usize, usize, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{target}: ")))
        .unwrap_or_else(|| panic!("no summary for {target} in:\n{out}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

#[test]
fn the_default_run_is_the_bundled_suite_on_the_builtin_stack_and_passes() {
    let out = wirecheck(&["conform"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let (covered, total, passing, failing) = must_counts(&stdout, "builtin");
    assert!(covered >= 150, "{stdout}");
    assert!(
        total >= 300,
        "the catalog has every RFC 9293 MUST and RFC 1122 row: {stdout}"
    );
    assert_eq!((passing, failing), (covered, 0), "{stdout}");
    // The table lists requirement IDs with their verdict.
    assert!(stdout.contains("RFC9293-MUST-"), "{stdout}");
    assert!(!stdout.contains("Failures:"), "{stdout}");
}

#[test]
fn a_wrong_expectation_fails_showing_expected_and_actual_field_by_field() {
    let out = wirecheck(&["conform", &data("wrong-window.pkt")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Failures:"), "{stdout}");
    // The script line, the expected line, the actual segment and each differing field.
    assert!(
        stdout.contains("line 11: expected > FS. 0:0(0) ack 1 <mss 1000>"),
        "{stdout}"
    );
    assert!(stdout.contains("got S. 0:0(0) ack 1"), "{stdout}");
    assert!(stdout.contains("flags: expected FS., got S."), "{stdout}");
    assert!(stdout.contains("mss: expected 1000, got 1460"), "{stdout}");
    assert!(
        stdout.contains("RFC9293-3.5-a") && stdout.contains("FAIL"),
        "{stdout}"
    );
}

#[test]
fn reports_are_written_as_json_lines_junit_and_pcap() {
    let json = temp("report.jsonl");
    let junit = temp("report.xml");
    let pcap = temp("wire.pcap");
    let out = wirecheck(&[
        "conform",
        "--target",
        "builtin",
        "--target",
        "smoltcp",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
        &data("passive-open.pkt"),
        &data("wrong-window.pkt"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let scenarios: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "scenario").collect();
    assert_eq!(scenarios.len(), 4, "two scenarios on two targets");
    for target in ["builtin", "smoltcp"] {
        let verdict = |name: &str| {
            scenarios
                .iter()
                .find(|s| s["target"] == target && s["name"].as_str().unwrap().ends_with(name))
                .unwrap()["verdict"]
                .clone()
        };
        assert_eq!(verdict("passive-open"), "pass", "{target}");
        assert_eq!(verdict("wrong-window"), "fail", "{target}");
    }
    let summary = lines
        .iter()
        .find(|l| l["type"] == "summary" && l["target"] == "smoltcp")
        .unwrap();
    assert_eq!(summary["scenarios"]["fail"], 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
    // The pcap holds both directions of every run, readable by our own reader.
    let frames = wirecheck(&["decode", pcap.to_str().unwrap()]);
    let decoded = text(&frames.stdout);
    assert_eq!(frames.status.code(), Some(0));
    assert!(decoded.lines().count() >= 4 * 3, "{decoded}");
    assert!(
        decoded.contains("[SYN, ACK]") || decoded.contains("SYN, ACK"),
        "{decoded}"
    );
}

#[test]
fn smoltcp_runs_the_bundled_suite_with_a_verdict_per_scenario() {
    let out = wirecheck(&["conform", "--target", "smoltcp", "-v"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // smoltcp lacks several features and differs from the RFCs in places: the run fails, and
    // every failure names a script line.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let (covered, _, passing, failing) = must_counts(&stdout, "smoltcp");
    assert!(
        passing > 0 && failing > 0 && passing + failing <= covered,
        "{stdout}"
    );
    let bundled = std::fs::read_dir(workspace().join("conformance/scenarios"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().filter_map(Result::ok))
        .filter(|e| e.path().extension().is_some_and(|x| x == "pkt"))
        .count();
    assert_eq!(
        stderr.lines().filter(|l| l.contains(" smoltcp ")).count(),
        bundled,
        "{stderr}"
    );
    for line in stderr.lines().filter(|l| l.starts_with("fail")) {
        assert!(line.contains(": line "), "a failure names its line: {line}");
    }
}

#[test]
fn the_freebsd_suite_runs_with_a_verdict_for_every_script() {
    let out = wirecheck(&[
        "conform",
        "--suite",
        "freebsd",
        "--json",
        temp("fb.jsonl").to_str().unwrap(),
    ]);
    let stdout = text(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(temp("fb.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let scenarios: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "scenario").collect();
    assert!(
        scenarios.len() >= 680,
        "every script of the suite: {}",
        scenarios.len()
    );
    let of = |v: &str| scenarios.iter().filter(|s| s["verdict"] == v).count();
    // IPv6 scripts are not applicable; the IPv4 ones mostly pass on wirecheck's stack.
    let ipv6 = scenarios
        .iter()
        .filter(|s| s["name"].as_str().unwrap().ends_with("ipv6"))
        .count();
    assert!(of("not-applicable") >= ipv6);
    assert!(
        of("pass") > of("fail"),
        "pass {} fail {}",
        of("pass"),
        of("fail")
    );
    for s in scenarios.iter().filter(|s| s["verdict"] == "fail") {
        assert!(!s["detail"].as_array().unwrap().is_empty(), "{s}");
    }
}

#[test]
fn replay_matches_recorded_answers_and_reports_where_they_differ() {
    let capture = |name: &str| {
        workspace()
            .join("captures/recorded")
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let list = wirecheck(&["replay", &capture("udp.pcap"), "--list"]);
    assert_eq!(list.status.code(), Some(0));
    assert!(
        text(&list.stdout).contains("#0 UDP"),
        "{}",
        text(&list.stdout)
    );
    // A UDP exchange and a refused connection: wirecheck's stack answers as Linux did.
    for name in ["udp.pcap", "tcp-refused.pcap", "ping.pcap"] {
        let out = wirecheck(&["replay", &capture(name)]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {stdout}");
        assert!(stdout.contains("pass on builtin"), "{name}: {stdout}");
    }
    // The recorded Linux receiver acknowledged every segment; wirecheck's stack delays every
    // other ACK [RFC 1122 § 4.2.3.2]: the replay shows the first difference and its line.
    let out = wirecheck(&["replay", &capture("tcp-transfer.pcap")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("fail on builtin: line "), "{stdout}");
    assert!(stdout.contains("ack 2897"), "{stdout}");
    // The replayed scenario can be printed, saved and run as a scenario of its own.
    let script = wirecheck(&["replay", &capture("udp.pcap"), "--print-script"]);
    let script_text = text(&script.stdout);
    assert!(script_text.contains("recvfrom(3,"), "{script_text}");
    let saved = temp("replayed.pkt");
    std::fs::write(&saved, &script_text).unwrap();
    let out = wirecheck(&["conform", saved.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn bad_arguments_and_inputs_exit_2_with_a_clear_message() {
    let out = wirecheck(&["conform", "--target", "bsd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown target `bsd`"),
        "{}",
        text(&out.stderr)
    );
    let out = wirecheck(&[
        "conform",
        "--suite",
        "freebsd",
        "--suite-dir",
        "/nonexistent/suite",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("/nonexistent/suite: not a directory"),
        "{}",
        text(&out.stderr)
    );
    let out = wirecheck(&["conform", "--filter", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no scenario to run"));
    let out = wirecheck(&["replay", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Cargo.toml"),
        "{}",
        text(&out.stderr)
    );
    // A scenario that does not parse fails with its position.
    let broken = temp("broken.pkt");
    std::fs::write(
        &broken,
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < Q 0:0(0) win 1\n",
    )
    .unwrap();
    let out = wirecheck(&["conform", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("broken.pkt:2:"),
        "{}",
        text(&out.stdout)
    );
}
