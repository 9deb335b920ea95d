//! The Linux kernel as a conformance target: a fresh network namespace per run, one TAP device
//! per interface inside it (the runner's side of the wire), and ordinary sockets opened inside
//! the namespace for the application side. Time is real: [`Target::advance_to`] sleeps while
//! reading the frames the kernel sends, stamped with when they were read.
//!
//! Layout of one run:
//!
//! ```text
//!  runner ── inject ──> TAP fd ══> wc0 (namespace wcconf-PID-N) ──> kernel TCP/IP ──> sockets
//!         <─ take_sent ─ TAP fd <══ wc0 <──────────────────────────────────────────── fd 3, 4…
//! ```
//!
//! A socket or TAP device belongs to the namespace of the thread that created it and stays
//! there whichever thread uses it later, so only creation runs on a short-lived thread that
//! has entered the namespace (`setns(CLONE_NEWNET)`); every other call runs on the caller's
//! thread. The namespace is deleted by [`Target::shutdown`] and, failing that, on drop
//! (unwinding included); [`LinuxTarget::new`] also deletes namespaces left by processes that
//! no longer exist (killed before they could clean up).
//!
//! Sockets are always non-blocking: a call that would block returns `EAGAIN` or
//! `EINPROGRESS` and the interpreter retries it, as the [`Target`] contract says.
//! `getsockopt(SO_LINGER)` reads back `l_linger` when lingering is on and -1 when it is off;
//! setting a negative linger turns it off.
//!
//! Namespace settings (written to `/proc/sys` from inside the namespace before the devices
//! exist): IPv6 off (no router solicitations or MLD reports on the wire), upstream Linux's
//! default `tcp_rmem`/`tcp_wmem` (so the window scale does not depend on the host's tuning),
//! timestamps, SACK and window scaling on, ECN only when the peer asks, no cached per-route
//! metrics, no reverse-path filter, and forwarding on only when there is more than one
//! interface. The TAP devices are created without `IFF_VNET_HDR`, so the kernel hands over
//! single frames (segmented and checksummed), never GSO aggregates.

#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno as NixErrno;
use nix::poll::{poll, ppoll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{
    self, sockopt, AddressFamily, Backlog, IpMembershipRequest, MsgFlags, Shutdown, SockFlag,
    SockType, SockaddrIn,
};
use nix::sys::time::TimeSpec;
use tun_rs::{DeviceBuilder, Layer, SyncDevice};
use wirecheck_codec::ethernet::MacAddr;

use crate::conform::target::{
    CallOk, CallOutcome, Errno, Network, PollEvents, PollRequest, Profile, SentFrame, ShutdownHow,
    SocketCall, SocketKind, SocketOption, Target, TargetError,
};

/// Where `ip netns add` puts a namespace's handle.
const NETNS_DIR: &str = "/run/netns";

/// Prefix of every namespace this target creates; the rest is `PID-COUNTER`.
const NAMESPACE_PREFIX: &str = "wcconf-";

/// Most interfaces one run may ask for (one TAP device each).
const MAX_INTERFACES: usize = 16;

/// Most sockets open at once; more is a runaway script.
const MAX_SOCKETS: usize = 1024;

/// Largest single `read`/`recvfrom` buffer (a script asking for more gets at most this).
const MAX_READ: usize = 4 << 20;

/// Octets of sent frames kept for [`Target::take_sent`]; frames beyond are dropped and counted.
const MAX_PENDING_BYTES: usize = 64 << 20;

/// Frames read from one device in a row before the others get their turn.
const READ_BURST: usize = 1024;

/// Largest frame a TAP device hands over: the largest MTU plus an Ethernet header and a tag.
const FRAME_BUFFER: usize = 65_535 + 18;

/// Warnings kept (failed injects, dropped frames); later ones are counted only.
const MAX_WARNINGS: usize = 32;

/// Upstream Linux's defaults, set inside the namespace so that the window scale and initial
/// window do not depend on how the host is tuned.
const TCP_RMEM: [u32; 3] = [4096, 131_072, 6_291_456];
const TCP_WMEM: [u32; 3] = [4096, 16_384, 4_194_304];

/// Tells namespaces of one process apart.
static NAMESPACE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A Linux kernel in a network namespace, driven through TAP devices and sockets.
pub struct LinuxTarget {
    profile: Profile,
    namespace: Option<Namespace>,
    interfaces: Vec<Interface>,
    /// Wall-clock start of the run (set when configuration is complete).
    start: Option<Instant>,
    sent: VecDeque<SentFrame>,
    sent_bytes: usize,
    dropped_frames: u64,
    warnings: Vec<String>,
    /// Script descriptor → socket.
    sockets: BTreeMap<i32, OwnedFd>,
    buffer: Vec<u8>,
}

/// One configured interface: its TAP device (the runner's end) and what it was set up with.
struct Interface {
    device: SyncDevice,
    mac: MacAddr,
    address: Ipv4Addr,
}

/// A named network namespace; deleting it is tied to drop so a panic cannot leak it.
struct Namespace {
    name: String,
    /// `/run/netns/NAME`, for `setns`.
    handle: Option<File>,
}

impl Namespace {
    fn create(name: String) -> Result<Namespace, TargetError> {
        run_ip(&["netns", "add", &name])?;
        // From here on, drop deletes it.
        let mut namespace = Namespace { name, handle: None };
        let path = Path::new(NETNS_DIR).join(&namespace.name);
        let handle = File::open(&path).map_err(|e| {
            TargetError(format!(
                "cannot open {} after `ip netns add`: {e}",
                path.display()
            ))
        })?;
        namespace.handle = Some(handle);
        Ok(namespace)
    }

    /// Runs `f` on a thread that has entered this namespace, and returns what it returned.
    fn run_inside<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, String> {
        let handle = self
            .handle
            .as_ref()
            .ok_or_else(|| format!("namespace {} is not open", self.name))?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    setns(handle.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
                        format!("cannot enter network namespace {}: {e}", self.name)
                    })?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|_| Err("the thread inside the namespace panicked".to_string()))
        })
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        self.handle = None;
        if let Err(e) = run_ip(&["netns", "del", &self.name]) {
            eprintln!("warning: could not delete network namespace: {e}");
        }
    }
}

