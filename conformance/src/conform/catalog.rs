//! The requirement catalog: every requirement ID a scenario may name in `--requirements=`,
//! with its RFC, section, level, a one-line summary and whether a wire test can check it.
//!
//! The table lives in `conformance/catalog/requirements.tsv` and is compiled in
//! ([`Catalog::builtin`]). Its IDs are:
//!
//! - `RFC9293-MUST-n`, `RFC9293-SHLD-n`, `RFC9293-MAY-n`, `RFC9293-REC-1`: RFC 9293's own labels
//!   (Appendix B);
//! - `RFC1122-<section>-<letter>`: the rows of RFC 1122's requirement summary tables (§ 2.5,
//!   § 3.5, § 4.1.5, § 4.2.5), lettered in table order within each section;
//! - `RFC<n>-<section>[-<letter>]`: curated behaviours of other RFCs a wire test can check.
//!
//! Coverage is not stored here: it is computed from the scenarios' `--requirements=` lines
//! ([`Catalog::coverage`]). Requirements that are testable on the wire but not covered yet, and
//! why, are listed in `conformance/catalog/uncovered.tsv` ([`Catalog::builtin_uncovered`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::report::RequirementRow;

/// The catalog's source, compiled in.
const REQUIREMENTS_TSV: &str = include_str!("../../catalog/requirements.tsv");
/// Known coverage gaps (`id`, `reason`), compiled in.
const UNCOVERED_TSV: &str = include_str!("../../catalog/uncovered.tsv");

/// The columns of `requirements.tsv`, in order.
const COLUMNS: [&str; 7] = [
    "id", "rfc", "section", "level", "summary", "testable", "why_not",
];

/// Requirement level (RFC 2119). MUST NOT counts as [`Level::Must`] and SHOULD NOT as
/// [`Level::Should`]; the summary says which way the requirement points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED.
    Should,
    /// MAY / OPTIONAL.
    May,
}

impl Level {
    /// `MUST`, `SHOULD` or `MAY`, as in the TSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }

    fn parse(s: &str) -> Option<Level> {
        match s {
            "MUST" => Some(Level::Must),
            "SHOULD" => Some(Level::Should),
            "MAY" => Some(Level::May),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a wire test can check a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Testability {
    /// Observable on the wire: a scenario can check it.
    Wire,
    /// Not observable on the wire, with the reason (e.g. "about the application interface").
    No {
        /// Why not.
        why: String,
    },
}

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// `RFC9293-MUST-13`, `RFC1122-3.2.1.2-a`, `RFC5961-3.2-b`, …
    pub id: String,
    /// RFC number (`9293`).
    pub rfc: u32,
    /// Section of that RFC (`3.6.1`, or a section title for RFCs without numbered sections).
    pub section: String,
    /// Requirement level.
    pub level: Level,
    /// One line in our own words.
    pub summary: String,
    /// Whether a wire test can check it.
    pub testable: Testability,
}

impl Requirement {
    /// Whether a wire test can check it.
    pub fn is_wire_testable(&self) -> bool {
        self.testable == Testability::Wire
    }
}

/// A malformed catalog line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// Which table (`requirements.tsv`, `uncovered.tsv`, or the name given to
    /// [`Catalog::parse`]).
    pub source: String,
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.message)
    }
}

impl std::error::Error for CatalogError {}

/// All requirements, in file order, with lookup by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    requirements: Vec<Requirement>,
    by_id: BTreeMap<String, usize>,
}

