//! IGMP, the Internet Group Management Protocol, versions 1, 2 and 3: Membership Queries,
//! Reports and Leave Group messages [RFC 1112 App. I, RFC 2236 § 2, RFC 3376 § 4], the version of
//! a Query told by its length [RFC 3376 § 7.1], and the floating-point Max Resp Code and QQIC
//! [RFC 3376 § 4.1.1, § 4.1.7].
//!
//! An IGMP message is the whole payload of its IPv4 datagram (protocol 2): its length is the IP
//! total length minus the IP header length, and that length matters — a Query of 8 octets is
//! version 1 or 2, one of 12 octets or more is version 3, and any other length must be ignored
//! [RFC 3376 § 7.1]. [`IgmpMessage::parse`] therefore takes exactly the IP payload and returns one
//! message that owns every octet of it (there is no payload after an IGMP message). Octets past
//! the fields a message type defines are *additional data*: receivers ignore them but the
//! checksum covers them [RFC 2236 § 2.5, RFC 3376 § 4.1.10, § 4.2.11], so they are kept in an
//! `additional_data` field and [`IgmpMessage::emit`] checksums them.
//!
//! Types other than Query, Report and Leave (DVMRP, multicast traceroute, …) are kept as
//! [`IgmpMessage::Unknown`] with their bytes.
//!
//! Source lists and group records are borrowed from the input ([`SourceList`], [`GroupRecords`])
//! and decoded lazily by iterators: counts come from the packet, so nothing is ever allocated
//! for them. Parsing walks the records once to check that every count and length fits, so the
//! iterators themselves cannot fail.
//!
//! The checksum is verified by [`verify_checksum`], never by `parse`. It covers the whole message
//! [RFC 2236 § 2.3, RFC 3376 § 4.1.2], as Linux computes it. Wireshark checks v1 and v2 messages
//! over their first 8 octets only [RFC 1112 App. I reads "the 8-octet IGMP message"]; the two
//! readings differ only for a v1/v2 message that carries additional data.

use core::fmt;
use core::net::Ipv4Addr;

use crate::checksum::{self, Accumulator, ChecksumStatus};
use crate::error::{Error, Layer, Result};
use crate::time::Duration;

/// Offset of the type octet (all messages).
const TYPE: usize = 0;
/// Offset of the second octet: Max Resp Time / Code, "unused" in v1, reserved in v3 reports.
const CODE: usize = 1;
/// Offset of the checksum (all messages), two octets.
const CHECKSUM: usize = 2;
/// Offset of the group address (v1/v2 messages and queries), four octets.
const GROUP: usize = 4;
/// Type, code and checksum: the part every IGMP message shares.
const COMMON_LEN: usize = 4;
/// Length of a v1/v2 message and of the fixed part of a v3 report.
const HEADER_LEN: usize = 8;

/// Offset of Resv, S and QRV in a v3 query.
const QUERY_FLAGS: usize = 8;
/// Offset of QQIC in a v3 query.
const QUERY_QQIC: usize = 9;
/// Offset of Number of Sources (N) in a v3 query, two octets.
const QUERY_NUMBER_OF_SOURCES: usize = 10;
/// Offset of the first source address in a v3 query; also the shortest v3 query.
const QUERY_SOURCES: usize = 12;

/// Offset of the second reserved field (two octets) of a v3 report.
const REPORT_RESERVED2: usize = 4;
/// Offset of Number of Group Records (M) in a v3 report, two octets.
const REPORT_NUMBER_OF_RECORDS: usize = 6;
/// Offset of the first group record in a v3 report.
const REPORT_RECORDS: usize = 8;

/// Offset of Record Type within a group record.
const RECORD_TYPE: usize = 0;
/// Offset of Aux Data Len within a group record.
const RECORD_AUX_DATA_LEN: usize = 1;
/// Offset of Number of Sources within a group record, two octets.
const RECORD_NUMBER_OF_SOURCES: usize = 2;
/// Offset of Multicast Address within a group record, four octets.
const RECORD_MULTICAST_ADDRESS: usize = 4;
/// Length of the fixed part of a group record; the sources start here.
const RECORD_HEADER_LEN: usize = 8;

/// Bits of the v3 query octet 8: Resv (4 bits), S (1 bit), QRV (3 bits) [RFC 3376 § 4.1].
const S_FLAG: u8 = 0x08;
const QRV_MASK: u8 = 0x07;
const RESV_SHIFT: u32 = 4;
/// The largest value each of the narrow v3 query fields can hold.
const RESV_MAX: u8 = 0x0f;
const QRV_MAX: u8 = 0x07;

/// Octets in an IPv4 address, and in one unit of Aux Data Len.
const WORD: usize = 4;

/// The type octet of an IGMP message [IANA "IGMP Type Numbers"].
///
/// The raw value is always kept; the constants name the values this module decodes and the
/// common ones it keeps as [`IgmpMessage::Unknown`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IgmpType(pub u8);

impl IgmpType {
    /// Membership Query, all versions [RFC 1112 App. I, RFC 2236 § 2.1, RFC 3376 § 4.1].
    pub const MEMBERSHIP_QUERY: IgmpType = IgmpType(0x11);
    /// Version 1 Membership Report [RFC 1112 App. I]: version 1 and type 2 in one octet.
    pub const V1_REPORT: IgmpType = IgmpType(0x12);
    /// DVMRP [RFC 1075] (kept as bytes).
    pub const DVMRP: IgmpType = IgmpType(0x13);
    /// Version 2 Membership Report [RFC 2236 § 2.1].
    pub const V2_REPORT: IgmpType = IgmpType(0x16);
    /// Version 2 Leave Group [RFC 2236 § 2.1].
    pub const V2_LEAVE: IgmpType = IgmpType(0x17);
    /// Multicast traceroute response (kept as bytes).
    pub const MTRACE_RESPONSE: IgmpType = IgmpType(0x1e);
    /// Multicast traceroute query or request (kept as bytes).
    pub const MTRACE: IgmpType = IgmpType(0x1f);
    /// Version 3 Membership Report [RFC 3376 § 4.2].
    pub const V3_REPORT: IgmpType = IgmpType(0x22);

    /// Wireshark's name for the values this module knows.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            IgmpType::MEMBERSHIP_QUERY => "Membership Query",
            IgmpType::V1_REPORT | IgmpType::V2_REPORT | IgmpType::V3_REPORT => "Membership Report",
            IgmpType::DVMRP => "DVMRP",
            IgmpType::V2_LEAVE => "Leave Group",
            IgmpType::MTRACE_RESPONSE => "Traceroute Response",
            IgmpType::MTRACE => "Traceroute Query or Request",
            _ => return None,
        })
    }

    /// The length of the shortest message of this type this module decodes: 8 for queries and
    /// reports, 4 (type, code, checksum) for the types it keeps as bytes.
    const fn min_len(self) -> usize {
        match self {
            IgmpType::MEMBERSHIP_QUERY
            | IgmpType::V1_REPORT
            | IgmpType::V2_REPORT
            | IgmpType::V2_LEAVE
            | IgmpType::V3_REPORT => HEADER_LEN,
            _ => COMMON_LEN,
        }
    }
}

impl From<u8> for IgmpType {
    fn from(value: u8) -> Self {
        IgmpType(value)
    }
}

impl From<IgmpType> for u8 {
    fn from(value: IgmpType) -> Self {
        value.0
    }
}

impl fmt::Display for IgmpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:02x})", self.0),
            None => write!(f, "Unknown (0x{:02x})", self.0),
        }
    }
}

/// The Record Type of a v3 group record [RFC 3376 § 4.2.12]. Unknown values are kept (a
/// receiver ignores such records, [RFC 3376 § 4.2.12]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupRecordType(pub u8);

impl GroupRecordType {
    /// Current-State Record: the interface is in INCLUDE mode for the listed sources.
    pub const MODE_IS_INCLUDE: GroupRecordType = GroupRecordType(1);
    /// Current-State Record: the interface is in EXCLUDE mode for the listed sources.
    pub const MODE_IS_EXCLUDE: GroupRecordType = GroupRecordType(2);
    /// Filter-Mode-Change Record: changed to INCLUDE mode.
    pub const CHANGE_TO_INCLUDE: GroupRecordType = GroupRecordType(3);
    /// Filter-Mode-Change Record: changed to EXCLUDE mode.
    pub const CHANGE_TO_EXCLUDE: GroupRecordType = GroupRecordType(4);
    /// Source-List-Change Record: the listed sources are newly wanted.
    pub const ALLOW_NEW_SOURCES: GroupRecordType = GroupRecordType(5);
    /// Source-List-Change Record: the listed sources are no longer wanted.
    pub const BLOCK_OLD_SOURCES: GroupRecordType = GroupRecordType(6);

    /// Wireshark's name for the six defined values.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Mode Is Include",
            2 => "Mode Is Exclude",
            3 => "Change To Include Mode",
            4 => "Change To Exclude Mode",
            5 => "Allow New Sources",
            6 => "Block Old Sources",
            _ => return None,
        })
    }
}

impl From<u8> for GroupRecordType {
    fn from(value: u8) -> Self {
        GroupRecordType(value)
    }
}

impl From<GroupRecordType> for u8 {
    fn from(value: GroupRecordType) -> Self {
        value.0
    }
}

impl fmt::Display for GroupRecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "Unknown ({})", self.0),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The floating-point code of Max Resp Code and QQIC
// ---------------------------------------------------------------------------------------------

/// The largest value the 8-bit floating-point code can express: code 0xff, mantissa 0xf and
/// exponent 7, `(0x0f | 0x10) << (7 + 3)` [RFC 3376 § 4.1.1].
pub const MAX_CODE_VALUE: u32 = 31_744;

/// The value of an 8-bit floating-point code [RFC 3376 § 4.1.1, § 4.1.7]: codes below 128 are the
/// value itself; a code `1eeemmmm` is `(mmmm | 0x10) << (eee + 3)`.
const fn decode_code(code: u8) -> u32 {
    if code < 0x80 {
        code as u32
    } else {
        let mant = (code & 0x0f) as u32;
        let exp = ((code >> 4) & 0x07) as u32;
        (mant | 0x10) << (exp + 3)
    }
}

/// The code for `value`: exact when the format can represent `value`, otherwise the code of the
/// largest representable value below it (so a sender never advertises more than it meant);
/// values above [`MAX_CODE_VALUE`] give 0xff.
const fn encode_code(value: u32) -> u8 {
    if value < 0x80 {
        return value as u8;
    }
    if value >= MAX_CODE_VALUE {
        return 0xff;
    }
    // value is in [128 << exp, 256 << exp) for exactly one exp in 0..=7; its top five bits are
    // 1mmmm, and the bits below them are what the format cannot hold (rounded down).
    let mut exp: u32 = 0;
    while value >= (0x100 << exp) {
        exp += 1;
    }
    let mant = (value >> (exp + 3)) & 0x0f;
    (0x80 | (exp << 4) | mant) as u8
}

/// The Max Resp Time a v3 Max Resp Code stands for, in units of 1/10 second
/// [RFC 3376 § 4.1.1]. Codes below 128 are the time itself; larger codes are floating point.
pub const fn max_resp_code_to_tenths(code: u8) -> u32 {
    decode_code(code)
}

/// The v3 Max Resp Code for a time in units of 1/10 second: exact when representable, otherwise
/// the largest representable time below it (a host then answers a little sooner than asked, never
/// later); times above [`MAX_CODE_VALUE`] (3174.4 s) give 0xff. For every code `c`,
/// `tenths_to_max_resp_code(max_resp_code_to_tenths(c)) == c`.
pub const fn tenths_to_max_resp_code(tenths: u32) -> u8 {
    encode_code(tenths)
}

/// The Querier's Query Interval a QQIC stands for, in seconds [RFC 3376 § 4.1.7]; same format as
/// the Max Resp Code.
pub const fn qqic_to_seconds(qqic: u8) -> u32 {
    decode_code(qqic)
}

/// The QQIC for an interval in seconds: exact when representable, otherwise the largest
/// representable interval below it; intervals above [`MAX_CODE_VALUE`] seconds give 0xff.
pub const fn seconds_to_qqic(seconds: u32) -> u8 {
    encode_code(seconds)
}

// ---------------------------------------------------------------------------------------------
// Source lists
// ---------------------------------------------------------------------------------------------

