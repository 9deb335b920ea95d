//! ICMP [RFC 792; RFC 1122 § 3.2.2; RFC 1812 § 4.3]: echo and timestamp replies, the errors
//! the stack sends (with the rules that forbid some and a token-bucket rate limit), and the
//! errors it receives, handed to the socket or request they concern. Hosts also learn host
//! routes from redirects [RFC 1122 § 3.2.2.2].

use core::net::Ipv4Addr;

use wirecheck_codec::icmp::{
    self, DestinationUnreachable, Echo, IcmpBody, IcmpMessage, IcmpType, ParameterProblem,
    ParameterProblemCode, Redirect, RedirectCode, TimeExceeded, TimeExceededCode, Timestamp,
    UnreachableCode,
};
use wirecheck_codec::ipv4::{IpProtocol, Ipv4Header};
use wirecheck_codec::time::{Duration, Instant};
use wirecheck_codec::ChecksumStatus;

use crate::iface::{is_martian_source, InterfaceId};
use crate::ip::route::{Route, RouteKind};
use crate::ip::{options, Destination, SendParams};
use crate::stack::{Event, NetworkError, NetworkErrorKind, Origin, Stack, StackError};

/// ICMP settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IcmpConfig {
    /// Errors that may be sent back to back before the rate limit applies.
    pub error_burst: u32,
    /// One more error is allowed per this interval [RFC 1812 § 4.3.2.8, RFC 1122 § 3.2.2].
    pub error_interval: Duration,
    /// Answer echo requests sent to a broadcast or multicast address (RFC 1122 § 3.2.2.6
    /// allows discarding them; off by default, as most systems do).
    pub echo_broadcast: bool,
    /// The most octets an ICMP error datagram takes; the quote is cut to fit (576 as RFC 1812
    /// § 4.3.2.3 says).
    pub max_error_len: usize,
}

impl Default for IcmpConfig {
    fn default() -> IcmpConfig {
        IcmpConfig {
            error_burst: 10,
            error_interval: Duration::from_millis(100),
            echo_broadcast: false,
            max_error_len: 576,
        }
    }
}

/// The rate limiter's state.
#[derive(Debug, Clone)]
pub(crate) struct IcmpState {
    tokens: u32,
    last_refill: Option<Instant>,
}

impl IcmpState {
    pub(crate) fn new(config: &IcmpConfig) -> IcmpState {
        IcmpState {
            tokens: config.error_burst,
            last_refill: None,
        }
    }

    fn take(&mut self, now: Instant, config: &IcmpConfig) -> bool {
        let interval = config.error_interval.as_micros().max(1);
        match self.last_refill {
            None => self.last_refill = Some(now),
            Some(last) => {
                let earned = (now - last).as_micros() / interval;
                if earned > 0 {
                    let tokens = u64::from(self.tokens).saturating_add(earned);
                    self.tokens = tokens.min(u64::from(config.error_burst)) as u32;
                    self.last_refill = Some(last + Duration::from_micros(earned * interval));
                }
            }
        }
        if self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }
}

/// An ICMP error the stack sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorToSend {
    NetUnreachable,
    HostUnreachable,
    ProtocolUnreachable,
    PortUnreachable,
    FragmentationNeeded(u16),
    SourceRouteFailed,
    TtlExceeded,
    ReassemblyTimeExceeded,
    ParameterProblem(u8),
    RedirectHost(Ipv4Addr),
}

/// An echo request to send with [`Stack::ping`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EchoRequest<'a> {
    /// Where to.
    pub destination: Ipv4Addr,
    /// Identifier.
    pub identifier: u16,
    /// Sequence number.
    pub sequence: u16,
    /// Data to be echoed.
    pub data: &'a [u8],
    /// TTL (the configured default if `None`).
    pub ttl: Option<u8>,
    /// Set Don't Fragment.
    pub dont_fragment: bool,
    /// Raw IP option octets (e.g. a Record Route option).
    pub ip_options: &'a [u8],
}

impl<'a> EchoRequest<'a> {
    /// A plain request.
    pub const fn new(
        destination: Ipv4Addr,
        identifier: u16,
        sequence: u16,
        data: &'a [u8],
    ) -> Self {
        EchoRequest {
            destination,
            identifier,
            sequence,
            data,
            ttl: None,
            dont_fragment: false,
            ip_options: &[],
        }
    }
}

