//! Segments as the state machine sees them: an arriving segment with its options decoded
//! (unknown options ignored [RFC 9293 § 3.1, MUST-6/7]) and a segment to send, with the
//! options it carries encoded.

use core::net::SocketAddrV4;

use wirecheck_codec::tcp::option::{kind, SackBlock, TcpOption};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader};

use super::seq::Seq;
use crate::ip::frame::{fold16, pseudo_header_sum, HEADROOM};
use wirecheck_codec::checksum::Accumulator;

/// An arriving segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub(crate) source_port: u16,
    pub(crate) destination_port: u16,
    pub(crate) seq: Seq,
    pub(crate) ack: Seq,
    pub(crate) flags: TcpFlags,
    pub(crate) window: u16,
    /// The urgent pointer field (meaningful with URG).
    pub(crate) urgent: u16,
    pub(crate) mss: Option<u16>,
    pub(crate) window_scale: Option<u8>,
    pub(crate) sack_permitted: bool,
    pub(crate) timestamps: Option<(u32, u32)>,
    pub(crate) sack: [SackBlock; 4],
    pub(crate) sack_len: usize,
    pub(crate) payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Decodes a segment whose checksum was verified. The fixed fields are read here; the
    /// options of a data segment between two stacks using timestamps (two NOPs, then
    /// Timestamps) are read directly, any other option list goes through the codec's parser,
    /// which rejects malformed lists.
    #[inline(always)]
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Segment<'a>> {
        match Self::parse_common(bytes)? {
            Ok(s) => Some(s),
            Err(s) => Self::parse_options(bytes, s),
        }
    }

    /// [`parse`](Segment::parse) for the input fast path: `None` also for a segment with
    /// options other than Timestamps alone (the general path decodes it). One place builds
    /// the segment, in the caller's frame: merging it from several paths copied it back
    /// from narrow stores, which stalled on store forwarding.
    #[inline(always)]
    pub(crate) fn parse_plain(bytes: &'a [u8]) -> Option<Segment<'a>> {
        Self::parse_common(bytes)?.ok()
    }

    /// The fixed fields, with the options if there are none or Timestamps alone (`Ok`), or
    /// with the options still to decode (`Err`); `None` if malformed.
    #[inline(always)]
    fn parse_common(bytes: &'a [u8]) -> Option<Result<Segment<'a>, Segment<'a>>> {
        let (fixed, _) = bytes.split_first_chunk::<20>()?;
        let [sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, _, _, u0, u1] =
            *fixed;
        let offset_and_flags = u16::from_be_bytes([o0, o1]);
        let header_len = usize::from(offset_and_flags >> 12) * 4;
        if header_len < 20 {
            return None;
        }
        let (header, payload) = bytes.split_at_checked(header_len)?;
        let options = header.get(20..).unwrap_or_default();
        let (timestamps, plain) = match *options {
            [] => (None, true),
            [1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3] => (
                Some((
                    u32::from_be_bytes([v0, v1, v2, v3]),
                    u32::from_be_bytes([e0, e1, e2, e3]),
                )),
                true,
            ),
            _ => (None, false),
        };
        let s = Segment {
            source_port: u16::from_be_bytes([sp0, sp1]),
            destination_port: u16::from_be_bytes([dp0, dp1]),
            seq: Seq(u32::from_be_bytes([s0, s1, s2, s3])),
            ack: Seq(u32::from_be_bytes([a0, a1, a2, a3])),
            flags: TcpFlags(offset_and_flags & TcpFlags::ALL.0),
            window: u16::from_be_bytes([w0, w1]),
            urgent: u16::from_be_bytes([u0, u1]),
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamps,
            sack: [SackBlock { left: 0, right: 0 }; 4],
            sack_len: 0,
            payload,
        };
        Some(if plain { Ok(s) } else { Err(s) })
    }

    /// The general case of [`parse`](Segment::parse): the options through the codec's parser.
    #[inline(never)]
    fn parse_options(bytes: &'a [u8], mut s: Segment<'a>) -> Option<Segment<'a>> {
        let (h, _) = TcpHeader::parse(bytes).ok()?;
        for o in h.options.iter() {
            match o {
                TcpOption::MaximumSegmentSize(m) => s.mss = Some(m),
                TcpOption::WindowScale(w) => s.window_scale = Some(w),
                TcpOption::SackPermitted => s.sack_permitted = true,
                TcpOption::Timestamps { value, echo_reply } => {
                    s.timestamps = Some((value, echo_reply))
                }
                TcpOption::Sack(blocks) => {
                    for b in blocks.iter().take(4) {
                        if let Some(slot) = s.sack.get_mut(s.sack_len) {
                            *slot = b;
                            s.sack_len += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        Some(s)
    }

    pub(crate) fn has(&self, f: TcpFlags) -> bool {
        self.flags.contains(f)
    }

    /// SEG.LEN: data plus SYN and FIN.
    pub(crate) fn len(&self) -> usize {
        self.payload.len() + self.has(TcpFlags::SYN) as usize + self.has(TcpFlags::FIN) as usize
    }

    pub(crate) fn sack_blocks(&self) -> &[SackBlock] {
        &self.sack[..self.sack_len]
    }
}

/// Options of a segment we send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SendOptions {
    pub(crate) mss: Option<u16>,
    pub(crate) window_scale: Option<u8>,
    pub(crate) sack_permitted: bool,
    pub(crate) timestamps: Option<(u32, u32)>,
    pub(crate) sack: [(u32, u32); 4],
    pub(crate) sack_len: usize,
}

impl SendOptions {
    /// Encodes them (Linux's order and NOP alignment) into `out`; returns the length, a
    /// multiple of 4 (padded with End of Option List) [RFC 9293 § 3.1].
    #[cfg(test)]
    pub(crate) fn write(&self, out: &mut [u8; 40]) -> usize {
        self.write_summed(out).0
    }

    /// [`write`](SendOptions::write), also returning the unfolded one's-complement sum of
    /// the octets written (so the checksum need not read them back).
    pub(crate) fn write_summed(&self, out: &mut [u8; 40]) -> (usize, u64) {
        if let (None, None, false, Some((value, echo_reply)), 0) = (
            self.mss,
            self.window_scale,
            self.sack_permitted,
            self.timestamps,
            self.sack_len,
        ) {
            // Timestamps alone (every segment of an established connection that uses them
            // and has no SACK blocks to report), as below: two NOPs, then the option.
            if let Some(head) = out.first_chunk_mut::<12>() {
                *head = timestamps_option(value, echo_reply);
            }
            return (12, TIMESTAMPS_FIXED_SUM + sum_halves(value, echo_reply));
        }
        let mut w = OptionWriter { out, at: 0, sum: 0 };
        if let Some(m) = self.mss {
            let [m0, m1] = m.to_be_bytes();
            w.put(&[kind::MAXIMUM_SEGMENT_SIZE, 4, m0, m1]);
        }
        if self.sack_permitted && self.timestamps.is_some() {
            w.put(&[kind::SACK_PERMITTED, 2]);
        } else if self.sack_permitted {
            w.put(&[NOP, NOP, kind::SACK_PERMITTED, 2]);
        }
        if let Some((value, echo_reply)) = self.timestamps {
            if !self.sack_permitted {
                w.put(&[NOP, NOP]);
            }
            let [v0, v1, v2, v3] = value.to_be_bytes();
            let [e0, e1, e2, e3] = echo_reply.to_be_bytes();
            w.put(&[kind::TIMESTAMPS, 10, v0, v1, v2, v3, e0, e1, e2, e3]);
        }
        if let Some(shift) = self.window_scale {
            w.put(&[NOP, kind::WINDOW_SCALE, 3, shift]);
        }
        let blocks = self.sack.get(..self.sack_len).unwrap_or_default();
        if !blocks.is_empty() && w.at + 4 + 8 * blocks.len() <= 40 {
            w.put(&[NOP, NOP, kind::SACK, (2 + 8 * blocks.len()) as u8]);
            for &(left, right) in blocks {
                w.put(&left.to_be_bytes());
                w.put(&right.to_be_bytes());
            }
        }
        let padded = (w.at + 3) & !3;
        if let Some(pad) = w.out.get_mut(w.at..padded) {
            pad.fill(0);
        }
        (padded.min(40), w.sum)
    }
}

const NOP: u8 = kind::NO_OPERATION;

/// The Timestamps option as sent alone: two NOPs, then the option [RFC 7323 § 3.2; Linux's
/// alignment].
#[inline(always)]
fn timestamps_option(value: u32, echo_reply: u32) -> [u8; 12] {
    let [v0, v1, v2, v3] = value.to_be_bytes();
    let [e0, e1, e2, e3] = echo_reply.to_be_bytes();
    [
        NOP,
        NOP,
        kind::TIMESTAMPS,
        10,
        v0,
        v1,
        v2,
        v3,
        e0,
        e1,
        e2,
        e3,
    ]
}

/// The sum of the 16-bit words of [`timestamps_option`] but the two values.
const TIMESTAMPS_FIXED_SUM: u64 =
    u16::from_be_bytes([NOP, NOP]) as u64 + u16::from_be_bytes([kind::TIMESTAMPS, 10]) as u64;

/// The unfolded sum of two 32-bit values as 16-bit words.
#[inline(always)]
fn sum_halves(a: u32, b: u32) -> u64 {
    u64::from(a >> 16) + u64::from(a & 0xffff) + u64::from(b >> 16) + u64::from(b & 0xffff)
}

/// Appends option bytes to a 40-octet area (what does not fit is left out), summing them.
struct OptionWriter<'a> {
    out: &'a mut [u8; 40],
    at: usize,
    /// The sum of the octets written as big-endian 16-bit words: every piece put has even
    /// length, so each starts at an even offset.
    sum: u64,
}

impl OptionWriter<'_> {
    fn put(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() % 2 == 0);
        if let Some(dst) = self.out.get_mut(self.at..self.at + bytes.len()) {
            dst.copy_from_slice(bytes);
            self.at += bytes.len();
            for pair in bytes.chunks_exact(2) {
                if let [a, b] = *pair {
                    self.sum += u64::from(u16::from_be_bytes([a, b]));
                }
            }
        }
    }
}

