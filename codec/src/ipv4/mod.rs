//! The IPv4 header [RFC 791 § 3.1] with its options ([`option`]), the DS field as DSCP and ECN
//! [RFC 2474 § 3, RFC 3168 § 5], the header checks a receiving host makes [RFC 1122 § 3.2.1],
//! and the header checksum [RFC 791 § 3.1, RFC 1071].
//!
//! Two parsers: [`Ipv4Header::parse`] checks the whole datagram (total length against the bytes
//! present) and returns the payload without link-layer padding; [`Ipv4Header::parse_header`]
//! checks only the header, for snaplen-truncated captures and for datagrams quoted in ICMP
//! errors. Neither looks at the checksum: ask [`verify_checksum`] or
//! [`Ipv4Header::checksum_status`].

pub mod option;

use core::fmt;
use core::net::Ipv4Addr;
use core::ops::Range;

use crate::checksum::{self, Accumulator, ChecksumStatus};
use crate::error::{Error, Layer, Result};

pub use option::{Ipv4Option, Ipv4Options, OptionType};

/// Length of the fixed part of the header (IHL 5).
pub const MIN_HEADER_LEN: usize = 20;
/// Longest header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

/// Version (high nibble) and IHL (low nibble).
pub const VERSION_IHL: usize = 0;
/// DS field: DSCP (high 6 bits) and ECN (low 2 bits).
pub const DSCP_ECN: usize = 1;
/// Total length.
pub const TOTAL_LENGTH: Range<usize> = 2..4;
/// Identification.
pub const IDENTIFICATION: Range<usize> = 4..6;
/// Flags (high 3 bits) and fragment offset (low 13 bits).
pub const FLAGS_FRAGMENT_OFFSET: Range<usize> = 6..8;
/// Time to live.
pub const TTL: usize = 8;
/// Protocol.
pub const PROTOCOL: usize = 9;
/// Header checksum.
pub const CHECKSUM: Range<usize> = 10..12;
/// Source address.
pub const SOURCE: Range<usize> = 12..16;
/// Destination address.
pub const DESTINATION: Range<usize> = 16..20;
/// Where the options start.
pub const OPTIONS: usize = 20;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// The protocol field: which protocol the payload belongs to [IANA "Assigned Internet Protocol
/// Numbers"]. Any value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Option (0).
    pub const HOPOPT: IpProtocol = IpProtocol(0);
    /// ICMP (1) [RFC 792].
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// IGMP (2) [RFC 1112].
    pub const IGMP: IpProtocol = IpProtocol(2);
    /// IPv4 encapsulation (4) [RFC 2003].
    pub const IPV4: IpProtocol = IpProtocol(4);
    /// TCP (6) [RFC 9293].
    pub const TCP: IpProtocol = IpProtocol(6);
    /// EGP (8).
    pub const EGP: IpProtocol = IpProtocol(8);
    /// UDP (17) [RFC 768].
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 encapsulation (41).
    pub const IPV6: IpProtocol = IpProtocol(41);
    /// RSVP (46).
    pub const RSVP: IpProtocol = IpProtocol(46);
    /// GRE (47).
    pub const GRE: IpProtocol = IpProtocol(47);
    /// ESP (50).
    pub const ESP: IpProtocol = IpProtocol(50);
    /// AH (51).
    pub const AH: IpProtocol = IpProtocol(51);
    /// ICMPv6 (58).
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// OSPF (89).
    pub const OSPF: IpProtocol = IpProtocol(89);
    /// PIM (103).
    pub const PIM: IpProtocol = IpProtocol(103);
    /// VRRP (112).
    pub const VRRP: IpProtocol = IpProtocol(112);
    /// SCTP (132).
    pub const SCTP: IpProtocol = IpProtocol(132);
    /// UDP-Lite (136).
    pub const UDPLITE: IpProtocol = IpProtocol(136);

    /// The protocol's name as Wireshark prints it, for the values named here.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "IPv6 Hop-by-Hop Option",
            1 => "ICMP",
            2 => "IGMP",
            4 => "IPIP",
            6 => "TCP",
            8 => "EGP",
            17 => "UDP",
            41 => "IPv6",
            46 => "RSVP",
            47 => "GRE",
            50 => "ESP",
            51 => "AH",
            58 => "ICMPv6",
            89 => "OSPF IGP",
            103 => "PIM",
            112 => "VRRP",
            132 => "SCTP",
            136 => "UDPlite",
            _ => return None,
        })
    }
}

impl fmt::Display for IpProtocol {
    /// Like Wireshark: `TCP (6)`, or `Unknown (253)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name().unwrap_or("Unknown"), self.0)
    }
}

/// The ECN field, the low two bits of the DS field [RFC 3168 § 5].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ecn {
    /// 00: not ECN-capable transport.
    NotEct,
    /// 01: ECN-capable transport, ECT(1).
    Ect1,
    /// 10: ECN-capable transport, ECT(0).
    Ect0,
    /// 11: congestion experienced.
    Ce,
}

impl Ecn {
    /// The field from its two bits (higher bits are ignored).
    pub const fn from_bits(bits: u8) -> Ecn {
        match bits & 0b11 {
            0 => Ecn::NotEct,
            1 => Ecn::Ect1,
            2 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }

    /// The two bits.
    pub const fn bits(self) -> u8 {
        match self {
            Ecn::NotEct => 0,
            Ecn::Ect1 => 1,
            Ecn::Ect0 => 2,
            Ecn::Ce => 3,
        }
    }
}

/// An IPv4 header [RFC 791 § 3.1], every field as on the wire.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |   DSCP    |ECN|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |R|D|M|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options (0–40 octets)      |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///   R = reserved ("evil") bit, D = Don't Fragment, M = More Fragments
/// ```
///
/// A parsed header is lossless: [`emit_exact`](Ipv4Header::emit_exact) writes back the bytes
/// it came from. Fields wider than their bits on the wire (`version`, `ihl`, `dscp`,
/// `fragment_offset`) make emit fail with `TooLong` rather than being masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Header<'a> {
    /// Version (4 bits). Parsing accepts only 4; emit writes whatever is held.
    pub version: u8,
    /// Internet header length in 32-bit words (4 bits), as held; the header is `ihl * 4` octets.
    /// [`emit`](Ipv4Header::emit) recomputes it from the options.
    pub ihl: u8,
    /// Differentiated Services codepoint (6 bits) [RFC 2474 § 3].
    pub dscp: u8,
    /// Explicit Congestion Notification (2 bits) [RFC 3168 § 5].
    pub ecn: Ecn,
    /// Total length of the datagram, header included, in octets.
    pub total_length: u16,
    /// Identification, for reassembly.
    pub identification: u16,
    /// The reserved flag bit, which must be zero [RFC 791] (the "evil bit" of RFC 3514).
    pub reserved_flag: bool,
    /// Don't Fragment.
    pub dont_fragment: bool,
    /// More Fragments.
    pub more_fragments: bool,
    /// Fragment offset in 8-octet units (13 bits); see
    /// [`fragment_offset_bytes`](Ipv4Header::fragment_offset_bytes).
    pub fragment_offset: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Header checksum as held; [`emit`](Ipv4Header::emit) recomputes it.
    pub header_checksum: u16,
    /// Source address.
    pub source: Ipv4Addr,
    /// Destination address.
    pub destination: Ipv4Addr,
    /// Options and padding, raw.
    pub options: Ipv4Options<'a>,
}

impl<'a> Ipv4Header<'a> {
    /// A header with no options: version 4, IHL 5, DS 0, TTL 64, no flags, id 0. Total length
    /// and checksum are zero until [`emit`](Ipv4Header::emit) fills them.
    pub const fn new(source: Ipv4Addr, destination: Ipv4Addr, protocol: IpProtocol) -> Self {
        Ipv4Header {
            version: 4,
            ihl: 5,
            dscp: 0,
            ecn: Ecn::NotEct,
            total_length: 0,
            identification: 0,
            reserved_flag: false,
            dont_fragment: false,
            more_fragments: false,
            fragment_offset: 0,
            ttl: 64,
            protocol,
            header_checksum: 0,
            source,
            destination,
            options: Ipv4Options::EMPTY,
        }
    }

