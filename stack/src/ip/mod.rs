//! IPv4: input checks, local delivery versus forwarding, reassembly, the protocol dispatch
//! (TCP included), forwarding with TTL, options and ICMP errors, and output with
//! route selection and fragmentation [RFC 791; RFC 1122 § 3.2.1, § 3.3; RFC 1812 § 4, § 5].

pub(crate) mod fragment_glue;
pub(crate) mod frame;
pub(crate) mod options;
pub mod route;

use core::net::Ipv4Addr;

use wirecheck_codec::checksum;
use wirecheck_codec::ethernet::{EtherType, MacAddr};
use wirecheck_codec::ipv4::{self, IpProtocol, Ipv4Header, Ipv4Options};
use wirecheck_codec::time::Instant;

pub use fragment_glue::ReassemblyConfig;

use crate::icmp::ErrorToSend;
use crate::iface::{is_martian_destination, is_martian_source, InterfaceId};
use crate::stack::{Origin, Stack, StackError};
use fragment_glue::{FragmentError, Push};
use options::ReturnRoute;

/// IP layer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpConfig {
    /// Forward datagrams not addressed to us (a router) [RFC 1812]. Off: a host, which
    /// silently discards them [RFC 1122 § 3.3.4.2].
    pub forwarding: bool,
    /// TTL of datagrams we originate (64, as most systems; RFC 1700 recommended value).
    pub default_ttl: u8,
    /// TTL of multicast datagrams a socket sends unless it chose one: 1, so that an explicit
    /// choice is needed to multicast beyond the local network [RFC 1112 § 6.1].
    pub default_multicast_ttl: u8,
    /// Off (default): a datagram is never forwarded back out of the interface it arrived on
    /// [RFC 1180 § 5.3]. On: it is, and the source is sent an ICMP redirect when it is on that
    /// link [RFC 1812 § 5.2.7.2, § 4.3.3.2].
    pub forward_same_interface: bool,
    /// Act as an intermediate hop of source routes, loose and strict (with `forwarding` on)
    /// [RFC 1122 § 3.3.5; RFC 1812 § 5.2.4.1]. Off (default): a datagram whose source route
    /// still has hops to visit is dropped, as Linux does with `accept_source_route = 0`; RFC
    /// 1122 § 3.3.5 requires a host's switch to default to disabled. (RFC 1812 § 5.3.13.4
    /// wants a router to forward them by default; [`Config::router`](crate::Config::router)
    /// leaves the switch off, as Linux does.)
    ///
    /// Either way, a datagram addressed to us whose source route is complete is accepted —
    /// we are its final destination, which a host MUST be able to be [RFC 1122 § 3.2.1.8
    /// (c)] — and the replies to it take the reversed route: ICMP echo and timestamp replies
    /// [§ 3.2.2.6, § 3.2.2.8] and every segment of a TCP connection it opens passively
    /// [§ 4.2.3.8; RFC 9293 MUST-53].
    pub accept_source_route: bool,
    /// Hosts: learn host routes from ICMP redirects sent by the current gateway
    /// [RFC 1122 § 3.2.2.2].
    pub accept_redirects: bool,
    /// Reassembly limits.
    pub reassembly: ReassemblyConfig,
}

impl Default for IpConfig {
    fn default() -> IpConfig {
        IpConfig {
            forwarding: false,
            default_ttl: 64,
            default_multicast_ttl: 1,
            forward_same_interface: false,
            accept_source_route: false,
            accept_redirects: true,
            reassembly: ReassemblyConfig::default(),
        }
    }
}

/// How a datagram addressed to us was addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// One of our unicast addresses.
    Unicast,
    /// Limited or directed broadcast.
    Broadcast,
    /// A multicast group we belong to on the arrival interface.
    Multicast,
}

impl Destination {
    pub(crate) fn is_unicast(self) -> bool {
        self == Destination::Unicast
    }
}

/// Where a locally originated datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RouteDecision {
    pub(crate) destination: Ipv4Addr,
    pub(crate) iface: InterfaceId,
    pub(crate) next_hop: Ipv4Addr,
    /// The source address to use unless the sender is bound to one.
    pub(crate) source: Ipv4Addr,
    /// The destination is this node: the datagram takes the loopback path.
    pub(crate) local: bool,
}

/// A datagram the general input path found addressed to us as unicast, from a source it
/// accepted, arriving on `iface` while the interfaces were at `generation`: the checks on
/// the addresses (martian source or destination, broadcast source, our own address as the
/// source, which interface owns the destination) depend on nothing else, so a later
/// datagram with the same addresses on the same interface passes them too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputCache {
    iface: InterfaceId,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    generation: u64,
}

/// What a locally originated datagram carries besides its payload.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SendParams<'a> {
    pub(crate) source: Ipv4Addr,
    pub(crate) protocol: IpProtocol,
    pub(crate) ttl: u8,
    pub(crate) dont_fragment: bool,
    pub(crate) options: &'a [u8],
    pub(crate) origin: Origin,
}