/// The header fields of a segment to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentFields {
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    pub(crate) seq: Seq,
    pub(crate) ack: Seq,
    pub(crate) flags: TcpFlags,
    pub(crate) window: u16,
    /// The urgent pointer field (meaningful with URG) [RFC 9293 § 3.1].
    pub(crate) urgent: u16,
    pub(crate) options: SendOptions,
}

impl SegmentFields {
    /// Writes the segment — header, options, then `payload` (given in up to two pieces, as a
    /// ring buffer holds it) — into `frame` after its headroom, with the checksum computed in
    /// one pass over the written bytes [RFC 9293 § 3.1].
    #[inline]
    pub(crate) fn build(&self, mut frame: Vec<u8>, payload: [&[u8]; 2]) -> Vec<u8> {
        let mut opts = [0u8; 40];
        let (olen, options_sum) = self.options.write_summed(&mut opts);
        let header_len = 20 + olen;
        let offset_and_flags = ((header_len as u16 / 4) << 12) | (self.flags.0 & 0x1ff);
        let (length, data_sum) = put_payload(&mut frame, header_len, payload);
        // The header's sum from the field values, not read back from the frame (reading
        // words across the narrow stores just made would stall on store forwarding).
        let header_sum = u64::from(self.local.port())
            + u64::from(self.remote.port())
            + u64::from(self.seq.0 >> 16)
            + u64::from(self.seq.0 & 0xffff)
            + u64::from(self.ack.0 >> 16)
            + u64::from(self.ack.0 & 0xffff)
            + u64::from(offset_and_flags)
            + u64::from(self.window)
            + u64::from(self.urgent)
            + options_sum;
        let total = pseudo_header_sum(*self.local.ip(), *self.remote.ip(), 6, length)
            + header_sum
            + u64::from(data_sum);
        let [c0, c1] = (!fold16(total)).to_be_bytes();
        let [sp0, sp1] = self.local.port().to_be_bytes();
        let [dp0, dp1] = self.remote.port().to_be_bytes();
        let [s0, s1, s2, s3] = self.seq.0.to_be_bytes();
        let [a0, a1, a2, a3] = self.ack.0.to_be_bytes();
        let [o0, o1] = offset_and_flags.to_be_bytes();
        let [w0, w1] = self.window.to_be_bytes();
        let [u0, u1] = self.urgent.to_be_bytes();
        let header = frame
            .get_mut(HEADROOM..HEADROOM + header_len)
            .unwrap_or_default();
        if let Some((fixed, options)) = header.split_first_chunk_mut::<20>() {
            *fixed = [
                sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, c0, c1, u0, u1,
            ];
            if let Some(o) = opts.get(..options.len()) {
                options.copy_from_slice(o);
            }
        }
        frame
    }

