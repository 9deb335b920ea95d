//! System tier: `wirecheck host` on a TAP device in a network namespace, with the Linux kernel
//! as its peer (ping, ping -s 4000, arping, nc, socat, 100 MB each way, 50 concurrent
//! connections, a RST for a closed port, SIGINT, a missing device). The checks themselves are
//! `stack/tests/system/tap.sh`; this test runs it with the `wirecheck` binary of this build.
//!
//! It needs root, `/dev/net/tun` and the tools; without them it passes and says on the
//! terminal that the system tier was not run — unless `WIRECHECK_REQUIRE_SYSTEM_TIER` is set
//! (as `.ci/run` does), when that is a failure.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// tap.sh's exit status when it cannot run here.
const NOT_RUN: i32 = 77;

fn not_run(reason: &str) {
    if std::env::var_os("WIRECHECK_REQUIRE_SYSTEM_TIER").is_some() {
        panic!("system tier required but not run: {reason}");
    }
    // Straight to the terminal: libtest captures only the print macros.
    let _ = writeln!(std::io::stderr(), "\nsystem tier not run: {reason}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn wirecheck_host_on_tap_beside_the_kernel() {
    if !is_root() || !Path::new("/dev/net/tun").exists() {
        not_run("needs root and /dev/net/tun");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stack/tests/system/tap.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_wirecheck"))
        .output()
        .expect("run tap.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(NOT_RUN) {
        not_run(stderr.trim());
        return;
    }
    let _ = writeln!(std::io::stderr(), "\n{stdout}");
    assert!(
        output.status.success(),
        "tap.sh failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