impl Stack {
    /// Receives an IPv4 datagram from the link.
    pub(crate) fn ip_input(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        link_multicast: bool,
        bytes: &[u8],
    ) {
        if self.ip_input_fast(now, iface, link_multicast, bytes) {
            return;
        }
        self.stats.ip_in += 1;
        let Ok((header, _, option_error)) = Ipv4Header::parse_header_lax(bytes) else {
            self.stats.ip_header_errors += 1;
            return;
        };
        let header_len = header.header_len();
        // The sum over a header with a correct checksum is all ones [RFC 1071 § 1].
        if bytes.get(..header_len).map(frame::sum) != Some(0xffff) {
            self.stats.ip_checksum_errors += 1;
            return;
        }
        let total = usize::from(header.total_length);
        let Some(datagram) = bytes.get(..total).filter(|_| total >= header_len) else {
            self.stats.ip_header_errors += 1;
            return;
        };
        if is_martian_source(header.source)
            || self.is_any_broadcast(header.source)
            || is_martian_destination(header.destination)
            // Our own address as the source of a datagram from the wire is spoofed (our own
            // datagrams to ourselves take the loopback path): a router must not forward it.
            || self.local_iface_of(header.source).is_some()
        {
            // [RFC 1122 § 3.2.1.3; RFC 1812 § 5.3.7]: silently discarded.
            self.stats.ip_martians += 1;
            return;
        }
        let Some(ifc) = self.interface(iface) else {
            return;
        };
        let dst = header.destination;
        let class = if self.local_iface_of(dst).is_some() {
            Some(Destination::Unicast)
        } else if ifc.is_broadcast(dst) {
            Some(Destination::Broadcast)
        } else if dst.is_multicast() {
            if ifc.igmp.is_member(dst) {
                Some(Destination::Multicast)
            } else {
                // No multicast routing: a group we do not belong to is not ours.
                self.stats.ip_not_for_us += 1;
                return;
            }
        } else {
            None
        };
        if let Some(e) = option_error {
            self.stats.ip_header_errors += 1;
            if let Some(pointer) = e.pointer {
                self.icmp_send_error(
                    now,
                    datagram,
                    link_multicast,
                    ErrorToSend::ParameterProblem(pointer),
                );
            }
            return;
        }
        if let Some((_, _, len, ptr)) = options::source_route(header.options.as_bytes()) {
            // A completed route addressed to us has arrived: we are its final destination,
            // which a host MUST be able to be [RFC 1122 § 3.2.1.8 (c); RFC 1812 § 4.2.2.1
            // (c)]. Only acting as a hop of a source route is subject to the switch.
            let final_destination =
                class == Some(Destination::Unicast) && options::route_completed(len, ptr);
            if !final_destination && !self.config.ip.accept_source_route {
                self.stats.ip_source_routed += 1;
                return;
            }
        }
        match class {
            Some(class) if class.is_unicast() && link_multicast => {
                // Our unicast address in a link-layer broadcast or multicast: somebody's
                // mistake or a trick; dropped [RFC 1122 § 3.3.6].
                self.stats.ip_not_for_us += 1;
            }
            Some(class) => {
                if class.is_unicast() && header_len == ipv4::MIN_HEADER_LEN {
                    self.input_cache = Some(InputCache {
                        iface,
                        source: header.source,
                        destination: dst,
                        generation: self.interfaces_generation,
                    });
                }
                self.ip_local(now, iface, class, link_multicast, &header, datagram)
            }
            None if self.is_any_broadcast(dst) || link_multicast => {
                // A directed broadcast for another of our networks, or a unicast datagram in
                // a link-layer broadcast: never forwarded [RFC 1812 § 5.3.4, § 5.3.5.2].
                self.stats.ip_not_for_us += 1;
            }
            None if self.config.ip.forwarding => {
                self.ip_forward(now, iface, link_multicast, datagram.to_vec());
            }
            None => self.stats.ip_not_for_us += 1,
        }
    }

