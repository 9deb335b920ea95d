//! Send and receive buffers, bounded by configuration [RFC 9293 § 3.8.6].
//!
//! - [`SendBuffer`]: the bytes the application handed over that are not yet acknowledged
//!   (sent or not), indexed from the oldest unacknowledged octet.
//! - [`ReceiveBuffer`]: a ring of fixed capacity holding the in-order bytes not yet read and,
//!   after them, out-of-order segments within the window (a bounded list of ranges). Those
//!   ranges are what SACK reports [RFC 2018 § 4], most recently changed first.

use std::collections::VecDeque;

/// Bytes queued for sending, from SND.UNA on.
#[derive(Debug, Clone, Default)]
pub(crate) struct SendBuffer {
    data: VecDeque<u8>,
    capacity: usize,
}

impl SendBuffer {
    pub(crate) fn new(capacity: usize) -> SendBuffer {
        SendBuffer {
            data: VecDeque::new(),
            capacity,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn free(&self) -> usize {
        self.capacity.saturating_sub(self.data.len())
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends as much of `bytes` as fits; returns how much.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.free());
        self.data.extend(&bytes[..n]);
        n
    }

    /// Gives the allocation back if nothing is held (a connection in TIME-WAIT or CLOSED
    /// keeps only its state).
    pub(crate) fn release_if_empty(&mut self) {
        if self.data.is_empty() {
            self.data = VecDeque::new();
        }
    }

    /// Bytes allocated (for tests of what an idle connection holds).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.data.capacity()
    }

    /// Drops `n` acknowledged bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
    }

    /// The `len` bytes starting `offset` bytes in, as one or two slices (cut at the end).
    pub(crate) fn slices(&self, offset: usize, len: usize) -> [&[u8]; 2] {
        let (a, b) = self.data.as_slices();
        let end = offset.saturating_add(len);
        if let Some(within) = a.get(offset..end) {
            // The common case: all in the first piece.
            return [within, &[]];
        }
        let cut = |part: &'_ [u8], base: usize| -> (usize, usize) {
            let s = offset.saturating_sub(base).min(part.len());
            let e = end.saturating_sub(base).min(part.len());
            (s, e.max(s))
        };
        let (s0, e0) = cut(a, 0);
        let (s1, e1) = cut(b, a.len());
        [&a[s0..e0], &b[s1..e1]]
    }

    /// Copies `len` bytes starting `offset` bytes in into `out` (cut at the end).
    #[cfg(test)]
    pub(crate) fn copy_out(&self, offset: usize, out: &mut [u8]) -> usize {
        let (a, b) = self.data.as_slices();
        let mut written = 0;
        let mut offset = offset;
        for part in [a, b] {
            if offset >= part.len() {
                offset -= part.len();
                continue;
            }
            let src = &part[offset..];
            let n = src.len().min(out.len() - written);
            out[written..written + n].copy_from_slice(&src[..n]);
            written += n;
            offset = 0;
            if written == out.len() {
                break;
            }
        }
        written
    }
}

/// An out-of-order range, as offsets from RCV.NXT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfOrder {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// When it last grew (for SACK block order).
    stamp: u64,
}

/// The most out-of-order ranges kept; a segment that would need another is dropped (the
/// sender will retransmit it).
pub(crate) const MAX_OUT_OF_ORDER: usize = 32;

/// The receive ring.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReceiveBuffer {
    /// Allocated on first use (half-open connections cost no buffer memory).
    ring: Vec<u8>,
    capacity: usize,
    head: usize,
    len: usize,
    out_of_order: Vec<OutOfOrder>,
    stamp: u64,
}

impl ReceiveBuffer {
    pub(crate) fn new(capacity: usize) -> ReceiveBuffer {
        ReceiveBuffer {
            capacity,
            ..ReceiveBuffer::default()
        }
    }

    /// In-order bytes waiting to be read.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Room after the in-order bytes: the receive window we can offer.
    pub(crate) fn window(&self) -> usize {
        self.capacity - self.len
    }

