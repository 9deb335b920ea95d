//! IP options a router acts on while forwarding [RFC 791 § 3.1; RFC 1812 § 5.2.4, § 5.3.13]:
//! Record Route and Internet Timestamp are stamped in place with the outgoing interface's
//! address; source routes are recognised so they can be refused (default) or followed.

use core::net::Ipv4Addr;

use wirecheck_codec::ipv4::{Ipv4Options, OptionType};
use wirecheck_codec::time::Instant;

/// The offset of the options in the header, for Parameter Problem pointers.
const OPTIONS_AT: usize = 20;

/// A timestamp for the Timestamp option: milliseconds since midnight UT, which a sans-IO stack
/// does not know, so the stack's own clock is used and the high-order bit marks the value as
/// non-standard, as [RFC 791 § 3.1] allows.
pub(crate) fn timestamp(now: Instant) -> u32 {
    let ms = (now.as_micros() / 1000) % 86_400_000;
    0x8000_0000 | ms as u32
}

/// Stamps Record Route and Timestamp options in `options` (the header's option octets) for a
/// datagram leaving through an interface with address `out`. Returns whether anything changed,
/// or the Parameter Problem pointer (offset in the header) of a malformed option or an overflow
/// count that overflows.
pub(crate) fn stamp_for_forwarding(
    options: &mut [u8],
    out: Ipv4Addr,
    ours: &[Ipv4Addr],
    now: Instant,
) -> Result<bool, u8> {
    let mut modified = false;
    let mut at = 0usize;
    let pointer = |offset: usize| (OPTIONS_AT + offset).min(255) as u8;
    while let Some(&kind) = options.get(at) {
        let kind = OptionType(kind);
        if kind == OptionType::END_OF_LIST {
            break;
        }
        if kind == OptionType::NO_OPERATION {
            at += 1;
            continue;
        }
        let len = usize::from(*options.get(at + 1).ok_or(pointer(at))?);
        if len < 2 || at + len > options.len() {
            return Err(pointer(at + 1));
        }
        if kind == OptionType::RECORD_ROUTE {
            let ptr = usize::from(*options.get(at + 2).ok_or(pointer(at + 1))?);
            if ptr < 4 {
                return Err(pointer(at + 2));
            }
            // The slot is octets ptr..ptr+3 of the option, counting from 1.
            if ptr + 3 <= len {
                if let Some(slot) = options.get_mut(at + ptr - 1..at + ptr + 3) {
                    slot.copy_from_slice(&out.octets());
                }
                if let Some(p) = options.get_mut(at + 2) {
                    *p = (ptr + 4) as u8;
                }
                modified = true;
            }
        } else if kind == OptionType::TIMESTAMP {
            if len < 4 {
                return Err(pointer(at + 1));
            }
            let ptr = usize::from(*options.get(at + 2).ok_or(pointer(at + 1))?);
            let oflw_flg = *options.get(at + 3).ok_or(pointer(at + 1))?;
            let flag = oflw_flg & 0x0f;
            let entry = match flag {
                0 => 4,
                1 | 3 => 8,
                _ => return Err(pointer(at + 3)),
            };
            if ptr < 5 {
                return Err(pointer(at + 2));
            }
            let stamp = timestamp(now).to_be_bytes();
            if ptr + entry - 1 <= len {
                let slot_at = at + ptr - 1;
                let write = match flag {
                    0 => Some((slot_at, None)),
                    1 => Some((slot_at, Some(out))),
                    _ => {
                        // Prespecified: stamp only if the next address is one of ours.
                        let listed = options
                            .get(slot_at..slot_at + 4)
                            .map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]));
                        listed
                            .filter(|a| *a == out || ours.contains(a))
                            .map(|a| (slot_at, Some(a)))
                    }
                };
                if let Some((slot, addr)) = write {
                    let mut w = slot;
                    if let Some(a) = addr {
                        if let Some(s) = options.get_mut(w..w + 4) {
                            s.copy_from_slice(&a.octets());
                        }
                        w += 4;
                    }
                    if let Some(s) = options.get_mut(w..w + 4) {
                        s.copy_from_slice(&stamp);
                    }
                    if let Some(p) = options.get_mut(at + 2) {
                        *p = (ptr + entry) as u8;
                    }
                    modified = true;
                }
            } else {
                // Full: count the hop in the overflow field; an overflowing overflow is an
                // error [RFC 791 § 3.1].
                let overflow = oflw_flg >> 4;
                if overflow == 15 {
                    return Err(pointer(at + 3));
                }
                if let Some(o) = options.get_mut(at + 3) {
                    *o = ((overflow + 1) << 4) | flag;
                }
                modified = true;
            }
        }
        at += len;
    }
    Ok(modified)
}