    /// The input fast path (header prediction at the IP layer): a TCP segment in an unfragmented
    /// datagram without options, between the addresses of [`InputCache`] on its interface,
    /// for an existing connection, with both checksums right, goes straight to the connection
    /// — exactly where the general path would take it, with the same counters, but without
    /// parsing the header into a structure and classifying its addresses again. Anything else
    /// (and any segment the fast path cannot finish) returns false, having changed nothing,
    /// and takes the general path.
    fn ip_input_fast(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        link_multicast: bool,
        bytes: &[u8],
    ) -> bool {
        let Some(cache) = self.input_cache else {
            return false;
        };
        let Some(fixed) = bytes.first_chunk::<{ ipv4::MIN_HEADER_LEN }>() else {
            return false;
        };
        let [vi, _, l0, l1, _, _, f0, f1, _, protocol, _, _, s0, s1, s2, s3, d0, d1, d2, d3] =
            *fixed;
        // Version 4 with no options; neither more fragments nor an offset; TCP.
        if vi != 0x45 || f0 & 0x3f != 0 || f1 != 0 || protocol != IpProtocol::TCP.0 {
            return false;
        }
        let source = Ipv4Addr::new(s0, s1, s2, s3);
        let destination = Ipv4Addr::new(d0, d1, d2, d3);
        if link_multicast
            || cache.source != source
            || cache.destination != destination
            || cache.iface != iface
            || cache.generation != self.interfaces_generation
        {
            return false;
        }
        let total = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(datagram) = bytes.get(..total) else {
            return false;
        };
        let Some(segment) = datagram.get(ipv4::MIN_HEADER_LEN..) else {
            return false;
        };
        // The sum over a header with a correct checksum is all ones [RFC 1071 § 1].
        if !frame::header_sums_to_ones(fixed) {
            return false;
        }
        self.tcp_input_fast(now, source, destination, segment)
    }

    /// A datagram addressed to us: follow its source route, reassemble it, deliver it.
    fn ip_local(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        link_multicast: bool,
        header: &Ipv4Header<'_>,
        datagram: &[u8],
    ) {
        if class.is_unicast() && self.ip_follow_source_route(now, iface, link_multicast, datagram) {
            return;
        }
        if header.is_fragment() {
            self.stats.ip_fragments_in += 1;
            match self.reassembler.push(now, header, datagram) {
                Push::Incomplete => {}
                Push::Discarded => self.stats.ip_reassembly_failures += 1,
                Push::Complete(whole) => {
                    self.stats.ip_reassembled += 1;
                    self.ip_deliver(now, iface, class, link_multicast, &whole);
                }
            }
            return;
        }
        let payload = datagram.get(header.header_len()..).unwrap_or_default();
        self.ip_deliver_parsed(now, iface, class, link_multicast, header, datagram, payload);
    }

    /// Hands a whole datagram to its protocol.
    pub(crate) fn ip_deliver(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        link_multicast: bool,
        datagram: &[u8],
    ) {
        let Ok((header, payload)) = Ipv4Header::parse(datagram) else {
            self.stats.ip_header_errors += 1;
            return;
        };
        self.ip_deliver_parsed(
            now,
            iface,
            class,
            link_multicast,
            &header,
            datagram,
            payload,
        );
    }

    /// Hands a whole datagram, its header already parsed (once, on input), to its protocol.
    #[allow(clippy::too_many_arguments)]
    fn ip_deliver_parsed(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        link_multicast: bool,
        header: &Ipv4Header<'_>,
        datagram: &[u8],
        payload: &[u8],
    ) {
        self.stats.ip_delivered += 1;
        match header.protocol {
            IpProtocol::ICMP => self.icmp_input(now, iface, class, header, payload),
            IpProtocol::IGMP => self.igmp_input(now, iface, header, payload),
            IpProtocol::UDP => {
                self.udp_input(now, iface, class, link_multicast, header, datagram, payload)
            }
            IpProtocol::TCP if self.tcp_input(now, iface, class, header, datagram, payload) => {}
            _ => {
                self.stats.ip_unknown_protocol += 1;
                if class.is_unicast() {
                    self.icmp_send_error(
                        now,
                        datagram,
                        link_multicast,
                        ErrorToSend::ProtocolUnreachable,
                    );
                }
            }
        }
    }

    /// Reassembly timeouts: ICMP time exceeded (reassembly) for each datagram whose first
    /// fragment had arrived [RFC 1122 § 3.3.2, RFC 792].
    pub(crate) fn reassembly_timeout(&mut self, now: Instant) {
        for first in self.reassembler.poll_expired(now) {
            self.stats.ip_reassembly_failures += 1;
            if let Some(first) = first {
                self.icmp_send_error(now, &first, false, ErrorToSend::ReassemblyTimeExceeded);
            }
        }
    }

