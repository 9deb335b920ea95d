//! UDP: the 8-byte header, its parse and emit, and checksum verification over the IPv4
//! pseudo-header [RFC 768].
//!
//! Parsing validates the structure only (the length field against the bytes present); the
//! checksum is checked separately by [`UdpHeader::verify_checksum`], so that a datagram with a
//! wrong checksum can still be decoded and reported.

use core::fmt;
use core::net::Ipv4Addr;

use crate::checksum::{self, Accumulator, ChecksumStatus};
use crate::error::{Error, Layer, Result};

/// The IPv4 protocol number of UDP [RFC 768].
pub const PROTOCOL: u8 = 17;

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

/// Byte ranges of the header fields [RFC 768, "Format"].
pub mod field {
    use core::ops::Range;
    /// Source port.
    pub const SOURCE_PORT: Range<usize> = 0..2;
    /// Destination port.
    pub const DESTINATION_PORT: Range<usize> = 2..4;
    /// Length of header plus data, in bytes.
    pub const LENGTH: Range<usize> = 4..6;
    /// Checksum over pseudo-header, header and data.
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// A UDP header [RFC 768].
///
/// ```text
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |     Source      |   Destination   |
/// |      Port       |      Port       |
/// +--------+--------+--------+--------+
/// |                 |                 |
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// |
/// |          data octets ...
/// +---------------- ...
/// ```
///
/// The fields hold the values as on the wire; [`emit`](UdpHeader::emit) computes `length` and
/// `checksum`, [`emit_exact`](UdpHeader::emit_exact) writes them as held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct UdpHeader {
    /// Source port (0 if unused).
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// Length of header and data in bytes (at least 8).
    pub length: u16,
    /// Checksum; 0 means the sender computed none (allowed over IPv4).
    pub checksum: u16,
}

impl UdpHeader {
    /// A header between two ports; `length` and `checksum` are left zero for
    /// [`emit`](UdpHeader::emit) to fill.
    pub const fn new(source_port: u16, destination_port: u16) -> Self {
        UdpHeader {
            source_port,
            destination_port,
            length: 0,
            checksum: 0,
        }
    }

    /// Parses a UDP header from the start of `bytes` and returns it with the payload.
    ///
    /// The payload is clamped to the `length` field: bytes after it (Ethernet padding, or
    /// garbage) are not part of the datagram and are not returned. Errors: fewer than 8 bytes
    /// (`Truncated`, field "header"), `length` below 8 (`BadValue`, field "length") and `length`
    /// beyond the bytes present (`Truncated`, field "length").
    #[inline]
    pub fn parse(bytes: &[u8]) -> Result<(UdpHeader, &[u8])> {
        let Some((header, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(Error::truncated(
                Layer::Udp,
                "header",
                0,
                HEADER_LEN,
                bytes.len(),
            ));
        };
        let [s0, s1, d0, d1, l0, l1, c0, c1] = *header;
        let h = UdpHeader {
            source_port: u16::from_be_bytes([s0, s1]),
            destination_port: u16::from_be_bytes([d0, d1]),
            length: u16::from_be_bytes([l0, l1]),
            checksum: u16::from_be_bytes([c0, c1]),
        };
        let length = usize::from(h.length);
        if length < HEADER_LEN {
            return Err(Error::bad_value(
                Layer::Udp,
                "length",
                field::LENGTH.start,
                "≥ 8",
                u64::from(h.length),
            ));
        }
        let Some(payload) = bytes.get(HEADER_LEN..length) else {
            return Err(Error::truncated(
                Layer::Udp,
                "length",
                field::LENGTH.start,
                length,
                bytes.len(),
            ));
        };
        Ok((h, payload))
    }

    /// Bytes the header takes on the wire: always 8.
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        HEADER_LEN
    }

    /// The payload length the `length` field describes (0 if it is below 8).
    pub const fn payload_len(&self) -> usize {
        (self.length as usize).saturating_sub(HEADER_LEN)
    }

