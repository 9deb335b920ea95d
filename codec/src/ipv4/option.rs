//! IPv4 options [RFC 791 § 3.1 "Options"]: the option type octet, the typed options
//! (End of Option List, No Operation, Security [RFC 791, RFC 1108], Loose and Strict Source
//! Route, Record Route, Stream Identifier, Internet Timestamp, Router Alert [RFC 2113]) with an
//! `Unknown` variant for every other type, the zero-copy option list [`Ipv4Options`] with its
//! checks, and a writer from typed values.
//!
//! Layout: an option is either a single type octet (End of Option List, No Operation) or a
//! type octet, a length octet that counts the type and length octets and the data, and the data.
//! The End of Option List marks the end of the options; any octets after it up to the end of the
//! header are padding [RFC 791 § 3.1], kept raw and never read as options.
//!
//! ```text
//!   0 1 2 3 4 5 6 7
//!  +-+-+-+-+-+-+-+-+
//!  |C| Cls |  Num  |   option type: C = copied on fragmentation, Cls = class, Num = number
//!  +-+-+-+-+-+-+-+-+
//! ```
//!
//! Unless a doc comment says otherwise, offsets in the errors of [`Ipv4Options::parse`] count
//! from the start of the option bytes, while the ICMP Parameter Problem pointer always counts
//! from the start of the IPv4 header (options start at octet 20).

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Error, Layer, Result};

/// Where the options start in the IPv4 header, for Parameter Problem pointers.
const OPTIONS_START: usize = 20;

/// Offset of the length octet within an option.
const LENGTH: usize = 1;
/// Offset of the pointer octet within a route or timestamp option.
const POINTER: usize = 2;
/// Where the addresses start in a route option.
const ROUTE_DATA: usize = 3;
/// Where the entries start in a timestamp option.
const TIMESTAMP_DATA: usize = 4;

/// The option type octet: copied flag, option class and option number [RFC 791 § 3.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OptionType(pub u8);

impl OptionType {
    /// End of Option List (0).
    pub const END_OF_LIST: OptionType = OptionType(0);
    /// No Operation (1).
    pub const NO_OPERATION: OptionType = OptionType(1);
    /// Record Route (7).
    pub const RECORD_ROUTE: OptionType = OptionType(7);
    /// Internet Timestamp (68).
    pub const TIMESTAMP: OptionType = OptionType(68);
    /// Traceroute (82) [RFC 1393].
    pub const TRACEROUTE: OptionType = OptionType(82);
    /// Security (130) [RFC 791, RFC 1108].
    pub const SECURITY: OptionType = OptionType(130);
    /// Loose Source and Record Route (131).
    pub const LOOSE_SOURCE_ROUTE: OptionType = OptionType(131);
    /// Extended Security (133) [RFC 1108].
    pub const EXTENDED_SECURITY: OptionType = OptionType(133);
    /// Commercial Security, CIPSO (134).
    pub const COMMERCIAL_SECURITY: OptionType = OptionType(134);
    /// Stream Identifier (136).
    pub const STREAM_ID: OptionType = OptionType(136);
    /// Strict Source and Record Route (137).
    pub const STRICT_SOURCE_ROUTE: OptionType = OptionType(137);
    /// Router Alert (148) [RFC 2113].
    pub const ROUTER_ALERT: OptionType = OptionType(148);

    /// Option class 0: control.
    pub const CLASS_CONTROL: u8 = 0;
    /// Option class 2: debugging and measurement.
    pub const CLASS_DEBUGGING_AND_MEASUREMENT: u8 = 2;

    /// Builds a type octet from its three parts (`class` is masked to 2 bits, `number` to 5).
    pub const fn new(copied: bool, class: u8, number: u8) -> OptionType {
        OptionType(((copied as u8) << 7) | ((class & 0b11) << 5) | (number & 0b1_1111))
    }

    /// Whether the option must be copied into every fragment [RFC 791 § 3.1, § 3.2
    /// "Fragmentation"]; the fragmenter keeps only these in fragments after the first.
    pub const fn copied(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// The option class (2 bits): 0 control, 2 debugging and measurement, 1 and 3 reserved.
    pub const fn class(self) -> u8 {
        (self.0 >> 5) & 0b11
    }

    /// The option number (5 bits).
    pub const fn number(self) -> u8 {
        self.0 & 0b1_1111
    }

    /// Whether this type is a single octet with no length (End of Option List, No Operation).
    pub const fn is_single_octet(self) -> bool {
        self.0 <= 1
    }

    /// Wireshark's name for the type, if it is one of those this crate knows.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "End of Options List (EOL)",
            1 => "No-Operation (NOP)",
            7 => "Record Route",
            68 => "Time Stamp",
            82 => "Traceroute",
            130 => "Security",
            131 => "Loose Source Route",
            133 => "Extended Security",
            134 => "Commercial Security",
            136 => "Stream ID",
            137 => "Strict Source Route",
            148 => "Router Alert",
            _ => return None,
        })
    }
}

impl fmt::Display for OptionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "Unknown ({:#04x})", self.0),
        }
    }
}

/// The addresses of a route option (Record Route, Loose or Strict Source Route), zero-copy: the
/// octets after the pointer, up to the option's length [RFC 791 § 3.1].
///
/// A route area whose length is not a multiple of 4 keeps its last 1–3 octets in
/// [`trailing`](RouteData::trailing) so that the option re-emits byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteData<'a>(pub &'a [u8]);

impl<'a> RouteData<'a> {
    /// The raw octets.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The addresses in the route area, recorded and empty slots alike.
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        self.0
            .chunks_exact(4)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    }

    /// The number of whole address slots.
    pub const fn slots(&self) -> usize {
        self.0.len() / 4
    }

    /// The octets after the last whole address slot (normally none).
    pub fn trailing(&self) -> &'a [u8] {
        self.0.chunks_exact(4).remainder()
    }

    /// The address slot the option's `pointer` designates (the next address to use or record),
    /// or `None` when the pointer is past the route area (the route is complete or full).
    pub fn at_pointer(&self, pointer: u8) -> Option<Ipv4Addr> {
        let start = usize::from(pointer).checked_sub(ROUTE_DATA + 1)?;
        let a = self.0.get(start..start.checked_add(4)?)?;
        Some(Ipv4Addr::new(a[0], a[1], a[2], a[3]))
    }
}

