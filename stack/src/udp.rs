//! UDP [RFC 768; RFC 1122 § 4.1]: a bounded table of sockets bound to an address (or the
//! wildcard) and a port (given or ephemeral), `send_to` and `recv_from` with the source
//! address, bounded per-socket input queues (overflow counted), checksum verification, port
//! unreachable for closed ports (never for broadcast or multicast), and broadcast and
//! multicast delivery to every socket bound to the port.

use core::net::{Ipv4Addr, SocketAddrV4};
use std::collections::{BTreeMap, VecDeque};

use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::time::Instant;
use wirecheck_codec::udp::UdpHeader;
use wirecheck_codec::ChecksumStatus;

use crate::icmp::ErrorToSend;
use crate::iface::InterfaceId;
use crate::ip::{Destination, SendParams};
use crate::stack::{Event, Origin, Stack, StackError};

/// UDP settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpConfig {
    /// Most open sockets.
    pub max_sockets: usize,
    /// Most datagrams queued on a socket; further ones are dropped and counted.
    pub queue_len: usize,
    /// The ephemeral port range (IANA's 49152–65535 [RFC 6335 § 6]).
    pub ephemeral_ports: (u16, u16),
    /// Send datagrams with a checksum (RFC 1122 § 4.1.3.4: MUST be on by default).
    pub send_checksum: bool,
}

impl Default for UdpConfig {
    fn default() -> UdpConfig {
        UdpConfig {
            max_sockets: 64,
            queue_len: 32,
            ephemeral_ports: (49152, 65535),
            send_checksum: true,
        }
    }
}

/// A UDP socket of a [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UdpHandle(pub u32);

/// A received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Who sent it.
    pub source: SocketAddrV4,
    /// The address and port it was sent to (a broadcast or group address for those).
    pub destination: SocketAddrV4,
    /// The interface it came in on.
    pub iface: InterfaceId,
    /// The payload.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct UdpSocket {
    local: SocketAddrV4,
    queue: VecDeque<UdpDatagram>,
    /// Datagrams dropped because the queue was full.
    overflows: u64,
    ttl: u8,
    /// TTL of multicast datagrams [RFC 1112 § 6.1].
    multicast_ttl: u8,
    multicast_iface: Option<InterfaceId>,
}

/// The socket table.
#[derive(Debug, Clone, Default)]
pub(crate) struct UdpTable {
    sockets: BTreeMap<UdpHandle, UdpSocket>,
    next_handle: u32,
}

impl UdpTable {
    /// Whether binding `addr:port` conflicts with a socket: the same address, or the wildcard
    /// against a unicast address. Broadcast and group addresses may share a port with the
    /// wildcard (the receivers of a group and a general listener coexist, as with
    /// `SO_REUSEADDR` on multicast sockets).
    fn port_in_use(&self, addr: Ipv4Addr, port: u16) -> bool {
        let shared = |a: Ipv4Addr| a.is_multicast() || a.is_broadcast();
        self.sockets.values().any(|s| {
            let other = *s.local.ip();
            s.local.port() == port
                && (other == addr
                    || (other.is_unspecified() && !shared(addr))
                    || (addr.is_unspecified() && !shared(other)))
        })
    }

    pub(crate) fn check_invariants(&self, config: &UdpConfig) {
        assert!(self.sockets.len() <= config.max_sockets);
        for s in self.sockets.values() {
            assert!(s.queue.len() <= config.queue_len);
        }
    }
}

impl Stack {
    /// Opens a socket bound to `local`. Port 0 picks a free ephemeral port; address 0.0.0.0
    /// receives on every address. Binding an address that is not ours fails.
    pub fn udp_bind(&mut self, local: SocketAddrV4) -> Result<UdpHandle, StackError> {
        let addr = *local.ip();
        let multicast_or_broadcast = addr.is_multicast() || self.is_any_broadcast(addr);
        if !addr.is_unspecified() && !multicast_or_broadcast && self.local_iface_of(addr).is_none()
        {
            return Err(StackError::AddressNotAvailable);
        }
        if self.udp.sockets.len() >= self.config.udp.max_sockets {
            return Err(StackError::TooManySockets);
        }
        let port = if local.port() == 0 {
            self.udp_ephemeral_port(addr)?
        } else if self.udp.port_in_use(addr, local.port()) {
            return Err(StackError::AddressInUse);
        } else {
            local.port()
        };
        let handle = UdpHandle(self.udp.next_handle);
        self.udp.next_handle = self.udp.next_handle.wrapping_add(1);
        self.udp.sockets.insert(
            handle,
            UdpSocket {
                local: SocketAddrV4::new(addr, port),
                queue: VecDeque::new(),
                overflows: 0,
                ttl: self.config.ip.default_ttl,
                multicast_ttl: self.config.ip.default_multicast_ttl,
                multicast_iface: None,
            },
        );
        Ok(handle)
    }