impl Stack {
    /// Sends an ICMP echo request; the reply comes back as [`Event::EchoReply`], an error as
    /// [`Event::EchoError`]. The datagram is fragmented if it exceeds the MTU (unless DF).
    pub fn ping(&mut self, now: Instant, request: &EchoRequest<'_>) -> Result<(), StackError> {
        let route = self.route_output(request.destination, None)?;
        let body = IcmpBody::EchoRequest(Echo {
            code: 0,
            identifier: request.identifier,
            sequence: request.sequence,
            data: request.data,
        });
        let params = SendParams {
            source: route.source,
            protocol: IpProtocol::ICMP,
            ttl: request.ttl.unwrap_or(self.config.ip.default_ttl),
            dont_fragment: request.dont_fragment,
            options: request.ip_options,
            origin: Origin::Echo {
                identifier: request.identifier,
                sequence: request.sequence,
            },
        };
        let r = self.icmp_send(now, &route, params, body);
        self.drain_loopback(now);
        r
    }

    fn icmp_send(
        &mut self,
        now: Instant,
        route: &crate::ip::RouteDecision,
        params: SendParams<'_>,
        body: IcmpBody<'_>,
    ) -> Result<(), StackError> {
        let message = IcmpMessage::new(body);
        let mut buf = vec![0u8; message.len()];
        let n = message
            .emit(&mut buf)
            .map_err(|_| StackError::MessageTooLong)?;
        buf.truncate(n);
        self.ip_send(now, route, params, &buf)?;
        self.stats.icmp_out += 1;
        Ok(())
    }

    /// Receives an ICMP message addressed to us.
    pub(crate) fn icmp_input(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        header: &Ipv4Header<'_>,
        payload: &[u8],
    ) {
        self.stats.icmp_in += 1;
        if icmp::verify_checksum(payload) != ChecksumStatus::Good {
            self.stats.icmp_dropped += 1;
            return;
        }
        let Ok((message, _)) = IcmpMessage::parse(payload) else {
            self.stats.icmp_dropped += 1;
            return;
        };
        let reply_to_broadcast = class.is_unicast() || self.config.icmp.echo_broadcast;
        match message.body {
            IcmpBody::EchoRequest(echo) if reply_to_broadcast => {
                let body = IcmpBody::EchoReply(Echo { code: 0, ..echo });
                self.icmp_reply(now, iface, class, header, body);
            }
            IcmpBody::Timestamp(t) if reply_to_broadcast => {
                let stamp = options::timestamp(now);
                let body = IcmpBody::TimestampReply(Timestamp {
                    code: 0,
                    receive: stamp,
                    transmit: stamp,
                    ..t
                });
                self.icmp_reply(now, iface, class, header, body);
            }
            IcmpBody::EchoReply(echo) => self.push_event(Event::EchoReply {
                source: header.source,
                identifier: echo.identifier,
                sequence: echo.sequence,
                ttl: header.ttl,
                data: echo.data.to_vec(),
            }),
            IcmpBody::DestinationUnreachable(DestinationUnreachable {
                code,
                next_hop_mtu,
                quoted,
                ..
            }) => {
                let kind = match code {
                    UnreachableCode::NET_UNREACHABLE
                    | UnreachableCode::NET_UNKNOWN
                    | UnreachableCode::NET_UNREACHABLE_FOR_TOS => NetworkErrorKind::NetUnreachable,
                    UnreachableCode::HOST_UNREACHABLE
                    | UnreachableCode::HOST_UNKNOWN
                    | UnreachableCode::HOST_UNREACHABLE_FOR_TOS => {
                        NetworkErrorKind::HostUnreachable
                    }
                    UnreachableCode::PROTOCOL_UNREACHABLE => NetworkErrorKind::ProtocolUnreachable,
                    UnreachableCode::PORT_UNREACHABLE => NetworkErrorKind::PortUnreachable,
                    UnreachableCode::FRAGMENTATION_NEEDED => {
                        NetworkErrorKind::FragmentationNeeded { next_hop_mtu }
                    }
                    UnreachableCode::SOURCE_ROUTE_FAILED => NetworkErrorKind::SourceRouteFailed,
                    other => NetworkErrorKind::Unreachable(other.0),
                };
                self.icmp_error_input(now, header.source, kind, quoted);
            }
            IcmpBody::TimeExceeded(TimeExceeded { code, quoted, .. }) => {
                let kind = if code == TimeExceededCode::FRAGMENT_REASSEMBLY {
                    NetworkErrorKind::ReassemblyTimeExceeded
                } else {
                    NetworkErrorKind::TtlExceeded
                };
                self.icmp_error_input(now, header.source, kind, quoted);
            }
            IcmpBody::ParameterProblem(ParameterProblem {
                pointer, quoted, ..
            }) => {
                self.icmp_error_input(
                    now,
                    header.source,
                    NetworkErrorKind::ParameterProblem { pointer },
                    quoted,
                );
            }
            IcmpBody::SourceQuench(q) => {
                self.icmp_error_input(now, header.source, NetworkErrorKind::SourceQuench, q.quoted);
            }
            IcmpBody::Redirect(r) => self.icmp_redirect_input(iface, header.source, r),
            _ => self.stats.icmp_dropped += 1,
        }
    }

