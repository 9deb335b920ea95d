//! Differential test against Wireshark: for every capture in `captures/` with a stored tshark
//! reading (`NAME.tshark.tsv`, made by `captures/oracle/tshark-reading.sh`), wirecheck's reading
//! of every packet must agree on every field tshark was asked for, except for the deliberate
//! differences listed, with a reason each, in `captures/deliberate-differences.tsv`.
//!
//! A listed difference that no longer occurs fails the test too, so the list stays true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use wirecheck_conformance::fields::{FieldValue, Fields};
use wirecheck_conformance::oracle::{compare, parse_tsv, Disagreement};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every capture under `captures/` that has a reading beside it.
fn captures_with_readings() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![workspace().join("captures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read captures dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let stem = match name.strip_suffix(".pcapng").or(name.strip_suffix(".pcap")) {
                Some(s) => s.to_string(),
                None => continue,
            };
            let reading = path.with_file_name(format!("{stem}.tshark.tsv"));
            if reading.exists() {
                out.push((path, reading));
            }
        }
    }
    out.sort();
    out
}

/// One line of the deliberate-differences list: capture (path relative to `captures/`),
/// packet number or `*`, field or `*`, reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Deliberate {
    capture: String,
    packet: Option<usize>,
    field: String,
}

fn deliberate_differences() -> BTreeSet<Deliberate> {
    let path = workspace().join("captures/deliberate-differences.tsv");
    let text = std::fs::read_to_string(&path).expect("captures/deliberate-differences.tsv");
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 4 && !cols[3].trim().is_empty(),
            "deliberate-differences.tsv line {}: want 4 tab-separated columns with a reason",
            i + 1
        );
        out.insert(Deliberate {
            capture: cols[0].to_string(),
            packet: if cols[1] == "*" {
                None
            } else {
                Some(cols[1].parse().expect("packet number or *"))
            },
            field: cols[2].to_string(),
        });
    }
    out
}

/// A JSON value from `wirecheck decode --format json` as a field value.
fn field_value(v: &serde_json::Value) -> FieldValue {
    match v {
        serde_json::Value::Bool(b) => FieldValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(i) => FieldValue::Int(i),
            None => FieldValue::Float(n.as_f64().unwrap_or_default()),
        },
        other => FieldValue::Text(other.as_str().unwrap_or_default().to_string()),
    }
}

/// wirecheck's reading, as `wirecheck decode --format json` prints it: what users and tools
/// get is what is compared.
fn our_reading(capture: &Path) -> Vec<Fields> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .args(["decode", "--format", "json"])
        .arg(capture)
        .output()
        .expect("run wirecheck");
    let text = String::from_utf8(out.stdout).expect("UTF-8 JSON");
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object");
            let mut fields = Fields::default();
            for (key, v) in value.as_object().expect("object") {
                let key: &'static str = Box::leak(key.clone().into_boxed_str());
                fields.push(key, field_value(v));
            }
            fields
        })
        .collect()
}