    /// Writes header and `payload` to `out`, filling `length` and `checksum` (a computed zero
    /// is sent as 0xFFFF, since zero means "no checksum" [RFC 768]). Returns the bytes written,
    /// `8 + payload.len()`.
    ///
    /// Errors: a datagram longer than 65535 bytes (`TooLong`, field "length") and an `out`
    /// shorter than the datagram (`BufferTooSmall`).
    pub fn emit(
        &self,
        source: Ipv4Addr,
        destination: Ipv4Addr,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let total = HEADER_LEN.saturating_add(payload.len());
        let Ok(length) = u16::try_from(total) else {
            return Err(Error::too_long(
                Layer::Udp,
                "length",
                usize::from(u16::MAX),
                total,
            ));
        };
        let got = out.len();
        let Some((header, rest)) = out.split_first_chunk_mut::<HEADER_LEN>() else {
            return Err(Error::buffer_too_small(Layer::Udp, total, got));
        };
        let Some(data) = rest.get_mut(..payload.len()) else {
            return Err(Error::buffer_too_small(Layer::Udp, total, got));
        };
        data.copy_from_slice(payload);
        let mut h = UdpHeader {
            length,
            checksum: 0,
            ..*self
        };
        h.write(header);
        let sum = checksum::pseudo_header(source, destination, PROTOCOL, length)
            .add_bytes(header)
            .add_bytes(payload)
            .finish();
        h.checksum = if sum == 0 { 0xffff } else { sum };
        h.write(header);
        Ok(total)
    }

    /// Writes the 8 header bytes exactly as held (no length or checksum computed). Returns 8.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        let got = out.len();
        let Some((header, _)) = out.split_first_chunk_mut::<HEADER_LEN>() else {
            return Err(Error::buffer_too_small(Layer::Udp, HEADER_LEN, got));
        };
        self.write(header);
        Ok(HEADER_LEN)
    }

    fn write(&self, header: &mut [u8; HEADER_LEN]) {
        let [a, b] = self.source_port.to_be_bytes();
        let [c, d] = self.destination_port.to_be_bytes();
        let [e, f] = self.length.to_be_bytes();
        let [g, h] = self.checksum.to_be_bytes();
        *header = [a, b, c, d, e, f, g, h];
    }

    /// Verifies the checksum of a datagram given as on the wire (header first) between
    /// `source` and `destination` [RFC 768].
    ///
    /// The sum covers the `length` bytes the header describes when that field is valid (8 to
    /// the bytes present) and the whole slice otherwise. A zero field is `Absent`; a field
    /// holding only the folded pseudo-header sum (checksum offload, captured before the card
    /// filled it in) is `Partial`. Input shorter than the 8-byte header holds no checksum and
    /// is reported `Bad` with `found` 0.
    #[inline]
    pub fn verify_checksum(
        source: Ipv4Addr,
        destination: Ipv4Addr,
        datagram: &[u8],
    ) -> ChecksumStatus {
        let declared = datagram
            .get(field::LENGTH)
            .and_then(|b| b.first_chunk::<2>())
            .map(|b| usize::from(u16::from_be_bytes(*b)));
        let covered = match declared {
            Some(len) if len >= HEADER_LEN => datagram.get(..len).unwrap_or(datagram),
            _ => datagram,
        };
        let pseudo = pseudo_header_any_length(source, destination, PROTOCOL, covered.len());
        let Some((before, after)) = covered
            .get(..field::CHECKSUM.start)
            .zip(covered.get(field::CHECKSUM.end..))
        else {
            let expected = pseudo.add_bytes(covered).finish();
            return ChecksumStatus::Bad { expected, found: 0 };
        };
        let found = covered
            .get(field::CHECKSUM)
            .and_then(|b| b.first_chunk::<2>())
            .map_or(0, |b| u16::from_be_bytes(*b));
        // A receiver's check [RFC 1071 § 2]: the sum over pseudo-header and datagram, checksum
        // field included, is all ones when the field is right; only a zero (absent) or wrong
        // field needs `status` and its expected value.
        if found != 0 && pseudo.add_bytes(covered).sum16() == 0xffff {
            return ChecksumStatus::Good;
        }
        let sum = pseudo.add_bytes(before).add_bytes(after);
        checksum::status(found, sum, true, Some(pseudo))
    }
}