    /// Replies to a query: from the address it was sent to (or the arrival interface's for a
    /// broadcast), to its source — along the reversed route if the query came with a
    /// completed source route [RFC 1122 § 3.2.2.6, § 3.2.2.8].
    fn icmp_reply(
        &mut self,
        now: Instant,
        iface: InterfaceId,
        class: Destination,
        request: &Ipv4Header<'_>,
        body: IcmpBody<'_>,
    ) {
        let return_route = class
            .is_unicast()
            .then(|| self.return_route(request))
            .flatten();
        let first_hop = return_route.map_or(request.source, |r| r.first_hop());
        let Ok(mut route) = self.route_output(first_hop, None) else {
            self.stats.icmp_dropped += 1;
            return;
        };
        let source = if class.is_unicast() {
            request.destination
        } else {
            match self.interface(iface).and_then(|i| i.addr()) {
                Some(a) => a,
                None => return,
            }
        };
        if route.local {
            route.source = source;
        }
        let params = SendParams {
            source,
            protocol: IpProtocol::ICMP,
            ttl: self.config.ip.default_ttl,
            dont_fragment: false,
            options: return_route.as_ref().map_or(&[], |r| r.option()),
            origin: Origin::Stack(IpProtocol::ICMP),
        };
        let _ = self.icmp_send(now, &route, params, body);
    }

