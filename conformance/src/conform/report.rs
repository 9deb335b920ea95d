//! Reports of a conformance run: the readable per-requirement table and summary, JSON Lines,
//! and JUnit XML for CI systems.
//!
//! A run is a list of [`ScenarioReport`]s (one per scenario and target). Requirements are
//! scored from the scenarios that name them: a requirement passes on a target when every
//! scenario covering it passes there, fails when any fails, and is inconclusive or not
//! applicable when none failed but not all passed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use serde_json::json;

use super::Verdict;

/// One scenario's result on one target.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioReport {
    /// Suite the scenario belongs to (`wirecheck`, `freebsd`).
    pub suite: String,
    /// Scenario name: its path inside the suite, without `.pkt`.
    pub name: String,
    /// Target name.
    pub target: String,
    /// Requirement IDs the scenario checks.
    pub requirements: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: why (empty for a pass).
    pub reason: String,
    /// More lines for failures: the script line, expected vs actual field by field.
    pub detail: Vec<String>,
    /// Wall-clock time the scenario took to run.
    pub elapsed: Duration,
}

impl ScenarioReport {
    /// `suite/name`, or just the name for scenario files given on the command line (whose
    /// name is their path).
    pub fn display_name(&self) -> String {
        if self.suite == FILES_SUITE {
            self.name.clone()
        } else {
            format!("{}/{}", self.suite, self.name)
        }
    }
}

/// Suite name of scenario files given on the command line.
pub const FILES_SUITE: &str = "files";

/// A requirement as the report needs it (from the catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementRow {
    /// `RFC9293-MUST-8`, `RFC1122-3.2.1.1-a`, …
    pub id: String,
    /// `MUST`, `SHOULD`, `MAY`.
    pub level: String,
    /// One-line summary.
    pub summary: String,
    /// Whether a wire test can check it; when false, `why_not` says why.
    pub testable: bool,
    /// Why not testable on the wire.
    pub why_not: String,
}

/// A requirement's standing on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RequirementStatus {
    /// Every covering scenario passed.
    Pass,
    /// At least one covering scenario failed.
    Fail,
    /// None failed, at least one was inconclusive.
    Inconclusive,
    /// Every covering scenario was not applicable to this target.
    NotApplicable,
    /// No scenario covers it (testable on the wire, but not yet tested).
    NotCovered,
    /// Cannot be checked on the wire (see the catalog's reason).
    NotTestable,
}

impl RequirementStatus {
    /// Name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementStatus::Pass => "pass",
            RequirementStatus::Fail => "FAIL",
            RequirementStatus::Inconclusive => "inconclusive",
            RequirementStatus::NotApplicable => "n/a",
            RequirementStatus::NotCovered => "not covered",
            RequirementStatus::NotTestable => "not testable",
        }
    }
}

/// Per requirement and target: the status and the covering scenarios.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementScore {
    /// The requirement.
    pub requirement: RequirementRow,
    /// Status per target, in target order.
    pub status: Vec<RequirementStatus>,
    /// Names of the scenarios covering it (any target).
    pub scenarios: Vec<String>,
}

/// Counts for one target over one level of requirement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelSummary {
    /// Requirements of this level in the catalog.
    pub total: usize,
    /// Covered by at least one scenario.
    pub covered: usize,
    /// Passing on the target.
    pub passing: usize,
    /// Failing on the target.
    pub failing: usize,
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Targets, in the order given.
    pub targets: Vec<String>,
    /// Scenario results.
    pub scenarios: Vec<ScenarioReport>,
    /// Requirement scores, catalog order.
    pub requirements: Vec<RequirementScore>,
}