impl Catalog {
    /// The catalog compiled from `conformance/catalog/requirements.tsv`.
    ///
    /// The file is checked by this crate's tests, so a parse error here is a build defect; it
    /// is still returned rather than panicking.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::parse("requirements.tsv", REQUIREMENTS_TSV)
    }

    /// Parses a catalog in the `requirements.tsv` format: a header line naming the seven
    /// columns, then one requirement per line, tab-separated. Blank lines are not allowed
    /// (a stray one usually means a broken row); every error names the line.
    pub fn parse(source: &str, text: &str) -> Result<Catalog, CatalogError> {
        let err = |line: usize, message: String| CatalogError {
            source: source.to_string(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let Some((_, header)) = lines.next() else {
            return Err(err(1, "empty file: expected a header line".into()));
        };
        let found: Vec<&str> = header.split('\t').collect();
        if found != COLUMNS {
            return Err(err(
                1,
                format!(
                    "expected header {:?}, found {:?}",
                    COLUMNS.join("\\t"),
                    found.join("\\t")
                ),
            ));
        }
        let mut requirements = Vec::new();
        let mut by_id = BTreeMap::new();
        for (n, line) in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != COLUMNS.len() {
                return Err(err(
                    n,
                    format!(
                        "expected {} tab-separated fields, found {}",
                        COLUMNS.len(),
                        fields.len()
                    ),
                ));
            }
            let [id, rfc, section, level, summary, testable, why_not] = [
                fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], fields[6],
            ];
            check_id(id).map_err(|m| err(n, m))?;
            let rfc_number: u32 = rfc
                .parse()
                .map_err(|_| err(n, format!("rfc: expected a number, found {rfc:?}")))?;
            if !id.starts_with(&format!("RFC{rfc_number}-")) {
                return Err(err(
                    n,
                    format!("id {id:?} does not start with RFC{rfc_number}-"),
                ));
            }
            if section.trim().is_empty() {
                return Err(err(n, "section: empty".into()));
            }
            let level = Level::parse(level).ok_or_else(|| {
                err(
                    n,
                    format!("level: expected MUST, SHOULD or MAY, found {level:?}"),
                )
            })?;
            if summary.trim().is_empty() {
                return Err(err(n, "summary: empty".into()));
            }
            let testable = match (testable, why_not.trim()) {
                ("wire", "") => Testability::Wire,
                ("wire", _) => {
                    return Err(err(
                        n,
                        format!("why_not must be empty for a wire-testable row, found {why_not:?}"),
                    ))
                }
                ("no", "") => {
                    return Err(err(
                        n,
                        "why_not: a row that is not wire-testable must say why".into(),
                    ))
                }
                ("no", why) => Testability::No {
                    why: why.to_string(),
                },
                (other, _) => {
                    return Err(err(
                        n,
                        format!("testable: expected wire or no, found {other:?}"),
                    ))
                }
            };
            if by_id.insert(id.to_string(), requirements.len()).is_some() {
                return Err(err(n, format!("duplicate id {id:?}")));
            }
            requirements.push(Requirement {
                id: id.to_string(),
                rfc: rfc_number,
                section: section.to_string(),
                level,
                summary: summary.to_string(),
                testable,
            });
        }
        Ok(Catalog {
            requirements,
            by_id,
        })
    }

    /// The requirement with this ID.
    pub fn get(&self, id: &str) -> Option<&Requirement> {
        self.by_id.get(id).map(|&i| &self.requirements[i])
    }

    /// Whether the ID is in the catalog.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// All requirements, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter()
    }

    /// How many requirements there are.
    pub fn len(&self) -> usize {
        self.requirements.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The catalog as the report module takes it ([`RequirementRow`]s, catalog order).
    pub fn report_rows(&self) -> Vec<RequirementRow> {
        self.requirements
            .iter()
            .map(|r| RequirementRow {
                id: r.id.clone(),
                level: r.level.as_str().to_string(),
                summary: r.summary.clone(),
                testable: r.is_wire_testable(),
                why_not: match &r.testable {
                    Testability::Wire => String::new(),
                    Testability::No { why } => why.clone(),
                },
            })
            .collect()
    }

    /// Requirement IDs used by scenarios that are not in the catalog, one message per use:
    /// `"SCENARIO: unknown requirement ID"`, in the order given.
    pub fn check_scenarios(&self, scenarios: &[(&str, &[String])]) -> Vec<String> {
        let mut unknown = Vec::new();
        for (name, ids) in scenarios {
            for id in ids.iter() {
                if !self.contains(id) {
                    unknown.push(format!("{name}: unknown requirement {id}"));
                }
            }
        }
        unknown
    }

    /// For each requirement some scenario names, the scenarios naming it (IDs not in the
    /// catalog are left out; [`check_scenarios`](Catalog::check_scenarios) reports them).
    pub fn coverage<'a>(
        &self,
        scenarios: &[(&'a str, &[String])],
    ) -> BTreeMap<String, BTreeSet<&'a str>> {
        let mut covered: BTreeMap<String, BTreeSet<&'a str>> = BTreeMap::new();
        for (name, ids) in scenarios {
            for id in ids.iter().filter(|id| self.contains(id)) {
                covered.entry(id.clone()).or_default().insert(name);
            }
        }
        covered
    }

    /// The known coverage gaps from `conformance/catalog/uncovered.tsv`: `(id, reason)`.
    pub fn builtin_uncovered() -> Result<Vec<(String, String)>, CatalogError> {
        parse_uncovered("uncovered.tsv", UNCOVERED_TSV)
    }
}

