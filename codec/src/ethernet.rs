//! Ethernet II frame headers with any number of VLAN tags [IEEE 802.3 § 3.2, IEEE 802.1Q § 9]:
//! the [`MacAddr`] type, the [`EtherType`] numbers, the 802.1Q / 802.1ad tag ([`VlanTag`], and
//! the zero-copy tag stack [`VlanTags`]) and the header itself ([`EthernetHeader`]).
//!
//! What this module does not cover: the preamble and the frame check sequence (captures and
//! network interfaces normally hand over frames without either), and the LLC / SNAP header that
//! follows an IEEE 802.3 length field (the payload is handed over as is, see
//! [`EtherType::is_length_field`]). Padding up to the 60-byte minimum frame stays in the payload;
//! the layer above (the IPv4 total length, the ARP address lengths) tells where its data ends.
//!
//! ```
//! use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr, VlanTag, VlanTags};
//!
//! // Build a Q-in-Q header: S-tag VID 200 around C-tag VID 2001, carrying ARP.
//! let tags = [
//!     VlanTag { tpid: EtherType::QINQ, pcp: 0, dei: false, vid: 200 },
//!     VlanTag { tpid: EtherType::VLAN, pcp: 3, dei: false, vid: 2001 },
//! ];
//! let mut tag_bytes = [0u8; 8];
//! let n = VlanTags::write(&tags, &mut tag_bytes)?;
//! let header = EthernetHeader {
//!     destination: MacAddr::BROADCAST,
//!     source: "00:20:d2:5a:fb:3f".parse().unwrap(),
//!     vlan: VlanTags::new(&tag_bytes[..n])?,
//!     ether_type: EtherType::ARP,
//! };
//! let mut frame = [0u8; 64];
//! let len = header.emit(&mut frame)?;
//! assert_eq!(len, 22);
//!
//! // Parse it back: the payload starts after the innermost type field.
//! let (parsed, payload) = EthernetHeader::parse(&frame)?;
//! assert_eq!(parsed, header);
//! assert_eq!(parsed.vlan.inner().map(|t| t.vid), Some(2001));
//! assert_eq!(payload.len(), 64 - 22);
//! # Ok::<(), wirecheck_codec::Error>(())
//! ```

use core::fmt;

use crate::error::{Error, Layer, Result};

/// A 48-bit IEEE 802 MAC address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// 00:00:00:00:00:00.
    pub const ZERO: MacAddr = MacAddr([0; 6]);
    /// The length of an address in bytes.
    pub const LEN: usize = 6;

    /// The six octets, in transmission order.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }

    /// The address held in `bytes`, if it is exactly six bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<MacAddr> {
        <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
    }

    /// Whether this is the broadcast address.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Whether the group bit (least significant bit of the first octet) is set.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether the group bit is clear: the address names one interface. A frame's source address
    /// must be unicast [IEEE 802.3 § 3.2.3 (b)].
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Whether the locally administered bit (second least significant bit of the first octet) is
    /// set, as opposed to a globally unique, vendor-assigned address.
    pub const fn is_locally_administered(&self) -> bool {
        self.0[0] & 2 == 2
    }

    /// Whether this is 00:00:00:00:00:00, as in the target hardware address of an ARP request.
    pub const fn is_zero(&self) -> bool {
        matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// The Ethernet address an IPv4 multicast group maps to: 01:00:5e followed by the low 23 bits
    /// of the group [RFC 1112 § 6.4].
    pub const fn from_ipv4_multicast(group: core::net::Ipv4Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(octets: [u8; 6]) -> Self {
        MacAddr(octets)
    }
}

impl From<MacAddr> for [u8; 6] {
    fn from(addr: MacAddr) -> Self {
        addr.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The error from parsing a [`MacAddr`] from text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParseMacAddrError;

impl fmt::Display for ParseMacAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid MAC address syntax (expected six hex octets as in 00:1b:d4:1b:a4:d8)")
    }
}

impl core::error::Error for ParseMacAddrError {}

impl core::str::FromStr for MacAddr {
    type Err = ParseMacAddrError;

    /// Six octets of one or two hex digits, separated by `:` or `-` (one separator kind per
    /// address): `00:1b:d4:1b:a4:d8`, `00-1B-D4-1B-A4-D8`.
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        let separator = if s.contains('-') { '-' } else { ':' };
        let mut octets = [0u8; 6];
        let mut parts = s.split(separator);
        for octet in octets.iter_mut() {
            let part = parts.next().ok_or(ParseMacAddrError)?;
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ParseMacAddrError);
            }
            *octet = u8::from_str_radix(part, 16).map_err(|_| ParseMacAddrError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacAddrError);
        }
        Ok(MacAddr(octets))
    }
}

