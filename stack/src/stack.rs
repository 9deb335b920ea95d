//! The [`Stack`] itself: configuration, the sans-IO boundary (frames and time in; frames,
//! deadlines and events out), interfaces and routes, and the bounded output queues. The
//! protocol modules add their parts with `impl Stack` blocks of their own.

use core::net::Ipv4Addr;
use std::collections::VecDeque;

use wirecheck_codec::ethernet::{EtherType, EthernetHeader, MacAddr};
use wirecheck_codec::ipv4::IpProtocol;
use wirecheck_codec::time::Instant;

use crate::arp::{ArpCache, ArpConfig};
use crate::icmp::{IcmpConfig, IcmpState};
use crate::iface::{Interface, InterfaceConfig, InterfaceId, Ipv4Cidr, MIN_MTU};
use crate::igmp::{IgmpConfig, IgmpInterface};
use crate::ip::fragment_glue::Reassembler;
use crate::ip::frame::FramePool;
use crate::ip::route::{Route, RouteError, RouteKind, RoutingTable};
use crate::ip::IpConfig;
use crate::rng::Rng;
use crate::tcp::{TcpConfig, TcpError, TcpHandle, TcpTable};
use crate::udp::{UdpConfig, UdpHandle, UdpTable};

/// Everything a [`Stack`] can be configured with. `Config::default()` is a host with the
/// limits of a small embedded stack; set [`IpConfig::forwarding`] for a router.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seed of the stack's deterministic randomness (IGMP report delays, ephemeral ports, the
    /// first IP identification, the TCP ISN key of RFC 6528 and timestamp offsets).
    pub seed: u64,
    /// ARP cache and pending queues.
    pub arp: ArpConfig,
    /// IP input, forwarding, reassembly.
    pub ip: IpConfig,
    /// ICMP replies and errors.
    pub icmp: IcmpConfig,
    /// IGMP host behaviour.
    pub igmp: IgmpConfig,
    /// UDP sockets.
    pub udp: UdpConfig,
    /// TCP connections and listeners.
    pub tcp: TcpConfig,
    /// Most interfaces.
    pub max_interfaces: usize,
    /// Most routes (connected, static and redirect routes together).
    pub max_routes: usize,
    /// Most frames waiting in [`Stack::poll_transmit`]; further frames are dropped and counted.
    pub max_transmit_queue: usize,
    /// Most events waiting in [`Stack::poll_event`]; further events are dropped and counted.
    pub max_events: usize,
    /// Most datagrams waiting on the loopback path (sent by the stack to itself).
    pub max_loopback: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 0,
            arp: ArpConfig::default(),
            ip: IpConfig::default(),
            icmp: IcmpConfig::default(),
            igmp: IgmpConfig::default(),
            udp: UdpConfig::default(),
            tcp: TcpConfig::default(),
            max_interfaces: 16,
            max_routes: 64,
            max_transmit_queue: 1024,
            max_events: 1024,
            max_loopback: 64,
        }
    }
}

impl Config {
    /// The default configuration as a router: forwarding on.
    pub fn router() -> Config {
        let mut c = Config::default();
        c.ip.forwarding = true;
        c
    }

    /// This configuration with another seed.
    pub fn with_seed(mut self, seed: u64) -> Config {
        self.seed = seed;
        self
    }
}

/// A frame to send on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The interface to send it on.
    pub iface: InterfaceId,
    /// The whole Ethernet frame (without FCS), padded to the 60-octet minimum.
    pub bytes: Vec<u8>,
}

/// Who sent a datagram, so that a failure to deliver it can be reported to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A UDP socket.
    Udp(UdpHandle),
    /// An echo request sent with [`Stack::ping`].
    Echo {
        /// Its identifier.
        identifier: u16,
        /// Its sequence number.
        sequence: u16,
    },
    /// A message the stack generated itself (ICMP, IGMP, ARP-triggered); failures are only
    /// counted.
    Stack(IpProtocol),
    /// A datagram being forwarded: a failure is answered with ICMP to its source.
    Forwarded,
}

