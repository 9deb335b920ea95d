//! The scenario parser: packetdrill script text, plus wirecheck's extensions documented in
//! `conformance/scenarios/SYNTAX.md`, into the syntax tree of [`script`](super::script).
//!
//! Hand-written and line-oriented: every event starts on its own line with a time, and ends
//! at the end of that line, except `%{ ... }%` blocks (and `/* */` comments) which may span
//! lines. Errors carry the 1-based line and column of the offending token and say what was
//! expected and what was found. Nesting (argument lists, structs, ICMP quotes) is bounded by
//! [`MAX_NESTING`], and input size by [`MAX_SCRIPT_BYTES`].

use std::fmt;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

use wirecheck_codec::ethernet::MacAddr;

use super::script::{
    ArpSpec, CallEvent, ChecksumSpec, Condition, Direction, EcnSpec, EthernetSpec, Event,
    EventKind, Expr, FragmentSpec, IcmpSpec, IgmpSpec, IpSpec, PacketBody, PacketEvent, Script,
    TcpFlagsSpec, TcpOptionSpec, TcpOptionsSpec, TcpSpec, TimeSpec, Times, UdpSpec,
};

/// Largest script accepted (scenarios are a few kilobytes).
pub const MAX_SCRIPT_BYTES: usize = 4 << 20;
/// Deepest nesting of argument lists, structs and ICMP quotes.
pub const MAX_NESTING: usize = 16;
/// Most IP option octets (RFC 791 §3.1: the header is at most 60 octets).
const MAX_IP_OPTION_BYTES: usize = 40;
/// Most TCP option data octets (RFC 9293 §3.1: at most 40 octets of options).
const MAX_TCP_OPTION_BYTES: usize = 40;
/// Most packets in one `&` batch.
const MAX_BATCH: usize = 64;

/// A script that could not be parsed: where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file, when parsing one.
    pub path: Option<PathBuf>,
    /// 1-based line (0 when the file could not be read at all).
    pub line: usize,
    /// 1-based column, in characters (0 when the file could not be read at all).
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}:", path.display())?,
            None => f.write_str("<script>:")?,
        }
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a script from text; `path` is recorded in the script and in errors.
pub fn parse_script(text: &str, path: Option<&Path>) -> Result<Script, ParseError> {
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(ParseError {
            path: path.map(Path::to_path_buf),
            line: 1,
            column: 1,
            message: format!(
                "script is {} octets, more than the limit of {MAX_SCRIPT_BYTES}",
                text.len()
            ),
        });
    }
    Parser::new(text, path).script()
}

