//! The Internet checksum [RFC 1071], its incremental update [RFC 1624], the IPv4 pseudo-header
//! used by UDP and TCP [RFC 768, RFC 9293 § 3.1], and the status a verification reports.
//!
//! The sum is computed over native-endian words (16-bit words into 32-bit SIMD-friendly lanes
//! for long slices, 32-bit words into a 64-bit accumulator for headers) and folded at the end;
//! the one's-complement sum is byte-order independent [RFC 1071 § 2(B)], so one byte swap of
//! the folded result gives the network-order value.

use core::net::Ipv4Addr;

/// The outcome of checking a checksum field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    /// The field holds the right value.
    Good,
    /// The field holds a wrong value.
    Bad {
        /// The value the field should hold.
        expected: u16,
        /// The value the field holds.
        found: u16,
    },
    /// The field is zero where zero means "no checksum" (UDP over IPv4, [RFC 768]).
    Absent,
    /// The field holds only the folded pseudo-header sum: the sender handed the checksum to its
    /// network card (checksum offload) and the capture was taken before the card filled it in.
    Partial,
}

impl ChecksumStatus {
    /// Whether the packet's checksum can be trusted as sent (`Good` or `Absent`).
    pub const fn is_acceptable(self) -> bool {
        matches!(self, ChecksumStatus::Good | ChecksumStatus::Absent)
    }

    /// Wireshark's `*.checksum.status` value: 0 bad, 1 good, 3 not present (UDP zero).
    /// (Wireshark's 2, "unverified", is for a checksum it could not check: no status here.)
    pub const fn wireshark_status(self) -> u8 {
        match self {
            ChecksumStatus::Good => 1,
            ChecksumStatus::Bad { .. } | ChecksumStatus::Partial => 0,
            ChecksumStatus::Absent => 3,
        }
    }
}

/// A running one's-complement sum over any number of byte slices.
///
/// Slices may have any length; a slice that starts at an odd position of the whole (because the
/// one before it had odd length) is accounted for, so `add_bytes(a); add_bytes(b)` always equals
/// `add_bytes(a ++ b)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accumulator {
    /// Sum of big-endian 16-bit words, not yet folded.
    sum: u64,
    /// Whether the bytes added so far have odd length.
    odd: bool,
}

impl Accumulator {
    /// An empty sum.
    pub const fn new() -> Self {
        Accumulator { sum: 0, odd: false }
    }

    /// Adds a 16-bit word (network order value).
    #[inline]
    pub const fn add_u16(mut self, word: u16) -> Self {
        let w = if self.odd { word.swap_bytes() } else { word } as u64;
        self.sum += w;
        self
    }

    /// Adds a 32-bit value as two 16-bit words.
    #[inline]
    pub const fn add_u32(self, value: u32) -> Self {
        self.add_u16((value >> 16) as u16)
            .add_u16((value & 0xffff) as u16)
    }

    /// Adds an IPv4 address as two 16-bit words.
    #[inline]
    pub const fn add_addr(self, addr: Ipv4Addr) -> Self {
        self.add_u32(addr.to_bits())
    }

    /// Adds bytes.
    #[inline]
    pub fn add_bytes(mut self, data: &[u8]) -> Self {
        let folded = fold(sum_be(data)) as u64;
        self.sum += if self.odd {
            (folded as u16).swap_bytes() as u64
        } else {
            folded
        };
        if data.len() % 2 == 1 {
            self.odd = !self.odd;
        }
        self
    }

    /// Copies `src` into `dst` (cut to the shorter of the two) and adds the bytes copied, as
    /// [`add_bytes`](Accumulator::add_bytes) would, reading them once: a payload is summed on
    /// its way into or out of a buffer.
    #[inline]
    pub fn add_bytes_copied(mut self, dst: &mut [u8], src: &[u8]) -> Self {
        let n = dst.len().min(src.len());
        let (Some(dst), Some(src)) = (dst.get_mut(..n), src.get(..n)) else {
            return self;
        };
        let native = fold(copy_sum_ne(dst, src));
        let folded = if cfg!(target_endian = "little") {
            native.swap_bytes() as u64
        } else {
            native as u64
        };
        self.sum += if self.odd {
            (folded as u16).swap_bytes() as u64
        } else {
            folded
        };
        if n % 2 == 1 {
            self.odd = !self.odd;
        }
        self
    }

    /// The folded 16-bit one's-complement sum, not complemented.
    pub const fn sum16(self) -> u16 {
        fold(self.sum)
    }

