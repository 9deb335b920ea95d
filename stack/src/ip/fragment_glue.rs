//! The seam between the IP layer and fragmentation/reassembly [RFC 791 § 2.3, § 3.2;
//! RFC 1122 § 3.3.2; RFC 815].
//!
//! The IP layer uses only [`fragment`] and [`Reassembler`] (`push`, `poll_expired`,
//! `next_deadline`). They are a small internal implementation standing in for the codec's
//! `fragment` module (fragmenter and reassembler), which is being written in parallel; when it
//! lands on main, the bodies here are to be REPLACED by calls into
//! `wirecheck_codec::fragment` and this file becomes a thin adapter. Behaviour that the IP
//! layer relies on, and that the replacement must keep:
//!
//! - `fragment`: 8-octet aligned pieces, MF on all but the last (and on the last if the input
//!   had it), options copied only where the copy flag says so, DF refused with an error.
//! - `Reassembler`: keyed by (source, destination, protocol, identification); bounded in
//!   datagrams and bytes (oldest evicted); a datagram whose fragments overlap with different
//!   bytes is discarded whole (exact duplicates are ignored); the timeout hands back the first
//!   fragment's header and leading octets so the caller can send ICMP Time Exceeded code 1
//!   [RFC 1122 § 3.3.2].

use core::net::Ipv4Addr;
use std::collections::BTreeMap;

use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::time::{Duration, Instant};

/// Why a datagram could not be fragmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FragmentError {
    /// DF is set and the datagram exceeds the MTU.
    DontFragment,
    /// The header does not parse, or the MTU leaves no room for 8 octets of data.
    Unfragmentable,
}

/// Splits a whole datagram (header and payload, as on the wire) into datagrams of at most
/// `mtu` octets. A datagram that fits comes back as is.
pub(crate) fn fragment(datagram: &[u8], mtu: u16) -> Result<Vec<Vec<u8>>, FragmentError> {
    let mtu = usize::from(mtu);
    if datagram.len() <= mtu {
        return Ok(vec![datagram.to_vec()]);
    }
    let (header, payload) =
        Ipv4Header::parse(datagram).map_err(|_| FragmentError::Unfragmentable)?;
    if header.dont_fragment {
        return Err(FragmentError::DontFragment);
    }
    let mut copied = [0u8; Ipv4Options::MAX_LEN];
    let copied_len = header
        .options
        .write_copied(&mut copied)
        .map_err(|_| FragmentError::Unfragmentable)?;
    let later_options = Ipv4Options::raw(copied.get(..copied_len).unwrap_or_default());
    let base = header.fragment_offset_bytes();
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < payload.len() || out.is_empty() {
        let options = if at == 0 {
            header.options
        } else {
            later_options
        };
        let piece_header = Ipv4Header { options, ..header };
        let header_len = piece_header.len();
        let room = mtu.saturating_sub(header_len) / 8 * 8;
        if room == 0 {
            return Err(FragmentError::Unfragmentable);
        }
        let end = (at + room).min(payload.len());
        let last = end == payload.len();
        let offset = base + at;
        let piece = Ipv4Header {
            more_fragments: !last || header.more_fragments,
            fragment_offset: u16::try_from(offset / 8)
                .map_err(|_| FragmentError::Unfragmentable)?,
            ..piece_header
        };
        let data = payload.get(at..end).unwrap_or_default();
        let mut buf = vec![0u8; header_len + data.len()];
        let n = piece
            .emit(data.len(), &mut buf)
            .map_err(|_| FragmentError::Unfragmentable)?;
        if let Some(dst) = buf.get_mut(n..) {
            dst.copy_from_slice(data);
        }
        out.push(buf);
        at = end;
        if last {
            break;
        }
    }
    Ok(out)
}

/// Reassembly limits [RFC 1122 § 3.3.2].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Most datagrams in reassembly at once; the oldest is evicted for a new one.
    pub max_datagrams: usize,
    /// Most payload octets held over all datagrams.
    pub max_bytes: usize,
    /// How long a datagram may take to complete (RFC 1122 suggests 60 to 120 s; 30 s is
    /// Linux's `ipfrag_time`).
    pub timeout: Duration,
}