    /// An ICMP error arrived: find what it is about and tell its owner [RFC 1122 § 3.2.2].
    fn icmp_error_input(
        &mut self,
        now: Instant,
        reporter: Ipv4Addr,
        kind: NetworkErrorKind,
        quoted: &[u8],
    ) {
        let Ok((original, transport)) = Ipv4Header::parse_header(quoted) else {
            self.stats.icmp_dropped += 1;
            return;
        };
        // Only errors about datagrams we sent concern us.
        if self.local_iface_of(original.source).is_none() {
            self.stats.icmp_dropped += 1;
            return;
        }
        let error = NetworkError {
            kind,
            reporter,
            destination: original.destination,
        };
        let port = |at: usize| {
            transport
                .get(at..at + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
        };
        match original.protocol {
            IpProtocol::UDP => {
                let (Some(source_port), Some(destination_port)) = (port(0), port(2)) else {
                    return;
                };
                match self.udp_socket_for(original.source, source_port) {
                    Some(handle) => self.push_event(Event::UdpError {
                        handle,
                        error,
                        destination_port,
                    }),
                    None => self.stats.icmp_dropped += 1,
                }
            }
            IpProtocol::ICMP if transport.first() == Some(&IcmpType::ECHO_REQUEST.0) => {
                let (Some(identifier), Some(sequence)) = (port(4), port(6)) else {
                    return;
                };
                self.push_event(Event::EchoError {
                    identifier,
                    sequence,
                    error,
                });
            }
            IpProtocol::TCP => self.tcp_icmp_error(now, &original, transport, error),
            protocol => self.push_event(Event::IcmpError { error, protocol }),
        }
    }

    /// A redirect: a host learns a host route through the better gateway, if the redirect
    /// came from the gateway it uses for that destination and the new gateway is on the
    /// link [RFC 1122 § 3.2.2.2, § 3.3.1.2]. Routers ignore redirects [RFC 1812 § 5.2.7.2].
    fn icmp_redirect_input(&mut self, iface: InterfaceId, reporter: Ipv4Addr, r: Redirect<'_>) {
        if self.config.ip.forwarding || !self.config.ip.accept_redirects {
            self.stats.icmp_dropped += 1;
            return;
        }
        let Ok((original, _)) = Ipv4Header::parse_header(r.quoted) else {
            self.stats.icmp_dropped += 1;
            return;
        };
        let dst = original.destination;
        let current = self.routes.lookup(dst).copied();
        let from_current_gateway =
            current.is_some_and(|c| c.iface == iface && c.next_hop(dst) == reporter);
        let on_link = self
            .interface(iface)
            .and_then(|i| i.address)
            .is_some_and(|c| c.contains(r.gateway) && c.address != r.gateway);
        if !from_current_gateway || !on_link || dst.is_multicast() || dst.is_broadcast() {
            self.stats.icmp_dropped += 1;
            return;
        }
        let _ = self.routes.add(Route {
            kind: RouteKind::Redirect,
            ..Route::via(dst, 32, r.gateway, iface)
        });
    }

    /// Sends an ICMP error about `offending` (a datagram as received, header first) unless a
    /// rule forbids it [RFC 1122 § 3.2.2, RFC 1812 § 4.3.2.7] or the rate limit is reached.
    pub(crate) fn icmp_send_error(
        &mut self,
        now: Instant,
        offending: &[u8],
        link_multicast: bool,
        kind: ErrorToSend,
    ) {
        // Lax: a datagram with malformed options is quoted in a parameter problem all the same.
        let Ok((original, transport, _)) = Ipv4Header::parse_header_lax(offending) else {
            return;
        };
        let about_icmp_error = original.protocol == IpProtocol::ICMP
            && transport
                .first()
                .is_none_or(|&t| IcmpType(t).is_error() || t == IcmpType::REDIRECT.0);
        let forbidden = link_multicast
            || original.destination.is_multicast()
            || self.is_any_broadcast(original.destination)
            || original.fragment_offset != 0
            || is_martian_source(original.source)
            || self.is_any_broadcast(original.source)
            || about_icmp_error;
        if forbidden {
            self.stats.icmp_errors_suppressed += 1;
            return;
        }
        if !self.icmp.take(now, &self.config.icmp) {
            self.stats.icmp_rate_limited += 1;
            return;
        }
        let Ok(mut route) = self.route_output(original.source, None) else {
            return;
        };
        // The error comes from the address the datagram was sent to when that is ours.
        if self.local_iface_of(original.destination).is_some() {
            route.source = original.destination;
        }
        let room = self
            .config
            .icmp
            .max_error_len
            .saturating_sub(20 + 8)
            .max(28);
        let quoted = offending
            .get(..offending.len().min(room))
            .unwrap_or(offending);
        let body = match kind {
            ErrorToSend::NetUnreachable => unreachable(UnreachableCode::NET_UNREACHABLE, 0, quoted),
            ErrorToSend::HostUnreachable => {
                unreachable(UnreachableCode::HOST_UNREACHABLE, 0, quoted)
            }
            ErrorToSend::ProtocolUnreachable => {
                unreachable(UnreachableCode::PROTOCOL_UNREACHABLE, 0, quoted)
            }
            ErrorToSend::PortUnreachable => {
                unreachable(UnreachableCode::PORT_UNREACHABLE, 0, quoted)
            }
            ErrorToSend::FragmentationNeeded(mtu) => {
                unreachable(UnreachableCode::FRAGMENTATION_NEEDED, mtu, quoted)
            }
            ErrorToSend::SourceRouteFailed => {
                unreachable(UnreachableCode::SOURCE_ROUTE_FAILED, 0, quoted)
            }
            ErrorToSend::TtlExceeded => time_exceeded(TimeExceededCode::TTL_EXCEEDED, quoted),
            ErrorToSend::ReassemblyTimeExceeded => {
                time_exceeded(TimeExceededCode::FRAGMENT_REASSEMBLY, quoted)
            }
            ErrorToSend::ParameterProblem(pointer) => {
                IcmpBody::ParameterProblem(ParameterProblem {
                    code: ParameterProblemCode::POINTER,
                    pointer,
                    length: 0,
                    unused_tail: 0,
                    quoted,
                    extensions: None,
                })
            }
            ErrorToSend::RedirectHost(gateway) => IcmpBody::Redirect(Redirect {
                code: RedirectCode::HOST,
                gateway,
                quoted,
            }),
        };
        let params = SendParams {
            source: route.source,
            protocol: IpProtocol::ICMP,
            ttl: self.config.ip.default_ttl,
            dont_fragment: false,
            options: &[],
            origin: Origin::Stack(IpProtocol::ICMP),
        };
        let _ = self.icmp_send(now, &route, params, body);
    }
}

fn unreachable(code: UnreachableCode, next_hop_mtu: u16, quoted: &[u8]) -> IcmpBody<'_> {
    IcmpBody::DestinationUnreachable(DestinationUnreachable {
        code,
        unused: 0,
        length: 0,
        next_hop_mtu,
        quoted,
        extensions: None,
    })
}