    /// The checksum: the complement of the folded sum.
    pub const fn finish(self) -> u16 {
        !fold(self.sum)
    }
}

/// Folds a wide one's-complement sum (of 16-bit words, or of 32-bit words) to 16 bits,
/// not complemented: the halves added with the carry out added back in (it cannot carry
/// again), twice. Never 0 for a sum that is not 0.
#[inline]
pub const fn fold(sum: u64) -> u16 {
    let (s, carry) = ((sum >> 32) as u32).overflowing_add(sum as u32);
    let s = s + carry as u32;
    let (t, carry) = ((s >> 16) as u16).overflowing_add(s as u16);
    t + carry as u16
}

/// One's-complement sum of `data` as big-endian 16-bit words (an odd final byte is padded with a
/// zero byte), returned unfolded.
#[inline]
fn sum_be(data: &[u8]) -> u64 {
    let native = if data.len() < VECTOR_BLOCK {
        sum_ne_short(data)
    } else {
        sum_ne_long(data)
    };
    let native = fold(native);
    if cfg!(target_endian = "little") {
        native.swap_bytes() as u64
    } else {
        native as u64
    }
}

/// Slices this long or longer go through the vectorisable loop: one block of 16 native
/// 32-bit words, one SIMD lane each.
const VECTOR_BLOCK: usize = 64;
/// Lanes of the vectorisable loop.
const LANES: usize = VECTOR_BLOCK / 4;
/// Blocks after which [`Lanes::total_short`] may be used: 32 · 2048 · 0xffff < 2^32.
const SHORT_BLOCKS: usize = 2048;
/// Bytes summed before the lanes are emptied: 32768 blocks put 32768 words in each lane, and
/// neither lane sum (of high halves, or of low halves, at most 0xffff each) reaches 2^32.
const FLUSH_BYTES: usize = VECTOR_BLOCK * 32768;

/// The 32-bit lanes of the vectorisable loop. Each native 32-bit word `w` of a block adds
/// itself to its `raw` lane (wrapping) and its high half to its `high` lane; the sum of the
/// low halves is then `raw − (high << 16)` modulo 2^32, exact because it stays below 2^32
/// (see [`FLUSH_BYTES`]). One add, one shift and one add per SIMD register of data, with no
/// mask and no register copy.
#[derive(Clone, Copy)]
struct Lanes {
    raw: [u32; LANES],
    high: [u32; LANES],
}

impl Lanes {
    const fn new() -> Lanes {
        Lanes {
            raw: [0; LANES],
            high: [0; LANES],
        }
    }

    #[inline(always)]
    fn add(&mut self, block: &[u8; VECTOR_BLOCK]) {
        for ((raw, high), word) in self
            .raw
            .iter_mut()
            .zip(self.high.iter_mut())
            .zip(block.chunks_exact(4))
        {
            if let Some(w) = word.first_chunk::<4>() {
                let w = u32::from_ne_bytes(*w);
                *raw = raw.wrapping_add(w);
                *high += w >> 16;
            }
        }
    }

    /// [`total`](Lanes::total) after at most [`SHORT_BLOCKS`] blocks, in 32-bit arithmetic:
    /// each lane's sum of low halves and of high halves is then at most
    /// `SHORT_BLOCKS · 0xffff`, and all 32 of them together below 2^32 — no carry is lost,
    /// and the reduction takes half the instructions of the 64-bit one.
    #[inline(always)]
    fn total_short(&self) -> u64 {
        let mut sums = [0u32; LANES];
        for ((sum, raw), high) in sums.iter_mut().zip(self.raw).zip(self.high) {
            *sum = raw.wrapping_sub(high << 16).wrapping_add(high);
        }
        // Halves added lane by lane (what SIMD registers do), down to four lanes.
        let mut width = LANES;
        while width > 4 {
            width /= 2;
            let (low, high) = sums.split_at_mut(width);
            for (l, h) in low.iter_mut().zip(high.iter()) {
                *l = l.wrapping_add(*h);
            }
        }
        let total = sums
            .iter()
            .take(4)
            .fold(0u32, |total, sum| total.wrapping_add(*sum));
        u64::from(total)
    }

    /// The unfolded sum of every 16-bit half added.
    #[inline(always)]
    fn total(&self) -> u64 {
        let mut total = 0u64;
        for (raw, high) in self.raw.iter().zip(self.high.iter()) {
            let low = raw.wrapping_sub(high << 16);
            total += u64::from(low) + u64::from(*high);
        }
        total
    }
}

