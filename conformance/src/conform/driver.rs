//! Running suites against targets: what `wirecheck conform` does between reading its arguments
//! and printing the report.
//!
//! Every scenario gets a fresh target (in-process targets cost microseconds to build; the Linux
//! target gets its own network namespace), so one scenario's leftovers never leak into the
//! next. Scenarios run on several threads at once; results come back in suite order.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::catalog::Catalog;
use super::parse::parse_script;
use super::report::{RunReport, ScenarioReport};
use super::run::{run_script, RunOptions, WireRecord};
use super::script::{Script, TimeSpec};
use super::suite::{Suite, SuiteKind};
use super::target::{Feature, Profile};
use super::targets::target_by_name;
use super::Verdict;
use crate::capture_writer::CaptureWriter;

/// Symbols defined for `#ifdef` blocks in the FreeBSD suite: none of FreeBSD's own
/// (`FreeBSD`), but the standard behaviour its authors bracket as `STANDARD`.
pub const FREEBSD_SUITE_DEFINES: &[&str] = &["STANDARD"];

/// FreeBSD-suite scripts (by name prefix) whose `FreeBSD` branch shows a behaviour the RFCs
/// allow as well as the `STANDARD` one, named by a profile feature: a target with the
/// feature runs them with `FreeBSD` defined instead of `STANDARD`, so either choice passes.
pub const FREEBSD_BRANCH_BY_FEATURE: &[(&str, Feature)] = &[
    // A SYN beyond RCV.NXT in TIME-WAIT opens a new connection (RFC 9293 § 3.6.1 MAY-2,
    // RFC 1122 § 4.2.2.13), where STANDARD expects TIME-WAIT's ACK.
    (
        "state-event-engine/rcv-syn-time-wait/rcv-syn-time-wait-using-shutdown-right-edge-",
        "time-wait-reopen",
    ),
    (
        "state-event-engine/rcv-syn-time-wait/rcv-syn-time-wait-using-shutdown-outside-right-",
        "time-wait-reopen",
    ),
];