    /// Parses a whole datagram with every check, and returns the header and the payload:
    /// the octets from the end of the header to `total_length`. Octets after `total_length`
    /// (Ethernet padding of short frames) are not part of the payload.
    ///
    /// Errors, in the order checked (offsets from the start of `bytes`; the pointer is set where
    /// a receiving host would answer with ICMP Parameter Problem):
    /// - no bytes: `Truncated`, field "header";
    /// - version ≠ 4: `BadValue`, "version", offset 0, pointer 0;
    /// - IHL < 5: `BadValue`, "IHL", offset 0, pointer 0;
    /// - fewer than 20 bytes: `Truncated`, "header"; fewer than IHL × 4: `Truncated`, "options"
    ///   (offset 20);
    /// - any option error of [`Ipv4Options::parse`] (layer `Ipv4Option`, offsets from the start
    ///   of the header);
    /// - total length < IHL × 4: `BadValue`, "total length", offset 2, pointer 2;
    /// - total length > the bytes present: `Truncated`, "total length", offset 2 (no pointer:
    ///   it is a lack of bytes, not a bad value).
    ///
    /// A total length of 0, as in captures of TCP segmentation offload and BIG TCP where the
    /// kernel leaves the field for the card to fill, is rejected here (it is less than the header
    /// length) and accepted by [`parse_header`](Ipv4Header::parse_header).
    // Always inlined: called once per packet on every decode path, and as an outlined call
    // its large Result is written to memory and read back (measured: 47 → 35 ns/frame).
    #[inline(always)]
    pub fn parse(bytes: &'a [u8]) -> Result<(Ipv4Header<'a>, &'a [u8])> {
        let (header, _) = Self::parse_header(bytes)?;
        let header_len = header.header_len();
        let total = usize::from(header.total_length);
        if total < header_len {
            return Err(Error::bad_value(
                Layer::Ipv4,
                "total length",
                TOTAL_LENGTH.start,
                "≥ the header length (IHL × 4)",
                u64::from(header.total_length),
            )
            .with_pointer(TOTAL_LENGTH.start as u8));
        }
        let Some(payload) = bytes.get(header_len..total) else {
            return Err(Error::truncated(
                Layer::Ipv4,
                "total length",
                TOTAL_LENGTH.start,
                total,
                bytes.len(),
            ));
        };
        Ok((header, payload))
    }

    /// Parses and checks only the header (version, IHL, the header's bytes, options) and returns
    /// it with every byte after it, whatever the total length says. For snaplen-truncated
    /// captures, for the datagram quoted in an ICMP error (usually shorter than its total
    /// length), and for TSO/BIG TCP captures with total length 0. The errors are those of
    /// [`parse`](Ipv4Header::parse) before the total length checks.
    #[inline(always)]
    pub fn parse_header(bytes: &'a [u8]) -> Result<(Ipv4Header<'a>, &'a [u8])> {
        let (fixed, header_len) = Self::read_fixed(bytes)?;
        let Some((head, rest)) = bytes.split_at_checked(header_len) else {
            return Err(Self::options_cut(header_len, bytes.len()));
        };
        let option_bytes = head.get(OPTIONS..).unwrap_or_default();
        // Most datagrams carry no options: skip the option walk for them.
        let options = if option_bytes.is_empty() {
            Ipv4Options::raw(option_bytes)
        } else {
            Ipv4Options::parse(option_bytes).map_err(|e| e.shifted(OPTIONS))?
        };
        Ok((Self::from_fixed(fixed, options), rest))
    }

    /// Like [`parse_header`](Ipv4Header::parse_header), but a malformed option list does not
    /// fail the parse: the header comes back with its option bytes unchecked
    /// ([`Ipv4Options::raw`]) and the option error beside it; options cut short by the end of
    /// `bytes` likewise (the option bytes present, and a `Truncated` error). For lax decoders
    /// that want the fixed fields of a datagram whose options are bad or cut.
    #[inline]
    pub fn parse_header_lax(bytes: &'a [u8]) -> Result<(Ipv4Header<'a>, &'a [u8], Option<Error>)> {
        let (fixed, header_len) = Self::read_fixed(bytes)?;
        // Options cut short by the end of the bytes: the lax caller still gets the fixed
        // header, with the option bytes that are there (unchecked) and the truncation error.
        let (head, rest, cut) = match bytes.split_at_checked(header_len) {
            Some((head, rest)) => (head, rest, None),
            None => (
                bytes,
                bytes.get(bytes.len()..).unwrap_or_default(),
                Some(Self::options_cut(header_len, bytes.len())),
            ),
        };
        let option_bytes = head.get(OPTIONS..).unwrap_or_default();
        let (options, option_error) = match cut {
            Some(e) => (Ipv4Options::raw(option_bytes), Some(e)),
            None => match Ipv4Options::parse(option_bytes) {
                Ok(o) => (o, None),
                Err(e) => (Ipv4Options::raw(option_bytes), Some(e.shifted(OPTIONS))),
            },
        };
        Ok((Self::from_fixed(fixed, options), rest, option_error))
    }

    /// The checks on the first octet and the fixed 20 octets shared by the strict and lax
    /// parsers: version, IHL, then the length of the fixed header. Returns the fixed octets
    /// and the header length IHL × 4.
    #[inline(always)]
    fn read_fixed(bytes: &[u8]) -> Result<(&[u8; MIN_HEADER_LEN], usize)> {
        let Some(&first) = bytes.first() else {
            return Err(Error::truncated(
                Layer::Ipv4,
                "header",
                0,
                MIN_HEADER_LEN,
                0,
            ));
        };
        let version = first >> 4;
        if version != 4 {
            return Err(Error::bad_value(
                Layer::Ipv4,
                "version",
                VERSION_IHL,
                "4",
                u64::from(version),
            )
            .with_pointer(VERSION_IHL as u8));
        }
        let ihl = first & 0x0f;
        if ihl < 5 {
            return Err(
                Error::bad_value(Layer::Ipv4, "IHL", VERSION_IHL, "≥ 5", u64::from(ihl))
                    .with_pointer(VERSION_IHL as u8),
            );
        }
        let Some(fixed) = bytes.first_chunk::<MIN_HEADER_LEN>() else {
            return Err(Error::truncated(
                Layer::Ipv4,
                "header",
                0,
                MIN_HEADER_LEN,
                bytes.len(),
            ));
        };
        Ok((fixed, usize::from(ihl) * 4))
    }

    /// The error for options that the end of the bytes cuts short.
    #[cold]
    fn options_cut(header_len: usize, got: usize) -> Error {
        Error::truncated(Layer::Ipv4, "options", OPTIONS, header_len, got)
    }

