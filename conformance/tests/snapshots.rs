//! insta snapshots of `wirecheck decode` (the summary lines) and `wirecheck verify --all` (every
//! finding) for every capture in `captures/`: any change in how a bundled capture reads shows up
//! as a reviewable diff (`cargo insta review`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![workspace().join("captures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs wirecheck from the workspace root so paths in its output are relative and stable.
fn run(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_wirecheck"))
        .current_dir(workspace())
        .args(args)
        .output()
        .expect("run wirecheck");
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn decode_and_verify_of_every_capture() {
    let root = workspace();
    let files = captures();
    assert!(files.len() > 100);
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let name = rel.trim_start_matches("captures/").replace(['/', '.'], "_");
        let text = format!(
            "$ wirecheck decode {rel}\n{}\n$ wirecheck verify --all --reassemble {rel}\n{}",
            run(&["decode", &rel]),
            run(&["verify", "--all", "--reassemble", &rel])
        );
        insta::assert_snapshot!(name, text);
    }
}
