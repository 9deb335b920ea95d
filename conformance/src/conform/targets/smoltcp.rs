//! [`SmoltcpTarget`]: smoltcp 0.14 as a conformance target, in process and in virtual time.
//!
//! What this module owns: a [`Device`] that queues injected frames and collects transmitted
//! ones; the clock (smoltcp's `Instant` from the runner's `Duration`); polling at smoltcp's
//! own deadlines ([`Interface::poll_at`]) so that each frame is stamped with the time of the
//! poll that produced it; and BSD socket semantics over smoltcp's socket API.
//!
//! Where smoltcp's model differs from BSD sockets, the adapter bridges it as follows (the
//! profile says so, so scenarios that depend on the difference are not applicable):
//!
//! - **No accept queue.** A smoltcp TCP socket in LISTEN *becomes* the connection. `accept`
//!   hands the listening socket over as the connection (under a new descriptor) once it is
//!   established, and puts a fresh socket in LISTEN on the same endpoint behind the
//!   listener's descriptor. Until then a second SYN finds no listener: SYN and accept
//!   backlogs are 1.
//! - **No error reporting.** smoltcp just moves a socket to CLOSED. The adapter infers the
//!   errno from what closed it: during input from SYN-SENT, `ECONNREFUSED`; during input
//!   otherwise, `ECONNRESET`; during a timer, `ETIMEDOUT` (smoltcp gives up only through its
//!   optional timeout). Hence the profile leaves out `socket-errors`.
//! - **One interface.** An `Interface` drives one device; the target takes one interface.
//! - **Fixed buffers.** Buffers are given at socket creation: 64 KiB each way, like
//!   wirecheck's stack's defaults; `SO_RCVBUF`/`SO_SNDBUF` on a fresh socket recreate it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use ::smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use ::smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use ::smoltcp::socket::{tcp, udp};
use ::smoltcp::time::{Duration as SmolDuration, Instant as SmolInstant};
use ::smoltcp::wire::{
    EthernetAddress, HardwareAddress, IpAddress, IpCidr, IpEndpoint, IpListenEndpoint,
};
use wirecheck_codec::ethernet::MacAddr;

use super::{micros, FdTable, MAX_DESCRIPTORS, MAX_TIMER_STEPS};
use crate::conform::target::{
    CallOk, CallOutcome, Errno, Network, PollEvents, PollRequest, Profile, SentFrame, ShutdownHow,
    SocketCall, SocketKind, SocketOption, Target, TargetError,
};

/// The interface's random seed (ISNs, IP IDs): fixed, for repeatable runs.
pub const SEED: u64 = 0x5EED_C0FF_EE00;

/// Receive and send buffer of each TCP socket, octets.
pub const TCP_BUFFER: usize = 64 * 1024;
/// Payload buffer of each UDP socket, octets, each way.
pub const UDP_BUFFER: usize = 64 * 1024;
/// Datagrams a UDP socket queues, each way.
pub const UDP_PACKETS: usize = 64;
/// Largest buffer `SO_RCVBUF`/`SO_SNDBUF` may ask for.
pub const MAX_BUFFER: usize = 1 << 20;
/// Frames waiting in the device to be read by smoltcp (injection polls at once, so one
/// is the usual count).
pub const MAX_RX_QUEUE: usize = 64;
/// Frames sent and not yet taken by the runner; more are dropped.
pub const MAX_TX_QUEUE: usize = 100_000;
/// Closed descriptors whose TCP sockets still finish their closing handshake; past this the
/// oldest is aborted.
pub const MAX_ORPHANS: usize = 1024;

/// smoltcp's RTO before any RTT sample and its lower bound: `RTTE_INITIAL_RTO` and
/// `RTTE_MIN_RTO` (1000 ms each) in `socket/tcp.rs` — private constants, so restated here;
/// the shared target tests check the SYN retransmission against this value on the wire.
const SMOLTCP_RTO: Duration = Duration::from_millis(1000);
/// smoltcp's TIME-WAIT: `CLOSE_DELAY` (10 s) in `socket/tcp.rs`. It has no MSL of its own.
const SMOLTCP_TIME_WAIT: Duration = Duration::from_secs(10);
/// Keep-alive interval `SO_KEEPALIVE` turns on: the RFC 1122 § 4.2.3.6 default idle time
/// (smoltcp sends a keep-alive each interval of idleness and never gives up by itself).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(7200);

/// The device between smoltcp and the runner: injected frames in, sent frames out.
#[derive(Debug)]
struct Wire {
    mtu: usize,
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
    tx_dropped: u64,
}

impl Device for Wire {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: SmolInstant) -> Option<(RxToken, TxToken<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((
            RxToken(frame),
            TxToken {
                tx: &mut self.tx,
                dropped: &mut self.tx_dropped,
            },
        ))
    }

    fn transmit(&mut self, _now: SmolInstant) -> Option<TxToken<'_>> {
        Some(TxToken {
            tx: &mut self.tx,
            dropped: &mut self.tx_dropped,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        // smoltcp's MTU on Ethernet counts the 14-octet header.
        caps.max_transmission_unit = self.mtu + 14;
        caps
    }
}

struct RxToken(Vec<u8>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

struct TxToken<'a> {
    tx: &'a mut Vec<Vec<u8>>,
    dropped: &'a mut u64,
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        // Padded to the Ethernet minimum, as the NIC would.
        let mut frame = vec![0u8; len.max(60)];
        let r = f(&mut frame[..len]);
        if self.tx.len() < MAX_TX_QUEUE {
            self.tx.push(frame);
        } else {
            *self.dropped += 1;
        }
        r
    }
}

/// What made smoltcp run: decides which errno a connection that closed by itself gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Input,
    Timer,
    Call,
}

