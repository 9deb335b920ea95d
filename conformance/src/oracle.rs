//! Comparing wirecheck's reading of a capture with Wireshark's.
//!
//! A reading is one row per packet of `(field name, value)` pairs keyed by Wireshark's
//! display-filter names. Wireshark's reading is the TSV that `shared/oracle/tshark-reading.sh`
//! prints (stored beside each capture as `NAME.tshark.tsv`); both sides are normalised as
//! ORACLE.md describes (integers in hex or decimal compare by value, booleans as 0/1,
//! addresses as lower-case text, `tcp.options.sack_perm` as present/absent).

use crate::fields::{FieldValue, Fields};
use std::collections::BTreeMap;
use std::fmt;

/// One capture's Wireshark reading: the field names in column order and one row per packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Column names from the header line.
    pub columns: Vec<String>,
    /// Per packet, the non-empty cells by column name.
    pub rows: Vec<BTreeMap<String, String>>,
}

/// Parses the TSV that `tshark-reading.sh` prints.
pub fn parse_tsv(text: &str) -> Result<Reading, String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty reading: no header line")?;
    let columns: Vec<String> = header.split('\t').map(str::to_string).collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        if cells.len() != columns.len() {
            return Err(format!(
                "line {}: {} cells, header has {}",
                i + 2,
                cells.len(),
                columns.len()
            ));
        }
        let row = columns
            .iter()
            .zip(cells)
            .filter(|(_, c)| !c.is_empty())
            .map(|(k, c)| (k.clone(), c.to_string()))
            .collect();
        rows.push(row);
    }
    Ok(Reading { columns, rows })
}

/// A value in comparable form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Normalised {
    /// Integers and booleans.
    Int(i128),
    /// Addresses and anything else, lower-cased.
    Text(String),
    /// A field whose presence is what counts (`tcp.options.sack_perm`).
    Present,
}

impl fmt::Display for Normalised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Normalised::Int(i) => write!(f, "{i}"),
            Normalised::Text(t) => f.write_str(t),
            Normalised::Present => f.write_str("(present)"),
        }
    }
}

/// Fields compared by presence only.
fn presence_only(field: &str) -> bool {
    field == "tcp.options.sack_perm"
}

/// Normalises a tshark cell. With `occurrence=f` a cell holds one value, but some fields print
/// several comma-separated values for one occurrence; the first is taken.
pub fn normalise_tshark(field: &str, cell: &str) -> Normalised {
    if presence_only(field) {
        return Normalised::Present;
    }
    let cell = cell.split(',').next().unwrap_or(cell).trim();
    match cell {
        "True" | "true" => return Normalised::Int(1),
        "False" | "false" => return Normalised::Int(0),
        _ => {}
    }
    if let Some(hex) = cell.strip_prefix("0x") {
        if let Ok(v) = i128::from_str_radix(hex, 16) {
            return Normalised::Int(v);
        }
    }
    if let Ok(v) = cell.parse::<i128>() {
        return Normalised::Int(v);
    }
    Normalised::Text(cell.to_ascii_lowercase())
}

/// Normalises one of our values.
pub fn normalise_ours(field: &str, value: &FieldValue) -> Normalised {
    if presence_only(field) {
        return Normalised::Present;
    }
    match value {
        FieldValue::Int(i) => Normalised::Int(*i as i128),
        FieldValue::Bool(b) => Normalised::Int(*b as i128),
        FieldValue::Float(f) => Normalised::Text(format!("{f}")),
        FieldValue::Text(t) => Normalised::Text(t.to_ascii_lowercase()),
        FieldValue::Mac(_) | FieldValue::Ipv4(_) | FieldValue::Epoch { .. } => {
            Normalised::Text(value.to_text())
        }
    }
}

/// One cell where the two readings differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// 1-based packet number.
    pub packet: usize,
    /// Wireshark field name.
    pub field: String,
    /// Wireshark's value (`None`: Wireshark did not report the field).
    pub wireshark: Option<Normalised>,
    /// Ours (`None`: we did not report the field).
    pub wirecheck: Option<Normalised>,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Normalised>| match v {
            Some(v) => v.to_string(),
            None => "(absent)".to_string(),
        };
        write!(
            f,
            "packet {} {}: wireshark {}, wirecheck {}",
            self.packet,
            self.field,
            show(&self.wireshark),
            show(&self.wirecheck)
        )
    }
}

/// Compares our per-packet fields with Wireshark's reading over the reading's columns.
/// A packet count mismatch is reported as a disagreement on `frame.number`.
pub fn compare(reading: &Reading, ours: &[Fields]) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let n = reading.rows.len().max(ours.len());
    for i in 0..n {
        let theirs = reading.rows.get(i);
        let mine = ours.get(i);
        for column in &reading.columns {
            let w = theirs
                .and_then(|r| r.get(column))
                .map(|c| normalise_tshark(column, c));
            let o = mine
                .and_then(|m| m.get(column))
                .map(|v| normalise_ours(column, v));
            if w != o {
                out.push(Disagreement {
                    packet: i + 1,
                    field: column.clone(),
                    wireshark: w,
                    wirecheck: o,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_hex_decimal_booleans_and_addresses() {
        assert_eq!(
            normalise_tshark("eth.type", "0x0800"),
            Normalised::Int(2048)
        );
        assert_eq!(normalise_tshark("ip.ttl", "64"), Normalised::Int(64));
        assert_eq!(normalise_tshark("ip.flags.df", "True"), Normalised::Int(1));
        assert_eq!(
            normalise_tshark("eth.src", "02:00:00:00:00:0A"),
            Normalised::Text("02:00:00:00:00:0a".into())
        );
        assert_eq!(
            normalise_tshark("tcp.options.sack_perm", "0402"),
            Normalised::Present
        );
        assert_eq!(
            normalise_tshark("ip.opt.type", "148,1"),
            Normalised::Int(148)
        );
    }

    #[test]
    fn compare_reports_each_differing_cell_both_ways() {
        let reading = parse_tsv("frame.number\tip.ttl\tip.src\n1\t64\t10.0.0.1\n").unwrap();
        let mut ours = Fields::default();
        ours.push("frame.number", FieldValue::Int(1));
        ours.push("ip.ttl", FieldValue::Int(63));
        let d = compare(&reading, &[ours]);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].field, "ip.ttl");
        assert_eq!(d[0].wireshark, Some(Normalised::Int(64)));
        assert_eq!(d[0].wirecheck, Some(Normalised::Int(63)));
        assert_eq!(d[1].field, "ip.src");
        assert_eq!(d[1].wirecheck, None);
        assert_eq!(
            d[1].to_string(),
            "packet 1 ip.src: wireshark 10.0.0.1, wirecheck (absent)"
        );
    }

    #[test]
    fn bad_tsv_is_an_error() {
        assert!(parse_tsv("").is_err());
        assert!(parse_tsv("a\tb\n1\n").is_err());
    }
}