/// The pseudo-header sum for a transport length that may exceed 16 bits (a reassembled or
/// corrupt length in a capture): the length is added as a 32-bit value, as Linux's
/// `csum_tcpudp_magic` does, which equals [`checksum::pseudo_header`] for lengths up to 65535.
fn pseudo_header_any_length(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    length: usize,
) -> Accumulator {
    Accumulator::new()
        .add_addr(source)
        .add_addr(destination)
        .add_u16(u16::from(protocol))
        .add_u32(u32::try_from(length).unwrap_or(u32::MAX))
}

/// tshark's summary: `53870 → 53 Len=29` (Len is the payload length from the length field).
impl fmt::Display for UdpHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} → {} Len={}",
            self.source_port,
            self.destination_port,
            self.payload_len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

    /// tcpdump/LINKTYPE_RAW_ipv4.pcap: a DNS query 192.168.1.100:12345 → 9.9.9.9:53. tshark:
    /// length 37, checksum 0x1976 [correct], 29 payload bytes.
    const DNS_QUERY: &str =
        "3039003500251976123401000001000000000000076578616d706c6503636f6d0000010001";
    const DNS_SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 100);
    const DNS_DST: Ipv4Addr = Ipv4Addr::new(9, 9, 9, 9);

    /// tcpdump/bfd_source_port_49152.pcap: BFD 11.11.11.2:49152 → 11.11.11.1:3784, length 32,
    /// checksum 0x0000 (tshark: "zero-value ignored", not present).
    const BFD: &str = "c0000ec80020000020c803188000000180000001000186a0000186a000000000";

    /// tcpdump/eapon1.pcap frame 4: NetBIOS name query 192.168.1.249:137 → 192.168.1.255:137,
    /// length 58, checksum 0x8277 (tshark: good).
    const NBNS: &str = "00890089003a8277892101100001000000000000204542464345434546454a4645464445484643464646414641454643414341424c0000200001";

    #[test]
    fn parses_dns_query() {
        let bytes = hex::decode(DNS_QUERY).unwrap();
        let (h, payload) = UdpHeader::parse(&bytes).unwrap();
        assert_eq!(
            h,
            UdpHeader {
                source_port: 12345,
                destination_port: 53,
                length: 37,
                checksum: 0x1976
            }
        );
        assert_eq!(payload.len(), 29);
        assert_eq!(payload, &bytes[8..]);
        assert_eq!(h.payload_len(), 29);
        assert_eq!(h.to_string(), "12345 → 53 Len=29");
        assert_eq!(
            UdpHeader::verify_checksum(DNS_SRC, DNS_DST, &bytes),
            ChecksumStatus::Good
        );
    }

    #[test]
    fn emit_reproduces_captured_checksums() {
        for (hexed, src, dst) in [
            (DNS_QUERY, DNS_SRC, DNS_DST),
            (
                NBNS,
                Ipv4Addr::new(192, 168, 1, 249),
                Ipv4Addr::new(192, 168, 1, 255),
            ),
        ] {
            let bytes = hex::decode(hexed).unwrap();
            let (h, payload) = UdpHeader::parse(&bytes).unwrap();
            let mut out = vec![0u8; bytes.len()];
            let fresh = UdpHeader::new(h.source_port, h.destination_port);
            assert_eq!(fresh.emit(src, dst, payload, &mut out), Ok(bytes.len()));
            assert_eq!(out, bytes);
            assert_eq!(
                UdpHeader::verify_checksum(src, dst, &bytes),
                ChecksumStatus::Good
            );
        }
    }

    #[test]
    fn zero_checksum_is_absent() {
        let bytes = hex::decode(BFD).unwrap();
        let (h, payload) = UdpHeader::parse(&bytes).unwrap();
        assert_eq!((h.source_port, h.destination_port), (49152, 3784));
        assert_eq!((h.length, h.checksum), (32, 0));
        assert_eq!(payload.len(), 24);
        let status = UdpHeader::verify_checksum(
            Ipv4Addr::new(11, 11, 11, 2),
            Ipv4Addr::new(11, 11, 11, 1),
            &bytes,
        );
        assert_eq!(status, ChecksumStatus::Absent);
        let mut out = [0u8; 8];
        assert_eq!(h.emit_exact(&mut out), Ok(8));
        assert_eq!(&out[..], &bytes[..8]);
    }

    #[test]
    fn bad_checksum_reports_expected_and_found() {
        let mut bytes = hex::decode(DNS_QUERY).unwrap();
        bytes[7] ^= 0x01;
        assert_eq!(
            UdpHeader::verify_checksum(DNS_SRC, DNS_DST, &bytes),
            ChecksumStatus::Bad {
                expected: 0x1976,
                found: 0x1977
            }
        );
        // Parsing does not look at the checksum.
        assert!(UdpHeader::parse(&bytes).is_ok());
    }

    #[test]
    fn offloaded_checksum_is_partial() {
        let mut bytes = hex::decode(DNS_QUERY).unwrap();
        let pseudo = checksum::pseudo_header(DNS_SRC, DNS_DST, PROTOCOL, 37).sum16();
        bytes[6..8].copy_from_slice(&pseudo.to_be_bytes());
        assert_eq!(
            UdpHeader::verify_checksum(DNS_SRC, DNS_DST, &bytes),
            ChecksumStatus::Partial
        );
    }

    #[test]
    fn computed_zero_is_sent_as_all_ones() {
        // Find a payload word that makes the checksum zero: the sum of everything else plus the
        // word must be 0xffff.
        let src = Ipv4Addr::new(10, 0, 0, 1);
        let dst = Ipv4Addr::new(10, 0, 0, 2);
        let h = UdpHeader::new(1000, 2000);
        let rest = checksum::pseudo_header(src, dst, PROTOCOL, 10)
            .add_u16(1000)
            .add_u16(2000)
            .add_u16(10)
            .sum16();
        let word = !rest;
        let mut out = [0u8; 10];
        h.emit(src, dst, &word.to_be_bytes(), &mut out).unwrap();
        assert_eq!(&out[6..8], &[0xff, 0xff]);
        assert_eq!(
            UdpHeader::verify_checksum(src, dst, &out),
            ChecksumStatus::Good
        );
    }

    #[test]
    fn payload_is_clamped_to_length_and_trailer_ignored_by_checksum() {
        let mut bytes = hex::decode(DNS_QUERY).unwrap();
        bytes.extend_from_slice(&[0xaa; 9]); // e.g. Ethernet padding
        let (h, payload) = UdpHeader::parse(&bytes).unwrap();
        assert_eq!(h.length, 37);
        assert_eq!(payload, &bytes[8..37]);
        assert_eq!(
            UdpHeader::verify_checksum(DNS_SRC, DNS_DST, &bytes),
            ChecksumStatus::Good
        );
    }

    #[test]
    fn short_input_is_truncated_header() {
        // tcpdump/udp-length-heapoverflow.pcap: only 4 bytes of UDP made it into the capture.
        let e = UdpHeader::parse(&[0x30, 0x30, 0x30, 0x30]).unwrap_err();
        assert_eq!(e.layer, Layer::Udp);
        assert_eq!(e.field, "header");
        assert_eq!(e.offset, 0);
        assert_eq!(e.kind, ErrorKind::Truncated { needed: 8, got: 4 });
        let status = UdpHeader::verify_checksum(DNS_SRC, DNS_DST, &[0x30; 4]);
        assert!(matches!(status, ChecksumStatus::Bad { found: 0, .. }));
    }

    #[test]
    fn length_below_header_is_bad_value() {
        let bytes = hex::decode("303900350007abcd").unwrap();
        let e = UdpHeader::parse(&bytes).unwrap_err();
        assert_eq!((e.layer, e.field, e.offset), (Layer::Udp, "length", 4));
        assert_eq!(
            e.kind,
            ErrorKind::BadValue {
                expected: "≥ 8",
                found: 7
            }
        );
    }

    #[test]
    fn length_beyond_data_is_truncated_length() {
        let bytes = hex::decode(DNS_QUERY).unwrap();
        let e = UdpHeader::parse(&bytes[..30]).unwrap_err();
        assert_eq!((e.layer, e.field, e.offset), (Layer::Udp, "length", 4));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 37,
                got: 30
            }
        );
        assert!(e.is_truncation());
    }

    #[test]
    fn emit_errors() {
        let h = UdpHeader::new(1, 2);
        let a = Ipv4Addr::LOCALHOST;
        let mut small = [0u8; 9];
        let e = h.emit(a, a, &[1, 2], &mut small).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 10, got: 9 });
        assert_eq!(e.layer, Layer::Udp);
        let e = h.emit(a, a, &[], &mut small[..7]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 8, got: 7 });
        let e = h.emit_exact(&mut small[..3]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BufferTooSmall { needed: 8, got: 3 });
        let big = vec![0u8; 65528];
        let mut out = vec![0u8; 70000];
        let e = h.emit(a, a, &big, &mut out).unwrap_err();
        assert_eq!(e.field, "length");
        assert_eq!(
            e.kind,
            ErrorKind::TooLong {
                max: 65535,
                got: 65536
            }
        );
        assert_eq!(h.emit(a, a, &big[..65527], &mut out), Ok(65535));
        assert_eq!(&out[4..6], &[0xff, 0xff]);
    }

    proptest! {
        #[test]
        fn emit_then_parse_round_trips(
            sp in any::<u16>(), dp in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..200),
            src in any::<u32>(), dst in any::<u32>(),
        ) {
            let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            let h = UdpHeader::new(sp, dp);
            let mut out = vec![0u8; 8 + payload.len()];
            prop_assert_eq!(h.emit(src, dst, &payload, &mut out), Ok(out.len()));
            let (parsed, p) = UdpHeader::parse(&out).unwrap();
            prop_assert_eq!((parsed.source_port, parsed.destination_port), (sp, dp));
            prop_assert_eq!(usize::from(parsed.length), out.len());
            prop_assert_ne!(parsed.checksum, 0);
            prop_assert_eq!(p, &payload[..]);
            prop_assert_eq!(UdpHeader::verify_checksum(src, dst, &out), ChecksumStatus::Good);
        }

        #[test]
        fn any_header_value_round_trips(sp in any::<u16>(), dp in any::<u16>(), len in 8u16..64, ck in any::<u16>()) {
            let h = UdpHeader { source_port: sp, destination_port: dp, length: len, checksum: ck };
            let mut out = vec![0u8; usize::from(len)];
            prop_assert_eq!(h.emit_exact(&mut out), Ok(8));
            let (parsed, payload) = UdpHeader::parse(&out).unwrap();
            prop_assert_eq!(parsed, h);
            prop_assert_eq!(payload.len(), usize::from(len) - 8);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80), src in any::<u32>(), dst in any::<u32>()) {
            let _ = UdpHeader::verify_checksum(Ipv4Addr::from(src), Ipv4Addr::from(dst), &bytes);
            if let Ok((h, payload)) = UdpHeader::parse(&bytes) {
                let mut out = [0u8; 8];
                prop_assert_eq!(h.emit_exact(&mut out), Ok(8));
                prop_assert_eq!(&out[..], &bytes[..8]);
                prop_assert_eq!(payload, &bytes[8..usize::from(h.length)]);
                let mut whole: Vec<u8> = out.to_vec();
                whole.extend_from_slice(payload);
                prop_assert_eq!(&whole[..], &bytes[..usize::from(h.length)]);
            }
        }
    }
}