    pub(crate) fn has_out_of_order(&self) -> bool {
        !self.out_of_order.is_empty()
    }

    /// The out-of-order ranges, most recently changed first.
    pub(crate) fn sack_ranges(&self) -> Vec<OutOfOrder> {
        let mut r = self.out_of_order.clone();
        r.sort_by_key(|x| core::cmp::Reverse(x.stamp));
        r
    }

    /// The first part of `[offset, offset + len)` (offsets from RCV.NXT) already held out of
    /// order, as offsets: octets that arrived again.
    pub(crate) fn held_out_of_order(&self, offset: usize, len: usize) -> Option<(usize, usize)> {
        let end = offset.saturating_add(len);
        self.out_of_order.iter().find_map(|r| {
            let (a, b) = (r.start.max(offset), r.end.min(end));
            (a < b).then_some((a, b))
        })
    }

    /// Gives the ring back if it holds nothing, in order or not (allocated again on the next
    /// write).
    pub(crate) fn release_if_empty(&mut self) {
        if self.len == 0 && self.out_of_order.is_empty() {
            self.ring = Vec::new();
            self.head = 0;
        }
    }

    /// Bytes allocated (for tests of what an idle connection holds).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.ring.capacity()
    }

    #[inline(always)]
    fn write_ring(&mut self, offset: usize, data: &[u8]) {
        if self.ring.is_empty() {
            self.ring = vec![0; self.capacity];
        }
        let cap = self.capacity;
        let start = (self.head + self.len + offset) % cap;
        let first = data.len().min(cap - start);
        self.ring[start..start + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        if rest > 0 {
            // Across the end of the ring (a call to copy nothing is not free).
            self.ring[..rest].copy_from_slice(&data[first..]);
        }
    }

    /// Stores `data` that starts `offset` bytes after RCV.NXT, cut to the window. Returns how
    /// far RCV.NXT advances (the in-order bytes it made readable), or `None` if the segment
    /// had to be dropped (out-of-order list full).
    #[inline(always)]
    pub(crate) fn write(&mut self, offset: usize, data: &[u8]) -> Option<usize> {
        if offset == 0
            && !data.is_empty()
            && data.len() <= self.window()
            && self.out_of_order.is_empty()
        {
            // The next in-order octets, all within the window, with nothing out of order to
            // absorb: what `write_general` does with them, without its general cases.
            self.write_ring(0, data);
            self.len += data.len();
            return Some(data.len());
        }
        self.write_general(offset, data)
    }

    /// [`write`](ReceiveBuffer::write) in general.
    #[inline(never)]
    fn write_general(&mut self, offset: usize, data: &[u8]) -> Option<usize> {
        let window = self.window();
        if offset >= window || data.is_empty() {
            return Some(0);
        }
        let data = &data[..data.len().min(window - offset)];
        let (start, end) = (offset, offset + data.len());
        if start > 0 {
            // Out of order: merge with the ranges it touches.
            let touching: Vec<usize> = (0..self.out_of_order.len())
                .filter(|&i| {
                    let r = self.out_of_order[i];
                    r.start <= end && start <= r.end
                })
                .collect();
            if touching.is_empty() && self.out_of_order.len() >= MAX_OUT_OF_ORDER {
                return None;
            }
            self.write_ring(offset, data);
            self.stamp += 1;
            let mut merged = OutOfOrder {
                start,
                end,
                stamp: self.stamp,
            };
            for &i in touching.iter().rev() {
                let r = self.out_of_order.remove(i);
                merged.start = merged.start.min(r.start);
                merged.end = merged.end.max(r.end);
            }
            let at = self
                .out_of_order
                .iter()
                .position(|r| r.start > merged.start)
                .unwrap_or(self.out_of_order.len());
            self.out_of_order.insert(at, merged);
            return Some(0);
        }
        self.write_ring(0, data);
        let mut advance = end;
        // Absorb the ranges now contiguous; shift the others.
        while let Some(first) = self.out_of_order.first().copied() {
            if first.start <= advance {
                advance = advance.max(first.end);
                self.out_of_order.remove(0);
            } else {
                break;
            }
        }
        for r in &mut self.out_of_order {
            r.start -= advance;
            r.end -= advance;
        }
        self.len += advance;
        Some(advance)
    }

    /// Reads in-order bytes into `out`.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.len);
        if n == 0 {
            return 0;
        }
        let cap = self.capacity;
        let first = n.min(cap - self.head);
        out[..first].copy_from_slice(&self.ring[self.head..self.head + first]);
        out[first..n].copy_from_slice(&self.ring[..n - first]);
        self.head = (self.head + n) % cap;
        self.len -= n;
        if self.len == 0 && self.out_of_order.is_empty() {
            self.head = 0;
        }
        n
    }

    pub(crate) fn check_invariants(&self) {
        assert!(self.len <= self.capacity);
        assert!(self.out_of_order.len() <= MAX_OUT_OF_ORDER);
        let mut prev_end = 0;
        for r in &self.out_of_order {
            assert!(r.start > prev_end || (prev_end == 0 && r.start > 0));
            assert!(r.end > r.start && r.end <= self.capacity - self.len);
            prev_end = r.end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn send_buffer_bounds_and_copies_across_the_wrap() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.push(b"abcdef"), 6);
        b.consume(4);
        assert_eq!(b.push(b"ghijklmn"), 6);
        let mut out = [0u8; 8];
        assert_eq!(b.copy_out(0, &mut out), 8);
        assert_eq!(&out, b"efghijkl");
        assert_eq!(b.copy_out(5, &mut out), 3);
        assert_eq!(&out[..3], b"jkl");
        assert_eq!(b.free(), 0);
        let [x, y] = b.slices(1, 6);
        assert_eq!([x, y].concat(), b"fghijk");
        let [x, y] = b.slices(6, 10);
        assert_eq!([x, y].concat(), b"kl");
    }

    #[test]
    fn out_of_order_segments_fill_in_and_report_sack_order() {
        let mut b = ReceiveBuffer::new(16);
        assert_eq!(b.write(4, b"efgh"), Some(0));
        assert_eq!(b.write(10, b"kl"), Some(0));
        let r = b.sack_ranges();
        assert_eq!((r[0].start, r[0].end, r[1].start, r[1].end), (10, 12, 4, 8));
        assert_eq!(b.write(0, b"abcd"), Some(8));
        assert_eq!(b.len(), 8);
        let r = b.sack_ranges();
        assert_eq!((r.len(), r[0].start, r[0].end), (1, 2, 4));
        let mut out = [0u8; 8];
        assert_eq!(b.read(&mut out), 8);
        assert_eq!(&out, b"abcdefgh");
        // Beyond the window: cut.
        assert_eq!(b.write(0, &[1u8; 40]), Some(16));
        assert_eq!(b.window(), 0);
        b.check_invariants();
    }

    proptest! {
        /// Any arrival order of overlapping pieces yields the stream exactly once.
        #[test]
        fn reassembles_any_order(cuts in proptest::collection::vec((0usize..200, 1usize..40), 1..60), cap in 64usize..256) {
            let stream: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
            let mut b = ReceiveBuffer::new(cap);
            let mut nxt = 0usize;
            let mut got = Vec::new();
            let mut pieces = cuts.clone();
            pieces.push((0, 200));
            for (s, l) in pieces {
                let e = (s + l).min(200);
                if e <= nxt { continue; }
                let s2 = s.max(nxt);
                let adv = b.write(s2 - nxt, &stream[s2..e]).unwrap_or(0);
                nxt += adv;
                b.check_invariants();
                let mut out = vec![0u8; 300];
                let n = b.read(&mut out);
                got.extend_from_slice(&out[..n]);
            }
            prop_assert_eq!(&got[..], &stream[..got.len()]);
        }
    }
}
