//! [`BuiltinTarget`]: wirecheck's own sans-IO stack ([`wirecheck_stack::Stack`]) as a
//! conformance target, in virtual time, with BSD socket semantics laid over its handle API.
//!
//! What this module owns is the translation: descriptors to TCP/UDP handles, the non-blocking
//! socket rules (`EINPROGRESS` from the first `connect`, `EALREADY`/`0`/`EISCONN` from later
//! ones, `EAGAIN` where a call would block), pending errors that `SO_ERROR` and the next
//! read or write report once (as BSD sockets do), per-socket options the stack keeps
//! stack-wide or per connection, and group memberships counted per socket. The protocol
//! behaviour is all the stack's.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use wirecheck_codec::ethernet::MacAddr;
use wirecheck_stack::{
    Config, Event, Instant, InterfaceConfig, InterfaceId, Ipv4Cidr, NetworkError, NetworkErrorKind,
    Route, Stack, StackError, TcpConfig, TcpError, TcpHandle, TcpSocketOptions, TcpState,
    UdpHandle,
};

use super::{micros, FdTable, MAX_TIMER_STEPS};
use crate::conform::target::{
    CallOk, CallOutcome, Errno, Network, PollEvents, PollRequest, Profile, SentFrame, ShutdownHow,
    SocketCall, SocketKind, SocketOption, Target, TargetError,
};

/// The seed of the stack's randomness (ISNs, ephemeral ports, IP IDs): fixed, so every run
/// of a scenario sees the same numbers.
pub const SEED: u64 = 0x5EED_C0FF_EE00;

/// wirecheck's stack, driven in virtual time.
#[derive(Debug)]
pub struct BuiltinTarget {
    profile: Profile,
    stack: Stack,
    network: Network,
    now: Duration,
    sent: Vec<SentFrame>,
    sockets: FdTable<Socket>,
    /// How many sockets hold each (interface, group) membership: the stack's membership is
    /// per interface, a socket's is its own, so the stack joins on the first and leaves on
    /// the last.
    memberships: BTreeMap<(usize, Ipv4Addr), usize>,
    /// Next port to try for `bind(…:0)` and `listen` on an unbound stream socket.
    next_ephemeral: u16,
}

#[derive(Debug)]
enum Socket {
    Tcp(TcpSocket),
    Udp(UdpSocket),
}

#[derive(Debug, Default)]
struct Common {
    reuse_address: bool,
    /// `SO_LINGER` seconds, when on.
    linger: Option<i64>,
    /// An error waiting for `SO_ERROR` or the next call that reports errors.
    pending_error: Option<Errno>,
    groups: BTreeSet<(usize, Ipv4Addr)>,
}

#[derive(Debug, Default)]
struct TcpSocket {
    common: Common,
    bound: Option<SocketAddrV4>,
    state: TcpSocketState,
    nodelay: Option<bool>,
    keepalive: Option<bool>,
    user_timeout: Option<Duration>,
    /// `SO_RCVBUF`: the receive buffer of the connection the socket opens (or, listening,
    /// of those it accepts); fixed once a connection is open.
    receive_buffer: Option<usize>,
    /// The last soft ICMP error; a later timeout reports it instead of `ETIMEDOUT`, as Linux
    /// does (`sk_err_soft`).
    soft_error: Option<NetworkError>,
    read_shut: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum TcpSocketState {
    /// Created, maybe bound.
    #[default]
    Fresh,
    Listening(TcpHandle),
    /// `connect` returned `EINPROGRESS`; the outcome is not yet reported to a `connect`.
    Connecting(TcpHandle),
    /// Connected (actively, with the outcome reported, or accepted).
    Connected(TcpHandle),
}

#[derive(Debug, Default)]
struct UdpSocket {
    common: Common,
    handle: Option<UdpHandle>,
    /// The default destination set by `connect`; only its datagrams are received.
    peer: Option<SocketAddrV4>,
    ttl: Option<u8>,
    multicast_ttl: Option<u8>,
}

impl Default for BuiltinTarget {
    fn default() -> BuiltinTarget {
        BuiltinTarget::new()
    }
}

impl BuiltinTarget {
    /// A target with no interfaces yet ([`Target::configure`] adds them).
    pub fn new() -> BuiltinTarget {
        let config = Self::config(false);
        BuiltinTarget {
            profile: Self::profile(),
            next_ephemeral: config.tcp.ephemeral_ports.0,
            stack: Stack::new(config),
            network: Network::default(),
            now: Duration::ZERO,
            sent: Vec::new(),
            sockets: FdTable::default(),
            memberships: BTreeMap::new(),
        }
    }

    /// The stack's configuration: its defaults, a fixed seed, forwarding when there is more
    /// than one interface to forward between.
    fn config(forwarding: bool) -> Config {
        let mut c = Config::default().with_seed(SEED);
        c.ip.forwarding = forwarding;
        c
    }