    /// The header held by the fixed octets (already checked by [`read_fixed`]) and `options`.
    ///
    /// [`read_fixed`]: Ipv4Header::read_fixed
    #[inline(always)]
    fn from_fixed(fixed: &[u8; MIN_HEADER_LEN], options: Ipv4Options<'a>) -> Ipv4Header<'a> {
        let [vi, ds, l0, l1, i0, i1, f0, f1, ttl, protocol, c0, c1, s0, s1, s2, s3, d0, d1, d2, d3] =
            *fixed;
        let flags_fragment = u16::from_be_bytes([f0, f1]);
        Ipv4Header {
            version: vi >> 4,
            ihl: vi & 0x0f,
            dscp: ds >> 2,
            ecn: Ecn::from_bits(ds),
            total_length: u16::from_be_bytes([l0, l1]),
            identification: u16::from_be_bytes([i0, i1]),
            reserved_flag: flags_fragment & FLAG_RESERVED != 0,
            dont_fragment: flags_fragment & FLAG_DONT_FRAGMENT != 0,
            more_fragments: flags_fragment & FLAG_MORE_FRAGMENTS != 0,
            fragment_offset: flags_fragment & FRAGMENT_OFFSET_MASK,
            ttl,
            protocol: IpProtocol(protocol),
            header_checksum: u16::from_be_bytes([c0, c1]),
            source: Ipv4Addr::new(s0, s1, s2, s3),
            destination: Ipv4Addr::new(d0, d1, d2, d3),
            options,
        }
    }

    /// The destination a UDP or TCP pseudo-header names: the header's destination, or, while a
    /// loose or strict source route still has addresses to visit, the last address of the
    /// route — the final destination [RFC 9293 § 3.1 ("the destination address" of the
    /// pseudo-header is the final one); RFC 1122 § 3.2.1.8].
    pub fn final_destination(&self) -> Ipv4Addr {
        for option in self.options.iter() {
            if let Ipv4Option::LooseSourceRoute { pointer, route }
            | Ipv4Option::StrictSourceRoute { pointer, route } = option
            {
                // The route is complete when the pointer is past the last address.
                let remaining = route.at_pointer(pointer).is_some();
                if let (true, Some(last)) = (remaining, route.iter().last()) {
                    return last;
                }
            }
        }
        self.destination
    }

    /// The header length the `ihl` field gives, in octets (`ihl * 4`).
    pub const fn header_len(&self) -> usize {
        self.ihl as usize * 4
    }

    /// The payload length the header claims: total length minus header length (0 if the total
    /// length is smaller than the header).
    pub const fn payload_len(&self) -> usize {
        (self.total_length as usize).saturating_sub(self.header_len())
    }

    /// The fragment offset in octets (`fragment_offset * 8`).
    pub const fn fragment_offset_bytes(&self) -> usize {
        self.fragment_offset as usize * 8
    }

    /// Whether the datagram is a fragment: More Fragments set or a non-zero offset.
    pub const fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }

    /// The octets [`emit`](Ipv4Header::emit) writes: 20 plus the options padded to a multiple
    /// of 4.
    pub const fn len(&self) -> usize {
        MIN_HEADER_LEN + self.options.padded_len()
    }

    /// Always false: a header takes at least 20 octets.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes the header for a payload of `payload_len` octets to the start of `out` and returns
    /// the octets written ([`len`](Ipv4Header::len)); the caller writes the payload after it.
    ///
    /// Computed, not taken from `self`: IHL (from the options), total length (header +
    /// payload) and the header checksum. Options whose length is not a multiple of 4 are padded
    /// with zero octets, which read as End of Option List [RFC 791 § 3.1]. Everything else,
    /// version included, is written as held.
    ///
    /// Errors: `TooLong` for options over 40 octets ("options"), a total over 65535 ("total
    /// length"), or a field too wide for its bits; `BufferTooSmall` if `out` is short.
    pub fn emit(&self, payload_len: usize, out: &mut [u8]) -> Result<usize> {
        if self.options.len() > Ipv4Options::MAX_LEN {
            return Err(Error::too_long(
                Layer::Ipv4,
                "options",
                Ipv4Options::MAX_LEN,
                self.options.len(),
            ));
        }
        let len = self.len();
        if out.len() < len {
            return Err(Error::buffer_too_small(Layer::Ipv4, len, out.len()));
        }
        let total = len.saturating_add(payload_len);
        let total_length = u16::try_from(total)
            .map_err(|_| Error::too_long(Layer::Ipv4, "total length", 65535, total))?;
        let header = Ipv4Header {
            ihl: (len / 4) as u8,
            total_length,
            header_checksum: 0,
            ..*self
        };
        header.emit_exact(out)?;
        // Padding: zero octets up to the multiple of 4.
        if let Some(pad) = out.get_mut(MIN_HEADER_LEN + self.options.len()..len) {
            pad.fill(0);
        }
        let sum = out.get(..len).map(checksum::internet_checksum).unwrap_or(0);
        if let Some(field) = out.get_mut(CHECKSUM) {
            field.copy_from_slice(&sum.to_be_bytes());
        }
        Ok(len)
    }

    /// Writes every field exactly as held (IHL, total length and checksum included, right or
    /// wrong) followed by the option bytes as held, unpadded, and returns the octets written:
    /// 20 plus the option bytes. For re-emitting captured headers and crafting bad ones.
    ///
    /// Errors: `TooLong` if `version`, `ihl` (4 bits), `dscp` (6 bits) or `fragment_offset`
    /// (13 bits) does not fit, or the options exceed 40 octets; `BufferTooSmall` if `out` is
    /// short.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        let fits = |field, value: u16, max: u16| {
            if value > max {
                Err(Error::too_long(
                    Layer::Ipv4,
                    field,
                    usize::from(max),
                    usize::from(value),
                ))
            } else {
                Ok(())
            }
        };
        fits("version", self.version.into(), 0x0f)?;
        fits("IHL", self.ihl.into(), 0x0f)?;
        fits("DSCP", self.dscp.into(), 0x3f)?;
        fits(
            "fragment offset",
            self.fragment_offset,
            FRAGMENT_OFFSET_MASK,
        )?;
        let options = self.options.as_bytes();
        if options.len() > Ipv4Options::MAX_LEN {
            return Err(Error::too_long(
                Layer::Ipv4,
                "options",
                Ipv4Options::MAX_LEN,
                options.len(),
            ));
        }
        let len = MIN_HEADER_LEN + options.len();
        let got = out.len();
        let (fixed, rest) = out
            .split_first_chunk_mut::<MIN_HEADER_LEN>()
            .ok_or(Error::buffer_too_small(Layer::Ipv4, len, got))?;
        let opt_out = rest
            .get_mut(..options.len())
            .ok_or(Error::buffer_too_small(Layer::Ipv4, len, got))?;
        *fixed = self.fixed_bytes();
        opt_out.copy_from_slice(options);
        Ok(len)
    }

    /// The fixed 20 octets as held.
    fn fixed_bytes(&self) -> [u8; MIN_HEADER_LEN] {
        let flags_fragment = (u16::from(self.reserved_flag) << 15)
            | (u16::from(self.dont_fragment) << 14)
            | (u16::from(self.more_fragments) << 13)
            | (self.fragment_offset & FRAGMENT_OFFSET_MASK);
        let [t0, t1] = self.total_length.to_be_bytes();
        let [i0, i1] = self.identification.to_be_bytes();
        let [f0, f1] = flags_fragment.to_be_bytes();
        let [c0, c1] = self.header_checksum.to_be_bytes();
        let [s0, s1, s2, s3] = self.source.octets();
        let [d0, d1, d2, d3] = self.destination.octets();
        [
            (self.version << 4) | (self.ihl & 0x0f),
            (self.dscp << 2) | self.ecn.bits(),
            t0,
            t1,
            i0,
            i1,
            f0,
            f1,
            self.ttl,
            self.protocol.0,
            c0,
            c1,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ]
    }

    /// The checksum the header should carry: computed over the fields and option bytes as held,
    /// with the checksum field taken as zero. Set `header_checksum` to it before
    /// [`emit_exact`](Ipv4Header::emit_exact) to craft an otherwise odd header with a good sum.
    pub fn compute_checksum(&self) -> u16 {
        let mut fixed = self.fixed_bytes();
        if let Some(field) = fixed.get_mut(CHECKSUM) {
            field.fill(0);
        }
        Accumulator::new()
            .add_bytes(&fixed)
            .add_bytes(self.options.as_bytes())
            .finish()
    }

    /// Whether `header_checksum` is right for the fields as held (the same answer as
    /// [`verify_checksum`] on the bytes the header was parsed from).
    pub fn checksum_status(&self) -> ChecksumStatus {
        let mut fixed = self.fixed_bytes();
        if let Some(field) = fixed.get_mut(CHECKSUM) {
            field.fill(0);
        }
        let sum = Accumulator::new()
            .add_bytes(&fixed)
            .add_bytes(self.options.as_bytes());
        checksum::status(self.header_checksum, sum, false, None)
    }
}