    /// Forwards a datagram not addressed to us [RFC 1812 § 5.2, § 5.3].
    pub(crate) fn ip_forward(
        &mut self,
        now: Instant,
        in_iface: InterfaceId,
        link_multicast: bool,
        mut datagram: Vec<u8>,
    ) {
        let Ok((header, _)) = Ipv4Header::parse(&datagram) else {
            return;
        };
        let header_len = header.header_len();
        let dst = header.destination;
        let src = header.source;
        let ttl = header.ttl;
        let dont_fragment = header.dont_fragment;
        if ttl <= 1 {
            self.stats.ip_ttl_expired += 1;
            self.icmp_send_error(now, &datagram, link_multicast, ErrorToSend::TtlExceeded);
            return;
        }
        let Some(route) = self.routes.lookup(dst).copied() else {
            self.stats.ip_no_route += 1;
            self.icmp_send_error(now, &datagram, link_multicast, ErrorToSend::NetUnreachable);
            return;
        };
        let next_hop = route.next_hop(dst);
        let Some(out) = self.interface(route.iface) else {
            return;
        };
        let out_mtu = usize::from(out.mtu);
        let Some(out_addr) = out.addr() else {
            self.stats.ip_no_route += 1;
            return;
        };
        if route.iface == in_iface {
            if !self.config.ip.forward_same_interface {
                self.stats.ip_same_interface += 1;
                return;
            }
            // RFC 1812 § 5.2.7.2: tell an on-link source about the better first hop.
            let source_on_link = self
                .interface(in_iface)
                .and_then(|i| i.address)
                .is_some_and(|c| c.contains(src) && c.contains(next_hop));
            if source_on_link {
                self.icmp_send_error(
                    now,
                    &datagram,
                    link_multicast,
                    ErrorToSend::RedirectHost(next_hop),
                );
            }
        }
        // TTL - 1 with the incremental checksum update of RFC 1624 (RFC 1812 § 5.3.1).
        let protocol = header.protocol.0;
        let old_word = u16::from_be_bytes([ttl, protocol]);
        let new_word = u16::from_be_bytes([ttl - 1, protocol]);
        let old_sum = u16::from_be_bytes([
            datagram.get(10).copied().unwrap_or(0),
            datagram.get(11).copied().unwrap_or(0),
        ]);
        let new_sum = checksum::update_u16(old_sum, old_word, new_word);
        if let Some(t) = datagram.get_mut(ipv4::TTL) {
            *t = ttl - 1;
        }
        if let Some(c) = datagram.get_mut(ipv4::CHECKSUM) {
            c.copy_from_slice(&new_sum.to_be_bytes());
        }
        if header_len > ipv4::MIN_HEADER_LEN {
            let ours: Vec<Ipv4Addr> = self.interfaces.iter().filter_map(|i| i.addr()).collect();
            let stamped = match datagram.get_mut(ipv4::OPTIONS..header_len) {
                Some(opts) => options::stamp_for_forwarding(opts, out_addr, &ours, now),
                None => Ok(false),
            };
            match stamped {
                Ok(false) => {}
                Ok(true) => rewrite_header_checksum(&mut datagram, header_len),
                Err(pointer) => {
                    self.stats.ip_header_errors += 1;
                    self.icmp_send_error(
                        now,
                        &datagram,
                        link_multicast,
                        ErrorToSend::ParameterProblem(pointer),
                    );
                    return;
                }
            }
        }
        if datagram.len() > out_mtu && dont_fragment {
            self.stats.ip_df_drops += 1;
            self.icmp_send_error(
                now,
                &datagram,
                link_multicast,
                ErrorToSend::FragmentationNeeded(out_mtu as u16),
            );
            return;
        }
        self.stats.ip_forwarded += 1;
        let _ = self.ip_transmit(now, route.iface, next_hop, datagram, Origin::Forwarded);
    }

    /// With source routing enabled: if the datagram's source route has hops left, advance it
    /// (record our address, take the next as destination) and forward it. True if the
    /// datagram was consumed [RFC 791 § 3.1, RFC 1812 § 5.2.4].
    fn ip_follow_source_route(
        &mut self,
        now: Instant,
        in_iface: InterfaceId,
        link_multicast: bool,
        datagram: &[u8],
    ) -> bool {
        let header_len = usize::from(datagram.first().copied().unwrap_or(0) & 0x0f) * 4;
        let Some(opts) = datagram.get(ipv4::OPTIONS..header_len) else {
            return false;
        };
        let Some((at, strict, len, ptr)) = options::source_route(opts) else {
            return false;
        };
        if ptr + 3 > len {
            return false; // route complete: we are the final destination
        }
        if !self.config.ip.forwarding {
            return true; // a host does not act as a hop (and drops it)
        }
        let slot = ipv4::OPTIONS + at + ptr - 1;
        let Some(&[a, b, c, d]) = datagram.get(slot..slot + 4) else {
            return true;
        };
        let next = Ipv4Addr::new(a, b, c, d);
        let route = self.routes.lookup(next).copied();
        let out_addr = route
            .and_then(|r| self.interface(r.iface))
            .and_then(|i| i.addr());
        let (Some(route), Some(out_addr)) = (route, out_addr) else {
            self.icmp_send_error(
                now,
                datagram,
                link_multicast,
                ErrorToSend::SourceRouteFailed,
            );
            return true;
        };
        if strict && route.gateway.is_some() {
            self.icmp_send_error(
                now,
                datagram,
                link_multicast,
                ErrorToSend::SourceRouteFailed,
            );
            return true;
        }
        let mut rewritten = datagram.to_vec();
        if let Some(s) = rewritten.get_mut(slot..slot + 4) {
            s.copy_from_slice(&out_addr.octets());
        }
        if let Some(p) = rewritten.get_mut(ipv4::OPTIONS + at + 2) {
            *p = (ptr + 4) as u8;
        }
        if let Some(dst) = rewritten.get_mut(ipv4::DESTINATION) {
            dst.copy_from_slice(&next.octets());
        }
        rewrite_header_checksum(&mut rewritten, header_len);
        self.ip_forward(now, in_iface, link_multicast, rewritten);
        true
    }