    /// The stack's choices, read from its default [`TcpConfig`] (not retyped), and the
    /// features it implements.
    pub fn profile() -> Profile {
        let tcp = TcpConfig::default();
        let from = |d: wirecheck_stack::Duration| Duration::from_micros(d.as_micros());
        // MSS on a 1500-octet link: the MTU less the IPv4 and TCP headers [RFC 9293 § 3.7.1].
        let mss: u16 = 1500 - 40;
        let smss = usize::from(mss);
        // The stack's initial window: IW10 [RFC 6928] or min(4·SMSS, max(2·SMSS, 4380))
        // [RFC 5681 § 3.1], in segments of that MSS.
        let initial_window = if tcp.initial_window_10 {
            (10 * smss).min((2 * smss).max(14_600))
        } else {
            (4 * smss).min((2 * smss).max(4380))
        };
        Profile {
            name: "wirecheck".to_string(),
            features: [
                "tcp",
                "udp",
                "icmp",
                "icmp-timestamp",
                "arp",
                "igmp",
                "reassembly",
                "forwarding",
                "fragmentation",
                "mss",
                "initial-window-rfc5681",
                "window-scaling",
                "timestamps",
                "sack",
                "dsack",
                "urgent",
                "challenge-ack",
                "keepalive",
                "user-timeout",
                "half-close",
                "half-duplex-close",
                "simultaneous-open",
                "time-wait-reopen",
                "multiple-interfaces",
                "weak-end-system",
                "socket-errors",
                "linger",
                "exact-receive-buffer",
            ]
            .into_iter()
            .filter(|f| match *f {
                "window-scaling" => tcp.window_scaling,
                "timestamps" => tcp.timestamps,
                "sack" | "dsack" => tcp.sack,
                "initial-window-rfc5681" => !tcp.initial_window_10,
                _ => true,
            })
            .collect(),
            initial_window_segments: (initial_window / smss) as u32,
            initial_rto: from(tcp.initial_rto),
            min_rto: from(tcp.min_rto),
            delayed_ack: from(tcp.ack_delay),
            msl: from(tcp.msl),
            time_wait: from(tcp.msl) * 2,
            syn_backlog: tcp.max_syn_backlog as u32,
            accept_backlog: tcp.max_accept_backlog as u32,
            // The window field of a SYN is not scaled [RFC 7323 § 2.2]: the buffer, capped.
            initial_receive_window: tcp.receive_buffer.min(65_535) as u32,
            window_scale: tcp.window_scaling.then(|| scale_for(tcp.receive_buffer)),
            mss,
            timing_tolerance: Duration::ZERO,
            real_time: false,
            // Window values after the SYN and the order of options are the
            // implementation's to choose (RFC 9293 § 3.8.6, § 3.2): scenarios written
            // against another stack's numbers are not held to them.
            check_window: false,
            check_option_order: false,
        }
    }

    fn instant(&self) -> Instant {
        Instant::from_micros(micros(self.now))
    }