impl Default for ReassemblyConfig {
    fn default() -> ReassemblyConfig {
        ReassemblyConfig {
            max_datagrams: 16,
            max_bytes: 256 * 1024,
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: IpProtocol,
    identification: u16,
}

#[derive(Debug, Clone)]
struct Partial {
    /// The first fragment's header bytes, once it arrived.
    first_header: Option<Vec<u8>>,
    data: Vec<u8>,
    /// Received octet ranges, sorted and merged.
    ranges: Vec<(usize, usize)>,
    total: Option<usize>,
    deadline: Instant,
}

impl Partial {
    fn held(&self) -> usize {
        self.data.len() + self.first_header.as_ref().map_or(0, Vec::len)
    }
}

/// What pushing a fragment gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Push {
    /// Held; the datagram is not complete yet.
    Incomplete,
    /// The whole datagram, header first (MF clear, offset 0, lengths and checksum computed).
    Complete(Vec<u8>),
    /// The fragment (and, for an inconsistency, its whole datagram) was discarded.
    Discarded,
}

/// Reassembles fragmented datagrams addressed to this node.
#[derive(Debug, Clone)]
pub(crate) struct Reassembler {
    config: ReassemblyConfig,
    partials: BTreeMap<Key, Partial>,
}

/// The most payload a datagram can have: 65535 minus the smallest header.
const MAX_PAYLOAD: usize = 65535 - 20;

impl Reassembler {
    pub(crate) fn new(config: ReassemblyConfig) -> Reassembler {
        Reassembler {
            config,
            partials: BTreeMap::new(),
        }
    }

    fn held(&self) -> usize {
        self.partials.values().map(Partial::held).sum()
    }

    /// Adds one fragment: `datagram` is the whole fragment as received (header and payload,
    /// padding stripped) and `header` its parsed header.
    pub(crate) fn push(&mut self, now: Instant, header: &Ipv4Header<'_>, datagram: &[u8]) -> Push {
        let key = Key {
            source: header.source,
            destination: header.destination,
            protocol: header.protocol,
            identification: header.identification,
        };
        let header_len = header.header_len();
        let payload = datagram.get(header_len..).unwrap_or_default();
        let start = header.fragment_offset_bytes();
        let end = start + payload.len();
        let malformed = end > MAX_PAYLOAD
            || (header.more_fragments && (payload.is_empty() || payload.len() % 8 != 0));
        if malformed {
            self.partials.remove(&key);
            return Push::Discarded;
        }
        if !self.partials.contains_key(&key) {
            while self.partials.len() >= self.config.max_datagrams.max(1) {
                self.evict_oldest();
            }
            self.partials.insert(
                key,
                Partial {
                    first_header: None,
                    data: Vec::new(),
                    ranges: Vec::new(),
                    total: None,
                    deadline: now + self.config.timeout,
                },
            );
        }
        // Room in the byte budget, evicting other datagrams first.
        let growth = end.saturating_sub(self.partials.get(&key).map_or(0, |p| p.data.len()))
            + if start == 0 { header_len } else { 0 };
        while self.held() + growth > self.config.max_bytes && self.partials.len() > 1 {
            let Some(oldest) = self
                .partials
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, p)| p.deadline)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.partials.remove(&oldest);
        }
        if self.held() + growth > self.config.max_bytes {
            self.partials.remove(&key);
            return Push::Discarded;
        }
        let Some(partial) = self.partials.get_mut(&key) else {
            return Push::Discarded;
        };
        // Consistency of the end: the last fragment fixes the length.
        let known_end = partial.ranges.last().map_or(0, |r| r.1);
        let inconsistent = match (header.more_fragments, partial.total) {
            (false, Some(total)) => total != end,
            (false, None) => known_end > end,
            (true, Some(total)) => end > total,
            (true, None) => false,
        };
        // Overlaps must carry the same octets (teardrop and friends are discarded whole).
        let overlap_differs = partial.ranges.iter().any(|&(s, e)| {
            let (lo, hi) = (s.max(start), e.min(end));
            lo < hi && partial.data.get(lo..hi) != payload.get(lo - start..hi - start)
        });
        if inconsistent || overlap_differs {
            self.partials.remove(&key);
            return Push::Discarded;
        }
        if !header.more_fragments {
            partial.total = Some(end);
        }
        if partial.data.len() < end {
            partial.data.resize(end, 0);
        }
        if let Some(dst) = partial.data.get_mut(start..end) {
            dst.copy_from_slice(payload);
        }
        if start == 0 {
            partial.first_header = datagram.get(..header_len).map(<[u8]>::to_vec);
        }
        merge_range(&mut partial.ranges, (start, end));
        let complete = partial.first_header.is_some()
            && partial.total.is_some_and(|t| partial.ranges == [(0, t)]);
        if !complete {
            return Push::Incomplete;
        }
        let Some(partial) = self.partials.remove(&key) else {
            return Push::Discarded;
        };
        let total = partial.total.unwrap_or(0);
        let first = partial.first_header.unwrap_or_default();
        let Ok((first, _)) = Ipv4Header::parse_header(&first) else {
            return Push::Discarded;
        };
        let whole = Ipv4Header {
            more_fragments: false,
            fragment_offset: 0,
            ..first
        };
        let mut out = vec![0u8; whole.len() + total];
        let Ok(n) = whole.emit(total, &mut out) else {
            return Push::Discarded;
        };
        match (out.get_mut(n..), partial.data.get(..total)) {
            (Some(dst), Some(src)) if dst.len() == src.len() => dst.copy_from_slice(src),
            _ => return Push::Discarded,
        }
        Push::Complete(out)
    }

    fn evict_oldest(&mut self) {
        if let Some(k) = self
            .partials
            .iter()
            .min_by_key(|(_, p)| p.deadline)
            .map(|(k, _)| *k)
        {
            self.partials.remove(&k);
        }
    }

    /// Removes the datagrams whose time ran out; for each, returns the first fragment's header
    /// and up to 8 leading data octets (the ICMP quote) if it had arrived.
    pub(crate) fn poll_expired(&mut self, now: Instant) -> Vec<Option<Vec<u8>>> {
        let expired: Vec<Key> = self
            .partials
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        let mut firsts = Vec::new();
        for key in expired {
            if let Some(p) = self.partials.remove(&key) {
                let lead = p
                    .ranges
                    .first()
                    .map_or(0, |r| if r.0 == 0 { r.1 } else { 0 });
                firsts.push(p.first_header.map(|mut first| {
                    first.extend_from_slice(p.data.get(..lead.min(8)).unwrap_or_default());
                    first
                }));
            }
        }
        firsts
    }

    /// The earliest reassembly deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.partials.values().map(|p| p.deadline).min()
    }

    /// Datagrams in reassembly.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.partials.len()
    }

    pub(crate) fn check_invariants(&self) {
        assert!(self.partials.len() <= self.config.max_datagrams.max(1));
        assert!(self.held() <= self.config.max_bytes.max(MAX_PAYLOAD + 60));
    }
}