/// Unfolded sum of `data` as native-endian 16-bit words, for short slices (headers): native
/// 32-bit words into a 64-bit accumulator, which no slice can overflow.
#[inline(always)]
fn sum_ne_short(data: &[u8]) -> u64 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        if let Some(w) = word.first_chunk::<4>() {
            sum += u64::from(u32::from_ne_bytes(*w));
        }
    }
    // The last 0 to 3 bytes, as the start of a zero-padded word.
    let tail = match *words.remainder() {
        [a] => [a, 0, 0, 0],
        [a, b] => [a, b, 0, 0],
        [a, b, c] => [a, b, c, 0],
        _ => [0; 4],
    };
    sum + u64::from(u32::from_ne_bytes(tail))
}

/// Unfolded sum of `data` as native-endian 16-bit words, for long slices: in parts of at
/// most [`FLUSH_BYTES`] (one part for any segment), each through [`sum_ne_part`].
#[inline(never)]
fn sum_ne_long(data: &[u8]) -> u64 {
    if data.len() <= FLUSH_BYTES {
        return sum_ne_part(data);
    }
    let mut sum: u64 = 0;
    for part in data.chunks(FLUSH_BYTES) {
        sum += sum_ne_part(part);
    }
    sum
}

/// Unfolded sum of at most [`FLUSH_BYTES`] of `data`: whole blocks through [`Lanes`], which
/// the compiler vectorises, then the remaining whole 16-bit words as one more block (the
/// last 64 octets of whole words, those already summed masked out), then an odd last octet
/// as the start of a zero-padded word. A part shorter than a block is a short slice.
#[inline(always)]
fn sum_ne_part(part: &[u8]) -> u64 {
    if part.len() < VECTOR_BLOCK {
        return sum_ne_short(part);
    }
    let mut lanes = Lanes::new();
    let mut blocks = part.chunks_exact(VECTOR_BLOCK);
    for block in &mut blocks {
        if let Ok(block) = <&[u8; VECTOR_BLOCK]>::try_from(block) {
            lanes.add(block);
        }
    }
    let rest = blocks.remainder();
    let tail_words = rest.len() & !1;
    if tail_words > 0 {
        let end = part.len() & !1;
        let last = end
            .checked_sub(VECTOR_BLOCK)
            .and_then(|start| part.get(start..end))
            .and_then(|b| <&[u8; VECTOR_BLOCK]>::try_from(b).ok());
        let mask = TAIL_MASK
            .get(tail_words..tail_words + VECTOR_BLOCK)
            .and_then(|m| <&[u8; VECTOR_BLOCK]>::try_from(m).ok());
        if let (Some(last), Some(mask)) = (last, mask) {
            let mut block = [0u8; VECTOR_BLOCK];
            for ((b, l), m) in block.iter_mut().zip(last).zip(mask) {
                *b = l & m;
            }
            lanes.add(&block);
        }
    }
    let odd = match *rest {
        [.., last] if rest.len() % 2 == 1 => u64::from(u16::from_ne_bytes([last, 0])),
        _ => 0,
    };
    let lanes_sum = if part.len().div_ceil(VECTOR_BLOCK) <= SHORT_BLOCKS {
        lanes.total_short()
    } else {
        lanes.total()
    };
    lanes_sum + odd
}

/// `TAIL_MASK[n..n + VECTOR_BLOCK]` keeps the last `n` octets of a block and clears the others.
static TAIL_MASK: [u8; 2 * VECTOR_BLOCK] = {
    let mut m = [0u8; 2 * VECTOR_BLOCK];
    let mut i = VECTOR_BLOCK;
    while i < 2 * VECTOR_BLOCK {
        m[i] = 0xff;
        i += 1;
    }
    m
};