    /// A free port from the ephemeral range, starting at a random point [RFC 6056 § 3.3.1].
    fn udp_ephemeral_port(&mut self, addr: Ipv4Addr) -> Result<u16, StackError> {
        let (low, high) = self.config.udp.ephemeral_ports;
        let (low, high) = (low.max(1), high.max(low.max(1)));
        let span = u64::from(high - low) + 1;
        let start = self.rng.below_or_equal(span - 1);
        for i in 0..span {
            let port = low + ((start + i) % span) as u16;
            if !self.udp.port_in_use(addr, port) {
                return Ok(port);
            }
        }
        Err(StackError::NoFreePort)
    }

    /// The address and port a socket is bound to.
    pub fn udp_local_addr(&self, handle: UdpHandle) -> Option<SocketAddrV4> {
        self.udp.sockets.get(&handle).map(|s| s.local)
    }

    /// Datagrams a socket dropped because its queue was full.
    pub fn udp_overflows(&self, handle: UdpHandle) -> Option<u64> {
        self.udp.sockets.get(&handle).map(|s| s.overflows)
    }

    /// Sets the TTL of the socket's unicast and broadcast datagrams (multicast ones have their
    /// own, [`udp_set_multicast_ttl`](Stack::udp_set_multicast_ttl)).
    pub fn udp_set_ttl(&mut self, handle: UdpHandle, ttl: u8) -> Result<(), StackError> {
        let s = self
            .udp
            .sockets
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        s.ttl = ttl;
        Ok(())
    }

    /// Sets the TTL of the socket's multicast datagrams (1 by default, which keeps them on
    /// the link [RFC 1112 § 6.1]).
    pub fn udp_set_multicast_ttl(&mut self, handle: UdpHandle, ttl: u8) -> Result<(), StackError> {
        let s = self
            .udp
            .sockets
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        s.multicast_ttl = ttl;
        Ok(())
    }

    /// Sets the interface for the socket's multicast and limited-broadcast datagrams.
    pub fn udp_set_multicast_interface(
        &mut self,
        handle: UdpHandle,
        iface: Option<InterfaceId>,
    ) -> Result<(), StackError> {
        if iface.is_some_and(|i| self.interface(i).is_none()) {
            return Err(StackError::InvalidInterface);
        }
        let s = self
            .udp
            .sockets
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        s.multicast_iface = iface;
        Ok(())
    }

    /// Closes a socket; its queued datagrams are discarded.
    pub fn udp_close(&mut self, handle: UdpHandle) -> Result<(), StackError> {
        self.udp
            .sockets
            .remove(&handle)
            .map(|_| ())
            .ok_or(StackError::InvalidHandle)
    }

    /// Sends a datagram. It goes out at once, or waits for ARP; a later failure to resolve
    /// the next hop is reported as [`Event::SendFailed`].
    pub fn udp_send_to(
        &mut self,
        now: Instant,
        handle: UdpHandle,
        destination: SocketAddrV4,
        payload: &[u8],
    ) -> Result<(), StackError> {
        let socket = self
            .udp
            .sockets
            .get(&handle)
            .ok_or(StackError::InvalidHandle)?;
        let (local, iface) = (socket.local, socket.multicast_iface);
        let ttl = if destination.ip().is_multicast() {
            socket.multicast_ttl
        } else {
            socket.ttl
        };
        if destination.port() == 0 {
            return Err(StackError::InvalidDestination);
        }
        if payload.len() > 65535 - 20 - 8 {
            return Err(StackError::MessageTooLong);
        }
        let dst = *destination.ip();
        let hint = if dst.is_multicast() || dst.is_broadcast() {
            iface
        } else {
            None
        };
        let mut route = self.route_output(dst, hint)?;
        let bound = *local.ip();
        let source =
            if bound.is_unspecified() || bound.is_multicast() || self.is_any_broadcast(bound) {
                route.source
            } else {
                bound
            };
        if route.local {
            route.source = source;
        }
        let mut datagram = vec![0u8; 8 + payload.len()];
        let header = UdpHeader::new(local.port(), destination.port());
        header
            .emit(source, dst, payload, &mut datagram)
            .map_err(|_| StackError::MessageTooLong)?;
        if !self.config.udp.send_checksum {
            if let Some(c) = datagram.get_mut(6..8) {
                c.fill(0);
            }
        }
        let params = SendParams {
            source,
            protocol: IpProtocol::UDP,
            ttl,
            dont_fragment: false,
            options: &[],
            origin: Origin::Udp(handle),
        };
        let r = self.ip_send(now, &route, params, &datagram);
        self.drain_loopback(now);
        r
    }