/// The 16-bit type field of an Ethernet II header or of a VLAN tag [IEEE 802.3 § 3.2.6].
///
/// Values of 0x0600 (1536) and above name the protocol of the payload (an EtherType). Values of
/// 1500 and below are an IEEE 802.3 *length* field: the frame is not Ethernet II, the payload
/// starts with an LLC header, and the value is the number of payload bytes
/// ([`is_length_field`](EtherType::is_length_field)). Values from 1501 to 1535 are neither.
/// The raw value is always kept, known or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    /// Internet Protocol version 4 [RFC 894].
    pub const IPV4: EtherType = EtherType(0x0800);
    /// Address Resolution Protocol [RFC 826].
    pub const ARP: EtherType = EtherType(0x0806);
    /// Reverse Address Resolution Protocol [RFC 903].
    pub const RARP: EtherType = EtherType(0x8035);
    /// Customer VLAN tag (C-tag) [IEEE 802.1Q].
    pub const VLAN: EtherType = EtherType(0x8100);
    /// Service VLAN tag (S-tag) of a provider bridge, "Q-in-Q" [IEEE 802.1ad].
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// The pre-standard Q-in-Q outer tag some equipment still sends (not assigned by the IEEE).
    pub const QINQ_OLD: EtherType = EtherType(0x9100);
    /// Internet Protocol version 6 [RFC 2464].
    pub const IPV6: EtherType = EtherType(0x86dd);

    /// The largest value that is a length rather than a type [IEEE 802.3 § 3.2.6].
    pub const MAX_LENGTH: u16 = 1500;
    /// The smallest value that is a type [IEEE 802.3 § 3.2.6].
    pub const MIN_TYPE: u16 = 0x0600;

    /// Whether this value introduces a VLAN tag: 0x8100, 0x88a8 or 0x9100.
    pub const fn is_vlan_tpid(self) -> bool {
        matches!(self.0, 0x8100 | 0x88a8 | 0x9100)
    }

    /// Whether this is an IEEE 802.3 length field (≤ 1500) rather than an EtherType: the frame
    /// is an 802.3 / LLC frame, not Ethernet II.
    pub const fn is_length_field(self) -> bool {
        self.0 <= Self::MAX_LENGTH
    }

    /// Whether this is an EtherType proper (≥ 0x0600). Together with
    /// [`is_length_field`](EtherType::is_length_field) this leaves 1501–1535, which are undefined.
    pub const fn is_type(self) -> bool {
        self.0 >= Self::MIN_TYPE
    }

    /// A short protocol name for the values this crate knows.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            EtherType::IPV4 => "IPv4",
            EtherType::ARP => "ARP",
            EtherType::RARP => "RARP",
            EtherType::VLAN => "802.1Q",
            EtherType::QINQ => "802.1ad",
            EtherType::QINQ_OLD => "QinQ",
            EtherType::IPV6 => "IPv6",
            _ => return None,
        })
    }
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        EtherType(value)
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> Self {
        value.0
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_length_field() {
            write!(f, "length {}", self.0)
        } else if let Some(name) = self.name() {
            write!(f, "{name} (0x{:04x})", self.0)
        } else {
            write!(f, "0x{:04x}", self.0)
        }
    }
}

/// One VLAN tag [IEEE 802.1Q § 9.6]: the tag protocol identifier that announces it and the tag
/// control information (priority, drop eligibility, VLAN ID).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   TPID (0x8100, 0x88a8, 0x9100)  | PCP |D|        VID         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The three fields hold the 16 TCI bits without loss. VID 0 (a priority tag, no VLAN) and 4095
/// (reserved) are kept as they are; whether to accept them is the receiver's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier (the type field in front of the tag).
    pub tpid: EtherType,
    /// Priority code point, 0–7 [IEEE 802.1Q § 6.9.3].
    pub pcp: u8,
    /// Drop eligible indicator (formerly CFI).
    pub dei: bool,
    /// VLAN identifier, 0–4095.
    pub vid: u16,
}

impl VlanTag {
    /// The length of a tag on the wire: TPID and TCI.
    pub const LEN: usize = 4;
    /// The largest priority code point.
    pub const MAX_PCP: u8 = 7;
    /// The largest VLAN ID.
    pub const MAX_VID: u16 = 0x0fff;

    /// The tag for a TPID and a 16-bit tag control information field.
    pub const fn from_tci(tpid: EtherType, tci: u16) -> VlanTag {
        VlanTag {
            tpid,
            pcp: (tci >> 13) as u8,
            dei: tci & 0x1000 != 0,
            vid: tci & Self::MAX_VID,
        }
    }

    /// The tag from its four wire bytes.
    pub const fn from_bytes(bytes: [u8; 4]) -> VlanTag {
        Self::from_tci(
            EtherType(u16::from_be_bytes([bytes[0], bytes[1]])),
            u16::from_be_bytes([bytes[2], bytes[3]]),
        )
    }

    /// The 16-bit tag control information. Out-of-range `pcp` or `vid` values are cut to their
    /// field widths; [`VlanTags::write`] rejects them instead.
    pub const fn tci(&self) -> u16 {
        ((self.pcp as u16 & 0x7) << 13) | ((self.dei as u16) << 12) | (self.vid & Self::MAX_VID)
    }

    /// The four wire bytes (see [`tci`](VlanTag::tci) for out-of-range values).
    pub const fn to_bytes(&self) -> [u8; 4] {
        let t = self.tpid.0.to_be_bytes();
        let c = self.tci().to_be_bytes();
        [t[0], t[1], c[0], c[1]]
    }

    /// Checks that the tag can be written as it is: a VLAN TPID, PCP ≤ 7, VID ≤ 4095.
    /// `offset` is where the tag would go, for the error.
    fn validate(&self, offset: usize) -> Result<()> {
        if !self.tpid.is_vlan_tpid() {
            return Err(Error::bad_value(
                Layer::Vlan,
                "TPID",
                offset,
                "0x8100, 0x88a8 or 0x9100",
                self.tpid.0 as u64,
            ));
        }
        if self.pcp > Self::MAX_PCP {
            return Err(Error::too_long(
                Layer::Vlan,
                "PCP",
                Self::MAX_PCP as usize,
                self.pcp as usize,
            ));
        }
        if self.vid > Self::MAX_VID {
            return Err(Error::too_long(
                Layer::Vlan,
                "VID",
                Self::MAX_VID as usize,
                self.vid as usize,
            ));
        }
        Ok(())
    }
}

