//! TCP options: the kind/length/value list after the fixed TCP header [RFC 9293 § 3.1, § 3.2],
//! its validation, typed reading ([`TcpOption`]) and writing ([`TcpOption::write_all`]).
//!
//! Options covered by name: End of Option List and No-Operation [RFC 9293 § 3.2], Maximum Segment
//! Size [RFC 9293 § 3.7.1], Window Scale and Timestamps [RFC 7323 § 2.2, § 3.2], SACK-Permitted
//! and SACK [RFC 2018 § 2, § 3], TCP MD5 Signature [RFC 2385 § 3.0], User Timeout [RFC 5482
//! § 2], TCP-AO [RFC 5925 § 2.2], Multipath TCP [RFC 8684 § 3], TCP Fast Open [RFC 7413 § 4.1.1]
//! and the shared experimental kinds 253/254 with an Experiment ID [RFC 6994 § 3]. Any other kind
//! is kept as [`TcpOption::Unknown`].
//!
//! The list is held zero-copy as [`TcpOptions`], a borrowed byte slice: nothing is lost, so a
//! parsed header re-emits byte for byte (including any padding after End of Option List).

use core::fmt;

use crate::error::{Error, Layer, Result};

/// Option kinds [IANA "TCP Option Kind Numbers"].
pub mod kind {
    /// End of Option List [RFC 9293 § 3.2].
    pub const END_OF_LIST: u8 = 0;
    /// No-Operation [RFC 9293 § 3.2].
    pub const NO_OPERATION: u8 = 1;
    /// Maximum Segment Size [RFC 9293 § 3.2].
    pub const MAXIMUM_SEGMENT_SIZE: u8 = 2;
    /// Window Scale [RFC 7323 § 2.2].
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK-Permitted [RFC 2018 § 2].
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK [RFC 2018 § 3].
    pub const SACK: u8 = 5;
    /// Timestamps [RFC 7323 § 3.2].
    pub const TIMESTAMPS: u8 = 8;
    /// TCP MD5 Signature [RFC 2385 § 3.0].
    pub const MD5_SIGNATURE: u8 = 19;
    /// User Timeout [RFC 5482 § 2].
    pub const USER_TIMEOUT: u8 = 28;
    /// TCP Authentication Option [RFC 5925 § 2.2].
    pub const AUTHENTICATION: u8 = 29;
    /// Multipath TCP [RFC 8684 § 3].
    pub const MULTIPATH: u8 = 30;
    /// TCP Fast Open Cookie [RFC 7413 § 4.1.1].
    pub const FAST_OPEN_COOKIE: u8 = 34;
    /// RFC3692-style Experiment 1 [RFC 4727; RFC 6994].
    pub const EXPERIMENT_1: u8 = 253;
    /// RFC3692-style Experiment 2 [RFC 4727; RFC 6994].
    pub const EXPERIMENT_2: u8 = 254;
}

/// Experiment IDs seen in the experimental kinds [IANA "TCP Experimental Option Experiment
/// Identifiers"].
pub mod exid {
    /// TCP Fast Open before it got kind 34 (used by Linux until 2014) [RFC 7413 § 4.1.1].
    pub const FAST_OPEN: u16 = 0xf989;
    /// Accurate ECN option, order 0, during its experimental phase.
    pub const ACCURATE_ECN_ORDER_0: u16 = 0xacc0;
    /// Accurate ECN option, order 1, during its experimental phase.
    pub const ACCURATE_ECN_ORDER_1: u16 = 0xacc1;
}

/// The most option bytes a TCP header can carry: data offset 15 × 4 − 20 [RFC 9293 § 3.1].
pub const MAX_LEN: usize = 40;

/// Bytes of one SACK block: two 32-bit sequence numbers.
const SACK_BLOCK_LEN: usize = 8;
/// The most SACK blocks that fit in 40 option bytes [RFC 2018 § 3].
const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the received bytes `left .. right` (right is one past the last byte)
/// [RFC 2018 § 3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: u32,
    /// Sequence number just after the last byte of the block.
    pub right: u32,
}

/// The 1 to 4 blocks of a SACK option, borrowed from the option bytes [RFC 2018 § 3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SackBlocks<'a>(&'a [u8]);

impl<'a> SackBlocks<'a> {
    /// Wraps the value bytes of a SACK option: 8, 16, 24 or 32 bytes.
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let n = bytes.len() / SACK_BLOCK_LEN;
        if bytes.len() % SACK_BLOCK_LEN != 0 || !(1..=MAX_SACK_BLOCKS).contains(&n) {
            return Err(Error::bad_value(
                Layer::TcpOption,
                "SACK blocks",
                0,
                "8, 16, 24 or 32 bytes",
                bytes.len() as u64,
            ));
        }
        Ok(SackBlocks(bytes))
    }

    /// Encodes 1 to 4 blocks into `buffer` and borrows them from there, for building a SACK
    /// option without allocating.
    pub fn encode(blocks: &[SackBlock], buffer: &'a mut [u8; 32]) -> Result<Self> {
        if blocks.is_empty() || blocks.len() > MAX_SACK_BLOCKS {
            return Err(Error::bad_value(
                Layer::TcpOption,
                "SACK blocks",
                0,
                "1 to 4 blocks",
                blocks.len() as u64,
            ));
        }
        for (chunk, block) in buffer.chunks_exact_mut(SACK_BLOCK_LEN).zip(blocks) {
            let [a, b, c, d] = block.left.to_be_bytes();
            let [e, f, g, h] = block.right.to_be_bytes();
            chunk.copy_from_slice(&[a, b, c, d, e, f, g, h]);
        }
        let used = blocks.len().saturating_mul(SACK_BLOCK_LEN);
        SackBlocks::new(buffer.get(..used).unwrap_or_default())
    }

    /// The number of blocks (1 to 4).
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        self.0.len() / SACK_BLOCK_LEN
    }

    /// The block at `index`.
    pub fn get(&self, index: usize) -> Option<SackBlock> {
        self.iter().nth(index)
    }

    /// The blocks in the order they appear (the first is the most recent [RFC 2018 § 4]).
    pub fn iter(&self) -> impl Iterator<Item = SackBlock> + 'a {
        self.0
            .chunks_exact(SACK_BLOCK_LEN)
            .filter_map(|c| c.first_chunk::<8>())
            .map(|&[a, b, c, d, e, f, g, h]| SackBlock {
                left: u32::from_be_bytes([a, b, c, d]),
                right: u32::from_be_bytes([e, f, g, h]),
            })
    }

    /// The blocks as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// One TCP option, typed [RFC 9293 § 3.2].