/// A list of IPv4 source addresses as on the wire (four octets each), borrowed from a query or a
/// group record [RFC 3376 § 4.1.11, § 4.2.12].
///
/// Its length is always a multiple of four octets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SourceList<'a> {
    bytes: &'a [u8],
}

impl<'a> SourceList<'a> {
    /// An empty list.
    pub const EMPTY: SourceList<'static> = SourceList { bytes: &[] };

    /// The list held by `bytes`, four octets per address.
    ///
    /// Fails with a `BadValue` error on field "source addresses" if the length is not a multiple
    /// of four.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() % WORD != 0 {
            return Err(Error::bad_value(
                Layer::Igmp,
                "source addresses",
                0,
                "a multiple of 4 octets",
                bytes.len() as u64,
            ));
        }
        Ok(SourceList { bytes })
    }

    /// Writes `sources` as a wire list into `out`, returning the octets written (four per
    /// address); build a [`SourceList`] over them with [`SourceList::new`].
    pub fn write(sources: &[Ipv4Addr], out: &mut [u8]) -> Result<usize> {
        let needed = sources.len().saturating_mul(WORD);
        let got = out.len();
        let Some(out) = out.get_mut(..needed) else {
            return Err(Error::buffer_too_small(Layer::Igmp, needed, got));
        };
        for (chunk, source) in out.chunks_exact_mut(WORD).zip(sources) {
            chunk.copy_from_slice(&source.octets());
        }
        Ok(needed)
    }

    /// The number of addresses.
    pub const fn len(&self) -> usize {
        self.bytes.len() / WORD
    }

    /// Whether the list is empty.
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The address at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<Ipv4Addr> {
        let start = index.checked_mul(WORD)?;
        let chunk: [u8; 4] = self
            .bytes
            .get(start..start.checked_add(WORD)?)?
            .try_into()
            .ok()?;
        Some(Ipv4Addr::from(chunk))
    }

    /// The addresses, in wire order.
    pub fn iter(&self) -> SourceIter<'a> {
        SourceIter {
            chunks: self.bytes.chunks_exact(WORD),
        }
    }

    /// The list as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<'a> IntoIterator for SourceList<'a> {
    type Item = Ipv4Addr;
    type IntoIter = SourceIter<'a>;
    fn into_iter(self) -> SourceIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &SourceList<'a> {
    type Item = Ipv4Addr;
    type IntoIter = SourceIter<'a>;
    fn into_iter(self) -> SourceIter<'a> {
        self.iter()
    }
}

/// Iterator over the addresses of a [`SourceList`].
#[derive(Debug, Clone)]
pub struct SourceIter<'a> {
    chunks: core::slice::ChunksExact<'a, u8>,
}

/// An address from a four-octet chunk (`chunks_exact(4)` only yields four-octet chunks).
fn addr_of(chunk: &[u8]) -> Option<Ipv4Addr> {
    let octets: [u8; 4] = chunk.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

impl Iterator for SourceIter<'_> {
    type Item = Ipv4Addr;
    fn next(&mut self) -> Option<Ipv4Addr> {
        self.chunks.next().and_then(addr_of)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl DoubleEndedIterator for SourceIter<'_> {
    fn next_back(&mut self) -> Option<Ipv4Addr> {
        self.chunks.next_back().and_then(addr_of)
    }
}

impl ExactSizeIterator for SourceIter<'_> {}
impl core::iter::FusedIterator for SourceIter<'_> {}

// ---------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------

/// Which version a Membership Query is, told by its length and Max Resp Code
/// [RFC 3376 § 7.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryVersion {
    /// 8 octets with Max Resp Code 0: an IGMPv1 query [RFC 1112 App. I].
    V1,
    /// 8 octets with a non-zero Max Resp Code: an IGMPv2 query [RFC 2236 § 2].
    V2,
    /// 12 octets or more: an IGMPv3 query [RFC 3376 § 4.1].
    V3,
    /// Any other length (9, 10 or 11 octets): the query matches no version and a host MUST
    /// silently ignore it [RFC 3376 § 7.1]. Holds the message length.
    ///
    /// Wireshark reads such a query as v2 (or v1 when the code is 0); this crate does not guess,
    /// but [`IgmpMessage::version`] follows Wireshark for comparison with its output.
    OtherLength(usize),
}

impl QueryVersion {
    /// The version number, `None` for [`QueryVersion::OtherLength`].
    pub const fn number(self) -> Option<u8> {
        match self {
            QueryVersion::V1 => Some(1),
            QueryVersion::V2 => Some(2),
            QueryVersion::V3 => Some(3),
            QueryVersion::OtherLength(_) => None,
        }
    }
}

/// The v3-only fields of a Membership Query, octets 8 and on [RFC 3376 § 4.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueryV3<'a> {
    /// Resv: the four high bits of octet 8, sent as zero and ignored on receipt
    /// [RFC 3376 § 4.1.4]. At most 15.
    pub resv: u8,
    /// S, Suppress Router-Side Processing [RFC 3376 § 4.1.5].
    pub s_flag: bool,
    /// QRV, Querier's Robustness Variable, the three low bits of octet 8 [RFC 3376 § 4.1.6].
    /// At most 7.
    pub qrv: u8,
    /// QQIC, Querier's Query Interval Code [RFC 3376 § 4.1.7]; see
    /// [`query_interval`](QueryV3::query_interval).
    pub qqic: u8,
    /// Number of Sources (N) as held [RFC 3376 § 4.1.8]. Equal to `sources.len()` after `parse`;
    /// [`IgmpMessage::emit`] writes `sources.len()`, [`IgmpMessage::emit_exact`] writes this.
    pub number_of_sources: u16,
    /// Source Address [1..N] [RFC 3376 § 4.1.9].
    pub sources: SourceList<'a>,
    /// Octets after the source list: covered by the checksum, otherwise ignored
    /// [RFC 3376 § 4.1.10].
    pub additional_data: &'a [u8],
}

impl QueryV3<'_> {
    /// The Querier's Query Interval the QQIC stands for [RFC 3376 § 4.1.7].
    pub const fn query_interval(&self) -> Duration {
        Duration::from_secs(qqic_to_seconds(self.qqic) as u64)
    }

    /// Octet 8 as on the wire: Resv, S and QRV (Resv and QRV cut to their widths).
    pub const fn flags_octet(&self) -> u8 {
        ((self.resv & RESV_MAX) << RESV_SHIFT)
            | if self.s_flag { S_FLAG } else { 0 }
            | (self.qrv & QRV_MASK)
    }

    /// The octets from octet 8 on.
    fn len(&self) -> usize {
        WORD.saturating_add(self.sources.as_bytes().len())
            .saturating_add(self.additional_data.len())
    }
}

/// What follows the group address of a Membership Query; its length decides the version
/// [RFC 3376 § 7.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryBody<'a> {
    /// Nothing: an 8-octet v1 or v2 query, told apart by the Max Resp Code.
    V1OrV2,
    /// One to three octets: a query of 9 to 11 octets, which matches no version and which a host
    /// MUST ignore [RFC 3376 § 7.1]. The octets are kept so the message re-emits as received.
    /// (Four or more octets here are written as given, and read back as a v3 query.)
    OtherLength(&'a [u8]),
    /// The v3 fields (a query of 12 octets or more).
    V3(QueryV3<'a>),
}

/// A Membership Query, type 0x11, of any version [RFC 1112 App. I, RFC 2236 § 2,
/// RFC 3376 § 4.1].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type = 0x11  | Max Resp Code |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Group Address                         |   v1, v2: 8 octets
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |   v3 from here
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address [1]                      |
/// +-                              ...                            -+
/// |                       Source Address [N]                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// In v1 the second octet is "unused" (zero); in v2 it is the Max Response Time in 1/10 s; in
/// v3 it is the floating-point Max Resp Code ([`max_resp_code_to_tenths`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Query<'a> {
    /// Octet 1: Max Resp Code (v3), Max Response Time (v2), unused (v1).
    pub max_resp_code: u8,
    /// The checksum as held.
    pub checksum: u16,
    /// Group Address: 0.0.0.0 in a General Query, the group in a Group-Specific or
    /// Group-and-Source-Specific Query.
    pub group: Ipv4Addr,
    /// The version-dependent rest.
    pub body: QueryBody<'a>,
}

impl<'a> Query<'a> {
    /// The version of the query [RFC 3376 § 7.1].
    pub const fn version(&self) -> QueryVersion {
        match self.body {
            QueryBody::V1OrV2 if self.max_resp_code == 0 => QueryVersion::V1,
            QueryBody::V1OrV2 => QueryVersion::V2,
            QueryBody::OtherLength(extra) => {
                QueryVersion::OtherLength(HEADER_LEN.saturating_add(extra.len()))
            }
            QueryBody::V3(_) => QueryVersion::V3,
        }
    }

    /// The v3 fields, if this is a v3 query.
    pub const fn v3(&self) -> Option<&QueryV3<'a>> {
        match &self.body {
            QueryBody::V3(v3) => Some(v3),
            _ => None,
        }
    }

    /// Whether this is a General Query (group 0.0.0.0).
    pub fn is_general(&self) -> bool {
        self.group.is_unspecified()
    }

    /// The time within which a host must answer: 10 s for a v1 query, whose code is zero
    /// [RFC 2236 § 4]; the code in 1/10 s for v2 [RFC 2236 § 2.2]; the floating-point code in
    /// 1/10 s for v3 [RFC 3376 § 4.1.1]. `None` for a query of another length, which a host
    /// ignores.
    pub const fn max_resp_time(&self) -> Option<Duration> {
        let tenths = match self.version() {
            QueryVersion::V1 => 100,
            QueryVersion::V2 => self.max_resp_code as u32,
            QueryVersion::V3 => max_resp_code_to_tenths(self.max_resp_code),
            QueryVersion::OtherLength(_) => return None,
        };
        Some(Duration::from_millis(tenths as u64 * 100))
    }

    fn len(&self) -> usize {
        let rest = match &self.body {
            QueryBody::V1OrV2 => 0,
            QueryBody::OtherLength(extra) => extra.len(),
            QueryBody::V3(v3) => v3.len(),
        };
        HEADER_LEN.saturating_add(rest)
    }
}

/// A v1 Membership Report (0x12), v2 Membership Report (0x16) or v2 Leave Group (0x17): the
/// 8-octet layout shared by all of them [RFC 1112 App. I, RFC 2236 § 2].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Group Address                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// In v1 the type octet is Version (1) and Type (2) in one octet, 0x12, and the code octet is
/// "unused"; in v2 the code octet is Max Response Time, zero in reports and leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupMessage<'a> {
    /// Octet 1, as held: "unused" (v1) or Max Response Time (v2); sent as zero, ignored on
    /// receipt.
    pub code: u8,
    /// The checksum as held.
    pub checksum: u16,
    /// Group Address: the group reported or left.
    pub group: Ipv4Addr,
    /// Octets after the first eight: covered by the checksum, otherwise ignored
    /// [RFC 2236 § 2.5].
    pub additional_data: &'a [u8],
}

