//! A packet's reading as Wireshark display-filter fields: the keys of `wirecheck decode
//! --format json` and of the differential test against tshark.
//!
//! Decoders hand fields to a [`FieldSink`]: either [`Fields`], a list kept for comparison and
//! lookup, or [`JsonObject`], which writes each field as JSON text into a byte buffer the
//! moment it arrives (no list, no allocation per field or per packet): `decode --format json`
//! spends most of its time here, so the JSON writer works on bytes and formats numbers and
//! addresses without going through `fmt`.

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
        let mut bytes = Vec::new();
        self.write_bare(&mut bytes);
        // Every writer below emits ASCII, or a `Text` value's own (valid) UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }

    fn write_bare(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Int(i) => write_u64(out, *i),
            FieldValue::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            FieldValue::Float(f) if f.is_finite() => {
                use std::io::Write as _;
                let _ = write!(out, "{f}");
            }
            FieldValue::Float(_) => out.extend_from_slice(b"null"),
            FieldValue::Epoch {
                seconds,
                nanoseconds,
            } => write_epoch(out, *seconds, *nanoseconds),
            FieldValue::Mac(m) => write_mac(out, m, false),
            FieldValue::Ipv4(a) => write_ipv4(out, *a, false),
            FieldValue::Text(t) => out.extend_from_slice(t.as_bytes()),
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Mac(m) => write_mac(out, m, true),
            FieldValue::Ipv4(a) => write_ipv4(out, *a, true),
            FieldValue::Text(t) => write_json_string(out, t),
            _ => self.write_bare(out),
        }
    }
}

/// The decimal digits of 0 to 99, two by two.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

// The writers below put text into a slice at an index and return the index after it; the
// caller makes room first (each says how much it needs at most). Writing through a local
// slice keeps its address and length in registers; a `Vec<u8>` written byte by byte has its
// length stored and reloaded around every byte (a byte store may alias anything), and text
// built in a small array and then appended costs a `memcpy` call or a stalled wide load of
// bytes just stored.

/// Most bytes [`put_u64`] writes.
const U64_ROOM: usize = 20;

/// Writes `value` in decimal.
#[inline(always)]
fn put_u64(buf: &mut [u8], at: usize, value: u64) -> usize {
    // Flags, versions, statuses, header lengths, TTLs: about half the integers of a packet.
    if value < 10 {
        buf[at] = b'0' + value as u8;
        return at + 1;
    }
    if value < 100 {
        let pair = value as usize * 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        return at + 2;
    }
    let digits = value.ilog10() as usize + 1;
    let text = &mut buf[at..at + digits];
    let mut end = digits;
    let mut rest = value;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        end -= 2;
        text[end] = DIGIT_PAIRS[pair];
        text[end + 1] = DIGIT_PAIRS[pair + 1];
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        text[0] = DIGIT_PAIRS[pair];
        text[1] = DIGIT_PAIRS[pair + 1];
    } else {
        text[0] = b'0' + rest as u8;
    }
    at + digits
}

/// Most bytes [`put_epoch`] writes: a sign, 29 digits of an `i128` quotient, a point and
/// nine decimals.
const EPOCH_ROOM: usize = 40;

/// Seconds, a point and nine decimals; an out-of-range fraction folds into the seconds.
fn put_epoch(buf: &mut [u8], mut at: usize, seconds: i64, nanoseconds: u64) -> usize {
    let (whole, fraction) = match u64::try_from(seconds) {
        // The usual case, in 64-bit arithmetic.
        Ok(s) if nanoseconds < 1_000_000_000 => (s, nanoseconds as u32),
        _ => {
            let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds);
            if total < 0 {
                buf[at] = b'-';
                at += 1;
            }
            let t = total.unsigned_abs();
            let whole = t / 1_000_000_000;
            let fraction = (t % 1_000_000_000) as u32;
            match u64::try_from(whole) {
                Ok(w) => (w, fraction),
                Err(_) => {
                    let text = itoa::Buffer::new().format(whole).as_bytes().to_vec();
                    buf[at..at + text.len()].copy_from_slice(&text);
                    at += text.len();
                    buf[at] = b'.';
                    return put_fraction(buf, at + 1, fraction);
                }
            }
        }
    };
    at = put_u64(buf, at, whole);
    buf[at] = b'.';
    put_fraction(buf, at + 1, fraction)
}

