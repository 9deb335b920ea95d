//! The scenarios under `conformance/scenarios/` against the requirement catalog: every ID a
//! scenario names exists, every row that is not wire-testable says why, and every
//! wire-testable MUST of RFC 9293 is covered by some scenario or listed, with a reason, in
//! `conformance/catalog/uncovered.tsv`.
//!
//! The `--requirements=` lines are found with a plain line scan, independent of the scenario
//! parser.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use wirecheck_conformance::conform::catalog::{Catalog, Level, Testability};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every `.pkt` file under `dir`, recursively, sorted.
fn pkt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "pkt") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The IDs of a scenario's `--requirements=` line(s).
fn requirement_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("--requirements="))
        .flat_map(|v| v.split(','))
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .collect()
}

/// `(scenario name relative to scenarios/, its requirement IDs)` for every scenario.
fn scenarios() -> Vec<(String, Vec<String>)> {
    let dir = scenarios_dir();
    pkt_files(&dir)
        .into_iter()
        .map(|path| {
            let text = fs::read_to_string(&path).unwrap();
            let name = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, requirement_ids(&text))
        })
        .collect()
}

#[test]
fn the_line_scan_finds_ids() {
    let text = "// what it checks\n--requirements=RFC9293-MUST-1, RFC6298-2.4\n--requires=tcp\n";
    assert_eq!(requirement_ids(text), ["RFC9293-MUST-1", "RFC6298-2.4"]);
    assert!(requirement_ids("--requires=tcp\n").is_empty());
}

#[test]
fn every_scenario_names_requirements_and_all_exist() {
    let catalog = Catalog::builtin().unwrap();
    let scenarios = scenarios();
    assert!(
        scenarios.len() >= 40,
        "expected the bundled scenarios, found {}",
        scenarios.len()
    );
    let without: Vec<&str> = scenarios
        .iter()
        .filter(|(_, ids)| ids.is_empty())
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "scenarios without --requirements=: {without:?}"
    );
    let borrowed: Vec<(&str, &[String])> = scenarios
        .iter()
        .map(|(n, ids)| (n.as_str(), ids.as_slice()))
        .collect();
    let unknown = catalog.check_scenarios(&borrowed);
    assert!(
        unknown.is_empty(),
        "unknown requirement IDs:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn scenarios_only_claim_wire_testable_requirements() {
    let catalog = Catalog::builtin().unwrap();
    let mut wrong = Vec::new();
    for (name, ids) in scenarios() {
        for id in ids {
            if let Some(req) = catalog.get(&id) {
                if !req.is_wire_testable() {
                    wrong.push(format!("{name}: {id} is marked not wire-testable"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_row_that_is_not_wire_testable_says_why() {
    let catalog = Catalog::builtin().unwrap();
    for req in catalog.iter() {
        if let Testability::No { why } = &req.testable {
            assert!(!why.trim().is_empty(), "{} has no why_not", req.id);
        }
    }
}

#[test]
fn every_wire_testable_rfc9293_must_is_covered_or_listed_as_a_gap() {
    let catalog = Catalog::builtin().unwrap();
    let gaps = Catalog::builtin_uncovered().unwrap();
    let scenarios = scenarios();
    let borrowed: Vec<(&str, &[String])> = scenarios
        .iter()
        .map(|(n, ids)| (n.as_str(), ids.as_slice()))
        .collect();
    let covered = catalog.coverage(&borrowed);
    let listed: BTreeSet<&str> = gaps.iter().map(|(id, _)| id.as_str()).collect();

    let mut missing = Vec::new();
    for req in catalog.iter() {
        let wire_must = req.rfc == 9293 && req.level == Level::Must && req.is_wire_testable();
        if wire_must && !covered.contains_key(&req.id) && !listed.contains(req.id.as_str()) {
            missing.push(format!("{} ({})", req.id, req.summary));
        }
    }
    assert!(
        missing.is_empty(),
        "wire-testable RFC 9293 MUSTs neither covered by a scenario nor in uncovered.tsv:\n{}",
        missing.join("\n")
    );

    // The gap list stays honest: nothing in it is covered already, and everything in it is
    // a wire-testable requirement that exists.
    for (id, _) in &gaps {
        let req = catalog
            .get(id)
            .unwrap_or_else(|| panic!("uncovered.tsv names unknown {id}"));
        assert!(
            req.is_wire_testable(),
            "uncovered.tsv lists {id}, not wire-testable"
        );
        assert!(
            !covered.contains_key(id),
            "uncovered.tsv lists {id}, but {:?} cover it",
            covered[id]
        );
    }
}

#[test]
fn every_scenario_parses() {
    let mut errors = Vec::new();
    for path in pkt_files(&scenarios_dir()) {
        if let Err(e) = wirecheck_conformance::conform::parse::parse_file(&path) {
            errors.push(e.to_string());
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn every_scenario_requires_only_known_features() {
    use wirecheck_conformance::conform::target::FEATURES;
    let known: BTreeSet<&str> = FEATURES.iter().map(|(name, _)| *name).collect();
    let dir = scenarios_dir();
    let mut unknown = Vec::new();
    for path in pkt_files(&dir) {
        let text = fs::read_to_string(&path).unwrap();
        let features: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("--requires="))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        assert!(
            !features.is_empty(),
            "{}: no --requires= line",
            path.display()
        );
        for f in features {
            if !known.contains(f) {
                unknown.push(format!("{}: unknown feature {f}", path.display()));
            }
        }
    }
    assert!(unknown.is_empty(), "{}", unknown.join("\n"));
}