fn time_exceeded(code: TimeExceededCode, quoted: &[u8]) -> IcmpBody<'_> {
    IcmpBody::TimeExceeded(TimeExceeded {
        code,
        unused: 0,
        length: 0,
        unused_tail: 0,
        quoted,
        extensions: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_refills_over_time() {
        let config = IcmpConfig {
            error_burst: 2,
            error_interval: Duration::from_millis(100),
            ..IcmpConfig::default()
        };
        let mut s = IcmpState::new(&config);
        let t0 = Instant::from_secs(1);
        assert!(s.take(t0, &config));
        assert!(s.take(t0, &config));
        assert!(!s.take(t0, &config));
        assert!(!s.take(t0 + Duration::from_millis(99), &config));
        assert!(s.take(t0 + Duration::from_millis(100), &config));
        assert!(!s.take(t0 + Duration::from_millis(150), &config));
        // A long pause refills only up to the burst.
        let later = t0 + Duration::from_secs(100);
        assert!(s.take(later, &config));
        assert!(s.take(later, &config));
        assert!(!s.take(later, &config));
    }
}

#[cfg(test)]
mod stack_tests {
    use super::*;
    use crate::testing::*;
    use crate::Config;
    use wirecheck_codec::ethernet::MacAddr;

    const IF0: InterfaceId = InterfaceId(0);

    /// The one datagram the stack sent, which must be an ICMP timestamp reply: its source,
    /// destination, IP options and timestamp fields.
    fn the_timestamp_reply(s: &mut Stack) -> (Ipv4Addr, Ipv4Addr, Vec<u8>, Timestamp) {
        let out = sent(s);
        let [Decoded::Ipv4 {
            source,
            destination,
            options,
            payload,
            ..
        }] = &out[..]
        else {
            panic!("{out:?}")
        };
        let (m, _) = IcmpMessage::parse(payload).unwrap();
        let IcmpBody::TimestampReply(t) = m.body else {
            panic!("{:?}", m.body)
        };
        (*source, *destination, options.clone(), t)
    }

    #[test]
    fn timestamp_reply() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        let req = icmp(IcmpBody::Timestamp(Timestamp {
            code: 0,
            identifier: 3,
            sequence: 4,
            originate: 1000,
            receive: 0,
            transmit: 0,
        }));
        s.handle_frame(
            Instant::from_millis(5000),
            IF0,
            &from_peer(HOST, IpProtocol::ICMP, &req),
        );
        let (source, destination, options, t) = the_timestamp_reply(&mut s);
        assert_eq!((source, destination), (HOST, PEER));
        assert!(options.is_empty());
        assert_eq!((t.identifier, t.sequence, t.originate), (3, 4, 1000));
        // No clock of UT: the stack's milliseconds (mod one day), flagged non-standard with
        // the high-order bit [RFC 792].
        assert_eq!(t.receive, 0x8000_0000 | 5000);
        assert_eq!(t.transmit, 0x8000_0000 | 5000);
        // A day later the count starts again.
        s.arp_insert(Instant::from_millis(86_400_000), IF0, PEER, PEER_MAC);
        s.handle_frame(
            Instant::from_millis(86_400_000 + 7),
            IF0,
            &from_peer(HOST, IpProtocol::ICMP, &req),
        );
        let (_, _, _, t) = the_timestamp_reply(&mut s);
        assert_eq!(t.receive, 0x8000_0007);
    }

    #[test]
    fn timestamp_reply_to_secondary_address_and_along_a_reversed_route() {
        // A second address on another interface: the reply comes from the address the
        // request was sent to [RFC 1122 § 3.2.2.8], and a completed source route in the
        // request is reversed for the reply.
        let mut s = host(Config::default());
        let other = Ipv4Addr::new(172, 16, 0, 1);
        s.add_interface(
            Instant::ZERO,
            crate::InterfaceConfig::ethernet(
                MacAddr([2, 0, 0, 0, 9, 9]),
                crate::Ipv4Cidr::new(other, 24),
            ),
        )
        .unwrap();
        while s.poll_transmit().is_some() {}
        let hop = Ipv4Addr::new(10, 0, 0, 7);
        s.arp_insert(Instant::ZERO, IF0, hop, PEER_MAC);
        let req = icmp(IcmpBody::Timestamp(Timestamp {
            code: 0,
            identifier: 1,
            sequence: 2,
            originate: 77,
            receive: 0,
            transmit: 0,
        }));
        // From 192.0.2.1 through 10.0.0.7, which recorded itself: {10.0.0.7 >>}.
        let far = Ipv4Addr::new(192, 0, 2, 1);
        let lsrr = [131u8, 7, 8, 10, 0, 0, 7, 0];
        let frame = ipv4_frame(
            HOST_MAC,
            PEER_MAC,
            far,
            other,
            IpProtocol::ICMP,
            60,
            &lsrr,
            &req,
        );
        s.handle_frame(Instant::from_millis(3), IF0, &frame);
        let (source, destination, options, t) = the_timestamp_reply(&mut s);
        assert_eq!((source, destination), (other, hop));
        assert_eq!(&options[..], &[131, 7, 4, 192, 0, 2, 1, 0]);
        assert_eq!((t.identifier, t.sequence, t.originate), (1, 2, 77));
    }

    #[test]
    fn errors_are_rate_limited() {
        let mut config = Config::default();
        config.icmp.error_burst = 3;
        let mut s = host(config);
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        for _ in 0..10 {
            s.handle_frame(
                Instant::ZERO,
                IF0,
                &from_peer(HOST, IpProtocol(99), &[0; 8]),
            );
        }
        assert_eq!(sent(&mut s).len(), 3);
        assert_eq!(s.stats().icmp_rate_limited, 7);
        s.handle_frame(
            Instant::from_millis(100),
            IF0,
            &from_peer(HOST, IpProtocol(99), &[0; 8]),
        );
        assert_eq!(sent(&mut s).len(), 1);
    }

    #[test]
    fn no_errors_about_broadcasts_fragments_or_errors() {
        let mut s = host(Config::default());
        s.arp_insert(Instant::ZERO, IF0, PEER, PEER_MAC);
        // An unknown protocol to the limited broadcast address, in a link-layer broadcast.
        let f = ipv4_frame(
            MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            Ipv4Addr::BROADCAST,
            IpProtocol(99),
            64,
            &[],
            &[0; 8],
        );
        s.handle_frame(Instant::ZERO, IF0, &f);
        assert!(sent(&mut s).is_empty());
        // Our unicast address in a link-layer broadcast is not even delivered [RFC 1122
        // § 3.3.6]: no error either, and it is counted as not for us.
        let before = s.stats().ip_not_for_us;
        let f = ipv4_frame(
            MacAddr::BROADCAST,
            PEER_MAC,
            PEER,
            HOST,
            IpProtocol(99),
            64,
            &[],
            &[0; 8],
        );
        s.handle_frame(Instant::ZERO, IF0, &f);
        assert!(sent(&mut s).is_empty());
        assert_eq!(s.stats().ip_not_for_us, before + 1);
        // Errors about a non-first fragment or an ICMP error are never sent.
        let mut h = crate::testing::ipv4_header(PEER, HOST, IpProtocol(99), 64);
        h.fragment_offset = 10;
        let d = ipv4_datagram(&h, &[0; 8]);
        s.icmp_send_error(Instant::ZERO, &d, false, ErrorToSend::ProtocolUnreachable);
        let unreachable_msg = icmp(unreachable(UnreachableCode::PORT_UNREACHABLE, 0, &d));
        let d = ipv4_datagram(
            &crate::testing::ipv4_header(PEER, HOST, IpProtocol::ICMP, 64),
            &unreachable_msg,
        );
        s.icmp_send_error(Instant::ZERO, &d, false, ErrorToSend::ProtocolUnreachable);
        assert!(sent(&mut s).is_empty());
        assert_eq!(
            s.stats().icmp_errors_suppressed,
            2,
            "the fragment and the ICMP error"
        );
    }

    #[test]
    fn errors_about_other_hosts_datagrams_are_ignored() {
        let mut s = host(Config::default());
        let quoted = ipv4_datagram(
            &crate::testing::ipv4_header(Ipv4Addr::new(10, 0, 0, 77), PEER, IpProtocol::UDP, 64),
            &[0; 8],
        );
        let err = icmp(unreachable(UnreachableCode::PORT_UNREACHABLE, 0, &quoted));
        s.handle_frame(Instant::ZERO, IF0, &from_peer(HOST, IpProtocol::ICMP, &err));
        assert!(events(&mut s).is_empty());
        assert_eq!(s.stats().icmp_dropped, 1);
    }
}