    /// The return route of a datagram addressed to us that arrived with a completed source
    /// route (see [`ReturnRoute::reverse`]), unless its first hop is a broadcast address of
    /// ours or one of our own: replies then go straight to the source.
    pub(crate) fn return_route(&self, header: &Ipv4Header<'_>) -> Option<ReturnRoute> {
        ReturnRoute::reverse(header.options.as_bytes(), header.source).filter(|r| {
            !self.is_any_broadcast(r.first_hop()) && self.local_iface_of(r.first_hop()).is_none()
        })
    }

    /// Chooses interface, next hop and source address for a datagram we originate.
    /// `iface` forces the interface (for multicast and limited broadcast, and IGMP).
    pub(crate) fn route_output(
        &self,
        destination: Ipv4Addr,
        iface: Option<InterfaceId>,
    ) -> Result<RouteDecision, StackError> {
        let first_with_address = || {
            self.interfaces
                .iter()
                .position(|i| i.address.is_some())
                .map(InterfaceId)
        };
        let source_of = |id: InterfaceId| {
            self.interface(id)
                .and_then(|i| i.addr())
                .ok_or(StackError::InvalidInterface)
        };
        if let Some(id) = iface {
            if self.interface(id).is_none() {
                return Err(StackError::InvalidInterface);
            }
        }
        if destination.is_unspecified() {
            return Err(StackError::InvalidDestination);
        }
        if let Some(own) = self.local_iface_of(destination) {
            return Ok(RouteDecision {
                destination,
                iface: own,
                next_hop: destination,
                source: destination,
                local: true,
            });
        }
        if destination.is_loopback() {
            let id = first_with_address().unwrap_or(InterfaceId(0));
            return Ok(RouteDecision {
                destination,
                iface: id,
                next_hop: destination,
                source: Ipv4Addr::LOCALHOST,
                local: true,
            });
        }
        if is_martian_destination(destination) {
            return Err(StackError::InvalidDestination);
        }
        if destination.is_broadcast() || destination.is_multicast() {
            let id = iface
                .or_else(|| {
                    (!destination.is_broadcast())
                        .then(|| self.routes.lookup(destination).map(|r| r.iface))
                        .flatten()
                })
                .or_else(first_with_address)
                .ok_or(StackError::NoRoute)?;
            return Ok(RouteDecision {
                destination,
                iface: id,
                next_hop: destination,
                source: source_of(id)?,
                local: false,
            });
        }
        // A forced interface with the destination on its link: direct.
        if let Some(id) = iface {
            if self
                .interface(id)
                .and_then(|i| i.address)
                .is_some_and(|c| c.contains(destination))
            {
                return Ok(RouteDecision {
                    destination,
                    iface: id,
                    next_hop: destination,
                    source: source_of(id)?,
                    local: false,
                });
            }
        }
        let route = self.routes.lookup(destination).ok_or(StackError::NoRoute)?;
        Ok(RouteDecision {
            destination,
            iface: route.iface,
            next_hop: route.next_hop(destination),
            source: source_of(route.iface)?,
            local: false,
        })
    }

    /// Builds and sends a datagram we originate; fragments it if it exceeds the MTU.
    pub(crate) fn ip_send(
        &mut self,
        now: Instant,
        route: &RouteDecision,
        params: SendParams<'_>,
        payload: &[u8],
    ) -> Result<(), StackError> {
        let mut header = Ipv4Header::new(params.source, route.destination, params.protocol);
        header.ttl = params.ttl;
        header.dont_fragment = params.dont_fragment;
        header.options = Ipv4Options::raw(params.options);
        header.identification = self.next_ip_id();
        let total = header.len() + payload.len();
        if total > usize::from(u16::MAX) {
            return Err(StackError::MessageTooLong);
        }
        let mut datagram = vec![0u8; total];
        let n = header
            .emit(payload.len(), &mut datagram)
            .map_err(|_| StackError::MessageTooLong)?;
        if let Some(dst) = datagram.get_mut(n..) {
            dst.copy_from_slice(payload);
        }
        if route.local {
            if self.loopback.len() >= self.config.max_loopback {
                return Ok(()); // dropped like a full device queue
            }
            self.stats.ip_loopback += 1;
            self.loopback.push_back(datagram);
            return Ok(());
        }
        self.ip_transmit(now, route.iface, route.next_hop, datagram, params.origin)
    }