impl fmt::Display for VlanTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tpid.name() {
            Some(name) => write!(f, "{name}")?,
            None => write!(f, "0x{:04x}", self.tpid.0)?,
        }
        write!(
            f,
            " VLAN {} (PCP {}, DEI {})",
            self.vid, self.pcp, self.dei as u8
        )
    }
}

/// The VLAN tags of a frame, outermost first, borrowed from the frame: 4 bytes per tag (TPID and
/// TCI), every TPID a VLAN TPID ([`EtherType::is_vlan_tpid`]).
///
/// There is no limit on the number of tags: each one takes four bytes of the frame, so parsing
/// ends with the frame. [`iter`](VlanTags::iter) yields them as [`VlanTag`] values; build a tag
/// stack from values with [`write`](VlanTags::write) then [`new`](VlanTags::new).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VlanTags<'a>(&'a [u8]);

impl fmt::Debug for VlanTags<'_> {
    /// The tags as values, outermost first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> VlanTags<'a> {
    /// No tags.
    pub const EMPTY: VlanTags<'static> = VlanTags(&[]);

    /// Tags from their wire bytes. The length must be a multiple of 4 and every tag must start
    /// with a VLAN TPID (otherwise the bytes would not parse back as tags).
    pub fn new(bytes: &'a [u8]) -> Result<VlanTags<'a>> {
        let whole = bytes.len() - bytes.len() % VlanTag::LEN;
        if whole != bytes.len() {
            return Err(Error::truncated(
                Layer::Vlan,
                "TCI",
                whole.saturating_add(2),
                whole.saturating_add(VlanTag::LEN),
                bytes.len(),
            ));
        }
        for (i, chunk) in bytes.chunks_exact(VlanTag::LEN).enumerate() {
            let tpid = read_u16(chunk, 0).unwrap_or(0);
            if !EtherType(tpid).is_vlan_tpid() {
                return Err(Error::bad_value(
                    Layer::Vlan,
                    "TPID",
                    i.saturating_mul(VlanTag::LEN),
                    "0x8100, 0x88a8 or 0x9100",
                    tpid as u64,
                ));
            }
        }
        Ok(VlanTags(bytes))
    }

    /// Writes `tags` (outermost first) into `out` and returns the number of bytes written
    /// (4 per tag). Every tag must have a VLAN TPID, PCP ≤ 7 and VID ≤ 4095.
    pub fn write(tags: &[VlanTag], out: &mut [u8]) -> Result<usize> {
        let needed = tags.len().saturating_mul(VlanTag::LEN);
        for (i, tag) in tags.iter().enumerate() {
            tag.validate(i.saturating_mul(VlanTag::LEN))?;
        }
        let got = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(Error::buffer_too_small(Layer::Vlan, needed, got))?;
        for (chunk, tag) in out.chunks_exact_mut(VlanTag::LEN).zip(tags) {
            chunk.copy_from_slice(&tag.to_bytes());
        }
        Ok(needed)
    }

    /// The tags, outermost first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = VlanTag> + DoubleEndedIterator + 'a {
        self.0.chunks_exact(VlanTag::LEN).map(|chunk| {
            let mut bytes = [0u8; VlanTag::LEN];
            bytes.copy_from_slice(chunk);
            VlanTag::from_bytes(bytes)
        })
    }

    /// The number of tags.
    pub const fn len(&self) -> usize {
        self.0.len() / VlanTag::LEN
    }

    /// Whether the frame is untagged.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tag at `index` (0 is the outermost).
    pub fn get(&self, index: usize) -> Option<VlanTag> {
        self.iter().nth(index)
    }

    /// The outermost tag (the S-tag of a Q-in-Q frame).
    pub fn outer(&self) -> Option<VlanTag> {
        self.iter().next()
    }

    /// The innermost tag (the C-tag of a Q-in-Q frame), the one next to the payload type.
    pub fn inner(&self) -> Option<VlanTag> {
        self.iter().next_back()
    }

    /// The wire bytes, 4 per tag.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

impl<'a> IntoIterator for VlanTags<'a> {
    type Item = VlanTag;
    type IntoIter = core::iter::Map<core::slice::ChunksExact<'a, u8>, fn(&[u8]) -> VlanTag>;

    fn into_iter(self) -> Self::IntoIter {
        fn tag(chunk: &[u8]) -> VlanTag {
            let mut bytes = [0u8; VlanTag::LEN];
            bytes.copy_from_slice(chunk);
            VlanTag::from_bytes(bytes)
        }
        self.0.chunks_exact(VlanTag::LEN).map(tag)
    }
}

/// Byte ranges of the untagged header.
pub mod field {
    use core::ops::Range;

    /// Destination MAC address.
    pub const DESTINATION: Range<usize> = 0..6;
    /// Source MAC address.
    pub const SOURCE: Range<usize> = 6..12;
    /// The type (or length) field of an untagged frame; the first TPID of a tagged one.
    pub const ETHER_TYPE: Range<usize> = 12..14;
    /// Where the payload of an untagged frame, or the first tag's TCI, starts.
    pub const PAYLOAD: usize = 14;
}

