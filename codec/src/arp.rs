//! ARP and RARP packets [RFC 826, RFC 903]: the generic packet for any hardware and protocol
//! address sizes ([`ArpPacket`], addresses borrowed from the input) and the typed view of the one
//! case a stack uses, Ethernet hardware with IPv4 protocol addresses ([`ArpEthernetIpv4`]).
//!
//! RARP shares ARP's packet format; it is told apart by the EtherType in front of it
//! ([`EtherType::RARP`](crate::ethernet::EtherType::RARP), 0x8035) and by its operations
//! ([`ArpOperation::RARP_REQUEST`], [`ArpOperation::RARP_REPLY`]) [RFC 903, "The RARP Protocol"].
//! Gratuitous ARP and address conflict probes [RFC 5227 § 2.1, § 3] are ordinary requests and
//! replies, recognised by [`ArpPacket::is_gratuitous`], [`ArpEthernetIpv4::is_announcement`] and
//! [`ArpEthernetIpv4::is_probe`].
//!
//! An ARP packet is usually shorter than the 46-byte minimum Ethernet payload; the padding is
//! not part of it and is returned as the rest by [`ArpPacket::parse`].
//!
//! ```
//! use core::net::Ipv4Addr;
//! use wirecheck_codec::arp::{ArpEthernetIpv4, ArpOperation, ArpPacket};
//! use wirecheck_codec::ethernet::MacAddr;
//!
//! let me = MacAddr([0x02, 0, 0, 0, 0, 1]);
//! let request = ArpEthernetIpv4::request(me, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
//! let mut buf = [0u8; 28];
//! request.emit(&mut buf)?;
//! assert_eq!(request.to_string(), "Who has 10.0.0.2? Tell 10.0.0.1");
//!
//! // Any hardware/protocol combination parses generically; the typed view is one call away.
//! let (packet, _padding) = ArpPacket::parse(&buf)?;
//! assert_eq!(packet.operation, ArpOperation::REQUEST);
//! assert_eq!(packet.as_ethernet_ipv4(), Some(request));
//! # Ok::<(), wirecheck_codec::Error>(())
//! ```

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Error, Layer, Result};
use crate::ethernet::{EtherType, MacAddr};

/// The ARP hardware type (`ar$hrd`) [RFC 826; IANA "Hardware Types"]. Unknown values are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HardwareType(pub u16);

impl HardwareType {
    /// Ethernet (10 Mb and all later speeds).
    pub const ETHERNET: HardwareType = HardwareType(1);
    /// IEEE 802 networks (Token Ring and others) [RFC 1042].
    pub const IEEE_802: HardwareType = HardwareType(6);
    /// IEEE 1394 (FireWire) [RFC 2734].
    pub const IEEE_1394: HardwareType = HardwareType(24);
    /// InfiniBand [RFC 4391].
    pub const INFINIBAND: HardwareType = HardwareType(32);
}

impl fmt::Display for HardwareType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            HardwareType::ETHERNET => f.write_str("Ethernet (1)"),
            HardwareType::IEEE_802 => f.write_str("IEEE 802 (6)"),
            HardwareType::IEEE_1394 => f.write_str("IEEE 1394 (24)"),
            HardwareType::INFINIBAND => f.write_str("InfiniBand (32)"),
            HardwareType(other) => write!(f, "{other}"),
        }
    }
}

/// The ARP operation code (`ar$op`) [RFC 826, RFC 903, RFC 2390]. Unknown values are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArpOperation(pub u16);

impl ArpOperation {
    /// ARP request [RFC 826].
    pub const REQUEST: ArpOperation = ArpOperation(1);
    /// ARP reply [RFC 826].
    pub const REPLY: ArpOperation = ArpOperation(2);
    /// RARP "request reverse" [RFC 903].
    pub const RARP_REQUEST: ArpOperation = ArpOperation(3);
    /// RARP "reply reverse" [RFC 903].
    pub const RARP_REPLY: ArpOperation = ArpOperation(4);
    /// Inverse ARP request [RFC 2390 § 7.2].
    pub const INARP_REQUEST: ArpOperation = ArpOperation(8);
    /// Inverse ARP reply [RFC 2390 § 7.2].
    pub const INARP_REPLY: ArpOperation = ArpOperation(9);

    /// A short name for the operations this crate knows.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            ArpOperation::REQUEST => "request",
            ArpOperation::REPLY => "reply",
            ArpOperation::RARP_REQUEST => "reverse request",
            ArpOperation::RARP_REPLY => "reverse reply",
            ArpOperation::INARP_REQUEST => "inverse request",
            ArpOperation::INARP_REPLY => "inverse reply",
            _ => return None,
        })
    }

    /// Whether this is one of the two RARP operations (3 or 4).
    pub const fn is_rarp(self) -> bool {
        matches!(self, ArpOperation::RARP_REQUEST | ArpOperation::RARP_REPLY)
    }
}

impl fmt::Display for ArpOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "unknown ({})", self.0),
        }
    }
}

/// Byte positions of the fixed part, and of the addresses when hardware addresses are 6 bytes
/// and protocol addresses 4 (Ethernet/IPv4).
pub mod field {
    use core::ops::Range;

    /// Hardware type (`ar$hrd`).
    pub const HARDWARE_TYPE: Range<usize> = 0..2;
    /// Protocol type (`ar$pro`), an EtherType.
    pub const PROTOCOL_TYPE: Range<usize> = 2..4;
    /// Hardware address length in bytes (`ar$hln`).
    pub const HARDWARE_LEN: usize = 4;
    /// Protocol address length in bytes (`ar$pln`).
    pub const PROTOCOL_LEN: usize = 5;
    /// Operation (`ar$op`).
    pub const OPERATION: Range<usize> = 6..8;
    /// Where the four addresses start.
    pub const ADDRESSES: usize = 8;

    /// Sender hardware address of an Ethernet/IPv4 packet.
    pub const ETH_IPV4_SENDER_MAC: Range<usize> = 8..14;
    /// Sender protocol address of an Ethernet/IPv4 packet.
    pub const ETH_IPV4_SENDER_IP: Range<usize> = 14..18;
    /// Target hardware address of an Ethernet/IPv4 packet.
    pub const ETH_IPV4_TARGET_MAC: Range<usize> = 18..24;
    /// Target protocol address of an Ethernet/IPv4 packet.
    pub const ETH_IPV4_TARGET_IP: Range<usize> = 24..28;
}

/// The names of the fixed fields and where each starts, for truncation errors.
const FIXED_FIELDS: [(&str, usize); 5] = [
    ("hardware type", field::HARDWARE_TYPE.start),
    ("protocol type", field::PROTOCOL_TYPE.start),
    ("hardware address length", field::HARDWARE_LEN),
    ("protocol address length", field::PROTOCOL_LEN),
    ("operation", field::OPERATION.start),
];

