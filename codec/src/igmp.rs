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
        let chunk: [u8; 4] = self.bytes.get(start..start.checked_add(WORD)?)?.try_into().ok()?;
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
    pub const EMPTY: GroupRecords<'static> = GroupRecords { bytes: &[], count: 0 };

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
    /// Any other type (DVMRP, multicast traceroute, …), kept as bytes.
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
pub fn verify_checksum(bytes: &[u8]) -> ChecksumStatus {
    let found = match bytes.get(CHECKSUM..CHECKSUM + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let head = bytes.get(..CHECKSUM).unwrap_or(bytes);
    let tail = bytes.get(COMMON_LEN..).unwrap_or_default();
    let sum = Accumulator::new().add_bytes(head).add_u16(0).add_bytes(tail);
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
}