/// Why a datagram the stack accepted could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendFailure {
    /// The next hop did not answer ARP after the configured number of requests
    /// [RFC 1122 § 2.3.2.2].
    AddressResolutionFailed,
    /// The next hop's pending queue overflowed and this (oldest) datagram was dropped.
    PendingQueueOverflow,
}

/// The kinds of network errors reported by ICMP [RFC 792, RFC 1122 § 3.2.2] (or by the stack
/// itself for local failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetworkErrorKind {
    /// Destination unreachable, net (code 0, also 6, 9, 11).
    NetUnreachable,
    /// Destination unreachable, host (code 1, also 7, 10, 12).
    HostUnreachable,
    /// Destination unreachable, protocol (code 2).
    ProtocolUnreachable,
    /// Destination unreachable, port (code 3).
    PortUnreachable,
    /// Fragmentation needed and DF set (code 4), with the next-hop MTU (0 if not given).
    FragmentationNeeded {
        /// The MTU of the next hop [RFC 1191 § 4].
        next_hop_mtu: u16,
    },
    /// Destination unreachable, source route failed (code 5).
    SourceRouteFailed,
    /// Any other destination unreachable code (administratively prohibited, …).
    Unreachable(u8),
    /// Time exceeded in transit (TTL, code 0).
    TtlExceeded,
    /// Fragment reassembly time exceeded (code 1).
    ReassemblyTimeExceeded,
    /// Parameter problem, with the pointer.
    ParameterProblem {
        /// The octet of the original header that was wrong.
        pointer: u8,
    },
    /// Source quench (deprecated [RFC 6633]; reported, never acted upon).
    SourceQuench,
}

/// An error about a datagram we sent: what, who said so, and the original destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NetworkError {
    /// What went wrong.
    pub kind: NetworkErrorKind,
    /// The node that reported it (the ICMP message's source).
    pub reporter: Ipv4Addr,
    /// The destination of the original datagram.
    pub destination: Ipv4Addr,
}

/// Something the application should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A UDP socket has datagrams to read with [`Stack::udp_recv_from`].
    UdpReadable(UdpHandle),
    /// An ICMP error concerns a datagram this socket sent [RFC 1122 § 4.1.3.3].
    UdpError {
        /// The socket.
        handle: UdpHandle,
        /// The error, with the original destination.
        error: NetworkError,
        /// The destination port of the original datagram.
        destination_port: u16,
    },
    /// An echo reply arrived.
    EchoReply {
        /// Who answered.
        source: Ipv4Addr,
        /// The identifier.
        identifier: u16,
        /// The sequence number.
        sequence: u16,
        /// The TTL the reply arrived with.
        ttl: u8,
        /// The echoed data.
        data: Vec<u8>,
    },
    /// An ICMP error concerns an echo request we sent.
    EchoError {
        /// The request's identifier.
        identifier: u16,
        /// The request's sequence number.
        sequence: u16,
        /// The error.
        error: NetworkError,
    },
    /// An ICMP error about a datagram no socket claims (for a protocol without sockets yet).
    IcmpError {
        /// The error.
        error: NetworkError,
        /// The protocol of the original datagram.
        protocol: IpProtocol,
    },
    /// A datagram sent by a local application could not be delivered to the next hop.
    SendFailed {
        /// Who sent it.
        origin: Origin,
        /// Its destination.
        destination: Ipv4Addr,
        /// Why.
        reason: SendFailure,
    },
    /// A TCP connection opened with [`Stack::tcp_connect`] is established.
    TcpConnected(TcpHandle),
    /// A listener has an established connection to [`Stack::tcp_accept`].
    TcpIncoming(TcpHandle),
    /// A TCP connection has data (or the end of the stream) to [`Stack::tcp_recv`].
    TcpReadable(TcpHandle),
    /// The peer's urgent pointer moved ahead of the data read on a TCP connection
    /// ([`Stack::tcp_urgent_mark`] says where it is) [RFC 9293 § 3.8.5].
    TcpUrgent(TcpHandle),
    /// A TCP connection's send buffer has room again after a short [`Stack::tcp_send`].
    TcpWritable(TcpHandle),
    /// A TCP connection reached CLOSED (the handle stays valid until
    /// [`Stack::tcp_close`]).
    TcpClosed(TcpHandle),
    /// A TCP connection failed (reset, refused, timed out, hard ICMP error); `TcpClosed`
    /// follows.
    TcpError {
        /// The connection.
        handle: TcpHandle,
        /// Why.
        error: TcpError,
    },
    /// A soft ICMP error concerns a TCP connection, which goes on [RFC 1122 § 4.2.3.9].
    TcpNetworkError {
        /// The connection.
        handle: TcpHandle,
        /// The error.
        error: NetworkError,
    },
    /// Another node claims one of our addresses (an ARP packet with our address as sender
    /// and another MAC) [RFC 5227 § 2.4].
    AddressConflict {
        /// The interface it was seen on.
        iface: InterfaceId,
        /// Our address.
        address: Ipv4Addr,
        /// The other node's MAC.
        mac: MacAddr,
    },
}