fn merge_range(ranges: &mut Vec<(usize, usize)>, new: (usize, usize)) {
    if new.0 >= new.1 {
        return;
    }
    ranges.push(new);
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *ranges = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_codec::ipv4::Ipv4Option;

    fn datagram(payload_len: usize, options: &[u8]) -> Vec<u8> {
        let mut h = Ipv4Header::new(
            Ipv4Addr::new(223, 1, 2, 1),
            Ipv4Addr::new(223, 1, 3, 2),
            IpProtocol::ICMP,
        );
        h.identification = 0x1234;
        h.options = Ipv4Options::raw(options);
        let mut buf = vec![0u8; h.len() + payload_len];
        let n = h.emit(payload_len, &mut buf).unwrap();
        for (i, b) in buf[n..].iter_mut().enumerate() {
            *b = i as u8;
        }
        buf
    }

    #[test]
    fn fragments_4000_octets_for_576() {
        let d = datagram(3980, &[]);
        let frags = fragment(&d, 576).unwrap();
        // 556 octets of room, 552 = 69 × 8 per fragment: 7 full pieces and one of 116.
        assert_eq!(frags.len(), 8);
        let mut expected_offset = 0;
        for (i, f) in frags.iter().enumerate() {
            assert!(f.len() <= 576);
            let (h, p) = Ipv4Header::parse(f).unwrap();
            assert_eq!(h.checksum_status(), wirecheck_codec::ChecksumStatus::Good);
            assert_eq!(h.fragment_offset_bytes(), expected_offset);
            assert_eq!(h.more_fragments, i + 1 < frags.len());
            assert_eq!(h.identification, 0x1234);
            expected_offset += p.len();
        }
        assert_eq!(expected_offset, 3980);
    }

    #[test]
    fn dont_fragment_is_refused() {
        let mut d = datagram(1000, &[]);
        d[6] |= 0x40;
        // Fix the checksum so the header is valid.
        d[10] = 0;
        d[11] = 0;
        let sum = wirecheck_codec::checksum::internet_checksum(&d[..20]);
        d[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(fragment(&d, 576), Err(FragmentError::DontFragment));
        assert_eq!(fragment(&d, 1500).unwrap(), vec![d]);
    }

    #[test]
    fn only_copied_options_in_later_fragments() {
        // Record route (not copied) + router alert (copied, type 148).
        let mut opts = [0u8; 12];
        let rr = [7u8, 7, 4, 0, 0, 0, 0];
        opts[..7].copy_from_slice(&rr);
        opts[7] = 0x94;
        opts[8] = 4;
        let d = datagram(600, &opts[..11]);
        let frags = fragment(&d, 300).unwrap();
        let (first, _) = Ipv4Header::parse(&frags[0]).unwrap();
        assert!(first
            .options
            .find(wirecheck_codec::ipv4::OptionType::RECORD_ROUTE)
            .is_some());
        let (second, _) = Ipv4Header::parse(&frags[1]).unwrap();
        assert!(second
            .options
            .find(wirecheck_codec::ipv4::OptionType::RECORD_ROUTE)
            .is_none());
        assert!(matches!(
            second.options.iter().next(),
            Some(Ipv4Option::RouterAlert { value: 0 })
        ));
    }

    fn push_all(r: &mut Reassembler, frags: &[Vec<u8>], now: Instant) -> Push {
        let mut last = Push::Incomplete;
        for f in frags {
            let (h, _) = Ipv4Header::parse(f).unwrap();
            last = r.push(now, &h, f);
        }
        last
    }

    #[test]
    fn reassembles_in_any_order_with_duplicates() {
        let d = datagram(3980, &[]);
        let mut frags = fragment(&d, 576).unwrap();
        frags.reverse();
        let dup = frags[3].clone();
        frags.insert(5, dup);
        let mut r = Reassembler::new(ReassemblyConfig::default());
        match push_all(&mut r, &frags, Instant::ZERO) {
            Push::Complete(whole) => assert_eq!(whole, d),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn overlap_with_different_bytes_discards() {
        let d = datagram(2000, &[]);
        let frags = fragment(&d, 576).unwrap();
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let (h, _) = Ipv4Header::parse(&frags[0]).unwrap();
        assert_eq!(r.push(Instant::ZERO, &h, &frags[0]), Push::Incomplete);
        let mut evil = frags[0].clone();
        let last = evil.len() - 1;
        evil[last] ^= 0xff;
        assert_eq!(r.push(Instant::ZERO, &h, &evil), Push::Discarded);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn timeout_returns_first_fragment_quote() {
        let d = datagram(2000, &[]);
        let frags = fragment(&d, 576).unwrap();
        let mut r = Reassembler::new(ReassemblyConfig::default());
        let (h, _) = Ipv4Header::parse(&frags[0]).unwrap();
        r.push(Instant::ZERO, &h, &frags[0]);
        let (h2, _) = Ipv4Header::parse(&frags[2]).unwrap();
        r.push(Instant::ZERO, &h2, &frags[2]);
        assert_eq!(r.next_deadline(), Some(Instant::from_secs(30)));
        assert!(r.poll_expired(Instant::from_secs(29)).is_empty());
        let expired = r.poll_expired(Instant::from_secs(30));
        assert_eq!(expired.len(), 1);
        let quote = expired[0].as_ref().unwrap();
        assert_eq!(quote.len(), 28);
        assert_eq!(&quote[..20], &frags[0][..20]);
        // Only a later fragment: no quote.
        r.push(Instant::ZERO, &h2, &frags[2]);
        assert_eq!(r.poll_expired(Instant::from_secs(60)), vec![None]);
    }

    #[test]
    fn bounded_in_datagrams_and_bytes() {
        let config = ReassemblyConfig {
            max_datagrams: 2,
            max_bytes: 3000,
            timeout: Duration::from_secs(30),
        };
        let mut r = Reassembler::new(config);
        for id in 0..5u16 {
            let mut d = datagram(2000, &[]);
            d[4..6].copy_from_slice(&id.to_be_bytes());
            d[10] = 0;
            d[11] = 0;
            let sum = wirecheck_codec::checksum::internet_checksum(&d[..20]);
            d[10..12].copy_from_slice(&sum.to_be_bytes());
            let frags = fragment(&d, 576).unwrap();
            let (h, _) = Ipv4Header::parse(&frags[0]).unwrap();
            r.push(Instant::from_secs(u64::from(id)), &h, &frags[0]);
            r.check_invariants();
        }
        assert!(r.len() <= 2);
    }
}