    /// The next datagram queued on a socket.
    pub fn udp_recv_from(&mut self, handle: UdpHandle) -> Result<Option<UdpDatagram>, StackError> {
        let s = self
            .udp
            .sockets
            .get_mut(&handle)
            .ok_or(StackError::InvalidHandle)?;
        Ok(s.queue.pop_front())
    }

    /// The socket a datagram from `addr:port` was sent by (for ICMP errors).
    pub(crate) fn udp_socket_for(&self, addr: Ipv4Addr, port: u16) -> Option<UdpHandle> {
        self.udp
            .sockets
            .iter()
            .find(|(_, s)| s.local.port() == port && *s.local.ip() == addr)
            .or_else(|| {
                self.udp
                    .sockets
                    .iter()
                    .find(|(_, s)| s.local.port() == port && s.local.ip().is_unspecified())
            })
            .map(|(h, _)| *h)
    }

    /// Receives a UDP datagram addressed to us.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn udp_input(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        link_multicast: bool,
        header: &Ipv4Header<'_>,
        ip_datagram: &[u8],
        payload: &[u8],
    ) {
        self.stats.udp_in += 1;
        let Ok((udp, data)) = UdpHeader::parse(payload) else {
            self.stats.udp_errors += 1;
            return;
        };
        let status = UdpHeader::verify_checksum(header.source, header.destination, payload);
        if !matches!(status, ChecksumStatus::Good | ChecksumStatus::Absent) {
            self.stats.udp_errors += 1;
            return;
        }
        let dst = header.destination;
        let port = udp.destination_port;
        let datagram = UdpDatagram {
            source: SocketAddrV4::new(header.source, udp.source_port),
            destination: SocketAddrV4::new(dst, port),
            iface,
            payload: data.to_vec(),
        };
        let targets: Vec<UdpHandle> = if class.is_unicast() {
            // The most specific binding wins: the exact address, else the wildcard.
            self.udp
                .sockets
                .iter()
                .find(|(_, s)| s.local.port() == port && *s.local.ip() == dst)
                .or_else(|| {
                    self.udp
                        .sockets
                        .iter()
                        .find(|(_, s)| s.local.port() == port && s.local.ip().is_unspecified())
                })
                .map(|(h, _)| *h)
                .into_iter()
                .collect()
        } else {
            // Broadcast and multicast: every socket bound to the port and to the wildcard or
            // that very address [RFC 1122 § 4.1.3.5].
            self.udp
                .sockets
                .iter()
                .filter(|(_, s)| {
                    s.local.port() == port
                        && (s.local.ip().is_unspecified() || *s.local.ip() == dst)
                })
                .map(|(h, _)| *h)
                .collect()
        };
        if targets.is_empty() {
            self.stats.udp_no_port += 1;
            if class.is_unicast() {
                self.icmp_send_error(
                    now,
                    ip_datagram,
                    link_multicast,
                    ErrorToSend::PortUnreachable,
                );
            }
            return;
        }
        let queue_len = self.config.udp.queue_len;
        for handle in targets {
            let Some(s) = self.udp.sockets.get_mut(&handle) else {
                continue;
            };
            if s.queue.len() >= queue_len {
                s.overflows += 1;
                self.stats.udp_queue_overflows += 1;
                continue;
            }
            let was_empty = s.queue.is_empty();
            s.queue.push_back(datagram.clone());
            if was_empty {
                self.push_event(Event::UdpReadable(handle));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::Config;

    const IF0: InterfaceId = InterfaceId(0);

    #[test]
    fn bind_rules() {
        let mut s = host(Config::default());
        let a = s.udp_bind(SocketAddrV4::new(HOST, 53)).unwrap();
        assert_eq!(
            s.udp_bind(SocketAddrV4::new(HOST, 53)),
            Err(StackError::AddressInUse)
        );
        assert_eq!(
            s.udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 53)),
            Err(StackError::AddressInUse)
        );
        assert_eq!(
            s.udp_bind(SocketAddrV4::new(Ipv4Addr::new(10, 9, 9, 9), 1)),
            Err(StackError::AddressNotAvailable)
        );
        let e = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .unwrap();
        let port = s.udp_local_addr(e).unwrap().port();
        assert!(port >= 49152);
        s.udp_close(a).unwrap();
        assert_eq!(s.udp_close(a), Err(StackError::InvalidHandle));
        s.udp_bind(SocketAddrV4::new(HOST, 53)).unwrap();
    }

    #[test]
    fn ephemeral_ports_run_out() {
        let mut config = Config::default();
        config.udp.ephemeral_ports = (5000, 5001);
        let mut s = host(config);
        let a = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .unwrap();
        let b = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .unwrap();
        assert_ne!(s.udp_local_addr(a), s.udp_local_addr(b));
        assert_eq!(
            s.udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            Err(StackError::NoFreePort)
        );
    }

    #[test]
    fn checksums_are_verified() {
        let mut s = host(Config::default());
        let h = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 7))
            .unwrap();
        let mut good = udp(PEER, HOST, 1234, 7, b"ok");
        s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::UDP, &good));
        // Zero: no checksum, accepted [RFC 768].
        good[6] = 0;
        good[7] = 0;
        s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::UDP, &good));
        let mut bad = udp(PEER, HOST, 1234, 7, b"ok");
        bad[8] ^= 1;
        s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::UDP, &bad));
        assert_eq!(s.stats().udp_errors, 1);
        let d = s.udp_recv_from(h).unwrap().unwrap();
        assert_eq!(d.source, SocketAddrV4::new(PEER, 1234));
        assert_eq!(d.destination, SocketAddrV4::new(HOST, 7));
        assert!(s.udp_recv_from(h).unwrap().is_some());
        assert!(s.udp_recv_from(h).unwrap().is_none());
        assert_eq!(
            events(&mut s),
            vec![Event::UdpReadable(h)],
            "one event per empty→readable"
        );
        assert!(sent(&mut s).is_empty(), "no ICMP for a bad checksum");
    }

    #[test]
    fn queue_overflow_is_counted() {
        let mut config = Config::default();
        config.udp.queue_len = 2;
        let mut s = host(config);
        let h = s.udp_bind(SocketAddrV4::new(HOST, 7)).unwrap();
        for i in 0..5u8 {
            let d = udp(PEER, HOST, 1, 7, &[i]);
            s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::UDP, &d));
        }
        assert_eq!(s.udp_overflows(h), Some(3));
        assert_eq!(s.stats().udp_queue_overflows, 3);
        assert_eq!(s.udp_recv_from(h).unwrap().unwrap().payload, [0]);
        assert_eq!(s.udp_recv_from(h).unwrap().unwrap().payload, [1]);
    }

    #[test]
    fn closed_port_unicast_gets_port_unreachable_broadcast_does_not() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        let d = udp(PEER, HOST, 1, 9, b"x");
        s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::UDP, &d));
        let out = sent(&mut s);
        let [Decoded::Ipv4 {
            destination,
            protocol: IpProtocol::ICMP,
            payload,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(*destination, PEER);
        assert_eq!((payload[0], payload[1]), (3, 3));
        // Quote: the original header and its data.
        assert_eq!(&payload[8..12], &[0x45, 0, 0, 29]);
        let bcast = Ipv4Addr::new(10, 0, 0, 255);
        let d = udp(PEER, bcast, 1, 9, b"x");
        let frame = ipv4_frame(
            wirecheck_codec::ethernet::MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            bcast,
            IpProtocol::UDP,
            64,
            &[],
            &d,
        );
        s.handle_frame(Instant::ZERO, IF0, &frame);
        assert!(sent(&mut s).is_empty());
        assert_eq!(s.stats().udp_no_port, 2);
    }

    #[test]
    fn broadcast_reaches_every_socket_on_the_port() {
        let mut s = host(Config::default());
        let a = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 67))
            .unwrap();
        let b = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
            .unwrap();
        let c = s.udp_bind(SocketAddrV4::new(HOST, 68)).unwrap();
        let d = udp(PEER, Ipv4Addr::BROADCAST, 68, 67, b"discover");
        let frame = ipv4_frame(
            wirecheck_codec::ethernet::MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            Ipv4Addr::BROADCAST,
            IpProtocol::UDP,
            64,
            &[],
            &d,
        );
        s.handle_frame(Instant::ZERO, IF0, &frame);
        assert!(s.udp_recv_from(a).unwrap().is_some());
        assert!(s.udp_recv_from(b).unwrap().is_some());
        assert!(s.udp_recv_from(c).unwrap().is_none());
    }

    #[test]
    fn send_to_self_takes_the_loopback_path() {
        let mut s = host(Config::default());
        let a = s.udp_bind(SocketAddrV4::new(HOST, 7)).unwrap();
        let b = s
            .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
            .unwrap();
        s.udp_send_to(Instant::ZERO, b, SocketAddrV4::new(HOST, 7), b"me")
            .unwrap();
        assert!(sent(&mut s).is_empty());
        let got = s.udp_recv_from(a).unwrap().unwrap();
        assert_eq!(got.payload, b"me");
        assert_eq!(*got.source.ip(), HOST);
        assert_eq!(
            s.udp_send_to(
                Instant::ZERO,
                UdpHandle(99),
                SocketAddrV4::new(HOST, 7),
                b""
            ),
            Err(StackError::InvalidHandle)
        );
    }
}