/// Nine decimals of a fraction below 10^9.
#[inline]
fn put_fraction(buf: &mut [u8], at: usize, mut fraction: u32) -> usize {
    let text = &mut buf[at..at + 9];
    for i in (1..5).rev() {
        let pair = (fraction % 100) as usize * 2;
        fraction /= 100;
        text[2 * i - 1] = DIGIT_PAIRS[pair];
        text[2 * i] = DIGIT_PAIRS[pair + 1];
    }
    text[0] = b'0' + (fraction % 10) as u8;
    at + 9
}

/// Most bytes [`put_mac`] writes.
const MAC_ROOM: usize = 19;

/// A MAC address in lower-case colon-separated hex, in quotes when `quoted`.
#[inline]
fn put_mac(buf: &mut [u8], at: usize, m: &MacAddr, quoted: bool) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let q = usize::from(quoted);
    let text = &mut buf[at..at + MAC_ROOM];
    text[0] = b'"';
    for (i, b) in m.0.iter().enumerate() {
        text[q + 3 * i] = HEX[usize::from(b >> 4)];
        text[q + 1 + 3 * i] = HEX[usize::from(b & 0xf)];
        text[q + 2 + 3 * i] = b':';
    }
    // Over the last colon.
    text[q + 17] = b'"';
    at + 17 + 2 * q
}