/// An Ethernet II header [IEEE 802.3 § 3.2] with its VLAN tags [IEEE 802.1Q § 9].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Destination address                      |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                        Source address                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  TPID (if tagged, repeated)   |  PCP |D|  VID (if tagged)     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      EtherType or length      |  payload …
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// 14 bytes untagged, 4 more per VLAN tag. `ether_type` is the innermost type field, the one
/// that names the payload; the type fields in front of the tags are the tags' TPIDs.
///
/// A type field of 1500 or less is an IEEE 802.3 length, not an EtherType: such a frame is
/// parsed all the same (with `ether_type` holding the length and the payload starting at the
/// LLC header) and [`is_length_field`](EthernetHeader::is_length_field) says so, so that a lax
/// decoder can report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetHeader<'a> {
    /// Destination MAC address.
    pub destination: MacAddr,
    /// Source MAC address.
    pub source: MacAddr,
    /// The VLAN tags, outermost first (empty for an untagged frame).
    pub vlan: VlanTags<'a>,
    /// The innermost type (or 802.3 length) field: the payload's protocol.
    pub ether_type: EtherType,
}

impl<'a> EthernetHeader<'a> {
    /// The length of an untagged header.
    pub const MIN_LEN: usize = 14;

    /// An untagged header.
    pub const fn new(
        destination: MacAddr,
        source: MacAddr,
        ether_type: EtherType,
    ) -> EthernetHeader<'static> {
        EthernetHeader {
            destination,
            source,
            vlan: VlanTags::EMPTY,
            ether_type,
        }
    }

    /// Parses the header and its VLAN tags; returns it and the payload (everything after the
    /// innermost type field, padding included).
    ///
    /// Every type field that holds a VLAN TPID (0x8100, 0x88a8, 0x9100) is followed by a tag;
    /// there is no limit on their number (each takes 4 bytes, so the loop ends with the input).
    /// Errors: fewer than 14 bytes is [`Layer::Ethernet`] truncation naming the field cut short
    /// ("destination", "source", "EtherType"); a tag cut short is [`Layer::Vlan`] truncation of
    /// its "TCI" or of the "EtherType" that must follow it. `needed` and `got` count from the
    /// start of `bytes`.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<(EthernetHeader<'a>, &'a [u8])> {
        let got = bytes.len();
        let (Some(destination), Some(source), Some(first_type)) = (
            bytes.get(field::DESTINATION).and_then(MacAddr::from_slice),
            bytes.get(field::SOURCE).and_then(MacAddr::from_slice),
            read_u16(bytes, field::ETHER_TYPE.start),
        ) else {
            let (name, offset) = if got < field::SOURCE.start {
                ("destination", field::DESTINATION.start)
            } else if got < field::ETHER_TYPE.start {
                ("source", field::SOURCE.start)
            } else {
                ("EtherType", field::ETHER_TYPE.start)
            };
            return Err(Error::truncated(
                Layer::Ethernet,
                name,
                offset,
                Self::MIN_LEN,
                got,
            ));
        };

        // `type_at` is the offset of the type field being looked at; tags lie between the first
        // type field and it.
        let mut type_at = field::ETHER_TYPE.start;
        let mut ether_type = EtherType(first_type);
        while ether_type.is_vlan_tpid() {
            let tci_at = type_at.saturating_add(2);
            let next_at = type_at.saturating_add(VlanTag::LEN);
            let end = next_at.saturating_add(2);
            if got < next_at {
                return Err(Error::truncated(Layer::Vlan, "TCI", tci_at, end, got));
            }
            match read_u16(bytes, next_at) {
                Some(value) => ether_type = EtherType(value),
                None => {
                    return Err(Error::truncated(
                        Layer::Vlan,
                        "EtherType",
                        next_at,
                        end,
                        got,
                    ));
                }
            }
            type_at = next_at;
        }

        let header_end = type_at.saturating_add(2);
        let vlan = VlanTags(
            bytes
                .get(field::ETHER_TYPE.start..type_at)
                .unwrap_or_default(),
        );
        let payload = bytes.get(header_end..).unwrap_or_default();
        Ok((
            EthernetHeader {
                destination,
                source,
                vlan,
                ether_type,
            },
            payload,
        ))
    }

    /// The header length in bytes: 14 plus 4 per tag.
    #[allow(clippy::len_without_is_empty)] // a header is never empty
    pub const fn len(&self) -> usize {
        Self::MIN_LEN.saturating_add(self.vlan.0.len())
    }

    /// Whether the innermost type field is an IEEE 802.3 length (≤ 1500): the frame is not
    /// Ethernet II and its payload starts with an LLC header.
    pub const fn is_length_field(&self) -> bool {
        self.ether_type.is_length_field()
    }

    /// The 802.3 length, when the type field is one (see
    /// [`is_length_field`](EthernetHeader::is_length_field)).
    pub const fn length_field(&self) -> Option<u16> {
        if self.is_length_field() {
            Some(self.ether_type.0)
        } else {
            None
        }
    }

    /// Writes the header into `out` and returns its length. Nothing is computed for Ethernet, so
    /// this writes every field as held, like [`emit_exact`](EthernetHeader::emit_exact), after
    /// checking that the result parses back to the same header: the innermost `ether_type` must
    /// not be a VLAN TPID (it would announce a tag that is not there).
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        if self.ether_type.is_vlan_tpid() {
            return Err(Error::bad_value(
                Layer::Ethernet,
                "EtherType",
                self.len().saturating_sub(2),
                "not a VLAN TPID (add the tag to `vlan`)",
                self.ether_type.0 as u64,
            ));
        }
        self.emit_exact(out)
    }

    /// Writes every field exactly as held into `out` and returns the header length.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let got = out.len();
        let out = out
            .get_mut(..len)
            .ok_or(Error::buffer_too_small(Layer::Ethernet, len, got))?;
        let mut w = Writer(out);
        w.put(&self.destination.0);
        w.put(&self.source.0);
        w.put(self.vlan.0);
        w.put(&self.ether_type.0.to_be_bytes());
        Ok(len)
    }
}

