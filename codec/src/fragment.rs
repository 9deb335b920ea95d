//! IPv4 fragmentation and reassembly [RFC 791 § 2.3, § 3.2; RFC 815; RFC 1122 § 3.3.2;
//! RFC 1858].
//!
//! Both halves are pure: no clock, no I/O. Time is a value the caller passes in
//! ([`time::Instant`](crate::time::Instant), microseconds).
//!
//! - [`fragment`] splits a datagram for a link MTU and yields [`Fragment`]s, each of which can
//!   [`emit`](Fragment::emit) itself. It never allocates. A datagram with Don't Fragment set that
//!   does not fit is an error carrying the next-hop MTU (what ICMP "fragmentation needed" needs,
//!   [RFC 1191 § 4]), never a silent drop.
//! - `Reassembler` (feature `alloc`) puts fragments back together: bounded in datagrams and
//!   bytes, with oldest-first eviction, a timeout that reports the first fragment for ICMP Time
//!   Exceeded (code 1), and an overlap policy that discards a datagram whose fragments disagree
//!   about a byte. Every anomaly it sees is a [`ReassemblyFinding`].
//!
//! Offsets and lengths in this module are in octets of the datagram's payload (the fragment
//! offset field × 8), not in 8-octet units.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Error, ErrorKind, Layer, Result};
use crate::ipv4::{IpProtocol, Ipv4Header, Ipv4Options, MAX_HEADER_LEN, MIN_HEADER_LEN};
#[cfg(feature = "alloc")]
use crate::time::{Duration, Instant};

/// The largest IPv4 datagram, header included: the total length field is 16 bits.
pub const MAX_DATAGRAM_LEN: usize = 65535;

/// The largest payload a reassembled datagram can have: [`MAX_DATAGRAM_LEN`] minus the smallest
/// header.
pub const MAX_PAYLOAD_LEN: usize = MAX_DATAGRAM_LEN - MIN_HEADER_LEN;

/// The smallest MTU every IPv4 module must handle without further fragmentation [RFC 791 § 3.2]:
/// a 60-octet header and an 8-octet fragment.
pub const MIN_MTU: u16 = 68;

/// Octets of original data quoted after the header in ICMP error messages [RFC 792].
pub const QUOTED_DATA_LEN: usize = 8;

/// An IPv4 header held by value, options included (up to 40 octets, zero-padded to a multiple of
/// 4), for headers a fragmenter or reassembler builds rather than borrows from a packet.
///
/// [`header`](OwnedIpv4Header::header) lends it out as an ordinary [`Ipv4Header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OwnedIpv4Header {
    /// Every field but the options (whose `options` field is empty).
    fixed: Ipv4Header<'static>,
    options: [u8; Ipv4Options::MAX_LEN],
    options_len: u8,
}

impl OwnedIpv4Header {
    /// Copies `header`, its option octets zero-padded to a multiple of 4 (the padding reads as
    /// End of Option List). Every other field, IHL included, is kept as held. `None` if the
    /// header holds more than 40 option octets.
    pub fn new(header: &Ipv4Header<'_>) -> Option<Self> {
        Self::with_options(header, header.options.as_bytes())
    }

    fn with_options(header: &Ipv4Header<'_>, option_bytes: &[u8]) -> Option<Self> {
        let mut options = [0u8; Ipv4Options::MAX_LEN];
        options
            .get_mut(..option_bytes.len())?
            .copy_from_slice(option_bytes);
        let padded = option_bytes.len().div_ceil(4) * 4;
        Some(OwnedIpv4Header {
            fixed: Ipv4Header {
                options: Ipv4Options::EMPTY,
                ..*header
            },
            options,
            options_len: u8::try_from(padded).ok()?,
        })
    }

    /// The header, borrowing its options from `self`.
    pub fn header(&self) -> Ipv4Header<'_> {
        let options = self
            .options
            .get(..usize::from(self.options_len))
            .unwrap_or_default();
        Ipv4Header {
            options: Ipv4Options::raw(options),
            ..self.fixed
        }
    }

    /// The octets the header takes: 20 plus the (padded) options.
    pub const fn len(&self) -> usize {
        MIN_HEADER_LEN + self.options_len as usize
    }

    /// Always false: a header takes at least 20 octets.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Sets IHL from the options, the total length for `payload_len` octets of payload, and
    /// the checksum. Fails if the total exceeds 65535.
    fn finish(&mut self, payload_len: usize) -> Result<()> {
        let len = self.len();
        let total = len.saturating_add(payload_len);
        self.fixed.total_length = u16::try_from(total).map_err(|_| {
            Error::too_long(Layer::Fragment, "total length", MAX_DATAGRAM_LEN, total)
        })?;
        self.fixed.ihl = (len / 4) as u8;
        self.fixed.header_checksum = 0;
        self.fixed.header_checksum = self.header().compute_checksum();
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Fragmenter
// ------------------------------------------------------------------------------------------------

/// Splits a datagram for a link of `mtu` octets [RFC 791 § 3.2, "An Example Fragmentation
/// Procedure"; RFC 1812 § 4.2.2.7].
///
/// `header` is the datagram's header and `payload` its data (everything after the header, as
/// [`Ipv4Header::parse`] returns it; the header's own total length is not consulted). The
/// fragments come out in order, and each is a complete header plus a slice of `payload`:
///
/// - every fragment's data but the last is a multiple of 8 octets, as large as the MTU allows
///   with that fragment's header;
/// - the first fragment keeps all options; later ones carry only the options whose copied flag
///   is set (Security, source routes, …), zero-padded [RFC 791 § 3.1];
/// - More Fragments is set on all but the last; the last keeps the datagram's own More
///   Fragments flag, and offsets count from the datagram's own offset, so fragmenting a
///   fragment (a router in front of a smaller MTU) gives pieces of the original datagram;
/// - IHL, total length and the header checksum are computed per fragment; every other field
///   (identification, TTL, DF, the reserved flag, …) is copied.
///
/// A datagram that fits is returned as a single fragment, unchanged but for IHL, total length
/// and checksum being recomputed.
///
/// Errors (layer [`Layer::Fragment`]):
/// - Don't Fragment set and the datagram larger than `mtu`:
///   [`ErrorKind::FragmentationNeeded`] with `mtu`, field "don't fragment" — what a stack needs
///   to send ICMP Destination Unreachable, Fragmentation Needed [RFC 1191 § 4];
/// - `mtu` too small for a header and 8 octets of data: `BadValue`, field "MTU";
/// - more than 40 option octets: `TooLong`, field "options";
/// - the datagram's own offset plus `payload` past 65535 octets: `TooLong`, field "total
///   length".
pub fn fragment<'a>(header: &Ipv4Header<'_>, payload: &'a [u8], mtu: u16) -> Result<Fragments<'a>> {
    let first = OwnedIpv4Header::new(header).ok_or(Error::too_long(
        Layer::Fragment,
        "options",
        Ipv4Options::MAX_LEN,
        header.options.len(),
    ))?;
    let mut copied = [0u8; Ipv4Options::MAX_LEN];
    let copied_len = header.options.write_copied(&mut copied)?;
    let later =
        OwnedIpv4Header::with_options(header, copied.get(..copied_len).unwrap_or_default()).ok_or(
            Error::too_long(Layer::Fragment, "options", Ipv4Options::MAX_LEN, copied_len),
        )?;

    let base = header.fragment_offset_bytes();
    let end = base.saturating_add(payload.len());
    if end.saturating_add(first.len()) > MAX_DATAGRAM_LEN {
        return Err(Error::too_long(
            Layer::Fragment,
            "total length",
            MAX_DATAGRAM_LEN,
            end.saturating_add(first.len()),
        ));
    }
    let mtu_len = usize::from(mtu);
    let fits = first.len().saturating_add(payload.len()) <= mtu_len;
    if !fits {
        if header.dont_fragment {
            return Err(Error {
                layer: Layer::Fragment,
                field: "don't fragment",
                offset: 0,
                kind: ErrorKind::FragmentationNeeded { mtu },
                pointer: None,
            });
        }
        if first.len() + 8 > mtu_len || later.len() + 8 > mtu_len {
            return Err(Error::bad_value(
                Layer::Fragment,
                "MTU",
                0,
                "≥ the header length + 8",
                u64::from(mtu),
            ));
        }
    } else if first.len() > mtu_len {
        // Nothing to split, but the header alone does not fit.
        return Err(Error::bad_value(
            Layer::Fragment,
            "MTU",
            0,
            "≥ the header length",
            u64::from(mtu),
        ));
    }
    Ok(Fragments {
        first,
        later,
        payload,
        at: 0,
        base,
        mtu: mtu_len,
        more_after: header.more_fragments,
        done: false,
    })
}

/// The fragments of one datagram, from [`fragment`].
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    first: OwnedIpv4Header,
    later: OwnedIpv4Header,
    payload: &'a [u8],
    /// Payload octets already handed out.
    at: usize,
    /// The datagram's own fragment offset, in octets.
    base: usize,
    mtu: usize,
    /// The datagram's own More Fragments flag.
    more_after: bool,
    done: bool,
}

impl Fragments<'_> {
    /// The data length of the fragment starting at payload octet `at`.
    fn piece_len(&self, at: usize) -> usize {
        let header_len = if at == 0 {
            self.first.len()
        } else {
            self.later.len()
        };
        let remaining = self.payload.len().saturating_sub(at);
        let room = self.mtu.saturating_sub(header_len);
        if remaining <= room {
            remaining
        } else {
            room & !7
        }
    }
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Fragment<'a>;

    fn next(&mut self) -> Option<Fragment<'a>> {
        if self.done {
            return None;
        }
        let len = self.piece_len(self.at);
        let end = self.at.saturating_add(len);
        let data = self.payload.get(self.at..end)?;
        let last = end >= self.payload.len();
        let mut header = if self.at == 0 { self.first } else { self.later };
        header.fixed.more_fragments = !last || self.more_after;
        header.fixed.fragment_offset = (self.base.saturating_add(self.at) / 8) as u16;
        // `fragment` checked that the whole datagram fits in 65535 octets.
        header.finish(len).ok()?;
        self.at = end;
        self.done = last || len == 0;
        Some(Fragment {
            header,
            payload: data,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // The next fragment, then later-header fragments: all full but the last.
        let rest = self
            .payload
            .len()
            .saturating_sub(self.at.saturating_add(self.piece_len(self.at)));
        let room = self.mtu.saturating_sub(self.later.len());
        let full = (room & !7).max(8);
        let n = if rest == 0 {
            1
        } else {
            2 + rest.saturating_sub(room).div_ceil(full)
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for Fragments<'_> {}
impl core::iter::FusedIterator for Fragments<'_> {}

/// One fragment from [`fragment`]: a header built for it and a slice of the original payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment<'a> {
    header: OwnedIpv4Header,
    payload: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// The fragment's header: IHL, total length, flags, offset and checksum already set.
    pub fn header(&self) -> Ipv4Header<'_> {
        self.header.header()
    }

    /// The fragment's data.
    pub const fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The fragment's offset in the original datagram's payload, in octets.
    pub fn offset(&self) -> usize {
        self.header.fixed.fragment_offset_bytes()
    }

    /// The octets the fragment takes on the wire: header plus data (its total length).
    pub fn len(&self) -> usize {
        self.header.len() + self.payload.len()
    }

    /// Always false: a fragment has a header.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Writes the fragment (header and data) to the start of `out` and returns the octets
    /// written. Errors: `BufferTooSmall` if `out` is shorter than [`len`](Fragment::len).
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let got = out.len();
        let out = out
            .get_mut(..len)
            .ok_or(Error::buffer_too_small(Layer::Fragment, len, got))?;
        let n = self.header().emit_exact(out)?;
        out.get_mut(n..)
            .ok_or(Error::buffer_too_small(Layer::Fragment, len, got))?
            .copy_from_slice(self.payload);
        Ok(len)
    }
}

