//! The single-buffer output path: a transport protocol writes its segment into a frame buffer
//! after [`HEADROOM`] octets, and the IP layer fills the IPv4 header and, when the next hop's
//! MAC is known, the Ethernet header in place — no datagram or frame is copied on the way down
//! [RFC 791 § 3.1, RFC 894]. Frame buffers come from a bounded [`FramePool`] that the
//! application refills with [`Stack::recycle_buffer`] once a frame is on the wire, so a busy
//! connection allocates nothing and zero-fills nothing per segment.
//!
//! Also the Internet checksum helpers of the per-segment path, over the codec's routines.

use core::net::Ipv4Addr;

use wirecheck_codec::checksum::Accumulator;
use wirecheck_codec::ethernet::{EtherType, MacAddr};
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::time::Instant;

use super::RouteDecision;
use crate::stack::{Origin, Stack, StackError, Transmit};

/// Ethernet header length (no VLAN tag).
pub(crate) const ETHERNET_LEN: usize = 14;
/// IPv4 header length without options.
pub(crate) const IPV4_LEN: usize = 20;
/// Octets a transport protocol leaves in front of its segment: Ethernet and IPv4 headers.
pub(crate) const HEADROOM: usize = ETHERNET_LEN + IPV4_LEN;
/// The shortest Ethernet frame without FCS; shorter frames are padded with zeros.
pub(crate) const MIN_FRAME: usize = 60;
/// The capacity of a fresh frame buffer: a full 1500-octet MTU frame.
const FRAME_CAPACITY: usize = 1514;

/// Reusable frame buffers, at most `limit` kept.
#[derive(Debug, Clone)]
pub(crate) struct FramePool {
    free: Vec<Vec<u8>>,
    limit: usize,
}

impl FramePool {
    pub(crate) fn new(limit: usize) -> FramePool {
        FramePool {
            free: Vec::new(),
            limit,
        }
    }

    /// An empty buffer (length 0) with room for a full frame, reused when one is available.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        let mut b = self.take_stale();
        b.clear();
        b
    }

    /// A buffer with whatever length and stale contents it was given back with: resizing it
    /// to a length it already had writes nothing, so a writer that overwrites every octet
    /// (as [`SegmentFields::build`](crate::tcp::segment::SegmentFields::build) does) pays no
    /// zero-filling.
    pub(crate) fn take_stale(&mut self) -> Vec<u8> {
        self.free
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(FRAME_CAPACITY))
    }

    /// Keeps `buffer` for reuse if there is room and it is worth keeping.
    #[inline]
    pub(crate) fn give(&mut self, buffer: Vec<u8>) {
        if self.free.len() < self.limit && buffer.capacity() >= MIN_FRAME {
            self.free.push(buffer);
        }
    }
}

/// The one's-complement sum of `data` as big-endian 16-bit words (an odd final octet padded
/// with zero), folded to 16 bits, not complemented [RFC 1071]: the codec's routine.
#[inline]
pub(crate) fn sum(data: &[u8]) -> u16 {
    Accumulator::new().add_bytes(data).sum16()
}

/// Whether the one's-complement sum of a 20-octet header is all ones, as over a header
/// with a correct checksum [RFC 1071 § 1]: [`sum`] without a call, in native-endian 32-bit
/// words (byte order swaps the folded sum's octets, and all ones is the same either way).
#[inline(always)]
pub(crate) fn header_sums_to_ones(header: &[u8; IPV4_LEN]) -> bool {
    let mut total = 0u64;
    for word in header.chunks_exact(4) {
        if let Some(w) = word.first_chunk::<4>() {
            total += u64::from(u32::from_ne_bytes(*w));
        }
    }
    fold16(total) == 0xffff
}

/// Folds a 64-bit one's-complement sum to 16 bits (the codec's fold).
pub(crate) use wirecheck_codec::checksum::fold as fold16;