impl LinuxTarget {
    /// A target ready to be configured, or why this machine cannot run it (not root, no
    /// `/dev/net/tun`, no `ip` command).
    pub fn new() -> Result<LinuxTarget, TargetError> {
        let uid = nix::unistd::geteuid();
        if !uid.is_root() {
            return Err(TargetError(format!(
                "the linux target needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, to create a \
                 network namespace and TAP devices); running as uid {uid}"
            )));
        }
        if !Path::new("/dev/net/tun").exists() {
            return Err(TargetError(
                "the linux target needs /dev/net/tun: load the tun module (`modprobe tun`), \
                 or in a container pass the device in (`--device /dev/net/tun`)"
                    .to_string(),
            ));
        }
        match Command::new("ip").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(TargetError(format!(
                    "the linux target needs the `ip` command (iproute2), and `ip -V` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            Err(e) => {
                return Err(TargetError(format!(
                    "the linux target needs the `ip` command (iproute2: `apt-get install \
                     iproute2`): {e}"
                )));
            }
        }
        remove_stale_namespaces();
        Ok(LinuxTarget {
            profile: LinuxTarget::profile(),
            namespace: None,
            interfaces: Vec::new(),
            start: None,
            sent: VecDeque::new(),
            sent_bytes: 0,
            dropped_frames: 0,
            warnings: Vec::new(),
            sockets: BTreeMap::new(),
            buffer: vec![0; FRAME_BUFFER],
        })
    }

    /// Linux's choices where the RFCs leave them open, with the values that depend on the host
    /// (`net.core.rmem_max`, the SYN backlog) read from it.
    pub fn profile() -> Profile {
        let rmem_max = read_sysctl_u32("net/core/rmem_max").unwrap_or(0);
        Profile {
            name: "linux".to_string(),
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
                // Not exact-receive-buffer: the kernel doubles SO_RCVBUF and sizes the
                // window from it less its own overhead (tcp_adv_win_scale).
            ]
            .into_iter()
            .collect::<BTreeSet<_>>(),
            // RFC 6928, TCP_INIT_CWND.
            initial_window_segments: 10,
            // TCP_TIMEOUT_INIT (RFC 6298 § 2.1).
            initial_rto: Duration::from_secs(1),
            // TCP_RTO_MIN.
            min_rto: Duration::from_millis(200),
            // TCP_DELACK_MAX (the minimum, TCP_DELACK_MIN, is 40 ms).
            delayed_ack: Duration::from_millis(200),
            msl: Duration::from_secs(30),
            // TCP_TIMEWAIT_LEN, fixed.
            time_wait: Duration::from_secs(60),
            syn_backlog: read_sysctl_u32("net/ipv4/tcp_max_syn_backlog").unwrap_or(128),
            // net.core.somaxconn's default in a new namespace (since Linux 5.4).
            accept_backlog: 4096,
            // 44 segments of 1460 with the default tcp_rmem[1] of 128 KiB (65160, 45 segments
            // of 1448, when timestamps are on: the window is rounded to the payload size).
            initial_receive_window: 64_240,
            window_scale: Some(linux_window_scale(TCP_RMEM[2].max(rmem_max))),
            mss: 1460,
            timing_tolerance: Duration::from_millis(20),
            real_time: true,
            check_window: false,
            check_option_order: true,
        }
    }

