//! The seam between the IP layer and fragmentation/reassembly [RFC 791 § 2.3, § 3.2;
//! RFC 1122 § 3.3.2; RFC 815]: a thin adapter over the codec's `fragment` module
//! ([`wirecheck_codec::fragment`]), shaped for what the IP layer needs — whole datagrams as
//! byte vectors in and out, and a three-way answer from a push.
//!
//! - [`fragment`]: 8-octet aligned pieces, MF on all but the last (and on the last if the
//!   input had it), options copied only where the copy flag says so, DF refused with an error.
//! - [`Reassembler`]: keyed by (source, destination, protocol, identification); bounded in
//!   datagrams and bytes (oldest evicted); a datagram whose fragments overlap with different
//!   bytes is discarded whole; the timeout hands back the first fragment's header and leading
//!   octets so the caller can send ICMP Time Exceeded code 1 [RFC 1122 § 3.3.2].

use wirecheck_codec::fragment::{
    self as codec_fragment, Datagram, ReassemblerConfig as CodecConfig,
};
use wirecheck_codec::ipv4::Ipv4Header;
use wirecheck_codec::time::{Duration, Instant};
use wirecheck_codec::ErrorKind;

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
    if datagram.len() <= usize::from(mtu) {
        return Ok(vec![datagram.to_vec()]);
    }
    let (header, payload) =
        Ipv4Header::parse(datagram).map_err(|_| FragmentError::Unfragmentable)?;
    let pieces = codec_fragment::fragment(&header, payload, mtu).map_err(|e| match e.kind {
        ErrorKind::FragmentationNeeded { .. } => FragmentError::DontFragment,
        _ => FragmentError::Unfragmentable,
    })?;
    let mut out = Vec::new();
    for piece in pieces {
        let mut buf = vec![0u8; piece.len()];
        let n = piece
            .emit(&mut buf)
            .map_err(|_| FragmentError::Unfragmentable)?;
        buf.truncate(n);
        out.push(buf);
    }
    Ok(out)
}

/// Reassembly limits [RFC 1122 § 3.3.2].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Most datagrams in reassembly at once; the oldest is evicted for a new one.
    pub max_datagrams: usize,
    /// Most octets held over all datagrams, as the codec's reassembler counts them (a
    /// datagram whose end is unknown is charged the largest size it can reach, about 64 KiB).
    pub max_bytes: usize,
    /// How long a datagram may take to complete (RFC 1122 suggests 60 to 120 s; 30 s is
    /// Linux's `ipfrag_time`).
    pub timeout: Duration,
}

impl Default for ReassemblyConfig {
    fn default() -> ReassemblyConfig {
        ReassemblyConfig {
            max_datagrams: 16,
            max_bytes: 1 << 20,
            timeout: Duration::from_secs(30),
        }
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
#[derive(Debug)]
pub(crate) struct Reassembler {
    inner: codec_fragment::Reassembler,
    /// Datagrams reported as expired by a push, to hand out at the next `poll_expired`.
    expired: Vec<(Instant, Option<Vec<u8>>)>,
    max_datagrams: usize,
}

impl Reassembler {
    pub(crate) fn new(config: ReassemblyConfig) -> Reassembler {
        let max_datagrams = config.max_datagrams.max(1);
        Reassembler {
            inner: codec_fragment::Reassembler::new(CodecConfig {
                max_datagrams,
                max_bytes: config.max_bytes,
                timeout: config.timeout,
                spare_buffers: 0,
            }),
            expired: Vec::new(),
            max_datagrams,
        }
    }

    /// Adds one fragment: `datagram` is the whole fragment as received (header and payload,
    /// padding stripped) and `header` its parsed header.
    pub(crate) fn push(&mut self, now: Instant, header: &Ipv4Header<'_>, datagram: &[u8]) -> Push {
        let payload = datagram.get(header.header_len()..).unwrap_or_default();
        let push = self.inner.push(now, header, payload);
        if let Some(e) = push.expired {
            if self.expired.len() < self.max_datagrams {
                self.expired
                    .push((now, e.first_fragment.map(|f| f.as_bytes().to_vec())));
            }
        }
        match push.datagram {
            Some(Datagram::Reassembled(r)) => Push::Complete(r.as_bytes().to_vec()),
            Some(Datagram::Whole { .. }) => Push::Complete(datagram.to_vec()),
            None if push.findings.any(|f| f.discards_datagram()) => Push::Discarded,
            None if !push.findings.is_empty() && self.inner.in_flight() == 0 => Push::Discarded,
            None => Push::Incomplete,
        }
    }

    /// Removes the datagrams whose time ran out; for each, returns the first fragment's header
    /// and up to 8 leading data octets (the ICMP quote) if it had arrived.
    pub(crate) fn poll_expired(&mut self, now: Instant) -> Vec<Option<Vec<u8>>> {
        let mut out: Vec<Option<Vec<u8>>> =
            self.expired.drain(..).map(|(_, first)| first).collect();
        while let Some(e) = self.inner.poll_expired(now) {
            out.push(e.first_fragment.map(|f| f.as_bytes().to_vec()));
        }
        out
    }

    /// The earliest reassembly deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        // Expiries a push reported are due at once (the caller's next handle_timeout).
        let reported = self.expired.iter().map(|(at, _)| *at).min();
        match (reported, self.inner.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Datagrams in reassembly.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.in_flight()
    }

    pub(crate) fn check_invariants(&self) {
        assert!(self.inner.in_flight() <= self.max_datagrams);
        assert!(self.inner.held_bytes() <= self.inner.config().max_bytes);
        assert!(self.expired.len() <= self.max_datagrams);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use wirecheck_codec::ipv4::{IpProtocol, Ipv4Option, Ipv4Options};

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
        // The datagram stays poisoned: the other fragments never complete it.
        for f in &frags[1..] {
            let (h, _) = Ipv4Header::parse(f).unwrap();
            assert_ne!(
                core::mem::discriminant(&r.push(Instant::ZERO, &h, f)),
                core::mem::discriminant(&Push::Complete(Vec::new()))
            );
        }
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
        assert_eq!(quote.len(), 28, "header and 8 octets");
        assert_eq!(&quote[..20], &frags[0][..20]);
        // Only a later fragment: no quote.
        r.push(Instant::ZERO, &h2, &frags[2]);
        assert_eq!(r.poll_expired(Instant::from_secs(60)), vec![None]);
    }

    #[test]
    fn bounded_in_datagrams_and_bytes() {
        let config = ReassemblyConfig {
            max_datagrams: 2,
            max_bytes: 200_000,
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
