//! # wirecheck-codec
//!
//! Lossless, zero-copy parse and emit for the classic IPv4 suite: Ethernet II with 802.1Q/802.1ad
//! tags, ARP/RARP, IPv4 with options, ICMPv4, IGMP v1/v2/v3, UDP and TCP with options.
//!
//! Every protocol module has an owned header type with public fields, a `parse` that never
//! panics and never allocates, and an `emit` that writes the header back (filling lengths and
//! checksums unless asked to keep them). Checksum verification is separate from parsing.
//!
//! ```rust
//! use core::net::Ipv4Addr;
//! use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
//! use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
//! use wirecheck_codec::packet::{Finding, Packet, Transport};
//! use wirecheck_codec::udp::UdpHeader;
//! use wirecheck_codec::ChecksumStatus;
//!
//! // Build a frame: Ethernet, IPv4, UDP. `emit` fills lengths and checksums.
//! let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
//! let payload = b"hello";
//! let mut frame = [0u8; 14 + 20 + 8 + 5];
//! let eth = EthernetHeader::new(MacAddr([2, 0, 0, 0, 0, 2]), MacAddr([2, 0, 0, 0, 0, 1]), EtherType::IPV4);
//! let mut at = eth.emit(&mut frame).unwrap();
//! let ip = Ipv4Header::new(src, dst, IpProtocol::UDP);
//! at += ip.emit(8 + payload.len(), &mut frame[at..]).unwrap();
//! UdpHeader::new(5353, 7).emit(src, dst, payload, &mut frame[at..]).unwrap();
//!
//! // Strict, per-protocol parsing: zero-copy, never panics, precise errors.
//! let (eth, rest) = EthernetHeader::parse(&frame).unwrap();
//! let (ip, rest) = Ipv4Header::parse(rest).unwrap();
//! let (udp, data) = UdpHeader::parse(rest).unwrap();
//! assert_eq!((eth.ether_type, ip.ttl, udp.destination_port, data), (EtherType::IPV4, 64, 7, &b"hello"[..]));
//! assert_eq!(UdpHeader::verify_checksum(src, dst, rest), ChecksumStatus::Good);
//!
//! // Lax whole-frame decoding, for analysis: never fails, reports findings instead.
//! frame[14 + 8] = 0; // TTL 0, and the header checksum is now wrong
//! let packet = Packet::parse(&frame);
//! assert!(matches!(packet.transport, Some(Transport::Udp(_))));
//! for finding in &packet.findings {
//!     println!("{finding}"); // "IPv4 at byte 14: bad checksum 0x…, should be 0x…", "… time to live is 0"
//! }
//! assert!(packet.findings.iter().any(|f| matches!(f, Finding::BadChecksum { .. })));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::len_without_is_empty)] // a header is never empty; `len` is its size on the wire

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod arp;
pub mod checksum;
pub mod error;
pub mod ethernet;
pub mod fragment;
pub mod icmp;
pub mod igmp;
pub mod ipv4;
#[cfg(feature = "alloc")]
pub mod packet;
pub mod tcp;
pub mod time;
pub mod udp;

pub use checksum::ChecksumStatus;
pub use error::{Error, ErrorKind, Layer, Result};