/// The first source route option: its offset in `options`, whether it is strict, its length
/// and pointer.
pub(crate) fn source_route(options: &[u8]) -> Option<(usize, bool, usize, usize)> {
    let mut at = 0usize;
    while let Some(&kind) = options.get(at) {
        let kind = OptionType(kind);
        if kind == OptionType::END_OF_LIST {
            return None;
        }
        if kind == OptionType::NO_OPERATION {
            at += 1;
            continue;
        }
        let len = usize::from(*options.get(at + 1)?);
        if len < 2 {
            return None;
        }
        if kind == OptionType::LOOSE_SOURCE_ROUTE || kind == OptionType::STRICT_SOURCE_ROUTE {
            let ptr = usize::from(*options.get(at + 2)?);
            return Some((at, kind == OptionType::STRICT_SOURCE_ROUTE, len, ptr));
        }
        at += len;
    }
    None
}

/// Whether a source route option of length `len` with pointer `ptr` is complete: no whole
/// address is left at the pointer, so the datagram has reached its final destination
/// [RFC 791 § 3.1; RFC 1122 § 3.2.1.8 (c)].
pub(crate) fn route_completed(len: usize, ptr: usize) -> bool {
    ptr + 3 > len
}

/// The return route built by reversing a received, completed source route [RFC 1122
/// § 3.2.1.8 (c), § 3.2.2.6, § 4.2.3.8]: the first hop, which the reply is addressed to, and
/// the source route option (of the received type, loose or strict) naming the rest of the way
/// back, ending at the original source. Fixed size: an option is at most 40 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReturnRoute {
    first_hop: Ipv4Addr,
    option: [u8; Ipv4Options::MAX_LEN],
    len: u8,
}

impl ReturnRoute {
    /// Where the reply goes first: the last address the route recorded.
    pub(crate) fn first_hop(&self) -> Ipv4Addr {
        self.first_hop
    }

