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
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let options = TcpOptions(bytes);
        for option in options.iter_checked() {
            option?;
        }
        Ok(options)
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

/// Iterator over the options of a [`TcpOptions`], see [`TcpOptions::iter_checked`].
#[derive(Debug, Clone)]
pub struct TcpOptionsIter<'a> {
    rest: &'a [u8],
    offset: usize,
    done: bool,
}

impl<'a> Iterator for TcpOptionsIter<'a> {
    type Item = Result<TcpOption<'a>>;

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
                self.done = option == TcpOption::EndOfList;
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