/// The flag nibble of an Internet Timestamp option [RFC 791 § 3.1]: what each entry holds.
/// Values the RFC does not define are kept; their entries are read as bare timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimestampFlag(pub u8);

impl TimestampFlag {
    /// 0: time stamps only, each in a 32-bit word.
    pub const TIMESTAMPS_ONLY: TimestampFlag = TimestampFlag(0);
    /// 1: each timestamp is preceded by the address of the entity that registered it.
    pub const ADDRESS_AND_TIMESTAMP: TimestampFlag = TimestampFlag(1);
    /// 3: the address fields are prespecified; a node registers a timestamp only if its address
    /// is the next one.
    pub const PRESPECIFIED_ADDRESSES: TimestampFlag = TimestampFlag(3);

    /// Whether entries carry an address (flags 1 and 3).
    pub const fn has_addresses(self) -> bool {
        matches!(self.0, 1 | 3)
    }

    /// The octets one entry takes: 8 with addresses, else 4.
    pub const fn entry_len(self) -> usize {
        if self.has_addresses() {
            8
        } else {
            4
        }
    }
}

/// The entry area of an Internet Timestamp option, zero-copy: the octets after the
/// overflow/flag octet, up to the option's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimestampData<'a>(pub &'a [u8]);

impl<'a> TimestampData<'a> {
    /// The raw octets.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The entries as `(address, timestamp)`, filled and empty slots alike, read according to
    /// `flag` (the address is `None` for flag 0 and for undefined flags). Octets after the last
    /// whole entry are not yielded.
    pub fn entries(&self, flag: TimestampFlag) -> TimestampEntries<'a> {
        TimestampEntries {
            chunks: self.0.chunks_exact(flag.entry_len()),
        }
    }
}

/// Iterator over the entries of an Internet Timestamp option.
#[derive(Debug, Clone)]
pub struct TimestampEntries<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

impl Iterator for TimestampEntries<'_> {
    type Item = (Option<Ipv4Addr>, u32);

    fn next(&mut self) -> Option<Self::Item> {
        let e = self.chunks.next()?;
        match *e {
            [a, b, c, d] => Some((None, u32::from_be_bytes([a, b, c, d]))),
            [a, b, c, d, t0, t1, t2, t3] => Some((
                Some(Ipv4Addr::new(a, b, c, d)),
                u32::from_be_bytes([t0, t1, t2, t3]),
            )),
            _ => None,
        }
    }
}

/// The data of a Security option (type 130), zero-copy.
///
/// Two layouts share the type: RFC 791's (length 11: security, compartments, handling
/// restrictions, transmission control code) and RFC 1108's (length ≥ 3: a classification level
/// octet followed by protection authority flags). Like Wireshark, a length of 11 is read as
/// RFC 791's layout and any other as RFC 1108's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityData<'a>(pub &'a [u8]);

/// The fields of an RFC 791 Security option (length 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rfc791Security {
    /// S field: security level (0 unclassified, 0xF135 confidential, …).
    pub security: u16,
    /// C field: compartments.
    pub compartments: u16,
    /// H field: handling restrictions.
    pub handling_restrictions: u16,
    /// TCC field: transmission control code (24 bits).
    pub transmission_control_code: u32,
}

/// An RFC 1108 classification level octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassificationLevel(pub u8);

impl ClassificationLevel {
    /// Reserved 4 (0x01).
    pub const RESERVED_4: ClassificationLevel = ClassificationLevel(0x01);
    /// Top Secret (0x3D).
    pub const TOP_SECRET: ClassificationLevel = ClassificationLevel(0x3d);
    /// Secret (0x5A).
    pub const SECRET: ClassificationLevel = ClassificationLevel(0x5a);
    /// Confidential (0x96).
    pub const CONFIDENTIAL: ClassificationLevel = ClassificationLevel(0x96);
    /// Reserved 3 (0x66).
    pub const RESERVED_3: ClassificationLevel = ClassificationLevel(0x66);
    /// Reserved 2 (0xCC).
    pub const RESERVED_2: ClassificationLevel = ClassificationLevel(0xcc);
    /// Unclassified (0xAB).
    pub const UNCLASSIFIED: ClassificationLevel = ClassificationLevel(0xab);
    /// Reserved 1 (0xF1).
    pub const RESERVED_1: ClassificationLevel = ClassificationLevel(0xf1);
}

impl<'a> SecurityData<'a> {
    /// The raw octets after the length octet.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The RFC 791 fields, when the option has RFC 791's length of 11.
    pub fn rfc791(&self) -> Option<Rfc791Security> {
        match *self.0 {
            [s0, s1, c0, c1, h0, h1, t0, t1, t2] => Some(Rfc791Security {
                security: u16::from_be_bytes([s0, s1]),
                compartments: u16::from_be_bytes([c0, c1]),
                handling_restrictions: u16::from_be_bytes([h0, h1]),
                transmission_control_code: u32::from_be_bytes([0, t0, t1, t2]),
            }),
            _ => None,
        }
    }

    /// The RFC 1108 classification level (the first data octet), when the option is not in
    /// RFC 791's layout.
    pub fn classification_level(&self) -> Option<ClassificationLevel> {
        if self.0.len() == 9 {
            return None;
        }
        self.0.first().copied().map(ClassificationLevel)
    }

    /// The RFC 1108 protection authority flag octets (after the classification level).
    pub fn protection_authority(&self) -> Option<&'a [u8]> {
        if self.0.len() == 9 {
            return None;
        }
        self.0.get(1..)
    }
}