/// Parses a coverage-gap table: header `id\treason`, then one `(id, reason)` per line, both
/// non-empty, no ID twice.
pub fn parse_uncovered(source: &str, text: &str) -> Result<Vec<(String, String)>, CatalogError> {
    let err = |line: usize, message: String| CatalogError {
        source: source.to_string(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, "id\treason")) => {}
        Some((_, other)) => {
            return Err(err(
                1,
                format!("expected header \"id\\treason\", found {other:?}"),
            ))
        }
        None => return Err(err(1, "empty file: expected a header line".into())),
    }
    let mut seen = BTreeSet::new();
    let mut gaps = Vec::new();
    for (n, line) in lines {
        let Some((id, reason)) = line.split_once('\t') else {
            return Err(err(
                n,
                format!("expected \"id<TAB>reason\", found {line:?}"),
            ));
        };
        check_id(id).map_err(|m| err(n, m))?;
        if reason.trim().is_empty() || reason.contains('\t') {
            return Err(err(
                n,
                "reason: expected one non-empty field after the id".into(),
            ));
        }
        if !seen.insert(id.to_string()) {
            return Err(err(n, format!("duplicate id {id:?}")));
        }
        gaps.push((id.to_string(), reason.to_string()));
    }
    Ok(gaps)
}

/// An ID is `RFC` + digits + `-` + a non-empty rest of letters, digits, `.` and `-`.
fn check_id(id: &str) -> Result<(), String> {
    let bad =
        || format!("id: expected RFC<number>-<label> (letters, digits, '.', '-'), found {id:?}");
    let rest = id.strip_prefix("RFC").ok_or_else(bad)?;
    let (number, label) = rest.split_once('-').ok_or_else(bad)?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if label.is_empty()
        || !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id\trfc\tsection\tlevel\tsummary\ttestable\twhy_not\n";

    fn parse(body: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse("test.tsv", &format!("{HEADER}{body}"))
    }

    #[test]
    fn builtin_catalog_parses_and_has_every_rfc9293_label() {
        let catalog = Catalog::builtin().unwrap();
        for n in 1..=69 {
            let id = format!("RFC9293-MUST-{n}");
            let req = catalog.get(&id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(req.level, Level::Must, "{id}");
            assert_eq!(req.rfc, 9293);
        }
        for n in 1..=31 {
            assert!(catalog.contains(&format!("RFC9293-SHLD-{n}")), "SHLD-{n}");
        }
        for n in 1..=18 {
            assert!(catalog.contains(&format!("RFC9293-MAY-{n}")), "MAY-{n}");
        }
        assert!(!catalog.contains("RFC9293-MUST-70"));
        // One row of each RFC 1122 table.
        for id in [
            "RFC1122-2.3.2.2-a",
            "RFC1122-3.2.1.2-a",
            "RFC1122-4.1.3.4-b",
            "RFC1122-4.2.3.2-b",
        ] {
            assert!(catalog.contains(id), "{id}");
        }
        let rfcs: BTreeSet<u32> = catalog.iter().map(|r| r.rfc).collect();
        for rfc in [
            791, 792, 826, 1112, 1122, 1191, 2018, 2236, 3376, 5681, 5961, 6298, 6582, 6675, 7323,
            9293,
        ] {
            assert!(rfcs.contains(&rfc), "no rows for RFC {rfc}");
        }
        assert_eq!(catalog.iter().count(), catalog.len());
    }

    #[test]
    fn lookup_returns_the_parsed_fields() {
        let catalog = Catalog::builtin().unwrap();
        let req = catalog.get("RFC9293-MUST-13").unwrap();
        assert_eq!(req.section, "3.6.1");
        assert!(req.is_wire_testable());
        let req = catalog.get("RFC9293-MUST-17").unwrap();
        assert!(matches!(&req.testable, Testability::No { why } if why.contains("application")));
        assert_eq!(catalog.get("RFC1122-4.2.3.2-b").unwrap().level, Level::Must);
        assert_eq!(catalog.get("RFC6298-2.4").unwrap().level, Level::Should);
        assert!(catalog.get("RFC9293-must-13").is_none());
    }

    #[test]
    fn report_rows_follow_the_catalog() {
        let catalog = Catalog::builtin().unwrap();
        let rows = catalog.report_rows();
        assert_eq!(rows.len(), catalog.len());
        let must17 = rows.iter().find(|r| r.id == "RFC9293-MUST-17").unwrap();
        assert_eq!(must17.level, "MUST");
        assert!(!must17.testable);
        assert!(!must17.why_not.is_empty());
        let must13 = rows.iter().find(|r| r.id == "RFC9293-MUST-13").unwrap();
        assert!(must13.testable && must13.why_not.is_empty());
    }

    #[test]
    fn a_good_row_parses() {
        let c = parse("RFC1-2-a\t1\t2\tMAY\tSomething.\tno\tabout the API\n").unwrap();
        let r = c.get("RFC1-2-a").unwrap();
        assert_eq!(r.level, Level::May);
        assert_eq!(
            r.testable,
            Testability::No {
                why: "about the API".into()
            }
        );
    }

    fn error_of(body: &str) -> CatalogError {
        parse(body).unwrap_err()
    }

    #[test]
    fn bad_rows_are_errors_naming_the_line() {
        let good = "RFC1-1\t1\t1\tMUST\tok\twire\t\n";
        let cases = [
            (
                "RFC1-2\t1\t1\tMUST\tok\twire\n",
                "expected 7 tab-separated fields, found 6",
            ),
            (
                "RFC1-2\t1\t1\tMUSTY\tok\twire\t\n",
                "level: expected MUST, SHOULD or MAY",
            ),
            (
                "RFC1-2\t1\t1\tMUST\tok\tmaybe\t\n",
                "testable: expected wire or no",
            ),
            ("RFC1-2\t1\t1\tMUST\tok\tno\t\n", "must say why"),
            (
                "RFC1-2\t1\t1\tMUST\tok\twire\tbecause\n",
                "why_not must be empty",
            ),
            (
                "RFC1-2\tone\t1\tMUST\tok\twire\t\n",
                "rfc: expected a number",
            ),
            (
                "RFC2-2\t1\t1\tMUST\tok\twire\t\n",
                "does not start with RFC1-",
            ),
            (
                "rfc1-2\t1\t1\tMUST\tok\twire\t\n",
                "id: expected RFC<number>-<label>",
            ),
            ("RFC1-2 x\t1\t1\tMUST\tok\twire\t\n", "id: expected"),
            ("RFC1-2\t1\t\tMUST\tok\twire\t\n", "section: empty"),
            ("RFC1-2\t1\t1\tMUST\t \twire\t\n", "summary: empty"),
            ("RFC1-1\t1\t1\tMUST\tagain\twire\t\n", "duplicate id"),
            ("\n", "expected 7 tab-separated fields, found 1"),
        ];
        for (row, expected) in cases {
            let e = error_of(&format!("{good}{row}"));
            assert_eq!(e.line, 3, "{row:?}: {e}");
            assert!(e.message.contains(expected), "{row:?}: {e}");
            assert!(e.to_string().starts_with("test.tsv:3: "), "{e}");
        }
    }

    #[test]
    fn a_wrong_or_missing_header_is_an_error() {
        let e = Catalog::parse("x.tsv", "id\trfc\n").unwrap_err();
        assert_eq!((e.line, e.source.as_str()), (1, "x.tsv"));
        assert!(e.message.contains("expected header"), "{e}");
        let e = Catalog::parse("x.tsv", "").unwrap_err();
        assert!(e.message.contains("empty file"), "{e}");
    }

    #[test]
    fn check_scenarios_lists_unknown_ids_per_scenario() {
        let catalog = Catalog::builtin().unwrap();
        let a = vec!["RFC9293-MUST-13".to_string(), "RFC9293-MUST-99".to_string()];
        let b = vec!["RFC1122-3.2.1.2-a".to_string()];
        let c = vec!["RFC5961-9.9".to_string()];
        let unknown = catalog.check_scenarios(&[("a.pkt", &a), ("b.pkt", &b), ("c.pkt", &c)]);
        assert_eq!(
            unknown,
            vec![
                "a.pkt: unknown requirement RFC9293-MUST-99".to_string(),
                "c.pkt: unknown requirement RFC5961-9.9".to_string(),
            ]
        );
        assert!(catalog.check_scenarios(&[("b.pkt", &b)]).is_empty());
    }

    #[test]
    fn coverage_maps_known_ids_to_their_scenarios() {
        let catalog = Catalog::builtin().unwrap();
        let a = vec!["RFC9293-MUST-13".to_string(), "RFC9293-MUST-99".to_string()];
        let b = vec!["RFC9293-MUST-13".to_string(), "RFC6298-5.5".to_string()];
        let cov = catalog.coverage(&[("a", &a), ("b", &b)]);
        assert_eq!(cov.len(), 2);
        assert_eq!(
            cov["RFC9293-MUST-13"].iter().copied().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(cov["RFC6298-5.5"].len(), 1);
    }

    #[test]
    fn uncovered_table_parses_strictly() {
        let gaps = Catalog::builtin_uncovered().unwrap();
        let catalog = Catalog::builtin().unwrap();
        for (id, _) in &gaps {
            assert!(catalog.contains(id), "uncovered.tsv names unknown {id}");
        }
        let e = parse_uncovered("u.tsv", "id\treason\nRFC1-1\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_uncovered("u.tsv", "id\treason\nRFC1-1\tx\nRFC1-1\ty\n").unwrap_err();
        assert!(e.message.contains("duplicate"), "{e}");
        let e = parse_uncovered("u.tsv", "id\tcause\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_uncovered("u.tsv", "id\treason\nRFC1-1\t \n").unwrap_err();
        assert!(e.message.contains("reason"), "{e}");
    }
}