/// An ARP or RARP packet with addresses of any size [RFC 826, "Packet format"; RFC 903].
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Hardware type         |         Protocol type         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Hardware len  | Protocol len  |           Operation           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Sender hardware address (hardware len bytes)  …        |
/// |        Sender protocol address (protocol len bytes)  …        |
/// |        Target hardware address (hardware len bytes)  …        |
/// |        Target protocol address (protocol len bytes)  …        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// 8 + 2 × hardware len + 2 × protocol len bytes (28 for Ethernet/IPv4). Lossless: the length
/// fields are kept as found, and in a parsed packet they equal the lengths of the borrowed
/// address slices. [`emit`](ArpPacket::emit) writes the lengths of the slices;
/// [`emit_exact`](ArpPacket::emit_exact) writes the held length fields even when they disagree
/// with the slices (a crafted, malformed packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpPacket<'a> {
    /// Hardware type (`ar$hrd`), 1 for Ethernet.
    pub hardware_type: HardwareType,
    /// Protocol type (`ar$pro`), an EtherType: 0x0800 for IPv4.
    pub protocol_type: EtherType,
    /// Hardware address length field (`ar$hln`), 6 for Ethernet.
    pub hardware_len: u8,
    /// Protocol address length field (`ar$pln`), 4 for IPv4.
    pub protocol_len: u8,
    /// Operation (`ar$op`).
    pub operation: ArpOperation,
    /// Sender hardware address (`ar$sha`).
    pub sender_hardware_addr: &'a [u8],
    /// Sender protocol address (`ar$spa`).
    pub sender_protocol_addr: &'a [u8],
    /// Target hardware address (`ar$tha`).
    pub target_hardware_addr: &'a [u8],
    /// Target protocol address (`ar$tpa`).
    pub target_protocol_addr: &'a [u8],
}

impl<'a> ArpPacket<'a> {
    /// The length of the fixed part, before the addresses.
    pub const FIXED_LEN: usize = 8;

    /// A packet from its addresses, with the length fields set from them. Both hardware
    /// addresses must have the same length, as must both protocol addresses, and each length
    /// must fit the 8-bit length field.
    pub fn new(
        hardware_type: HardwareType,
        protocol_type: EtherType,
        operation: ArpOperation,
        sender_hardware_addr: &'a [u8],
        sender_protocol_addr: &'a [u8],
        target_hardware_addr: &'a [u8],
        target_protocol_addr: &'a [u8],
    ) -> Result<ArpPacket<'a>> {
        let mut packet = ArpPacket {
            hardware_type,
            protocol_type,
            hardware_len: 0,
            protocol_len: 0,
            operation,
            sender_hardware_addr,
            sender_protocol_addr,
            target_hardware_addr,
            target_protocol_addr,
        };
        let (hardware_len, protocol_len) = packet.address_lengths()?;
        packet.hardware_len = hardware_len;
        packet.protocol_len = protocol_len;
        Ok(packet)
    }

    /// Parses an ARP or RARP packet; returns it and the bytes after it (Ethernet padding).
    ///
    /// Errors are truncations only (any value of any field is accepted): fewer than 8 bytes
    /// names the fixed field cut short; otherwise the error names the first address field that
    /// the input cuts ("sender hardware address", "sender protocol address", "target hardware
    /// address", "target protocol address"), its offset, and `needed` is the length of the whole
    /// packet as its length fields declare it.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<(ArpPacket<'a>, &'a [u8])> {
        let fixed = Fixed::parse(bytes)?;
        let hardware = usize::from(fixed.hardware_len);
        let protocol = usize::from(fixed.protocol_len);
        // At most 8 + 2 × 255 + 2 × 255 = 1028: no overflow possible.
        let needed = Self::FIXED_LEN
            .saturating_add(hardware.saturating_mul(2))
            .saturating_add(protocol.saturating_mul(2));
        let got = bytes.len();

        let mut at = Self::FIXED_LEN;
        let mut take = |name: &'static str, len: usize| -> Result<&'a [u8]> {
            let end = at.saturating_add(len);
            let addr =
                bytes
                    .get(at..end)
                    .ok_or(Error::truncated(Layer::Arp, name, at, needed, got))?;
            at = end;
            Ok(addr)
        };
        let sender_hardware_addr = take("sender hardware address", hardware)?;
        let sender_protocol_addr = take("sender protocol address", protocol)?;
        let target_hardware_addr = take("target hardware address", hardware)?;
        let target_protocol_addr = take("target protocol address", protocol)?;
        let rest = bytes.get(needed..).unwrap_or_default();
        Ok((
            ArpPacket {
                hardware_type: fixed.hardware_type,
                protocol_type: fixed.protocol_type,
                hardware_len: fixed.hardware_len,
                protocol_len: fixed.protocol_len,
                operation: fixed.operation,
                sender_hardware_addr,
                sender_protocol_addr,
                target_hardware_addr,
                target_protocol_addr,
            },
            rest,
        ))
    }

    /// The packet length in bytes: 8 plus the four address slices.
    #[allow(clippy::len_without_is_empty)] // a packet is never empty
    pub const fn len(&self) -> usize {
        Self::FIXED_LEN
            .saturating_add(self.sender_hardware_addr.len())
            .saturating_add(self.sender_protocol_addr.len())
            .saturating_add(self.target_hardware_addr.len())
            .saturating_add(self.target_protocol_addr.len())
    }

    /// The Ethernet/IPv4 view, when this packet is one: hardware type 1, protocol type 0x0800,
    /// hardware length 6 and protocol length 4.
    pub fn as_ethernet_ipv4(&self) -> Option<ArpEthernetIpv4> {
        if self.hardware_type != HardwareType::ETHERNET
            || self.protocol_type != EtherType::IPV4
            || self.hardware_len != 6
            || self.protocol_len != 4
        {
            return None;
        }
        Some(ArpEthernetIpv4 {
            operation: self.operation,
            sender_mac: MacAddr::from_slice(self.sender_hardware_addr)?,
            sender_ip: ipv4_from_slice(self.sender_protocol_addr)?,
            target_mac: MacAddr::from_slice(self.target_hardware_addr)?,
            target_ip: ipv4_from_slice(self.target_protocol_addr)?,
        })
    }

    /// Whether this is a gratuitous ARP, as Wireshark flags it: a request or reply whose sender
    /// and target protocol addresses are equal (an announcement of the sender's own binding,
    /// [RFC 5227 § 3]).
    pub fn is_gratuitous(&self) -> bool {
        matches!(self.operation, ArpOperation::REQUEST | ArpOperation::REPLY)
            && self.sender_protocol_addr == self.target_protocol_addr
    }

    /// Writes the packet into `out` with the length fields set from the address slices, and
    /// returns its length. The two hardware addresses must have equal lengths, as must the two
    /// protocol addresses, each at most 255 bytes.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let (hardware_len, protocol_len) = self.address_lengths()?;
        ArpPacket {
            hardware_len,
            protocol_len,
            ..*self
        }
        .emit_exact(out)
    }

    /// Writes every field exactly as held into `out` (the length fields as they are, the address
    /// slices one after the other) and returns the number of bytes written, [`len`](Self::len).
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        let got = out.len();
        let out = out
            .get_mut(..len)
            .ok_or(Error::buffer_too_small(Layer::Arp, len, got))?;
        let mut w = Writer(out);
        w.put(&self.hardware_type.0.to_be_bytes());
        w.put(&self.protocol_type.0.to_be_bytes());
        w.put(&[self.hardware_len, self.protocol_len]);
        w.put(&self.operation.0.to_be_bytes());
        w.put(self.sender_hardware_addr);
        w.put(self.sender_protocol_addr);
        w.put(self.target_hardware_addr);
        w.put(self.target_protocol_addr);
        Ok(len)
    }

    /// The hardware and protocol length fields the address slices call for.
    fn address_lengths(&self) -> Result<(u8, u8)> {
        let hardware = self.sender_hardware_addr.len();
        let protocol = self.sender_protocol_addr.len();
        let hardware_len = u8::try_from(hardware)
            .map_err(|_| Error::too_long(Layer::Arp, "hardware address length", 255, hardware))?;
        let protocol_len = u8::try_from(protocol)
            .map_err(|_| Error::too_long(Layer::Arp, "protocol address length", 255, protocol))?;
        let target_hardware_at = Self::FIXED_LEN
            .saturating_add(hardware)
            .saturating_add(protocol);
        if self.target_hardware_addr.len() != hardware {
            return Err(Error::bad_value(
                Layer::Arp,
                "target hardware address",
                target_hardware_at,
                "as long as the sender hardware address",
                self.target_hardware_addr.len() as u64,
            ));
        }
        if self.target_protocol_addr.len() != protocol {
            return Err(Error::bad_value(
                Layer::Arp,
                "target protocol address",
                target_hardware_at.saturating_add(hardware),
                "as long as the sender protocol address",
                self.target_protocol_addr.len() as u64,
            ));
        }
        Ok((hardware_len, protocol_len))
    }
}