/// Copies `src` into `dst` (both of one length) and returns the unfolded sum of the bytes as
/// native-endian 16-bit words, reading each byte once: [`sum_ne_long`] with a store of each
/// block it has loaded. The last partial block goes through a zero-padded block (zeros add
/// nothing, and an odd final byte is the first of a zero-padded word, as the sum wants).
#[inline(never)]
fn copy_sum_ne(dst: &mut [u8], src: &[u8]) -> u64 {
    let mut sum: u64 = 0;
    for (to, from) in dst.chunks_mut(FLUSH_BYTES).zip(src.chunks(FLUSH_BYTES)) {
        let mut lanes = Lanes::new();
        let mut to_blocks = to.chunks_exact_mut(VECTOR_BLOCK);
        let mut from_blocks = from.chunks_exact(VECTOR_BLOCK);
        for (d, s) in (&mut to_blocks).zip(&mut from_blocks) {
            if let (Ok(d), Ok(block)) = (
                <&mut [u8; VECTOR_BLOCK]>::try_from(d),
                <[u8; VECTOR_BLOCK]>::try_from(s),
            ) {
                // Summed from the loaded block, then stored: the sum needs no second load.
                lanes.add(&block);
                *d = block;
            }
        }
        let rest = from_blocks.remainder();
        let to_rest = to_blocks.into_remainder();
        if !rest.is_empty() {
            let mut block = [0u8; VECTOR_BLOCK];
            if let (Some(b), Some(d)) = (block.get_mut(..rest.len()), to_rest.get_mut(..rest.len()))
            {
                b.copy_from_slice(rest);
                d.copy_from_slice(rest);
            }
            lanes.add(&block);
        }
        sum += lanes.total();
    }
    sum
}

/// The Internet checksum of `data`: the complement of its one's-complement sum.
#[inline]
pub fn internet_checksum(data: &[u8]) -> u16 {
    Accumulator::new().add_bytes(data).finish()
}

/// The start of a UDP or TCP checksum: the IPv4 pseudo-header (source, destination, zero,
/// protocol, transport length) [RFC 768; RFC 9293 § 3.1].
#[inline]
pub const fn pseudo_header(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    transport_length: u16,
) -> Accumulator {
    Accumulator::new()
        .add_addr(source)
        .add_addr(destination)
        .add_u16(protocol as u16)
        .add_u16(transport_length)
}

/// Updates a checksum after one 16-bit word of the covered data changed from `old` to `new`,
/// by RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`.
#[inline]
pub const fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    let sum = (!checksum) as u64 + (!old) as u64 + new as u64;
    !fold(sum)
}

/// Updates a checksum after a 32-bit value (an address) of the covered data changed.
#[inline]
pub const fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let c = update_u16(checksum, (old >> 16) as u16, (new >> 16) as u16);
    update_u16(c, old as u16, new as u16)
}