    /// The namespace's name while configured (`wcconf-PID-N`).
    pub fn namespace_name(&self) -> Option<&str> {
        self.namespace.as_ref().map(|n| n.name.as_str())
    }

    /// Frames the kernel sent that were dropped because [`Target::take_sent`] was not called
    /// for too long.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }

    /// Things that went wrong without a way to say so through [`Target`] (a frame the TAP
    /// device refused, frames dropped), oldest first.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn warn(&mut self, message: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(message);
        }
    }

    fn elapsed(&self) -> Duration {
        self.start.map_or(Duration::ZERO, |s| s.elapsed())
    }

    fn configure_inner(&mut self, network: &Network) -> Result<(), TargetError> {
        if self.namespace.is_some() {
            return Err(TargetError(
                "the linux target is already configured".to_string(),
            ));
        }
        validate(network)?;
        let name = format!(
            "{NAMESPACE_PREFIX}{}-{}",
            std::process::id(),
            NAMESPACE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let namespace = Namespace::create(name)?;
        let forwarding = network.interfaces.len() > 1;
        let devices = namespace
            .run_inside(|| -> Result<Vec<SyncDevice>, String> {
                write_namespace_sysctls(forwarding)?;
                network
                    .interfaces
                    .iter()
                    .enumerate()
                    .map(|(index, setup)| open_tap(&device_name(index), setup.mac, setup.mtu))
                    .collect()
            })
            .and_then(|r| r)
            .map_err(TargetError)?;
        let ns = namespace.name.clone();
        for (index, setup) in network.interfaces.iter().enumerate() {
            let dev = device_name(index);
            let cidr = format!("{}/{}", setup.address, setup.prefix_len);
            run_ip(&["-n", &ns, "addr", "add", &cidr, "brd", "+", "dev", &dev])?;
            run_ip(&["-n", &ns, "link", "set", "dev", &dev, "up"])?;
        }
        run_ip(&["-n", &ns, "link", "set", "dev", "lo", "up"])?;
        let gateway = network.gateway_ip.to_string();
        run_ip(&["-n", &ns, "route", "add", "default", "via", &gateway])?;
        self.interfaces = devices
            .into_iter()
            .zip(&network.interfaces)
            .map(|(device, setup)| Interface {
                device,
                mac: setup.mac,
                address: setup.address,
            })
            .collect();
        self.namespace = Some(namespace);
        // Whatever the kernel said while being set up is not part of the run.
        self.drain();
        self.sent.clear();
        self.sent_bytes = 0;
        self.start = Some(Instant::now());
        Ok(())
    }

    /// Reads every frame the devices have ready, stamped with the time it was read.
    fn drain(&mut self) {
        for index in 0..self.interfaces.len() {
            for _ in 0..READ_BURST {
                let n = match self.interfaces[index].device.recv(&mut self.buffer) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.warn(format!("reading TAP device {}: {e}", device_name(index)));
                        break;
                    }
                };
                let at = self.elapsed();
                if self.sent_bytes + n > MAX_PENDING_BYTES {
                    if self.dropped_frames == 0 {
                        self.warn(format!(
                            "more than {MAX_PENDING_BYTES} octets of sent frames waiting; \
                             dropping frames"
                        ));
                    }
                    self.dropped_frames += 1;
                    continue;
                }
                self.sent_bytes += n;
                self.sent.push_back(SentFrame {
                    at,
                    interface: index,
                    bytes: self.buffer[..n].to_vec(),
                });
            }
        }
    }

    /// Waits up to `timeout` for any device to have a frame ready.
    fn wait_readable(&self, timeout: Duration) {
        let mut fds: Vec<PollFd<'_>> = self
            .interfaces
            .iter()
            .map(|i| PollFd::new(i.device.as_fd(), PollFlags::POLLIN))
            .collect();
        // EINTR and other errors: the caller loops on its deadline anyway.
        let _ = ppoll(&mut fds, Some(TimeSpec::from(timeout)), None);
    }

    fn socket(&self, fd: i32) -> Result<&OwnedFd, CallError> {
        self.sockets
            .get(&fd)
            .ok_or(CallError::Errno(NixErrno::EBADF))
    }

    /// The lowest free descriptor from 3 up, as a fresh process would get.
    fn add_socket(&mut self, socket: OwnedFd) -> Result<i32, CallError> {
        if self.sockets.len() >= MAX_SOCKETS {
            return Err(CallError::Unsupported(format!(
                "more than {MAX_SOCKETS} sockets open at once"
            )));
        }
        let fd = (3..)
            .find(|n| !self.sockets.contains_key(n))
            .unwrap_or(i32::MAX);
        self.sockets.insert(fd, socket);
        Ok(fd)
    }

    fn interface_address(&self, interface: usize) -> Result<Ipv4Addr, CallError> {
        self.interfaces
            .get(interface)
            .map(|i| i.address)
            .ok_or_else(|| {
                CallError::Unsupported(format!("interface {interface} is not configured"))
            })
    }

    fn call_inner(&mut self, call: &SocketCall) -> Result<CallOk, CallError> {
        match call {
            SocketCall::Socket { kind } => {
                let namespace = self.namespace.as_ref().ok_or_else(|| {
                    CallError::Unsupported("socket() before configure".to_string())
                })?;
                let ty = match kind {
                    SocketKind::Stream => SockType::Stream,
                    SocketKind::Datagram => SockType::Datagram,
                };
                let created = namespace
                    .run_inside(|| {
                        socket::socket(
                            AddressFamily::Inet,
                            ty,
                            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
                            None,
                        )
                    })
                    .map_err(CallError::Unsupported)??;
                let fd = self.add_socket(created)?;
                Ok(CallOk::value(fd.into()))
            }
            SocketCall::Bind { fd, addr } => {
                socket::bind(self.socket(*fd)?.as_raw_fd(), &SockaddrIn::from(*addr))?;
                Ok(CallOk::value(0))
            }
            SocketCall::Listen { fd, backlog } => {
                let backlog = i32::try_from(*backlog)
                    .unwrap_or(i32::MAX)
                    .min(Backlog::MAXCONN.into());
                socket::listen(self.socket(*fd)?, Backlog::new(backlog)?)?;
                Ok(CallOk::value(0))
            }
            SocketCall::Accept { fd } => {
                let listener = self.sockets.remove(fd).ok_or(NixErrno::EBADF)?;
                let listener = TcpListener::from(listener);
                let accepted = listener.accept();
                self.sockets.insert(*fd, OwnedFd::from(listener));
                let (stream, peer) = accepted.map_err(CallError::from_io)?;
                stream.set_nonblocking(true).map_err(CallError::from_io)?;
                let new_fd = self.add_socket(OwnedFd::from(stream))?;
                Ok(CallOk {
                    value: new_fd.into(),
                    peer: match peer {
                        SocketAddr::V4(v4) => Some(v4),
                        SocketAddr::V6(_) => None,
                    },
                    ..CallOk::default()
                })
            }
            SocketCall::Connect { fd, addr } => {
                socket::connect(self.socket(*fd)?.as_raw_fd(), &SockaddrIn::from(*addr))?;
                Ok(CallOk::value(0))
            }
            SocketCall::Write { fd, data } => {
                let n = socket::send(self.socket(*fd)?.as_raw_fd(), data, MsgFlags::MSG_NOSIGNAL)?;
                Ok(CallOk::value(n as i64))
            }
            SocketCall::WriteUrgent { fd, data } => {
                let n = socket::send(
                    self.socket(*fd)?.as_raw_fd(),
                    data,
                    MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_OOB,
                )?;
                Ok(CallOk::value(n as i64))
            }
            SocketCall::Read { fd, len } => {
                let raw = self.socket(*fd)?.as_raw_fd();
                let mut data = vec![0; (*len).min(MAX_READ)];
                let n = socket::recv(raw, &mut data, MsgFlags::empty())?;
                data.truncate(n);
                Ok(CallOk {
                    value: n as i64,
                    data,
                    ..CallOk::default()
                })
            }
            SocketCall::SendTo { fd, data, addr } => {
                let n = socket::sendto(
                    self.socket(*fd)?.as_raw_fd(),
                    data,
                    &SockaddrIn::from(*addr),
                    MsgFlags::MSG_NOSIGNAL,
                )?;
                Ok(CallOk::value(n as i64))
            }
            SocketCall::RecvFrom { fd, len } => {
                let raw = self.socket(*fd)?.as_raw_fd();
                let mut data = vec![0; (*len).min(MAX_READ)];
                let (n, peer) = socket::recvfrom::<SockaddrIn>(raw, &mut data)?;
                data.truncate(n);
                Ok(CallOk {
                    value: n as i64,
                    data,
                    peer: peer.map(SocketAddrV4::from),
                    ..CallOk::default()
                })
            }
            SocketCall::Shutdown { fd, how } => {
                let how = match how {
                    ShutdownHow::Read => Shutdown::Read,
                    ShutdownHow::Write => Shutdown::Write,
                    ShutdownHow::Both => Shutdown::Both,
                };
                socket::shutdown(self.socket(*fd)?.as_raw_fd(), how)?;
                Ok(CallOk::value(0))
            }
            SocketCall::Close { fd } => {
                // Dropping the descriptor closes it (and, with SO_LINGER 0, aborts).
                self.sockets.remove(fd).ok_or(NixErrno::EBADF)?;
                Ok(CallOk::value(0))
            }
            SocketCall::SetOption { fd, option, value } => {
                set_option(self.socket(*fd)?, *option, *value)?;
                Ok(CallOk::value(0))
            }
            SocketCall::GetOption { fd, option } => {
                Ok(CallOk::value(get_option(self.socket(*fd)?, *option)?))
            }
            SocketCall::SetNonBlocking { fd, .. } => {
                // Always non-blocking underneath; the interpreter does the blocking.
                self.socket(*fd)?;
                Ok(CallOk::value(0))
            }
            SocketCall::JoinGroup {
                fd,
                group,
                interface,
            } => {
                let request =
                    IpMembershipRequest::new(*group, Some(self.interface_address(*interface)?));
                socket::setsockopt(self.socket(*fd)?, sockopt::IpAddMembership, &request)?;
                Ok(CallOk::value(0))
            }
            SocketCall::LeaveGroup {
                fd,
                group,
                interface,
            } => {
                let request =
                    IpMembershipRequest::new(*group, Some(self.interface_address(*interface)?));
                socket::setsockopt(self.socket(*fd)?, sockopt::IpDropMembership, &request)?;
                Ok(CallOk::value(0))
            }
            SocketCall::Poll { fds } => self.poll(fds),
        }
    }

    /// `poll(2)` with a zero timeout on the sockets asked for; a descriptor this target does
    /// not hold is reported `POLLNVAL`, as the kernel reports a closed one.
    fn poll(&self, requests: &[PollRequest]) -> Result<CallOk, CallError> {
        let known: Vec<(usize, &OwnedFd, PollFlags)> = requests
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let flags = PollFlags::from_bits_truncate(r.events.0 as i16);
                self.sockets.get(&r.fd).map(|s| (i, s, flags))
            })
            .collect();
        let mut pollfds: Vec<PollFd<'_>> = known
            .iter()
            .map(|(_, s, flags)| PollFd::new(s.as_fd(), *flags))
            .collect();
        poll(&mut pollfds, PollTimeout::ZERO)?;
        let mut revents = vec![PollEvents::NVAL; requests.len()];
        for ((i, _, _), p) in known.iter().zip(&pollfds) {
            let bits = p.revents().map_or(0, |f| f.bits() as u16);
            revents[*i] = PollEvents(bits).reported(requests[*i].events);
        }
        Ok(CallOk::polled(revents))
    }
}