/// Errors of the application calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackError {
    /// No route to the destination (the local form of net unreachable).
    NoRoute,
    /// The interface does not exist, or has no address where one is needed.
    InvalidInterface,
    /// The stack holds its configured maximum of interfaces.
    TooManyInterfaces,
    /// The MTU is below 68 [RFC 791 § 3.2].
    MtuTooSmall,
    /// The routing table is full.
    RouteTableFull,
    /// A prefix length over 32.
    BadPrefix,
    /// The local address and port are taken.
    AddressInUse,
    /// The local address is not one of ours.
    AddressNotAvailable,
    /// The socket table is full.
    TooManySockets,
    /// Every ephemeral port is taken.
    NoFreePort,
    /// The handle names no open socket.
    InvalidHandle,
    /// The payload does not fit one datagram (or DF was asked for and it exceeds the MTU).
    MessageTooLong,
    /// The address is not a multicast group that can be joined.
    NotMulticast,
    /// The interface has joined its configured maximum of groups.
    TooManyGroups,
    /// The group was not joined on that interface.
    NotJoined,
    /// The destination is not a valid unicast, broadcast or multicast address.
    InvalidDestination,
    /// Nothing to read yet (TCP).
    WouldBlock,
    /// The connection is not (or no longer) open for this call (TCP).
    NotConnected,
    /// The connection failed (TCP).
    Tcp(TcpError),
}

impl From<RouteError> for StackError {
    fn from(e: RouteError) -> StackError {
        match e {
            RouteError::TableFull => StackError::RouteTableFull,
            RouteError::BadPrefix => StackError::BadPrefix,
        }
    }
}