#[derive(Debug, Default)]
struct Common {
    reuse_address: bool,
    linger: Option<i64>,
    pending_error: Option<Errno>,
    groups: BTreeSet<(usize, Ipv4Addr)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TcpPhase {
    #[default]
    Fresh,
    Listening,
    /// `connect` returned `EINPROGRESS`; its outcome is not yet reported to a `connect`.
    Connecting,
    Connected,
    /// The connection closed by itself (reset, refused, timed out) or completed its close.
    Gone,
}

#[derive(Debug)]
struct TcpSock {
    common: Common,
    handle: SocketHandle,
    phase: TcpPhase,
    bound: Option<SocketAddrV4>,
    /// smoltcp's state at the last look, to tell how a connection ended.
    last_state: tcp::State,
    read_shut: bool,
    write_shut: bool,
    rx_buffer: usize,
    tx_buffer: usize,
}

#[derive(Debug)]
struct UdpSock {
    common: Common,
    handle: SocketHandle,
    bound: bool,
    peer: Option<SocketAddrV4>,
    ttl: Option<u8>,
    multicast_ttl: Option<u8>,
}

#[derive(Debug)]
enum Sock {
    Tcp(TcpSock),
    Udp(UdpSock),
}

/// smoltcp 0.14, driven in virtual time.
pub struct SmoltcpTarget {
    profile: Profile,
    wire: Wire,
    iface: Option<Interface>,
    sockets: SocketSet<'static>,
    fds: FdTable<Sock>,
    /// TCP sockets of closed descriptors, kept until they reach CLOSED.
    orphans: VecDeque<SocketHandle>,
    memberships: BTreeMap<Ipv4Addr, usize>,
    network: Network,
    now: Duration,
    sent: Vec<SentFrame>,
    next_ephemeral: u16,
}

impl std::fmt::Debug for SmoltcpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmoltcpTarget")
            .field("now", &self.now)
            .field("fds", &self.fds)
            .field("orphans", &self.orphans.len())
            .finish_non_exhaustive()
    }
}

impl Default for SmoltcpTarget {
    fn default() -> SmoltcpTarget {
        SmoltcpTarget::new()
    }
}

/// The IANA ephemeral range (smoltcp leaves local ports to the application).
const EPHEMERAL_PORTS: (u16, u16) = (49152, 65535);

impl SmoltcpTarget {
    /// A target with no interface yet ([`Target::configure`] adds it).
    pub fn new() -> SmoltcpTarget {
        SmoltcpTarget {
            profile: Self::profile(),
            wire: Wire {
                mtu: 1500,
                rx: VecDeque::new(),
                tx: Vec::new(),
                tx_dropped: 0,
            },
            iface: None,
            sockets: SocketSet::new(Vec::new()),
            fds: FdTable::default(),
            orphans: VecDeque::new(),
            memberships: BTreeMap::new(),
            network: Network::default(),
            now: Duration::ZERO,
            sent: Vec::new(),
            next_ephemeral: EPHEMERAL_PORTS.0,
        }
    }