    /// The source route option to send (unpadded; the header is padded when written).
    pub(crate) fn option(&self) -> &[u8] {
        self.option.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Reverses the completed source route in `options` (a received header's option octets)
    /// of a datagram from `source`. `None` if there is no source route, it is not complete,
    /// malformed or names an address no router has, or the way back is direct (nothing was
    /// recorded, or only `source`).
    ///
    /// A completed route holds the addresses recorded by the hops, `{G1, G2, … Gn}`, with
    /// the source and us in the IP header. The reply goes to `Gn` with the route
    /// `{>>Gn-1, … G1, S}`. A sender that wrongly listed itself first (`{S, G1, … Gn}`, case
    /// (B) of RFC 1122 § 3.2.1.8 (c)) gets `{>>Gn-1, … G1, S}` too, not a route naming it
    /// twice.
    pub(crate) fn reverse(options: &[u8], source: Ipv4Addr) -> Option<ReturnRoute> {
        let (at, strict, len, ptr) = source_route(options)?;
        if len < 3 || ptr < 4 || !route_completed(len, ptr) {
            return None;
        }
        let body = options.get(at..at + len)?;
        // The recorded addresses: the whole slots before the pointer.
        let count = ((ptr - 4) / 4).min((len - 3) / 4);
        let recorded = |i: usize| {
            let b = body.get(3 + 4 * i..7 + 4 * i)?;
            Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        };
        // Recorded hops are routers' interface addresses: a route naming 0/8, 127/8, a
        // multicast or a broadcast address is bogus and not followed back.
        if (0..count).any(|i| recorded(i).is_none_or(crate::iface::is_martian_source)) {
            return None;
        }
        let last = recorded(count.checked_sub(1)?)?;
        let mut hops = [Ipv4Addr::UNSPECIFIED; Ipv4Options::MAX_LEN / 4];
        let mut n = 0usize;
        for i in (0..count.saturating_sub(1)).rev() {
            *hops.get_mut(n)? = recorded(i)?;
            n += 1;
        }
        let source_listed = recorded(0) == Some(source);
        if !source_listed {
            *hops.get_mut(n)? = source;
            n += 1;
        }
        if last == source || n == 0 {
            return None; // straight back to the source
        }
        let mut option = [0u8; Ipv4Options::MAX_LEN];
        let kind = if strict {
            OptionType::STRICT_SOURCE_ROUTE
        } else {
            OptionType::LOOSE_SOURCE_ROUTE
        };
        let total = 3 + 4 * n;
        *option.get_mut(0)? = kind.0;
        *option.get_mut(1)? = total as u8;
        *option.get_mut(2)? = 4;
        for (i, hop) in hops.iter().take(n).enumerate() {
            option
                .get_mut(3 + 4 * i..7 + 4 * i)?
                .copy_from_slice(&hop.octets());
        }
        Some(ReturnRoute {
            first_hop: last,
            option,
            len: total as u8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: Ipv4Addr = Ipv4Addr::new(223, 1, 3, 1);

    #[test]
    fn record_route_fills_the_next_slot_then_stops() {
        // RR with room for two addresses.
        let mut o = [7u8, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(true)
        );
        assert_eq!(o[2], 8);
        assert_eq!(&o[3..7], &[223, 1, 3, 1]);
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(true)
        );
        assert_eq!(o[2], 12);
        let before = o;
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(false)
        );
        assert_eq!(o, before, "a full record route is left alone");
    }

    #[test]
    fn timestamp_flags() {
        // Flag 0, one slot.
        let mut o = [68u8, 8, 5, 0x00, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::from_millis(1234)),
            Ok(true)
        );
        assert_eq!(o[2], 9);
        assert_eq!(
            u32::from_be_bytes([o[4], o[5], o[6], o[7]]),
            0x8000_0000 | 1234
        );
        // Now full: overflow counts.
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(true)
        );
        assert_eq!(o[3] >> 4, 1);
        // Flag 1: address and timestamp.
        let mut o = [68u8, 12, 5, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(true)
        );
        assert_eq!(&o[4..8], &OUT.octets());
        assert_eq!(o[2], 13);
        // Flag 3: only when the prespecified address is ours.
        let mut o = [68u8, 12, 5, 0x03, 10, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(false)
        );
        let mut o = [68u8, 12, 5, 0x03, 223, 1, 3, 1, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Ok(true)
        );
        // Overflow of the overflow.
        let mut o = [68u8, 4, 5, 0xf0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Err(23)
        );
        // Bad flag.
        let mut o = [68u8, 8, 5, 0x02, 0, 0, 0, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Err(23)
        );
    }

    #[test]
    fn malformed_lengths_point_at_the_length() {
        let mut o = [7u8, 40, 4, 0];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Err(21)
        );
        let mut o = [1u8, 1, 7];
        assert_eq!(
            stamp_for_forwarding(&mut o, OUT, &[], Instant::ZERO),
            Err(22)
        );
    }