/// Reads and parses a script file. Read errors (and non-UTF-8 text) become [`ParseError`]s
/// with line and column 0.
pub fn parse_file(path: &Path) -> Result<Script, ParseError> {
    let io_error = |message: String| ParseError {
        path: Some(path.to_path_buf()),
        line: 0,
        column: 0,
        message,
    };
    let file =
        std::fs::File::open(path).map_err(|e| io_error(format!("cannot read the script: {e}")))?;
    // One octet past the limit is enough to tell that the file is too long.
    let mut bytes = Vec::new();
    file.take(MAX_SCRIPT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(format!("cannot read the script: {e}")))?;
    if bytes.len() > MAX_SCRIPT_BYTES {
        return Err(io_error(format!(
            "script is more than the limit of {MAX_SCRIPT_BYTES} octets"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| io_error(format!("the script is not UTF-8 text: {e}")))?;
    parse_script(&text, Some(path))
}

/// A position in the text, for errors that point back at a token's start.
#[derive(Debug, Clone, Copy)]
struct Mark {
    pos: usize,
    line: usize,
    line_start: usize,
}

/// Characters that end a token in "found ..." descriptions.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || ",()[]<>{}=|;`\"".contains(c)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// ICMP types by name (RFC 792).
const ICMP_TYPES: &[(&str, u8)] = &[
    ("echo_reply", 0),
    ("unreachable", 3),
    ("source_quench", 4),
    ("redirect", 5),
    ("echo_request", 8),
    ("time_exceeded", 11),
    ("parameter_problem", 12),
    ("timestamp_request", 13),
    ("timestamp_reply", 14),
];

/// ICMP codes by name, with the type they belong to (RFC 792, RFC 1812 §5.2.7.1).
const ICMP_CODES: &[(&str, u8, u8)] = &[
    ("net_unreachable", 3, 0),
    ("host_unreachable", 3, 1),
    ("protocol_unreachable", 3, 2),
    ("port_unreachable", 3, 3),
    ("frag_needed", 3, 4),
    ("source_route_failed", 3, 5),
    ("net_unknown", 3, 6),
    ("host_unknown", 3, 7),
    ("source_host_isolated", 3, 8),
    ("net_prohibited", 3, 9),
    ("host_prohibited", 3, 10),
    ("net_unreachable_for_tos", 3, 11),
    ("host_unreachable_for_tos", 3, 12),
    ("packet_filtered", 3, 13),
    ("precedence_violation", 3, 14),
    ("precedence_cutoff", 3, 15),
    ("redirect_net", 5, 0),
    ("redirect_host", 5, 1),
    ("redirect_tos_net", 5, 2),
    ("redirect_tos_host", 5, 3),
    ("ttl_exceeded", 11, 0),
    ("reassembly_timeout", 11, 1),
];

/// IGMPv3 group record types (RFC 3376 §4.2.12).
const IGMP_RECORD_TYPES: &[(&str, u8)] = &[
    ("mode_is_include", 1),
    ("mode_is_exclude", 2),
    ("change_to_include", 3),
    ("change_to_exclude", 4),
    ("allow_new_sources", 5),
    ("block_old_sources", 6),
];

/// Paragraphs of the top comment block that are licence boilerplate, not a description.
fn is_boilerplate(paragraph: &str) -> bool {
    [
        "Copyright",
        "Redistribution",
        "THIS SOFTWARE",
        "All rights reserved",
        "SPDX-License-Identifier",
    ]
    .iter()
    .any(|marker| paragraph.contains(marker))
}

type Result<T, E = ParseError> = std::result::Result<T, E>;

struct Parser<'a> {
    src: &'a str,
    path: Option<&'a Path>,
    pos: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, path: Option<&'a Path>) -> Self {
        Parser {
            src,
            path,
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }

    // ---- character level ------------------------------------------------------------------

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
        }
        Some(c)
    }

    /// Consumes `s` (which must not contain a newline) if the text continues with it.
    fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Skips spaces, tabs and carriage returns (not newlines).
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\r' {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    fn error_at(&self, mark: Mark, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.map(Path::to_path_buf),
            line: mark.line,
            column: self.src[mark.line_start..mark.pos].chars().count() + 1,
            message: message.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.mark(), message)
    }

    /// Describes the token at the current position, for "found ..." in errors.
    fn found(&self) -> String {
        describe_token(self.rest())
    }

    /// An error "expected WHAT, found TOKEN" at the current position.
    fn expected(&self, what: &str) -> ParseError {
        self.error(format!("expected {what}, found {}", self.found()))
    }

    fn expect_char(&mut self, c: char, what: &str) -> Result<()> {
        if self.peek() == Some(c) {
            self.bump();
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// Reads a run of word characters (letters, digits, `_`).
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_word_char) {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// Reads a word that may also contain `-` (`who-has`, `is-at`).
    fn dashed_word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|c| is_word_char(c) || c == '-') {
            self.bump();
        }
        &self.src[start..self.pos]
    }

    /// Reads an identifier (`[A-Za-z_][A-Za-z0-9_]*`), or fails with "expected WHAT".
    fn identifier(&mut self, what: &str) -> Result<&'a str> {
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            Ok(self.word())
        } else {
            Err(self.expected(what))
        }
    }

    /// Reads the keyword `kw` (a whole word) or fails.
    fn keyword(&mut self, kw: &str) -> Result<()> {
        let mark = self.mark();
        let w = self.dashed_word();
        if w == kw {
            Ok(())
        } else {
            Err(self.error_at(
                mark,
                format!(
                    "expected \"{kw}\", found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            ))
        }
    }

    /// True when the next word is `kw` (without consuming it).
    fn next_word_is(&self, kw: &str) -> bool {
        self.starts_with(kw)
            && !self.rest()[kw.len()..]
                .chars()
                .next()
                .is_some_and(|c| is_word_char(c) || c == '-')
    }

    /// After an item: optional blanks and a trailing comment, then the newline (consumed) or
    /// the end of the text.
    fn end_line(&mut self) -> Result<()> {
        self.skip_blanks();
        if self.starts_with("//") {
            while !matches!(self.peek(), None | Some('\n')) {
                self.bump();
            }
        } else if self.starts_with("/*") {
            self.block_comment()?;
            self.skip_blanks();
        }
        match self.peek() {
            None => Ok(()),
            Some('\n') => {
                self.bump();
                Ok(())
            }
            Some(_) => Err(self.expected("the end of the line")),
        }
    }

    /// Reads a `/* ... */` comment (the opening is at the current position) and returns its
    /// text lines, each without a leading `*` column.
    fn block_comment(&mut self) -> Result<Vec<&'a str>> {
        let open = self.mark();
        self.eat("/*");
        let start = self.pos;
        let Some(len) = self.rest().find("*/") else {
            return Err(self.error_at(
                open,
                "unterminated /* comment: no */ before the end of the file",
            ));
        };
        let body = &self.src[start..start + len];
        while self.pos < start + len + 2 {
            self.bump();
        }
        Ok(body
            .lines()
            .map(|l| {
                let t = l.trim();
                t.strip_prefix('*').map(str::trim).unwrap_or(t)
            })
            .collect())
    }

    // ---- numbers --------------------------------------------------------------------------

    /// Reads a number token (a run of letters, digits, `_`) and parses it as decimal or
    /// `0x` hex, within `0..=max`.
    fn unsigned(&mut self, what: &str, max: u64) -> Result<u64> {
        let mark = self.mark();
        let token = self.word();
        let value = if let Some(hex) = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
        {
            u64::from_str_radix(hex, 16).ok()
        } else if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            token.parse::<u64>().ok()
        } else {
            None
        };
        match value {
            Some(v) if v <= max => Ok(v),
            Some(_) => Err(self.error_at(
                mark,
                format!("expected {what} from 0 to {max}, found \"{token}\""),
            )),
            None => Err(self.error_at(
                mark,
                format!(
                    "expected {what}, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )),
        }
    }

    fn u8_value(&mut self, what: &str) -> Result<u8> {
        Ok(self.unsigned(what, u8::MAX.into())? as u8)
    }

    fn u16_value(&mut self, what: &str) -> Result<u16> {
        Ok(self.unsigned(what, u16::MAX.into())? as u16)
    }

    fn u32_value(&mut self, what: &str) -> Result<u32> {
        Ok(self.unsigned(what, u32::MAX.into())? as u32)
    }

    /// `(N)`: a length in parentheses.
    fn paren_len(&mut self, what: &str) -> Result<u32> {
        self.expect_char('(', &format!("\"(\" before {what}"))?;
        self.skip_blanks();
        let len = self.u32_value(what)?;
        self.skip_blanks();
        self.expect_char(')', &format!("\")\" after {what}"))?;
        Ok(len)
    }

    /// `(LEN)` or `(MIN~MAX)`: a length, or a range of lengths (both ends included).
    fn paren_len_range(&mut self, what: &str) -> Result<(u32, Option<u32>)> {
        self.expect_char('(', &format!("\"(\" before {what}"))?;
        self.skip_blanks();
        let len = self.u32_value(what)?;
        self.skip_blanks();
        let mut max = None;
        if self.peek() == Some('~') {
            self.bump();
            self.skip_blanks();
            let mark = self.mark();
            let m = self.u32_value("the largest payload length")?;
            if m < len {
                return Err(self.error_at(
                    mark,
                    format!("the length range {len}~{m} is empty (the largest is below the least)"),
                ));
            }
            max = Some(m);
            self.skip_blanks();
        }
        self.expect_char(')', &format!("\")\" after {what}"))?;
        Ok((len, max))
    }

    /// A dotted-quad IPv4 address.
    fn ipv4(&mut self) -> Result<Ipv4Addr> {
        let mark = self.mark();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.bump();
        }
        let text = &self.src[start..self.pos];
        text.parse::<Ipv4Addr>().map_err(|_| {
            self.error_at(
                mark,
                format!(
                    "expected an IPv4 address, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )
        })
    }

    /// Whether the text continues with `D.D.D.D` (an IPv4 address).
    fn at_ipv4(&self) -> bool {
        let token: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        token.parse::<Ipv4Addr>().is_ok()
    }

    /// Hex octets: `0x0102ab` or `0102ab`.
    fn hex_bytes(&mut self, what: &str, max: usize) -> Result<Vec<u8>> {
        let mark = self.mark();
        let token = self.word();
        let digits = token
            .strip_prefix("0x")
            .or_else(|| token.strip_prefix("0X"))
            .unwrap_or(token);
        let bytes = if !digits.is_empty() && digits.len() % 2 == 0 {
            decode_hex(digits)
        } else {
            None
        };
        match bytes {
            Some(b) if b.len() <= max => Ok(b),
            Some(b) => Err(self.error_at(
                mark,
                format!("{what} is {} octets, more than the limit of {max}", b.len()),
            )),
            None => Err(self.error_at(
                mark,
                format!(
                    "expected {what} as an even number of hex digits, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )),
        }
    }

    // ---- script level ---------------------------------------------------------------------

    fn script(mut self) -> Result<Script> {
        let mut script = Script {
            path: self.path.map(Path::to_path_buf),
            description: String::new(),
            options: Vec::new(),
            requirements: Vec::new(),
            requires: Vec::new(),
            events: Vec::new(),
        };
        // Top comment block: lines of text, `None` for a paragraph break.
        let mut header: Vec<Option<&'a str>> = Vec::new();
        let mut in_header = true;
        // The open `#ifdef` and the line it is on.
        let mut condition: Option<(Condition, Mark, bool)> = None;

        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            if c == '\n' {
                self.bump();
                if in_header {
                    header.push(None);
                }
            } else if self.starts_with("//") {
                self.eat("//");
                let start = self.pos;
                while !matches!(self.peek(), None | Some('\n')) {
                    self.bump();
                }
                let text = self.src[start..self.pos].trim_end();
                let text = text.strip_prefix(' ').unwrap_or(text);
                self.bump();
                if in_header {
                    header.push((!text.trim().is_empty()).then_some(text));
                }
            } else if self.starts_with("/*") {
                let lines = self.block_comment()?;
                if in_header {
                    for l in lines {
                        header.push((!l.is_empty()).then_some(l));
                    }
                    header.push(None);
                }
                self.skip_blanks();
                if self.peek() == Some('\n') {
                    self.bump();
                }
            } else if self.starts_with("--") {
                in_header = false;
                if !script.events.is_empty() {
                    return Err(self.error("option lines must come before the first event"));
                }
                self.option_line(&mut script)?;
            } else if c == '#' {
                in_header = false;
                self.directive(&mut condition)?;
            } else {
                in_header = false;
                let event = self.event(condition.as_ref().map(|(c, _, _)| c.clone()))?;
                script.events.push(event);
            }
        }
        if let Some((cond, mark, _)) = condition {
            return Err(self.error_at(mark, format!("#if block for {} has no #endif", cond.symbol)));
        }
        script.description = description(&header);
        Ok(script)
    }

    /// `--name=value` (or `--name`).
    fn option_line(&mut self, script: &mut Script) -> Result<()> {
        self.eat("--");
        let name_mark = self.mark();
        let name = self.dashed_word();
        if name.is_empty() {
            return Err(self.error_at(
                name_mark,
                format!(
                    "expected an option name after \"--\", found {}",
                    self.found()
                ),
            ));
        }
        let value = if self.peek() == Some('=') {
            self.bump();
            let start = self.pos;
            while !(matches!(self.peek(), None | Some('\n')) || self.starts_with("//")) {
                self.bump();
            }
            self.src[start..self.pos].trim()
        } else {
            ""
        };
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        match name {
            "requirements" => script.requirements.extend(list(value)),
            "requires" => script.requires.extend(list(value)),
            _ => {}
        }
        script.options.push((name.to_string(), value.to_string()));
        self.end_line()
    }

    /// `#ifdef NAME`, `#ifndef NAME`, `#else`, `#endif`.
    fn directive(&mut self, condition: &mut Option<(Condition, Mark, bool)>) -> Result<()> {
        let mark = self.mark();
        self.bump();
        let name = self.word();
        match name {
            "ifdef" | "ifndef" => {
                if let Some((open, open_mark, _)) = condition {
                    return Err(self.error_at(
                        mark,
                        format!(
                            "nested #{name} is not supported (the #if for {} on line {} is still open)",
                            open.symbol, open_mark.line
                        ),
                    ));
                }
                self.skip_blanks();
                let symbol = self.identifier(&format!("a symbol after #{name}"))?;
                *condition = Some((
                    Condition {
                        symbol: symbol.to_string(),
                        when_defined: name == "ifdef",
                    },
                    mark,
                    false,
                ));
            }
            "else" => match condition {
                Some((cond, _, seen_else)) if !*seen_else => {
                    cond.when_defined = !cond.when_defined;
                    *seen_else = true;
                }
                Some(_) => return Err(self.error_at(mark, "a second #else in the same #if block")),
                None => return Err(self.error_at(mark, "#else without #ifdef")),
            },
            "endif" => {
                if condition.take().is_none() {
                    return Err(self.error_at(mark, "#endif without #ifdef"));
                }
            }
            _ => {
                return Err(self.error_at(
                    mark,
                    format!(
                        "expected #ifdef, #ifndef, #else or #endif, found {}",
                        describe_token(&self.src[mark.pos..])
                    ),
                ))
            }
        }
        self.end_line()
    }

    // ---- events ---------------------------------------------------------------------------

    fn event(&mut self, condition: Option<Condition>) -> Result<Event> {
        let line = self.line;
        if self.peek() == Some('&') {
            return Err(self.error(
                "a line starting with \"&\" continues a batch: it must follow an inbound packet line",
            ));
        }
        let time = self.time()?;
        self.skip_blanks();
        let mut kind = match self.peek() {
            Some('`') => self.shell()?,
            Some('%') if self.peek_second() == Some('{') => self.code()?,
            Some('<' | '>') => EventKind::Packet(self.packet_line()?),
            Some('e')
                if self.starts_with("eth")
                    && self.rest()[3..].starts_with(|c: char| c.is_ascii_digit()) =>
            {
                EventKind::Packet(self.packet_line()?)
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => EventKind::Call(self.call()?),
            _ => {
                return Err(
                    self.expected("a packet (< or >), a call, a `shell command` or %{ code }%")
                )
            }
        };
        self.end_line()?;
        // Extension: `&` lines after an inbound line join it in one batch.
        if let EventKind::Packet(first) = &kind {
            let mut batch: Vec<PacketEvent> = Vec::new();
            loop {
                self.skip_blanks();
                if self.peek() != Some('&') {
                    break;
                }
                let mark = self.mark();
                if first.direction != Direction::Inbound {
                    return Err(
                        self.error_at(mark, "only inbound (<) lines can be batched with \"&\"")
                    );
                }
                if batch.len() + 1 >= MAX_BATCH {
                    return Err(
                        self.error_at(mark, format!("more than {MAX_BATCH} packets in one batch"))
                    );
                }
                self.bump();
                self.skip_blanks();
                let packet = self.packet_line()?;
                if packet.direction != Direction::Inbound {
                    return Err(
                        self.error_at(mark, "only inbound (<) lines can be batched with \"&\"")
                    );
                }
                self.end_line()?;
                batch.push(packet);
            }
            if !batch.is_empty() {
                batch.insert(0, first.clone());
                kind = EventKind::Batch(batch);
            }
        }
        Ok(Event {
            line,
            time,
            kind,
            condition,
        })
    }

    /// `0.1`, `+0.1`, `+ 0.1`, `*`, `0.1~0.2`, `+0.1~+0.2`, `0.1...0.2`, `+0.1...+0.2`.
    fn time(&mut self) -> Result<TimeSpec> {
        if self.peek() == Some('*') {
            self.bump();
            return Ok(TimeSpec::Any);
        }
        let relative = self.peek() == Some('+');
        if relative {
            self.bump();
            self.skip_blanks();
        }
        let start = self.seconds()?;
        if self.eat("...") {
            let end_mark = self.mark();
            let end_relative = self.peek() == Some('+');
            if end_relative {
                self.bump();
            }
            if end_relative && !relative {
                return Err(self.error_at(
                    end_mark,
                    "a blocking call's end is relative (+) only when its start is",
                ));
            }
            let end = self.seconds()?;
            if !relative && end < start {
                return Err(
                    self.error_at(end_mark, "a blocking call cannot return before it starts")
                );
            }
            return Ok(TimeSpec::Blocking {
                start,
                end,
                relative,
            });
        }
        if self.peek() == Some('~') {
            self.bump();
            let end_mark = self.mark();
            let end_relative = self.peek() == Some('+');
            if end_relative {
                self.bump();
            }
            if end_relative != relative {
                return Err(self.error_at(
                    end_mark,
                    "both ends of a time window must be relative (+) or both absolute",
                ));
            }
            let end = self.seconds()?;
            if end < start {
                return Err(self.error_at(end_mark, "a time window cannot end before it starts"));
            }
            return Ok(TimeSpec::Range {
                start,
                end,
                relative,
            });
        }
        Ok(if relative {
            TimeSpec::Relative(start)
        } else {
            TimeSpec::Absolute(start)
        })
    }

    /// Seconds with an optional fraction: `1`, `0.100`, `.5`.
    fn seconds(&mut self) -> Result<Duration> {
        let mark = self.mark();
        let int_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let int_part = &self.src[int_start..self.pos];
        let mut frac_part = "";
        if self.peek() == Some('.') && !self.starts_with("...") {
            self.bump();
            let frac_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
            frac_part = &self.src[frac_start..self.pos];
        }
        let bad = |p: &Self| {
            p.error_at(
                mark,
                format!(
                    "expected a time in seconds, found {}",
                    describe_token(&p.src[mark.pos..])
                ),
            )
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad(self));
        }
        if self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(bad(self));
        }
        if int_part.len() > 9 || frac_part.len() > 9 {
            return Err(self.error_at(
                mark,
                format!(
                    "time {} has more than 9 digits before or after the point",
                    &self.src[mark.pos..self.pos]
                ),
            ));
        }
        let secs: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| bad(self))?
        };
        let mut nanos: u32 = 0;
        for (i, d) in frac_part.bytes().enumerate() {
            nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
        }
        Ok(Duration::new(secs, nanos))
    }

    /// `` `command` `` (on one line).
    fn shell(&mut self) -> Result<EventKind> {
        let open = self.mark();
        self.bump();
        let start = self.pos;
        loop {
            match self.peek() {
                Some('`') => break,
                None | Some('\n') => {
                    return Err(self.error_at(
                        open,
                        "unterminated `shell command`: no closing ` on the line",
                    ))
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
        let command = self.src[start..self.pos].to_string();
        self.bump();
        Ok(EventKind::Shell(command))
    }

    /// `%{ code }%`, possibly over several lines.
    fn code(&mut self) -> Result<EventKind> {
        let open = self.mark();
        self.eat("%{");
        let start = self.pos;
        let Some(len) = self.rest().find("}%") else {
            return Err(self.error_at(
                open,
                "unterminated %{ code block: no }% before the end of the file",
            ));
        };
        let code = self.src[start..start + len].trim().to_string();
        while self.pos < start + len + 2 {
            self.bump();
        }
        Ok(EventKind::Code(code))
    }

    // ---- socket calls ---------------------------------------------------------------------

    /// `name(args) = result [ERRNO] [(note)]`.
    fn call(&mut self) -> Result<CallEvent> {
        let name = self.identifier("a call name")?.to_string();
        self.skip_blanks();
        self.expect_char('(', &format!("\"(\" after {name}"))?;
        let args = self.expr_list(')', 0)?;
        self.skip_blanks();
        self.expect_char('=', &format!("\"=\" and the expected result of {name}"))?;
        self.skip_blanks();
        let result = self.expr(0)?;
        self.skip_blanks();
        let errno = if self.peek().is_some_and(|c| c.is_ascii_uppercase()) {
            Some(self.word().to_string())
        } else {
            None
        };
        self.skip_blanks();
        if self.peek() == Some('(') {
            // A note, such as errno's text or `(flags O_RDWR)`: for readers only.
            let open = self.mark();
            let mut depth = 0usize;
            loop {
                match self.peek() {
                    Some('(') => depth += 1,
                    Some(')') => {
                        depth -= 1;
                        if depth == 0 {
                            self.bump();
                            break;
                        }
                    }
                    None | Some('\n') => {
                        return Err(self.error_at(open, "unterminated note: no \")\" on the line"))
                    }
                    _ => {}
                }
                self.bump();
            }
        }
        Ok(CallEvent {
            name,
            args,
            result,
            errno,
        })
    }

    /// Comma-separated expressions up to `close` (consumed); the opening is already read.
    fn expr_list(&mut self, close: char, depth: usize) -> Result<Vec<Expr>> {
        let mut items = Vec::new();
        self.skip_blanks();
        if self.peek() == Some(close) {
            self.bump();
            return Ok(items);
        }
        loop {
            self.skip_blanks();
            items.push(self.expr(depth)?);
            self.skip_blanks();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                _ => return Err(self.expected(&format!("\",\" or \"{close}\""))),
            }
        }
    }

    /// `A | B | ...` or a single primary expression.
    fn expr(&mut self, depth: usize) -> Result<Expr> {
        if depth >= MAX_NESTING {
            return Err(self.error(format!("expressions nested more than {MAX_NESTING} deep")));
        }
        let first = self.primary(depth)?;
        self.skip_blanks();
        if self.peek() != Some('|') {
            return Ok(first);
        }
        let mut alternatives = vec![first];
        while self.peek() == Some('|') {
            self.bump();
            self.skip_blanks();
            alternatives.push(self.primary(depth)?);
            self.skip_blanks();
        }
        Ok(Expr::Or(alternatives))
    }

    fn primary(&mut self, depth: usize) -> Result<Expr> {
        match self.peek() {
            Some('.') if self.starts_with("...") => {
                self.eat("...");
                Ok(Expr::Ellipsis)
            }
            Some('[') => {
                self.bump();
                Ok(Expr::List(self.expr_list(']', depth + 1)?))
            }
            Some('{') => {
                self.bump();
                self.struct_fields(depth + 1)
            }
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => self.number_or_address(),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                Ok(Expr::Symbol(self.word().to_string()))
            }
            _ => {
                Err(self
                    .expected("an argument (a number, a symbol, \"...\", [..], {..} or a string)"))
            }
        }
    }

    /// `{name=expr, ...}`; the `{` is already read. A bare `...` is kept as `("...", Ellipsis)`.
    fn struct_fields(&mut self, depth: usize) -> Result<Expr> {
        let mut fields = Vec::new();
        self.skip_blanks();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Expr::Struct(fields));
        }
        loop {
            self.skip_blanks();
            if self.eat("...") {
                fields.push(("...".to_string(), Expr::Ellipsis));
            } else {
                let name = self.identifier("a field name")?.to_string();
                self.skip_blanks();
                self.expect_char('=', &format!("\"=\" after field {name}"))?;
                self.skip_blanks();
                fields.push((name, self.expr(depth)?));
            }
            self.skip_blanks();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('}') => {
                    self.bump();
                    return Ok(Expr::Struct(fields));
                }
                _ => return Err(self.expected("\",\" or \"}\"")),
            }
        }
    }

    /// `"text"` with `\\`, `\"`, `\n`, `\t`, `\r`, `\0` escapes.
    fn string(&mut self) -> Result<Expr> {
        let open = self.mark();
        self.bump();
        let mut text = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.bump();
                    return Ok(Expr::String(text));
                }
                Some('\\') => {
                    self.bump();
                    let escaped = match self.peek() {
                        Some('\\') => '\\',
                        Some('"') => '"',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('0') => '\0',
                        _ => {
                            return Err(
                                self.expected("an escape (\\\\, \\\", \\n, \\t, \\r or \\0)")
                            )
                        }
                    };
                    self.bump();
                    text.push(escaped);
                }
                None | Some('\n') => {
                    return Err(
                        self.error_at(open, "unterminated string: no closing \" on the line")
                    )
                }
                Some(c) => {
                    self.bump();
                    text.push(c);
                }
            }
        }
    }

    /// `-1`, `42`, `0x02`, `192.0.2.1` (an [`Expr::Ip`]) or `192.0.2.1:5000` (an
    /// [`Expr::Address`]).
    fn number_or_address(&mut self) -> Result<Expr> {
        if self.at_ipv4() {
            let ip = self.ipv4()?;
            if self.peek() == Some(':') {
                self.bump();
                let port = self.u16_value("a port number")?;
                return Ok(Expr::Address(SocketAddrV4::new(ip, port)));
            }
            return Ok(Expr::Ip(ip));
        }
        let mark = self.mark();
        let negative = self.peek() == Some('-');
        if negative {
            self.bump();
        }
        let magnitude = self.unsigned("a number", i64::MAX as u64).map_err(|_| {
            self.error_at(
                mark,
                format!(
                    "expected a number, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )
        })? as i64;
        Ok(Expr::Int(if negative { -magnitude } else { magnitude }))
    }

    // ---- packets --------------------------------------------------------------------------

    /// `[ethN] < ...` or `[ethN] > ...`.
    /// A packet line: the packet, then (outbound) an optional `repeated`.
    fn packet_line(&mut self) -> Result<PacketEvent> {
        let mut packet = self.packet()?;
        self.skip_blanks();
        for (word, times) in [("repeated", Times::Repeated), ("optional", Times::Optional)] {
            if self.next_word_is(word) {
                if packet.direction == Direction::Inbound {
                    return Err(self.error(format!(
                        "\"{word}\" is for outbound (>) lines: it says how often the target sends a packet"
                    )));
                }
                self.eat(word);
                packet.times = times;
                break;
            }
        }
        Ok(packet)
    }

    fn packet(&mut self) -> Result<PacketEvent> {
        let mut interface = 0usize;
        if self.eat("eth") {
            interface = self.unsigned("an interface number", 255)? as usize;
            self.skip_blanks();
        }
        let direction = match self.peek() {
            Some('<') => Direction::Inbound,
            Some('>') => Direction::Outbound,
            _ => return Err(self.expected("\"<\" or \">\"")),
        };
        self.bump();
        self.skip_blanks();
        self.packet_after_direction(direction, interface, 0)
    }

    /// Everything after the direction: `[ecn]`, `ip[...]`, explicit ends, the body.
    fn packet_after_direction(
        &mut self,
        direction: Direction,
        interface: usize,
        depth: usize,
    ) -> Result<PacketEvent> {
        if depth >= MAX_NESTING {
            return Err(self.error(format!("ICMP quotes nested more than {MAX_NESTING} deep")));
        }
        let mut ip = IpSpec::default();
        let mut ethernet = EthernetSpec::default();
        let mut seen_ip_block = false;
        let mut seen_ether_block = false;
        loop {
            if self.peek() == Some('[') {
                if ip.ecn.is_some() {
                    return Err(self.error("a second [ECN] block on one line"));
                }
                self.bump();
                self.skip_blanks();
                let mark = self.mark();
                ip.ecn = Some(match self.word() {
                    "noecn" => EcnSpec::NotEct,
                    "ect0" => EcnSpec::Ect0,
                    "ect1" => EcnSpec::Ect1,
                    "ect01" => EcnSpec::Ect0Or1,
                    "ce" => EcnSpec::Ce,
                    _ => {
                        return Err(self.error_at(
                            mark,
                            format!(
                            "expected an ECN codepoint (noecn, ect0, ect1, ect01 or ce), found {}",
                            describe_token(&self.src[mark.pos..])
                        ),
                        ))
                    }
                });
                self.skip_blanks();
                self.expect_char(']', "\"]\" after the ECN codepoint")?;
            } else if self.starts_with("ether[") {
                if seen_ether_block {
                    return Err(self.error("a second ether[...] block on one line"));
                }
                if depth > 0 {
                    return Err(self.error("a quoted datagram has no Ethernet header"));
                }
                seen_ether_block = true;
                self.eat("ether[");
                self.ether_block(&mut ethernet)?;
            } else if self.starts_with("ip[") {
                if seen_ip_block {
                    return Err(self.error("a second ip[...] block on one line"));
                }
                seen_ip_block = true;
                self.eat("ip[");
                self.ip_block(&mut ip)?;
            } else {
                break;
            }
            self.skip_blanks();
        }
        // Explicit ends: `A[:port] > B[:port]`.
        let mut ports = None;
        let ends_mark = self.mark();
        if self.at_ipv4() {
            let (src, src_port) = self.endpoint()?;
            self.skip_blanks();
            self.expect_char('>', "\">\" between the two ends")?;
            self.skip_blanks();
            let (dst, dst_port) = self.endpoint()?;
            if ip.src.is_some_and(|a| a != src) || ip.dst.is_some_and(|a| a != dst) {
                return Err(self.error_at(ends_mark, "the ends contradict src=/dst= in ip[...]"));
            }
            ip.src = Some(src);
            ip.dst = Some(dst);
            if src_port.is_some() != dst_port.is_some() {
                return Err(self.error_at(ends_mark, "give a port on both ends or on neither"));
            }
            ports = src_port.zip(dst_port);
            self.skip_blanks();
        }
        let body_mark = self.mark();
        let body = self.body(direction, depth)?;
        let body = match (body, ports) {
            (PacketBody::Tcp(mut tcp), Some((s, d))) => {
                tcp.src_port = Some(s);
                tcp.dst_port = Some(d);
                PacketBody::Tcp(tcp)
            }
            (PacketBody::Udp(mut udp), Some((s, d))) => {
                udp.src_port = Some(s);
                udp.dst_port = Some(d);
                PacketBody::Udp(udp)
            }
            (_, Some(_)) => {
                return Err(self.error_at(
                    body_mark,
                    "ports in the ends are only for TCP and UDP lines",
                ))
            }
            (body, None) => body,
        };
        if direction == Direction::Inbound {
            if let PacketBody::Tcp(TcpSpec {
                max_len: Some(_), ..
            }) = &body
            {
                return Err(self.error_at(
                    body_mark,
                    "a length range ...(MIN~MAX) is for outbound lines (an inbound segment has one length)",
                ));
            }
        }
        if direction == Direction::Outbound {
            if let PacketBody::Tcp(TcpSpec {
                options: TcpOptionsSpec::List(list),
                ..
            }) = &body
            {
                if list.iter().any(|o| matches!(o, TcpOptionSpec::Raw(_))) {
                    return Err(self.error_at(
                        body_mark,
                        "option \"bytes\" is for inbound lines (outbound options are compared decoded)",
                    ));
                }
            }
        }
        Ok(PacketEvent {
            direction,
            interface,
            ethernet,
            ip,
            body,
            times: Times::Once,
        })
    }

    /// `A` or `A:PORT`.
    fn endpoint(&mut self) -> Result<(Ipv4Addr, Option<u16>)> {
        let ip = self.ipv4()?;
        if self.peek() == Some(':') {
            self.bump();
            Ok((ip, Some(self.u16_value("a port number")?)))
        } else {
            Ok((ip, None))
        }
    }

    /// A MAC address: six hexadecimal octets separated by colons. `expected` names what the
    /// error says was expected.
    fn mac_address(&mut self, expected: &str) -> Result<MacAddr> {
        let mark = self.mark();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_hexdigit() || c == ':')
        {
            self.bump();
        }
        self.src[start..self.pos].parse::<MacAddr>().map_err(|_| {
            self.error_at(
                mark,
                format!(
                    "expected {expected}, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )
        })
    }

    /// The fields of `ether[...]` (`src=MAC`, `dst=MAC`); `ether[` is already read.
    fn ether_block(&mut self, ethernet: &mut EthernetSpec) -> Result<()> {
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(']') => {
                    self.bump();
                    return Ok(());
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let mark = self.mark();
            let name = self.word();
            let slot = match name {
                "src" => &mut ethernet.src,
                "dst" => &mut ethernet.dst,
                _ => {
                    return Err(self.error_at(
                        mark,
                        format!(
                            "expected an Ethernet field (src=, dst=) or \"]\", found {}",
                            describe_token(&self.src[mark.pos..])
                        ),
                    ))
                }
            };
            self.skip_blanks();
            self.expect_char('=', &format!("\"=\" after {name}"))?;
            self.skip_blanks();
            *slot = Some(self.mac_address("a MAC address (02:00:00:00:00:02)")?);
        }
    }

    /// The fields of `ip[...]`; `ip[` is already read.
    fn ip_block(&mut self, ip: &mut IpSpec) -> Result<()> {
        let mut offset = None;
        let mut more = false;
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(']') => {
                    self.bump();
                    break;
                }
                Some(',') => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            let mark = self.mark();
            let name = self.word();
            let value = |p: &mut Self| -> Result<()> {
                p.skip_blanks();
                p.expect_char('=', &format!("\"=\" after {name}"))?;
                p.skip_blanks();
                Ok(())
            };
            match name {
                "ttl" => {
                    value(self)?;
                    ip.ttl = Some(self.u8_value("a TTL")?);
                }
                "tos" => {
                    value(self)?;
                    ip.tos = Some(self.u8_value("a TOS octet")?);
                }
                "id" => {
                    value(self)?;
                    ip.id = Some(self.u16_value("an IP identification")?);
                }
                "off" => {
                    value(self)?;
                    let off_mark = self.mark();
                    let off = self.u16_value("a fragment offset in octets")?;
                    if off % 8 != 0 || off > 65528 {
                        return Err(self.error_at(
                            off_mark,
                            format!("fragment offset {off} is not a multiple of 8 up to 65528"),
                        ));
                    }
                    offset = Some(off);
                }
                "df" => ip.dont_fragment = Some(true),
                "mf" => more = true,
                "src" => {
                    value(self)?;
                    ip.src = Some(self.ipv4()?);
                }
                "dst" => {
                    value(self)?;
                    ip.dst = Some(self.ipv4()?);
                }
                "opts" => {
                    value(self)?;
                    ip.options = Some(if self.next_word_is("none") {
                        self.eat("none");
                        Vec::new()
                    } else {
                        self.hex_bytes("IP options", MAX_IP_OPTION_BYTES)?
                    });
                }
                "csum" => {
                    value(self)?;
                    let csum_mark = self.mark();
                    if self.word() != "bad" {
                        return Err(self.error_at(
                            csum_mark,
                            format!(
                                "expected \"bad\" after csum=, found {}",
                                describe_token(&self.src[csum_mark.pos..])
                            ),
                        ));
                    }
                    ip.bad_header_checksum = true;
                }
                "l4csum" => {
                    value(self)?;
                    let csum_mark = self.mark();
                    ip.transport_checksum = Some(match self.word() {
                        "bad" => ChecksumSpec::Bad,
                        "0" => ChecksumSpec::Zero,
                        _ => {
                            return Err(self.error_at(
                                csum_mark,
                                format!(
                                    "expected \"bad\" or \"0\" after l4csum=, found {}",
                                    describe_token(&self.src[csum_mark.pos..])
                                ),
                            ))
                        }
                    });
                }
                _ => {
                    return Err(self.error_at(
                        mark,
                        format!(
                            "expected an IP field (ttl=, tos=, id=, df, off=, mf, src=, dst=, opts=, csum=, l4csum=) or \"]\", found {}",
                            describe_token(&self.src[mark.pos..])
                        ),
                    ))
                }
            }
        }
        if offset.is_some() || more {
            ip.fragment = Some(FragmentSpec {
                offset: offset.unwrap_or(0),
                more,
            });
        }
        Ok(())
    }

    /// The layer-4 (or ARP) part of a packet line.
    fn body(&mut self, direction: Direction, depth: usize) -> Result<PacketBody> {
        if !self.peek().is_some_and(|c| c.is_ascii_lowercase()) {
            return Ok(PacketBody::Tcp(self.tcp()?));
        }
        let mark = self.mark();
        match self.word() {
            "udp" => {
                self.skip_blanks();
                let len = self.paren_len("the UDP payload length")?;
                Ok(PacketBody::Udp(UdpSpec {
                    src_port: None,
                    dst_port: None,
                    len: len as usize,
                }))
            }
            "icmp" => Ok(PacketBody::Icmp(self.icmp(direction, depth)?)),
            "arp" => Ok(PacketBody::Arp(self.arp()?)),
            "igmp" => Ok(PacketBody::Igmp(self.igmp()?)),
            "raw" => {
                self.skip_blanks();
                let protocol = self.u8_value("an IP protocol number")?;
                self.skip_blanks();
                let len = self.paren_len("the payload length")?;
                Ok(PacketBody::RawIp {
                    protocol,
                    len: len as usize,
                })
            }
            _ => Err(self.error_at(
                mark,
                format!(
                    "expected TCP flags, udp, icmp, arp, igmp or raw, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )),
        }
    }

    /// `FLAGS seq:end(len) [ack N] [win N] [urg N] [<options>]`.
    fn tcp(&mut self) -> Result<TcpSpec> {
        let mut flags = TcpFlagsSpec::default();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                break;
            }
            let flag = match c {
                'S' => &mut flags.syn,
                'F' => &mut flags.fin,
                'R' => &mut flags.rst,
                'P' => &mut flags.psh,
                '.' => &mut flags.ack,
                'U' => &mut flags.urg,
                'E' => &mut flags.ece,
                'W' => &mut flags.cwr,
                _ => {
                    return Err(self.error(format!(
                        "expected a TCP flag letter, found {:?}",
                        c.to_string()
                    )))
                }
            };
            if *flag {
                return Err(self.error(format!("TCP flag {c:?} given twice")));
            }
            *flag = true;
            self.bump();
        }
        if self.pos == start {
            return Err(self.expected("TCP flags (S, F, R, P, ., U, E, W)"));
        }
        self.skip_blanks();
        self.tcp_after_flags(flags)
    }

    /// `seq:end(len)` or `...(len)`, then `ack`, `win`, `urg` and the options.
    fn tcp_after_flags(&mut self, flags: TcpFlagsSpec) -> Result<TcpSpec> {
        let mut max_len = None;
        let (seq, end, len, any_seq) = if self.eat("...") {
            let (len, max) = self.paren_len_range("the payload length")?;
            max_len = max;
            (0, len, len, true)
        } else {
            let seq = self.u32_value("a sequence number")?;
            self.expect_char(':', "\":\" between the sequence numbers")?;
            let end_mark = self.mark();
            let end = self.u32_value("an end sequence number")?;
            let len = self.paren_len("the payload length")?;
            if seq.wrapping_add(len) != end {
                return Err(self.error_at(
                    end_mark,
                    format!("end sequence number {end} is not start {seq} plus length {len}"),
                ));
            }
            (seq, end, len, false)
        };
        let mut tcp = TcpSpec {
            src_port: None,
            dst_port: None,
            flags,
            seq,
            any_seq,
            end,
            len,
            max_len,
            ack: None,
            window: None,
            urgent: None,
            options: TcpOptionsSpec::None,
        };
        loop {
            self.skip_blanks();
            let mark = self.mark();
            if self.next_word_is("ack") {
                self.eat("ack");
                self.skip_blanks();
                if tcp
                    .ack
                    .replace(self.u32_value("an acknowledgment number")?)
                    .is_some()
                {
                    return Err(self.error_at(mark, "ack given twice"));
                }
            } else if self.next_word_is("win") {
                self.eat("win");
                self.skip_blanks();
                if tcp
                    .window
                    .replace(self.u16_value("a window")?.into())
                    .is_some()
                {
                    return Err(self.error_at(mark, "win given twice"));
                }
            } else if self.next_word_is("urg") {
                self.eat("urg");
                self.skip_blanks();
                if tcp
                    .urgent
                    .replace(self.u16_value("an urgent pointer")?)
                    .is_some()
                {
                    return Err(self.error_at(mark, "urg given twice"));
                }
            } else {
                break;
            }
        }
        if self.peek() == Some('<') {
            self.bump();
            tcp.options = self.tcp_options()?;
        }
        Ok(tcp)
    }

    /// The options after `<` up to and including `>`.
    fn tcp_options(&mut self) -> Result<TcpOptionsSpec> {
        self.skip_blanks();
        if self.eat("...") {
            self.skip_blanks();
            self.expect_char('>', "\">\" after \"<...\"")?;
            return Ok(TcpOptionsSpec::Any);
        }
        let mut options = Vec::new();
        if self.peek() == Some('>') {
            self.bump();
            return Ok(TcpOptionsSpec::List(options));
        }
        loop {
            self.skip_blanks();
            options.push(self.tcp_option()?);
            self.skip_blanks();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('>') => {
                    self.bump();
                    return Ok(TcpOptionsSpec::List(options));
                }
                _ => return Err(self.expected("\",\" or \">\" in the TCP options")),
            }
        }
    }

    fn tcp_option(&mut self) -> Result<TcpOptionSpec> {
        let mark = self.mark();
        let name = self.word();
        let option = match name {
            "nop" => TcpOptionSpec::Nop,
            "eol" => TcpOptionSpec::Eol,
            "sackOK" => TcpOptionSpec::SackPermitted,
            "mss" => {
                self.skip_blanks();
                TcpOptionSpec::Mss(self.u16_value("an MSS")?)
            }
            "wscale" => {
                self.skip_blanks();
                TcpOptionSpec::WindowScale(self.u8_value("a window scale shift")?)
            }
            "sack" => {
                let mut blocks = Vec::new();
                loop {
                    self.skip_blanks();
                    if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                        break;
                    }
                    if blocks.len() == 4 {
                        return Err(self.error("more than 4 SACK blocks (RFC 2018 §3)"));
                    }
                    let left = self.u32_value("a SACK block's left edge")?;
                    self.expect_char(':', "\":\" in a SACK block")?;
                    let right = self.u32_value("a SACK block's right edge")?;
                    blocks.push((left, right));
                }
                if blocks.is_empty() {
                    return Err(self.expected("a SACK block (left:right)"));
                }
                TcpOptionSpec::Sack(blocks)
            }
            "TS" => {
                self.skip_blanks();
                self.keyword("val")?;
                self.skip_blanks();
                let value = self.u32_value("a TS value")?;
                self.skip_blanks();
                self.keyword("ecr")?;
                self.skip_blanks();
                let echo = self.u32_value("a TS echo reply")?;
                TcpOptionSpec::Timestamp { value, echo }
            }
            // TCP Fast Open (RFC 7413 §4.1.1): kind 34, optional cookie.
            "FO" => TcpOptionSpec::Other {
                kind: 34,
                data: self.optional_hex()?,
            },
            // TFO before its kind was assigned: experimental kind 254, ExID 0xF989 (RFC 6994).
            "FOEXP" => {
                let mut data = vec![0xF9, 0x89];
                data.extend(self.optional_hex()?);
                TcpOptionSpec::Other { kind: 254, data }
            }
            // Extension: octets written verbatim (illegal lengths included).
            "bytes" => {
                self.skip_blanks();
                TcpOptionSpec::Raw(self.hex_bytes("option bytes", MAX_TCP_OPTION_BYTES)?)
            }
            // Extension: any option by kind, with optional data.
            "opt" => {
                self.skip_blanks();
                let kind = self.u8_value("a TCP option kind")?;
                TcpOptionSpec::Other {
                    kind,
                    data: self.optional_hex()?,
                }
            }
            _ => {
                return Err(self.error_at(
                    mark,
                    format!(
                        "expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, FO, FOEXP, opt, bytes), found {}",
                        describe_token(&self.src[mark.pos..])
                    ),
                ))
            }
        };
        Ok(option)
    }

    /// Hex option data when the next token is a number, else nothing.
    fn optional_hex(&mut self) -> Result<Vec<u8>> {
        self.skip_blanks();
        if self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.hex_bytes("option data", MAX_TCP_OPTION_BYTES)
        } else {
            Ok(Vec::new())
        }
    }

    /// After `icmp`: type, code, then `mtu`, `id`/`seq`, `pointer`, `(len)`, `[quote]`.
    fn icmp(&mut self, direction: Direction, depth: usize) -> Result<IcmpSpec> {
        self.skip_blanks();
        let mark = self.mark();
        let type_name = self.word();
        let icmp_type = if type_name == "type" {
            self.skip_blanks();
            self.u8_value("an ICMP type")?
        } else if let Some(&(_, t)) = ICMP_TYPES.iter().find(|(n, _)| *n == type_name) {
            t
        } else {
            return Err(self.error_at(
                mark,
                format!(
                    "unknown ICMP type {} (expected echo_reply, unreachable, source_quench, redirect, echo_request, time_exceeded, parameter_problem, timestamp_request, timestamp_reply or type N)",
                    describe_token(&self.src[mark.pos..])
                ),
            ));
        };
        let mut icmp = IcmpSpec {
            icmp_type,
            code: None,
            mtu: None,
            echo: None,
            pointer: None,
            len: None,
            quoted: None,
        };
        loop {
            self.skip_blanks();
            let mark = self.mark();
            match self.peek() {
                Some('(') => {
                    if icmp.len.is_some() {
                        return Err(self.error("ICMP length given twice"));
                    }
                    icmp.len = Some(self.paren_len("the ICMP payload length")? as usize);
                    continue;
                }
                Some('[') => {
                    if icmp.quoted.is_some() {
                        return Err(self.error("a second quoted datagram"));
                    }
                    self.bump();
                    self.skip_blanks();
                    let quoted = self.quoted(direction, depth + 1)?;
                    self.skip_blanks();
                    self.expect_char(']', "\"]\" after the quoted datagram")?;
                    icmp.quoted = Some(Box::new(quoted));
                    continue;
                }
                // The line's `repeated` / `optional` suffix.
                _ if self.next_word_is("repeated") || self.next_word_is("optional") => break,
                Some(c) if c.is_ascii_alphabetic() => {}
                _ => break,
            }
            let word = self.word();
            match word {
                "code" => {
                    self.skip_blanks();
                    icmp.code = Some(self.u8_value("an ICMP code")?);
                }
                "mtu" => {
                    self.skip_blanks();
                    icmp.mtu = Some(self.u16_value("an MTU")?);
                }
                "id" => {
                    self.skip_blanks();
                    let id = self.u16_value("an echo identifier")?;
                    self.skip_blanks();
                    self.keyword("seq")?;
                    self.skip_blanks();
                    let seq = self.u16_value("an echo sequence number")?;
                    icmp.echo = Some((id, seq));
                }
                "pointer" => {
                    self.skip_blanks();
                    icmp.pointer = Some(self.u8_value("a parameter-problem pointer")?);
                }
                _ => {
                    let Some(&(_, for_type, code)) = ICMP_CODES.iter().find(|(n, _, _)| *n == word)
                    else {
                        return Err(self.error_at(
                            mark,
                            format!(
                                "expected an ICMP code name, code N, mtu, id, pointer, (LEN) or [quoted datagram], found {}",
                                describe_token(&self.src[mark.pos..])
                            ),
                        ));
                    };
                    if for_type != icmp_type {
                        return Err(self.error_at(
                            mark,
                            format!(
                                "ICMP code {word} belongs to type {for_type}, not type {icmp_type}"
                            ),
                        ));
                    }
                    if icmp.code.is_some() {
                        return Err(self.error_at(mark, "ICMP code given twice"));
                    }
                    icmp.code = Some(code);
                }
            }
        }
        Ok(icmp)
    }

    /// The datagram quoted in an ICMP error: a packet going the other way. A bare
    /// `seq:end(len)` is a TCP segment without flags.
    fn quoted(&mut self, outer: Direction, depth: usize) -> Result<PacketEvent> {
        let direction = match outer {
            Direction::Inbound => Direction::Outbound,
            Direction::Outbound => Direction::Inbound,
        };
        let bare_sequence = (self.peek().is_some_and(|c| c.is_ascii_digit()) && !self.at_ipv4())
            || self.starts_with("...");
        if bare_sequence {
            let tcp = self.tcp_after_flags(TcpFlagsSpec::default())?;
            return Ok(PacketEvent {
                direction,
                interface: 0,
                ethernet: EthernetSpec::default(),
                ip: IpSpec::default(),
                body: PacketBody::Tcp(tcp),
                times: Times::Once,
            });
        }
        self.packet_after_direction(direction, 0, depth)
    }

    /// After `arp`: `who-has A tell B` or `reply A is-at MAC|*`.
    fn arp(&mut self) -> Result<ArpSpec> {
        self.skip_blanks();
        let mark = self.mark();
        match self.dashed_word() {
            "who-has" => {
                self.skip_blanks();
                let target_ip = self.ipv4()?;
                self.skip_blanks();
                self.keyword("tell")?;
                self.skip_blanks();
                let sender_ip = self.ipv4()?;
                Ok(ArpSpec::Request {
                    target_ip,
                    sender_ip,
                })
            }
            "reply" => {
                self.skip_blanks();
                let sender_ip = self.ipv4()?;
                self.skip_blanks();
                self.keyword("is-at")?;
                self.skip_blanks();
                let sender_mac = if self.peek() == Some('*') {
                    self.bump();
                    None
                } else {
                    Some(self.mac_address("a MAC address (02:00:00:00:00:02) or *")?)
                };
                Ok(ArpSpec::Reply {
                    sender_ip,
                    sender_mac,
                    target_ip: None,
                })
            }
            _ => Err(self.error_at(
                mark,
                format!(
                    "expected who-has or reply after arp, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )),
        }
    }

    /// After `igmp`: `vN query [group G] [max_resp N] [sources [..]]`, `vN report G`,
    /// `v3 report [records]`, `leave G`.
    fn igmp(&mut self) -> Result<IgmpSpec> {
        self.skip_blanks();
        let mark = self.mark();
        let first = self.word();
        if first == "leave" {
            self.skip_blanks();
            return Ok(IgmpSpec::Leave {
                group: self.ipv4()?,
            });
        }
        let version = match first {
            "v1" => 1,
            "v2" => 2,
            "v3" => 3,
            _ => {
                return Err(self.error_at(
                    mark,
                    format!(
                        "expected v1, v2, v3 or leave after igmp, found {}",
                        describe_token(&self.src[mark.pos..])
                    ),
                ))
            }
        };
        self.skip_blanks();
        let mark = self.mark();
        match self.word() {
            "query" => {
                let mut group = Ipv4Addr::UNSPECIFIED;
                // RFC 2236 §8.3 and RFC 3376 §8.3: 100 (10 s) by default; v1 has no field.
                let mut max_resp = if version == 1 { 0 } else { 100 };
                let mut sources = Vec::new();
                loop {
                    self.skip_blanks();
                    if self.next_word_is("group") {
                        self.eat("group");
                        self.skip_blanks();
                        group = self.ipv4()?;
                    } else if self.next_word_is("max_resp") {
                        self.eat("max_resp");
                        self.skip_blanks();
                        max_resp = self.u8_value("a max response time")?;
                    } else if self.next_word_is("sources") {
                        self.eat("sources");
                        self.skip_blanks();
                        sources = self.address_list()?;
                    } else {
                        break;
                    }
                }
                Ok(IgmpSpec::Query {
                    version,
                    group,
                    max_resp,
                    sources,
                })
            }
            "report" if version == 3 => {
                self.skip_blanks();
                self.expect_char('[', "\"[\" and IGMPv3 group records")?;
                let mut records = Vec::new();
                loop {
                    self.skip_blanks();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            break;
                        }
                        Some(',') if !records.is_empty() => {
                            self.bump();
                            continue;
                        }
                        _ => {}
                    }
                    if records.len() == 64 {
                        return Err(self.error("more than 64 IGMPv3 group records"));
                    }
                    let rec_mark = self.mark();
                    let name = self.word();
                    let Some(&(_, record_type)) =
                        IGMP_RECORD_TYPES.iter().find(|(n, _)| *n == name)
                    else {
                        return Err(self.error_at(
                            rec_mark,
                            format!(
                                "expected an IGMPv3 record type (mode_is_include, mode_is_exclude, change_to_include, change_to_exclude, allow_new_sources, block_old_sources) or \"]\", found {}",
                                describe_token(&self.src[rec_mark.pos..])
                            ),
                        ));
                    };
                    self.skip_blanks();
                    let group = self.ipv4()?;
                    self.skip_blanks();
                    let sources = if self.peek() == Some('[') {
                        self.address_list()?
                    } else {
                        Vec::new()
                    };
                    records.push((record_type, group, sources));
                }
                Ok(IgmpSpec::V3Report { records })
            }
            "report" => {
                self.skip_blanks();
                Ok(IgmpSpec::Report {
                    version,
                    group: self.ipv4()?,
                })
            }
            _ => Err(self.error_at(
                mark,
                format!(
                    "expected query or report, found {}",
                    describe_token(&self.src[mark.pos..])
                ),
            )),
        }
    }

    /// `[A B ...]` or `[A, B, ...]`.
    fn address_list(&mut self) -> Result<Vec<Ipv4Addr>> {
        self.expect_char('[', "\"[\" and a list of addresses")?;
        let mut list = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                Some(']') => {
                    self.bump();
                    return Ok(list);
                }
                Some(',') if !list.is_empty() => {
                    self.bump();
                }
                _ => {
                    if list.len() == 256 {
                        return Err(self.error("more than 256 addresses in a list"));
                    }
                    list.push(self.ipv4()?);
                }
            }
        }
    }
}

