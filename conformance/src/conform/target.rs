//! The stack under test, seen from the runner: one trait, [`Target`], with three
//! implementations (wirecheck's stack and smoltcp in process and in virtual time, a Linux
//! kernel over TAP in real time), and the [`Profile`] that declares each target's choices
//! where the RFCs leave them open.
//!
//! The runner plays the *peer*: every frame it injects comes from the wire side, every frame
//! the target sends is collected with the time it left. The application side is driven with
//! socket-like calls named after the BSD API packetdrill scripts use, on small integer
//! descriptors the target hands out (starting at 3, as on a fresh Unix process).
//!
//! Calls never block: a call that would block returns [`Errno::EWOULDBLOCK`], and the
//! interpreter retries a blocking call as time advances and packets arrive, so the same
//! script runs on a virtual-time target and on a kernel.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use wirecheck_codec::ethernet::MacAddr;

/// The network around the target: its interface(s) and the peer the runner plays.
///
/// Defaults follow packetdrill's IPv4 defaults: the target is 192.168.0.1, the remote end is
/// 192.0.2.1 behind a gateway 192.168.0.2 on the target's /16, so TCP lines need no addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The target's interfaces; scripts name them by index (`eth0` is index 0).
    pub interfaces: Vec<InterfaceSetup>,
    /// The remote host the script's TCP/UDP/ICMP lines come from and go to.
    pub remote_ip: Ipv4Addr,
    /// The gateway the target reaches `remote_ip` through (the runner answers ARP for it).
    pub gateway_ip: Ipv4Addr,
    /// The MAC the runner uses for the gateway and any on-link peer it plays.
    pub peer_mac: MacAddr,
}

/// One interface of the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSetup {
    /// The target's MAC on this interface (for a kernel, whatever it chose; read back after
    /// setup with [`Target::interface_mac`]).
    pub mac: MacAddr,
    /// The target's address on this interface.
    pub address: Ipv4Addr,
    /// Prefix length of the on-link subnet.
    pub prefix_len: u8,
    /// Link MTU.
    pub mtu: u16,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            interfaces: vec![InterfaceSetup {
                mac: MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]),
                address: Ipv4Addr::new(192, 168, 0, 1),
                prefix_len: 16,
                mtu: 1500,
            }],
            remote_ip: Ipv4Addr::new(192, 0, 2, 1),
            gateway_ip: Ipv4Addr::new(192, 168, 0, 2),
            peer_mac: MacAddr([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]),
        }
    }
}

/// A frame the target sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFrame {
    /// When it left, measured from the start of the run (virtual or wall-clock).
    pub at: Duration,
    /// Interface index.
    pub interface: usize,
    /// The whole Ethernet frame.
    pub bytes: Vec<u8>,
}

/// Socket type for [`SocketCall::Socket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketKind {
    /// `SOCK_STREAM`, TCP.
    Stream,
    /// `SOCK_DGRAM`, UDP.
    Datagram,
}

/// `shutdown(2)` direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShutdownHow {
    /// `SHUT_RD`
    Read,
    /// `SHUT_WR`
    Write,
    /// `SHUT_RDWR`
    Both,
}

/// Socket options the runner knows how to set or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketOption {
    /// `SO_REUSEADDR` (boolean).
    ReuseAddress,
    /// `SO_KEEPALIVE` (boolean).
    KeepAlive,
    /// `SO_RCVBUF` (octets).
    ReceiveBuffer,
    /// `SO_SNDBUF` (octets).
    SendBuffer,
    /// `SO_LINGER` with `l_onoff = 1` and this `l_linger` (seconds); a zero linger aborts on close.
    Linger,
    /// `SO_ERROR` (read only; reading clears it). The value is an errno number, 0 for none.
    Error,
    /// `TCP_NODELAY` (boolean).
    NoDelay,
    /// `TCP_MAXSEG` (octets).
    MaxSegment,
    /// `TCP_USER_TIMEOUT` (milliseconds, Linux) / the stack's user timeout.
    UserTimeout,
    /// `IP_TTL`.
    TimeToLive,
    /// `IP_MULTICAST_TTL`.
    MulticastTimeToLive,
    /// `SO_OOBINLINE` (boolean): urgent data stays in the normal data stream (RFC 6093 § 6
    /// recommends it); Linux otherwise takes the last urgent octet out of the stream.
    OobInline,
}