    /// Collects what the stack sent (stamped now) and acts on its events.
    fn collect(&mut self) {
        while let Some(t) = self.stack.poll_transmit() {
            self.sent.push(SentFrame {
                at: self.now,
                interface: t.iface.0,
                bytes: t.bytes,
            });
        }
        while let Some(event) = self.stack.poll_event() {
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::TcpError { handle, error } => {
                if let Some(s) = self.tcp_socket_of(handle) {
                    let soft = s.soft_error.take();
                    s.common.pending_error = Some(tcp_errno(error, soft));
                }
            }
            Event::TcpNetworkError { handle, error } => {
                if let Some(s) = self.tcp_socket_of(handle) {
                    s.soft_error = Some(error);
                }
            }
            Event::UdpError {
                handle,
                error,
                destination_port,
            } => {
                // Like Linux without IP_RECVERR: only a connected socket hears of it.
                for (_, s) in self.sockets.iter_mut() {
                    if let Socket::Udp(u) = s {
                        let to = SocketAddrV4::new(error.destination, destination_port);
                        if u.handle == Some(handle) && u.peer == Some(to) {
                            u.common.pending_error = Some(network_errno(error.kind));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn tcp_socket_of(&mut self, handle: TcpHandle) -> Option<&mut TcpSocket> {
        self.sockets.iter_mut().find_map(|(_, s)| match s {
            Socket::Tcp(t) => match t.state {
                TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) if h == handle => {
                    Some(t)
                }
                _ => None,
            },
            Socket::Udp(_) => None,
        })
    }

    /// Whether `addr` is one of the target's addresses (or 0.0.0.0).
    fn is_local(&self, addr: Ipv4Addr) -> bool {
        addr.is_unspecified()
            || self
                .stack
                .interfaces()
                .any(|i| self.stack.address(i).map(|c| c.address) == Some(addr))
    }

    /// A stream port no socket of ours has bound, from the ephemeral range.
    fn ephemeral_tcp_port(&mut self) -> Result<u16, Errno> {
        let (low, high) = self.stack.config().tcp.ephemeral_ports;
        let span = u32::from(high.saturating_sub(low)) + 1;
        for _ in 0..span {
            let port = self.next_ephemeral;
            self.next_ephemeral = if port >= high { low } else { port + 1 };
            let taken = self.sockets.iter().any(
                |(_, s)| matches!(s, Socket::Tcp(t) if t.bound.is_some_and(|b| b.port() == port)),
            );
            if !taken {
                return Ok(port);
            }
        }
        Err(Errno::EADDRNOTAVAIL)
    }

    fn socket(&mut self, kind: SocketKind) -> CallOutcome {
        let s = match kind {
            SocketKind::Stream => Socket::Tcp(TcpSocket::default()),
            SocketKind::Datagram => Socket::Udp(UdpSocket::default()),
        };
        match self.sockets.insert(s) {
            Ok(fd) => ok(i64::from(fd)),
            Err(e) => CallOutcome::Err(e),
        }
    }

    fn bind(&mut self, fd: i32, addr: SocketAddrV4) -> CallOutcome {
        if !self.is_local(*addr.ip()) && !addr.ip().is_multicast() {
            return CallOutcome::Err(Errno::EADDRNOTAVAIL);
        }
        match self.sockets.get(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Socket::Tcp(t)) => {
                if t.bound.is_some() || t.state != TcpSocketState::Fresh {
                    return CallOutcome::Err(Errno::EINVAL);
                }
                let reuse = t.common.reuse_address;
                let addr = if addr.port() == 0 {
                    match self.ephemeral_tcp_port() {
                        Ok(p) => SocketAddrV4::new(*addr.ip(), p),
                        Err(e) => return CallOutcome::Err(e),
                    }
                } else {
                    addr
                };
                // Two sockets may share a port on overlapping addresses only if both set
                // SO_REUSEADDR and the other is not listening (the BSD/Linux rule).
                let conflict = self.sockets.iter().any(|(other, s)| match s {
                    Socket::Tcp(o) if other != fd => o.bound.is_some_and(|b| {
                        b.port() == addr.port()
                            && (b.ip() == addr.ip()
                                || b.ip().is_unspecified()
                                || addr.ip().is_unspecified())
                            && !(reuse
                                && o.common.reuse_address
                                && !matches!(o.state, TcpSocketState::Listening(_)))
                    }),
                    _ => false,
                });
                if conflict {
                    return CallOutcome::Err(Errno::EADDRINUSE);
                }
                if let Some(Socket::Tcp(t)) = self.sockets.get_mut(fd) {
                    t.bound = Some(addr);
                }
                ok(0)
            }
            Some(Socket::Udp(u)) => {
                if u.handle.is_some() {
                    return CallOutcome::Err(Errno::EINVAL);
                }
                match self.stack.udp_bind(addr) {
                    Ok(h) => {
                        if let Some(Socket::Udp(u)) = self.sockets.get_mut(fd) {
                            u.handle = Some(h);
                        }
                        ok(0)
                    }
                    Err(e) => CallOutcome::Err(stack_errno(e)),
                }
            }
        }
    }

    fn listen(&mut self, fd: i32, backlog: u32) -> CallOutcome {
        let (bound, state, receive_buffer) = match self.sockets.get(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Socket::Udp(_)) => return CallOutcome::Err(Errno::EOPNOTSUPP),
            Some(Socket::Tcp(t)) => (t.bound, t.state, t.receive_buffer),
        };
        match state {
            TcpSocketState::Fresh => {}
            // Listening again only changes the backlog, which the stack fixes at listen.
            TcpSocketState::Listening(_) => return ok(0),
            _ => return CallOutcome::Err(Errno::EINVAL),
        }
        let local = match bound {
            Some(b) => b,
            None => match self.ephemeral_tcp_port() {
                Ok(p) => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p),
                Err(e) => return CallOutcome::Err(e),
            },
        };
        let backlog = usize::try_from(backlog).unwrap_or(usize::MAX);
        let options = TcpSocketOptions { receive_buffer };
        match self.stack.tcp_listen_with(local, backlog, options) {
            Ok(h) => {
                if let Some(Socket::Tcp(t)) = self.sockets.get_mut(fd) {
                    t.bound = Some(local);
                    t.state = TcpSocketState::Listening(h);
                }
                ok(0)
            }
            Err(e) => CallOutcome::Err(stack_errno(e)),
        }
    }

    fn accept(&mut self, fd: i32) -> CallOutcome {
        let Some(Socket::Tcp(listener)) = self.sockets.get(fd) else {
            return match self.sockets.get(fd) {
                None => CallOutcome::Err(Errno::EBADF),
                Some(_) => CallOutcome::Err(Errno::EOPNOTSUPP),
            };
        };
        let TcpSocketState::Listening(l) = listener.state else {
            return CallOutcome::Err(Errno::EINVAL);
        };
        // An accepted socket inherits the listener's options, as on BSD and Linux.
        let inherited = TcpSocket {
            common: Common {
                reuse_address: listener.common.reuse_address,
                linger: listener.common.linger,
                ..Common::default()
            },
            bound: listener.bound,
            nodelay: listener.nodelay,
            keepalive: listener.keepalive,
            user_timeout: listener.user_timeout,
            receive_buffer: listener.receive_buffer,
            ..TcpSocket::default()
        };
        match self.stack.tcp_accept(l) {
            Ok(Some((h, peer))) => {
                let local = self.stack.tcp_info(h).map(|i| i.local).or(inherited.bound);
                let socket = TcpSocket {
                    state: TcpSocketState::Connected(h),
                    bound: local,
                    ..inherited
                };
                self.apply_tcp_options(h, &socket);
                match self.sockets.insert(Socket::Tcp(socket)) {
                    Ok(new_fd) => CallOutcome::Ok(CallOk {
                        value: i64::from(new_fd),
                        peer: Some(peer),
                        ..CallOk::default()
                    }),
                    Err(e) => {
                        let _ = self.stack.tcp_abort(self.instant(), h);
                        CallOutcome::Err(e)
                    }
                }
            }
            Ok(None) => CallOutcome::Err(Errno::EWOULDBLOCK),
            Err(e) => CallOutcome::Err(stack_errno(e)),
        }
    }

    /// Sets on a new connection the options the socket was given before it had one.
    fn apply_tcp_options(&mut self, h: TcpHandle, s: &TcpSocket) {
        if let Some(on) = s.nodelay {
            let _ = self.stack.tcp_set_nodelay(h, on);
        }
        if let Some(on) = s.keepalive {
            let _ = self.stack.tcp_set_keepalive(h, on);
        }
        if let Some(t) = s.user_timeout {
            let _ = self
                .stack
                .tcp_set_user_timeout(h, wirecheck_stack::Duration::from_micros(micros(t)));
        }
    }

    fn connect(&mut self, fd: i32, addr: SocketAddrV4) -> CallOutcome {
        let now = self.instant();
        match self.sockets.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Socket::Udp(u)) => {
                if u.handle.is_none() {
                    match self
                        .stack
                        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
                    {
                        Ok(h) => u.handle = Some(h),
                        Err(e) => return CallOutcome::Err(stack_errno(e)),
                    }
                }
                u.peer = Some(addr);
                ok(0)
            }
            Some(Socket::Tcp(t)) => match t.state {
                TcpSocketState::Fresh => {
                    let local = t
                        .bound
                        .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                    let options = TcpSocketOptions {
                        receive_buffer: t.receive_buffer,
                    };
                    match self.stack.tcp_connect_with(now, local, addr, options) {
                        Ok(h) => {
                            t.state = TcpSocketState::Connecting(h);
                            t.bound = self.stack.tcp_info(h).map(|i| i.local).or(t.bound);
                            let opts = std::mem::take(t);
                            self.apply_tcp_options(h, &opts);
                            if let Some(Socket::Tcp(t)) = self.sockets.get_mut(fd) {
                                *t = opts;
                            }
                            CallOutcome::Err(Errno::EINPROGRESS)
                        }
                        Err(e) => CallOutcome::Err(stack_errno(e)),
                    }
                }
                TcpSocketState::Listening(_) => CallOutcome::Err(Errno::EISCONN),
                TcpSocketState::Connected(_) => CallOutcome::Err(Errno::EISCONN),
                TcpSocketState::Connecting(h) => match self.stack.tcp_state(h) {
                    Some(TcpState::SynSent | TcpState::SynReceived) => {
                        CallOutcome::Err(Errno::EALREADY)
                    }
                    Some(TcpState::Closed) | None => CallOutcome::Err(
                        t.common.pending_error.take().unwrap_or(Errno::ECONNABORTED),
                    ),
                    Some(_) => {
                        // Linux: the connect that sees the handshake done returns 0, later
                        // ones EISCONN.
                        t.state = TcpSocketState::Connected(h);
                        ok(0)
                    }
                },
            },
        }
    }