///
/// ```text
/// single byte:   +--------+          kind/length/value:  +--------+--------+---------...
///                |  Kind  |                              |  Kind  | Length |  value
///                +--------+                              +--------+--------+---------...
///                                                        Length counts kind, length and value
/// ```
///
/// Variable parts borrow from the option bytes. Reading rejects fixed-length options with
/// another length (an MSS of length 5 is an error, not an `Unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpOption<'a> {
    /// Kind 0: End of Option List. Any bytes after it up to the data offset are padding, kept
    /// in [`TcpOptions::padding`].
    EndOfList,
    /// Kind 1: No-Operation, used to align options.
    NoOperation,
    /// Kind 2, length 4: the largest segment the sender can receive [RFC 9293 § 3.7.1].
    MaximumSegmentSize(u16),
    /// Kind 3, length 3: window scale shift count [RFC 7323 § 2.2] (as sent; receivers use at
    /// most 14).
    WindowScale(u8),
    /// Kind 4, length 2: SACK may be used [RFC 2018 § 2].
    SackPermitted,
    /// Kind 5, length 2 + 8n (n = 1..=4): selectively acknowledged blocks [RFC 2018 § 3].
    Sack(SackBlocks<'a>),
    /// Kind 8, length 10: TSval and TSecr [RFC 7323 § 3.2].
    Timestamps {
        /// Timestamp value (TSval).
        value: u32,
        /// Timestamp echo reply (TSecr).
        echo_reply: u32,
    },
    /// Kind 19, length 18: MD5 digest of the segment [RFC 2385 § 3.0].
    Md5Signature(&'a [u8; 16]),
    /// Kind 28, length 4: user timeout [RFC 5482 § 2].
    UserTimeout {
        /// G bit: the timeout is in minutes (else seconds).
        granularity_minutes: bool,
        /// The 15-bit timeout.
        timeout: u16,
    },
    /// Kind 29, length ≥ 4: TCP Authentication Option [RFC 5925 § 2.2].
    Authentication {
        /// KeyID of the Master Key Tuple used for this segment.
        key_id: u8,
        /// RNextKeyID: the key the sender wants to receive with.
        rnext_key_id: u8,
        /// The message authentication code (length − 4 bytes).
        mac: &'a [u8],
    },
    /// Kind 30, length ≥ 3: Multipath TCP [RFC 8684 § 3], kept raw.
    Multipath {
        /// The MPTCP subtype: the high 4 bits of `data[0]` (0 MP_CAPABLE, 1 MP_JOIN, 2 DSS, …).
        subtype: u8,
        /// The whole value after kind and length, *starting with* the byte that holds the
        /// subtype (its low 4 bits are subtype specific, e.g. the MP_CAPABLE version), so the
        /// option re-emits exactly.
        data: &'a [u8],
    },
    /// Kind 34: TCP Fast Open cookie [RFC 7413 § 4.1.1]; empty = a cookie request. The cookie
    /// length is not checked (the RFC asks for 4 to 16 bytes, even).
    FastOpenCookie(&'a [u8]),
    /// Kind 253 or 254 with length ≥ 4: an experiment named by its 16-bit ExID
    /// [RFC 6994 § 3], e.g. the pre-standard Fast Open ([`exid::FAST_OPEN`], value = cookie).
    /// A kind 253/254 option shorter than 4 bytes has no ExID and reads as `Unknown`.
    Experimental {
        /// 253 or 254.
        kind: u8,
        /// The Experiment Identifier.
        exid: u16,
        /// The bytes after the ExID.
        data: &'a [u8],
    },
    /// Any other kind, with its value bytes.
    Unknown {
        /// The option kind.
        kind: u8,
        /// The value bytes (length − 2).
        data: &'a [u8],
    },
}

/// `expected` text for a fixed-length option.
fn fixed_length(kind: u8) -> Option<(usize, &'static str)> {
    Some(match kind {
        kind::MAXIMUM_SEGMENT_SIZE => (4, "4 for MSS (kind 2)"),
        kind::WINDOW_SCALE => (3, "3 for window scale (kind 3)"),
        kind::SACK_PERMITTED => (2, "2 for SACK permitted (kind 4)"),
        kind::TIMESTAMPS => (10, "10 for timestamps (kind 8)"),
        kind::MD5_SIGNATURE => (18, "18 for MD5 signature (kind 19)"),
        kind::USER_TIMEOUT => (4, "4 for user timeout (kind 28)"),
        _ => return None,
    })
}

fn bad_length(offset: usize, expected: &'static str, length: usize) -> Error {
    Error::bad_value(
        Layer::TcpOption,
        "option length",
        offset,
        expected,
        length as u64,
    )
}

impl<'a> TcpOption<'a> {
    /// Reads the option at the start of `bytes` (the rest of the options area) and returns it
    /// with the bytes after it. Error offsets are relative to the start of `bytes`.
    ///
    /// Errors (layer `TcpOption`, offset 0): a multi-byte kind in the last byte (field "option
    /// kind"), a length of 0 or 1, a length running past the end of `bytes`, and a length
    /// that the kind does not allow (field "option length"; the message names the expected
    /// length).
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<(TcpOption<'a>, &'a [u8])> {
        let Some((&kind, after_kind)) = bytes.split_first() else {
            return Err(Error::truncated(Layer::TcpOption, "option kind", 0, 1, 0));
        };
        match kind {
            kind::END_OF_LIST => return Ok((TcpOption::EndOfList, after_kind)),
            kind::NO_OPERATION => return Ok((TcpOption::NoOperation, after_kind)),
            _ => {}
        }
        let Some(&length) = after_kind.first() else {
            return Err(Error::bad_value(
                Layer::TcpOption,
                "option kind",
                0,
                "0 (EOL) or 1 (NOP): no room for a length byte",
                u64::from(kind),
            ));
        };
        let length = usize::from(length);
        if length < 2 {
            return Err(bad_length(0, "≥ 2", length));
        }
        let Some((option, rest)) = bytes.split_at_checked(length) else {
            return Err(bad_length(
                0,
                "≤ the bytes left before the end of the header",
                length,
            ));
        };
        let value = option.get(2..).unwrap_or_default();
        if let Some((want, expected)) = fixed_length(kind) {
            if length != want {
                return Err(bad_length(0, expected, length));
            }
        }
        // The lengths were checked above; a missing byte cannot happen and would read as 0.
        let be16 = |at: usize| {
            value
                .get(at..)
                .and_then(|b| b.first_chunk::<2>())
                .map_or(0, |b| u16::from_be_bytes(*b))
        };
        let be32 = |at: usize| {
            value
                .get(at..)
                .and_then(|b| b.first_chunk::<4>())
                .map_or(0, |b| u32::from_be_bytes(*b))
        };
        let parsed = match kind {
            kind::MAXIMUM_SEGMENT_SIZE => TcpOption::MaximumSegmentSize(be16(0)),
            kind::WINDOW_SCALE => TcpOption::WindowScale(value.first().copied().unwrap_or(0)),
            kind::SACK_PERMITTED => TcpOption::SackPermitted,
            kind::SACK => match SackBlocks::new(value) {
                Ok(blocks) => TcpOption::Sack(blocks),
                Err(_) => return Err(bad_length(0, "10, 18, 26 or 34 for SACK (kind 5)", length)),
            },
            kind::TIMESTAMPS => TcpOption::Timestamps {
                value: be32(0),
                echo_reply: be32(4),
            },
            kind::MD5_SIGNATURE => match value.first_chunk::<16>() {
                Some(digest) => TcpOption::Md5Signature(digest),
                None => return Err(bad_length(0, "18 for MD5 signature (kind 19)", length)),
            },
            kind::USER_TIMEOUT => {
                let word = be16(0);
                TcpOption::UserTimeout {
                    granularity_minutes: word & 0x8000 != 0,
                    timeout: word & 0x7fff,
                }
            }
            kind::AUTHENTICATION => match value {
                [key_id, rnext_key_id, mac @ ..] => TcpOption::Authentication {
                    key_id: *key_id,
                    rnext_key_id: *rnext_key_id,
                    mac,
                },
                _ => return Err(bad_length(0, "≥ 4 for TCP-AO (kind 29)", length)),
            },
            kind::MULTIPATH => match value.first() {
                Some(first) => TcpOption::Multipath {
                    subtype: first >> 4,
                    data: value,
                },
                None => return Err(bad_length(0, "≥ 3 for MPTCP (kind 30)", length)),
            },
            kind::FAST_OPEN_COOKIE => TcpOption::FastOpenCookie(value),
            kind::EXPERIMENT_1 | kind::EXPERIMENT_2 if value.len() >= 2 => {
                TcpOption::Experimental {
                    kind,
                    exid: be16(0),
                    data: value.get(2..).unwrap_or_default(),
                }
            }
            _ => TcpOption::Unknown { kind, data: value },
        };
        Ok((parsed, rest))
    }

    /// The option kind.
    pub const fn kind(&self) -> u8 {
        match self {
            TcpOption::EndOfList => kind::END_OF_LIST,
            TcpOption::NoOperation => kind::NO_OPERATION,
            TcpOption::MaximumSegmentSize(_) => kind::MAXIMUM_SEGMENT_SIZE,
            TcpOption::WindowScale(_) => kind::WINDOW_SCALE,
            TcpOption::SackPermitted => kind::SACK_PERMITTED,
            TcpOption::Sack(_) => kind::SACK,
            TcpOption::Timestamps { .. } => kind::TIMESTAMPS,
            TcpOption::Md5Signature(_) => kind::MD5_SIGNATURE,
            TcpOption::UserTimeout { .. } => kind::USER_TIMEOUT,
            TcpOption::Authentication { .. } => kind::AUTHENTICATION,
            TcpOption::Multipath { .. } => kind::MULTIPATH,
            TcpOption::FastOpenCookie(_) => kind::FAST_OPEN_COOKIE,
            TcpOption::Experimental { kind, .. } | TcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Bytes the option takes on the wire (its length field, or 1 for EOL and NOP).
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        match self {
            TcpOption::EndOfList | TcpOption::NoOperation => 1,
            TcpOption::MaximumSegmentSize(_) => 4,
            TcpOption::WindowScale(_) => 3,
            TcpOption::SackPermitted => 2,
            TcpOption::Sack(blocks) => 2 + blocks.as_bytes().len(),
            TcpOption::Timestamps { .. } => 10,
            TcpOption::Md5Signature(_) => 18,
            TcpOption::UserTimeout { .. } => 4,
            TcpOption::Authentication { mac, .. } => 4usize.saturating_add(mac.len()),
            TcpOption::Multipath { data, .. }
            | TcpOption::FastOpenCookie(data)
            | TcpOption::Unknown { data, .. } => 2usize.saturating_add(data.len()),
            TcpOption::Experimental { data, .. } => 4usize.saturating_add(data.len()),
        }
    }

    /// Writes this one option at the start of `out` and returns its length.
    ///
    /// Errors: an option longer than 255 bytes (`TooLong`, field "option length"), a user
    /// timeout above 0x7FFF (`TooLong`, field "user timeout"), a `Multipath` whose `subtype` is
    /// not the high 4 bits of `data[0]` (`BadValue`, field "MPTCP subtype") and a short `out`
    /// (`BufferTooSmall`). The kind written for `Experimental` and `Unknown` is the one held,
    /// even if it is a kind this module reads as another variant.
    pub fn write(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let Ok(length) = u8::try_from(len) else {
            return Err(Error::too_long(
                Layer::TcpOption,
                "option length",
                usize::from(u8::MAX),
                len,
            ));
        };
        // Fixed-size value fields, then a variable tail.
        let (fixed, fixed_len, tail): ([u8; 8], usize, &[u8]) = match self {
            TcpOption::EndOfList | TcpOption::NoOperation | TcpOption::SackPermitted => {
                ([0; 8], 0, &[])
            }
            TcpOption::MaximumSegmentSize(mss) => {
                let [a, b] = mss.to_be_bytes();
                ([a, b, 0, 0, 0, 0, 0, 0], 2, &[])
            }
            TcpOption::WindowScale(shift) => ([*shift, 0, 0, 0, 0, 0, 0, 0], 1, &[]),
            TcpOption::Sack(blocks) => ([0; 8], 0, blocks.as_bytes()),
            TcpOption::Timestamps { value, echo_reply } => {
                let [a, b, c, d] = value.to_be_bytes();
                let [e, f, g, h] = echo_reply.to_be_bytes();
                ([a, b, c, d, e, f, g, h], 8, &[])
            }
            TcpOption::Md5Signature(digest) => ([0; 8], 0, &digest[..]),
            TcpOption::UserTimeout {
                granularity_minutes,
                timeout,
            } => {
                if *timeout > 0x7fff {
                    return Err(Error::too_long(
                        Layer::TcpOption,
                        "user timeout",
                        0x7fff,
                        usize::from(*timeout),
                    ));
                }
                let g = if *granularity_minutes { 0x8000 } else { 0 };
                let [a, b] = (timeout | g).to_be_bytes();
                ([a, b, 0, 0, 0, 0, 0, 0], 2, &[])
            }
            TcpOption::Authentication {
                key_id,
                rnext_key_id,
                mac,
            } => ([*key_id, *rnext_key_id, 0, 0, 0, 0, 0, 0], 2, mac),
            TcpOption::Multipath { subtype, data } => {
                if data.first().map(|b| b >> 4) != Some(*subtype) {
                    return Err(Error::bad_value(
                        Layer::TcpOption,
                        "MPTCP subtype",
                        2,
                        "the high 4 bits of the first data byte",
                        u64::from(*subtype),
                    ));
                }
                ([0; 8], 0, data)
            }
            TcpOption::FastOpenCookie(cookie) => ([0; 8], 0, cookie),
            TcpOption::Experimental { exid, data, .. } => {
                let [a, b] = exid.to_be_bytes();
                ([a, b, 0, 0, 0, 0, 0, 0], 2, data)
            }
            TcpOption::Unknown { data, .. } => ([0; 8], 0, data),
        };
        let got = out.len();
        let Some(dst) = out.get_mut(..len) else {
            return Err(Error::buffer_too_small(Layer::TcpOption, len, got));
        };
        // EOL and NOP are the kind byte alone.
        let head = [self.kind(), length];
        let head = head.get(..len.min(2)).unwrap_or_default();
        let parts = [head, fixed.get(..fixed_len).unwrap_or_default(), tail];
        let mut at = 0usize;
        for part in parts {
            let end = at.saturating_add(part.len());
            if let Some(d) = dst.get_mut(at..end) {
                d.copy_from_slice(part);
            }
            at = end;
        }
        Ok(len)
    }

    /// Writes `options` in order at the start of `out`, then pads with zero bytes to a
    /// multiple of 4 (the first pad byte is End of Option List, the rest are padding
    /// [RFC 9293 § 3.1]); no padding is added when the list already ends on a 4-byte boundary.
    /// Returns the padded length, which is what the data offset must cover.
    ///
    /// Errors: more than 40 bytes once padded (`TooLong`, field "options"), a short `out`
    /// (`BufferTooSmall`), and the per-option errors of [`write`](TcpOption::write).
    pub fn write_all(options: &[TcpOption<'_>], out: &mut [u8]) -> Result<usize> {
        let total = options
            .iter()
            .fold(0usize, |sum, o| sum.saturating_add(o.len()));
        let padded = total.saturating_add(3) & !3;
        if padded > MAX_LEN {
            return Err(Error::too_long(
                Layer::TcpOption,
                "options",
                MAX_LEN,
                padded,
            ));
        }
        let got = out.len();
        let Some(area) = out.get_mut(..padded) else {
            return Err(Error::buffer_too_small(Layer::TcpOption, padded, got));
        };
        let mut at = 0usize;
        for option in options {
            let rest = area.get_mut(at..).unwrap_or_default();
            at = at.saturating_add(option.write(rest)?);
        }
        area.get_mut(at..).unwrap_or_default().fill(0);
        Ok(padded)
    }
}

/// tshark's Info-column spelling where it has one (`MSS=1460`, `WS=128`, `SACK_PERM`,
/// `TSval=… TSecr=…`, `SLE=… SRE=…`, `TFO=R` / `TFO=C`).
impl fmt::Display for TcpOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpOption::EndOfList => f.write_str("EOL"),
            TcpOption::NoOperation => f.write_str("NOP"),
            TcpOption::MaximumSegmentSize(mss) => write!(f, "MSS={mss}"),
            TcpOption::WindowScale(shift) => match 1u32.checked_shl(u32::from(*shift)) {
                Some(multiplier) if *shift <= 14 => write!(f, "WS={multiplier}"),
                _ => write!(f, "WS=shift {shift} (> 14)"),
            },
            TcpOption::SackPermitted => f.write_str("SACK_PERM"),
            TcpOption::Sack(blocks) => {
                for (i, b) in blocks.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "SLE={} SRE={}", b.left, b.right)?;
                }
                Ok(())
            }
            TcpOption::Timestamps { value, echo_reply } => {
                write!(f, "TSval={value} TSecr={echo_reply}")
            }
            TcpOption::Md5Signature(_) => f.write_str("MD5"),
            TcpOption::UserTimeout {
                granularity_minutes,
                timeout,
            } => write!(
                f,
                "USER_TO={timeout}{}",
                if *granularity_minutes { "min" } else { "s" }
            ),
            TcpOption::Authentication { key_id, .. } => write!(f, "AO keyid={key_id}"),
            TcpOption::Multipath { subtype, .. } => write!(f, "MPTCP subtype={subtype}"),
            TcpOption::FastOpenCookie(cookie)
            | TcpOption::Experimental {
                exid: exid::FAST_OPEN,
                data: cookie,
                ..
            } => f.write_str(if cookie.is_empty() { "TFO=R" } else { "TFO=C" }),
            TcpOption::Experimental { kind, exid, .. } => {
                write!(f, "EXP({kind})=0x{exid:04x}")
            }
            TcpOption::Unknown { kind, data } => write!(f, "OPT({kind}) len={}", data.len()),
        }
    }
}