impl Drop for LinuxTarget {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Target for LinuxTarget {
    fn name(&self) -> &str {
        "linux"
    }

    fn profile(&self) -> &Profile {
        &self.profile
    }

    fn configure(&mut self, network: &Network) -> Result<(), TargetError> {
        let result = self.configure_inner(network);
        if result.is_err() {
            self.shutdown();
        }
        result
    }

    fn interface_mac(&self, index: usize) -> MacAddr {
        self.interfaces
            .get(index)
            .map_or(MacAddr([0; 6]), |i| i.mac)
    }

    fn now(&self) -> Duration {
        self.elapsed()
    }

    fn advance_to(&mut self, at: Duration) {
        let Some(start) = self.start else {
            return;
        };
        let deadline = start + at;
        loop {
            self.drain();
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.wait_readable(deadline - now);
        }
    }

    fn inject(&mut self, interface: usize, frame: &[u8]) {
        let result = match self.interfaces.get(interface) {
            Some(i) => i.device.send(frame).map(drop),
            None => Err(io::Error::other(format!(
                "interface {interface} is not configured"
            ))),
        };
        if let Err(e) = result {
            self.warn(format!(
                "injecting a {}-octet frame on interface {interface}: {e}",
                frame.len()
            ));
        }
    }

    fn take_sent(&mut self) -> Vec<SentFrame> {
        self.drain();
        self.sent_bytes = 0;
        self.sent.drain(..).collect()
    }

