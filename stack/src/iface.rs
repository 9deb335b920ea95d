//! Interfaces: what the stack knows about each link it is attached to — its MAC address, MTU,
//! its IPv4 address and prefix — and the address classification that input and output checks
//! need (on-link, directed broadcast, martian) [RFC 1122 § 3.2.1.3, RFC 1812 § 5.3.7].

use core::fmt;
use core::net::Ipv4Addr;

use wirecheck_codec::ethernet::MacAddr;

use crate::igmp::IgmpInterface;

/// An interface of a [`Stack`](crate::Stack), numbered from 0 in the order they were added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceId(pub usize);

impl fmt::Display for InterfaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "if{}", self.0)
    }
}

/// An IPv4 address with its prefix length, as configured on an interface (`223.1.2.1/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Cidr {
    /// The address.
    pub address: Ipv4Addr,
    /// The prefix length, 0 to 32.
    pub prefix_len: u8,
}

impl Ipv4Cidr {
    /// An address with a prefix length (clamped to 32).
    pub const fn new(address: Ipv4Addr, prefix_len: u8) -> Ipv4Cidr {
        Ipv4Cidr {
            address,
            prefix_len: if prefix_len > 32 { 32 } else { prefix_len },
        }
    }

    /// The netmask as a number.
    pub const fn mask(&self) -> u32 {
        mask(self.prefix_len)
    }

    /// The network address (host bits zero).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    /// The directed broadcast address (host bits one); `None` for /31 and /32, which have none
    /// [RFC 3021].
    pub fn broadcast(&self) -> Option<Ipv4Addr> {
        (self.prefix_len < 31).then(|| Ipv4Addr::from(u32::from(self.address) | !self.mask()))
    }

    /// Whether `addr` is in this prefix.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & self.mask() == u32::from(self.address) & self.mask()
    }

    /// Whether `addr` is a broadcast address of this subnet: all host bits one, or all zero
    /// (the obsolete form hosts must still recognise) [RFC 1122 § 3.3.6].
    pub fn is_subnet_broadcast(&self, addr: Ipv4Addr) -> bool {
        self.prefix_len < 31
            && self.contains(addr)
            && (Some(addr) == self.broadcast() || addr == self.network())
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// The netmask of a prefix length.
pub(crate) const fn mask(prefix_len: u8) -> u32 {
    if prefix_len == 0 {
        0
    } else if prefix_len >= 32 {
        u32::MAX
    } else {
        u32::MAX << (32 - prefix_len)
    }
}

/// How to set up an interface with [`Stack::add_interface`](crate::Stack::add_interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceConfig {
    /// The interface's Ethernet address.
    pub mac: MacAddr,
    /// The link MTU: the largest IP datagram the link carries (1500 for Ethernet). At least 68
    /// [RFC 791 § 3.2].
    pub mtu: u16,
    /// The interface's address; a connected route for its prefix is added with it.
    pub address: Option<Ipv4Cidr>,
}

impl InterfaceConfig {
    /// An Ethernet interface with MTU 1500.
    pub const fn ethernet(mac: MacAddr, address: Ipv4Cidr) -> InterfaceConfig {
        InterfaceConfig {
            mac,
            mtu: 1500,
            address: Some(address),
        }
    }
}

/// The smallest MTU every IPv4 link must carry [RFC 791 § 3.2].
pub const MIN_MTU: u16 = 68;

/// One interface's state.
#[derive(Debug, Clone)]
pub(crate) struct Interface {
    pub(crate) mac: MacAddr,
    pub(crate) mtu: u16,
    pub(crate) address: Option<Ipv4Cidr>,
    pub(crate) igmp: IgmpInterface,
}

impl Interface {
    pub(crate) fn addr(&self) -> Option<Ipv4Addr> {
        self.address.map(|c| c.address)
    }

    /// Whether `addr` is a broadcast address on this interface: limited broadcast or one of
    /// the subnet's directed broadcast forms.
    pub(crate) fn is_broadcast(&self, addr: Ipv4Addr) -> bool {
        addr == Ipv4Addr::BROADCAST
            || self
                .address
                .is_some_and(|cidr| cidr.is_subnet_broadcast(addr))
    }
}

/// Whether a source address is one no datagram may carry: "this network" (0/8), loopback
/// (127/8), multicast (224/4), class E and limited broadcast (240/4) [RFC 1122 § 3.2.1.3,
/// RFC 1812 § 5.3.7]. Directed broadcasts are checked per interface.
pub(crate) fn is_martian_source(addr: Ipv4Addr) -> bool {
    let first = addr.octets()[0];
    first == 0 || first == 127 || first >= 224
}

/// Whether a destination address is never valid on the wire: 0/8 and 127/8, and class E
/// (240/4) except limited broadcast.
pub(crate) fn is_martian_destination(addr: Ipv4Addr) -> bool {
    let first = addr.octets()[0];
    first == 0 || first == 127 || (first >= 240 && addr != Ipv4Addr::BROADCAST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_arithmetic() {
        let c = Ipv4Cidr::new(Ipv4Addr::new(223, 1, 2, 1), 24);
        assert_eq!(c.network(), Ipv4Addr::new(223, 1, 2, 0));
        assert_eq!(c.broadcast(), Some(Ipv4Addr::new(223, 1, 2, 255)));
        assert!(c.contains(Ipv4Addr::new(223, 1, 2, 200)));
        assert!(!c.contains(Ipv4Addr::new(223, 1, 3, 2)));
        assert!(c.is_subnet_broadcast(Ipv4Addr::new(223, 1, 2, 255)));
        assert!(c.is_subnet_broadcast(Ipv4Addr::new(223, 1, 2, 0)));
        assert!(!c.is_subnet_broadcast(Ipv4Addr::new(223, 1, 2, 4)));
        assert_eq!(
            Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 31).broadcast(),
            None
        );
        assert_eq!(Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 0).mask(), 0);
        assert_eq!(Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 1), 40).prefix_len, 32);
        assert_eq!(c.to_string(), "223.1.2.1/24");
    }

    #[test]
    fn martians() {
        assert!(is_martian_source(Ipv4Addr::new(0, 0, 0, 0)));
        assert!(is_martian_source(Ipv4Addr::new(127, 0, 0, 1)));
        assert!(is_martian_source(Ipv4Addr::new(224, 0, 0, 1)));
        assert!(is_martian_source(Ipv4Addr::BROADCAST));
        assert!(!is_martian_source(Ipv4Addr::new(223, 1, 2, 1)));
        assert!(is_martian_destination(Ipv4Addr::new(127, 0, 0, 1)));
        assert!(!is_martian_destination(Ipv4Addr::BROADCAST));
        assert!(is_martian_destination(Ipv4Addr::new(240, 0, 0, 1)));
    }
}
