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
    pub fn parse(bytes: &'a [u8]) -> Result<(TcpHeader<'a>, &'a [u8])> {
        let Some((fixed, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::truncated(
                Layer::Tcp,
                "header",
                0,
                HEADER_LEN,
                bytes.len(),
            ));
        };
        let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, c0, c1, u0, u1] =
            *fixed;
        let offset_and_flags = u16::from_be_bytes([o0, o1]);
        let data_offset = (offset_and_flags >> 12) as u8;
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
        let Some((header, payload)) = bytes.split_at_checked(header_len) else {
            return Err(Error::truncated(
                Layer::Tcp,
                "data offset",
                field::DATA_OFFSET,
                header_len,
                bytes.len(),
            ));
        };
        let options = TcpOptions::new(header.get(field::OPTIONS..).unwrap_or_default())
            .map_err(|e| e.shifted(field::OPTIONS))?;
        let h = TcpHeader {
            source_port: u16::from_be_bytes([sp0, sp1]),
            destination_port: u16::from_be_bytes([dp0, dp1]),
            sequence_number: u32::from_be_bytes([s0, s1, s2, s3]),
            acknowledgment_number: u32::from_be_bytes([a0, a1, a2, a3]),
            data_offset,
            reserved: ((offset_and_flags >> 9) & 0x7) as u8,
            flags: TcpFlags(offset_and_flags & TcpFlags::ALL.0),
            window: u16::from_be_bytes([w0, w1]),
            checksum: u16::from_be_bytes([c0, c1]),
            urgent_pointer: u16::from_be_bytes([u0, u1]),
            options,
        };
        Ok((h, payload))
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