/// `"token"` for the token at the start of `text`, or `end of line` / `end of file`.
fn describe_token(text: &str) -> String {
    let Some(first) = text.chars().next() else {
        return "the end of the file".to_string();
    };
    if first == '\n' || (first == '\r' && text[1..].starts_with('\n')) {
        return "the end of the line".to_string();
    }
    let len = if is_delimiter(first) {
        first.len_utf8()
    } else {
        text.find(is_delimiter).unwrap_or(text.len())
    };
    let token: String = text[..len].chars().take(40).collect();
    format!("{token:?}")
}

/// Octets from an even number of hex digits.
fn decode_hex(digits: &str) -> Option<Vec<u8>> {
    if digits.len() % 2 != 0 || !digits.is_ascii() {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).ok())
        .collect()
}

/// The description: the top comment block's paragraphs that are not licence boilerplate.
fn description(header: &[Option<&str>]) -> String {
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in header {
        match line {
            Some(text) => {
                if let Some(p) = paragraphs.last_mut() {
                    p.push(text);
                }
            }
            None => {
                if paragraphs.last().is_some_and(|p| !p.is_empty()) {
                    paragraphs.push(Vec::new());
                }
            }
        }
    }
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join("\n"))
        .filter(|p| !is_boilerplate(p))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` or panics with the error.
    fn parse(text: &str) -> Script {
        parse_script(text, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The one event of a one-line script.
    fn event(line: &str) -> Event {
        let script = parse(line);
        assert_eq!(script.events.len(), 1, "{line}");
        script.events.into_iter().next().unwrap()
    }

    fn packet(line: &str) -> PacketEvent {
        match event(line).kind {
            EventKind::Packet(p) => p,
            other => panic!("not a packet: {other:?}"),
        }
    }

    fn tcp(line: &str) -> TcpSpec {
        match packet(line).body {
            PacketBody::Tcp(t) => t,
            other => panic!("not TCP: {other:?}"),
        }
    }

    fn call(line: &str) -> CallEvent {
        match event(line).kind {
            EventKind::Call(c) => c,
            other => panic!("not a call: {other:?}"),
        }
    }

    fn error(text: &str) -> ParseError {
        match parse_script(text, Some(Path::new("t.pkt"))) {
            Ok(script) => panic!("parsed, expected an error: {script:?}"),
            Err(e) => e,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sym(s: &str) -> Expr {
        Expr::Symbol(s.to_string())
    }

    /// Every `.pkt` file under `dir`, recursively, sorted.
    fn pkt_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pkt_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "pkt") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_freebsd_tcp_testsuite_script_parses() {
        // `../shared` beside the repository: `../../shared` from this crate in the main
        // checkout, one level further up from a worktree under `wt/`.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let suite = Path::new("shared/peer-suites/freebsd-tcp-testsuite");
        let dir = manifest
            .ancestors()
            .skip(2)
            .map(|a| a.join(suite))
            .find(|d| d.is_dir());
        let Some(dir) = dir else {
            panic!(
                "the FreeBSD tcp-testsuite is missing: expected {} in an ancestor of {} \
                 (clone https://github.com/freebsd-net/tcp-testsuite there)",
                suite.display(),
                manifest.join("../..").display()
            );
        };
        let mut files = Vec::new();
        pkt_files(&dir, &mut files);
        files.sort();
        assert!(
            files.len() >= 600,
            "only {} .pkt files under {}",
            files.len(),
            dir.display()
        );
        let mut failures = Vec::new();
        let mut events = 0;
        let mut described = 0;
        let mut conditional = 0;
        for file in &files {
            match parse_file(file) {
                Ok(script) => {
                    assert!(!script.events.is_empty(), "{}: no events", file.display());
                    assert!(
                        matches!(script.option("ip_version"), Some("ipv4" | "ipv6")),
                        "{}: no --ip_version",
                        file.display()
                    );
                    assert!(
                        !is_boilerplate(&script.description),
                        "{}: licence text in the description",
                        file.display()
                    );
                    events += script.events.len();
                    described += usize::from(!script.description.is_empty());
                    conditional += script
                        .events
                        .iter()
                        .filter(|e| e.condition.is_some())
                        .count();
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} scripts failed to parse:\n{}",
            failures.len(),
            files.len(),
            failures.join("\n")
        );
        assert!(
            events > 10 * files.len(),
            "only {events} events in {} files",
            files.len()
        );
        // 42 of the 680 (the snippets and some snd-syn scripts) have only the licence.
        assert!(
            described * 10 >= files.len() * 9,
            "only {described} scripts have a description"
        );
        // The suite brackets FreeBSD-specific expectations in `#ifdef` blocks.
        assert!(conditional > 0, "no event under #ifdef");
    }

    // ---- script level -----------------------------------------------------------------------

    const LICENCE: &str = "\
//
// Copyright (c) 2016 Some Author
// All rights reserved.
//
// Redistribution and use in source and binary forms, with or without
// modification, are permitted provided that the following conditions
// are met:
//
// THIS SOFTWARE IS PROVIDED BY THE AUTHOR AND CONTRIBUTORS ``AS IS'' AND
// ANY EXPRESS OR IMPLIED WARRANTIES ARE DISCLAIMED.
//
";

    #[test]
    fn description_skips_the_licence_and_stops_at_the_first_option() {
        let text = format!(
            "{LICENCE}\n// Ensure that a SYN-FIN in SYN-SENT\n// is answered.\n\n\
             --ip_version=ipv4\n// Not part of it.\n+0 close(3) = 0\n"
        );
        let script = parse(&text);
        assert_eq!(
            script.description,
            "Ensure that a SYN-FIN in SYN-SENT\nis answered."
        );
        assert_eq!(script.options, vec![("ip_version".into(), "ipv4".into())]);
        assert_eq!(script.events.len(), 1);
        assert_eq!(script.events[0].line, 18);
    }

    #[test]
    fn description_keeps_every_non_licence_paragraph_and_reads_block_comments() {
        let text = "/*\n * Checks the RST.\n *\n * RFC 9293 §3.10.7.3.\n */\n0 close(3) = 0\n";
        let script = parse(text);
        assert_eq!(script.description, "Checks the RST.\n\nRFC 9293 §3.10.7.3.");
        assert_eq!(script.events[0].line, 6);
        let plain = parse("// One line.\n//\n// Two.\n0 close(3) = 0\n");
        assert_eq!(plain.description, "One line.\n\nTwo.");
        assert_eq!(parse("0 close(3) = 0\n").description, "");
    }

    #[test]
    fn option_lines_fill_requirements_and_requires() {
        let script = parse(
            "--requirements=RFC9293-MUST-8, RFC5961-3.2\n--requires=sack,timestamps\n\
             --tolerance_usecs=75000   // generous\n--verbose\n",
        );
        assert_eq!(script.requirements, vec!["RFC9293-MUST-8", "RFC5961-3.2"]);
        assert_eq!(script.requires, vec!["sack", "timestamps"]);
        assert_eq!(script.option("tolerance_usecs"), Some("75000"));
        assert_eq!(script.option("verbose"), Some(""));
        assert_eq!(script.options.len(), 4);
        assert!(script.events.is_empty());
    }

    #[test]
    fn parse_file_records_the_path_and_reports_io_errors() {
        let dir = std::env::temp_dir().join(format!("wirecheck-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ok.pkt");
        std::fs::write(&file, "0 close(3) = 0\n").unwrap();
        let script = parse_file(&file).unwrap();
        assert_eq!(script.path.as_deref(), Some(file.as_path()));
        let missing = dir.join("missing.pkt");
        let e = parse_file(&missing).unwrap_err();
        assert_eq!(e.path.as_deref(), Some(missing.as_path()));
        assert_eq!((e.line, e.column), (0, 0));
        assert!(
            e.message.starts_with("cannot read the script:"),
            "{}",
            e.message
        );
        std::fs::write(&file, [0xff, 0xfe, b'\n']).unwrap();
        let e = parse_file(&file).unwrap_err();
        assert!(
            e.message.starts_with("the script is not UTF-8 text"),
            "{}",
            e.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn times_of_every_form() {
        let times: Vec<TimeSpec> = parse(
            "0.100 close(3) = 0\n+0.1 close(3) = 0\n+ 0.00 close(3) = 0\n+.5 close(3) = 0\n\
             * > S 0:0(0) <...>\n0.1~0.25 close(3) = 0\n+0.1~+0.2 close(3) = 0\n\
             0.1...0.2 accept(3, ..., ...) = 4\n+0...+0.3 accept(3, ..., ...) = 4\n\
             +1...2 read(4, ..., 1) = 1\n 2 close(3) = 0\n",
        )
        .events
        .into_iter()
        .map(|e| e.time)
        .collect();
        assert_eq!(
            times,
            vec![
                TimeSpec::Absolute(ms(100)),
                TimeSpec::Relative(ms(100)),
                TimeSpec::Relative(ms(0)),
                TimeSpec::Relative(ms(500)),
                TimeSpec::Any,
                TimeSpec::Range {
                    start: ms(100),
                    end: ms(250),
                    relative: false
                },
                TimeSpec::Range {
                    start: ms(100),
                    end: ms(200),
                    relative: true
                },
                TimeSpec::Blocking {
                    start: ms(100),
                    end: ms(200),
                    relative: false
                },
                TimeSpec::Blocking {
                    start: ms(0),
                    end: ms(300),
                    relative: true
                },
                TimeSpec::Blocking {
                    start: ms(1000),
                    end: ms(2000),
                    relative: true
                },
                TimeSpec::Absolute(ms(2000)),
            ]
        );
        assert_eq!(
            event("0.000000001 close(3) = 0").time,
            TimeSpec::Absolute(Duration::from_nanos(1))
        );
    }

    #[test]
    fn shell_and_code_blocks_keep_their_text_and_line_numbers() {
        let script = parse(
            "+0 `sysctl -w net.inet.tcp.rfc1323=1`\n+0 %{ assert tcpi_state == TCPI_LISTEN }%\n\
             +0 %{\nassert tcpi_options == 0\nassert tcpi_rto > 0\n}%\n+0.1 close(3) = 0\n",
        );
        let kinds: Vec<(usize, &EventKind)> =
            script.events.iter().map(|e| (e.line, &e.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (
                    1,
                    &EventKind::Shell("sysctl -w net.inet.tcp.rfc1323=1".into())
                ),
                (
                    2,
                    &EventKind::Code("assert tcpi_state == TCPI_LISTEN".into())
                ),
                (
                    3,
                    &EventKind::Code("assert tcpi_options == 0\nassert tcpi_rto > 0".into())
                ),
                (
                    7,
                    &EventKind::Call(CallEvent {
                        name: "close".into(),
                        args: vec![Expr::Int(3)],
                        result: Expr::Int(0),
                        errno: None,
                    })
                ),
            ]
        );
    }

    #[test]
    fn ifdef_else_endif_set_the_condition_of_the_events_inside() {
        let script = parse(
            "+0 close(3) = 0\n#ifdef STANDARD\n+0 close(4) = 0\n#else\n+0 close(5) = 0\n#endif\n\
             #ifndef FreeBSD\n+0 close(6) = 0\n#endif\n+0 close(7) = 0\n",
        );
        let conditions: Vec<Option<Condition>> =
            script.events.iter().map(|e| e.condition.clone()).collect();
        let cond = |symbol: &str, when_defined| {
            Some(Condition {
                symbol: symbol.into(),
                when_defined,
            })
        };
        assert_eq!(
            conditions,
            vec![
                None,
                cond("STANDARD", true),
                cond("STANDARD", false),
                cond("FreeBSD", false),
                None
            ]
        );
        let standard = conditions[1].clone().unwrap();
        assert!(standard.holds(|s| s == "STANDARD"));
        assert!(!standard.holds(|_| false));
        assert_eq!(script.events[4].line, 10);
    }

    // ---- calls ------------------------------------------------------------------------------

    #[test]
    fn socket_call_with_ellipsis_and_symbols() {
        assert_eq!(
            call("+0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"),
            CallEvent {
                name: "socket".into(),
                args: vec![Expr::Ellipsis, sym("SOCK_STREAM"), sym("IPPROTO_TCP")],
                result: Expr::Int(3),
                errno: None,
            }
        );
    }

    #[test]
    fn call_with_lists_struct_or_and_strings() {
        assert_eq!(
            call("+0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], [4]) = 0").args,
            vec![
                Expr::Int(3),
                sym("SOL_SOCKET"),
                sym("SO_RCVBUF"),
                Expr::List(vec![Expr::Int(65536)]),
                Expr::List(vec![Expr::Int(4)]),
            ]
        );
        assert_eq!(
            call("+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0").args[3],
            Expr::Struct(vec![
                ("l_onoff".into(), Expr::Int(1)),
                ("l_linger".into(), Expr::Int(0))
            ])
        );
        assert_eq!(
            call("+0 bind(3, {sa_family=AF_INET, ...}, 16) = 0").args[1],
            Expr::Struct(vec![
                ("sa_family".into(), sym("AF_INET")),
                ("...".into(), Expr::Ellipsis)
            ])
        );
        assert_eq!(
            call("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0").args[2],
            Expr::Or(vec![sym("O_RDWR"), sym("O_NONBLOCK")])
        );
        assert_eq!(
            call(r#"+0 write(4, "a\"b\\c\n", 6) = 6"#).args[1],
            Expr::String("a\"b\\c\n".into())
        );
        assert_eq!(
            call("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0").args[3],
            Expr::List(vec![sym("ECONNRESET")])
        );
        assert_eq!(
            call("+0 f([], {}, [[1, 2], [-3]]) = 0").args,
            vec![
                Expr::List(vec![]),
                Expr::Struct(vec![]),
                Expr::List(vec![
                    Expr::List(vec![Expr::Int(1), Expr::Int(2)]),
                    Expr::List(vec![Expr::Int(-3)])
                ]),
            ]
        );
    }

    #[test]
    fn call_results_errno_and_notes() {
        assert_eq!(
            call("+0.00 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)"),
            CallEvent {
                name: "connect".into(),
                args: vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis],
                result: Expr::Int(-1),
                errno: Some("EINPROGRESS".into()),
            }
        );
        let fcntl = call("+0.00 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)");
        assert_eq!(fcntl.result, Expr::Int(2));
        assert_eq!(fcntl.errno, None);
        // A space before "(" and a comment glued to the end.
        let write = call("+0.00 write (3, ..., 10) = 10//sent");
        assert_eq!(write.name, "write");
        assert_eq!(
            write.args,
            vec![Expr::Int(3), Expr::Ellipsis, Expr::Int(10)]
        );
        assert_eq!(write.result, Expr::Int(10));
        assert_eq!(
            call("+0 close(3) = -1 EBADF").errno.as_deref(),
            Some("EBADF")
        );
        assert_eq!(call("+0 getpid() = ...").result, Expr::Ellipsis);
    }

    #[test]
    fn address_arguments_of_the_extension() {
        let join = call("+0 join_group(3, 239.1.2.3, 0) = 0");
        assert_eq!(join.name, "join_group");
        assert_eq!(join.args[1], Expr::Ip(Ipv4Addr::new(239, 1, 2, 3)));
        assert_eq!(
            call("+0 sendto(3, ..., 10, 0, 192.0.2.1:5000) = 10").args[4],
            Expr::Address(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 5000))
        );
    }

    // ---- TCP ----------------------------------------------------------------------------------

    #[test]
    fn tcp_line_with_every_field() {
        let p = packet(
            "+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>",
        );
        assert_eq!(p.direction, Direction::Outbound);
        assert_eq!(p.interface, 0);
        assert_eq!(p.ip, IpSpec::default());
        assert_eq!(
            p.body,
            PacketBody::Tcp(TcpSpec {
                src_port: None,
                dst_port: None,
                flags: TcpFlagsSpec {
                    syn: true,
                    ack: true,
                    ..Default::default()
                },
                seq: 0,
                any_seq: false,
                max_len: None,
                end: 0,
                len: 0,
                ack: Some(1),
                window: Some(65535),
                urgent: None,
                options: TcpOptionsSpec::List(vec![
                    TcpOptionSpec::Mss(1460),
                    TcpOptionSpec::Nop,
                    TcpOptionSpec::WindowScale(6),
                    TcpOptionSpec::SackPermitted,
                    TcpOptionSpec::Timestamp {
                        value: 100,
                        echo: 0
                    },
                ]),
            })
        );
    }

    #[test]
    fn tcp_flags_each_letter() {
        assert_eq!(
            tcp("+0 < SFRP.UEW 0:0(0) win 1").flags,
            TcpFlagsSpec {
                syn: true,
                fin: true,
                rst: true,
                psh: true,
                ack: true,
                urg: true,
                ece: true,
                cwr: true
            }
        );
        assert_eq!(
            tcp("+0 <  . 4:4(0) ack 1 win 65535").flags,
            TcpFlagsSpec {
                ack: true,
                ..Default::default()
            }
        );
        let sew = tcp("+0 > SEW 0:0(0) win 65535 <mss 1440,sackOK,eol,eol>");
        assert_eq!(
            sew.flags,
            TcpFlagsSpec {
                syn: true,
                ece: true,
                cwr: true,
                ..Default::default()
            }
        );
        assert_eq!(
            sew.options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Mss(1440),
                TcpOptionSpec::SackPermitted,
                TcpOptionSpec::Eol,
                TcpOptionSpec::Eol
            ])
        );
    }

    #[test]
    fn tcp_sequence_forms_ack_win_urg() {
        let data = tcp("+0 < P. 1:1001(1000) ack 1 win 257 urg 3");
        assert_eq!((data.seq, data.end, data.len), (1, 1001, 1000));
        assert_eq!(
            (data.ack, data.window, data.urgent),
            (Some(1), Some(257), Some(3))
        );
        assert_eq!(data.options, TcpOptionsSpec::None);
        let wrapped = tcp("+0 < . 4294967295:9(10) win 1");
        assert_eq!((wrapped.seq, wrapped.end, wrapped.len), (u32::MAX, 9, 10));
        let any = tcp("+0.00 > S.     ...(0)     ack 65537 win 65535 <...>");
        assert!(any.any_seq);
        assert_eq!((any.seq, any.end, any.len, any.ack), (0, 0, 0, Some(65537)));
        assert_eq!(any.options, TcpOptionsSpec::Any);
        assert_eq!(tcp("* > S 0:0(0)").window, None);
        let range = tcp("+0 > . ...(28~1460) ack 1");
        assert!(range.any_seq);
        assert_eq!((range.len, range.max_len), (28, Some(1460)));
        assert_eq!(any.max_len, None);
    }

    #[test]
    fn length_ranges_are_outbound_only_and_not_empty() {
        let e = parse_script("0 < . ...(10~20) ack 1 win 100\n", None).unwrap_err();
        assert!(e.to_string().contains("for outbound lines"), "{e}");
        let e = parse_script("0 > . ...(20~10) ack 1\n", None).unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
    }

    #[test]
    fn tcp_options_sack_fast_open_and_by_kind() {
        assert_eq!(
            tcp("+0 < . 1:1(0) ack 1 win 100 <nop,nop,sack 1001:2001 3001:4001, TS val 5 ecr 6>")
                .options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Nop,
                TcpOptionSpec::Nop,
                TcpOptionSpec::Sack(vec![(1001, 2001), (3001, 4001)]),
                TcpOptionSpec::Timestamp { value: 5, echo: 6 },
            ])
        );
        assert_eq!(
            tcp("+0 < S 0:0(0) win 100 <FO 0a0b0c0d,FO,FOEXP,opt 30 0x0102,opt 99>").options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Other {
                    kind: 34,
                    data: vec![0x0a, 0x0b, 0x0c, 0x0d]
                },
                TcpOptionSpec::Other {
                    kind: 34,
                    data: vec![]
                },
                TcpOptionSpec::Other {
                    kind: 254,
                    data: vec![0xf9, 0x89]
                },
                TcpOptionSpec::Other {
                    kind: 30,
                    data: vec![1, 2]
                },
                TcpOptionSpec::Other {
                    kind: 99,
                    data: vec![]
                },
            ])
        );
    }

    #[test]
    fn ecn_codepoints_after_the_direction() {
        assert_eq!(
            packet("+0.01 <[noecn] . 1:1(0) ack 1 win 65535").ip.ecn,
            Some(EcnSpec::NotEct)
        );
        assert_eq!(
            packet("+0.00 > [ect0] P. 1:11(10) ack 1").ip.ecn,
            Some(EcnSpec::Ect0)
        );
        assert_eq!(packet("+0 > [ect1] . 1:1(0)").ip.ecn, Some(EcnSpec::Ect1));
        assert_eq!(
            packet("+0 > [ect01] . 1:1(0)").ip.ecn,
            Some(EcnSpec::Ect0Or1)
        );
        assert_eq!(packet("+0 < [ce] . 1:1(0)").ip.ecn, Some(EcnSpec::Ce));
    }

    #[test]
    fn checksum_corruption_fields() {
        let p = packet("+0 < ip[csum=bad l4csum=0] udp (10)");
        assert!(p.ip.bad_header_checksum);
        assert_eq!(p.ip.transport_checksum, Some(ChecksumSpec::Zero));
        let p = packet("+0 < ip[l4csum=bad] P. 1:11(10) ack 1");
        assert!(!p.ip.bad_header_checksum);
        assert_eq!(p.ip.transport_checksum, Some(ChecksumSpec::Bad));
        let e = error("+0 < ip[csum=good] udp (10)");
        assert!(e.to_string().contains("after csum="), "{e}");
        let e = error("+0 < ip[l4csum=1] udp (10)");
        assert!(e.to_string().contains("after l4csum="), "{e}");
    }

    #[test]
    fn explicit_ends_interface_and_ip_block() {
        let p = packet("+0 eth1 < ip[ttl=63 tos=0x10, id=7 df src=192.0.2.1] 192.0.2.1:5000 > 192.168.0.1:8080 S 0:0(0) win 1000");
        assert_eq!(p.interface, 1);
        assert_eq!(p.direction, Direction::Inbound);
        assert_eq!(
            p.ip,
            IpSpec {
                src: Some(Ipv4Addr::new(192, 0, 2, 1)),
                dst: Some(Ipv4Addr::new(192, 168, 0, 1)),
                ttl: Some(63),
                tos: Some(0x10),
                id: Some(7),
                dont_fragment: Some(true),
                ..Default::default()
            }
        );
        let PacketBody::Tcp(t) = p.body else {
            panic!("not TCP")
        };
        assert_eq!((t.src_port, t.dst_port), (Some(5000), Some(8080)));
        let frag = packet("+0 < ip[id=7 off=0 mf] udp (1472)");
        assert_eq!(
            frag.ip.fragment,
            Some(FragmentSpec {
                offset: 0,
                more: true
            })
        );
        assert_eq!(frag.ip.id, Some(7));
        let last = packet("+0 < ip[id=7 off=1480] raw 17 (528)");
        assert_eq!(
            last.ip.fragment,
            Some(FragmentSpec {
                offset: 1480,
                more: false
            })
        );
        assert_eq!(
            last.body,
            PacketBody::RawIp {
                protocol: 17,
                len: 528
            }
        );
        assert_eq!(
            packet("+0 < ip[opts=0x01010000] udp (1)").ip.options,
            Some(vec![1, 1, 0, 0])
        );
        assert_eq!(
            packet("+0 < ip[opts=none] igmp v2 query").ip.options,
            Some(vec![])
        );
        let e = parse_script("+0 < ip[opts=nonesuch] igmp v2 query\n", None).unwrap_err();
        assert!(e.to_string().contains("expected IP options"), "{e}");
        assert_eq!(packet("+0 eth0 > ip[ttl=63] udp (100)").ip.ttl, Some(63));
    }

    // ---- UDP, ICMP, ARP, IGMP -------------------------------------------------------------------

    #[test]
    fn udp_lines() {
        assert_eq!(
            packet("+0 < udp (100)").body,
            PacketBody::Udp(UdpSpec {
                src_port: None,
                dst_port: None,
                len: 100
            })
        );
        let p = packet("+0 < 192.0.2.1:5000 > 192.168.0.1:7 udp (10)");
        assert_eq!(
            p.body,
            PacketBody::Udp(UdpSpec {
                src_port: Some(5000),
                dst_port: Some(7),
                len: 10
            })
        );
        assert_eq!(p.ip.dst, Some(Ipv4Addr::new(192, 168, 0, 1)));
    }

    fn icmp(line: &str) -> IcmpSpec {
        match packet(line).body {
            PacketBody::Icmp(i) => i,
            other => panic!("not ICMP: {other:?}"),
        }
    }

    fn blank_icmp(icmp_type: u8) -> IcmpSpec {
        IcmpSpec {
            icmp_type,
            code: None,
            mtu: None,
            echo: None,
            pointer: None,
            len: None,
            quoted: None,
        }
    }

    #[test]
    fn icmp_echo_and_simple_errors() {
        assert_eq!(
            icmp("+0 > icmp echo_reply id 1 seq 2 (56)"),
            IcmpSpec {
                echo: Some((1, 2)),
                len: Some(56),
                ..blank_icmp(0)
            }
        );
        assert_eq!(
            icmp("+0 > icmp time_exceeded ttl_exceeded"),
            IcmpSpec {
                code: Some(0),
                ..blank_icmp(11)
            }
        );
        assert_eq!(
            icmp("+0 > icmp parameter_problem pointer 20"),
            IcmpSpec {
                pointer: Some(20),
                ..blank_icmp(12)
            }
        );
        assert_eq!(
            icmp("+0 > icmp type 40 code 2"),
            IcmpSpec {
                code: Some(2),
                ..blank_icmp(40)
            }
        );
        assert_eq!(icmp("+0 > icmp unreachable"), blank_icmp(3));
    }

    #[test]
    fn icmp_errors_quote_a_tcp_segment_or_a_udp_datagram() {
        let frag = icmp("+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]");
        let quoted = PacketEvent {
            direction: Direction::Outbound,
            interface: 0,
            ethernet: EthernetSpec::default(),
            ip: IpSpec::default(),
            times: Times::Once,
            body: PacketBody::Tcp(TcpSpec {
                src_port: None,
                dst_port: None,
                flags: TcpFlagsSpec::default(),
                seq: 1,
                any_seq: false,
                max_len: None,
                end: 1461,
                len: 1460,
                ack: None,
                window: None,
                urgent: None,
                options: TcpOptionsSpec::None,
            }),
        };
        assert_eq!(
            frag,
            IcmpSpec {
                code: Some(4),
                mtu: Some(1200),
                quoted: Some(Box::new(quoted)),
                ..blank_icmp(3)
            }
        );
        let port = icmp(
            "+0 > icmp unreachable port_unreachable [192.0.2.1:5000 > 192.168.0.1:9 udp (10)]",
        );
        let q = port.quoted.expect("a quote");
        assert_eq!(q.direction, Direction::Inbound);
        assert_eq!(q.ip.src, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            q.body,
            PacketBody::Udp(UdpSpec {
                src_port: Some(5000),
                dst_port: Some(9),
                len: 10
            })
        );
        let flagged = icmp("+0 < icmp unreachable host_unreachable [S 0:0(0) win 65535]");
        let PacketBody::Tcp(t) = flagged.quoted.expect("a quote").body else {
            panic!("not TCP")
        };
        assert!(t.flags.syn);
        assert_eq!(t.window, Some(65535));
    }

    #[test]
    fn arp_lines() {
        assert_eq!(
            packet("+0 > arp who-has 192.168.0.2 tell 192.168.0.1").body,
            PacketBody::Arp(ArpSpec::Request {
                target_ip: Ipv4Addr::new(192, 168, 0, 2),
                sender_ip: Ipv4Addr::new(192, 168, 0, 1),
            })
        );
        assert_eq!(
            packet("+0 < arp reply 192.168.0.2 is-at 02:00:00:00:00:02").body,
            PacketBody::Arp(ArpSpec::Reply {
                sender_ip: Ipv4Addr::new(192, 168, 0, 2),
                sender_mac: Some(MacAddr([2, 0, 0, 0, 0, 2])),
                target_ip: None,
            })
        );
        assert_eq!(
            packet("+0 > arp reply 192.168.0.1 is-at *").body,
            PacketBody::Arp(ArpSpec::Reply {
                sender_ip: Ipv4Addr::new(192, 168, 0, 1),
                sender_mac: None,
                target_ip: None,
            })
        );
    }

    #[test]
    fn igmp_lines() {
        let igmp = |line: &str| match packet(line).body {
            PacketBody::Igmp(i) => i,
            other => panic!("not IGMP: {other:?}"),
        };
        let group = Ipv4Addr::new(239, 1, 2, 3);
        assert_eq!(
            igmp("+0 < igmp v2 query group 0.0.0.0 max_resp 50"),
            IgmpSpec::Query {
                version: 2,
                group: Ipv4Addr::UNSPECIFIED,
                max_resp: 50,
                sources: vec![]
            }
        );
        assert_eq!(
            igmp("+0 < igmp v1 query"),
            IgmpSpec::Query {
                version: 1,
                group: Ipv4Addr::UNSPECIFIED,
                max_resp: 0,
                sources: vec![]
            }
        );
        assert_eq!(
            igmp("+0 < igmp v3 query group 239.1.2.3 sources [10.0.0.1, 10.0.0.2]"),
            IgmpSpec::Query {
                version: 3,
                group,
                max_resp: 100,
                sources: vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
            }
        );
        assert_eq!(
            igmp("+0 > igmp v2 report 239.1.2.3"),
            IgmpSpec::Report { version: 2, group }
        );
        assert_eq!(igmp("+0 > igmp leave 239.1.2.3"), IgmpSpec::Leave { group });
        assert_eq!(
            igmp("+0 > igmp v3 report [mode_is_exclude 239.1.2.3 [], allow_new_sources 239.1.2.4 [10.0.0.1 10.0.0.2]]"),
            IgmpSpec::V3Report {
                records: vec![
                    (2, group, vec![]),
                    (
                        5,
                        Ipv4Addr::new(239, 1, 2, 4),
                        vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
                    ),
                ]
            }
        );
    }

    // ---- errors -------------------------------------------------------------------------------

    #[test]
    fn repeated_and_optional_suffixes_on_outbound_lines() {
        let p = packet("+0.2~+100 > S 0:0(0) <...> repeated");
        assert_eq!(p.times, Times::Repeated);
        assert!(matches!(p.body, PacketBody::Tcp(ref t) if t.flags.syn));
        let p = packet("* > R. 0:0(0) ack 1 optional // a comment");
        assert_eq!(p.times, Times::Optional);
        assert_eq!(packet("+0 > . 1:1(0) ack 1").times, Times::Once);
        let p = packet("+0 > icmp echo_reply id 1 seq 1 (56) repeated");
        assert_eq!(p.times, Times::Repeated);
        let e = error("+0 < S 0:0(0) win 1 repeated\n");
        assert_eq!((e.line, e.column), (1, 21));
        assert!(
            e.message.contains("\"repeated\" is for outbound"),
            "{}",
            e.message
        );
        let e = error("+0 < . 1:1(0) ack 1 optional\n");
        assert!(
            e.message.contains("\"optional\" is for outbound"),
            "{}",
            e.message
        );
        let e = error("+0 > . 1:1(0) ack 1 repeated optional\n");
        assert!(
            e.message.contains("expected the end of the line"),
            "{}",
            e.message
        );
    }

    #[test]
    fn ampersand_lines_make_one_batch_of_inbound_packets() {
        let script = parse(
            "+0.1 < . 1:1001(1000) ack 1 win 100\n\
             &    < . 1001:2001(1000) ack 1 win 100\n\
             \t&\t< P. 2001:3001(1000) ack 1 win 100 // the last\n\
             +0   > . 1:1(0) ack 3001\n",
        );
        assert_eq!(script.events.len(), 2);
        let first = &script.events[0];
        assert_eq!((first.line, first.time), (1, TimeSpec::Relative(ms(100))));
        let EventKind::Batch(packets) = &first.kind else {
            panic!("not a batch: {first:?}");
        };
        let seqs: Vec<u32> = packets
            .iter()
            .map(|p| match &p.body {
                PacketBody::Tcp(t) => t.seq,
                _ => panic!("not TCP"),
            })
            .collect();
        assert_eq!(seqs, vec![1, 1001, 2001]);
        assert_eq!(first.kind.packets().len(), 3);
        assert_eq!(script.events[1].line, 4);
        // Errors: a batch must start with an inbound line and hold only inbound lines.
        let e = error("& < . 1:1(0) ack 1\n");
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains("continues a batch"), "{}", e.message);
        let e = error("+0 > . 1:1(0) ack 1\n& < . 1:1(0) ack 1\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("only inbound"), "{}", e.message);
        let e = error("+0 < . 1:1(0) ack 1\n& > . 1:1(0) ack 1\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("only inbound"), "{}", e.message);
        let e = error("+0 < . 1:1(0) ack 1\n&\n");
        assert!(e.message.contains("\"<\" or \">\""), "{}", e.message);
        let mut text = String::from("+0 < . 1:1(0) ack 1\n");
        for _ in 0..MAX_BATCH {
            text.push_str("& < . 1:1(0) ack 1\n");
        }
        let e = error(&text);
        assert!(e.message.contains("more than 64 packets"), "{}", e.message);
    }

    #[test]
    fn raw_option_bytes_on_inbound_lines() {
        let t = tcp("+0 < S 0:0(0) win 1 <nop,bytes 0200,mss 1000,bytes 0xfd0a>");
        assert_eq!(
            t.options,
            TcpOptionsSpec::List(vec![
                TcpOptionSpec::Nop,
                TcpOptionSpec::Raw(vec![0x02, 0x00]),
                TcpOptionSpec::Mss(1000),
                TcpOptionSpec::Raw(vec![0xfd, 0x0a]),
            ])
        );
        let e = error("+0 < S 0:0(0) win 1 <bytes 020>\n");
        assert!(
            e.message.contains("even number of hex digits"),
            "{}",
            e.message
        );
        let e = error("+0 < S 0:0(0) win 1 <bytes>\n");
        assert!(e.message.contains("option bytes"), "{}", e.message);
        let e = error(&format!(
            "+0 < S 0:0(0) win 1 <bytes {}>\n",
            "00".repeat(41)
        ));
        assert!(
            e.message.contains("more than the limit of 40"),
            "{}",
            e.message
        );
        let e = error("+0 > S. 0:0(0) ack 1 <bytes 0204>\n");
        assert!(e.message.contains("for inbound lines"), "{}", e.message);
    }

    #[test]
    fn bad_tcp_flag_is_pointed_at() {
        let e = error("// x\n\n+0 < SQ 0:0(0) win 1\n");
        assert_eq!((e.line, e.column), (3, 7));
        assert_eq!(e.message, "expected a TCP flag letter, found \"Q\"");
        assert_eq!(
            e.to_string(),
            "t.pkt:3:7: expected a TCP flag letter, found \"Q\""
        );
    }

    #[test]
    fn unterminated_code_block_points_at_its_start() {
        let e = error("+0 close(3) = 0\n+0 %{ assert tcpi_state == 1\n+0 close(4) = 0\n");
        assert_eq!((e.line, e.column), (2, 4));
        assert_eq!(
            e.message,
            "unterminated %{ code block: no }% before the end of the file"
        );
    }

    #[test]
    fn bad_numbers() {
        let e = error("+0 < . 1:1(0) ack 1 win 12x\n");
        assert_eq!((e.line, e.column), (1, 25));
        assert_eq!(e.message, "expected a window, found \"12x\"");
        let e = error("+0 < . 1:1(0) ack 1 win 70000\n");
        assert_eq!((e.line, e.column), (1, 25));
        assert_eq!(
            e.message,
            "expected a window from 0 to 65535, found \"70000\""
        );
        let e = error("+0 close(0x) = 0\n");
        assert_eq!((e.line, e.column), (1, 10));
        assert_eq!(e.message, "expected a number, found \"0x\"");
        let e = error("+0.1x close(3) = 0\n");
        assert_eq!((e.line, e.column), (1, 2));
        assert_eq!(e.message, "expected a time in seconds, found \"0.1x\"");
        let e = error("+0 < . 1:5(3) win 1\n");
        assert_eq!((e.line, e.column), (1, 10));
        assert_eq!(
            e.message,
            "end sequence number 5 is not start 1 plus length 3"
        );
    }

    #[test]
    fn unknown_icmp_type_and_mismatched_code() {
        let e = error("+0 > icmp echo_replay id 1 seq 1\n");
        assert_eq!((e.line, e.column), (1, 11));
        assert!(
            e.message
                .starts_with("unknown ICMP type \"echo_replay\" (expected echo_reply,"),
            "{}",
            e.message
        );
        let e = error("+0 > icmp echo_reply port_unreachable\n");
        assert_eq!((e.line, e.column), (1, 22));
        assert_eq!(
            e.message,
            "ICMP code port_unreachable belongs to type 3, not type 0"
        );
    }

    #[test]
    fn ether_block_sets_ethernet_addresses() {
        let p =
            packet("+0 < ether[src=02:00:00:00:00:09, dst=ff:ff:ff:ff:ff:ff] ip[ttl=1] udp (10)");
        assert_eq!(
            p.ethernet,
            EthernetSpec {
                src: Some(MacAddr([2, 0, 0, 0, 0, 9])),
                dst: Some(MacAddr::BROADCAST),
            }
        );
        assert_eq!(p.ip.ttl, Some(1));
        let p =
            packet("+0 > ether[dst=ff:ff:ff:ff:ff:ff] arp who-has 192.168.0.2 tell 192.168.0.1");
        assert_eq!(p.ethernet.dst, Some(MacAddr::BROADCAST));
        assert_eq!(p.ethernet.src, None);
        let e = error("+0 < ether[dst=ff:ff] udp (10)");
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (
                1,
                16,
                "expected a MAC address (02:00:00:00:00:02), found \"ff:ff\""
            )
        );
        let e = error("+0 < ether[vlan=5] udp (10)");
        assert!(
            e.message
                .starts_with("expected an Ethernet field (src=, dst=)"),
            "{e}"
        );
        let e = error("+0 < ether[] ether[] udp (10)");
        assert!(e.message.contains("a second ether[...] block"), "{e}");
    }

    #[test]
    fn structural_errors() {
        let cases: &[(&str, (usize, usize), &str)] = &[
            ("+0 close(3) = 0\n--mtu=1500\n", (2, 1), "option lines must come before the first event"),
            ("#endif\n", (1, 1), "#endif without #ifdef"),
            ("#ifdef A\n+0 close(3) = 0\n", (1, 1), "#if block for A has no #endif"),
            ("#ifdef A\n#ifdef B\n#endif\n", (2, 1), "nested #ifdef is not supported (the #if for A on line 1 is still open)"),
            ("+0 close(3) = 0 0\n", (1, 17), "expected the end of the line, found \"0\""),
            ("+0 close(3)\n", (1, 12), "expected \"=\" and the expected result of close, found the end of the line"),
            ("+0 `ls\n", (1, 4), "unterminated `shell command`: no closing ` on the line"),
            ("+0 ? x\n", (1, 4), "expected a packet (< or >), a call, a `shell command` or %{ code }%, found \"?\""),
            ("+0 > S 0:0(0) <mss 1,bogus>\n", (1, 22), "expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, FO, FOEXP, opt, bytes), found \"bogus\""),
            ("+0 > [ect2] . 1:1(0)\n", (1, 7), "expected an ECN codepoint (noecn, ect0, ect1, ect01 or ce), found \"ect2\""),
            ("+0 < ip[off=3] udp (1)\n", (1, 13), "fragment offset 3 is not a multiple of 8 up to 65528"),
            ("+0 < 1.2.3.4:5 > 6.7.8.9:10 raw 6 (0)\n", (1, 29), "ports in the ends are only for TCP and UDP lines"),
            ("0.2~0.1 close(3) = 0\n", (1, 5), "a time window cannot end before it starts"),
            ("+0 < ip[dst=10.0.0.1] 192.0.2.1:1 > 192.168.0.1:2 . 1:1(0)\n", (1, 23), "the ends contradict src=/dst= in ip[...]"),
            ("+0 < ip[ttl=1] ip[ttl=2] udp (1)\n", (1, 16), "a second ip[...] block on one line"),
            ("+0 < SS 0:0(0)\n", (1, 7), "TCP flag 'S' given twice"),
            ("+0 < . 1:1(0) ack 1 ack 2\n", (1, 21), "ack given twice"),
            ("+0 < . 1:1(0) <sack 1:2 3:4 5:6 7:8 9:10>\n", (1, 37), "more than 4 SACK blocks (RFC 2018 §3)"),
            ("+0 < igmp v4 query\n", (1, 11), "expected v1, v2, v3 or leave after igmp, found \"v4\""),
            ("+0 < udp 10\n", (1, 10), "expected \"(\" before the UDP payload length, found \"10\""),
            ("0.1~+0.2 close(3) = 0\n", (1, 5), "both ends of a time window must be relative (+) or both absolute"),
            ("/* open\n", (1, 1), "unterminated /* comment: no */ before the end of the file"),
            ("+0 write(3, \"abc) = 3\n", (1, 13), "unterminated string: no closing \" on the line"),
            ("+0 > arp reply 1.2.3.4 is-at 02:00\n", (1, 30), "expected a MAC address (02:00:00:00:00:02) or *, found \"02:00\""),
        ];
        for (text, (line, column), message) in cases {
            let e = error(text);
            assert_eq!(
                (e.line, e.column, e.message.as_str()),
                (*line, *column, *message),
                "{text:?}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("+0 f({}1{}) = 0\n", "[".repeat(10_000), "]".repeat(10_000));
        let e = error(&deep);
        assert_eq!(
            e.message,
            format!("expressions nested more than {MAX_NESTING} deep")
        );
        let quotes = format!(
            "+0 < {}1:1(0){}\n",
            "icmp unreachable [".repeat(1000),
            "]".repeat(1000)
        );
        let e = error(&quotes);
        assert_eq!(
            e.message,
            format!("ICMP quotes nested more than {MAX_NESTING} deep")
        );
        let ok = format!(
            "+0 f({}1{}) = 0\n",
            "[".repeat(MAX_NESTING - 1),
            "]".repeat(MAX_NESTING - 1)
        );
        parse(&ok);
    }

    #[test]
    fn oversized_scripts_are_refused() {
        let big = " ".repeat(MAX_SCRIPT_BYTES + 1);
        let e = error(&big);
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains("more than the limit"), "{}", e.message);
    }

    mod never_panics {
        use super::super::parse_script;
        use proptest::prelude::*;

        /// Tokens of the scenario language, to build near-valid scripts from.
        const TOKENS: &[&str] = &[
            "+0",
            "0.1",
            "*",
            "~",
            "...",
            "<",
            ">",
            "S",
            ".",
            "F",
            "P",
            "0:0(0)",
            "1:1001(1000)",
            "ack",
            "win",
            "urg",
            "1",
            "65535",
            "<mss 1460,nop,wscale 7,sackOK,TS val 1 ecr 0>",
            "<",
            ">",
            "<...>",
            "sack",
            "1:2",
            "udp",
            "(10)",
            "icmp",
            "unreachable",
            "frag_needed",
            "mtu",
            "[",
            "]",
            "arp",
            "who-has",
            "tell",
            "is-at",
            "1.2.3.4",
            "1.2.3.4:5",
            "igmp",
            "v3",
            "query",
            "report",
            "leave",
            "raw",
            "ip[",
            "ttl=",
            "off=",
            "mf",
            "eth1",
            "close(",
            "socket(",
            ")",
            "=",
            "-1",
            "EAGAIN",
            "(",
            "{",
            "}",
            ",",
            "|",
            "\"",
            "`",
            "%{",
            "}%",
            "//",
            "/*",
            "*/",
            "\n",
            " ",
            "--mtu=1",
            "#ifdef X",
            "#else",
            "#endif",
            "0x",
            "02:00:00:00:00:02",
            "[noecn]",
            "é",
            "\t",
            "\r\n",
        ];

        proptest! {
            #[test]
            fn arbitrary_text(text in any::<String>()) {
                let _ = parse_script(&text, None);
            }

            #[test]
            fn arbitrary_token_sequences(tokens in proptest::collection::vec(
                proptest::sample::select(TOKENS), 0..60)
            ) {
                let text = tokens.concat();
                if let Err(e) = parse_script(&text, None) {
                    // Errors point inside the text.
                    prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
                    prop_assert!(e.column >= 1);
                }
                let spaced = tokens.join(" ");
                let _ = parse_script(&spaced, None);
            }
        }
    }
}