    /// smoltcp's choices: read from a fresh socket where smoltcp exposes them, restated from
    /// its source (with the place named) where it does not.
    pub fn profile() -> Profile {
        let probe = new_tcp_socket(TCP_BUFFER, TCP_BUFFER);
        let delayed_ack = probe
            .ack_delay()
            .map_or(Duration::ZERO, |d| Duration::from_micros(d.total_micros()));
        let mss: u16 = 1500 - 40;
        Profile {
            name: "smoltcp".to_string(),
            // Absent: forwarding (a host only), multiple-interfaces (one device per
            // interface), timestamps (off unless a TSval generator is installed), sack (it
            // offers SACK and sends blocks but recovers without them, no RFC 6675), urgent
            // (URG is ignored), icmp-timestamp (only echo requests are answered), ecn, igmp
            // (IGMPv1/v2 only, and the report delays are not in `poll_at`, so they cannot be
            // timed), socket-errors (see the module docs), time-wait-reopen (a SYN in TIME-WAIT
            // is dropped), dsack (duplicates are not reported),
            // half-duplex-close (`close` sends a FIN and the socket goes on receiving).
            features: [
                "tcp",
                "udp",
                "icmp",
                "arp",
                "reassembly",
                "fragmentation",
                "mss",
                "initial-window-rfc5681",
                "window-scaling",
                "challenge-ack",
                "keepalive",
                "user-timeout",
                "half-close",
                "simultaneous-open",
                "linger",
                // SO_RCVBUF on a fresh socket recreates it with that buffer.
                "exact-receive-buffer",
            ]
            .into_iter()
            .collect(),
            // No congestion controller is compiled in (smoltcp's default features have
            // neither `socket-tcp-reno` nor `socket-tcp-cubic`): the first flight is what the
            // send buffer and the peer's window allow.
            initial_window_segments: (TCP_BUFFER / usize::from(mss)) as u32,
            initial_rto: SMOLTCP_RTO,
            min_rto: SMOLTCP_RTO,
            delayed_ack,
            msl: SMOLTCP_TIME_WAIT / 2,
            time_wait: SMOLTCP_TIME_WAIT,
            syn_backlog: 1,
            accept_backlog: 1,
            initial_receive_window: TCP_BUFFER.min(65_535) as u32,
            // smoltcp's shift: the bits of the buffer size beyond 16 (`remote_win_shift`).
            window_scale: Some(window_shift(TCP_BUFFER)),
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

    fn instant(&self) -> SmolInstant {
        SmolInstant::from_micros(i64::try_from(micros(self.now)).unwrap_or(i64::MAX))
    }

    /// Polls smoltcp at the current time; collects what it sent and looks at the sockets.
    fn poll(&mut self, cause: Cause) -> bool {
        let now = self.instant();
        let Some(iface) = self.iface.as_mut() else {
            return false;
        };
        let changed = iface.poll(now, &mut self.wire, &mut self.sockets);
        let sent = !self.wire.tx.is_empty();
        for bytes in self.wire.tx.drain(..) {
            self.sent.push(SentFrame {
                at: self.now,
                interface: 0,
                bytes,
            });
        }
        self.observe(cause);
        sent || changed == ::smoltcp::iface::PollResult::SocketStateChanged
    }

    /// Notices connections that ended by themselves and frees finished orphans.
    fn observe(&mut self, cause: Cause) {
        for (_, s) in self.fds.iter_mut() {
            let Sock::Tcp(t) = s else { continue };
            let state = self.sockets.get::<tcp::Socket>(t.handle).state();
            let before = t.last_state;
            t.last_state = state;
            if t.phase == TcpPhase::Listening && state == tcp::State::Closed {
                // The connection the listening socket had become died before `accept`
                // (a reset): the descriptor listens again, as a BSD listener would.
                if let Some(local) = t.bound {
                    let socket = self.sockets.get_mut::<tcp::Socket>(t.handle);
                    if socket.listen(listen_endpoint(local)).is_ok() {
                        t.last_state = tcp::State::Listen;
                    }
                }
                continue;
            }
            if state != tcp::State::Closed || before == tcp::State::Closed {
                continue;
            }
            if !matches!(t.phase, TcpPhase::Connecting | TcpPhase::Connected) {
                continue;
            }
            t.phase = TcpPhase::Gone;
            let error = match (cause, before) {
                // A connection that completed its closing handshake ended normally.
                (_, tcp::State::TimeWait | tcp::State::LastAck) if t.write_shut => None,
                (Cause::Timer, _) => Some(Errno::ETIMEDOUT),
                (_, tcp::State::SynSent) => Some(Errno::ECONNREFUSED),
                _ => Some(Errno::ECONNRESET),
            };
            if t.common.pending_error.is_none() {
                t.common.pending_error = error;
            }
        }
        let sockets = &mut self.sockets;
        self.orphans.retain(|&h| {
            let closed = sockets.get::<tcp::Socket>(h).state() == tcp::State::Closed;
            if closed {
                sockets.remove(h);
            }
            !closed
        });
    }

    fn context(&mut self) -> Option<&mut ::smoltcp::iface::Context> {
        self.iface.as_mut().map(|i| i.context())
    }

    fn ephemeral_port(&mut self) -> Result<u16, Errno> {
        let (low, high) = EPHEMERAL_PORTS;
        for _ in 0..=u32::from(high - low) {
            let port = self.next_ephemeral;
            self.next_ephemeral = if port >= high { low } else { port + 1 };
            let taken = self.fds.iter().any(|(_, s)| match s {
                Sock::Tcp(t) => t.bound.is_some_and(|b| b.port() == port),
                Sock::Udp(u) => {
                    u.bound && self.sockets.get::<udp::Socket>(u.handle).endpoint().port == port
                }
            });
            if !taken {
                return Ok(port);
            }
        }
        Err(Errno::EADDRNOTAVAIL)
    }

    fn is_local(&self, addr: Ipv4Addr) -> bool {
        addr.is_unspecified()
            || self
                .iface
                .as_ref()
                .is_some_and(|i| i.has_ip_addr(IpAddress::Ipv4(addr)))
    }

    fn socket(&mut self, kind: SocketKind) -> CallOutcome {
        if self.fds.iter().count() >= MAX_DESCRIPTORS {
            return CallOutcome::Err(Errno::ENOBUFS);
        }
        let s = match kind {
            SocketKind::Stream => {
                let handle = self.sockets.add(new_tcp_socket(TCP_BUFFER, TCP_BUFFER));
                Sock::Tcp(TcpSock {
                    common: Common::default(),
                    handle,
                    phase: TcpPhase::Fresh,
                    bound: None,
                    last_state: tcp::State::Closed,
                    read_shut: false,
                    write_shut: false,
                    rx_buffer: TCP_BUFFER,
                    tx_buffer: TCP_BUFFER,
                })
            }
            SocketKind::Datagram => {
                let handle = self.sockets.add(new_udp_socket());
                Sock::Udp(UdpSock {
                    common: Common::default(),
                    handle,
                    bound: false,
                    peer: None,
                    ttl: None,
                    multicast_ttl: None,
                })
            }
        };
        match self.fds.insert(s) {
            Ok(fd) => ok(i64::from(fd)),
            Err(e) => CallOutcome::Err(e),
        }
    }

    fn bind(&mut self, fd: i32, addr: SocketAddrV4) -> CallOutcome {
        if !self.is_local(*addr.ip()) && !addr.ip().is_multicast() {
            return CallOutcome::Err(Errno::EADDRNOTAVAIL);
        }
        let addr = if addr.port() == 0 {
            match self.ephemeral_port() {
                Ok(p) => SocketAddrV4::new(*addr.ip(), p),
                Err(e) => return CallOutcome::Err(e),
            }
        } else {
            addr
        };
        let in_use = |fds: &FdTable<Sock>, sockets: &SocketSet<'_>, tcp: bool, reuse: bool| {
            fds.iter().any(|(other, s)| {
                let (port, ip, other_reuse, listening) = match s {
                    Sock::Tcp(t) if tcp && other != fd => match t.bound {
                        Some(b) => (
                            b.port(),
                            *b.ip(),
                            t.common.reuse_address,
                            t.phase == TcpPhase::Listening,
                        ),
                        None => return false,
                    },
                    Sock::Udp(u) if !tcp && other != fd && u.bound => {
                        let ep = sockets.get::<udp::Socket>(u.handle).endpoint();
                        let ip = match ep.addr {
                            Some(IpAddress::Ipv4(a)) => a,
                            _ => Ipv4Addr::UNSPECIFIED,
                        };
                        (ep.port, ip, u.common.reuse_address, false)
                    }
                    _ => return false,
                };
                port == addr.port()
                    && (ip == *addr.ip() || ip.is_unspecified() || addr.ip().is_unspecified())
                    && !(reuse && other_reuse && !listening)
            })
        };
        match self.fds.get(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Sock::Tcp(t)) => {
                if t.bound.is_some() || t.phase != TcpPhase::Fresh {
                    return CallOutcome::Err(Errno::EINVAL);
                }
                if in_use(&self.fds, &self.sockets, true, t.common.reuse_address) {
                    return CallOutcome::Err(Errno::EADDRINUSE);
                }
                if let Some(Sock::Tcp(t)) = self.fds.get_mut(fd) {
                    t.bound = Some(addr);
                }
                ok(0)
            }
            Some(Sock::Udp(u)) => {
                if u.bound {
                    return CallOutcome::Err(Errno::EINVAL);
                }
                if in_use(&self.fds, &self.sockets, false, u.common.reuse_address) {
                    return CallOutcome::Err(Errno::EADDRINUSE);
                }
                let handle = u.handle;
                match self
                    .sockets
                    .get_mut::<udp::Socket>(handle)
                    .bind(listen_endpoint(addr))
                {
                    Ok(()) => {
                        if let Some(Sock::Udp(u)) = self.fds.get_mut(fd) {
                            u.bound = true;
                        }
                        ok(0)
                    }
                    Err(_) => CallOutcome::Err(Errno::EINVAL),
                }
            }
        }
    }