/// One IPv4 option, typed [RFC 791 § 3.1]. Borrowed parts point into the header bytes.
///
/// Every variant re-emits exactly the octets it was parsed from: route and timestamp areas are
/// kept raw (including octets after the last whole entry) and their lengths are implied by the
/// data (`length = 3 + route.len()` for routes, `4 + data.len()` for timestamps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ipv4Option<'a> {
    /// End of Option List (type 0): one octet; whatever follows it is padding.
    EndOfList,
    /// No Operation (type 1): one octet, used to align options.
    NoOperation,
    /// Record Route (type 7).
    RecordRoute {
        /// Octet offset, from the start of the option (counting from 1), of the next free slot.
        pointer: u8,
        /// The route area.
        route: RouteData<'a>,
    },
    /// Loose Source and Record Route (type 131).
    LooseSourceRoute {
        /// Octet offset (counting from 1) of the next address to route to.
        pointer: u8,
        /// The route area.
        route: RouteData<'a>,
    },
    /// Strict Source and Record Route (type 137).
    StrictSourceRoute {
        /// Octet offset (counting from 1) of the next address to route to.
        pointer: u8,
        /// The route area.
        route: RouteData<'a>,
    },
    /// Internet Timestamp (type 68).
    Timestamp {
        /// Octet offset (counting from 1) of the next free entry; at least 5.
        pointer: u8,
        /// Number of nodes that could not register a timestamp for lack of room (4 bits).
        overflow: u8,
        /// What entries hold (4 bits).
        flag: TimestampFlag,
        /// The entry area; read it with `data.entries(flag)`.
        data: TimestampData<'a>,
    },
    /// Router Alert (type 148, length 4) [RFC 2113]: 0 means "routers shall examine the packet".
    RouterAlert {
        /// The 16-bit value.
        value: u16,
    },
    /// Security (type 130) [RFC 791, RFC 1108].
    Security {
        /// The octets after the length octet.
        data: SecurityData<'a>,
    },
    /// Stream Identifier (type 136, length 4).
    StreamId {
        /// The 16-bit SATNET stream identifier.
        id: u16,
    },
    /// Any other type, or a known type this crate does not decode (CIPSO, Extended Security,
    /// Traceroute, …).
    Unknown {
        /// The type octet.
        kind: OptionType,
        /// The octets after the length octet.
        data: &'a [u8],
    },
}

impl<'a> Ipv4Option<'a> {
    /// The option type octet.
    pub const fn kind(&self) -> OptionType {
        match self {
            Ipv4Option::EndOfList => OptionType::END_OF_LIST,
            Ipv4Option::NoOperation => OptionType::NO_OPERATION,
            Ipv4Option::RecordRoute { .. } => OptionType::RECORD_ROUTE,
            Ipv4Option::LooseSourceRoute { .. } => OptionType::LOOSE_SOURCE_ROUTE,
            Ipv4Option::StrictSourceRoute { .. } => OptionType::STRICT_SOURCE_ROUTE,
            Ipv4Option::Timestamp { .. } => OptionType::TIMESTAMP,
            Ipv4Option::RouterAlert { .. } => OptionType::ROUTER_ALERT,
            Ipv4Option::Security { .. } => OptionType::SECURITY,
            Ipv4Option::StreamId { .. } => OptionType::STREAM_ID,
            Ipv4Option::Unknown { kind, .. } => *kind,
        }
    }

    /// The octets the option takes on the wire, type and length octets included.
    pub const fn len(&self) -> usize {
        match self {
            Ipv4Option::EndOfList | Ipv4Option::NoOperation => 1,
            Ipv4Option::RecordRoute { route, .. }
            | Ipv4Option::LooseSourceRoute { route, .. }
            | Ipv4Option::StrictSourceRoute { route, .. } => ROUTE_DATA + route.0.len(),
            Ipv4Option::Timestamp { data, .. } => TIMESTAMP_DATA + data.0.len(),
            Ipv4Option::RouterAlert { .. } | Ipv4Option::StreamId { .. } => 4,
            Ipv4Option::Security { data } => 2 + data.0.len(),
            Ipv4Option::Unknown { kind, data } => {
                if kind.is_single_octet() {
                    1
                } else {
                    2 + data.len()
                }
            }
        }
    }

    /// Always false: an option takes at least one octet.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// The timestamp entries, for a Timestamp option.
    pub fn timestamps(&self) -> Option<TimestampEntries<'a>> {
        match self {
            Ipv4Option::Timestamp { flag, data, .. } => Some(data.entries(*flag)),
            _ => None,
        }
    }

    /// Whether this is a Loose or Strict Source Route option.
    pub const fn is_source_route(&self) -> bool {
        matches!(
            self,
            Ipv4Option::LooseSourceRoute { .. } | Ipv4Option::StrictSourceRoute { .. }
        )
    }

    /// Writes the option to the start of `out` and returns the octets written.
    ///
    /// An `Unknown` option with type 0 or 1 is written as that single octet (its data is
    /// ignored). Errors: [`TooLong`](crate::ErrorKind::TooLong) if the option would be longer
    /// than its length octet can say (255), [`BufferTooSmall`](crate::ErrorKind::BufferTooSmall)
    /// if `out` is short. Values are not checked otherwise, so bad options can be crafted.
    pub fn write(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let len_octet = u8::try_from(len)
            .map_err(|_| Error::too_long(Layer::Ipv4Option, "option length", 255, len))?;
        if let Ipv4Option::Timestamp { overflow, flag, .. } = self {
            if *overflow > 0x0f {
                return Err(Error::too_long(
                    Layer::Ipv4Option,
                    "timestamp overflow",
                    15,
                    usize::from(*overflow),
                ));
            }
            if flag.0 > 0x0f {
                return Err(Error::too_long(
                    Layer::Ipv4Option,
                    "timestamp flag",
                    15,
                    usize::from(flag.0),
                ));
            }
        }
        let got = out.len();
        let (first, rest) = out
            .get_mut(..len)
            .and_then(<[u8]>::split_first_mut)
            .ok_or(Error::buffer_too_small(Layer::Ipv4Option, len, got))?;
        *first = self.kind().0;
        if let Some((length, body)) = rest.split_first_mut() {
            *length = len_octet;
            write_body(self, body);
        }
        Ok(len)
    }

    /// Writes `options` one after the other to the start of `out`, with no padding, and returns
    /// the octets written. See [`write`](Ipv4Option::write) for errors.
    pub fn write_all(options: &[Ipv4Option<'_>], out: &mut [u8]) -> Result<usize> {
        let total: usize = options.iter().map(Ipv4Option::len).sum();
        if out.len() < total {
            return Err(Error::buffer_too_small(Layer::Ipv4Option, total, out.len()));
        }
        let mut at = 0;
        for option in options {
            let rest = out.get_mut(at..).unwrap_or_default();
            at += option.write(rest)?;
        }
        Ok(at)
    }
}

