//! Scenario suites: wirecheck's own scenarios (bundled into the binary from
//! `conformance/scenarios/`, so `wirecheck conform` works from any directory) and suites read
//! from a directory (FreeBSD's tcp-testsuite, or a user's own `.pkt` files).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

/// `conformance/scenarios/`, compiled in.
static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/scenarios");

/// Most scenario files a directory suite may hold (a guard against pointing `--suite-dir` at `/`).
pub const MAX_SCENARIOS: usize = 10_000;

/// Largest scenario file read, in octets.
pub const MAX_SCENARIO_SIZE: u64 = 1 << 20;

/// One scenario's source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioSource {
    /// Path inside the suite without `.pkt` (`tcp/passive-open`).
    pub name: String,
    /// Where it came from: the file on disk, or `scenarios/NAME.pkt` for bundled ones.
    pub path: PathBuf,
    /// The script text.
    pub text: String,
}

/// Which set of rules the interpreter applies to a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteKind {
    /// wirecheck's scenarios: written for any target, checked strictly.
    Wirecheck,
    /// FreeBSD's tcp-testsuite: sysctl lines ignored; FreeBSD's window values, option order
    /// and buffer sizes relaxed.
    FreeBsd,
    /// A user's directory of scripts, checked strictly.
    Directory,
}

/// A named list of scenarios.
#[derive(Debug, Clone)]
pub struct Suite {
    /// `wirecheck`, `freebsd`, or the directory's name.
    pub name: String,
    /// The rules it runs under.
    pub kind: SuiteKind,
    /// Scenarios sorted by name.
    pub scenarios: Vec<ScenarioSource>,
}

/// Why a suite could not be read.
#[derive(Debug)]
pub struct SuiteError {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SuiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for SuiteError {}

/// Suite names `--suite` accepts.
pub const SUITE_NAMES: &[&str] = &["wirecheck", "freebsd"];

/// wirecheck's own scenarios.
pub fn bundled() -> Suite {
    let mut scenarios = Vec::new();
    collect_bundled(&BUNDLED, &mut scenarios);
    scenarios.sort_by(|a, b| a.name.cmp(&b.name));
    Suite {
        name: "wirecheck".to_string(),
        kind: SuiteKind::Wirecheck,
        scenarios,
    }
}

fn collect_bundled(dir: &Dir<'static>, out: &mut Vec<ScenarioSource>) {
    for file in dir.files() {
        let path = file.path();
        if path.extension().is_some_and(|e| e == "pkt") {
            if let Some(text) = file.contents_utf8() {
                out.push(ScenarioSource {
                    name: path.with_extension("").to_string_lossy().replace('\\', "/"),
                    path: Path::new("scenarios").join(path),
                    text: text.to_string(),
                });
            }
        }
    }
    for sub in dir.dirs() {
        collect_bundled(sub, out);
    }
}

/// Where FreeBSD's suite is looked for by default: `$WIRECHECK_FREEBSD_SUITE`, else the first
/// `shared/peer-suites/freebsd-tcp-testsuite` found beside the current directory or the
/// source tree or any of their parents (CI lays the repository out with `../shared` beside
/// it).
pub fn freebsd_default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WIRECHECK_FREEBSD_SUITE") {
        return PathBuf::from(dir);
    }
    let relative = Path::new("shared/peer-suites/freebsd-tcp-testsuite");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cwd = std::env::current_dir().unwrap_or_else(|_| manifest.to_path_buf());
    for start in [cwd.as_path(), manifest] {
        for dir in start.ancestors() {
            let candidate = dir.join(relative);
            if candidate.is_dir() {
                return candidate;
            }
        }
    }
    manifest.join("../..").join(relative)
}

/// Every `.pkt` under `dir`, recursively, as a suite named `name`.
pub fn from_dir(name: &str, kind: SuiteKind, dir: &Path) -> Result<Suite, SuiteError> {
    let error = |path: &Path, e: io::Error| SuiteError {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if !dir.is_dir() {
        return Err(SuiteError {
            path: dir.to_path_buf(),
            message: "not a directory (give the suite's location with --suite-dir)".to_string(),
        });
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)
            .map_err(|e| error(&d, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| error(&d, e))?;
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| error(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "pkt") {
                if files.len() == MAX_SCENARIOS {
                    return Err(SuiteError {
                        path: dir.to_path_buf(),
                        message: format!("more than {MAX_SCENARIOS} .pkt files"),
                    });
                }
                files.push(path);
            }
        }
    }
    let mut scenarios = Vec::with_capacity(files.len());
    for path in files {
        let size = std::fs::metadata(&path).map_err(|e| error(&path, e))?.len();
        if size > MAX_SCENARIO_SIZE {
            return Err(SuiteError {
                path,
                message: format!(
                    "{size} octets; scenarios larger than {MAX_SCENARIO_SIZE} are refused"
                ),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| error(&path, e))?;
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        scenarios.push(ScenarioSource { name, path, text });
    }
    scenarios.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Suite {
        name: name.to_string(),
        kind,
        scenarios,
    })
}

/// The suite called `name`: `wirecheck` (bundled) or `freebsd` (from `dir`, or the default
/// location).
pub fn by_name(name: &str, dir: Option<&Path>) -> Result<Suite, SuiteError> {
    match name {
        "wirecheck" => match dir {
            None => Ok(bundled()),
            Some(dir) => from_dir("wirecheck", SuiteKind::Wirecheck, dir),
        },
        "freebsd" => {
            let dir = dir
                .map(Path::to_path_buf)
                .unwrap_or_else(freebsd_default_dir);
            from_dir("freebsd", SuiteKind::FreeBsd, &dir)
        }
        other => Err(SuiteError {
            path: PathBuf::from(other),
            message: format!("unknown suite; known suites: {}", SUITE_NAMES.join(", ")),
        }),
    }
}

impl Suite {
    /// Keeps only scenarios whose name contains `pattern`.
    pub fn filter(&mut self, pattern: &str) {
        self.scenarios.retain(|s| s.name.contains(pattern));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_suite_matches_the_scenarios_directory() {
        let suite = bundled();
        let on_disk = from_dir(
            "wirecheck",
            SuiteKind::Wirecheck,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        )
        .unwrap();
        let names = |s: &Suite| {
            s.scenarios
                .iter()
                .map(|x| x.name.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&suite), names(&on_disk));
        for (a, b) in suite.scenarios.iter().zip(&on_disk.scenarios) {
            assert_eq!(a.text, b.text, "{}", a.name);
        }
    }

    #[test]
    fn directory_suites_are_recursive_sorted_and_named_by_relative_path() {
        let dir = std::env::temp_dir().join(format!("wirecheck-suite-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        std::fs::write(dir.join("b/c/two.pkt"), "0 close(3) = 0\n").unwrap();
        std::fs::write(dir.join("a.pkt"), "0 close(3) = 0\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a scenario").unwrap();
        let suite = from_dir("mine", SuiteKind::Directory, &dir).unwrap();
        let names: Vec<_> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b/c/two"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_and_unknown_suite_are_clear_errors() {
        let e = from_dir("x", SuiteKind::Directory, Path::new("/nonexistent/suite")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/nonexistent/suite: not a directory"),
            "{e}"
        );
        let e = by_name("bsd", None).unwrap_err();
        assert!(
            e.to_string().contains("known suites: wirecheck, freebsd"),
            "{e}"
        );
    }
}