impl RunReport {
    /// Scores `scenarios` against `catalog` for `targets`.
    pub fn new(
        targets: Vec<String>,
        scenarios: Vec<ScenarioReport>,
        catalog: &[RequirementRow],
    ) -> RunReport {
        // requirement id -> target -> verdicts
        let mut verdicts: BTreeMap<&str, BTreeMap<&str, Vec<Verdict>>> = BTreeMap::new();
        let mut covering: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for s in &scenarios {
            for id in &s.requirements {
                verdicts
                    .entry(id.as_str())
                    .or_default()
                    .entry(s.target.as_str())
                    .or_default()
                    .push(s.verdict);
                covering
                    .entry(id.as_str())
                    .or_default()
                    .insert(s.name.as_str());
            }
        }
        let requirements = catalog
            .iter()
            .map(|row| {
                let by_target = verdicts.get(row.id.as_str());
                let status = targets
                    .iter()
                    .map(|t| {
                        if !row.testable {
                            return RequirementStatus::NotTestable;
                        }
                        match by_target.and_then(|m| m.get(t.as_str())) {
                            None => RequirementStatus::NotCovered,
                            Some(v) => combine(v),
                        }
                    })
                    .collect();
                RequirementScore {
                    requirement: row.clone(),
                    status,
                    scenarios: covering
                        .get(row.id.as_str())
                        .map(|s| s.iter().map(|n| n.to_string()).collect())
                        .unwrap_or_default(),
                }
            })
            .collect();
        RunReport {
            targets,
            scenarios,
            requirements,
        }
    }

    /// Counts for `target` (index into [`targets`](RunReport::targets)) over requirements of
    /// `level` (`MUST`, `SHOULD`, `MAY`).
    pub fn level_summary(&self, target: usize, level: &str) -> LevelSummary {
        let mut summary = LevelSummary::default();
        for r in self
            .requirements
            .iter()
            .filter(|r| r.requirement.level == level)
        {
            summary.total += 1;
            if !r.scenarios.is_empty() {
                summary.covered += 1;
            }
            match r.status[target] {
                RequirementStatus::Pass => summary.passing += 1,
                RequirementStatus::Fail => summary.failing += 1,
                _ => {}
            }
        }
        summary
    }

    /// Scenario counts per verdict for `target`.
    pub fn verdict_counts(&self, target: &str) -> BTreeMap<Verdict, usize> {
        let mut counts = BTreeMap::new();
        for s in self.scenarios.iter().filter(|s| s.target == target) {
            *counts.entry(s.verdict).or_insert(0) += 1;
        }
        counts
    }

    /// Whether any scenario failed on any target.
    pub fn any_failure(&self) -> bool {
        self.scenarios.iter().any(|s| s.verdict == Verdict::Fail)
    }

    /// The readable report: failures with their detail, the per-requirement table (covered
    /// requirements only unless `all_requirements`), and the summary lines.
    pub fn table(&self, all_requirements: bool) -> String {
        let mut out = String::new();
        let failures: Vec<&ScenarioReport> = self
            .scenarios
            .iter()
            .filter(|s| s.verdict == Verdict::Fail)
            .collect();
        if !failures.is_empty() {
            let _ = writeln!(out, "Failures:");
            for s in failures {
                let _ = writeln!(out, "  [{}] {}: {}", s.target, s.display_name(), s.reason);
                for line in &s.detail {
                    let _ = writeln!(out, "      {line}");
                }
            }
            let _ = writeln!(out);
        }
        let rows: Vec<&RequirementScore> = self
            .requirements
            .iter()
            .filter(|r| all_requirements || !r.scenarios.is_empty())
            .collect();
        if !rows.is_empty() {
            let id_width = rows
                .iter()
                .map(|r| r.requirement.id.len())
                .max()
                .unwrap_or(2)
                .max(11);
            let _ = write!(out, "{:<id_width$}  {:<6}", "requirement", "level");
            for t in &self.targets {
                let _ = write!(out, "  {:<12}", t);
            }
            let _ = writeln!(out, "  summary");
            for r in rows {
                let _ = write!(
                    out,
                    "{:<id_width$}  {:<6}",
                    r.requirement.id, r.requirement.level
                );
                for s in &r.status {
                    let _ = write!(out, "  {:<12}", s.as_str());
                }
                let _ = writeln!(out, "  {}", r.requirement.summary);
            }
            let _ = writeln!(out);
        }
        for (i, t) in self.targets.iter().enumerate() {
            let counts = self.verdict_counts(t);
            let n = |v| counts.get(&v).copied().unwrap_or(0);
            let musts = self.level_summary(i, "MUST");
            let _ = writeln!(
                out,
                "{t}: {} of {} MUSTs covered, {} passing, {} failing; scenarios: {} pass, {} fail, {} inconclusive, {} not applicable",
                musts.covered,
                musts.total,
                musts.passing,
                musts.failing,
                n(Verdict::Pass),
                n(Verdict::Fail),
                n(Verdict::Inconclusive),
                n(Verdict::NotApplicable),
            );
        }
        out
    }