/// The option bytes of a TCP header, borrowed (everything between the fixed 20 bytes and the
/// data offset, padding included) [RFC 9293 § 3.1].
///
/// [`TcpOptions::new`] validates the list; [`TcpOptions::raw`] holds any bytes (to craft bad
/// headers) and its iterators stop at the first malformed option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpOptions<'a>(&'a [u8]);

impl<'a> TcpOptions<'a> {
    /// No options.
    pub const EMPTY: TcpOptions<'static> = TcpOptions(&[]);

    /// Validates an options area: every option up to End of Option List (or the end) must have
    /// a well-formed length that stays inside `bytes`. Bytes after End of Option List are
    /// padding and are not looked at. Error offsets are relative to the start of `bytes`.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        validate(bytes)?;
        Ok(TcpOptions(bytes))
    }

    /// Holds `bytes` unchecked, e.g. to emit a deliberately malformed header.
    pub const fn raw(bytes: &'a [u8]) -> Self {
        TcpOptions(bytes)
    }

    /// The option bytes as on the wire.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// Number of option bytes (padding included).
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no option bytes.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The options in order, ending with `EndOfList` if there is one. For unchecked bytes
    /// ([`raw`](TcpOptions::raw)) iteration stops before the first malformed option.
    pub fn iter(&self) -> impl Iterator<Item = TcpOption<'a>> + 'a {
        self.iter_checked().map_while(|o| o.ok())
    }

    /// The options in order; a malformed option yields its error (offset from the start of the
    /// options) and ends the iteration.
    pub fn iter_checked(&self) -> TcpOptionsIter<'a> {
        TcpOptionsIter {
            rest: self.0,
            offset: 0,
            done: false,
        }
    }

    /// The bytes after End of Option List (empty if there is none). Senders should make them
    /// zero; receivers ignore them.
    pub fn padding(&self) -> &'a [u8] {
        let mut offset = 0usize;
        for option in self.iter() {
            offset = offset.saturating_add(option.len());
            if option == TcpOption::EndOfList {
                return self.0.get(offset..).unwrap_or_default();
            }
        }
        &[]
    }

    /// The first Maximum Segment Size option.
    pub fn maximum_segment_size(&self) -> Option<u16> {
        self.iter().find_map(|o| match o {
            TcpOption::MaximumSegmentSize(mss) => Some(mss),
            _ => None,
        })
    }

    /// The first Window Scale shift count.
    pub fn window_scale(&self) -> Option<u8> {
        self.iter().find_map(|o| match o {
            TcpOption::WindowScale(shift) => Some(shift),
            _ => None,
        })
    }

    /// Whether SACK-Permitted is present.
    pub fn sack_permitted(&self) -> bool {
        self.iter().any(|o| o == TcpOption::SackPermitted)
    }

    /// The blocks of the first SACK option.
    pub fn sack(&self) -> Option<SackBlocks<'a>> {
        self.iter().find_map(|o| match o {
            TcpOption::Sack(blocks) => Some(blocks),
            _ => None,
        })
    }

    /// The first Timestamps option as (TSval, TSecr).
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        self.iter().find_map(|o| match o {
            TcpOption::Timestamps { value, echo_reply } => Some((value, echo_reply)),
            _ => None,
        })
    }

    /// The Fast Open cookie, from kind 34 or the experimental form (kind 254, ExID 0xF989);
    /// `Some(&[])` is a cookie request.
    pub fn fast_open_cookie(&self) -> Option<&'a [u8]> {
        self.iter().find_map(|o| match o {
            TcpOption::FastOpenCookie(cookie)
            | TcpOption::Experimental {
                exid: exid::FAST_OPEN,
                data: cookie,
                ..
            } => Some(cookie),
            _ => None,
        })
    }
}

