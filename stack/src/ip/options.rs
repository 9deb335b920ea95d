//! IP options a router acts on while forwarding [RFC 791 § 3.1; RFC 1812 § 5.2.4, § 5.3.13]:
//! Record Route and Internet Timestamp are stamped in place with the outgoing interface's
//! address; source routes are recognised so they can be refused (default) or followed.

use core::net::Ipv4Addr;

use wirecheck_codec::ipv4::OptionType;
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

/// Whether the options hold a Loose or Strict Source and Record Route option.
pub(crate) fn has_source_route(options: &[u8]) -> bool {
    source_route(options).is_some()
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

    #[test]
    fn finds_source_routes() {
        assert!(has_source_route(&[1, 131, 7, 4, 1, 2, 3, 4]));
        assert_eq!(
            source_route(&[137, 7, 4, 1, 2, 3, 4, 0]),
            Some((0, true, 7, 4))
        );
        assert!(!has_source_route(&[7, 7, 4, 0, 0, 0, 0, 0]));
        assert!(!has_source_route(&[0, 131, 7, 4]));
    }
}