    /// The reset for a segment that no connection accepts [RFC 9293 § 3.10.7.1]: `<SEQ=SEG.ACK>
    /// <CTL=RST>` if it had ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
    pub(crate) fn reset_for(
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &Segment<'_>,
    ) -> SegmentFields {
        let (seq, ack, flags) = if seg.has(TcpFlags::ACK) {
            (seg.ack, Seq(0), TcpFlags::RST)
        } else {
            (
                Seq(0),
                seg.seq + seg.len(),
                TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0),
            )
        };
        SegmentFields {
            local,
            remote,
            seq,
            ack,
            flags,
            window: 0,
            urgent: 0,
            options: SendOptions::default(),
        }
    }
}

/// Sizes `frame` for a segment with a header of `header_len` octets and `payload` (in up to
/// two pieces), copies the payload in after the header and returns the segment's length and
/// the payload's folded sum.
#[inline(always)]
fn put_payload(frame: &mut Vec<u8>, header_len: usize, payload: [&[u8]; 2]) -> (u16, u16) {
    let [p0, p1] = payload;
    let length = header_len + p0.len() + p1.len();
    // Every octet after the headroom is overwritten by the caller or here: a recycled buffer
    // of the same size is reused without zero-filling.
    frame.resize(HEADROOM + length, 0);
    let data = frame.get_mut(HEADROOM + header_len..).unwrap_or_default();
    let (d0, d1) = data.split_at_mut(p0.len().min(data.len()));
    if let (Some(d0), Some(d1)) = (d0.get_mut(..p0.len()), d1.get_mut(..p1.len())) {
        d0.copy_from_slice(p0);
        if !p1.is_empty() {
            d1.copy_from_slice(p1);
        }
    }
    // Copied, then summed in one piece from the frame: the library's copy moves wider words
    // than a checksum loop may (the baseline's 16-octet registers), and the octets are summed
    // in place while still in the first-level cache.
    let data_sum = Accumulator::new().add_bytes(data).sum16();
    (length.min(usize::from(u16::MAX)) as u16, data_sum)
}