/// Counters of what the stack did and dropped, for tests and diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames handed to `handle_frame`.
    pub frames_in: u64,
    /// Frames dropped at the link layer: unparseable, not for our MAC, unknown EtherType,
    /// bad interface.
    pub frames_dropped: u64,
    /// Frames queued for transmission.
    pub frames_out: u64,
    /// Frames dropped because the transmit queue was full.
    pub transmit_queue_drops: u64,
    /// Events dropped because the event queue was full.
    pub event_queue_drops: u64,
    /// ARP packets received.
    pub arp_in: u64,
    /// ARP packets ignored (not Ethernet/IPv4, bad sender).
    pub arp_dropped: u64,
    /// ARP requests sent (gratuitous included).
    pub arp_requests_out: u64,
    /// ARP replies sent.
    pub arp_replies_out: u64,
    /// Datagrams dropped from a pending queue to make room (oldest first).
    pub arp_queue_drops: u64,
    /// Datagrams dropped because resolution failed.
    pub arp_resolution_failures: u64,
    /// IPv4 datagrams received (before any check).
    pub ip_in: u64,
    /// Dropped for a malformed header or lengths.
    pub ip_header_errors: u64,
    /// Dropped for a bad header checksum.
    pub ip_checksum_errors: u64,
    /// Dropped for a martian or broadcast source, or a martian destination.
    pub ip_martians: u64,
    /// Dropped as not addressed to us while not forwarding (or not forwardable).
    pub ip_not_for_us: u64,
    /// Delivered to a local protocol.
    pub ip_delivered: u64,
    /// Forwarded.
    pub ip_forwarded: u64,
    /// Dropped with TTL expiry while forwarding.
    pub ip_ttl_expired: u64,
    /// Dropped for want of a route.
    pub ip_no_route: u64,
    /// Not forwarded back out of the interface they came in on.
    pub ip_same_interface: u64,
    /// Dropped because they carried a source route option that is not honoured.
    pub ip_source_routed: u64,
    /// Dropped because they would need fragmentation and had DF set.
    pub ip_df_drops: u64,
    /// Fragments received for local delivery.
    pub ip_fragments_in: u64,
    /// Datagrams reassembled.
    pub ip_reassembled: u64,
    /// Datagrams given up in reassembly (timeout, overlap, limits).
    pub ip_reassembly_failures: u64,
    /// Fragments created on output.
    pub ip_fragments_out: u64,
    /// Datagrams for a protocol nobody handles.
    pub ip_unknown_protocol: u64,
    /// Datagrams that went through the loopback path.
    pub ip_loopback: u64,
    /// ICMP messages received.
    pub icmp_in: u64,
    /// ICMP messages dropped (bad checksum, malformed, ignored type).
    pub icmp_dropped: u64,
    /// ICMP messages sent.
    pub icmp_out: u64,
    /// ICMP errors not sent because a rule forbids them (error about an error, broadcast,
    /// non-first fragment, martian source) [RFC 1122 § 3.2.2].
    pub icmp_errors_suppressed: u64,
    /// ICMP errors not sent because of the rate limit [RFC 1812 § 4.3.2.8].
    pub icmp_rate_limited: u64,
    /// IGMP messages received.
    pub igmp_in: u64,
    /// IGMP messages dropped (bad checksum, malformed, ignored).
    pub igmp_dropped: u64,
    /// IGMP messages sent.
    pub igmp_out: u64,
    /// UDP datagrams received.
    pub udp_in: u64,
    /// UDP datagrams dropped for a bad checksum or length.
    pub udp_errors: u64,
    /// UDP datagrams for a port with no socket.
    pub udp_no_port: u64,
    /// UDP datagrams dropped because the socket's queue was full.
    pub udp_queue_overflows: u64,
}

/// One node: interfaces, a routing table, ARP, IP, ICMP, IGMP and UDP state. See the
/// [crate documentation](crate) for the calling pattern.
#[derive(Debug)]
pub struct Stack {
    pub(crate) config: Config,
    pub(crate) rng: Rng,
    pub(crate) interfaces: Vec<Interface>,
    pub(crate) routes: RoutingTable,
    pub(crate) arp: ArpCache,
    pub(crate) reassembler: Reassembler,
    pub(crate) icmp: IcmpState,
    pub(crate) udp: UdpTable,
    pub(crate) tcp: TcpTable,
    pub(crate) next_ip_id: u16,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) loopback: VecDeque<Vec<u8>>,
    /// Frame buffers given back with [`Stack::recycle_buffer`], reused for output.
    pub(crate) frames: FramePool,
    /// Bumped whenever an interface is added or its address or MTU changes (see
    /// `RoutingTable::generation`).
    pub(crate) interfaces_generation: u64,
    /// The addresses of the last datagram the general input path delivered locally as
    /// unicast without options (see `Stack::ip_input_fast`).
    pub(crate) input_cache: Option<crate::ip::InputCache>,
    pub(crate) stats: Stats,
}