    /// JSON Lines: one `{"type":"scenario",…}` object per scenario and target, one
    /// `{"type":"requirement",…}` per catalog requirement, and one `{"type":"summary",…}` per
    /// target.
    pub fn write_json_lines(&self, mut out: impl Write) -> io::Result<()> {
        for s in &self.scenarios {
            let line = json!({
                "type": "scenario",
                "suite": s.suite,
                "name": s.name,
                "target": s.target,
                "verdict": s.verdict.as_str(),
                "reason": s.reason,
                "detail": s.detail,
                "requirements": s.requirements,
                "elapsed_seconds": s.elapsed.as_secs_f64(),
            });
            writeln!(out, "{line}")?;
        }
        for r in &self.requirements {
            let status: serde_json::Map<String, serde_json::Value> = self
                .targets
                .iter()
                .zip(&r.status)
                .map(|(t, s)| (t.clone(), json!(status_key(*s))))
                .collect();
            let line = json!({
                "type": "requirement",
                "id": r.requirement.id,
                "level": r.requirement.level,
                "summary": r.requirement.summary,
                "testable": r.requirement.testable,
                "why_not": r.requirement.why_not,
                "scenarios": r.scenarios,
                "status": status,
            });
            writeln!(out, "{line}")?;
        }
        for (i, t) in self.targets.iter().enumerate() {
            let counts = self.verdict_counts(t);
            let n = |v| counts.get(&v).copied().unwrap_or(0);
            let levels: serde_json::Map<String, serde_json::Value> = ["MUST", "SHOULD", "MAY"]
                .into_iter()
                .map(|level| {
                    let l = self.level_summary(i, level);
                    (
                        level.to_string(),
                        json!({"total": l.total, "covered": l.covered, "passing": l.passing, "failing": l.failing}),
                    )
                })
                .collect();
            let line = json!({
                "type": "summary",
                "target": t,
                "scenarios": {
                    "pass": n(Verdict::Pass),
                    "fail": n(Verdict::Fail),
                    "inconclusive": n(Verdict::Inconclusive),
                    "not_applicable": n(Verdict::NotApplicable),
                },
                "requirements": levels,
            });
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// JUnit XML: one `<testsuite>` per target and suite, one `<testcase>` per scenario;
    /// failures carry the detail, inconclusive and not-applicable scenarios are `<skipped>`
    /// with the reason.
    pub fn write_junit(&self, out: impl Write) -> io::Result<()> {
        use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
        let mut w = quick_xml::Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(io::Error::other)?;
        let total = self.scenarios.len();
        let failures = self
            .scenarios
            .iter()
            .filter(|s| s.verdict == Verdict::Fail)
            .count();
        let mut root = BytesStart::new("testsuites");
        root.push_attribute(("name", "wirecheck conform"));
        root.push_attribute(("tests", total.to_string().as_str()));
        root.push_attribute(("failures", failures.to_string().as_str()));
        w.write_event(Event::Start(root))
            .map_err(io::Error::other)?;
        let mut groups: BTreeMap<(&str, &str), Vec<&ScenarioReport>> = BTreeMap::new();
        for s in &self.scenarios {
            groups
                .entry((s.target.as_str(), s.suite.as_str()))
                .or_default()
                .push(s);
        }
        for ((target, suite), list) in groups {
            let mut ts = BytesStart::new("testsuite");
            let name = format!("{target}.{suite}");
            let fails = list.iter().filter(|s| s.verdict == Verdict::Fail).count();
            let skipped = list
                .iter()
                .filter(|s| matches!(s.verdict, Verdict::Inconclusive | Verdict::NotApplicable))
                .count();
            let time: f64 = list.iter().map(|s| s.elapsed.as_secs_f64()).sum();
            ts.push_attribute(("name", name.as_str()));
            ts.push_attribute(("tests", list.len().to_string().as_str()));
            ts.push_attribute(("failures", fails.to_string().as_str()));
            ts.push_attribute(("errors", "0"));
            ts.push_attribute(("skipped", skipped.to_string().as_str()));
            ts.push_attribute(("time", format!("{time:.3}").as_str()));
            w.write_event(Event::Start(ts)).map_err(io::Error::other)?;
            for s in list {
                let mut tc = BytesStart::new("testcase");
                tc.push_attribute(("classname", name.as_str()));
                tc.push_attribute(("name", s.name.as_str()));
                tc.push_attribute(("time", format!("{:.3}", s.elapsed.as_secs_f64()).as_str()));
                w.write_event(Event::Start(tc)).map_err(io::Error::other)?;
                match s.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail => {
                        let mut f = BytesStart::new("failure");
                        f.push_attribute(("message", s.reason.as_str()));
                        w.write_event(Event::Start(f)).map_err(io::Error::other)?;
                        w.write_event(Event::Text(BytesText::new(&s.detail.join("\n"))))
                            .map_err(io::Error::other)?;
                        w.write_event(Event::End(BytesEnd::new("failure")))
                            .map_err(io::Error::other)?;
                    }
                    Verdict::Inconclusive | Verdict::NotApplicable => {
                        let mut f = BytesStart::new("skipped");
                        let message = format!("{}: {}", s.verdict, s.reason);
                        f.push_attribute(("message", message.as_str()));
                        w.write_event(Event::Empty(f)).map_err(io::Error::other)?;
                    }
                }
                if !s.requirements.is_empty() {
                    w.write_event(Event::Start(BytesStart::new("properties")))
                        .map_err(io::Error::other)?;
                    for id in &s.requirements {
                        let mut p = BytesStart::new("property");
                        p.push_attribute(("name", "requirement"));
                        p.push_attribute(("value", id.as_str()));
                        w.write_event(Event::Empty(p)).map_err(io::Error::other)?;
                    }
                    w.write_event(Event::End(BytesEnd::new("properties")))
                        .map_err(io::Error::other)?;
                }
                w.write_event(Event::End(BytesEnd::new("testcase")))
                    .map_err(io::Error::other)?;
            }
            w.write_event(Event::End(BytesEnd::new("testsuite")))
                .map_err(io::Error::other)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuites")))
            .map_err(io::Error::other)?;
        Ok(())
    }
}

/// Machine name of a status for JSON.
fn status_key(s: RequirementStatus) -> &'static str {
    match s {
        RequirementStatus::Pass => "pass",
        RequirementStatus::Fail => "fail",
        RequirementStatus::Inconclusive => "inconclusive",
        RequirementStatus::NotApplicable => "not-applicable",
        RequirementStatus::NotCovered => "not-covered",
        RequirementStatus::NotTestable => "not-testable",
    }
}

/// A requirement's status from its covering scenarios' verdicts on one target.
fn combine(verdicts: &[Verdict]) -> RequirementStatus {
    if verdicts.contains(&Verdict::Fail) {
        RequirementStatus::Fail
    } else if verdicts.contains(&Verdict::Inconclusive) {
        RequirementStatus::Inconclusive
    } else if verdicts.iter().all(|v| *v == Verdict::NotApplicable) {
        RequirementStatus::NotApplicable
    } else {
        // Some passed and the rest were not applicable: the requirement is shown to hold
        // where it applies.
        RequirementStatus::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, level: &str, testable: bool) -> RequirementRow {
        RequirementRow {
            id: id.to_string(),
            level: level.to_string(),
            summary: format!("summary of {id}"),
            testable,
            why_not: if testable {
                String::new()
            } else {
                "about the API".to_string()
            },
        }
    }

    fn scenario(name: &str, target: &str, reqs: &[&str], verdict: Verdict) -> ScenarioReport {
        ScenarioReport {
            suite: "wirecheck".to_string(),
            name: name.to_string(),
            target: target.to_string(),
            requirements: reqs.iter().map(|s| s.to_string()).collect(),
            verdict,
            reason: if verdict == Verdict::Pass {
                String::new()
            } else {
                format!("{name} <&> went {verdict}")
            },
            detail: vec!["line 3: expected win 100, got win 200".to_string()],
            elapsed: Duration::from_millis(5),
        }
    }

    fn sample() -> RunReport {
        let catalog = vec![
            row("A-MUST-1", "MUST", true),
            row("A-MUST-2", "MUST", true),
            row("A-MUST-3", "MUST", true),
            row("A-MUST-4", "MUST", false),
            row("A-SHLD-1", "SHOULD", true),
        ];
        let scenarios = vec![
            scenario(
                "tcp/one",
                "builtin",
                &["A-MUST-1", "A-SHLD-1"],
                Verdict::Pass,
            ),
            scenario(
                "tcp/two",
                "builtin",
                &["A-MUST-1", "A-MUST-2"],
                Verdict::Fail,
            ),
            scenario(
                "tcp/one",
                "smoltcp",
                &["A-MUST-1", "A-SHLD-1"],
                Verdict::NotApplicable,
            ),
            scenario(
                "tcp/two",
                "smoltcp",
                &["A-MUST-1", "A-MUST-2"],
                Verdict::Pass,
            ),
        ];
        RunReport::new(
            vec!["builtin".to_string(), "smoltcp".to_string()],
            scenarios,
            &catalog,
        )
    }

    #[test]
    fn requirements_are_scored_per_target_from_their_scenarios() {
        let r = sample();
        let status = |id: &str| {
            r.requirements
                .iter()
                .find(|s| s.requirement.id == id)
                .unwrap()
                .status
                .clone()
        };
        use RequirementStatus::*;
        // One failing covering scenario fails the requirement on that target only.
        assert_eq!(status("A-MUST-1"), vec![Fail, Pass]);
        assert_eq!(status("A-MUST-2"), vec![Fail, Pass]);
        assert_eq!(status("A-MUST-3"), vec![NotCovered, NotCovered]);
        assert_eq!(status("A-MUST-4"), vec![NotTestable, NotTestable]);
        assert_eq!(status("A-SHLD-1"), vec![Pass, NotApplicable]);
        let must = r.level_summary(0, "MUST");
        assert_eq!(
            must,
            LevelSummary {
                total: 4,
                covered: 2,
                passing: 0,
                failing: 2
            }
        );
        assert_eq!(r.level_summary(1, "MUST").passing, 2);
        assert!(r.any_failure());
    }

    #[test]
    fn table_shows_failures_requirements_and_summary() {
        let text = sample().table(false);
        assert!(text.contains("[builtin] wirecheck/tcp/two:"), "{text}");
        assert!(text.contains("expected win 100, got win 200"), "{text}");
        assert!(
            text.contains("builtin: 2 of 4 MUSTs covered, 0 passing, 2 failing"),
            "{text}"
        );
        assert!(
            text.contains("smoltcp: 2 of 4 MUSTs covered, 2 passing, 0 failing"),
            "{text}"
        );
        // Uncovered requirements only appear with `all_requirements`.
        assert!(!text.contains("A-MUST-3"), "{text}");
        assert!(sample().table(true).contains("A-MUST-3"));
    }

    #[test]
    fn json_lines_are_valid_and_complete() {
        let mut buf = Vec::new();
        sample().write_json_lines(&mut buf).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let of_type = |t: &str| lines.iter().filter(|l| l["type"] == t).count();
        assert_eq!(of_type("scenario"), 4);
        assert_eq!(of_type("requirement"), 5);
        assert_eq!(of_type("summary"), 2);
        let req = lines.iter().find(|l| l["id"] == "A-MUST-1").unwrap();
        assert_eq!(req["status"]["builtin"], "fail");
        assert_eq!(req["status"]["smoltcp"], "pass");
        let summary = lines
            .iter()
            .find(|l| l["type"] == "summary" && l["target"] == "smoltcp")
            .unwrap();
        assert_eq!(summary["scenarios"]["not_applicable"], 1);
        assert_eq!(summary["requirements"]["MUST"]["covered"], 2);
    }

    #[test]
    fn junit_is_well_formed_and_escapes_text() {
        let mut buf = Vec::new();
        sample().write_junit(&mut buf).unwrap();
        let xml = String::from_utf8(buf).unwrap();
        // Parse it back: every start has its end and the counts are right.
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut testcases = 0;
        let mut failures = 0;
        let mut skipped = 0;
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                    match e.name().as_ref() {
                        b"testcase" => testcases += 1,
                        b"failure" => failures += 1,
                        b"skipped" => skipped += 1,
                        _ => {}
                    }
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((testcases, failures, skipped), (4, 1, 1));
        assert!(
            xml.contains("&lt;&amp;&gt;"),
            "reason must be escaped: {xml}"
        );
        assert!(xml.contains(r#"<testsuite name="builtin.wirecheck" tests="2" failures="1""#));
    }
}