/// The checks of [`TcpOption::parse`] on every option up to End of Option List, with the same
/// errors, but without building the typed options: kinds and lengths only, so that parsing a
/// header does not read its options twice (once here, once when the caller iterates them).
#[inline]
fn validate(bytes: &[u8]) -> Result<()> {
    let mut rest = bytes;
    let mut offset = 0usize;
    loop {
        let length = match *rest {
            [] | [kind::END_OF_LIST, ..] => return Ok(()),
            [kind::NO_OPERATION, ..] => 1,
            [kind] => {
                return Err(Error::bad_value(
                    Layer::TcpOption,
                    "option kind",
                    offset,
                    "0 (EOL) or 1 (NOP): no room for a length byte",
                    u64::from(kind),
                ));
            }
            [kind, length, ..] => {
                let length = usize::from(length);
                let expected = if length < 2 {
                    Some("≥ 2")
                } else if length > rest.len() {
                    Some("≤ the bytes left before the end of the header")
                } else {
                    length_not_allowed(kind, length)
                };
                if let Some(expected) = expected {
                    return Err(bad_length(offset, expected, length));
                }
                length
            }
        };
        rest = rest.get(length..).unwrap_or_default();
        offset = offset.saturating_add(length);
    }
}

/// For an option of `kind` whose length octet says `length` (≥ 2, within the options): the
/// `expected` text of the error [`TcpOption::parse`] gives for that length, or `None` if the
/// kind allows it.
#[inline]
fn length_not_allowed(kind: u8, length: usize) -> Option<&'static str> {
    if let Some((want, expected)) = fixed_length(kind) {
        return (length != want).then_some(expected);
    }
    let value = length.saturating_sub(2);
    match kind {
        kind::SACK => {
            let blocks = value / SACK_BLOCK_LEN;
            (value % SACK_BLOCK_LEN != 0 || !(1..=MAX_SACK_BLOCKS).contains(&blocks))
                .then_some("10, 18, 26 or 34 for SACK (kind 5)")
        }
        kind::AUTHENTICATION => (value < 2).then_some("≥ 4 for TCP-AO (kind 29)"),
        kind::MULTIPATH => (value < 1).then_some("≥ 3 for MPTCP (kind 30)"),
        _ => None,
    }
}

