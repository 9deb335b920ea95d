//! Segments as the state machine sees them: an arriving segment with its options decoded
//! (unknown options ignored [RFC 9293 § 3.1, MUST-6/7]) and a segment to send, with the
//! options it carries encoded.

use core::net::SocketAddrV4;

use wirecheck_codec::tcp::option::{SackBlock, SackBlocks, TcpOption};
use wirecheck_codec::tcp::{TcpFlags, TcpHeader};

use super::seq::Seq;

/// An arriving segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub(crate) source_port: u16,
    pub(crate) destination_port: u16,
    pub(crate) seq: Seq,
    pub(crate) ack: Seq,
    pub(crate) flags: TcpFlags,
    pub(crate) window: u16,
    pub(crate) mss: Option<u16>,
    pub(crate) window_scale: Option<u8>,
    pub(crate) sack_permitted: bool,
    pub(crate) timestamps: Option<(u32, u32)>,
    pub(crate) sack: [SackBlock; 4],
    pub(crate) sack_len: usize,
    pub(crate) payload: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Decodes a segment whose checksum was verified.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Segment<'a>> {
        let (h, payload) = TcpHeader::parse(bytes).ok()?;
        let mut s = Segment {
            source_port: h.source_port,
            destination_port: h.destination_port,
            seq: Seq(h.sequence_number),
            ack: Seq(h.acknowledgment_number),
            flags: h.flags,
            window: h.window,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamps: None,
            sack: [SackBlock { left: 0, right: 0 }; 4],
            sack_len: 0,
            payload,
        };
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
                        s.sack[s.sack_len] = b;
                        s.sack_len += 1;
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
    /// Encodes them (Linux's order and NOP alignment) into `out`; returns the length.
    pub(crate) fn write(&self, out: &mut [u8; 40]) -> usize {
        let mut sack_bytes = [0u8; 32];
        let mut list: Vec<TcpOption<'_>> = Vec::with_capacity(8);
        if let Some(m) = self.mss {
            list.push(TcpOption::MaximumSegmentSize(m));
        }
        if self.sack_permitted && self.timestamps.is_some() {
            list.push(TcpOption::SackPermitted);
        } else if self.sack_permitted {
            list.push(TcpOption::NoOperation);
            list.push(TcpOption::NoOperation);
            list.push(TcpOption::SackPermitted);
        }
        if let Some((value, echo_reply)) = self.timestamps {
            if !self.sack_permitted {
                list.push(TcpOption::NoOperation);
                list.push(TcpOption::NoOperation);
            }
            list.push(TcpOption::Timestamps { value, echo_reply });
        }
        if let Some(w) = self.window_scale {
            list.push(TcpOption::NoOperation);
            list.push(TcpOption::WindowScale(w));
        }
        let blocks: Vec<SackBlock> = self.sack[..self.sack_len]
            .iter()
            .map(|&(left, right)| SackBlock { left, right })
            .collect();
        if !blocks.is_empty() {
            if let Ok(b) = SackBlocks::encode(&blocks, &mut sack_bytes) {
                list.push(TcpOption::NoOperation);
                list.push(TcpOption::NoOperation);
                list.push(TcpOption::Sack(b));
            }
        }
        TcpOption::write_all(&list, out).unwrap_or(0)
    }
}

/// A segment to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    pub(crate) seq: Seq,
    pub(crate) ack: Seq,
    pub(crate) flags: TcpFlags,
    pub(crate) window: u16,
    pub(crate) options: SendOptions,
    pub(crate) payload: Vec<u8>,
}

impl Outgoing {
    /// The reset for a segment that no connection accepts [RFC 9293 § 3.10.7.1]: `<SEQ=SEG.ACK>
    /// <CTL=RST>` if it had ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`.
    pub(crate) fn reset_for(
        local: SocketAddrV4,
        remote: SocketAddrV4,
        seg: &Segment<'_>,
    ) -> Outgoing {
        let (seq, ack, flags) = if seg.has(TcpFlags::ACK) {
            (seg.ack, Seq(0), TcpFlags::RST)
        } else {
            (
                Seq(0),
                seg.seq + seg.len(),
                TcpFlags(TcpFlags::RST.0 | TcpFlags::ACK.0),
            )
        };
        Outgoing {
            local,
            remote,
            seq,
            ack,
            flags,
            window: 0,
            options: SendOptions::default(),
            payload: Vec::new(),
        }
    }
}