#[test]
fn every_field_agrees_with_wireshark_except_listed_differences() {
    let deliberate = deliberate_differences();
    let mut used = BTreeSet::new();
    let mut unexpected: Vec<String> = Vec::new();
    let mut compared_cells = 0usize;
    let mut skipped_ipv6 = 0usize;
    let captures = captures_with_readings();
    assert!(captures.len() > 20, "expected the bundled captures");
    let root = workspace().join("captures");
    for (capture, reading) in &captures {
        let name = capture
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(reading).unwrap();
        let mut reading = parse_tsv(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ours = our_reading(capture);
        // IPv6 is outside wirecheck's scope (the classic IPv4 suite): rows Wireshark decodes
        // as IPv6 are left out of the comparison on both sides.
        for (row, mine) in reading.rows.iter_mut().zip(ours.iter_mut()) {
            if row.get("ip.version").map(String::as_str) == Some("6") {
                row.clear();
                *mine = Fields::default();
                skipped_ipv6 += 1;
            }
        }
        compared_cells += reading.rows.len() * reading.columns.len();
        for d in compare(&reading, &ours) {
            let Disagreement { packet, field, .. } = &d;
            let exact = Deliberate {
                capture: name.clone(),
                packet: Some(*packet),
                field: field.clone(),
            };
            // The most specific matching line: packet and field, then either as `*`.
            let candidates = [
                exact.clone(),
                Deliberate {
                    packet: None,
                    ..exact.clone()
                },
                Deliberate {
                    field: "*".into(),
                    ..exact.clone()
                },
                Deliberate {
                    packet: None,
                    field: "*".into(),
                    ..exact.clone()
                },
            ];
            match candidates.into_iter().find(|c| deliberate.contains(c)) {
                Some(line) => {
                    used.insert(line);
                }
                None => unexpected.push(format!("{name}: {d}")),
            }
        }
    }
    let stale: Vec<_> = deliberate.difference(&used).collect();
    eprintln!("compared {compared_cells} cells; {skipped_ipv6} IPv6 packets left out");
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} unexpected disagreements with Wireshark (of {compared_cells} cells compared):\n{}\n\
         {} listed differences that no longer occur:\n{stale:#?}",
        unexpected.len(),
        unexpected.join("\n"),
        stale.len()
    );
}

fn is_transport_field(name: &str) -> bool {
    ["icmp.", "igmp.", "udp.", "tcp."]
        .iter()
        .any(|p| name.starts_with(p))
}

/// With reassembly on (`wirecheck decode --reassemble`, `tshark -o ip.defragment:TRUE`), the
/// frame that completes a datagram carries the reassembled datagram's transport fields: the
/// same frames complete datagrams on both sides, and their transport fields agree.
#[test]
fn reassembled_datagrams_agree_with_wireshark() {
    let root = workspace().join("captures");
    let mut checked_datagrams = 0;
    let mut failures = Vec::new();
    for (capture, plain) in captures_with_readings() {
        let reading_path = plain.with_file_name(
            plain
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(".tshark.tsv", ".tshark.reassembled.tsv"),
        );
        if !reading_path.exists() {
            continue;
        }
        let name = capture
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let reading = parse_tsv(&std::fs::read_to_string(&reading_path).unwrap()).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirecheck"))
            .args(["decode", "--reassemble", "--format", "json"])
            .arg(&capture)
            .output()
            .expect("run wirecheck");
        let ours: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Frames whose own header is a non-first fragment yet which show transport fields.
        let theirs_complete: Vec<usize> = reading
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.get("ip.frag_offset").is_some_and(|o| o != "0")
                    && r.keys().any(|k| is_transport_field(k))
            })
            .map(|(i, _)| i)
            .collect();
        let ours_complete: Vec<usize> = ours
            .iter()
            .enumerate()
            .filter(|(_, v)| {
                v["ip.frag_offset"].as_u64().is_some_and(|o| o != 0)
                    && v.as_object().unwrap().keys().any(|k| is_transport_field(k))
            })
            .map(|(i, _)| i)
            .collect();
        if theirs_complete != ours_complete {
            failures.push(format!(
                "{name}: datagrams completed at frames {:?} (wireshark) vs {:?} (wirecheck)",
                theirs_complete.iter().map(|i| i + 1).collect::<Vec<_>>(),
                ours_complete.iter().map(|i| i + 1).collect::<Vec<_>>()
            ));
            continue;
        }
        for i in theirs_complete {
            checked_datagrams += 1;
            for column in reading.columns.iter().filter(|c| is_transport_field(c)) {
                let w = reading.rows[i]
                    .get(column)
                    .map(|c| wirecheck_conformance::oracle::normalise_tshark(column, c));
                let o = ours[i].get(column.as_str()).map(|v| {
                    wirecheck_conformance::oracle::normalise_ours(column, &field_value(v))
                });
                if w != o {
                    failures.push(format!(
                        "{name}: frame {} {column}: wireshark {w:?}, wirecheck {o:?}",
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(
        checked_datagrams >= 8,
        "only {checked_datagrams} reassembled datagrams compared"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{checked_datagrams} reassembled datagrams agree with Wireshark");
}