/// Writes the octets after the length octet; `body` has exactly `len() - 2` octets.
fn write_body(option: &Ipv4Option<'_>, body: &mut [u8]) {
    let copy = |dst: &mut [u8], src: &[u8]| {
        if let Some(d) = dst.get_mut(..src.len()) {
            d.copy_from_slice(src);
        }
    };
    match option {
        Ipv4Option::EndOfList | Ipv4Option::NoOperation => {}
        Ipv4Option::RecordRoute { pointer, route }
        | Ipv4Option::LooseSourceRoute { pointer, route }
        | Ipv4Option::StrictSourceRoute { pointer, route } => {
            if let Some((p, rest)) = body.split_first_mut() {
                *p = *pointer;
                copy(rest, route.0);
            }
        }
        Ipv4Option::Timestamp {
            pointer,
            overflow,
            flag,
            data,
        } => {
            if let [p, of, rest @ ..] = body {
                *p = *pointer;
                *of = (overflow << 4) | (flag.0 & 0x0f);
                copy(rest, data.0);
            }
        }
        Ipv4Option::RouterAlert { value: v } | Ipv4Option::StreamId { id: v } => {
            copy(body, &v.to_be_bytes());
        }
        Ipv4Option::Security { data } => copy(body, data.0),
        Ipv4Option::Unknown { data, .. } => copy(body, data),
    }
}

/// An error in the option at `start` (relative to the option bytes) about the octet at
/// `start + at`; the pointer is that octet's offset in the IPv4 header.
fn option_error(
    start: usize,
    at: usize,
    field: &'static str,
    expected: &'static str,
    found: u64,
) -> Error {
    let offset = start.saturating_add(at);
    let pointer = u8::try_from(OPTIONS_START.saturating_add(offset)).unwrap_or(u8::MAX);
    Error::bad_value(Layer::Ipv4Option, field, offset, expected, found).with_pointer(pointer)
}

/// Reads the option at `start` of `bytes` (the options area), with every check. Returns the
/// option and its length in octets.
fn read_option(bytes: &[u8], start: usize) -> Result<(Ipv4Option<'_>, usize)> {
    let rest = bytes.get(start..).unwrap_or_default();
    let Some((&kind, after_kind)) = rest.split_first() else {
        // Callers never ask past the end; report it as a missing type octet anyway.
        return Err(option_error(start, 0, "option type", "an option", 0));
    };
    let kind = OptionType(kind);
    match kind {
        OptionType::END_OF_LIST => return Ok((Ipv4Option::EndOfList, 1)),
        OptionType::NO_OPERATION => return Ok((Ipv4Option::NoOperation, 1)),
        _ => {}
    }
    let Some(&length) = after_kind.first() else {
        return Err(option_error(
            start,
            0,
            "option length",
            "a length octet before the end of the header",
            rest.len() as u64,
        ));
    };
    let len = usize::from(length);
    if len < 2 {
        return Err(option_error(
            start,
            LENGTH,
            "option length",
            "≥ 2",
            len as u64,
        ));
    }
    let Some(option) = rest.get(..len) else {
        return Err(option_error(
            start,
            LENGTH,
            "option length",
            "≤ the octets left in the header",
            len as u64,
        ));
    };
    let data = option.get(2..).unwrap_or_default();
    let typed = match kind {
        OptionType::RECORD_ROUTE
        | OptionType::LOOSE_SOURCE_ROUTE
        | OptionType::STRICT_SOURCE_ROUTE => {
            let Some((&pointer, route)) = data.split_first() else {
                return Err(option_error(
                    start,
                    LENGTH,
                    "option length",
                    "≥ 3",
                    len as u64,
                ));
            };
            check_pointer(
                start,
                pointer,
                len,
                4,
                4,
                "≥ 4, and room for an address or past the end",
            )?;
            let route = RouteData(route);
            match kind {
                OptionType::RECORD_ROUTE => Ipv4Option::RecordRoute { pointer, route },
                OptionType::LOOSE_SOURCE_ROUTE => Ipv4Option::LooseSourceRoute { pointer, route },
                _ => Ipv4Option::StrictSourceRoute { pointer, route },
            }
        }
        OptionType::TIMESTAMP => {
            let [pointer, overflow_flag, entries @ ..] = data else {
                return Err(option_error(
                    start,
                    LENGTH,
                    "option length",
                    "≥ 4",
                    len as u64,
                ));
            };
            let flag = TimestampFlag(overflow_flag & 0x0f);
            check_pointer(
                start,
                *pointer,
                len,
                5,
                flag.entry_len(),
                "≥ 5, and room for an entry or past the end",
            )?;
            Ipv4Option::Timestamp {
                pointer: *pointer,
                overflow: overflow_flag >> 4,
                flag,
                data: TimestampData(entries),
            }
        }
        OptionType::ROUTER_ALERT | OptionType::STREAM_ID => {
            let [hi, lo] = *data else {
                return Err(option_error(
                    start,
                    LENGTH,
                    "option length",
                    "4",
                    len as u64,
                ));
            };
            let value = u16::from_be_bytes([hi, lo]);
            if kind == OptionType::ROUTER_ALERT {
                Ipv4Option::RouterAlert { value }
            } else {
                Ipv4Option::StreamId { id: value }
            }
        }
        OptionType::SECURITY => {
            if data.is_empty() {
                return Err(option_error(
                    start,
                    LENGTH,
                    "option length",
                    "≥ 3",
                    len as u64,
                ));
            }
            Ipv4Option::Security {
                data: SecurityData(data),
            }
        }
        _ => Ipv4Option::Unknown { kind, data },
    };
    Ok((typed, len))
}