/// Verifies the header checksum of `header` — the header's bytes as on the wire, exactly IHL ×
/// 4 of them (pass `&bytes[..h.header_len()]`) [RFC 791 § 3.1]. Bytes shorter than the 12
/// octets that reach the checksum field give `Bad` with `found` 0.
#[inline]
pub fn verify_checksum(header: &[u8]) -> ChecksumStatus {
    // A receiver's check [RFC 1071 § 2]: the sum over the header, checksum field included,
    // is all ones when the field is right. Only a wrong field needs the expected value below.
    if header.len() >= CHECKSUM.end && Accumulator::new().add_bytes(header).sum16() == 0xffff {
        return ChecksumStatus::Good;
    }
    let found = match header.get(CHECKSUM) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let before = header.get(..CHECKSUM.start).unwrap_or(header);
    let after = header.get(CHECKSUM.end..).unwrap_or_default();
    // The checksum field sits at an even offset, so skipping it keeps the word alignment.
    let sum = Accumulator::new().add_bytes(before).add_bytes(after);
    checksum::status(found, sum, false, None)
}

impl fmt::Display for Ipv4Header<'_> {
    /// One line in the style of tcpdump's verbose IP summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv4 {} > {}: {} tos {:#04x} ttl {} id {} len {}",
            self.source,
            self.destination,
            self.protocol,
            (self.dscp << 2) | self.ecn.bits(),
            self.ttl,
            self.identification,
            self.total_length
        )?;
        if self.reserved_flag || self.dont_fragment || self.more_fragments {
            f.write_str(" flags [")?;
            let mut sep = "";
            for (set, name) in [
                (self.reserved_flag, "rsvd"),
                (self.dont_fragment, "DF"),
                (self.more_fragments, "MF"),
            ] {
                if set {
                    write!(f, "{sep}{name}")?;
                    sep = ", ";
                }
            }
            f.write_str("]")?;
        }
        if self.fragment_offset != 0 {
            write!(f, " offset {}", self.fragment_offset_bytes())?;
        }
        if !self.options.is_empty() {
            write!(f, " options {} bytes", self.options.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::option::{RouteData, TimestampFlag};
    use super::*;
    use crate::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    fn bytes(h: &str) -> Vec<u8> {
        hex::decode(h).unwrap()
    }

    fn ip(a: [u8; 4]) -> Ipv4Addr {
        Ipv4Addr::from(a)
    }

    /// Parses, checks that emit_exact re-creates the header bytes, and returns the header.
    fn parse_exact(data: &[u8]) -> (Ipv4Header<'_>, &[u8]) {
        let (h, payload) = Ipv4Header::parse(data).unwrap();
        let mut out = [0u8; 60];
        let n = h.emit_exact(&mut out).unwrap();
        assert_eq!(&out[..n], &data[..h.header_len()]);
        // With a right checksum, emit() for the same payload length gives the same bytes.
        if verify_checksum(&data[..h.header_len()]) == ChecksumStatus::Good {
            let mut out2 = [0u8; 60];
            let m = h.emit(payload.len(), &mut out2).unwrap();
            assert_eq!(&out2[..m], &data[..h.header_len()]);
        }
        (h, payload)
    }

    // PcapPlusPlus/ipv4-options.pcap, IP part of each frame; values checked with `tshark -V`.
    const PPP_CIPSO: &str = "4b00006c783700004001752d7f0000017f000001861600000002021000020000000200040005000600ef0000000029508c0a0001924dae45130e0c0008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
    const PPP_TS_ONLY: &str = "4f00007c82e1400040010d440a0000060a00008a4428090004eb39b900000000000000000000000000000000000000000000000000000000000000000800e1a4085d0003dc73ab58922b090008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
    const PPP_RA_PADDED: &str = "46000024000040000102fa480a00008ae000000194040000110aec7800000000027d000000000000000000000000";
    const PPP_RR: &str = "4f000050000040004006ead80a00008a0a000006072710010203040a00008a0a00008a0000000000000000000000000000000000000000000000000000000a85000000001928c73a50140000b0590000";
    const PPP_TS_ADDR: &str = "4e0000781f850000400102c00a00008a0a00000644241d010a000006042cb0a40a00008a049a7e360a00008a049a7e3600000000000000000000a12808b200019594ac581f340a0008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
    const PPP_SSRR: &str =
        "47000024334c0000400128710a0000060a00008a018907040000000008005d079af60002";
    const PPP_LSRR: &str =
        "4700002447a30000400114200a0000060a00008a018307040000000008001f7ad8820003";

    #[test]
    fn cipso_option_is_kept_as_unknown_with_eol_and_padding() {
        let data = bytes(PPP_CIPSO);
        let (h, payload) = parse_exact(&data);
        assert_eq!(h.version, 4);
        assert_eq!(h.ihl, 11);
        assert_eq!(h.header_len(), 44);
        assert_eq!((h.dscp, h.ecn), (0, Ecn::NotEct));
        assert_eq!(h.total_length, 108);
        assert_eq!(h.identification, 0x7837);
        assert!(!h.reserved_flag && !h.dont_fragment && !h.more_fragments);
        assert_eq!(h.fragment_offset, 0);
        assert_eq!(h.ttl, 64);
        assert_eq!(h.protocol, IpProtocol::ICMP);
        assert_eq!(h.header_checksum, 0x752d);
        assert_eq!(h.source, Ipv4Addr::LOCALHOST);
        assert_eq!(h.destination, Ipv4Addr::LOCALHOST);
        assert_eq!(payload.len(), 64);
        assert_eq!(h.payload_len(), 64);
        assert_eq!(h.options.len(), 24);
        let opts: Vec<_> = h.options.iter().collect();
        assert_eq!(opts.len(), 2);
        match opts[0] {
            Ipv4Option::Unknown { kind, data } => {
                assert_eq!(kind, OptionType::COMMERCIAL_SECURITY);
                assert!(kind.copied());
                assert_eq!(kind.class(), 0);
                assert_eq!(kind.number(), 6);
                assert_eq!(data.len(), 20); // length 22
                assert_eq!(&data[..4], &[0, 0, 0, 2]); // DOI 2
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(opts[1], Ipv4Option::EndOfList);
        assert_eq!(h.options.padding(), &[0]);
        assert_eq!(verify_checksum(&data[..44]), ChecksumStatus::Good);
        assert_eq!(h.checksum_status(), ChecksumStatus::Good);
    }

    #[test]
    fn timestamp_only_option() {
        let data = bytes(PPP_TS_ONLY);
        let (h, _) = parse_exact(&data);
        assert_eq!(h.header_len(), 60);
        assert_eq!(h.total_length, 124);
        assert!(h.dont_fragment);
        assert_eq!(h.options.len(), 40);
        let opts: Vec<_> = h.options.iter().collect();
        assert_eq!(opts.len(), 1);
        let Ipv4Option::Timestamp {
            pointer,
            overflow,
            flag,
            data: ts,
        } = opts[0]
        else {
            panic!("{:?}", opts[0])
        };
        assert_eq!(opts[0].len(), 40);
        assert_eq!(
            (pointer, overflow, flag),
            (9, 0, TimestampFlag::TIMESTAMPS_ONLY)
        );
        let entries: Vec<_> = ts.entries(flag).collect();
        assert_eq!(entries.len(), 9);
        assert_eq!(entries[0], (None, 82524601));
        assert!(entries[1..].iter().all(|&e| e == (None, 0)));
        assert_eq!(opts[0].timestamps().unwrap().count(), 9);
        assert_eq!(h.checksum_status(), ChecksumStatus::Good);
    }

    #[test]
    fn router_alert_and_ethernet_padding_excluded_from_payload() {
        let data = bytes(PPP_RA_PADDED);
        assert_eq!(data.len(), 46); // 60-byte frame minus the Ethernet header
        let (h, payload) = parse_exact(&data);
        assert_eq!(h.ihl, 6);
        assert_eq!(h.total_length, 36);
        assert_eq!(h.ttl, 1);
        assert_eq!(h.protocol, IpProtocol::IGMP);
        assert_eq!(h.destination, ip([224, 0, 0, 1]));
        assert_eq!(payload.len(), 12);
        assert_eq!(payload, &data[24..36]);
        let opt = h.options.iter().next().unwrap();
        assert_eq!(opt, Ipv4Option::RouterAlert { value: 0 });
        assert_eq!(opt.kind().0, 148);
        assert!(opt.kind().copied());
        assert_eq!(opt.kind().number(), 20);
        // parse_header keeps everything after the header, padding included.
        let (_, rest) = Ipv4Header::parse_header(&data).unwrap();
        assert_eq!(rest.len(), 22);
    }

    #[test]
    fn record_route_with_odd_length_and_eol() {
        let data = bytes(PPP_RR);
        let (h, payload) = parse_exact(&data);
        assert_eq!(h.protocol, IpProtocol::TCP);
        assert_eq!(payload.len(), 20);
        let opts: Vec<_> = h.options.iter().collect();
        assert_eq!(opts.len(), 2);
        let Ipv4Option::RecordRoute { pointer, route } = opts[0] else {
            panic!("{:?}", opts[0])
        };
        assert_eq!(opts[0].len(), 39);
        assert_eq!(pointer, 16);
        let addrs: Vec<_> = route.iter().collect();
        assert_eq!(addrs.len(), 9);
        assert_eq!(addrs[0], ip([1, 2, 3, 4]));
        assert_eq!(addrs[1], ip([10, 0, 0, 138]));
        assert_eq!(addrs[2], ip([10, 0, 0, 138]));
        assert!(addrs[3..].iter().all(|a| a.is_unspecified()));
        assert!(route.trailing().is_empty());
        // Wireshark marks the fourth slot "(next)".
        assert_eq!(route.at_pointer(pointer), Some(Ipv4Addr::UNSPECIFIED));
        assert_eq!(route.at_pointer(4), Some(ip([1, 2, 3, 4])));
        assert_eq!(route.at_pointer(40), None);
        assert_eq!(opts[1], Ipv4Option::EndOfList);
        assert!(h.options.padding().is_empty());
    }

    #[test]
    fn timestamp_with_addresses() {
        let data = bytes(PPP_TS_ADDR);
        let (h, _) = parse_exact(&data);
        assert_eq!(h.ihl, 14);
        assert_eq!(h.identification, 8069);
        let opt = h.options.iter().next().unwrap();
        let Ipv4Option::Timestamp {
            pointer,
            overflow,
            flag,
            ..
        } = opt
        else {
            panic!("{opt:?}")
        };
        assert_eq!(opt.len(), 36);
        assert_eq!(
            (pointer, overflow, flag),
            (29, 0, TimestampFlag::ADDRESS_AND_TIMESTAMP)
        );
        let entries: Vec<_> = opt.timestamps().unwrap().collect();
        assert_eq!(
            entries,
            vec![
                (Some(ip([10, 0, 0, 6])), 70037668),
                (Some(ip([10, 0, 0, 138])), 77233718),
                (Some(ip([10, 0, 0, 138])), 77233718),
                (Some(Ipv4Addr::UNSPECIFIED), 0),
            ]
        );
    }

    #[test]
    fn source_routes_after_nop() {
        for (hex, strict) in [(PPP_SSRR, true), (PPP_LSRR, false)] {
            let data = bytes(hex);
            let (h, payload) = parse_exact(&data);
            assert_eq!(h.ihl, 7);
            assert_eq!(payload.len(), 8);
            let opts: Vec<_> = h.options.iter().collect();
            assert_eq!(opts[0], Ipv4Option::NoOperation);
            let route = RouteData(&[0, 0, 0, 0]);
            let expected = if strict {
                Ipv4Option::StrictSourceRoute { pointer: 4, route }
            } else {
                Ipv4Option::LooseSourceRoute { pointer: 4, route }
            };
            assert_eq!(opts[1], expected);
            assert_eq!(opts[1].len(), 7);
            assert!(opts[1].kind().copied());
            assert_eq!(opts[1].kind().number(), if strict { 9 } else { 3 });
            // The option list ends at the header's end with no EOL.
            assert_eq!(opts.len(), 2);
        }
    }

    // suricata-verify/detect-ipopts/input.pcap (raw IPv4), checked with tshark.
    #[test]
    fn scapy_security_stream_id_and_full_timestamp() {
        let sec = bytes("48000034000100004006132b090a0b0c0d0e0f10820b00000000000058595a00001400500000000000000000500220005f4b0000");
        let (h, _) = parse_exact(&sec);
        let opt = h.options.iter().next().unwrap();
        let Ipv4Option::Security { data } = opt else {
            panic!("{opt:?}")
        };
        assert_eq!(opt.len(), 11);
        let f = data.rfc791().unwrap();
        assert_eq!(f.security, 0); // Unclassified
        assert_eq!(f.compartments, 0);
        assert_eq!(f.transmission_control_code, 0x58595a); // "XYZ"
        assert_eq!(data.classification_level(), None);

        let sid = bytes("4600002c000100004006c193090a0b0c0d0e0f1088040000001400500000000000000000500220005f4b0000");
        let (h, _) = parse_exact(&sid);
        assert_eq!(
            h.options.iter().next(),
            Some(Ipv4Option::StreamId { id: 0 })
        );

        // Timestamp length 8, pointer 9: the area is full, which is valid.
        let ts = bytes("47000030000100004006fb8b090a0b0c0d0e0f104408090000000000001400500000000000000000500220005f4b0000");
        let (h, _) = parse_exact(&ts);
        let opt = h.options.iter().next().unwrap();
        assert!(matches!(opt, Ipv4Option::Timestamp { pointer: 9, .. }));
        assert_eq!(
            opt.timestamps().unwrap().collect::<Vec<_>>(),
            vec![(None, 0)]
        );

        let lsrr = bytes("48000034000100004006ac74090a0b0c0d0e0f10830b04010203040506070800001400500000000000000000500220006f5b0000");
        let (h, _) = parse_exact(&lsrr);
        let Some(Ipv4Option::LooseSourceRoute { pointer, route }) = h.options.iter().next() else {
            panic!()
        };
        assert_eq!(pointer, 4);
        assert_eq!(
            route.iter().collect::<Vec<_>>(),
            vec![ip([1, 2, 3, 4]), ip([5, 6, 7, 8])]
        );
        assert_eq!(h.options.padding(), &[] as &[u8]);
        // Route not yet travelled: the pseudo-header names its last hop (tshark agrees: the
        // TCP checksum of this frame is good only with 5.6.7.8).
        assert_eq!(h.destination, ip([13, 14, 15, 16]));
        assert_eq!(h.final_destination(), ip([5, 6, 7, 8]));
        // Pointer past the route (travelled): the header's destination is final.
        let mut done = lsrr.clone();
        done[22] = 12;
        let (h, _) = parse_exact(&done);
        assert_eq!(h.final_destination(), ip([13, 14, 15, 16]));
    }

    // tcpdump/IGMP_V2.pcap frames 1 and 2.
    #[test]
    fn igmp_v2_router_alert() {
        let plain = bytes("4500001c655100000102b2e3c0a80102e00000011164ee9b00000000000000000000000000000000000000000000");
        let (h, payload) = parse_exact(&plain);
        assert!(h.options.is_empty());
        assert_eq!(h.identification, 25937);
        assert_eq!(h.source, ip([192, 168, 1, 2]));
        assert_eq!(payload.len(), 8);
        let ra = bytes("460000208c6200000102e692c0a80140effffffa940400001600fa04effffffa");
        let (h, payload) = parse_exact(&ra);
        assert_eq!(
            h.options.find(OptionType::ROUTER_ALERT),
            Some(Ipv4Option::RouterAlert { value: 0 })
        );
        assert_eq!(h.destination, ip([239, 255, 255, 250]));
        assert_eq!(payload.len(), 8);
        assert_eq!(verify_checksum(&ra[..24]), ChecksumStatus::Good);
    }

    // arkime/ip-boundaries.pcap: tshark says the checksum 0x6761 should be 0x5f25.
    #[test]
    fn bad_checksum_parses_and_verifies_bad() {
        let data = bytes("450000831e4600003d116761ffffffff00000000c6470c87006f62e164313a6164323a696432303a5a68d3ec069f47fef50e79ddf086ac4d2e5e2622363a74617267657432303a5a794bf8d902c9446cfa18f9a0ca82abe44400c865313a71393a66696e645f6e6f6465313a74343a76fd8227313a76343a555473f2313a79313a7165");
        let (h, payload) = parse_exact(&data);
        assert_eq!(h.source, Ipv4Addr::BROADCAST);
        assert_eq!(h.destination, Ipv4Addr::UNSPECIFIED);
        assert_eq!(payload.len(), 111);
        let bad = ChecksumStatus::Bad {
            expected: 0x5f25,
            found: 0x6761,
        };
        assert_eq!(verify_checksum(&data[..20]), bad);
        assert_eq!(h.checksum_status(), bad);
        assert_eq!(h.compute_checksum(), 0x5f25);
    }

    fn err(data: &[u8]) -> Error {
        Ipv4Header::parse(data).unwrap_err()
    }

    fn bad_value(e: &Error) -> (Layer, &'static str, usize, u64, Option<u8>) {
        match e.kind {
            ErrorKind::BadValue { found, .. } => (e.layer, e.field, e.offset, found, e.pointer),
            _ => panic!("not BadValue: {e:?}"),
        }
    }

    fn truncated(e: &Error) -> (Layer, &'static str, usize, usize, usize) {
        match e.kind {
            ErrorKind::Truncated { needed, got } => (e.layer, e.field, e.offset, needed, got),
            _ => panic!("not Truncated: {e:?}"),
        }
    }

    // PcapPlusPlus/ipv4-malformed.pcap frame 1: total length 11 (tshark: "bogus, less than
    // header length 20").
    #[test]
    fn total_length_below_header_length() {
        let data = bytes("4500000b4709400080062fccc0a80104c0a80103080d01bbad5bcbca192da064");
        let e = err(&data);
        assert_eq!(bad_value(&e), (Layer::Ipv4, "total length", 2, 11, Some(2)));
        assert!(Ipv4Header::parse_header(&data).is_ok());
        // tcpdump/ipv4_invalid_total_length_2.pcap: total length 19.
        let data = bytes("45000013f1a60000401145948cd309ce2d217f9c98b7003500406ecb92aa0120");
        assert_eq!(
            bad_value(&err(&data)),
            (Layer::Ipv4, "total length", 2, 19, Some(2))
        );
    }

    // PcapPlusPlus/ipv4-malformed.pcap frame 2: version 5 (tshark: "Bogus IPv4 version").
    #[test]
    fn version_not_4() {
        let data = bytes("55040010a2b7400141070e87e4138ec18c406b16ea5901bb774b3a3db71a92c0");
        assert_eq!(
            bad_value(&err(&data)),
            (Layer::Ipv4, "version", 0, 5, Some(0))
        );
        let e = Ipv4Header::parse_header(&data).unwrap_err();
        assert_eq!(e.field, "version");
        // Checked even when the rest is missing.
        assert_eq!(
            bad_value(&err(&[0x60])),
            (Layer::Ipv4, "version", 0, 6, Some(0))
        );
    }

    // tcpdump/ipv4_invalid_hdr_length.pcap: IHL 4 (tshark: "Bogus IP header length (16, must
    // be at least 20)").
    #[test]
    fn ihl_below_5() {
        let data = bytes("44000054f1a60000401145948cd309ce2d217f9c98b7003500406ecb92aa0120");
        assert_eq!(bad_value(&err(&data)), (Layer::Ipv4, "IHL", 0, 4, Some(0)));
        assert_eq!(
            bad_value(&err(&[0x40])),
            (Layer::Ipv4, "IHL", 0, 0, Some(0))
        );
    }

    // tcpdump/ipv4_invalid_length.pcap: snaplen 33 leaves 19 bytes of IP header.
    #[test]
    fn short_fixed_header() {
        let data = bytes("45000054fc35000040113b058cd309ce2d217f");
        assert_eq!(data.len(), 19);
        let e = err(&data);
        assert_eq!(truncated(&e), (Layer::Ipv4, "header", 0, 20, 19));
        assert!(e.is_truncation());
        assert_eq!(e.pointer, None);
        assert_eq!(
            truncated(&Ipv4Header::parse_header(&data).unwrap_err()),
            (Layer::Ipv4, "header", 0, 20, 19)
        );
        assert_eq!(truncated(&err(&[])), (Layer::Ipv4, "header", 0, 20, 0));
    }

    // tcpdump/ipv4_invalid_total_length.pcap: total length 85, 84 bytes present (tshark: "IPv4
    // total length exceeds packet length (84 bytes)").
    #[test]
    fn total_length_past_the_bytes() {
        let data = bytes("45000055f1a60000401145938cd309ce2d217f9c98b7003500406ecb92aa01200001000000000001037777770774637064756d70036f7267000001000100002904d000000000000c000a00088bc0e5f53e713bbd");
        assert_eq!(data.len(), 84);
        let e = err(&data);
        assert_eq!(truncated(&e), (Layer::Ipv4, "total length", 2, 85, 84));
        assert_eq!(e.pointer, None);
        // The header alone is fine, and the lax parser gives the rest.
        let (h, rest) = Ipv4Header::parse_header(&data).unwrap();
        assert_eq!(h.total_length, 85);
        assert_eq!(h.protocol, IpProtocol::UDP);
        assert_eq!(rest.len(), 64);
        assert_eq!(h.payload_len(), 65);
    }

    #[test]
    fn options_cut_short() {
        // IHL 6 but only 22 bytes.
        let data = bytes("460000200000400001022d52c0a80bc9e10a0a0a9404");
        let e = err(&data);
        assert_eq!(truncated(&e), (Layer::Ipv4, "options", 20, 24, 22));
    }

    // tcpdump/ip_ts_opts_asan.pcap: a Timestamp option then type 0xf5 with length 19 where two
    // octets are left (tshark: "option length = 19 bytes says option goes past end of options").
    #[test]
    fn option_past_header_end_from_fuzzed_capture() {
        let data =
            bytes("49e2ff270020e0000001a09b950821515f1253e3440e050100003470494220020105f513");
        assert_eq!(data.len(), 36);
        let e = err(&data);
        assert_eq!(
            bad_value(&e),
            (Layer::Ipv4Option, "option length", 35, 19, Some(35))
        );
        assert_eq!(Ipv4Header::parse_header(&data).unwrap_err(), e);
        // The fixed part, as tshark reads it; unchecked options keep the good Timestamp.
        assert!(
            Ipv4Header::parse_header(&data[..20]).is_err(),
            "IHL 9 needs 36 bytes"
        );
        let fixed = [&[0x45], &data[1..20]].concat();
        let (h, _) = Ipv4Header::parse_header(&fixed).unwrap();
        assert_eq!((h.dscp, h.ecn), (56, Ecn::Ect0));
        assert_eq!(h.total_length, 65319);
        assert_eq!(h.identification, 32);
        assert!(h.reserved_flag && h.dont_fragment && h.more_fragments);
        assert_eq!(h.ttl, 0);
        assert_eq!(h.header_checksum, 0xa09b);
        assert_eq!(h.source, ip([149, 8, 33, 81]));
        assert_eq!(h.destination, ip([95, 18, 83, 227]));
        let raw = Ipv4Options::raw(&data[20..]);
        let opts: Vec<_> = raw.iter().collect();
        assert_eq!(opts.len(), 1);
        let Ipv4Option::Timestamp {
            pointer,
            flag,
            data: ts,
            ..
        } = opts[0]
        else {
            panic!()
        };
        assert_eq!((pointer, flag), (5, TimestampFlag::ADDRESS_AND_TIMESTAMP));
        assert_eq!(
            ts.entries(flag).collect::<Vec<_>>(),
            vec![(Some(ip([0, 0, 52, 112])), 1229070338)]
        );
        assert_eq!(ts.as_bytes().len(), 10);
    }

    #[test]
    fn total_length_zero_tso() {
        let data = bytes("4500000065510000010200000a0000010a00000211");
        let e = err(&data);
        assert_eq!(bad_value(&e), (Layer::Ipv4, "total length", 2, 0, Some(2)));
        let (h, rest) = Ipv4Header::parse_header(&data).unwrap();
        assert_eq!(h.total_length, 0);
        assert_eq!(rest, &[0x11]);
        assert_eq!(h.payload_len(), 0);
    }

    fn rfc791_header(total_length: u16, protocol: u8) -> Ipv4Header<'static> {
        Ipv4Header {
            total_length,
            identification: 111,
            ttl: 123,
            ..Ipv4Header::new(ip([10, 0, 0, 1]), ip([10, 0, 0, 2]), IpProtocol(protocol))
        }
    }

    // RFC 791 Appendix A, Example 1: the minimal datagram, total length 21. Addresses are not
    // given there; 10.0.0.1 → 10.0.0.2 here, checksum computed with a separate script.
    #[test]
    fn rfc791_example_1() {
        let h = rfc791_header(0, 1);
        let mut out = [0u8; 21];
        assert_eq!(h.len(), 20);
        let n = h.emit(1, &mut out).unwrap();
        assert_eq!(n, 20);
        out[20] = 0x99;
        assert_eq!(
            hex::encode(&out[..20]),
            "45000015006f00007b012b770a0000010a000002"
        );
        let (parsed, payload) = Ipv4Header::parse(&out).unwrap();
        assert_eq!(payload, &[0x99]);
        assert_eq!(
            parsed,
            Ipv4Header {
                total_length: 21,
                header_checksum: 0x2b77,
                ..h
            }
        );
        assert!(!parsed.is_fragment());
    }

    // RFC 791 Appendix A, Example 2: a 472-octet datagram and its two fragments.
    #[test]
    fn rfc791_example_2_fragments() {
        let whole = rfc791_header(472, 6);
        let mut out = [0u8; 20];
        whole.emit(452, &mut out).unwrap();
        assert_eq!(hex::encode(out), "450001d8006f00007b0629af0a0000010a000002");
        let first = Ipv4Header {
            total_length: 276,
            more_fragments: true,
            ttl: 119,
            ..whole
        };
        let second = Ipv4Header {
            total_length: 216,
            fragment_offset: 32,
            ttl: 119,
            ..whole
        };
        for (h, payload) in [(first, 256), (second, 196)] {
            let mut buf = vec![0u8; 20 + payload];
            h.emit(payload, &mut buf).unwrap();
            let (p, data) = Ipv4Header::parse(&buf).unwrap();
            assert_eq!(data.len(), payload);
            assert_eq!(p.total_length, h.total_length);
            assert!(p.is_fragment());
            assert_eq!(verify_checksum(&buf[..20]), ChecksumStatus::Good);
        }
        assert_eq!(second.fragment_offset_bytes(), 256);
        assert_eq!(u16::from_be_bytes([out[6], out[7]]), 0);
        let mut buf = [0u8; 20];
        second.emit(196, &mut buf).unwrap();
        assert_eq!(&buf[6..8], &[0x00, 0x20]);
        first.emit(256, &mut buf).unwrap();
        assert_eq!(&buf[6..8], &[0x20, 0x00]);
    }

    // RFC 791 Appendix A, Example 3: options x(len 3), x(len 4), NOP, y(len 3), EOL; codes x
    // and y unspecified there, 0x0a and 0x0b here.
    #[test]
    fn rfc791_example_3_options() {
        let mut data = bytes("48000240006f00007b06b9780a0000010a0000020a03aa0a04bbcc010b03dd00");
        data.resize(576, 0);
        let (h, payload) = parse_exact(&data);
        assert_eq!(h.ihl, 8);
        assert_eq!(payload.len(), 576 - 32);
        let opts: Vec<_> = h.options.iter().collect();
        assert_eq!(
            opts,
            vec![
                Ipv4Option::Unknown {
                    kind: OptionType(0x0a),
                    data: &[0xaa]
                },
                Ipv4Option::Unknown {
                    kind: OptionType(0x0a),
                    data: &[0xbb, 0xcc]
                },
                Ipv4Option::NoOperation,
                Ipv4Option::Unknown {
                    kind: OptionType(0x0b),
                    data: &[0xdd]
                },
                Ipv4Option::EndOfList,
            ]
        );
        assert_eq!(h.checksum_status(), ChecksumStatus::Good);
    }

    #[test]
    fn emit_pads_options_with_eol_and_fills_fields() {
        let opt_bytes = [0x94, 0x04, 0x00, 0x00, 0x01];
        let h = Ipv4Header {
            ihl: 0,
            total_length: 1,
            header_checksum: 0xdead,
            options: Ipv4Options::parse(&opt_bytes).unwrap(),
            ..Ipv4Header::new(ip([192, 168, 0, 1]), ip([224, 0, 0, 22]), IpProtocol::IGMP)
        };
        assert_eq!(h.len(), 28);
        let mut out = [0xffu8; 40];
        assert_eq!(h.emit(8, &mut out), Ok(28));
        assert_eq!(out[0], 0x47);
        assert_eq!(&out[2..4], &[0, 36]);
        assert_eq!(&out[20..28], &[0x94, 4, 0, 0, 1, 0, 0, 0]);
        assert_eq!(out[28], 0xff, "nothing written past the header");
        assert_eq!(verify_checksum(&out[..28]), ChecksumStatus::Good);
        let (p, rest) = Ipv4Header::parse_header(&out).unwrap();
        assert_eq!(rest.len(), 12);
        assert_eq!(
            p.options.iter().collect::<Vec<_>>(),
            vec![
                Ipv4Option::RouterAlert { value: 0 },
                Ipv4Option::NoOperation,
                Ipv4Option::EndOfList
            ]
        );
        assert_eq!(p.options.padding(), &[0, 0]);
        // emit_exact writes the options unpadded and the fields as held.
        let mut exact = [0u8; 40];
        assert_eq!(h.emit_exact(&mut exact), Ok(25));
        assert_eq!(exact[0], 0x40);
        assert_eq!(&exact[10..12], &[0xde, 0xad]);
    }

    #[test]
    fn emit_errors() {
        let h = Ipv4Header::new(ip([1, 1, 1, 1]), ip([2, 2, 2, 2]), IpProtocol::UDP);
        let mut out = [0u8; 60];
        let e = h.emit(0, &mut out[..19]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 20,
                got: 19
            }
        );
        assert_eq!(e.layer, Layer::Ipv4);
        let e = h.emit_exact(&mut out[..19]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 20,
                got: 19
            }
        );
        let e = h.emit(65516, &mut out).unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            (
                "total length",
                ErrorKind::TooLong {
                    max: 65535,
                    got: 65536
                }
            )
        );
        assert_eq!(h.emit(65515, &mut out), Ok(20));
        let cases: [(Ipv4Header, &str, usize, usize); 5] = [
            (Ipv4Header { dscp: 64, ..h }, "DSCP", 63, 64),
            (
                Ipv4Header {
                    fragment_offset: 0x2000,
                    ..h
                },
                "fragment offset",
                8191,
                8192,
            ),
            (Ipv4Header { version: 16, ..h }, "version", 15, 16),
            (Ipv4Header { ihl: 16, ..h }, "IHL", 15, 16),
            (
                Ipv4Header {
                    options: Ipv4Options::raw(&[1; 41]),
                    ..h
                },
                "options",
                40,
                41,
            ),
        ];
        for (bad, field, max, got) in cases {
            let e = bad.emit_exact(&mut out).unwrap_err();
            assert_eq!(
                (e.field, e.kind),
                (field, ErrorKind::TooLong { max, got }),
                "{field}"
            );
            if field != "IHL" {
                let e = bad.emit(0, &mut out).unwrap_err();
                assert_eq!(e.field, field);
            }
        }
        let options = Ipv4Header {
            options: Ipv4Options::raw(&[1; 5]),
            ..h
        };
        let e = options.emit_exact(&mut out[..24]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 25,
                got: 24
            }
        );
        let e = options.emit(0, &mut out[..27]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 28,
                got: 27
            }
        );
    }

    #[test]
    fn crafted_header_emits_exactly_and_checksum_helpers() {
        // Version 6, IHL 5 with 4 option bytes, wrong checksum: all written as held.
        let h = Ipv4Header {
            version: 6,
            reserved_flag: true,
            options: Ipv4Options::raw(&[1, 1, 1, 0]),
            header_checksum: 0x1234,
            ..Ipv4Header::new(ip([1, 2, 3, 4]), ip([5, 6, 7, 8]), IpProtocol(253))
        };
        let mut out = [0u8; 24];
        assert_eq!(h.emit_exact(&mut out), Ok(24));
        assert_eq!(&out[..2], &[0x65, 0x00]);
        assert_eq!(&out[6..8], &[0x80, 0x00]);
        assert_eq!(&out[10..12], &[0x12, 0x34]);
        assert_eq!(&out[20..], &[1, 1, 1, 0]);
        assert!(matches!(
            verify_checksum(&out),
            ChecksumStatus::Bad { found: 0x1234, .. }
        ));
        let fixed = Ipv4Header {
            header_checksum: h.compute_checksum(),
            ..h
        };
        fixed.emit_exact(&mut out).unwrap();
        assert_eq!(verify_checksum(&out), ChecksumStatus::Good);
        assert_eq!(fixed.checksum_status(), ChecksumStatus::Good);
        assert!(matches!(
            verify_checksum(&out[..5]),
            ChecksumStatus::Bad { found: 0, .. }
        ));
    }

    #[test]
    fn display_and_names() {
        let data = bytes(PPP_TS_ONLY);
        let (h, _) = Ipv4Header::parse(&data).unwrap();
        assert_eq!(
            h.to_string(),
            "IPv4 10.0.0.6 > 10.0.0.138: ICMP (1) tos 0x00 ttl 64 id 33505 len 124 flags [DF] options 40 bytes"
        );
        assert_eq!(IpProtocol::TCP.to_string(), "TCP (6)");
        assert_eq!(IpProtocol(253).to_string(), "Unknown (253)");
        assert_eq!(OptionType::TIMESTAMP.to_string(), "Time Stamp (68)");
        for b in 0..4 {
            assert_eq!(Ecn::from_bits(b).bits(), b);
        }
        assert_eq!(Ecn::from_bits(2), Ecn::Ect0);
    }

    // ---- property tests ----

    fn arb_addr() -> impl Strategy<Value = [u8; 4]> {
        any::<[u8; 4]>()
    }

    /// A valid option list as bytes (built with the typed writer), at most 40 octets.
    fn arb_option_bytes() -> impl Strategy<Value = Vec<u8>> {
        option::tests::arb_options().prop_map(|opts| {
            let typed: Vec<Ipv4Option<'_>> = opts.iter().map(|o| o.as_option()).collect();
            let mut buf = vec![0u8; 255 * 8];
            let n = Ipv4Option::write_all(&typed, &mut buf).unwrap();
            buf.truncate(n);
            buf
        })
    }

    prop_compose! {
        fn arb_header_parts()(
            dscp in 0u8..64, ecn in 0u8..4, id in any::<u16>(),
            flags in 0u8..8, offset in 0u16..0x2000, ttl in any::<u8>(), proto in any::<u8>(),
            src in arb_addr(), dst in arb_addr(), options in arb_option_bytes(),
            payload_len in 0usize..100,
        ) -> (Ipv4Header<'static>, Vec<u8>, usize) {
            let h = Ipv4Header {
                dscp,
                ecn: Ecn::from_bits(ecn),
                identification: id,
                reserved_flag: flags & 4 != 0,
                dont_fragment: flags & 2 != 0,
                more_fragments: flags & 1 != 0,
                fragment_offset: offset,
                ttl,
                ..Ipv4Header::new(Ipv4Addr::from(src), Ipv4Addr::from(dst), IpProtocol(proto))
            };
            (h, options, payload_len)
        }
    }

    proptest! {
        #[test]
        fn header_value_round_trips((h, opts, payload_len) in arb_header_parts()) {
            // Options as the header holds them after parsing: padded to a multiple of 4.
            let mut padded = opts.clone();
            padded.resize(opts.len().div_ceil(4) * 4, 0);
            prop_assume!(padded.len() <= 40);
            let h = Ipv4Header { options: Ipv4Options::parse(&padded).unwrap(), ..h };
            let mut buf = vec![0u8; h.len() + payload_len];
            let n = h.emit(payload_len, &mut buf).unwrap();
            prop_assert_eq!(n, 20 + padded.len());
            let (p, payload) = Ipv4Header::parse(&buf).unwrap();
            prop_assert_eq!(payload.len(), payload_len);
            let expected = Ipv4Header {
                ihl: (n / 4) as u8,
                total_length: (n + payload_len) as u16,
                header_checksum: p.header_checksum,
                ..h
            };
            prop_assert_eq!(p, expected);
            prop_assert_eq!(p.checksum_status(), ChecksumStatus::Good);
            prop_assert_eq!(verify_checksum(&buf[..n]), ChecksumStatus::Good);
            // The typed options survive: writing them again gives the option bytes.
            let typed: Vec<_> = p.options.iter().collect();
            let mut again = vec![0u8; 40];
            let m = Ipv4Option::write_all(&typed, &mut again).unwrap();
            prop_assert_eq!(&again[..m], &padded[..m]);
            prop_assert!(padded[m..].iter().all(|&b| b == 0));
        }

        #[test]
        fn valid_bytes_re_emit_identically(
            (h, opts, payload_len) in arb_header_parts(),
            checksum in any::<u16>(),
            junk in proptest::collection::vec(any::<u8>(), 0..3),
            trailer in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            // Valid option bytes followed by an EOL and arbitrary padding, any checksum, and
            // bytes after total length: all of it is kept.
            let mut o = opts;
            if !junk.is_empty() {
                o.push(0);
                o.extend_from_slice(&junk);
            }
            o.resize(o.len().div_ceil(4) * 4, 0);
            prop_assume!(o.len() <= 40);
            let hdr = Ipv4Header { options: Ipv4Options::raw(&o), ..h };
            let mut buf = vec![0u8; hdr.len() + payload_len];
            hdr.emit(payload_len, &mut buf).unwrap();
            buf[10..12].copy_from_slice(&checksum.to_be_bytes());
            buf.extend_from_slice(&trailer);
            let (p, payload) = Ipv4Header::parse(&buf).unwrap();
            prop_assert_eq!(payload.len(), payload_len);
            let mut out = [0u8; 60];
            let n = p.emit_exact(&mut out).unwrap();
            prop_assert_eq!(&out[..n], &buf[..n]);
            prop_assert_eq!(n, p.header_len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok((h, payload)) = Ipv4Header::parse(&data) {
                let mut out = [0u8; 60];
                let n = h.emit_exact(&mut out).unwrap();
                prop_assert_eq!(&out[..n], &data[..n]);
                prop_assert_eq!(n + payload.len(), usize::from(h.total_length));
                let _ = h.options.iter().count();
            }
            if let Ok((h, rest)) = Ipv4Header::parse_header(&data) {
                prop_assert_eq!(h.header_len() + rest.len(), data.len());
            }
            let _ = verify_checksum(&data);
        }

        #[test]
        fn version_4_bytes_never_panic(mut data in proptest::collection::vec(any::<u8>(), 20..80)) {
            // Bias toward headers that get past the version and IHL checks.
            data[0] = 0x40 | (data[0] % 11 + 5);
            if let Ok((h, rest)) = Ipv4Header::parse_header(&data) {
                let mut out = [0u8; 60];
                let n = h.emit_exact(&mut out).unwrap();
                prop_assert_eq!(&out[..n], &data[..n]);
                prop_assert_eq!(n + rest.len(), data.len());
            }
        }
    }
}
