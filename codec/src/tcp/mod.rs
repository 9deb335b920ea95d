//! TCP: the segment header with its control bits and options, parse and emit, and checksum
//! verification over the IPv4 pseudo-header [RFC 9293 § 3.1].
//!
//! The header keeps every bit: the three reserved bits, all nine control bits (including AE,
//! the Accurate ECN bit that was NS [RFC 9768 § 3.1; RFC 3540]), and the option bytes as a
//! zero-copy [`TcpOptions`], read as typed [`TcpOption`]s by [`option`]. Parsing validates the
//! structure (data offset, option lengths) and never looks at the checksum.

use core::fmt;
use core::net::Ipv4Addr;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

use crate::checksum::{self, Accumulator, ChecksumStatus};
use crate::error::{Error, Layer, Result};

pub mod option;

pub use option::{SackBlock, SackBlocks, TcpOption, TcpOptions};

/// The IPv4 protocol number of TCP.
pub const PROTOCOL: u8 = 6;

/// Length of the fixed header (data offset 5).
pub const HEADER_LEN: usize = 20;

/// Largest header: data offset 15.
pub const MAX_HEADER_LEN: usize = 60;

/// Byte ranges of the header fields [RFC 9293 § 3.1, Figure 1].
pub mod field {
    use core::ops::Range;
    /// Source port.
    pub const SOURCE_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DESTINATION_PORT: Range<usize> = 2..4;
    /// Sequence number.
    pub const SEQUENCE_NUMBER: Range<usize> = 4..8;
    /// Acknowledgment number.
    pub const ACKNOWLEDGMENT_NUMBER: Range<usize> = 8..12;
    /// Data offset (high 4 bits), reserved (next 3 bits) and the AE flag (low bit).
    pub const DATA_OFFSET: usize = 12;
    /// The 16 bits holding data offset, reserved bits and the nine control bits.
    pub const OFFSET_AND_FLAGS: Range<usize> = 12..14;
    /// Window.
    pub const WINDOW: Range<usize> = 14..16;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 16..18;
    /// Urgent pointer.
    pub const URGENT_POINTER: Range<usize> = 18..20;
    /// Start of the options.
    pub const OPTIONS: usize = 20;
}

/// The nine TCP control bits, as the low 9 bits of a `u16` (bit 8 is AE) [RFC 9293 § 3.1;
/// RFC 3168 § 6.1; RFC 9768 § 3.1].
///
/// ```
/// use wirecheck_codec::tcp::TcpFlags;
/// let f = TcpFlags::SYN | TcpFlags::ACK;
/// assert!(f.contains(TcpFlags::SYN));
/// assert_eq!(f.to_string(), "[SYN, ACK]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN-Echo [RFC 3168 § 6.1].
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion Window Reduced [RFC 3168 § 6.1].
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// Accurate ECN [RFC 9768 § 3.1]; was NS, the ECN nonce sum of the historic RFC 3540.
    pub const AE: TcpFlags = TcpFlags(0x100);
    /// The former name of [`AE`](TcpFlags::AE).
    pub const NS: TcpFlags = TcpFlags::AE;
    /// No flag.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// All nine flag bits.
    pub const ALL: TcpFlags = TcpFlags(0x1ff);

    /// Names in bit order from FIN up, as Wireshark lists them.
    const NAMES: [(TcpFlags, &'static str); 9] = [
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
        (TcpFlags::AE, "AE"),
    ];

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

impl Not for TcpFlags {
    type Output = TcpFlags;
    /// The complement within the nine flag bits.
    fn not(self) -> TcpFlags {
        TcpFlags(!self.0 & TcpFlags::ALL.0)
    }
}

/// Wireshark's spelling: `[SYN, ACK]`, `[FIN, SYN, RST, PSH, ACK, URG, ECE, CWR]`,
/// `[<None>]`; bits above the nine flags (never parsed, only constructed) show as `0x…`.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        let mut first = true;
        for (flag, name) in TcpFlags::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        let extra = self.0 & !TcpFlags::ALL.0;
        if extra != 0 {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "0x{extra:x}")?;
            first = false;
        }
        if first {
            f.write_str("<None>")?;
        }
        f.write_str("]")
    }
}

/// A TCP header with its options [RFC 9293 § 3.1].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Acknowledgment Number                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data | Rsv |A|C|E|U|A|P|R|S|F|                               |
/// | Offset| rvd |E|W|C|R|C|S|S|Y|I|            Window             |
/// |       |     | |R|E|G|K|H|T|N|N|                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                             data                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Fields hold the values as on the wire. [`emit`](TcpHeader::emit) computes the data offset
/// (from the options) and the checksum; [`emit_exact`](TcpHeader::emit_exact) writes them as
/// held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpHeader<'a> {
    /// Source port.
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// Sequence number of the first data octet (the ISN when SYN is set).
    pub sequence_number: u32,
    /// Next sequence number the sender expects (significant when ACK is set).
    pub acknowledgment_number: u32,
    /// Header length in 32-bit words (5 to 15), as held.
    pub data_offset: u8,
    /// The three reserved bits between the data offset and AE (0 to 7); must be sent as zero
    /// [RFC 9293 § 3.1] but are kept as received.
    pub reserved: u8,
    /// The nine control bits.
    pub flags: TcpFlags,
    /// Receive window (unscaled, as on the wire).
    pub window: u16,
    /// Checksum over pseudo-header, header and data.
    pub checksum: u16,
    /// Urgent pointer (significant when URG is set).
    pub urgent_pointer: u16,
    /// Option bytes, padding included.
    pub options: TcpOptions<'a>,
}