/// `poll(2)` event bits, with Linux's values (`struct pollfd`'s `events` and `revents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PollEvents(pub u16);

impl PollEvents {
    /// `POLLIN`: data to read, or the end of the stream (a read would not block).
    pub const IN: PollEvents = PollEvents(0x001);
    /// `POLLPRI`: urgent data pending (TCP: an urgent mark ahead of the read pointer).
    pub const PRI: PollEvents = PollEvents(0x002);
    /// `POLLOUT`: room to write (a write would not block).
    pub const OUT: PollEvents = PollEvents(0x004);
    /// `POLLERR`: an error is pending (reported whether asked for or not).
    pub const ERR: PollEvents = PollEvents(0x008);
    /// `POLLHUP`: hung up (reported whether asked for or not).
    pub const HUP: PollEvents = PollEvents(0x010);
    /// `POLLNVAL`: the descriptor is not open (reported whether asked for or not).
    pub const NVAL: PollEvents = PollEvents(0x020);

    /// The bits with names, for parsing and printing; scripts may use no others.
    pub const NAMED: [(&'static str, PollEvents); 6] = [
        ("POLLIN", PollEvents::IN),
        ("POLLPRI", PollEvents::PRI),
        ("POLLOUT", PollEvents::OUT),
        ("POLLERR", PollEvents::ERR),
        ("POLLHUP", PollEvents::HUP),
        ("POLLNVAL", PollEvents::NVAL),
    ];

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: PollEvents) -> bool {
        self.0 & other.0 == other.0
    }

    /// What `poll` reports of a descriptor in state `self` when `requested` was asked for:
    /// the requested bits, and `POLLERR`, `POLLHUP` and `POLLNVAL` always.
    pub fn reported(self, requested: PollEvents) -> PollEvents {
        let always = PollEvents::ERR | PollEvents::HUP | PollEvents::NVAL;
        PollEvents(self.0 & (requested.0 | always.0))
    }
}

impl std::ops::BitOr for PollEvents {
    type Output = PollEvents;
    fn bitor(self, other: PollEvents) -> PollEvents {
        PollEvents(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for PollEvents {
    fn bitor_assign(&mut self, other: PollEvents) {
        self.0 |= other.0;
    }
}

impl std::fmt::Display for PollEvents {
    /// `POLLIN|POLLPRI`, `0` for none; bits without a name in hex.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == 0 {
            return f.write_str("0");
        }
        let mut rest = self.0;
        let mut first = true;
        for (name, bit) in PollEvents::NAMED {
            if rest & bit.0 != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !bit.0;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

/// One entry of a [`SocketCall::Poll`]: a descriptor and the events asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PollRequest {
    /// The descriptor.
    pub fd: i32,
    /// `events`.
    pub events: PollEvents,
}

/// One call on the target's application side.
///
/// Addresses given as `None` mean what packetdrill's `...` means: the script's default
/// (the target's own address for `bind`, the remote end for `connect` and `sendto`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketCall {
    /// `socket(..., SOCK_STREAM|SOCK_DGRAM, ...)`: returns a new descriptor.
    Socket { kind: SocketKind },
    /// `bind(fd, addr)`.
    Bind { fd: i32, addr: SocketAddrV4 },
    /// `listen(fd, backlog)`.
    Listen { fd: i32, backlog: u32 },
    /// `accept(fd)`: returns a new descriptor.
    Accept { fd: i32 },
    /// `connect(fd, addr)`; on a non-blocking stream socket returns `EINPROGRESS`.
    Connect { fd: i32, addr: SocketAddrV4 },
    /// `write`/`send(fd, data)`: returns the number of octets accepted.
    Write { fd: i32, data: Vec<u8> },
    /// `send(fd, data, MSG_OOB)`: urgent data.
    WriteUrgent { fd: i32, data: Vec<u8> },
    /// `read`/`recv(fd, len)`: returns the octets read (0 at end of stream) in [`CallOk::data`].
    Read { fd: i32, len: usize },
    /// `sendto(fd, data, addr)` on a datagram socket.
    SendTo {
        fd: i32,
        data: Vec<u8>,
        addr: SocketAddrV4,
    },
    /// `recvfrom(fd, len)` on a datagram socket; the sender in [`CallOk::peer`].
    RecvFrom { fd: i32, len: usize },
    /// `shutdown(fd, how)`.
    Shutdown { fd: i32, how: ShutdownHow },
    /// `close(fd)`.
    Close { fd: i32 },
    /// `setsockopt(fd, opt, value)`.
    SetOption {
        fd: i32,
        option: SocketOption,
        value: i64,
    },
    /// `getsockopt(fd, opt)`: the value in [`CallOk::value`].
    GetOption { fd: i32, option: SocketOption },
    /// `fcntl(fd, F_SETFL, O_NONBLOCK)` or clearing it. Targets may ignore this (the
    /// interpreter handles blocking itself); it is passed on for kernels.
    SetNonBlocking { fd: i32, nonblocking: bool },
    /// Extension `join_group(fd, group, interface)`: IGMP membership (`IP_ADD_MEMBERSHIP`).
    JoinGroup {
        fd: i32,
        group: Ipv4Addr,
        interface: usize,
    },
    /// Extension `leave_group(fd, group, interface)`: `IP_DROP_MEMBERSHIP`.
    LeaveGroup {
        fd: i32,
        group: Ipv4Addr,
        interface: usize,
    },
    /// `poll(fds, n, 0)`: the state of each descriptor now, without waiting. The value is the
    /// number of entries with events, and [`CallOk::revents`] holds each entry's events in
    /// order: only those asked for, and `POLLERR`, `POLLHUP` and `POLLNVAL` (an unknown
    /// descriptor) always ([`PollEvents::reported`]).
    Poll { fds: Vec<PollRequest> },
}

/// A successful call's results; which fields matter depends on the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOk {
    /// The return value (`fd` for socket/accept, octet count for write/read, 0 otherwise).
    pub value: i64,
    /// Octets read.
    pub data: Vec<u8>,
    /// The sender of a datagram or the peer of an accepted connection.
    pub peer: Option<SocketAddrV4>,
    /// `poll`: each entry's `revents`, in the order asked.
    pub revents: Vec<PollEvents>,
}

impl CallOk {
    /// A result that is just a return value.
    pub fn value(value: i64) -> CallOk {
        CallOk {
            value,
            ..CallOk::default()
        }
    }