/// Iterator over the options of a [`TcpOptions`], see [`TcpOptions::iter_checked`].
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = Result<TcpOption<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        match TcpOption::parse(self.rest) {
            Ok((option, rest)) => {
                self.offset = self
                    .offset
                    .saturating_add(self.rest.len().saturating_sub(rest.len()));
                self.rest = rest;
                // Everything after End of Option List is padding.
                self.done = matches!(option, TcpOption::EndOfList);
                Some(Ok(option))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.shifted(self.offset)))
            }
        }
    }
}

impl core::iter::FusedIterator for TcpOptionsIter<'_> {}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    fn parse_all(hexed: &str) -> Vec<TcpOption<'static>> {
        let bytes: &'static [u8] = hex::decode(hexed).unwrap().leak();
        TcpOptions::new(bytes).unwrap().iter().collect()
    }

    fn write(options: &[TcpOption<'_>]) -> Vec<u8> {
        let mut out = [0u8; 40];
        let n = TcpOption::write_all(options, &mut out).unwrap();
        out[..n].to_vec()
    }

    fn err(hexed: &str) -> Error {
        TcpOptions::new(&hex::decode(hexed).unwrap()).unwrap_err()
    }

    #[test]
    fn handshake_syn_options() {
        // tcpdump/tcp-handshake-nano.pcap frame 1 (tshark: MSS=1360 SACK_PERM TSval=1131021154
        // TSecr=0 WS=128).
        let hexed = "020405500402080a436a03620000000001030307";
        let options = parse_all(hexed);
        assert_eq!(
            options,
            [
                TcpOption::MaximumSegmentSize(1360),
                TcpOption::SackPermitted,
                TcpOption::Timestamps {
                    value: 1131021154,
                    echo_reply: 0
                },
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ]
        );
        assert_eq!(write(&options), hex::decode(hexed).unwrap());
        let text: Vec<_> = options.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            text,
            [
                "MSS=1360",
                "SACK_PERM",
                "TSval=1131021154 TSecr=0",
                "NOP",
                "WS=128"
            ]
        );
    }

    #[test]
    fn padding_after_end_of_list_is_kept_not_parsed() {
        // tcpdump/ssh.pcap frame 1: MSS, NOP, WS 6, NOP, NOP, TS, SACK_PERM, EOL, one zero
        // byte of padding (tshark: MSS=1460 WS=64 TSval=1948436430 TSecr=0 SACK_PERM).
        let bytes = hex::decode("020405b4010303060101080a7422c7ce0000000004020000").unwrap();
        let options = TcpOptions::new(&bytes).unwrap();
        assert_eq!(options.len(), 24);
        assert_eq!(options.iter().count(), 8);
        assert_eq!(options.iter().last(), Some(TcpOption::EndOfList));
        assert_eq!(options.padding(), &[0]);
        assert_eq!(options.maximum_segment_size(), Some(1460));
        assert_eq!(options.window_scale(), Some(6));
        assert_eq!(options.timestamps(), Some((1948436430, 0)));
        assert!(options.sack_permitted());
        // Garbage after EOL is padding too: not validated, kept as is.
        let mut junk = bytes.clone();
        junk[23] = 0x05;
        let options = TcpOptions::new(&junk).unwrap();
        assert_eq!(options.padding(), &[0x05]);
        assert_eq!(options.as_bytes(), &junk[..]);
    }

    #[test]
    fn accecn_experimental_option_and_eol_padding() {
        // tcpdump/accecn_handshake.pcap frame 3 (tshark: NOP, NOP, Timestamps TSval 112147698
        // TSecr 2783239876, Experimental 254 ExID 0xacc0 (AccECN order 0) 9 bytes, EOL ×3).
        let bytes =
            hex::decode("0101080a06af3cf2a5e4dec4fe0dacc0000000ffffffffffff000000").unwrap();
        let options = TcpOptions::new(&bytes).unwrap();
        let list: Vec<_> = options.iter().collect();
        assert_eq!(
            list,
            [
                TcpOption::NoOperation,
                TcpOption::NoOperation,
                TcpOption::Timestamps {
                    value: 112147698,
                    echo_reply: 2783239876
                },
                TcpOption::Experimental {
                    kind: 254,
                    exid: exid::ACCURATE_ECN_ORDER_0,
                    data: &[0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
                },
                TcpOption::EndOfList,
            ]
        );
        assert_eq!(options.padding(), &[0, 0]);
        assert_eq!(write(&list), bytes);
    }

    #[test]
    fn fast_open_experimental_request_and_cookie() {
        // tcpdump/tfo-5c1fa7f9ae91.pcap: frame 1 asks for a cookie (tshark "TFO=R"), frame 3
        // carries cookie 090909090000 (tshark: Experiment Identifier Fast Open (0xf989)).
        let request = parse_all("fe04f989");
        assert_eq!(
            request,
            [TcpOption::Experimental {
                kind: 254,
                exid: 0xf989,
                data: &[]
            }]
        );
        assert_eq!(request[0].to_string(), "TFO=R");
        let bytes = hex::decode("fe0af9890909090900000101").unwrap();
        let options = TcpOptions::new(&bytes).unwrap();
        assert_eq!(options.fast_open_cookie(), Some(&[9u8, 9, 9, 9, 0, 0][..]));
        assert_eq!(options.iter().next().unwrap().to_string(), "TFO=C");
        assert_eq!(
            TcpOptions::new(&[0xfe, 0x04, 0xf9, 0x89])
                .unwrap()
                .fast_open_cookie(),
            Some(&[][..])
        );
    }

    #[test]
    fn fast_open_kind_34() {
        assert_eq!(parse_all("2202"), [TcpOption::FastOpenCookie(&[])]);
        let cookie = [1, 2, 3, 4, 5, 6, 7, 8];
        let o = TcpOption::FastOpenCookie(&cookie);
        assert_eq!(
            hex::encode(write(&[o, TcpOption::NoOperation, TcpOption::NoOperation])),
            "220a01020304050607080101"
        );
        let bytes = write(&[o]);
        assert_eq!(
            TcpOptions::new(&bytes).unwrap().fast_open_cookie(),
            Some(&cookie[..])
        );
    }

    #[test]
    fn sack_from_capture() {
        // tcpdump/ssh.pcap frame 48: 11 NOPs then SACK 4082238970-4082238971 (tshark, absolute
        // sequence numbers).
        let bytes = hex::decode("0101010101010101010101010101050af35205faf35205fb").unwrap();
        let options = TcpOptions::new(&bytes).unwrap();
        let blocks = options.sack().unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            blocks.get(0),
            Some(SackBlock {
                left: 4082238970,
                right: 4082238971
            })
        );
        assert_eq!(blocks.get(1), None);
    }

    #[test]
    fn sack_rfc2018_examples() {
        // RFC 2018 § 4, case 3: segments of 500 bytes from 5000, the 2nd, 4th, 6th and 8th
        // lost; the 7th (8000) triggers ACK 5500 with blocks 8000-8500, 7000-7500, 6000-6500.
        let mut buffer = [0u8; 32];
        let wanted = [
            SackBlock {
                left: 8000,
                right: 8500,
            },
            SackBlock {
                left: 7000,
                right: 7500,
            },
            SackBlock {
                left: 6000,
                right: 6500,
            },
        ];
        let blocks = SackBlocks::encode(&wanted, &mut buffer).unwrap();
        let bytes = write(&[
            TcpOption::NoOperation,
            TcpOption::NoOperation,
            TcpOption::Sack(blocks),
        ]);
        assert_eq!(
            hex::encode(&bytes),
            "0101051a00001f400000213400001b5800001d4c0000177000001964"
        );
        let options = TcpOptions::new(&bytes).unwrap();
        assert_eq!(options.sack().unwrap().iter().collect::<Vec<_>>(), wanted);
        assert_eq!(
            options.iter().nth(2).unwrap().to_string(),
            "SLE=8000 SRE=8500 SLE=7000 SRE=7500 SLE=6000 SRE=6500"
        );
        // Case 2: the first segment lost, 5500 triggers one block 5500-6000.
        let one = parse_all("0101050a0000157c00001770");
        let TcpOption::Sack(blocks) = one[2] else {
            panic!("not SACK: {:?}", one[2]);
        };
        assert_eq!(
            blocks.iter().collect::<Vec<_>>(),
            [SackBlock {
                left: 5500,
                right: 6000
            }]
        );
        // Four blocks is the most (34 bytes).
        let four = [SackBlock { left: 1, right: 2 }; 4];
        let blocks = SackBlocks::encode(&four, &mut buffer).unwrap();
        assert_eq!(TcpOption::Sack(blocks).len(), 34);
    }

    #[test]
    fn sack_block_count_errors() {
        let mut buffer = [0u8; 32];
        let e = SackBlocks::encode(&[], &mut buffer).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "1 to 4 blocks",
                found: 0
            }
        );
        let e = SackBlocks::encode(&[SackBlock { left: 0, right: 0 }; 5], &mut buffer).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "1 to 4 blocks",
                found: 5
            }
        );
        let e = SackBlocks::new(&[0; 12]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "8, 16, 24 or 32 bytes",
                found: 12
            }
        );
        assert!(SackBlocks::new(&[0; 40]).is_err());
        assert!(SackBlocks::new(&[]).is_err());
    }

    #[test]
    fn other_typed_options_read_and_write() {
        let digest = [0xa5u8; 16];
        let mac = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let mptcp = [0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8]; // MP_JOIN (subtype 1), flags 0x1
        let cases: [(TcpOption<'_>, &str); 8] = [
            (
                TcpOption::Md5Signature(&digest),
                "1312a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
            ),
            (
                TcpOption::UserTimeout {
                    granularity_minutes: true,
                    timeout: 0x0102,
                },
                "1c048102",
            ),
            (
                TcpOption::UserTimeout {
                    granularity_minutes: false,
                    timeout: 0x7fff,
                },
                "1c047fff",
            ),
            (
                TcpOption::Authentication {
                    key_id: 7,
                    rnext_key_id: 9,
                    mac: &mac,
                },
                "1d1007090102030405060708090a0b0c",
            ),
            (
                TcpOption::Multipath {
                    subtype: 0,
                    data: &[0x01],
                },
                "1e0301",
            ),
            (
                TcpOption::Experimental {
                    kind: 253,
                    exid: 0x1234,
                    data: &[0xee],
                },
                "fd051234ee",
            ),
            (
                TcpOption::Unknown {
                    kind: 20,
                    data: &[],
                },
                "1402",
            ),
            (
                TcpOption::Unknown {
                    kind: 99,
                    data: &[1, 2, 3],
                },
                "6305010203",
            ),
        ];
        for (option, hexed) in cases {
            let bytes = hex::decode(hexed).unwrap();
            let mut out = vec![0u8; bytes.len()];
            assert_eq!(option.write(&mut out), Ok(bytes.len()), "{option:?}");
            assert_eq!(out, bytes, "{option:?}");
            assert_eq!(option.len(), bytes.len());
            let (parsed, rest) = TcpOption::parse(&bytes).unwrap();
            assert_eq!(parsed, option);
            assert!(rest.is_empty());
        }
        // The subtype must be the high nibble of data[0], or the option would not read back.
        let wrong = TcpOption::Multipath {
            subtype: 0,
            data: &mptcp[1..2],
        };
        let e = wrong.write(&mut [0u8; 3]).unwrap_err();
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::TcpOption, "MPTCP subtype", 2)
        );
        let empty = TcpOption::Multipath {
            subtype: 0,
            data: &[],
        };
        assert_eq!(
            empty.write(&mut [0u8; 2]).unwrap_err().field,
            "MPTCP subtype"
        );
        // MP_JOIN read from bytes: subtype is the high nibble, data keeps the whole value.
        let bytes = [30, 12, 0x11, 0x01, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef];
        let (o, _) = TcpOption::parse(&bytes).unwrap();
        assert_eq!(
            o,
            TcpOption::Multipath {
                subtype: 1,
                data: &bytes[2..]
            }
        );
        assert_eq!(o.kind(), kind::MULTIPATH);
    }

    #[test]
    fn loopback_mptcp_dss_is_structurally_valid() {
        // tcpdump/mptcp-dss-oobr.pcap: MSS 16396, SACK_PERM, TS, then MPTCP DSS with length 3
        // (Wireshark calls the DSS malformed; as a TLV it is well-formed) and EOL.
        let options = parse_all("0204400c0402080a23975534000000001e032000");
        assert_eq!(options.len(), 5);
        assert_eq!(options[0], TcpOption::MaximumSegmentSize(16396));
        assert_eq!(
            options[3],
            TcpOption::Multipath {
                subtype: 2,
                data: &[0x20]
            }
        );
        assert_eq!(options[4], TcpOption::EndOfList);
    }

    #[test]
    fn scps_kind_20_is_unknown() {
        // tcpdump/scps_invalid.pcap: MSS 1452, NOP, WS 2, NOP, NOP, kind 20 length 2.
        assert_eq!(
            parse_all("020405ac0103030201011402"),
            [
                TcpOption::MaximumSegmentSize(1452),
                TcpOption::NoOperation,
                TcpOption::WindowScale(2),
                TcpOption::NoOperation,
                TcpOption::NoOperation,
                TcpOption::Unknown {
                    kind: 20,
                    data: &[]
                },
            ]
        );
    }

    #[test]
    fn short_experimental_is_unknown() {
        // Pre-RFC 6994 experiments have no ExID.
        assert_eq!(
            parse_all("fe03aa00"),
            [
                TcpOption::Unknown {
                    kind: 254,
                    data: &[0xaa]
                },
                TcpOption::EndOfList
            ]
        );
        assert_eq!(
            parse_all("fd020000"),
            [
                TcpOption::Unknown {
                    kind: 253,
                    data: &[]
                },
                TcpOption::EndOfList
            ]
        );
    }

    #[test]
    fn length_zero_and_one_are_errors_not_loops() {
        for (hexed, offset, found) in [("0200", 0, 0), ("01010801", 2, 1), ("2200", 0, 0)] {
            let e = err(hexed);
            assert_eq!(
                (e.layer, e.field, e.offset),
                (Layer::TcpOption, "option length", offset)
            );
            assert_eq!(
                e.kind,
                ErrorKind::BadValue {
                    expected: "≥ 2",
                    found
                }
            );
        }
    }

    #[test]
    fn length_past_end_is_an_error() {
        let e = err("0101080a0000");
        assert_eq!(
            (e.layer, e.field, e.offset),
            (Layer::TcpOption, "option length", 2)
        );
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "≤ the bytes left before the end of the header",
                found: 10
            }
        );
        // A multi-byte kind in the last byte has no room for its length.
        let e = err("01010102");
        assert_eq!((e.field, e.offset), ("option kind", 3));
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "0 (EOL) or 1 (NOP): no room for a length byte",
                found: 2
            }
        );
        assert_eq!(
            TcpOption::parse(&[]).unwrap_err().kind,
            ErrorKind::Truncated { needed: 1, got: 0 }
        );
    }

    #[test]
    fn fixed_lengths_are_enforced_with_the_expected_length_named() {
        for (hexed, expected, found) in [
            ("020505b400", "4 for MSS (kind 2)", 5),
            ("0302", "3 for window scale (kind 3)", 2),
            ("040300", "2 for SACK permitted (kind 4)", 3),
            ("050600000000", "10, 18, 26 or 34 for SACK (kind 5)", 6),
            ("0502", "10, 18, 26 or 34 for SACK (kind 5)", 2),
            ("080800000000000000", "10 for timestamps (kind 8)", 8),
            (
                "131000000000000000000000000000000000",
                "18 for MD5 signature (kind 19)",
                16,
            ),
            ("1c0300", "4 for user timeout (kind 28)", 3),
            ("1d0300", "≥ 4 for TCP-AO (kind 29)", 3),
            ("1e02", "≥ 3 for MPTCP (kind 30)", 2),
        ] {
            let e = err(&std::format!("01{hexed}"));
            assert_eq!(
                (e.layer, e.field, e.offset),
                (Layer::TcpOption, "option length", 1),
                "{hexed}"
            );
            assert_eq!(e.kind, ErrorKind::BadValue { expected, found }, "{hexed}");
        }
        // 42 bytes of SACK (5 blocks) cannot fit a header, but is still refused by length.
        let mut five = vec![5u8, 42];
        five.extend_from_slice(&[0; 40]);
        assert_eq!(
            err(&hex::encode(&five)).kind,
            ErrorKind::BadValue {
                expected: "10, 18, 26 or 34 for SACK (kind 5)",
                found: 42
            }
        );
    }

    #[test]
    fn iter_checked_reports_and_stops() {
        let bytes = hex::decode("0204ffff0101ff01").unwrap();
        let options = TcpOptions::raw(&bytes);
        let items: Vec<_> = options.iter_checked().collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0], Ok(TcpOption::MaximumSegmentSize(0xffff)));
        assert_eq!(items[3].unwrap_err().offset, 6);
        assert_eq!(options.iter().count(), 3);
        assert!(TcpOptions::new(&bytes).is_err());
    }

    #[test]
    fn write_all_pads_with_end_of_list_and_limits_to_40() {
        assert_eq!(write(&[]), Vec::<u8>::new());
        assert_eq!(
            hex::encode(write(&[TcpOption::MaximumSegmentSize(1460)])),
            "020405b4"
        );
        assert_eq!(hex::encode(write(&[TcpOption::WindowScale(7)])), "03030700");
        assert_eq!(
            hex::encode(write(&[TcpOption::SackPermitted, TcpOption::NoOperation])),
            "04020100"
        );
        let ts = TcpOption::Timestamps {
            value: 1,
            echo_reply: 2,
        };
        let e = TcpOption::write_all(&[ts, ts, ts, ts, TcpOption::NoOperation], &mut [0u8; 64])
            .unwrap_err();
        assert_eq!((e.layer, e.field), (Layer::TcpOption, "options"));
        assert_eq!(e.kind, ErrorKind::TooLong { max: 40, got: 44 });
        let e = TcpOption::write_all(&[ts], &mut [0u8; 11]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::BufferTooSmall {
                needed: 12,
                got: 11
            }
        );
        let e = TcpOption::MaximumSegmentSize(1)
            .write(&mut [0u8; 3])
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 4, got: 3 });
        let e = TcpOption::UserTimeout {
            granularity_minutes: false,
            timeout: 0x8000,
        }
        .write(&mut [0u8; 4])
        .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            (
                "user timeout",
                ErrorKind::TooLong {
                    max: 0x7fff,
                    got: 0x8000
                }
            )
        );
        let big = [0u8; 254];
        let e = TcpOption::Unknown {
            kind: 99,
            data: &big,
        }
        .write(&mut [0u8; 300])
        .unwrap_err();
        assert_eq!(
            (e.field, e.kind),
            ("option length", ErrorKind::TooLong { max: 255, got: 256 })
        );
        assert_eq!(
            TcpOption::Unknown {
                kind: 99,
                data: &big[..253]
            }
            .write(&mut [0u8; 300]),
            Ok(255)
        );
        // A full 40-byte list needs no padding.
        let full = [ts, ts, ts, ts];
        assert_eq!(TcpOption::write_all(&full, &mut [0u8; 40]), Ok(40));
    }

    #[test]
    fn window_scale_display_caps_at_14() {
        assert_eq!(TcpOption::WindowScale(14).to_string(), "WS=16384");
        assert_eq!(TcpOption::WindowScale(15).to_string(), "WS=shift 15 (> 14)");
        assert_eq!(
            TcpOption::WindowScale(255).to_string(),
            "WS=shift 255 (> 14)"
        );
    }

    /// An owned option, for generating lists in proptests.
    #[derive(Debug, Clone)]
    pub(crate) enum Owned {
        Nop,
        Mss(u16),
        Ws(u8),
        SackPermitted,
        Sack(Vec<u8>),
        Timestamps(u32, u32),
        Md5([u8; 16]),
        UserTimeout(bool, u16),
        Authentication(u8, u8, Vec<u8>),
        Multipath(Vec<u8>),
        FastOpen(Vec<u8>),
        Experimental(u8, u16, Vec<u8>),
        Unknown(u8, Vec<u8>),
    }

    impl Owned {
        pub(crate) fn as_option(&self) -> TcpOption<'_> {
            match self {
                Owned::Nop => TcpOption::NoOperation,
                Owned::Mss(m) => TcpOption::MaximumSegmentSize(*m),
                Owned::Ws(s) => TcpOption::WindowScale(*s),
                Owned::SackPermitted => TcpOption::SackPermitted,
                Owned::Sack(b) => TcpOption::Sack(SackBlocks::new(b).unwrap()),
                Owned::Timestamps(v, e) => TcpOption::Timestamps {
                    value: *v,
                    echo_reply: *e,
                },
                Owned::Md5(d) => TcpOption::Md5Signature(d),
                Owned::UserTimeout(g, t) => TcpOption::UserTimeout {
                    granularity_minutes: *g,
                    timeout: *t,
                },
                Owned::Authentication(k, r, mac) => TcpOption::Authentication {
                    key_id: *k,
                    rnext_key_id: *r,
                    mac,
                },
                Owned::Multipath(d) => TcpOption::Multipath {
                    subtype: d[0] >> 4,
                    data: d,
                },
                Owned::FastOpen(c) => TcpOption::FastOpenCookie(c),
                Owned::Experimental(k, x, d) => TcpOption::Experimental {
                    kind: *k,
                    exid: *x,
                    data: d,
                },
                Owned::Unknown(k, d) => TcpOption::Unknown { kind: *k, data: d },
            }
        }
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..=max)
    }

    pub(crate) fn owned_option() -> impl Strategy<Value = Owned> {
        const KNOWN: [u8; 14] = [0, 1, 2, 3, 4, 5, 8, 19, 28, 29, 30, 34, 253, 254];
        prop_oneof![
            Just(Owned::Nop),
            any::<u16>().prop_map(Owned::Mss),
            any::<u8>().prop_map(Owned::Ws),
            Just(Owned::SackPermitted),
            (1usize..=4)
                .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 8))
                .prop_map(Owned::Sack),
            (any::<u32>(), any::<u32>()).prop_map(|(v, e)| Owned::Timestamps(v, e)),
            any::<[u8; 16]>().prop_map(Owned::Md5),
            (any::<bool>(), 0u16..0x8000).prop_map(|(g, t)| Owned::UserTimeout(g, t)),
            (any::<u8>(), any::<u8>(), bytes(12))
                .prop_map(|(k, r, m)| Owned::Authentication(k, r, m)),
            (any::<u8>(), bytes(8)).prop_map(|(first, mut d)| {
                d.insert(0, first);
                Owned::Multipath(d)
            }),
            bytes(16).prop_map(Owned::FastOpen),
            (
                prop_oneof![Just(253u8), Just(254u8)],
                any::<u16>(),
                bytes(8)
            )
                .prop_map(|(k, x, d)| Owned::Experimental(k, x, d)),
            (
                any::<u8>().prop_filter("unknown kind", |k| !KNOWN.contains(k)),
                bytes(8)
            )
                .prop_map(|(k, d)| Owned::Unknown(k, d)),
        ]
    }

    /// Lists that fit 40 bytes once padded, optionally ending with EOL.
    pub(crate) fn owned_list() -> impl Strategy<Value = (Vec<Owned>, bool)> {
        (
            proptest::collection::vec(owned_option(), 0..6),
            any::<bool>(),
        )
            .prop_filter("fits 40 bytes", |(list, eol)| {
                let len: usize =
                    list.iter().map(|o| o.as_option().len()).sum::<usize>() + usize::from(*eol);
                len <= 40
            })
    }

    pub(crate) fn typed(list: &[Owned], eol: bool) -> Vec<TcpOption<'_>> {
        let mut v: Vec<_> = list.iter().map(Owned::as_option).collect();
        if eol {
            v.push(TcpOption::EndOfList);
        }
        v
    }

    proptest! {
        #[test]
        fn any_option_list_round_trips((list, eol) in owned_list()) {
            let options = typed(&list, eol);
            let mut out = [0u8; 40];
            let n = TcpOption::write_all(&options, &mut out).unwrap();
            prop_assert_eq!(n % 4, 0);
            let raw: usize = options.iter().map(TcpOption::len).sum();
            prop_assert_eq!(n, raw.div_ceil(4) * 4);
            let parsed = TcpOptions::new(&out[..n]).unwrap();
            let mut expected = options.clone();
            if n > raw && !eol {
                expected.push(TcpOption::EndOfList);
            }
            prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), expected);
            prop_assert!(parsed.padding().iter().all(|&b| b == 0));
        }

        #[test]
        fn valid_bytes_rewrite_identically((list, eol) in owned_list()) {
            let options = typed(&list, eol);
            let mut out = [0u8; 40];
            let n = TcpOption::write_all(&options, &mut out).unwrap();
            let parsed: Vec<_> = TcpOptions::new(&out[..n]).unwrap().iter().collect();
            let mut again = [0u8; 40];
            let m = TcpOption::write_all(&parsed, &mut again).unwrap();
            prop_assert_eq!(&again[..m], &out[..n]);
        }

        #[test]
        fn random_option_bytes_never_panic_or_loop(bytes in bytes(64)) {
            let options = TcpOptions::raw(&bytes);
            // Each option consumes at least one byte, so iteration is bounded by the length.
            prop_assert!(options.iter_checked().count() <= bytes.len());
            let _ = options.padding();
            let _ = options.sack();
            if let Ok(valid) = TcpOptions::new(&bytes) {
                let consumed: usize = valid.iter().map(|o| o.len()).sum();
                prop_assert_eq!(consumed + valid.padding().len(), bytes.len());
                let list: Vec<_> = valid.iter().collect();
                let mut out = vec![0u8; consumed];
                let mut at = 0;
                for o in &list {
                    at += o.write(&mut out[at..]).unwrap();
                }
                prop_assert_eq!(&out[..], &bytes[..consumed]);
            }
        }

        /// `TcpOptions::new` validates with a kind/length walk; it must accept and reject
        /// exactly what the typed walk does, with the same error (field, offset, message).
        #[test]
        fn validation_agrees_with_the_typed_walk(
            parts in proptest::collection::vec(
                (
                    prop_oneof![
                        Just(0u8), Just(1), Just(2), Just(3), Just(4), Just(5), Just(8), Just(19),
                        Just(28), Just(29), Just(30), Just(34), Just(253), Just(254), any::<u8>()
                    ],
                    prop_oneof![0u8..=12, 0u8..=40, any::<u8>()],
                    proptest::collection::vec(any::<u8>(), 0..36),
                ),
                0..6,
            ),
            cut in 0usize..64,
        ) {
            let mut bytes = Vec::new();
            for (kind, length, value) in &parts {
                bytes.push(*kind);
                if *kind > 1 {
                    bytes.push(*length);
                    let n = usize::from(*length).saturating_sub(2).min(value.len());
                    bytes.extend_from_slice(&value[..n]);
                }
            }
            bytes.truncate(cut.max(bytes.len().saturating_sub(3)));
            let typed = TcpOptions::raw(&bytes).iter_checked().find_map(|o| o.err());
            prop_assert_eq!(TcpOptions::new(&bytes).err(), typed);
        }
    }
}