    fn autobind_udp(&mut self, fd: i32) -> Result<SocketHandle, Errno> {
        let Some(Sock::Udp(u)) = self.fds.get(fd) else {
            return Err(Errno::EBADF);
        };
        let handle = u.handle;
        if !u.bound {
            let port = self.ephemeral_port()?;
            self.sockets
                .get_mut::<udp::Socket>(handle)
                .bind(port)
                .map_err(|_| Errno::EINVAL)?;
            if let Some(Sock::Udp(u)) = self.fds.get_mut(fd) {
                u.bound = true;
            }
        }
        Ok(handle)
    }

    fn listen(&mut self, fd: i32) -> CallOutcome {
        let (phase, bound) = match self.fds.get(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Sock::Udp(_)) => return CallOutcome::Err(Errno::EOPNOTSUPP),
            Some(Sock::Tcp(t)) => (t.phase, t.bound),
        };
        match phase {
            TcpPhase::Fresh => {}
            TcpPhase::Listening => return ok(0),
            _ => return CallOutcome::Err(Errno::EINVAL),
        }
        let local = match bound {
            Some(b) => b,
            None => match self.ephemeral_port() {
                Ok(p) => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, p),
                Err(e) => return CallOutcome::Err(e),
            },
        };
        let Some(Sock::Tcp(t)) = self.fds.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        match self
            .sockets
            .get_mut::<tcp::Socket>(t.handle)
            .listen(listen_endpoint(local))
        {
            Ok(()) => {
                t.bound = Some(local);
                t.phase = TcpPhase::Listening;
                t.last_state = tcp::State::Listen;
                ok(0)
            }
            Err(_) => CallOutcome::Err(Errno::EINVAL),
        }
    }

    /// Hands the listening socket over as the connection and listens anew (see the module
    /// docs).
    fn accept(&mut self, fd: i32) -> CallOutcome {
        let Some(Sock::Tcp(l)) = self.fds.get(fd) else {
            return match self.fds.get(fd) {
                None => CallOutcome::Err(Errno::EBADF),
                Some(_) => CallOutcome::Err(Errno::EOPNOTSUPP),
            };
        };
        if l.phase != TcpPhase::Listening {
            return CallOutcome::Err(Errno::EINVAL);
        }
        let Some(local) = l.bound else {
            return CallOutcome::Err(Errno::EINVAL);
        };
        let handle = l.handle;
        let (rx, tx) = (l.rx_buffer, l.tx_buffer);
        let socket = self.sockets.get::<tcp::Socket>(handle);
        if matches!(
            socket.state(),
            tcp::State::Listen | tcp::State::SynReceived | tcp::State::Closed
        ) {
            return CallOutcome::Err(Errno::EWOULDBLOCK);
        }
        let peer = socket.remote_endpoint().and_then(v4);
        let connection_local = socket.local_endpoint().and_then(v4);
        let state = socket.state();
        // The listener's descriptor gets a fresh socket in LISTEN, with its options.
        let mut fresh = new_tcp_socket(rx, tx);
        copy_tcp_options(self.sockets.get::<tcp::Socket>(handle), &mut fresh);
        if fresh.listen(listen_endpoint(local)).is_err() {
            return CallOutcome::Err(Errno::EINVAL);
        }
        let fresh_handle = self.sockets.add(fresh);
        let Some(Sock::Tcp(l)) = self.fds.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        l.handle = fresh_handle;
        l.last_state = tcp::State::Listen;
        let conn = TcpSock {
            common: Common {
                reuse_address: l.common.reuse_address,
                linger: l.common.linger,
                ..Common::default()
            },
            handle,
            phase: TcpPhase::Connected,
            bound: connection_local.or(Some(local)),
            last_state: state,
            read_shut: false,
            write_shut: false,
            rx_buffer: rx,
            tx_buffer: tx,
        };
        match self.fds.insert(Sock::Tcp(conn)) {
            Ok(new_fd) => CallOutcome::Ok(CallOk {
                value: i64::from(new_fd),
                peer,
                ..CallOk::default()
            }),
            Err(e) => {
                self.sockets.get_mut::<tcp::Socket>(handle).abort();
                self.orphans.push_back(handle);
                CallOutcome::Err(e)
            }
        }
    }

    fn connect(&mut self, fd: i32, addr: SocketAddrV4) -> CallOutcome {
        let (phase, bound) = match self.fds.get_mut(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Sock::Udp(_)) => {
                if let Err(e) = self.autobind_udp(fd) {
                    return CallOutcome::Err(e);
                }
                if let Some(Sock::Udp(u)) = self.fds.get_mut(fd) {
                    u.peer = Some(addr);
                }
                return ok(0);
            }
            Some(Sock::Tcp(t)) => (t.phase, t.bound),
        };
        match phase {
            TcpPhase::Fresh => {
                let local = match bound {
                    Some(b) if b.port() != 0 => b,
                    _ => match self.ephemeral_port() {
                        Ok(p) => {
                            SocketAddrV4::new(bound.map_or(Ipv4Addr::UNSPECIFIED, |b| *b.ip()), p)
                        }
                        Err(e) => return CallOutcome::Err(e),
                    },
                };
                let Some(Sock::Tcp(t)) = self.fds.get(fd) else {
                    return CallOutcome::Err(Errno::EBADF);
                };
                let handle = t.handle;
                let Some(iface) = self.iface.as_mut() else {
                    return CallOutcome::Err(Errno::ENETDOWN);
                };
                let r = self.sockets.get_mut::<tcp::Socket>(handle).connect(
                    iface.context(),
                    addr,
                    listen_endpoint(local),
                );
                match r {
                    Ok(()) => {
                        if let Some(Sock::Tcp(t)) = self.fds.get_mut(fd) {
                            t.phase = TcpPhase::Connecting;
                            t.bound = Some(local);
                            t.last_state = tcp::State::SynSent;
                        }
                        CallOutcome::Err(Errno::EINPROGRESS)
                    }
                    Err(tcp::ConnectError::Unaddressable) => CallOutcome::Err(Errno::ENETUNREACH),
                    Err(tcp::ConnectError::InvalidState) => CallOutcome::Err(Errno::EISCONN),
                }
            }
            TcpPhase::Listening | TcpPhase::Connected => CallOutcome::Err(Errno::EISCONN),
            TcpPhase::Gone => {
                let Some(Sock::Tcp(t)) = self.fds.get_mut(fd) else {
                    return CallOutcome::Err(Errno::EBADF);
                };
                CallOutcome::Err(t.common.pending_error.take().unwrap_or(Errno::ECONNABORTED))
            }
            TcpPhase::Connecting => {
                let Some(Sock::Tcp(t)) = self.fds.get_mut(fd) else {
                    return CallOutcome::Err(Errno::EBADF);
                };
                match self.sockets.get::<tcp::Socket>(t.handle).state() {
                    tcp::State::SynSent | tcp::State::SynReceived => {
                        CallOutcome::Err(Errno::EALREADY)
                    }
                    tcp::State::Closed => CallOutcome::Err(
                        t.common.pending_error.take().unwrap_or(Errno::ECONNABORTED),
                    ),
                    _ => {
                        t.phase = TcpPhase::Connected;
                        ok(0)
                    }
                }
            }
        }
    }

    fn write(&mut self, fd: i32, data: &[u8], to: Option<SocketAddrV4>) -> CallOutcome {
        match self.fds.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Sock::Tcp(t)) => {
                if let Some(e) = t.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                match t.phase {
                    TcpPhase::Connecting | TcpPhase::Connected => {}
                    _ => return CallOutcome::Err(Errno::EPIPE),
                }
                if t.write_shut {
                    return CallOutcome::Err(Errno::EPIPE);
                }
                let s = self.sockets.get_mut::<tcp::Socket>(t.handle);
                match s.state() {
                    tcp::State::SynSent | tcp::State::SynReceived => {
                        return CallOutcome::Err(Errno::EWOULDBLOCK)
                    }
                    _ if !s.may_send() => return CallOutcome::Err(Errno::EPIPE),
                    _ => {}
                }
                match s.send_slice(data) {
                    Ok(0) if !data.is_empty() => CallOutcome::Err(Errno::EWOULDBLOCK),
                    Ok(n) => ok(n as i64),
                    Err(tcp::SendError::InvalidState) => CallOutcome::Err(Errno::EPIPE),
                }
            }
            Some(Sock::Udp(u)) => {
                if let Some(e) = u.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let Some(dest) = to.or(u.peer) else {
                    return CallOutcome::Err(Errno::EDESTADDRREQ);
                };
                let ttl = if dest.ip().is_multicast() {
                    u.multicast_ttl.or(u.ttl)
                } else {
                    u.ttl
                };
                let handle = match self.autobind_udp(fd) {
                    Ok(h) => h,
                    Err(e) => return CallOutcome::Err(e),
                };
                let s = self.sockets.get_mut::<udp::Socket>(handle);
                s.set_hop_limit(ttl.filter(|t| *t > 0));
                match s.send_slice(data, dest) {
                    Ok(()) => ok(data.len() as i64),
                    Err(udp::SendError::BufferFull) => {
                        if data.len() > s.payload_send_capacity() {
                            CallOutcome::Err(Errno::EMSGSIZE)
                        } else {
                            CallOutcome::Err(Errno::EWOULDBLOCK)
                        }
                    }
                    Err(udp::SendError::Unaddressable) => CallOutcome::Err(Errno::EINVAL),
                }
            }
        }
    }

    /// `poll(…, 0)` on TCP sockets: `POLLIN` when data waits or the peer's FIN came, `POLLOUT`
    /// when the send buffer has room or the sending side is closed, `POLLHUP` when both
    /// directions are, `POLLERR` with an error pending. `POLLPRI` never: smoltcp keeps no
    /// urgent pointer. Listeners and UDP sockets are not answered.
    fn poll_fds(&mut self, requests: &[PollRequest]) -> CallOutcome {
        let mut revents = Vec::with_capacity(requests.len());
        for r in requests {
            let ev = match self.fds.get(r.fd) {
                None => PollEvents::NVAL,
                Some(Sock::Udp(_)) => {
                    return CallOutcome::Unsupported(
                        "poll on a UDP socket with smoltcp".to_string(),
                    )
                }
                Some(Sock::Tcp(t)) => {
                    let mut ev = PollEvents::default();
                    if t.common.pending_error.is_some() {
                        ev |= PollEvents::ERR;
                    }
                    match t.phase {
                        TcpPhase::Listening => {
                            return CallOutcome::Unsupported(
                                "poll on a listening socket with smoltcp".to_string(),
                            )
                        }
                        TcpPhase::Fresh => ev |= PollEvents::OUT | PollEvents::HUP,
                        TcpPhase::Gone => ev |= PollEvents::IN | PollEvents::OUT | PollEvents::HUP,
                        TcpPhase::Connecting | TcpPhase::Connected => {
                            let s = self.sockets.get::<tcp::Socket>(t.handle);
                            let state = s.state();
                            if !matches!(
                                state,
                                tcp::State::SynSent | tcp::State::SynReceived | tcp::State::Listen
                            ) {
                                let read_shut = t.read_shut || !s.may_recv();
                                let write_shut = t.write_shut || !s.may_send();
                                if s.can_recv() || read_shut {
                                    ev |= PollEvents::IN;
                                }
                                if s.can_send() || write_shut {
                                    ev |= PollEvents::OUT;
                                }
                                if read_shut && write_shut {
                                    ev |= PollEvents::HUP;
                                }
                            }
                        }
                    }
                    ev
                }
            };
            revents.push(ev.reported(r.events));
        }
        CallOutcome::Ok(CallOk::polled(revents))
    }

    fn read(&mut self, fd: i32, len: usize) -> CallOutcome {
        let len = len.min(MAX_BUFFER);
        match self.fds.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Sock::Tcp(t)) => {
                if let Some(e) = t.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                match t.phase {
                    TcpPhase::Fresh | TcpPhase::Listening => {
                        return CallOutcome::Err(Errno::ENOTCONN)
                    }
                    TcpPhase::Gone => return ok_data(Vec::new(), None),
                    TcpPhase::Connecting | TcpPhase::Connected => {}
                }
                if t.read_shut {
                    return ok_data(Vec::new(), None);
                }
                let s = self.sockets.get_mut::<tcp::Socket>(t.handle);
                let peer = s.remote_endpoint().and_then(v4);
                let mut buf = vec![0u8; len];
                match s.recv_slice(&mut buf) {
                    Ok(0) if len > 0 => CallOutcome::Err(Errno::EWOULDBLOCK),
                    Ok(n) => {
                        buf.truncate(n);
                        ok_data(buf, peer)
                    }
                    Err(tcp::RecvError::Finished) => ok_data(Vec::new(), peer),
                    Err(tcp::RecvError::InvalidState) => match s.state() {
                        tcp::State::SynSent | tcp::State::SynReceived => {
                            CallOutcome::Err(Errno::EWOULDBLOCK)
                        }
                        _ => ok_data(Vec::new(), peer),
                    },
                }
            }
            Some(Sock::Udp(u)) => {
                if let Some(e) = u.common.pending_error.take() {
                    return CallOutcome::Err(e);
                }
                let peer = u.peer;
                let s = self.sockets.get_mut::<udp::Socket>(u.handle);
                // Bounded: the socket holds at most UDP_PACKETS datagrams.
                for _ in 0..=UDP_PACKETS {
                    match s.recv() {
                        Ok((payload, meta)) => {
                            let Some(from) = v4(meta.endpoint) else {
                                continue;
                            };
                            if peer.is_some_and(|p| p != from) {
                                continue; // a connected socket hears only its peer
                            }
                            let n = payload.len().min(len);
                            return ok_data(payload[..n].to_vec(), Some(from));
                        }
                        Err(_) => break,
                    }
                }
                CallOutcome::Err(Errno::EWOULDBLOCK)
            }
        }
    }

    fn shutdown_socket(&mut self, fd: i32, how: ShutdownHow) -> CallOutcome {
        match self.fds.get_mut(fd) {
            None => CallOutcome::Err(Errno::EBADF),
            Some(Sock::Udp(_)) => CallOutcome::Err(Errno::ENOTCONN),
            Some(Sock::Tcp(t)) => {
                if !matches!(t.phase, TcpPhase::Connecting | TcpPhase::Connected) {
                    return CallOutcome::Err(Errno::ENOTCONN);
                }
                if matches!(how, ShutdownHow::Read | ShutdownHow::Both) {
                    t.read_shut = true;
                }
                if matches!(how, ShutdownHow::Write | ShutdownHow::Both) {
                    // smoltcp's close() is a half-close: FIN, receiving goes on.
                    t.write_shut = true;
                    self.sockets.get_mut::<tcp::Socket>(t.handle).close();
                }
                ok(0)
            }
        }
    }

    fn close(&mut self, fd: i32) -> CallOutcome {
        let Some(s) = self.fds.remove(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let groups = match &s {
            Sock::Tcp(t) => t.common.groups.clone(),
            Sock::Udp(u) => u.common.groups.clone(),
        };
        for (_, group) in groups {
            self.drop_membership(group);
        }
        match s {
            Sock::Tcp(t) => {
                let socket = self.sockets.get_mut::<tcp::Socket>(t.handle);
                if t.common.linger == Some(0) {
                    socket.abort(); // SO_LINGER 0: a reset
                } else {
                    socket.close();
                }
                if socket.state() == tcp::State::Closed && t.common.linger != Some(0) {
                    self.sockets.remove(t.handle);
                } else {
                    // Aborted sockets send their RST at the next poll, then are freed.
                    self.orphans.push_back(t.handle);
                    if self.orphans.len() > MAX_ORPHANS {
                        if let Some(oldest) = self.orphans.pop_front() {
                            self.sockets.get_mut::<tcp::Socket>(oldest).abort();
                            self.sockets.remove(oldest);
                        }
                    }
                }
            }
            Sock::Udp(u) => {
                self.sockets.remove(u.handle);
            }
        }
        ok(0)
    }

    fn drop_membership(&mut self, group: Ipv4Addr) {
        if let Some(n) = self.memberships.get_mut(&group) {
            *n -= 1;
            if *n == 0 {
                self.memberships.remove(&group);
                if let Some(iface) = self.iface.as_mut() {
                    let _ = iface.leave_multicast_group(IpAddress::Ipv4(group));
                }
            }
        }
    }

    fn join_group(&mut self, fd: i32, group: Ipv4Addr, iface: usize, join: bool) -> CallOutcome {
        if iface != 0 {
            return CallOutcome::Err(Errno::EADDRNOTAVAIL);
        }
        let common = match self.fds.get_mut(fd) {
            None => return CallOutcome::Err(Errno::EBADF),
            Some(Sock::Tcp(t)) => &mut t.common,
            Some(Sock::Udp(u)) => &mut u.common,
        };
        let key = (iface, group);
        if join {
            if common.groups.contains(&key) {
                return CallOutcome::Err(Errno::EADDRINUSE);
            }
            if !self.memberships.contains_key(&group) {
                let Some(i) = self.iface.as_mut() else {
                    return CallOutcome::Err(Errno::ENETDOWN);
                };
                match i.join_multicast_group(IpAddress::Ipv4(group)) {
                    Ok(()) => {}
                    Err(::smoltcp::iface::MulticastError::GroupTableFull) => {
                        return CallOutcome::Err(Errno::ENOBUFS)
                    }
                    Err(_) => return CallOutcome::Err(Errno::EINVAL),
                }
            }
            common.groups.insert(key);
            *self.memberships.entry(group).or_insert(0) += 1;
        } else {
            if !common.groups.remove(&key) {
                return CallOutcome::Err(Errno::EADDRNOTAVAIL);
            }
            self.drop_membership(group);
        }
        ok(0)
    }

    fn set_option(&mut self, fd: i32, option: SocketOption, value: i64) -> CallOutcome {
        let Some(s) = self.fds.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let common = match s {
            Sock::Tcp(t) => &mut t.common,
            Sock::Udp(u) => &mut u.common,
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
            _ => {}
        }
        match s {
            Sock::Tcp(t) => {
                if matches!(
                    option,
                    SocketOption::ReceiveBuffer | SocketOption::SendBuffer
                ) {
                    if t.phase != TcpPhase::Fresh {
                        return CallOutcome::Unsupported(
                            "smoltcp's buffers are fixed once a socket is in use".to_string(),
                        );
                    }
                    let Some(size) = usize::try_from(value)
                        .ok()
                        .filter(|v| (1..=MAX_BUFFER).contains(v))
                    else {
                        return CallOutcome::Err(Errno::EINVAL);
                    };
                    if option == SocketOption::ReceiveBuffer {
                        t.rx_buffer = size;
                    } else {
                        t.tx_buffer = size;
                    }
                    let mut fresh = new_tcp_socket(t.rx_buffer, t.tx_buffer);
                    copy_tcp_options(self.sockets.get::<tcp::Socket>(t.handle), &mut fresh);
                    self.sockets.remove(t.handle);
                    t.handle = self.sockets.add(fresh);
                    return ok(0);
                }
                let socket = self.sockets.get_mut::<tcp::Socket>(t.handle);
                match option {
                    SocketOption::NoDelay => socket.set_nagle_enabled(value == 0),
                    SocketOption::KeepAlive => socket
                        .set_keep_alive((value != 0).then(|| smol_duration(KEEPALIVE_INTERVAL))),
                    SocketOption::UserTimeout => {
                        let Ok(ms) = u64::try_from(value) else {
                            return CallOutcome::Err(Errno::EINVAL);
                        };
                        socket.set_timeout((ms > 0).then(|| SmolDuration::from_millis(ms)));
                    }
                    SocketOption::TimeToLive => match u8::try_from(value) {
                        Ok(ttl) if ttl > 0 => socket.set_hop_limit(Some(ttl)),
                        _ => return CallOutcome::Err(Errno::EINVAL),
                    },
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "smoltcp has no {other:?} for TCP sockets"
                        ))
                    }
                }
                ok(0)
            }
            Sock::Udp(u) => {
                match option {
                    SocketOption::TimeToLive => match u8::try_from(value) {
                        Ok(ttl) if ttl > 0 => u.ttl = Some(ttl),
                        _ => return CallOutcome::Err(Errno::EINVAL),
                    },
                    // smoltcp has no hop limit 0 (it panics on one): 1 keeps to the link.
                    SocketOption::MulticastTimeToLive => match u8::try_from(value) {
                        Ok(ttl) if ttl > 0 => u.multicast_ttl = Some(ttl),
                        _ => return CallOutcome::Err(Errno::EINVAL),
                    },
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "smoltcp has no {other:?} for UDP sockets"
                        ))
                    }
                }
                ok(0)
            }
        }
    }

    fn get_option(&mut self, fd: i32, option: SocketOption) -> CallOutcome {
        let Some(s) = self.fds.get_mut(fd) else {
            return CallOutcome::Err(Errno::EBADF);
        };
        let common = match s {
            Sock::Tcp(t) => &mut t.common,
            Sock::Udp(u) => &mut u.common,
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
            _ => {}
        }
        // smoltcp's IPv4 default hop limit (`DEFAULT_HOP_LIMIT`, 64).
        const DEFAULT_TTL: i64 = 64;
        match s {
            Sock::Tcp(t) => {
                let socket = self.sockets.get::<tcp::Socket>(t.handle);
                let value = match option {
                    SocketOption::NoDelay => i64::from(!socket.nagle_enabled()),
                    SocketOption::KeepAlive => i64::from(socket.keep_alive().is_some()),
                    SocketOption::UserTimeout => {
                        socket.timeout().map_or(0, |d| d.total_millis() as i64)
                    }
                    SocketOption::TimeToLive => socket.hop_limit().map_or(DEFAULT_TTL, i64::from),
                    SocketOption::ReceiveBuffer => socket.recv_capacity() as i64,
                    SocketOption::SendBuffer => socket.send_capacity() as i64,
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "smoltcp does not expose {other:?} for TCP sockets"
                        ))
                    }
                };
                ok(value)
            }
            Sock::Udp(u) => {
                let value = match option {
                    SocketOption::TimeToLive => u.ttl.map_or(DEFAULT_TTL, i64::from),
                    SocketOption::MulticastTimeToLive => {
                        u.multicast_ttl.or(u.ttl).map_or(DEFAULT_TTL, i64::from)
                    }
                    other => {
                        return CallOutcome::Unsupported(format!(
                            "smoltcp does not expose {other:?} for UDP sockets"
                        ))
                    }
                };
                ok(value)
            }
        }
    }
}