    fn write(
        &mut self,
        fd: i32,
        data: &[u8],
        urgent: bool,
        to: Option<SocketAddrV4>,
    ) -> CallOutcome {
        let now = self.instant();
        let udp_target = match self.sockets.get_mut(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Socket::Tcp(t)) => {
                if let Some(e) = t.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let (TcpSocketState::Connecting(h) | TcpSocketState::Connected(h)) = t.state else {
                    // Linux: writing to a stream socket that is not connected is EPIPE.
                    return CallOutcome::Err(Errno::EPIPE);
                };
                // A non-blocking socket cannot write before the handshake completes (the
                // stack would queue the data; Linux says EAGAIN).
                if matches!(
                    self.stack.tcp_state(h),
                    Some(TcpState::SynSent | TcpState::SynReceived)
                ) {
                    return CallOutcome::Err(Errno::EWOULDBLOCK);
                }
                let r = if urgent {
                    self.stack.tcp_send_urgent(now, h, data)
                } else {
                    self.stack.tcp_send(now, h, data)
                };
                return match r {
                    Ok(0) if !data.is_empty() => CallOutcome::Err(Errno::EWOULDBLOCK),
                    Ok(n) => ok(n as i64),
                    // The error was reported once already; now the stream is just gone.
                    Err(StackError::NotConnected | StackError::Tcp(_)) => {
                        CallOutcome::Err(Errno::EPIPE)
                    }
                    Err(e) => CallOutcome::Err(stack_errno(e)),
                };
            }
            Some(Socket::Udp(u)) => {
                if urgent {
                    return CallOutcome::Err(Errno::EOPNOTSUPP);
                }
                if let Some(e) = u.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let Some(dest) = to.or(u.peer) else {
                    return CallOutcome::Err(Errno::EDESTADDRREQ);
                };
                if u.handle.is_none() {
                    match self
                        .stack
                        .udp_bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
                    {
                        Ok(h) => u.handle = Some(h),
                        Err(e) => return CallOutcome::Err(stack_errno(e)),
                    }
                }
                (u.handle, dest, (u.ttl, u.multicast_ttl))
            }
        };
        let (Some(h), dest, (ttl, multicast_ttl)) = udp_target else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let ip = &self.stack.config().ip;
        let (default_ttl, default_multicast_ttl) = (ip.default_ttl, ip.default_multicast_ttl);
        let _ = self.stack.udp_set_ttl(h, ttl.unwrap_or(default_ttl));
        let _ = self
            .stack
            .udp_set_multicast_ttl(h, multicast_ttl.unwrap_or(default_multicast_ttl));
        match self.stack.udp_send_to(now, h, dest, data) {
            Ok(()) => ok(data.len() as i64),
            Err(e) => CallOutcome::Err(stack_errno(e)),
        }
    }