    /// Sends a whole datagram to `next_hop` on `iface`, fragmenting it for the link.
    pub(crate) fn ip_transmit(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        next_hop: Ipv4Addr,
        datagram: Vec<u8>,
        origin: Origin,
    ) -> Result<(), StackError> {
        let Some(mtu) = self.interface(iface).map(|i| i.mtu) else {
            return Err(StackError::InvalidInterface);
        };
        if datagram.len() <= usize::from(mtu) {
            self.link_output(now, iface, next_hop, datagram, origin);
            return Ok(());
        }
        match fragment_glue::fragment(&datagram, mtu) {
            Ok(pieces) => {
                self.stats.ip_fragments_out += pieces.len() as u64;
                for piece in pieces {
                    self.link_output(now, iface, next_hop, piece, origin);
                }
                Ok(())
            }
            Err(FragmentError::DontFragment) | Err(FragmentError::Unfragmentable) => {
                Err(StackError::MessageTooLong)
            }
        }
    }

    /// Maps the next hop to a MAC address — broadcast, multicast mapping [RFC 1112 § 6.4], or
    /// ARP — and sends.
    fn link_output(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        next_hop: Ipv4Addr,
        datagram: Vec<u8>,
        origin: Origin,
    ) {
        let Some(ifc) = self.interface(iface) else {
            return;
        };
        if ifc.is_broadcast(next_hop) {
            self.send_frame(iface, MacAddr::BROADCAST, EtherType::IPV4, &datagram);
        } else if next_hop.is_multicast() {
            let mac = MacAddr::from_ipv4_multicast(next_hop);
            self.send_frame(iface, mac, EtherType::IPV4, &datagram);
        } else {
            self.arp_resolve_and_send(now, iface, next_hop, datagram, origin);
        }
    }

    /// Delivers the datagrams the stack sent to itself.
    #[inline]
    pub(crate) fn drain_loopback(&mut self, now: Instant) {
        // Most calls find nothing to do: they cost a test, not a call.
        if !self.loopback.is_empty() {
            self.drain_loopback_queue(now);
        }
    }

    /// [`drain_loopback`](Stack::drain_loopback) with something queued.
    #[inline(never)]
    fn drain_loopback_queue(&mut self, now: Instant) {
        // Bounded: each pass handles at most the queue's limit, so a reply loop cannot spin.
        for _ in 0..self.config.max_loopback {
            let Some(datagram) = self.loopback.pop_front() else {
                break;
            };
            let dst = crate::arp::destination_of(&datagram);
            let iface = self.local_iface_of(dst).unwrap_or(InterfaceId(0));
            self.ip_deliver(now, iface, Destination::Unicast, false, &datagram);
        }
    }
}