/// What the segments of one connection that carry Timestamps alone have in common (every
/// segment of an established connection that uses them, but those with SACK blocks): their
/// ports, and the sum of those, the pseudo-header's addresses and protocol and the option's
/// fixed octets, so that such a segment is written without going through [`SendOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimestampedTemplate {
    ports: [u8; 4],
    sum: u64,
}

impl TimestampedTemplate {
    pub(crate) fn new(local: SocketAddrV4, remote: SocketAddrV4) -> TimestampedTemplate {
        let [sp0, sp1] = local.port().to_be_bytes();
        let [dp0, dp1] = remote.port().to_be_bytes();
        TimestampedTemplate {
            ports: [sp0, sp1, dp0, dp1],
            sum: pseudo_header_sum(*local.ip(), *remote.ip(), 6, 0)
                + u64::from(local.port())
                + u64::from(remote.port())
                + TIMESTAMPS_FIXED_SUM,
        }
    }

    /// The segment [`SegmentFields::build`] builds for these fields with Timestamps
    /// `(value, echo_reply)` as the only option, the same octets.
    #[inline]
    pub(crate) fn build(
        &self,
        mut frame: Vec<u8>,
        (seq, ack, flags, window, urgent): (Seq, Seq, TcpFlags, u16, u16),
        (value, echo_reply): (u32, u32),
        payload: [&[u8]; 2],
    ) -> Vec<u8> {
        const HEADER_LEN: usize = 32;
        let offset_and_flags = ((HEADER_LEN as u16 / 4) << 12) | (flags.0 & 0x1ff);
        let (length, data_sum) = put_payload(&mut frame, HEADER_LEN, payload);
        let total = self.sum
            + u64::from(length)
            + sum_halves(seq.0, ack.0)
            + u64::from(offset_and_flags)
            + u64::from(window)
            + u64::from(urgent)
            + sum_halves(value, echo_reply)
            + u64::from(data_sum);
        let [c0, c1] = (!fold16(total)).to_be_bytes();
        let [sp0, sp1, dp0, dp1] = self.ports;
        let [s0, s1, s2, s3] = seq.0.to_be_bytes();
        let [a0, a1, a2, a3] = ack.0.to_be_bytes();
        let [o0, o1] = offset_and_flags.to_be_bytes();
        let [w0, w1] = window.to_be_bytes();
        let [u0, u1] = urgent.to_be_bytes();
        let [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11] =
            timestamps_option(value, echo_reply);
        if let Some(header) = frame
            .get_mut(HEADROOM..HEADROOM + HEADER_LEN)
            .and_then(|h| <&mut [u8; HEADER_LEN]>::try_from(h).ok())
        {
            // One store of the whole header.
            *header = [
                sp0, sp1, dp0, dp1, s0, s1, s2, s3, a0, a1, a2, a3, o0, o1, w0, w1, c0, c1, u0, u1,
                t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11,
            ];
        }
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_codec::tcp::option::{SackBlocks, TcpOptions};

    /// The layout as a list of codec options (Linux's order and NOP alignment), written by
    /// the codec: what `SendOptions::write` must produce byte for byte.
    fn reference(o: &SendOptions) -> Vec<u8> {
        let mut list = Vec::new();
        let mut sack_bytes = [0u8; 32];
        if let Some(m) = o.mss {
            list.push(TcpOption::MaximumSegmentSize(m));
        }
        if o.sack_permitted && o.timestamps.is_some() {
            list.push(TcpOption::SackPermitted);
        } else if o.sack_permitted {
            list.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
            list.push(TcpOption::SackPermitted);
        }
        if let Some((value, echo_reply)) = o.timestamps {
            if !o.sack_permitted {
                list.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
            }
            list.push(TcpOption::Timestamps { value, echo_reply });
        }
        if let Some(w) = o.window_scale {
            list.extend([TcpOption::NoOperation, TcpOption::WindowScale(w)]);
        }
        let blocks: Vec<SackBlock> = o.sack[..o.sack_len]
            .iter()
            .map(|&(left, right)| SackBlock { left, right })
            .collect();
        if !blocks.is_empty() {
            let b = SackBlocks::encode(&blocks, &mut sack_bytes).unwrap();
            list.extend([TcpOption::NoOperation, TcpOption::NoOperation]);
            list.push(TcpOption::Sack(b));
        }
        let mut out = [0u8; 40];
        let n = TcpOption::write_all(&list, &mut out).unwrap();
        out[..n].to_vec()
    }

    #[test]
    fn options_are_written_as_the_codec_writes_the_same_list() {
        for bits in 0..16u32 {
            for sacks in 0..=4usize {
                let ts = bits & 8 != 0;
                if sacks == 4 && ts {
                    continue; // 4 blocks only fit without timestamps
                }
                let o = SendOptions {
                    mss: (bits & 1 != 0).then_some(1460),
                    window_scale: (bits & 2 != 0).then_some(7),
                    sack_permitted: bits & 4 != 0,
                    timestamps: ts.then_some((0x0102_0304, 0xa0b0_c0d0)),
                    sack: [(1, 2), (3, 4), (5, 6), (7, 8)],
                    // SACK blocks go on segments without SYN options.
                    sack_len: if bits & 7 != 0 { 0 } else { sacks },
                };
                let mut out = [0u8; 40];
                let n = o.write(&mut out);
                assert_eq!(out[..n], reference(&o)[..], "{o:?}");
                let (_, sum) = o.write_summed(&mut out);
                assert_eq!(
                    crate::ip::frame::fold16(sum),
                    crate::ip::frame::sum(&out[..n]),
                    "{o:?}"
                );
                assert!(TcpOptions::new(&out[..n]).is_ok());
            }
        }
    }

    #[test]
    fn the_timestamped_template_builds_what_the_fields_build() {
        use core::net::Ipv4Addr;
        let data: Vec<u8> = (0..=255u8).cycle().take(1500).collect();
        let ends = [
            (
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80),
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 4000),
            ),
            (
                SocketAddrV4::new(Ipv4Addr::new(255, 255, 255, 254), 0xffff),
                SocketAddrV4::new(Ipv4Addr::new(255, 255, 255, 255), 0xfffe),
            ),
        ];
        let values = [0, 1, 0x8000_0001, u32::MAX - 1, u32::MAX];
        for (local, remote) in ends {
            let template = TimestampedTemplate::new(local, remote);
            for (i, &v) in values.iter().enumerate() {
                let w = values[(i + 2) % values.len()];
                let flags = [TcpFlags::ACK, TcpFlags(0x1ff), TcpFlags(0x018)][i % 3];
                let (window, urgent) = ((v >> 3) as u16, (w >> 7) as u16);
                let fields = SegmentFields {
                    local,
                    remote,
                    seq: Seq(v),
                    ack: Seq(w),
                    flags,
                    window,
                    urgent,
                    options: SendOptions {
                        timestamps: Some((w, v)),
                        ..SendOptions::default()
                    },
                };
                for (len, cut) in [(0, 0), (1, 0), (1, 1), (3, 2), (1000, 999), (1448, 3)] {
                    let (p0, p1) = data[..len].split_at(cut);
                    let expected = fields.build(Vec::new(), [p0, p1]);
                    let recycled = vec![0xaa; 1514];
                    let built = template.build(
                        recycled,
                        (Seq(v), Seq(w), flags, window, urgent),
                        (w, v),
                        [p0, p1],
                    );
                    assert_eq!(
                        built[HEADROOM..],
                        expected[HEADROOM..],
                        "{fields:?} {len} {cut}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        /// The template against the general builder over any ends, fields, timestamps,
        /// payload and split of it between the send buffer's two slices.
        #[test]
        fn the_timestamped_template_matches_the_builder_for_any_segment(
            ends in proptest::array::uniform2((proptest::prelude::any::<u32>(), proptest::prelude::any::<u16>())),
            seq in proptest::prelude::any::<u32>(),
            ack in proptest::prelude::any::<u32>(),
            flags in 0u16..0x200,
            window in proptest::prelude::any::<u16>(),
            urgent in proptest::prelude::any::<u16>(),
            ts in proptest::prelude::any::<(u32, u32)>(),
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1461),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            use core::net::Ipv4Addr;
            let [(la, lp), (ra, rp)] = ends;
            let local = SocketAddrV4::new(Ipv4Addr::from(la), lp);
            let remote = SocketAddrV4::new(Ipv4Addr::from(ra), rp);
            let flags = TcpFlags(flags);
            let fields = SegmentFields {
                local,
                remote,
                seq: Seq(seq),
                ack: Seq(ack),
                flags,
                window,
                urgent,
                options: SendOptions {
                    timestamps: Some(ts),
                    ..SendOptions::default()
                },
            };
            let (p0, p1) = payload.split_at(cut.index(payload.len() + 1));
            let expected = fields.build(Vec::new(), [p0, p1]);
            let built = TimestampedTemplate::new(local, remote).build(
                vec![0x5a; 1514],
                (Seq(seq), Seq(ack), flags, window, urgent),
                ts,
                [p0, p1],
            );
            proptest::prop_assert_eq!(&built[HEADROOM..], &expected[HEADROOM..]);
        }
    }

    #[test]
    fn built_segments_check_out_whatever_the_split_and_the_recycled_buffer() {
        use core::net::Ipv4Addr;
        use wirecheck_codec::tcp::TcpHeader;
        let fields = SegmentFields {
            local: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80),
            remote: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 4000),
            seq: Seq(1),
            ack: Seq(2),
            flags: TcpFlags::ACK,
            window: 1000,
            urgent: 0,
            options: SendOptions {
                timestamps: Some((5, 6)),
                ..SendOptions::default()
            },
        };
        let data: Vec<u8> = (0..101u8).collect();
        // The header's sum comes from the field values: all-ones fields and every option
        // push it through its carries.
        let all_ones = SegmentFields {
            local: SocketAddrV4::new(Ipv4Addr::new(255, 255, 255, 254), 0xffff),
            remote: SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 0xfffe),
            seq: Seq(u32::MAX),
            ack: Seq(u32::MAX - 1),
            flags: TcpFlags(0x1ff),
            window: u16::MAX,
            urgent: u16::MAX,
            options: SendOptions {
                mss: Some(u16::MAX),
                window_scale: Some(14),
                sack_permitted: true,
                timestamps: Some((u32::MAX, u32::MAX)),
                sack: [(u32::MAX, u32::MAX - 1), (0, 0), (0, 0), (0, 0)],
                sack_len: 1,
            },
        };
        for cut in [0, 1, 2, 3, 50, 100, 101] {
            let (p0, p1) = data.split_at(cut);
            let f = all_ones.build(Vec::new(), [p0, p1]);
            assert_eq!(
                TcpHeader::verify_checksum(
                    *all_ones.local.ip(),
                    *all_ones.remote.ip(),
                    &f[HEADROOM..]
                ),
                wirecheck_codec::ChecksumStatus::Good,
                "all ones, cut {cut}"
            );
        }
        for cut in [0, 1, 2, 3, 50, 100, 101] {
            for stale in [Vec::new(), vec![0xaa; 3], vec![0xbb; 2000]] {
                let (p0, p1) = data.split_at(cut);
                let f = fields.build(stale, [p0, p1]);
                let segment = &f[HEADROOM..];
                assert_eq!(
                    TcpHeader::verify_checksum(*fields.local.ip(), *fields.remote.ip(), segment),
                    wirecheck_codec::ChecksumStatus::Good,
                    "cut {cut}"
                );
                let (h, payload) = TcpHeader::parse(segment).unwrap();
                assert_eq!((h.sequence_number, payload), (1, &data[..]));
                assert_eq!(h.options.timestamps(), Some((5, 6)));
            }
        }
    }
}