impl GroupMessage<'_> {
    fn len(&self) -> usize {
        HEADER_LEN.saturating_add(self.additional_data.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Group records and v3 reports
// ---------------------------------------------------------------------------------------------

/// One group record of a v3 Membership Report [RFC 3376 § 4.2.4].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Record Type  |  Aux Data Len |     Number of Sources (N)     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Multicast Address                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address [1]                      |
/// +-                              ...                            -+
/// |                       Source Address [N]                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Auxiliary Data                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupRecord<'a> {
    /// Record Type [RFC 3376 § 4.2.12].
    pub record_type: GroupRecordType,
    /// Aux Data Len as held, in 32-bit words [RFC 3376 § 4.2.6]. Equal to
    /// `aux_data.len() / 4` after parsing; `emit` writes that, `emit_exact` writes this.
    pub aux_data_len: u8,
    /// Number of Sources (N) as held [RFC 3376 § 4.2.7]. Equal to `sources.len()` after
    /// parsing; `emit` writes that, `emit_exact` writes this.
    pub number_of_sources: u16,
    /// Multicast Address [RFC 3376 § 4.2.8].
    pub multicast_address: Ipv4Addr,
    /// Source Address [1..N] [RFC 3376 § 4.2.9].
    pub sources: SourceList<'a>,
    /// Auxiliary Data [RFC 3376 § 4.2.10]; IGMPv3 defines none and receivers ignore it.
    pub aux_data: &'a [u8],
}

/// Octets that `count` 32-bit words (addresses or aux data units) take; saturates instead of
/// overflowing on 16-bit targets, where the saturated length then fails the bounds check.
fn words(count: usize) -> usize {
    count.saturating_mul(WORD)
}

/// Reads the big-endian u16 at `at` of a fixed-size header.
fn u16_at<const N: usize>(head: &[u8; N], at: usize) -> u16 {
    match head.get(at..at.saturating_add(2)) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// Reads the IPv4 address at `at` of a fixed-size header.
fn addr_at<const N: usize>(head: &[u8; N], at: usize) -> Ipv4Addr {
    head.get(at..at.saturating_add(WORD))
        .and_then(addr_of)
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Parses the group record at offset `at` of `bytes`; errors carry offsets and lengths counted
/// from the start of `bytes`. Returns the record and the offset just past it.
fn parse_record_at(bytes: &[u8], at: usize) -> Result<(GroupRecord<'_>, usize)> {
    let len = bytes.len();
    let record = bytes.get(at..).unwrap_or_default();
    let Some((head, rest)) = record.split_first_chunk::<RECORD_HEADER_LEN>() else {
        return Err(Error::truncated(
            Layer::Igmp,
            "group record",
            at,
            at.saturating_add(RECORD_HEADER_LEN),
            len,
        ));
    };
    let aux_data_len = head[RECORD_AUX_DATA_LEN];
    let number_of_sources = u16_at(head, RECORD_NUMBER_OF_SOURCES);
    let sources_at = at.saturating_add(RECORD_HEADER_LEN);
    let sources_len = words(usize::from(number_of_sources));
    let Some((sources, rest)) = rest.split_at_checked(sources_len) else {
        return Err(Error::truncated(
            Layer::Igmp,
            "number of sources",
            at.saturating_add(RECORD_NUMBER_OF_SOURCES),
            sources_at.saturating_add(sources_len),
            len,
        ));
    };
    let aux_at = sources_at.saturating_add(sources_len);
    let aux_len = words(usize::from(aux_data_len));
    let Some((aux_data, _)) = rest.split_at_checked(aux_len) else {
        return Err(Error::truncated(
            Layer::Igmp,
            "aux data len",
            at.saturating_add(RECORD_AUX_DATA_LEN),
            aux_at.saturating_add(aux_len),
            len,
        ));
    };
    let record = GroupRecord {
        record_type: GroupRecordType(head[RECORD_TYPE]),
        aux_data_len,
        number_of_sources,
        multicast_address: addr_at(head, RECORD_MULTICAST_ADDRESS),
        sources: SourceList { bytes: sources },
        aux_data,
    };
    Ok((record, aux_at.saturating_add(aux_len)))
}

/// Walks `count` records from offset `at` of `bytes`; returns the offset past the last one.
fn walk_records(bytes: &[u8], at: usize, count: u16) -> Result<usize> {
    let mut end = at;
    for _ in 0..count {
        end = parse_record_at(bytes, end)?.1;
    }
    Ok(end)
}

impl<'a> GroupRecord<'a> {
    /// Parses one group record from the start of `bytes`, returning it and the bytes after it.
    ///
    /// Errors (offsets from the start of `bytes`, all `Truncated`): field "group record" when
    /// the 8 fixed octets are not there, "number of sources" when the sources run past the end,
    /// "aux data len" when the auxiliary data does.
    pub fn parse(bytes: &'a [u8]) -> Result<(GroupRecord<'a>, &'a [u8])> {
        let (record, end) = parse_record_at(bytes, 0)?;
        Ok((record, bytes.get(end..).unwrap_or_default()))
    }

    /// The octets the record takes.
    pub fn len(&self) -> usize {
        RECORD_HEADER_LEN
            .saturating_add(self.sources.as_bytes().len())
            .saturating_add(self.aux_data.len())
    }

    /// Whether the record is empty: never, a record has at least its 8 fixed octets. (Present
    /// for symmetry with [`len`](GroupRecord::len).)
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the record, filling Number of Sources and Aux Data Len from the lists.
    ///
    /// Errors: `TooLong` on "number of sources" for more than 65535 sources, `BadValue` on
    /// "aux data len" if the auxiliary data is not a whole number of 32-bit words, `TooLong` on
    /// "aux data len" for more than 255 words (1020 octets), `BufferTooSmall`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let number_of_sources = u16::try_from(self.sources.len()).map_err(|_| {
            Error::too_long(
                Layer::Igmp,
                "number of sources",
                u16::MAX as usize,
                self.sources.len(),
            )
        })?;
        if self.aux_data.len() % WORD != 0 {
            return Err(Error::bad_value(
                Layer::Igmp,
                "aux data len",
                RECORD_AUX_DATA_LEN,
                "auxiliary data of whole 32-bit words",
                self.aux_data.len() as u64,
            ));
        }
        let aux_data_len = u8::try_from(self.aux_data.len() / WORD).map_err(|_| {
            Error::too_long(
                Layer::Igmp,
                "aux data len",
                words(u8::MAX as usize),
                self.aux_data.len(),
            )
        })?;
        self.write(out, aux_data_len, number_of_sources)
    }

    /// Writes the record exactly as held, counts included.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        self.write(out, self.aux_data_len, self.number_of_sources)
    }

    fn write(&self, out: &mut [u8], aux_data_len: u8, number_of_sources: u16) -> Result<usize> {
        let len = self.len();
        let got = out.len();
        let Some(out) = out.get_mut(..len) else {
            return Err(Error::buffer_too_small(Layer::Igmp, len, got));
        };
        let mut w = Writer::new(out);
        w.u8(self.record_type.0);
        w.u8(aux_data_len);
        w.u16(number_of_sources);
        w.bytes(&self.multicast_address.octets());
        w.bytes(self.sources.as_bytes());
        w.bytes(self.aux_data);
        Ok(len)
    }
}

/// The group records of a v3 Membership Report, as on the wire [RFC 3376 § 4.2].
///
/// Always holds whole, well-formed records (checked when built), so its iterator cannot fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GroupRecords<'a> {
    bytes: &'a [u8],
    count: u16,
}

impl<'a> GroupRecords<'a> {
    /// No records.
    pub const EMPTY: GroupRecords<'static> = GroupRecords {
        bytes: &[],
        count: 0,
    };

    /// Reads `count` records from the start of `bytes`, returning them and the bytes after them.
    /// Errors as in [`GroupRecord::parse`], with offsets from the start of `bytes`.
    pub fn parse(bytes: &'a [u8], count: u16) -> Result<(GroupRecords<'a>, &'a [u8])> {
        let end = walk_records(bytes, 0, count)?;
        let (records, rest) = bytes.split_at_checked(end).unwrap_or((bytes, &[]));
        Ok((
            GroupRecords {
                bytes: records,
                count,
            },
            rest,
        ))
    }

    /// The records that exactly fill `bytes` (as written by [`GroupRecords::write`]).
    ///
    /// Errors as in [`GroupRecord::parse`]; `BadValue` on "number of group records" for more
    /// than 65535 records.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let mut end = 0;
        let mut count: u64 = 0;
        while end < bytes.len() {
            end = parse_record_at(bytes, end)?.1;
            count = count.saturating_add(1);
        }
        let count = u16::try_from(count).map_err(|_| {
            Error::bad_value(Layer::Igmp, "number of group records", 0, "≤ 65535", count)
        })?;
        Ok(GroupRecords { bytes, count })
    }

    /// Writes `records` one after another (each with [`GroupRecord::emit`], which fills its
    /// counts), returning the octets written. Build a [`GroupRecords`] over them with
    /// [`GroupRecords::new`].
    pub fn write(records: &[GroupRecord<'_>], out: &mut [u8]) -> Result<usize> {
        if records.len() > usize::from(u16::MAX) {
            return Err(Error::too_long(
                Layer::Igmp,
                "number of group records",
                u16::MAX as usize,
                records.len(),
            ));
        }
        let needed = records
            .iter()
            .fold(0usize, |sum, r| sum.saturating_add(r.len()));
        let got = out.len();
        let Some(mut out) = out.get_mut(..needed) else {
            return Err(Error::buffer_too_small(Layer::Igmp, needed, got));
        };
        for record in records {
            let n = record.emit(out)?;
            out = core::mem::take(&mut out).get_mut(n..).unwrap_or_default();
        }
        Ok(needed)
    }

    /// The number of records.
    pub const fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are no records.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, in wire order.
    pub fn iter(&self) -> GroupRecordIter<'a> {
        GroupRecordIter {
            rest: self.bytes,
            remaining: self.count,
        }
    }

    /// The records as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<'a> IntoIterator for GroupRecords<'a> {
    type Item = GroupRecord<'a>;
    type IntoIter = GroupRecordIter<'a>;
    fn into_iter(self) -> GroupRecordIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &GroupRecords<'a> {
    type Item = GroupRecord<'a>;
    type IntoIter = GroupRecordIter<'a>;
    fn into_iter(self) -> GroupRecordIter<'a> {
        self.iter()
    }
}

/// Iterator over the records of a [`GroupRecords`].
#[derive(Debug, Clone)]
pub struct GroupRecordIter<'a> {
    rest: &'a [u8],
    remaining: u16,
}

impl<'a> Iterator for GroupRecordIter<'a> {
    type Item = GroupRecord<'a>;
    fn next(&mut self) -> Option<GroupRecord<'a>> {
        if self.remaining == 0 {
            return None;
        }
        // The bytes were checked when the GroupRecords was built; stop rather than fail if not.
        match GroupRecord::parse(self.rest) {
            Ok((record, rest)) => {
                self.rest = rest;
                self.remaining -= 1;
                Some(record)
            }
            Err(_) => {
                self.remaining = 0;
                None
            }
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::from(self.remaining);
        (n, Some(n))
    }
}

impl ExactSizeIterator for GroupRecordIter<'_> {}
impl core::iter::FusedIterator for GroupRecordIter<'_> {}

/// A v3 Membership Report, type 0x22 [RFC 3376 § 4.2].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type = 0x22  |    Reserved   |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Reserved            |  Number of Group Records (M)  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Group Record [1]                       |
/// +-                              ...                            -+
/// |                        Group Record [M]                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct V3Report<'a> {
    /// Octet 1, reserved: sent as zero, ignored on receipt [RFC 3376 § 4.2.1].
    pub reserved1: u8,
    /// The checksum as held.
    pub checksum: u16,
    /// Octets 4–5, reserved [RFC 3376 § 4.2.1].
    pub reserved2: u16,
    /// Number of Group Records (M) as held [RFC 3376 § 4.2.3]. Equal to `records.len()` after
    /// parsing; [`IgmpMessage::emit`] writes that, [`IgmpMessage::emit_exact`] writes this.
    pub number_of_group_records: u16,
    /// The group records.
    pub records: GroupRecords<'a>,
    /// Octets after the last record: covered by the checksum, otherwise ignored
    /// [RFC 3376 § 4.2.11].
    pub additional_data: &'a [u8],
}