    /// `poll`'s result: each entry's `revents`, and as the value how many are non-zero.
    pub fn polled(revents: Vec<PollEvents>) -> CallOk {
        CallOk {
            value: revents.iter().filter(|r| r.0 != 0).count() as i64,
            revents,
            ..CallOk::default()
        }
    }
}

/// The errno values scripts use, with Linux's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs, clippy::upper_case_acronyms)]
pub enum Errno {
    EPERM,
    ENOENT,
    EINTR,
    EBADF,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EINVAL,
    EPIPE,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    ENOPROTOOPT,
    EOPNOTSUPP,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
}

impl Errno {
    /// `EWOULDBLOCK` is `EAGAIN` on Linux.
    pub const EWOULDBLOCK: Errno = Errno::EAGAIN;

    /// Every errno, for name lookups.
    pub const ALL: [Errno; 30] = [
        Errno::EPERM,
        Errno::ENOENT,
        Errno::EINTR,
        Errno::EBADF,
        Errno::EAGAIN,
        Errno::ENOMEM,
        Errno::EACCES,
        Errno::EFAULT,
        Errno::EINVAL,
        Errno::EPIPE,
        Errno::ENOTSOCK,
        Errno::EDESTADDRREQ,
        Errno::EMSGSIZE,
        Errno::ENOPROTOOPT,
        Errno::EOPNOTSUPP,
        Errno::EADDRINUSE,
        Errno::EADDRNOTAVAIL,
        Errno::ENETDOWN,
        Errno::ENETUNREACH,
        Errno::ECONNABORTED,
        Errno::ECONNRESET,
        Errno::ENOBUFS,
        Errno::EISCONN,
        Errno::ENOTCONN,
        Errno::ETIMEDOUT,
        Errno::ECONNREFUSED,
        Errno::EHOSTDOWN,
        Errno::EHOSTUNREACH,
        Errno::EALREADY,
        Errno::EINPROGRESS,
    ];