// ------------------------------------------------------------------------------------------------
// Findings and keys (no allocation needed)
// ------------------------------------------------------------------------------------------------

/// What identifies the fragments of one datagram [RFC 791 § 2.3]: source, destination,
/// protocol and identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FragmentKey {
    /// Source address.
    pub source: Ipv4Addr,
    /// Destination address.
    pub destination: Ipv4Addr,
    /// Protocol.
    pub protocol: IpProtocol,
    /// Identification.
    pub identification: u16,
}

impl FragmentKey {
    /// The key of the datagram `header` belongs to.
    pub const fn of(header: &Ipv4Header<'_>) -> Self {
        FragmentKey {
            source: header.source,
            destination: header.destination,
            protocol: header.protocol,
            identification: header.identification,
        }
    }
}

impl fmt::Display for FragmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {} {} id {:#06x}",
            self.source, self.destination, self.protocol, self.identification
        )
    }
}

/// The smallest first fragment a transport protocol's header fits in, for the tiny fragment
/// check [RFC 1858 § 3.2]: 20 for TCP (a whole minimal header, so the flags and data offset are
/// in the first fragment), 8 for UDP, ICMP and IGMP, none for other protocols.
pub const fn min_first_fragment(protocol: IpProtocol) -> Option<usize> {
    match protocol {
        IpProtocol::TCP => Some(20),
        IpProtocol::UDP | IpProtocol::ICMP | IpProtocol::IGMP => Some(8),
        _ => None,
    }
}

/// Something the reassembler noticed about a fragment, and what it did about it.
///
/// Offsets and lengths are in payload octets. "Discarded" means the whole datagram was dropped:
/// its bytes are freed and later fragments with its key are ignored (with
/// [`Discarded`](ReassemblyFinding::Discarded)) until its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassemblyFinding {
    /// Every octet of the fragment was already held, with the same value: the fragment is
    /// ignored (an exact or partial retransmission).
    Duplicate {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
    },
    /// The fragment overlaps octets already held, with the same values: the new octets are
    /// kept, the overlapping ones ignored.
    Overlap {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
        /// Octets that were already held.
        overlapping: u16,
    },
    /// The fragment covers exactly the range of an earlier one but with different octets: the
    /// datagram is discarded (the policy Linux follows since the FragmentSmack fixes).
    ConflictingDuplicate {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
    },
    /// The fragment overlaps octets already held and disagrees with them: the datagram is
    /// discarded.
    ConflictingOverlap {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
    },
    /// The fragment lies inside an earlier fragment and ends before it, the shape of the
    /// "teardrop" attack (which crashed stacks computing a negative length). Reported in
    /// addition to `Duplicate` or `ConflictingOverlap`, which say what was done.
    Teardrop {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
        /// Offset of the earlier fragment it lies in.
        within_offset: u16,
        /// Length of that earlier fragment.
        within_len: u16,
    },
    /// A first fragment (offset 0, More Fragments) too short to hold the transport header
    /// [RFC 1858 § 3.1, § 3.2] (see [`min_first_fragment`]). Kept; reported because packet
    /// filters that look only at first fragments can be fooled by it.
    TinyFirstFragment {
        /// Data length of the first fragment.
        len: u16,
        /// The transport header's minimum length.
        needed: u16,
    },
    /// A TCP fragment at offset 1 (8 octets), which can only serve to overwrite the TCP
    /// header's flags [RFC 1858 § 3.3]. Kept (if it disagrees with the first fragment, the
    /// overlap policy discards the datagram); reported.
    TcpOffsetOne,
    /// A fragment whose data would reach past the largest IPv4 datagram (65535 octets, header
    /// included; the "ping of death"): the fragment is dropped and the datagram discarded.
    PastMaximum {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
        /// Header length counted with it.
        header_len: u8,
    },
    /// A fragment with More Fragments set whose data is not a multiple of 8 octets
    /// [RFC 791 § 3.2]: dropped.
    UnalignedLength {
        /// Fragment offset.
        offset: u16,
        /// Data length.
        len: u16,
    },
    /// A fragment with More Fragments set and no data: dropped.
    EmptyFragment {
        /// Fragment offset.
        offset: u16,
    },
    /// A second last fragment (More Fragments clear) giving a different end: the datagram is
    /// discarded.
    ConflictingEnd {
        /// End (offset + length) the earlier last fragment gave.
        previous_end: u32,
        /// End this fragment gives.
        end: u32,
    },
    /// Data beyond the end the last fragment gives (a fragment past it, or a last fragment
    /// ending before data already held): the datagram is discarded.
    BeyondEnd {
        /// The end the last fragment gives.
        end: u32,
        /// The furthest data octet (exclusive).
        data_end: u32,
    },
    /// The fragment belongs to a datagram discarded earlier: ignored.
    Discarded,
    /// Another datagram was evicted (oldest first) to make room for this fragment.
    Evicted {
        /// The evicted datagram.
        key: FragmentKey,
        /// The bytes it held.
        held: usize,
    },
    /// The fragment cannot be held within the configured byte limit even with nothing else
    /// held: it is dropped, and its datagram (if any) discarded.
    OverLimit {
        /// Bytes needed.
        needed: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The header has more than 40 option octets (only possible for headers built by hand):
    /// the fragment is dropped.
    BadHeader,
}

impl ReassemblyFinding {
    /// Whether the finding means the fragment's datagram was discarded (or the fragment could
    /// not join one).
    pub const fn discards_datagram(&self) -> bool {
        matches!(
            self,
            ReassemblyFinding::ConflictingDuplicate { .. }
                | ReassemblyFinding::ConflictingOverlap { .. }
                | ReassemblyFinding::PastMaximum { .. }
                | ReassemblyFinding::ConflictingEnd { .. }
                | ReassemblyFinding::BeyondEnd { .. }
                | ReassemblyFinding::OverLimit { .. }
        )
    }
}

impl fmt::Display for ReassemblyFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReassemblyFinding::*;
        match *self {
            Duplicate { offset, len } => write!(f, "duplicate fragment (offset {offset}, {len} bytes)"),
            Overlap { offset, len, overlapping } => write!(
                f,
                "overlapping fragment (offset {offset}, {len} bytes, {overlapping} already held, same content)"
            ),
            ConflictingDuplicate { offset, len } => write!(
                f,
                "duplicate fragment with different content (offset {offset}, {len} bytes): datagram discarded"
            ),
            ConflictingOverlap { offset, len } => write!(
                f,
                "overlapping fragment with different content (offset {offset}, {len} bytes): datagram discarded"
            ),
            Teardrop { offset, len, within_offset, within_len } => write!(
                f,
                "teardrop-style fragment (offset {offset}, {len} bytes) inside an earlier one (offset {within_offset}, {within_len} bytes)"
            ),
            TinyFirstFragment { len, needed } => write!(
                f,
                "tiny first fragment: {len} bytes, the transport header needs {needed} (RFC 1858)"
            ),
            TcpOffsetOne => f.write_str("TCP fragment at offset 8 bytes (RFC 1858 § 3.3)"),
            PastMaximum { offset, len, header_len } => write!(
                f,
                "fragment past 65535 bytes (offset {offset}, {len} bytes, header {header_len}): datagram discarded"
            ),
            UnalignedLength { offset, len } => write!(
                f,
                "fragment with More Fragments and {len} bytes, not a multiple of 8 (offset {offset}): dropped"
            ),
            EmptyFragment { offset } => write!(f, "empty fragment with More Fragments (offset {offset}): dropped"),
            ConflictingEnd { previous_end, end } => write!(
                f,
                "second last fragment ends at {end}, the first said {previous_end}: datagram discarded"
            ),
            BeyondEnd { end, data_end } => write!(
                f,
                "data up to {data_end} beyond the end {end}: datagram discarded"
            ),
            Discarded => f.write_str("fragment of a discarded datagram: ignored"),
            Evicted { key, held } => write!(f, "evicted {key} holding {held} bytes"),
            OverLimit { needed, limit } => write!(
                f,
                "fragment needs {needed} bytes, over the reassembly limit {limit}: dropped"
            ),
            BadHeader => f.write_str("header with more than 40 option bytes: dropped"),
        }
    }
}

/// The findings of one [`Reassembler::push`]: a small fixed list, never growing. Should more
/// arise than it holds (only with many evictions at once), the rest are counted in
/// [`overflow`](Findings::overflow).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Findings {
    items: [Option<ReassemblyFinding>; Findings::CAPACITY],
    len: u8,
    overflow: u16,
}

impl Findings {
    /// How many findings the list holds.
    pub const CAPACITY: usize = 6;

    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    fn add(&mut self, finding: ReassemblyFinding) {
        match self.items.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = Some(finding);
                self.len += 1;
            }
            None => self.overflow = self.overflow.saturating_add(1),
        }
    }

    /// The findings, in the order they arose.
    pub fn iter(&self) -> impl Iterator<Item = &ReassemblyFinding> + '_ {
        self.items.iter().flatten()
    }

    /// How many findings are held.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Findings that did not fit.
    pub const fn overflow(&self) -> u16 {
        self.overflow
    }

    /// Whether any finding matches `predicate`.
    pub fn any(&self, predicate: impl Fn(&ReassemblyFinding) -> bool) -> bool {
        self.iter().any(predicate)
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a ReassemblyFinding;
    type IntoIter = core::iter::Flatten<core::slice::Iter<'a, Option<ReassemblyFinding>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter().flatten()
    }
}

/// The first fragment of a datagram that timed out: its header as received and the first 8
/// octets of its data, what ICMP Time Exceeded (code 1, "fragment reassembly time exceeded")
/// quotes [RFC 792; RFC 1122 § 3.3.2].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FirstFragment {
    header: OwnedIpv4Header,
    bytes: [u8; MAX_HEADER_LEN + QUOTED_DATA_LEN],
    len: u8,
}