/// Checks a route or timestamp pointer [RFC 791 § 3.1]: at least `min`; and when it points
/// inside the option (pointer ≤ length) there must be room for a whole entry of `entry`
/// octets ("some room but not enough room … is in error"). A pointer past the length means
/// the area is full (for source routes: the route is complete), which is valid.
fn check_pointer(
    start: usize,
    pointer: u8,
    len: usize,
    min: u8,
    entry: usize,
    expected: &'static str,
) -> Result<()> {
    let p = usize::from(pointer);
    let room_ok = p > len || p.saturating_add(entry).saturating_sub(1) <= len;
    if pointer < min || !room_ok {
        return Err(option_error(
            start,
            POINTER,
            "pointer",
            expected,
            u64::from(pointer),
        ));
    }
    Ok(())
}

/// The option bytes of an IPv4 header, zero-copy: everything between the fixed 20 octets and
/// the end of the header (IHL × 4), padding after End of Option List included.
///
/// Values from [`Ipv4Header::parse`](super::Ipv4Header::parse) or [`Ipv4Options::parse`] are
/// checked; [`Ipv4Options::raw`] wraps any bytes unchecked (to craft bad headers), and then
/// [`iter`](Ipv4Options::iter) stops quietly at the first malformed option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Ipv4Options<'a>(&'a [u8]);

impl<'a> Ipv4Options<'a> {
    /// No options.
    pub const EMPTY: Ipv4Options<'static> = Ipv4Options(&[]);

    /// The most option octets a header can hold (IHL 15 → 60-octet header).
    pub const MAX_LEN: usize = 40;

    /// Checks option bytes and wraps them. They need not be a multiple of 4 (emit pads), but
    /// may be at most 40 octets.
    ///
    /// Checks, each an error with the ICMP Parameter Problem pointer (octet offset in the IP
    /// header, taking the options to start at octet 20) that a receiving host would send:
    /// - a length octet missing at the end, or a length < 2 or past the end of the options;
    /// - Record Route / Source Route: length ≥ 3, pointer ≥ 4, and if the pointer is within the
    ///   option there is room for a whole address; Timestamp: length ≥ 4, pointer ≥ 5, room
    ///   for a whole entry (4 or 8 octets by flag); a pointer past the length is a full
    ///   area (or completed source route) and accepted [RFC 791 § 3.1];
    /// - Router Alert and Stream Identifier: length exactly 4; Security: length ≥ 3;
    /// - a second source route option (pointer at its type octet) [RFC 1812 § 5.2.4.1].
    ///
    /// Length errors point at the length octet (Linux points at the option's type octet),
    /// pointer errors at the pointer octet. Octets after End of Option List are not checked.
    /// Error offsets count from the start of `bytes`.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Ipv4Options<'a>> {
        if bytes.len() > Self::MAX_LEN {
            return Err(Error::too_long(
                Layer::Ipv4Option,
                "options",
                Self::MAX_LEN,
                bytes.len(),
            ));
        }
        let options = Ipv4Options(bytes);
        options.validate()?;
        Ok(options)
    }

    /// Wraps option bytes without any check.
    pub const fn raw(bytes: &'a [u8]) -> Ipv4Options<'a> {
        Ipv4Options(bytes)
    }

    /// Runs the checks of [`parse`](Ipv4Options::parse) (except the 40-octet limit).
    pub fn validate(&self) -> Result<()> {
        let mut at = 0;
        let mut source_route_seen = false;
        while at < self.0.len() {
            let (option, len) = read_option(self.0, at)?;
            if option.is_source_route() {
                if source_route_seen {
                    return Err(option_error(
                        at,
                        0,
                        "option type",
                        "at most one source route option",
                        u64::from(option.kind().0),
                    ));
                }
                source_route_seen = true;
            }
            if option == Ipv4Option::EndOfList {
                break;
            }
            at += len;
        }
        Ok(())
    }

    /// The raw option octets, padding included.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The number of option octets, padding included.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no option octets.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The length rounded up to a multiple of 4, as the header holds it.
    pub const fn padded_len(&self) -> usize {
        self.0.len().div_ceil(4) * 4
    }

    /// The options in order, up to and including End of Option List if there is one.
    pub fn iter(&self) -> Ipv4OptionIter<'a> {
        Ipv4OptionIter {
            bytes: self.0,
            at: 0,
            done: false,
        }
    }

    /// The octets after the first End of Option List (padding; normally zeros).
    pub fn padding(&self) -> &'a [u8] {
        let mut iter = self.iter();
        while let Some(option) = iter.next() {
            if option == Ipv4Option::EndOfList {
                return self.0.get(iter.at..).unwrap_or_default();
            }
        }
        &[]
    }

    /// The first option of the given type.
    pub fn find(&self, kind: OptionType) -> Option<Ipv4Option<'a>> {
        self.iter().find(|o| o.kind() == kind)
    }

    /// Writes the options whose type has the copied flag set, in order and unpadded, as a
    /// fragmenter puts them in every fragment after the first [RFC 791 § 3.2]. Returns the
    /// octets written.
    pub fn write_copied(&self, out: &mut [u8]) -> Result<usize> {
        let needed: usize = self
            .iter()
            .filter(|o| o.kind().copied())
            .map(|o| o.len())
            .sum();
        if out.len() < needed {
            return Err(Error::buffer_too_small(
                Layer::Ipv4Option,
                needed,
                out.len(),
            ));
        }
        let mut at = 0;
        for option in self.iter().filter(|o| o.kind().copied()) {
            at += option.write(out.get_mut(at..).unwrap_or_default())?;
        }
        Ok(at)
    }
}

impl<'a> IntoIterator for Ipv4Options<'a> {
    type Item = Ipv4Option<'a>;
    type IntoIter = Ipv4OptionIter<'a>;
    fn into_iter(self) -> Ipv4OptionIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Ipv4Options<'a> {
    type Item = Ipv4Option<'a>;
    type IntoIter = Ipv4OptionIter<'a>;
    fn into_iter(self) -> Ipv4OptionIter<'a> {
        self.iter()
    }
}