    /// Linux's number for this errno.
    pub fn number(self) -> i32 {
        match self {
            Errno::EPERM => 1,
            Errno::ENOENT => 2,
            Errno::EINTR => 4,
            Errno::EBADF => 9,
            Errno::EAGAIN => 11,
            Errno::ENOMEM => 12,
            Errno::EACCES => 13,
            Errno::EFAULT => 14,
            Errno::EINVAL => 22,
            Errno::EPIPE => 32,
            Errno::ENOTSOCK => 88,
            Errno::EDESTADDRREQ => 89,
            Errno::EMSGSIZE => 90,
            Errno::ENOPROTOOPT => 92,
            Errno::EOPNOTSUPP => 95,
            Errno::EADDRINUSE => 98,
            Errno::EADDRNOTAVAIL => 99,
            Errno::ENETDOWN => 100,
            Errno::ENETUNREACH => 101,
            Errno::ECONNABORTED => 103,
            Errno::ECONNRESET => 104,
            Errno::ENOBUFS => 105,
            Errno::EISCONN => 106,
            Errno::ENOTCONN => 107,
            Errno::ETIMEDOUT => 110,
            Errno::ECONNREFUSED => 111,
            Errno::EHOSTDOWN => 112,
            Errno::EHOSTUNREACH => 113,
            Errno::EALREADY => 114,
            Errno::EINPROGRESS => 115,
        }
    }

    /// The errno with Linux's number `n`.
    pub fn from_number(n: i32) -> Option<Errno> {
        Errno::ALL.into_iter().find(|e| e.number() == n)
    }