impl FirstFragment {
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    fn new(header: OwnedIpv4Header, data: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_HEADER_LEN + QUOTED_DATA_LEN];
        let n = header.header().emit_exact(&mut bytes).unwrap_or(0);
        let data = data.get(..QUOTED_DATA_LEN).unwrap_or(data);
        let end = n + data.len();
        if let Some(out) = bytes.get_mut(n..end) {
            out.copy_from_slice(data);
        }
        FirstFragment {
            header,
            bytes,
            len: end as u8,
        }
    }

    /// The header of the first fragment, as received.
    pub fn header(&self) -> Ipv4Header<'_> {
        self.header.header()
    }

    /// The header's octets followed by up to 8 octets of data: the part of the datagram ICMP
    /// Time Exceeded quotes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

// ------------------------------------------------------------------------------------------------
// Reassembler
// ------------------------------------------------------------------------------------------------

#[cfg(feature = "alloc")]
pub use reassembler::*;

#[cfg(feature = "alloc")]
mod reassembler {
    use super::*;
    use alloc::collections::{BTreeMap, VecDeque};
    use alloc::vec::Vec;

    /// Octets kept free before the payload in a reassembly buffer, so the rebuilt header can go
    /// right before the data and the datagram is one slice.
    const HEADROOM: usize = MAX_HEADER_LEN;