impl fmt::Display for ArpPacket<'_> {
    /// tshark's summary for Ethernet/IPv4 packets ("Who has 10.0.0.138? Tell 10.0.0.1"), the
    /// raw fields otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(typed) = self.as_ethernet_ipv4() {
            return typed.fmt(f);
        }
        write!(
            f,
            "ARP {}, hardware type {}, protocol type {}, sender ",
            self.operation, self.hardware_type, self.protocol_type
        )?;
        write_hex(f, self.sender_hardware_addr)?;
        f.write_str("/")?;
        write_hex(f, self.sender_protocol_addr)?;
        f.write_str(", target ")?;
        write_hex(f, self.target_hardware_addr)?;
        f.write_str("/")?;
        write_hex(f, self.target_protocol_addr)
    }
}

/// An ARP or RARP packet for Ethernet hardware and IPv4 protocol addresses, the one a stack uses
/// [RFC 826]: hardware type 1, protocol type 0x0800, lengths 6 and 4, 28 bytes.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      Hardware type = 1        |    Protocol type = 0x0800     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    HLEN = 6   |    PLEN = 4   |           Operation           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Sender MAC address (6)                      |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |   Sender IPv4 address (4) …   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   … Sender IPv4 address       |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                   Target MAC address (6)                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Target IPv4 address (4)                     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Lossless for such packets: the fixed fields are implied, everything else is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpEthernetIpv4 {
    /// Operation.
    pub operation: ArpOperation,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (all zeros in a request, by custom).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpEthernetIpv4 {
    /// The packet length: 28 bytes.
    pub const LEN: usize = 28;

    /// A request for `target_ip`'s hardware address ("Who has `target_ip`? Tell `sender_ip`"),
    /// target hardware address zero [RFC 826, "Packet Generation"].
    pub const fn request(sender_mac: MacAddr, sender_ip: Ipv4Addr, target_ip: Ipv4Addr) -> Self {
        ArpEthernetIpv4 {
            operation: ArpOperation::REQUEST,
            sender_mac,
            sender_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        }
    }

    /// The reply to `request` from the node owning `mac` (sender and target swapped)
    /// [RFC 826, "Packet Reception"].
    pub const fn reply_to(request: &ArpEthernetIpv4, mac: MacAddr) -> Self {
        ArpEthernetIpv4 {
            operation: ArpOperation::REPLY,
            sender_mac: mac,
            sender_ip: request.target_ip,
            target_mac: request.sender_mac,
            target_ip: request.sender_ip,
        }
    }

    /// An ARP announcement (gratuitous request) of the binding `ip` → `mac`: sender and target
    /// protocol addresses both `ip`, target hardware address zero [RFC 5227 § 3].
    pub const fn announcement(mac: MacAddr, ip: Ipv4Addr) -> Self {
        Self::request(mac, ip, ip)
    }

    /// An ARP probe for `ip` (address conflict detection): sender protocol address 0.0.0.0
    /// [RFC 5227 § 2.1.1].
    pub const fn probe(mac: MacAddr, ip: Ipv4Addr) -> Self {
        Self::request(mac, Ipv4Addr::UNSPECIFIED, ip)
    }

    /// Parses an Ethernet/IPv4 ARP or RARP packet; returns it and the bytes after it.
    ///
    /// Errors: truncation as for [`ArpPacket::parse`]; a hardware type, protocol type or length
    /// field other than 1, 0x0800, 6 and 4 is a `BadValue` naming that field (use
    /// [`ArpPacket::parse`] for other kinds of addresses).
    #[inline]
    pub fn parse(bytes: &[u8]) -> Result<(ArpEthernetIpv4, &[u8])> {
        let fixed = Fixed::parse(bytes)?;
        let checks: [(bool, &'static str, usize, &'static str, u64); 4] = [
            (
                fixed.hardware_type == HardwareType::ETHERNET,
                "hardware type",
                field::HARDWARE_TYPE.start,
                "1 (Ethernet)",
                u64::from(fixed.hardware_type.0),
            ),
            (
                fixed.protocol_type == EtherType::IPV4,
                "protocol type",
                field::PROTOCOL_TYPE.start,
                "0x0800 (IPv4)",
                u64::from(fixed.protocol_type.0),
            ),
            (
                fixed.hardware_len == 6,
                "hardware address length",
                field::HARDWARE_LEN,
                "6",
                u64::from(fixed.hardware_len),
            ),
            (
                fixed.protocol_len == 4,
                "protocol address length",
                field::PROTOCOL_LEN,
                "4",
                u64::from(fixed.protocol_len),
            ),
        ];
        for (ok, name, offset, expected, found) in checks {
            if !ok {
                return Err(Error::bad_value(Layer::Arp, name, offset, expected, found));
            }
        }
        let (packet, rest) = ArpPacket::parse(bytes)?;
        // The checks above make the view exist; the fallback keeps this free of panics.
        let typed = packet.as_ethernet_ipv4().ok_or(Error::bad_value(
            Layer::Arp,
            "hardware type",
            0,
            "1 (Ethernet)",
            u64::from(packet.hardware_type.0),
        ))?;
        Ok((typed, rest))
    }

    /// Whether this is a gratuitous ARP: a request or reply with equal sender and target IPv4
    /// addresses [RFC 5227 § 3].
    pub fn is_gratuitous(&self) -> bool {
        matches!(self.operation, ArpOperation::REQUEST | ArpOperation::REPLY)
            && self.sender_ip == self.target_ip
    }

    /// Whether this is an ARP announcement: a gratuitous request with target hardware address
    /// zero [RFC 5227 § 2.3].
    pub fn is_announcement(&self) -> bool {
        self.operation == ArpOperation::REQUEST
            && self.sender_ip == self.target_ip
            && self.target_mac.is_zero()
    }

    /// Whether this is an ARP probe: a request with sender IPv4 address 0.0.0.0 and target
    /// hardware address zero, for another target IPv4 address [RFC 5227 § 2.1.1]. (Wireshark's
    /// rule: a request for 0.0.0.0 from 0.0.0.0 is gratuitous, not a probe.)
    pub fn is_probe(&self) -> bool {
        self.operation == ArpOperation::REQUEST
            && self.sender_ip.is_unspecified()
            && self.target_mac.is_zero()
            && !self.is_gratuitous()
    }

    /// The packet length: always 28.
    #[allow(clippy::len_without_is_empty)] // a packet is never empty
    pub const fn len(&self) -> usize {
        Self::LEN
    }

    /// Writes the 28-byte packet into `out` and returns 28. Nothing is computed, so this is the
    /// same as [`emit_exact`](Self::emit_exact).
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        self.emit_exact(out)
    }

    /// Writes the 28-byte packet into `out` and returns 28.
    pub fn emit_exact(&self, out: &mut [u8]) -> Result<usize> {
        let got = out.len();
        let out =
            out.get_mut(..Self::LEN)
                .ok_or(Error::buffer_too_small(Layer::Arp, Self::LEN, got))?;
        let mut w = Writer(out);
        w.put(&HardwareType::ETHERNET.0.to_be_bytes());
        w.put(&EtherType::IPV4.0.to_be_bytes());
        w.put(&[6, 4]);
        w.put(&self.operation.0.to_be_bytes());
        w.put(&self.sender_mac.0);
        w.put(&self.sender_ip.octets());
        w.put(&self.target_mac.0);
        w.put(&self.target_ip.octets());
        Ok(Self::LEN)
    }
}

