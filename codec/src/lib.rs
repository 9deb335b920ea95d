//! # wirecheck-codec
//!
//! Lossless, zero-copy parse and emit for the classic IPv4 suite: Ethernet II with 802.1Q/802.1ad
//! tags, ARP/RARP, IPv4 with options, ICMPv4, IGMP v1/v2/v3, UDP and TCP with options.
//!
//! Every protocol module has an owned header type with public fields, a `parse` that never
//! panics and never allocates, and an `emit` that writes the header back (filling lengths and
//! checksums unless asked to keep them). Checksum verification is separate from parsing.
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
