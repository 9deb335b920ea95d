//! Link-layer headers of capture files other than Ethernet: Linux cooked capture (SLL, SLL2),
//! BSD and OpenBSD loopback, and raw IP. Each is reduced to "an Ethernet frame" or "an EtherType
//! and its payload", which is what the codec's whole-frame decoder takes.

use crate::capture::LinkType;

/// What a capture record carries, once its link header is understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPayload<'a> {
    /// A whole Ethernet II frame.
    Ethernet(&'a [u8]),
    /// A payload of the given EtherType after a non-Ethernet link header of `header_len` bytes.
    EtherType {
        /// The protocol of the payload.
        ether_type: u16,
        /// Bytes of link header before the payload.
        header_len: usize,
        /// The payload.
        payload: &'a [u8],
    },
    /// The record is shorter than its link header.
    Truncated {
        /// Bytes the link header needs.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// A BSD loopback address family, or a PPP protocol, other than IPv4.
    OtherFamily(u32),
    /// A link type wirecheck does not decode.
    Unsupported(LinkType),
}

/// Linux cooked capture v1 header length.
const SLL_LEN: usize = 16;
/// Linux cooked capture v2 header length.
const SLL2_LEN: usize = 20;
/// BSD loopback header length.
const NULL_LEN: usize = 4;
/// PPP's protocol number for IPv4 [RFC 1332].
const PPP_IPV4: u16 = 0x0021;
/// `AF_INET` on every BSD and on Linux.
const AF_INET: u32 = 2;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Splits a record of the given link type into what the decoder needs.
pub fn split(link: LinkType, data: &[u8]) -> LinkPayload<'_> {
    let after = |n: usize| data.get(n..).unwrap_or(&[]);
    match link {
        LinkType::ETHERNET => LinkPayload::Ethernet(data),
        LinkType::RAW | LinkType::RAW_LEGACY_12 | LinkType::RAW_LEGACY_14 | LinkType::IPV4 => {
            // Raw IP carries no type: the version nibble tells. LINKTYPE_IPV4 promises IPv4; a
            // packet that is not is handed on as IPv4 so the decoder reports the bad version.
            let version = data.first().map(|b| b >> 4);
            let ether_type = if link != LinkType::IPV4 && version == Some(6) {
                0x86dd
            } else {
                0x0800
            };
            LinkPayload::EtherType {
                ether_type,
                header_len: 0,
                payload: data,
            }
        }
        LinkType::LINUX_SLL => match be16(data, 14) {
            Some(p) => LinkPayload::EtherType {
                ether_type: p,
                header_len: SLL_LEN,
                payload: after(SLL_LEN),
            },
            None => LinkPayload::Truncated {
                needed: SLL_LEN,
                got: data.len(),
            },
        },
        LinkType::LINUX_SLL2 => match (be16(data, 0), data.len() >= SLL2_LEN) {
            (Some(p), true) => LinkPayload::EtherType {
                ether_type: p,
                header_len: SLL2_LEN,
                payload: after(SLL2_LEN),
            },
            _ => LinkPayload::Truncated {
                needed: SLL2_LEN,
                got: data.len(),
            },
        },
        LinkType::NULL | LinkType::LOOP => {
            let Some(b) = data.get(..NULL_LEN) else {
                return LinkPayload::Truncated {
                    needed: NULL_LEN,
                    got: data.len(),
                };
            };
            let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            // NULL is in the capturing host's byte order, which the file does not record.
            let family = if link == LinkType::LOOP || be < 0x100 {
                be
            } else {
                le
            };
            if family == AF_INET {
                LinkPayload::EtherType {
                    ether_type: 0x0800,
                    header_len: NULL_LEN,
                    payload: after(NULL_LEN),
                }
            } else {
                LinkPayload::OtherFamily(family)
            }
        }
        LinkType::PPP | LinkType::PPP_HDLC => {
            // RFC 1661/1662: optional address and control (ff 03), then a protocol field of
            // one byte (when compressed: odd first byte) or two.
            let framed = match data {
                [0xff, 0x03, rest @ ..] => rest,
                rest => rest,
            };
            let skipped = data.len() - framed.len();
            let (protocol, len) = match framed {
                [p, ..] if p & 1 == 1 => (u16::from(*p), 1),
                [a, b, ..] => (u16::from_be_bytes([*a, *b]), 2),
                _ => {
                    return LinkPayload::Truncated {
                        needed: skipped + 2,
                        got: data.len(),
                    }
                }
            };
            match protocol {
                PPP_IPV4 => LinkPayload::EtherType {
                    ether_type: 0x0800,
                    header_len: skipped + len,
                    payload: after(skipped + len),
                },
                other => LinkPayload::OtherFamily(u32::from(other)),
            }
        }
        other => LinkPayload::Unsupported(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sll_takes_protocol_at_14() {
        let mut rec = vec![0u8; 16];
        rec[14] = 0x08;
        rec.extend_from_slice(&[0x45, 0]);
        match split(LinkType::LINUX_SLL, &rec) {
            LinkPayload::EtherType {
                ether_type,
                header_len,
                payload,
            } => {
                assert_eq!((ether_type, header_len), (0x0800, 16));
                assert_eq!(payload, &[0x45, 0]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            split(LinkType::LINUX_SLL, &rec[..10]),
            LinkPayload::Truncated {
                needed: 16,
                got: 10
            }
        );
    }

    #[test]
    fn sll2_takes_protocol_first() {
        let mut rec = vec![0x08, 0x06];
        rec.resize(20, 0);
        assert!(matches!(
            split(LinkType::LINUX_SLL2, &rec),
            LinkPayload::EtherType {
                ether_type: 0x0806,
                header_len: 20,
                ..
            }
        ));
    }

    #[test]
    fn null_reads_either_byte_order_and_loop_reads_network_order() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 2, 0x45];
        assert!(matches!(
            split(LinkType::NULL, &le),
            LinkPayload::EtherType { header_len: 4, .. }
        ));
        assert!(matches!(
            split(LinkType::NULL, &be),
            LinkPayload::EtherType { header_len: 4, .. }
        ));
        assert_eq!(
            split(LinkType::LOOP, &[0, 0, 0, 24]),
            LinkPayload::OtherFamily(24)
        );
    }

    #[test]
    fn ppp_with_and_without_address_control_and_compressed_protocol() {
        for (rec, header_len) in [
            (&[0xff, 0x03, 0x00, 0x21, 0x45][..], 4),
            (&[0x00, 0x21, 0x45][..], 2),
            (&[0x21, 0x45][..], 1),
        ] {
            assert_eq!(
                split(LinkType::PPP, rec),
                LinkPayload::EtherType {
                    ether_type: 0x0800,
                    header_len,
                    payload: &[0x45]
                }
            );
        }
        assert_eq!(
            split(LinkType::PPP, &[0x00, 0x57, 0x60]),
            LinkPayload::OtherFamily(0x57)
        );
    }

    #[test]
    fn raw_uses_version_nibble_and_unknown_link_is_unsupported() {
        assert!(matches!(
            split(LinkType::RAW, &[0x60, 0]),
            LinkPayload::EtherType {
                ether_type: 0x86dd,
                ..
            }
        ));
        assert!(matches!(
            split(LinkType::IPV4, &[0x60, 0]),
            LinkPayload::EtherType {
                ether_type: 0x0800,
                ..
            }
        ));
        assert_eq!(
            split(LinkType(147), &[1, 2]),
            LinkPayload::Unsupported(LinkType(147))
        );
    }
}