impl Stack {
    /// A stack with no interfaces. A TCP [`ack_delay`](crate::TcpConfig::ack_delay) of
    /// 500 ms or more is cut to [`MAX_ACK_DELAY`](crate::tcp::MAX_ACK_DELAY).
    pub fn new(mut config: Config) -> Stack {
        config.tcp.ack_delay = config.tcp.ack_delay.min(crate::tcp::MAX_ACK_DELAY);
        let mut rng = Rng::new(config.seed);
        let next_ip_id = rng.next_u64() as u16;
        let tcp = TcpTable::new(rng.next_u64(), rng.next_u64(), rng.next_u64());
        Stack {
            rng,
            interfaces: Vec::new(),
            routes: RoutingTable::new(config.max_routes),
            arp: ArpCache::default(),
            reassembler: Reassembler::new(config.ip.reassembly),
            icmp: IcmpState::new(&config.icmp),
            udp: UdpTable::default(),
            tcp,
            next_ip_id,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            loopback: VecDeque::new(),
            frames: FramePool::new(config.max_transmit_queue.clamp(16, 4096)),
            interfaces_generation: 0,
            input_cache: None,
            stats: Stats::default(),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Adds an interface. If it has an address, a connected route for its prefix is added and
    /// a gratuitous ARP announces the address [RFC 5227 § 3].
    pub fn add_interface(
        &mut self,
        now: Instant,
        config: InterfaceConfig,
    ) -> Result<InterfaceId, StackError> {
        if self.interfaces.len() >= self.config.max_interfaces {
            return Err(StackError::TooManyInterfaces);
        }
        if config.mtu < MIN_MTU {
            return Err(StackError::MtuTooSmall);
        }
        let id = InterfaceId(self.interfaces.len());
        self.interfaces_generation += 1;
        self.interfaces.push(Interface {
            mac: config.mac,
            mtu: config.mtu,
            address: None,
            igmp: IgmpInterface::new(&self.config.igmp),
        });
        if let Some(cidr) = config.address {
            if let Err(e) = self.set_address(now, id, cidr) {
                self.interfaces.pop();
                return Err(e);
            }
        }
        Ok(id)
    }

    /// Sets (or replaces) an interface's address: the connected route follows it, and a
    /// gratuitous ARP announces it.
    pub fn set_address(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        cidr: Ipv4Cidr,
    ) -> Result<(), StackError> {
        if cidr.prefix_len > 32 {
            return Err(StackError::BadPrefix);
        }
        if self.interfaces.get(iface.0).is_none() {
            return Err(StackError::InvalidInterface);
        }
        self.routes
            .remove_where(|r| r.iface == iface && r.kind == RouteKind::Connected);
        self.routes.add(Route {
            kind: RouteKind::Connected,
            ..Route::direct(cidr.network(), cidr.prefix_len, iface)
        })?;
        if let Some(i) = self.interfaces.get_mut(iface.0) {
            i.address = Some(cidr);
        }
        self.interfaces_generation += 1;
        self.arp_announce(now, iface);
        Ok(())
    }

    /// An interface's MAC address.
    pub fn mac(&self, iface: InterfaceId) -> Option<MacAddr> {
        self.interfaces.get(iface.0).map(|i| i.mac)
    }

    /// An interface's address.
    pub fn address(&self, iface: InterfaceId) -> Option<Ipv4Cidr> {
        self.interfaces.get(iface.0).and_then(|i| i.address)
    }

    /// An interface's MTU.
    pub fn mtu(&self, iface: InterfaceId) -> Option<u16> {
        self.interfaces.get(iface.0).map(|i| i.mtu)
    }

    /// Changes an interface's MTU (at least 68).
    pub fn set_mtu(&mut self, iface: InterfaceId, mtu: u16) -> Result<(), StackError> {
        if mtu < MIN_MTU {
            return Err(StackError::MtuTooSmall);
        }
        let i = self
            .interfaces
            .get_mut(iface.0)
            .ok_or(StackError::InvalidInterface)?;
        let lowered = mtu < i.mtu;
        i.mtu = mtu;
        self.interfaces_generation += 1;
        if lowered {
            self.tcp_interface_mtu_lowered(iface, mtu);
        }
        Ok(())
    }

    /// The interfaces.
    pub fn interfaces(&self) -> impl Iterator<Item = InterfaceId> {
        (0..self.interfaces.len()).map(InterfaceId)
    }

    /// Adds a route (the interface must exist).
    pub fn add_route(&mut self, route: Route) -> Result<(), StackError> {
        if self.interfaces.get(route.iface.0).is_none() {
            return Err(StackError::InvalidInterface);
        }
        Ok(self.routes.add(route)?)
    }

    /// Removes the routes for a prefix; returns how many were removed.
    pub fn remove_route(&mut self, destination: Ipv4Addr, prefix_len: u8) -> usize {
        self.routes.remove(destination, prefix_len)
    }

    /// The routing table.
    pub fn routes(&self) -> &RoutingTable {
        &self.routes
    }

    /// A frame arrived on `iface`. Never panics, whatever the bytes.
    ///
    /// Dispatch: ARP to [`arp`](crate::arp); IPv4 to the IP layer, which checks, reassembles,
    /// forwards or delivers by protocol — ICMP, IGMP, UDP, and TCP to
    /// [`tcp`](crate::tcp) (a segment for no connection or listener draws a reset, RFC 9293
    /// § 3.10.7.1); a unicast datagram of any other protocol is answered with ICMP protocol
    /// unreachable [RFC 1122 § 3.2.2.1]. Other EtherTypes are dropped.
    pub fn handle_frame(&mut self, now: Instant, iface: InterfaceId, frame: &[u8]) {
        self.stats.frames_in += 1;
        let Some(ifc) = self.interfaces.get(iface.0) else {
            self.stats.frames_dropped += 1;
            return;
        };
        // The common case first: an untagged IPv4 frame from a unicast source to our own
        // unicast address, what the general dispatch below would take to the IP layer the
        // same way.
        if let Some((&[d0, d1, d2, d3, d4, d5, s0, _, _, _, _, _, t0, t1], payload)) =
            frame.split_first_chunk::<{ EthernetHeader::MIN_LEN }>()
        {
            if EtherType(u16::from_be_bytes([t0, t1])) == EtherType::IPV4
                && MacAddr([d0, d1, d2, d3, d4, d5]) == ifc.mac
                && !ifc.mac.is_multicast()
                && s0 & 1 == 0
            {
                self.ip_input(now, iface, false, payload);
                self.drain_loopback(now);
                return;
            }
        }
        let Ok((eth, payload)) = EthernetHeader::parse(frame) else {
            self.stats.frames_dropped += 1;
            return;
        };
        if !eth.vlan.is_empty() {
            // VLANs are not modelled: a tagged frame belongs to another (virtual) link.
            self.stats.frames_dropped += 1;
            return;
        }
        let dst = eth.destination;
        let link_multicast = dst.is_multicast(); // broadcast included
        let for_us = dst == ifc.mac
            || dst.is_broadcast()
            || (dst.is_multicast() && ifc.igmp.accepts_mac(dst));
        if !for_us || eth.source.is_multicast() {
            self.stats.frames_dropped += 1;
            return;
        }
        match eth.ether_type {
            EtherType::ARP => self.arp_input(now, iface, payload),
            EtherType::IPV4 => self.ip_input(now, iface, link_multicast, payload),
            _ => self.stats.frames_dropped += 1,
        }
        self.drain_loopback(now);
    }

    /// Processes every deadline up to `now`: ARP retries and give-ups, reassembly timeouts,
    /// IGMP report timers, TCP timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.tcp.has_acks_due() {
            self.tcp_send_due_acks();
        }
        self.arp_timeout(now);
        self.reassembly_timeout(now);
        self.igmp_timeout(now);
        self.tcp_timeout(now);
        self.drain_loopback(now);
        // Segments delivered over loopback just now may have listed ACKs for the end of the
        // batch, or set TCP timers due at `now`; handle them too, so that no deadline at
        // `now` is left behind. This settles in a round or two (pure ACKs draw no ACKs); the
        // bound only guards against a loop.
        for _ in 0..8 {
            let timer_due = self.tcp_next_deadline().is_some_and(|t| t <= now);
            if !self.tcp.has_acks_due() && !timer_due {
                break;
            }
            if self.tcp.has_acks_due() {
                self.tcp_send_due_acks();
            }
            self.tcp_timeout(now);
            self.drain_loopback(now);
        }
    }