/// Iterator over the typed options of an [`Ipv4Options`].
#[derive(Debug, Clone)]
pub struct Ipv4OptionIter<'a> {
    bytes: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Iterator for Ipv4OptionIter<'a> {
    type Item = Ipv4Option<'a>;

    #[inline]
    fn next(&mut self) -> Option<Ipv4Option<'a>> {
        if self.done || self.at >= self.bytes.len() {
            return None;
        }
        match read_option(self.bytes, self.at) {
            Ok((option, len)) => {
                self.at += len;
                if option == Ipv4Option::EndOfList {
                    self.done = true;
                }
                Some(option)
            }
            Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

impl core::iter::FusedIterator for Ipv4OptionIter<'_> {}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    /// An option that owns its data, for generating typed options in property tests.
    #[derive(Debug, Clone)]
    pub(in crate::ipv4) enum OwnedOption {
        Eol,
        Nop,
        Route(OptionType, u8, Vec<u8>),
        Timestamp(u8, u8, u8, Vec<u8>),
        RouterAlert(u16),
        Security(Vec<u8>),
        StreamId(u16),
        Unknown(u8, Vec<u8>),
    }

    impl OwnedOption {
        pub(in crate::ipv4) fn as_option(&self) -> Ipv4Option<'_> {
            match self {
                OwnedOption::Eol => Ipv4Option::EndOfList,
                OwnedOption::Nop => Ipv4Option::NoOperation,
                OwnedOption::Route(kind, pointer, route) => {
                    let (pointer, route) = (*pointer, RouteData(route));
                    match *kind {
                        OptionType::RECORD_ROUTE => Ipv4Option::RecordRoute { pointer, route },
                        OptionType::LOOSE_SOURCE_ROUTE => {
                            Ipv4Option::LooseSourceRoute { pointer, route }
                        }
                        _ => Ipv4Option::StrictSourceRoute { pointer, route },
                    }
                }
                OwnedOption::Timestamp(pointer, overflow, flag, data) => Ipv4Option::Timestamp {
                    pointer: *pointer,
                    overflow: *overflow,
                    flag: TimestampFlag(*flag),
                    data: TimestampData(data),
                },
                OwnedOption::RouterAlert(value) => Ipv4Option::RouterAlert { value: *value },
                OwnedOption::Security(data) => Ipv4Option::Security {
                    data: SecurityData(data),
                },
                OwnedOption::StreamId(id) => Ipv4Option::StreamId { id: *id },
                OwnedOption::Unknown(kind, data) => Ipv4Option::Unknown {
                    kind: OptionType(*kind),
                    data,
                },
            }
        }
    }

    fn arb_route() -> impl Strategy<Value = OwnedOption> {
        (
            prop::sample::select(vec![
                OptionType::RECORD_ROUTE,
                OptionType::LOOSE_SOURCE_ROUTE,
                OptionType::STRICT_SOURCE_ROUTE,
            ]),
            0usize..5,
            0usize..2,
        )
            .prop_flat_map(|(kind, n, slack)| {
                let len = 3 + 4 * n + slack;
                // Next slot, or anything past the end (full / completed).
                let pointer = (0..=n, 0usize..200).prop_map(move |(k, beyond)| {
                    if k < n {
                        (4 + 4 * k) as u8
                    } else {
                        (len + 1 + beyond).min(255) as u8
                    }
                });
                (
                    Just(kind),
                    pointer,
                    proptest::collection::vec(any::<u8>(), len - 3),
                )
            })
            .prop_map(|(kind, pointer, route)| OwnedOption::Route(kind, pointer, route))
    }

    fn arb_timestamp() -> impl Strategy<Value = OwnedOption> {
        (
            prop::sample::select(vec![0u8, 1, 3, 2, 15]),
            0usize..4,
            0u8..16,
        )
            .prop_flat_map(|(flag, n, overflow)| {
                let entry = TimestampFlag(flag).entry_len();
                let len = 4 + entry * n;
                (
                    (0..=n).prop_map(move |k| (5 + entry * k) as u8),
                    Just(overflow),
                    Just(flag),
                    proptest::collection::vec(any::<u8>(), len - 4),
                )
            })
            .prop_map(|(p, o, f, d)| OwnedOption::Timestamp(p, o, f, d))
    }

    fn arb_option() -> impl Strategy<Value = OwnedOption> {
        prop_oneof![
            Just(OwnedOption::Nop),
            arb_route(),
            arb_timestamp(),
            any::<u16>().prop_map(OwnedOption::RouterAlert),
            proptest::collection::vec(any::<u8>(), 1..10).prop_map(OwnedOption::Security),
            any::<u16>().prop_map(OwnedOption::StreamId),
            (
                any::<u8>().prop_filter("untyped kind", |k| OptionType(*k).name().is_none()
                    || matches!(*k, 82 | 133 | 134)),
                proptest::collection::vec(any::<u8>(), 0..10)
            )
                .prop_map(|(k, d)| OwnedOption::Unknown(k, d)),
        ]
    }

    /// Valid option lists of at most 40 octets: at most one source route, EOL only last.
    pub(in crate::ipv4) fn arb_options() -> impl Strategy<Value = Vec<OwnedOption>> {
        (proptest::collection::vec(arb_option(), 0..4), any::<bool>())
            .prop_map(|(mut opts, eol)| {
                let mut seen = false;
                opts.retain(|o| {
                    let sr = o.as_option().is_source_route();
                    let keep = !(sr && seen);
                    seen |= sr;
                    keep
                });
                if eol {
                    opts.push(OwnedOption::Eol);
                }
                opts
            })
            .prop_filter("fits in 40 octets", |opts| {
                opts.iter().map(|o| o.as_option().len()).sum::<usize>() <= 40
            })
    }

    fn parse_err(bytes: &[u8]) -> (Layer, &'static str, usize, ErrorKind, Option<u8>) {
        let e = Ipv4Options::parse(bytes).unwrap_err();
        (e.layer, e.field, e.offset, e.kind, e.pointer)
    }

    fn bad(expected: &'static str, found: u64) -> ErrorKind {
        ErrorKind::BadValue { expected, found }
    }

    #[test]
    fn option_type_parts() {
        // Values as tshark prints them for each type.
        let cases = [
            (0u8, false, 0u8, 0u8),
            (1, false, 0, 1),
            (7, false, 0, 7),
            (68, false, 2, 4),
            (130, true, 0, 2),
            (131, true, 0, 3),
            (134, true, 0, 6),
            (136, true, 0, 8),
            (137, true, 0, 9),
            (148, true, 0, 20),
        ];
        for (octet, copied, class, number) in cases {
            let t = OptionType(octet);
            assert_eq!(
                (t.copied(), t.class(), t.number()),
                (copied, class, number),
                "{octet}"
            );
            assert_eq!(OptionType::new(copied, class, number), t);
        }
        assert_eq!(OptionType(0xff).class(), 3);
    }

    #[test]
    fn length_errors() {
        // A non-single-octet type as the last octet.
        assert_eq!(
            parse_err(&[1, 1, 1, 7]),
            (
                Layer::Ipv4Option,
                "option length",
                3,
                bad("a length octet before the end of the header", 1),
                Some(23)
            )
        );
        for len in [0u8, 1] {
            assert_eq!(
                parse_err(&[1, 0x44, len, 5]),
                (
                    Layer::Ipv4Option,
                    "option length",
                    2,
                    bad("≥ 2", len.into()),
                    Some(22)
                )
            );
        }
        assert_eq!(
            parse_err(&[0x99, 5, 0, 0]),
            (
                Layer::Ipv4Option,
                "option length",
                1,
                bad("≤ the octets left in the header", 5),
                Some(21)
            )
        );
        // Per-type minimums.
        assert_eq!(parse_err(&[7, 2, 0, 0]).3, bad("≥ 3", 2));
        assert_eq!(parse_err(&[131, 2, 0, 0]).3, bad("≥ 3", 2));
        assert_eq!(parse_err(&[68, 3, 5, 0]).3, bad("≥ 4", 3));
        assert_eq!(parse_err(&[148, 3, 0, 0]).3, bad("4", 3));
        assert_eq!(parse_err(&[148, 6, 0, 0, 0, 0]).3, bad("4", 6));
        assert_eq!(parse_err(&[136, 2, 0, 0]).3, bad("4", 2));
        // suricata-verify ip_secopt.pcap: Security with length 2 (Wireshark: malformed).
        assert_eq!(
            parse_err(&[0x82, 0x02, 0xf1, 0x35, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xaa, 0]),
            (
                Layer::Ipv4Option,
                "option length",
                1,
                bad("≥ 3", 2),
                Some(21)
            )
        );
        assert_eq!(
            Ipv4Options::parse(&[1; 41]).unwrap_err().kind,
            ErrorKind::TooLong { max: 40, got: 41 }
        );
    }

    #[test]
    fn pointer_checks() {
        let route = "≥ 4, and room for an address or past the end";
        let ts = "≥ 5, and room for an entry or past the end";
        // Pointer below the minimum.
        assert_eq!(
            parse_err(&[1, 7, 7, 3, 0, 0, 0, 0]),
            (Layer::Ipv4Option, "pointer", 3, bad(route, 3), Some(23))
        );
        assert_eq!(parse_err(&[137, 3, 0, 0]).3, bad(route, 0));
        assert_eq!(parse_err(&[68, 8, 4, 0, 0, 0, 0, 0]).3, bad(ts, 4));
        // Some room but not a whole slot.
        assert_eq!(parse_err(&[7, 7, 5, 0, 0, 0, 0, 0]).3, bad(route, 5));
        assert_eq!(
            parse_err(&[7, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]).3,
            bad(route, 8)
        );
        assert_eq!(parse_err(&[68, 8, 5, 1, 0, 0, 0, 0]).3, bad(ts, 5));
        assert_eq!(
            parse_err(&[68, 12, 9, 3, 0, 0, 0, 0, 0, 0, 0, 0]).3,
            bad(ts, 9)
        );
        // Valid: next slot, full area (pointer = length + 1 or beyond), empty area.
        for ok in [
            &[7, 7, 4, 0, 0, 0, 0, 0][..],
            &[7, 7, 8, 0, 0, 0, 0, 0],
            &[7, 7, 200, 0, 0, 0, 0, 0],
            &[7, 3, 4, 0],
            &[131, 3, 4, 0],
            &[68, 8, 5, 0, 0, 0, 0, 0],
            &[68, 8, 9, 0, 0, 0, 0, 0],
            &[68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            &[68, 12, 13, 0x31, 0, 0, 0, 0, 0, 0, 0, 0],
            &[68, 4, 5, 0],
        ] {
            assert!(Ipv4Options::parse(ok).is_ok(), "{ok:?}");
        }
        // Undefined flags are kept and read as bare timestamps.
        let o = Ipv4Options::parse(&[68, 12, 13, 0x52, 0, 0, 0, 1, 0, 0, 0, 2]).unwrap();
        let opt = o.iter().next().unwrap();
        assert!(matches!(
            opt,
            Ipv4Option::Timestamp {
                overflow: 5,
                flag: TimestampFlag(2),
                ..
            }
        ));
        assert_eq!(
            opt.timestamps().unwrap().collect::<Vec<_>>(),
            vec![(None, 1), (None, 2)]
        );
    }

    #[test]
    fn second_source_route_is_an_error() {
        let bytes = [131, 3, 4, 137, 7, 4, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_err(&bytes),
            (
                Layer::Ipv4Option,
                "option type",
                3,
                bad("at most one source route option", 137),
                Some(23)
            )
        );
        // Record Route twice is not a source route.
        assert!(Ipv4Options::parse(&[7, 3, 4, 7, 3, 4, 0, 0]).is_ok());
    }

    #[test]
    fn octets_after_eol_are_padding() {
        let o = Ipv4Options::parse(&[1, 0, 0xff, 0x07]).unwrap();
        assert_eq!(
            o.iter().collect::<Vec<_>>(),
            vec![Ipv4Option::NoOperation, Ipv4Option::EndOfList]
        );
        assert_eq!(o.padding(), &[0xff, 0x07]);
        assert_eq!(o.as_bytes(), &[1, 0, 0xff, 0x07]);
        assert_eq!(Ipv4Options::EMPTY.iter().count(), 0);
        assert_eq!(Ipv4Options::EMPTY.padding(), &[] as &[u8]);
    }

    #[test]
    fn raw_options_iterate_until_malformed() {
        let o = Ipv4Options::raw(&[1, 148, 4, 0, 0, 7, 1, 1, 1]);
        assert_eq!(
            o.iter().collect::<Vec<_>>(),
            vec![
                Ipv4Option::NoOperation,
                Ipv4Option::RouterAlert { value: 0 }
            ]
        );
        assert!(o.validate().is_err());
        assert_eq!(o.into_iter().count(), 2);
    }

    #[test]
    fn security_rfc1108_level() {
        let o = Ipv4Options::parse(&[130, 4, 0x5a, 0x80]).unwrap();
        let Some(Ipv4Option::Security { data }) = o.iter().next() else {
            panic!()
        };
        assert_eq!(
            data.classification_level(),
            Some(ClassificationLevel::SECRET)
        );
        assert_eq!(data.protection_authority(), Some(&[0x80][..]));
        assert_eq!(data.rfc791(), None);
    }

    #[test]
    fn writer_writes_every_variant() {
        let opts = [
            Ipv4Option::NoOperation,
            Ipv4Option::RecordRoute {
                pointer: 4,
                route: RouteData(&[0; 4]),
            },
            Ipv4Option::Timestamp {
                pointer: 5,
                overflow: 1,
                flag: TimestampFlag::ADDRESS_AND_TIMESTAMP,
                data: TimestampData(&[0; 8]),
            },
            Ipv4Option::RouterAlert { value: 0x0102 },
            Ipv4Option::StreamId { id: 0x0304 },
            Ipv4Option::Security {
                data: SecurityData(&[0xab]),
            },
            Ipv4Option::Unknown {
                kind: OptionType(0x52),
                data: &[9],
            },
            Ipv4Option::EndOfList,
        ];
        let mut out = [0u8; 40];
        let n = Ipv4Option::write_all(&opts, &mut out).unwrap();
        assert_eq!(
            hex::encode(&out[..n]),
            concat!(
                "01",
                "07070400000000",
                "440c0511",
                "0000000000000000",
                "94040102",
                "88040304",
                "8203ab",
                "520309",
                "00"
            )
        );
        let parsed = Ipv4Options::parse(&out[..n]).unwrap();
        assert_eq!(parsed.iter().collect::<Vec<_>>(), opts.to_vec());
        // The copied ones only: RR, TS and Unknown 0x52 are not copied; RA, SID, SEC are.
        let mut copied = [0u8; 40];
        let m = parsed.write_copied(&mut copied).unwrap();
        assert_eq!(hex::encode(&copied[..m]), "94040102880403048203ab");
        assert_eq!(
            parsed.write_copied(&mut copied[..10]).unwrap_err().kind,
            ErrorKind::BufferTooSmall {
                needed: 11,
                got: 10
            }
        );
    }

    #[test]
    fn writer_errors() {
        let mut out = [0u8; 300];
        let e = Ipv4Option::write_all(&[Ipv4Option::RouterAlert { value: 0 }], &mut out[..3])
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 4, got: 3 });
        assert_eq!(e.layer, Layer::Ipv4Option);
        let e = Ipv4Option::StreamId { id: 1 }
            .write(&mut out[..2])
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 4, got: 2 });
        let big = [0u8; 254];
        let e = Ipv4Option::Unknown {
            kind: OptionType(99),
            data: &big,
        }
        .write(&mut out)
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLong { max: 255, got: 256 });
        let e = Ipv4Option::Timestamp {
            pointer: 5,
            overflow: 16,
            flag: TimestampFlag(0),
            data: TimestampData(&[]),
        }
        .write(&mut out)
        .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            (
                "timestamp overflow",
                ErrorKind::TooLong { max: 15, got: 16 }
            )
        );
        let e = Ipv4Option::Timestamp {
            pointer: 5,
            overflow: 0,
            flag: TimestampFlag(16),
            data: TimestampData(&[]),
        }
        .write(&mut out)
        .unwrap_err();
        assert_eq!(e.field, "timestamp flag");
        // A single-octet Unknown writes just its type.
        let n = Ipv4Option::Unknown {
            kind: OptionType(1),
            data: &[5, 5],
        }
        .write(&mut out)
        .unwrap();
        assert_eq!((n, out[0]), (1, 1));
        assert_eq!(Ipv4Option::write_all(&[], &mut []), Ok(0));
    }

    proptest! {
        #[test]
        fn typed_options_round_trip(opts in arb_options()) {
            let typed: Vec<_> = opts.iter().map(OwnedOption::as_option).collect();
            let mut out = [0u8; 40];
            let n = Ipv4Option::write_all(&typed, &mut out).unwrap();
            prop_assert_eq!(n, typed.iter().map(Ipv4Option::len).sum::<usize>());
            let parsed = Ipv4Options::parse(&out[..n]).unwrap();
            prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), typed);
        }

        #[test]
        fn arbitrary_option_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..48)) {
            let checked = Ipv4Options::parse(&data);
            let raw = Ipv4Options::raw(&data);
            let items: Vec<_> = raw.iter().collect();
            // Re-writing what iterates gives back a prefix of the bytes.
            let mut out = [0u8; 64];
            let n = Ipv4Option::write_all(&items, &mut out).unwrap();
            prop_assert_eq!(&out[..n], &data[..n]);
            if checked.is_ok() {
                // All of it, up to the padding after an EOL.
                prop_assert_eq!(n + raw.padding().len(), data.len());
            }
            let _ = raw.padded_len();
            let _ = raw.write_copied(&mut out);
        }
    }
}