/// Verifies a checksum field given the sum over the covered data *with the field set to zero*.
///
/// `zero_means_absent` is for UDP, where a zero field means the sender computed no checksum.
/// `pseudo` is the pseudo-header sum for UDP and TCP (for the `Partial` offload case), `None`
/// for IPv4, ICMP and IGMP.
#[inline]
pub fn status(
    found: u16,
    sum_without_field: Accumulator,
    zero_means_absent: bool,
    pseudo: Option<Accumulator>,
) -> ChecksumStatus {
    if zero_means_absent && found == 0 {
        return ChecksumStatus::Absent;
    }
    let mut expected = sum_without_field.finish();
    if zero_means_absent && expected == 0 {
        // A computed zero is sent as all ones [RFC 768].
        expected = 0xffff;
    }
    // In one's-complement arithmetic 0x0000 and 0xffff are both zero: a field holding the other
    // representation of the right value still makes the sum check out (RFC 1624 § 3).
    let equal = found == expected || (found == !expected && (found == 0 || found == 0xffff));
    if equal {
        return ChecksumStatus::Good;
    }
    if let Some(p) = pseudo {
        if found == p.sum16() {
            return ChecksumStatus::Partial;
        }
    }
    ChecksumStatus::Bad { expected, found }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The obvious RFC 1071 loop, as a reference for the fast one.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i + 1 < data.len() {
            sum += u16::from_be_bytes([data[i], data[i + 1]]) as u32;
            i += 2;
        }
        if i < data.len() {
            sum += (data[i] as u32) << 8;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    proptest! {
        /// The fold is the sum's residue modulo 0xffff, never 0 for a sum that is not 0
        /// (RFC 1071 § 2 (1)).
        #[test]
        fn fold_is_the_end_around_carry_fold(
            x in prop_oneof![any::<u64>(), Just(0u64), Just(u64::MAX), 0u64..0x3_0000]
        ) {
            let expected = match x % 0xffff {
                0 if x != 0 => 0xffff,
                r => r as u16,
            };
            prop_assert_eq!(fold(x), expected);
        }
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 § 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Accumulator::new().add_bytes(&data).sum16(), 0xddf2);
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn real_ipv4_header() {
        // A captured header (Wikipedia's worked example): checksum 0xb861.
        let h = hex::decode("450000730000400040110000c0a80001c0a800c7").unwrap();
        assert_eq!(internet_checksum(&h), 0xb861);
        let mut with = h.clone();
        with[10] = 0xb8;
        with[11] = 0x61;
        assert_eq!(internet_checksum(&with), 0);
    }

    #[test]
    fn incremental_ttl_decrement_matches_recompute() {
        let mut h = hex::decode("45000073000040004011b861c0a80001c0a800c7").unwrap();
        let old = u16::from_be_bytes([h[8], h[9]]);
        h[8] -= 1;
        let new = u16::from_be_bytes([h[8], h[9]]);
        let updated = update_u16(0xb861, old, new);
        h[10] = 0;
        h[11] = 0;
        assert_eq!(updated, internet_checksum(&h));
    }

    #[test]
    fn udp_zero_is_absent_and_all_ones_is_good_for_computed_zero() {
        assert_eq!(
            status(0, Accumulator::new().add_u16(0x1234), true, None),
            ChecksumStatus::Absent
        );
        // Data summing to 0xffff makes a computed checksum of zero, sent as 0xffff.
        let sum = Accumulator::new().add_u16(0xffff);
        assert_eq!(sum.finish(), 0);
        assert_eq!(status(0xffff, sum, true, None), ChecksumStatus::Good);
        assert_eq!(
            status(0x0001, sum, true, None),
            ChecksumStatus::Bad {
                expected: 0xffff,
                found: 1
            }
        );
    }

    #[test]
    fn partial_offload_detected() {
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        let pseudo = pseudo_header(src, dst, 6, 20);
        let whole = pseudo.add_bytes(&[0u8; 20]).add_u16(0x5555);
        assert_eq!(
            status(pseudo.sum16(), whole, false, Some(pseudo)),
            ChecksumStatus::Partial
        );
    }

    #[test]
    fn all_zero_data_with_zero_field_is_good_where_status_says_so() {
        // The whole sum of all-zero bytes is 0, not all ones: the fast check fails and `status`
        // decides (expected 0xffff, found 0: the other representation of zero, so Good).
        let zeros = [0u8; 20];
        assert_eq!(crate::ipv4::verify_checksum(&zeros), ChecksumStatus::Good);
        assert_eq!(crate::icmp::verify_checksum(&zeros), ChecksumStatus::Good);
        assert_eq!(crate::igmp::verify_checksum(&zeros), ChecksumStatus::Good);
    }

    #[test]
    fn long_slices_empty_their_lanes_before_overflow() {
        // All ones is the largest word: more than one flush of the 32-bit sum (128 KiB) of it,
        // plus a partial block and an odd byte, against a 64-bit reference sum; and the most
        // blocks the 32-bit reduction takes, and one more.
        for len in [
            SHORT_BLOCKS * VECTOR_BLOCK - 1,
            SHORT_BLOCKS * VECTOR_BLOCK,
            SHORT_BLOCKS * VECTOR_BLOCK + 1,
            SHORT_BLOCKS * VECTOR_BLOCK + VECTOR_BLOCK - 1,
            (SHORT_BLOCKS + 1) * VECTOR_BLOCK,
            FLUSH_BYTES,
            FLUSH_BYTES + 2 * VECTOR_BLOCK + 7,
            2 * FLUSH_BYTES + 1,
        ] {
            let data = std::vec![0xffu8; len];
            let mut copy = std::vec![0u8; len];
            assert_eq!(
                Accumulator::new().add_bytes_copied(&mut copy, &data),
                Accumulator::new().add_bytes(&data),
                "{len} bytes copied"
            );
            assert_eq!(copy, data);
            let mut sum: u64 = (len as u64 / 2) * 0xffff + if len % 2 == 1 { 0xff00 } else { 0 };
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            assert_eq!(internet_checksum(&data), !(sum as u16), "{len} bytes");
        }
    }

    proptest! {
        #[test]
        fn fast_sum_equals_reference(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            prop_assert_eq!(internet_checksum(&data), reference(&data));
        }

        /// A copying sum copies and sums exactly what `add_bytes` sums, at any offset of the
        /// whole, with the destination shorter, longer or as long as the source.
        #[test]
        fn copied_sum_equals_sum(
            data in proptest::collection::vec(any::<u8>(), 0..3000),
            before in 0usize..3,
            extra in 0usize..3,
            short in any::<bool>(),
        ) {
            let len = if short { data.len() / 2 } else { data.len() + extra };
            let mut out = std::vec![0xeeu8; len];
            let start = Accumulator::new().add_bytes(&[0x12, 0x34, 0x56][..before]);
            let copied = start.add_bytes_copied(&mut out, &data);
            let n = len.min(data.len());
            prop_assert_eq!(&out[..n], &data[..n]);
            prop_assert!(out[n..].iter().all(|&b| b == 0xee));
            prop_assert_eq!(copied, start.add_bytes(&data[..n]));
        }

        #[test]
        fn split_anywhere_equals_whole(data in proptest::collection::vec(any::<u8>(), 0..300), cut1 in 0usize..300, cut2 in 0usize..300) {
            let a = cut1.min(data.len());
            let b = cut2.min(data.len()).max(a);
            let split = Accumulator::new().add_bytes(&data[..a]).add_bytes(&data[a..b]).add_bytes(&data[b..]);
            prop_assert_eq!(split.finish(), internet_checksum(&data));
        }

        #[test]
        fn incremental_update_equals_recompute(mut data in proptest::collection::vec(any::<u8>(), 2..200), word in any::<u16>(), at in 0usize..100) {
            if data.len() % 2 == 1 { data.push(0); }
            let i = (at * 2) % data.len();
            let before = internet_checksum(&data);
            let old = u16::from_be_bytes([data[i], data[i + 1]]);
            data[i..i + 2].copy_from_slice(&word.to_be_bytes());
            let after = internet_checksum(&data);
            let updated = update_u16(before, old, word);
            // Both representations of zero are the same one's-complement value.
            let norm = |c: u16| if c == 0xffff { 0 } else { c };
            prop_assert_eq!(norm(updated), norm(after));
        }

        /// The verify functions answer `Good` from the whole sum (RFC 1071 § 2) and call
        /// `status` only otherwise; their answers must be those of `status` on the sum without
        /// the field, for any field value (the right one, the other zero, zero, anything).
        #[test]
        fn verify_functions_agree_with_status(
            mut data in proptest::collection::vec(any::<u8>(), 20..300),
            field in 0u8..4,
            value in any::<u16>(),
            source in any::<u32>(),
            destination in any::<u32>(),
        ) {
            let (source, destination) = (Ipv4Addr::from_bits(source), Ipv4Addr::from_bits(destination));
            // (at, pseudo-header, zero means absent) per protocol.
            let tcp_pseudo = Accumulator::new()
                .add_addr(source)
                .add_addr(destination)
                .add_u16(6)
                .add_u32(data.len() as u32);
            // UDP: a length field equal to the slice, so the whole slice is covered.
            let udp_pseudo = pseudo_header(source, destination, 17, data.len() as u16);
            for (name, at, pseudo, absent) in [
                ("ipv4", 10, None, false),
                ("icmp", 2, None, false),
                ("igmp", 2, None, false),
                ("tcp", 16, Some(tcp_pseudo), false),
                ("udp", 6, Some(udp_pseudo), true),
            ] {
                if name == "udp" {
                    let len = (data.len() as u16).to_be_bytes();
                    data[4..6].copy_from_slice(&len);
                }
                let start = pseudo.unwrap_or_default();
                let without = start.add_bytes(&data[..at]).add_bytes(&data[at + 2..]);
                let mut expected = without.finish();
                if absent && expected == 0 {
                    expected = 0xffff;
                }
                let found = match field {
                    0 => expected,
                    1 => !expected,
                    2 => 0,
                    _ => value,
                };
                data[at..at + 2].copy_from_slice(&found.to_be_bytes());
                let want = status(found, without, absent, pseudo);
                let got = match name {
                    "ipv4" => crate::ipv4::verify_checksum(&data),
                    "icmp" => crate::icmp::verify_checksum(&data),
                    "igmp" => crate::igmp::verify_checksum(&data),
                    "tcp" => crate::tcp::TcpHeader::verify_checksum(source, destination, &data),
                    _ => crate::udp::UdpHeader::verify_checksum(source, destination, &data),
                };
                prop_assert_eq!(got, want, "{}", name);
            }
        }

        #[test]
        fn checksum_of_data_with_checksum_is_zero(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut v: Vec<u8> = data.clone();
            if v.len() % 2 == 1 { v.push(0); }
            let c = internet_checksum(&v);
            v.extend_from_slice(&c.to_be_bytes());
            prop_assert_eq!(Accumulator::new().add_bytes(&v).sum16(), 0xffff);
        }
    }
}