impl<'a> TcpHeader<'a> {
    /// A header without options; data offset 5, checksum, urgent pointer and reserved bits 0.
    pub const fn new(
        source_port: u16,
        destination_port: u16,
        sequence_number: u32,
        acknowledgment_number: u32,
        flags: TcpFlags,
        window: u16,
    ) -> TcpHeader<'static> {
        TcpHeader {
            source_port,
            destination_port,
            sequence_number,
            acknowledgment_number,
            data_offset: (HEADER_LEN / 4) as u8,
            reserved: 0,
            flags,
            window,
            checksum: 0,
            urgent_pointer: 0,
            options: TcpOptions::EMPTY,
        }
    }

    /// Parses a TCP header from the start of `bytes` and returns it with the rest of the
    /// segment (the payload: TCP has no length field, so the caller bounds `bytes` by the IP
    /// total length).
    ///
    /// Errors: fewer than 20 bytes (`Truncated`, field "header"); data offset below 5
    /// (`BadValue`, field "data offset", offset 12); a data offset reaching past the bytes
    /// present (`Truncated`, field "data offset"); a malformed option (layer `TcpOption`, the
    /// offset of that option from the start of `bytes`, see [`TcpOption::parse`]).
    // Always inlined: called once per packet on every decode path, and as an outlined call
    // its large Result is written to memory and read back (measured: 47 → 35 ns/frame).
    #[inline(always)]
    pub fn parse(bytes: &'a [u8]) -> Result<(TcpHeader<'a>, &'a [u8])> {
        let (fixed, header_len) = Self::read_fixed(bytes)?;
        let Some((header, payload)) = bytes.split_at_checked(header_len) else {
            return Err(Self::data_offset_past_end(header_len, bytes.len()));
        };
        let option_bytes = header.get(field::OPTIONS..).unwrap_or_default();
        // Segments without options skip the option walk.
        let options = if option_bytes.is_empty() {
            TcpOptions::raw(option_bytes)
        } else {
            TcpOptions::new(option_bytes).map_err(|e| e.shifted(field::OPTIONS))?
        };
        Ok((Self::from_fixed(fixed, options), payload))
    }

    /// Like [`parse`](TcpHeader::parse), but only the fixed 20 bytes must be sound: when the
    /// data offset reaches past the bytes present, or an option is malformed, the header comes
    /// back with its option bytes unchecked ([`TcpOptions::raw`], cut at the end of `bytes`)
    /// and that error beside it. For lax decoders (Wireshark, too, shows the fixed fields of
    /// such a segment).
    #[inline]
    pub fn parse_lax(bytes: &'a [u8]) -> Result<(TcpHeader<'a>, &'a [u8], Option<Error>)> {
        let (fixed, header_len) = Self::read_fixed(bytes)?;
        let (header, payload, mut error) = match bytes.split_at_checked(header_len) {
            Some((header, payload)) => (header, payload, None),
            None => (
                bytes,
                bytes.get(bytes.len()..).unwrap_or_default(),
                Some(Self::data_offset_past_end(header_len, bytes.len())),
            ),
        };
        let option_bytes = header.get(field::OPTIONS..).unwrap_or_default();
        let options = if error.is_some() {
            TcpOptions::raw(option_bytes)
        } else {
            match TcpOptions::new(option_bytes) {
                Ok(o) => o,
                Err(e) => {
                    error = Some(e.shifted(field::OPTIONS));
                    TcpOptions::raw(option_bytes)
                }
            }
        };
        Ok((Self::from_fixed(fixed, options), payload, error))
    }

    /// The checks on the fixed 20 bytes shared by the strict and lax parsers: their presence
    /// and a data offset of at least 5. Returns them and the header length (data offset × 4).
    #[inline(always)]
    fn read_fixed(bytes: &[u8]) -> Result<(&[u8; HEADER_LEN], usize)> {
        let Some(fixed) = bytes.first_chunk::<HEADER_LEN>() else {
            return Err(Error::truncated(
                Layer::Tcp,
                "header",
                0,
                HEADER_LEN,
                bytes.len(),
            ));
        };
        let data_offset = fixed[field::DATA_OFFSET] >> 4;
        let header_len = usize::from(data_offset) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::bad_value(
                Layer::Tcp,
                "data offset",
                field::DATA_OFFSET,
                "≥ 5",
                u64::from(data_offset),
            ));
        }
        Ok((fixed, header_len))
    }

    /// The error for a data offset that reaches past the bytes present.
    #[cold]
    fn data_offset_past_end(header_len: usize, got: usize) -> Error {
        Error::truncated(
            Layer::Tcp,
            "data offset",
            field::DATA_OFFSET,
            header_len,
            got,
        )
    }

    /// The header held by the fixed bytes (already checked by [`read_fixed`]) and `options`.
    ///
    /// [`read_fixed`]: TcpHeader::read_fixed
    #[inline(always)]
    fn from_fixed(fixed: &[u8; HEADER_LEN], options: TcpOptions<'a>) -> TcpHeader<'a> {
        let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, c0, c1, u0, u1] =
            *fixed;
        let offset_and_flags = u16::from_be_bytes([o0, o1]);
        TcpHeader {
            source_port: u16::from_be_bytes([sp0, sp1]),
            destination_port: u16::from_be_bytes([dp0, dp1]),
            sequence_number: u32::from_be_bytes([s0, s1, s2, s3]),
            acknowledgment_number: u32::from_be_bytes([a0, a1, a2, a3]),
            data_offset: (offset_and_flags >> 12) as u8,
            reserved: ((offset_and_flags >> 9) & 0x7) as u8,
            flags: TcpFlags(offset_and_flags & TcpFlags::ALL.0),
            window: u16::from_be_bytes([w0, w1]),
            checksum: u16::from_be_bytes([c0, c1]),
            urgent_pointer: u16::from_be_bytes([u0, u1]),
            options,
        }
    }

    /// Bytes the header takes when emitted: 20 plus the option bytes held.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }

    /// The header length the data offset field describes (data offset × 4).
    pub const fn header_len(&self) -> usize {
        self.data_offset as usize * 4
    }

    /// Sequence space a segment with `payload_len` data bytes occupies: the data plus one for
    /// SYN and one for FIN [RFC 9293 § 3.4].
    pub const fn sequence_len(&self, payload_len: usize) -> usize {
        payload_len
            .saturating_add(self.flags.contains(TcpFlags::SYN) as usize)
            .saturating_add(self.flags.contains(TcpFlags::FIN) as usize)
    }

    /// Writes header, options and `payload` to `out`, with the data offset computed from the
    /// options and the checksum computed over the pseudo-header for `source` → `destination`.
    /// Returns the bytes written.
    ///
    /// Errors: option bytes not a multiple of 4 (`BadValue`, field "options length"; build
    /// them with [`TcpOption::write_all`], which pads) or over 40 (`TooLong`, field
    /// "options"); a segment over 65535 bytes (`TooLong`, field "segment length"); reserved
    /// bits or flags that do not fit their fields (`TooLong`); a short `out`
    /// (`BufferTooSmall`).
    pub fn emit(
        &self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let options_len = self.options.len();
        if options_len > option::MAX_LEN {
            return Err(Error::too_long(
                Layer::Tcp,
                "options",
                option::MAX_LEN,
                options_len,
            ));
        }
        if options_len % 4 != 0 {
            return Err(Error::bad_value(
                Layer::Tcp,
                "options length",
                field::OPTIONS,
                "a multiple of 4",
                options_len as u64,
            ));
        }
        let header_len = HEADER_LEN + options_len;
        let total = header_len.saturating_add(payload.len());
        let Ok(tcp_length) = u16::try_from(total) else {
            return Err(Error::too_long(
                Layer::Tcp,
                "segment length",
                usize::from(u16::MAX),
                total,
            ));
        };
        let got = out.len();
        if got < total {
            return Err(Error::buffer_too_small(Layer::Tcp, total, got));
        }
        let h = TcpHeader {
            data_offset: (header_len / 4) as u8,
            checksum: 0,
            ..*self
        };
        h.emit_exact(out)?;
        let Some((header, rest)) = out.split_at_mut_checked(header_len) else {
            return Err(Error::buffer_too_small(Layer::Tcp, total, got));
        };
        if let Some(data) = rest.get_mut(..payload.len()) {
            data.copy_from_slice(payload);
        }
        let sum = checksum::pseudo_header(source, destination, PROTOCOL, tcp_length)
            .add_bytes(header)
            .add_bytes(payload)
            .finish();
        if let Some(field) = header.get_mut(field::CHECKSUM) {
            field.copy_from_slice(&sum.to_be_bytes());
        }
        Ok(total)
    }

    /// Writes the 20 fixed bytes and the option bytes exactly as held (data offset and
    /// checksum included, even if they do not match). Returns [`len`](TcpHeader::len).
    ///
    /// Errors: a data offset above 15, reserved bits above 7 or flags above 0x1FF (`TooLong`,
    /// they do not fit their fields), and a short `out` (`BufferTooSmall`).
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        if self.data_offset > 15 {
            return Err(Error::too_long(
                Layer::Tcp,
                "data offset",
                15,
                usize::from(self.data_offset),
            ));
        }
        if self.reserved > 7 {
            return Err(Error::too_long(
                Layer::Tcp,
                "reserved",
                7,
                usize::from(self.reserved),
            ));
        }
        if self.flags.0 > TcpFlags::ALL.0 {
            return Err(Error::too_long(
                Layer::Tcp,
                "flags",
                usize::from(TcpFlags::ALL.0),
                usize::from(self.flags.0),
            ));
        }
        let len = self.len();
        let got = out.len();
        let Some((fixed, rest)) = out.split_first_chunk_mut::<HEADER_LEN>() else {
            return Err(Error::buffer_too_small(Layer::Tcp, len, got));
        };
        let Some(options) = rest.get_mut(..self.options.len()) else {
            return Err(Error::buffer_too_small(Layer::Tcp, len, got));
        };
        options.copy_from_slice(self.options.as_bytes());
        let offset_and_flags =
            u16::from(self.data_offset) << 12 | u16::from(self.reserved) << 9 | self.flags.0;
        let [sp0, sp1] = self.source_port.to_be_bytes();
        let [dp0, dp1] = self.destination_port.to_be_bytes();
        let [s0, s1, s2, s3] = self.sequence_number.to_be_bytes();
        let [a0, a1, a2, a3] = self.acknowledgment_number.to_be_bytes();
        let [o0, o1] = offset_and_flags.to_be_bytes();
        let [w0, w1] = self.window.to_be_bytes();
        let [c0, c1] = self.checksum.to_be_bytes();
        let [u0, u1] = self.urgent_pointer.to_be_bytes();
        *fixed = [
            sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, c0, c1, u0, u1,
        ];
        Ok(len)
    }

    /// Verifies the checksum of a segment given as on the wire (header, options and data)
    /// between `source` and `destination` [RFC 9293 § 3.1].
    ///
    /// A field holding only the folded pseudo-header sum is `Partial`: the sender left the
    /// checksum to its network card (checksum or segmentation offload) and the capture was
    /// taken before the card filled it in. The pseudo-header length is the slice length, added
    /// as a 32-bit value so GSO/BIG TCP super-packets over 64 KiB are matched as Linux computes
    /// them. Input shorter than the checksum field is reported `Bad` with `found` 0.
    #[inline]
    pub fn verify_checksum(
        source: Ipv4Addr,
        destination: Ipv4Addr,
        segment: &[u8],
    ) -> ChecksumStatus {
        let pseudo = Accumulator::new()
            .add_addr(source)
            .add_addr(destination)
            .add_u16(u16::from(PROTOCOL))
            .add_u32(u32::try_from(segment.len()).unwrap_or(u32::MAX));
        // A receiver's check [RFC 1071 § 2]: the sum over pseudo-header and segment, checksum
        // field included, is all ones when the field is right; only a wrong field needs the
        // expected value (and the offload check) below.
        if segment.len() >= field::CHECKSUM.end && pseudo.add_bytes(segment).sum16() == 0xffff {
            return ChecksumStatus::Good;
        }
        let (Some(before), Some(found), Some(after)) = (
            segment.get(..field::CHECKSUM.start),
            segment.get(field::CHECKSUM),
            segment.get(field::CHECKSUM.end..),
        ) else {
            let expected = pseudo.add_bytes(segment).finish();
            return ChecksumStatus::Bad { expected, found: 0 };
        };
        let found = found
            .first_chunk::<2>()
            .map_or(0, |b| u16::from_be_bytes(*b));
        let sum = pseudo.add_bytes(before).add_bytes(after);
        checksum::status(found, sum, false, Some(pseudo))
    }
}

