//! The `wirecheck` command as a user runs it: exit statuses, formats, standard input, corrupt
//! files, and every bundled capture (including the broken and malformed ones) without a panic.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn capture(rel: &str) -> String {
    workspace()
        .join("captures")
        .join(rel)
        .to_string_lossy()
        .to_string()
}

fn wirecheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(args)
        .output()
        .expect("run wirecheck")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Every pcap/pcapng file under a directory.
fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn decode_summary_is_one_line_per_packet_like_tshark() {
    let o = wirecheck(&["decode", &capture("recorded/ping.pcap")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    // Number, relative time, source → destination, protocol, length, info.
    assert!(
        lines[0].starts_with("    1     0.000000 10.1.0.2 → 10.2.0.2 ICMP 98 Echo (ping) request")
    );
    assert!(lines[1].contains("10.2.0.2 → 10.1.0.2 ICMP 98 Echo (ping) reply"));
}

#[test]
fn decode_json_is_typed_and_keyed_by_wireshark_names() {
    let o = wirecheck(&[
        "decode",
        "--format",
        "json",
        &capture("recorded/tcp-transfer.pcap"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["frame.number"], 1);
    assert!(first["frame.time_epoch"].is_f64());
    assert_eq!(first["ip.src"], "10.1.0.2");
    assert_eq!(first["ip.flags.df"], true);
    assert_eq!(first["ip.proto"], 6);
    assert_eq!(first["tcp.flags"], 0x002);
    assert!(first["tcp.options.mss_val"].is_u64());
    assert_eq!(out.lines().count(), 14);
}

/// A little-endian pcapng section with one interface per link type and one packet each.
fn pcapng(interfaces: &[(u16, &[u8])]) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    for (link, _) in interfaces {
        let mut idb = Vec::new();
        idb.extend_from_slice(&link.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&65535u32.to_le_bytes());
        block(&mut out, 1, &idb);
    }
    for (i, (_, data)) in interfaces.iter().enumerate() {
        let mut epb = Vec::new();
        for v in [
            i as u32,
            0,
            1_000_000 * (i as u32 + 1),
            data.len() as u32,
            data.len() as u32,
        ] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(data);
        block(&mut out, 6, &epb);
    }
    out
}

#[test]
fn decode_reads_pcapng_with_several_interfaces_and_link_types() {
    // One Ethernet frame and one raw-IP datagram (the same ICMP echo request), each on an
    // interface of its own link type.
    let frame = hex::decode(
        "02000000010202000000020108004500001c0001000040019e6c0a0100020a020002\
         0800f7ff00000000",
    )
    .unwrap();
    let datagram = frame[14..].to_vec();
    let file = pcapng(&[(1, &frame), (101, &datagram)]);
    let dir = std::env::temp_dir().join(format!("wirecheck-ng-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("two-links.pcapng");
    std::fs::write(&path, file).unwrap();
    let o = wirecheck(&["decode", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in &lines {
        assert!(
            line.contains("10.1.0.2 → 10.2.0.2 ICMP") && line.contains("Echo (ping) request"),
            "{line}"
        );
    }
    assert!(
        lines[1].contains("     1.000000 "),
        "interface 1's timestamp: {}",
        lines[1]
    );
    std::fs::remove_dir_all(&dir).ok();

    let o = wirecheck(&[
        "decode",
        &capture("third-party/PcapPlusPlus/QinQ_802.1_AD.pcapng"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("192.85.1.22 → 192.85.1.14 IPv4"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn decode_reads_standard_input() {
    let bytes = std::fs::read(capture("recorded/arp.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 8);
    assert!(out.contains("Who has 10.1.0.1? Tell 10.1.0.2"), "{out}");
}

#[test]
fn verify_exit_status_is_0_clean_1_findings_2_unreadable() {
    let clean = wirecheck(&["verify", &capture("recorded/ping.pcap")]);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(stdout(&clean).contains("4 packets, 0 with findings"));

    let bad = wirecheck(&[
        "verify",
        &capture("third-party/PcapPlusPlus/ipv4-malformed.pcap"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let out = stdout(&bad);
    // Each finding names file, packet, layer, field and byte offset.
    assert!(
        out.contains("ipv4-malformed.pcap:1: error: IPv4 total length at byte 16"),
        "{out}"
    );

    let missing = wirecheck(&["verify", "/nonexistent/x.pcap"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/x.pcap: at byte offset 0: cannot open"));
}

#[test]
fn corrupt_files_give_one_clear_error_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("wirecheck-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Bad magic.
    let magic = dir.join("magic.pcap");
    std::fs::write(&magic, b"this is not a capture file at all").unwrap();
    let o = wirecheck(&["decode", magic.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a pcap or pcapng file (unrecognised magic number)"),
        "{}",
        stderr(&o)
    );
    // A record cut short: the last record of a real capture loses its tail.
    let good = std::fs::read(capture("recorded/ping.pcap")).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &good[..good.len() - 10]).unwrap();
    let o = wirecheck(&["decode", cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stdout(&o).lines().count(),
        3,
        "records before the cut are printed"
    );
    let err = stderr(&o);
    assert!(err.contains("record 4 at byte offset"), "{err}");
    assert!(err.contains("file ends inside a record"), "{err}");
    // An absurd captured length (4 GB) is refused without allocating it.
    let mut absurd = good[..24 + 16].to_vec();
    absurd[24 + 8..24 + 12].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    absurd.extend_from_slice(&[0u8; 64]);
    let path = dir.join("absurd.pcap");
    std::fs::write(&path, &absurd).unwrap();
    let o = wirecheck(&["decode", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("record 1 at byte offset 24"), "{err}");
    assert!(err.contains("absurd"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unsupported_pcap_versions_are_refused_by_name() {
    let o = wirecheck(&[
        "decode",
        &capture("third-party/libpcap/pcap-invalid-version-1.pcap"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unsupported pcap version 1.4"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn live_capture_without_the_feature_explains_how_to_get_it() {
    if cfg!(feature = "live") {
        return;
    }
    let o = wirecheck(&["decode", "--live", "lo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--features live"), "{}", stderr(&o));
}

/// Every capture bundled here and in the shared folder (malformed packets, broken files,
/// fuzzer finds) decodes and verifies with a documented exit status: never a panic (101) or a
/// hang.
#[test]
fn every_capture_decodes_and_verifies_without_panic() {
    let mut files = capture_files(&workspace().join("captures"));
    files.extend(capture_files(&workspace().join("../shared/captures")));
    assert!(files.len() > 100, "expected the bundled captures");
    let paths: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    for chunk in paths.chunks(40) {
        for command in [
            vec!["decode"],
            vec!["decode", "--format", "json"],
            vec!["verify", "--all"],
        ] {
            let mut args = command.clone();
            args.extend(chunk.iter().map(String::as_str));
            let o = wirecheck(&args);
            let code = o.status.code();
            assert!(
                matches!(code, Some(0..=2)),
                "{command:?} exited {code:?} on one of {chunk:?}:\n{}",
                stderr(&o)
            );
            assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        }
    }
}