    const S: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    #[test]
    fn return_route_reverses_the_recorded_hops_and_ends_at_the_source() {
        // Received at the final destination: {G1 = 198.51.100.1, G2 = 203.0.113.2 >>}.
        let received = [
            131u8, 11, 12, 198, 51, 100, 1, 203, 0, 113, 2, 0, // EOL pad
        ];
        let r = ReturnRoute::reverse(&received, S).unwrap();
        assert_eq!(r.first_hop(), Ipv4Addr::new(203, 0, 113, 2));
        assert_eq!(
            r.option(),
            &[131, 11, 4, 198, 51, 100, 1, 192, 0, 2, 1],
            "{{>>G1, S}}"
        );
        // Strict stays strict, after a NOP.
        let received = [1u8, 137, 7, 8, 10, 0, 0, 9];
        let r = ReturnRoute::reverse(&received, S).unwrap();
        assert_eq!(r.first_hop(), Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(r.option(), &[137, 7, 4, 192, 0, 2, 1]);
    }

    #[test]
    fn return_route_of_a_route_listing_its_source_names_it_once() {
        // Case (B): {S, G1, G2 >>}: back to G2, then {>>G1, S}.
        let received = [131u8, 15, 16, 192, 0, 2, 1, 10, 0, 0, 1, 10, 0, 0, 2];
        let r = ReturnRoute::reverse(&received, S).unwrap();
        assert_eq!(r.first_hop(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r.option(), &[131, 11, 4, 10, 0, 0, 1, 192, 0, 2, 1]);
        // {S >>} alone: straight back, no option.
        assert_eq!(ReturnRoute::reverse(&[131, 7, 8, 192, 0, 2, 1, 0], S), None);
    }

    #[test]
    fn no_return_route_unless_complete_and_well_formed() {
        // Pointer at a remaining address: not complete (we are not the final destination).
        assert_eq!(
            ReturnRoute::reverse(&[131, 11, 8, 10, 0, 0, 1, 10, 0, 0, 2, 0], S),
            None
        );
        // Nothing recorded, pointer below 4, no source route at all, truncated.
        assert_eq!(ReturnRoute::reverse(&[131, 3, 4, 0], S), None);
        assert_eq!(ReturnRoute::reverse(&[131, 7, 2, 10, 0, 0, 1, 0], S), None);
        assert_eq!(ReturnRoute::reverse(&[7, 7, 8, 10, 0, 0, 1, 0], S), None);
        assert_eq!(ReturnRoute::reverse(&[131, 11, 12, 10, 0], S), None);
        // A hop no router can have: a broadcast, multicast or loopback address.
        for bogus in [
            [255u8, 255, 255, 255],
            [224, 0, 0, 1],
            [127, 0, 0, 1],
            [0, 0, 0, 0],
        ] {
            let mut o = vec![131u8, 11, 12, 10, 0, 0, 1];
            o.extend_from_slice(&bogus);
            o.push(0);
            assert_eq!(ReturnRoute::reverse(&o, S), None, "{bogus:?}");
        }
        // A full-size option (9 addresses) reverses within the 40-octet bound.
        let mut big = vec![131u8, 39, 40];
        for i in 1..=9u8 {
            big.extend_from_slice(&[10, 0, 0, i]);
        }
        big.push(0);
        let r = ReturnRoute::reverse(&big, S).unwrap();
        assert_eq!(r.first_hop(), Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(r.option().len(), 39);
        assert_eq!(&r.option()[3..7], &[10, 0, 0, 8]);
        assert_eq!(&r.option()[35..39], &S.octets());
    }

    #[test]
    fn finds_source_routes() {
        assert_eq!(
            source_route(&[1, 131, 7, 4, 1, 2, 3, 4]),
            Some((1, false, 7, 4))
        );
        assert_eq!(
            source_route(&[137, 7, 4, 1, 2, 3, 4, 0]),
            Some((0, true, 7, 4))
        );
        assert_eq!(source_route(&[7, 7, 4, 0, 0, 0, 0, 0]), None);
        assert_eq!(source_route(&[0, 131, 7, 4]), None);
    }
}