/// tshark's Info-column summary without the payload length:
/// `46656 → 80 [SYN] Seq=797190859 Win=27200 MSS=1360 SACK_PERM TSval=1131021154 TSecr=0 WS=128`.
/// Ack and Urg are shown when their flags are set; NOP and EOL are left out.
impl fmt::Display for TcpHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} → {} {} Seq={}",
            self.source_port, self.destination_port, self.flags, self.sequence_number
        )?;
        if self.flags.contains(TcpFlags::ACK) {
            write!(f, " Ack={}", self.acknowledgment_number)?;
        }
        write!(f, " Win={}", self.window)?;
        if self.flags.contains(TcpFlags::URG) {
            write!(f, " Urg={}", self.urgent_pointer)?;
        }
        for option in self.options.iter() {
            if !matches!(option, TcpOption::NoOperation | TcpOption::EndOfList) {
                write!(f, " {option}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::option::tests::{owned_list, typed};
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    struct Fixture {
        hex: &'static str,
        source: Ipv4Addr,
        destination: Ipv4Addr,
    }

    impl Fixture {
        fn bytes(&self) -> Vec<u8> {
            hex::decode(self.hex).unwrap()
        }
        fn status(&self) -> ChecksumStatus {
            TcpHeader::verify_checksum(self.source, self.destination, &self.bytes())
        }
    }

    const CLIENT: Ipv4Addr = Ipv4Addr::new(131, 155, 215, 69);
    const SERVER: Ipv4Addr = Ipv4Addr::new(137, 116, 81, 94);

    /// tcpdump/tcp-handshake-nano.pcap, frames 1–3 (tshark -V, absolute sequence numbers).
    const HANDSHAKE_SYN: Fixture = Fixture {
        hex: "b64000502f842acb00000000a0026a4050c40000020405500402080a436a03620000000001030307",
        source: CLIENT,
        destination: SERVER,
    };
    const HANDSHAKE_SYN_ACK: Fixture = Fixture {
        hex: "0050b640b7839f902f842acca012200086480000020405a0010303080402080a0df5af50436a0362",
        source: SERVER,
        destination: CLIENT,
    };
    const HANDSHAKE_ACK: Fixture = Fixture {
        hex: "b64000502f842accb7839f91801000d5d40c00000101080a436a03820df5af50",
        source: CLIENT,
        destination: SERVER,
    };
    /// tcpdump/tcp_eight_lowest_weight_flags_set.pcap: flags 0x0ff.
    const EIGHT_FLAGS: Fixture = Fixture {
        hex: "18740050225c20671cf82b1f50ff0200f4c30000",
        source: Ipv4Addr::new(10, 0, 0, 2),
        destination: Ipv4Addr::new(10, 128, 0, 2),
    };
    /// tcpdump/accecn_handshake.pcap frame 1: SYN with AE, CWR, ECE (flags 0x1c2), captured on
    /// the sender before checksum offload (tshark: 0x209c incorrect, should be 0xe443).
    const ACCECN_SYN: Fixture = Fixture {
        hex: "40310050741d4a2d00000000a1c2ffff209c0000020405b4010303060402080a06af3c1500000000",
        source: Ipv4Addr::new(31, 133, 146, 248),
        destination: Ipv4Addr::new(66, 228, 43, 12),
    };
    /// tcpdump/accecn_handshake.pcap frame 2: SYN-ACK with the AccECN experimental option
    /// (checksum 0x22a8 good).
    const ACCECN_SYN_ACK: Fixture = Fixture {
        hex: "00504031b128b393741d4a2ed092fe8822a80000020405b40402080aa5e4dec406af3c15fe0dacc0000001000000000000030307",
        source: Ipv4Addr::new(66, 228, 43, 12),
        destination: Ipv4Addr::new(31, 133, 146, 248),
    };
    /// PcapPlusPlus/TcpPacketWithOptions2.pcap: PSH+ACK with NOP NOP TS NOP WS EOL and 9
    /// payload bytes (checksum 0xdea1 good).
    const OPTIONS2: Fixture = Fixture {
        hex: "0050ac80b829cb98e977158690184ed2dea100000101080ad3f0399800030095010303020049454e44ae426082",
        source: Ipv4Addr::new(212, 199, 202, 9),
        destination: Ipv4Addr::new(10, 0, 0, 6),
    };
    /// PcapPlusPlus/TcpPacketWithOptions3.pcap: a SYN captured before offload (tshark:
    /// 0x13e0 incorrect, should be 0xdaa7).
    const OPTIONS3: Fixture = Fixture {
        hex: "eb4100502d3904e000000000a002390813e00000020405b40402080a000302f40000000001030304",
        source: Ipv4Addr::new(10, 0, 0, 6),
        destination: Ipv4Addr::new(23, 44, 242, 127),
    };
    /// tcpdump/ssh.pcap frame 48: 11 NOPs and one SACK block (checksum 0xe1f3 good).
    const SSH_SACK: Fixture = Fixture {
        hex: "0016f2c29257b836f352059ab0100154e1f300000101010101010101010101010101050af35205faf35205fb",
        source: Ipv4Addr::new(223, 132, 53, 222),
        destination: Ipv4Addr::new(202, 108, 87, 165),
    };
    /// tcpdump/tfo-5c1fa7f9ae91.pcap frame 13: SYN with a TFO cookie and 4 bytes of data.
    const TFO_SYN_DATA: Fixture = Fixture {
        hex: "32f832fe37d56783000000008002057805b40000fe0af9890909090900000101deadbeef",
        source: Ipv4Addr::new(192, 168, 0, 100),
        destination: Ipv4Addr::new(3, 3, 3, 3),
    };

    #[test]
    fn handshake_syn_fields() {
        let bytes = HANDSHAKE_SYN.bytes();
        let (h, payload) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.source_port, 46656);
        assert_eq!(h.destination_port, 80);
        assert_eq!(h.sequence_number, 797190859);
        assert_eq!(h.acknowledgment_number, 0);
        assert_eq!(h.data_offset, 10);
        assert_eq!(h.header_len(), 40);
        assert_eq!(h.reserved, 0);
        assert_eq!(h.flags, TcpFlags::SYN);
        assert_eq!(h.window, 27200);
        assert_eq!(h.checksum, 0x50c4);
        assert_eq!(h.urgent_pointer, 0);
        assert_eq!(h.options.len(), 20);
        assert_eq!(h.options.maximum_segment_size(), Some(1360));
        assert_eq!(h.options.window_scale(), Some(7));
        assert!(h.options.sack_permitted());
        assert_eq!(h.options.timestamps(), Some((1131021154, 0)));
        assert!(payload.is_empty());
        assert_eq!(h.sequence_len(0), 1);
        // tshark's Info column minus "Len=0".
        assert_eq!(
            h.to_string(),
            "46656 → 80 [SYN] Seq=797190859 Win=27200 MSS=1360 SACK_PERM TSval=1131021154 TSecr=0 WS=128"
        );
        assert_eq!(HANDSHAKE_SYN.status(), ChecksumStatus::Good);
    }

    #[test]
    fn handshake_syn_ack_and_ack() {
        let bytes = HANDSHAKE_SYN_ACK.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags, TcpFlags::SYN | TcpFlags::ACK);
        assert_eq!(
            h.to_string(),
            "80 → 46656 [SYN, ACK] Seq=3078856592 Ack=797190860 Win=8192 MSS=1440 WS=256 SACK_PERM TSval=234205008 TSecr=1131021154"
        );
        let bytes = HANDSHAKE_ACK.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.data_offset, 8);
        assert_eq!(h.acknowledgment_number, 3078856593);
        assert_eq!(h.window, 213);
        assert_eq!(h.sequence_len(0), 0);
        for f in [&HANDSHAKE_SYN_ACK, &HANDSHAKE_ACK] {
            assert_eq!(f.status(), ChecksumStatus::Good);
        }
    }

    #[test]
    fn emit_recomputes_captured_data_offset_and_checksum() {
        for f in [
            &HANDSHAKE_SYN,
            &HANDSHAKE_SYN_ACK,
            &HANDSHAKE_ACK,
            &EIGHT_FLAGS,
            &ACCECN_SYN_ACK,
            &OPTIONS2,
            &SSH_SACK,
            &TFO_SYN_DATA,
        ] {
            let bytes = f.bytes();
            let (h, payload) = TcpHeader::parse(&bytes).unwrap();
            let blank = TcpHeader {
                checksum: 0,
                data_offset: 0,
                ..h
            };
            let mut out = vec![0u8; bytes.len()];
            assert_eq!(
                blank.emit(f.source, f.destination, payload, &mut out),
                Ok(bytes.len())
            );
            assert_eq!(hex::encode(&out), f.hex);
        }
    }

    #[test]
    fn emit_exact_reproduces_every_fixture() {
        for f in [
            &HANDSHAKE_SYN,
            &EIGHT_FLAGS,
            &ACCECN_SYN,
            &ACCECN_SYN_ACK,
            &OPTIONS2,
            &OPTIONS3,
            &SSH_SACK,
            &TFO_SYN_DATA,
        ] {
            let bytes = f.bytes();
            let (h, payload) = TcpHeader::parse(&bytes).unwrap();
            let mut out = vec![0u8; h.len()];
            assert_eq!(h.emit_exact(&mut out), Ok(h.len()));
            assert_eq!(out.len() + payload.len(), bytes.len());
            assert_eq!(out[..], bytes[..h.len()]);
        }
    }

    #[test]
    fn eight_lowest_flags() {
        let bytes = EIGHT_FLAGS.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags, TcpFlags(0x0ff));
        assert!(!h.flags.contains(TcpFlags::AE));
        assert_eq!(
            h.to_string(),
            "6260 → 80 [FIN, SYN, RST, PSH, ACK, URG, ECE, CWR] Seq=576462951 Ack=486026015 Win=512 Urg=0"
        );
        assert_eq!(h.sequence_len(0), 2);
        assert_eq!(EIGHT_FLAGS.status(), ChecksumStatus::Good);
    }

    #[test]
    fn accecn_syn_has_ae_and_offloaded_checksum() {
        let bytes = ACCECN_SYN.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags.bits(), 0x1c2);
        assert_eq!(h.reserved, 0);
        assert!(h
            .flags
            .contains(TcpFlags::AE | TcpFlags::CWR | TcpFlags::ECE | TcpFlags::SYN));
        assert_eq!(h.flags.to_string(), "[SYN, ECE, CWR, AE]");
        assert_eq!(h.window, 65535);
        // The field holds the pseudo-header sum only (computed independently: 0x209c).
        assert_eq!(ACCECN_SYN.status(), ChecksumStatus::Partial);
        assert_eq!(OPTIONS3.status(), ChecksumStatus::Partial);
        // The experimental AccECN option in the SYN-ACK.
        let bytes = ACCECN_SYN_ACK.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags.to_string(), "[SYN, ACK, CWR]");
        assert_eq!(h.data_offset, 13);
        assert!(h.options.iter().any(|o| matches!(
            o,
            TcpOption::Experimental {
                kind: 254,
                exid: 0xacc0,
                data: [0, 0, 1, 0, 0, 0, 0, 0, 0]
            }
        )));
        assert_eq!(h.options.window_scale(), Some(7));
        assert_eq!(ACCECN_SYN_ACK.status(), ChecksumStatus::Good);
    }

    #[test]
    fn accecn_flag_without_options_and_a_bad_checksum() {
        // PcapPlusPlus/TcpPacketNoOptionsAccEcn.pcap: flags 0x118 (AE, ACK, PSH); the AE bit
        // was set after the checksum was computed (tshark: 0x4c03, should be 0x4b03).
        let mut bytes = hex::decode("0050ebe4beab364af9ffb58e51182d3c4c030000").unwrap();
        bytes.extend_from_slice(b"HTTP/1.1 301 Moved Permanently\r\nServer: AkamaiGHost\r\nContent-Length: 0\r\nLocation: /home/0,7340,L-8,00.html\r\nCache-Control: max-age=0\r\nExpires: Fri, 26 Sep 2014 22:23:24 GMT\r\nDate: Fri, 26 Sep 2014 22:23:24 GMT\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(bytes.len(), 257);
        let (h, payload) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags, TcpFlags::AE | TcpFlags::ACK | TcpFlags::PSH);
        assert_eq!(h.flags.to_string(), "[PSH, ACK, AE]");
        assert!(h.options.is_empty());
        assert_eq!(payload.len(), 237);
        let status = TcpHeader::verify_checksum(
            Ipv4Addr::new(212, 199, 202, 69),
            Ipv4Addr::new(10, 0, 0, 1),
            &bytes,
        );
        assert_eq!(
            status,
            ChecksumStatus::Bad {
                expected: 0x4b03,
                found: 0x4c03
            }
        );
    }

    #[test]
    fn gso_super_packet_checksum_is_partial() {
        // tcpdump/gso-ipv4.pcap: a 7272-byte segment (32-byte header, 7240 bytes of
        // "netperf\0") whose checksum field holds the pseudo-header sum 0x38b9.
        let mut bytes =
            hex::decode("96079b15398339b3899f4ea4801800a638b900000101080ac15e9eecef289ed1")
                .unwrap();
        for _ in 0..905 {
            bytes.extend_from_slice(b"netperf\0");
        }
        let (h, payload) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags, TcpFlags::PSH | TcpFlags::ACK);
        assert_eq!(payload.len(), 7240);
        assert_eq!(h.options.timestamps(), Some((3244203756, 4012416721)));
        let src = Ipv4Addr::new(10, 25, 132, 11);
        let dst = Ipv4Addr::new(10, 25, 132, 13);
        assert_eq!(
            TcpHeader::verify_checksum(src, dst, &bytes),
            ChecksumStatus::Partial
        );
        // Filled in, it verifies (tshark's calculated value: 0xb3af).
        bytes[16..18].copy_from_slice(&[0xb3, 0xaf]);
        assert_eq!(
            TcpHeader::verify_checksum(src, dst, &bytes),
            ChecksumStatus::Good
        );
    }

    #[test]
    fn sack_and_tfo_segments() {
        let bytes = SSH_SACK.bytes();
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.data_offset, 11);
        assert_eq!(h.acknowledgment_number, 4082238874);
        let block = h.options.sack().unwrap().get(0).unwrap();
        assert_eq!((block.left, block.right), (4082238970, 4082238971));
        assert_eq!(SSH_SACK.status(), ChecksumStatus::Good);

        let bytes = TFO_SYN_DATA.bytes();
        let (h, payload) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.flags, TcpFlags::SYN);
        assert_eq!(
            h.options.fast_open_cookie(),
            Some(&[9u8, 9, 9, 9, 0, 0][..])
        );
        assert_eq!(payload, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(h.sequence_len(payload.len()), 5);
        assert_eq!(TFO_SYN_DATA.status(), ChecksumStatus::Good);
    }

    #[test]
    fn options2_payload_and_options() {
        let bytes = OPTIONS2.bytes();
        let (h, payload) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!((h.source_port, h.destination_port), (80, 44160));
        assert_eq!(h.sequence_number, 3089746840);
        assert_eq!(h.acknowledgment_number, 3916895622);
        assert_eq!(h.window, 20178);
        assert_eq!(payload.len(), 9);
        assert_eq!(h.options.padding(), &[] as &[u8]);
        assert_eq!(
            h.to_string(),
            "80 → 44160 [PSH, ACK] Seq=3089746840 Ack=3916895622 Win=20178 TSval=3555735960 TSecr=196757 WS=4"
        );
        assert_eq!(OPTIONS2.status(), ChecksumStatus::Good);
    }

    #[test]
    fn data_offset_past_the_data_is_truncated() {
        // PcapPlusPlus/tcp-malformed.pcap: data offset 7 (28 bytes) in a 20-byte segment.
        let bytes = hex::decode("c20761b65744505b4da490b970100891bbe7e00a").unwrap();
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::Tcp, "data offset", 12)
        );
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 28,
                got: 20
            }
        );
        // tcpdump/tcp-auth-heapoverflow.pcap: data offset 13 (52 bytes) in 30 bytes.
        let bytes =
            hex::decode("303030303030303030303030dc303030303030301d153030303030303030").unwrap();
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 52,
                got: 30
            }
        );
    }

    #[test]
    fn short_header_and_small_data_offset() {
        // tcpdump/tcp_header_heapoverflow.pcap: 12 bytes of TCP.
        let e = TcpHeader::parse(&[0x30; 12]).unwrap_err();
        assert_eq!((e.layer, e.field, e.offset), (Layer::Tcp, "header", 0));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 20,
                got: 12
            }
        );
        let mut bytes = EIGHT_FLAGS.bytes();
        for doff in 0..5u8 {
            bytes[12] = doff << 4;
            let e = TcpHeader::parse(&bytes).unwrap_err();
            assert_eq!(
                (e.layer, e.field, e.offset),
                (Layer::Tcp, "data offset", 12)
            );
            assert_eq!(
                e.kind,
                ErrorKind::BadValue {
                    expected: "≥ 5",
                    found: u64::from(doff)
                }
            );
        }
        assert!(TcpHeader::verify_checksum(CLIENT, SERVER, &[0; 17]).ne(&ChecksumStatus::Good));
    }

    #[test]
    fn option_errors_carry_the_offset_in_the_segment() {
        let mut bytes = HANDSHAKE_SYN.bytes();
        // Options start at 20: MSS (20), SACK_PERM (24), TS (26), NOP (36), WS (37).
        bytes[25] = 0x01; // SACK_PERM with length 1
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::TcpOption, "option length", 24)
        );
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "≥ 2",
                found: 1
            }
        );
        // Timestamps running past the data offset.
        let mut bytes = HANDSHAKE_SYN.bytes();
        bytes[27] = 0x12;
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::TcpOption, "option length", 26)
        );
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "≤ the bytes left before the end of the header",
                found: 18
            }
        );
        // A wrong fixed length names the expected one.
        let mut bytes = HANDSHAKE_SYN.bytes();
        bytes[38] = 0x04; // WS length 3 → 4, running past the end
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(e.offset, 37);
        bytes[38] = 0x02; // window scale of length 2
        let e = TcpHeader::parse(&bytes).unwrap_err();
        assert_eq!(e.offset, 37);
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "3 for window scale (kind 3)",
                found: 2
            }
        );
        assert_eq!(
            e.to_string(),
            "TCP option length at byte 37: expected 3 for window scale (kind 3), found 2"
        );
    }

    #[test]
    fn reserved_bits_are_kept() {
        let mut bytes = EIGHT_FLAGS.bytes();
        bytes[12] = 0x5f; // data offset 5, reserved 0b111, AE
        let (h, _) = TcpHeader::parse(&bytes).unwrap();
        assert_eq!(h.reserved, 7);
        assert_eq!(h.flags, TcpFlags::ALL);
        assert_eq!(
            h.flags.to_string(),
            "[FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, AE]"
        );
        let mut out = [0u8; 20];
        h.emit_exact(&mut out).unwrap();
        assert_eq!(out[..], bytes[..]);
    }

    #[test]
    fn emit_errors() {
        let a = Ipv4Addr::LOCALHOST;
        let h = TcpHeader::new(1, 2, 3, 4, TcpFlags::ACK, 5);
        let mut out = [0u8; 64];
        let e = h.emit(a, a, &[1], &mut out[..20]).unwrap_err();
        assert_eq!(
            (e.layer, e.kind),
            (
                Layer::Tcp,
                ErrorKind::BufferTooSmall {
                    needed: 21,
                    got: 20
                }
            )
        );
        let e = h.emit_exact(&mut out[..19]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 20,
                got: 19
            }
        );
        let three = [1u8, 1, 1];
        let odd = TcpHeader {
            options: TcpOptions::raw(&three),
            ..h
        };
        let e = odd.emit(a, a, &[], &mut out).unwrap_err();
        assert_eq!((e.field, e.offset), ("options length", 20));
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "a multiple of 4",
                found: 3
            }
        );
        // emit_exact writes them as held, for crafting.
        assert_eq!(odd.emit_exact(&mut out), Ok(23));
        let e = odd.emit_exact(&mut out[..22]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 23,
                got: 22
            }
        );
        let many = [1u8; 44];
        let long = TcpHeader {
            options: TcpOptions::raw(&many),
            ..h
        };
        let e = long.emit(a, a, &[], &mut out).unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("options", ErrorKind::TooLong { max: 40, got: 44 })
        );
        let e = TcpHeader {
            data_offset: 16,
            ..h
        }
        .emit_exact(&mut out)
        .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("data offset", ErrorKind::TooLong { max: 15, got: 16 })
        );
        let e = TcpHeader { reserved: 8, ..h }
            .emit(a, a, &[], &mut out)
            .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("reserved", ErrorKind::TooLong { max: 7, got: 8 })
        );
        let e = TcpHeader {
            flags: TcpFlags(0x200),
            ..h
        }
        .emit_exact(&mut out)
        .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            (
                "flags",
                ErrorKind::TooLong {
                    max: 0x1ff,
                    got: 0x200
                }
            )
        );
        let payload = vec![0u8; 65516];
        let mut big = vec![0u8; 70000];
        let e = h.emit(a, a, &payload, &mut big).unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            (
                "segment length",
                ErrorKind::TooLong {
                    max: 65535,
                    got: 65536
                }
            )
        );
        assert_eq!(h.emit(a, a, &payload[1..], &mut big), Ok(65535));
    }

    #[test]
    fn build_a_syn_from_typed_options() {
        // The handshake SYN rebuilt from values: same bytes as captured.
        let mut buffer = [0u8; 40];
        let n = TcpOption::write_all(
            &[
                TcpOption::MaximumSegmentSize(1360),
                TcpOption::SackPermitted,
                TcpOption::Timestamps {
                    value: 1131021154,
                    echo_reply: 0,
                },
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ],
            &mut buffer,
        )
        .unwrap();
        let h = TcpHeader {
            options: TcpOptions::new(&buffer[..n]).unwrap(),
            ..TcpHeader::new(46656, 80, 797190859, 0, TcpFlags::SYN, 27200)
        };
        assert_eq!(h.len(), 40);
        let mut out = [0u8; 40];
        assert_eq!(h.emit(CLIENT, SERVER, &[], &mut out), Ok(40));
        assert_eq!(hex::encode(out), HANDSHAKE_SYN.hex);
    }

    #[test]
    fn flags_api() {
        let f = TcpFlags::SYN | TcpFlags::ACK;
        assert!(f.contains(TcpFlags::SYN));
        assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(f.intersects(TcpFlags::SYN | TcpFlags::FIN));
        assert_eq!(f & TcpFlags::ACK, TcpFlags::ACK);
        assert_eq!((!f).bits(), 0x1ff & !0x12);
        assert!(TcpFlags::NONE.is_empty());
        assert_eq!(TcpFlags::NONE.to_string(), "[<None>]");
        assert_eq!(TcpFlags::NS, TcpFlags::AE);
        let mut g = TcpFlags::FIN;
        g |= TcpFlags::ACK;
        assert_eq!(g.to_string(), "[FIN, ACK]");
        assert_eq!(TcpFlags(0x212).to_string(), "[SYN, ACK, 0x200]");
        assert_eq!(TcpFlags(0x400).to_string(), "[0x400]");
    }

    /// The fixed fields of a header (all valid values), to combine with generated options.
    #[derive(Debug, Clone, Copy)]
    struct Fields {
        ports: (u16, u16),
        numbers: (u32, u32),
        reserved: u8,
        flags: u16,
        window: u16,
        checksum: u16,
        urgent_pointer: u16,
    }

    impl Fields {
        fn header<'a>(&self, options: TcpOptions<'a>) -> TcpHeader<'a> {
            TcpHeader {
                source_port: self.ports.0,
                destination_port: self.ports.1,
                sequence_number: self.numbers.0,
                acknowledgment_number: self.numbers.1,
                data_offset: (5 + options.len() / 4) as u8,
                reserved: self.reserved,
                flags: TcpFlags(self.flags),
                window: self.window,
                checksum: self.checksum,
                urgent_pointer: self.urgent_pointer,
                options,
            }
        }
    }

    fn fields() -> impl Strategy<Value = Fields> {
        (
            any::<(u16, u16)>(),
            any::<(u32, u32)>(),
            0u8..8,
            0u16..0x200,
            any::<(u16, u16, u16)>(),
        )
            .prop_map(
                |(ports, numbers, reserved, flags, (window, checksum, urgent_pointer))| Fields {
                    ports,
                    numbers,
                    reserved,
                    flags,
                    window,
                    checksum,
                    urgent_pointer,
                },
            )
    }

    proptest! {
        #[test]
        fn any_header_with_any_options_round_trips(
            (list, eol) in owned_list(),
            fields in fields(),
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            src in any::<u32>(), dst in any::<u32>(),
        ) {
            let typed_options = typed(&list, eol);
            let mut buffer = [0u8; 40];
            let n = TcpOption::write_all(&typed_options, &mut buffer).unwrap();
            let options = TcpOptions::new(&buffer[..n]).unwrap();
            let h = fields.header(options);
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));

            // emit → parse gives the same header (checksum aside, which emit computes).
            let mut out = vec![0u8; h.len() + payload.len()];
            prop_assert_eq!(h.emit(src, dst, &payload, &mut out), Ok(out.len()));
            let (parsed, p) = TcpHeader::parse(&out).unwrap();
            prop_assert_eq!(parsed, TcpHeader { checksum: parsed.checksum, ..h });
            prop_assert_eq!(p, &payload[..]);
            prop_assert_eq!(TcpHeader::verify_checksum(src, dst, &out), ChecksumStatus::Good);
            let mut expected = typed_options.clone();
            if n > typed_options.iter().map(TcpOption::len).sum::<usize>() && !eol {
                expected.push(TcpOption::EndOfList);
            }
            prop_assert_eq!(parsed.options.iter().collect::<Vec<_>>(), expected);

            // emit_exact → parse gives exactly the value held, checksum included.
            let mut exact = vec![0u8; h.len()];
            prop_assert_eq!(h.emit_exact(&mut exact), Ok(h.len()));
            prop_assert_eq!(TcpHeader::parse(&exact).unwrap().0, h);
        }

        #[test]
        fn valid_bytes_re_emit_identically(
            (list, eol) in owned_list(),
            fixed in proptest::array::uniform20(any::<u8>()),
            padding_junk in any::<u8>(),
        ) {
            let typed_options = typed(&list, eol);
            let mut buffer = [0u8; 40];
            let n = TcpOption::write_all(&typed_options, &mut buffer).unwrap();
            // Non-zero garbage in the padding after EOL is kept too.
            if eol && n > typed_options.iter().map(TcpOption::len).sum::<usize>() {
                buffer[n - 1] = padding_junk;
            }
            let mut bytes = fixed.to_vec();
            bytes[12] = (((20 + n) / 4) as u8) << 4 | (bytes[12] & 0x0f);
            bytes.extend_from_slice(&buffer[..n]);
            let (h, rest) = TcpHeader::parse(&bytes).unwrap();
            prop_assert!(rest.is_empty());
            let mut out = vec![0u8; h.len()];
            prop_assert_eq!(h.emit_exact(&mut out), Ok(bytes.len()));
            prop_assert_eq!(out, bytes);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80), src in any::<u32>(), dst in any::<u32>()) {
            let _ = TcpHeader::verify_checksum(Ipv4Addr::from(src), Ipv4Addr::from(dst), &bytes);
            if let Ok((h, payload)) = TcpHeader::parse(&bytes) {
                let _ = h.to_string();
                let mut out = vec![0u8; h.len()];
                prop_assert_eq!(h.emit_exact(&mut out), Ok(h.len()));
                prop_assert_eq!(h.len() + payload.len(), bytes.len());
                prop_assert_eq!(&out[..], &bytes[..h.len()]);
            }
        }

        #[test]
        fn arbitrary_options_area_never_panics(
            fixed in proptest::array::uniform20(any::<u8>()),
            words in 0usize..=10,
            area in proptest::collection::vec(any::<u8>(), 40),
        ) {
            // A valid data offset with random option bytes exercises the option checks.
            let mut bytes = fixed.to_vec();
            bytes[12] = ((5 + words) as u8) << 4 | (bytes[12] & 0x0f);
            bytes.extend_from_slice(&area[..words * 4]);
            match TcpHeader::parse(&bytes) {
                Ok((h, _)) => {
                    let mut out = vec![0u8; h.len()];
                    prop_assert_eq!(h.emit_exact(&mut out), Ok(bytes.len()));
                    prop_assert_eq!(out, bytes);
                }
                Err(e) => {
                    prop_assert_eq!(e.layer, Layer::TcpOption);
                    prop_assert!(e.offset >= 20 && e.offset < bytes.len());
                }
            }
        }
    }
}