    /// The errno named `name` (`EWOULDBLOCK` is accepted for `EAGAIN`).
    pub fn from_name(name: &str) -> Option<Errno> {
        if name == "EWOULDBLOCK" {
            return Some(Errno::EAGAIN);
        }
        Errno::ALL.into_iter().find(|e| format!("{e:?}") == name)
    }
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// It succeeded.
    Ok(CallOk),
    /// It failed with this errno (return value -1).
    Err(Errno),
    /// The target has no way to do this (the verdict becomes not applicable, with `why`).
    Unsupported(String),
}

/// A stack under test.
///
/// Time is measured from the start of the run. In-process targets run in virtual time and
/// [`advance_to`](Target::advance_to) jumps; the Linux target sleeps and reports real send
/// times, which is why its profile carries a wider [`Profile::timing_tolerance`].
pub trait Target {
    /// Short name used in reports: `builtin`, `smoltcp`, `linux`.
    fn name(&self) -> &str;
    /// The choices this target makes where the RFCs leave them open.
    fn profile(&self) -> &Profile;
    /// Set up interfaces, addresses and the route to the remote end. Called once, first.
    fn configure(&mut self, network: &Network) -> Result<(), TargetError>;
    /// The target's MAC on interface `index` (after [`configure`](Target::configure)).
    fn interface_mac(&self, index: usize) -> MacAddr;
    /// The current time since the start of the run.
    fn now(&self) -> Duration;
    /// Let time pass until `at` (not before [`now`](Target::now)), running the target's
    /// timers; frames it sends meanwhile are kept for [`take_sent`](Target::take_sent).
    fn advance_to(&mut self, at: Duration);
    /// Deliver `frame` to interface `interface` now.
    fn inject(&mut self, interface: usize, frame: &[u8]);
    /// Deliver several frames `(interface, frame)` at once, as one batch: the target handles
    /// them all before it runs its output (script extension `&`). The default injects them one
    /// after the other, which is what a kernel behind a TAP device gets when the frames are
    /// written back to back (best effort: it may run its output between two of them).
    fn inject_batch(&mut self, frames: &[(usize, Vec<u8>)]) {
        for (interface, frame) in frames {
            self.inject(*interface, frame);
        }
    }
    /// Whether [`inject_batch`](Target::inject_batch) hands the frames over at once. When it
    /// cannot (the default), a scenario with a batch that fails is inconclusive, not failed.
    fn takes_batches_at_once(&self) -> bool {
        false
    }
    /// Frames sent since the last call, oldest first.
    fn take_sent(&mut self) -> Vec<SentFrame>;
    /// Make an application-side call now.
    fn call(&mut self, call: &SocketCall) -> CallOutcome;
    /// Tear down whatever the target set up (sockets, namespaces, devices). Called once, last;
    /// also safe to call twice.
    fn shutdown(&mut self) {}
}

/// Why a target could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// A feature a scenario may need (`--requires=` in a script); a profile lists the ones its
/// target has. A scenario needing an absent feature is not applicable to that target.
pub type Feature = &'static str;

/// Feature names scenarios may ask for, with what each means.
pub const FEATURES: &[(Feature, &str)] = &[
    ("tcp", "TCP"),
    ("udp", "UDP"),
    ("icmp", "ICMP echo and errors"),
    (
        "icmp-timestamp",
        "ICMP timestamp requests answered (a MAY: RFC 1122 § 3.2.2.8)",
    ),
    ("arp", "ARP resolution with a pending queue"),
    ("igmp", "IGMP host membership (v1/v2/v3)"),
    ("reassembly", "IPv4 reassembly"),
    ("forwarding", "IPv4 forwarding between interfaces"),
    ("fragmentation", "IPv4 fragmentation on output"),
    ("mss", "TCP MSS option"),
    (
        "initial-window-rfc5681",
        "an initial congestion window of 2-4 segments (RFC 5681 § 3.1), not IW10 (RFC 6928)",
    ),
    ("window-scaling", "TCP window scale option (RFC 7323)"),
    ("timestamps", "TCP timestamps and PAWS (RFC 7323)"),
    ("sack", "SACK (RFC 2018) and SACK-based recovery (RFC 6675)"),
    (
        "dsack",
        "duplicate segments reported in D-SACK blocks (RFC 2883, a MAY)",
    ),
    ("ecn", "ECN negotiation (RFC 3168)"),
    ("urgent", "TCP urgent data (RFC 6093)"),
    ("challenge-ack", "RFC 5961 challenge ACKs"),
    ("keepalive", "TCP keep-alive"),
    ("user-timeout", "TCP user timeout"),
    (
        "half-close",
        "shutdown(SHUT_WR) with the other direction open",
    ),
    (
        "half-duplex-close",
        "close(2) ends reading too, so data arriving after it cannot be delivered (RFC 9293 § 3.6.1 MAY-1)",
    ),
    ("simultaneous-open", "simultaneous open"),
    (
        "time-wait-reopen",
        "a new SYN may reopen a connection in TIME-WAIT (a MAY: RFC 9293 § 3.6.1 MAY-2)",
    ),
    ("multiple-interfaces", "more than one interface"),
    (
        "weak-end-system",
        "the weak end-system model (RFC 1122 § 3.3.4.2): a datagram may leave by any interface whatever its source address, and one to any local address is taken on any interface",
    ),
    (
        "socket-errors",
        "pending socket errors readable with SO_ERROR",
    ),
    ("linger", "SO_LINGER"),
    (
        "exact-receive-buffer",
        "SO_RCVBUF sets the receive buffer, and so the most window offered, exactly",
    ),
];

/// Where the RFCs leave a choice open, what this target chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Name of the profile (`wirecheck`, `smoltcp`, `linux`, `freebsd-suite`, …).
    pub name: String,
    /// Features present (see [`FEATURES`]).
    pub features: BTreeSet<&'static str>,
    /// Initial congestion window in segments (RFC 5681: 2–4; RFC 6928: 10).
    pub initial_window_segments: u32,
    /// RTO before any RTT sample.
    pub initial_rto: Duration,
    /// Lower bound of the RTO.
    pub min_rto: Duration,
    /// Upper bound of the delayed-ACK timer.
    pub delayed_ack: Duration,
    /// Maximum segment lifetime; TIME-WAIT lasts `time_wait`.
    pub msl: Duration,
    /// How long TIME-WAIT lasts (2·MSL by RFC 9293; Linux uses a fixed 60 s).
    pub time_wait: Duration,
    /// Largest SYN queue per listener.
    pub syn_backlog: u32,
    /// Largest accept queue per listener.
    pub accept_backlog: u32,
    /// Receive window the target offers on a fresh connection (before scaling).
    pub initial_receive_window: u32,
    /// Window scale shift the target offers, if it offers window scaling.
    pub window_scale: Option<u8>,
    /// MSS the target offers on a 1500-octet Ethernet link.
    pub mss: u16,
    /// How far a packet's send time may be from the script's time and still match.
    pub timing_tolerance: Duration,
    /// Whether the target's clock is real (misses of a timing window are inconclusive, not
    /// failures).
    pub real_time: bool,
    /// Whether outbound window values in scripts are checked exactly (false: any window).
    pub check_window: bool,
    /// Whether outbound TCP options must come in the script's order (false: same set, any order).
    pub check_option_order: bool,
}