    /// Limits and timeout of a [`Reassembler`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ReassemblerConfig {
        /// Datagrams held at once (being reassembled, or discarded and remembered until their
        /// timeout). Default 64.
        pub max_datagrams: usize,
        /// Bytes held at once: the capacity of every reassembly buffer plus its bookkeeping,
        /// spare buffers included. Default 4 MiB, Linux's `ipfrag_high_thresh`. A datagram
        /// whose last fragment has not arrived is charged the largest size it can reach
        /// (about 64 KiB), so the default holds about 63 such datagrams.
        pub max_bytes: usize,
        /// How long a datagram may take to arrive, from its first fragment. Default 30 s, as
        /// Linux (`ipfrag_time`); RFC 1122 § 3.3.2 suggests 60 to 120 s.
        pub timeout: Duration,
        /// Spare buffers kept for reuse (from completed datagrams handed back with
        /// [`Reassembler::recycle`], and from discarded ones). Default 4.
        pub spare_buffers: usize,
    }

    impl Default for ReassemblerConfig {
        fn default() -> Self {
            ReassemblerConfig {
                max_datagrams: 64,
                max_bytes: 4 << 20,
                timeout: Duration::from_secs(30),
                spare_buffers: 4,
            }
        }
    }

    /// A datagram put back together by the [`Reassembler`]: the first fragment's header with
    /// More Fragments cleared, offset 0, total length and checksum recomputed, and the data,
    /// one contiguous buffer.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Reassembled {
        header: OwnedIpv4Header,
        /// The header lies at `buffer[start..HEADROOM]`, the payload at `buffer[HEADROOM..]`.
        buffer: Vec<u8>,
        start: usize,
        fragments: u16,
    }

    impl Reassembled {
        /// The rebuilt header.
        pub fn header(&self) -> Ipv4Header<'_> {
            self.header.header()
        }

        /// The reassembled data.
        pub fn payload(&self) -> &[u8] {
            self.buffer.get(HEADROOM..).unwrap_or_default()
        }

        /// The whole datagram, header and data, as on the wire.
        pub fn as_bytes(&self) -> &[u8] {
            self.buffer.get(self.start..).unwrap_or_default()
        }

        /// How many fragments contributed data.
        pub const fn fragments(&self) -> u16 {
            self.fragments
        }

        /// The buffer, for [`Reassembler::recycle`] (the datagram sits at its end; this is not
        /// the datagram's bytes alone).
        pub fn into_buffer(self) -> Vec<u8> {
            self.buffer
        }
    }

    /// A complete datagram from [`Reassembler::push`].
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Datagram<'a> {
        /// The packet was not a fragment: its header and payload, as given (not copied).
        Whole {
            /// The header.
            header: Ipv4Header<'a>,
            /// The payload.
            payload: &'a [u8],
        },
        /// The last missing fragment arrived.
        Reassembled(Reassembled),
    }

    impl Datagram<'_> {
        /// The datagram's header.
        pub fn header(&self) -> Ipv4Header<'_> {
            match self {
                Datagram::Whole { header, .. } => *header,
                Datagram::Reassembled(r) => r.header(),
            }
        }

        /// The datagram's data.
        pub fn payload(&self) -> &[u8] {
            match self {
                Datagram::Whole { payload, .. } => payload,
                Datagram::Reassembled(r) => r.payload(),
            }
        }
    }

    /// A datagram that did not complete in time, from [`Reassembler::poll_expired`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Expired {
        /// Which datagram.
        pub key: FragmentKey,
        /// When its first fragment (in time) arrived.
        pub since: Instant,
        /// Its first fragment (offset 0), if that arrived: a host then sends ICMP Time
        /// Exceeded, code 1, quoting it [RFC 1122 § 3.3.2]. If it did not, no ICMP is sent.
        pub first_fragment: Option<FirstFragment>,
    }

    /// What [`Reassembler::push`] made of a packet.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub struct Push<'a> {
        /// The complete datagram, if the packet was not a fragment or completed one.
        pub datagram: Option<Datagram<'a>>,
        /// What was noticed about the fragment.
        pub findings: Findings,
        /// The datagram with this fragment's key had already timed out when the fragment
        /// arrived (and [`poll_expired`](Reassembler::poll_expired) had not reported it yet):
        /// it is reported here, and the fragment starts a new one.
        pub expired: Option<Expired>,
    }

    /// One contiguous range of payload octets received, `start..end`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Piece {
        start: u32,
        end: u32,
    }

    #[derive(Debug)]
    struct Assembly {
        /// `HEADROOM` octets, then the payload. `len()` is how far it is initialised, which
        /// may be past the data received (a reused buffer); only octets inside `pieces` are
        /// ever read.
        buffer: Vec<u8>,
        /// Ranges received, sorted, not overlapping: the complement of RFC 815's hole list.
        /// A fragment that overlaps held data adds only its new parts, so ranges keep the
        /// boundaries of the fragments that brought them. A deque, so that both in-order and
        /// reversed arrival add at an end.
        pieces: VecDeque<Piece>,
        /// Octets received (the sum of the pieces).
        received: u32,
        /// The end the last fragment gives.
        end: Option<u32>,
        /// The offset-0 fragment's header, and its data length.
        first: Option<(OwnedIpv4Header, u16)>,
        fragments: u16,
        /// Bytes charged against the limit.
        charged: usize,
    }

    impl Assembly {
        fn charge(&self) -> usize {
            self.buffer.capacity() + self.pieces.capacity() * core::mem::size_of::<Piece>()
        }

        fn data_end(&self) -> u32 {
            self.pieces.back().map_or(0, |p| p.end)
        }

        fn payload(&self) -> &[u8] {
            self.buffer.get(HEADROOM..).unwrap_or_default()
        }

        /// Copies `data` to payload offset `offset`, growing the initialised part as needed:
        /// appended data is copied once, gaps are zero-filled.
        fn write(&mut self, offset: usize, data: &[u8]) {
            let at = HEADROOM + offset;
            if self.buffer.len() < at {
                self.buffer.resize(at, 0);
            }
            let inside = self.buffer.len().saturating_sub(at).min(data.len());
            let (head, tail) = data.split_at(inside);
            if let Some(dst) = self.buffer.get_mut(at..at + inside) {
                dst.copy_from_slice(head);
            }
            self.buffer.extend_from_slice(tail);
        }
    }

    #[derive(Debug)]
    enum State {
        Assembling(Assembly),
        /// Discarded after a conflict; remembered so its remaining fragments are ignored.
        Discarded,
    }

    #[derive(Debug)]
    struct InFlight {
        since: Instant,
        seq: u64,
        state: State,
    }

    /// Puts IPv4 fragments back together [RFC 791 § 3.2; RFC 815; RFC 1122 § 3.3.2].
    ///
    /// Pure: the caller passes `now` to [`push`](Reassembler::push), polls
    /// [`poll_expired`](Reassembler::poll_expired) when [`next_deadline`] has passed, and sends
    /// ICMP itself.
    ///
    /// - **Keys**: fragments belong together when source, destination, protocol and
    ///   identification match ([`FragmentKey`]). Packets that are not fragments are returned at
    ///   once, uncopied ([`Datagram::Whole`]).
    /// - **Order**: any, with duplicates. Each octet is copied once, into a buffer with room for
    ///   the header in front, so the completed datagram is one slice.
    /// - **Overlaps**: octets already held are compared with the new ones. Same values: the
    ///   fragment is accepted (its new octets kept). Different values: the whole datagram is
    ///   discarded, as Linux does since the FragmentSmack fixes (and RFC 5722 asks for IPv6),
    ///   and its later fragments are ignored until its timeout.
    /// - **Bounds**: at most [`max_datagrams`](ReassemblerConfig::max_datagrams) datagrams and
    ///   [`max_bytes`](ReassemblerConfig::max_bytes) bytes. When a new datagram needs room,
    ///   spare buffers go first, then datagrams, oldest first (by the arrival of their first
    ///   fragment), each reported as [`ReassemblyFinding::Evicted`]; evicted datagrams are not
    ///   reported as expired (Linux does not send ICMP for them either).
    /// - **Timeout**: a datagram not complete [`timeout`](ReassemblerConfig::timeout) after its
    ///   first fragment arrived is dropped and reported by `poll_expired`, with its offset-0
    ///   fragment if that arrived, for ICMP Time Exceeded code 1.
    ///
    /// [`next_deadline`]: Reassembler::next_deadline
    #[derive(Debug)]
    pub struct Reassembler {
        config: ReassemblerConfig,
        datagrams: BTreeMap<FragmentKey, InFlight>,
        /// Keys by age: (first arrival, sequence number).
        ages: BTreeMap<(Instant, u64), FragmentKey>,
        spares: Vec<Vec<u8>>,
        held: usize,
        seq: u64,
    }

    impl Default for Reassembler {
        fn default() -> Self {
            Reassembler::new(ReassemblerConfig::default())
        }
    }

    /// What a fragment is, once its header has been read.
    #[derive(Clone, Copy)]
    struct Piece0 {
        offset: u32,
        end: u32,
        more: bool,
    }

    impl Reassembler {
        /// An empty reassembler.
        pub fn new(config: ReassemblerConfig) -> Self {
            Reassembler {
                config,
                datagrams: BTreeMap::new(),
                ages: BTreeMap::new(),
                spares: Vec::new(),
                held: 0,
                seq: 0,
            }
        }

        /// The configuration.
        pub const fn config(&self) -> &ReassemblerConfig {
            &self.config
        }

        /// Bytes held: reassembly buffers and their bookkeeping, spare buffers included. Never
        /// more than [`max_bytes`](ReassemblerConfig::max_bytes) after a call returns.
        pub const fn held_bytes(&self) -> usize {
            self.held
        }

        /// The part of [`held_bytes`](Reassembler::held_bytes) in spare buffers kept for reuse.
        pub fn spare_bytes(&self) -> usize {
            self.spares.iter().map(Vec::capacity).sum()
        }

        /// Datagrams held (incomplete, or discarded and waiting for their timeout).
        pub fn in_flight(&self) -> usize {
            self.datagrams.len()
        }

        /// When the oldest datagram times out, if any is held (discarded datagrams count: they
        /// are forgotten then).
        pub fn next_deadline(&self) -> Option<Instant> {
            self.ages
                .first_key_value()
                .map(|(&(since, _), _)| since + self.config.timeout)
        }

        /// Drops everything held.
        pub fn clear(&mut self) {
            self.datagrams.clear();
            self.ages.clear();
            self.spares.clear();
            self.held = 0;
        }

        /// Removes the oldest datagram if it has timed out by `now` and reports it. Call until
        /// it returns `None`. Datagrams discarded after a conflict are dropped silently.
        pub fn poll_expired(&mut self, now: Instant) -> Option<Expired> {
            loop {
                let (&(since, seq), &key) = self.ages.first_key_value()?;
                if since + self.config.timeout > now {
                    return None;
                }
                self.ages.remove(&(since, seq));
                if let Some(expired) = self.remove(key, since) {
                    return Some(expired);
                }
            }
        }

        /// Hands back a buffer (from [`Reassembled::into_buffer`]) for reuse, so the next
        /// datagram needs no allocation. It is kept if it is large enough for any datagram,
        /// fewer than [`spare_buffers`](ReassemblerConfig::spare_buffers) are kept and it fits
        /// the byte limit; otherwise it is dropped.
        pub fn recycle(&mut self, buffer: Vec<u8>) {
            if self.spares.len() < self.config.spare_buffers
                && buffer.capacity() >= HEADROOM + MAX_PAYLOAD_LEN
                && self.held.saturating_add(buffer.capacity()) <= self.config.max_bytes
            {
                self.held += buffer.capacity();
                self.spares.push(buffer);
            }
        }

        /// Takes in one IPv4 packet: `header` and `payload` as [`Ipv4Header::parse`] returns
        /// them (the payload's length is taken as the fragment's, whatever the header's total
        /// length says). Returns the datagram if it is complete — at once for a packet that is
        /// not a fragment — and what was noticed.
        pub fn push<'a>(
            &mut self,
            now: Instant,
            header: &Ipv4Header<'a>,
            payload: &'a [u8],
        ) -> Push<'a> {
            let mut push = Push {
                datagram: None,
                findings: Findings::default(),
                expired: None,
            };
            if !header.is_fragment() {
                push.datagram = Some(Datagram::Whole {
                    header: *header,
                    payload,
                });
                return push;
            }
            let findings = &mut push.findings;
            let offset = header.fragment_offset_bytes() as u32;
            let len = payload.len();
            let more = header.more_fragments;
            let offset16 = offset as u16;
            let len16 = u16::try_from(len).unwrap_or(u16::MAX);
            if more && len == 0 {
                findings.add(ReassemblyFinding::EmptyFragment { offset: offset16 });
                return push;
            }
            if more && len % 8 != 0 {
                findings.add(ReassemblyFinding::UnalignedLength {
                    offset: offset16,
                    len: len16,
                });
                return push;
            }
            if header.options.len() > Ipv4Options::MAX_LEN {
                findings.add(ReassemblyFinding::BadHeader);
                return push;
            }
            let key = FragmentKey::of(header);
            if header.protocol == IpProtocol::TCP && header.fragment_offset == 1 {
                findings.add(ReassemblyFinding::TcpOffsetOne);
            }
            if offset == 0 && more {
                if let Some(needed) = min_first_fragment(header.protocol) {
                    if len < needed {
                        findings.add(ReassemblyFinding::TinyFirstFragment {
                            len: len16,
                            needed: needed as u16,
                        });
                    }
                }
            }
            let end = offset as usize + len;
            if end + header.len() > MAX_DATAGRAM_LEN {
                findings.add(ReassemblyFinding::PastMaximum {
                    offset: offset16,
                    len: len16,
                    header_len: header.len() as u8,
                });
                self.discard(key);
                return push;
            }
            let piece = Piece0 {
                offset,
                end: end as u32,
                more,
            };

            // A datagram that should have timed out already is reported, and this fragment
            // starts afresh.
            if let Some(inflight) = self.datagrams.get(&key) {
                if inflight.since + self.config.timeout <= now {
                    let (since, seq) = (inflight.since, inflight.seq);
                    self.ages.remove(&(since, seq));
                    push.expired = self.remove(key, since);
                }
            }

            let findings = &mut push.findings;
            let assembly = match self.datagrams.get_mut(&key) {
                Some(InFlight {
                    state: State::Discarded,
                    ..
                }) => {
                    findings.add(ReassemblyFinding::Discarded);
                    return push;
                }
                Some(InFlight {
                    state: State::Assembling(a),
                    ..
                }) => a,
                None => {
                    if !self.start(now, key, piece, findings) {
                        return push;
                    }
                    match self.datagrams.get_mut(&key) {
                        Some(InFlight {
                            state: State::Assembling(a),
                            ..
                        }) => a,
                        _ => return push,
                    }
                }
            };

            match add_fragment(assembly, header, piece, payload, findings) {
                Added::Held => {}
                Added::Discard => {
                    self.discard(key);
                    return push;
                }
                Added::Complete => {
                    if let Some(datagram) = self.complete(key, findings) {
                        push.datagram = Some(Datagram::Reassembled(datagram));
                    }
                    return push;
                }
            }
            // Bookkeeping may have grown: charge it, evicting others if that goes over.
            let before = assembly.charged;
            let after = assembly.charge();
            assembly.charged = after;
            self.held = self.held.saturating_sub(before) + after;
            if !self.make_room(0, Some(key), &mut push.findings) {
                push.findings.add(ReassemblyFinding::OverLimit {
                    needed: after,
                    limit: self.config.max_bytes,
                });
                self.discard(key);
            }
            push
        }

        /// Creates the datagram for a first-seen key, making room. False if it cannot be held.
        fn start(
            &mut self,
            now: Instant,
            key: FragmentKey,
            piece: Piece0,
            findings: &mut Findings,
        ) -> bool {
            // With the end unknown the datagram may grow to the largest size; reserve it all
            // now so the buffer never moves (each octet copied once).
            let wanted = HEADROOM
                + if piece.more {
                    MAX_PAYLOAD_LEN
                } else {
                    piece.end as usize
                };
            let pieces = VecDeque::with_capacity(4);
            let bookkeeping = pieces.capacity() * core::mem::size_of::<Piece>();
            let needed = HEADROOM + piece.end as usize + bookkeeping;
            if needed > self.config.max_bytes || self.config.max_datagrams == 0 {
                findings.add(ReassemblyFinding::OverLimit {
                    needed,
                    limit: self.config.max_bytes,
                });
                return false;
            }
            while self.datagrams.len() >= self.config.max_datagrams {
                if !self.evict_oldest(None, findings) {
                    return false;
                }
            }
            // A spare buffer is already charged; otherwise charge a new one (smaller if the
            // limit is small, which the end check in `add_fragment` then enforces).
            let spare = self
                .spares
                .iter()
                .position(|b| b.capacity() >= wanted)
                .map(|i| self.spares.swap_remove(i));
            let buffer = match spare {
                Some(b) => {
                    self.held = self.held.saturating_sub(b.capacity());
                    if !self.make_room(b.capacity() + bookkeeping, None, findings) {
                        return false;
                    }
                    b
                }
                None => {
                    let capacity = wanted.min(self.config.max_bytes.saturating_sub(bookkeeping));
                    if !self.make_room(capacity + bookkeeping, None, findings) {
                        return false;
                    }
                    let mut b = Vec::with_capacity(capacity);
                    b.resize(HEADROOM, 0);
                    b
                }
            };
            let mut assembly = Assembly {
                buffer,
                pieces,
                received: 0,
                end: None,
                first: None,
                fragments: 0,
                charged: 0,
            };
            assembly.charged = assembly.charge();
            self.held += assembly.charged;
            self.seq += 1;
            self.ages.insert((now, self.seq), key);
            self.datagrams.insert(
                key,
                InFlight {
                    since: now,
                    seq: self.seq,
                    state: State::Assembling(assembly),
                },
            );
            true
        }

        /// Frees spare buffers, then evicts the oldest datagrams (never `keep`), until `extra`
        /// more bytes fit. False if they cannot.
        fn make_room(
            &mut self,
            extra: usize,
            keep: Option<FragmentKey>,
            findings: &mut Findings,
        ) -> bool {
            while self.held.saturating_add(extra) > self.config.max_bytes {
                if let Some(b) = self.spares.pop() {
                    self.held = self.held.saturating_sub(b.capacity());
                } else if !self.evict_oldest(keep, findings) {
                    return false;
                }
            }
            true
        }

        fn evict_oldest(&mut self, keep: Option<FragmentKey>, findings: &mut Findings) -> bool {
            let victim = self
                .ages
                .iter()
                .find(|(_, k)| Some(**k) != keep)
                .map(|(&age, &k)| (age, k));
            let Some((age, key)) = victim else {
                return false;
            };
            self.ages.remove(&age);
            if let Some(inflight) = self.datagrams.remove(&key) {
                let held = match inflight.state {
                    State::Assembling(a) => {
                        self.held = self.held.saturating_sub(a.charged);
                        a.charged
                    }
                    State::Discarded => 0,
                };
                findings.add(ReassemblyFinding::Evicted { key, held });
            }
            true
        }

        /// Removes a datagram (already out of `ages`), returning its expiry report if it was
        /// being assembled.
        fn remove(&mut self, key: FragmentKey, since: Instant) -> Option<Expired> {
            let inflight = self.datagrams.remove(&key)?;
            let State::Assembling(assembly) = inflight.state else {
                return None;
            };
            let first_fragment = assembly.first.map(|(header, len)| {
                let data = assembly
                    .payload()
                    .get(..usize::from(len))
                    .unwrap_or_default();
                FirstFragment::new(header, data)
            });
            self.release(assembly);
            Some(Expired {
                key,
                since,
                first_fragment,
            })
        }

        /// Frees an assembly's charge, keeping its buffer as a spare if there is room.
        fn release(&mut self, assembly: Assembly) {
            self.held = self.held.saturating_sub(assembly.charged);
            self.recycle(assembly.buffer);
        }

        /// Discards a datagram: frees its bytes and remembers the key until its timeout.
        fn discard(&mut self, key: FragmentKey) {
            if let Some(inflight) = self.datagrams.get_mut(&key) {
                let state = core::mem::replace(&mut inflight.state, State::Discarded);
                if let State::Assembling(a) = state {
                    self.release(a);
                }
            }
        }

        /// Takes a complete datagram out and builds its header.
        fn complete(&mut self, key: FragmentKey, findings: &mut Findings) -> Option<Reassembled> {
            let inflight = self.datagrams.remove(&key)?;
            self.ages.remove(&(inflight.since, inflight.seq));
            let State::Assembling(mut assembly) = inflight.state else {
                return None;
            };
            self.held = self.held.saturating_sub(assembly.charged);
            let end = assembly.end.unwrap_or(0) as usize;
            let (mut header, _) = assembly.first?;
            header.fixed.more_fragments = false;
            header.fixed.fragment_offset = 0;
            if header.finish(end).is_err() {
                findings.add(ReassemblyFinding::PastMaximum {
                    offset: 0,
                    len: end.min(usize::from(u16::MAX)) as u16,
                    header_len: header.len() as u8,
                });
                self.recycle(assembly.buffer);
                return None;
            }
            let start = HEADROOM - header.len();
            assembly.buffer.truncate(HEADROOM + end);
            // Unused headroom may hold a reused buffer's old octets; keep `Eq`/`Hash` honest.
            if let Some(unused) = assembly.buffer.get_mut(..start) {
                unused.fill(0);
            }
            if let Some(out) = assembly.buffer.get_mut(start..HEADROOM) {
                // Cannot fail: `out` is exactly the header's length.
                let _ = header.header().emit_exact(out);
            }
            Some(Reassembled {
                header,
                buffer: assembly.buffer,
                start,
                fragments: assembly.fragments,
            })
        }
    }

    enum Added {
        Held,
        Complete,
        Discard,
    }

    /// Adds one fragment's data to a datagram, after the checks against what is held.
    fn add_fragment(
        a: &mut Assembly,
        header: &Ipv4Header<'_>,
        piece: Piece0,
        data: &[u8],
        findings: &mut Findings,
    ) -> Added {
        let Piece0 { offset, end, more } = piece;
        let offset16 = offset as u16;
        let len16 = (end - offset) as u16;
        // The end, from the last fragment.
        match (a.end, more) {
            (Some(known), false) if known != end => {
                findings.add(ReassemblyFinding::ConflictingEnd {
                    previous_end: known,
                    end,
                });
                return Added::Discard;
            }
            (Some(known), true) if end > known => {
                findings.add(ReassemblyFinding::BeyondEnd {
                    end: known,
                    data_end: end,
                });
                return Added::Discard;
            }
            (None, false) if a.data_end() > end => {
                findings.add(ReassemblyFinding::BeyondEnd {
                    end,
                    data_end: a.data_end(),
                });
                return Added::Discard;
            }
            _ => {}
        }
        if HEADROOM + end as usize > a.buffer.capacity() {
            // Only when a small byte limit made the buffer smaller than a datagram can be.
            findings.add(ReassemblyFinding::OverLimit {
                needed: HEADROOM + end as usize,
                limit: a.buffer.capacity(),
            });
            return Added::Discard;
        }

        // Overlaps with what is held: compare first, write after, so a conflict leaves nothing
        // half-written.
        let first_after = a.pieces.partition_point(|p| p.end <= offset);
        let mut overlapping: u32 = 0;
        let mut conflict = false;
        let mut exact = false;
        let mut within: Option<Piece> = None;
        for p in a.pieces.range(first_after.min(a.pieces.len())..) {
            if p.start >= end {
                break;
            }
            let (lo, hi) = (p.start.max(offset), p.end.min(end));
            overlapping += hi - lo;
            exact |= p.start == offset && p.end == end;
            if p.start <= offset && end < p.end {
                within = Some(*p);
            }
            let held = a.payload().get(lo as usize..hi as usize);
            let new = data.get((lo - offset) as usize..(hi - offset) as usize);
            conflict |= held != new;
        }
        if let Some(p) = within {
            findings.add(ReassemblyFinding::Teardrop {
                offset: offset16,
                len: len16,
                within_offset: p.start as u16,
                within_len: (p.end - p.start) as u16,
            });
        }
        let len = end - offset;
        if overlapping > 0 {
            if conflict {
                findings.add(if exact {
                    ReassemblyFinding::ConflictingDuplicate {
                        offset: offset16,
                        len: len16,
                    }
                } else {
                    ReassemblyFinding::ConflictingOverlap {
                        offset: offset16,
                        len: len16,
                    }
                });
                return Added::Discard;
            }
            if overlapping == len {
                findings.add(ReassemblyFinding::Duplicate {
                    offset: offset16,
                    len: len16,
                });
            } else {
                findings.add(ReassemblyFinding::Overlap {
                    offset: offset16,
                    len: len16,
                    overlapping: overlapping as u16,
                });
            }
        }

        // Copy the parts not yet held, recording each as a piece.
        let mut at = offset;
        let mut index = first_after;
        while at < end {
            match a.pieces.get(index) {
                Some(p) if p.start <= at => {
                    at = at.max(p.end);
                    index += 1;
                }
                next => {
                    let gap_end = next.map_or(end, |p| p.start.min(end));
                    if let Some(part) =
                        data.get((at - offset) as usize..(gap_end - offset) as usize)
                    {
                        a.write(at as usize, part);
                    }
                    a.pieces.insert(
                        index,
                        Piece {
                            start: at,
                            end: gap_end,
                        },
                    );
                    a.received += gap_end - at;
                    index += 1;
                    at = gap_end;
                }
            }
        }
        if overlapping < len || len == 0 {
            a.fragments = a.fragments.saturating_add(1);
        }
        if offset == 0 && a.first.is_none() {
            a.first = OwnedIpv4Header::new(header).map(|h| (h, len as u16));
        }
        if !more {
            a.end = Some(end);
        }
        match a.end {
            Some(e) if a.received == e && a.first.is_some() => Added::Complete,
            _ => Added::Held,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::{self, ChecksumStatus};
    use crate::ipv4::{verify_checksum, Ipv4Option};
    use proptest::prelude::*;
    use std::vec;
    use std::vec::Vec;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

    fn udp_header(id: u16) -> Ipv4Header<'static> {
        let mut h = Ipv4Header::new(SRC, DST, IpProtocol::UDP);
        h.identification = id;
        h
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Emits every fragment to bytes, as they would go on the wire.
    fn wire(header: &Ipv4Header<'_>, payload: &[u8], mtu: u16) -> Vec<Vec<u8>> {
        fragment(header, payload, mtu)
            .unwrap()
            .map(|f| {
                let mut out = vec![0u8; f.len()];
                assert_eq!(f.emit(&mut out).unwrap(), f.len());
                out
            })
            .collect()
    }

    /// The datagram as `emit` writes it, for comparisons.
    fn whole(header: &Ipv4Header<'_>, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; header.len() + payload.len()];
        let n = header.emit(payload.len(), &mut out).unwrap();
        out[n..].copy_from_slice(payload);
        out
    }

    /// Parses each packet and pushes it; returns the completed datagrams' bytes and all
    /// findings.
    fn push_all(
        r: &mut Reassembler,
        now: Instant,
        packets: &[Vec<u8>],
    ) -> (Vec<Vec<u8>>, Vec<ReassemblyFinding>) {
        let mut done = Vec::new();
        let mut findings = Vec::new();
        for p in packets {
            let (h, payload) = Ipv4Header::parse(p).unwrap();
            let push = r.push(now, &h, payload);
            findings.extend(push.findings.iter().copied());
            match push.datagram {
                Some(Datagram::Reassembled(d)) => done.push(d.as_bytes().to_vec()),
                Some(Datagram::Whole { header, .. }) => {
                    done.push(p[..usize::from(header.total_length)].to_vec())
                }
                None => {}
            }
        }
        (done, findings)
    }

    // ---------------------------------------------------------------- fragmenter

    #[test]
    fn splits_on_8_byte_boundaries_with_mf_offsets_lengths_and_checksums() {
        let mut h = udp_header(0x1234);
        h.ttl = 17;
        h.dscp = 10;
        let payload = pattern(3000, 1);
        let frags: Vec<_> = fragment(&h, &payload, 1500).unwrap().collect();
        assert_eq!(frags.len(), 3);
        let expect = [
            (0, 1480, true, 1500),
            (185, 1480, true, 1500),
            (370, 40, false, 60),
        ];
        for (f, &(off, len, mf, total)) in frags.iter().zip(&expect) {
            let fh = f.header();
            assert_eq!(fh.fragment_offset, off);
            assert_eq!(f.payload().len(), len);
            assert_eq!(fh.more_fragments, mf);
            assert_eq!(fh.total_length, total);
            assert_eq!((fh.identification, fh.ttl, fh.dscp), (0x1234, 17, 10));
            assert_eq!(fh.checksum_status(), ChecksumStatus::Good);
            let start = usize::from(off) * 8;
            assert_eq!(f.payload(), &payload[start..start + len]);
        }
        // On the wire each parses back and verifies.
        for bytes in wire(&h, &payload, 1500) {
            let (fh, _) = Ipv4Header::parse(&bytes).unwrap();
            assert_eq!(
                verify_checksum(&bytes[..fh.header_len()]),
                ChecksumStatus::Good
            );
        }
    }

    #[test]
    fn a_datagram_that_fits_is_one_unchanged_fragment() {
        let mut h = udp_header(7);
        h.dont_fragment = true;
        let payload = pattern(1480, 3);
        let frags = wire(&h, &payload, 1500);
        assert_eq!(frags, vec![whole(&h, &payload)]);
    }

    #[test]
    fn dont_fragment_too_big_is_fragmentation_needed_with_the_mtu() {
        let mut h = udp_header(7);
        h.dont_fragment = true;
        let err = fragment(&h, &pattern(1481, 0), 1500).unwrap_err();
        assert_eq!(err.layer, Layer::Fragment);
        assert_eq!(err.kind, ErrorKind::FragmentationNeeded { mtu: 1500 });
        assert_eq!(err.field, "don't fragment");
    }

    #[test]
    fn mtu_too_small_and_datagram_too_long_are_errors() {
        let h = udp_header(1);
        let err = fragment(&h, &pattern(100, 0), 27).unwrap_err();
        assert_eq!((err.layer, err.field), (Layer::Fragment, "MTU"));
        assert!(matches!(err.kind, ErrorKind::BadValue { found: 27, .. }));
        // 28 = 20 + 8 works.
        assert_eq!(fragment(&h, &pattern(100, 0), 28).unwrap().count(), 13);
        // A fragment at offset 65000 with 600 octets reaches past 65535.
        let mut far = udp_header(1);
        far.fragment_offset = 65000 / 8;
        let err = fragment(&far, &pattern(600, 0), 1500).unwrap_err();
        assert_eq!((err.layer, err.field), (Layer::Fragment, "total length"));
        assert!(matches!(err.kind, ErrorKind::TooLong { max: 65535, .. }));
        // An emit buffer too small.
        let data = pattern(100, 0);
        let f = fragment(&h, &data, 1500).unwrap().next().unwrap();
        let err = f.emit(&mut [0u8; 119]).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::BufferTooSmall {
                needed: 120,
                got: 119
            }
        );
    }

    // Record Route (not copied), Loose Source Route (copied), Router Alert (copied), NOP.
    const OPTIONS: [u8; 20] = [
        7, 7, 4, 0, 0, 0, 0, // RR, one slot
        131, 7, 4, 10, 0, 0, 1, // LSRR via 10.0.0.1
        1, // NOP
        148, 4, 0, 0, // Router Alert
        0, // EOL
    ];

    #[test]
    fn only_copied_options_go_into_later_fragments() {
        let mut h = udp_header(9);
        h.options = Ipv4Options::parse(&OPTIONS).unwrap();
        let payload = pattern(200, 5);
        let frags = wire(&h, &payload, 100);
        let (first, _) = Ipv4Header::parse(&frags[0]).unwrap();
        assert_eq!(first.options.as_bytes(), &OPTIONS);
        assert_eq!(first.header_len(), 40);
        // 100 - 40 = 60 → 56 octets of data in the first fragment.
        assert_eq!(first.payload_len(), 56);
        for bytes in &frags[1..] {
            let (later, _) = Ipv4Header::parse(bytes).unwrap();
            // LSRR (7) + RA (4) = 11, padded to 12 with one EOL.
            assert_eq!(later.header_len(), 32);
            let kinds: Vec<_> = later.options.iter().map(|o| o.kind().0).collect();
            assert_eq!(kinds, vec![131, 148, 0]);
            assert!(matches!(
                later.options.iter().next(),
                Some(Ipv4Option::LooseSourceRoute { pointer: 4, .. })
            ));
            assert_eq!(verify_checksum(&bytes[..32]), ChecksumStatus::Good);
        }
        // 100 - 32 = 68 → 64 per later fragment: 56 + 64 + 64 + 16.
        let lens: Vec<_> = frags
            .iter()
            .map(|b| Ipv4Header::parse(b).unwrap().1.len())
            .collect();
        assert_eq!(lens, vec![56, 64, 64, 16]);
    }

    #[test]
    fn fragmenting_a_fragment_keeps_offsets_and_the_last_mf() {
        // The second of three 1480-octet pieces, crossing a 576 link.
        let mut h = udp_header(3);
        h.more_fragments = true;
        h.fragment_offset = 185;
        let payload = pattern(1480, 9);
        let frags: Vec<_> = fragment(&h, &payload, 576).unwrap().collect();
        let offs: Vec<_> = frags.iter().map(|f| f.header().fragment_offset).collect();
        assert_eq!(offs, vec![185, 185 + 69, 185 + 138]);
        assert!(frags.iter().all(|f| f.header().more_fragments));
        // The last piece of the original: MF stays clear on the last.
        h.more_fragments = false;
        let frags: Vec<_> = fragment(&h, &payload, 576).unwrap().collect();
        let mfs: Vec<_> = frags.iter().map(|f| f.header().more_fragments).collect();
        assert_eq!(mfs, vec![true, true, false]);
    }

    #[test]
    fn refragmenting_the_capture_reproduces_the_captured_fragments() {
        // IPv4Frag.pcap: a 4060-octet UDP datagram in three fragments at MTU 1500.
        let packets = capture_ip_packets("IPv4Frag.pcap");
        let mut r = Reassembler::default();
        let (done, _) = push_all(&mut r, Instant::ZERO, &packets);
        let (h, payload) = Ipv4Header::parse(&done[0]).unwrap();
        assert_eq!(wire(&h, payload, 1500), packets);
    }

    // ---------------------------------------------------------------- reassembler

    #[test]
    fn a_packet_that_is_not_a_fragment_comes_back_borrowed() {
        let h = udp_header(1);
        let bytes = whole(&h, &pattern(100, 0));
        let (h, payload) = Ipv4Header::parse(&bytes).unwrap();
        let mut r = Reassembler::default();
        let push = r.push(Instant::ZERO, &h, payload);
        match push.datagram {
            Some(Datagram::Whole { payload: p, .. }) => assert!(core::ptr::eq(p, payload)),
            other => panic!("{other:?}"),
        }
        assert!(push.findings.is_empty());
        assert_eq!((r.in_flight(), r.held_bytes()), (0, 0));
    }

    #[test]
    fn in_order_reversed_and_shuffled_give_the_datagram_with_a_rebuilt_header() {
        let mut h = udp_header(0xbeef);
        h.options = Ipv4Options::parse(&OPTIONS).unwrap();
        h.ttl = 3;
        let payload = pattern(5000, 11);
        let original = whole(&h, &payload);
        let frags = wire(&h, &payload, 576);
        let mut reversed = frags.clone();
        reversed.reverse();
        let mut shuffled = frags.clone();
        shuffled.swap(0, 3);
        shuffled.swap(1, 7);
        for order in [&frags, &reversed, &shuffled] {
            let mut r = Reassembler::default();
            let mut got = None;
            for (i, p) in order.iter().enumerate() {
                let (fh, data) = Ipv4Header::parse(p).unwrap();
                let push = r.push(Instant::from_millis(i as u64), &fh, data);
                assert!(push.findings.is_empty(), "{:?}", push.findings);
                if let Some(Datagram::Reassembled(d)) = push.datagram {
                    assert_eq!(i, order.len() - 1);
                    got = Some(d);
                }
            }
            let d = got.unwrap();
            assert_eq!(d.as_bytes(), &original[..]);
            assert_eq!(d.payload(), &payload[..]);
            let rh = d.header();
            assert!(!rh.more_fragments);
            assert_eq!(rh.fragment_offset, 0);
            assert_eq!(usize::from(rh.total_length), original.len());
            assert_eq!(rh.checksum_status(), ChecksumStatus::Good);
            assert_eq!(rh.options.as_bytes(), &OPTIONS);
            assert_eq!(usize::from(d.fragments()), frags.len());
            assert_eq!((r.in_flight(), r.held_bytes()), (0, 0));
        }
    }

    #[test]
    fn identical_overlap_is_accepted_and_exact_duplicates_ignored() {
        let h = udp_header(2);
        let payload = pattern(64, 0);
        let mut r = Reassembler::default();
        let mut piece = |off: u16, len: usize, mf: bool| {
            let mut fh = h;
            fh.fragment_offset = off / 8;
            fh.more_fragments = mf;
            let start = usize::from(off);
            r.push(Instant::ZERO, &fh, &payload[start..start + len])
        };
        assert!(piece(0, 24, true).findings.is_empty());
        let p = piece(0, 24, true);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::Duplicate { offset: 0, len: 24 }]
        );
        let p = piece(16, 24, true);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::Overlap {
                offset: 16,
                len: 24,
                overlapping: 8
            }]
        );
        let p = piece(8, 8, true);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![
                ReassemblyFinding::Teardrop {
                    offset: 8,
                    len: 8,
                    within_offset: 0,
                    within_len: 24
                },
                ReassemblyFinding::Duplicate { offset: 8, len: 8 },
            ]
        );
        let p = piece(40, 24, false);
        assert!(p.findings.is_empty());
        match p.datagram {
            Some(Datagram::Reassembled(d)) => assert_eq!(d.payload(), &payload[..]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conflicting_bytes_discard_the_datagram_and_its_later_fragments() {
        let h = udp_header(4);
        let payload = pattern(48, 0);
        let mut evil = payload.clone();
        evil[20] ^= 0xff;
        for (exact, expected) in [
            (
                true,
                ReassemblyFinding::ConflictingDuplicate {
                    offset: 16,
                    len: 16,
                },
            ),
            (
                false,
                ReassemblyFinding::ConflictingOverlap { offset: 8, len: 16 },
            ),
        ] {
            let mut r = Reassembler::default();
            let mut piece = |data: &[u8], off: usize, len: usize, mf: bool| {
                let mut fh = h;
                fh.fragment_offset = (off / 8) as u16;
                fh.more_fragments = mf;
                let push = r.push(Instant::ZERO, &fh, &data[off..off + len]);
                (push.findings, push.datagram.is_some())
            };
            piece(&payload, 16, 16, true);
            let p = if exact {
                piece(&evil, 16, 16, true)
            } else {
                piece(&evil, 8, 16, true)
            };
            assert_eq!(p.0.iter().copied().collect::<Vec<_>>(), vec![expected]);
            assert!(expected.discards_datagram());
            let p = piece(&payload, 0, 16, true);
            assert_eq!(
                p.0.iter().copied().collect::<Vec<_>>(),
                vec![ReassemblyFinding::Discarded]
            );
            let p = piece(&payload, 32, 16, false);
            assert!(!p.1);
            assert_eq!(r.held_bytes(), r.spare_bytes());
            assert_eq!(r.in_flight(), 1);
            // Forgotten at its timeout, silently.
            assert_eq!(r.poll_expired(Instant::from_secs(30)), None);
            assert_eq!(r.in_flight(), 0);
        }
    }

    #[test]
    fn rfc_1858_tiny_first_fragment_and_tcp_offset_one() {
        let mut h = Ipv4Header::new(SRC, DST, IpProtocol::TCP);
        h.more_fragments = true;
        let mut r = Reassembler::default();
        let p = r.push(Instant::ZERO, &h, &[0u8; 16]);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::TinyFirstFragment {
                len: 16,
                needed: 20
            }]
        );
        h.fragment_offset = 1;
        h.more_fragments = false;
        let p = r.push(Instant::ZERO, &h, &[1u8; 12]);
        assert!(p.findings.any(|f| *f == ReassemblyFinding::TcpOffsetOne));
        // Offset 1 rewrote octets 8..16 with other values: the overlap policy discards.
        assert!(p
            .findings
            .any(|f| matches!(f, ReassemblyFinding::ConflictingOverlap { .. })));
        // UDP: 8 octets hold the header.
        let mut u = udp_header(5);
        u.more_fragments = true;
        assert!(r.push(Instant::ZERO, &u, &[0u8; 8]).findings.is_empty());
    }

    #[test]
    fn fragments_past_65535_bytes_discard_the_datagram() {
        let mut h = udp_header(6);
        h.more_fragments = true;
        let mut r = Reassembler::default();
        assert!(r.push(Instant::ZERO, &h, &[0u8; 1480]).findings.is_empty());
        // Ping of death: offset 65520, 32 octets, header 20 → 65572.
        h.fragment_offset = 65520 / 8;
        h.more_fragments = false;
        let p = r.push(Instant::ZERO, &h, &[0u8; 32]);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::PastMaximum {
                offset: 65520,
                len: 32,
                header_len: 20
            }]
        );
        assert_eq!(r.held_bytes(), r.spare_bytes());
        // The largest datagram that fits is fine: offset 65512 + 3 octets + 20 = 65535.
        let mut g = udp_header(7);
        g.fragment_offset = 65512 / 8;
        let first = r.push(Instant::ZERO, &g, &[0u8; 3]);
        assert!(first.findings.is_empty());
    }

    #[test]
    fn end_conflicts_and_data_beyond_the_end_discard() {
        let h = udp_header(8);
        let frag = |off: u16, mf: bool| {
            let mut fh = h;
            fh.fragment_offset = off / 8;
            fh.more_fragments = mf;
            fh
        };
        let data = [0u8; 16];
        // Two last fragments disagreeing.
        let mut r = Reassembler::default();
        r.push(Instant::ZERO, &frag(32, false), &data);
        let p = r.push(Instant::ZERO, &frag(64, false), &data);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::ConflictingEnd {
                previous_end: 48,
                end: 80
            }]
        );
        // A fragment past the known end.
        let mut r = Reassembler::default();
        r.push(Instant::ZERO, &frag(32, false), &data);
        let p = r.push(Instant::ZERO, &frag(48, true), &data);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::BeyondEnd {
                end: 48,
                data_end: 64
            }]
        );
        // A last fragment ending before data already held.
        let mut r = Reassembler::default();
        r.push(Instant::ZERO, &frag(48, true), &data);
        let p = r.push(Instant::ZERO, &frag(16, false), &data);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::BeyondEnd {
                end: 32,
                data_end: 64
            }]
        );
        // Unaligned and empty fragments with More Fragments are dropped.
        let mut r = Reassembler::default();
        let p = r.push(Instant::ZERO, &frag(0, true), &[0u8; 12]);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::UnalignedLength { offset: 0, len: 12 }]
        );
        let p = r.push(Instant::ZERO, &frag(8, true), &[]);
        assert_eq!(
            p.findings.iter().copied().collect::<Vec<_>>(),
            vec![ReassemblyFinding::EmptyFragment { offset: 8 }]
        );
        assert_eq!(r.in_flight(), 0);
    }

    #[test]
    fn timeout_reports_the_first_fragment_for_icmp_time_exceeded() {
        let mut h = udp_header(0x42);
        h.options = Ipv4Options::parse(&OPTIONS).unwrap();
        let payload = pattern(3000, 2);
        let frags = wire(&h, &payload, 1500);
        let mut r = Reassembler::new(ReassemblerConfig {
            timeout: Duration::from_secs(15),
            ..ReassemblerConfig::default()
        });
        // The first fragment arrives at 1 s, the second at 2 s; the last never does.
        push_all(&mut r, Instant::from_secs(1), &frags[..1]);
        push_all(&mut r, Instant::from_secs(2), &frags[1..2]);
        // A datagram without its first fragment, at 3 s.
        push_all(
            &mut r,
            Instant::from_secs(3),
            &wire(&udp_header(0x43), &payload, 1500)[1..],
        );
        assert_eq!(r.in_flight(), 2);
        assert_eq!(r.next_deadline(), Some(Instant::from_secs(16)));
        assert_eq!(r.poll_expired(Instant::from_secs(15)), None);
        let e = r.poll_expired(Instant::from_secs(16)).unwrap();
        assert_eq!(e.key, FragmentKey::of(&h));
        assert_eq!(e.since, Instant::from_secs(1));
        let first = e.first_fragment.unwrap();
        // The header exactly as received, then 8 octets of data.
        assert_eq!(first.as_bytes(), &frags[0][..40 + 8]);
        assert_eq!(first.header().options.as_bytes(), &OPTIONS);
        assert_eq!(r.next_deadline(), Some(Instant::from_secs(18)));
        assert_eq!(r.poll_expired(Instant::from_secs(17)), None);
        let e = r.poll_expired(Instant::from_secs(18)).unwrap();
        assert_eq!(e.key.identification, 0x43);
        assert_eq!(e.first_fragment, None);
        assert_eq!((r.in_flight(), r.next_deadline()), (0, None));
        assert_eq!(r.held_bytes(), r.spare_bytes());
    }

    #[test]
    fn a_fragment_for_a_timed_out_datagram_reports_it_and_starts_afresh() {
        let h = udp_header(1);
        let payload = pattern(3000, 2);
        let frags = wire(&h, &payload, 1500);
        let mut r = Reassembler::default();
        push_all(&mut r, Instant::ZERO, &frags[..2]);
        let (fh, data) = Ipv4Header::parse(&frags[2]).unwrap();
        let push = r.push(Instant::from_secs(30), &fh, data);
        assert!(push.datagram.is_none());
        assert!(push.expired.unwrap().first_fragment.is_some());
        assert_eq!(r.in_flight(), 1);
        assert_eq!(r.next_deadline(), Some(Instant::from_secs(60)));
    }

    #[test]
    fn the_oldest_datagram_is_evicted_when_full() {
        let mut r = Reassembler::new(ReassemblerConfig {
            max_datagrams: 2,
            ..ReassemblerConfig::default()
        });
        let payload = pattern(3000, 2);
        for id in 1..=2 {
            push_all(
                &mut r,
                Instant::from_secs(id.into()),
                &wire(&udp_header(id), &payload, 1500)[..1],
            );
        }
        let third = wire(&udp_header(3), &payload, 1500);
        let (fh, data) = Ipv4Header::parse(&third[0]).unwrap();
        let push = r.push(Instant::from_secs(3), &fh, data);
        let evicted: Vec<_> = push.findings.iter().copied().collect();
        assert!(matches!(
            evicted[..],
            [ReassemblyFinding::Evicted { key, held }] if key.identification == 1 && held > 0
        ));
        assert_eq!(r.in_flight(), 2);
        // The evicted datagram is gone: its other fragments start it anew, never completing.
        let (done, _) = push_all(
            &mut r,
            Instant::from_secs(4),
            &wire(&udp_header(1), &payload, 1500)[1..],
        );
        assert!(done.is_empty());
    }

    #[test]
    fn a_flood_of_never_completed_datagrams_stays_within_the_byte_limit() {
        let config = ReassemblerConfig {
            max_datagrams: 1000,
            max_bytes: 1 << 20,
            ..ReassemblerConfig::default()
        };
        let mut r = Reassembler::new(config);
        let mut evicted = 0;
        let data = [0xaau8; 64];
        for i in 0..100_000u32 {
            let mut h = udp_header(i as u16);
            h.source = Ipv4Addr::from(0x0a00_0000 | (i >> 16));
            h.more_fragments = i % 3 != 0; // some know their end, some do not
            h.fragment_offset = (i % 7) as u16 * 8;
            let push = r.push(Instant::from_micros(u64::from(i)), &h, &data);
            evicted += push
                .findings
                .iter()
                .filter(|f| matches!(f, ReassemblyFinding::Evicted { .. }))
                .count();
            assert!(
                r.held_bytes() <= config.max_bytes,
                "at {i}: {}",
                r.held_bytes()
            );
            assert!(r.in_flight() <= config.max_datagrams);
        }
        assert!(evicted > 90_000);
        assert!(r.held_bytes() > config.max_bytes / 2);
    }

    #[test]
    fn a_small_byte_limit_still_reassembles_what_fits() {
        let mut r = Reassembler::new(ReassemblerConfig {
            max_bytes: 8000,
            ..ReassemblerConfig::default()
        });
        let h = udp_header(1);
        let payload = pattern(3000, 2);
        let (done, findings) = push_all(&mut r, Instant::ZERO, &wire(&h, &payload, 1500));
        assert_eq!(done, vec![whole(&h, &payload)], "{findings:?}");
        // Too big for the limit: dropped with a finding, nothing held.
        let big = pattern(9000, 2);
        let (done, findings) = push_all(&mut r, Instant::ZERO, &wire(&udp_header(2), &big, 1500));
        assert!(done.is_empty());
        assert!(findings
            .iter()
            .any(|f| matches!(f, ReassemblyFinding::OverLimit { .. })));
        assert!(r.held_bytes() <= 8000);
    }

    #[test]
    fn recycled_buffers_never_leak_old_bytes() {
        let mut r = Reassembler::default();
        let h = udp_header(1);
        let a = pattern(6000, 1);
        let frags = wire(&h, &a, 1500);
        let (fh, data) = Ipv4Header::parse(&frags[4]).unwrap();
        let mut d = None;
        for p in &frags {
            let (fh, data) = Ipv4Header::parse(p).unwrap();
            if let Some(Datagram::Reassembled(x)) = r.push(Instant::ZERO, &fh, data).datagram {
                d = Some(x);
            }
        }
        let _ = (fh, data);
        r.recycle(d.unwrap().into_buffer());
        assert!(r.held_bytes() > 65000);
        // A shorter datagram, reversed, in the recycled buffer.
        let b = pattern(3100, 200);
        let mut frags = wire(&udp_header(2), &b, 1500);
        frags.reverse();
        let (done, _) = push_all(&mut r, Instant::ZERO, &frags);
        assert_eq!(done, vec![whole(&udp_header(2), &b)]);
    }

    // ---------------------------------------------------------------- captures

    /// The IP packets of an Ethernet pcap file (little-endian, microseconds) in
    /// /work/shared/captures/PcapPlusPlus.
    fn capture_ip_packets(name: &str) -> Vec<Vec<u8>> {
        let path = std::format!("/work/shared/captures/PcapPlusPlus/{name}");
        let file = std::fs::read(path).unwrap();
        assert_eq!(&file[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(file[20..24].try_into().unwrap()), 1); // Ethernet
        let mut at = 24;
        let mut packets = Vec::new();
        while at + 16 <= file.len() {
            let incl = u32::from_le_bytes(file[at + 8..at + 12].try_into().unwrap()) as usize;
            let frame = &file[at + 16..at + 16 + incl];
            // Skip 802.1Q tags.
            let mut ethertype = 12;
            while frame[ethertype..ethertype + 2] == [0x81, 0x00] {
                ethertype += 4;
            }
            assert_eq!(&frame[ethertype..ethertype + 2], &[0x08, 0x00]);
            packets.push(frame[ethertype + 2..].to_vec());
            at += 16 + incl;
        }
        packets
    }

    fn udp_checksum_good(datagram: &[u8]) -> bool {
        let (h, payload) = Ipv4Header::parse(datagram).unwrap();
        checksum::pseudo_header(h.source, h.destination, 17, payload.len() as u16)
            .add_bytes(payload)
            .finish()
            == 0
    }

    fn be16(b: &[u8], at: usize) -> u16 {
        u16::from_be_bytes([b[at], b[at + 1]])
    }

    // Expected values from `tshark -o ip.defragment:TRUE -o udp.check_checksum:TRUE`.
    #[test]
    fn capture_ip4_fragments_with_duplicates_and_interleaved_packets() {
        let packets = capture_ip_packets("ip4_fragments.pcap");
        assert_eq!(packets.len(), 53);
        let mut r = Reassembler::default();
        let mut completed = Vec::new();
        let mut whole_packets = Vec::new();
        let mut duplicates = 0;
        for (i, p) in packets.iter().enumerate() {
            let (h, payload) = Ipv4Header::parse(p).unwrap();
            let push = r.push(Instant::from_millis(i as u64), &h, payload);
            duplicates += push
                .findings
                .iter()
                .filter(|f| matches!(f, ReassemblyFinding::Duplicate { .. }))
                .count();
            match push.datagram {
                Some(Datagram::Reassembled(d)) => completed.push((i + 1, d)),
                Some(Datagram::Whole { .. }) => whole_packets.push(i + 1),
                None => {}
            }
        }
        let frames: Vec<_> = completed.iter().map(|(f, _)| *f).collect();
        assert_eq!(frames, vec![6, 12, 18, 28, 40, 53]);
        assert_eq!(whole_packets, vec![29, 41, 51]);
        let checksums = [0x85f6, 0xd444, 0xc1e9, 0x852c, 0x9c39, 0x9de4];
        for ((_, d), (id, sum)) in completed.iter().zip((0x1ea0..).zip(checksums)) {
            let h = d.header();
            assert_eq!(h.identification, id);
            assert_eq!(h.source, Ipv4Addr::new(10, 118, 213, 212));
            assert_eq!(h.destination, Ipv4Addr::new(10, 118, 213, 211));
            assert_eq!(d.payload().len(), 8320);
            let udp = d.payload();
            assert_eq!(
                (be16(udp, 0), be16(udp, 2), be16(udp, 4)),
                (789, 2049, 8320)
            );
            assert_eq!(be16(udp, 6), sum);
            assert!(udp_checksum_good(d.as_bytes()));
            assert_eq!(verify_checksum(&d.as_bytes()[..20]), ChecksumStatus::Good);
        }
        // Frames 20, 22, 24, 27 (and likewise for 0x1ea4 and 0x1ea5) repeat earlier fragments.
        assert_eq!(duplicates, 12);
        // Frames 30 and 42 repeat last fragments after their datagrams completed.
        assert_eq!(r.in_flight(), 2);
    }

    #[test]
    fn capture_ipv4frag_and_out_of_order_padded_fragments() {
        let mut r = Reassembler::default();
        let (done, findings) =
            push_all(&mut r, Instant::ZERO, &capture_ip_packets("IPv4Frag.pcap"));
        assert!(findings.is_empty());
        assert_eq!(done.len(), 1);
        let udp = &done[0][20..];
        assert_eq!(udp.len(), 4060);
        assert_eq!(
            (be16(udp, 0), be16(udp, 2), be16(udp, 4), be16(udp, 6)),
            (2049, 1023, 4060, 0xb440)
        );
        assert!(udp_checksum_good(&done[0]));

        // frag_with_padding.pcap: the first fragment (8 octets, Ethernet padding) comes last.
        let (done, findings) = push_all(
            &mut r,
            Instant::ZERO,
            &capture_ip_packets("frag_with_padding.pcap"),
        );
        assert!(findings.is_empty());
        let udp = &done[0][20..];
        assert_eq!(udp.len(), 9409);
        assert_eq!(
            (be16(udp, 0), be16(udp, 2), be16(udp, 4), be16(udp, 6)),
            (42402, 42102, 9409, 0xcf11)
        );
        assert!(udp_checksum_good(&done[0]));
        assert_eq!(
            Ipv4Header::parse(&done[0]).unwrap().0.destination,
            Ipv4Addr::new(224, 0, 2, 2)
        );
    }

    #[test]
    fn capture_fragmented_http_request() {
        let mut r = Reassembler::default();
        let (done, findings) = push_all(
            &mut r,
            Instant::ZERO,
            &capture_ip_packets("frag_http_req.pcap"),
        );
        assert!(findings.is_empty());
        let (h, tcp) = Ipv4Header::parse(&done[0]).unwrap();
        assert_eq!(tcp.len(), 1480);
        assert_eq!(h.identification, 0x425f);
        assert_eq!(be16(tcp, 0), 64415);
        assert_eq!(
            u32::from_be_bytes(tcp[4..8].try_into().unwrap()),
            2290951306
        );
        let data_offset = usize::from(tcp[12] >> 4) * 4;
        assert_eq!(tcp.len() - data_offset, 1460);
        assert!(tcp[data_offset..].starts_with(b"GET /convert_data.js?partner_id=29 HTTP/1.1"));
        let sum = checksum::pseudo_header(h.source, h.destination, 6, 1480)
            .add_bytes(tcp)
            .finish();
        assert_eq!(sum, 0);
    }

    // ---------------------------------------------------------------- properties

    /// Option layouts: each option with or without the copied flag.
    fn option_bytes() -> impl Strategy<Value = Vec<u8>> {
        let option = prop_oneof![
            Just(vec![1u8]),                                    // NOP, not copied
            Just(vec![7u8, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]),     // Record Route, not copied
            Just(vec![68u8, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]), // Timestamp, not copied
            Just(vec![148u8, 4, 0, 0]),                         // Router Alert, copied
            Just(vec![136u8, 4, 0, 1]),                         // Stream ID, copied
            Just(vec![130u8, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]),   // Security, copied
            Just(vec![30u8, 3, 9]),                             // experimental, not copied
            Just(vec![158u8, 2]),                               // experimental, copied
        ];
        (
            proptest::collection::vec(option, 0..6),
            any::<bool>(),
            any::<Option<bool>>(),
        )
            .prop_map(|(options, eol, source_route)| {
                let mut bytes: Vec<u8> = Vec::new();
                if let Some(strict) = source_route {
                    bytes.extend_from_slice(&[if strict { 137 } else { 131 }, 7, 4, 10, 0, 0, 1]);
                }
                for o in options {
                    if bytes.len() + o.len() <= 39 {
                        bytes.extend_from_slice(&o);
                    }
                }
                if eol {
                    bytes.push(0);
                }
                bytes.resize(bytes.len().div_ceil(4) * 4, 0);
                bytes
            })
    }

    fn datagram() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, u16)> {
        (
            option_bytes(),
            prop_oneof![0usize..3000, 3000usize..20000, Just(MAX_PAYLOAD_LEN - 40)],
            any::<u8>(),
            prop_oneof![68u16..600, 576u16..=1500, 1500u16..=9000],
        )
            .prop_map(|(options, len, seed, mtu)| (options, pattern(len, seed), mtu))
    }

    fn shuffle_with_duplicates(mut v: Vec<Vec<u8>>, picks: &[(usize, usize)]) -> Vec<Vec<u8>> {
        let n = v.len();
        for &(a, b) in picks {
            v.swap(a % n, b % n);
            if a % 3 == 0 {
                let dup = v[b % n].clone();
                v.insert(a % (n + 1), dup);
            }
        }
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn fragments_fit_the_mtu_and_reassemble_to_the_original_in_any_order(
            (options, payload, mtu) in datagram(),
            picks in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..40),
        ) {
            let mut h = udp_header(0x5555);
            h.options = Ipv4Options::parse(&options).unwrap();
            let original = whole(&h, &payload);
            let iter = fragment(&h, &payload, mtu).unwrap();
            let expected_count = iter.len();
            let frags: Vec<_> = iter.clone().collect();
            prop_assert_eq!(frags.len(), expected_count);
            for (i, f) in frags.iter().enumerate() {
                prop_assert!(f.len() <= usize::from(mtu));
                let last = i + 1 == frags.len();
                prop_assert_eq!(f.header().more_fragments, !last);
                if !last {
                    prop_assert_eq!(f.payload().len() % 8, 0);
                }
                let copied_only = f.header().options.iter().all(|o| o.kind().copied() || o.kind().0 == 0);
                prop_assert!(i == 0 || copied_only);
            }
            let wire = wire(&h, &payload, mtu);
            // (A datagram that fits is not a fragment: each copy would come back whole.)
            let order = if wire.len() > 1 { shuffle_with_duplicates(wire, &picks) } else { wire };
            let mut r = Reassembler::default();
            let (done, findings) = push_all(&mut r, Instant::ZERO, &order);
            // Duplicates arriving after completion may build the datagram again.
            prop_assert!(!done.is_empty());
            for d in &done {
                prop_assert_eq!(d, &original);
            }
            let only_duplicates =
                findings.iter().all(|f| matches!(f, ReassemblyFinding::Duplicate { .. }));
            prop_assert!(only_duplicates, "{:?}", findings);
        }

        #[test]
        fn a_conflicting_overlap_never_completes_and_is_reported(
            len in 17usize..6000,
            mtu in 68u16..1500,
            victim in any::<usize>(),
            shift in 0usize..3,
            flip in any::<usize>(),
            evil_first in any::<bool>(),
            picks in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..20),
        ) {
            let h = udp_header(0x7777);
            let payload = pattern(len, 7);
            let mut evil_payload = payload.clone();
            let frags: Vec<_> = fragment(&h, &payload, mtu).unwrap().collect();
            prop_assume!(frags.len() >= 2);
            let v = &frags[victim % frags.len()];
            // A piece of the datagram moved by `shift` × 8 octets (clamped), one octet changed.
            let start = (v.offset() + shift * 8).min(len - 1) & !7;
            let end = (start + v.payload().len()).min(len);
            let at = start + flip % (end - start);
            evil_payload[at] ^= 0x5a;
            let mut evil = h;
            evil.fragment_offset = (start / 8) as u16;
            evil.more_fragments = end < len;
            let evil_len = if evil.more_fragments { (end - start) & !7 } else { end - start };
            prop_assume!(evil_len > 0 && at < start + evil_len);
            let evil_bytes = whole(&evil, &evil_payload[start..start + evil_len]);
            prop_assume!(start > 0 || evil.more_fragments);
            // The genuine fragment holding the changed octet, and the conflicting piece, arrive
            // first (in either order), then everything else.
            let wire = wire(&h, &payload, mtu);
            let holder = frags
                .iter()
                .position(|f| f.offset() <= at && at < f.offset() + f.payload().len())
                .unwrap();
            let mut order = if evil_first {
                vec![evil_bytes, wire[holder].clone()]
            } else {
                vec![wire[holder].clone(), evil_bytes]
            };
            order.extend(shuffle_with_duplicates(wire, &picks));
            let mut r = Reassembler::default();
            let (done, findings) = push_all(&mut r, Instant::ZERO, &order);
            prop_assert!(done.is_empty());
            let conflict = findings.iter().any(|f| {
                matches!(
                    f,
                    ReassemblyFinding::ConflictingOverlap { .. }
                        | ReassemblyFinding::ConflictingDuplicate { .. }
                )
            });
            prop_assert!(conflict, "{:?}", findings);
            prop_assert_eq!(r.held_bytes(), r.spare_bytes());
        }

        #[test]
        fn arbitrary_fragments_never_panic_and_respect_the_limits(
            pieces in proptest::collection::vec(
                (0u16..4, 0u16..0x2000, any::<bool>(), 0usize..600, any::<u8>(), 0u64..5_000_000),
                1..200,
            ),
        ) {
            let config = ReassemblerConfig {
                max_datagrams: 3,
                max_bytes: 200_000,
                timeout: Duration::from_secs(2),
                spare_buffers: 1,
            };
            let mut r = Reassembler::new(config);
            let mut now = Instant::ZERO;
            for (id, off, mf, len, fill, step) in pieces {
                now += Duration::from_micros(step);
                let mut h = udp_header(id);
                h.protocol = if fill % 2 == 0 { IpProtocol::TCP } else { IpProtocol::UDP };
                h.fragment_offset = off;
                h.more_fragments = mf;
                let data = vec![fill; len];
                let push = r.push(now, &h, &data);
                if let Some(Datagram::Reassembled(d)) = &push.datagram {
                    prop_assert_eq!(d.header().checksum_status(), ChecksumStatus::Good);
                    prop_assert_eq!(usize::from(d.header().total_length), d.as_bytes().len());
                    r.recycle(d.clone().into_buffer());
                }
                while r.poll_expired(now).is_some() {}
                prop_assert!(r.held_bytes() <= config.max_bytes);
                prop_assert!(r.in_flight() <= config.max_datagrams);
            }
        }
    }
}