impl Target for SmoltcpTarget {
    fn name(&self) -> &str {
        "smoltcp"
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn configure(&mut self, network: &Network) -> Result<(), TargetError> {
        let [setup] = network.interfaces.as_slice() else {
            return Err(TargetError(format!(
                "the smoltcp target drives one interface, the network has {}",
                network.interfaces.len()
            )));
        };
        if setup.prefix_len > 32 {
            return Err(TargetError(format!(
                "prefix length {} is over 32",
                setup.prefix_len
            )));
        }
        let mac = EthernetAddress(setup.mac.0);
        if !mac.is_unicast() {
            return Err(TargetError(format!("{} is not a unicast MAC", setup.mac)));
        }
        self.wire = Wire {
            mtu: usize::from(setup.mtu),
            rx: VecDeque::new(),
            tx: Vec::new(),
            tx_dropped: 0,
        };
        let mut config = Config::new(HardwareAddress::Ethernet(mac));
        config.random_seed = SEED;
        let now = self.instant();
        let mut iface = Interface::new(config, &mut self.wire, now);
        let mut full = false;
        iface.update_ip_addrs(|addrs| {
            full = addrs
                .push(IpCidr::new(
                    IpAddress::Ipv4(setup.address),
                    setup.prefix_len,
                ))
                .is_err();
        });
        if full {
            return Err(TargetError("smoltcp's address table is full".to_string()));
        }
        iface
            .routes_mut()
            .add_default_ipv4_route(network.gateway_ip)
            .map_err(|_| TargetError("smoltcp's route table is full".to_string()))?;
        self.iface = Some(iface);
        self.sockets = SocketSet::new(Vec::new());
        self.fds = FdTable::default();
        self.orphans.clear();
        self.memberships.clear();
        self.network = network.clone();
        self.poll(Cause::Call);
        Ok(())
    }

    fn interface_mac(&self, index: usize) -> MacAddr {
        match (index, self.iface.as_ref().map(|i| i.hardware_addr())) {
            (0, Some(HardwareAddress::Ethernet(mac))) => MacAddr(mac.0),
            _ => self
                .network
                .interfaces
                .get(index)
                .map_or(MacAddr::ZERO, |i| i.mac),
        }
    }

    fn now(&self) -> Duration {
        self.now
    }

    fn advance_to(&mut self, at: Duration) {
        for _ in 0..MAX_TIMER_STEPS {
            let now = self.instant();
            let Some(iface) = self.iface.as_mut() else {
                break;
            };
            let Some(next) = iface.poll_at(now, &self.sockets) else {
                break;
            };
            let next = Duration::from_micros(u64::try_from(next.total_micros()).unwrap_or(0));
            if next > at {
                break;
            }
            let stuck = next <= self.now;
            self.now = self.now.max(next);
            let progressed = self.poll(Cause::Timer);
            if stuck && !progressed {
                // smoltcp asks to be polled now but has nothing to do at this instant (it
                // waits for a neighbour, say): let a millisecond pass, its clock's grain.
                self.now = (self.now + Duration::from_millis(1)).min(at);
                if self.now == at {
                    break;
                }
            }
        }
        if at > self.now {
            self.now = at;
        }
        // Timers smoltcp keeps out of `poll_at` (IGMP report delays) run at least here.
        self.poll(Cause::Timer);
    }

    fn inject(&mut self, interface: usize, frame: &[u8]) {
        if interface != 0 || self.wire.rx.len() >= MAX_RX_QUEUE {
            return;
        }
        self.wire.rx.push_back(frame.to_vec());
        self.poll(Cause::Input);
    }

    /// Every frame is queued on the device, then the interface is polled once: smoltcp's
    /// `poll` handles all received frames (and their replies) in that one call.
    fn inject_batch(&mut self, frames: &[(usize, Vec<u8>)]) {
        for (interface, frame) in frames {
            if *interface == 0 && self.wire.rx.len() < MAX_RX_QUEUE {
                self.wire.rx.push_back(frame.clone());
            }
        }
        self.poll(Cause::Input);
    }

    fn takes_batches_at_once(&self) -> bool {
        true
    }

    fn take_sent(&mut self) -> Vec<SentFrame> {
        std::mem::take(&mut self.sent)
    }

    fn call(&mut self, call: &SocketCall) -> CallOutcome {
        if self.context().is_none() {
            return CallOutcome::Err(Errno::ENETDOWN);
        }
        let outcome = match call {
            SocketCall::Socket { kind } => self.socket(*kind),
            SocketCall::Bind { fd, addr } => self.bind(*fd, *addr),
            SocketCall::Listen { fd, .. } => self.listen(*fd),
            SocketCall::Accept { fd } => self.accept(*fd),
            SocketCall::Connect { fd, addr } => self.connect(*fd, *addr),
            SocketCall::Write { fd, data } => self.write(*fd, data, None),
            SocketCall::WriteUrgent { .. } => {
                CallOutcome::Unsupported("smoltcp does not send urgent data".to_string())
            }
            SocketCall::Read { fd, len } | SocketCall::RecvFrom { fd, len } => self.read(*fd, *len),
            SocketCall::SendTo { fd, data, addr } => self.write(*fd, data, Some(*addr)),
            SocketCall::Shutdown { fd, how } => self.shutdown_socket(*fd, *how),
            SocketCall::Close { fd } => self.close(*fd),
            SocketCall::SetOption { fd, option, value } => self.set_option(*fd, *option, *value),
            SocketCall::GetOption { fd, option } => self.get_option(*fd, *option),
            SocketCall::SetNonBlocking { fd, .. } => match self.fds.get(*fd) {
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
            SocketCall::Poll { fds } => self.poll_fds(fds),
        };
        self.poll(Cause::Call);
        outcome
    }

    fn shutdown(&mut self) {
        let fds: Vec<i32> = self.fds.iter().map(|(fd, _)| fd).collect();
        for fd in fds {
            let _ = self.close(fd);
        }
        self.poll(Cause::Call);
    }
}

fn new_tcp_socket(rx: usize, tx: usize) -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; rx]),
        tcp::SocketBuffer::new(vec![0u8; tx]),
    )
}