/// The `#ifdef` symbols for FreeBSD-suite script `name` on a target with `profile`.
pub fn freebsd_defines(name: &str, profile: &Profile) -> BTreeSet<String> {
    let freebsd_branch = FREEBSD_BRANCH_BY_FEATURE
        .iter()
        .any(|(prefix, feature)| name.starts_with(prefix) && profile.features.contains(feature));
    if freebsd_branch {
        BTreeSet::from(["FreeBSD".to_string()])
    } else {
        FREEBSD_SUITE_DEFINES
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// What the FreeBSD suite's `sysctl -w` lines mean for a target. Every script first restores
/// FreeBSD's defaults (RFC 7323 and SACK on, ECN answered but not asked for, RFC 5961's
/// protections on, standard buffer sizes): those lines are noted and skipped whatever the
/// target, so a target without, say, timestamps runs the script and fails where the
/// difference shows on the wire. Settings away from the defaults — FreeBSD-only behaviour
/// (`drop_synfin=1`, `insecure_rst=1`, syncookies) or a feature switched off — make the
/// script not applicable: the target cannot be configured that way.
pub fn freebsd_sysctl(name: &str, value: &str, profile: &Profile) -> Result<(), String> {
    let default = match name {
        "net.inet.tcp.rfc1323" | "net.inet.tcp.sack.enable" => "1",
        "net.inet.tcp.ecn.enable" => "2",
        "net.inet.tcp.blackhole"
        | "net.inet.tcp.rexmit_drop_options"
        | "net.inet.tcp.drop_synfin"
        | "net.inet.tcp.insecure_rst"
        | "net.inet.tcp.insecure_syn"
        | "net.inet.tcp.syncookies_only" => "0",
        "kern.ipc.maxsockbuf" => "2097152",
        "net.inet.tcp.recvspace" => "65536",
        "net.inet.tcp.sendspace" => "32768",
        // RFC 6298's initial RTO.
        "net.inet.tcp.rexmit_initial" => "1000",
        // The RTO's lower-bound slop and the connect timeout: timing details the profile's
        // tolerance and the scripts' time windows absorb.
        "net.inet.tcp.rexmit_slop"
        | "net.inet.tcp.keepinit"
        | "net.inet.tcp.hostcache.purgenow" => return Ok(()),
        _ => {
            return Err(format!(
                "a FreeBSD setting with no equivalent on {}",
                profile.name
            ))
        }
    };
    if value == default {
        Ok(())
    } else {
        Err(format!(
            "FreeBSD's default is {default}; {} cannot be configured otherwise",
            profile.name
        ))
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ConformOptions {
    /// Target names, in report order.
    pub targets: Vec<String>,
    /// Suites, already read.
    pub suites: Vec<Suite>,
    /// Keep what crossed the wire (for `--pcap`).
    pub keep_wire: bool,
    /// Scenarios run at once on in-process targets (0: one per core).
    pub jobs: usize,
    /// Scenarios run at once on real-time targets (each has its own namespace).
    pub real_time_jobs: usize,
    /// Longest scenario run on a real-time target: a script that needs more (a 2-hour
    /// keep-alive wait, a 4-minute reassembly timeout) is not applicable there.
    pub real_time_limit: Duration,
}

/// How long a script runs, from its times as written (the end of windows and blocking calls;
/// `*` adds nothing).
pub fn nominal_duration(script: &Script) -> Duration {
    let mut now = Duration::ZERO;
    let mut latest = Duration::ZERO;
    for event in &script.events {
        match event.time {
            TimeSpec::Absolute(t) => now = t,
            TimeSpec::Relative(d) => now = now.saturating_add(d),
            TimeSpec::Range { end, relative, .. } | TimeSpec::Blocking { end, relative, .. } => {
                now = if relative {
                    now.saturating_add(end)
                } else {
                    end
                }
            }
            TimeSpec::Any => {}
        }
        latest = latest.max(now);
    }
    latest
}

/// One scenario run, with its wire log.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The report line.
    pub report: ScenarioReport,
    /// Frames that crossed the wire (empty unless `keep_wire`).
    pub wire: Vec<WireRecord>,
    /// Notes from the interpreter (lines it skipped or did not check).
    pub notes: Vec<String>,
}

/// The rules a suite runs under.
pub fn run_options(kind: SuiteKind, target_profile: &Profile, keep_wire: bool) -> RunOptions {
    let mut options = RunOptions {
        keep_wire,
        ..RunOptions::default()
    };
    if kind == SuiteKind::FreeBsd {
        // FreeBSD's suite was written against FreeBSD: its window values, option order and
        // buffer sizes are FreeBSD's choices, not the RFCs'. Its sysctl lines set FreeBSD
        // knobs: those that match what the target does anyway are noted and skipped, the
        // others make the script not applicable (see `freebsd_sysctl`).
        let mut profile = target_profile.clone();
        profile.check_window = false;
        profile.check_option_order = false;
        options.profile_override = Some(profile);
        options.ignore_shell = true;
        options.defines = FREEBSD_SUITE_DEFINES
            .iter()
            .map(|s| s.to_string())
            .collect();
        options.sysctl = Some(freebsd_sysctl);
        options.check_after_last_line = false;
    }
    options
}

/// Runs one scenario's text on a fresh target called `target`; on a real-time target, not
/// longer than `real_time_limit`.
pub fn run_one(
    suite: &Suite,
    index: usize,
    target: &str,
    keep_wire: bool,
    real_time_limit: Duration,
) -> ScenarioRun {
    let source = &suite.scenarios[index];
    let started = Instant::now();
    let report =
        |verdict, reason: String, detail: Vec<String>, requirements: Vec<String>| ScenarioReport {
            suite: suite.name.clone(),
            name: source.name.clone(),
            target: target.to_string(),
            requirements,
            verdict,
            reason,
            detail,
            elapsed: started.elapsed(),
        };
    let script = match parse_script(&source.text, Some(&source.path)) {
        Ok(script) => script,
        Err(e) => {
            // Our own scenarios must parse; a peer suite's script using syntax this runner
            // does not know is not applicable rather than a failure of the target.
            let verdict = if suite.kind == SuiteKind::FreeBsd {
                Verdict::NotApplicable
            } else {
                Verdict::Fail
            };
            return ScenarioRun {
                report: report(
                    verdict,
                    format!("does not parse: {e}"),
                    Vec::new(),
                    Vec::new(),
                ),
                wire: Vec::new(),
                notes: Vec::new(),
            };
        }
    };
    let mut stack = match target_by_name(target) {
        Ok(t) => t,
        Err(e) => {
            return ScenarioRun {
                report: report(
                    Verdict::Fail,
                    format!("target {target} unavailable: {e}"),
                    Vec::new(),
                    script.requirements.clone(),
                ),
                wire: Vec::new(),
                notes: Vec::new(),
            }
        }
    };
    let needs = nominal_duration(&script);
    if stack.profile().real_time && needs > real_time_limit {
        stack.shutdown();
        return ScenarioRun {
            report: report(
                Verdict::NotApplicable,
                format!(
                    "needs {:.0} s of real time, more than the limit of {:.0} s \
                     (--real-time-limit)",
                    needs.as_secs_f64(),
                    real_time_limit.as_secs_f64()
                ),
                Vec::new(),
                script.requirements.clone(),
            ),
            wire: Vec::new(),
            notes: Vec::new(),
        };
    }
    let mut options = run_options(suite.kind, stack.profile(), keep_wire);
    if suite.kind == SuiteKind::FreeBsd {
        options.defines = freebsd_defines(&source.name, stack.profile());
    }
    let outcome = run_script(&script, stack.as_mut(), &options);
    stack.shutdown();
    ScenarioRun {
        report: report(
            outcome.verdict,
            outcome.reason,
            outcome.detail,
            script.requirements.clone(),
        ),
        wire: outcome.wire,
        notes: outcome.notes,
    }
}

/// Runs every scenario of every suite on every target. Results are in (target, suite,
/// scenario) order whatever the number of threads.
pub fn run_all(
    options: &ConformOptions,
    mut progress: impl FnMut(&ScenarioRun) + Send,
) -> Vec<ScenarioRun> {
    let jobs: Vec<(&str, &Suite, usize)> = options
        .targets
        .iter()
        .flat_map(|t| {
            options
                .suites
                .iter()
                .flat_map(move |s| (0..s.scenarios.len()).map(move |i| (t.as_str(), s, i)))
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut results: Vec<Option<ScenarioRun>> = vec![None; jobs.len()];
    // Real-time targets wait on the clock rather than the CPU, so more of them run at once.
    for real_time in [false, true] {
        let selected: Vec<usize> = (0..jobs.len())
            .filter(|&i| (jobs[i].0 == "linux") == real_time)
            .collect();
        if selected.is_empty() {
            continue;
        }
        let threads = if real_time {
            options.real_time_jobs.max(1)
        } else if options.jobs == 0 {
            cores
        } else {
            options.jobs
        }
        .min(selected.len());
        let next = AtomicUsize::new(0);
        let done = Mutex::new((&mut results, &mut progress));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = selected.get(k) else { break };
                    let (target, suite, index) = jobs[i];
                    let run = run_one(
                        suite,
                        index,
                        target,
                        options.keep_wire,
                        options.real_time_limit,
                    );
                    let mut guard = done.lock().unwrap_or_else(|e| e.into_inner());
                    (guard.1)(&run);
                    guard.0[i] = Some(run);
                });
            }
        });
    }
    results.into_iter().flatten().collect()
}