/// The folded one's-complement sum of the IPv4 pseudo-header [RFC 9293 § 3.1].
pub(crate) fn pseudo_header_sum(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    length: u16,
) -> u64 {
    let s = source.to_bits();
    let d = destination.to_bits();
    u64::from(s >> 16)
        + u64::from(s & 0xffff)
        + u64::from(d >> 16)
        + u64::from(d & 0xffff)
        + u64::from(protocol)
        + u64::from(length)
}

/// What an IPv4 header written by [`write_ipv4_header`] carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ipv4Fields {
    pub(crate) source: Ipv4Addr,
    pub(crate) destination: Ipv4Addr,
    pub(crate) protocol: IpProtocol,
    pub(crate) ttl: u8,
    pub(crate) dont_fragment: bool,
    pub(crate) identification: u16,
}

/// Writes a 20-octet IPv4 header (no options, TOS 0) for `payload_len` octets, with its
/// checksum, into `out` [RFC 791 § 3.1].
///
/// The checksum is summed from the field values rather than read back from `out`: reading
/// words across the narrow stores just made would stall on store-to-load forwarding.
pub(crate) fn write_ipv4_header(out: &mut [u8; IPV4_LEN], f: &Ipv4Fields, payload_len: usize) {
    let total = ipv4_total_length(payload_len);
    let flags = if f.dont_fragment { 0x40u8 } else { 0 };
    let sum = ipv4_fixed_sum(f) + u64::from(total) + u64::from(f.identification);
    let [t0, t1] = total.to_be_bytes();
    let [i0, i1] = f.identification.to_be_bytes();
    let [c0, c1] = (!fold16(sum)).to_be_bytes();
    let [s0, s1, s2, s3] = f.source.octets();
    let [d0, d1, d2, d3] = f.destination.octets();
    *out = [
        0x45,
        0,
        t0,
        t1,
        i0,
        i1,
        flags,
        0,
        f.ttl,
        f.protocol.0,
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
    ];
}

/// The IPv4 total length field for `payload_len` octets after a header without options.
fn ipv4_total_length(payload_len: usize) -> u16 {
    (IPV4_LEN + payload_len).min(usize::from(u16::MAX)) as u16
}

/// The unfolded one's-complement sum of an IPv4 header's fields but the total length, the
/// identification and the checksum.
fn ipv4_fixed_sum(f: &Ipv4Fields) -> u64 {
    let flags = if f.dont_fragment { 0x40u8 } else { 0 };
    let s = f.source.to_bits();
    let d = f.destination.to_bits();
    0x4500u64
        + (u64::from(flags) << 8)
        + (u64::from(f.ttl) << 8)
        + u64::from(f.protocol.0)
        + u64::from(s >> 16)
        + u64::from(s & 0xffff)
        + u64::from(d >> 16)
        + u64::from(d & 0xffff)
}

/// The Ethernet and IPv4 headers of a run of datagrams that differ only in length and
/// identification (one connection's segments to a resolved next hop), written once: each
/// datagram copies them and patches the three fields that change, its checksum from the sum
/// of the others kept here [RFC 1624 § 3].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeaderTemplate {
    bytes: [u8; HEADROOM],
    /// [`ipv4_fixed_sum`] of the fields.
    sum: u64,
}

impl HeaderTemplate {
    /// The headers [`write_ethernet_header`] and [`write_ipv4_header`] write for `fields`
    /// (whose identification is ignored).
    pub(crate) fn new(destination: MacAddr, source: MacAddr, fields: &Ipv4Fields) -> Self {
        let mut bytes = [0u8; HEADROOM];
        let (eth, ip) = bytes.split_at_mut(ETHERNET_LEN);
        if let (Ok(eth), Ok(ip)) = (
            <&mut [u8; ETHERNET_LEN]>::try_from(eth),
            <&mut [u8; IPV4_LEN]>::try_from(ip),
        ) {
            write_ethernet_header(eth, destination, source, EtherType::IPV4);
            write_ipv4_header(ip, fields, 0);
        }
        HeaderTemplate {
            bytes,
            sum: ipv4_fixed_sum(fields),
        }
    }