    fn call(&mut self, call: &SocketCall) -> CallOutcome {
        match self.call_inner(call) {
            Ok(ok) => CallOutcome::Ok(ok),
            Err(CallError::Errno(e)) => match Errno::from_number(e as i32) {
                Some(errno) => CallOutcome::Err(errno),
                None => CallOutcome::Unsupported(format!(
                    "the kernel answered {e:?} ({}), an errno scripts cannot name",
                    e.desc()
                )),
            },
            Err(CallError::Unsupported(why)) => CallOutcome::Unsupported(why),
        }
    }

    fn shutdown(&mut self) {
        self.sockets.clear();
        self.interfaces.clear();
        self.namespace = None;
        self.start = None;
    }
}

/// Why a call failed.
enum CallError {
    /// The kernel's answer.
    Errno(NixErrno),
    /// Not something this target can do.
    Unsupported(String),
}

impl From<NixErrno> for CallError {
    fn from(e: NixErrno) -> CallError {
        CallError::Errno(e)
    }
}

impl CallError {
    fn from_io(e: io::Error) -> CallError {
        match e.raw_os_error() {
            Some(n) => CallError::Errno(NixErrno::from_raw(n)),
            None => CallError::Unsupported(e.to_string()),
        }
    }
}

fn set_option(socket: &OwnedFd, option: SocketOption, value: i64) -> Result<(), NixErrno> {
    let int = |v: i64| i32::try_from(v).map_err(|_| NixErrno::EINVAL);
    let unsigned = |v: i64| u32::try_from(v).map_err(|_| NixErrno::EINVAL);
    // The kernel takes an int; negative sizes are refused here rather than capped.
    let size = |v: i64| usize::try_from(int(v)?).map_err(|_| NixErrno::EINVAL);
    match option {
        SocketOption::ReuseAddress => socket::setsockopt(socket, sockopt::ReuseAddr, &(value != 0)),
        SocketOption::KeepAlive => socket::setsockopt(socket, sockopt::KeepAlive, &(value != 0)),
        SocketOption::ReceiveBuffer => socket::setsockopt(socket, sockopt::RcvBuf, &size(value)?),
        SocketOption::SendBuffer => socket::setsockopt(socket, sockopt::SndBuf, &size(value)?),
        SocketOption::Linger => {
            let linger = nix::libc::linger {
                l_onoff: i32::from(value >= 0),
                l_linger: int(value.max(0))?,
            };
            socket::setsockopt(socket, sockopt::Linger, &linger)
        }
        // SO_ERROR is read-only; this is what Linux answers to setting it.
        SocketOption::Error => Err(NixErrno::ENOPROTOOPT),
        SocketOption::NoDelay => socket::setsockopt(socket, sockopt::TcpNoDelay, &(value != 0)),
        SocketOption::MaxSegment => {
            socket::setsockopt(socket, sockopt::TcpMaxSeg, &unsigned(value)?)
        }
        SocketOption::UserTimeout => {
            socket::setsockopt(socket, sockopt::TcpUserTimeout, &unsigned(value)?)
        }
        SocketOption::TimeToLive => socket::setsockopt(socket, sockopt::Ipv4Ttl, &int(value)?),
        SocketOption::MulticastTimeToLive => {
            let ttl = u8::try_from(value).map_err(|_| NixErrno::EINVAL)?;
            socket::setsockopt(socket, sockopt::IpMulticastTtl, &ttl)
        }
        SocketOption::OobInline => socket::setsockopt(socket, sockopt::OobInline, &(value != 0)),
    }
}

fn get_option(socket: &OwnedFd, option: SocketOption) -> Result<i64, NixErrno> {
    Ok(match option {
        SocketOption::ReuseAddress => socket::getsockopt(socket, sockopt::ReuseAddr)?.into(),
        SocketOption::KeepAlive => socket::getsockopt(socket, sockopt::KeepAlive)?.into(),
        SocketOption::ReceiveBuffer => {
            i64::try_from(socket::getsockopt(socket, sockopt::RcvBuf)?).unwrap_or(i64::MAX)
        }
        SocketOption::SendBuffer => {
            i64::try_from(socket::getsockopt(socket, sockopt::SndBuf)?).unwrap_or(i64::MAX)
        }
        SocketOption::Linger => {
            let linger = socket::getsockopt(socket, sockopt::Linger)?;
            if linger.l_onoff != 0 {
                linger.l_linger.into()
            } else {
                -1
            }
        }
        SocketOption::Error => socket::getsockopt(socket, sockopt::SocketError)?.into(),
        SocketOption::NoDelay => socket::getsockopt(socket, sockopt::TcpNoDelay)?.into(),
        SocketOption::MaxSegment => socket::getsockopt(socket, sockopt::TcpMaxSeg)?.into(),
        SocketOption::UserTimeout => socket::getsockopt(socket, sockopt::TcpUserTimeout)?.into(),
        SocketOption::TimeToLive => socket::getsockopt(socket, sockopt::Ipv4Ttl)?.into(),
        SocketOption::MulticastTimeToLive => {
            socket::getsockopt(socket, sockopt::IpMulticastTtl)?.into()
        }
        SocketOption::OobInline => socket::getsockopt(socket, sockopt::OobInline)?.into(),
    })
}

/// The TAP device of interface `index` (inside the namespace, so short names do not clash).
fn device_name(index: usize) -> String {
    format!("wc{index}")
}

fn validate(network: &Network) -> Result<(), TargetError> {
    if network.interfaces.is_empty() {
        return Err(TargetError("the network has no interfaces".to_string()));
    }
    if network.interfaces.len() > MAX_INTERFACES {
        return Err(TargetError(format!(
            "the network has {} interfaces; the linux target supports at most {MAX_INTERFACES}",
            network.interfaces.len()
        )));
    }
    for (index, setup) in network.interfaces.iter().enumerate() {
        if setup.prefix_len > 32 {
            return Err(TargetError(format!(
                "interface {index}: prefix length {} is over 32",
                setup.prefix_len
            )));
        }
        // RFC 791: every internet module must handle 68-octet datagrams.
        if setup.mtu < 68 {
            return Err(TargetError(format!(
                "interface {index}: MTU {} is below IPv4's minimum of 68",
                setup.mtu
            )));
        }
        if setup.mac.0[0] & 1 != 0 {
            return Err(TargetError(format!(
                "interface {index}: {:?} is a multicast MAC address",
                setup.mac
            )));
        }
    }
    Ok(())
}

/// Creates a TAP device in the calling thread's namespace (whole Ethernet frames, no packet
/// information header, no virtio-net header so no offloads), with its MAC and MTU set and its
/// link left down, and makes its descriptor non-blocking.
fn open_tap(name: &str, mac: MacAddr, mtu: u16) -> Result<SyncDevice, String> {
    let device = DeviceBuilder::new()
        .name(name)
        .layer(Layer::L2)
        .packet_information(false)
        .offload(false)
        .mac_addr(mac.0)
        .mtu(mtu)
        .inherit_enable_state()
        .build_sync()
        .map_err(|e| format!("cannot create TAP device {name}: {e}"))?;
    device
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make TAP device {name} non-blocking: {e}"))?;
    Ok(device)
}

/// Writes the namespace's settings (see the module documentation). Must run on a thread
/// inside the namespace: `/proc/sys/net` shows the namespace of the thread that opens it.
fn write_namespace_sysctls(forwarding: bool) -> Result<(), String> {
    let rmem = format!("{} {} {}", TCP_RMEM[0], TCP_RMEM[1], TCP_RMEM[2]);
    let wmem = format!("{} {} {}", TCP_WMEM[0], TCP_WMEM[1], TCP_WMEM[2]);
    let settings: [(&str, &str); 13] = [
        ("net/ipv4/tcp_rmem", &rmem),
        ("net/ipv4/tcp_wmem", &wmem),
        ("net/ipv4/tcp_timestamps", "1"),
        ("net/ipv4/tcp_sack", "1"),
        ("net/ipv4/tcp_window_scaling", "1"),
        // Answer ECN when asked, never ask (Linux's default).
        ("net/ipv4/tcp_ecn", "2"),
        // No RTT or cwnd carried over from an earlier connection to the same peer.
        ("net/ipv4/tcp_no_metrics_save", "1"),
        ("net/ipv4/ip_default_ttl", "64"),
        ("net/ipv4/conf/all/rp_filter", "0"),
        ("net/ipv4/conf/default/rp_filter", "0"),
        ("net/ipv4/ip_forward", if forwarding { "1" } else { "0" }),
        // Keep the kernel quiet on the wire: no gratuitous ARP when a link comes up.
        ("net/ipv4/conf/all/arp_notify", "0"),
        ("net/ipv4/conf/default/arp_notify", "0"),
    ];
    // Without IPv6 in the kernel there is nothing to turn off.
    if Path::new("/proc/sys/net/ipv6").exists() {
        for path in [
            "net/ipv6/conf/all/disable_ipv6",
            "net/ipv6/conf/default/disable_ipv6",
        ] {
            write_sysctl(path, "1")?;
        }
    }
    for (path, value) in settings {
        write_sysctl(path, value)?;
    }
    Ok(())
}

fn write_sysctl(path: &str, value: &str) -> Result<(), String> {
    let full = Path::new("/proc/sys").join(path);
    std::fs::write(&full, value)
        .map_err(|e| format!("cannot set {} to {value}: {e}", full.display()))
}

fn read_sysctl_u32(path: &str) -> Option<u32> {
    std::fs::read_to_string(Path::new("/proc/sys").join(path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The window scale Linux offers for a receive buffer that may grow to `space` octets
/// (`tcp_select_initial_window`: log2 of the space, less the 16 bits the window field holds,
/// capped at 14 by RFC 7323 § 2.3).
fn linux_window_scale(space: u32) -> u8 {
    let log2 = 31u32.saturating_sub(space.max(1).leading_zeros());
    log2.saturating_sub(15).min(14) as u8
}

/// Runs `ip ARGS…` and turns a failure into an error naming the command and what it said.
fn run_ip(args: &[&str]) -> Result<(), TargetError> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| TargetError(format!("cannot run `ip {}`: {e}", args.join(" "))))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TargetError(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Deletes namespaces this target created in processes that have since ended (killed before
/// their drop ran). Namespaces of live processes, this one included, are left alone.
fn remove_stale_namespaces() {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(NAMESPACE_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = run_ip(&["netns", "del", &name]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_scale_follows_the_largest_receive_buffer() {
        // Linux's default tcp_rmem[2] of 6 MiB gives the familiar 7.
        assert_eq!(linux_window_scale(6_291_456), 7);
        assert_eq!(linux_window_scale(4_194_304), 7);
        assert_eq!(linux_window_scale(33_554_432), 10);
        assert_eq!(linux_window_scale(65_535), 0);
        assert_eq!(linux_window_scale(0), 0);
        assert_eq!(linux_window_scale(u32::MAX), 14);
    }

    #[test]
    fn bad_networks_are_refused_with_the_reason() {
        let mut network = Network::default();
        network.interfaces[0].prefix_len = 33;
        assert!(validate(&network)
            .unwrap_err()
            .0
            .contains("prefix length 33"));
        let mut network = Network::default();
        network.interfaces[0].mtu = 40;
        assert!(validate(&network).unwrap_err().0.contains("MTU 40"));
        let mut network = Network::default();
        network.interfaces.clear();
        assert!(validate(&network).unwrap_err().0.contains("no interfaces"));
        assert!(validate(&Network::default()).is_ok());
    }

    #[test]
    fn the_profile_lists_only_known_features() {
        let profile = LinuxTarget::profile();
        let known: BTreeSet<&str> = crate::conform::target::FEATURES
            .iter()
            .map(|(name, _)| *name)
            .collect();
        for feature in &profile.features {
            assert!(known.contains(feature), "unknown feature {feature}");
        }
        assert!(!profile.features.contains("ecn"));
        assert!(profile.real_time);
    }
}