impl fmt::Display for EthernetHeader<'_> {
    /// `00:20:d2:5a:fb:3f → ff:ff:ff:ff:ff:ff, 802.1ad VLAN 200 (PCP 0, DEI 0), …, ARP (0x0806)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.source, self.destination)?;
        for tag in self.vlan {
            write!(f, ", {tag}")?;
        }
        write!(f, ", {}", self.ether_type)
    }
}

/// The big-endian u16 at `offset`, if the input holds it.
fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let b = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
}

/// Writes consecutive slices into a buffer whose length the caller has already checked; a slice
/// that does not fit is dropped rather than panicking (which cannot happen when the caller sized
/// the buffer with the same lengths).
struct Writer<'o>(&'o mut [u8]);

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let buf = core::mem::take(&mut self.0);
        if let Some((head, tail)) = buf.split_at_mut_checked(bytes.len()) {
            head.copy_from_slice(bytes);
            self.0 = tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn bytes(hex_str: &str) -> Vec<u8> {
        hex::decode(hex_str).expect("fixture hex")
    }

    fn mac(s: &str) -> MacAddr {
        s.parse().expect("fixture MAC")
    }

    // tcpdump/802.1ad_QinQ.pcap frame 1: 802.1ad S-tag VID 200 around an 802.1Q C-tag VID 2001
    // around ARP; 64 bytes with padding and a 4-byte trailer.
    const QINQ_ARP: &str = "ffffffffffff0020d25afb3f88a800c8810007d1080600010800060400010020d25afb3fac154f61000000000000ac154f640000000000000000000000000000";

    #[test]
    fn tcpdump_8021ad_qinq_arp() {
        let frame = bytes(QINQ_ARP);
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        // Values from `tshark -V -r tcpdump/802.1ad_QinQ.pcap`.
        assert_eq!(h.destination, MacAddr::BROADCAST);
        assert_eq!(h.source, mac("00:20:d2:5a:fb:3f"));
        assert_eq!(h.vlan.len(), 2);
        let tags: Vec<VlanTag> = h.vlan.iter().collect();
        assert_eq!(
            tags,
            [
                VlanTag {
                    tpid: EtherType::QINQ,
                    pcp: 0,
                    dei: false,
                    vid: 200
                },
                VlanTag {
                    tpid: EtherType::VLAN,
                    pcp: 0,
                    dei: false,
                    vid: 2001
                },
            ]
        );
        assert_eq!(h.vlan.outer().unwrap().vid, 200);
        assert_eq!(h.vlan.inner().unwrap().vid, 2001);
        assert_eq!(h.ether_type, EtherType::ARP);
        assert!(!h.is_length_field());
        assert_eq!(h.len(), 22);
        assert_eq!(payload.len(), 64 - 22);
        assert_eq!(&payload[..8], &bytes("0001080006040001")[..]);

        let mut out = [0u8; 22];
        assert_eq!(h.emit(&mut out), Ok(22));
        assert_eq!(&out[..], &frame[..22]);
        assert_eq!(
            h.to_string(),
            "00:20:d2:5a:fb:3f → ff:ff:ff:ff:ff:ff, 802.1ad VLAN 200 (PCP 0, DEI 0), \
             802.1Q VLAN 2001 (PCP 0, DEI 0), ARP (0x0806)"
        );
    }

    #[test]
    fn arkime_twovlan_priority_and_dei() {
        // arkime/twovlan.pcap frame 1: two 802.1Q tags, the inner one with PCP 4, DEI 1.
        let frame = bytes("00090fdbf43e000c29c12d24810000c9810090c808004500003c13e440004006ef4c0a0000010a000002d4960050c127fde700000000a002721037ba0000020405b40402080a3f02ee030000000001030307");
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(h.destination, mac("00:09:0f:db:f4:3e"));
        assert_eq!(h.source, mac("00:0c:29:c1:2d:24"));
        let tags: Vec<VlanTag> = h.vlan.iter().collect();
        assert_eq!(
            tags,
            [
                VlanTag {
                    tpid: EtherType::VLAN,
                    pcp: 0,
                    dei: false,
                    vid: 201
                },
                VlanTag {
                    tpid: EtherType::VLAN,
                    pcp: 4,
                    dei: true,
                    vid: 200
                },
            ]
        );
        assert_eq!(tags[1].tci(), 0x90c8);
        assert_eq!(h.ether_type, EtherType::IPV4);
        assert_eq!(payload.first(), Some(&0x45));
        assert_eq!(payload.len(), 82 - 22);
        let mut out = [0u8; 64];
        assert_eq!(h.emit_exact(&mut out), Ok(22));
        assert_eq!(&out[..22], &frame[..22]);
    }

    #[test]
    fn pcapplusplus_vlan_packets() {
        // PcapPlusPlus/VlanPackets.pcap frame 1: 802.1Q VID 118 then 802.1Q VID 10, IPv4.
        let f1 = bytes(
            "001bd41ba4d80013c3dfae18810000768100000a080045000064000f0000ff01929b0a760a010a760a02",
        );
        let (h, payload) = EthernetHeader::parse(&f1).unwrap();
        assert_eq!(h.destination, mac("00:1b:d4:1b:a4:d8"));
        assert_eq!(h.source, mac("00:13:c3:df:ae:18"));
        let vids: Vec<u16> = h.vlan.iter().map(|t| t.vid).collect();
        assert_eq!(vids, [118, 10]);
        assert_eq!(h.ether_type, EtherType::IPV4);
        assert_eq!(payload.len(), f1.len() - 22);

        // Frame 21: one 802.1Q tag (PCP 5, VID 118) followed by an 802.3 length of 357 (CDP
        // over LLC/SNAP).
        let f21 = bytes("01000ccdcdd00013c3dfae188100a0760165aaaa0300000c2000");
        let (h, payload) = EthernetHeader::parse(&f21).unwrap();
        assert_eq!(h.destination, mac("01:00:0c:cd:cd:d0"));
        assert_eq!(
            h.vlan.iter().collect::<Vec<_>>(),
            [VlanTag {
                tpid: EtherType::VLAN,
                pcp: 5,
                dei: false,
                vid: 118
            }]
        );
        assert!(h.is_length_field());
        assert_eq!(h.length_field(), Some(357));
        assert_eq!(h.ether_type.to_string(), "length 357");
        assert_eq!(payload, &bytes("aaaa0300000c2000")[..]);
        let mut out = [0u8; 18];
        assert_eq!(h.emit(&mut out), Ok(18));
        assert_eq!(&out[..], &f21[..18]);

        // Frame 23: untagged IEEE 802.3 frame, length 361.
        let f23 = bytes("01000ccccccc000f345f168d0169aaaa0300000c2000");
        let (h, payload) = EthernetHeader::parse(&f23).unwrap();
        assert!(h.vlan.is_empty());
        assert_eq!(h.source, mac("00:0f:34:5f:16:8d"));
        assert_eq!(h.length_field(), Some(361));
        assert_eq!(h.len(), 14);
        assert_eq!(payload.first(), Some(&0xaa));
    }

    #[test]
    fn pcapplusplus_qinq_8021ad_pcapng() {
        // PcapPlusPlus/QinQ_802.1_AD.pcapng frame 1 (first 40 of 1500 bytes).
        let frame = bytes(
            "00109400000c00109400001488a8001e810000640800450005c254b00000fffdddbfc0550116c055010e",
        );
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(h.destination, mac("00:10:94:00:00:0c"));
        assert_eq!(h.source, mac("00:10:94:00:00:14"));
        let tags: Vec<VlanTag> = h.vlan.iter().collect();
        assert_eq!(tags[0].tpid, EtherType::QINQ);
        assert_eq!((tags[0].pcp, tags[0].dei, tags[0].vid), (0, false, 30));
        assert_eq!(tags[1].tpid, EtherType::VLAN);
        assert_eq!((tags[1].pcp, tags[1].dei, tags[1].vid), (0, false, 100));
        assert_eq!(h.ether_type, EtherType::IPV4);
        assert_eq!(&payload[..2], &[0x45, 0x00]);
    }

    #[test]
    fn old_qinq_tpid_and_three_tags() {
        let frame = bytes("ffffffffffff02000000000191000064810020c8810000010806aa");
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        let tags: Vec<VlanTag> = h.vlan.iter().collect();
        assert_eq!(tags.len(), 3);
        assert_eq!(tags[0].tpid, EtherType::QINQ_OLD);
        assert_eq!(tags[0].vid, 100);
        assert_eq!((tags[1].pcp, tags[1].vid), (1, 200));
        assert_eq!(tags[2].vid, 1);
        assert_eq!(h.vlan.get(1), Some(tags[1]));
        assert_eq!(h.vlan.get(3), None);
        assert_eq!(h.ether_type, EtherType::ARP);
        assert_eq!(h.len(), 26);
        assert_eq!(payload, &[0xaa]);
        assert!(h.source.is_locally_administered());
    }

    #[test]
    fn untagged_ipv4() {
        let frame = bytes("6cf049b2de6e30469a23fbfa08004500");
        let (h, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(
            h,
            EthernetHeader::new(
                mac("6c:f0:49:b2:de:6e"),
                mac("30:46:9a:23:fb:fa"),
                EtherType::IPV4
            )
        );
        assert_eq!(payload, &[0x45, 0x00]);
        assert!(h.vlan.outer().is_none());
    }

    #[test]
    fn truncated_ethernet_names_the_field() {
        let frame = bytes(QINQ_ARP);
        for (len, name, offset) in [
            (0, "destination", 0),
            (5, "destination", 0),
            (6, "source", 6),
            (11, "source", 6),
            (12, "EtherType", 12),
            (13, "EtherType", 12),
        ] {
            let e = EthernetHeader::parse(&frame[..len]).unwrap_err();
            assert_eq!(
                e,
                Error::truncated(Layer::Ethernet, name, offset, 14, len),
                "length {len}"
            );
        }
    }

    #[test]
    fn truncated_vlan_tags() {
        let frame = bytes(QINQ_ARP);
        let cases = [
            (14, "TCI", 14, 18),
            (15, "TCI", 14, 18),
            (16, "EtherType", 16, 18),
            (17, "EtherType", 16, 18),
            (18, "TCI", 18, 22),
            (20, "EtherType", 20, 22),
            (21, "EtherType", 20, 22),
        ];
        for (len, name, offset, needed) in cases {
            let e = EthernetHeader::parse(&frame[..len]).unwrap_err();
            assert_eq!(e.layer, Layer::Vlan, "length {len}");
            assert_eq!(e.field, name, "length {len}");
            assert_eq!(e.offset, offset, "length {len}");
            assert_eq!(e.kind, ErrorKind::Truncated { needed, got: len });
        }
        // 22 bytes: both tags and the inner type are there, the payload is empty.
        let (h, payload) = EthernetHeader::parse(&frame[..22]).unwrap();
        assert_eq!(h.ether_type, EtherType::ARP);
        assert!(payload.is_empty());
    }

    #[test]
    fn emit_errors() {
        let frame = bytes(QINQ_ARP);
        let (h, _) = EthernetHeader::parse(&frame).unwrap();
        let mut out = [0u8; 21];
        assert_eq!(
            h.emit(&mut out),
            Err(Error::buffer_too_small(Layer::Ethernet, 22, 21))
        );
        assert_eq!(
            h.emit_exact(&mut out),
            Err(Error::buffer_too_small(Layer::Ethernet, 22, 21))
        );

        // A VLAN TPID as the innermost type: `emit` refuses, `emit_exact` writes it.
        let bad = EthernetHeader {
            ether_type: EtherType::VLAN,
            ..h
        };
        let mut out = [0u8; 22];
        let e = bad.emit(&mut out).unwrap_err();
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::Ethernet, "EtherType", 20)
        );
        assert_eq!(bad.emit_exact(&mut out), Ok(22));
        assert_eq!(&out[20..22], &[0x81, 0x00]);
    }

    #[test]
    fn vlan_tags_new_and_write_validate() {
        assert_eq!(VlanTags::new(&[]).unwrap(), VlanTags::EMPTY);
        assert_eq!(
            VlanTags::new(&[0x81, 0x00, 0x00]).unwrap_err(),
            Error::truncated(Layer::Vlan, "TCI", 2, 4, 3)
        );
        assert_eq!(
            VlanTags::new(&[0x81, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x01]).unwrap_err(),
            Error::bad_value(Layer::Vlan, "TPID", 4, "0x8100, 0x88a8 or 0x9100", 0x0800)
        );

        let tag = |tpid, pcp, dei, vid| VlanTag {
            tpid,
            pcp,
            dei,
            vid,
        };
        let mut buf = [0u8; 8];
        let n = VlanTags::write(
            &[
                tag(EtherType::QINQ, 7, true, 4095),
                tag(EtherType::VLAN, 0, false, 0),
            ],
            &mut buf,
        )
        .unwrap();
        assert_eq!(n, 8);
        assert_eq!(buf, [0x88, 0xa8, 0xff, 0xff, 0x81, 0x00, 0x00, 0x00]);
        let tags = VlanTags::new(&buf).unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags.as_bytes(), &buf);

        assert_eq!(
            VlanTags::write(&[tag(EtherType::VLAN, 8, false, 1)], &mut buf),
            Err(Error::too_long(Layer::Vlan, "PCP", 7, 8))
        );
        assert_eq!(
            VlanTags::write(&[tag(EtherType::VLAN, 0, false, 4096)], &mut buf),
            Err(Error::too_long(Layer::Vlan, "VID", 4095, 4096))
        );
        let e = VlanTags::write(
            &[
                tag(EtherType::VLAN, 0, false, 1),
                tag(EtherType::IPV4, 0, false, 1),
            ],
            &mut buf,
        )
        .unwrap_err();
        assert_eq!((e.field, e.offset), ("TPID", 4));
        assert_eq!(
            VlanTags::write(&[tag(EtherType::VLAN, 0, false, 1); 3], &mut buf),
            Err(Error::buffer_too_small(Layer::Vlan, 12, 8))
        );
    }

    #[test]
    fn vlan_tags_debug_lists_values() {
        let frame = bytes(QINQ_ARP);
        let (h, _) = EthernetHeader::parse(&frame).unwrap();
        let text = std::format!("{:?}", h.vlan);
        assert!(
            text.starts_with("[VlanTag { tpid: EtherType(34984), pcp: 0, dei: false, vid: 200 }")
        );
        assert!(text.contains("vid: 2001"));
    }

    #[test]
    fn ether_type_classes() {
        assert!(EtherType::VLAN.is_vlan_tpid());
        assert!(EtherType::QINQ.is_vlan_tpid());
        assert!(EtherType::QINQ_OLD.is_vlan_tpid());
        assert!(!EtherType::IPV4.is_vlan_tpid());
        assert!(EtherType(0).is_length_field());
        assert!(EtherType(1500).is_length_field());
        assert!(!EtherType(1501).is_length_field());
        assert!(!EtherType(1535).is_type());
        assert!(EtherType(1536).is_type());
        assert_eq!(EtherType::RARP.to_string(), "RARP (0x8035)");
        assert_eq!(EtherType(0x88cc).to_string(), "0x88cc");
        assert_eq!(EtherType::IPV6.name(), Some("IPv6"));
    }

    #[test]
    fn mac_addr_text_and_bits() {
        let m: MacAddr = "00:1B:d4:1b:a4:d8".parse().unwrap();
        assert_eq!(m, MacAddr([0x00, 0x1b, 0xd4, 0x1b, 0xa4, 0xd8]));
        assert_eq!("0-1b-d4-1b-a4-d8".parse::<MacAddr>(), Ok(m));
        assert_eq!(m.to_string(), "00:1b:d4:1b:a4:d8");
        for bad in [
            "",
            "00:1b:d4:1b:a4",
            "00:1b:d4:1b:a4:d8:00",
            "00:1b:d4:1b:a4:d8:",
            "000:1b:d4:1b:a4:d8",
            "0g:1b:d4:1b:a4:d8",
            "00:1b-d4:1b:a4:d8",
            "+0:1b:d4:1b:a4:d8",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(ParseMacAddrError), "{bad:?}");
        }
        assert!(m.is_unicast() && !m.is_multicast() && !m.is_locally_administered());
        assert!(MacAddr::BROADCAST.is_multicast() && MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr::ZERO.is_zero() && !m.is_zero());
        assert_eq!(MacAddr::from_slice(&[1, 2, 3, 4, 5]), None);
        assert_eq!(
            MacAddr::from_slice(&[1, 2, 3, 4, 5, 6]),
            Some(MacAddr::from([1, 2, 3, 4, 5, 6]))
        );
        assert_eq!(
            MacAddr::from_ipv4_multicast(core::net::Ipv4Addr::new(224, 129, 2, 3)).to_string(),
            "01:00:5e:01:02:03"
        );
    }

    fn tpid() -> impl Strategy<Value = EtherType> {
        prop_oneof![
            Just(EtherType::VLAN),
            Just(EtherType::QINQ),
            Just(EtherType::QINQ_OLD)
        ]
    }

    fn tag() -> impl Strategy<Value = VlanTag> {
        (tpid(), 0u8..=7, any::<bool>(), 0u16..=4095).prop_map(|(tpid, pcp, dei, vid)| VlanTag {
            tpid,
            pcp,
            dei,
            vid,
        })
    }

    fn payload_type() -> impl Strategy<Value = EtherType> {
        any::<u16>()
            .prop_filter("not a TPID", |t| !EtherType(*t).is_vlan_tpid())
            .prop_map(EtherType)
    }

    proptest! {
        // (1) value → emit → parse gives the value back.
        #[test]
        fn prop_emit_then_parse(
            dst in any::<[u8; 6]>(),
            src in any::<[u8; 6]>(),
            tags in proptest::collection::vec(tag(), 0..5),
            ether_type in payload_type(),
            payload in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let mut tag_bytes = [0u8; 20];
            let n = VlanTags::write(&tags, &mut tag_bytes).unwrap();
            let header = EthernetHeader {
                destination: MacAddr(dst),
                source: MacAddr(src),
                vlan: VlanTags::new(&tag_bytes[..n]).unwrap(),
                ether_type,
            };
            let mut frame = std::vec![0u8; header.len() + payload.len()];
            prop_assert_eq!(header.emit(&mut frame), Ok(14 + 4 * tags.len()));
            frame[header.len()..].copy_from_slice(&payload);
            let (parsed, rest) = EthernetHeader::parse(&frame).unwrap();
            prop_assert_eq!(parsed, header);
            prop_assert_eq!(parsed.vlan.iter().collect::<Vec<_>>(), tags);
            prop_assert_eq!(rest, &payload[..]);
        }

        // (2) valid bytes (built by hand, any TCI) → parse → emit_exact gives the same bytes.
        #[test]
        fn prop_parse_then_emit_exact(
            addrs in any::<[u8; 12]>(),
            tags in proptest::collection::vec((tpid(), any::<u16>()), 0..5),
            ether_type in payload_type(),
            payload in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let mut frame = addrs.to_vec();
            for (tpid, tci) in &tags {
                frame.extend_from_slice(&tpid.0.to_be_bytes());
                frame.extend_from_slice(&tci.to_be_bytes());
            }
            frame.extend_from_slice(&ether_type.0.to_be_bytes());
            let header_len = frame.len();
            frame.extend_from_slice(&payload);

            let (h, rest) = EthernetHeader::parse(&frame).unwrap();
            prop_assert_eq!(h.len(), header_len);
            prop_assert_eq!(h.ether_type, ether_type);
            prop_assert_eq!(rest, &payload[..]);
            for (tag, (tpid, tci)) in h.vlan.iter().zip(&tags) {
                prop_assert_eq!(tag.tpid, *tpid);
                prop_assert_eq!(tag.tci(), *tci);
                prop_assert_eq!(tag.pcp, (*tci >> 13) as u8);
                prop_assert_eq!(tag.dei, tci & 0x1000 != 0);
                prop_assert_eq!(tag.vid, tci & 0xfff);
            }
            let mut out = std::vec![0u8; header_len];
            prop_assert_eq!(h.emit_exact(&mut out), Ok(header_len));
            prop_assert_eq!(&out[..], &frame[..header_len]);
        }

        // (3) arbitrary bytes, with TPIDs planted where tags would go, never panic; a success
        // re-emits the consumed prefix.
        #[test]
        fn prop_arbitrary_bytes(
            mut frame in proptest::collection::vec(any::<u8>(), 0..40),
            plant in proptest::collection::vec(proptest::option::of(tpid()), 0..6),
        ) {
            for (i, t) in plant.iter().enumerate() {
                let at = 12 + 4 * i;
                if let (Some(t), Some(slot)) = (t, frame.get_mut(at..at + 2)) {
                    slot.copy_from_slice(&t.0.to_be_bytes());
                }
            }
            match EthernetHeader::parse(&frame) {
                Ok((h, rest)) => {
                    prop_assert_eq!(h.len() + rest.len(), frame.len());
                    let mut out = std::vec![0u8; h.len()];
                    prop_assert_eq!(h.emit_exact(&mut out), Ok(h.len()));
                    prop_assert_eq!(&out[..], &frame[..h.len()]);
                    prop_assert!(!h.ether_type.is_vlan_tpid());
                }
                Err(e) => match e.kind {
                    ErrorKind::Truncated { needed, got } => {
                        prop_assert_eq!(got, frame.len());
                        prop_assert!(needed > got && needed >= 14);
                        prop_assert!(e.offset <= got);
                    }
                    other => prop_assert!(false, "unexpected error kind {:?}", other),
                },
            }
        }
    }
}