impl fmt::Display for ArpEthernetIpv4 {
    /// Wireshark's Info column: "Who has 10.0.0.138? Tell 10.0.0.1", "10.0.0.138 is at
    /// 30:46:9a:23:fb:fa", "ARP Announcement for 10.0.0.1", "Gratuitous ARP for 10.0.0.1
    /// (Request)" / "(Reply)", "Who has 10.0.0.1? (ARP Probe)", and for RARP "Who is
    /// 00:0c:29:34:0b:de? Tell 00:0c:29:34:0b:de", "00:0c:29:34:0b:de is at 10.1.1.100".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            ArpOperation::REQUEST if self.is_announcement() => {
                write!(f, "ARP Announcement for {}", self.target_ip)
            }
            ArpOperation::REQUEST if self.is_gratuitous() => {
                write!(f, "Gratuitous ARP for {} (Request)", self.target_ip)
            }
            ArpOperation::REQUEST if self.is_probe() => {
                write!(f, "Who has {}? (ARP Probe)", self.target_ip)
            }
            ArpOperation::REQUEST => {
                write!(f, "Who has {}? Tell {}", self.target_ip, self.sender_ip)
            }
            ArpOperation::REPLY if self.is_gratuitous() => {
                write!(f, "Gratuitous ARP for {} (Reply)", self.sender_ip)
            }
            ArpOperation::REPLY => write!(f, "{} is at {}", self.sender_ip, self.sender_mac),
            ArpOperation::RARP_REQUEST => {
                write!(f, "Who is {}? Tell {}", self.target_mac, self.sender_mac)
            }
            ArpOperation::RARP_REPLY => write!(f, "{} is at {}", self.target_mac, self.target_ip),
            other => write!(
                f,
                "ARP {other}, sender {}/{}, target {}/{}",
                self.sender_mac, self.sender_ip, self.target_mac, self.target_ip
            ),
        }
    }
}

/// The fixed 8-byte part.
struct Fixed {
    hardware_type: HardwareType,
    protocol_type: EtherType,
    hardware_len: u8,
    protocol_len: u8,
    operation: ArpOperation,
}

impl Fixed {
    fn parse(bytes: &[u8]) -> Result<Fixed> {
        let fixed = bytes.get(..ArpPacket::FIXED_LEN).and_then(|b| {
            let b: &[u8; 8] = b.try_into().ok()?;
            Some(Fixed {
                hardware_type: HardwareType(u16::from_be_bytes([b[0], b[1]])),
                protocol_type: EtherType(u16::from_be_bytes([b[2], b[3]])),
                hardware_len: b[4],
                protocol_len: b[5],
                operation: ArpOperation(u16::from_be_bytes([b[6], b[7]])),
            })
        });
        fixed.ok_or_else(|| {
            let got = bytes.len();
            // The last fixed field starting at or before the end of the input is the one cut.
            let (name, offset) = FIXED_FIELDS
                .iter()
                .rev()
                .find(|(_, start)| *start <= got)
                .copied()
                .unwrap_or(FIXED_FIELDS[0]);
            Error::truncated(Layer::Arp, name, offset, ArpPacket::FIXED_LEN, got)
        })
    }
}