    /// Writes the headers for a datagram of `payload_len` octets after the IPv4 header.
    #[inline]
    pub(crate) fn write(&self, out: &mut [u8; HEADROOM], identification: u16, payload_len: usize) {
        let total = ipv4_total_length(payload_len);
        let sum = self.sum + u64::from(total) + u64::from(identification);
        let [t0, t1] = total.to_be_bytes();
        let [i0, i1] = identification.to_be_bytes();
        let [c0, c1] = (!fold16(sum)).to_be_bytes();
        let mut h = self.bytes;
        const AT: usize = ETHERNET_LEN;
        h[AT + 2] = t0;
        h[AT + 3] = t1;
        h[AT + 4] = i0;
        h[AT + 5] = i1;
        h[AT + 10] = c0;
        h[AT + 11] = c1;
        *out = h;
    }
}

/// Writes an Ethernet header (our MAC as source).
pub(crate) fn write_ethernet_header(
    out: &mut [u8; ETHERNET_LEN],
    destination: MacAddr,
    source: MacAddr,
    ether_type: EtherType,
) {
    out[..6].copy_from_slice(&destination.0);
    out[6..12].copy_from_slice(&source.0);
    out[12..].copy_from_slice(&ether_type.0.to_be_bytes());
}

impl Stack {
    /// Gives back the buffer of a frame taken from [`poll_transmit`](Stack::poll_transmit)
    /// (or any `Vec<u8>`) once it has been sent, so that later frames are built in it instead
    /// of a fresh allocation. Optional: a driver that never calls it only costs allocations.
    #[inline]
    pub fn recycle_buffer(&mut self, buffer: Vec<u8>) {
        self.frames.give(buffer);
    }

    /// Sends a locally originated datagram whose transport segment already sits in `frame`
    /// after [`HEADROOM`] octets: fills the IPv4 header and, when the next hop's MAC is known
    /// and the datagram fits the MTU, the Ethernet header, in place. Loopback, pending ARP and
    /// fragmentation take the general path with a copy of the datagram.
    pub(crate) fn ip_send_frame(
        &mut self,
        now: Instant,
        route: &RouteDecision,
        fields: &Ipv4Fields,
        mut frame: Vec<u8>,
        origin: Origin,
    ) -> Result<(), StackError> {
        let payload_len = frame.len().saturating_sub(HEADROOM);
        if IPV4_LEN + payload_len > usize::from(u16::MAX) {
            self.frames.give(frame);
            return Err(StackError::MessageTooLong);
        }
        let Some(ip) = frame
            .get_mut(ETHERNET_LEN..HEADROOM)
            .and_then(|h| <&mut [u8; IPV4_LEN]>::try_from(h).ok())
        else {
            return Err(StackError::MessageTooLong);
        };
        write_ipv4_header(ip, fields, payload_len);
        let Some(ifc) = self.interface(route.iface) else {
            self.frames.give(frame);
            return Err(StackError::InvalidInterface);
        };
        let fits = IPV4_LEN + payload_len <= usize::from(ifc.mtu);
        let mac = if route.local || !fits {
            None
        } else if ifc.is_broadcast(route.next_hop) {
            Some(MacAddr::BROADCAST)
        } else if route.next_hop.is_multicast() {
            Some(MacAddr::from_ipv4_multicast(route.next_hop))
        } else {
            self.arp.lookup(now, route.iface, route.next_hop)
        };
        let (Some(mac), source_mac) = (mac, ifc.mac) else {
            // The general path: loopback, ARP resolution, fragmentation.
            let datagram = frame.get(ETHERNET_LEN..).unwrap_or_default().to_vec();
            self.frames.give(frame);
            if route.local {
                if self.loopback.len() < self.config.max_loopback {
                    self.stats.ip_loopback += 1;
                    self.loopback.push_back(datagram);
                }
                return Ok(());
            }
            return self.ip_transmit(now, route.iface, route.next_hop, datagram, origin);
        };
        if let Some(eth) = frame
            .get_mut(..ETHERNET_LEN)
            .and_then(|h| <&mut [u8; ETHERNET_LEN]>::try_from(h).ok())
        {
            write_ethernet_header(eth, mac, source_mac, EtherType::IPV4);
        }
        if frame.len() < MIN_FRAME {
            frame.resize(MIN_FRAME, 0);
        }
        self.queue_frame(route.iface, frame);
        Ok(())
    }