/// Recomputes the header checksum of a datagram in place.
pub(crate) fn rewrite_header_checksum(datagram: &mut [u8], header_len: usize) {
    if let Some(c) = datagram.get_mut(ipv4::CHECKSUM) {
        c.fill(0);
    }
    let sum = datagram
        .get(..header_len)
        .map_or(0, checksum::internet_checksum);
    if let Some(c) = datagram.get_mut(ipv4::CHECKSUM) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::Config;

    const IF0: InterfaceId = InterfaceId(0);

    fn echo_frame(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, options: &[u8]) -> Vec<u8> {
        ipv4_frame(
            HOST_MAC,
            PEER_MAC,
            src,
            dst,
            IpProtocol::ICMP,
            ttl,
            options,
            &icmp_echo_request(1, 1, b"q"),
        )
    }

    fn answered(s: &mut Stack, frame: &[u8]) -> usize {
        s.handle_frame(Instant::ZERO, IF0, frame);
        sent(s).len()
    }

    #[test]
    fn echo_is_answered_from_the_address_it_was_sent_to() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        s.handle_frame(Instant::ZERO, IF0, &echo_frame(PEER, HOST, 64, &[]));
        let out = sent(&mut s);
        let [Decoded::Ipv4 {
            source,
            destination,
            eth_destination,
            payload,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(
            (*source, *destination, *eth_destination),
            (HOST, PEER, PEER_MAC)
        );
        assert_eq!(payload[0], 0, "echo reply");
    }

    #[test]
    fn input_checks_drop_silently() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        // Bad header checksum.
        let mut f = echo_frame(PEER, HOST, 64, &[]);
        f[14 + 10] ^= 0xff;
        assert_eq!(answered(&mut s, &f), 0);
        assert_eq!(s.stats().ip_checksum_errors, 1);
        // Version 6 in an IPv4 frame.
        let mut f = echo_frame(PEER, HOST, 64, &[]);
        f[14] = 0x65;
        assert_eq!(answered(&mut s, &f), 0);
        // Total length past the frame.
        let mut f = echo_frame(PEER, HOST, 64, &[]);
        f[14 + 2] = 0x10;
        rewrite_header_checksum(&mut f[14..], 20);
        assert_eq!(answered(&mut s, &f), 0);
        assert_eq!(s.stats().ip_header_errors, 2);
        // Martian and broadcast sources.
        for src in [
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(0, 1, 2, 3),
            Ipv4Addr::new(224, 0, 0, 5),
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(10, 0, 0, 255),
            // Our own address, from the wire: spoofed.
            HOST,
        ] {
            assert_eq!(
                answered(&mut s, &echo_frame(src, HOST, 64, &[])),
                0,
                "{src}"
            );
        }
        assert_eq!(s.stats().ip_martians, 6);
        // A host does not forward.
        assert_eq!(
            answered(
                &mut s,
                &echo_frame(PEER, Ipv4Addr::new(8, 8, 8, 8), 64, &[])
            ),
            0
        );
        assert_eq!(s.stats().ip_not_for_us, 1);
        s.check_invariants();
    }

    #[test]
    fn protocol_unreachable_for_unknown_protocols() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        for protocol in [IpProtocol(99), IpProtocol(200)] {
            s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, protocol, &[0; 20]));
            let out = sent(&mut s);
            let [Decoded::Ipv4 { payload, .. }] = &out[..] else {
                panic!("{out:?}")
            };
            assert_eq!((payload[0], payload[1]), (3, 2));
        }
    }

    #[test]
    fn a_host_is_not_a_hop_of_a_source_route() {
        // One address left to visit: we would be an intermediate hop. A host drops it,
        // whatever the switch says (it does not forward) [RFC 1122 § 3.3.5].
        let lsrr = [131u8, 7, 4, 10, 0, 0, 9, 0];
        for accept in [false, true] {
            let mut config = Config::default();
            config.ip.accept_source_route = accept;
            let mut s = host(config);
            s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
            assert_eq!(answered(&mut s, &echo_frame(PEER, HOST, 64, &lsrr)), 0);
            assert_eq!(s.stats().icmp_in, 0, "not delivered");
            assert_eq!(s.stats().ip_source_routed, u64::from(!accept));
        }
    }

    const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 254);
    const GATEWAY_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xfe]);

    /// A host with a default route through GATEWAY, whose MAC it knows.
    fn routed_host() -> Stack {
        let mut s = host(Config::default());
        s.add_route(route::Route::default_via(GATEWAY, IF0))
            .unwrap();
        s.arp_insert(Instant::ZERO, IF0, GATEWAY, GATEWAY_MAC);
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        s
    }

    #[test]
    fn final_destination_of_a_source_route_answers_along_the_reversed_route() {
        // The request came from PEER through G1 = 192.0.2.7 and G2 = 198.51.100.9, which
        // recorded themselves: {G1, G2 >>}. By default (no source-route forwarding) we are
        // still its final destination [RFC 1122 § 3.2.1.8 (c)]; the reply goes to G2 (through
        // the gateway) carrying {>>G1, PEER} [§ 3.2.2.6].
        let mut s = routed_host();
        assert!(!s.config.ip.accept_source_route);
        let lsrr = [131u8, 11, 12, 192, 0, 2, 7, 198, 51, 100, 9, 0];
        s.handle_frame(Instant::ZERO, IF0, &echo_frame(PEER, HOST, 64, &lsrr));
        let out = sent(&mut s);
        let [Decoded::Ipv4 {
            source,
            destination,
            eth_destination,
            options,
            payload,
            checksum_ok,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(
            (*source, *destination, *eth_destination),
            (HOST, Ipv4Addr::new(198, 51, 100, 9), GATEWAY_MAC)
        );
        assert_eq!(
            &options[..],
            &[131, 11, 4, 192, 0, 2, 7, 10, 0, 0, 2, 0],
            "loose route to G1 then PEER, padded"
        );
        assert!(checksum_ok);
        assert_eq!(payload[0], 0, "echo reply");
        assert_eq!(
            &payload[4..9],
            &[0, 1, 0, 1, b'q'],
            "id, seq and data echoed"
        );
        assert_eq!(s.stats().ip_source_routed, 0);
        // A route whose last hop is our subnet's broadcast address is not followed back:
        // the reply goes straight to the source, not to the whole link.
        let lsrr = [131u8, 7, 8, 10, 0, 0, 255, 0];
        s.handle_frame(Instant::ZERO, IF0, &echo_frame(PEER, HOST, 64, &lsrr));
        let out = sent(&mut s);
        let [Decoded::Ipv4 {
            destination,
            eth_destination,
            options,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!((*destination, *eth_destination), (PEER, PEER_MAC));
        assert!(options.is_empty());
    }

    #[test]
    fn malformed_option_gets_parameter_problem() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        // Record route with a pointer of 2 (must be ≥ 4).
        let rr = [7u8, 7, 2, 0, 0, 0, 0, 0];
        s.handle_frame(Instant::ZERO, IF0, &echo_frame(PEER, HOST, 64, &rr));
        let out = sent(&mut s);
        let [Decoded::Ipv4 { payload, .. }] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!((payload[0], payload[1], payload[4]), (12, 0, 22));
    }

    #[test]
    fn router_decrements_ttl_and_fragments_or_refuses_with_df() {
        let mut s = Stack::new(Config::router());
        let t = Instant::ZERO;
        s.add_interface(
            t,
            crate::InterfaceConfig::ethernet(HOST_MAC, crate::Ipv4Cidr::new(HOST, 24)),
        )
        .unwrap();
        let out_mac = MacAddr([2, 0, 0, 0, 1, 1]);
        let far = Ipv4Addr::new(10, 0, 1, 2);
        let o = s
            .add_interface(
                t,
                crate::InterfaceConfig {
                    mtu: 576,
                    ..crate::InterfaceConfig::ethernet(
                        out_mac,
                        crate::Ipv4Cidr::new(Ipv4Addr::new(10, 0, 1, 1), 24),
                    )
                },
            )
            .unwrap();
        s.arp_insert(t, IF0, PEER, PEER_MAC);
        s.arp_insert(t, o, far, PEER_MAC);
        while s.poll_transmit().is_some() {}
        let big = vec![7u8; 1000];
        let frame = ipv4_frame(
            HOST_MAC,
            PEER_MAC,
            PEER,
            far,
            IpProtocol::UDP,
            9,
            &[],
            &udp(PEER, far, 1, 2, &big),
        );
        s.handle_frame(t, IF0, &frame);
        let out = sent(&mut s);
        assert_eq!(out.len(), 2);
        for d in &out {
            let Decoded::Ipv4 {
                ttl,
                total_length,
                checksum_ok,
                ..
            } = d
            else {
                panic!()
            };
            assert_eq!(*ttl, 8);
            assert!(*total_length <= 576 && *checksum_ok);
        }
        // The same with DF: fragmentation needed, with the next-hop MTU.
        let mut h = ipv4_header(PEER, far, IpProtocol::UDP, 9);
        h.dont_fragment = true;
        let d = ipv4_datagram(&h, &udp(PEER, far, 1, 2, &big));
        s.handle_frame(t, IF0, &ethernet(HOST_MAC, PEER_MAC, EtherType::IPV4, &d));
        let out = sent(&mut s);
        let [Decoded::Ipv4 {
            destination,
            payload,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        assert_eq!(*destination, PEER);
        assert_eq!((payload[0], payload[1]), (3, 4));
        assert_eq!(u16::from_be_bytes([payload[6], payload[7]]), 576);
        // Directed broadcast for the other network and link-level broadcasts are not forwarded.
        let bc = ipv4_frame(
            HOST_MAC,
            PEER_MAC,
            PEER,
            Ipv4Addr::new(10, 0, 1, 255),
            IpProtocol::UDP,
            9,
            &[],
            &[0; 8],
        );
        s.handle_frame(t, IF0, &bc);
        let lb = ipv4_frame(
            MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            far,
            IpProtocol::UDP,
            9,
            &[],
            &[0; 8],
        );
        s.handle_frame(t, IF0, &lb);
        assert!(sent(&mut s).is_empty());
        assert_eq!(s.stats().ip_forwarded, 1);
    }

    #[test]
    fn broadcast_echo_is_ignored_by_default() {
        let mut s = host(Config::default());
        let bc = ipv4_frame(
            MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            Ipv4Addr::new(10, 0, 0, 255),
            IpProtocol::ICMP,
            64,
            &[],
            &icmp_echo_request(1, 1, b""),
        );
        s.handle_frame(Instant::ZERO, IF0, &bc);
        assert!(sent(&mut s).is_empty());
        let mut config = Config::default();
        config.icmp.echo_broadcast = true;
        let mut s = host(config);
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        s.handle_frame(Instant::ZERO, IF0, &bc);
        let out = sent(&mut s);
        let [Decoded::Ipv4 { source, .. }] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(*source, HOST, "answered from the interface address");
    }

    #[test]
    fn outgoing_datagrams_are_fragmented() {
        let mut s = host(Config::default());
        s.set_mtu(IF0, 600).unwrap();
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        let h = s.udp_bind(core::net::SocketAddrV4::new(HOST, 9)).unwrap();
        s.udp_send_to(
            Instant::ZERO,
            h,
            core::net::SocketAddrV4::new(PEER, 9),
            &[1; 2000],
        )
        .unwrap();
        let out = sent(&mut s);
        assert_eq!(out.len(), 4);
        let mut expected = 0;
        for d in &out {
            let Decoded::Ipv4 {
                fragment_offset,
                payload,
                total_length,
                ..
            } = d
            else {
                panic!()
            };
            assert!(*total_length <= 600);
            assert_eq!(*fragment_offset, expected);
            expected += payload.len();
        }
        assert_eq!(expected, 2008);
        assert_eq!(s.stats().ip_fragments_out, 4);
    }
}