/// Each octet's decimal text with a dot after it, padded to four bytes, and its length
/// (digits and dot).
const OCTET_TEXT: [([u8; 4], u8); 256] = {
    let mut table = [([0u8; 4], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let o = i as u8;
        table[i] = if o >= 100 {
            ([b'0' + o / 100, b'0' + o / 10 % 10, b'0' + o % 10, b'.'], 4)
        } else if o >= 10 {
            ([b'0' + o / 10, b'0' + o % 10, b'.', 0], 3)
        } else {
            ([b'0' + o, b'.', 0, 0], 2)
        };
        i += 1;
    }
    table
};

/// Most bytes [`put_ipv4`] writes (with the padding of the last octet's copy).
const IPV4_ROOM: usize = 20;

/// An IPv4 address in dotted decimal, in quotes when `quoted`.
#[inline]
fn put_ipv4(buf: &mut [u8], at: usize, a: Ipv4Addr, quoted: bool) -> usize {
    // Octets are copied four bytes at a time from a table.
    let text = &mut buf[at..at + IPV4_ROOM];
    let mut len = usize::from(quoted);
    text[0] = b'"';
    for o in a.octets() {
        let (digits, n) = OCTET_TEXT[usize::from(o)];
        text[len..len + 4].copy_from_slice(&digits);
        len += usize::from(n);
    }
    // Over the last octet's dot.
    len -= 1;
    text[len] = b'"';
    at + len + usize::from(quoted)
}

/// Appends what `put` writes into at most `room` bytes.
#[inline]
fn append(out: &mut Vec<u8>, room: usize, put: impl FnOnce(&mut [u8]) -> usize) {
    let start = out.len();
    out.resize(start + room, 0);
    let len = put(&mut out[start..]);
    out.truncate(start + len);
}

fn write_u64(out: &mut Vec<u8>, value: u64) {
    append(out, U64_ROOM, |buf| put_u64(buf, 0, value));
}

fn write_epoch(out: &mut Vec<u8>, seconds: i64, nanoseconds: u64) {
    append(out, EPOCH_ROOM, |buf| {
        put_epoch(buf, 0, seconds, nanoseconds)
    });
}

fn write_mac(out: &mut Vec<u8>, m: &MacAddr, quoted: bool) {
    append(out, MAC_ROOM, |buf| put_mac(buf, 0, m, quoted));
}

fn write_ipv4(out: &mut Vec<u8>, a: Ipv4Addr, quoted: bool) {
    append(out, IPV4_ROOM, |buf| put_ipv4(buf, 0, a, quoted));
}

/// Writes `s` as a JSON string literal.
fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // The common case (field names, addresses): nothing to escape.
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[c as usize >> 4]);
                out.push(HEX[c as usize & 0xf]);
            }
            c => {
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Where a decoder puts a packet's fields, in order. The first value for a name wins
/// (Wireshark's "first occurrence": the outermost header); a sink need only check for
/// repeats after [`FieldSink::begin_nested`].
///
/// The typed methods default to [`FieldSink::push`]; [`JsonObject`] writes each type
/// directly instead.
pub trait FieldSink {
    /// Adds a field unless one of that name is already there.
    fn push(&mut self, name: &'static str, value: FieldValue);

    /// From now on, fields come from an inner header (a datagram quoted in an ICMP error, or
    /// reassembled) whose names may repeat outer ones: the outer value is kept.
    fn begin_nested(&mut self);

    /// Adds an integer field.
    #[inline]
    fn int(&mut self, name: &'static str, value: impl Into<u64>) {
        self.push(name, FieldValue::Int(value.into()));
    }

    /// Adds a boolean field.
    #[inline]
    fn flag(&mut self, name: &'static str, value: bool) {
        self.push(name, FieldValue::Bool(value));
    }

    /// Adds a MAC address field.
    #[inline]
    fn mac(&mut self, name: &'static str, value: MacAddr) {
        self.push(name, FieldValue::Mac(value));
    }

    /// Adds an IPv4 address field.
    #[inline]
    fn ipv4(&mut self, name: &'static str, value: Ipv4Addr) {
        self.push(name, FieldValue::Ipv4(value));
    }

    /// Adds a time since the Unix epoch (see [`FieldValue::Epoch`]).
    #[inline]
    fn epoch(&mut self, name: &'static str, seconds: i64, nanoseconds: u64) {
        self.push(
            name,
            FieldValue::Epoch {
                seconds,
                nanoseconds,
            },
        );
    }

    /// Adds a text field.
    fn text(&mut self, name: &'static str, value: impl ToString) {
        self.push(name, FieldValue::Text(value.to_string()));
    }
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

impl FieldSink for Fields {
    fn push(&mut self, name: &'static str, value: FieldValue) {
        Fields::push(self, name, value);
    }

    fn begin_nested(&mut self) {
        Fields::begin_nested(self);
    }
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
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut names = Vec::new();
        let mut object = JsonObject::begin(out, &mut names);
        for (name, value) in &self.entries {
            object.value(name, value);
        }
        object.finish();
    }

    /// The fields as one JSON object.
    pub fn to_json(&self) -> String {
        let mut bytes = Vec::with_capacity(64 * self.entries.len());
        self.write_json(&mut bytes);
        // Names are ASCII literals and values are written as ASCII or their own UTF-8.
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// One JSON object being written straight into a byte buffer, field by field, as
/// `{"name":value,...}`. [`JsonObject::finish`] closes it.
///
/// Names are Wireshark's (dots, letters, digits, underscores): they need no escaping. Each
/// field is written with a trailing comma, which `finish` turns into the closing brace: no
/// "is this the first field" test per field.
///
/// The buffer is kept longer than the text (zeros past it) so that each field is written
/// into a slice with room to spare; the text's own length is `len`, and the buffer is cut
/// back to it when the object is finished or dropped.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    /// The length of the text written.
    len: usize,
    /// The names written so far, for the first-occurrence check once nested (a buffer the
    /// caller keeps, so that it is allocated once, not per packet).
    names: &'a mut Vec<&'static str>,
    nested: bool,
}

/// Room added at a time past the text: most packets' fields fit in one go.
const OBJECT_ROOM: usize = 1024;

impl<'a> JsonObject<'a> {
    /// Opens an object at the end of `out`; `names` is scratch space (cleared here).
    pub fn begin(out: &'a mut Vec<u8>, names: &'a mut Vec<&'static str>) -> JsonObject<'a> {
        let len = out.len() + 1;
        out.push(b'{');
        names.clear();
        JsonObject {
            out,
            len,
            names,
            nested: false,
        }
    }

    /// Closes the object (no newline).
    pub fn finish(mut self) {
        self.out.truncate(self.len);
        match self.out.last_mut() {
            Some(last @ b',') => *last = b'}',
            _ => self.out.push(b'}'),
        }
        self.len = self.out.len();
    }

    /// Writes `"name":`, then the value with `put` (at most `value_room` bytes), then a
    /// comma; nothing when a field of that name is already there (only possible once
    /// nested).
    #[inline(always)]
    fn field(
        &mut self,
        name: &'static str,
        value_room: usize,
        put: impl FnOnce(&mut [u8], usize) -> usize,
    ) {
        if self.nested
            && self
                .names
                .iter()
                .any(|n| n.len() == name.len() && *n == name)
        {
            return;
        }
        self.names.push(name);
        let room = name.len() + 4 + value_room;
        if self.out.len() < self.len + room {
            self.out.resize(self.len + room + OBJECT_ROOM, 0);
        }
        // Exactly the room: a slice of constant length (after inlining) leaves no bounds
        // checks on the constant indices below.
        let buf = &mut self.out[self.len..self.len + room];
        buf[0] = b'"';
        let mut at = 1 + name.len();
        buf[1..at].copy_from_slice(name.as_bytes());
        buf[at] = b'"';
        buf[at + 1] = b':';
        at = put(buf, at + 2);
        buf[at] = b',';
        self.len += at + 1;
    }

    /// Writes a field of any type, without the first-occurrence check.
    fn value(&mut self, name: &'static str, value: &FieldValue) {
        match value {
            FieldValue::Int(i) => self.field(name, U64_ROOM, |buf, at| put_u64(buf, at, *i)),
            FieldValue::Bool(b) => self.flag(name, *b),
            FieldValue::Epoch {
                seconds,
                nanoseconds,
            } => self.epoch(name, *seconds, *nanoseconds),
            FieldValue::Mac(m) => self.mac(name, *m),
            FieldValue::Ipv4(a) => self.ipv4(name, *a),
            FieldValue::Float(_) | FieldValue::Text(_) => {
                let mut text = Vec::new();
                value.write_json(&mut text);
                self.field(name, text.len(), |buf, at| {
                    buf[at..at + text.len()].copy_from_slice(&text);
                    at + text.len()
                });
            }
        }
    }
}

impl Drop for JsonObject<'_> {
    fn drop(&mut self) {
        // Without the room past the text (an object dropped unfinished keeps its fields).
        self.out.truncate(self.len);
    }
}

impl FieldSink for JsonObject<'_> {
    fn push(&mut self, name: &'static str, value: FieldValue) {
        self.value(name, &value);
    }

    fn begin_nested(&mut self) {
        self.nested = true;
    }

    #[inline(always)]
    fn int(&mut self, name: &'static str, value: impl Into<u64>) {
        let value = value.into();
        self.field(name, U64_ROOM, |buf, at| put_u64(buf, at, value));
    }

    #[inline(always)]
    fn flag(&mut self, name: &'static str, value: bool) {
        self.field(name, 5, |buf, at| {
            if value {
                buf[at..at + 4].copy_from_slice(b"true");
                at + 4
            } else {
                buf[at..at + 5].copy_from_slice(b"false");
                at + 5
            }
        });
    }

    #[inline(always)]
    fn mac(&mut self, name: &'static str, value: MacAddr) {
        self.field(name, MAC_ROOM, |buf, at| put_mac(buf, at, &value, true));
    }

    #[inline(always)]
    fn ipv4(&mut self, name: &'static str, value: Ipv4Addr) {
        self.field(name, IPV4_ROOM, |buf, at| put_ipv4(buf, at, value, true));
    }

    #[inline(always)]
    fn epoch(&mut self, name: &'static str, seconds: i64, nanoseconds: u64) {
        self.field(name, EPOCH_ROOM, |buf, at| {
            put_epoch(buf, at, seconds, nanoseconds)
        });
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

    /// The byte writers against `fmt`, at every digit-count boundary and the extremes.
    #[test]
    fn number_and_address_writers_match_fmt() {
        let mut values = vec![0u64, 1, 9, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        for v in values {
            let mut out = b"x".to_vec();
            write_u64(&mut out, v);
            write_u64(&mut out, v);
            assert_eq!(out, format!("x{v}{v}").into_bytes(), "{v}");
        }
        for a in [
            [0, 0, 0, 0],
            [255, 255, 255, 255],
            [9, 10, 99, 100],
            [192, 0, 2, 1],
            [1, 22, 233, 4],
        ] {
            let a = Ipv4Addr::from(a);
            let mut out = Vec::new();
            write_ipv4(&mut out, a, false);
            write_ipv4(&mut out, a, true);
            assert_eq!(out, format!("{a}\"{a}\"").into_bytes());
        }
        for m in [[0u8; 6], [0xff; 6], [2, 0, 0x5e, 0x10, 0xab, 0x9f]] {
            let m = MacAddr(m);
            let mut out = Vec::new();
            write_mac(&mut out, &m, false);
            write_mac(&mut out, &m, true);
            assert_eq!(out, format!("{m}\"{m}\"").into_bytes());
        }
        let reference = |seconds: i64, nanoseconds: u64| {
            let total = seconds as i128 * 1_000_000_000 + nanoseconds as i128;
            let sign = if total < 0 { "-" } else { "" };
            let t = total.unsigned_abs();
            format!("{sign}{}.{:09}", t / 1_000_000_000, t % 1_000_000_000)
        };
        for (s, n) in [
            (0, 0),
            (1_700_000_000, 5_000),
            (1_700_000_000, 999_999_999),
            (1, 1_000_000_000),
            (-1, 0),
            (-1, 1),
            (0, u64::MAX),
            (i64::MAX, u64::MAX),
            (i64::MIN, 0),
            (i64::MIN, 7),
        ] {
            let mut out = Vec::new();
            write_epoch(&mut out, s, n);
            assert_eq!(String::from_utf8(out).unwrap(), reference(s, n), "{s} {n}");
        }
    }
}