impl V3Report<'_> {
    fn len(&self) -> usize {
        HEADER_LEN
            .saturating_add(self.records.as_bytes().len())
            .saturating_add(self.additional_data.len())
    }
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// An IGMP message of any version [RFC 1112 App. I, RFC 2236 § 2, RFC 3376 § 4], holding every
/// octet of it.
///
/// Every message starts with the same four octets:
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The layouts after them are drawn on [`Query`], [`GroupMessage`], [`V3Report`] and
/// [`GroupRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IgmpMessage<'a> {
    /// Membership Query, 0x11, any version.
    Query(Query<'a>),
    /// Version 1 Membership Report, 0x12 [RFC 1112 App. I].
    V1Report(GroupMessage<'a>),
    /// Version 2 Membership Report, 0x16 [RFC 2236 § 2].
    V2Report(GroupMessage<'a>),
    /// Version 2 Leave Group, 0x17 [RFC 2236 § 2].
    V2Leave(GroupMessage<'a>),
    /// Version 3 Membership Report, 0x22 [RFC 3376 § 4.2].
    V3Report(V3Report<'a>),
    /// Any other type (DVMRP, multicast traceroute, …), kept as bytes. (Built with one of the
    /// decoded types, it is written as given and read back as that type.)
    Unknown {
        /// The type octet.
        igmp_type: IgmpType,
        /// Octet 1.
        code: u8,
        /// The checksum as held.
        checksum: u16,
        /// Everything after the checksum.
        data: &'a [u8],
    },
}

impl<'a> IgmpMessage<'a> {
    /// Parses an IGMP message. `bytes` must be exactly the IPv4 payload (bounded by the IP total
    /// length, without link-layer padding): the length tells a query's version and bounds the
    /// additional data, and every octet of it belongs to the message.
    ///
    /// Never checks the checksum (see [`verify_checksum`]). A query of 9 to 11 octets is not an
    /// error: it parses as [`QueryBody::OtherLength`] and [`Query::version`] says
    /// [`QueryVersion::OtherLength`], which a host must ignore [RFC 3376 § 7.1].
    ///
    /// Errors, all `Truncated`, offsets and lengths from the start of `bytes`:
    /// - "type" at 0 for empty input; "header" at 0 when a query or report is shorter than 8
    ///   octets or another type shorter than 4;
    /// - "number of sources" (offset 10 in a query, 2 into a group record) when the source
    ///   addresses run past the end;
    /// - "group record" at a record's offset when Number of Group Records promises a record whose
    ///   8 fixed octets are not there;
    /// - "aux data len" (1 into a group record) when its auxiliary data runs past the end.
    pub fn parse(bytes: &'a [u8]) -> Result<IgmpMessage<'a>> {
        let len = bytes.len();
        let Some(&first) = bytes.first() else {
            return Err(Error::truncated(Layer::Igmp, "type", TYPE, COMMON_LEN, 0));
        };
        let igmp_type = IgmpType(first);
        let needed = igmp_type.min_len();
        let header_error = Error::truncated(Layer::Igmp, "header", 0, needed, len);
        if needed == COMMON_LEN {
            let Some((head, data)) = bytes.split_first_chunk::<COMMON_LEN>() else {
                return Err(header_error);
            };
            return Ok(IgmpMessage::Unknown {
                igmp_type,
                code: head[CODE],
                checksum: u16_at(head, CHECKSUM),
                data,
            });
        }
        let Some((head, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(header_error);
        };
        let code = head[CODE];
        let checksum = u16_at(head, CHECKSUM);
        let group = addr_at(head, GROUP);
        let group_message = GroupMessage {
            code,
            checksum,
            group,
            additional_data: rest,
        };
        Ok(match igmp_type {
            IgmpType::MEMBERSHIP_QUERY => IgmpMessage::Query(Query {
                max_resp_code: code,
                checksum,
                group,
                body: parse_query_body(bytes, rest)?,
            }),
            IgmpType::V1_REPORT => IgmpMessage::V1Report(group_message),
            IgmpType::V2_REPORT => IgmpMessage::V2Report(group_message),
            IgmpType::V2_LEAVE => IgmpMessage::V2Leave(group_message),
            // `min_len` is 8 for the five types above only, so this is IgmpType::V3_REPORT.
            _ => {
                let number_of_group_records = u16_at(head, REPORT_NUMBER_OF_RECORDS);
                let end = walk_records(bytes, REPORT_RECORDS, number_of_group_records)?;
                let records = bytes.get(REPORT_RECORDS..end).unwrap_or_default();
                IgmpMessage::V3Report(V3Report {
                    reserved1: code,
                    checksum,
                    reserved2: u16_at(head, REPORT_RESERVED2),
                    number_of_group_records,
                    records: GroupRecords {
                        bytes: records,
                        count: number_of_group_records,
                    },
                    additional_data: bytes.get(end..).unwrap_or_default(),
                })
            }
        })
    }

    /// The type octet.
    pub const fn igmp_type(&self) -> IgmpType {
        match self {
            IgmpMessage::Query(_) => IgmpType::MEMBERSHIP_QUERY,
            IgmpMessage::V1Report(_) => IgmpType::V1_REPORT,
            IgmpMessage::V2Report(_) => IgmpType::V2_REPORT,
            IgmpMessage::V2Leave(_) => IgmpType::V2_LEAVE,
            IgmpMessage::V3Report(_) => IgmpType::V3_REPORT,
            IgmpMessage::Unknown { igmp_type, .. } => *igmp_type,
        }
    }

    /// The checksum as held.
    pub const fn checksum(&self) -> u16 {
        match self {
            IgmpMessage::Query(q) => q.checksum,
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => {
                m.checksum
            }
            IgmpMessage::V3Report(r) => r.checksum,
            IgmpMessage::Unknown { checksum, .. } => *checksum,
        }
    }

    /// Sets the checksum field (as `emit_exact` will write it).
    pub fn set_checksum(&mut self, value: u16) {
        match self {
            IgmpMessage::Query(q) => q.checksum = value,
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => {
                m.checksum = value
            }
            IgmpMessage::V3Report(r) => r.checksum = value,
            IgmpMessage::Unknown { checksum, .. } => *checksum = value,
        }
    }

    /// The IGMP version, as Wireshark's `igmp.version` gives it: 1 for a v1 report and a v1
    /// query, 2 for v2 reports, leaves and queries, 3 for v3 reports and queries. A query of 9 to
    /// 11 octets (which [`Query::version`] calls [`QueryVersion::OtherLength`]) is 2 when its code
    /// is non-zero and 1 otherwise, as Wireshark reads it. `None` for other types, for which
    /// Wireshark gives no version.
    pub const fn version(&self) -> Option<u8> {
        Some(match self {
            IgmpMessage::Query(q) => match q.version() {
                QueryVersion::V1 => 1,
                QueryVersion::V2 => 2,
                QueryVersion::V3 => 3,
                QueryVersion::OtherLength(_) if q.max_resp_code == 0 => 1,
                QueryVersion::OtherLength(_) => 2,
            },
            IgmpMessage::V1Report(_) => 1,
            IgmpMessage::V2Report(_) | IgmpMessage::V2Leave(_) => 2,
            IgmpMessage::V3Report(_) => 3,
            IgmpMessage::Unknown { .. } => return None,
        })
    }

    /// The Max Resp Time in units of 1/10 second as Wireshark's `igmp.max_resp` gives it: the
    /// octet itself for v2 messages (a 9–11 octet query with a non-zero code counts as v2),
    /// the decoded floating-point code for v3 queries, `None` for v1 messages, v3 reports and
    /// other types, which have no such field.
    pub const fn max_resp(&self) -> Option<u32> {
        match self {
            IgmpMessage::Query(q) => match q.body {
                QueryBody::V3(_) => Some(max_resp_code_to_tenths(q.max_resp_code)),
                _ if q.max_resp_code == 0 => None,
                _ => Some(q.max_resp_code as u32),
            },
            IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => Some(m.code as u32),
            _ => None,
        }
    }

    /// The Group Address of queries, v1/v2 reports and leaves; `None` for v3 reports (whose
    /// addresses are in their records) and other types.
    pub const fn group(&self) -> Option<Ipv4Addr> {
        match self {
            IgmpMessage::Query(q) => Some(q.group),
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => {
                Some(m.group)
            }
            _ => None,
        }
    }

    /// The octets the message takes (all of them, additional data included).
    pub fn len(&self) -> usize {
        match self {
            IgmpMessage::Query(q) => q.len(),
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => {
                m.len()
            }
            IgmpMessage::V3Report(r) => r.len(),
            IgmpMessage::Unknown { data, .. } => COMMON_LEN.saturating_add(data.len()),
        }
    }

    /// Whether the message is empty: never (at least 4 octets). Present for symmetry with
    /// [`len`](IgmpMessage::len).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes the message, filling Number of Sources and Number of Group Records from the lists
    /// held and the checksum over the whole message [RFC 2236 § 2.3, RFC 3376 § 4.1.2]; the
    /// group records themselves are copied as held. Returns the octets written, [`len`].
    ///
    /// Errors: `BufferTooSmall`; `TooLong` on "resv" (> 15), "QRV" (> 7) or "number of
    /// sources" (> 65535 sources).
    ///
    /// [`len`]: IgmpMessage::len
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.write(out, true)?;
        if let Some(message) = out.get_mut(..len) {
            let sum = checksum::internet_checksum(message);
            if let Some(field) = message.get_mut(CHECKSUM..CHECKSUM + 2) {
                field.copy_from_slice(&sum.to_be_bytes());
            }
        }
        Ok(len)
    }

    /// Writes the message exactly as held: checksum and counts included, even when they do not
    /// match the contents (to re-emit captured bytes or craft bad packets on purpose).
    ///
    /// Errors: `BufferTooSmall`; `TooLong` on "resv" (> 15) or "QRV" (> 7), which do not fit
    /// their bits.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        self.write(out, false)
    }

    /// Writes every field; with `fill`, counts from the lists and a zero checksum.
    fn write(&self, out: &mut [u8], fill: bool) -> Result<usize> {
        // Check the values first so that an error leaves `out` untouched.
        let mut query_sources = 0;
        if let IgmpMessage::Query(Query {
            body: QueryBody::V3(v3),
            ..
        }) = self
        {
            if v3.resv > RESV_MAX {
                return Err(Error::too_long(
                    Layer::Igmp,
                    "resv",
                    RESV_MAX.into(),
                    v3.resv.into(),
                ));
            }
            if v3.qrv > QRV_MAX {
                return Err(Error::too_long(
                    Layer::Igmp,
                    "QRV",
                    QRV_MAX.into(),
                    v3.qrv.into(),
                ));
            }
            query_sources = if fill {
                u16::try_from(v3.sources.len()).map_err(|_| {
                    Error::too_long(
                        Layer::Igmp,
                        "number of sources",
                        u16::MAX.into(),
                        v3.sources.len(),
                    )
                })?
            } else {
                v3.number_of_sources
            };
        }
        let len = self.len();
        let got = out.len();
        let Some(out) = out.get_mut(..len) else {
            return Err(Error::buffer_too_small(Layer::Igmp, len, got));
        };
        let mut w = Writer::new(out);
        let checksum = if fill { 0 } else { self.checksum() };
        w.u8(self.igmp_type().0);
        match self {
            IgmpMessage::Query(q) => {
                w.u8(q.max_resp_code);
                w.u16(checksum);
                w.bytes(&q.group.octets());
                match &q.body {
                    QueryBody::V1OrV2 => {}
                    QueryBody::OtherLength(extra) => w.bytes(extra),
                    QueryBody::V3(v3) => {
                        w.u8(v3.flags_octet());
                        w.u8(v3.qqic);
                        w.u16(query_sources);
                        w.bytes(v3.sources.as_bytes());
                        w.bytes(v3.additional_data);
                    }
                }
            }
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) | IgmpMessage::V2Leave(m) => {
                w.u8(m.code);
                w.u16(checksum);
                w.bytes(&m.group.octets());
                w.bytes(m.additional_data);
            }
            IgmpMessage::V3Report(r) => {
                w.u8(r.reserved1);
                w.u16(checksum);
                w.u16(r.reserved2);
                w.u16(if fill {
                    r.records.count
                } else {
                    r.number_of_group_records
                });
                w.bytes(r.records.as_bytes());
                w.bytes(r.additional_data);
            }
            IgmpMessage::Unknown { code, data, .. } => {
                w.u8(*code);
                w.u16(checksum);
                w.bytes(data);
            }
        }
        Ok(len)
    }
}

/// The body of a query after its 8 fixed octets: `rest` is what follows them in `bytes`.
fn parse_query_body<'a>(bytes: &'a [u8], rest: &'a [u8]) -> Result<QueryBody<'a>> {
    if rest.is_empty() {
        return Ok(QueryBody::V1OrV2);
    }
    let Some((v3, rest)) = rest.split_first_chunk::<WORD>() else {
        return Ok(QueryBody::OtherLength(rest));
    };
    let flags = v3[QUERY_FLAGS - HEADER_LEN];
    let number_of_sources = u16::from_be_bytes([
        v3[QUERY_NUMBER_OF_SOURCES - HEADER_LEN],
        v3[QUERY_NUMBER_OF_SOURCES - HEADER_LEN + 1],
    ]);
    let sources_len = words(usize::from(number_of_sources));
    let Some((sources, additional_data)) = rest.split_at_checked(sources_len) else {
        return Err(Error::truncated(
            Layer::Igmp,
            "number of sources",
            QUERY_NUMBER_OF_SOURCES,
            QUERY_SOURCES.saturating_add(sources_len),
            bytes.len(),
        ));
    };
    Ok(QueryBody::V3(QueryV3 {
        resv: flags >> RESV_SHIFT,
        s_flag: flags & S_FLAG != 0,
        qrv: flags & QRV_MASK,
        qqic: v3[QUERY_QQIC - HEADER_LEN],
        number_of_sources,
        sources: SourceList { bytes: sources },
        additional_data,
    }))
}

/// Verifies the checksum of an IGMP message as on the wire (the whole IPv4 payload): the Internet
/// checksum over every octet, the checksum field taken as zero [RFC 2236 § 2.3,
/// RFC 3376 § 4.1.2]. IGMP has no pseudo-header and no "absent" value.
///
/// Input shorter than 4 octets has no checksum field; it is reported as `Bad` with `found` 0.
#[inline]
pub fn verify_checksum(bytes: &[u8]) -> ChecksumStatus {
    // A receiver's check [RFC 1071 § 2]: the sum over the message, checksum field included, is
    // all ones when the field is right. Only a wrong field needs the expected value below.
    if bytes.len() >= COMMON_LEN && Accumulator::new().add_bytes(bytes).sum16() == 0xffff {
        return ChecksumStatus::Good;
    }
    let found = match bytes.get(CHECKSUM..CHECKSUM + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let head = bytes.get(..CHECKSUM).unwrap_or(bytes);
    let tail = bytes.get(COMMON_LEN..).unwrap_or_default();
    let sum = Accumulator::new()
        .add_bytes(head)
        .add_u16(0)
        .add_bytes(tail);
    if bytes.len() < COMMON_LEN {
        // Not `status`: a missing field must not pass as the other representation of zero.
        return ChecksumStatus::Bad {
            expected: sum.finish(),
            found,
        };
    }
    checksum::status(found, sum, false, None)
}

/// Writes into a slice sized exactly for what is written (the callers size it with `len()`), so
/// no write falls outside it; a write that would is dropped rather than panicking.
struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
}

impl<'b> Writer<'b> {
    fn new(out: &'b mut [u8]) -> Self {
        Writer { out, at: 0 }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        let end = self.at.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
    }

    fn u8(&mut self, value: u8) {
        self.bytes(&[value]);
    }

    fn u16(&mut self, value: u16) {
        self.bytes(&value.to_be_bytes());
    }
}

impl fmt::Display for IgmpMessage<'_> {
    /// A one-line summary in the style of Wireshark's Info column, prefixed with the version:
    /// `IGMPv2 Membership Query, general`, `IGMPv3 Membership Report, 3 group records`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version() {
            Some(v) => write!(f, "IGMPv{v} ")?,
            None => f.write_str("IGMP ")?,
        }
        match self {
            IgmpMessage::Query(q) => {
                f.write_str("Membership Query")?;
                if let QueryVersion::OtherLength(n) = q.version() {
                    write!(f, " of {n} octets (ignored by hosts)")?;
                }
                if q.is_general() {
                    f.write_str(", general")?;
                } else {
                    write!(f, ", specific for group {}", q.group)?;
                }
                if let Some(v3) = q.v3() {
                    if !v3.sources.is_empty() {
                        write!(f, ", {} sources", v3.sources.len())?;
                    }
                }
                Ok(())
            }
            IgmpMessage::V1Report(m) | IgmpMessage::V2Report(m) => {
                write!(f, "Membership Report group {}", m.group)
            }
            IgmpMessage::V2Leave(m) => write!(f, "Leave Group {}", m.group),
            IgmpMessage::V3Report(r) => {
                write!(f, "Membership Report, {} group records", r.records.len())
            }
            IgmpMessage::Unknown { igmp_type, .. } => write!(f, "{igmp_type}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// Hex bytes that live for the test run, for messages that borrow them.
    fn hs(s: &str) -> &'static [u8] {
        Vec::leak(h(s))
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn sources(list: &SourceList<'_>) -> Vec<Ipv4Addr> {
        list.iter().collect()
    }

    fn exact(msg: &IgmpMessage<'_>) -> Vec<u8> {
        let mut out = vec![0; msg.len()];
        assert_eq!(msg.emit_exact(&mut out), Ok(msg.len()));
        out
    }

    fn emitted(msg: &IgmpMessage<'_>) -> Vec<u8> {
        let mut out = vec![0; msg.len()];
        assert_eq!(msg.emit(&mut out), Ok(msg.len()));
        out
    }

    fn truncated(field: &'static str, offset: usize, needed: usize, got: usize) -> Error {
        Error::truncated(Layer::Igmp, field, offset, needed, got)
    }

    // Every distinct IGMP message of the fixture captures (the IP payloads, as tshark's
    // igmp_raw gives them), with the checksum tshark reads and reports as correct.
    const FIXTURES: &[(&str, &str, u16)] = &[
        ("tcpdump/IGMP_V1.pcap #1", "1100eeff00000000", 0xeeff),
        ("tcpdump/IGMP_V1.pcap #2", "12000d03e00000fc", 0x0d03),
        ("tcpdump/IGMP_V1.pcap #3", "1200fe04effffffa", 0xfe04),
        ("tcpdump/IGMP_V1.pcap #7", "1200fe00effffffe", 0xfe00),
        ("tcpdump/IGMP_V2.pcap #1", "1164ee9b00000000", 0xee9b),
        ("tcpdump/IGMP_V2.pcap #2", "1600fa04effffffa", 0xfa04),
        ("tcpdump/IGMP_V2.pcap #5", "170006fbe1010103", 0x06fb),
        ("tcpdump/IGMP_V2.pcap #6", "110a0cf1e1010103", 0x0cf1),
        (
            "tcpdump/igmpv3-queries.pcap #1",
            "1164ec1e00000000027d0000",
            0xec1e,
        ),
        (
            "tcpdump/igmpv3-queries.pcap #2",
            "11feeb8400000000027d0000",
            0xeb84,
        ),
        (
            "tcpdump/igmpv3-queries.pcap #4",
            "110aec7800000000027d0000",
            0xec78,
        ),
        (
            "tcpdump/mtrace.pcap #1",
            "1f2038a300000000ac102801ac101401ac10280140000007",
            0x38a3,
        ),
        ("tcpdump/mtrace.pcap #2", MTRACE_REQUEST, 0x3113),
        (
            "PcapPlusPlus/IgmpPackets.pcap #2",
            "17000803e00000fc",
            0x0803,
        ),
        (
            "PcapPlusPlus/IgmpPackets.pcap #4",
            "16000903e00000fc",
            0x0903,
        ),
        // PcapPlusPlus/igmp.pcapng holds the same octets as four of the messages above.
        ("PcapPlusPlus/igmp.pcapng #1", "1164ee9b00000000", 0xee9b),
        ("PcapPlusPlus/igmp.pcapng #2", "1600fa04effffffa", 0xfa04),
        ("PcapPlusPlus/igmp.pcapng #3", "1100eeff00000000", 0xeeff),
        ("PcapPlusPlus/igmp.pcapng #4", "12000d03e00000fc", 0x0d03),
        (
            "PcapPlusPlus/igmpv3.pcap #1",
            "11012a6de00000090f000001c0a814de",
            0x2a6d,
        ),
        (
            "PcapPlusPlus/igmpv3.pcap #2",
            "2200276d0000000101000001e0000009c0a814de",
            0x276d,
        ),
        ("PcapPlusPlus/igmpv3_query2.pcap #1", QUERY2, 0x6d1a),
        ("PcapPlusPlus/igmpv3_report2.pcap #1", REPORT2, 0xbf14),
        ("arkime/igmp.pcap #1", ARKIME_JOIN, 0xfeed),
        (
            "arkime/igmp.pcap #3",
            "220001ee0000000303000000ef01010103000000ef02020203000000ef030303",
            0x01ee,
        ),
        ("arkime/igmp.pcap #4", "110afc75ef010101027d0000", 0xfc75),
    ];
    const MTRACE_REQUEST: &str = "1f20311300000000ac102801ac101401ac10280140000007472c459c0a00000e\
        0a00000e0a00000d000000f2000000000000000003001800472bbf780a0000060a00000d0a000005000000f0\
        000000000000000003001800";
    const QUERY2: &str = "11016d1ae000000b0f0000050a141e28c0a814de64c8ffff010203040b16212c";
    const REPORT2: &str = "2200bf140000000503000004010101010c22384e584d42372c21160bffffffff\
        04000002010305070d1839441f2a4b5601000001e0000009c0a814de0200000304030201010203040b16212c\
        6fde212c05000002020406080d1839441f2a4b56";
    const ARKIME_JOIN: &str = "2200feed0000000304000000ef01010104000000ef02020204000000ef030303";

    #[test]
    fn fixtures_parse_reemit_and_checksum_as_tshark_reads_them() {
        for &(name, hex, checksum) in FIXTURES {
            let bytes = h(hex);
            let msg = IgmpMessage::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(msg.checksum(), checksum, "{name}");
            assert_eq!(msg.len(), bytes.len(), "{name}");
            assert_eq!(exact(&msg), bytes, "{name}: emit_exact");
            assert_eq!(verify_checksum(&bytes), ChecksumStatus::Good, "{name}");
            assert_eq!(verify_checksum(&bytes).wireshark_status(), 1, "{name}");
            // emit recomputes the same checksum from a zeroed field.
            let mut zeroed = msg;
            zeroed.set_checksum(0);
            assert_eq!(emitted(&zeroed), bytes, "{name}: emit");
        }
    }

    #[test]
    fn igmp_v1_query_and_report() {
        // tcpdump/IGMP_V1.pcap #1: IGMPv1 Membership Query, checksum 0xeeff, group 0.0.0.0.
        let bytes = h("1100eeff00000000");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.version(), QueryVersion::V1);
        assert_eq!(q.body, QueryBody::V1OrV2);
        assert!(q.is_general());
        assert_eq!(q.max_resp_time(), Some(Duration::from_secs(10)));
        assert_eq!(msg.version(), Some(1));
        assert_eq!(msg.max_resp(), None);
        assert_eq!(msg.to_string(), "IGMPv1 Membership Query, general");

        // #2: IGMPv1 Membership Report for 224.0.0.252, checksum 0x0d03.
        let bytes = h("12000d03e00000fc");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        assert_eq!(
            msg,
            IgmpMessage::V1Report(GroupMessage {
                code: 0,
                checksum: 0x0d03,
                group: ip("224.0.0.252"),
                additional_data: &[],
            })
        );
        assert_eq!(msg.igmp_type(), IgmpType::V1_REPORT);
        assert_eq!(msg.version(), Some(1));
        assert_eq!(msg.group(), Some(ip("224.0.0.252")));
        assert_eq!(msg.max_resp(), None);
    }

    #[test]
    fn igmp_v2_query_report_leave() {
        // tcpdump/IGMP_V2.pcap #1: general query, Max Resp Time 100 (10.0 s).
        let msg = IgmpMessage::parse(hs("1164ee9b00000000")).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.version(), QueryVersion::V2);
        assert_eq!(q.max_resp_time(), Some(Duration::from_secs(10)));
        assert_eq!((msg.version(), msg.max_resp()), (Some(2), Some(100)));

        // #6: group-specific query for 225.1.1.3, Max Resp Time 10 (1.0 s).
        let bytes = h("110a0cf1e1010103");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.group, ip("225.1.1.3"));
        assert!(!q.is_general());
        assert_eq!(q.max_resp_time(), Some(Duration::from_secs(1)));
        assert_eq!((msg.version(), msg.max_resp()), (Some(2), Some(10)));
        assert_eq!(
            msg.to_string(),
            "IGMPv2 Membership Query, specific for group 225.1.1.3"
        );

        // #2: report for 239.255.255.250, checksum 0xfa04, max resp 0.
        let msg = IgmpMessage::parse(hs("1600fa04effffffa")).unwrap();
        let IgmpMessage::V2Report(m) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(
            (m.code, m.checksum, m.group),
            (0, 0xfa04, ip("239.255.255.250"))
        );
        assert_eq!((msg.version(), msg.max_resp()), (Some(2), Some(0)));
        assert_eq!(
            msg.to_string(),
            "IGMPv2 Membership Report group 239.255.255.250"
        );

        // #5: Leave Group 225.1.1.3, checksum 0x06fb.
        let msg = IgmpMessage::parse(hs("170006fbe1010103")).unwrap();
        let IgmpMessage::V2Leave(m) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!((m.checksum, m.group), (0x06fb, ip("225.1.1.3")));
        assert_eq!(msg.version(), Some(2));
        assert_eq!(msg.to_string(), "IGMPv2 Leave Group 225.1.1.3");
    }

    #[test]
    fn igmp_v3_general_queries() {
        // tcpdump/igmpv3-queries.pcap #1: Max Resp Time 10.0 s (0x64), S 0, QRV 2, QQIC 125.
        let msg = IgmpMessage::parse(hs("1164ec1e00000000027d0000")).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.version(), QueryVersion::V3);
        let v3 = q.v3().unwrap();
        assert_eq!((v3.resv, v3.s_flag, v3.qrv, v3.qqic), (0, false, 2, 125));
        assert_eq!((v3.number_of_sources, v3.sources.len()), (0, 0));
        assert_eq!(v3.query_interval(), Duration::from_secs(125));
        assert!(v3.additional_data.is_empty());
        assert_eq!(q.max_resp_time(), Some(Duration::from_secs(10)));
        assert_eq!((msg.version(), msg.max_resp()), (Some(3), Some(100)));

        // #2: Max Resp Code 0xfe, exponent 7, mantissa 0xe: 3072.0 s, igmp.max_resp 30720.
        let msg = IgmpMessage::parse(hs("11feeb8400000000027d0000")).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.max_resp_code, 0xfe);
        assert_eq!(msg.max_resp(), Some(30720));
        assert_eq!(q.max_resp_time(), Some(Duration::from_secs(3072)));
    }

    #[test]
    fn igmp_v3_group_and_source_specific_query() {
        // PcapPlusPlus/igmpv3_query2.pcap: group 224.0.0.11, S 1, QRV 7, QQIC 0, five sources.
        let bytes = h(QUERY2);
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(
            (q.max_resp_code, q.checksum, q.group),
            (1, 0x6d1a, ip("224.0.0.11"))
        );
        let v3 = q.v3().unwrap();
        assert_eq!((v3.resv, v3.s_flag, v3.qrv, v3.qqic), (0, true, 7, 0));
        assert_eq!(v3.number_of_sources, 5);
        assert_eq!(
            sources(&v3.sources),
            [
                ip("10.20.30.40"),
                ip("192.168.20.222"),
                ip("100.200.255.255"),
                ip("1.2.3.4"),
                ip("11.22.33.44")
            ]
        );
        assert_eq!(v3.sources.get(4), Some(ip("11.22.33.44")));
        assert_eq!(v3.sources.get(5), None);
        assert_eq!(v3.sources.iter().next_back(), Some(ip("11.22.33.44")));
        assert_eq!(v3.sources.iter().len(), 5);
        assert_eq!(msg.max_resp(), Some(1));
        assert_eq!(
            msg.to_string(),
            "IGMPv3 Membership Query, specific for group 224.0.0.11, 5 sources"
        );

        // PcapPlusPlus/igmpv3.pcap #1: group 224.0.0.9, one source 192.168.20.222.
        let msg = IgmpMessage::parse(hs("11012a6de00000090f000001c0a814de")).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        let v3 = q.v3().unwrap();
        assert_eq!((q.group, v3.s_flag, v3.qrv), (ip("224.0.0.9"), true, 7));
        assert_eq!(sources(&v3.sources), [ip("192.168.20.222")]);
    }

    #[test]
    fn igmp_v3_reports() {
        // PcapPlusPlus/igmpv3_report2.pcap: five records, as tshark -V reads them.
        let bytes = h(REPORT2);
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::V3Report(r) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!((r.reserved1, r.checksum, r.reserved2), (0, 0xbf14, 0));
        assert_eq!((r.number_of_group_records, r.records.len()), (5, 5));
        assert!(r.additional_data.is_empty());
        let expected: [(u8, &str, &[&str]); 5] = [
            (
                3,
                "1.1.1.1",
                &[
                    "12.34.56.78",
                    "88.77.66.55",
                    "44.33.22.11",
                    "255.255.255.255",
                ],
            ),
            (4, "1.3.5.7", &["13.24.57.68", "31.42.75.86"]),
            (1, "224.0.0.9", &["192.168.20.222"]),
            (2, "4.3.2.1", &["1.2.3.4", "11.22.33.44", "111.222.33.44"]),
            (5, "2.4.6.8", &["13.24.57.68", "31.42.75.86"]),
        ];
        let records: Vec<GroupRecord<'_>> = r.records.iter().collect();
        assert_eq!(records.len(), expected.len());
        for (record, (kind, group, srcs)) in records.iter().zip(expected) {
            assert_eq!(record.record_type, GroupRecordType(kind));
            assert_eq!(record.aux_data_len, 0);
            assert!(record.aux_data.is_empty());
            assert_eq!(record.multicast_address, ip(group));
            assert_eq!(usize::from(record.number_of_sources), srcs.len());
            let want: Vec<Ipv4Addr> = srcs.iter().map(|s| ip(s)).collect();
            assert_eq!(sources(&record.sources), want);
        }
        assert_eq!(
            records[0].record_type.to_string(),
            "Change To Include Mode (3)"
        );
        assert_eq!(records[4].record_type, GroupRecordType::ALLOW_NEW_SOURCES);
        assert_eq!(
            (msg.version(), msg.max_resp(), msg.group()),
            (Some(3), None, None)
        );
        assert_eq!(msg.to_string(), "IGMPv3 Membership Report, 5 group records");

        // arkime/igmp.pcap #1: three Change To Exclude Mode records without sources (joins).
        let msg = IgmpMessage::parse(hs(ARKIME_JOIN)).unwrap();
        let IgmpMessage::V3Report(r) = msg else {
            panic!("{msg:?}")
        };
        let groups: Vec<(GroupRecordType, Ipv4Addr, usize)> = r
            .records
            .iter()
            .map(|g| (g.record_type, g.multicast_address, g.sources.len()))
            .collect();
        assert_eq!(
            groups,
            [
                (GroupRecordType::CHANGE_TO_EXCLUDE, ip("239.1.1.1"), 0),
                (GroupRecordType::CHANGE_TO_EXCLUDE, ip("239.2.2.2"), 0),
                (GroupRecordType::CHANGE_TO_EXCLUDE, ip("239.3.3.3"), 0),
            ]
        );

        // PcapPlusPlus/igmpv3.pcap #2: one Mode Is Include record, 224.0.0.9 from 192.168.20.222.
        let msg = IgmpMessage::parse(hs("2200276d0000000101000001e0000009c0a814de")).unwrap();
        let IgmpMessage::V3Report(r) = msg else {
            panic!("{msg:?}")
        };
        let record = r.records.iter().next().unwrap();
        assert_eq!(record.record_type, GroupRecordType::MODE_IS_INCLUDE);
        assert_eq!(record.multicast_address, ip("224.0.0.9"));
        assert_eq!(sources(&record.sources), [ip("192.168.20.222")]);
    }

    #[test]
    fn mtrace_and_dvmrp_are_kept_as_bytes() {
        // tcpdump/mtrace.pcap #1: Traceroute Query (0x1f), 32 hops, checksum 0x38a3, 24 octets.
        let bytes = h("1f2038a300000000ac102801ac101401ac10280140000007");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::Unknown {
            igmp_type,
            code,
            checksum,
            data,
        } = msg
        else {
            panic!("{msg:?}")
        };
        assert_eq!((igmp_type, code, checksum), (IgmpType::MTRACE, 32, 0x38a3));
        assert_eq!(data, &bytes[4..]);
        assert_eq!(
            (msg.version(), msg.max_resp(), msg.group()),
            (None, None, None)
        );
        assert_eq!(msg.to_string(), "IGMP Traceroute Query or Request (0x1f)");
        // The 88-octet request with its two response blocks.
        let bytes = h(MTRACE_REQUEST);
        let msg = IgmpMessage::parse(&bytes).unwrap();
        assert_eq!(msg.len(), 88);
        assert_eq!(msg.igmp_type(), IgmpType::MTRACE);
        // A short DVMRP message of just type, code and checksum.
        let msg = IgmpMessage::parse(&[0x13, 0x01, 0xab, 0xcd]).unwrap();
        assert_eq!(
            msg,
            IgmpMessage::Unknown {
                igmp_type: IgmpType::DVMRP,
                code: 1,
                checksum: 0xabcd,
                data: &[]
            }
        );
    }

    #[test]
    fn query_version_follows_rfc_3376_section_7_1() {
        let mut bytes = h("1100000000000000");
        fn parse_query(b: &[u8]) -> Query<'_> {
            match IgmpMessage::parse(b).unwrap() {
                IgmpMessage::Query(q) => q,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(parse_query(&bytes).version(), QueryVersion::V1);
        bytes[1] = 0x64;
        assert_eq!(parse_query(&bytes).version(), QueryVersion::V2);
        for extra in 1..=3 {
            for code in [0u8, 0x64] {
                let mut b = h("1100000000000000");
                b[1] = code;
                b.extend(core::iter::repeat_n(0xaa, extra));
                let q = parse_query(&b);
                assert_eq!(q.version(), QueryVersion::OtherLength(8 + extra));
                assert_eq!(q.version().number(), None);
                assert_eq!(q.body, QueryBody::OtherLength(&b[8..]));
                assert_eq!(q.max_resp_time(), None);
                let msg = IgmpMessage::Query(q);
                // Wireshark reads these by the code, as v2 or v1.
                assert_eq!(msg.version(), Some(if code == 0 { 1 } else { 2 }));
                assert_eq!(msg.max_resp(), if code == 0 { None } else { Some(100) });
                assert_eq!(exact(&msg), b);
                assert!(msg
                    .to_string()
                    .contains(&std::format!("of {} octets", 8 + extra)));
            }
        }
        let mut b = h("1100000000000000");
        b.extend([0, 0, 0, 0]);
        assert_eq!(parse_query(&b).version(), QueryVersion::V3);
        assert_eq!(QueryVersion::V3.number(), Some(3));
        // A v3 query with code 0 is still v3, and its max resp time is 0.
        assert_eq!(parse_query(&b).max_resp_time(), Some(Duration::ZERO));
    }

    #[test]
    fn additional_data_is_kept_and_checksummed() {
        // A v2 report followed by two octets: kept, re-emitted, covered by the checksum
        // [RFC 2236 § 2.5].
        let bytes = h("1600fa04effffffa0102");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::V2Report(m) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(m.additional_data, &[1, 2]);
        assert_eq!(exact(&msg), bytes);
        // The checksum was computed over the first eight octets only.
        assert_eq!(
            verify_checksum(&bytes),
            ChecksumStatus::Bad {
                expected: 0xf902,
                found: 0xfa04
            }
        );
        let fixed = emitted(&msg);
        assert_eq!(&fixed[..2], &bytes[..2]);
        assert_eq!(&fixed[4..], &bytes[4..]);
        assert_eq!(&fixed[2..4], &[0xf9, 0x02]);
        assert_eq!(verify_checksum(&fixed), ChecksumStatus::Good);

        // A v3 query and a v3 report with trailing octets [RFC 3376 § 4.1.10, § 4.2.11].
        let bytes = h("1164ec1e00000000027d0000deadbeef");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::Query(q) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(q.v3().unwrap().additional_data, h("deadbeef"));
        assert_eq!(exact(&msg), bytes);
        let bytes = h("2200276d0000000101000001e0000009c0a814de99");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::V3Report(r) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(r.additional_data, &[0x99]);
        assert_eq!(r.records.len(), 1);
        assert_eq!(exact(&msg), bytes);
    }

    #[test]
    fn group_record_with_auxiliary_data() {
        // One Mode Is Exclude record for 232.1.2.3 with one source and two words of aux data.
        let bytes = h("2200000000000001020200011e801020304c000020211111111222222222");
        let msg = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::V3Report(r) = msg else {
            panic!("{msg:?}")
        };
        let record = r.records.iter().next().unwrap();
        assert_eq!(record.record_type, GroupRecordType::MODE_IS_EXCLUDE);
        assert_eq!((record.aux_data_len, record.number_of_sources), (2, 1));
        assert_eq!(record.multicast_address, ip("30.128.16.32"));
        assert_eq!(sources(&record.sources), [ip("48.76.0.0")]);
        assert_eq!(record.aux_data, h("2021111111122222"));
        assert_eq!(record.len(), 20);
        assert!(!record.is_empty());
        assert_eq!(r.additional_data, h("2222"));
        assert_eq!(exact(&msg), bytes);
        // GroupRecord::parse on its own.
        let (alone, rest) = GroupRecord::parse(&bytes[8..]).unwrap();
        assert_eq!(alone, record);
        assert_eq!(rest, &[0x22, 0x22]);
    }

    #[test]
    fn parse_errors_name_field_offset_and_lengths() {
        assert_eq!(IgmpMessage::parse(&[]), Err(truncated("type", 0, 4, 0)));
        for t in [0x11u8, 0x12, 0x16, 0x17, 0x22] {
            assert_eq!(
                IgmpMessage::parse(&[t, 0, 0, 0, 0, 0, 0]),
                Err(truncated("header", 0, 8, 7))
            );
            assert_eq!(IgmpMessage::parse(&[t]), Err(truncated("header", 0, 8, 1)));
        }
        assert_eq!(
            IgmpMessage::parse(&[0x13, 0, 0]),
            Err(truncated("header", 0, 4, 3))
        );
        assert_eq!(
            IgmpMessage::parse(&[0x1f]),
            Err(truncated("header", 0, 4, 1))
        );

        // v3 query: N = 2 but one source.
        let q = h("1164000000000000027d0002c0a80001");
        let e = IgmpMessage::parse(&q).unwrap_err();
        assert_eq!(e, truncated("number of sources", 10, 20, 16));
        assert!(e.is_truncation());
        assert_eq!(
            e.to_string(),
            "IGMP number of sources at byte 10: truncated: needs 20 bytes from the start of the \
             IGMP, only 16 present"
        );
        // N = 65535 and nothing after.
        let q = h("1164000000000000027dffff");
        assert_eq!(
            IgmpMessage::parse(&q),
            Err(truncated("number of sources", 10, 12 + 4 * 65535, 12))
        );

        // v3 report: M = 2 but one record, then M = 2 with a partial second record.
        let r = h("2200000000000002040000000a000001");
        assert_eq!(
            IgmpMessage::parse(&r),
            Err(truncated("group record", 16, 24, 16))
        );
        let mut partial = r.clone();
        partial.extend([4, 0, 0]);
        assert_eq!(
            IgmpMessage::parse(&partial),
            Err(truncated("group record", 16, 24, 19))
        );
        // M = 65535 with none present.
        assert_eq!(
            IgmpMessage::parse(hs("220000000000ffff")),
            Err(truncated("group record", 8, 16, 8))
        );
        // Second record says three sources, holds one.
        let r = h("2200000000000002040000000a000001" /* record 1 */)
            .into_iter()
            .chain(h("010000030a000002c0a80001"))
            .collect::<Vec<u8>>();
        assert_eq!(
            IgmpMessage::parse(&r),
            Err(truncated("number of sources", 18, 36, 28))
        );
        // Aux Data Len of 2 words with one word present.
        let r = h("2200000000000001010200000a00000111111111");
        assert_eq!(
            IgmpMessage::parse(&r),
            Err(truncated("aux data len", 9, 24, 20))
        );
        // Aux Data Len past the end after sources.
        let r = h("22000000000000010101000102030405c0a80001");
        assert_eq!(
            IgmpMessage::parse(&r),
            Err(truncated("aux data len", 9, 24, 20))
        );

        // The same errors from the record parsers, counted from their own slices.
        assert_eq!(
            GroupRecord::parse(&[1, 0, 0]),
            Err(truncated("group record", 0, 8, 3))
        );
        assert_eq!(
            GroupRecord::parse(&h("010000020a000001c0a80001")),
            Err(truncated("number of sources", 2, 16, 12))
        );
        assert_eq!(
            GroupRecord::parse(&h("01ff00000a000001")),
            Err(truncated("aux data len", 1, 8 + 1020, 8))
        );
        assert_eq!(
            GroupRecords::parse(&h("040000000a000001"), 2),
            Err(truncated("group record", 8, 16, 8))
        );
        assert_eq!(
            GroupRecords::new(&h("040000000a00000104")),
            Err(truncated("group record", 8, 16, 9))
        );
        assert_eq!(
            SourceList::new(&[1, 2, 3, 4, 5]),
            Err(Error::bad_value(
                Layer::Igmp,
                "source addresses",
                0,
                "a multiple of 4 octets",
                5
            ))
        );
    }

    #[test]
    fn group_records_parse_and_new_agree() {
        let bytes = h(REPORT2);
        let body = &bytes[8..];
        let (records, rest) = GroupRecords::parse(body, 5).unwrap();
        assert!(rest.is_empty());
        assert_eq!(GroupRecords::new(body), Ok(records));
        let (two, rest) = GroupRecords::parse(body, 2).unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two.as_bytes().len() + rest.len(), body.len());
        assert_eq!(two.iter().size_hint(), (2, Some(2)));
        assert_eq!((&two).into_iter().count(), 2);
        assert!(GroupRecords::EMPTY.is_empty());
        assert_eq!(GroupRecords::new(&[]), Ok(GroupRecords::EMPTY));
    }

    #[test]
    fn build_a_v3_report_from_typed_values() {
        // Join 232.1.1.1 for source 10.0.0.1 (ALLOW), leave 239.1.1.1 (TO_IN {}).
        let src = [ip("10.0.0.1")];
        let mut src_bytes = [0u8; 4];
        assert_eq!(SourceList::write(&src, &mut src_bytes), Ok(4));
        let records = [
            GroupRecord {
                record_type: GroupRecordType::ALLOW_NEW_SOURCES,
                aux_data_len: 99, // filled by emit
                number_of_sources: 99,
                multicast_address: ip("232.1.1.1"),
                sources: SourceList::new(&src_bytes).unwrap(),
                aux_data: &[],
            },
            GroupRecord {
                record_type: GroupRecordType::CHANGE_TO_INCLUDE,
                aux_data_len: 0,
                number_of_sources: 0,
                multicast_address: ip("239.1.1.1"),
                sources: SourceList::EMPTY,
                aux_data: &[],
            },
        ];
        let mut buf = [0u8; 64];
        let n = GroupRecords::write(&records, &mut buf).unwrap();
        assert_eq!(n, 12 + 8);
        let report = IgmpMessage::V3Report(V3Report {
            reserved1: 0,
            checksum: 0,
            reserved2: 0,
            number_of_group_records: 0, // filled by emit
            records: GroupRecords::new(&buf[..n]).unwrap(),
            additional_data: &[],
        });
        let bytes = emitted(&report);
        assert_eq!(
            bytes,
            // Checksum computed independently (RFC 1071 sum in Python).
            h("2200f2f5000000020500000\
               1e80101010a00000103000000ef010101")
        );
        assert_eq!(verify_checksum(&bytes), ChecksumStatus::Good);
        let parsed = IgmpMessage::parse(&bytes).unwrap();
        let IgmpMessage::V3Report(r) = parsed else {
            panic!()
        };
        assert_eq!(r.number_of_group_records, 2);
        let first = r.records.iter().next().unwrap();
        assert_eq!((first.aux_data_len, first.number_of_sources), (0, 1));
        // emit_exact keeps the inconsistent count as held.
        let held = exact(&report);
        assert_eq!(&held[6..8], &[0, 0]);
        assert_eq!(&held[2..4], &[0, 0]);
    }

    #[test]
    fn emit_errors() {
        let msg = IgmpMessage::parse(hs(QUERY2)).unwrap();
        let mut small = [0u8; 31];
        assert_eq!(
            msg.emit(&mut small),
            Err(Error::buffer_too_small(Layer::Igmp, 32, 31))
        );
        assert_eq!(
            msg.emit_exact(&mut small),
            Err(Error::buffer_too_small(Layer::Igmp, 32, 31))
        );
        assert_eq!(small, [0u8; 31], "a failed emit writes nothing");
        let IgmpMessage::Query(mut q) = msg else {
            panic!()
        };
        let QueryBody::V3(mut v3) = q.body else {
            panic!()
        };
        v3.resv = 16;
        q.body = QueryBody::V3(v3);
        let mut out = [0u8; 64];
        assert_eq!(
            IgmpMessage::Query(q).emit(&mut out),
            Err(Error::too_long(Layer::Igmp, "resv", 15, 16))
        );
        v3.resv = 15;
        v3.qrv = 8;
        q.body = QueryBody::V3(v3);
        assert_eq!(
            IgmpMessage::Query(q).emit_exact(&mut out),
            Err(Error::too_long(Layer::Igmp, "QRV", 7, 8))
        );
        // Resv 15 fits and is written as held.
        v3.qrv = 7;
        q.body = QueryBody::V3(v3);
        assert_eq!(IgmpMessage::Query(q).emit_exact(&mut out), Ok(32));
        assert_eq!(out[8], 0xff);

        let record = GroupRecord {
            record_type: GroupRecordType::MODE_IS_INCLUDE,
            aux_data_len: 0,
            number_of_sources: 0,
            multicast_address: ip("232.0.0.1"),
            sources: SourceList::EMPTY,
            aux_data: &[1, 2, 3],
        };
        assert_eq!(
            record.emit(&mut out),
            Err(Error::bad_value(
                Layer::Igmp,
                "aux data len",
                1,
                "auxiliary data of whole 32-bit words",
                3
            ))
        );
        // emit_exact writes the three octets and the held length as they are.
        assert_eq!(record.emit_exact(&mut out), Ok(11));
        let big = [0u8; 1024];
        let record = GroupRecord {
            aux_data: &big,
            ..record
        };
        let mut out = [0u8; 2048];
        assert_eq!(
            record.emit(&mut out),
            Err(Error::too_long(Layer::Igmp, "aux data len", 1020, 1024))
        );
        let record = GroupRecord {
            aux_data: &big[..1020],
            ..record
        };
        assert_eq!(record.emit(&mut out), Ok(1028));
        assert_eq!(out[1], 255);
        assert_eq!(
            record.emit(&mut out[..1027]),
            Err(Error::buffer_too_small(Layer::Igmp, 1028, 1027))
        );
        assert_eq!(
            GroupRecords::write(&[record], &mut out[..100]),
            Err(Error::buffer_too_small(Layer::Igmp, 1028, 100))
        );
        assert_eq!(
            SourceList::write(&[ip("1.2.3.4"), ip("5.6.7.8")], &mut out[..7]),
            Err(Error::buffer_too_small(Layer::Igmp, 8, 7))
        );

        // More than 65535 sources do not fit Number of Sources.
        let many = vec![0u8; 4 * 65536];
        let query = IgmpMessage::Query(Query {
            max_resp_code: 100,
            checksum: 0,
            group: Ipv4Addr::UNSPECIFIED,
            body: QueryBody::V3(QueryV3 {
                resv: 0,
                s_flag: false,
                qrv: 2,
                qqic: 125,
                number_of_sources: 0,
                sources: SourceList::new(&many).unwrap(),
                additional_data: &[],
            }),
        });
        let mut out = vec![0u8; query.len()];
        assert_eq!(
            query.emit(&mut out),
            Err(Error::too_long(
                Layer::Igmp,
                "number of sources",
                65535,
                65536
            ))
        );
        assert_eq!(query.emit_exact(&mut out), Ok(12 + 4 * 65536));
        let record = GroupRecord {
            record_type: GroupRecordType::MODE_IS_INCLUDE,
            aux_data_len: 0,
            number_of_sources: 0,
            multicast_address: ip("232.0.0.1"),
            sources: SourceList::new(&many).unwrap(),
            aux_data: &[],
        };
        assert_eq!(
            record.emit(&mut out),
            Err(Error::too_long(
                Layer::Igmp,
                "number of sources",
                65535,
                65536
            ))
        );
    }

    #[test]
    fn verify_checksum_reports_bad_and_short_input() {
        let mut bytes = h("1164ee9b00000000");
        bytes[7] = 1;
        // One more in the last word lowers the checksum by one.
        assert_eq!(
            verify_checksum(&bytes),
            ChecksumStatus::Bad {
                expected: 0xee9a,
                found: 0xee9b
            }
        );
        assert_eq!(verify_checksum(&bytes).wireshark_status(), 0);
        // Input without a checksum field: reported bad with found 0, never panics.
        assert!(matches!(
            verify_checksum(&[0x11]),
            ChecksumStatus::Bad { found: 0, .. }
        ));
        assert!(matches!(
            verify_checksum(&[]),
            ChecksumStatus::Bad { found: 0, .. }
        ));
        // Odd-length messages (a v3 report with one trailing octet) are summed with padding.
        let mut odd = h("2200000000000000ab");
        let sum = internet_checksum_with_zero_field(&odd);
        odd[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(verify_checksum(&odd), ChecksumStatus::Good);
    }

    fn internet_checksum_with_zero_field(bytes: &[u8]) -> u16 {
        let mut b = bytes.to_vec();
        b[2] = 0;
        b[3] = 0;
        checksum::internet_checksum(&b)
    }

    #[test]
    fn igmp_type_and_record_type_names() {
        assert_eq!(IgmpType::V2_LEAVE.to_string(), "Leave Group (0x17)");
        assert_eq!(IgmpType(0x42).to_string(), "Unknown (0x42)");
        assert_eq!(IgmpType::from(0x22), IgmpType::V3_REPORT);
        assert_eq!(u8::from(IgmpType::MTRACE_RESPONSE), 0x1e);
        assert_eq!(IgmpType::DVMRP.name(), Some("DVMRP"));
        assert_eq!(GroupRecordType(9).to_string(), "Unknown (9)");
        assert_eq!(
            GroupRecordType::BLOCK_OLD_SOURCES.name(),
            Some("Block Old Sources")
        );
        assert_eq!(u8::from(GroupRecordType::from(6)), 6);
    }

    // ----- the floating-point code [RFC 3376 § 4.1.1, § 4.1.7] ---------------------------------

    #[test]
    fn float_code_values_from_rfc_3376() {
        // Codes below 128 are the value.
        assert_eq!(max_resp_code_to_tenths(0), 0);
        assert_eq!(max_resp_code_to_tenths(100), 100);
        assert_eq!(max_resp_code_to_tenths(127), 127);
        // 1 000 0000: mant 0, exp 0: 0x10 << 3.
        assert_eq!(max_resp_code_to_tenths(0x80), 128);
        // 1 000 1111: (0xf | 0x10) << 3.
        assert_eq!(max_resp_code_to_tenths(0x8f), 248);
        // 1 001 0000: 0x10 << 4.
        assert_eq!(max_resp_code_to_tenths(0x90), 256);
        // 0xfe (read by tshark as 3072.0 s) and the largest, 0xff.
        assert_eq!(max_resp_code_to_tenths(0xfe), 30720);
        assert_eq!(max_resp_code_to_tenths(0xff), MAX_CODE_VALUE);
        assert_eq!(qqic_to_seconds(125), 125);
        // Defaults: Query Interval 125 s, Query Response Interval 10 s [RFC 3376 § 8.2, § 8.3].
        assert_eq!(seconds_to_qqic(125), 125);
        assert_eq!(tenths_to_max_resp_code(100), 100);
        // 300 s is between 23 << 7 = 2944 and 24 << 7 = 3072 tenths: rounds down to 2944.
        assert_eq!(tenths_to_max_resp_code(3000), 0xc7);
        assert_eq!(max_resp_code_to_tenths(0xc7), 2944);
        // Beyond the range: the largest code.
        assert_eq!(tenths_to_max_resp_code(u32::MAX), 0xff);
        assert_eq!(seconds_to_qqic(31_744), 0xff);
        assert_eq!(seconds_to_qqic(31_743), 0xfe);
    }

    #[test]
    fn float_code_every_code_round_trips_and_values_increase() {
        for code in 0..=255u8 {
            let value = max_resp_code_to_tenths(code);
            assert_eq!(tenths_to_max_resp_code(value), code, "code {code:#x}");
            assert_eq!(seconds_to_qqic(qqic_to_seconds(code)), code);
            if code > 0 {
                assert!(value > max_resp_code_to_tenths(code - 1), "code {code:#x}");
            }
        }
    }

    /// decode(encode(x)) ≤ x, and the next code (if any) is above x: nothing closer exists.
    fn assert_best_code(x: u32) {
        let code = tenths_to_max_resp_code(x);
        let value = max_resp_code_to_tenths(code);
        assert!(value <= x, "{x} -> {code:#x} -> {value}");
        if code < 0xff {
            assert!(max_resp_code_to_tenths(code + 1) > x, "{x} -> {code:#x}");
        } else {
            assert!(x >= MAX_CODE_VALUE);
        }
    }

    #[test]
    fn float_code_encode_is_the_closest_not_above_for_every_value_in_range() {
        for x in 0..=40_000 {
            assert_best_code(x);
        }
    }

    // ----- properties --------------------------------------------------------------------------

    /// emit → parse gives the value back (checksum aside, which emit computes); the bytes verify;
    /// and emit_exact of the parse reproduces the emitted bytes.
    fn check_emit_parse(msg: &IgmpMessage<'_>) -> std::result::Result<(), TestCaseError> {
        let bytes = emitted(msg);
        prop_assert_eq!(verify_checksum(&bytes), ChecksumStatus::Good);
        let parsed = IgmpMessage::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut expected = *msg;
        expected.set_checksum(parsed.checksum());
        prop_assert_eq!(parsed, expected);
        prop_assert_eq!(exact(&parsed), bytes);
        // And emit_exact → parse keeps the held checksum.
        let held = exact(msg);
        prop_assert_eq!(IgmpMessage::parse(&held), Ok(*msg));
        Ok(())
    }

    fn addr() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from_bits)
    }

    fn addr_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<[u8; 4]>(), 0..max).prop_map(|v| v.concat())
    }

    type RecordSpec = (u8, Ipv4Addr, Vec<u8>, Vec<u8>);

    fn record_spec() -> impl Strategy<Value = RecordSpec> {
        (any::<u8>(), addr(), addr_bytes(6), addr_bytes(3))
    }

    fn record_from(spec: &RecordSpec) -> GroupRecord<'_> {
        GroupRecord {
            record_type: GroupRecordType(spec.0),
            aux_data_len: (spec.3.len() / 4) as u8,
            number_of_sources: (spec.2.len() / 4) as u16,
            multicast_address: spec.1,
            sources: SourceList::new(&spec.2).unwrap(),
            aux_data: &spec.3,
        }
    }

    proptest! {
        #[test]
        fn float_code_best_for_any_value(x in any::<u32>()) {
            assert_best_code(x);
        }

        #[test]
        fn v1_v2_query_round_trips(code in any::<u8>(), checksum in any::<u16>(), group in addr()) {
            let msg = IgmpMessage::Query(Query { max_resp_code: code, checksum, group, body: QueryBody::V1OrV2 });
            check_emit_parse(&msg)?;
            let IgmpMessage::Query(q) = msg else { unreachable!() };
            prop_assert_eq!(q.version(), if code == 0 { QueryVersion::V1 } else { QueryVersion::V2 });
        }

        #[test]
        fn other_length_query_round_trips(code in any::<u8>(), checksum in any::<u16>(), group in addr(),
                                          extra in prop::collection::vec(any::<u8>(), 1..=3)) {
            let msg = IgmpMessage::Query(Query { max_resp_code: code, checksum, group, body: QueryBody::OtherLength(&extra) });
            check_emit_parse(&msg)?;
        }

        #[test]
        fn v3_query_round_trips(code in any::<u8>(), checksum in any::<u16>(), group in addr(),
                                resv in 0u8..16, s_flag in any::<bool>(), qrv in 0u8..8, qqic in any::<u8>(),
                                srcs in addr_bytes(20), additional in prop::collection::vec(any::<u8>(), 0..7)) {
            let sources = SourceList::new(&srcs).unwrap();
            let msg = IgmpMessage::Query(Query {
                max_resp_code: code, checksum, group,
                body: QueryBody::V3(QueryV3 {
                    resv, s_flag, qrv, qqic, number_of_sources: sources.len() as u16, sources,
                    additional_data: &additional,
                }),
            });
            check_emit_parse(&msg)?;
        }

        #[test]
        fn group_messages_round_trip(kind in 0usize..3, code in any::<u8>(), checksum in any::<u16>(), group in addr(),
                                     additional in prop::collection::vec(any::<u8>(), 0..7)) {
            let m = GroupMessage { code, checksum, group, additional_data: &additional };
            let msg = [IgmpMessage::V1Report(m), IgmpMessage::V2Report(m), IgmpMessage::V2Leave(m)][kind];
            check_emit_parse(&msg)?;
        }

        #[test]
        fn v3_report_round_trips(reserved1 in any::<u8>(), checksum in any::<u16>(), reserved2 in any::<u16>(),
                                 specs in prop::collection::vec(record_spec(), 0..6),
                                 additional in prop::collection::vec(any::<u8>(), 0..7)) {
            let records: Vec<GroupRecord<'_>> = specs.iter().map(record_from).collect();
            let mut buf = vec![0u8; records.iter().map(GroupRecord::len).sum()];
            prop_assert_eq!(GroupRecords::write(&records, &mut buf), Ok(buf.len()));
            let group_records = GroupRecords::new(&buf).unwrap();
            prop_assert_eq!(group_records.iter().collect::<Vec<_>>(), records.clone());
            let msg = IgmpMessage::V3Report(V3Report {
                reserved1, checksum, reserved2,
                number_of_group_records: records.len() as u16,
                records: group_records,
                additional_data: &additional,
            });
            check_emit_parse(&msg)?;
            // Each record alone: emit → parse and emit_exact.
            for record in &records {
                let mut out = vec![0u8; record.len()];
                prop_assert_eq!(record.emit(&mut out), Ok(record.len()));
                let (back, rest) = GroupRecord::parse(&out).unwrap();
                prop_assert_eq!(back, *record);
                prop_assert!(rest.is_empty());
                let mut again = vec![0u8; record.len()];
                prop_assert_eq!(back.emit_exact(&mut again), Ok(record.len()));
                prop_assert_eq!(again, out);
            }
        }

        #[test]
        fn unknown_types_round_trip(t in any::<u8>().prop_filter("not decoded", |t| IgmpType(*t).min_len() == COMMON_LEN),
                                    code in any::<u8>(), checksum in any::<u16>(),
                                    data in prop::collection::vec(any::<u8>(), 0..40)) {
            let msg = IgmpMessage::Unknown { igmp_type: IgmpType(t), code, checksum, data: &data };
            check_emit_parse(&msg)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_reemit_exactly(
            bytes in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..80),
                (prop::sample::select(vec![0x11u8, 0x12, 0x16, 0x17, 0x22]), prop::collection::vec(any::<u8>(), 0..80))
                    .prop_map(|(t, mut v)| { v.insert(0, t); v }),
                // v3 reports with small counts, so that records parse often.
                (0u8..4, prop::collection::vec(prop_oneof![Just(0u8), Just(1u8), any::<u8>()], 0..80))
                    .prop_map(|(m, v)| { let mut b = vec![0x22, 0, 0, 0, 0, 0, 0, m]; b.extend(v); b }),
            ]
        ) {
            let _ = verify_checksum(&bytes);
            if let Ok(msg) = IgmpMessage::parse(&bytes) {
                prop_assert_eq!(msg.len(), bytes.len());
                prop_assert_eq!(exact(&msg), bytes.clone());
                let _ = msg.to_string();
                if let IgmpMessage::V3Report(r) = msg {
                    prop_assert_eq!(r.records.iter().count(), usize::from(r.number_of_group_records));
                    prop_assert_eq!(GroupRecords::new(r.records.as_bytes()), Ok(r.records));
                }
                let fixed = emitted(&msg);
                prop_assert_eq!(verify_checksum(&fixed), ChecksumStatus::Good);
            } else if let Err(e) = IgmpMessage::parse(&bytes) {
                prop_assert!(e.is_truncation());
                prop_assert_eq!(e.layer, Layer::Igmp);
                if let ErrorKind::Truncated { needed, got } = e.kind {
                    prop_assert_eq!(got, bytes.len());
                    prop_assert!(needed > got);
                }
            }
        }
    }
}
