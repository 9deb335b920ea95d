//! A packet's reading as Wireshark display-filter fields: the keys of `wirecheck decode
//! --format json` and of the differential test against tshark.
//!
//! JSON is written straight into the output buffer (no intermediate JSON tree, no allocation
//! per field): `decode --format json` spends most of its time here.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use wirecheck_codec::ethernet::MacAddr;

/// A field's value, typed for JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// Integers (ports, lengths, flags, checksums).
    Int(u64),
    /// Flags.
    Bool(bool),
    /// Other real numbers.
    Float(f64),
    /// A time since the Unix epoch, written as a JSON number with nine decimals (exact to the
    /// nanosecond in the text, as tshark prints `frame.time_epoch`).
    Epoch {
        /// Whole seconds.
        seconds: i64,
        /// Nanoseconds (values past a second, from files with bad fractions, carry over).
        nanoseconds: u64,
    },
    /// A MAC address (a JSON string `02:00:00:00:00:01`).
    Mac(MacAddr),
    /// An IPv4 address (a JSON string `192.0.2.1`).
    Ipv4(Ipv4Addr),
    /// Other text.
    Text(String),
}

impl FieldValue {
    /// The value as text, as it appears in JSON (without quotes).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_bare(&mut s);
        s
    }

    fn write_bare(&self, out: &mut String) {
        match self {
            FieldValue::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            FieldValue::Float(f) if f.is_finite() => {
                let _ = write!(out, "{f}");
            }
            FieldValue::Float(_) => out.push_str("null"),
            FieldValue::Epoch {
                seconds,
                nanoseconds,
            } => {
                let total = i128::from(*seconds) * 1_000_000_000 + i128::from(*nanoseconds);
                if total < 0 {
                    out.push('-');
                }
                let t = total.unsigned_abs();
                out.push_str(itoa::Buffer::new().format(t / 1_000_000_000));
                out.push('.');
                let fraction = itoa::Buffer::new().format(t % 1_000_000_000).to_string();
                for _ in fraction.len()..9 {
                    out.push('0');
                }
                out.push_str(&fraction);
            }
            FieldValue::Mac(m) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for (i, b) in m.0.iter().enumerate() {
                    if i > 0 {
                        out.push(':');
                    }
                    out.push(HEX[usize::from(b >> 4)] as char);
                    out.push(HEX[usize::from(b & 0xf)] as char);
                }
            }
            FieldValue::Ipv4(a) => {
                let mut buffer = itoa::Buffer::new();
                for (i, o) in a.octets().iter().enumerate() {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(buffer.format(*o));
                }
            }
            FieldValue::Text(t) => out.push_str(t),
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            FieldValue::Mac(_) | FieldValue::Ipv4(_) => {
                out.push('"');
                self.write_bare(out);
                out.push('"');
            }
            FieldValue::Text(t) => write_json_string(out, t),
            _ => self.write_bare(out),
        }
    }
}

/// Writes `s` as a JSON string literal.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // The common case (field names, addresses): nothing to escape.
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Fields in the order they were added; the first value for a name wins (Wireshark's
/// "first occurrence": the outermost header).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(&'static str, FieldValue)>,
    /// Whether fields added now may repeat names already present (an inner header: a quoted
    /// or reassembled datagram), so that each push must look for its name first.
    nested: bool,
}

impl Fields {
    /// Room for `n` fields.
    pub fn with_capacity(n: usize) -> Fields {
        Fields {
            entries: Vec::with_capacity(n),
            nested: false,
        }
    }

    /// Adds a field unless one of that name is already there.
    pub fn push(&mut self, name: &'static str, value: FieldValue) {
        // The outermost headers give each name once; only inner ones need the (linear) check.
        if !self.nested || self.get(name).is_none() {
            self.entries.push((name, value));
        }
    }

    /// From now on, fields come from an inner header (a datagram quoted in an ICMP error, or
    /// reassembled) whose names may repeat outer ones: the outer value is kept.
    pub fn begin_nested(&mut self) {
        self.nested = true;
    }

    /// Adds an integer field.
    pub fn int(&mut self, name: &'static str, value: impl Into<u64>) {
        self.push(name, FieldValue::Int(value.into()));
    }

    /// Adds a boolean field.
    pub fn flag(&mut self, name: &'static str, value: bool) {
        self.push(name, FieldValue::Bool(value));
    }

    /// Adds a MAC address field.
    pub fn mac(&mut self, name: &'static str, value: MacAddr) {
        self.push(name, FieldValue::Mac(value));
    }

    /// Adds an IPv4 address field.
    pub fn ipv4(&mut self, name: &'static str, value: Ipv4Addr) {
        self.push(name, FieldValue::Ipv4(value));
    }

    /// Adds a text field.
    pub fn text(&mut self, name: &'static str, value: impl ToString) {
        self.push(name, FieldValue::Text(value.to_string()));
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.entries
            .iter()
            // Names are mostly the same literals: compare lengths before bytes.
            .find(|(n, _)| n.len() == name.len() && *n == name)
            .map(|(_, v)| v)
    }

    /// All fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.entries.iter().map(|(n, v)| (*n, v))
    }

    /// Appends the fields as one JSON object (no newline).
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        for (i, (name, value)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Names are Wireshark's (dots and letters): nothing to escape.
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            value.write_json(out);
        }
        out.push('}');
    }

    /// The fields as one JSON object.
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(64 * self.entries.len());
        self.write_json(&mut s);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_wins_and_json_is_typed() {
        let mut f = Fields::default();
        f.int("ip.ttl", 64u8);
        f.begin_nested();
        f.int("ip.ttl", 1u8);
        f.flag("ip.flags.df", true);
        f.ipv4("ip.src", Ipv4Addr::new(10, 0, 0, 1));
        f.mac("eth.src", MacAddr([2, 0, 0, 0, 0xab, 1]));
        f.push(
            "frame.time_epoch",
            FieldValue::Epoch {
                seconds: 1_700_000_000,
                nanoseconds: 5_000,
            },
        );
        f.text("note", "a \"quoted\"\nline");
        let json = f.to_json();
        assert_eq!(
            json,
            r#"{"ip.ttl":64,"ip.flags.df":true,"ip.src":"10.0.0.1","eth.src":"02:00:00:00:ab:01","frame.time_epoch":1700000000.000005000,"note":"a \"quoted\"\nline"}"#
        );
        // What we write is JSON a standard parser reads back to the same values.
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["ip.ttl"], 64);
        assert_eq!(parsed["note"], "a \"quoted\"\nline");
        assert_eq!(f.get("ip.ttl"), Some(&FieldValue::Int(64)));
    }
}