    /// Queues a finished frame, or drops it (and keeps its buffer) when the queue is full.
    #[inline(always)]
    pub(crate) fn queue_frame(&mut self, iface: crate::InterfaceId, bytes: Vec<u8>) {
        if self.transmits.len() >= self.config.max_transmit_queue {
            self.stats.transmit_queue_drops += 1;
            self.frames.give(bytes);
            return;
        }
        self.stats.frames_out += 1;
        self.transmits.push_back(Transmit { iface, bytes });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The checksum summed from the fields checks out over the bytes written, whatever
        /// the fields (all-ones addresses and lengths push the sum through its carries).
        #[test]
        fn ipv4_header_checksum_from_the_fields_is_right(
            source in any::<u32>(),
            destination in any::<u32>(),
            protocol in any::<u8>(),
            ttl in any::<u8>(),
            dont_fragment in any::<bool>(),
            identification in any::<u16>(),
            payload_len in 0usize..70_000,
        ) {
            let mut h = [0u8; IPV4_LEN];
            let f = Ipv4Fields {
                source: Ipv4Addr::from_bits(source),
                destination: Ipv4Addr::from_bits(destination),
                protocol: IpProtocol(protocol),
                ttl,
                dont_fragment,
                identification,
            };
            write_ipv4_header(&mut h, &f, payload_len);
            prop_assert_eq!(
                wirecheck_codec::ipv4::verify_checksum(&h),
                wirecheck_codec::ChecksumStatus::Good
            );
            // The input fast path's test agrees, and fails on any one octet changed.
            prop_assert!(header_sums_to_ones(&h));
            let mut bad = h;
            bad[usize::from(identification) % IPV4_LEN] ^= 1 << (ttl % 8);
            prop_assert!(!header_sums_to_ones(&bad));
            // The template writes the same octets as the two header writers.
            let (dst, src) = (MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]));
            let template = HeaderTemplate::new(dst, src, &Ipv4Fields { identification: !identification, ..f });
            let mut both = [0u8; HEADROOM];
            template.write(&mut both, identification, payload_len);
            let mut eth = [0u8; ETHERNET_LEN];
            write_ethernet_header(&mut eth, dst, src, EtherType::IPV4);
            prop_assert_eq!(&both[..ETHERNET_LEN], &eth[..]);
            prop_assert_eq!(&both[ETHERNET_LEN..], &h[..]);
        }
    }

    #[test]
    fn ipv4_header_checks_out() {
        let mut h = [0u8; IPV4_LEN];
        let f = Ipv4Fields {
            source: Ipv4Addr::new(10, 0, 0, 1),
            destination: Ipv4Addr::new(10, 0, 0, 2),
            protocol: IpProtocol::TCP,
            ttl: 64,
            dont_fragment: true,
            identification: 0x1234,
        };
        write_ipv4_header(&mut h, &f, 32);
        let (parsed, _) = wirecheck_codec::ipv4::Ipv4Header::parse_header_lax(&h)
            .map(|(h, rest, _)| (h, rest))
            .unwrap();
        assert_eq!(parsed.total_length, 52);
        assert!(parsed.dont_fragment);
        assert_eq!(parsed.identification, 0x1234);
        assert_eq!(
            wirecheck_codec::ipv4::verify_checksum(&h),
            wirecheck_codec::ChecksumStatus::Good
        );
    }
}