    /// The earliest deadline at which [`handle_timeout`](Stack::handle_timeout) has work to
    /// do, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.arp_next_deadline(),
            self.reassembler.next_deadline(),
            self.igmp_next_deadline(),
            self.tcp_next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next frame to send.
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.tcp.has_acks_due() {
            self.tcp_send_due_acks();
        }
        self.transmits.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Checks that every table and queue is within its configured limit; panics otherwise.
    /// For tests and fuzzing.
    #[doc(hidden)]
    pub fn check_invariants(&self) {
        assert!(self.interfaces.len() <= self.config.max_interfaces);
        assert!(self.routes.len() <= self.config.max_routes);
        assert!(self.transmits.len() <= self.config.max_transmit_queue);
        assert!(self.events.len() <= self.config.max_events);
        assert!(self.loopback.len() <= self.config.max_loopback);
        self.arp.check_invariants(&self.config.arp);
        self.reassembler.check_invariants();
        self.udp.check_invariants(&self.config.udp);
        self.tcp.check_invariants(&self.config.tcp);
        for i in &self.interfaces {
            i.igmp.check_invariants(&self.config.igmp);
        }
    }

    pub(crate) fn interface(&self, iface: InterfaceId) -> Option<&Interface> {
        self.interfaces.get(iface.0)
    }