    fn read(&mut self, fd: i32, len: usize) -> CallOutcome {
        let now = self.instant();
        // Reads are bounded by what a socket can hold, whatever length the script asks for.
        let len = len.min(1 << 20);
        match self.sockets.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Socket::Tcp(t)) => {
                if let Some(e) = t.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let h = match t.state {
                    TcpSocketState::Fresh | TcpSocketState::Listening(_) => {
                        return CallOutcome::Err(Errno::ENOTCONN)
                    }
                    TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) => h,
                };
                if t.read_shut {
                    return ok_data(Vec::new(), None);
                }
                let peer = self.stack.tcp_info(h).map(|i| i.remote);
                let mut buf = vec![0u8; len];
                match self.stack.tcp_recv(now, h, &mut buf) {
                    Ok(n) => {
                        buf.truncate(n);
                        ok_data(buf, peer)
                    }
                    Err(StackError::WouldBlock) => CallOutcome::Err(Errno::EWOULDBLOCK),
                    // Reported once already (the pending error); then end of stream.
                    Err(StackError::Tcp(_) | StackError::NotConnected) => ok_data(Vec::new(), peer),
                    Err(e) => CallOutcome::Err(stack_errno(e)),
                }
            }
            Some(Socket::Udp(u)) => {
                if let Some(e) = u.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let Some(h) = u.handle else {
                    return CallOutcome::Err(Errno::EWOULDBLOCK);
                };
                loop {
                    match self.stack.udp_recv_from(h) {
                        Ok(Some(d)) => {
                            if u.peer.is_some_and(|p| p != d.source) {
                                continue; // a connected socket hears only its peer
                            }
                            let mut data = d.payload;
                            data.truncate(len);
                            return ok_data(data, Some(d.source));
                        }
                        Ok(None) => return CallOutcome::Err(Errno::EWOULDBLOCK),
                        Err(e) => return CallOutcome::Err(stack_errno(e)),
                    }
                }
            }
        }
    }

    fn shutdown_socket(&mut self, fd: i32, how: ShutdownHow) -> CallOutcome {
        let now = self.instant();
        match self.sockets.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Socket::Udp(_)) => CallOutcome::Err(Errno::ENOTCONN),
            Some(Socket::Tcp(t)) => {
                let (TcpSocketState::Connecting(h) | TcpSocketState::Connected(h)) = t.state else {
                    return CallOutcome::Err(Errno::ENOTCONN);
                };
                if matches!(how, ShutdownHow::Read | ShutdownHow::Both) {
                    t.read_shut = true;
                }
                if matches!(how, ShutdownHow::Write | ShutdownHow::Both) {
                    if let Err(e) = self.stack.tcp_shutdown(now, h) {
                        return CallOutcome::Err(stack_errno(e));
                    }
                }
                ok(0)
            }
        }
    }

    fn close(&mut self, fd: i32) -> CallOutcome {
        let now = self.instant();
        let Some(s) = self.sockets.remove(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let groups = match &s {
            Socket::Tcp(t) => t.common.groups.clone(),
            Socket::Udp(u) => u.common.groups.clone(),
        };
        for (iface, group) in groups {
            self.drop_membership(iface, group);
        }
        match s {
            Socket::Tcp(t) => match t.state {
                TcpSocketState::Fresh => {}
                TcpSocketState::Listening(h) => {
                    let _ = self.stack.tcp_close(now, h);
                }
                TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) => {
                    // SO_LINGER with a zero timeout: abort, with a reset.
                    let _ = if t.common.linger == Some(0) {
                        self.stack.tcp_abort(now, h)
                    } else {
                        self.stack.tcp_close(now, h)
                    };
                }
            },
            Socket::Udp(u) => {
                if let Some(h) = u.handle {
                    let _ = self.stack.udp_close(h);
                }
            }
        }
        ok(0)
    }

    fn drop_membership(&mut self, iface: usize, group: Ipv4Addr) {
        let now = self.instant();
        if let Some(n) = self.memberships.get_mut(&(iface, group)) {
            *n -= 1;
            if *n == 0 {
                self.memberships.remove(&(iface, group));
                let _ = self.stack.igmp_leave(now, InterfaceId(iface), group);
            }
        }
    }

    fn join_group(&mut self, fd: i32, group: Ipv4Addr, iface: usize, join: bool) -> CallOutcome {
        let now = self.instant();
        let common = match self.sockets.get_mut(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Socket::Tcp(t)) => &mut t.common,
            Some(Socket::Udp(u)) => &mut u.common,
        };
        let key = (iface, group);
        if join {
            if common.groups.contains(&key) {
                return CallOutcome::Err(Errno::EADDRINUSE); // Linux: joining twice
            }
            if !self.memberships.contains_key(&key) {
                if let Err(e) = self.stack.igmp_join(now, InterfaceId(iface), group) {
                    return CallOutcome::Err(stack_errno(e));
                }
            }
            common.groups.insert(key);
            *self.memberships.entry(key).or_insert(0) += 1;
        } else {
            if !common.groups.remove(&key) {
                return CallOutcome::Err(Errno::EADDRNOTAVAIL);
            }
            self.drop_membership(iface, group);
        }
        ok(0)
    }

    /// `poll(…, 0)`: each descriptor's state, as Linux's `tcp_poll` and `udp_poll` report it.
    fn poll(&self, requests: &[PollRequest]) -> CallOutcome {
        if requests.iter().any(|r| {
            r.events.contains(PollEvents::IN)
                && matches!(self.sockets.get(r.fd), Some(Socket::Udp(_)))
        }) {
            return CallOutcome::Unsupported(
                "POLLIN on a UDP socket (wirecheck's stack cannot tell whether a datagram \
                 waits without taking it)"
                    .to_string(),
            );
        }
        let revents: Vec<PollEvents> = requests
            .iter()
            .map(|r| self.poll_state(r.fd).reported(r.events))
            .collect();
        CallOutcome::Ok(CallOk::polled(revents))
    }

    /// Every event that holds for descriptor `fd` now (before masking with what was asked).
    ///
    /// TCP, connected: `POLLIN` when data waits or the peer's FIN came (a read would not
    /// block), `POLLPRI` when the peer's urgent pointer is ahead of what was read
    /// ([`Stack::tcp_urgent_mark`]: urgent data not yet read, the mark known), `POLLOUT` when
    /// the send buffer has room or the sending side is closed (a write fails at once),
    /// `POLLHUP` when both directions are closed, `POLLERR` with
    /// an error pending. A listener: `POLLIN` with a connection to accept. A socket never
    /// connected: `POLLOUT|POLLHUP`, as on Linux.
    fn poll_state(&self, fd: i32) -> PollEvents {
        let mut ev = PollEvents::default();
        let Some(socket) = self.sockets.get(fd) else {
            return PollEvents::NVAL;
        };
        match socket {
            Socket::Tcp(t) => {
                if t.common.pending_error.is_some() {
                    ev |= PollEvents::ERR;
                }
                match t.state {
                    TcpSocketState::Fresh => ev |= PollEvents::OUT | PollEvents::HUP,
                    TcpSocketState::Listening(l) => {
                        if self.stack.tcp_accept_ready(l) == Some(true) {
                            ev |= PollEvents::IN;
                        }
                    }
                    TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) => {
                        let state = self.stack.tcp_state(h).unwrap_or(TcpState::Closed);
                        let fin_received = matches!(
                            state,
                            TcpState::CloseWait
                                | TcpState::LastAck
                                | TcpState::Closing
                                | TcpState::TimeWait
                                | TcpState::Closed
                        );
                        let fin_sent = matches!(
                            state,
                            TcpState::FinWait1
                                | TcpState::FinWait2
                                | TcpState::Closing
                                | TcpState::LastAck
                                | TcpState::TimeWait
                                | TcpState::Closed
                        );
                        let read_shut = fin_received || t.read_shut;
                        if state == TcpState::Closed || (read_shut && fin_sent) {
                            ev |= PollEvents::HUP;
                        }
                        if read_shut {
                            ev |= PollEvents::IN;
                        }
                        if !matches!(state, TcpState::SynSent | TcpState::SynReceived) {
                            let info = self.stack.tcp_info(h);
                            if info.is_some_and(|i| i.readable > 0) {
                                ev |= PollEvents::IN;
                            }
                            if fin_sent || self.stack.tcp_send_capacity(h).is_some_and(|n| n > 0) {
                                ev |= PollEvents::OUT;
                            }
                            if self.stack.tcp_urgent_mark(h).is_some() {
                                ev |= PollEvents::PRI;
                            }
                        }
                    }
                }
            }
            Socket::Udp(u) => {
                if u.common.pending_error.is_some() {
                    ev |= PollEvents::ERR;
                }
                // Always room to send (POLLIN is refused above).
                ev |= PollEvents::OUT;
            }
        }
        ev
    }

    fn set_option(&mut self, fd: i32, option: SocketOption, value: i64) -> CallOutcome {
        let Some(s) = self.sockets.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let common = match s {
            Socket::Tcp(t) => &mut t.common,
            Socket::Udp(u) => &mut u.common,
        };
        match option {
            SocketOption::ReuseAddress => {
                common.reuse_address = value != 0;
                return ok(0);
            }
            SocketOption::Linger => {
                if value < 0 {
                    return CallOutcome::Err(Errno::EINVAL);
                }
                common.linger = Some(value);
                return ok(0);
            }
            SocketOption::Error => return CallOutcome::Err(Errno::ENOPROTOOPT),
            // The stack delivers urgent data inline only (RFC 6093 § 6), which is what
            // SO_OOBINLINE asks for; it has no out-of-band byte to keep apart.
            SocketOption::OobInline if value != 0 => return ok(0),
            SocketOption::OobInline => return CallOutcome::Unsupported(
                "wirecheck's stack delivers urgent data inline only (SO_OOBINLINE is always on)"
                    .to_string(),
            ),
            _ => {}
        }
        match s {
            Socket::Tcp(t) => {
                let handle = match t.state {
                    TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) => Some(h),
                    _ => None,
                };
                match option {
                    SocketOption::NoDelay => t.nodelay = Some(value != 0),
                    SocketOption::KeepAlive => t.keepalive = Some(value != 0),
                    SocketOption::UserTimeout => {
                        let Ok(ms) = u64::try_from(value) else {
                            return CallOutcome::Err(Errno::EINVAL);
                        };
                        t.user_timeout = Some(Duration::from_millis(ms));
                    }
                    SocketOption::ReceiveBuffer => {
                        // The stack cuts the size to its bounds; getsockopt reads it back.
                        let Ok(octets) = usize::try_from(value) else {
                            return CallOutcome::Err(Errno::EINVAL);
                        };
                        match t.state {
                            TcpSocketState::Fresh => t.receive_buffer = Some(octets),
                            TcpSocketState::Listening(l) => {
                                t.receive_buffer = Some(octets);
                                let _ = self.stack.tcp_set_receive_buffer(l, octets);
                            }
                            TcpSocketState::Connecting(_) | TcpSocketState::Connected(_) => {
                                return CallOutcome::Unsupported(
                                    "wirecheck's stack fixes a connection's receive buffer when it opens"
                                        .to_string(),
                                )
                            }
                        }
                        return ok(0);
                    }
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "wirecheck's stack has no per-socket {other:?} for TCP (its value is stack-wide)"
                        ))
                    }
                }
                let opts = TcpSocket {
                    nodelay: t.nodelay,
                    keepalive: t.keepalive,
                    user_timeout: t.user_timeout,
                    ..TcpSocket::default()
                };
                if let Some(h) = handle {
                    self.apply_tcp_options(h, &opts);
                }
                ok(0)
            }
            Socket::Udp(u) => {
                let ttl = || u8::try_from(value).ok().filter(|t| *t > 0);
                match option {
                    SocketOption::TimeToLive => match ttl() {
                        Some(t) => u.ttl = Some(t),
                        None => return CallOutcome::Err(Errno::EINVAL),
                    },
                    SocketOption::MulticastTimeToLive => match u8::try_from(value) {
                        Ok(t) => u.multicast_ttl = Some(t),
                        Err(_) => return CallOutcome::Err(Errno::EINVAL),
                    },
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "wirecheck's stack has no per-socket {other:?} for UDP"
                        ))
                    }
                }
                ok(0)
            }
        }
    }

    fn get_option(&mut self, fd: i32, option: SocketOption) -> CallOutcome {
        let config = self.stack.config().clone();
        let default_ttl = i64::from(config.ip.default_ttl);
        let Some(s) = self.sockets.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let common = match s {
            Socket::Tcp(t) => &mut t.common,
            Socket::Udp(u) => &mut u.common,
        };
        match option {
            SocketOption::Error => {
                return ok(common
                    .pending_error
                    .take()
                    .map_or(0, |e| i64::from(e.number())))
            }
            SocketOption::ReuseAddress => return ok(i64::from(common.reuse_address)),
            SocketOption::Linger => return ok(common.linger.unwrap_or(0)),
            SocketOption::OobInline => return ok(1),
            _ => {}
        }
        match s {
            Socket::Tcp(t) => {
                let handle = match t.state {
                    TcpSocketState::Connecting(h) | TcpSocketState::Connected(h) => Some(h),
                    _ => None,
                };
                let value = match option {
                    SocketOption::NoDelay => i64::from(t.nodelay.unwrap_or(!config.tcp.nagle)),
                    SocketOption::KeepAlive => i64::from(t.keepalive.unwrap_or(false)),
                    SocketOption::UserTimeout => t
                        .user_timeout
                        .map_or(config.tcp.user_timeout.as_millis() as i64, |d| {
                            d.as_millis() as i64
                        }),
                    SocketOption::ReceiveBuffer => match t.state {
                        TcpSocketState::Listening(h)
                        | TcpSocketState::Connecting(h)
                        | TcpSocketState::Connected(h) => self.stack.tcp_receive_buffer(h),
                        TcpSocketState::Fresh => None,
                    }
                    .unwrap_or_else(|| {
                        TcpSocketOptions {
                            receive_buffer: t.receive_buffer,
                        }
                        .receive_buffer_in(&config.tcp)
                    }) as i64,
                    SocketOption::SendBuffer => config.tcp.send_buffer as i64,
                    SocketOption::MaxSegment => handle
                        .and_then(|h| self.stack.tcp_info(h))
                        .map_or(i64::from(self.profile.mss), |i| i.send_mss as i64),
                    SocketOption::TimeToLive => default_ttl,
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "{other:?} is not kept for TCP sockets by wirecheck's stack"
                        ))
                    }
                };
                ok(value)
            }
            Socket::Udp(u) => {
                let value = match option {
                    SocketOption::TimeToLive => u.ttl.map_or(default_ttl, i64::from),
                    SocketOption::MulticastTimeToLive => u.multicast_ttl.map_or(
                        i64::from(self.stack.config().ip.default_multicast_ttl),
                        i64::from,
                    ),
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "{other:?} is not kept for UDP sockets by wirecheck's stack"
                        ))
                    }
                };
                ok(value)
            }
        }
    }
}