/// The report of a finished run, scored against the catalog.
pub fn report(options: &ConformOptions, runs: &[ScenarioRun], catalog: &Catalog) -> RunReport {
    RunReport::new(
        options.targets.clone(),
        runs.iter().map(|r| r.report.clone()).collect(),
        &catalog.report_rows(),
    )
}

/// Writes every run's wire log to one pcap: scenarios one after another, each starting a
/// second after the previous one ended, in report order.
pub fn write_pcap(path: &Path, runs: &[ScenarioRun]) -> std::io::Result<u64> {
    let mut writer = CaptureWriter::create(path)?;
    let mut base = SystemTime::now();
    for run in runs {
        let mut last = Duration::ZERO;
        for record in &run.wire {
            writer.write(base + record.at, &record.bytes)?;
            last = last.max(record.at);
        }
        base += last + Duration::from_secs(1);
    }
    writer.flush()?;
    Ok(writer.records())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conform::targets::target_by_name;

    /// A FreeBSD script listed for a feature runs FreeBSD's branch on a target with the
    /// feature, STANDARD's on one without; any other script runs STANDARD's.
    #[test]
    fn freebsd_branch_follows_the_profile_for_listed_scripts() {
        let builtin = target_by_name("builtin").unwrap().profile().clone();
        let smoltcp = target_by_name("smoltcp").unwrap().profile().clone();
        let listed = "state-event-engine/rcv-syn-time-wait/\
                      rcv-syn-time-wait-using-shutdown-right-edge-secure-ipv4";
        let other = "state-event-engine/rcv-syn-time-wait/\
                     rcv-syn-time-wait-using-shutdown-left-edge-secure-ipv4";
        let standard = BTreeSet::from(["STANDARD".to_string()]);
        assert_eq!(
            freebsd_defines(listed, &builtin),
            BTreeSet::from(["FreeBSD".to_string()])
        );
        assert_eq!(freebsd_defines(listed, &smoltcp), standard);
        assert_eq!(freebsd_defines(other, &builtin), standard);
    }
}
