//! `wirecheck conform` and `wirecheck replay`: argument handling and output around the
//! library's [`wirecheck_conformance::conform::driver`].

use std::io::{IsTerminal, Write};
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use wirecheck_conformance::conform::catalog::Catalog;
use wirecheck_conformance::conform::driver::{self, ConformOptions, ScenarioRun};
use wirecheck_conformance::conform::replay::{self, ReplayOptions};
use wirecheck_conformance::conform::report::ScenarioReport;
use wirecheck_conformance::conform::run::{run_script, RunOptions};
use wirecheck_conformance::conform::suite::{self, ScenarioSource, Suite, SuiteKind};
use wirecheck_conformance::conform::targets::{target_by_name, TARGET_NAMES};
use wirecheck_conformance::conform::Verdict;

/// Exit status when arguments or inputs are unusable.
const EXIT_USAGE: u8 = 2;

/// `wirecheck conform`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ConformArgs {
    /// Stack under test; repeat to compare several: builtin (wirecheck's stack, in virtual
    /// time), smoltcp (smoltcp 0.14, in virtual time), linux (this machine's kernel in a
    /// network namespace over TAP, in real time; needs root).
    #[arg(long = "target", value_name = "T", default_value = "builtin")]
    pub targets: Vec<String>,
    /// Suite to run; repeatable: wirecheck (the bundled scenarios, default) or freebsd
    /// (FreeBSD's tcp-testsuite, found beside the repository or with --suite-dir).
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// Where the (single) --suite lives, instead of the default location.
    #[arg(long, value_name = "DIR")]
    pub suite_dir: Option<PathBuf>,
    /// Run only scenarios whose name contains this text (e.g. `tcp/` or `rfc5961`).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Scenario files to run instead of a suite.
    #[arg(value_name = "SCENARIO.pkt")]
    pub scenarios: Vec<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write JSON Lines here (one object per scenario, requirement and target summary).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write every frame that crossed the wire to this pcap (scenarios one after another).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// List every catalog requirement in the table, not only the covered ones.
    #[arg(long)]
    pub all_requirements: bool,
    /// Print one line per scenario as it finishes.
    #[arg(long, short)]
    pub verbose: bool,
    /// Longest scenario, in seconds of script time, run on a real-time target (linux);
    /// longer ones are reported not applicable there.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub real_time_limit: f64,
    /// Scenarios run at once on real-time targets, each in its own network namespace.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub real_time_jobs: usize,
    /// Scenarios run at once on in-process targets (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub jobs: usize,
}

/// `wirecheck replay`'s arguments.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// The capture (pcap or pcapng) holding the conversation.
    pub capture: PathBuf,
    /// The stack that plays the recorded server: builtin, smoltcp or linux.
    #[arg(long, value_name = "T", default_value = "builtin")]
    pub target: String,
    /// Which conversation (index from --list; default: the first TCP one, else UDP, else ICMP).
    #[arg(long, value_name = "N")]
    pub conversation: Option<usize>,
    /// The endpoint the target plays (default: the side that answered).
    #[arg(long, value_name = "A:PORT")]
    pub server: Option<SocketAddrV4>,
    /// List the conversations in the capture and stop.
    #[arg(long)]
    pub list: bool,
    /// Print the scenario the replay runs (packetdrill syntax; save it to reuse it) and stop.
    #[arg(long)]
    pub print_script: bool,
    /// Write what crossed the wire during the replay to this pcap.
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

fn check_target(name: &str) -> Result<(), String> {
    if TARGET_NAMES.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown target `{name}` (expected one of: {})",
            TARGET_NAMES.join(", ")
        ))
    }
}