impl Target for BuiltinTarget {
    fn name(&self) -> &str {
        "builtin"
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn configure(&mut self, network: &Network) -> Result<(), TargetError> {
        if network.interfaces.is_empty() {
            return Err(TargetError("the network has no interface".to_string()));
        }
        let mut stack = Stack::new(Self::config(network.interfaces.len() > 1));
        let now = self.instant();
        for (i, setup) in network.interfaces.iter().enumerate() {
            let config = InterfaceConfig {
                mac: setup.mac,
                mtu: setup.mtu,
                address: Some(Ipv4Cidr::new(setup.address, setup.prefix_len)),
            };
            stack.add_interface(now, config).map_err(|e| {
                TargetError(format!(
                    "interface {i} ({}/{}): {e:?}",
                    setup.address, setup.prefix_len
                ))
            })?;
        }
        // The default route goes through the gateway on the interface whose subnet holds it.
        let gateway_iface = network
            .interfaces
            .iter()
            .position(|s| Ipv4Cidr::new(s.address, s.prefix_len).contains(network.gateway_ip))
            .ok_or_else(|| {
                TargetError(format!(
                    "the gateway {} is on none of the target's subnets",
                    network.gateway_ip
                ))
            })?;
        stack
            .add_route(Route::default_via(
                network.gateway_ip,
                InterfaceId(gateway_iface),
            ))
            .map_err(|e| TargetError(format!("default route via {}: {e:?}", network.gateway_ip)))?;
        self.stack = stack;
        self.network = network.clone();
        self.sockets = FdTable::default();
        self.memberships.clear();
        // The gratuitous ARPs announcing the addresses are kept: the target did send them.
        self.collect();
        Ok(())
    }

    fn interface_mac(&self, index: usize) -> MacAddr {
        self.stack
            .mac(InterfaceId(index))
            .or_else(|| self.network.interfaces.get(index).map(|i| i.mac))
            .unwrap_or(MacAddr::ZERO)
    }

    fn now(&self) -> Duration {
        self.now
    }

    fn advance_to(&mut self, at: Duration) {
        let end = Instant::from_micros(micros(at));
        for _ in 0..MAX_TIMER_STEPS {
            match self.stack.poll_timeout() {
                Some(deadline) if deadline <= end => {
                    let t = deadline.max(self.instant());
                    self.now = Duration::from_micros(t.as_micros());
                    self.stack.handle_timeout(t);
                    self.collect();
                }
                _ => break,
            }
        }
        if at > self.now {
            self.now = at;
        }
    }

    fn inject(&mut self, interface: usize, frame: &[u8]) {
        let now = self.instant();
        self.stack.handle_frame(now, InterfaceId(interface), frame);
        self.collect();
    }

    /// Every frame goes through the stack before anything is polled: an ACK that falls due
    /// while handling the batch goes out once, after it.
    fn inject_batch(&mut self, frames: &[(usize, Vec<u8>)]) {
        let now = self.instant();
        for (interface, frame) in frames {
            self.stack.handle_frame(now, InterfaceId(*interface), frame);
        }
        self.collect();
    }

    fn takes_batches_at_once(&self) -> bool {
        true
    }

    fn take_sent(&mut self) -> Vec<SentFrame> {
        std::mem::take(&mut self.sent)
    }

    fn call(&mut self, call: &SocketCall) -> CallOutcome {
        let outcome = match call {
            SocketCall::Socket { kind } => self.socket(*kind),
            SocketCall::Bind { fd, addr } => self.bind(*fd, *addr),
            SocketCall::Listen { fd, backlog } => self.listen(*fd, *backlog),
            SocketCall::Accept { fd } => self.accept(*fd),
            SocketCall::Connect { fd, addr } => self.connect(*fd, *addr),
            SocketCall::Write { fd, data } => self.write(*fd, data, false, None),
            SocketCall::WriteUrgent { fd, data } => self.write(*fd, data, true, None),
            SocketCall::Read { fd, len } | SocketCall::RecvFrom { fd, len } => self.read(*fd, *len),
            SocketCall::SendTo { fd, data, addr } => self.write(*fd, data, false, Some(*addr)),
            SocketCall::Shutdown { fd, how } => self.shutdown_socket(*fd, *how),
            SocketCall::Close { fd } => self.close(*fd),
            SocketCall::SetOption { fd, option, value } => self.set_option(*fd, *option, *value),
            SocketCall::GetOption { fd, option } => self.get_option(*fd, *option),
            SocketCall::SetNonBlocking { fd, .. } => match self.sockets.get(*fd) {
                Some(_) => ok(0),
                None => CallOutcome::Err(Errno::EBADF),
            },
            SocketCall::JoinGroup {
                fd,
                group,
                interface,
            } => self.join_group(*fd, *group, *interface, true),
            SocketCall::LeaveGroup {
                fd,
                group,
                interface,
            } => self.join_group(*fd, *group, *interface, false),
            SocketCall::Poll { fds } => self.poll(fds),
        };
        self.collect();
        outcome
    }

    fn shutdown(&mut self) {
        let fds: Vec<i32> = self.sockets.iter().map(|(fd, _)| fd).collect();
        for fd in fds {
            let _ = self.close(fd);
        }
        self.collect();
    }
}

/// The window scale that lets `buffer` octets be advertised: the smallest shift that brings
/// it under 2¹⁶ [RFC 7323 § 2.3], the stack's rule.
fn scale_for(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 65_535 {
        shift += 1;
    }
    shift
}

fn ok(value: i64) -> CallOutcome {
    CallOutcome::Ok(CallOk::value(value))
}

fn ok_data(data: Vec<u8>, peer: Option<SocketAddrV4>) -> CallOutcome {
    CallOutcome::Ok(CallOk {
        value: data.len() as i64,
        data,
        peer,
        ..CallOk::default()
    })
}

/// The errno a failed connection reports, as Linux chooses it: a timeout after a soft ICMP
/// error reports that error (RFC 1122 § 4.2.3.9 lets the application see it).
fn tcp_errno(error: TcpError, soft: Option<NetworkError>) -> Errno {
    match error {
        TcpError::Refused => Errno::ECONNREFUSED,
        TcpError::Reset => Errno::ECONNRESET,
        TcpError::TimedOut => soft.map_or(Errno::ETIMEDOUT, |e| network_errno(e.kind)),
        TcpError::Unreachable(e) => network_errno(e.kind),
    }
}

/// The errno for an ICMP error, as Linux's `icmp_err_convert` table.
fn network_errno(kind: NetworkErrorKind) -> Errno {
    match kind {
        NetworkErrorKind::NetUnreachable => Errno::ENETUNREACH,
        NetworkErrorKind::HostUnreachable => Errno::EHOSTUNREACH,
        NetworkErrorKind::ProtocolUnreachable => Errno::ENOPROTOOPT,
        NetworkErrorKind::PortUnreachable => Errno::ECONNREFUSED,
        NetworkErrorKind::FragmentationNeeded { .. } => Errno::EMSGSIZE,
        NetworkErrorKind::SourceRouteFailed => Errno::EOPNOTSUPP,
        NetworkErrorKind::Unreachable(_) => Errno::EHOSTUNREACH,
        NetworkErrorKind::TtlExceeded
        | NetworkErrorKind::ReassemblyTimeExceeded
        | NetworkErrorKind::ParameterProblem { .. }
        | NetworkErrorKind::SourceQuench => Errno::EHOSTUNREACH,
    }
}

/// The errno for a failed stack call.
fn stack_errno(e: StackError) -> Errno {
    match e {
        StackError::NoRoute => Errno::ENETUNREACH,
        StackError::InvalidInterface
        | StackError::TooManyInterfaces
        | StackError::MtuTooSmall
        | StackError::RouteTableFull
        | StackError::BadPrefix
        | StackError::NotMulticast
        | StackError::InvalidDestination => Errno::EINVAL,
        StackError::AddressInUse => Errno::EADDRINUSE,
        StackError::AddressNotAvailable | StackError::NoFreePort | StackError::NotJoined => {
            Errno::EADDRNOTAVAIL
        }
        StackError::TooManySockets | StackError::TooManyGroups => Errno::ENOBUFS,
        StackError::InvalidHandle => Errno::EBADF,
        StackError::MessageTooLong => Errno::EMSGSIZE,
        StackError::WouldBlock => Errno::EWOULDBLOCK,
        StackError::NotConnected => Errno::ENOTCONN,
        StackError::Tcp(e) => tcp_errno(e, None),
    }
}