    /// Whether `addr` is one of our interface addresses; which interface.
    pub(crate) fn local_iface_of(&self, addr: Ipv4Addr) -> Option<InterfaceId> {
        self.interfaces
            .iter()
            .position(|i| i.addr() == Some(addr))
            .map(InterfaceId)
    }

    /// Whether `addr` is a broadcast address of any of our interfaces.
    pub(crate) fn is_any_broadcast(&self, addr: Ipv4Addr) -> bool {
        addr == Ipv4Addr::BROADCAST || self.interfaces.iter().any(|i| i.is_broadcast(addr))
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        if self.events.len() >= self.config.max_events {
            self.stats.event_queue_drops += 1;
        } else {
            self.events.push_back(event);
        }
    }

    /// Queues an Ethernet frame with our MAC as source, padded to 60 octets.
    pub(crate) fn send_frame(
        &mut self,
        iface: InterfaceId,
        destination: MacAddr,
        ether_type: EtherType,
        payload: &[u8],
    ) {
        let Some(ifc) = self.interfaces.get(iface.0) else {
            return;
        };
        if self.transmits.len() >= self.config.max_transmit_queue {
            self.stats.transmit_queue_drops += 1;
            return;
        }
        let header = EthernetHeader::new(destination, ifc.mac, ether_type);
        let mut head = [0u8; EthernetHeader::MIN_LEN];
        if header.emit(&mut head).is_err() {
            return;
        }
        let mut bytes = self.frames.take();
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(payload);
        if bytes.len() < 60 {
            bytes.resize(60, 0);
        }
        self.queue_frame(iface, bytes);
    }

    pub(crate) fn next_ip_id(&mut self) -> u16 {
        let id = self.next_ip_id;
        self.next_ip_id = id.wrapping_add(1);
        id
    }
}