/// Reads scenario files given on the command line as one suite.
fn files_suite(paths: &[PathBuf]) -> Result<Suite, String> {
    let mut scenarios = Vec::new();
    for path in paths {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if size > suite::MAX_SCENARIO_SIZE {
            return Err(format!(
                "{}: {size} octets is too large for a scenario",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        scenarios.push(ScenarioSource {
            name: path.with_extension("").to_string_lossy().into_owned(),
            path: path.clone(),
            text,
        });
    }
    Ok(Suite {
        name: wirecheck_conformance::conform::report::FILES_SUITE.to_string(),
        kind: SuiteKind::Directory,
        scenarios,
    })
}

fn write_file(
    path: &Path,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .map_err(|e| format!("{}: writing {what}: {e}", path.display()))
}

/// Runs `wirecheck conform`. Exit status: 0 when nothing failed (not-applicable and
/// inconclusive scenarios do not fail a run), 1 when a scenario failed, 2 when the arguments
/// or a suite could not be used.
pub fn conform(args: ConformArgs) -> ExitCode {
    match conform_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("wirecheck conform: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn conform_inner(args: ConformArgs) -> Result<ExitCode, String> {
    for t in &args.targets {
        check_target(t)?;
    }
    let catalog = Catalog::builtin().map_err(|e| e.to_string())?;
    let mut suites = Vec::new();
    if !args.scenarios.is_empty() {
        if !args.suites.is_empty() {
            return Err("give scenario files or --suite, not both".to_string());
        }
        suites.push(files_suite(&args.scenarios)?);
    } else {
        let names = if args.suites.is_empty() {
            vec!["wirecheck".to_string()]
        } else {
            args.suites.clone()
        };
        if args.suite_dir.is_some() && names.len() > 1 {
            return Err("--suite-dir applies to one --suite".to_string());
        }
        for name in &names {
            let suite =
                suite::by_name(name, args.suite_dir.as_deref()).map_err(|e| e.to_string())?;
            suites.push(suite);
        }
    }
    if let Some(pattern) = &args.filter {
        for s in &mut suites {
            s.filter(pattern);
        }
    }
    let count: usize = suites.iter().map(|s| s.scenarios.len()).sum();
    if count == 0 {
        return Err("no scenario to run (check --filter and --suite)".to_string());
    }
    let options = ConformOptions {
        targets: args.targets.clone(),
        suites,
        keep_wire: args.pcap.is_some(),
        jobs: args.jobs,
        real_time_jobs: args.real_time_jobs,
        real_time_limit: std::time::Duration::try_from_secs_f64(args.real_time_limit)
            .map_err(|e| format!("--real-time-limit {}: {e}", args.real_time_limit))?,
    };
    let total = count * options.targets.len();
    let bar = progress(total as u64);
    let verbose = args.verbose;
    let runs = driver::run_all(&options, |run: &ScenarioRun| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        if verbose {
            let line = scenario_line(&run.report);
            match &bar {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = driver::report(&options, &runs, &catalog);
    print!("{}", report.table(args.all_requirements));
    if let Some(path) = &args.json {
        write_file(path, "JSON Lines", |out| report.write_json_lines(out))?;
    }
    if let Some(path) = &args.junit {
        write_file(path, "JUnit XML", |out| report.write_junit(out))?;
    }
    if let Some(path) = &args.pcap {
        let n = driver::write_pcap(path, &runs).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!(
            "wirecheck conform: {n} frames written to {}",
            path.display()
        );
    }
    Ok(if report.any_failure() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn scenario_line(r: &ScenarioReport) -> String {
    let mut line = format!(
        "{:<14} {:<8} {}/{}",
        r.verdict.as_str(),
        r.target,
        r.suite,
        r.name
    );
    if r.verdict != Verdict::Pass && !r.reason.is_empty() {
        line.push_str(": ");
        line.push_str(&r.reason);
    }
    line
}

fn progress(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || total < 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Runs `wirecheck replay`. Exit status: 0 when the target answered as recorded, 1 when it
/// differed, 2 when the capture or arguments could not be used.
pub fn replay(args: ReplayArgs) -> ExitCode {
    match replay_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("wirecheck replay: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn replay_inner(args: ReplayArgs) -> Result<ExitCode, String> {
    check_target(&args.target)?;
    if args.list {
        let list = replay::conversations(&args.capture).map_err(|e| e.to_string())?;
        for c in &list {
            println!("{c}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = ReplayOptions {
        conversation: args.conversation,
        server: args.server,
    };
    let script = replay::script_from_capture(&args.capture, &options).map_err(|e| e.to_string())?;
    if args.print_script {
        print!("{}", replay::script_to_text(&script));
        return Ok(ExitCode::SUCCESS);
    }
    let mut target = target_by_name(&args.target).map_err(|e| e.to_string())?;
    let mut run_options = RunOptions {
        keep_wire: args.pcap.is_some(),
        ..RunOptions::default()
    };
    // Windows and option order are the implementation's choice; a replay checks behaviour.
    let mut profile = target.profile().clone();
    profile.check_window = false;
    profile.check_option_order = false;
    run_options.profile_override = Some(profile);
    let outcome = run_script(&script, target.as_mut(), &run_options);
    target.shutdown();
    println!(
        "{}: {}",
        args.capture.display(),
        script.description.lines().next().unwrap_or("")
    );
    println!("{} on {}: {}", outcome.verdict, args.target, outcome.reason);
    for line in &outcome.detail {
        println!("    {line}");
    }
    if let Some(path) = &args.pcap {
        let run = ScenarioRun {
            report: ScenarioReport {
                suite: "replay".to_string(),
                name: args.capture.display().to_string(),
                target: args.target.clone(),
                requirements: Vec::new(),
                verdict: outcome.verdict,
                reason: outcome.reason.clone(),
                detail: Vec::new(),
                elapsed: std::time::Duration::ZERO,
            },
            wire: outcome.wire.clone(),
            notes: Vec::new(),
        };
        let n = driver::write_pcap(path, std::slice::from_ref(&run))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wirecheck replay: {n} frames written to {}", path.display());
    }
    Ok(match outcome.verdict {
        Verdict::Fail => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