fn ipv4_from_slice(bytes: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(bytes).ok().map(Ipv4Addr::from)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    if bytes.is_empty() {
        return f.write_str("-");
    }
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Writes consecutive slices into a buffer the caller has sized with the same lengths; a slice
/// that does not fit is dropped rather than panicking.
struct Writer<'o>(&'o mut [u8]);

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let buf = core::mem::take(&mut self.0);
        if let Some((head, tail)) = buf.split_at_mut_checked(bytes.len()) {
            head.copy_from_slice(bytes);
            self.0 = tail;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::ethernet::EthernetHeader;
    use proptest::prelude::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn bytes(hex_str: &str) -> Vec<u8> {
        hex::decode(hex_str).expect("fixture hex")
    }

    fn mac(s: &str) -> MacAddr {
        s.parse().expect("fixture MAC")
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("fixture IPv4 address")
    }

    /// The ARP packet of a whole frame, and the frame's EtherType.
    fn arp_of(frame: &[u8]) -> (EtherType, ArpPacket<'_>, &[u8]) {
        let (eth, payload) = EthernetHeader::parse(frame).unwrap();
        let (arp, rest) = ArpPacket::parse(payload).unwrap();
        (eth.ether_type, arp, rest)
    }

    // PcapPlusPlus/ArpRequestPacket.pcap, frame 1 (42 bytes, no padding).
    const ARP_REQUEST: &str =
        "ffffffffffff6cf049b2de6e080600010800060400016cf049b2de6e0a0000010000000000000a00008a";
    // PcapPlusPlus/ArpResponsePacket.pcap, frame 1 (60 bytes: 18 bytes of non-zero padding).
    const ARP_RESPONSE: &str = "6cf049b2de6e30469a23fbfa0806000108000604000230469a23fbfa0a00008a6cf049b2de6e0a000001742066726f6d206272696467650037003d20";

    #[test]
    fn pcapplusplus_request() {
        let frame = bytes(ARP_REQUEST);
        let (ether_type, arp, rest) = arp_of(&frame);
        // Values from `tshark -V`.
        assert_eq!(ether_type, EtherType::ARP);
        assert_eq!(arp.hardware_type, HardwareType::ETHERNET);
        assert_eq!(arp.protocol_type, EtherType::IPV4);
        assert_eq!((arp.hardware_len, arp.protocol_len), (6, 4));
        assert_eq!(arp.operation, ArpOperation::REQUEST);
        assert_eq!(arp.sender_hardware_addr, &mac("6c:f0:49:b2:de:6e").0);
        assert_eq!(arp.sender_protocol_addr, &[10, 0, 0, 1]);
        assert_eq!(arp.target_hardware_addr, &[0; 6]);
        assert_eq!(arp.target_protocol_addr, &[10, 0, 0, 138]);
        assert!(rest.is_empty());
        assert!(!arp.is_gratuitous());
        assert_eq!(arp.len(), 28);

        let typed = arp.as_ethernet_ipv4().unwrap();
        assert_eq!(
            typed,
            ArpEthernetIpv4::request(mac("6c:f0:49:b2:de:6e"), ip("10.0.0.1"), ip("10.0.0.138"))
        );
        assert_eq!(typed.to_string(), "Who has 10.0.0.138? Tell 10.0.0.1");
        assert_eq!(arp.to_string(), "Who has 10.0.0.138? Tell 10.0.0.1");

        let mut out = [0u8; 28];
        assert_eq!(arp.emit_exact(&mut out), Ok(28));
        assert_eq!(&out[..], &frame[14..]);
        assert_eq!(arp.emit(&mut out), Ok(28));
        assert_eq!(&out[..], &frame[14..]);
        assert_eq!(typed.emit(&mut out), Ok(28));
        assert_eq!(&out[..], &frame[14..]);
    }

    #[test]
    fn pcapplusplus_response_with_padding() {
        let frame = bytes(ARP_RESPONSE);
        let (_, arp, rest) = arp_of(&frame);
        let typed = arp.as_ethernet_ipv4().unwrap();
        assert_eq!(typed.operation, ArpOperation::REPLY);
        assert_eq!(typed.sender_mac, mac("30:46:9a:23:fb:fa"));
        assert_eq!(typed.sender_ip, ip("10.0.0.138"));
        assert_eq!(typed.target_mac, mac("6c:f0:49:b2:de:6e"));
        assert_eq!(typed.target_ip, ip("10.0.0.1"));
        assert_eq!(typed.to_string(), "10.0.0.138 is at 30:46:9a:23:fb:fa");
        // The 18-byte trailer tshark reports as undecoded.
        assert_eq!(rest, &frame[42..]);
        assert_eq!(rest.len(), 18);

        let (typed2, rest2) = ArpEthernetIpv4::parse(&frame[14..]).unwrap();
        assert_eq!(typed2, typed);
        assert_eq!(rest2, rest);
        assert_eq!(
            ArpEthernetIpv4::reply_to(
                &ArpEthernetIpv4::request(
                    mac("6c:f0:49:b2:de:6e"),
                    ip("10.0.0.1"),
                    ip("10.0.0.138")
                ),
                mac("30:46:9a:23:fb:fa")
            ),
            typed
        );
    }

    #[test]
    fn libpcap_rarp_request_and_reply() {
        // libpcap/rarp_req_reply.pcapng frames 1 and 2.
        let request = bytes(
            "ffffffffffff000c29340bde80350001080006040003000c29340bde00000000000c29340bde00000000",
        );
        let (ether_type, arp, _) = arp_of(&request);
        assert_eq!(ether_type, EtherType::RARP);
        let typed = arp.as_ethernet_ipv4().unwrap();
        assert_eq!(typed.operation, ArpOperation::RARP_REQUEST);
        assert!(typed.operation.is_rarp());
        assert_eq!(typed.sender_mac, mac("00:0c:29:34:0b:de"));
        assert_eq!(typed.sender_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(typed.target_mac, mac("00:0c:29:34:0b:de"));
        assert_eq!(typed.target_ip, Ipv4Addr::UNSPECIFIED);
        assert!(!typed.is_gratuitous() && !typed.is_probe());
        assert!(!arp.is_gratuitous());
        assert_eq!(
            typed.to_string(),
            "Who is 00:0c:29:34:0b:de? Tell 00:0c:29:34:0b:de"
        );

        let reply = bytes(
            "000c29340bde000c29c5f69b80350001080006040004000c29c5f69b0a01010a000c29340bde0a010164",
        );
        let (ether_type, arp, _) = arp_of(&reply);
        assert_eq!(ether_type, EtherType::RARP);
        let typed = arp.as_ethernet_ipv4().unwrap();
        assert_eq!(typed.operation, ArpOperation::RARP_REPLY);
        assert_eq!(typed.sender_mac, mac("00:0c:29:c5:f6:9b"));
        assert_eq!(typed.sender_ip, ip("10.1.1.10"));
        assert_eq!(typed.target_mac, mac("00:0c:29:34:0b:de"));
        assert_eq!(typed.target_ip, ip("10.1.1.100"));
        assert_eq!(typed.to_string(), "00:0c:29:34:0b:de is at 10.1.1.100");
        let mut out = [0u8; 28];
        typed.emit(&mut out).unwrap();
        assert_eq!(&out[..], &reply[14..]);
    }

    #[test]
    fn arkime_cloudshark_exchange() {
        // arkime/cloudshark-arp.pcap frames 1, 2, 5, 6 with tshark's Info column.
        let cases = [
            ("ffffffffffff001a6b6c0ccc08060001080006040001001a6b6c0ccc0a0a0a020000000000000a0a0a01000000000000000000000000000000000000", "Who has 10.10.10.1? Tell 10.10.10.2", 18),
            ("001a6b6c0ccc001d09f092ab08060001080006040002001d09f092ab0a0a0a01001a6b6c0ccc0a0a0a02", "10.10.10.1 is at 00:1d:09:f0:92:ab", 0),
            ("001a6b6c0ccc001d09f092ab08060001080006040001001d09f092ab0a0a0a010000000000000a0a0a02", "Who has 10.10.10.2? Tell 10.10.10.1", 0),
            ("001d09f092ab001a6b6c0ccc08060001080006040002001a6b6c0ccc0a0a0a02001d09f092ab0a0a0a01000000000000000000000000000000000000", "10.10.10.2 is at 00:1a:6b:6c:0c:cc", 18),
        ];
        for (hex_frame, info, padding) in cases {
            let frame = bytes(hex_frame);
            let (_, arp, rest) = arp_of(&frame);
            assert_eq!(arp.to_string(), info);
            assert_eq!(rest.len(), padding);
            assert!(rest.iter().all(|&b| b == 0));
            let mut out = [0u8; 28];
            arp.emit_exact(&mut out).unwrap();
            assert_eq!(&out[..], &frame[14..42]);
        }
    }

    #[test]
    fn vlan_tagged_arp_request() {
        // PcapPlusPlus/ArpRequestWithVlan.pcap: two 802.1Q tags (VID 666, 200) around ARP.
        let frame = bytes("ffffffffffffca030db4001c8100b29a810040c808060001080006040001ca030db4001cc0a802c8000000000000c0a802fe");
        let (eth, payload) = EthernetHeader::parse(&frame).unwrap();
        let tags: Vec<_> = eth.vlan.iter().map(|t| (t.pcp, t.dei, t.vid)).collect();
        assert_eq!(tags, [(5, true, 666), (2, false, 200)]);
        assert_eq!(eth.ether_type, EtherType::ARP);
        let (typed, _) = ArpEthernetIpv4::parse(payload).unwrap();
        assert_eq!(typed.sender_mac, mac("ca:03:0d:b4:00:1c"));
        assert_eq!(typed.sender_ip, ip("192.168.2.200"));
        assert_eq!(typed.target_ip, ip("192.168.2.254"));
    }

    #[test]
    fn gratuitous_announcement_and_probe() {
        let m = mac("02:00:00:00:00:01");
        let a = ArpEthernetIpv4::announcement(m, ip("192.0.2.7"));
        assert!(a.is_gratuitous() && a.is_announcement());
        assert!(!a.is_probe());
        assert_eq!(a.to_string(), "ARP Announcement for 192.0.2.7");
        let mut out = [0u8; 28];
        a.emit(&mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            bytes(concat!(
                "0001080006040001",
                "020000000001",
                "c0000207",
                "000000000000",
                "c0000207"
            ))
        );
        let (generic, _) = ArpPacket::parse(&out).unwrap();
        assert!(generic.is_gratuitous());

        // A gratuitous reply (sender = target IP) is gratuitous too.
        let reply = ArpEthernetIpv4 {
            operation: ArpOperation::REPLY,
            target_mac: MacAddr::BROADCAST,
            ..a
        };
        assert!(reply.is_gratuitous() && !reply.is_announcement());
        assert_eq!(reply.to_string(), "Gratuitous ARP for 192.0.2.7 (Reply)");
        // A gratuitous request with a non-zero target MAC is not an announcement.
        let request = ArpEthernetIpv4 {
            target_mac: MacAddr::BROADCAST,
            ..a
        };
        assert!(request.is_gratuitous() && !request.is_announcement());
        assert_eq!(
            request.to_string(),
            "Gratuitous ARP for 192.0.2.7 (Request)"
        );

        let p = ArpEthernetIpv4::probe(m, ip("192.0.2.7"));
        assert!(p.is_probe());
        assert!(!p.is_gratuitous());
        assert_eq!(p.to_string(), "Who has 192.0.2.7? (ARP Probe)");
        let not_probe = ArpEthernetIpv4 {
            target_mac: MacAddr::BROADCAST,
            ..p
        };
        assert!(!not_probe.is_probe());
        assert_eq!(not_probe.to_string(), "Who has 192.0.2.7? Tell 0.0.0.0");
    }

    #[test]
    fn tcpdump_arp_oobr_gratuitous() {
        // tcpdump/arp-oobr.pcap (fuzzed ARP); expected strings are tshark's Info column.
        let announcement = bytes("ffffffffffff001f29daf8fb08060001080006040001001f29daf8fbc0a80025000000000000c0a80025000000000000000000000000000000000000");
        let (_, arp, _) = arp_of(&announcement);
        let typed = arp.as_ethernet_ipv4().unwrap();
        assert!(typed.is_announcement() && arp.is_gratuitous());
        assert_eq!(typed.to_string(), "ARP Announcement for 192.168.0.37");

        let reply = bytes("0008027eb2360021d8ee0345080600010800060400020021d80103aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        let (_, arp, _) = arp_of(&reply);
        assert!(arp.is_gratuitous());
        assert_eq!(
            arp.to_string(),
            "Gratuitous ARP for 170.170.170.170 (Reply)"
        );

        // Frame 148: hardware length 7; tshark still flags it gratuitous (equal protocol
        // addresses 170.170.170.170).
        let odd = bytes("ffffffffffff001f29da2d7908060001080007040001001f29daaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        let (_, arp, rest) = arp_of(&odd);
        assert_eq!((arp.hardware_len, arp.protocol_len), (7, 4));
        assert_eq!(arp.sender_hardware_addr, &bytes("001f29daaaaaaa")[..]);
        assert_eq!(arp.sender_protocol_addr, &[170; 4]);
        assert_eq!(arp.target_protocol_addr, &[170; 4]);
        assert!(arp.is_gratuitous());
        assert!(arp.as_ethernet_ipv4().is_none());
        assert_eq!(rest.len(), 46 - 30);
    }

    #[test]
    fn tcpdump_long_hardware_addresses() {
        // tcpdump/arp-too-long-tha.pcap: an 802.1ad tag, then ARP with hardware type 12336 and
        // 14-byte hardware addresses; tshark decodes it as a gratuitous request for 48.48.48.48
        // with a 2-byte trailer.
        let frame = bytes("30303030303030303030303088a830300806303008000e0400013030303030303030303030303030303030303030303030303030303030303030303030303030");
        let (eth, payload) = EthernetHeader::parse(&frame).unwrap();
        assert_eq!(
            eth.vlan.outer().map(|t| (t.pcp, t.dei, t.vid)),
            Some((1, true, 48))
        );
        let (arp, rest) = ArpPacket::parse(payload).unwrap();
        assert_eq!(arp.hardware_type, HardwareType(12336));
        assert_eq!(arp.protocol_type, EtherType::IPV4);
        assert_eq!((arp.hardware_len, arp.protocol_len), (14, 4));
        assert_eq!(arp.operation, ArpOperation::REQUEST);
        assert_eq!(arp.sender_hardware_addr, &[0x30; 14]);
        assert_eq!(arp.sender_protocol_addr, &[48, 48, 48, 48]);
        assert_eq!(arp.target_hardware_addr, &[0x30; 14]);
        assert_eq!(arp.target_protocol_addr, &[48, 48, 48, 48]);
        assert!(arp.is_gratuitous());
        assert_eq!(arp.len(), 44);
        assert_eq!(rest, &[0x30, 0x30]);
        assert_eq!(arp.as_ethernet_ipv4(), None);
        assert_eq!(
            ArpEthernetIpv4::parse(payload).unwrap_err(),
            Error::bad_value(Layer::Arp, "hardware type", 0, "1 (Ethernet)", 12336)
        );
        let mut out = [0u8; 44];
        assert_eq!(arp.emit(&mut out), Ok(44));
        assert_eq!(&out[..], &payload[..44]);
    }

    #[test]
    fn tcpdump_oversized_lengths_truncate() {
        // tcpdump/arp-oobr.pcap frame 2181: hardware and protocol lengths 170 in a 28-byte
        // packet (tshark: "Malformed Packet").
        let frame = bytes(
            "ffffffffffff0008027eb236080600010800aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        );
        let e = ArpPacket::parse(&frame[14..]).unwrap_err();
        assert_eq!(
            e,
            Error::truncated(
                Layer::Arp,
                "sender hardware address",
                8,
                8 + 2 * 170 + 2 * 170,
                28
            )
        );
    }

    #[test]
    fn truncation_names_the_field() {
        let frame = bytes(ARP_REQUEST);
        let arp = &frame[14..];
        let fixed = [
            (0, "hardware type", 0),
            (1, "hardware type", 0),
            (2, "protocol type", 2),
            (4, "hardware address length", 4),
            (5, "protocol address length", 5),
            (6, "operation", 6),
            (7, "operation", 6),
        ];
        for (len, name, offset) in fixed {
            assert_eq!(
                ArpPacket::parse(&arp[..len]).unwrap_err(),
                Error::truncated(Layer::Arp, name, offset, 8, len),
                "length {len}"
            );
            assert_eq!(
                ArpEthernetIpv4::parse(&arp[..len]).unwrap_err(),
                Error::truncated(Layer::Arp, name, offset, 8, len),
                "length {len}"
            );
        }
        let addresses = [
            (8, "sender hardware address", 8),
            (13, "sender hardware address", 8),
            (14, "sender protocol address", 14),
            (17, "sender protocol address", 14),
            (18, "target hardware address", 18),
            (23, "target hardware address", 18),
            (24, "target protocol address", 24),
            (27, "target protocol address", 24),
        ];
        for (len, name, offset) in addresses {
            let e = ArpPacket::parse(&arp[..len]).unwrap_err();
            assert_eq!(e, Error::truncated(Layer::Arp, name, offset, 28, len));
            assert_eq!(ArpEthernetIpv4::parse(&arp[..len]).unwrap_err(), e);
        }
        // Zero-length addresses: the fixed part alone is a whole packet.
        let (empty, rest) = ArpPacket::parse(&[0, 1, 8, 0, 0, 0, 0, 1, 0xee]).unwrap();
        assert_eq!(empty.len(), 8);
        assert!(empty.sender_hardware_addr.is_empty());
        assert_eq!(rest, &[0xee]);
    }

    #[test]
    fn typed_parse_rejects_other_kinds() {
        let frame = bytes(ARP_REQUEST);
        let mut arp = frame[14..].to_vec();
        arp[3] = 0x06;
        let e = ArpEthernetIpv4::parse(&arp).unwrap_err();
        assert_eq!(
            (e.field, e.offset, e.kind),
            (
                "protocol type",
                2,
                ErrorKind::BadValue {
                    expected: "0x0800 (IPv4)",
                    found: 0x0806
                }
            )
        );
        let mut arp = frame[14..].to_vec();
        arp[4] = 8;
        assert_eq!(
            ArpEthernetIpv4::parse(&arp).unwrap_err(),
            Error::bad_value(Layer::Arp, "hardware address length", 4, "6", 8)
        );
        let mut arp = frame[14..].to_vec();
        arp[5] = 16;
        assert_eq!(
            ArpEthernetIpv4::parse(&arp).unwrap_err(),
            Error::bad_value(Layer::Arp, "protocol address length", 5, "4", 16)
        );
    }

    #[test]
    fn emit_errors_and_emit_exact_keeps_bad_lengths() {
        let six = [1u8; 6];
        let five = [2u8; 5];
        let four = [3u8; 4];
        let long = [0u8; 256];
        let base = ArpPacket::new(
            HardwareType::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REQUEST,
            &six,
            &four,
            &six,
            &four,
        )
        .unwrap();
        assert_eq!((base.hardware_len, base.protocol_len), (6, 4));

        let mismatched = ArpPacket {
            target_hardware_addr: &five,
            ..base
        };
        let mut out = [0u8; 64];
        assert_eq!(
            mismatched.emit(&mut out),
            Err(Error::bad_value(
                Layer::Arp,
                "target hardware address",
                18,
                "as long as the sender hardware address",
                5
            ))
        );
        let e = ArpPacket {
            target_protocol_addr: &six,
            ..base
        }
        .emit(&mut out)
        .unwrap_err();
        assert_eq!((e.field, e.offset), ("target protocol address", 24));
        assert_eq!(
            ArpPacket {
                sender_hardware_addr: &long,
                target_hardware_addr: &long,
                ..base
            }
            .emit(&mut out),
            Err(Error::too_long(
                Layer::Arp,
                "hardware address length",
                255,
                256
            ))
        );
        assert_eq!(
            ArpPacket {
                sender_protocol_addr: &long,
                target_protocol_addr: &long,
                ..base
            }
            .emit(&mut out),
            Err(Error::too_long(
                Layer::Arp,
                "protocol address length",
                255,
                256
            ))
        );
        assert_eq!(
            base.emit(&mut out[..27]),
            Err(Error::buffer_too_small(Layer::Arp, 28, 27))
        );
        let typed = base.as_ethernet_ipv4().unwrap();
        assert_eq!(
            typed.emit(&mut out[..10]),
            Err(Error::buffer_too_small(Layer::Arp, 28, 10))
        );

        // emit_exact writes the declared lengths as held, even when they lie.
        let lying = ArpPacket {
            hardware_len: 9,
            ..mismatched
        };
        assert_eq!(lying.emit_exact(&mut out), Ok(27));
        assert_eq!(out[4], 9);
        assert_eq!(&out[18..23], &five);
        // … and `emit` corrects them from the slices.
        let fixed_up = ArpPacket {
            hardware_len: 9,
            protocol_len: 0,
            ..base
        };
        assert_eq!(fixed_up.emit(&mut out), Ok(28));
        assert_eq!((out[4], out[5]), (6, 4));
    }

    #[test]
    fn names_and_display() {
        assert_eq!(ArpOperation(1).to_string(), "request (1)");
        assert_eq!(ArpOperation(4).to_string(), "reverse reply (4)");
        assert_eq!(ArpOperation(43690).to_string(), "unknown (43690)");
        assert_eq!(HardwareType(12336).to_string(), "12336");
        assert_eq!(HardwareType::ETHERNET.to_string(), "Ethernet (1)");
        let hw = [0xab; 2];
        let p = ArpPacket::new(
            HardwareType(6),
            EtherType(0x0800),
            ArpOperation(7),
            &hw,
            &[],
            &hw,
            &[],
        )
        .unwrap();
        assert_eq!(
            p.to_string(),
            "ARP unknown (7), hardware type IEEE 802 (6), protocol type IPv4 (0x0800), \
             sender abab/-, target abab/-"
        );
    }

    fn addresses() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>)> {
        // Mostly small lengths, sometimes up to the 255-byte maximum.
        let len = prop_oneof![4 => 0usize..=16, 1 => 0usize..=255];
        (len.clone(), len).prop_flat_map(|(h, p)| {
            use proptest::collection::vec;
            (
                vec(any::<u8>(), h),
                vec(any::<u8>(), p),
                vec(any::<u8>(), h),
                vec(any::<u8>(), p),
            )
        })
    }

    fn typed() -> impl Strategy<Value = ArpEthernetIpv4> {
        (
            any::<u16>(),
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
            any::<[u8; 6]>(),
            any::<[u8; 4]>(),
        )
            .prop_map(|(op, sm, si, tm, ti)| ArpEthernetIpv4 {
                operation: ArpOperation(op),
                sender_mac: MacAddr(sm),
                sender_ip: Ipv4Addr::from(si),
                target_mac: MacAddr(tm),
                target_ip: Ipv4Addr::from(ti),
            })
    }

    proptest! {
        // (1) generic value with any address lengths → emit → parse gives it back.
        #[test]
        fn prop_generic_emit_then_parse(
            htype in any::<u16>(),
            ptype in any::<u16>(),
            op in any::<u16>(),
            (sha, spa, tha, tpa) in addresses(),
            trailer in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let packet = ArpPacket::new(
                HardwareType(htype), EtherType(ptype), ArpOperation(op), &sha, &spa, &tha, &tpa,
            ).unwrap();
            let len = 8 + 2 * sha.len() + 2 * spa.len();
            prop_assert_eq!(packet.len(), len);
            let mut buf = std::vec![0u8; len + trailer.len()];
            prop_assert_eq!(packet.emit(&mut buf), Ok(len));
            buf[len..].copy_from_slice(&trailer);
            let (parsed, rest) = ArpPacket::parse(&buf).unwrap();
            prop_assert_eq!(parsed, packet);
            prop_assert_eq!(rest, &trailer[..]);
            prop_assert_eq!(
                parsed.as_ethernet_ipv4().is_some(),
                htype == 1 && ptype == 0x0800 && sha.len() == 6 && spa.len() == 4
            );
        }

        // (2) valid bytes built by hand → parse → emit_exact gives the same bytes.
        #[test]
        fn prop_generic_parse_then_emit_exact(
            fixed in any::<[u8; 4]>(),
            op in any::<[u8; 2]>(),
            (sha, spa, tha, tpa) in addresses(),
            trailer in proptest::collection::vec(any::<u8>(), 0..20),
        ) {
            let mut wire = fixed.to_vec();
            wire.push(sha.len() as u8);
            wire.push(spa.len() as u8);
            wire.extend_from_slice(&op);
            for a in [&sha, &spa, &tha, &tpa] {
                wire.extend_from_slice(a);
            }
            let len = wire.len();
            wire.extend_from_slice(&trailer);
            let (p, rest) = ArpPacket::parse(&wire).unwrap();
            prop_assert_eq!(p.hardware_type.0, u16::from_be_bytes([fixed[0], fixed[1]]));
            prop_assert_eq!(p.protocol_type.0, u16::from_be_bytes([fixed[2], fixed[3]]));
            prop_assert_eq!(p.operation.0, u16::from_be_bytes(op));
            prop_assert_eq!(p.sender_hardware_addr, &sha[..]);
            prop_assert_eq!(p.sender_protocol_addr, &spa[..]);
            prop_assert_eq!(p.target_hardware_addr, &tha[..]);
            prop_assert_eq!(p.target_protocol_addr, &tpa[..]);
            prop_assert_eq!(rest, &trailer[..]);
            let mut out = std::vec![0u8; len];
            prop_assert_eq!(p.emit_exact(&mut out), Ok(len));
            prop_assert_eq!(&out[..], &wire[..len]);
        }

        // (3) arbitrary bytes never panic; a success re-emits the consumed prefix; a failure is
        // a truncation within the input.
        #[test]
        fn prop_arbitrary_bytes(
            mut wire in proptest::collection::vec(any::<u8>(), 0..80),
            lengths in proptest::option::of((0u8..=12, 0u8..=12)),
        ) {
            // Plant small address lengths half of the time so that whole packets occur often.
            if let (Some((h, p)), Some(slot)) = (lengths, wire.get_mut(4..6)) {
                slot.copy_from_slice(&[h, p]);
            }
            match ArpPacket::parse(&wire) {
                Ok((p, rest)) => {
                    prop_assert_eq!(p.len() + rest.len(), wire.len());
                    let mut out = std::vec![0u8; p.len()];
                    prop_assert_eq!(p.emit_exact(&mut out), Ok(p.len()));
                    prop_assert_eq!(&out[..], &wire[..p.len()]);
                    prop_assert_eq!(p.emit(&mut out), Ok(p.len()));
                    prop_assert_eq!(&out[..], &wire[..p.len()]);
                }
                Err(e) => {
                    prop_assert!(e.is_truncation());
                    prop_assert!(e.offset <= wire.len());
                }
            }
            // The typed parser agrees with the generic one whenever it succeeds.
            if let Ok((typed, rest)) = ArpEthernetIpv4::parse(&wire) {
                let (p, generic_rest) = ArpPacket::parse(&wire).unwrap();
                prop_assert_eq!(p.as_ethernet_ipv4(), Some(typed));
                prop_assert_eq!(rest, generic_rest);
            }
        }

        // (4) typed view: value → emit → parse (typed and generic) gives it back.
        #[test]
        fn prop_typed_emit_then_parse(arp in typed()) {
            let mut out = [0u8; 28];
            prop_assert_eq!(arp.emit(&mut out), Ok(28));
            prop_assert_eq!(&out[..8], &[0, 1, 8, 0, 6, 4, (arp.operation.0 >> 8) as u8, arp.operation.0 as u8][..]);
            let (generic, rest) = ArpPacket::parse(&out).unwrap();
            prop_assert!(rest.is_empty());
            prop_assert_eq!(generic.as_ethernet_ipv4(), Some(arp));
            prop_assert_eq!(ArpEthernetIpv4::parse(&out).map(|(t, _)| t), Ok(arp));
            let mut again = [0u8; 28];
            prop_assert_eq!(generic.emit_exact(&mut again), Ok(28));
            prop_assert_eq!(again, out);
        }
    }
}