fn new_udp_socket() -> udp::Socket<'static> {
    udp::Socket::new(
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0u8; UDP_BUFFER],
        ),
        udp::PacketBuffer::new(
            vec![udp::PacketMetadata::EMPTY; UDP_PACKETS],
            vec![0u8; UDP_BUFFER],
        ),
    )
}

/// The options a socket carries over to its replacement.
fn copy_tcp_options(from: &tcp::Socket<'_>, to: &mut tcp::Socket<'static>) {
    to.set_nagle_enabled(from.nagle_enabled());
    to.set_keep_alive(from.keep_alive());
    to.set_timeout(from.timeout());
    to.set_hop_limit(from.hop_limit());
    to.set_ack_delay(from.ack_delay());
}

/// smoltcp's window shift for a receive buffer: its bit length beyond 16.
fn window_shift(buffer: usize) -> u8 {
    let bits = usize::BITS - buffer.leading_zeros();
    bits.saturating_sub(16) as u8
}

fn smol_duration(d: Duration) -> SmolDuration {
    SmolDuration::from_micros(micros(d))
}

/// An IPv4 endpoint as a socket address (`None` for IPv6, should a build enable it).
fn v4(endpoint: IpEndpoint) -> Option<SocketAddrV4> {
    match endpoint.addr {
        IpAddress::Ipv4(a) => Some(SocketAddrV4::new(a, endpoint.port)),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// 0.0.0.0 listens on every address (smoltcp's `None`).
fn listen_endpoint(addr: SocketAddrV4) -> IpListenEndpoint {
    IpListenEndpoint {
        addr: (!addr.ip().is_unspecified()).then_some(IpAddress::Ipv4(*addr.ip())),
        port: addr.port(),
    }
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
